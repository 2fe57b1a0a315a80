"""Distribution skew per feature: training against the whole serving log and each serving month.

The statistics themselves live in :mod:`prodready.stats.drift`; this module decides what to
compare (non-missing values of one feature), catches what makes a feature impossible to compare,
and turns that into a per-feature note so the audit completes for every other feature.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from prodready.case import Case
from prodready.data.readers import DUCKDB_MEMORY_LIMIT
from prodready.engine.layout import MAX_CATEGORIES as MAX_LABELS
from prodready.engine.layout import labels_as_text
from prodready.errors import ParameterError, ProdreadyError
from prodready.skew.reference import degenerate_note
from prodready.spec import Feature

if TYPE_CHECKING:
    from prodready.engine import ProfileSet

from prodready.stats.drift import (
    CategoricalReference,
    NumericReference,
    _js,
    _psi,
    _shares,
    categorical_drift,
    categorical_drift_from_profiles,
    numeric_drift,
    numeric_drift_from_profiles,
    numeric_shift,
    unseen_share_is_upper_bound,
)

NUMERIC_COLUMNS = [
    "psi",
    "js_distance",
    "wasserstein_norm",
    "ks_stat",
    "ks_pvalue",
    "hellinger",
    "out_of_range_share",
]
CATEGORICAL_COLUMNS = ["psi", "js_distance", "linf", "chi2_pvalue", "hellinger", "unseen_share"]
ALL_COLUMNS = list(dict.fromkeys(NUMERIC_COLUMNS + CATEGORICAL_COLUMNS))


@dataclass(frozen=True)
class FeatureDrift:
    """Distances for one feature (NaN where a measure does not apply) and a note if any."""

    values: dict[str, float]
    by_month: pd.DataFrame  # month, psi, js_distance, rows
    note: str = ""
    usable: bool = True  # False: its values cannot feed a model (types differ between the sets)
    # share of serving rows where the feature is missing, counted on the whole log when it stays
    # on disk (None: count it on case.serving)
    missing_serving: float | None = None
    missing_train: float | None = None  # the same for training rows


@dataclass(frozen=True)
class Months:
    """The calendar months (UTC) of the serving log: ``starts[code[i]]`` is row ``i``'s month.

    Computed once per audit: grouping tz-aware timestamps again for every feature is slow.
    """

    starts: list[pd.Timestamp]
    code: np.ndarray


def serving_months(case: Case) -> Months:
    stamps = case.serving[case.columns.timestamp]
    keys = (stamps.dt.year * 12 + stamps.dt.month - 1).to_numpy()
    values, code = np.unique(keys, return_inverse=True)
    starts = [
        pd.Timestamp(year=int(k) // 12, month=int(k) % 12 + 1, day=1, tz="UTC") for k in values
    ]
    return Months(starts, code)


def drift_by_feature(case: Case, *, workers: int = 2, progress=None) -> dict[str, FeatureDrift]:
    """:func:`feature_drift` for every feature of the case, on ``workers`` threads (sorting and
    counting release the GIL, so two cores are used).

    A case whose serving log stays on disk (``case.serving_source``) is compared through
    profiles of the whole log instead: :func:`drift_from_files` (``progress(fraction, message)``
    is told as the training data and each serving file are profiled)."""
    if case.serving_source is not None:
        return drift_from_files(case, progress=progress)
    months = serving_months(case)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = pool.map(lambda f: feature_drift(case, f, months), case.features)
        return {f.name: result for f, result in zip(case.features, results, strict=True)}


def feature_drift(case: Case, feature: Feature, months: Months | None = None) -> FeatureDrift:
    """Compare one feature's training values with its serving values, overall and by month
    (``months`` from :func:`serving_months`, computed here when not given)."""
    empty = {c: float("nan") for c in ALL_COLUMNS}
    if feature.name not in case.training:
        return FeatureDrift(empty, _no_months(), "not in the training data", usable=False)
    if feature.name not in case.serving:
        note = "not in the serving log"
        if not feature.available_at_prediction:
            note += " (declared not available at prediction time)"
        return FeatureDrift(empty, _no_months(), note)
    training, serving, problem = _comparable(case, feature)
    if problem:
        usable = not problem.startswith("holds text")
        if not usable:
            problem += "; it is left out of the baseline models"
        return FeatureDrift(empty, _no_months(), problem, usable=usable)
    try:
        if feature.type == "numeric":
            reference = NumericReference.from_values(training.to_numpy())
            result = numeric_drift(reference, serving.to_numpy())
            columns = NUMERIC_COLUMNS

            def compare(values: pd.Series) -> tuple[float, float]:
                return numeric_shift(reference, values.to_numpy())
        else:
            counted = CategoricalReference.from_values(training)  # counted once, for every month
            result = categorical_drift(counted, serving)
            columns = CATEGORICAL_COLUMNS

            def compare(values: pd.Series) -> tuple[float, float]:
                month = categorical_drift(counted, values)
                return month.psi, month.js_distance
    except ProdreadyError as err:
        return FeatureDrift(empty, _no_months(), err.problem)
    values = empty | {c: float(getattr(result, c)) for c in columns}
    months = months if months is not None else serving_months(case)
    # the non-missing values in order, labelled by their position in the serving log
    located = serving.set_axis(np.flatnonzero(case.serving[feature.name].notna().to_numpy()))
    by_month = _months(located, months, compare)
    return FeatureDrift(values, by_month, _degenerate_note(training))


def _comparable(case: Case, feature: Feature) -> tuple[pd.Series, pd.Series, str]:
    """Non-missing values of both sets, or a note saying why they cannot be compared.

    A case built without validation may hold text in one set and numbers in the other: that is
    reported for this feature instead of failing the whole audit.
    """
    raw = {"training": case.training[feature.name], "serving": case.serving[feature.name]}
    present = {name: values.dropna() for name, values in raw.items()}
    for name, values in present.items():
        if len(values) == 0:
            return present["training"], present["serving"], f"empty on every {name} row"
    if feature.type == "numeric":
        for name, values in present.items():
            if pd.api.types.is_float_dtype(values.dtype):
                continue  # canonical already
            numbers = pd.to_numeric(values, errors="coerce")
            if numbers.isna().any():
                other = "serving" if name == "training" else "training"
                example = values[numbers.isna()].iloc[0]
                return (
                    present["training"],
                    present["serving"],
                    f"holds text in {name} (such as {example!r}) but numbers in {other}: "
                    "the two pipelines disagree on its type",
                )
            present[name] = numbers.astype("float64")
    else:
        present = {name: values.astype("str") for name, values in present.items()}
    return present["training"], present["serving"], ""


def _degenerate_note(training: pd.Series) -> str:
    if (training == training.iloc[0]).all():
        numeric = pd.api.types.is_numeric_dtype(training.dtype)
        return degenerate_note("numeric" if numeric else "categorical", training.iloc[0])
    return ""


def _months(serving: pd.Series, months: Months, compare) -> pd.DataFrame:
    """PSI and Jensen-Shannon distance of each serving month against all of training.

    ``serving`` holds the non-missing values, indexed by their position in the serving log.
    """
    codes = months.code[serving.index.to_numpy()]
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(months.starts) + 1))
    rows = []
    for number, month in enumerate(months.starts):
        values = serving.iloc[order[bounds[number] : bounds[number + 1]]]
        try:
            psi, js = compare(values)
        except ProdreadyError:
            psi = js = float("nan")
        rows.append({"month": month, "psi": psi, "js_distance": js, "rows": len(values)})
    return pd.DataFrame(rows, columns=["month", "psi", "js_distance", "rows"])


def _no_months() -> pd.DataFrame:
    return pd.DataFrame(columns=["month", "psi", "js_distance", "rows"])


def distribution_table(case: Case, feature: str, *, bins: int = 30) -> pd.DataFrame:
    """Shares of training and serving values, for drawing one feature's two distributions.

    Numeric: ``bins`` equal-width bins over the 0.5th-99.5th percentile range of both sets
    together, the first and last bins also holding the values beyond it (columns ``bin_left``,
    ``bin_right``, ``training``, ``serving``, ``scale``); for non-negative values whose 99.5th
    percentile is over 10 times the median, the bins are geometric (``scale`` = ``"log"``).
    Categorical: one row per category, the 30 most frequent in both sets together, the rest
    summed as ``(other)`` (columns ``category``, ``training``, ``serving``). Shares are of
    non-missing values.
    """
    if feature not in case.feature_names:
        raise ParameterError(
            f"{feature!r} is not a feature of the case",
            expected=f"one of {', '.join(case.feature_names)}",
            fix="pick a feature from the audit's table",
        )
    spec = case.spec.feature(feature)
    training = case.training[feature].dropna()
    serving = case.serving[feature].dropna() if feature in case.serving else pd.Series([])
    if spec.type == "numeric":
        both = np.concatenate([training.to_numpy(float), serving.to_numpy(float)])
        low, high, median = np.quantile(both, [0.005, 0.995, 0.5]) if len(both) else (0, 1, 0.5)
        if high <= low:
            low, high = low - 0.5, high + 0.5
        # Long right tail of non-negative values (amounts, distances): equal-width bins would
        # put nearly everything in the first bin, so the bins grow geometrically instead.
        scale = "log" if low >= 0 and median > 0 and high > 10 * median else "linear"
        if scale == "log":
            low = max(low, np.quantile(both[both > 0], 0.005))
            edges = np.geomspace(low, high, bins + 1)
        else:
            edges = np.linspace(low, high, bins + 1)

        def shares(values: pd.Series) -> np.ndarray:
            clipped = np.clip(values.to_numpy(float), low, high)
            counts, _ = np.histogram(clipped, bins=edges)
            return counts / max(len(values), 1)

        return pd.DataFrame(
            {
                "bin_left": edges[:-1],
                "bin_right": edges[1:],
                "training": shares(training),
                "serving": shares(serving),
                "scale": scale,
            }
        )
    table = pd.DataFrame(
        {
            "training": training.astype("str").value_counts(normalize=True),
            "serving": serving.astype("str").value_counts(normalize=True),
        }
    ).fillna(0.0)
    table = table.sort_values(by=["training", "serving"], ascending=False)
    top = 30
    if len(table) > top:
        other = table.iloc[top:].sum().rename("(other)")
        table = pd.concat([table.iloc[:top], other.to_frame().T])
    table.index.name = "category"
    return table.reset_index()


# --------------------------------------------------------------------------------------------
# The serving log on disk: profiles


def drift_from_files(case: Case, *, progress=None) -> dict[str, FeatureDrift]:
    """The same comparison as :func:`feature_drift` for a case whose serving log stays on disk.

    The training data gives the layouts and the reference profiles
    (:func:`prodready.skew.reference.training_reference`: from the frame, or from every row of
    the training files when only a sample of them is in memory); every row of the serving
    files is profiled per calendar month (UTC) of the timestamp (Parquet with pyarrow, batch by
    batch: ``arrow_engine.profile_parquet``; CSV with ``duckdb_engine.profile_files``; a Spark
    table by Spark); the whole log is the merge of its months.
    Numeric features: :func:`~prodready.stats.drift.numeric_drift_from_profiles` (the binned
    path of :func:`numeric_drift`, which the in-memory audit also takes beyond 200,000 values);
    by month, PSI and Jensen-Shannon from the decile counts (as :func:`numeric_shift`).
    Categorical features: :func:`categorical_drift_from_profiles` on the training labels plus
    the labels only serving has (``arrow_engine.file_labels``; CSV: one small DuckDB query per
    feature), so each unseen label
    counts apart, as in :func:`categorical_drift`. Missing rates come from the profiles' counts.

    Two steps, usable apart: :func:`profile_sides` (the profiles of both data sets, what a team
    can send instead of its data) and :meth:`ProfiledSides.drift` (the comparison).
    """
    return profile_sides(case, progress=progress).drift()


@dataclass(frozen=True)
class ProfiledSides:
    """Both data sets of a case as profiles, and what was learnt about features without one.

    ``kinds``: every feature of the case (in its order) -> ``"numeric"`` or ``"categorical"``;
    ``training``: the whole training data on the reference layouts; ``serving``: the serving
    log per calendar month (UTC) on the same layouts, categorical ones extended by the labels
    only serving has (both None when no feature has a layout); ``missing_train``: share of
    training rows where a feature is missing; ``notes``: per profiled feature, what training
    says about it (a single value); ``unprofiled``: the result of every feature that could not
    be profiled (absent from a data set, empty, no layout), decided from the data.
    """

    kinds: dict[str, str]
    training: ProfileSet | None
    serving: ProfileSet | None
    missing_train: dict[str, float]
    notes: dict[str, str]
    unprofiled: dict[str, FeatureDrift]

    def drift(self) -> dict[str, FeatureDrift]:
        """Every feature's comparison, in the case's order (:func:`compare_profiles`)."""
        out = dict(self.unprofiled)
        if self.training is not None and self.serving is not None:
            out |= compare_profiles(
                self.training, self.serving, self.kinds, self.missing_train, self.notes
            )
        return {name: out[name] for name in self.kinds}


def profile_sides(case: Case, *, progress=None) -> ProfiledSides:
    """The profiles :func:`drift_from_files` compares: from the files when the serving log stays
    on disk (``case.serving_source``), computed by Spark when it is a Spark table
    (``serving_source.table``), else from the frames in memory (numpy engine).
    ``progress(fraction, message)`` is told as the training data and the serving log are
    profiled (each serving file, on disk)."""
    from prodready.skew.reference import training_data_columns, training_reference

    source = case.serving_source
    table = source.table if source is not None else None
    if table is not None:
        from prodready.engine.spark_engine import table_schema

        schema = table_schema(table)
    elif source is not None:
        from prodready.engine.arrow_engine import file_columns

        schema = file_columns(source.files)  # names only (Parquet footers; no DuckDB to open)
    else:
        schema = frozenset(case.serving.columns)
    training_columns = training_data_columns(case)
    empty = {c: float("nan") for c in ALL_COLUMNS}
    out: dict[str, FeatureDrift] = {}
    numeric, categorical = [], []
    for feature in case.features:
        name = feature.name
        if name not in training_columns:
            out[name] = FeatureDrift(empty, _no_months(), "not in the training data", usable=False)
        elif name not in schema:
            note = "not in the serving log"
            if not feature.available_at_prediction:
                note += " (declared not available at prediction time)"
            out[name] = FeatureDrift(empty, _no_months(), note, missing_serving=1.0)
        else:
            (numeric if feature.type == "numeric" else categorical).append(name)
    if progress is not None:
        progress(0.0, "profiling the training data")
    reference = training_reference(case, numeric, categorical)
    if progress is not None:
        progress(0.4, "profiling the serving log")
    for name in [*numeric, *categorical]:
        if name in reference.problems:
            out[name] = FeatureDrift(
                empty,
                _no_months(),
                reference.problems[name],
                missing_train=reference.missing[name],
            )
    layouts = dict(reference.layouts)
    categorical = [n for n in categorical if n in layouts]
    if table is not None:
        from prodready.engine.spark_engine import table_labels

        unseen = table_labels(table, categorical) if categorical else {}
    elif source is not None:
        from prodready.engine.arrow_engine import file_labels

        unseen = file_labels(source.files, categorical) if categorical else {}
    else:
        unseen = {n: list(labels_as_text(case.serving[n])[0].index) for n in categorical}
    for name in categorical:
        layout = layouts[name]
        extra = sorted(set(unseen[name]) - set(layout.categories))
        if layout.complete and extra and len(layout.categories) + len(extra) <= MAX_LABELS:
            layouts[name] = type(layout)(
                categories=(*layout.categories, *extra), complete=True, n=layout.n
            )
    serving = None
    if layouts:
        timestamp = case.columns.timestamp
        if table is not None:
            serving = _table_months(table, layouts, timestamp, progress)
        elif source is not None:
            serving = _serving_months(source.files, layouts, timestamp, progress)
        else:
            from prodready.engine import profile_frame

            frame = case.serving[list(dict.fromkeys([*layouts, timestamp]))]
            serving = profile_frame(frame, layouts, by=timestamp, freq="MS")
    if progress is not None:
        progress(1.0, "profiles done")
    return ProfiledSides(
        kinds={f.name: f.type for f in case.features},
        training=reference.profiles if layouts else None,
        serving=serving,
        missing_train=dict(reference.missing),
        notes={name: reference.degenerate.get(name, "") for name in layouts},
        unprofiled=out,
    )


def compare_profiles(
    training: ProfileSet,
    serving: ProfileSet,
    kinds: Mapping[str, str],
    missing_train: Mapping[str, float],
    notes: Mapping[str, str],
) -> dict[str, FeatureDrift]:
    """Each feature of ``serving`` (per month) against its ``training`` profile (whole): the
    measures over the whole log and PSI / Jensen-Shannon per month. ``kinds``, ``missing_train``
    and ``notes`` (what training says of a feature) as :class:`ProfiledSides` holds them."""
    empty = {c: float("nan") for c in ALL_COLUMNS}
    out: dict[str, FeatureDrift] = {}
    whole = serving.whole()
    groups = [g for g in serving.groups if g is not None]
    for name, layout in serving.layouts.items():
        kind = kinds[name]
        ref, cur = _on_layout(training.column(name), layout), whole.column(name)
        missing = cur.missing / cur.total if cur.total else float("nan")
        rates = {"missing_serving": missing, "missing_train": missing_train[name]}
        if cur.n == 0:
            out[name] = FeatureDrift(empty, _no_months(), "empty on every serving row", **rates)
            continue
        try:
            if kind == "numeric":
                result = numeric_drift_from_profiles(ref, cur)
                columns = NUMERIC_COLUMNS
            else:
                result = categorical_drift_from_profiles(ref, cur)
                columns = CATEGORICAL_COLUMNS
        except ProdreadyError as err:
            out[name] = FeatureDrift(empty, _no_months(), err.problem, **rates)
            continue
        values = empty | {c: float(getattr(result, c)) for c in columns}
        rows = []
        for group in groups:
            month = serving.column(name, group)
            psi = js = float("nan")
            if month.n >= 2:
                if kind == "numeric":
                    p, q = _shares(ref.coarse_counts()), _shares(month.coarse_counts())
                    psi, js = _psi(p, q), _js(p, q)
                else:
                    shifted = categorical_drift_from_profiles(ref, month)
                    psi, js = shifted.psi, shifted.js_distance
            rows.append({"month": group, "psi": psi, "js_distance": js, "rows": int(month.n)})
        by_month = pd.DataFrame(rows, columns=["month", "psi", "js_distance", "rows"])
        note = notes.get(name, "")
        if kind == "categorical" and unseen_share_is_upper_bound(ref):
            note = "; ".join(
                n
                for n in (
                    note,
                    f"more than {MAX_LABELS:,} categories: the rarest share one bucket, so "
                    "unseen_share is an upper bound",
                )
                if n
            )
        out[name] = FeatureDrift(values, by_month, note, **rates)
    return out


def _on_layout(profile, layout):
    """A training profile on ``layout``: its own, or its categorical layout extended by the
    labels only serving has (complete layouts only), where training counts none of them."""
    if profile.layout is layout or profile.layout == layout:
        return profile
    extra = len(layout.categories) - len(profile.layout.categories)
    counts = np.concatenate([profile.counts, np.zeros(extra, dtype=profile.counts.dtype)])
    return replace(profile, layout=layout, counts=counts)


def _table_months(table: str, layouts, timestamp: str, progress) -> ProfileSet:
    """Profiles of every row of a serving Spark table per calendar month (UTC), computed by
    Spark (``spark_engine.profile_table``): only the counts come to the driver."""
    from prodready.engine.spark_engine import profile_table

    def told(fraction: float, message: str) -> None:
        if progress is not None:
            progress(0.4 + 0.6 * fraction, f"serving table, {message}")

    return profile_table(table, layouts, by=timestamp, freq="MS", progress=told)


def _serving_months(files, layouts, timestamp: str, progress) -> ProfileSet:
    """Profiles of every serving row per calendar month: Parquet batch by batch (pyarrow,
    counted by numpy), CSV through DuckDB in batches of files."""
    from prodready.data.readers import table_format
    from prodready.engine.arrow_engine import profile_parquet

    def told(fraction: float, message: str) -> None:
        if progress is not None:
            progress(0.4 + 0.6 * fraction, f"serving log, {message}")

    if table_format(str(files[0])) == "parquet":
        return profile_parquet(files, layouts, by=timestamp, freq="MS", progress=told)
    from prodready.engine.duckdb_engine import profile_files  # CSV only: its import costs

    months = None
    groups = file_batches(files)
    for number, batch in enumerate(groups):
        told(number / len(groups), f"profiling files {number + 1} of {len(groups)}")
        found = profile_files(
            [str(f) for f in batch],
            layouts,
            by=timestamp,
            freq="MS",
            memory_limit=DUCKDB_MEMORY_LIMIT,
        )
        months = found if months is None else months.merge(found)
    return months


BATCH_ROWS = 2_000_000
"""Serving files are profiled in batches of about this many rows, then the profiles merged: on
two cores with DuckDB's 1 GB limit a batch never spills, whatever the log's size."""


def file_batches(files, rows: int | None = None) -> list[list]:
    """Consecutive groups of Parquet files holding at most ``rows`` rows each (a larger file
    alone); CSV files, whose rows are unknown without a scan, form one group."""
    import pyarrow.parquet as pq

    from prodready.data.readers import table_format

    rows = BATCH_ROWS if rows is None else rows
    files = list(files)
    if table_format(str(files[0])) != "parquet":
        return [files]
    batches: list[list] = []
    held = 0
    for path in files:
        count = pq.read_metadata(path).num_rows
        if batches and held + count <= rows:
            batches[-1].append(path)
            held += count
        else:
            batches.append([path])
            held = count
    return batches
