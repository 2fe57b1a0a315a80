"""Row-level feature skew: the same events, computed by the offline and the online pipeline.

Why: a distribution test cannot tell "the world changed" from "our two pipelines compute the
feature differently". When training and serving share ids (the same transaction backfilled
offline and served online), comparing the two values row by row answers that directly, and the
ratio of the values often names the bug (a unit change, a different scaling, another window).

Rules (see :func:`row_skew`):

- Rows are joined on the case's id column (compared as text).
- Numeric values match when ``np.isclose(serving, training, rtol, atol)``; categorical values
  match when their text is equal. Both missing is a match; one missing is a mismatch, also counted
  in ``missing_only_training`` / ``missing_only_serving``.
- ``median_ratio`` is the median of serving / training over mismatched numeric pairs where both
  values are present and non-zero.
- ``unit_hint`` names a known unit conversion when at least 80% of those ratios are within 1% of
  its factor, or a constant scaling when 80% are within 1% of their median (and the median is not
  within 1% of 1).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from prodready.case import Case
from prodready.results import to_json
from prodready.spec import Feature

# A share of the ratio pairs at least this large must agree for a hint to be given.
HINT_SHARE = 0.8
# How close (relative) a ratio must be to a factor to count as that factor.
HINT_TOLERANCE = 0.01
# Fewer ratio pairs than this cannot show a constant factor.
HINT_MIN_PAIRS = 5
# Points per feature kept for the scatter chart.
MAX_PAIRS = 2_000

# (factor serving / training, from-unit, to-unit, words in a feature name that mean the from-unit)
_CONVERSIONS: tuple[tuple[float, str, str, tuple[str, ...]], ...] = (
    (0.621371, "km", "miles", ("km", "kilometer", "kilometre", "kilometers", "kilometres")),
    (1.609344, "miles", "km", ("mi", "mile", "miles")),
    (0.001, "m", "km", ("m", "meter", "metre", "meters", "metres")),
    (1000.0, "km", "m", ("km", "kilometer", "kilometre", "kilometers", "kilometres")),
    (0.001, "g", "kg", ("g", "gram", "grams")),
    (1000.0, "kg", "g", ("kg", "kilogram", "kilograms", "kilo", "kilos")),
    (2.20462, "kg", "lb", ("kg", "kilogram", "kilograms", "kilo", "kilos")),
    (0.453592, "lb", "kg", ("lb", "lbs", "pound", "pounds")),
    (0.01, "cents", "units", ("cents", "cent", "pennies")),
    (100.0, "units", "cents", ("usd", "eur", "gbp", "dollars", "euros", "amount", "price")),
    (0.001, "ms", "s", ("ms", "millis", "milliseconds", "msec")),
    (1000.0, "s", "ms", ("s", "sec", "secs", "seconds")),
    (0.01, "percent", "fraction", ("pct", "percent", "percentage")),
    (100.0, "fraction", "percent", ("share", "fraction", "rate", "ratio")),
    (1 / 60, "s", "min", ("s", "sec", "secs", "seconds")),
    (60.0, "min", "s", ("min", "mins", "minutes")),
    (1 / 60, "min", "h", ("min", "mins", "minutes")),
    (60.0, "h", "min", ("h", "hr", "hrs", "hour", "hours")),
    (1 / 24, "h", "days", ("h", "hr", "hrs", "hour", "hours")),
    (24.0, "days", "h", ("d", "day", "days")),
    (1 / 3600, "s", "h", ("s", "sec", "secs", "seconds")),
    (3600.0, "h", "s", ("h", "hr", "hrs", "hour", "hours")),
    (1 / 86400, "s", "days", ("s", "sec", "secs", "seconds")),
    (86400.0, "days", "s", ("d", "day", "days")),
    (0.3048, "ft", "m", ("ft", "feet", "foot")),
    (3.28084, "m", "ft", ("m", "meter", "metre", "meters", "metres")),
)


@dataclass(frozen=True)
class RowSkew:
    """Row-level comparison of training and serving values on shared ids.

    ``features`` (index ``feature``): compared (joined rows), matches, mismatches, match_rate,
    mismatch_rate, missing_only_training, missing_only_serving, median_ratio, unit_hint (``""``
    if none), note (``""`` unless the feature could not be compared as declared).
    ``examples``: feature, id, training, serving (values as text, ``"missing"`` for none).
    ``pairs``: feature, training, serving (float), for a scatter chart.
    """

    joined: int
    only_training: int
    only_serving: int
    features: pd.DataFrame = field(repr=False)
    examples: pd.DataFrame = field(repr=False)
    pairs: pd.DataFrame = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """The per-feature table."""
        return self.features

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe; ``pairs`` are left out (chart data, up to 2,000 points per feature)."""
        return to_json(
            {
                "joined": self.joined,
                "only_training": self.only_training,
                "only_serving": self.only_serving,
                "features": self.features,
                "examples": self.examples,
            }
        )


