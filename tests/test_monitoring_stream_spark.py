"""The monitoring replay streamed from a Spark table gives what it gives streamed from files.

The card-fraud sample's serving log (20,000 transactions of the year, about 10,800 served) is
saved as a Spark table whose rows are shuffled across partitions, so the table's own order is
not the file's: the spans come back in the file's order only because each span query orders by
time and then by the case's id (the generator writes rows in time-then-id order; without the
tie-break, 3 of the sample's 8 groups of equal-time rows came back in another order when
checked). Equality is exact (``check_exact``), frame by frame and replay by replay.

One local Spark session for the whole test run (the ``spark`` fixture of ``conftest.py``).
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import pyarrow as pa
import pytest

import prodready
from prodready import samples
from prodready.case import DataSource
from prodready.errors import DataError
from prodready.monitoring import replay, stream_spark
from prodready.monitoring import stream as streaming

pytestmark = [
    pytest.mark.slow,  # Spark jobs: 0.5 to 3 s each on two busy cores, plus the session
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
]

TABLE = "prodready_test_stream_spark_serving"
TEXT_VIEW = "prodready_test_stream_spark_text_times"
TIME, ID = "event_time", "transaction_id"
COLUMNS = ["score", "is_fraud", "label_time", "amount", "merchant_category", "txn_count_24h"]


def assert_same(a, b) -> None:
    """Two replays are the same: daily frame, alerts, trace, monitors, notes and dict."""
    pd.testing.assert_frame_equal(a.daily, b.daily, check_exact=True)
    pd.testing.assert_frame_equal(a.alerts, b.alerts, check_exact=True)
    pd.testing.assert_frame_equal(a.trace, b.trace, check_exact=True)
    assert a.monitors == b.monitors
    assert a.notes == b.notes
    assert a.to_dict() == b.to_dict()


def assert_same_spans(a: list, b: list) -> None:
    assert [(lo, hi) for lo, hi, _ in a] == [(lo, hi) for lo, hi, _ in b]
    for (lo, hi, x), (_, _, y) in zip(a, b, strict=True):
        pd.testing.assert_frame_equal(x, y, check_exact=True, obj=f"span {lo}-{hi}")


@pytest.fixture(scope="module")
def case_file(tmp_path_factory):
    return samples.write("card_fraud", tmp_path_factory.mktemp("card_spark"), rows=20_000)


@pytest.fixture(scope="module")
def case(case_file):
    return prodready.load_case(case_file)


@pytest.fixture(scope="module")
def serving_file(case_file):
    return case_file.parent / samples.SERVING_FILE


@pytest.fixture(scope="module")
def table(spark, serving_file):
    """The serving log as a Spark table, its rows shuffled (no order to rely on)."""
    spark.read.parquet(str(serving_file)).repartition(3).write.mode("overwrite").saveAsTable(TABLE)
    yield TABLE
    spark.sql(f"DROP TABLE IF EXISTS {TABLE}")


@pytest.fixture(scope="module")
def file_log(serving_file):
    return streaming.open_log([serving_file], timestamp=TIME, source="log")


@pytest.fixture(scope="module")
def table_log(spark, table):
    return stream_spark.open_table_log(
        table, timestamp=TIME, source="log", spark=spark, order_by=[ID]
    )


def test_table_log_describes_the_log_as_the_files_do(file_log, table_log, serving_file):
    assert table_log.columns == file_log.columns
    assert table_log.first_time == file_log.first_time
    assert table_log.last_time == file_log.last_time
    assert (table_log.first_day, table_log.last_day) == (file_log.first_day, file_log.last_day)
    days = pd.Series(streaming._days(pd.read_parquet(serving_file, columns=[TIME]), TIME))
    assert table_log.rows_by_day == days.value_counts().sort_index().to_dict()


def test_spans_equal_the_file_spans(case, file_log, table_log, spark):
    """Whole log in 92-day spans, then days 10 to 40 in one span; and the session's time
    zone is UTC only while Spark runs (a New York session gets New York back, same rows)."""
    prepare = streaming.preparer(case, [TIME, *COLUMNS], "log")
    before = spark.conf.get("spark.sql.session.timeZone")
    spark.conf.set("spark.sql.session.timeZone", "America/New_York")
    try:
        whole = list(table_log.spans(COLUMNS, prepare, chunk_days=92))
        assert spark.conf.get("spark.sql.session.timeZone") == "America/New_York"
    finally:
        spark.conf.set("spark.sql.session.timeZone", before)
    assert_same_spans(list(file_log.spans(COLUMNS, prepare, chunk_days=92)), whole)
    assert sum(len(f) for _, _, f in whole) == case.serving.shape[0]
    assert str(whole[0][2][TIME].dtype) == "datetime64[us, UTC]"
    first = file_log.first_day + 10
    part = {"chunk_days": 31, "first_day": first, "last_day": first + 30}
    assert_same_spans(
        list(file_log.spans(COLUMNS, prepare, **part)),
        list(table_log.spans(COLUMNS, prepare, **part)),
    )


def test_ties_in_time_come_in_id_order(table_log, case):
    """The sample has transactions at the same second; the table returns them by id."""
    serving = case.serving
    tied = serving[serving[TIME].duplicated(keep=False)]
    assert len(tied) >= 2
    day = int(streaming._days(tied.iloc[[0]], TIME)[0])
    prepare = streaming.preparer(case, [TIME, ID], "log")
    (_, _, frame), *_ = table_log.spans([ID], prepare, chunk_days=1, first_day=day, last_day=day)
    got = frame[frame[TIME].isin(tied[TIME])]
    assert len(got) >= 2
    assert got[ID].tolist() == got.sort_values([TIME, ID])[ID].tolist()


@pytest.fixture(scope="module")
def lazy(case_file):
    return prodready.load_case(case_file, lazy=True, sample_rows=5000)


@pytest.fixture(scope="module")
def tabled(lazy, table):
    """The lazily loaded case with its serving log in the Spark table instead of its file."""
    n = lazy.serving_source.rows
    source = DataSource(files=(), rows=n, sample_rows=len(lazy.serving), seed=0, table=table)
    return dataclasses.replace(lazy, serving_source=source)


def test_replay_from_the_table_equals_the_replay_from_files(lazy, tabled, monkeypatch):
    """The whole replay (default monitors from the first 28 days, then every day) on the table
    equals the file-streamed one. The table's spans are cut at about MAX_SPAN_ROWS rows (here
    4,000, about 65 days of traffic) where the files' come in 92-day spans (the file is one
    batch): the result does not depend on where spans end."""
    assert lazy.serving_source.files and tabled.serving_source.files == ()
    monkeypatch.setattr(streaming, "MAX_SPAN_ROWS", 4_000)
    calls = []
    from_table = replay(tabled, chunk_days=92, progress=lambda d, n: calls.append((d, n)))
    monkeypatch.undo()
    files_calls = []
    from_files = replay(lazy, chunk_days=92, progress=lambda d, n: files_calls.append((d, n)))
    assert_same(from_files, from_table)  # the default monitors included
    total = len(from_table.daily)
    assert calls[-1] == files_calls[-1] == (total, total)
    assert len(files_calls) == -(-total // 92)
    lengths = pd.Series([d for d, _ in calls]).diff().fillna(calls[0][0]).astype(int)
    assert len(calls) >= 3 and lengths.max() < 80
    assert len(from_table.alerts) > 0
    assert from_table.daily["volume"].sum() == lazy.serving_source.rows


def test_text_times_in_a_view(spark, table, case, file_log):
    """A time column of ISO 8601 text (a CSV export made into a view) gives the same spans;
    text that is not a time is one DataError naming the column."""
    from pyspark.sql import functions as F

    prepare = streaming.preparer(case, [TIME, *COLUMNS], "log")
    frame = spark.table(table).withColumn(TIME, F.date_format(TIME, "yyyy-MM-dd'T'HH:mm:ssXXX"))
    frame.createOrReplaceTempView(TEXT_VIEW)
    try:
        log = stream_spark.open_table_log(
            TEXT_VIEW, timestamp=TIME, source="log", spark=spark, order_by=[ID]
        )
        assert (log.first_time, log.last_time) == (file_log.first_time, file_log.last_time)
        assert_same_spans(
            list(file_log.spans(COLUMNS, prepare, chunk_days=184)),
            list(log.spans(COLUMNS, prepare, chunk_days=184)),
        )
        bad = frame.limit(50).unionByName(frame.limit(2).withColumn(TIME, F.lit("yesterday")))
        bad.createOrReplaceTempView(TEXT_VIEW)
        with pytest.raises(DataError, match=r"2 row.*no timestamp") as err:
            stream_spark.open_table_log(TEXT_VIEW, timestamp=TIME, source="log", spark=spark)
        assert err.value.where == f"log (Spark table {TEXT_VIEW}), column {TIME!r}"
    finally:
        spark.catalog.dropTempView(TEXT_VIEW)


def test_unknown_table_or_column_is_one_data_error(spark, table, tabled):
    with pytest.raises(DataError, match="not a table or view Spark knows") as err:
        stream_spark.open_table_log(
            "prodready_no_such_table", timestamp=TIME, source="log", spark=spark
        )
    assert "prodready_no_such_table" in err.value.where and err.value.fix
    with pytest.raises(DataError, match="lacks the timestamp column 'when'") as err:
        stream_spark.open_table_log(table, timestamp="when", source="log", spark=spark)
    assert TIME in err.value.found
    with pytest.raises(DataError, match="holds DoubleType values, not times"):
        stream_spark.open_table_log(table, timestamp="score", source="log", spark=spark)
    with pytest.raises(DataError, match="lacks the column 'row_id'"):
        stream_spark.open_table_log(
            table, timestamp=TIME, source="log", spark=spark, order_by=["row_id"]
        )
    missing = dataclasses.replace(
        tabled, serving_source=dataclasses.replace(tabled.serving_source, table="nope.serving")
    )
    with pytest.raises(DataError, match="not a table or view") as err:
        replay(missing)
    assert err.value.where == f"{tabled.name}, serving log (Spark table nope.serving)"


def test_plan_spans_cut_where_rows_reach_the_limit(monkeypatch):
    """Pure planning (no Spark): chunk_days days, fewer once rows reach MAX_SPAN_ROWS, the days
    without traffic counted, every day from first to last once."""
    monkeypatch.setattr(streaming, "MAX_SPAN_ROWS", 100)
    rows = {0: 30, 1: 30, 2: 50, 3: 200, 7: 10}
    plan = list(stream_spark.plan_spans(rows, 0, 9, 4))
    assert plan == [(0, 3, 110), (3, 4, 200), (4, 8, 10), (8, 10, 0)]
    assert list(stream_spark.plan_spans({}, 5, 5, 14)) == [(5, 6, 0)]


def test_instants_come_as_utc_microseconds():
    """Spark's Arrow output for TIMESTAMP columns: naive (taken as UTC) or another zone, both
    become the UTC-aware microseconds the Parquet reader gives; TIMESTAMP_NTZ stays naive."""
    from pyspark.sql.types import StructField, StructType, TimestampNTZType, TimestampType

    schema = StructType(
        [
            StructField("naive", TimestampType()),
            StructField("zoned", TimestampType()),
            StructField("ntz", TimestampNTZType()),
        ]
    )
    us = [1_750_000_000_000_000, None]
    table = pa.table(
        {
            "naive": pa.array(us, pa.timestamp("us")),
            "zoned": pa.array(us, pa.timestamp("us", tz="Europe/Paris")),
            "ntz": pa.array(us, pa.timestamp("us")),
        }
    )
    out = stream_spark._canonical_times(table, schema)
    utc = pa.timestamp("us", tz="UTC")
    assert out.schema.types == [utc, utc, pa.timestamp("us")]
    assert out.column("naive").cast(pa.int64()).to_pylist() == us
    assert out.column("zoned").cast(pa.int64()).to_pylist() == us
