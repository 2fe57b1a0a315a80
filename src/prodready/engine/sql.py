"""The one definition of a profile in SQL, shared by the DuckDB and Spark engines.

Both SQL engines produce exactly what :mod:`prodready.engine.numpy_engine` produces, from the
same SQL text: this module builds the queries (small functions returning SQL strings) and turns
their small results (one row per group and bin, per group and label) into profiles. Only two
things differ per dialect and live in the engines:

* how a value finds its bin (DuckDB: an ``ASOF JOIN`` on the bins' right edges; Spark:
  ``pyspark.ml.feature.Bucketizer`` on the negated values, see ``spark_engine``), i.e. the
  relation ``binned(g, j, x, e, anchor)`` that :func:`bin_counts_sql` aggregates;
* how identifiers are quoted (:class:`Dialect`).

Every value is read as ``CAST(column AS DOUBLE)``; ``NULL`` and ``NaN`` are missing, ``+/-inf``
are ``nonfinite`` and stay out of the bins, as in the numpy engine. ``m2`` is computed in a
second pass (sum of squared deviations from the group's mean), never as ``sum(x^2) - n mean^2``.

Layouts need the reference's exact order statistics and ``np.std`` to the last bit. A SQL engine
streams the sorted finite values once (:func:`numeric_layout_from_sorted`), picks the order
statistics at :func:`~prodready.engine.layout.layout_positions` and reproduces numpy's pairwise
summation (:class:`PairwiseSum`), then streams them a second time for the squared deviations:
the layout is then bit-identical to :func:`~prodready.engine.layout.numeric_layout`'s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd
import pyarrow as pa

from prodready.engine.layout import (
    CategoricalLayout,
    Layout,
    NumericLayout,
    layout_positions,
    numeric_layout_from_sorted_positions,
)
from prodready.engine.profile import CategoricalProfile, NumericProfile, Profile
from prodready.errors import ParameterError
from prodready.stats.drift import _require_two

__all__ = [
    "DUCKDB",
    "FREQUENCIES",
    "SPARK",
    "Dialect",
    "PairwiseSum",
    "SqlBackend",
    "bin_counts_sql",
    "bins_table",
    "categorical_counts_sql",
    "categorical_layout_from_counts",
    "categorical_profiles",
    "compute_layouts",
    "compute_profiles",
    "numeric_layout_from_sorted",
    "numeric_profiles",
    "numeric_stats_sql",
    "numeric_values_sql",
    "rows_sql",
]

FREQUENCIES = {"MS": "month", "D": "day"}
"""``freq`` -> the ``date_trunc`` unit (calendar month or day, in the session's UTC)."""

INF = "CAST('Infinity' AS DOUBLE)"
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class Dialect:
    """What differs in the SQL text itself between engines: identifier quoting."""

    name: str
    quote_char: str

    def quote(self, identifier: str) -> str:
        q = self.quote_char
        return q + str(identifier).replace(q, q + q) + q


DUCKDB = Dialect("duckdb", '"')
SPARK = Dialect("spark", "`")


# --------------------------------------------------------------------------------------------
# SQL text


def is_finite(x: str = "x") -> str:
    return f"({x} IS NOT NULL AND NOT isnan({x}) AND abs({x}) <> {INF})"


def is_missing(x: str = "x") -> str:
    return f"({x} IS NULL OR isnan({x}))"


def is_infinite(x: str = "x") -> str:
    return f"(abs({x}) = {INF})"


def group_sql(dialect: Dialect, by: str | None, freq: str) -> str:
    """The group key: the period start of ``by`` (UTC session time zone), or 0 for the whole."""
    if by is None:
        return "0"
    return f"date_trunc('{FREQUENCIES[freq]}', {dialect.quote(by)})"


def _timed(dialect: Dialect, by: str | None) -> str:
    return "" if by is None else f" WHERE {dialect.quote(by)} IS NOT NULL"


def numeric_values_sql(
    dialect: Dialect, table: str, column: str, by: str | None, freq: str = "MS"
) -> str:
    """``(g, x)``: each row's group and value as a double (rows without a time left out)."""
    return (
        f"SELECT {group_sql(dialect, by, freq)} AS g, CAST({dialect.quote(column)} AS DOUBLE) AS x"
        f" FROM {table}{_timed(dialect, by)}"
    )


def numeric_stats_sql(values: str) -> str:
    """Per group: missing, nonfinite, n, minimum, maximum, mean, and m2 in a second pass."""
    finite = is_finite("x")
    return f"""
WITH v AS ({values}),
s AS (
  SELECT g,
    COUNT(CASE WHEN {is_missing("x")} THEN 1 END) AS missing,
    COUNT(CASE WHEN {is_infinite("x")} THEN 1 END) AS nonfinite,
    COUNT(CASE WHEN {finite} THEN 1 END) AS n,
    MIN(CASE WHEN {finite} THEN x END) AS minimum,
    MAX(CASE WHEN {finite} THEN x END) AS maximum,
    AVG(CASE WHEN {finite} THEN x END) AS mean
  FROM v GROUP BY g
),
d AS (
  SELECT v.g AS g, SUM((v.x - s.mean) * (v.x - s.mean)) AS m2
  FROM v JOIN s ON v.g = s.g
  WHERE {is_finite("v.x")}
  GROUP BY v.g
)
SELECT s.g AS g, s.missing AS missing, s.nonfinite AS nonfinite, s.n AS n,
  s.minimum AS minimum, s.maximum AS maximum, s.mean AS mean, d.m2 AS m2
FROM s LEFT JOIN d ON s.g = d.g"""


def finite_values_sql(values: str) -> str:
    """The finite values of ``values`` (``g, x``)."""
    return f"SELECT g, x FROM ({values}) AS v WHERE {is_finite('x')}"


def bin_counts_sql(binned: str) -> str:
    """Per group and bin: values, values on the bin's right edge, and their sum of
    ``x - anchor``. ``binned`` yields ``g, j`` (bin), ``x``, ``e`` (the bin's right edge,
    +inf for the last) and ``anchor`` (``edges[max(j - 1, 0)]``)."""
    return f"""
SELECT g, j, COUNT(*) AS values_in_bin,
  COUNT(CASE WHEN x = e THEN 1 END) AS on_edge,
  SUM(x - anchor) AS offset_sum
FROM {binned} GROUP BY g, j"""


def categorical_counts_sql(
    dialect: Dialect, table: str, column: str, by: str | None, freq: str = "MS"
) -> str:
    """Per group and label (as stored, NULL included): the number of rows."""
    col = dialect.quote(column)
    return (
        f"SELECT {group_sql(dialect, by, freq)} AS g, {col} AS label, COUNT(*) AS rows_with_label"
        f" FROM {table}{_timed(dialect, by)} GROUP BY 1, 2"
    )


def rows_sql(dialect: Dialect, table: str, by: str | None) -> str:
    timed = "COUNT(*)" if by is None else f"COUNT({dialect.quote(by)})"
    return f"SELECT COUNT(*) AS total_rows, {timed} AS timed_rows FROM {table}"


def finite_count_sql(values: str) -> str:
    return f"SELECT COUNT(*) AS n FROM ({finite_values_sql(values)}) AS f"


def sorted_finite_sql(values: str) -> str:
    return f"SELECT x FROM ({finite_values_sql(values)}) AS f ORDER BY x"


def bins_table(layout: NumericLayout) -> pa.Table:
    """One row per bin ``j = 0..len(edges)``: its right edge ``e`` (+inf for the last bin) and
    ``anchor``. Bin ``j`` holds ``(e[j-1], e[j]]``: the smallest right edge ``>= x``."""
    edges = layout.edges
    return pa.table(
        {
            "j": pa.array(np.arange(edges.size + 1, dtype=np.int64)),
            "e": pa.array(np.append(edges, np.inf)),
            "anchor": pa.array(np.concatenate((edges[:1], edges))),
        }
    )


# --------------------------------------------------------------------------------------------
# Results -> profiles


def group_key(value: Any) -> pd.Timestamp | None:
    """A group value from SQL -> the numpy engine's key (UTC ``pd.Timestamp``; None: whole)."""
    if value is None or (isinstance(value, int | np.integer) and not isinstance(value, bool)):
        return None
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _groups(column: pa.ChunkedArray | pa.Array) -> list[pd.Timestamp | None]:
    if pa.types.is_timestamp(column.type):
        return [group_key(v) for v in column.to_pandas()]
    return [group_key(v) for v in column.to_pylist()]


def _floats(column) -> np.ndarray:
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)