def row_skew(
    case: Case,
    *,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    examples: int = 5,
    seed: int = 0,
) -> RowSkew | None:
    """Compare each feature's training and serving value on the ids both sets share.

    ``only_training`` / ``only_serving`` count ids present in one set only, among rows inside
    the time span both sets cover (so months that only one set covers are not counted as
    missing). ``examples`` mismatched pairs per feature and up to 2,000 numeric pairs for the
    scatter chart are drawn at random with ``seed``. Returns ``None`` when the case has no id
    column or the two sets share no id.
    """
    id_column = case.columns.id
    training, serving = case.training, case.serving
    if case.serving_source is not None:
        return _row_skew_files(case, rtol=rtol, atol=atol, examples=examples, seed=seed)
    if not id_column or id_column not in training or id_column not in serving:
        return None
    train_ids = training[id_column].astype("str")
    serve_ids = serving[id_column].astype("str")
    shared = _isin(train_ids, serve_ids)
    if not shared.any():
        return None

    only_training, only_serving = _one_sided(case, train_ids, serve_ids)
    left = training.loc[shared].assign(_id=train_ids[shared].to_numpy())
    right = serving.assign(_id=serve_ids.to_numpy())
    names = [f.name for f in case.features]
    joined = left[["_id", *[n for n in names if n in left]]].merge(
        right[["_id", *[n for n in names if n in right]]],
        on="_id",
        how="inner",
        suffixes=("__training", "__serving"),
        sort=True,  # by id: the same rows in the same order whatever the input order
    )

    rows, example_parts, pair_parts = [], [], []
    for position, feature in enumerate(case.features):
        rng = np.random.default_rng([seed, position])
        row, example, pairs = _compare_feature(
            feature, joined, training, serving, rtol=rtol, atol=atol, k=examples, rng=rng
        )
        rows.append(row)
        example_parts.append(example)
        pair_parts.append(pairs)

    table = pd.DataFrame(rows or [_empty_row("", 0, "")]).set_index("feature")
    table = table.iloc[: len(rows)]  # no feature: an empty table with the same columns
    for column in ("compared", "matches", "mismatches", "missing_only_training"):
        table[column] = table[column].astype("int64")
    table["missing_only_serving"] = table["missing_only_serving"].astype("int64")
    for column in ("match_rate", "mismatch_rate", "median_ratio"):
        table[column] = table[column].astype("float64")
    for column in ("unit_hint", "note"):
        table[column] = table[column].astype("str")
    return RowSkew(
        joined=len(joined),
        only_training=only_training,
        only_serving=only_serving,
        features=table,
        examples=_concat(
            example_parts, {"feature": "str", "id": "str", "training": "str", "serving": "str"}
        ),
        pairs=_concat(pair_parts, {"feature": "str", "training": "float64", "serving": "float64"}),
    )


