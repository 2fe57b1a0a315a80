"""The training side of the skew audit on data left on disk: what every feature looked like.

The distribution comparison on profiles (:func:`prodready.skew.distribution.drift_from_files`)
needs, per feature, the reference layout (bins from the training values) and the training
profile on it, the missing rate, and whether the feature is constant. :func:`training_reference`
builds them from the training frame when it is whole in memory (numpy engine: the findings
equal those of the in-memory audit), or reads every training row with DuckDB when
``load_case(..., lazy=True)`` left the training data on disk and holds only a sample
(``case.training_source.is_sample``): the same layouts, from every row (see
:func:`_from_files`), so the findings are again those of the in-memory audit.
"""

from __future__ import annotations

import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from prodready.data.readers import DUCKDB_MEMORY_LIMIT, duckdb_connection, scan_sql
from prodready.engine.layout import NumericLayout
from prodready.errors import ProdreadyError

LAYOUT_MEMORY = 1 << 30
"""Bytes the training reference may hold at once: a numeric column is read whole, sorted and
profiled (:data:`COLUMN_BYTES_PER_ROW`), so two columns are read on two threads up to about
33M training rows, one at a time beyond."""
COLUMN_BYTES_PER_ROW = 16  # the values and their sorted copy

if TYPE_CHECKING:
    from prodready.case import Case
    from prodready.engine import Layout, ProfileSet
    from prodready.engine.profile import Profile


@dataclass(frozen=True)
class TrainingReference:
    """Per feature of the training data: ``missing`` share (features it has), ``layouts`` and
    their ``profiles`` (the whole data), and ``problems`` (feature -> why it has no layout:
    empty on every row, no finite value, ...). ``columns``: the columns the data has."""

    columns: frozenset[str]
    missing: dict[str, float]
    layouts: dict[str, Layout]
    profiles: ProfileSet | None
    problems: dict[str, str] = field(default_factory=dict)
    degenerate: dict[str, str] = field(default_factory=dict)  # feature -> note

    def profile(self, name: str) -> Profile:
        return self.profiles.column(name)  # type: ignore[union-attr]


def training_reference(case: Case, numeric: list[str], categorical: list[str]) -> TrainingReference:
    """The reference for the listed features (those in both data sets; the caller checks the
    serving side). Numeric and categorical as the case declares them."""
    table = training_table(case)
    if table is not None:
        return _from_table(table, numeric, categorical)
    files = training_files(case)
    if files:
        return _from_files(files, numeric, categorical)
    return _from_frame(case.training, numeric, categorical)


def training_files(case: Case) -> list[Path] | None:
    """The training files to read every row from, when only a sample of them is in memory."""
    source = case.training_source
    if source is None or not source.is_sample or source.table is not None:
        return None
    return list(source.files)


def training_table(case: Case) -> str | None:
    """The Spark table to read every training row from, when only a sample is in memory."""
    source = case.training_source
    return source.table if source is not None and source.is_sample else None


def training_data_columns(case: Case) -> frozenset[str]:
    """The training data's columns: the files' or table's when only a sample is in memory."""
    from prodready.engine.arrow_engine import file_columns

    table = training_table(case)
    if table is not None:
        from prodready.engine.spark_engine import table_schema

        return frozenset(table_schema(table))
    files = training_files(case)
    return frozenset(file_columns(files) if files else case.training.columns)


def degenerate_note(kind: str, value: object) -> str:
    """The note for a feature with a single training value: which measure is undefined."""
    value = value.item() if isinstance(value, np.generic) else value
    if kind == "numeric":
        return f"constant in training ({value!r}): the scaled Wasserstein distance is undefined"
    return f"a single category in training ({value!r}): the chi-square test is undefined"


def _from_frame(training: pd.DataFrame, numeric: list[str], categorical: list[str]):
    from prodready.engine import layouts_for, profile_frame

    missing = {n: float(training[n].isna().mean()) for n in [*numeric, *categorical]}
    layouts: dict[str, Layout] = {}
    problems: dict[str, str] = {}
    degenerate: dict[str, str] = {}
    for name in [*numeric, *categorical]:
        values = training[name].dropna()
        if values.empty:
            problems[name] = "empty on every training row"
            continue
        is_numeric = name in numeric
        try:  # the loader made categorical columns text, as the in-memory audit compares them
            layouts |= layouts_for(training, *([[name], []] if is_numeric else [[], [name]]))
        except ProdreadyError as err:
            problems[name] = err.problem
            continue
        if not is_numeric:
            values = values.astype("str")
        if (values == values.iloc[0]).all():
            degenerate[name] = degenerate_note(
                "numeric" if is_numeric else "categorical", values.iloc[0]
            )
    profiles = profile_frame(training[list(layouts)], layouts) if layouts else None
    return TrainingReference(
        frozenset(training.columns), missing, layouts, profiles, problems, degenerate
    )


