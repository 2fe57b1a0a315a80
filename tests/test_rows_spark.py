"""Row-level skew on Spark (the id join of a case that names Spark tables): the same counts,
medians and unit-hint shares as the DuckDB join on the same data, from the same SQL.

Skipped, with the reason, when pyspark is not installed (``pip install 'prodready[spark]'``);
Spark also needs Java 17+. Uses the session-wide local Spark session of ``conftest.py``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import prodready
from prodready import samples
from prodready.engine.rows_sql import JoinedRows, compare_rows
from prodready.errors import DataError
from prodready.skew.rows import HINT_MIN_PAIRS, HINT_TOLERANCE, MAX_PAIRS, hint_factors

pytestmark = [
    pytest.mark.slow,  # Spark runs a few dozen small jobs per comparison
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
]

TRAINING_TABLE = "rows_spark_training"
SERVING_TABLE = "rows_spark_serving"
COUNTS = ["matches", "missing_only_training", "missing_only_serving", "differ", "ratios"]


GROUP_LIMIT = "spark.sql.optimizer.windowGroupLimitThreshold"


def compare_spark(training, serving, spark, **options) -> JoinedRows | None:
    from prodready.engine.rows_spark import compare_rows_spark

    return compare_rows_spark(training, serving, spark=spark, **options)


def assert_same_counts(spark_rows: JoinedRows, duck_rows: JoinedRows) -> None:
    """Every count equal, medians to 1e-12 relative, the same unit-hint shares, and as many
    examples and scatter pairs per feature (the picked rows may differ: another hash)."""
    assert (spark_rows.joined, spark_rows.only_training, spark_rows.only_serving) == (
        duck_rows.joined,
        duck_rows.only_training,
        duck_rows.only_serving,
    )
    a, b = spark_rows.features, duck_rows.features
    assert list(a.index) == list(b.index)
    pd.testing.assert_frame_equal(a[COUNTS], b[COUNTS])
    for name in a.index:
        x, y = a.at[name, "median_ratio"], b.at[name, "median_ratio"]
        assert (math.isnan(x) and math.isnan(y)) or math.isclose(x, y, rel_tol=1e-12), name
    assert spark_rows.ratio_counts.keys() == duck_rows.ratio_counts.keys()
    known = set(hint_factors())
    for name, counts in spark_rows.ratio_counts.items():
        other = duck_rows.ratio_counts[name]
        assert {f: n for f, n in counts.items() if f in known} == {
            f: n for f, n in other.items() if f in known
        }, name
        # and the ratios within 1% of the median itself (a constant scaling)
        extra = [n for f, n in counts.items() if f not in known]
        assert extra == [n for f, n in other.items() if f not in known], name
    for part in ("examples", "pairs"):
        left, right = getattr(spark_rows, part), getattr(duck_rows, part)
        assert left.groupby("feature").size().to_dict() == right.groupby("feature").size().to_dict()


def assert_examples_are_mismatches(rows: JoinedRows, options: dict) -> None:
    """Each example is a mismatched pair under the rules, sorted by id within its feature."""
    for name, part in rows.examples.groupby("feature", sort=False):
        assert list(part["id"]) == sorted(part["id"]), name
        kind = dict(options["features"])[name]
        for t, s in zip(part["training"], part["serving"], strict=True):
            t_missing, s_missing = pd.isna(t), pd.isna(s)
            if t_missing or s_missing:
                assert t_missing != s_missing, (name, t, s)
            elif kind == "numeric":
                close = np.isclose(s, t, rtol=options["rtol"], atol=options["atol"])
                assert not close, (name, t, s)
            else:
                assert t != s, (name, t, s)


# --------------------------------------------------------------------------------------------
# The card fraud sample, as Spark tables


@pytest.fixture(scope="module")
def card(tmp_path_factory) -> tuple[prodready.Case, Path]:
    folder = tmp_path_factory.mktemp("rows-spark-card")
    case_file = samples.write("card_fraud", folder, rows=20_000)
    return prodready.load_case(case_file), folder


@pytest.fixture(scope="module")
def tables(spark, card):
    _, folder = card
    files = {TRAINING_TABLE: samples.TRAINING_FILE, SERVING_TABLE: samples.SERVING_FILE}
    for name, file in files.items():
        spark.sql(f"DROP TABLE IF EXISTS {name}")
        spark.read.parquet(str(folder / file)).write.saveAsTable(name)
    yield TRAINING_TABLE, SERVING_TABLE
    for name in (TRAINING_TABLE, SERVING_TABLE):
        spark.sql(f"DROP TABLE IF EXISTS {name}")


@pytest.fixture(scope="module")
def card_options(card) -> dict:
    case, _ = card
    shared = set(case.training.columns) & set(case.serving.columns)
    return {
        "id_column": case.columns.id,
        "timestamp": case.columns.timestamp,
        "features": [(f.name, f.type) for f in case.features if f.name in shared],
        "rtol": 1e-6,
        "atol": 1e-9,
        "examples": 5,
        "seed": 0,
        "max_pairs": MAX_PAIRS,
        "factors": hint_factors(),
        "tolerance": HINT_TOLERANCE,
        "min_ratios": HINT_MIN_PAIRS,
    }


@pytest.fixture(scope="module")
def card_duckdb(card, card_options) -> JoinedRows:
    _, folder = card
    found = compare_rows(
        [folder / samples.TRAINING_FILE], [folder / samples.SERVING_FILE], **card_options
    )
    assert found is not None
    return found


@pytest.fixture(scope="module")
def card_spark(spark, tables, card_options) -> JoinedRows:
    found = compare_spark(*tables, spark, **card_options)
    assert found is not None
    return found


def test_tables_give_duckdbs_counts_on_the_card_sample(card_spark, card_options, card_duckdb):
    assert_same_counts(card_spark, card_duckdb)
    # the comparison is not vacuous: July's shared ids, mismatches and the km -> miles ratios
    assert card_spark.joined > 1_000
    assert (card_spark.features["matches"] < card_spark.joined).any()
    assert (card_spark.features["ratios"] >= HINT_MIN_PAIRS).any()
    assert card_spark.ratio_counts and len(card_spark.pairs) > 0
    assert_examples_are_mismatches(card_spark, card_options)


def test_a_frame_in_memory_joins_a_serving_table_as_duckdb(
    spark, tables, card, card_options, card_spark
):
    case, folder = card
    duck = compare_rows(case.training, [folder / samples.SERVING_FILE], **card_options)
    found = compare_spark(case.training, tables[1], spark, **card_options)
    assert found is not None and duck is not None
    assert_same_counts(found, duck)
    # another run on another form of the same data picks the same rows (among more than 5)
    assert (found.joined - found.features["matches"] > card_options["examples"]).any()
    pd.testing.assert_frame_equal(found.examples, card_spark.examples)
    pd.testing.assert_frame_equal(found.pairs, card_spark.pairs)


# --------------------------------------------------------------------------------------------
# Hand-made frames with every awkward value


@pytest.fixture(scope="module")
def awkward(tmp_path_factory) -> tuple[list[Path], list[Path], dict]:
    """Training and serving with NaN, None, +/-inf, zeros, booleans, integer labels, a x100
    unit change, ratios scattered around 2 (an even count) and ids in one set only."""
    rng = np.random.default_rng(7)
    n = 60
    ids = np.arange(1_000, 1_000 + n)
    times = pd.Timestamp("2025-03-01", tz="UTC") + pd.to_timedelta(np.arange(n), unit="h")
    amount = rng.uniform(1, 50, n).round(2)
    amount_served = amount * 100.0
    amount_served[:10] = amount[:10]  # these agree
    value = rng.normal(0, 3, n)
    value[[0, 1]] = [np.nan, np.inf]
    value[[2, 3, 4]] = [-np.inf, 0.0, np.nan]
    value_served = value * rng.uniform(1.9, 2.1, n)
    value_served[[0, 1, 2, 3]] = [np.nan, np.inf, np.inf, 5.0]  # match, match, differ, zero
    value_served[[5, 6, 7, 8]] = [np.nan, 0.0, value[7] * (1 + 1e-9), value[8]]  # 8: equal
    training = pd.DataFrame(
        {
            "tid": ids,
            "ts": times,
            "amount_usd": amount,
            "value": value,
            "channel": pd.array(rng.choice(["web", "app", None], n), dtype=object),
            "is_new": rng.random(n) < 0.5,
            "level": rng.integers(0, 3, n),
        }
    )
    serving = training.assign(
        amount_usd=amount_served,
        value=value_served,
        channel=training["channel"].where(np.arange(n) % 4 != 0, "web"),
        is_new=training["is_new"] ^ (np.arange(n) % 7 == 0),
        level=training["level"].where(np.arange(n) % 5 != 0, 9),
    )
    training = training.drop(index=[50, 51, 52])  # ids served only
    serving = serving.drop(index=[40, 41]).iloc[:-2]  # ids trained on only; the last two hours
    folder = tmp_path_factory.mktemp("rows-spark-awkward")
    training.to_parquet(folder / "training.parquet", index=False)
    serving.to_parquet(folder / "serving.parquet", index=False)
    options = {
        "id_column": "tid",
        "timestamp": "ts",
        "features": [
            ("amount_usd", "numeric"),
            ("value", "numeric"),
            ("channel", "categorical"),
            ("is_new", "categorical"),
            ("level", "categorical"),
        ],
        "rtol": 1e-6,
        "atol": 1e-9,
        "examples": 100,  # more than the mismatches: both engines return them all
        "seed": 3,
        "max_pairs": 1_000,
        "factors": hint_factors(),
        "tolerance": HINT_TOLERANCE,
        "min_ratios": HINT_MIN_PAIRS,
    }
    return [folder / "training.parquet"], [folder / "serving.parquet"], options


@pytest.fixture(scope="module")
def awkward_spark(spark, awkward) -> JoinedRows:
    training, serving, options = awkward
    found = compare_spark(training, serving, spark, **options)
    assert found is not None
    return found


def test_awkward_values_are_counted_as_duckdb_counts_them(awkward, awkward_spark):
    training, serving, options = awkward
    duck = compare_rows(training, serving, **options)
    assert duck is not None
    assert_same_counts(awkward_spark, duck)
    # every mismatch and every finite pair fits: the same rows, the same raw values
    pd.testing.assert_frame_equal(awkward_spark.examples, duck.examples)
    pd.testing.assert_frame_equal(awkward_spark.pairs, duck.pairs)


def test_awkward_values_follow_the_rules(awkward, awkward_spark):
    training_files, serving_files, _ = awkward
    found = awkward_spark
    # 60 ids; 57 trained, 56 served; 53 in both; the span ends at the last served hour
    assert (found.joined, found.only_training, found.only_serving) == (53, 2, 3)
    table = found.features
    amount = table.loc["amount_usd"]
    assert (amount["matches"], amount["ratios"]) == (10, 43)
    assert amount["median_ratio"] == pytest.approx(100.0, rel=1e-12)
    assert found.ratio_counts["amount_usd"][100.0] == 43
    # value: NaN/NaN and inf/inf match; -inf vs inf, 0 vs 5 and x vs 0 differ without a ratio
    value = table.loc["value"]
    assert value["missing_only_serving"] == 1 and value["missing_only_training"] == 0
    joined = pd.read_parquet(training_files[0]).merge(
        pd.read_parquet(serving_files[0]), on="tid", suffixes=("_t", "_s")
    )
    t, s = joined["value_t"].to_numpy(), joined["value_s"].to_numpy()
    equal = np.isclose(s, t, rtol=1e-6, atol=1e-9, equal_nan=True)
    both = ~np.isnan(t) & ~np.isnan(s)
    pair = ~equal & both & (t != 0) & (s != 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = s[pair] / t[pair]
    ratios = ratios[np.isfinite(ratios)]
    assert ratios.size % 2 == 0  # the median is the mean of the two middle ratios
    assert value["matches"] == int(equal.sum())
    assert value["ratios"] == ratios.size
    assert value["median_ratio"] == float(np.median(ratios))  # exact, as numpy's
    # labels as the loader reads them: booleans True/False, integers as digits
    examples = found.examples.set_index("feature")
    assert set(examples.loc["is_new", "training"]) <= {"True", "False"}
    assert set(examples.loc["level", "serving"]) == {"9"}
    assert table.loc["channel", "missing_only_serving"] == 0
    assert table.loc["channel", "missing_only_training"] > 0


def test_fewer_picks_leave_the_counts_and_the_session_as_they_were(spark, awkward, awkward_spark):
    training, serving, options = awkward
    views_before = {t.name for t in spark.catalog.listTables() if t.isTemporary}
    settings = [spark.conf.get(k, None) for k in ("spark.sql.session.timeZone", GROUP_LIMIT)]
    found = compare_spark(training, serving, spark, **{**options, "examples": 2, "max_pairs": 5})
    assert found is not None
    pd.testing.assert_frame_equal(found.features, awkward_spark.features)
    assert found.ratio_counts == awkward_spark.ratio_counts
    # at most 2 examples and 5 pairs per feature, taken among all of them
    assert found.examples.groupby("feature").size().max() == 2
    assert found.pairs.groupby("feature").size().max() == 5
    every = awkward_spark.examples.astype(str).apply(tuple, axis=1)
    assert set(found.examples.astype(str).apply(tuple, axis=1)) <= set(every)
    every = awkward_spark.pairs.apply(tuple, axis=1)
    assert set(found.pairs.apply(tuple, axis=1)) <= set(every)
    assert {t.name for t in spark.catalog.listTables() if t.isTemporary} == views_before
    assert [spark.conf.get(k, None) for k in ("spark.sql.session.timeZone", GROUP_LIMIT)] == (
        settings
    )


# --------------------------------------------------------------------------------------------
# Bad input


def test_an_unknown_table_or_column_or_a_failing_read_is_one_clear_data_error(spark, awkward):
    from pyspark.sql import functions as F

    training, serving, options = awkward
    spark.conf.set("spark.sql.session.timeZone", "Europe/Paris")
    try:
        with pytest.raises(DataError, match="not a table or view") as caught:
            compare_spark("rows_spark_no_such_table", serving, spark, **options)
        assert "rows_spark_no_such_table" in str(caught.value)
        assert spark.conf.get("spark.sql.session.timeZone") == "Europe/Paris"
        missing = {**options, "features": [*options["features"], ("distance_km", "numeric")]}
        with pytest.raises(DataError, match="has no column 'distance_km'") as caught:
            compare_spark(training, serving, spark, **missing)
        assert "training data" in str(caught.value)
        assert spark.conf.get("spark.sql.session.timeZone") == "Europe/Paris"
        # a log that fails while Spark reads it: Spark's error, named, in a DataError
        broken = spark.read.parquet(str(serving[0])).withColumn(
            "value",
            F.expr("CASE WHEN tid > 1010 THEN raise_error('the log is broken') ELSE value END"),
        )
        with pytest.raises(DataError, match="Spark could not compare the rows") as caught:
            compare_spark(training, broken, spark, **options)
        assert "the log is broken" in str(caught.value)
        assert "serving log (the Spark DataFrame)" in str(caught.value)
        assert spark.conf.get("spark.sql.session.timeZone") == "Europe/Paris"
    finally:
        spark.conf.set("spark.sql.session.timeZone", "UTC")