def _row_skew_files(
    case: Case, *, rtol: float, atol: float, examples: int, seed: int
) -> RowSkew | None:
    """:func:`row_skew` of a case whose serving log stays on disk: DuckDB joins the training
    data (the frame, or every row of its files when only a sample of them is in memory) with
    every serving row on the id (:mod:`prodready.engine.rows_sql`), Spark when either data
    set is a Spark table (:mod:`prodready.engine.rows_spark`); the counts and
    ratios follow the same rules, the examples and the scatter pairs are picked by a hash of
    the id and ``seed`` (up to :data:`MAX_PAIRS` pairs per feature)."""
    from prodready.engine.rows_sql import compare_rows, serving_schema
    from prodready.skew.reference import training_data_columns, training_files, training_table

    id_column = case.columns.id
    files = case.serving_source.files
    table = case.serving_source.table
    if table is not None:
        from prodready.engine.spark_engine import table_schema

        schema = table_schema(table)
    else:
        schema = serving_schema(files)
    in_training = training_data_columns(case)
    if not id_column or id_column not in in_training or id_column not in schema:
        return None
    compared = [
        (f.name, f.type) for f in case.features if f.name in in_training and f.name in schema
    ]
    join = compare_rows
    training = training_table(case) or training_files(case) or case.training
    if table is not None or training_table(case) is not None:  # a side in Spark: Spark joins
        from prodready.engine.rows_spark import compare_rows_spark as join
    found = join(
        training,
        table or files,
        id_column=id_column,
        timestamp=case.columns.timestamp,
        features=compared,
        rtol=rtol,
        atol=atol,
        examples=examples,
        seed=seed,
        max_pairs=MAX_PAIRS,
        factors=hint_factors(),
        tolerance=HINT_TOLERANCE,
        min_ratios=HINT_MIN_PAIRS,
    )
    if found is None:
        return None
    n = found.joined
    rows = []
    for feature in case.features:
        name = feature.name
        if name not in found.features.index:
            absent = [
                label
                for label, present in (
                    ("training data", name in in_training),
                    ("serving log", name in schema),
                )
                if not present
            ]
            note = (
                f"{name} is not in the {' or the '.join(absent)}, so its values cannot be compared"
            )
            rows.append(_empty_row(name, n, note))
            continue
        got = found.features.loc[name]
        matches = int(got["matches"])
        row = {
            "feature": name,
            "compared": n,
            "matches": matches,
            "mismatches": n - matches,
            "match_rate": matches / n,
            "mismatch_rate": (n - matches) / n,
            "missing_only_training": int(got["missing_only_training"]),
            "missing_only_serving": int(got["missing_only_serving"]),
            "median_ratio": math.nan,
            "unit_hint": "",
            "note": "",
        }
        if feature.type == "numeric" and int(got["ratios"]):
            row["median_ratio"] = float(got["median_ratio"])
            counts = found.ratio_counts.get(name, {})
            row["unit_hint"] = hint_from_counts(
                lambda factor, counts=counts: counts.get(float(factor), 0),
                ratios=int(got["ratios"]),
                pairs=int(got["differ"]),
                median=float(got["median_ratio"]),
                feature=name,
            )
        rows.append(row)
    table = pd.DataFrame(rows or [_empty_row("", 0, "")]).set_index("feature")
    table = table.iloc[: len(rows)]
    for column in (
        "compared",
        "matches",
        "mismatches",
        "missing_only_training",
        "missing_only_serving",
    ):
        table[column] = table[column].astype("int64")
    for column in ("match_rate", "mismatch_rate", "median_ratio"):
        table[column] = table[column].astype("float64")
    for column in ("unit_hint", "note"):
        table[column] = table[column].astype("str")
    examples_frame = found.examples
    if len(examples_frame):
        examples_frame = examples_frame.assign(
            training=[_text(v) for v in examples_frame["training"]],
            serving=[_text(v) for v in examples_frame["serving"]],
        )
    return RowSkew(
        joined=n,
        only_training=found.only_training,
        only_serving=found.only_serving,
        features=table,
        examples=_concat(
            [examples_frame],
            {"feature": "str", "id": "str", "training": "str", "serving": "str"},
        ),
        pairs=_concat(
            [found.pairs], {"feature": "str", "training": "float64", "serving": "float64"}
        ),
    )


def _one_sided(case: Case, train_ids: pd.Series, serve_ids: pd.Series) -> tuple[int, int]:
    """Ids in one set only, counted inside the time span both sets cover."""
    ts = case.columns.timestamp
    t_time, s_time = case.training[ts], case.serving[ts]
    start = max(t_time.min(), s_time.min())
    end = min(t_time.max(), s_time.max())
    if start > end:  # the sets do not overlap in time: nothing is expected in both
        return 0, 0
    in_train = ((t_time >= start) & (t_time <= end)).to_numpy()
    in_serve = ((s_time >= start) & (s_time <= end)).to_numpy()
    only_training = int((~_isin(train_ids[in_train], serve_ids)).sum())
    only_serving = int((~_isin(serve_ids[in_serve], train_ids)).sum())
    return only_training, only_serving