def numeric_profiles(
    layout: NumericLayout, stats: pa.Table, bins: pa.Table
) -> dict[pd.Timestamp | None, NumericProfile]:
    """Profiles per group from :func:`numeric_stats_sql` and :func:`bin_counts_sql` results."""
    size = layout.edges.size + 1
    stat_groups = _groups(stats.column("g"))
    at = {g: i for i, g in enumerate(stat_groups)}
    counts = np.zeros((len(at), size), dtype=np.int64)
    on_edge = np.zeros((len(at), size), dtype=np.int64)
    offsets = np.zeros((len(at), size), dtype=np.float64)
    if bins.num_rows:
        rows = np.array([at[g] for g in _groups(bins.column("g"))], dtype=np.int64)
        j = np.asarray(bins.column("j").to_numpy(zero_copy_only=False), dtype=np.int64)
        counts[rows, j] = np.asarray(bins.column("values_in_bin").to_numpy(), dtype=np.int64)
        on_edge[rows, j] = np.asarray(bins.column("on_edge").to_numpy(), dtype=np.int64)
        offsets[rows, j] = _floats(bins.column("offset_sum"))
    n = stats.column("n").to_pylist()
    missing = stats.column("missing").to_pylist()
    nonfinite = stats.column("nonfinite").to_pylist()
    floats = {k: _floats(stats.column(k)) for k in ("minimum", "maximum", "mean", "m2")}
    out = {}
    for g, i in at.items():
        empty = n[i] == 0
        out[g] = NumericProfile(
            layout=layout,
            counts=counts[i],
            interior=counts[i] - on_edge[i],
            offsets=offsets[i],
            n=int(n[i]),
            missing=int(missing[i]),
            nonfinite=int(nonfinite[i]),
            minimum=np.nan if empty else float(floats["minimum"][i]),
            maximum=np.nan if empty else float(floats["maximum"][i]),
            mean=np.nan if empty else float(floats["mean"][i]),
            m2=np.nan if empty else float(floats["m2"][i]),
        )
    return out


