"""The one definition of a profile in SQL, shared by the DuckDB and Spark engines.

Both SQL engines produce what :mod:`prodready.engine.numpy_engine` produces, from the same SQL
text: this module builds the queries (small functions returning SQL strings) and turns their
small results (one row per group and bin, per group and label) into profiles. Only two things
differ per dialect and live in the engines:

* how a value finds its bin (DuckDB: an ``ASOF JOIN`` on the bins' right edges; Spark:
  ``pyspark.ml.feature.Bucketizer`` on the negated values, see ``spark_engine``), i.e. the
  relation ``binned(c, g, j, x, e, anchor)`` that :func:`bin_counts_sql` aggregates;
* how identifiers are quoted (:class:`Dialect`).

Every value is read as ``CAST(column AS DOUBLE)``; ``NULL`` and ``NaN`` are missing, ``+/-inf``
are ``nonfinite`` and stay out of the bins, as in the numpy engine. The numeric columns are
profiled together: a first scan for the moments (:func:`numeric_stats_sql`), a second for the
bins and ``m2`` (sum of squared deviations from the group's mean, joined in from the first
scan; never ``sum(x^2) - n mean^2``).

Layouts need the reference's exact order statistics and ``np.std`` to the last bit. A SQL engine
streams the sorted finite values (:class:`LayoutBuilder`), picks the order statistics at
:func:`~prodready.engine.layout.layout_positions` and replays numpy's pairwise summation
(:class:`PairwiseSum`) for the mean and the squared deviations: the layout is then
bit-identical to :func:`~prodready.engine.layout.numeric_layout`'s.
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
    for_column,
    layout_positions,
    numeric_layout_from_sorted_positions,
)
from prodready.engine.profile import CategoricalProfile, NumericProfile, Profile
from prodready.errors import ParameterError
from prodready.stats.drift import _require_two

__all__ = [
    "CATEGORICAL_COLUMNS_PER_QUERY",
    "DUCKDB",
    "FREQUENCIES",
    "KEEP_SORTED",
    "SPARK",
    "Dialect",
    "LayoutBuilder",
    "PairwiseSum",
    "SqlBackend",
    "bin_counts_sql",
    "bins_table",
    "categorical_counts",
    "categorical_counts_sql",
    "categorical_layout_from_counts",
    "categorical_profiles",
    "compute_layouts",
    "compute_profiles",
    "counts_of",
    "finite_counts_sql",
    "long_finite_sql",
    "means_table",
    "numeric_layout_from_sorted",
    "numeric_profiles",
    "numeric_stats_sql",
    "rows_sql",
    "sorted_finite_sql",
    "wide_values_sql",
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


def wide_values_sql(
    dialect: Dialect, table: str, columns: Sequence[str], by: str | None, freq: str = "MS"
) -> str:
    """``g, x0, x1, ...``: each row's group and the numeric columns as doubles (``x{c}`` for
    ``columns[c]``; rows without a time left out)."""
    values = ", ".join(
        f"CAST({dialect.quote(name)} AS DOUBLE) AS x{c}" for c, name in enumerate(columns)
    )
    return f"SELECT {group_sql(dialect, by, freq)} AS g, {values} FROM {table}{_timed(dialect, by)}"


def numeric_stats_sql(wide: str, count: int) -> str:
    """Per group, for each numeric column ``c`` of :func:`wide_values_sql`, in one scan:
    ``missing{c}``, ``nonfinite{c}``, ``n{c}``, ``minimum{c}``, ``maximum{c}``, ``mean{c}``.
    (``m2`` comes with the bins, in the second scan: :func:`bin_counts_sql`.)"""
    parts = []
    for c in range(count):
        x, finite = f"x{c}", is_finite(f"x{c}")
        parts += [
            f"COUNT(CASE WHEN {is_missing(x)} THEN 1 END) AS missing{c}",
            f"COUNT(CASE WHEN {is_infinite(x)} THEN 1 END) AS nonfinite{c}",
            f"COUNT(CASE WHEN {finite} THEN 1 END) AS n{c}",
            f"MIN(CASE WHEN {finite} THEN {x} END) AS minimum{c}",
            f"MAX(CASE WHEN {finite} THEN {x} END) AS maximum{c}",
            f"AVG(CASE WHEN {finite} THEN {x} END) AS mean{c}",
        ]
    sep = ",\n  "
    return f"SELECT g,\n  {sep.join(parts)}\nFROM ({wide}) AS v GROUP BY g"


def means_table(stats: pa.Table, count: int) -> pa.Table:
    """``c, g, mean`` of every column and group with finite values, from
    :func:`numeric_stats_sql`'s result: what the second scan subtracts."""
    cs, gs, means = [], [], []
    for c in range(count):
        n = np.asarray(stats.column(f"n{c}").to_numpy(zero_copy_only=False), dtype=np.int64)
        keep = pa.array(n > 0)
        cs.append(np.full(int(np.count_nonzero(n > 0)), c, dtype=np.int64))
        gs.append(stats.column("g").filter(keep))
        means.append(stats.column(f"mean{c}").filter(keep))
    g_type = stats.schema.field("g").type
    return pa.table(
        {
            "c": pa.array(np.concatenate(cs) if cs else np.empty(0, dtype=np.int64)),
            "g": pa.chunked_array([chunk for g in gs for chunk in g.chunks], type=g_type),
            "mean": pa.chunked_array(
                [chunk for m in means for chunk in m.chunks], type=pa.float64()
            ),
        }
    )