def _isin(values: pd.Series, among: pd.Series) -> np.ndarray:
    """Whether each id is among ``among``: pyarrow's hash lookup (pandas' own ``isin`` on the
    ``str`` dtype builds a Python list of every value, 100 times slower)."""
    found = pc.is_in(
        pa.array(values.to_numpy(dtype=object)), pa.array(among.to_numpy(dtype=object))
    )
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)


def _concat(parts: list[pd.DataFrame], dtypes: dict[str, str]) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=d) for c, d in dtypes.items()})
    return pd.concat(parts, ignore_index=True).astype(dtypes)


def _empty_row(name: str, compared: int, note: str) -> dict[str, Any]:
    return {
        "feature": name,
        "compared": compared,
        "matches": 0,
        "mismatches": 0,
        "match_rate": math.nan,
        "mismatch_rate": math.nan,
        "missing_only_training": 0,
        "missing_only_serving": 0,
        "median_ratio": math.nan,
        "unit_hint": "",
        "note": note,
    }


def _as_numbers(values: pd.Series) -> np.ndarray | None:
    """Float values, or None when some present value is not a number."""
    numbers = pd.to_numeric(values, errors="coerce")
    if (numbers.isna() & values.notna()).any():
        return None
    return numbers.to_numpy(dtype="float64", na_value=np.nan)


def _compare_feature(
    feature: Feature,
    joined: pd.DataFrame,
    training: pd.DataFrame,
    serving: pd.DataFrame,
    *,
    rtol: float,
    atol: float,
    k: int,
    rng: np.random.Generator,
) -> tuple[dict[str, Any], pd.DataFrame, pd.DataFrame]:
    name = feature.name
    empty = pd.DataFrame()
    absent = [
        label
        for label, frame in (("training data", training), ("serving log", serving))
        if name not in frame
    ]
    if absent:
        note = f"{name} is not in the {' or the '.join(absent)}, so its values cannot be compared"
        return _empty_row(name, len(joined), note), empty, empty
    t_raw, s_raw = joined[f"{name}__training"], joined[f"{name}__serving"]
    t_missing = t_raw.isna().to_numpy()
    s_missing = s_raw.isna().to_numpy()
    note = ""
    t_num = s_num = None
    if feature.type == "numeric":
        t_num, s_num = _as_numbers(t_raw), _as_numbers(s_raw)
        if t_num is None or s_num is None:
            side = "training data" if t_num is None else "serving log"
            note = f"{name} holds text that is not a number in the {side}: compared as text"
            t_num = s_num = None
    if t_num is not None and s_num is not None:
        with np.errstate(invalid="ignore"):
            equal = np.isclose(s_num, t_num, rtol=rtol, atol=atol, equal_nan=True)
    else:
        t_text = t_raw.astype("str").to_numpy(dtype=object)
        s_text = s_raw.astype("str").to_numpy(dtype=object)
        equal = (t_missing & s_missing) | (~t_missing & ~s_missing & (t_text == s_text))
    equal = equal & ~(t_missing ^ s_missing)
    mismatched = ~equal
    n = len(joined)
    matches = int(equal.sum())
    row = {
        "feature": name,
        "compared": n,
        "matches": matches,
        "mismatches": n - matches,
        "match_rate": matches / n if n else math.nan,
        "mismatch_rate": (n - matches) / n if n else math.nan,
        "missing_only_training": int((t_missing & ~s_missing).sum()),
        "missing_only_serving": int((s_missing & ~t_missing).sum()),
        "median_ratio": math.nan,
        "unit_hint": "",
        "note": note,
    }
    pairs = empty
    if t_num is not None and s_num is not None:
        both = ~t_missing & ~s_missing
        differ = mismatched & both
        ratio_rows = differ & (t_num != 0) & (s_num != 0)
        with np.errstate(invalid="ignore", over="ignore"):
            ratios = s_num[ratio_rows] / t_num[ratio_rows]
        ratios = ratios[np.isfinite(ratios)]
        if ratios.size:
            row["median_ratio"] = float(np.median(ratios))
            row["unit_hint"] = unit_hint(ratios, name, pairs=int(differ.sum()))
        kept = np.flatnonzero(both & np.isfinite(t_num) & np.isfinite(s_num))
        if kept.size > MAX_PAIRS:
            kept = np.sort(rng.choice(kept, size=MAX_PAIRS, replace=False))
        pairs = pd.DataFrame({"feature": name, "training": t_num[kept], "serving": s_num[kept]})
    chosen = np.flatnonzero(mismatched)
    if chosen.size > k:
        chosen = np.sort(rng.choice(chosen, size=max(k, 0), replace=False))
    example = pd.DataFrame(
        {
            "feature": name,
            "id": joined["_id"].to_numpy()[chosen],
            "training": [_text(v) for v in t_raw.to_numpy()[chosen]],
            "serving": [_text(v) for v in s_raw.to_numpy()[chosen]],
        }
    )
    return row, example, pairs