def _from_files(files: list[Path], numeric: list[str], categorical: list[str]) -> TrainingReference:
    """Every training row, the frame never loaded: Parquet batch by batch (pyarrow, counted
    by numpy), CSV through DuckDB. The layouts equal those of the frame, bit for bit."""
    from prodready.data.readers import columnar, table_format
    from prodready.engine.arrow_engine import file_columns
    from prodready.engine.rows_sql import serving_schema

    if table_format(str(files[0])) == "parquet":
        schema = file_columns(files)
        missing, layouts, profiles, problems = _parquet_side(files, numeric, categorical)
    else:
        schema = serving_schema(files)
        with columnar(files) as copied:  # one CSV parse for the scans of every column
            missing, layouts, profiles, problems = _duckdb_side(
                copied, schema, numeric, categorical
            )
    degenerate = _degenerate(layouts, profiles, numeric)
    return TrainingReference(frozenset(schema), missing, layouts, profiles, problems, degenerate)


def _degenerate(layouts, profiles, numeric: list[str]) -> dict[str, str]:
    """The notes of features with a single training value, read from their profiles."""
    degenerate: dict[str, str] = {}
    for name in layouts:
        profile = profiles.column(name)  # type: ignore[union-attr]
        if name in numeric:
            if profile.minimum == profile.maximum:
                degenerate[name] = degenerate_note("numeric", float(profile.minimum))
        else:
            seen = np.flatnonzero(profile.counts)
            if profile.other == 0 and seen.size == 1:
                label = profile.layout.categories[int(seen[0])]
                degenerate[name] = degenerate_note("categorical", label)
    return degenerate


def _from_table(table: str, numeric: list[str], categorical: list[str]) -> TrainingReference:
    """Every training row of a Spark table, never brought to the driver whole: missing counts
    in one scan, the layouts (``spark_engine.layouts_from_table``: bit for bit the frame's)
    and the profiles on them (``profile_table``). A column whose layout fails (no finite
    value...) is retried alone so the others keep theirs."""
    from prodready.engine.spark_engine import (
        layouts_from_table,
        profile_table,
        table_schema,
        table_stats,
    )

    schema = table_schema(table)
    names = [*numeric, *categorical]
    rows, stats = table_stats(table, names)
    missing = {n: (stats[n]["nulls"] / rows if rows else float("nan")) for n in names}
    problems = {n: "empty on every training row" for n in names if stats[n]["nulls"] == rows}
    usable_numeric = [n for n in numeric if n not in problems]
    usable_categorical = [n for n in categorical if n not in problems]
    layouts: dict[str, Layout] = {}
    try:
        layouts = layouts_from_table(table, usable_numeric, usable_categorical)
    except ProdreadyError:
        for name in [*usable_numeric, *usable_categorical]:
            one = ([name], []) if name in numeric else ([], [name])
            try:
                layouts |= layouts_from_table(table, *one)
            except ProdreadyError as err:
                problems[name] = err.problem
    profiles = profile_table(table, layouts) if layouts else None
    if profiles is not None:  # NaN is missing too, which a null count does not see
        for name in layouts:
            profile = profiles.column(name)
            missing[name] = profile.missing / profile.total if profile.total else float("nan")
    layouts = {n: layouts[n] for n in names if n in layouts}  # the case's order
    degenerate = _degenerate(layouts, profiles, numeric)
    return TrainingReference(frozenset(schema), missing, layouts, profiles, problems, degenerate)


def _parquet_side(files: list[Path], numeric: list[str], categorical: list[str]):
    """Each column read once for its layout and its whole-data profile
    (``arrow_engine.reference_column``), two columns at once while they fit in
    :data:`LAYOUT_MEMORY`; the missing shares from the profiles (a column without a layout:
    counted apart)."""
    from prodready.engine.arrow_engine import batches, reference_column
    from prodready.engine.numpy_engine import ENGINE
    from prodready.engine.profile import ProfileSet

    def read(name: str) -> tuple[str, tuple[Layout, Profile] | ProdreadyError]:
        try:
            return name, reference_column(files, name, kinds[name])
        except ProdreadyError as err:
            return name, err

    kinds = {**dict.fromkeys(numeric, "numeric"), **dict.fromkeys(categorical, "categorical")}
    layouts: dict[str, Layout] = {}
    found_profiles: dict[tuple[None, str], Profile] = {}
    problems: dict[str, str] = {}
    missing: dict[str, float] = {}
    rows = sum(pq.read_metadata(path).num_rows for path in files)
    workers = 2 if rows * COLUMN_BYTES_PER_ROW * 2 <= LAYOUT_MEMORY else 1
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for name, found in pool.map(read, list(kinds)):
            if isinstance(found, ProdreadyError):
                absent = sum(int(frame[name].isna().sum()) for frame in batches(files, [name]))
                missing[name] = absent / rows if rows else float("nan")
                problems[name] = "empty on every training row" if absent == rows else found.problem
            else:
                layouts[name], profile = found
                found_profiles[(None, name)] = profile
                missing[name] = profile.missing / profile.total if profile.total else float("nan")
    profiles = None
    if layouts:
        source = {"engine": ENGINE, "rows": rows, "description": ""}
        profiles = ProfileSet(layouts=layouts, profiles=found_profiles, source=source)
    return missing, layouts, profiles, problems


