"""Row-level skew on Spark: the training data and the serving log joined on the id column where
they live, in the cluster, when a case names Spark tables (a log too large to copy out).

The join and every count are those of :mod:`prodready.engine.rows_sql`, from the same SQL text
in Spark's dialect (one ``_compare`` for both engines), so the counts, the medians and the unit
hints are DuckDB's. The examples and the scatter pairs follow the same rules but are picked by
Spark's ``hash`` of the id and the seed, so they may be other rows than DuckDB's (the same ones
on every run).

While it runs, the session time zone is UTC and Spark's window group limit covers the scatter
pairs (:data:`GROUP_LIMIT`), both restored after; the data sets are temporary views and the
joined rows a cached temporary view, all dropped after. Only aggregates and the picked rows
come to the driver.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from prodready.engine.rows_sql import JoinedRows, JoinEngine, Rows, _compare, _Side
from prodready.engine.spark_engine import _pyspark, _SparkBackend, session
from prodready.engine.sql import SPARK
from prodready.errors import DataError, ParameterError, first_line

__all__ = ["compare_rows_spark"]

_TEXT_KINDS = {
    "BooleanType": "BOOLEAN",
    "StringType": "VARCHAR",
    "VarcharType": "VARCHAR",
    "CharType": "VARCHAR",
}
"""Spark types named as :func:`~prodready.engine.rows_sql.text_sql` knows them: booleans become
``True``/``False`` and text stays as it is; every other type is cast to text (integers as
their digits), as the loader reads them."""


GROUP_LIMIT = "spark.sql.optimizer.windowGroupLimitThreshold"
"""Spark keeps only the first rows of each window partition before the shuffle (a window group
limit) when the ``row_number()`` bound is at most this setting (1,000 by default): the scatter
pairs' 2,000 rows per feature need it raised, or every candidate row would be shuffled."""


def _raise_group_limit(spark: Any, rows: int, restore: dict[str, str | None]) -> None:
    """Let :data:`GROUP_LIMIT` cover ``rows`` while the comparison runs (the old value goes to
    ``restore``)."""
    current = spark.conf.get(GROUP_LIMIT, None)
    if current is not None and int(current) >= rows:
        return
    restore[GROUP_LIMIT] = current
    spark.conf.set(GROUP_LIMIT, str(rows))


def compare_rows_spark(
    training: Any,
    serving: Any,
    *,
    spark: Any = None,
    id_column: str,
    timestamp: str,
    features: Sequence[tuple[str, str]],
    rtol: float,
    atol: float,
    examples: int,
    seed: int,
    max_pairs: int,
    factors: Sequence[float],
    tolerance: float,
    min_ratios: int,
) -> JoinedRows | None:
    """:func:`~prodready.engine.rows_sql.compare_rows` in Spark: join ``training`` with
    ``serving`` on ``id_column`` and compare each of ``features`` (``(name, "numeric" |
    "categorical")``) row by row; None when no id is shared.

    Each of ``training`` and ``serving`` is a table name, a Spark DataFrame, a canonical pandas
    frame (the loader's; its needed columns are sent to Spark) or a list of Parquet files.
    ``spark``: the session (default :func:`~prodready.engine.spark_engine.session`). A table,
    file or column that is not there is a :class:`~prodready.errors.DataError`."""
    spark = session(spark)
    names = list(dict.fromkeys([id_column, timestamp, *(name for name, _ in features)]))
    numeric = [name for name, kind in features if kind == "numeric"]
    options = {
        "id_column": id_column,
        "timestamp": timestamp,
        "features": features,
        "rtol": rtol,
        "atol": atol,
        "examples": examples,
        "seed": seed,
        "max_pairs": max_pairs,
        "factors": factors,
        "tolerance": tolerance,
        "min_ratios": min_ratios,
    }
    left_data = _spark_data(spark, training, names, "the training data")
    right_data = _spark_data(spark, serving, names, "the serving log")
    with (
        _SparkBackend(left_data, spark) as left,
        _SparkBackend(right_data, spark) as right,
    ):
        sides = ((left, training, "training data"), (right, serving, "serving log"))
        for backend, data, role in sides:
            backend.where = f"the {role} ({_described(data)})"
            backend.require(names, numeric, timestamp)
        engine = JoinEngine(
            SPARK,
            _runner(spark, f"{left.where} joined with {right.where} on {id_column!r}"),
            joined=f"prodready_joined_{uuid.uuid4().hex}",
        )
        restore: dict[str, str | None] = {}  # session settings changed while running
        try:
            _raise_group_limit(spark, max(int(examples), int(max_pairs)), restore)
            return _compare(
                engine,
                _Side(left.table, _kinds(training, left.schema, names)),
                _Side(right.table, _kinds(serving, right.schema, names)),
                **options,
            )
        finally:
            spark.sql(f"UNCACHE TABLE IF EXISTS {engine.joined}")
            spark.catalog.dropTempView(engine.joined)
            for key, value in restore.items():
                if value is None:
                    spark.conf.unset(key)
                else:
                    spark.conf.set(key, value)