def _text(value: Any) -> str:
    """A value as a person reads it: ``missing`` for none, numbers without float noise."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "missing"
    if isinstance(value, float | np.floating):
        return f"{float(value):.10g}"
    return str(value)


def format_factor(ratio: float) -> str:
    """0.621, 1.61, 0.001, 1,000: three significant digits, thousands separated."""
    if abs(ratio) >= 100:
        return f"{ratio:,.0f}"
    return f"{ratio:.3g}"


def unit_hint(ratios: np.ndarray, feature: str = "", *, pairs: int | None = None) -> str:
    """Name the conversion behind serving / training ``ratios``, or ``""`` if none shows.

    ``pairs`` is the number of mismatched pairs with both values present (default: the number
    of ratios); pairs with a zero have no ratio but still count, so a count that went from 1 to
    0 never looks like a scaling. A known unit factor wins when at least 80% of the pairs have
    a ratio within 1% of it; when several
    conversions share that factor, the one whose from-unit appears in the ``feature`` name is
    named (``distance_km``: km), otherwise up to three are listed. Failing that, a constant
    ratio (80% within 1% of the median, the median not within 1% of 1) is reported as a
    scaling that differs between the pipelines.
    """
    ratios = np.asarray(ratios, dtype="float64")
    ratios = ratios[np.isfinite(ratios)]
    if ratios.size < HINT_MIN_PAIRS:
        return ""

    def near(factor: float) -> int:
        return int(np.count_nonzero(np.abs(ratios / factor - 1) <= HINT_TOLERANCE))

    return hint_from_counts(
        near,
        ratios=ratios.size,
        pairs=pairs,
        median=float(np.median(ratios)),
        feature=feature,
    )


def hint_factors() -> list[float]:
    """The known unit factors :func:`unit_hint` tries, in its order."""
    return sorted({c[0] for c in _CONVERSIONS})


def hint_from_counts(
    near: Callable[[float], int],
    *,
    ratios: int,
    pairs: int | None,
    median: float,
    feature: str = "",
) -> str:
    """:func:`unit_hint` from counts: ``near(factor)`` = ratios within 1% of ``factor``,
    ``ratios`` = their number, ``median`` = their median (an engine counts them in SQL)."""
    total = max(int(pairs) if pairs is not None else ratios, ratios)
    if ratios < HINT_MIN_PAIRS:
        return ""
    tokens = set(re.split(r"[^a-z0-9]+", feature.lower())) - {""}
    for factor in hint_factors():
        share = near(factor) / total
        if share < HINT_SHARE:
            continue
        options = [c for c in _CONVERSIONS if c[0] == factor]
        named = [c for c in options if tokens & set(c[3])] or options
        words = " or ".join(f"{c[1]} to {c[2]}" for c in named[:3])
        return f"serving / training ≈ {format_factor(factor)}: looks like {words}"
    if abs(median - 1) <= HINT_TOLERANCE or median == 0:
        return ""
    if near(median) / total >= HINT_SHARE:
        return (
            f"serving is a constant x{format_factor(median)} of training: a scaling differs "
            "between the pipelines"
        )
    return ""