def _integer_dtypes() -> dict[pa.DataType, Any]:
    return {
        pa.int8(): pd.Int8Dtype(),
        pa.int16(): pd.Int16Dtype(),
        pa.int32(): pd.Int32Dtype(),
        pa.int64(): pd.Int64Dtype(),
        pa.uint8(): pd.UInt8Dtype(),
        pa.uint16(): pd.UInt16Dtype(),
        pa.uint32(): pd.UInt32Dtype(),
        pa.uint64(): pd.UInt64Dtype(),
        pa.bool_(): pd.BooleanDtype(),
    }


def label_text(labels: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Labels as the numpy engine's text (``str`` of the pandas value) and a missing mask.

    Text stays as it is; integers read as pandas' nullable integers (``"1"``, as pandas reads
    a pandas-written Parquet file, also when the column has missing values); booleans as
    ``"True"``/``"False"``; floats as numpy prints them (``"1.5"``); NaN is missing. Other
    types are converted as pyarrow converts them to pandas, then ``str``."""
    mapping = _integer_dtypes()
    array = labels.combine_chunks() if isinstance(labels, pa.ChunkedArray) else labels
    if isinstance(array.type, pa.DictionaryType):
        array = array.dictionary_decode()
    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        missing = np.asarray(array.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        text = np.asarray(array.fill_null("").to_numpy(zero_copy_only=False), dtype=object)
        return text, missing
    series = pa.table({"label": array}).to_pandas(types_mapper=mapping.get)["label"]
    missing = series.isna().to_numpy()
    text = np.empty(len(series), dtype=object)
    present = ~missing
    if present.any():
        text[present] = pd.Index(series[present]).map(str).to_numpy(dtype=object)
    text[missing] = ""
    return text, missing


def _label_counts(counts: pa.Table) -> pd.DataFrame:
    """group, label text, count (missing labels: text None), summed over equal text."""
    text, missing = label_text(counts.column("label"))
    frame = pd.DataFrame(
        {
            "g": pd.Series(_groups(counts.column("g")), dtype=object),
            "label": pd.Series(np.where(missing, None, text), dtype=object),
            "count": np.asarray(counts.column("rows_with_label").to_numpy(), dtype=np.int64),
        }
    )
    return frame


def categorical_profiles(
    layout: CategoricalLayout, counts: pa.Table
) -> dict[pd.Timestamp | None, CategoricalProfile]:
    """Profiles per group from :func:`categorical_counts_sql` results."""
    frame = _label_counts(counts)
    k = len(layout.categories)
    keys = list(dict.fromkeys(frame["g"]))
    codes = frame["g"].map({g: i for i, g in enumerate(keys)}.__getitem__).to_numpy()
    out = {}
    for code, g in enumerate(keys):
        part = frame[codes == code]
        missing_rows = part["label"].isna().to_numpy()
        present = part[~missing_rows]
        positions = layout.index.get_indexer(pd.Index(present["label"], dtype=object))
        known = positions >= 0
        aligned = np.bincount(
            positions[known], weights=present["count"].to_numpy()[known], minlength=k
        ).astype(np.int64)
        n = int(present["count"].sum())
        out[g] = CategoricalProfile(
            layout=layout,
            counts=aligned,
            other=n - int(aligned.sum()),
            missing=int(part["count"].to_numpy()[missing_rows].sum()),
            n=n,
        )
    return out


def categorical_layout_from_counts(counts: pa.Table, max_categories: int) -> CategoricalLayout:
    """The same layout as :func:`~prodready.engine.layout.categorical_layout` from label counts
    (one group): labels as text, most frequent first (ties by label)."""
    if max_categories < 1:
        raise ParameterError("max_categories must be at least 1", found=str(max_categories))
    frame = _label_counts(counts)
    frame = frame[frame["label"].notna()]
    summed = frame.groupby("label", sort=False)["count"].sum()
    n = int(summed.sum())
    _require_two(n, "reference")
    table = pd.DataFrame({"label": summed.index.astype(object), "count": summed.to_numpy()})
    table = table.sort_values(["count", "label"], ascending=[False, True], kind="stable")
    labels = tuple(table["label"].iloc[:max_categories])
    return CategoricalLayout(categories=labels, complete=len(table) <= max_categories, n=n)


# --------------------------------------------------------------------------------------------
# Exact layouts from sorted streams


_BLOCK = 128  # numpy's PW_BLOCKSIZE


def _pairwise_plan(n: int) -> tuple[np.ndarray, np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
    """numpy's pairwise-summation tree for ``n`` values: the leaves (starts and lengths, in
    order) and, per level from the root, which segments are leaves (their leaf number) and
    which split (-1)."""
    starts = np.array([0], dtype=np.int64)
    lengths = np.array([n], dtype=np.int64)
    levels: list[tuple[np.ndarray, np.ndarray]] = []
    leaf_starts, leaf_lengths = [], []
    while starts.size:
        leaf = lengths <= _BLOCK
        levels.append((starts, leaf))
        leaf_starts.append(starts[leaf])
        leaf_lengths.append(lengths[leaf])
        s, ln = starts[~leaf], lengths[~leaf]
        half = ln // 2
        half -= half % 8
        starts = np.column_stack((s, s + half)).ravel()
        lengths = np.column_stack((half, ln - half)).ravel()
    all_starts = np.concatenate(leaf_starts)
    order = np.argsort(all_starts, kind="stable")
    return all_starts[order], np.concatenate(leaf_lengths)[order], levels


def _leaf_sums(block: np.ndarray) -> np.ndarray:
    """numpy's pairwise leaf (8 accumulators, then the tail) on each row of ``block``."""
    rows, length = block.shape
    if length < 8:
        result = np.zeros(rows)
        for i in range(length):
            result = result + block[:, i]
        return result
    r = block[:, :8].copy()
    whole = length - length % 8
    for i in range(8, whole, 8):
        r += block[:, i : i + 8]
    result = ((r[:, 0] + r[:, 1]) + (r[:, 2] + r[:, 3])) + (
        (r[:, 4] + r[:, 5]) + (r[:, 6] + r[:, 7])
    )
    for i in range(whole, length):
        result = result + block[:, i]
    return result


