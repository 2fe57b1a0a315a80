"""The DuckDB engine: the same layouts (bit for bit) and profiles as the numpy engine, from files.

Counts, interior counts, n, missing, nonfinite, minimum and maximum must be equal exactly;
offsets, means and m2 up to the order of floating sums (rtol 1e-9); drift findings computed
from the profiles agree to 1e-12.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from prodready import samples
from prodready.engine import layouts_for, load_profiles, numeric_layout, profile_frame
from prodready.engine.duckdb_engine import layouts_from_files, profile_files
from prodready.engine.layout import CategoricalLayout, NumericLayout
from prodready.engine.sql import PairwiseSum, numeric_layout_from_sorted
from prodready.engine.store import save_profiles
from prodready.errors import DataError, ParameterError
from prodready.stats.drift import categorical_drift_from_profiles, numeric_drift_from_profiles

NUMERIC = [
    "amount",
    "hour_of_day",
    "customer_age",
    "account_age_days",
    "distance_from_home_km",
    "avg_amount_30d",
    "txn_count_24h",
    "device_risk_score",
    "chargebacks_90d",
]
CATEGORICAL = ["merchant_category", "channel", "region", "is_fraud"]
TIME = "event_time"


# --------------------------------------------------------------------------------------------
# Comparison helpers (the same in tests/test_engine_spark.py)


def assert_same_profile(a, b, where: str) -> None:
    assert a.kind == b.kind, where
    assert a.layout.key == b.layout.key, where
    if a.kind == "categorical":
        assert np.array_equal(a.counts, b.counts), where
        assert (a.other, a.missing, a.n) == (b.other, b.missing, b.n), where
        return
    assert np.array_equal(a.counts, b.counts), where
    assert np.array_equal(a.interior, b.interior), where
    assert (a.n, a.missing, a.nonfinite) == (b.n, b.missing, b.nonfinite), where
    for name in ("minimum", "maximum"):
        x, y = getattr(a, name), getattr(b, name)
        assert x == y or (math.isnan(x) and math.isnan(y)), f"{where} {name}: {x!r} vs {y!r}"
    # offsets are sums of x - anchor: compare them on the scale of the values summed
    scale = (np.abs(np.concatenate((a.layout.edges[:1], a.layout.edges))) + 1.0) * a.counts
    assert np.all(np.abs(a.offsets - b.offsets) <= 1e-9 * (np.abs(a.offsets) + scale)), where
    for name in ("mean", "m2"):
        x, y = getattr(a, name), getattr(b, name)
        if math.isnan(x) or math.isnan(y):
            assert math.isnan(x) and math.isnan(y), f"{where} {name}"
        else:
            assert math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12), f"{where} {name}: {x} vs {y}"


def assert_same_profile_sets(a, b) -> None:
    assert dict(a.layouts) == dict(b.layouts)
    assert set(a.profiles) == set(b.profiles)
    assert a.groups == b.groups
    for key in a.profiles:
        assert_same_profile(a.profiles[key], b.profiles[key], str(key))
    assert a.source["rows"] == b.source["rows"]
    assert a.source.get("rows_without_time") == b.source.get("rows_without_time")


def drift_findings(reference, current) -> dict:
    """Drift per feature (and group) of ``current`` against ``reference`` (whole)."""
    out = {}
    for (group, name), profile in current.profiles.items():
        ref = reference.column(name)
        if ref.n < 2 or profile.n < 2:
            continue
        if profile.kind == "numeric":
            out[(group, name)] = numeric_drift_from_profiles(ref, profile).to_dict()
        else:
            out[(group, name)] = categorical_drift_from_profiles(ref, profile).to_dict()
    return out


def assert_same_findings(a: dict, b: dict) -> None:
    assert set(a) == set(b)
    for key in a:
        for field, x in a[key].items():
            y = b[key][field]
            if isinstance(x, float) and isinstance(y, float):
                assert math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-15), f"{key} {field}"
            else:
                assert x == y, f"{key} {field}: {x!r} vs {y!r}"


# --------------------------------------------------------------------------------------------
# The sample case


@pytest.fixture(scope="module")
def case(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("card_fraud")
    samples.write("card_fraud", folder, rows=20_000)
    return folder


@pytest.fixture(scope="module")
def numpy_side(case):
    training = pd.read_parquet(case / samples.TRAINING_FILE)
    serving = pd.read_parquet(case / samples.SERVING_FILE)
    layouts = layouts_for(training, NUMERIC, CATEGORICAL)
    return {
        "layouts": layouts,
        "training": profile_frame(training, layouts),
        "serving": profile_frame(serving, layouts, by=TIME),
        "serving_frame": serving,
    }


def test_layouts_from_files_are_bit_identical_to_numpy(case, numpy_side):
    layouts = layouts_from_files(case / samples.TRAINING_FILE, NUMERIC, CATEGORICAL)
    assert list(layouts) == NUMERIC + CATEGORICAL
    for name, layout in numpy_side["layouts"].items():
        assert layouts[name] == layout, name  # edges' bytes, std, minimum, maximum, n
        if isinstance(layout, NumericLayout):
            assert layouts[name].std == layout.std  # np.std to the last bit
        else:
            assert layouts[name].categories == layout.categories


def test_monthly_profiles_and_drift_equal_numpy(case, numpy_side):
    layouts = numpy_side["layouts"]
    seen = []
    serving = profile_files(
        case / samples.SERVING_FILE,
        layouts,
        by=TIME,
        progress=lambda fraction, message: seen.append((fraction, message)),
    )
    training = profile_files(case / samples.TRAINING_FILE, layouts)
    assert serving.source["engine"] == "duckdb"
    assert len(serving.groups) >= 5  # the serving log's months
    assert_same_profile_sets(serving, numpy_side["serving"])
    assert_same_profile_sets(training, numpy_side["training"])
    # the same findings: per month and for the whole log
    for current, expected in (
        (serving, numpy_side["serving"]),
        (serving.whole(), numpy_side["serving"].whole()),
    ):
        assert_same_findings(
            drift_findings(training, current), drift_findings(numpy_side["training"], expected)
        )
    # progress: fractions in [0, 1], never decreasing, ending at 1, with a message each
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and fractions[0] >= 0.0
    assert len(seen) >= 3 and all(isinstance(m, str) and m for _, m in seen)
    assert any("numeric columns" in m for _, m in seen)


def test_glob_of_three_files_equals_the_single_file(case, numpy_side, tmp_path):
    table = pq.read_table(case / samples.SERVING_FILE)
    parts = np.array_split(np.arange(table.num_rows), 3)
    for i, rows in enumerate(parts):
        pq.write_table(table.take(pa.array(rows)), tmp_path / f"part-{i}.parquet")
    layouts = numpy_side["layouts"]
    whole = profile_files(case / samples.SERVING_FILE, layouts, by=TIME)
    from_glob = profile_files(str(tmp_path / "part-*.parquet"), layouts, by=TIME)
    listed = profile_files(sorted(tmp_path.glob("part-*.parquet")), layouts, by=TIME)
    assert_same_profile_sets(from_glob, whole)
    assert_same_profile_sets(listed, whole)


def test_csv_equals_parquet_for_numeric_and_text_columns(case, numpy_side, tmp_path):
    frame = numpy_side["serving_frame"]
    columns = [TIME, "amount", "customer_age", "hour_of_day", "merchant_category", "channel"]
    frame[columns].to_csv(tmp_path / "serving.csv", index=False)
    layouts = {name: numpy_side["layouts"][name] for name in columns[1:]}
    from_csv = profile_files(tmp_path / "serving.csv", layouts, by=TIME)
    from_parquet = profile_files(case / samples.SERVING_FILE, layouts, by=TIME)
    assert_same_profile_sets(from_csv, from_parquet)
    assert from_csv.column("channel", from_csv.groups[0]).missing > 0  # empty CSV cells


def test_profiles_round_trip_through_the_store(case, numpy_side, tmp_path):
    serving = profile_files(case / samples.SERVING_FILE, numpy_side["layouts"], by=TIME)
    assert load_profiles(save_profiles(serving, tmp_path / "serving.json.gz")) == serving


# --------------------------------------------------------------------------------------------
# Edge cases against the numpy engine


def _edge_case_table() -> pa.Table:
    reference = [0.0, 0.0, 1.0, 1.0, 1.0, 2.0, 2.5, 3.0, 3.0, 10.0, -4.0, 7.25]
    months = [
        "2025-01-15 00:00:00",
        "2025-01-31 23:59:59",
        "2025-03-01 00:00:00",
        "2025-03-10 12:00:00",
    ]  # February empty
    rng = np.random.default_rng(5)
    n = 400
    values = rng.choice([*reference, -0.0, 11.0, -5.0, 0.5], size=n).astype(float)
    values[::37] = np.nan  # a real NaN in the file
    values[5::41] = np.inf
    values[7::43] = -np.inf
    x = pa.array(values, mask=np.arange(n) % 29 == 3)  # and NULLs
    times = pd.to_datetime(np.array(months)[rng.integers(0, 4, n)], utc=True).as_unit("us")
    stamps = pa.array(times.asi8, type=pa.timestamp("us", tz="UTC"), mask=np.arange(n) == 9)
    return pa.table(
        {
            "t": stamps,
            "x": x,
            "all_null": pa.nulls(n, type=pa.float64()),
            "ties": pa.array(np.repeat([1.0, 2.0], n // 2)),
            "label": pa.array(rng.choice(["a", "b", "c", "d"], n), mask=np.arange(n) % 11 == 0),
        }
    )


def test_edge_cases_equal_numpy(tmp_path):
    table = _edge_case_table()
    pq.write_table(table, tmp_path / "edges.parquet")
    frame = pd.read_parquet(tmp_path / "edges.parquet")
    reference = [0.0, 0.0, 1.0, 1.0, 1.0, 2.0, 2.5, 3.0, 3.0, 10.0, -4.0, 7.25]
    layouts = {
        "x": numeric_layout(reference),
        "all_null": numeric_layout(reference),
        "ties": numeric_layout([1.0, 1.0, 2.0, 3.0]),
        "label": layouts_for(frame, categorical=["label"])["label"],
    }
    assert np.isin(frame["x"].dropna(), layouts["x"].edges).mean() > 0.5  # values on edges
    ours = profile_files(tmp_path / "edges.parquet", layouts, by="t")
    expected = profile_frame(frame, layouts, by="t")
    assert_same_profile_sets(ours, expected)
    assert pd.Timestamp("2025-02-01", tz="UTC") not in ours.groups  # the empty month is absent
    assert ours.source["rows_without_time"] == 1
    january = ours.column("x", pd.Timestamp("2025-01-01", tz="UTC"))
    assert january.missing > 0 and january.nonfinite > 0
    assert ours.column("all_null", ours.groups[0]).n == 0
    whole = profile_files(tmp_path / "edges.parquet", layouts)
    assert_same_profile_sets(whole, profile_frame(frame, layouts))


def test_layouts_with_nan_inf_and_ties_are_bit_identical(tmp_path):
    rng = np.random.default_rng(11)
    values = np.round(rng.lognormal(2, 1.5, 50_003), 2)
    values[::101] = np.nan
    values[3::997] = np.inf
    pq.write_table(pa.table({"x": values}), tmp_path / "ref.parquet")
    ours = layouts_from_files(tmp_path / "ref.parquet", ["x"])["x"]
    assert ours == numeric_layout(pd.read_parquet(tmp_path / "ref.parquet")["x"])


def test_layouts_of_columns_too_big_to_keep_stream_twice(tmp_path, monkeypatch):
    from prodready.engine import sql

    rng = np.random.default_rng(12)
    frame = pd.DataFrame({"a": rng.normal(size=3_001), "b": np.round(rng.gamma(2, 3, 3_001), 1)})
    frame.loc[::50, "a"] = np.nan
    frame.to_parquet(tmp_path / "ref.parquet")
    monkeypatch.setattr(sql, "KEEP_SORTED", 1_000)  # "a" and "b" are streamed a second time
    ours = layouts_from_files(tmp_path / "ref.parquet", ["a", "b"])
    assert ours == layouts_for(frame, ["a", "b"])


@pytest.mark.parametrize("n", [2, 7, 8, 9, 128, 129, 1000, 8193, 100_003])
def test_pairwise_sum_replays_numpy_bit_for_bit(n):
    values = np.sort(np.random.default_rng(n).lognormal(0, 4, n))
    for size in (1, 5, 1000, n):
        total = PairwiseSum(n)
        for start in range(0, n, size):
            total.add(values[start : start + size])
        assert total.total() == np.add.reduce(values)
    layout = numeric_layout_from_sorted(n, lambda: iter(np.array_split(values, 3)))
    assert layout == numeric_layout(values) and layout.std == float(np.std(values))


def test_label_text_matches_pandas_for_text_integer_and_boolean(tmp_path):
    n = 300
    rng = np.random.default_rng(3)
    every = np.arange(n)
    integers = pd.array(rng.integers(0, 3, n), dtype="Int64")
    integers[every % 7 == 0] = pd.NA
    booleans = pd.array(rng.integers(0, 2, n).astype(bool), dtype="boolean")
    booleans[every % 5 == 0] = pd.NA
    frame = pd.DataFrame(
        {
            "text": pd.Series(rng.choice(["x", "y", "1", "True"], n), dtype="str"),
            "integer": rng.integers(-2, 4, n).astype(np.int16),
            "integer_nulls": integers,
            "boolean": rng.integers(0, 2, n).astype(bool),
            "boolean_nulls": booleans,
            "floats": rng.choice([0.5, 1.0, 2.25, np.nan], n),
        }
    )
    frame.to_parquet(tmp_path / "labels.parquet")  # with pandas' schema metadata
    columns = list(frame.columns)
    read = pd.read_parquet(tmp_path / "labels.parquet")
    expected = layouts_for(read, categorical=columns)
    ours = layouts_from_files(tmp_path / "labels.parquet", categorical=columns)
    for name in columns:
        assert isinstance(ours[name], CategoricalLayout)
        assert ours[name].categories == expected[name].categories, name
        assert ours[name] == expected[name], name
    assert set(ours["boolean"].categories) == {"True", "False"}
    assert set(ours["boolean_nulls"].categories) == {"True", "False"}
    assert set(ours["integer_nulls"].categories) == {"0", "1", "2"}  # not "1.0"
    assert "-2" in ours["integer"].categories and "2.25" in ours["floats"].categories
    assert_same_profile_sets(
        profile_files(tmp_path / "labels.parquet", expected), profile_frame(read, expected)
    )


# --------------------------------------------------------------------------------------------
# Settings and bad input


def test_memory_limit_threads_and_temp_directory(case, numpy_side, tmp_path):
    layouts = {"amount": numpy_side["layouts"]["amount"]}
    limited = profile_files(
        case / samples.SERVING_FILE,
        layouts,
        by=TIME,
        memory_limit="300MB",
        threads=1,
        temp_directory=tmp_path / "spill",
    )
    assert_same_profile_sets(limited, profile_frame(numpy_side["serving_frame"], layouts, by=TIME))
    with pytest.raises(ParameterError, match="memory_limit"):
        profile_files(case / samples.SERVING_FILE, layouts, memory_limit="lots")


@pytest.fixture(scope="module")
def wide(tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    """120 categorical columns (2 to 59 labels each, some missing) x 2,000 rows over 3 months."""
    rng = np.random.default_rng(5)
    rows = 2_000
    frame = pd.DataFrame(
        {
            f"c{i:03d}": rng.choice([f"v{j}" for j in range(rng.integers(2, 60))], rows)
            for i in range(120)
        }
    )
    frame.loc[frame.index[::7], "c007"] = None
    frame[TIME] = pd.Timestamp("2025-01-01", tz="UTC") + pd.to_timedelta(
        rng.uniform(0, 90, rows), unit="D"
    )
    path = tmp_path_factory.mktemp("wide") / "wide.parquet"
    frame.to_parquet(path)
    return path, frame


def test_many_categorical_columns_fit_a_small_memory_limit_and_equal_numpy(wide):
    """Counted 16 columns per query: 120 columns fit in 256 MB (one query for all of them does
    not, below), with the numpy engine's layouts and profiles."""
    path, frame = wide
    columns = [c for c in frame.columns if c != TIME]
    layouts = layouts_from_files(path, (), columns, memory_limit="256MB")
    assert dict(layouts) == dict(layouts_for(frame, [], columns))
    profiled = profile_files(path, layouts, by=TIME, memory_limit="256MB")
    assert_same_profile_sets(profiled, profile_frame(frame, layouts, by=TIME))
    assert len(profiled.groups) == 3


