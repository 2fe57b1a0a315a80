"""Decay and retraining: how fast a model goes stale, and how often to retrain it."""

from prodready.decay.aging import AgingCurve, aging_curve
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
    "AgingCurve",
    "Policy",
    "PolicyComparison",
    "aging_curve",
    "compare_policies",
    "default_policies",
    "every",
    "never",
    "on_drift",
    "on_performance",
]