class PairwiseSum:
    """``np.add.reduce`` of ``n`` float64 values fed in order, in chunks of any size, bit for
    bit: numpy sums a contiguous array by pairwise summation (blocks of 128 values with 8
    accumulators, halves split at multiples of 8), which this replays."""

    def __init__(self, n: int) -> None:
        self.n = int(n)
        self._starts, self._lengths, self._levels = _pairwise_plan(self.n)
        self._sums = np.zeros(self._starts.size)
        self._next = 0  # first leaf not summed yet
        self._pending = np.empty(0)
        self._offset = 0  # position of _pending[0]

    def add(self, chunk: np.ndarray) -> None:
        buffer = np.concatenate((self._pending, np.asarray(chunk, dtype=np.float64)))
        end = self._offset + buffer.size
        stop = int(np.searchsorted(self._starts + self._lengths, end, side="right"))
        if stop > self._next:
            starts = self._starts[self._next : stop] - self._offset
            lengths = self._lengths[self._next : stop]
            sums = np.empty(stop - self._next)
            for length in np.unique(lengths):
                which = np.flatnonzero(lengths == length)
                block = buffer[starts[which, None] + np.arange(length)]
                sums[which] = _leaf_sums(block)
            self._sums[self._next : stop] = sums
            consumed = int(starts[-1] + lengths[-1])
            self._next = stop
        else:
            consumed = 0
        self._pending = buffer[consumed:].copy()
        self._offset += consumed

    def total(self) -> float:
        if self._next != self._starts.size or self._pending.size:
            raise ParameterError(
                "the sorted values streamed do not add up to the count expected",
                expected=f"{self.n:,} values",
                found=f"{self._offset + self._pending.size:,}",
                fix="the data changed while it was read; run again",
            )
        below: np.ndarray | None = None  # values of the level below, in order
        for starts, leaf in reversed(self._levels):
            values = np.empty(starts.size)
            values[leaf] = self._sums[np.searchsorted(self._starts, starts[leaf])]
            if below is not None:
                values[~leaf] = below[0::2] + below[1::2]
            below = values
        assert below is not None
        return float(below[0])


