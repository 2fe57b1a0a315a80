"""The monitoring replay streamed day by day from the serving files gives the in-memory result.

Equality is exact (``check_exact``): the streamed replay puts each day's rows in the order the
loader gives them (a stable sort by time of the files' rows in path order), and every daily
series is a sum, count, sort or metric over one day's rows (or, for the known-label metric, the
trailing window's rows, carried across chunks in the same order), so the same floating-point
operations run in the same order whether the log is cut into chunks or not.
"""

from __future__ import annotations

import inspect
import math

import numpy as np
import pandas as pd
import pytest

import prodready
from prodready import samples
from prodready.errors import DataError, ParameterError
from prodready.monitoring import Monitor, replay
from prodready.monitoring import stream as streaming


def assert_same(a, b) -> None:
    """Two replays are the same: daily frame, alerts, trace, monitors, notes and dict."""
    pd.testing.assert_frame_equal(a.daily, b.daily, check_exact=True)
    pd.testing.assert_frame_equal(a.alerts, b.alerts, check_exact=True)
    pd.testing.assert_frame_equal(a.trace, b.trace, check_exact=True)
    assert a.monitors == b.monitors
    assert a.notes == b.notes
    assert a.to_dict() == b.to_dict()


@pytest.fixture(scope="module")
def card_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("card_parts")
    return samples.write("card_fraud", folder, rows=120_000, parts=4)


@pytest.fixture(scope="module")
def card(card_file):
    return prodready.load_case(card_file)


@pytest.fixture(scope="module")
def card_in_memory(card):
    return replay(card)


def test_streamed_card_fraud_equals_in_memory(card, card_in_memory):
    calls = []
    log = streaming.open_log(card.data_files("serving"), timestamp="event_time", source="log")
    assert log.ordered  # the generator's parts are in time order: read without a sort
    result = replay(card, stream=True, chunk_days=5, progress=lambda d, n: calls.append((d, n)))
    assert_same(card_in_memory, result)
    total = len(card_in_memory.daily)
    assert calls[-1] == (total, total) and len(calls) == math.ceil(total / 5)
    assert [d for d, _ in calls] == sorted({d for d, _ in calls})
    # the replay found what it should (card_fraud's labels arrive 30-90 days late, so the
    # trailing known-label metric is checked on the small cases below)
    assert len(result.alerts) > 3
    assert result.daily["value_per_1000_hindsight"].notna().sum() > 150
    assert result.daily["estimated_roc_auc"].notna().sum() > 100


def test_duckdb_sort_path_equals_in_memory(card, card_in_memory, monkeypatch):
    monkeypatch.setattr(streaming, "MAX_BUFFER_ROWS", -1)  # force the DuckDB sort
    log = streaming.open_log(card.data_files("serving"), timestamp="event_time", source="log")
    assert not log.ordered
    assert_same(card_in_memory, replay(card, stream=True, chunk_days=9))


# -- small cases written to files ------------------------------------------------------------

_CASE_YAML = """\
name: Stream test
task: binary
training: {{path: training.parquet}}
serving: {{path: serving/*.{ext}}}
columns: {{timestamp: t, label: y, prediction: score, label_time: label_time}}
features:
  - {{name: x, type: numeric}}
  - {{name: color, type: categorical}}
business:
  value: {{true_positive: 10, false_positive: -2, false_negative: -5, true_negative: 0}}
  threshold: 0.5
  amount: amount
"""


def _log(days=42, per_day=60, seed=3, gap=None, shuffle=False):
    rng = np.random.default_rng(seed)
    n = days * per_day
    start = pd.Timestamp("2025-01-01", tz="UTC")
    seconds = np.sort(rng.integers(0, days * 86_400, n)).astype("float64")
    times = start + pd.to_timedelta(seconds, unit="s")
    if gap is not None:
        inside = (times >= start + pd.Timedelta(days=gap[0])) & (
            times < start + pd.Timedelta(days=gap[1])
        )
        times = times[~inside]
        n = len(times)
    x = rng.normal(size=n)
    x[::37] = np.nan
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(np.nan_to_num(x) * 2 - 1)))).astype(float)
    frame = pd.DataFrame(
        {
            "t": times,
            "x": x,
            "color": rng.choice(["red", "blue", "green"], size=n),
            "score": 1 / (1 + np.exp(-(np.nan_to_num(x) * 1.5 - 1))),
            "y": y,
            "label_time": times + pd.to_timedelta(rng.integers(1, 9 * 86_400, n), unit="s"),
            "amount": np.round(rng.lognormal(3, 1, size=n), 2),
        }
    )
    late = frame.index[::5]  # some labels have not arrived yet
    frame.loc[late, "y"] = np.nan
    frame.loc[late, "label_time"] = pd.NaT
    if shuffle:
        frame = frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    return frame


