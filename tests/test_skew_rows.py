"""Row-level feature skew: the sample's planted pipeline bugs and small cases with known answers."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from prodready import Case, samples
from prodready.skew.rows import RowSkew, row_skew, unit_hint


@pytest.fixture(scope="module")
def sample() -> RowSkew:
    result = row_skew(samples.load())
    assert result is not None
    return result


def make_case(
    train_values: dict[str, list | np.ndarray],
    serve_values: dict[str, list | np.ndarray],
    *,
    features: list[dict] | None = None,
    train_ids: list[str] | None = None,
    serve_ids: list[str] | None = None,
    train_start: str = "2025-03-01",
    serve_start: str = "2025-03-01",
    id_column: str | None = "tid",
) -> Case:
    """A binary case whose frames hold the given feature columns, one row per hour."""
    n_train = len(next(iter(train_values.values())))
    n_serve = len(next(iter(serve_values.values())))
    train_ids = train_ids or [f"T{i}" for i in range(n_train)]
    serve_ids = serve_ids or [f"T{i}" for i in range(n_serve)]

    def frame(values: dict, ids: list[str], start: str) -> pd.DataFrame:
        n = len(ids)
        out = pd.DataFrame(
            {
                "ts": pd.Timestamp(start) + pd.to_timedelta(np.arange(n), unit="h"),
                "y": np.arange(n) % 2,
                "p": np.full(n, 0.5),
                **values,
            }
        )
        if id_column:
            out[id_column] = ids
        return out

    if features is None:
        features = [
            {"name": k, "type": "numeric" if np.asarray(v).dtype.kind in "fi" else "categorical"}
            for k, v in train_values.items()
        ]
    return Case.from_frames(
        frame(train_values, train_ids, train_start),
        frame(serve_values, serve_ids, serve_start),
        task="binary",
        label="y",
        prediction="p",
        timestamp="ts",
        id=id_column,
        features=features,
    )


# -- the sample case --------------------------------------------------------------------------


def test_sample_joins_the_july_ids(sample: RowSkew) -> None:
    # July is in both sets with the same 9,685 transaction ids (docs/sample_case.md)
    assert sample.joined == 9_685
    assert sample.only_training == 0
    assert sample.only_serving == 0


def test_sample_names_the_km_to_miles_change(sample: RowSkew) -> None:
    row = sample.features.loc["distance_from_home_km"]
    assert row["mismatch_rate"] > 0.95
    assert row["median_ratio"] == pytest.approx(1 / 1.609344, rel=1e-3)
    assert row["unit_hint"] == "serving / training ≈ 0.621: looks like km to miles"


def test_sample_finds_the_window_change_without_a_unit_hint(sample: RowSkew) -> None:
    row = sample.features.loc["avg_amount_30d"]
    assert 0.85 <= row["mismatch_rate"] <= 0.97
    assert row["unit_hint"] == ""
    # the 7-day window is empty more often online: 22% missing online vs 5% offline
    assert row["missing_only_serving"] > 0.1 * row["compared"]
    # of the rows where both values exist, about 94% differ (docs/sample_case.md)
    case = samples.load()
    joined = case.training.merge(case.serving, on="transaction_id", suffixes=("_t", "_s"))
    offline, online = joined["avg_amount_30d_t"], joined["avg_amount_30d_s"]
    both = offline.notna() & online.notna()
    differ = row["mismatches"] - row["missing_only_serving"] - row["missing_only_training"]
    assert differ == int((~np.isclose(online[both], offline[both], rtol=1e-6, atol=1e-9)).sum())
    assert differ / both.sum() == pytest.approx(0.94, abs=0.01)
    assert row["missing_only_serving"] == int((online.isna() & offline.notna()).sum())


def test_sample_leaves_the_other_features_alone(sample: RowSkew) -> None:
    clean = ["amount", "merchant_category", "channel", "region", "hour_of_day", "customer_age"]
    assert (sample.features.loc[clean, "mismatch_rate"] == 0).all()
    assert (sample.features.loc[clean, "match_rate"] == 1).all()
    assert (sample.features["unit_hint"] != "").sum() == 1
    # the leaky count differs where a chargeback arrived later: not a unit problem
    assert sample.features.loc["chargebacks_90d", "unit_hint"] == ""


def test_sample_examples_and_pairs(sample: RowSkew) -> None:
    per_feature = sample.examples.groupby("feature").size()
    assert per_feature.max() <= 5
    assert set(per_feature.index) == {"distance_from_home_km", "avg_amount_30d", "chargebacks_90d"}
    distance = sample.examples[sample.examples["feature"] == "distance_from_home_km"]
    ratio = distance["serving"].astype(float) / distance["training"].astype(float)
    np.testing.assert_allclose(ratio, 1 / 1.609344, rtol=0.02)
    # pairs: numeric features only, at most 2,000 each, both values present
    counts = sample.pairs.groupby("feature").size()
    assert counts.max() == 2_000
    assert "merchant_category" not in counts.index
    assert sample.pairs[["training", "serving"]].notna().all().all()
    pairs = sample.pairs[sample.pairs["feature"] == "amount"]
    np.testing.assert_allclose(pairs["serving"], pairs["training"])


def test_sample_is_deterministic_and_json_safe(sample: RowSkew) -> None:
    case = samples.load()
    again = row_skew(case, seed=0)
    other = row_skew(case, seed=1)
    assert again is not None and other is not None
    pd.testing.assert_frame_equal(again.examples, sample.examples)
    pd.testing.assert_frame_equal(again.pairs, sample.pairs)
    assert not other.examples.equals(sample.examples)
    data = json.loads(json.dumps(sample.to_dict()))
    assert data["joined"] == 9_685
    rows = {r["feature"]: r for r in data["features"]}
    assert rows["amount"]["median_ratio"] is None
    assert rows["distance_from_home_km"]["unit_hint"].endswith("km to miles")


# -- known answers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("factor", "name", "words"),
    [
        (0.621371, "distance_km", "serving / training ≈ 0.621: looks like km to miles"),
        (1.609344, "trip_miles", "serving / training ≈ 1.61: looks like miles to km"),
        (0.001, "latency_ms", "serving / training ≈ 0.001: looks like ms to s"),
        (1000.0, "weight_kg", "serving / training ≈ 1,000: looks like kg to g"),
        (100.0, "approval_rate", "serving / training ≈ 100: looks like fraction to percent"),
        (1 / 60, "duration_seconds", "serving / training ≈ 0.0167: looks like s to min"),
        (2.20462, "weight_kg", "serving / training ≈ 2.2: looks like kg to lb"),
    ],
)
def test_unit_factor_is_named(factor: float, name: str, words: str) -> None:
    rng = np.random.default_rng(3)
    values = rng.uniform(1, 100, 300)
    case = make_case({name: values}, {name: values * factor})
    result = row_skew(case)
    assert result is not None
    row = result.features.loc[name]
    assert row["mismatches"] == 300
    assert row["median_ratio"] == pytest.approx(factor)
    assert row["unit_hint"] == words


def test_shared_factor_without_a_unit_in_the_name_lists_the_options() -> None:
    ratios = np.full(50, 0.001)
    assert unit_hint(ratios, "x") == (
        "serving / training ≈ 0.001: looks like m to km or g to kg or ms to s"
    )


def test_constant_unknown_scaling() -> None:
    values = np.linspace(1, 50, 200)
    case = make_case({"x": values}, {"x": values * 0.37})
    result = row_skew(case)
    assert result is not None
    assert result.features.loc["x", "unit_hint"] == (
        "serving is a constant x0.37 of training: a scaling differs between the pipelines"
    )


def test_no_hint_when_ratios_scatter_or_too_few_agree() -> None:
    rng = np.random.default_rng(1)
    values = rng.uniform(1, 100, 400)
    scattered = values * rng.uniform(0.5, 1.5, 400)
    # 70% converted, 30% noise: below the 80% rule
    partly = np.where(np.arange(400) < 280, values * 0.621371, values * 3.3)
    case = make_case({"a": values, "b": values}, {"a": scattered, "b": partly})
    result = row_skew(case)
    assert result is not None
    assert result.features.loc["a", "unit_hint"] == ""
    assert result.features.loc["b", "unit_hint"] == ""
    assert result.features.loc["b", "median_ratio"] == pytest.approx(0.621371)
    # zero pairs count in the denominator: 1 -> 0 changes never look like a scaling
    assert unit_hint(np.full(10, 0.5), "count", pairs=100) == ""


def test_tolerance_and_missing_values() -> None:
    train = np.array([1.0, 2.0, 3.0, np.nan, np.nan, 6.0, 7.0, 8.0])
    serve = np.array([1.0 + 1e-12, 2.01, 3.0, np.nan, 5.0, np.nan, 7.0, 8.0])
    case = make_case({"x": train}, {"x": serve})
    result = row_skew(case)
    assert result is not None
    row = result.features.loc["x"]
    # equal within tolerance: 1, 3, 7, 8 and both-missing: 5 matches; 2.01 and two one-sided
    assert (row["matches"], row["mismatches"]) == (5, 3)
    assert (row["missing_only_training"], row["missing_only_serving"]) == (1, 1)
    assert row["mismatch_rate"] == pytest.approx(3 / 8)
    assert row["median_ratio"] == pytest.approx(2.01 / 2.0)
    loose = row_skew(case, rtol=0.01)
    assert loose is not None
    assert loose.features.loc["x", "mismatches"] == 2
    examples = result.examples.set_index("id")
    assert examples.loc["T4", "training"] == "missing"
    assert examples.loc["T4", "serving"] == "5"
    assert examples.loc["T1", "serving"] == "2.01"


def test_categorical_compares_text() -> None:
    case = make_case(
        {"c": ["a", "b", None, None, "e"]},
        {"c": ["a", "B", None, "d", "e"]},
        features=[{"name": "c", "type": "categorical"}],
    )
    result = row_skew(case)
    assert result is not None
    row = result.features.loc["c"]
    assert (row["matches"], row["mismatches"], row["missing_only_training"]) == (3, 2, 1)
    assert np.isnan(row["median_ratio"])
    assert row["unit_hint"] == ""
    assert len(result.pairs) == 0
    assert sorted(result.examples["id"]) == ["T1", "T3"]


def test_ids_on_one_side_are_counted_only_where_both_sets_have_data() -> None:
    # training: January to March (hourly, 2,000 rows); serving starts in mid-March
    train_ids = [f"T{i}" for i in range(2_000)]
    serve_ids = [f"T{i}" for i in range(1_800, 2_000)] + [f"S{i}" for i in range(100)]
    start = pd.Timestamp("2025-01-01")
    serve_start = start + pd.Timedelta(hours=1_800)
    case = make_case(
        {"x": np.ones(2_000)},
        {"x": np.ones(300)},
        train_ids=train_ids,
        serve_ids=serve_ids,
        train_start=str(start),
        serve_start=str(serve_start),
    )
    result = row_skew(case)
    assert result is not None
    assert result.joined == 200
    # the 1,800 earlier training rows are outside serving's span: not counted
    assert result.only_training == 0
    # serving rows S0-S99 come after training ends: outside training's span, not counted
    assert result.only_serving == 0
    moved = make_case(
        {"x": np.ones(2_000)},
        {"x": np.ones(300)},
        train_ids=train_ids,
        serve_ids=[f"T{i}" for i in range(1_800, 1_900)] + [f"S{i}" for i in range(200)],
        train_start=str(start),
        serve_start=str(serve_start),
    )
    result = row_skew(moved)
    assert result is not None
    # 100 shared; training ids 1,900-1,999 are within serving's span but not in serving;
    # serving S0-S99 fall within training's span (up to hour 1,999), S100-S199 after it
    assert (result.joined, result.only_training, result.only_serving) == (100, 100, 100)


# -- degenerate inputs ------------------------------------------------------------------------


def test_no_id_column_or_no_shared_id_gives_none() -> None:
    values = {"x": np.arange(10.0)}
    assert row_skew(make_case(values, values, id_column=None)) is None
    disjoint = make_case(values, values, serve_ids=[f"S{i}" for i in range(10)])
    assert row_skew(disjoint) is None


def test_feature_missing_from_serving_gets_a_note() -> None:
    case = make_case(
        {"x": np.arange(10.0), "late": np.arange(10.0)},
        {"x": np.arange(10.0)},
        features=[
            {"name": "x", "type": "numeric"},
            {"name": "late", "type": "numeric", "available_at_prediction": False},
        ],
    )
    result = row_skew(case)
    assert result is not None
    row = result.features.loc["late"]
    assert row["compared"] == 10
    assert np.isnan(row["mismatch_rate"])
    assert row["note"] == "late is not in the serving log, so its values cannot be compared"
    assert result.features.loc["x", "match_rate"] == 1.0
    assert result.features.loc["x", "note"] == ""


def test_all_null_and_constant_features_in_serving() -> None:
    n = 20
    case = make_case(
        {"x": np.arange(n, dtype=float), "k": np.ones(n)}, {"x": np.ones(n), "k": np.ones(n)}
    )
    # the validation refuses an all-empty column, so build the frame the audit could still get
    serving = case.serving.assign(x=np.nan)
    result = row_skew(dataclasses.replace(case, serving=serving))
    assert result is not None
    row = result.features.loc["x"]
    assert (row["mismatches"], row["missing_only_serving"]) == (n, n)
    assert np.isnan(row["median_ratio"])
    assert row["unit_hint"] == ""
    assert result.features.loc["k", "mismatch_rate"] == 0.0


def test_text_in_a_numeric_feature_is_compared_as_text() -> None:
    case = make_case({"x": np.arange(5.0)}, {"x": np.arange(5.0)})
    serving = case.serving.assign(x=["0.0", "1.0", "two", "3.0", "4.0"])
    result = row_skew(dataclasses.replace(case, serving=serving))
    assert result is not None
    row = result.features.loc["x"]
    assert row["note"] == "x holds text that is not a number in the serving log: compared as text"
    assert row["mismatches"] == 5 - 4  # "0.0" == str(0.0) etc.; "two" differs