def numeric_layout_from_sorted(
    n: int, batches: Callable[[], Iterable[np.ndarray]]
) -> NumericLayout:
    """The layout of ``n`` finite values given in ascending order by ``batches()`` (called
    twice: order statistics and the sum, then the squared deviations): bit-identical to
    :func:`~prodready.engine.layout.numeric_layout` of the same values, ``std`` included."""
    _require_two(int(n), "reference")
    positions = layout_positions(n)
    picked = np.empty(positions.size)
    total = PairwiseSum(n)
    seen = 0
    for chunk in batches():
        chunk = np.asarray(chunk, dtype=np.float64)
        lo, hi = np.searchsorted(positions, [seen, seen + chunk.size])
        picked[lo:hi] = chunk[positions[lo:hi] - seen]
        total.add(chunk)
        seen += chunk.size
    mean = total.total() / n
    squares = PairwiseSum(n)
    for chunk in batches():
        deviations = np.asarray(chunk, dtype=np.float64) - mean
        squares.add(deviations * deviations)
    std = float(np.sqrt(squares.total() / n))
    return numeric_layout_from_sorted_positions(
        n, positions, picked, float(picked[0]), float(picked[-1]), std
    )


# --------------------------------------------------------------------------------------------
# The shared driver


class SqlBackend(Protocol):
    """What an engine gives the shared driver: its dialect, a query runner and binning."""

    dialect: Dialect
    table: str  # the data, as a name usable in FROM

    def query(self, sql: str) -> pa.Table: ...

    def binned(self, finite_values: str, layout: NumericLayout) -> str:
        """A FROM item yielding ``g, j, x, e, anchor`` for the finite values ``(g, x)``."""
        ...

    def sorted_batches(self, sql: str) -> Iterator[np.ndarray]: ...


