"""Decay and retraining: how fast a model goes stale, and how often to retrain it."""

from prodready.decay.aging import AgingCurve, aging_curve
from prodready.decay.periods import AUTO_STEP, STEP_CANDIDATES, choose_step
from prodready.decay.policies import (
    Policy,
    PolicyComparison,
    compare_policies,
    default_policies,
    every,
    never,
    on_drift,
    on_performance,
)

__all__ = [
    "AUTO_STEP",
    "STEP_CANDIDATES",
    "AgingCurve",
    "Policy",
    "PolicyComparison",
    "aging_curve",
    "choose_step",
    "compare_policies",
    "default_policies",
    "every",
    "never",
    "on_drift",
    "on_performance",
]