def long_finite_sql(wide: str, count: int) -> str:
    """``c, g, x``: the finite values of every numeric column of :func:`wide_values_sql`,
    stacked (``c`` = the column's number)."""
    parts = [
        f"SELECT {c} AS c, g, x{c} AS x FROM w WHERE {is_finite(f'x{c}')}" for c in range(count)
    ]
    return f"WITH w AS ({wide})\n" + "\nUNION ALL\n".join(parts)


def bin_counts_sql(binned: str, means: str) -> str:
    """Per column, group and bin: values, values on the bin's right edge, their sum of
    ``x - anchor`` and their sum of squared deviations from the group's mean (``m2`` is the
    sum over the bins: a second pass, never ``sum(x^2) - n mean^2``). ``binned`` is a FROM
    item aliased ``b`` yielding ``c, g, j`` (bin), ``x``, ``e`` (the bin's right edge, +inf for
    the last) and ``anchor`` (``edges[max(j - 1, 0)]``); ``means`` holds :func:`means_table`."""
    return f"""
SELECT b.c AS c, b.g AS g, b.j AS j, COUNT(*) AS values_in_bin,
  COUNT(CASE WHEN b.x = b.e THEN 1 END) AS on_edge,
  SUM(b.x - b.anchor) AS offset_sum,
  SUM((b.x - m.mean) * (b.x - m.mean)) AS m2_part
FROM {binned} JOIN {means} AS m ON b.c = m.c AND b.g = m.g
GROUP BY b.c, b.g, b.j"""


def finite_counts_sql(dialect: Dialect, table: str, columns: Sequence[str]) -> str:
    """One row: the number of finite values of each column (``n0``, ``n1``, ...)."""
    counts = ", ".join(
        f"COUNT(CASE WHEN {is_finite(f'CAST({dialect.quote(name)} AS DOUBLE)')} THEN 1 END) AS n{c}"
        for c, name in enumerate(columns)
    )
    return f"SELECT {counts} FROM {table}"


def sorted_finite_sql(dialect: Dialect, table: str, columns: Sequence[str]) -> str:
    """``c, x``: the finite values of the columns, sorted by column, then value."""
    long = long_finite_sql(wide_values_sql(dialect, table, columns, None), len(columns))
    return f"SELECT c, x FROM ({long}) AS f ORDER BY c, x"


def categorical_counts_sql(
    dialect: Dialect, table: str, columns: Sequence[str], by: str | None, freq: str = "MS"
) -> str:
    """Per group and label (as stored, with its type; NULL included), for every column
    ``columns[c]`` in one scan (``GROUPING SETS``): the number of rows. Column ``c``'s rows
    are those with ``grouped{c} = 0``, its labels in ``label{c}``."""
    labels = ", ".join(f"{dialect.quote(name)} AS label{c}" for c, name in enumerate(columns))
    inner = (
        f"SELECT {group_sql(dialect, by, freq)} AS g, {labels} FROM {table}{_timed(dialect, by)}"
    )
    count = len(columns)
    shown = ", ".join(f"label{c}" for c in range(count))
    grouped = ", ".join(f"GROUPING(label{c}) AS grouped{c}" for c in range(count))
    sets = ", ".join(f"(g, label{c})" for c in range(count))
    return (
        f"SELECT g, {shown}, {grouped}, COUNT(*) AS rows_with_label FROM ({inner}) AS v"
        f" GROUP BY GROUPING SETS ({sets})"
    )


CATEGORICAL_COLUMNS_PER_QUERY = 16
"""Categorical columns counted in one ``GROUPING SETS`` query. DuckDB builds one hash table per
grouping set at once: a hundred columns in one query ran out of 1 GB even at 20,000 rows, so
wide data is counted 16 columns per scan (the counts do not depend on the split)."""


