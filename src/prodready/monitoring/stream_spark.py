"""The serving log read from a Spark table day by day, for a replay that never holds the table.

A case file's serving source may name a table (``table: db.name``) instead of files.
:func:`open_table_log` asks Spark one small question, the rows of every UTC day and the first
and last time; :meth:`SparkTableLog.spans` then plans spans of whole UTC days from those counts
(``chunk_days`` days, ended early once they pass :data:`~prodready.monitoring.stream.
MAX_SPAN_ROWS` rows) and fetches each with one query, ``WHERE time >= lo AND time < hi ORDER
BY time, ...``, as Arrow (``toArrow()``); the spans are then assembled exactly as for files
(:func:`~prodready.monitoring.stream.assemble_spans`). Memory holds one span, never the table.

Frames are what the file reader gives for the same rows: a ``TimestampType`` column comes as
UTC-aware microseconds whatever Spark's Arrow settings, a ``TimestampNTZType`` one naive (the
loader takes naive times as UTC), and ``prepare`` puts them in the loader's canonical form.
Spark's session time zone is UTC while a query is built and run (days are UTC days, and naive
times are read as UTC), and restored right after, so other work between spans is unaffected.

Order of rows with the same time. Files keep such rows in file order; a table has no order,
so they are ordered by the ``order_by`` columns (the replay passes the case's id column). Does
the replay depend on that order? Counts, shares, the most frequent value, the score's PSI and
ROC AUC do not; but sums of floating-point values (the mean score, money and amounts per day,
the label-free estimate) are added in row order, so another order of equal-time rows can change
their last bits. With the id as tie-break the replay of a table is bit for bit the replay of
files written in time-then-id order (the sample generator's order); otherwise it agrees up to
rounding. (On the 20,000-row card-fraud sample saved as a shuffled table, 3 of its 8 groups of
equal-time transactions come back out of id order without the tie-break, and the replay is
still bit for bit the same: adding two values in the other order rarely changes a sum.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from prodready.engine.spark_engine import utc_session
from prodready.errors import DataError, first_line
from prodready.monitoring import stream
from prodready.monitoring.stream import (
    _day_of,
    _days,
    _stamp,
    _to_pandas,
    assemble_spans,
    empty_span,
    span_columns,
)

__all__ = ["SparkTableLog", "open_table_log", "plan_spans"]

# Spark types of a time column -> the expression that reads it as a Spark TIMESTAMP (an instant)
_TIME_TYPES = {
    "TimestampType": "{c}",
    "TimestampNTZType": "CAST({c} AS TIMESTAMP)",  # naive: UTC, the session's zone meanwhile
    "DateType": "CAST({c} AS TIMESTAMP)",  # midnight UTC
    "StringType": "try_cast({c} AS TIMESTAMP)",  # ISO 8601 text; unreadable text -> NULL
}


@dataclass(frozen=True, eq=False)
class SparkTableLog:
    """The serving log in a Spark table: what it holds, and its rows per UTC day.

    The same attributes and :meth:`spans` as :class:`~prodready.monitoring.stream.ServingLog`,
    which is all the replay uses."""

    table: str
    columns: tuple[str, ...]
    first_time: pd.Timestamp
    last_time: pd.Timestamp
    timestamp: str
    source: str  # what messages call the log
    order_by: tuple[str, ...] = ()  # tie-break after the time (module docstring)
    rows_by_day: dict[int, int] = field(default_factory=dict, repr=False)
    _spark: Any = field(default=None, repr=False)
    _time: str = field(default="", repr=False)  # the time column as a Spark TIMESTAMP

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
        """``(lo, hi, frame)`` for consecutive spans of whole UTC days, as
        :meth:`ServingLog.spans <prodready.monitoring.stream.ServingLog.spans>`: the rows of days
        ``lo`` to ``hi - 1``, prepared by ``prepare`` and in time order (ties by ``order_by``),
        one Spark query per span with traffic."""
        first = self.first_day if first_day is None else first_day
        last = self.last_day if last_day is None else last_day
        columns = span_columns(self.timestamp, columns)
        pieces = self._pieces(columns, prepare, first, last, chunk_days)
        yield from assemble_spans(
            pieces, self.timestamp, empty_span(columns, prepare), first, last, chunk_days
        )

    def _pieces(self, columns, prepare, first: int, last: int, chunk_days: int):
        """``(hi, frame)`` per planned span: every day before ``hi`` is then read in full."""
        for lo, hi, rows in plan_spans(self.rows_by_day, first, last, chunk_days):
            if rows == 0:
                yield hi, None  # no traffic: no query
                continue
            frame = prepare(_to_pandas(self._fetch(columns, lo, hi)))
            self._check_span(frame, lo, hi)
            yield hi, frame

    def _fetch(self, columns: Sequence[str], lo: int, hi: int) -> pa.Table:
        """The rows of days ``lo`` to ``hi - 1`` in time order, as Arrow with canonical times."""
        from pyspark.sql import functions as F

        start, end = lo * _US_PER_DAY, hi * _US_PER_DAY
        time = self._time
        within = f"{time} >= timestamp_micros({start}) AND {time} < timestamp_micros({end})"
        order = [F.expr(time), *(F.expr(_quote(c)) for c in self.order_by)]
        with utc_session(self._spark):
            try:
                query = (
                    self._spark.table(self.table)
                    .where(F.expr(within))
                    .orderBy(*order)
                    .select(*(F.expr(_quote(c)) for c in columns))
                )
                table = query.toArrow()
            except _spark_errors() as err:
                raise DataError(
                    "the serving table cannot be read in time order",
                    where=f"{self.source} (Spark table {self.table})",
                    found=first_line(err),
                    fix="check that the table still has the case's columns and that Spark can "
                    "read its files",
                ) from None
        return _canonical_times(table, query.schema)

    def _check_span(self, frame: pd.DataFrame, lo: int, hi: int) -> None:
        """Spark and pandas must read the times alike (only text times can differ)."""
        if not len(frame):
            return
        days = _days(frame, self.timestamp)
        if days.min() < lo or days.max() >= hi or not frame[self.timestamp].is_monotonic_increasing:
            raise DataError(
                "Spark and prodready read the serving table's timestamps differently",
                where=f"{self.source} (Spark table {self.table}), column {self.timestamp!r}",
                expected="a TIMESTAMP column, or ISO 8601 text (YYYY-MM-DD HH:MM:SS with +00:00 "
                "or Z)",
                fix="store the time as a Spark TIMESTAMP, or write it in ISO 8601",
            )


def open_table_log(
    table: str,
    *,
    timestamp: str,
    source: str,
    spark: Any = None,
    order_by: Sequence[str] = (),
) -> SparkTableLog:
    """Look at a serving log in a Spark table: its columns, and its rows per UTC day and first
    and last time in one small query. ``spark`` is the session (default:
    :func:`prodready.engine.spark_engine.session`); ``order_by`` orders rows of equal time
    (module docstring). Raises :class:`~prodready.errors.DataError` for an unknown table, a
    missing or unusable timestamp column, rows without a time, or an empty table."""
    from prodready.engine.spark_engine import session

    spark = session(spark)  # a ParameterError saying how to install pyspark when it is missing
    from pyspark.errors import AnalysisException
    from pyspark.sql import functions as F

    where = f"{source} (Spark table {table})"
    try:
        frame = spark.table(table)
        fields = frame.schema.fields  # Spark Connect resolves the name only here
    except AnalysisException as err:
        raise DataError(
            "is not a table or view Spark knows",
            where=where,
            found=first_line(err),
            fix="check the table's name and database in the case file (serving: {table: "
            "db.name}); spark.catalog.listTables() lists them",
        ) from None
    kinds = {f.name: type(f.dataType).__name__ for f in fields}
    columns = tuple(kinds)
    shown = f"{len(columns)} columns: {', '.join(columns[:12])}"
    if timestamp not in kinds:
        raise DataError(
            f"the serving log lacks the timestamp column {timestamp!r}",
            where=where,
            found=shown,
            fix="name the log's time column in the case (columns: {timestamp: COLUMN})",
        )
    if kinds[timestamp] not in _TIME_TYPES:
        raise DataError(
            f"the timestamp column {timestamp!r} holds {kinds[timestamp]} values, not times",
            where=where,
            expected="a TIMESTAMP, TIMESTAMP_NTZ or DATE column, or ISO 8601 text",
            fix="store the time as a Spark TIMESTAMP (to_timestamp(column))",
        )
    missing = [c for c in order_by if c not in kinds]
    if missing:
        raise DataError(
            f"the serving log lacks the column {missing[0]!r} that orders rows of equal time",
            where=where,
            found=shown,
            fix="name the log's id column in the case (columns: {id: COLUMN}), or leave it out",
        )
    time = _TIME_TYPES[kinds[timestamp]].format(c=_quote(timestamp))
    with utc_session(spark):
        try:
            counts = (
                frame.select(F.expr(time).alias("t"))
                .groupBy(F.expr("unix_date(CAST(t AS DATE))").alias("day"))
                .agg(
                    F.count(F.lit(1)).alias("rows"),
                    F.expr("unix_micros(min(t))").alias("lo"),
                    F.expr("unix_micros(max(t))").alias("hi"),
                )
                .toArrow()
            )
        except _spark_errors() as err:
            raise DataError(
                "the serving table cannot be read",
                where=where,
                found=first_line(err),
                fix="check that Spark can read the table's files",
            ) from None
    days = counts.column("day").to_pylist()
    rows = counts.column("rows").to_pylist()
    if None in days:
        raise DataError(
            f"{rows[days.index(None)]:,} row(s) have no timestamp, or one that is not a time",
            where=f"{where}, column {timestamp!r}",
            expected="a time on every row (when the prediction was made), ISO 8601 for text",
            fix="fill in or correct the timestamps, or drop those rows",
        )
    if not days:
        raise DataError("the serving log has no rows", where=where)
    return SparkTableLog(
        table=table,
        columns=columns,
        first_time=_stamp(int(pc.min(counts.column("lo")).as_py())),
        last_time=_stamp(int(pc.max(counts.column("hi")).as_py())),
        timestamp=timestamp,
        source=source,
        order_by=tuple(order_by),
        rows_by_day={int(d): int(n) for d, n in zip(days, rows, strict=True)},
        _spark=spark,
        _time=time,
    )


def plan_spans(
    rows_by_day: dict[int, int], first: int, last: int, chunk_days: int
) -> Iterator[tuple[int, int, int]]:
    """``(lo, hi, rows)`` of consecutive spans of days ``first`` to ``last``: ``chunk_days``
    days each, or fewer once their rows reach :data:`~prodready.monitoring.stream.MAX_SPAN_ROWS`
    (where :func:`~prodready.monitoring.stream.assemble_spans` cuts a span too)."""
    limit = stream.MAX_SPAN_ROWS  # read at each call: a test may lower it
    lo = first
    while lo <= last:
        hi, rows = lo, 0
        while hi <= last and hi < lo + chunk_days and rows < limit:
            rows += rows_by_day.get(hi, 0)
            hi += 1
        yield lo, hi, rows
        lo = hi


# --------------------------------------------------------------------------------------------
# Helpers

_US_PER_DAY = 86_400_000_000


def _quote(name: str) -> str:
    """A column name for Spark SQL, whatever characters it holds."""
    return "`" + name.replace("`", "``") + "`"


def _spark_errors() -> tuple[type[BaseException], ...]:
    """Spark's own exceptions (classic and Connect), turned into a DataError by the caller."""
    from pyspark.errors import PySparkException

    errors: tuple[type[BaseException], ...] = (PySparkException,)
    try:
        from py4j.protocol import Py4JError
    except ImportError:  # Spark Connect without py4j
        return errors
    return (*errors, Py4JError)


def _canonical_times(table: pa.Table, schema: Any) -> pa.Table:
    """Spark ``TimestampType`` columns as UTC-aware microseconds, as the Parquet reader gives a
    column of instants (Spark's Arrow output may carry another zone, or none: then UTC, the
    session's zone while the query ran)."""
    instants = {f.name for f in schema.fields if type(f.dataType).__name__ == "TimestampType"}
    utc = pa.timestamp("us", tz="UTC")
    for i, name in enumerate(table.column_names):
        column = table.column(i)
        if name not in instants or column.type == utc:
            continue
        if column.type.tz is None:
            column = pc.assume_timezone(column, "UTC")
        table = table.set_column(i, name, column.cast(utc))
    return table