def _tick(progress: Progress | None, fraction: float, message: str) -> None:
    if progress is not None:
        progress(min(max(float(fraction), 0.0), 1.0), message)


def compute_profiles(
    backend: SqlBackend,
    layouts: Mapping[str, Layout],
    *,
    by: str | None,
    freq: str,
    progress: Progress | None,
    for_column: Callable[[Exception, str], Exception],
) -> tuple[dict[tuple[Any, str], Profile], dict[str, int]]:
    """All profiles (per group and column) and the row counts for the source."""
    dialect, table = backend.dialect, backend.table
    _tick(progress, 0.0, "counting rows")
    rows = backend.query(rows_sql(dialect, table, by)).to_pylist()[0]
    counts = {"rows": int(rows["total_rows"]), "timed": int(rows["timed_rows"])}
    profiles: dict[tuple[Any, str], Profile] = {}
    total = max(len(layouts), 1)
    for i, (name, layout) in enumerate(layouts.items()):
        _tick(progress, i / total, f"profiling column {name!r} ({i + 1} of {len(layouts)})")
        try:
            if isinstance(layout, NumericLayout):
                values = numeric_values_sql(dialect, table, name, by, freq)
                stats = backend.query(numeric_stats_sql(values))
                bins = backend.query(
                    bin_counts_sql(backend.binned(finite_values_sql(values), layout))
                )
                found: Mapping[Any, Profile] = numeric_profiles(layout, stats, bins)
            else:
                found = categorical_profiles(
                    layout, backend.query(categorical_counts_sql(dialect, table, name, by, freq))
                )
        except ParameterError as err:
            raise for_column(err, name) from err
        for group, profile in found.items():
            profiles[(group, name)] = profile
    _tick(progress, 1.0, f"profiled {len(layouts)} columns")
    return profiles, counts


def compute_layouts(
    backend: SqlBackend,
    numeric: Sequence[str],
    categorical: Sequence[str],
    *,
    max_categories: int,
    progress: Progress | None,
    for_column: Callable[[Exception, str], Exception],
) -> dict[str, Layout]:
    """Layouts of the listed columns (numeric first, then categorical), as ``layouts_for``."""
    dialect, table = backend.dialect, backend.table
    names = [*numeric, *categorical]
    out: dict[str, Layout] = {}
    for i, name in enumerate(names):
        _tick(progress, i / max(len(names), 1), f"layout of column {name!r}")
        try:
            if name in numeric:
                values = numeric_values_sql(dialect, table, name, None)
                n = int(backend.query(finite_count_sql(values)).column("n")[0].as_py())
                _require_two(n, "reference")
                ordered = sorted_finite_sql(values)
                out[name] = numeric_layout_from_sorted(
                    n, lambda ordered=ordered: backend.sorted_batches(ordered)
                )
            else:
                counts = backend.query(categorical_counts_sql(dialect, table, name, None))
                out[name] = categorical_layout_from_counts(counts, max_categories)
        except ParameterError as err:
            raise for_column(err, name) from err
    _tick(progress, 1.0, f"built {len(names)} layouts")
    return out
