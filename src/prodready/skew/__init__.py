"""The skew audit: will production see what training saw, and what does the model really score?

``audit(case)`` runs every part; the parts are usable alone: ``row_skew`` (same id, different
value), ``probe_leakage`` (features that know the outcome), ``metric_gap`` (the baseline model
offline and in production, with and without the features production cannot have).
"""

from prodready.skew.audit import SkewAudit, audit
from prodready.skew.distribution import distribution_table
from prodready.skew.gap import MetricGap, metric_gap
from prodready.skew.leakage import LeakageProbe, probe_leakage
from prodready.skew.rows import RowSkew, row_skew
from prodready.skew.thresholds import Thresholds

__all__ = [
    "LeakageProbe",
    "MetricGap",
    "RowSkew",
    "SkewAudit",
    "Thresholds",
    "audit",
    "distribution_table",
    "metric_gap",
    "probe_leakage",
    "row_skew",
]