def categorical_counts(
    backend: SqlBackend,
    columns: Sequence[str],
    by: str | None,
    freq: str = "MS",
    progress: Callable[[int], None] | None = None,
) -> Iterator[tuple[str, pa.Table]]:
    """``(column, g, label, rows_with_label counts)`` for every column, from
    :func:`categorical_counts_sql` queries of at most :data:`CATEGORICAL_COLUMNS_PER_QUERY`
    columns each; ``progress(done)`` after each query with the columns counted so far."""
    step = CATEGORICAL_COLUMNS_PER_QUERY
    for start in range(0, len(columns), step):
        part = list(columns[start : start + step])
        sql = categorical_counts_sql(backend.dialect, backend.table, part, by, freq)
        result = backend.query(sql)
        for c, name in enumerate(part):
            yield name, counts_of(result, c)
        if progress is not None:
            progress(start + len(part))


def counts_of(result: pa.Table, column: int) -> pa.Table:
    """Column number ``column``'s part of :func:`categorical_counts_sql`'s result, as
    ``g, label, rows_with_label``."""
    grouped = np.asarray(result.column(f"grouped{column}").to_numpy(zero_copy_only=False))
    part = result.filter(pa.array(grouped == 0))
    return pa.table(
        {
            "g": part.column("g"),
            "label": part.column(f"label{column}"),
            "rows_with_label": part.column("rows_with_label"),
        }
    )


def rows_sql(dialect: Dialect, table: str, by: str | None) -> str:
    timed = "COUNT(*)" if by is None else f"COUNT({dialect.quote(by)})"
    return f"SELECT COUNT(*) AS total_rows, {timed} AS timed_rows FROM {table}"


def bins_table(layouts: Sequence[NumericLayout]) -> pa.Table:
    """One row per column ``c`` and bin ``j = 0..len(edges)``: the bin's right edge ``e``
    (+inf for the last bin) and ``anchor``. Bin ``j`` holds ``(e[j-1], e[j]]``: the smallest
    right edge ``>= x``."""
    parts = {"c": [], "j": [], "e": [], "anchor": []}
    for c, layout in enumerate(layouts):
        edges = layout.edges
        parts["c"].append(np.full(edges.size + 1, c, dtype=np.int64))
        parts["j"].append(np.arange(edges.size + 1, dtype=np.int64))
        parts["e"].append(np.append(edges, np.inf))
        parts["anchor"].append(np.concatenate((edges[:1], edges)))
    return pa.table({k: pa.array(np.concatenate(v)) for k, v in parts.items()})


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
    layout: NumericLayout, stats: pa.Table, bins: pa.Table, column: int = 0
) -> dict[pd.Timestamp | None, NumericProfile]:
    """Profiles per group of numeric column number ``column`` from :func:`numeric_stats_sql`
    and :func:`bin_counts_sql` results."""
    c = np.asarray(bins.column("c").to_numpy(zero_copy_only=False), dtype=np.int64)
    bins = bins.filter(pa.array(c == column))
    size = layout.edges.size + 1
    at = {g: i for i, g in enumerate(_groups(stats.column("g")))}
    counts = np.zeros((len(at), size), dtype=np.int64)
    on_edge = np.zeros((len(at), size), dtype=np.int64)
    offsets = np.zeros((len(at), size), dtype=np.float64)
    m2 = np.zeros((len(at), size), dtype=np.float64)
    if bins.num_rows:
        rows = np.array([at[g] for g in _groups(bins.column("g"))], dtype=np.int64)
        j = np.asarray(bins.column("j").to_numpy(zero_copy_only=False), dtype=np.int64)
        counts[rows, j] = np.asarray(bins.column("values_in_bin").to_numpy(), dtype=np.int64)
        on_edge[rows, j] = np.asarray(bins.column("on_edge").to_numpy(), dtype=np.int64)
        offsets[rows, j] = _floats(bins.column("offset_sum"))
        m2[rows, j] = _floats(bins.column("m2_part"))
    n = stats.column(f"n{column}").to_pylist()
    missing = stats.column(f"missing{column}").to_pylist()
    nonfinite = stats.column(f"nonfinite{column}").to_pylist()
    floats = {k: _floats(stats.column(f"{k}{column}")) for k in ("minimum", "maximum", "mean")}
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
            m2=np.nan if empty else float(np.sum(m2[i])),
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


KEEP_SORTED = 16_000_000
"""Up to this many values (128 MB), the sorted values of the first pass are kept for the
second, so the data are sorted once; above, they are streamed (and sorted) twice."""