def _write_case(folder, frame, *, ext="parquet", parts=3):
    (folder / "serving").mkdir(parents=True)
    training = frame.drop(columns=["score", "label_time", "amount"]).iloc[:300].dropna()
    training.assign(t=pd.Timestamp("2024-12-01", tz="UTC")).to_parquet(folder / "training.parquet")
    for k, part in enumerate(np.array_split(np.arange(len(frame)), parts)):
        piece = frame.iloc[part]
        path = folder / "serving" / f"part-{k:02d}.{ext}"
        if ext == "csv":
            piece.to_csv(path, index=False)
        else:
            piece.to_parquet(path, index=False)
    (folder / "case.yaml").write_text(_CASE_YAML.format(ext=ext))
    return prodready.load_case(folder / "case.yaml")


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return _write_case(tmp_path_factory.mktemp("small"), _log())


def test_reference_period_and_frame(small):
    period = ("2025-01-10 12:00", "2025-01-30")
    a = replay(small, reference=period)
    b = replay(small, reference=period, stream=True, chunk_days=4)
    assert_same(a, b)
    assert b.reference_start == pd.Timestamp("2025-01-10 12:00", tz="UTC")
    assert b.daily["in_reference"].sum() == 20  # Jan 10 (from noon) to Jan 29
    # labels arrive within 9 days: the trailing 7-day metric spans the 4-day chunks
    assert b.daily["roc_auc_known"].notna().sum() > 35
    frame = small.serving.iloc[:1500]
    assert_same(replay(small, reference=frame), replay(small, reference=frame, stream=True))
    with pytest.raises(DataError, match="no serving row") as eager:
        replay(small, reference=("2030-01-01", "2030-02-01"))
    with pytest.raises(DataError, match="no serving row") as streamed:
        replay(small, reference=("2030-01-01", "2030-02-01"), stream=True)
    assert str(eager.value) == str(streamed.value)


def test_days_without_traffic(tmp_path):
    case = _write_case(tmp_path, _log(days=45, gap=(30, 42)))
    a = replay(case)
    b = replay(case, stream=True, chunk_days=5)  # two chunks with no row at all
    assert_same(a, b)
    empty = b.daily.iloc[30:42]
    assert len(b.daily) == 45 and (empty["volume"] == 0).all()
    assert empty["flag_rate"].isna().all()
    assert b.alerts.set_index("monitor").loc["volume", "first_fire"] == b.daily.index[30]


def test_rows_out_of_order_across_files(tmp_path):
    """Shuffled rows: the pyarrow reader holds rows back until their day is complete."""
    case = _write_case(tmp_path, _log(days=32, shuffle=True), parts=4)
    log = streaming.open_log(case.data_files("serving"), timestamp="t", source="log")
    assert log.ordered  # 4 row groups of shuffled rows: well within the buffer limit
    assert_same(replay(case), replay(case, stream=True, chunk_days=6))


def test_csv_log(tmp_path):
    case = _write_case(tmp_path, _log(days=32), ext="csv")
    assert not streaming.open_log(case.data_files("serving"), timestamp="t", source="log").ordered
    assert_same(replay(case), replay(case, stream=True, chunk_days=7))


def test_monitor_on_a_missing_column_same_error(small):
    bad = Monitor("typo", "data_quality", "missing_rate[colour]", "colour")
    with pytest.raises(DataError, match="'colour'") as eager:
        replay(small, [bad])
    with pytest.raises(DataError, match="'colour'") as streamed:
        replay(small, [bad], stream=True)
    assert str(eager.value) == str(streamed.value)
    wrong = Monitor("x", "data_quality", "out_of_range[color]", "color")
    with pytest.raises(ParameterError, match="categorical"):
        replay(small, [wrong], stream=True)


def test_bad_arguments(small):
    in_memory = prodready.Case.from_spec(small.spec, small.training, small.serving)
    with pytest.raises(ParameterError, match="built in memory"):
        replay(in_memory, stream=True)
    with pytest.raises(ParameterError, match="chunk_days"):
        replay(small, stream=True, chunk_days=0)
    with pytest.raises(ParameterError, match="stream must be"):
        replay(small, stream="yes")


@pytest.mark.skipif(
    "lazy" not in inspect.signature(prodready.load_case).parameters,
    reason="load_case(lazy=True) is not in this tree yet",
)
def test_lazy_case_streams_by_default(small, tmp_path):
    lazy = prodready.load_case(small.path, lazy=True, sample_rows=500)
    assert len(lazy.serving) == 500 and lazy.serving_source is not None
    assert_same(replay(small), replay(lazy, chunk_days=8))
    with pytest.raises(ParameterError, match="sample"):
        replay(lazy, stream=False)


# -- the pyarrow reader reads row groups a batch at a time -----------------------------------


