"""The serving log read from its files day by day, for a replay that never holds the whole log.

:func:`open_log` looks at the files without reading their rows (Parquet footers, or one DuckDB
``min``/``max`` for CSV); :meth:`ServingLog.spans` then yields the log in time order as spans of
whole UTC days, each a small pandas frame of the columns the monitors need, put in the same
canonical form as :func:`prodready.data.validation.prepare` gives a loaded case.

Two ways to read, picked by :func:`open_log`:

* **Parquet whose row groups are (nearly) in time order** (the generator's parts are; so is any
  log appended day by day): with pyarrow, :data:`READ_ROWS` rows at a time, no sort. A first
  pass reads only the timestamp column and notes the earliest time of every batch; then, after
  each batch of the second pass, every row earlier than the earliest time still to read (the
  rest of this row group, and the smallest minimum of the row groups not yet read, from the
  Parquet statistics) has been seen, so the days before that time's day are complete and are
  handed on; the rows of later days wait in a buffer. A row group in time order is thus handed
  on batch by batch, and memory holds a batch and a day, not the row group (the generator writes
  row groups of up to a million rows). Rows within what is handed on are sorted by time,
  stably, which is the order the in-memory loader gives (a stable sort of the files' rows in
  path order).
* **Anything else** (row groups far out of order, no statistics, timestamps stored as text,
  CSV): DuckDB sorts the needed columns (``ORDER BY`` time, then file and row in file for
  Parquet, which is the same stable order), spilling to a temporary folder beyond
  :data:`MEMORY_LIMIT`, and the sorted rows are fetched as Arrow record batches.

Either way memory holds one span (``chunk_days`` days) plus a buffer, never the log.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from prodready.data.readers import table_columns, table_format
from prodready.data.validation import (
    _labels,
    _numbers,
    _scores,
    _timestamps,
    _Where,
    category_text,
)
from prodready.errors import DataError, first_line

__all__ = [
    "MAX_BUFFER_ROWS",
    "MAX_SPAN_ROWS",
    "MEMORY_LIMIT",
    "READ_ROWS",
    "ServingLog",
    "open_log",
]

MAX_BUFFER_ROWS = 4_000_000
"""Rows the pyarrow reader may hold back while waiting for a day to complete; a log whose
row groups are further out of order than that is sorted by DuckDB instead."""
MEMORY_LIMIT = "512MB"
"""DuckDB's memory limit for the sort; it spills to a temporary folder beyond it. The process
grows by about this much above the replay's own chunks (5.4M events: 0.95 GiB extra at 512MB,
1.4 GiB at 1GB, in about the same time)."""
MAX_SPAN_ROWS = 300_000
"""Rows past which a span is handed on before it has ``chunk_days`` days. A span's rows and the
temporaries of profiling them take about 0.3 KB a row (the card fraud log's columns), so a busy
log is profiled in shorter spans rather than bigger ones; the result is the same either way."""
BATCH_ROWS = 262_144
"""Rows per record batch fetched from DuckDB's sort."""
READ_ROWS = 65_536
"""Rows the pyarrow reader reads from a row group at a time (about 10 MB for the card fraud
log's columns): small enough that a batch is nothing next to a span, large enough that the
per-batch work (conversion to pandas, checks) stays a small share of the time."""
_US_PER_DAY = 86_400_000_000
_US_PER_UNIT = {"s": 1_000_000, "ms": 1_000, "us": 1}  # and "ns": divide by 1,000
_NO_TIME = np.iinfo(np.int64).max  # no row left to read


@dataclass(frozen=True, eq=False)
class ServingLog:
    """The serving log's files, what they hold, and how they will be read.

    ``first_day`` and ``last_day``: UTC day numbers of the first and last event; ``columns``:
    the files' columns; ``ordered``: read with pyarrow without a sort (module docstring)."""

    files: tuple[Path, ...]
    kind: str  # "parquet" | "csv"
    columns: tuple[str, ...]
    first_time: pd.Timestamp
    last_time: pd.Timestamp
    ordered: bool
    timestamp: str
    source: str  # what messages call the log
    _groups: tuple[tuple[int, int, int], ...] = ()  # (file, row group, min time in us)
    # (file, row group) -> (rows read after each batch, earliest time from that batch on, us)
    _batches: dict = field(default_factory=dict, repr=False)

    @property
    def first_day(self) -> int:
        return _day_of(self.first_time)

    @property
    def last_day(self) -> int:
        return _day_of(self.last_time)

    def spans(
        self,
        columns: Sequence[str],
        prepare: Callable[[pd.DataFrame], pd.DataFrame],
        *,
        chunk_days: int,
        first_day: int | None = None,
        last_day: int | None = None,
    ) -> Iterator[tuple[int, int, pd.DataFrame]]:
        """``(lo, hi, frame)`` for consecutive spans of whole UTC days from ``first_day`` to
        ``last_day`` (absolute day numbers, default the log's): the rows of days ``lo`` to
        ``hi - 1``, prepared by ``prepare`` and in time order. A span has ``chunk_days`` days, or
        fewer where they hold more than about :data:`MAX_SPAN_ROWS` rows (the span's memory
        stays the same on a busier log). A span without traffic comes with an empty frame."""
        first = self.first_day if first_day is None else first_day
        last = self.last_day if last_day is None else last_day
        columns = span_columns(self.timestamp, columns)
        pieces = self._sorted(columns, prepare, first, last)
        yield from assemble_spans(
            pieces, self.timestamp, empty_span(columns, prepare), first, last, chunk_days
        )

    # -- reading ------------------------------------------------------------------------------
    def _sorted(self, columns, prepare, first: int, last: int):
        """``(complete, frame)`` pairs: ``frame`` the next rows in time order (prepared), and
        every day before ``complete`` has been handed on in full (``None`` at the end)."""
        if self.ordered:
            yield from self._pyarrow(columns, prepare, first, last)
        else:
            yield from self._duckdb(columns, prepare, first, last)

    def _pyarrow(self, columns, prepare, first: int, last: int):
        mins = np.array([g[2] for g in self._groups], dtype=np.int64)
        # the smallest minimum of the row groups from k on: all earlier rows are read by then
        later = np.minimum.accumulate(mins[::-1])[::-1] if mins.size else mins
        held: list[pd.DataFrame] = []  # rows of days not yet complete, in reading order
        done = first  # every day before it has been handed on
        reader, reader_file = None, -1
        for k, (file_index, group, _) in enumerate(self._groups):
            if _day_of(later[k]) > last + 1:
                break  # every later row group is past the days asked for
            if file_index != reader_file:
                reader, reader_file = pq.ParquetFile(self.files[file_index]), file_index
            stats_max = self._group_max(reader, group)
            if stats_max is not None and stats_max < first:
                continue  # wholly before the days asked for
            after = int(later[k + 1]) if k + 1 < len(self._groups) else _NO_TIME
            ends, still = self._batch_starts(reader, file_index, group)
            read = 0
            batches = reader.iter_batches(batch_size=READ_ROWS, row_groups=[group], columns=columns)
            for batch in batches:
                read += batch.num_rows
                table = pa.Table.from_batches([batch])
                frame = _within(prepare(_to_pandas(table)), self.timestamp, first, last)
                if len(frame):
                    held.append(frame)
                # the earliest time still to read: the rest of this row group, the later ones
                i = int(np.searchsorted(ends, read, side="right"))
                earliest = min(int(still[i]) if i < len(still) else _NO_TIME, after)
                if earliest == _NO_TIME:
                    continue  # the end: handed on below
                boundary = _day_of(earliest)
                if boundary > done:
                    held, ready = _hand_on(held, self.timestamp, boundary)
                    done = boundary
                    yield boundary, ready
        if held:
            yield None, _sort(pd.concat(held, ignore_index=True), self.timestamp)
        else:
            yield None, None

    def _batch_starts(self, reader: pq.ParquetFile, file_index: int, group: int):
        """For the batches :meth:`_pyarrow` reads from a row group: the rows read after each
        batch, and the earliest time (us) from that batch to the row group's end. One pass over
        the timestamp column, remembered for the next pass (the reference, then the log)."""
        key = (file_index, group)
        if key not in self._batches:
            ends, earliest = [], []
            read = 0
            for batch in reader.iter_batches(
                batch_size=READ_ROWS, row_groups=[group], columns=[self.timestamp]
            ):
                read += batch.num_rows
                ends.append(read)
                earliest.append(_min_us(batch.column(0)))
            suffix = np.minimum.accumulate(np.array(earliest, dtype=np.int64)[::-1])[::-1]
            self._batches[key] = (np.array(ends, dtype=np.int64), suffix)
        return self._batches[key]

    def _group_max(self, reader: pq.ParquetFile, group: int) -> int | None:
        stats = _column_stats(reader, group, self.timestamp)
        return None if stats is None else _day_of(stats[1])

    def _duckdb(self, columns, prepare, first: int, last: int):
        import duckdb

        files = [str(f) for f in self.files]
        quoted = ", ".join(_ident(c) for c in columns)
        ts = _ident(self.timestamp)
        with tempfile.TemporaryDirectory(prefix="prodready-monitoring-") as spill:
            con = duckdb.connect(
                config={
                    "memory_limit": MEMORY_LIMIT,
                    "temp_directory": spill,
                    "threads": 2,
                }
            )
            try:
                if self.kind == "parquet":
                    table = "read_parquet($files, filename=true, file_row_number=true)"
                    tie = "filename, file_row_number"
                else:
                    table = "read_csv($files, all_varchar=true, filename=true, header=true)"
                    tie = "filename"
                native = self._native_time(con, table, files)
                order = ts if native else f"try_cast({ts} AS TIMESTAMPTZ)"
                # without DuckDB's ICU extension, times with a zone compare as UTC instants
                start = _stamp(first * _US_PER_DAY).tz_localize(None).to_pydatetime()
                end = _stamp((last + 1) * _US_PER_DAY).tz_localize(None).to_pydatetime()
                sql = (
                    f"SELECT {quoted} FROM {table} "
                    f"WHERE {order} >= $start AND {order} < $end ORDER BY {order}, {tie}"
                )
                try:
                    relation = con.sql(sql, params={"files": files, "start": start, "end": end})
                    reader = relation.to_arrow_reader(BATCH_ROWS)
                except duckdb.Error as err:
                    raise DataError(
                        "the serving log's files cannot be read in time order",
                        where=self.source,
                        found=first_line(err),
                        fix="check that every file has the case's columns, or replay with "
                        "stream=False on a loaded case",
                    ) from None
                previous = first
                for batch in reader:
                    if batch.num_rows == 0:
                        continue
                    frame = prepare(_to_pandas(pa.Table.from_batches([batch])))
                    frame = _sort(frame, self.timestamp)
                    days = _days(frame, self.timestamp)
                    if days[0] < previous:
                        raise DataError(
                            "the serving log's timestamps cannot be put in time order by the "
                            "streaming reader",
                            where=f"{self.source}, column {self.timestamp!r}",
                            expected="ISO 8601 times (YYYY-MM-DD HH:MM:SS with +00:00 or Z), or "
                            "a timestamp column in Parquet",
                            fix="write the timestamps in ISO 8601, or replay with stream=False",
                        )
                    previous = int(days[-1])
                    # the last day of the batch may go on in the next batch
                    yield previous, frame
            finally:
                con.close()
        yield None, None

    def _native_time(self, con, table: str, files: list[str]) -> bool:
        if self.kind != "parquet":
            return False
        described = con.execute(
            f"DESCRIBE SELECT {_ident(self.timestamp)} FROM {table}", {"files": files}
        ).fetchall()
        return str(described[0][1]).upper().startswith("TIMESTAMP")


def span_columns(timestamp: str, columns: Sequence[str]) -> list[str]:
    """The columns a span holds: the timestamp first, then ``columns``, each once."""
    return list(dict.fromkeys([timestamp, *columns]))


def empty_span(
    columns: Sequence[str], prepare: Callable[[pd.DataFrame], pd.DataFrame]
) -> pd.DataFrame:
    """The frame of a span without traffic: no rows, the prepared columns' types."""
    return prepare(pd.DataFrame({c: pd.Series([], dtype=object) for c in columns}))


def assemble_spans(
    pieces: Iterable[tuple[int | None, pd.DataFrame | None]],
    timestamp: str,
    empty: pd.DataFrame,
    first: int,
    last: int,
    chunk_days: int,
) -> Iterator[tuple[int, int, pd.DataFrame]]:
    """The spans of :meth:`ServingLog.spans` from a reader's ``(complete, frame)`` pieces:
    ``frame`` the next rows in time order (prepared, or None), every day before ``complete``
    read in full (``None`` at the end). A span is handed on once its ``chunk_days`` days are
    complete, or earlier, with the complete days only, once more than :data:`MAX_SPAN_ROWS`
    rows wait. Shared by every way of reading the log, so they all cut spans alike."""
    pending: list[pd.DataFrame] = []
    lo = first
    for complete, frame in pieces:
        if frame is not None and len(frame):
            pending.append(frame)
        while lo <= last:
            hi = min(lo + chunk_days, last + 1)
            if complete is not None and hi > complete:
                # days still to come; the complete ones go on early if they are many rows
                # (every pending row is of a day up to ``complete``)
                if complete <= lo or sum(len(f) for f in pending) < MAX_SPAN_ROWS:
                    break
                hi = complete
            taken = _take(pending, timestamp, hi)
            yield lo, hi, empty if taken is None else taken
            lo = hi
        if lo > last:
            return


def open_log(files: Sequence[Path], *, timestamp: str, source: str) -> ServingLog:
    """Look at the serving log's files (their footers or one min/max query) without reading
    their rows; raises :class:`~prodready.errors.DataError` for unreadable or mixed files."""
    files = tuple(Path(f) for f in files)
    if not files:
        raise DataError("the serving log has no files", where=source)
    kinds = {table_format(f.name) for f in files}
    if len(kinds) > 1:
        raise DataError(
            "the serving log's files mix CSV and Parquet",
            where=source,
            expected="files of one format",
            fix="narrow the case's serving pattern to one format, e.g. *.parquet",
        )
    kind = kinds.pop()
    columns = tuple(table_columns(files[0], name=str(files[0])))
    if timestamp not in columns:
        raise DataError(
            f"the serving log lacks the timestamp column {timestamp!r}",
            where=str(files[0]),
            found=f"{len(columns)} columns: {', '.join(columns[:12])}",
            fix="name the log's time column in the case (columns: {timestamp: COLUMN})",
        )
    if kind == "parquet":
        groups = _parquet_groups(files, timestamp)
        if groups is not None:
            first = min(g[2] for g in groups)
            last = max(g[3] for g in groups)
            held = _held_rows(groups)
            if held <= MAX_BUFFER_ROWS:
                return ServingLog(
                    files=files,
                    kind=kind,
                    columns=columns,
                    first_time=_stamp(first),
                    last_time=_stamp(last),
                    ordered=True,
                    timestamp=timestamp,
                    source=source,
                    _groups=tuple((g[0], g[1], g[2]) for g in groups),
                )
            return ServingLog(
                files, kind, columns, _stamp(first), _stamp(last), False, timestamp, source
            )
    first, last = _duckdb_range(files, kind, timestamp, source)
    return ServingLog(files, kind, columns, first, last, False, timestamp, source)


# --------------------------------------------------------------------------------------------
# Helpers


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _stamp(us: int) -> pd.Timestamp:
    return pd.Timestamp(us, unit="us", tz="UTC")


def _us(stamp: pd.Timestamp) -> int:
    """Microseconds since the epoch (UTC)."""
    return int(stamp.as_unit("us").asm8.view("i8"))


def _day_of(value) -> int:
    if isinstance(value, pd.Timestamp):
        stamp = value if value.tz is not None else value.tz_localize("UTC")
        return int(np.floor_divide(_us(stamp), _US_PER_DAY))
    return int(np.floor_divide(int(value), _US_PER_DAY))


def _column_stats(reader: pq.ParquetFile, group: int, column: str):
    """``(min, max)`` of ``column`` in a row group as UTC microseconds, or None."""
    meta = reader.metadata.row_group(group)
    index = reader.schema_arrow.get_field_index(column)
    field = reader.schema_arrow.field(index)
    if not pa.types.is_timestamp(field.type):
        return None
    # the Parquet leaf of a top-level timestamp column: find it by path
    for i in range(meta.num_columns):
        chunk = meta.column(i)
        if chunk.path_in_schema == column:
            stats = chunk.statistics
            if stats is None or not stats.has_min_max:
                return None
            lo, hi = pd.Timestamp(stats.min), pd.Timestamp(stats.max)
            lo = lo if lo.tz is not None else lo.tz_localize("UTC")
            hi = hi if hi.tz is not None else hi.tz_localize("UTC")
            return _us(lo), _us(hi)
    return None


def _parquet_groups(files: tuple[Path, ...], timestamp: str):
    """``(file, row group, min us, max us, rows)`` of every row group, or None when a row group
    lacks statistics or the column is not a Parquet timestamp."""
    out = []
    for f, path in enumerate(files):
        try:
            reader = pq.ParquetFile(path)
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise DataError(
                "the file is not a readable Parquet file (corrupt, cut off, or another format)",
                where=str(path),
                found=first_line(exc, 200),
                fix="write the file again, or remove it from the folder the pattern matches",
            ) from None
        for g in range(reader.metadata.num_row_groups):
            rows = reader.metadata.row_group(g).num_rows
            if rows == 0:
                continue
            stats = _column_stats(reader, g, timestamp)
            if stats is None:
                return None
            out.append((f, g, stats[0], stats[1], rows))
    return out or None


def _held_rows(groups) -> int:
    """The most rows the pyarrow reader would hold back waiting for days to complete (an
    upper bound: rows of row groups read whose maximum reaches past the next boundary)."""
    mins = np.array([g[2] for g in groups], dtype=np.int64)
    later_days = np.floor_divide(np.minimum.accumulate(mins[::-1])[::-1], _US_PER_DAY)
    worst, read = 0, []
    for k, group in enumerate(groups):
        boundary = later_days[k] * _US_PER_DAY
        held = sum(rows for high, rows in read if high >= boundary)
        worst = max(worst, held + group[4])
        read.append((group[3], group[4]))
        read = [(high, rows) for high, rows in read if high >= boundary]
    return worst


def _duckdb_range(files, kind: str, timestamp: str, source: str):
    import duckdb

    paths = [str(f) for f in files]
    ts = _ident(timestamp)
    table = (
        "read_parquet($files)"
        if kind == "parquet"
        else "read_csv($files, all_varchar=true, header=true)"
    )
    con = duckdb.connect(config={"threads": 2})
    try:
        typed = con.execute(f"DESCRIBE SELECT {ts} FROM {table}", {"files": paths}).fetchall()
        native = kind == "parquet" and str(typed[0][1]).upper().startswith("TIMESTAMP")
        expr = ts if native else f"try_cast({ts} AS TIMESTAMPTZ)"
        lo, hi = con.execute(
            f"SELECT epoch_us(min({expr})), epoch_us(max({expr})) FROM {table}", {"files": paths}
        ).fetchone()
    except duckdb.Error as err:
        raise DataError(
            "the serving log's files cannot be read",
            where=source,
            found=first_line(err),
            fix="check that every file is a readable CSV or Parquet file with the case's columns",
        ) from None
    finally:
        con.close()
    if lo is None:
        raise DataError(
            "the serving log has no rows with a time",
            where=f"{source}, column {timestamp!r}",
            expected="ISO 8601 times (YYYY-MM-DD HH:MM:SS with +00:00 or Z)",
            fix="check the log's timestamp column",
        )
    return _stamp(int(lo)), _stamp(int(hi))


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    return table.to_pandas()


def _days(frame: pd.DataFrame, timestamp: str) -> np.ndarray:
    values = pd.DatetimeIndex(frame[timestamp]).as_unit("us").asi8
    return np.floor_divide(values, _US_PER_DAY)


def _sort(frame: pd.DataFrame, timestamp: str) -> pd.DataFrame:
    if frame[timestamp].is_monotonic_increasing:
        return frame.reset_index(drop=True)
    return frame.sort_values(timestamp, kind="stable").reset_index(drop=True)


def _split(frame: pd.DataFrame, timestamp: str, day: int):
    """Rows before UTC day ``day`` and the rest (``frame`` in time order)."""
    cut = int(np.searchsorted(_days(frame, timestamp), day, side="left"))
    return frame.iloc[:cut], frame.iloc[cut:]


def _within(frame: pd.DataFrame, timestamp: str, first: int, last: int) -> pd.DataFrame:
    days = _days(frame, timestamp)
    inside = (days >= first) & (days <= last)
    return frame if inside.all() else frame[inside]


def _hand_on(held: list[pd.DataFrame], timestamp: str, day: int):
    """Split the held rows (frames in reading order) into those of the days before ``day``, in
    stable time order, and the rest, still held."""
    frame = held[0] if len(held) == 1 else pd.concat(held, ignore_index=True)
    ready, rest = _split(_sort(frame, timestamp), timestamp, day)
    return ([rest] if len(rest) else []), ready


def _min_us(times: pa.Array) -> int:
    """The earliest of Parquet timestamps in UTC microseconds, floored (no time if all null:
    such a row fails the timestamp check anyway)."""
    low = pc.min(times).value
    if low is None:
        return int(_NO_TIME)
    unit = times.type.unit
    return low // 1_000 if unit == "ns" else low * _US_PER_UNIT[unit]


def _take(pending: list[pd.DataFrame], timestamp: str, hi: int) -> pd.DataFrame | None:
    """Remove and return the rows of ``pending`` (frames in time order) before day ``hi``."""
    taken: list[pd.DataFrame] = []
    while pending:
        head = pending[0]
        before, rest = _split(head, timestamp, hi)
        if len(before):
            taken.append(before)
        if len(rest):
            pending[0] = rest
            break
        pending.pop(0)
    if not taken:
        return None
    if len(taken) == 1:
        return taken[0].reset_index(drop=True)
    return pd.concat(taken, ignore_index=True)


def preparer(case, columns: Sequence[str], source: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """The canonical form of :func:`prodready.data.validation.prepare` for the given columns of
    a piece of the serving log (its checks apply to each piece; a feature empty in one piece is
    fine, as it is in the whole log unless empty everywhere)."""
    spec = case.spec
    cols = spec.columns
    features = {f.name: f for f in spec.features}
    amount = spec.business.amount if spec.business is not None else None

    def prepare(frame: pd.DataFrame) -> pd.DataFrame:
        where = _Where(source, frame)
        out = frame[[c for c in columns if c in frame.columns]].copy(deep=False)
        for name in columns:
            if name not in frame.columns:
                continue
            series = frame[name]
            if name == cols.timestamp:
                series = _timestamps(series, name, where, required=True)
            elif name == cols.label_time:
                series = _timestamps(series, name, where, required=False)
            elif name == cols.label:
                series = _labels(series, spec, "serving", where)
            elif name == cols.prediction:
                series = _scores(series, name, spec.task, where)
            elif name in features:
                feature = features[name]
                series = (
                    _numbers(series, name, where, what=f"feature {name!r} is numeric")
                    if feature.type == "numeric"
                    else category_text(series)
                )
            elif name == amount:
                series = _numbers(series, name, where, what="an amount of money")
            out[name] = series
        return out

    return prepare
