"""The delivery_time sample: reproducible bytes, every planted problem with its magnitude, and the
overview and skew audit working on a regression case.

Magnitudes are checked on the bundled copy (what users open); what the serving log cannot show
(true distances and traffic where the online pipeline logged something else, cancelled orders)
comes from the generator. "Error" is actual - predicted minutes.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from prodready import load_case, samples
from prodready.cli import app
from prodready.errors import ParameterError
from prodready.overview import overview
from prodready.resources import sample_dir
from prodready.samples import delivery_time as dt
from prodready.skew import audit
from prodready.spec import CaseSpec

REPO = Path(__file__).resolve().parents[1]
FILES = ("case.yaml", "training.parquet", "serving_log.parquet")
JULY = pd.Timestamp("2025-07-01", tz="UTC")
AUGUST = pd.Timestamp("2025-08-01", tz="UTC")
SEPTEMBER = pd.Timestamp("2025-09-01", tz="UTC")
NOVEMBER = pd.Timestamp("2025-11-01", tz="UTC")


def error(frame: pd.DataFrame, prediction: str = "predicted_minutes") -> pd.Series:
    """Actual - predicted minutes on the rows whose delivery time has arrived."""
    labelled = frame[frame["delivery_minutes"].notna()]
    return labelled["delivery_minutes"] - labelled[prediction]


def mae(frame: pd.DataFrame, prediction: str = "predicted_minutes") -> float:
    return float(error(frame, prediction).abs().mean())


@pytest.fixture(scope="module")
def case():
    return samples.load("delivery_time")


@pytest.fixture(scope="module")
def generated() -> dt.DeliverySample:
    return dt.generate(dt.DEFAULT_ROWS, dt.DEFAULT_SEED)


@pytest.fixture(scope="module")
def windows(case) -> dict[str, pd.Series]:
    """Masks over the serving log for each dated problem."""
    serving = case.serving
    time = serving["order_time"]
    unit_weeks = (time >= dt.UNIT_START) & (time < dt.UNIT_END)
    masks = {
        "stuck": (time >= dt.STUCK_START) & (time < dt.STUCK_END),
        "unit_weeks": unit_weeks,
        "unit": unit_weeks & (serving["client"] == dt.UNIT_CLIENT),
        "new_zone": serving["city_zone"] == dt.NEW_ZONE,
        "rush": time >= dt.RUSH_START,
    }
    masks["clean"] = ~(masks["stuck"] | masks["unit"] | masks["new_zone"])
    return masks


# --- reproducibility and the bundled copy ---------------------------------------------------


def test_write_is_byte_reproducible_and_seed_dependent(tmp_path: Path) -> None:
    first = samples.write("delivery_time", tmp_path / "a", rows=6_000, seed=7)
    samples.write("delivery_time", tmp_path / "b", rows=6_000, seed=7)
    samples.write("delivery_time", tmp_path / "c", rows=6_000, seed=8)
    assert first == tmp_path / "a" / "case.yaml"
    for name in FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    for name in FILES[1:]:
        assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "c" / name).read_bytes()
    assert not list((tmp_path / "a").glob(".*.tmp"))
    training = pd.read_parquet(tmp_path / "a" / "training.parquet")
    serving = pd.read_parquet(tmp_path / "a" / "serving_log.parquet")
    # every order once, except those cancelled before July (in neither set: not delivered,
    # and not in the serving log)
    assert 0.97 * 6_000 < len(set(training["order_id"]) | set(serving["order_id"])) < 6_000
    spec = CaseSpec.model_validate(yaml.safe_load(first.read_text()))
    assert spec.name == "Food delivery time" and spec.task == "regression"


def test_bundled_copy_is_the_default_generation(tmp_path: Path) -> None:
    samples.write("delivery_time", tmp_path)  # the sample's own defaults: 60,000 rows, seed 0
    bundled = sample_dir("delivery_time")
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (bundled / name).read_bytes(), name
    assert sum((bundled / name).stat().st_size for name in FILES) < 3_000_000


def test_write_rejects_too_few_rows(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match=str(dt.MIN_ROWS)):
        samples.write("delivery_time", tmp_path / "out", rows=100)
    assert not (tmp_path / "out").exists()


def test_case_file_declares_the_contract(case) -> None:
    spec = case.spec
    assert spec.task == "regression"
    assert spec.feature_names == dt.FEATURE_NAMES and len(spec.features) == 10
    assert spec.feature("restaurant_prep_avg_min").availability_lag == pd.Timedelta(days=1)
    kinds = {f.name: f.type for f in spec.features}
    assert {n for n, k in kinds.items() if k == "categorical"} == {
        "weekday",
        "weather",
        "city_zone",
        "client",
    }
    assert (spec.columns.prediction, spec.columns.challenger) == (
        "predicted_minutes",
        "challenger_minutes",
    )
    assert spec.business.currency == "EUR" and spec.business.cost_per_unit_error == 0.4
    assert spec.business.value is None
    assert (sample_dir("delivery_time") / "case.yaml").read_text() == dt.case_yaml(60_000, 0)


# --- the data's shape ------------------------------------------------------------------------


def test_orders_labels_and_calendar(case, generated) -> None:
    training, serving = case.training, case.serving
    ids = set(training["order_id"]) | set(serving["order_id"])
    assert 0.985 * dt.DEFAULT_ROWS < len(ids) < dt.DEFAULT_ROWS  # minus cancelled before July
    assert len(serving) == len(generated.serving_truth)
    assert training["order_time"].min() >= pd.Timestamp("2025-01-01", tz="UTC")
    assert training["order_time"].max() < AUGUST
    assert serving["order_time"].min() >= JULY
    assert serving["order_time"].max() < dt.SNAPSHOT
    for frame in (training, serving):
        assert (frame["weekday"] == frame["order_time"].dt.strftime("%a")).all()
        assert (frame["hour_of_day"] == frame["order_time"].dt.hour).all()
        assert frame["predicted_minutes"].notna().all() and (frame["predicted_minutes"] >= 5).all()
        delivered = frame["delivery_minutes"].notna()
        delay = (frame["label_time"] - frame["order_time"]).dt.total_seconds() / 60
        assert (delay[delivered] - frame.loc[delivered, "delivery_minutes"]).abs().max() <= 0.1
    assert training["delivery_minutes"].notna().all()  # delivered orders only
    delay = (serving["label_time"] - serving["order_time"]).dt.total_seconds() / 60
    assert 35 <= delay.median() <= 45 and 60 <= delay.quantile(0.9) <= 75 and delay.max() < 300
    assert 0.004 < serving["restaurant_prep_avg_min"].isna().mean() < 0.01
    assert 36 <= training["delivery_minutes"].mean() <= 42


def test_july_is_logged_identically_by_both_pipelines(case) -> None:
    """The negative control: no problem is planted in July, so both pipelines agree there."""
    offline = case.training[case.training["order_time"] >= JULY]
    online = case.serving[
        (case.serving["order_time"] < AUGUST) & case.serving["delivery_minutes"].notna()
    ]
    assert len(offline) == len(online) > 4_000
    joined = offline.merge(online, on="order_id", suffixes=("_offline", "_online"))
    assert len(joined) == len(offline)
    for name in [*dt.FEATURE_NAMES, "predicted_minutes", "delivery_minutes"]:
        left, right = joined[f"{name}_offline"], joined[f"{name}_online"]
        assert ((left == right) | (left.isna() & right.isna())).all(), name


# --- the six problems ------------------------------------------------------------------------


def test_gradual_drift_decays_the_champion_month_by_month(case, windows) -> None:
    assert dt.drift_factor(np.array([int(SEPTEMBER.timestamp())]))[0] == 1.0
    assert dt.drift_factor(np.array([int(dt.SNAPSHOT.timestamp())]))[0] == pytest.approx(1.3)
    serving = case.serving[windows["clean"]]
    month = serving["order_time"].dt.month
    bias = {m: float(error(serving[month == m]).mean()) for m in range(7, 13)}
    error_size = {m: mae(serving[month == m]) for m in range(7, 13)}
    assert abs(bias[7]) < 0.3 and abs(bias[8]) < 0.3  # before the drift
    assert bias[9] == pytest.approx(0.7, abs=0.2)
    assert bias[10] == pytest.approx(2.1, abs=0.2)
    assert bias[11] == pytest.approx(3.6, abs=0.2)
    assert bias[12] == pytest.approx(11.2, abs=0.3)
    assert bias[9] < bias[10] < bias[11] < bias[12]  # month by month
    assert error_size[9] < error_size[10] < error_size[11] < error_size[12]
    assert error_size[7] == pytest.approx(3.6, abs=0.1)
    assert error_size[11] == pytest.approx(4.8, abs=0.1)
    assert mae(case.training) == pytest.approx(3.6, abs=0.1)


def test_stuck_traffic_feed(case, generated, windows) -> None:
    serving, truth = case.serving, generated.serving_truth
    stuck = windows["stuck"]
    assert pd.Timedelta(days=10) == dt.STUCK_END - dt.STUCK_START
    assert stuck.sum() == 1_385
    assert (serving.loc[stuck, "traffic_index"] == dt.TRAFFIC_DEFAULT).all()
    assert serving["traffic_index"].notna().all()
    assert (serving.loc[~stuck, "traffic_index"] == dt.TRAFFIC_DEFAULT).mean() < 0.015
    assert truth.loc[stuck.to_numpy(), "traffic_index"].std() > 0.2  # the real traffic varied
    np.testing.assert_array_equal(
        serving.loc[~stuck, "traffic_index"], truth.loc[~stuck.to_numpy(), "traffic_index"]
    )
    august = serving["order_time"].dt.month == 8
    inside, outside = mae(serving[stuck]), mae(serving[august & ~stuck])
    assert inside == pytest.approx(5.3, abs=0.15) and outside == pytest.approx(3.5, abs=0.1)


def test_distance_in_miles_from_one_client(case, generated, windows) -> None:
    serving, truth = case.serving, generated.serving_truth
    unit, weeks = windows["unit"], windows["unit_weeks"]
    assert unit.sum() / weeks.sum() == pytest.approx(0.41, abs=0.01)
    ratio = truth.loc[unit.to_numpy(), "distance_km"] / serving.loc[unit, "distance_km"]
    assert ratio.median() == pytest.approx(dt.KM_PER_MILE, abs=0.002)
    assert ((ratio - dt.KM_PER_MILE).abs() < 0.05).mean() > 0.95
    np.testing.assert_array_equal(
        serving.loc[~unit, "distance_km"], truth.loc[~unit.to_numpy(), "distance_km"]
    )
    assert float(error(serving[unit]).mean()) == pytest.approx(10.4, abs=0.2)
    assert mae(serving[unit]) == pytest.approx(10.5, abs=0.2)
    assert mae(serving[weeks & ~unit]) == pytest.approx(4.1, abs=0.15)


def test_new_zone_from_november(case, windows) -> None:
    serving = case.serving
    assert (case.training["city_zone"] != dt.NEW_ZONE).all()
    zone = windows["new_zone"]
    first = serving.loc[zone, "order_time"].min()
    assert NOVEMBER <= first < NOVEMBER + pd.Timedelta(days=1)
    after = serving["order_time"] >= NOVEMBER
    assert zone.sum() / after.sum() == pytest.approx(0.091, abs=0.005)
    assert float(error(serving[zone]).mean()) == pytest.approx(21.2, abs=0.3)
    assert mae(serving[zone]) == pytest.approx(21.2, abs=0.3)
    assert mae(serving[after & ~zone]) == pytest.approx(8.6, abs=0.2)
    assert mae(serving[zone], "challenger_minutes") < 0.3 * mae(serving[zone])


def test_december_rush(case, generated, windows) -> None:
    serving, truth = case.serving, generated.serving_truth
    rush = windows["rush"]
    autumn = (serving["order_time"] >= SEPTEMBER) & ~rush
    per_day_rush, per_day_autumn = rush.sum() / 31, autumn.sum() / 91
    assert per_day_rush == pytest.approx(235, abs=3) and per_day_autumn == pytest.approx(166, 2)
    assert per_day_rush / per_day_autumn == pytest.approx(1.41, abs=0.03)
    november = (serving["order_time"] >= NOVEMBER) & ~rush
    minutes = truth["delivery_minutes"]
    assert minutes[rush.to_numpy()].mean() == pytest.approx(58.3, abs=0.5)
    assert minutes[november.to_numpy()].mean() == pytest.approx(44.8, abs=0.5)
    new_hires = serving["courier_tenure_days"] < 60
    assert new_hires[rush].mean() == pytest.approx(0.35, abs=0.02)
    assert new_hires[autumn].mean() == pytest.approx(0.12, abs=0.02)
    assert float(error(serving[rush]).mean()) == pytest.approx(12.4, abs=0.3)
    assert mae(serving[rush], "challenger_minutes") < 5


def test_cancelled_orders_never_get_a_label(case, generated) -> None:
    serving, truth = case.serving, generated.serving_truth
    cancelled = truth["cancelled"].to_numpy()
    assert cancelled.mean() == pytest.approx(0.021, abs=0.002)
    assert serving.loc[cancelled, "delivery_minutes"].isna().all()
    assert serving.loc[cancelled, "label_time"].isna().all()
    assert truth.loc[cancelled, "delivery_minutes"].isna().all()
    missing = serving["delivery_minutes"].isna().to_numpy()
    late = missing & ~cancelled
    assert late.sum() == 3  # the last minutes of the year: delivered after the snapshot
    assert (serving.loc[late, "order_time"] > dt.SNAPSHOT - pd.Timedelta(hours=2)).all()
    assert (serving["label_time"].dropna() <= dt.SNAPSHOT).all()
    assert (serving["delivery_minutes"].isna() == serving["label_time"].isna()).all()


def test_challenger_knows_the_drift_but_not_the_incidents(case, windows) -> None:
    serving = case.serving
    assert mae(serving) == pytest.approx(6.4, abs=0.1)
    assert mae(serving, "challenger_minutes") == pytest.approx(4.2, abs=0.1)
    # fed the same online features, it suffers the same incidents
    for window in ("stuck", "unit"):
        assert mae(serving[windows[window]], "challenger_minutes") > 1.3 * mae(
            serving[windows["clean"] & (serving["order_time"] < NOVEMBER)], "challenger_minutes"
        )


# --- the audits on a regression case ---------------------------------------------------------


def test_overview_on_a_regression_case(case) -> None:
    result = overview(case, n_resamples=200)
    assert result.primary_metric == "mae"
    headline = result.headline
    assert list(headline.index) == ["mae", "rmse", "mape"]
    assert headline.loc["mae", "offline"] == pytest.approx(mae(case.training), abs=1e-9)
    serving = headline.loc["mae", "serving"]
    assert serving == pytest.approx(6.39, abs=0.02)
    assert headline.loc["mae", "serving_low"] < serving < headline.loc["mae", "serving_high"]
    assert headline.loc["mae", "serving_high"] - headline.loc["mae", "serving_low"] < 0.3
    assert not headline.loc["mae", "higher_is_better"]
    numbers = result.numbers
    assert numbers["labelled_share"] == pytest.approx(0.979, abs=0.002)
    assert numbers["label_delay_median_days"] * 24 * 60 == pytest.approx(40.7, abs=1)
    value = result.business_value
    assert value.currency == "EUR" and result.value_without_model is None
    assert value.per_1000 == pytest.approx(-0.4 * serving * 1000, rel=1e-9)
    texts = [f.text for f in result.summary()]
    assert any("MAE" in t and "3.580" in t and "6.392" in t for t in texts)
    assert any("errors cost EUR" in t for t in texts)
    assert any("a median 41 minutes after a prediction" in t for t in texts)
    json.dumps(result.to_dict())


def test_skew_audit_on_a_regression_case(case) -> None:
    result = audit(case)
    gap = result.metric_gap
    assert gap.metric == "mae" and gap.currency == "EUR"
    assert gap.offline == pytest.approx(3.65, abs=0.1)  # baseline on July, held out
    assert gap.serving == pytest.approx(6.5, abs=0.2)
    assert gap.serving > 1.6 * gap.offline
    assert gap.table.loc["all features", "serving_value_per_1000"] == pytest.approx(
        -400 * gap.serving
    )
    table = result.to_frame()
    assert table.loc["city_zone", "unseen_share"] == pytest.approx(0.035, abs=0.003)
    assert table.loc["city_zone", "severity"] in ("medium", "high")
    assert (table["row_mismatch_rate"] == 0).all()  # July: both pipelines agree
    assert not result.leakage.suspects
    months = result.by_month.assign(month=lambda f: f["month"].dt.month)
    psi = months.pivot(index="feature", columns="month", values="psi")
    assert psi.loc["traffic_index"].idxmax() == 8 and psi.loc["traffic_index", 8] > 0.4
    assert psi.loc["distance_km"].idxmax() == 10 and psi.loc["distance_km", 10] > 0.04
    assert (psi.loc["city_zone", [11, 12]] > 0.5).all()
    assert (psi.loc["city_zone", [7, 8, 9, 10]] < 0.01).all()
    texts = [f.text for f in result.summary()]
    gap_text = next(t for t in texts if t.startswith("Trained on all features"))
    assert "3.651" in gap_text or "3.6" in gap_text
    assert "prediction time" not in gap_text  # every feature is available: one model, not two
    json.dumps(result.to_dict())


# --- the known-problems table and docs -------------------------------------------------------


def test_known_problems_frame(case) -> None:
    frame = samples.known_problems("delivery_time")
    assert list(frame.columns) == ["problem", "feature", "start", "end", "description"]
    assert len(frame) == 6 and frame["problem"].is_unique
    assert set(frame["feature"].dropna()) <= set(case.feature_names)
    dated = frame.dropna(subset=["start"])
    assert (dated["start"] < dated["end"]).all()
    stuck = frame.set_index("problem").loc["stuck_feed"]
    assert (stuck["feature"], stuck["start"], stuck["end"]) == (
        "traffic_index",
        pd.Timestamp("2025-08-11", tz="UTC"),
        pd.Timestamp("2025-08-21", tz="UTC"),
    )


def test_docs_name_every_problem_with_its_feature_and_dates() -> None:
    docs = (REPO / "docs" / "sample_cases.md").read_text()
    section = docs[docs.index("## `delivery_time`") : docs.index("## `elec2`")]
    for row in samples.known_problems("delivery_time").itertuples():
        line = next(t for t in section.splitlines() if t.startswith(f"| `{row.problem}`"))
        if isinstance(row.feature, str):
            assert f"`{row.feature}`" in line
        for moment in (row.start, row.end):
            if not pd.isna(moment):
                assert moment.strftime("%Y-%m-%d") in line
    assert "prodready sample delivery_time --rows 60000 --seed 0" in docs


def test_every_sample_is_registered(tmp_path: Path) -> None:
    assert samples.available() == ["card_fraud", "delivery_time", "elec2"]
    with pytest.raises(ParameterError) as raised:
        samples.load("groceries")
    for name in samples.available():
        assert name in str(raised.value)
    result = CliRunner().invoke(app, ["sample", "groceries", "--out", str(tmp_path / "x")])
    assert result.exit_code == 2
    assert "card_fraud, delivery_time, elec2" in result.stderr
    assert not (tmp_path / "x").exists()


def test_cli_writes_the_sample(tmp_path: Path) -> None:
    out = tmp_path / "case"
    args = ["sample", "delivery_time", "--rows", "6000", "--seed", "3", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert f"Wrote the sample case 'delivery_time' to {out / 'case.yaml'}" in result.stdout
    written = load_case(out / "case.yaml")
    expected = dt.generate(rows=6_000, seed=3)
    assert written.task == "regression"
    pd.testing.assert_frame_equal(written.training, expected.training, check_dtype=False)