class LayoutBuilder:
    """Builds one numeric layout from its ``n`` finite values, fed in ascending order:
    :meth:`add` (order statistics and numpy's pairwise sum), then, if
    :attr:`needs_second_pass`, :meth:`add_again` with the same values in the same order (the
    squared deviations; when ``n <= keep`` the first pass's values are kept instead), then
    :meth:`layout`. Bit-identical to :func:`~prodready.engine.layout.numeric_layout`."""

    def __init__(self, n: int, keep: int | None = None) -> None:
        _require_two(int(n), "reference")
        keep = KEEP_SORTED if keep is None else keep
        self.n = int(n)
        self._positions = layout_positions(self.n)
        self._picked = np.empty(self._positions.size)
        self._total = PairwiseSum(self.n)
        self._squares = PairwiseSum(self.n)
        self._seen = 0
        self._kept: list[np.ndarray] | None = [] if self.n <= keep else None
        self._mean: float | None = None

    @property
    def needs_second_pass(self) -> bool:
        return self._kept is None

    def add(self, chunk: np.ndarray) -> None:
        chunk = np.asarray(chunk, dtype=np.float64)
        positions, seen = self._positions, self._seen
        lo, hi = np.searchsorted(positions, [seen, seen + chunk.size])
        self._picked[lo:hi] = chunk[positions[lo:hi] - seen]
        self._total.add(chunk)
        self._seen += chunk.size
        if self._kept is not None:
            self._kept.append(chunk)

    def _first_mean(self) -> float:
        if self._mean is None:
            self._mean = self._total.total() / self.n
        return self._mean

    def add_again(self, chunk: np.ndarray) -> None:
        deviations = np.asarray(chunk, dtype=np.float64) - self._first_mean()
        self._squares.add(deviations * deviations)

    def layout(self) -> NumericLayout:
        if self._kept is not None:
            kept, self._kept = self._kept, []
            for chunk in kept:
                self.add_again(chunk)
        std = float(np.sqrt(self._squares.total() / self.n))
        picked = self._picked
        return numeric_layout_from_sorted_positions(
            self.n, self._positions, picked, float(picked[0]), float(picked[-1]), std
        )


def numeric_layout_from_sorted(
    n: int, batches: Callable[[], Iterable[np.ndarray]], *, keep: int | None = None
) -> NumericLayout:
    """The layout of ``n`` finite values given in ascending order by ``batches()`` (called a
    second time when ``n > keep``): bit-identical to
    :func:`~prodready.engine.layout.numeric_layout` of the same values, ``std`` included."""
    builder = LayoutBuilder(n, keep)
    for chunk in batches():
        builder.add(chunk)
    if builder.needs_second_pass:
        for chunk in batches():
            builder.add_again(chunk)
    return builder.layout()


# --------------------------------------------------------------------------------------------
# The shared driver


