"""The Spark engine: profiles of tables that live in a cluster (extra ``prodready[spark]``).

The SQL of :mod:`prodready.engine.sql` runs in Spark; only small aggregates come back to the
driver, as Arrow. Spark has no ``ASOF JOIN``, so a value finds its bin with
``pyspark.ml.feature.Bucketizer`` (a binary search per value). Bucketizer's buckets are closed
on the left (``[a, b)``) while a profile's bins are closed on the right (``(a, b]``): the
engine bucketizes ``-x`` on the negated, reversed edges, which gives exactly the right-closed
bins, values on an edge included (``-0.0`` is folded into ``0.0`` first, because Bucketizer
orders ``-0.0`` below ``0.0``).

Groups are calendar months or days in UTC: the session time zone is set to UTC while the engine
runs and restored afterwards.

Layouts (:func:`layouts_from_table`) need the reference's exact order statistics and numpy's
``np.std``: Spark sorts the finite values of all numeric columns (one sort) and they come to
the driver, in one Arrow transfer up to :data:`~prodready.engine.sql.KEEP_SORTED` values, else
a partition at a time (``toLocalIterator``) and a second time per column above that size. Fine
for a training set of tens of millions of rows; for a larger reference, build the layouts once
from a sample (or with the DuckDB engine from exported files) and save them with the profiles.
"""

from __future__ import annotations

import contextlib
import itertools
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from prodready.engine import sql as sql_module
from prodready.engine.layout import MAX_CATEGORIES, Layout, NumericLayout
from prodready.engine.profile import ProfileSet
from prodready.engine.sql import (
    FREQUENCIES,
    SPARK,
    Progress,
    bins_table,
    categorical_counts,
    compute_layouts,
    compute_profiles,
    is_finite,
    label_text,
)
from prodready.errors import DataError, ParameterError, first_line

__all__ = [
    "ENGINE",
    "layouts_from_table",
    "profile_table",
    "session",
    "table_frame",
    "table_labels",
    "table_sample",
    "table_schema",
    "table_stats",
    "utc_session",
]

ENGINE = "spark"
_BATCH = 1 << 16
_NUMERIC = (
    "ByteType",
    "ShortType",
    "IntegerType",
    "LongType",
    "FloatType",
    "DoubleType",
    "DecimalType",
    "BooleanType",
)
_TIME = ("TimestampType", "TimestampNTZType", "DateType")


def _pyspark():
    """pyspark, or a ParameterError saying how to install it."""
    try:
        import pyspark  # noqa: F401
        from pyspark.sql import DataFrame, SparkSession
    except ImportError as err:
        raise ParameterError(
            "the Spark engine needs pyspark, which is not installed",
            fix="install prodready[spark] (pip install 'prodready[spark]'), which brings "
            "pyspark 4; Spark also needs Java 17 or later",
        ) from err
    return DataFrame, SparkSession


def session(spark: Any = None) -> Any:
    """The Spark session a case's tables are read through: ``spark`` when given, else the
    active session (a notebook or job on a cluster has one), else a new one from the
    environment's settings (``spark-defaults.conf``, ``PYSPARK_SUBMIT_ARGS``, ``SPARK_REMOTE``
    for Spark Connect; local mode when nothing says otherwise)."""
    _, session_type = _pyspark()
    if spark is not None:
        return spark
    active = session_type.getActiveSession()
    if active is not None:
        return active
    try:
        return session_type.builder.appName("prodready").getOrCreate()
    except Exception as err:  # Java missing, a cluster that does not answer, ...
        raise ParameterError(
            "cannot start a Spark session to read the case's tables",
            found=first_line(err, None),
            fix="start prodready where Spark runs (spark-submit, a cluster notebook), or set "
            "SPARK_REMOTE or spark-defaults.conf; Spark needs Java 17 or later",
        ) from err


_ZONE = "spark.sql.session.timeZone"


@contextlib.contextmanager
def utc_session(spark: Any) -> Iterator[None]:
    """Spark's session time zone UTC within (months and days are UTC ones), the caller's
    again after (unset again when it was unset)."""
    zone = spark.conf.get(_ZONE, None)
    spark.conf.set(_ZONE, "UTC")
    try:
        yield
    finally:
        if zone is None:
            spark.conf.unset(_ZONE)
        else:
            spark.conf.set(_ZONE, zone)


