"""The case overview: every number checked against a direct computation."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from prodready import Case, charts
from prodready.overview import overview

N = 400
VALUE = {"true_positive": 100, "false_positive": -10, "false_negative": -200, "true_negative": 0}


@pytest.fixture(scope="module")
def case() -> Case:
    rng = np.random.default_rng(7)
    y_train = rng.integers(0, 2, N)
    y_serve = rng.integers(0, 2, N)
    start = pd.Timestamp("2025-01-06")  # a Monday
    training = pd.DataFrame(
        {
            "ts": start + pd.to_timedelta(np.arange(N) * 6, unit="h"),
            "y": y_train,
            # offline the model looks nearly perfect ...
            "p": np.clip(y_train * 0.8 + rng.random(N) * 0.2, 0, 1),
            "x": rng.normal(size=N),
            "leak": y_train.astype(float),
        }
    )
    serve_ts = pd.Timestamp("2025-06-02") + pd.to_timedelta(np.arange(N) * 6, unit="h")
    delay_days = np.tile([10, 20, 30, 40], N // 4)
    label_time = serve_ts + pd.to_timedelta(delay_days, unit="D")
    arrived = label_time <= serve_ts.max() - pd.Timedelta(days=5)
    serving = pd.DataFrame(
        {
            "ts": serve_ts,
            # ... and in production it is close to a coin toss.
            "y": pd.array(np.where(arrived, y_serve, pd.NA), dtype="Int8"),
            "lt": pd.Series(label_time).where(arrived),
            "p": np.clip(y_serve * 0.1 + rng.random(N) * 0.9, 0, 1),
            "x": np.where(rng.random(N) < 0.2, np.nan, rng.normal(size=N)),
            "leak": 0.0,
        }
    )
    return Case.from_frames(
        training,
        serving,
        task="binary",
        label="y",
        prediction="p",
        timestamp="ts",
        label_time="lt",
        features=[
            {"name": "x", "type": "numeric"},
            {"name": "leak", "type": "numeric", "available_at_prediction": False},
        ],
        business={"currency": "EUR", "value": VALUE, "threshold": 0.5},
        name="Synthetic",
    )


def test_numbers_match_direct_computation(case: Case) -> None:
    ov = overview(case)
    n = ov.numbers
    labelled = case.serving[case.serving["y"].notna()]
    assert n["training_rows"] == N and n["serving_rows"] == N
    assert n["labelled_serving_rows"] == len(labelled)
    assert n["base_rate_training"] == pytest.approx(case.training["y"].mean())
    assert n["base_rate_serving"] == pytest.approx(labelled["y"].astype(float).mean())
    delays = (labelled["lt"] - labelled["ts"]).dt.days
    assert n["label_delay_median_days"] == pytest.approx(delays.median())
    assert n["label_delay_p90_days"] == pytest.approx(delays.quantile(0.9))
    expected_silence = (case.serving["ts"].max() - labelled["ts"].max()) / pd.Timedelta(days=1)
    assert n["days_without_labels_at_end"] == pytest.approx(expected_silence)
    assert n["features_not_available_at_prediction"] == 1


def test_headline_is_the_served_models_metric_offline_and_in_serving(case: Case) -> None:
    ov = overview(case, seed=3)
    labelled = case.serving[case.serving["y"].notna()]
    offline = roc_auc_score(case.training["y"], case.training["p"])
    serving = roc_auc_score(labelled["y"].astype(int), labelled["p"])
    row = ov.headline.loc["roc_auc"]
    assert row["offline"] == pytest.approx(offline, abs=1e-12)
    assert row["serving"] == pytest.approx(serving, abs=1e-12)
    assert row["serving_low"] < serving < row["serving_high"]
    assert overview(case, seed=3).headline.equals(ov.headline)  # deterministic for a seed


def test_business_value_counts_decisions_at_the_threshold(case: Case) -> None:
    value = overview(case).business_value
    labelled = case.serving[case.serving["y"].notna()]
    y = labelled["y"].astype(int).to_numpy()
    act = labelled["p"].to_numpy() >= 0.5
    expected = (
        VALUE["true_positive"] * np.sum(act & (y == 1))
        + VALUE["false_positive"] * np.sum(act & (y == 0))
        + VALUE["false_negative"] * np.sum(~act & (y == 1))
    )
    assert value is not None
    assert value.total == pytest.approx(expected)
    assert value.per_1000 == pytest.approx(expected / len(y) * 1000)
    assert value.currency == "EUR"
    without = overview(case).value_without_model
    assert without is not None
    assert without.total == pytest.approx(VALUE["false_negative"] * np.sum(y == 1))


def test_over_time_counts_every_row_by_monday_weeks(case: Case) -> None:
    table = overview(case).over_time
    totals = table.groupby("set")["rows"].sum()
    assert totals["training"] == N and totals["serving"] == N
    assert (table["week"].dt.day_of_week == 0).all()
    serving = table[table["set"] == "serving"]
    assert serving["labelled"].sum() == case.serving["y"].notna().sum()


def test_feature_table(case: Case) -> None:
    table = overview(case).to_frame()
    assert list(table.index) == ["x", "leak"]
    assert table.loc["x", "missing_serving"] == pytest.approx(case.serving["x"].isna().mean())
    assert table.loc["x", "missing_training"] == 0
    assert not table.loc["leak", "available_at_prediction"]


def test_summary_puts_the_gap_and_the_leak_first(case: Case) -> None:
    findings = overview(case).summary()
    assert [f.severity for f in findings[:2]] == ["high", "high"]
    texts = " ".join(f.text for f in findings)
    assert "ROC AUC" in texts and "on the serving log" in texts
    assert "not available at prediction time (leak)" in texts
    share = case.serving["x"].isna().mean()
    assert f"x is missing on {share:.0%} of serving rows against 0% in training" in texts
    money = [f for f in findings if f.money is not None]
    assert money and money[0].currency == "EUR"


def test_to_dict_is_json_safe_and_complete(case: Case) -> None:
    data = json.loads(json.dumps(overview(case).to_dict()))
    assert data["numbers"]["training_rows"] == N
    assert data["primary_metric"] == "roc_auc"
    assert {row["metric"] for row in data["headline"]} >= {"roc_auc", "brier"}
    assert data["summary"][0]["severity"] == "high"


def test_charts_show_the_overview_numbers(case: Case) -> None:
    ov = overview(case)
    fig = charts.offline_vs_serving(ov)
    offline, serving = fig.data
    assert list(offline.y) == pytest.approx(list(ov.headline["offline"]))
    assert list(serving.y) == pytest.approx(list(ov.headline["serving"]))
    volume = charts.volume_over_time(ov)
    bars = [t for t in volume.data if t.type == "bar"]
    assert sum(sum(t.y) for t in bars) == 2 * N
    missing = charts.feature_missingness(ov)
    assert set(missing.data[1].y) == {"x", "leak"}
