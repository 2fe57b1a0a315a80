"""Label-free performance estimates: what the model is scoring while its labels are delayed.

:func:`performance` estimates ROC AUC and accuracy per chunk from calibrated scores (the idea of
NannyML's CBPE) and says, next to every estimate, when not to trust it; :func:`estimate_case`
runs it on a case's serving log and returns a :class:`PerformanceEstimate`. Definitions and
assumptions: :mod:`prodready.estimate.cbpe`.
"""

from prodready.estimate.cbpe import (
    assumptions,
    calibrate,
    expected_accuracy,
    expected_roc_auc,
    hanley_mcneil_se,
    performance,
)
from prodready.estimate.result import PerformanceEstimate, estimate_case

__all__ = [
    "PerformanceEstimate",
    "assumptions",
    "calibrate",
    "estimate_case",
    "expected_accuracy",
    "expected_roc_auc",
    "hanley_mcneil_se",
    "performance",
]