class _SparkBackend:
    dialect = SPARK

    def __init__(self, data: Any, spark: Any) -> None:
        data_frame_type, session_type = _pyspark()
        from pyspark.errors import AnalysisException

        self._analysis_error = AnalysisException
        if isinstance(data, str):
            spark = spark or session_type.getActiveSession()
            if spark is None:
                raise ParameterError(
                    f"no Spark session to read table {data!r} from",
                    fix="pass spark=SparkSession.builder.getOrCreate() or a DataFrame",
                )
            try:
                frame = spark.table(data)
            except AnalysisException as err:
                raise DataError(
                    "is not a table or view Spark knows",
                    where=f"table {data!r}",
                    found=first_line(err, None),
                    fix="check the table's name and database (spark.catalog.listTables())",
                ) from err
            self.where = f"table {data!r}"
        elif isinstance(data, data_frame_type):
            frame = data
            spark = spark or frame.sparkSession
            self.where = "the Spark DataFrame"
        else:
            raise ParameterError(
                "the Spark engine profiles a Spark DataFrame or a table name",
                found=type(data).__name__,
                fix="pass spark.read.parquet(...) or the name of a table",
            )
        self.spark = spark
        self.frame = frame
        self.table = f"prodready_{uuid.uuid4().hex}"
        self._views = [self.table]
        self._utc = utc_session(spark)
        self._utc.__enter__()
        frame.createOrReplaceTempView(self.table)
        self.schema = {f.name: type(f.dataType).__name__ for f in frame.schema.fields}

    # -- the SqlBackend protocol -------------------------------------------------------------

    def query(self, sql: str) -> pa.Table:
        return self._sql(sql).toArrow()

    def register(self, name: str, table: pa.Table) -> str:
        view = f"{self.table}_{name}"
        self.spark.createDataFrame(table).createOrReplaceTempView(view)
        self._views.append(view)
        return view

    def binned(self, wide: str, layouts: Sequence[NumericLayout]) -> str:
        from pyspark.ml.feature import Bucketizer
        from pyspark.sql import functions as F
        from pyspark.sql.types import DoubleType, LongType, StructField, StructType

        # Bucketizer: [s_k, s_k+1). On y = -x with the splits -e reversed, bucket k of y is bin
        # len(edges) - k of x, (e[j-1], e[j]]. "+ 0.0" turns -0.0 into 0.0 on both sides
        # (Bucketizer's binary search puts -0.0 below 0.0). Non-finite values are bucketized
        # as 0 and dropped after stacking. All columns in one pass (splitsArray).
        count = len(layouts)
        frame = self._sql(wide)
        for c in range(count):
            x = F.col(f"x{c}")
            finite = x.isNotNull() & ~F.isnan(x) & (F.abs(x) != F.lit(float("inf")))
            frame = frame.withColumn(f"y{c}", F.when(finite, -x + F.lit(0.0)).otherwise(0.0))
        splits = [
            [-np.inf, *(float(-e + 0.0) for e in layout.edges[::-1]), np.inf] for layout in layouts
        ]
        bucketizer = Bucketizer(
            splitsArray=splits,
            inputCols=[f"y{c}" for c in range(count)],
            outputCols=[f"k{c}" for c in range(count)],
        )
        frame = bucketizer.transform(frame)
        pairs = ", ".join(
            f"{c}, CAST({layout.edges.size} - k{c} AS BIGINT), x{c}"
            for c, layout in enumerate(layouts)
        )
        stacked = frame.select("g", F.expr(f"stack({count}, {pairs}) AS (c, j, x)")).where(
            F.expr(is_finite("x"))
        )
        bins = bins_table(layouts)
        schema = StructType(
            [
                StructField("c", LongType(), False),
                StructField("j", LongType(), False),
                StructField("e", DoubleType(), False),
                StructField("anchor", DoubleType(), False),
            ]
        )
        rows = list(
            zip(
                (int(v) for v in bins.column("c").to_pylist()),
                (int(v) for v in bins.column("j").to_pylist()),
                (float(v) for v in bins.column("e").to_pylist()),
                (float(v) for v in bins.column("anchor").to_pylist()),
                strict=True,
            )
        )
        table = self.spark.createDataFrame(rows, schema)
        stacked = stacked.withColumn("c", F.col("c").cast("long"))
        binned = stacked.join(F.broadcast(table), on=["c", "j"]).select(
            "c", "g", "j", "x", "e", "anchor"
        )
        name = f"{self.table}_binned"
        binned.createOrReplaceTempView(name)
        self._views.append(name)
        return f"{name} AS b"

    def sorted_batches(self, sql: str, rows: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        frame = self._sql(sql)
        if (
            rows <= sql_module.KEEP_SORTED
        ):  # kept in memory by the layout anyway: one Arrow transfer
            table = frame.toArrow()
            for batch in table.to_batches(max_chunksize=_BATCH):
                yield (
                    np.asarray(batch.column(0).to_numpy(zero_copy_only=False), dtype=np.int64),
                    np.asarray(batch.column(1).to_numpy(zero_copy_only=False), dtype=np.float64),
                )
            return
        iterator = frame.toLocalIterator(prefetchPartitions=True)  # one partition at a time
        while True:
            chunk = list(itertools.islice(iterator, _BATCH))
            if not chunk:
                return
            yield (
                np.fromiter((r[0] for r in chunk), dtype=np.int64, count=len(chunk)),
                np.fromiter((r[1] for r in chunk), dtype=np.float64, count=len(chunk)),
            )

    # -- helpers -----------------------------------------------------------------------------

    def _sql(self, sql: str):
        try:
            return self.spark.sql(sql)
        except self._analysis_error as err:
            raise DataError(
                "cannot be profiled as asked",
                where=self.where,
                found=first_line(err, None),
                fix="check the column names and types",
            ) from err

    def require(self, columns: Sequence[str], numeric: Sequence[str], by: str | None) -> None:
        for name in columns:
            if name not in self.schema:
                shown = ", ".join(repr(c) for c in list(self.schema)[:20])
                raise DataError(
                    f"has no column {name!r}",
                    where=self.where,
                    expected=f"one of {shown}",
                    fix="check the column's name or the table given",
                )
        for name in numeric:
            if self.schema[name] not in _NUMERIC:
                raise DataError(
                    f"column {name!r} holds {self.schema[name]} values, not numbers",
                    where=self.where,
                    expected="a numeric column",
                    fix="declare the column categorical, or convert it to numbers",
                )
        if by is not None and self.schema[by] not in _TIME:
            raise DataError(
                f"column {by!r} holds {self.schema[by]} values, not timestamps",
                where=self.where,
                expected="a timestamp column",
                fix="name the timestamp column in by=",
            )

    def close(self) -> None:
        for name in self._views:
            self.spark.catalog.dropTempView(name)
        self._utc.__exit__(None, None, None)

    def __enter__(self) -> _SparkBackend:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def layouts_from_table(
    data: Any,
    numeric: Sequence[str] = (),
    categorical: Sequence[str] = (),
    *,
    max_categories: int = MAX_CATEGORIES,
    spark: Any = None,
    progress: Progress | None = None,
) -> dict[str, Layout]:
    """Layouts of the listed columns of a reference Spark DataFrame or table: equal, bit for bit,
    to ``numpy_engine.layouts_for`` of the same data (see the module docstring for the cost)."""
    with _SparkBackend(data, spark) as backend:
        backend.require([*numeric, *categorical], numeric, None)
        return compute_layouts(
            backend,
            numeric,
            categorical,
            max_categories=max_categories,
            progress=progress,
        )


def profile_table(
    data: Any,
    layouts: Mapping[str, Layout],
    *,
    by: str | None = None,
    freq: str = "MS",
    description: str = "",
    spark: Any = None,
    progress: Progress | None = None,
) -> ProfileSet:
    """One profile per column in ``layouts`` of a Spark DataFrame or table (name), for the
    whole data or per calendar month (``freq="MS"``) or day (``"D"``) of the timestamp column
    ``by`` in UTC: the same :class:`ProfileSet` as ``profile_frame`` of the same data (counts
    exactly; offsets, means and ``m2`` up to the order of floating sums).

    ``spark`` is the session to read a table name from (default: the active one);
    ``progress(fraction, message)`` is called before each column."""
    if freq not in FREQUENCIES:
        raise ParameterError(
            f"unknown period {freq!r}", expected="'MS' (calendar month) or 'D' (day)"
        )
    with _SparkBackend(data, spark) as backend:
        numeric = [n for n, lay in layouts.items() if isinstance(lay, NumericLayout)]
        backend.require([*layouts, *([by] if by else [])], numeric, by)
        profiles, rows = compute_profiles(backend, layouts, by=by, freq=freq, progress=progress)
        source: dict[str, object] = {
            "engine": ENGINE,
            "rows": rows["rows"],
            "description": description,
        }
        if by is not None:
            source["rows_without_time"] = rows["rows"] - rows["timed"]
        return ProfileSet(layouts=dict(layouts), profiles=profiles, source=source)


# --------------------------------------------------------------------------------------------
# A case's data in a Spark table: what the loader and the skew audit ask of it


def table_schema(table: str, *, spark: Any = None) -> dict[str, str]:
    """Column name -> Spark SQL type in capitals (``TIMESTAMP``, ``DOUBLE``, ``STRING``,
    ``DECIMAL(10,2)``...) of a table or view; nothing is read but the catalog."""
    with _SparkBackend(table, spark) as backend:
        return {f.name: f.dataType.simpleString().upper() for f in backend.frame.schema.fields}


def table_stats(
    table: str, columns: Sequence[str], *, spark: Any = None
) -> tuple[int, dict[str, dict]]:
    """The table's rows and, per column, ``nulls``, ``min`` and ``max`` (one scan): what
    Parquet's row-group statistics give the loader for files. Booleans have no range."""
    with _SparkBackend(table, spark) as backend:
        quote = SPARK.quote
        parts = ["COUNT(*) AS total_rows"]
        for k, name in enumerate(columns):
            parts.append(f"COUNT(*) - COUNT({quote(name)}) AS nulls{k}")
            if backend.schema[name] in _NUMERIC and backend.schema[name] != "BooleanType":
                parts.append(f"MIN({quote(name)}) AS min{k}, MAX({quote(name)}) AS max{k}")
        found = backend.query(f"SELECT {', '.join(parts)} FROM {backend.table}").to_pylist()[0]
    stats = {
        name: {
            "nulls": int(found[f"nulls{k}"]),
            "min": _number(found.get(f"min{k}")),
            "max": _number(found.get(f"max{k}")),
        }
        for k, name in enumerate(columns)
    }
    return int(found["total_rows"]), stats


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def table_frame(table: str, *, spark: Any = None) -> pd.DataFrame:
    """The whole table in memory (one Arrow transfer), for a case loaded without ``lazy``."""
    with _SparkBackend(table, spark) as backend:
        return backend.query(f"SELECT * FROM {backend.table}").to_pandas()


def table_sample(
    table: str, *, rows: int, sample_rows: int, seed: int, timestamp: str, spark: Any = None
) -> pd.DataFrame:
    """A uniform random sample of ``sample_rows`` rows of a table of ``rows`` rows (all rows
    when it is no larger), in time order: Spark draws it as the ``sample_rows`` rows with the
    smallest ``rand(seed)`` (a top-k per partition, then merged: the table is never sorted),
    so it is the same sample at every run on the same table."""
    with _SparkBackend(table, spark) as backend:
        query = f"SELECT * FROM {backend.table}"
        if rows > sample_rows:
            query += f" ORDER BY rand({int(seed)}) LIMIT {int(sample_rows)}"
        frame = backend.query(query).to_pandas()
    return frame.sort_values(timestamp, kind="stable", ignore_index=True)


def table_labels(table: str, columns: Sequence[str], *, spark: Any = None) -> dict[str, list[str]]:
    """The distinct labels of each categorical column, as the loader's text
    (:func:`~prodready.engine.sql.label_text`)."""
    out: dict[str, list[str]] = {}
    with _SparkBackend(table, spark) as backend:
        for name, counts in categorical_counts(backend, list(columns), None):
            text, missing = label_text(counts.column("label"))
            out[name] = sorted(set(text[~missing].tolist()))
    return out
