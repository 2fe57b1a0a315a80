"""The Spark engine (local mode): the same layouts (bit for bit), profiles and drift findings as
the numpy and DuckDB engines on the same data.

Skipped, with the reason, when pyspark is not installed (``pip install 'prodready[spark]'``);
Spark also needs Java 17+. One local session (2 cores, 2 shuffle partitions, UTC) for the module.
"""

from __future__ import annotations

import math
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from prodready import samples
from prodready.engine import layouts_for, numeric_layout, profile_frame
from prodready.engine.layout import NumericLayout
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
pytestmark = [
    pytest.mark.slow,  # a JVM starts: about 1 to 2 minutes on two busy cores
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
]


# --------------------------------------------------------------------------------------------
# Comparison helpers (the same as in tests/test_engine_duckdb.py)


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
# Fixtures


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    folder = tmp_path_factory.mktemp("card_fraud_spark")
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
    }


# --------------------------------------------------------------------------------------------
# Proof: numpy, DuckDB and Spark agree


def test_layouts_from_table_are_bit_identical_to_numpy(spark, case, numpy_side):
    from prodready.engine.spark_engine import layouts_from_table

    training = spark.read.parquet(str(case / samples.TRAINING_FILE))
    layouts = layouts_from_table(training, NUMERIC, CATEGORICAL)
    assert list(layouts) == NUMERIC + CATEGORICAL
    for name, layout in numpy_side["layouts"].items():
        assert layouts[name] == layout, name
        if isinstance(layout, NumericLayout):
            assert layouts[name].std == layout.std


def test_numpy_duckdb_and_spark_give_the_same_profiles_and_findings(spark, case, numpy_side):
    from prodready.engine.duckdb_engine import profile_files
    from prodready.engine.spark_engine import profile_table

    layouts = numpy_side["layouts"]
    seen = []
    serving = profile_table(
        spark.read.parquet(str(case / samples.SERVING_FILE)),
        layouts,
        by=TIME,
        progress=lambda fraction, message: seen.append(fraction),
    )
    spark.read.parquet(str(case / samples.TRAINING_FILE)).createOrReplaceTempView("training")
    training = profile_table("training", layouts)  # a table name, read from the active session
    assert serving.source["engine"] == "spark" and len(serving.groups) >= 5
    assert seen == sorted(seen) and seen[-1] == 1.0
    duck_serving = profile_files(case / samples.SERVING_FILE, layouts, by=TIME)
    duck_training = profile_files(case / samples.TRAINING_FILE, layouts)
    for ours, duck, expected in (
        (serving, duck_serving, numpy_side["serving"]),
        (training, duck_training, numpy_side["training"]),
    ):
        assert_same_profile_sets(ours, expected)
        assert_same_profile_sets(duck, expected)
    expected_findings = drift_findings(numpy_side["training"], numpy_side["serving"])
    assert_same_findings(drift_findings(training, serving), expected_findings)
    assert_same_findings(drift_findings(duck_training, duck_serving), expected_findings)
    assert_same_findings(
        drift_findings(training, serving.whole()),
        drift_findings(numpy_side["training"], numpy_side["serving"].whole()),
    )
    # the session's time zone is restored
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"


def test_edge_cases_equal_numpy(spark, tmp_path):
    """Values exactly on edges, ties, -0.0 against a 0.0 edge, NaN, NULL, +/-inf, an empty
    month, rows without a time and an all-NULL column."""
    from prodready.engine.spark_engine import profile_table

    reference = [0.0, 0.0, 1.0, 1.0, 1.0, 2.0, 2.5, 3.0, 3.0, 10.0, -4.0, 7.25]
    rng = np.random.default_rng(5)
    n = 400
    values = rng.choice([*reference, -0.0, 11.0, -5.0, 0.5], size=n).astype(float)
    values[::37] = np.nan
    values[5::41] = np.inf
    values[7::43] = -np.inf
    months = [
        "2025-01-15 00:00:00",
        "2025-01-31 23:59:59",
        "2025-03-01 00:00:00",
        "2025-03-10 12:00:00",
    ]
    times = pd.to_datetime(np.array(months)[rng.integers(0, 4, n)], utc=True).as_unit("us")
    table = pa.table(
        {
            "t": pa.array(times.asi8, type=pa.timestamp("us", tz="UTC"), mask=np.arange(n) == 9),
            "x": pa.array(values, mask=np.arange(n) % 29 == 3),
            "all_null": pa.nulls(n, type=pa.float64()),
            "label": pa.array(rng.choice(["a", "b", "c"], n), mask=np.arange(n) % 11 == 0),
            "flag": pa.array(rng.integers(0, 2, n).astype(bool)),
        }
    )
    pq.write_table(table, tmp_path / "edges.parquet")
    frame = pd.read_parquet(tmp_path / "edges.parquet")
    layouts = {
        "x": numeric_layout(reference),
        "all_null": numeric_layout(reference),
        **layouts_for(frame, categorical=["label", "flag"]),
    }
    data = spark.read.parquet(str(tmp_path / "edges.parquet"))
    ours = profile_table(data, layouts, by="t")
    assert_same_profile_sets(ours, profile_frame(frame, layouts, by="t"))
    assert pd.Timestamp("2025-02-01", tz="UTC") not in ours.groups
    assert ours.source["rows_without_time"] == 1
    assert set(layouts["flag"].categories) == {"True", "False"}
    assert_same_profile_sets(profile_table(data, layouts), profile_frame(frame, layouts))


# --------------------------------------------------------------------------------------------
# Bad input


def test_unknown_table_and_column(spark, numpy_side):
    from prodready.engine.spark_engine import profile_table

    layouts = {"amount": numpy_side["layouts"]["amount"]}
    with pytest.raises(DataError) as table:
        profile_table("no_such_table", layouts, spark=spark)
    assert "'no_such_table'" in str(table.value)
    frame = spark.createDataFrame([(1.0, "a")], "amount double, merchant string")
    with pytest.raises(DataError, match="'amount_usd'"):
        profile_table(frame, {"amount_usd": layouts["amount"]})
    with pytest.raises(DataError, match="not numbers"):
        profile_table(frame, {"merchant": layouts["amount"]})
    with pytest.raises(ParameterError, match="a Spark DataFrame or a table name"):
        profile_table(pd.DataFrame({"amount": [1.0]}), layouts)


def test_without_pyspark_the_error_says_how_to_install(monkeypatch):
    from prodready.engine import spark_engine

    monkeypatch.setitem(sys.modules, "pyspark", None)
    with pytest.raises(ParameterError) as err:
        spark_engine.profile_table("any_table", {})
    assert "prodready[spark]" in str(err.value)