def _duckdb_side(files: list[Path], schema: dict, numeric: list[str], categorical: list[str]):
    """One scan for the counts and extremes, one sort per numeric column for its layout's
    order statistics, one count per category, one scan for the profiles. The standard
    deviation (which scales the Wasserstein distance) is DuckDB's ``stddev_pop`` (Welford's
    updates, on one thread so that it is the same at every run), numpy's to about 1e-12."""
    from prodready.engine.duckdb_engine import layouts_from_files, profile_files

    names = [*numeric, *categorical]
    whole = _whole_counts(files, schema, names, numeric)
    rows = whole["rows"]
    missing = {n: (whole[f"missing {n}"] / rows if rows else float("nan")) for n in names}
    problems = {n: "empty on every training row" for n in names if whole[f"missing {n}"] == rows}
    layouts: dict[str, Layout] = {}
    for name in [n for n in numeric if n not in problems]:
        try:
            layouts[name] = _numeric_layout(files, name, whole)
        except ProdreadyError as err:
            problems[name] = err.problem
    options = {"memory_limit": DUCKDB_MEMORY_LIMIT}
    for name in [n for n in categorical if n not in problems]:
        try:
            layouts |= layouts_from_files(files, [], [name], **options)
        except ProdreadyError as err:
            problems[name] = err.problem
    profiles = profile_files(files, layouts, **options) if layouts else None
    return missing, layouts, profiles, problems


def _numeric_layout(files: list[Path], name: str, whole: dict) -> NumericLayout:
    """The layout of one numeric column of the files from the order statistics it needs
    (``layout_positions``): DuckDB numbers the finite values in order (a sort that spills to
    disk past its memory limit) and returns only the values at those ranks."""
    from prodready.engine.layout import layout_positions, numeric_layout_from_sorted_positions
    from prodready.engine.sql import DUCKDB, is_finite

    n = int(whole[f"finite {name}"])
    positions = layout_positions(n)  # fewer than 2 finite values: a ParameterError
    x = f"CAST({DUCKDB.quote(name)} AS DOUBLE)"
    query = (
        "SELECT r, x FROM (SELECT x, row_number() OVER (ORDER BY x) - 1 AS r FROM "
        f"(SELECT {x} AS x FROM {scan_sql(files)}) WHERE {is_finite('x')}) "
        "WHERE r IN (SELECT pos FROM prodready_positions) ORDER BY r"
    )
    with tempfile.TemporaryDirectory(prefix="prodready-reference-") as temp:
        con = duckdb_connection(temp)
        try:
            con.register("prodready_positions", pa.table({"pos": pa.array(positions)}))
            found = con.execute(query).fetchnumpy()
        finally:
            con.close()
    return numeric_layout_from_sorted_positions(
        n,
        found["r"],
        found["x"],
        float(whole[f"min {name}"]),
        float(whole[f"max {name}"]),
        std=float(whole[f"std {name}"]),
    )


def _whole_counts(files: list, schema: dict[str, str], names: list[str], numeric: list[str]):
    """One scan: rows; per column the rows where it is missing (NULL, or NaN in a float column:
    what pandas' ``isna`` counts on the loaded frame); per numeric column its finite values'
    count, extremes and standard deviation (one thread: sums in the files' order, every run)."""
    from prodready.engine.sql import DUCKDB, is_finite, is_missing

    parts = {"rows": "count(*)"}
    for name in names:
        q = DUCKDB.quote(name)
        floats = schema[name] in ("DOUBLE", "FLOAT", "REAL")
        parts[f"missing {name}"] = (
            f"count(*) FILTER (WHERE {is_missing(q) if floats else f'{q} IS NULL'})"
        )
    for name in numeric:
        x = f"CAST({DUCKDB.quote(name)} AS DOUBLE)"
        parts[f"finite {name}"] = f"count(*) FILTER (WHERE {is_finite(x)})"
        parts[f"min {name}"] = f"min({x}) FILTER (WHERE {is_finite(x)})"
        parts[f"max {name}"] = f"max({x}) FILTER (WHERE {is_finite(x)})"
        parts[f"std {name}"] = f"stddev_pop({x}) FILTER (WHERE {is_finite(x)})"
    with tempfile.TemporaryDirectory(prefix="prodready-reference-") as temp:
        con = duckdb_connection(temp, threads=1)
        try:
            found = con.execute(f"SELECT {', '.join(parts.values())} FROM {scan_sql(files)}")
            values = found.fetchone()
        finally:
            con.close()
    return dict(zip(parts, values, strict=True))