class SqlBackend(Protocol):
    """What an engine gives the shared driver: its dialect, a query runner, binning and
    sorted streams."""

    dialect: Dialect
    table: str  # the data, as a name usable in FROM

    def query(self, sql: str) -> pa.Table: ...

    def register(self, name: str, table: pa.Table) -> str:
        """Make a small Arrow table usable in FROM; returns its name."""
        ...

    def binned(self, wide: str, layouts: Sequence[NumericLayout]) -> str:
        """A FROM item yielding ``c, g, j, x, e, anchor`` for the finite values of the numeric
        columns ``x{c}`` of ``wide`` (:func:`wide_values_sql`), on ``layouts[c]``."""
        ...

    def sorted_batches(self, sql: str, rows: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """``(c, x)`` arrays of a query's ``rows`` rows, in the query's order, a chunk at a
        time (never all at once when ``rows > KEEP_SORTED``)."""
        ...


def _tick(progress: Progress | None, fraction: float, message: str) -> None:
    if progress is not None:
        progress(min(max(float(fraction), 0.0), 1.0), message)


def _names(names: Sequence[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:4])
    return shown + (f" and {len(names) - 4} more" if len(names) > 4 else "")


def compute_profiles(
    backend: SqlBackend,
    layouts: Mapping[str, Layout],
    *,
    by: str | None,
    freq: str,
    progress: Progress | None,
) -> tuple[dict[tuple[Any, str], Profile], dict[str, int]]:
    """All profiles (per group and column) and the row counts of the source: one query for
    the numeric columns' moments, one for their bins, one per 16 categorical columns."""
    dialect, table = backend.dialect, backend.table
    _tick(progress, 0.0, "counting rows")
    rows = backend.query(rows_sql(dialect, table, by)).to_pylist()[0]
    row_counts = {"rows": int(rows["total_rows"]), "timed": int(rows["timed_rows"])}
    profiles: dict[tuple[Any, str], Profile] = {}
    numeric = [name for name, lay in layouts.items() if isinstance(lay, NumericLayout)]
    categorical = [name for name in layouts if name not in numeric]
    steps = 3
    if numeric:
        wide = wide_values_sql(dialect, table, numeric, by, freq)
        _tick(progress, 0.0, f"moments of {len(numeric)} numeric columns ({_names(numeric)})")
        stats = backend.query(numeric_stats_sql(wide, len(numeric)))
        _tick(progress, 1 / steps, f"bins of {len(numeric)} numeric columns")
        binned = backend.binned(wide, [layouts[name] for name in numeric])  # type: ignore[misc]
        means = backend.register("prodready_means", means_table(stats, len(numeric)))
        bins = backend.query(bin_counts_sql(binned, means))
        for c, name in enumerate(numeric):
            found = numeric_profiles(layouts[name], stats, bins, c)  # type: ignore[arg-type]
            for group, profile in found.items():
                profiles[(group, name)] = profile
    if categorical:
        _tick(progress, 2 / steps, f"categories of {len(categorical)} columns")

        def counted(done: int) -> None:
            share = done / len(categorical)
            _tick(progress, (2 + share) / steps, f"categories of {done}/{len(categorical)} columns")

        for name, counts in categorical_counts(backend, categorical, by, freq, counted):
            found = categorical_profiles(layouts[name], counts)  # type: ignore[arg-type]
            for group, profile in found.items():
                profiles[(group, name)] = profile
    _tick(progress, 1.0, f"profiled {len(layouts)} columns")
    return profiles, row_counts


def compute_layouts(
    backend: SqlBackend,
    numeric: Sequence[str],
    categorical: Sequence[str],
    *,
    max_categories: int,
    progress: Progress | None,
    for_column: Callable[[Exception, str], Exception] = for_column,
) -> dict[str, Layout]:
    """Layouts of the listed columns (numeric first, then categorical), as ``layouts_for``:
    one count, one sorted stream of all numeric columns (a second one only for columns of more
    than :data:`KEEP_SORTED` values), one query per 16 categorical columns."""
    dialect, table = backend.dialect, backend.table
    numeric, categorical = list(numeric), [c for c in categorical if c not in numeric]
    out: dict[str, Layout] = {}
    steps = 2
    if numeric:
        _tick(progress, 0.0, f"sorting {len(numeric)} numeric columns ({_names(numeric)})")
        finite = backend.query(finite_counts_sql(dialect, table, numeric)).to_pylist()[0]
        builders: list[LayoutBuilder] = []
        for c, name in enumerate(numeric):
            try:
                builders.append(LayoutBuilder(int(finite[f"n{c}"])))
            except ParameterError as err:
                raise for_column(err, name) from err
        done: dict[int, NumericLayout] = {}

        def finish(c: int) -> None:  # a column's values are all in: free the kept values
            if not builders[c].needs_second_pass:
                try:
                    done[c] = builders[c].layout()
                except ParameterError as err:
                    raise for_column(err, numeric[c]) from err
                builders[c] = LayoutBuilder(2)  # drop the kept values

        ordered = sorted_finite_sql(dialect, table, numeric)
        current = -1
        for columns, values in backend.sorted_batches(ordered, sum(b.n for b in builders)):
            starts = np.flatnonzero(np.diff(columns, prepend=-1))
            for start, stop in zip(starts, [*starts[1:], columns.size], strict=True):
                c = int(columns[start])
                if c != current and current >= 0:
                    finish(current)
                current = c
                builders[c].add(values[start:stop])
        if current >= 0:
            finish(current)
        for c, name in enumerate(numeric):
            if c not in done:
                builder = builders[c]
                again = sorted_finite_sql(dialect, table, [name])
                for _, values in backend.sorted_batches(again, builder.n):
                    builder.add_again(values)
                try:
                    done[c] = builder.layout()
                except ParameterError as err:
                    raise for_column(err, name) from err
            out[name] = done[c]
    if categorical:
        _tick(progress, 1 / steps, f"categories of {len(categorical)} columns")

        def counted(done: int) -> None:
            share = done / len(categorical)
            _tick(progress, (1 + share) / steps, f"categories of {done}/{len(categorical)} columns")

        for name, counts in categorical_counts(backend, categorical, None, progress=counted):
            try:
                out[name] = categorical_layout_from_counts(counts, max_categories)
            except ParameterError as err:
                raise for_column(err, name) from err
    _tick(progress, 1.0, f"built {len(out)} layouts")
    return out