def test_running_out_of_memory_says_so_and_how_to_fix_it(wide, monkeypatch):
    import prodready.engine.sql as sql

    path, frame = wide
    columns = [c for c in frame.columns if c != TIME]
    monkeypatch.setattr(sql, "CATEGORICAL_COLUMNS_PER_QUERY", len(columns))  # all in one query
    with pytest.raises(DataError) as caught:
        layouts_from_files(path, (), columns, memory_limit="256MB")
    message = str(caught.value)
    assert message.startswith(f"{path}: DuckDB ran out of its memory limit (244.1 MiB)"), (
        message  # 256 MB as DuckDB reports it
    )
    assert "Out of Memory Error" in message
    assert "pass a larger memory_limit" in message
    assert "convert" not in message and "types" not in message


def test_missing_file_and_empty_glob(tmp_path, numpy_side):
    layouts = {"amount": numpy_side["layouts"]["amount"]}
    with pytest.raises(DataError) as missing:
        profile_files(tmp_path / "nowhere.parquet", layouts)
    assert "nowhere.parquet" in str(missing.value) and "does not exist" in str(missing.value)
    with pytest.raises(DataError) as empty:
        profile_files(str(tmp_path / "logs" / "*.parquet"), layouts)
    assert "matches no file" in str(empty.value) and "How to fix" in str(empty.value)
    with pytest.raises(DataError, match="does not exist"):
        layouts_from_files(tmp_path / "nowhere.csv", ["amount"])


