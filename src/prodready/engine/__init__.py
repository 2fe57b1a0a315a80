"""Engines produce profiles; statistics consume them (DESIGN.md, "Profiles are the seam").

* :mod:`~prodready.engine.layout`: the binning decided once from the reference (training) data.
* :mod:`~prodready.engine.profile`: mergeable per-column summaries on a layout, and
  :class:`ProfileSet` (many columns, optionally per month or day).
* :mod:`~prodready.engine.numpy_engine`: profiles of in-memory pandas/numpy data.
* :mod:`~prodready.engine.store`: one JSON file per profile set (never pickle).

* :mod:`~prodready.engine.duckdb_engine` (``profile_files``, ``layouts_from_files``): Parquet or
  CSV files larger than memory; :mod:`~prodready.engine.spark_engine` (``profile_table``,
  ``layouts_from_table``, extra ``prodready[spark]``): Spark tables. Both share the SQL of
  :mod:`~prodready.engine.sql` and are imported on first use, so importing this package never
  imports duckdb or pyspark.

Drift from two profiles: ``prodready.stats.drift.numeric_drift_from_profiles`` and
``categorical_drift_from_profiles``.
"""

from prodready.engine.layout import (
    MAX_CATEGORIES,
    CategoricalLayout,
    Layout,
    NumericLayout,
    categorical_layout,
    layout_positions,
    numeric_layout,
    numeric_layout_from_sorted_positions,
)
from prodready.engine.numpy_engine import (
    layouts_for,
    profile_categorical,
    profile_frame,
    profile_numeric,
    profile_values,
)
from prodready.engine.profile import (
    CategoricalProfile,
    NumericProfile,
    Profile,
    ProfileSet,
    merge_all,
)
from prodready.engine.store import load_profiles, save_profiles

__all__ = [
    "MAX_CATEGORIES",
    "CategoricalLayout",
    "CategoricalProfile",
    "Layout",
    "NumericLayout",
    "NumericProfile",
    "Profile",
    "ProfileSet",
    "categorical_layout",
    "layout_positions",
    "layouts_for",
    "load_profiles",
    "merge_all",
    "numeric_layout",
    "numeric_layout_from_sorted_positions",
    "profile_categorical",
    "profile_frame",
    "profile_numeric",
    "profile_values",
    "save_profiles",
]


_LAZY = {
    "profile_files": "prodready.engine.duckdb_engine",
    "layouts_from_files": "prodready.engine.duckdb_engine",
    "profile_table": "prodready.engine.spark_engine",
    "layouts_from_table": "prodready.engine.spark_engine",
}


def __getattr__(name: str):
    """The DuckDB and Spark engines' functions, imported on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'prodready.engine' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