def _runner(spark: Any, where: str) -> Rows:
    """The "run this SQL, give its rows" of the shared comparison, on Spark: rows through one
    Arrow transfer; Spark's own errors become one DataError saying where."""
    from pyspark.errors import PySparkException

    failures: tuple[type[BaseException], ...] = (PySparkException,)
    try:  # a JVM error that PySpark does not translate (classic, not Spark Connect)
        from py4j.protocol import Py4JError

        failures = (*failures, Py4JError)
    except ImportError:
        pass

    def rows(query: str) -> list[tuple[Any, ...]]:
        try:
            frame = spark.sql(query)
            if not frame.columns:  # a statement (CACHE TABLE): it has run
                return []
            table = frame.toArrow()
        except failures as err:
            raise DataError(
                "Spark could not compare the rows",
                where=where,
                found=first_line(err),
                fix="check that both can be read in this session (spark.table(...).show()) and "
                "that the cluster has the memory for the join",
            ) from err
        return list(zip(*(column.to_pylist() for column in table.columns), strict=True))

    return rows


def _kinds(data: Any, schema: dict[str, str], names: Sequence[str]) -> dict[str, str]:
    """Each column's type in :func:`~prodready.engine.rows_sql.text_sql`'s words. The loader's
    frame holds categorical values as text already: cast, never reformat (as DuckDB does)."""
    if isinstance(data, pd.DataFrame):
        return dict.fromkeys(names, "TEXT")
    return {name: _TEXT_KINDS.get(schema[name], schema[name]) for name in names}


def _described(data: Any) -> str:
    if isinstance(data, str):
        return f"Spark table {data!r}"
    if isinstance(data, pd.DataFrame):
        return "the frame in memory"
    if isinstance(data, list | tuple):
        return f"{len(data):,} Parquet file(s)"
    return "the Spark DataFrame"


def _spark_data(spark: Any, data: Any, names: Sequence[str], role: str) -> Any:
    """What :class:`~prodready.engine.spark_engine._SparkBackend` reads: a table name or a Spark
    DataFrame as given; a pandas frame's needed columns, or Parquet files, as a DataFrame."""
    data_frame_type, _ = _pyspark()
    if isinstance(data, str | data_frame_type):
        return data
    if isinstance(data, pd.DataFrame):
        absent = [name for name in names if name not in data.columns]
        if absent:
            raise DataError(
                f"has no column {absent[0]!r}",
                where=f"{role} (the frame in memory)",
                expected=f"the columns {', '.join(repr(n) for n in names)}",
                fix="check the column's name in the case file",
            )
        return spark.createDataFrame(_arrow(data[list(names)]))
    if isinstance(data, list | tuple) and data:
        paths = [Path(p) for p in data]
        other = [p for p in paths if p.suffix.lower() != ".parquet"]
        if other:
            raise ParameterError(
                "the Spark row comparison reads Parquet files only",
                where=role,
                found=str(other[0]),
                fix="name a Spark table, or convert the files to Parquet",
            )
        from pyspark.errors import AnalysisException

        try:
            return spark.read.parquet(*(str(p) for p in paths))
        except AnalysisException as err:
            raise DataError(
                "cannot be read by Spark",
                where=f"{role} ({len(paths):,} Parquet file(s), first {paths[0]})",
                found=first_line(err, None),
                fix="check that the files exist and are Parquet",
            ) from err
    raise ParameterError(
        "the Spark row comparison reads a table name, a Spark DataFrame, a pandas frame or a "
        "list of Parquet files",
        where=role,
        found=type(data).__name__,
        fix="pass the name of a table, spark.read.parquet(...) or the case's frame",
    )


def _arrow(frame: pd.DataFrame) -> pa.Table:
    """The frame as Arrow types Spark takes: plain strings (not large or dictionary-encoded)
    and timestamps in microseconds (Spark's precision)."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    fields = []
    for field in table.schema:
        kind = field.type
        if pa.types.is_dictionary(kind):
            kind = kind.value_type
        if pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
            kind = pa.string()
        elif pa.types.is_timestamp(kind):
            kind = pa.timestamp("us", tz=kind.tz)
        fields.append(pa.field(field.name, kind))
    return table.cast(pa.schema(fields), safe=False)