def test_unknown_and_non_numeric_columns(case, numpy_side):
    layouts = {"amount": numpy_side["layouts"]["amount"]}
    with pytest.raises(DataError) as unknown:
        profile_files(case / samples.SERVING_FILE, {"amount_usd": layouts["amount"]})
    message = str(unknown.value)
    assert "'amount_usd'" in message and samples.SERVING_FILE in message and "'amount'" in message
    with pytest.raises(DataError, match="'not_a_time'"):
        profile_files(case / samples.SERVING_FILE, layouts, by="not_a_time")
    with pytest.raises(DataError, match="not numbers"):
        layouts_from_files(case / samples.SERVING_FILE, ["merchant_category"])
    with pytest.raises(DataError, match="not timestamps"):
        profile_files(case / samples.SERVING_FILE, layouts, by="amount")
    with pytest.raises(ParameterError, match="unknown period"):
        profile_files(case / samples.SERVING_FILE, layouts, by=TIME, freq="W")


def test_corrupt_and_truncated_files_are_named(case, numpy_side, tmp_path):
    layouts = {"amount": numpy_side["layouts"]["amount"]}
    good = (case / samples.SERVING_FILE).read_bytes()
    (tmp_path / "a.parquet").write_bytes(good)
    (tmp_path / "b.parquet").write_bytes(good[: len(good) // 2])  # cut short
    with pytest.raises(DataError) as truncated:
        profile_files(str(tmp_path / "*.parquet"), layouts)
    assert "b.parquet" in str(truncated.value) and "cannot be read" in str(truncated.value)
    (tmp_path / "b.parquet").write_bytes(b"not a parquet file at all" * 10)
    with pytest.raises(DataError, match=r"b\.parquet"):
        layouts_from_files(str(tmp_path / "*.parquet"), ["amount"])
    (tmp_path / "notes.json").write_text("{}")
    with pytest.raises(DataError, match="neither a Parquet nor a CSV"):
        profile_files(tmp_path / "notes.json", layouts)


def test_fewer_than_two_values_names_the_column(tmp_path):
    pq.write_table(pa.table({"x": pa.array([1.0, None, np.nan])}), tmp_path / "one.parquet")
    with pytest.raises(ParameterError) as err:
        layouts_from_files(tmp_path / "one.parquet", ["x"])
    assert "column 'x'" in str(err.value) and "fewer than 2" in str(err.value)


def test_importing_the_engine_package_imports_neither_duckdb_nor_pyspark():
    code = (
        "import sys, prodready.engine as e; "
        "assert 'duckdb' not in sys.modules and 'pyspark' not in sys.modules, 'eager import'; "
        "assert callable(e.profile_files) and callable(e.layouts_from_files)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
