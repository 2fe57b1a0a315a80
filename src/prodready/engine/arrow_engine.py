"""Profiles and layouts of Parquet files read batch by batch (pyarrow) and counted by numpy.

Why a fourth way in: on Parquet, reading row groups in batches and counting each batch with the
numpy engine (:func:`~prodready.engine.numpy_engine.profile_frame`), then merging the batches'
profiles (exact: ``merge(profile(a), profile(b)) == profile(a ++ b)``), is about ten times
faster on two cores than DuckDB's binning by ASOF join (which sorts every value), and its memory
is one batch per thread. DuckDB stays the engine for CSV files and for what needs a whole-data
operator (the id join of row-level skew).

Values are made what the case loader makes them (:mod:`prodready.data.validation`): numeric
features as float64, categorical ones as the loader's text (whole-number floats read "1", not
"1.0"; decided per batch, as the streamed monitoring replay does), timestamps as UTC. So the
profiles equal those of the loaded frame.

Why batches mostly skip pandas: text columns are read as dictionaries (each distinct label once,
a small integer per row), so a categorical column is counted by codes and its labels turned into
the loader's text once per batch; months come from the timestamps' integers. Both cost a
fraction of building a frame (pandas' string factorize was a third of the serving pass). Columns
whose loaded form needs pandas' own conversion (float or decimal categories, text in a numeric
column, non-timestamp times) send their batch through the frame as before.
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from prodready.data.validation import category_text
from prodready.engine.layout import (
    MAX_CATEGORIES,
    CategoricalLayout,
    Layout,
    NumericLayout,
    categorical_layout_from_label_counts,
    finite_sorted,
    for_column,
    numeric_layout,
    numeric_layout_of_sorted,
)
from prodready.engine.numpy_engine import (
    Labels,
    _period_starts,
    profile_frame,
    profile_groups,
    profile_of_sorted,
)
from prodready.engine.profile import CategoricalProfile, Profile, ProfileSet
from prodready.errors import ParameterError

BATCH_ROWS = 1_000_000
"""Rows read and counted at a time: about 8 MB per numeric column."""
WORKERS = 2
"""Threads that profile pieces of the files at once (two cores; memory: one batch each)."""
PIECE_BYTES = 256 * 1024 * 1024
"""Pieces are profiled on two threads while a row group's values take at most this many bytes
(16 a cell: Arrow's and pandas' copies; a row group is decoded whole): a row group of 1M rows
and 13 columns is 208 MB; wide data (50,000 rows of 500 columns: 400 MB) takes one thread."""

Progress = Callable[[float, str], None]


def batches(
    files: Sequence[str | Path],
    columns: Sequence[str],
    rows: int | None = None,
    *,
    row_groups: Sequence[int] | None = None,
) -> Iterator[pd.DataFrame]:
    """The listed columns of the files (only ``row_groups`` of each, when given), ``rows``
    (default :data:`BATCH_ROWS`) at a time, in file order, as the loader types them:
    timestamps in UTC (a zone-less timestamp is read as UTC)."""
    rows = BATCH_ROWS if rows is None else rows
    for path in files:
        found = pq.ParquetFile(path).iter_batches(
            batch_size=rows, columns=list(columns), row_groups=row_groups
        )
        for batch in found:
            yield _frame(batch)


def _frame(batch: pa.RecordBatch | pa.Table) -> pd.DataFrame:
    """A batch as the loader types it (timestamps in UTC)."""
    frame = batch.to_pandas()
    for name in frame.columns:
        if isinstance(frame[name].dtype, pd.DatetimeTZDtype):
            frame[name] = frame[name].dt.tz_convert("UTC")
        elif pd.api.types.is_datetime64_dtype(frame[name].dtype):
            frame[name] = frame[name].dt.tz_localize("UTC")
    return frame


def _as_loaded(frame: pd.DataFrame, layouts: Mapping[str, Layout]) -> pd.DataFrame:
    for name, layout in layouts.items():
        if isinstance(layout, CategoricalLayout):
            frame[name] = category_text(frame[name])
    return frame


def profile_parquet(
    files: Sequence[str | Path],
    layouts: Mapping[str, Layout],
    *,
    by: str | None = None,
    freq: str = "MS",
    rows: int | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> ProfileSet:
    """The :class:`ProfileSet` of ``profile_frame(loaded frame, layouts, by=by, freq=freq)``
    without loading the frame: counts exactly, sums up to the order of floating additions.

    The files' row groups are split into pieces of at most ``rows`` rows (and at least
    ``workers`` pieces when the row groups allow), profiled on ``workers`` threads (reading
    Parquet, sorting and counting release the GIL: two cores are used) and merged in the files'
    order, so a run gives the same sums whatever the threads' timing. ``progress(fraction,
    message)`` is called as the pieces of each file are done."""
    files = list(files)
    columns = list(dict.fromkeys([*layouts, *([by] if by else [])]))
    rows = BATCH_ROWS if rows is None else rows
    sizes = _row_groups(files)
    if workers is None:  # two threads while two row groups' values fit (wide data: one)
        largest = max((n for groups in sizes for n in groups), default=0)
        workers = WORKERS if largest * len(columns) * 16 <= PIECE_BYTES else 1
    pieces = _pieces(sizes, rows, workers)

    def profile(piece: tuple[int, list[int]]) -> ProfileSet | None:
        number, groups = piece
        path = files[number]
        reader = pq.ParquetFile(path, read_dictionary=_categorical(layouts))  # text ones only
        read = reader.iter_batches(batch_size=rows, columns=columns, row_groups=groups)
        found = None
        for parts in _windows(read, rows):
            one = _profile_window(parts, layouts, by, freq)
            if one is None:  # the loader's conversions need pandas: the frame, as it was read
                schema = pq.read_schema(path)
                table = pa.Table.from_batches([_undictionary(part, schema) for part in parts])
                one = profile_frame(_as_loaded(_frame(table), layouts), layouts, by=by, freq=freq)
            found = one if found is None else found.merge(one)
        return found

    total: ProfileSet | None = None
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for (number, _), found in zip(pieces, _in_order(pool, profile, pieces), strict=True):
            if progress is not None:
                progress(number / len(files), f"profiling file {number + 1} of {len(files)}")
            if found is not None:
                total = found if total is None else total.merge(found)
    if total is None:  # no rows at all: the profiles of an empty frame
        empty = pd.DataFrame({c: pd.Series(dtype="float64") for c in columns})
        if by:
            empty[by] = pd.Series(dtype="datetime64[us, UTC]")
        total = profile_frame(_as_loaded(empty, layouts), layouts, by=by, freq=freq)
    return total


def _categorical(layouts: Mapping[str, Layout]) -> list[str]:
    return [name for name, layout in layouts.items() if isinstance(layout, CategoricalLayout)]


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _undictionary(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """The batch as a plain read gives it (``schema``: the file's): the columns read as
    dictionaries decoded."""
    arrays = [
        column.dictionary_decode().cast(schema.field(name).type)
        if pa.types.is_dictionary(column.type)
        and not pa.types.is_dictionary(schema.field(name).type)
        else column
        for name, column in zip(batch.schema.names, batch.columns, strict=True)
    ]
    fields = [schema.field(name) for name in batch.schema.names]
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields, metadata=schema.metadata))


def _windows(batches: Iterator[pa.RecordBatch], rows: int) -> Iterator[list[pa.RecordBatch]]:
    """The batches regrouped into runs of ``rows`` rows (the last one shorter): the batches of
    a plain read, which cut every ``rows`` rows across row groups, where a read by dictionary
    also cuts at each row group's end (its dictionary changes there). Profiling the same runs
    keeps every sum, and the loader's per-batch decisions, what they were."""
    held: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        while batch.num_rows:
            take = min(rows - count, batch.num_rows)
            held.append(batch.slice(0, take) if take < batch.num_rows else batch)
            batch = batch.slice(take)
            count += take
            if count == rows:
                yield held
                held, count = [], 0
    if held:
        yield held


def _profile_window(
    parts: list[pa.RecordBatch], layouts: Mapping[str, Layout], by: str | None, freq: str
) -> ProfileSet | None:
    """``profile_frame`` of the rows of ``parts`` (consecutive batches of one file) as loaded,
    counted from their Arrow columns; None when a column's loaded form needs pandas (see the
    module docstring) or there is no ``by``."""
    times = [part.column(by) for part in parts] if by is not None else []
    if not times or not pa.types.is_timestamp(times[0].type) or freq not in ("MS", "D"):
        return None
    columns: dict[str, np.ndarray | Labels] = {}
    for name, layout in layouts.items():
        arrays = [part.column(name) for part in parts]
        if isinstance(layout, CategoricalLayout):
            through_floats = any(array.null_count for array in arrays)  # pandas: with nulls
            found = [_labels(array, through_floats) for array in arrays]
        else:
            found = [_floats(array) for array in arrays]
        if any(one is None for one in found):
            return None
        columns[name] = _joined(found)
    raw = _joined([t.to_numpy(zero_copy_only=False).view(np.int64) for t in times])
    groups, starts = _periods(raw, times[0].type, freq)
    return profile_groups(columns, layouts, groups, starts)


def _joined(found: list) -> np.ndarray | Labels:
    """Per-batch arrays, or :class:`Labels` (each with its own distinct labels), as one."""
    if len(found) == 1:
        return found[0]
    if not isinstance(found[0], Labels):
        return np.concatenate(found)
    offsets = np.cumsum([0] + [len(labels.text) for labels in found[:-1]])
    codes = [
        np.where(labels.codes >= 0, labels.codes.astype(np.int64) + offset, -1)
        for labels, offset in zip(found, offsets, strict=True)
    ]
    return Labels(np.concatenate(codes), np.concatenate([labels.text for labels in found]))


_DAY = {"s": 86_400, "ms": 86_400_000, "us": 86_400_000_000, "ns": 86_400_000_000_000}
_NOT_A_TIME = np.iinfo(np.int64).min  # numpy's NaT, what a null timestamp becomes


def _periods(
    raw: np.ndarray, kind: pa.DataType, freq: str
) -> tuple[np.ndarray, list[pd.Timestamp]]:
    """Each row's period (``freq`` ``"MS"``: calendar month in UTC, ``"D"``: day; -1: no time)
    and the periods' starts, as ``numpy_engine``'s grouping of the loaded timestamps gives them.
    ``raw``: the instants of an Arrow timestamp ``kind`` as integers (UTC; zone-less ones read
    as UTC; missing: numpy's NaT). Rows are mapped by their day number, each distinct day once
    to its period (numpy's cast of 1M datetimes to months takes longer than the rest)."""
    per_day = _DAY[kind.unit]
    timed = raw != _NOT_A_TIME
    everywhere = bool(timed.all())
    days = raw // per_day if everywhere else raw[timed] // per_day
    groups = np.full(raw.size, -1, dtype=np.int64)
    if days.size == 0:
        return groups, []
    low = int(days.min())
    span = int(days.max()) - low + 1
    by_table = span <= 4 * days.size + 65_536  # a lookup table by day: no sort of the rows
    distinct = np.flatnonzero(np.bincount(days - low, minlength=span)) + low if by_table else None
    distinct = np.unique(days) if distinct is None else distinct
    first = distinct.astype("datetime64[D]")
    if freq == "MS":
        first = first.astype("datetime64[M]").astype("datetime64[D]")
    periods, period_of = np.unique(first.view(np.int64), return_inverse=True)
    if by_table:
        lookup = np.empty(span, dtype=np.int64)
        lookup[distinct - low] = period_of
        found = lookup[days - low]
    else:
        found = period_of[np.searchsorted(distinct, days)]
    if everywhere:
        groups = found
    else:
        groups[timed] = found
    like = _key_like(kind, freq)
    starts = [pd.Timestamp(np.datetime64(day, "D")).as_unit(like.unit) for day in periods.tolist()]
    return groups, [start.tz_localize(like.tz) for start in starts]


@functools.lru_cache(maxsize=64)
def _key_like(kind: pa.DataType, freq: str) -> pd.Timestamp:
    """A period start as the loaded frame's grouping keys it (its unit and zone, which the keys
    of :func:`_periods` take): asked of pandas once per timestamp type, as pandas takes 4 ms."""
    loaded = _frame(pa.record_batch({"t": pa.array([0], type=kind)}))
    return pd.Timestamp(_period_starts(loaded, "t", freq).iloc[0])


def _floats(array: pa.Array) -> np.ndarray | None:
    """A numeric column as the loader's float64 (nulls as NaN); None for types pandas converts
    its own way (text, decimals, booleans)."""
    kind = array.type
    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
        return None
    if not pa.types.is_float64(kind):
        array = array.cast(pa.float64(), safe=False)  # large integers round as numpy rounds them
    return array.to_numpy(zero_copy_only=False)


_EXACT_INTEGERS = 2**53  # integers a float64 holds exactly


def _labels(array: pa.Array, through_floats: bool) -> Labels | None:
    """A categorical column as :class:`Labels` with the loader's text: text as it is, integers
    as digits, booleans as ``True``/``False``. None when pandas' conversion would differ: float
    labels (whole numbers read "1"), integers beyond 2**53 read through float64 (pandas does
    when the batch has nulls: ``through_floats``), other types."""
    if pa.types.is_dictionary(array.type):
        values = array.type.value_type
        if not (_is_text(values) or pa.types.is_integer(values) or pa.types.is_boolean(values)):
            return None
        if pa.types.is_integer(values) and through_floats and _beyond_floats(array.dictionary):
            return None
    elif _is_text(array.type) or pa.types.is_boolean(array.type):
        array = pc.dictionary_encode(array)
    elif pa.types.is_integer(array.type):
        if through_floats and _beyond_floats(array):
            return None
        array = pc.dictionary_encode(array)
    else:
        return None
    dictionary = array.dictionary
    if _is_text(dictionary.type):
        text = dictionary.to_numpy(zero_copy_only=False)
    else:
        text = np.array([None if v is None else str(v) for v in dictionary.to_pylist()], object)
    codes = array.indices
    if codes.null_count:
        codes = pc.fill_null(codes, pa.scalar(-1, codes.type))  # typed: an untyped -1 costs 20 ms
    return Labels(codes=codes.to_numpy(zero_copy_only=False), text=np.asarray(text, dtype=object))


def _beyond_floats(values: pa.Array) -> bool:
    extremes = pc.min_max(values)
    low, high = extremes["min"].as_py(), extremes["max"].as_py()
    return low is not None and (low < -_EXACT_INTEGERS or high > _EXACT_INTEGERS)


def _in_order(pool: ThreadPoolExecutor, work: Callable, items: list) -> Iterator:
    """``work(item)`` for each item, in order, with at most as many items in flight as the pool
    has threads (``pool.map`` would start them all, and finished pieces would wait in memory)."""
    pending: deque = deque()
    for item in items:
        if len(pending) >= pool._max_workers:
            yield pending.popleft().result()
        pending.append(pool.submit(work, item))
    while pending:
        yield pending.popleft().result()


def _row_groups(files: Sequence[str | Path]) -> list[list[int]]:
    """Rows of each row group of each file (from the footers)."""
    return [
        [meta.row_group(g).num_rows for g in range(meta.num_row_groups)]
        for meta in (pq.read_metadata(path) for path in files)
    ]


def _pieces(sizes: list[list[int]], rows: int, workers: int) -> list[tuple[int, list[int]]]:
    """(file number, row groups) pieces in file order (``sizes``: :func:`_row_groups`):
    consecutive row groups of a file up to ``rows`` rows, or fewer so that the whole set makes
    at least ``workers`` pieces."""
    total = sum(map(sum, sizes))
    limit = max(1, min(rows, -(-total // max(1, workers))))  # ceil(total / workers)
    pieces: list[tuple[int, list[int]]] = []
    for number, groups in enumerate(sizes):
        held: list[int] = []
        count = 0
        for group, size in enumerate(groups):
            if held and count + size > limit:
                pieces.append((number, held))
                held, count = [], 0
            held.append(group)
            count += size
        pieces.append((number, held))  # a file without row groups: one empty piece
    return pieces


def layouts_from_parquet(
    files: Sequence[str | Path],
    numeric: Sequence[str] = (),
    categorical: Sequence[str] = (),
    *,
    max_categories: int = MAX_CATEGORIES,
    rows: int | None = None,
) -> dict[str, Layout]:
    """``numpy_engine.layouts_for(loaded frame, numeric, categorical)``, bit for bit, holding one
    numeric column at a time in memory (8 bytes a row, sorted once: 1.4 GB at 85M rows) and
    only the label counts of a categorical one."""
    files = list(files)
    out: dict[str, Layout] = {}
    for name in numeric:
        try:
            out[name] = numeric_layout(_numeric_column(files, name))
        except ParameterError as err:
            raise for_column(err, name) from err
    for name in categorical:
        counts, _ = _label_counts(files, name, rows)
        try:
            out[name] = categorical_layout_from_label_counts(counts, max_categories=max_categories)
        except ParameterError as err:
            raise for_column(err, name) from err
    return {n: out[n] for n in [*numeric, *categorical]}


def reference_column(
    files: Sequence[str | Path],
    name: str,
    kind: str,
    *,
    max_categories: int = MAX_CATEGORIES,
    rows: int | None = None,
) -> tuple[Layout, Profile]:
    """The layout of one column (``kind`` ``"numeric"`` or ``"categorical"``) of the files and
    the whole data's profile on it, from one read of the column: what
    :func:`layouts_from_parquet` then :func:`profile_parquet` give (a numeric column whole in
    memory, 16 bytes a row at the peak: the values and their sorted copy; a categorical one as
    label counts, batch by batch)."""
    files = list(files)
    try:
        if kind == "numeric":  # sorted once; the unsorted column is let go before the layout
            finite, missing, nonfinite = finite_sorted(_numeric_column(files, name))
            layout = numeric_layout_of_sorted(finite)
            return layout, profile_of_sorted(finite, missing, nonfinite, layout)
        counts, missing = _label_counts(files, name, rows)
        categories = categorical_layout_from_label_counts(counts, max_categories=max_categories)
    except ParameterError as err:
        raise for_column(err, name) from err
    n = int(counts.sum())
    aligned = counts.reindex(categories.index, fill_value=0).to_numpy(dtype=np.int64)
    profile = CategoricalProfile(
        layout=categories, counts=aligned, other=n - int(aligned.sum()), missing=missing, n=n
    )
    return categories, profile


def _numeric_column(files: list, name: str) -> np.ndarray:
    """Every value of a numeric column as float64 (nulls as NaN), as the loader makes it, filled
    row group by row group into one array: 8 bytes a row and one row group more, where reading
    the whole column then converting it would hold two or three copies at once."""
    files = [pq.ParquetFile(path) for path in files]
    out = np.empty(sum(f.metadata.num_rows for f in files), dtype=np.float64)
    at = 0
    for handle in files:
        for group in range(handle.metadata.num_row_groups):
            column = handle.read_row_group(group, columns=[name]).column(0)
            values = column.cast(pa.float64()).to_numpy(zero_copy_only=False)
            out[at : at + len(values)] = values
            at += len(values)
    return out


def _label_counts(files: list, name: str, rows: int | None) -> tuple[pd.Series, int]:
    """Rows per label (the loader's text) of a categorical column, and its missing values:
    counted by dictionary codes (a text column is read as a dictionary), each label turned into
    text once per batch; through pandas where its conversion differs (see :func:`_labels`).
    The batches' counts are summed per label once, at the end."""
    texts: list[np.ndarray] = []
    tallies: list[np.ndarray] = []
    missing = 0
    for path in files:
        reader = pq.ParquetFile(path, read_dictionary=[name])  # when stored as text
        for batch in reader.iter_batches(batch_size=rows or BATCH_ROWS, columns=[name]):
            labels = _labels(batch.column(0), through_floats=batch.column(0).null_count > 0)
            if labels is None:
                plain = _undictionary(batch, pq.read_schema(path))
                values = category_text(_frame(plain)[name])
                found = values.value_counts(dropna=True, sort=False)
                text, tally = found.index.to_numpy(object), found.to_numpy()
                absent = int(values.isna().sum())
            else:
                text, tally, absent = _tally(labels)
            texts.append(text)
            tallies.append(tally.astype(np.int64))
            missing += absent
    counts = pd.Series(
        np.concatenate(tallies) if tallies else np.zeros(0, dtype=np.int64),
        index=pd.Index(np.concatenate(texts) if texts else [], dtype=object),
    )
    if not counts.index.is_unique:
        counts = counts.groupby(level=0, sort=False).sum()
    return counts.astype("int64"), missing


def _tally(labels: Labels) -> tuple[np.ndarray, np.ndarray, int]:
    """Rows per distinct label (its text, and the count; labels no row has left out: a
    dictionary may hold some, and may repeat a text) and the rows missing."""
    tally = np.bincount(labels.codes + 1, minlength=len(labels.text) + 1)
    absent = pd.isna(labels.text)
    keep = (tally[1:] > 0) & ~absent
    return labels.text[keep], tally[1:][keep], int(tally[0] + tally[1:][absent].sum())


def file_columns(files: Sequence[str | Path]) -> frozenset[str]:
    """The column names of the files read together: the keys of
    :func:`prodready.engine.rows_sql.serving_schema` (DuckDB's ``read_parquet`` takes the first
    file's columns). Parquet from the first file's footer, without the DuckDB connection
    (30-50 ms in a fresh process, twice per skew audit when both data sets stay on disk) that
    ``serving_schema`` opens; other formats through it."""
    from prodready.data.readers import table_format

    files = list(files)
    if files and table_format(str(files[0])) == "parquet":
        return frozenset(pq.read_schema(files[0]).names)
    from prodready.engine.rows_sql import serving_schema

    return frozenset(serving_schema(files))


def file_labels(files: Sequence[str | Path], columns: Sequence[str]) -> dict[str, list[str]]:
    """The distinct labels of each categorical column of the files, as
    :func:`prodready.engine.rows_sql.serving_labels` gives them (the loader's text, missing
    values left out), sorted. Parquet is read by pyarrow, two files at a time, a batch at a
    time, text columns as dictionaries (only the labels rows use become text): no DuckDB
    connection (46 ms); other formats go through DuckDB (``serving_labels``)."""
    from prodready.data.readers import table_format

    files = list(files)
    if not files or table_format(str(files[0])) != "parquet":
        from prodready.engine.rows_sql import serving_labels

        return {n: sorted(found) for n, found in serving_labels(files, columns).items()}

    def labels_of(path: str | Path) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {name: set() for name in columns}
        reader = pq.ParquetFile(path, read_dictionary=columns)  # applies to text columns only
        for batch in reader.iter_batches(batch_size=BATCH_ROWS, columns=list(columns)):
            for name in columns:
                found[name].update(_text(_distinct(batch.column(name))))
        return found

    seen: dict[str, set[str]] = {name: set() for name in columns}
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:  # reading releases the GIL
        for found in pool.map(labels_of, files):
            for name in columns:
                seen[name] |= found[name]
    return {name: sorted(found) for name, found in seen.items()}


def _text(values: pa.Array) -> list[str]:
    """The present values as the loader's text (``sql.label_text``; text as it is, without
    importing the SQL helpers: compiling them costs 17 ms in a fresh process)."""
    if _is_text(values.type):
        return values.drop_null().to_pylist()
    from prodready.engine.sql import label_text

    labels, missing = label_text(values)
    return labels[~missing].tolist()


def _distinct(chunk: pa.Array) -> pa.Array:
    """The distinct values of a column chunk; of a dictionary, the entries rows use (found by
    counting the codes: a tenth of ``pc.unique``'s time)."""
    if not pa.types.is_dictionary(chunk.type):
        return pc.unique(chunk)
    codes = chunk.indices
    if codes.null_count:
        codes = pc.fill_null(codes, pa.scalar(len(chunk.dictionary), codes.type))
    tally = np.bincount(codes.to_numpy(), minlength=len(chunk.dictionary) + 1)
    used = np.flatnonzero(tally[:-1])
    return pc.unique(chunk.dictionary.take(pa.array(used, type=pa.int64())))


__all__ = [
    "BATCH_ROWS",
    "NumericLayout",
    "batches",
    "file_columns",
    "file_labels",
    "layouts_from_parquet",
    "profile_parquet",
    "reference_column",
]
