"""Rollout replay: shadow, canary and gradual rollout with automated rollback, on history."""

from prodready.rollout.plan import Plan, Stage
from prodready.rollout.simulate import RolloutResult, arm_position, simulate
from prodready.rollout.triggers import Trigger, default_triggers

__all__ = [
    "Plan",
    "RolloutResult",
    "Stage",
    "Trigger",
    "arm_position",
    "default_triggers",
    "simulate",
]
