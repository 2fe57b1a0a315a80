"""Rollout replay: shadow, canary and gradual rollout with automated rollback, on history."""

from prodready.rollout.guardrails import Guardrail, suggest_guardrail
from prodready.rollout.montecarlo import MonteCarloResult, monte_carlo
from prodready.rollout.plan import Plan, Stage
from prodready.rollout.power import detection_curve, power
from prodready.rollout.simulate import RolloutResult, arm_position, simulate
from prodready.rollout.triggers import Trigger, default_triggers

__all__ = [
    "Guardrail",
    "MonteCarloResult",
    "Plan",
    "RolloutResult",
    "Stage",
    "Trigger",
    "arm_position",
    "default_triggers",
    "detection_curve",
    "monte_carlo",
    "power",
    "simulate",
    "suggest_guardrail",
]
