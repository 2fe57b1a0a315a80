"""Statistics computed from arrays or profiles, never from an engine (see DESIGN.md)."""

from prodready.stats.drift import (
    CategoricalDrift,
    CategoricalReference,
    NumericDrift,
    NumericReference,
    benjamini_hochberg,
    categorical_drift,
    compare_frames,
    numeric_drift,
    numeric_shift,
)

__all__ = [
    "CategoricalDrift",
    "CategoricalReference",
    "NumericDrift",
    "NumericReference",
    "benjamini_hochberg",
    "categorical_drift",
    "compare_frames",
    "numeric_drift",
    "numeric_shift",
]