def _one_group_case(folder, frame, unit="us"):
    """A case whose serving log is one file of one row group, timestamps stored in ``unit``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    case = _write_case(folder, frame, parts=1)
    path = case.data_files("serving")[0]
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for name in ("t", "label_time"):
        i = table.schema.get_field_index(name)
        table = table.set_column(i, name, table[name].cast(pa.timestamp(unit, tz="UTC")))
    pq.write_table(table, path, row_group_size=len(frame))
    assert pq.ParquetFile(path).metadata.num_row_groups == 1
    return prodready.load_case(case.path)


def test_row_group_in_time_order_is_handed_on_batch_by_batch(tmp_path, monkeypatch):
    """Memory holds a batch and a day, not the row group: when a span is handed on, the reader
    has prepared at most one batch (and the rest of a day) past the span's end."""
    monkeypatch.setattr(streaming, "READ_ROWS", 250)
    case = _one_group_case(tmp_path, _log(days=40, per_day=60))
    log = streaming.open_log(case.data_files("serving"), timestamp="t", source="log")
    assert log.ordered
    prepared = []
    base = streaming.preparer(case, ["t", "score", "x"], "log")

    def prepare(frame):
        prepared.append(len(frame))
        return base(frame)

    days = pd.Series(streaming._days(case.serving, "t"))
    read_when = []
    for lo, hi, frame in log.spans(["score", "x"], prepare, chunk_days=5):
        assert len(frame) == int(((days >= lo) & (days < hi)).sum())
        read_when.append((hi, sum(prepared)))  # prepared[0]: spans()'s empty frame
    assert len(read_when) == 8
    assert len(prepared) - 1 == math.ceil(len(case.serving) / 250)  # each batch once
    for hi, read in read_when[:-1]:
        before = int((days < hi).sum())
        # every row before the span's end, and at most the batch that completed its last day
        assert before <= read <= before + 250, (hi, read, before)
    assert read_when[0][1] < len(case.serving) / 4  # not the whole row group first


@pytest.mark.parametrize("unit", ["ns", "ms"])
def test_batches_with_a_late_row_and_other_units(tmp_path, monkeypatch, unit):
    """A row group in time order but for one row at its end from its first days (a late
    event): no day from that one on is handed on before the late row is read. Timestamps in
    nanoseconds or milliseconds give the same days."""
    monkeypatch.setattr(streaming, "READ_ROWS", 200)
    frame = _log(days=30, per_day=50, seed=5)
    late = frame.iloc[[-1]].assign(t=frame["t"].iloc[0] + pd.Timedelta(hours=30))
    frame = pd.concat([frame.iloc[:-1], late], ignore_index=True)
    if unit == "ms":
        frame["t"] = frame["t"].dt.floor("ms")
        frame["label_time"] = frame["label_time"].dt.floor("ms")
    case = _one_group_case(tmp_path, frame, unit=unit)
    log = streaming.open_log(case.data_files("serving"), timestamp="t", source="log")
    assert log.ordered
    assert_same(replay(case), replay(case, stream=True, chunk_days=3))


def test_shuffled_rows_read_in_small_batches(tmp_path, monkeypatch):
    """Rows in no order within and across row groups, read 100 at a time: days are handed on
    only when every row group that may hold them has been read, and in the loader's order."""
    monkeypatch.setattr(streaming, "READ_ROWS", 100)
    case = _write_case(tmp_path, _log(days=32, shuffle=True, seed=9), parts=3)
    assert_same(replay(case), replay(case, stream=True, chunk_days=4))


def test_earliest_time_of_a_batch():
    import pyarrow as pa

    ns = pa.array([5_000, -1, None], pa.timestamp("ns", tz="UTC"))
    assert streaming._min_us(ns) == -1  # floored: one nanosecond before 1970 is in 1969
    assert streaming._min_us(pa.array([3, 7], pa.timestamp("ms"))) == 3_000
    assert streaming._min_us(pa.array([2], pa.timestamp("s"))) == 2_000_000
    assert streaming._min_us(pa.array([None], pa.timestamp("us"))) == streaming._NO_TIME


@pytest.mark.parametrize("sorted_by", ["pyarrow", "duckdb"])
def test_busy_days_make_shorter_spans(small, monkeypatch, sorted_by):
    """Spans past MAX_SPAN_ROWS rows are handed on with fewer days; the result is the same."""
    monkeypatch.setattr(streaming, "MAX_SPAN_ROWS", 300)  # the small log: 60 events a day
    monkeypatch.setattr(streaming, "READ_ROWS", 128)
    if sorted_by == "duckdb":
        monkeypatch.setattr(streaming, "MAX_BUFFER_ROWS", -1)
        monkeypatch.setattr(streaming, "BATCH_ROWS", 128)
    calls = []
    result = replay(small, stream=True, chunk_days=14, progress=lambda d, n: calls.append(d))
    assert_same(replay(small), result)
    lengths = np.diff([0, *calls])
    assert calls[-1] == 42 and len(calls) > 42 / 14
    assert lengths.max() <= 14 and lengths.min() >= 1
    assert (lengths < 14).sum() >= 5  # most spans were cut at about 300 rows (5 days)
