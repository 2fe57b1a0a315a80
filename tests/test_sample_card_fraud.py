"""The card_fraud sample: reproducible bytes, and every planted problem there with its magnitude.

The magnitudes are checked on the bundled copy (what users open); the hidden truth that the
serving log cannot show yet (labels arriving after the snapshot) comes from the generator.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.metrics import roc_auc_score

from prodready import models, samples
from prodready.errors import ParameterError
from prodready.resources import sample_dir
from prodready.samples import card_fraud
from prodready.spec import CaseSpec

JULY = pd.Timestamp("2025-07-01", tz="UTC")
AUGUST = pd.Timestamp("2025-08-01", tz="UTC")


def auc(frame: pd.DataFrame, score: str | np.ndarray) -> float:
    values = frame[score] if isinstance(score, str) else score
    return float(roc_auc_score(frame["is_fraud"].astype(int), values))


@pytest.fixture(scope="module")
def case():
    return samples.load("card_fraud")


@pytest.fixture(scope="module")
def labelled(case) -> pd.DataFrame:
    return case.serving[case.serving["is_fraud"].notna()]


@pytest.fixture(scope="module")
def generated() -> card_fraud.CardFraudSample:
    return card_fraud.generate(card_fraud.DEFAULT_ROWS, card_fraud.DEFAULT_SEED)


@pytest.fixture(scope="module")
def shared_july(case) -> pd.DataFrame:
    """July rows as both pipelines computed them, joined on transaction id."""
    offline = case.training[case.training["event_time"] >= JULY]
    return offline.merge(case.serving, on="transaction_id", suffixes=("_offline", "_online"))


# --- reproducibility and the bundled copy ---------------------------------------------------


def test_write_is_byte_reproducible_and_seed_dependent(tmp_path: Path) -> None:
    first = samples.write("card_fraud", tmp_path / "a", rows=4_000, seed=7)
    second = samples.write("card_fraud", tmp_path / "b", rows=4_000, seed=7)
    other = samples.write("card_fraud", tmp_path / "c", rows=4_000, seed=8)
    assert first == tmp_path / "a" / "case.yaml"
    for name in ("case.yaml", "training.parquet", "serving_log.parquet"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    for name in ("training.parquet", "serving_log.parquet"):
        assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "c" / name).read_bytes()
    assert not list((tmp_path / "a").glob(".*.tmp"))  # no temporary file left behind
    training = pd.read_parquet(tmp_path / "a" / "training.parquet")
    serving = pd.read_parquet(tmp_path / "a" / "serving_log.parquet")
    ids = set(training["transaction_id"]) | set(serving["transaction_id"])
    assert len(ids) == 4_000
    assert (
        CaseSpec.model_validate(yaml.safe_load(second.read_text())).name == "Card fraud detection"
    )
    assert other.exists()


def test_bundled_copy_is_the_default_generation(generated) -> None:
    folder = sample_dir("card_fraud")
    size = sum(p.stat().st_size for p in folder.iterdir())
    assert size < 6_000_000
    pd.testing.assert_frame_equal(pd.read_parquet(folder / "training.parquet"), generated.training)
    pd.testing.assert_frame_equal(
        pd.read_parquet(folder / "serving_log.parquet"), generated.serving
    )
    expected = card_fraud.case_yaml(card_fraud.DEFAULT_ROWS, card_fraud.DEFAULT_SEED)
    assert (folder / "case.yaml").read_text() == expected


def test_case_file_declares_the_contract(case) -> None:
    spec = case.spec
    assert spec.task == "binary"
    assert spec.columns.challenger == "challenger_score"
    assert spec.feature("chargebacks_90d").available_at_prediction is False
    assert spec.feature("avg_amount_30d").availability_lag == pd.Timedelta(days=1)
    assert len(spec.features) == 12
    assert spec.business.value.false_negative == -250
    assert len(case.training) + len(case.serving) - (case.serving["event_time"] < AUGUST).sum() == (
        card_fraud.DEFAULT_ROWS
    )


def test_write_rejects_too_few_rows(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="rows"):
        samples.write("card_fraud", tmp_path, rows=100, seed=0)


# --- the data's shape ------------------------------------------------------------------------


def test_fraud_rate_nulls_and_long_tail(case, labelled, generated) -> None:
    for rate in (
        case.training["is_fraud"].mean(),
        labelled["is_fraud"].mean(),
        generated.serving_truth.mean(),
    ):
        assert 0.01 <= rate <= 0.03
    serving = case.serving
    assert 0.005 < serving["channel"].isna().mean() < 0.02
    assert 0.02 < serving["customer_age"].isna().mean() < 0.04
    amount = case.training["amount"]
    assert amount.max() > 50 * amount.median()  # long tail
    assert (amount.round(2) == amount).all()


def test_labels_arrive_30_to_90_days_late(case) -> None:
    delay = (case.training["label_time"] - case.training["event_time"]).dt.total_seconds() / 86400
    assert delay.min() >= 30 and delay.max() <= 90
    serving = case.serving
    has_label = serving["is_fraud"].notna()
    assert (has_label == serving["label_time"].notna()).all()
    assert (serving.loc[has_label, "label_time"] <= card_fraud.SNAPSHOT).all()
    recent = serving["event_time"] > card_fraud.SNAPSHOT - pd.Timedelta(days=30)
    old = serving["event_time"] < card_fraud.SNAPSHOT - pd.Timedelta(days=90)
    assert recent.sum() > 10_000 and not has_label[recent].any()  # the last weeks: no labels
    assert has_label[old].all()
    assert 0.55 < has_label.mean() < 0.7


# --- the seven problems ----------------------------------------------------------------------


def test_leaky_feature_inflates_offline_auc(case, labelled, shared_july) -> None:
    training = case.training
    before_july = training[training["event_time"] < JULY]
    july = training[training["event_time"] >= JULY]
    model = models.fit(before_july, case.features, "is_fraud", seed=0)
    assert 0.92 <= auc(july, model.predict_score(july)) <= 0.96
    assert 0.68 <= auc(labelled, model.predict_score(labelled)) <= 0.75
    # the champion learned the same shortcut
    assert 0.92 <= auc(july, "score") <= 0.96
    assert 0.68 <= auc(labelled, "score") <= 0.75
    fraud = shared_july[shared_july["is_fraud_offline"] == 1]
    assert (fraud["chargebacks_90d_offline"] > 0).mean() > 0.8
    assert (fraud["chargebacks_90d_online"] > 0).mean() < 0.1


def test_month_seven_shared_ids_show_window_mismatch(case, shared_july) -> None:
    july_offline = case.training["event_time"] >= JULY
    july_online = case.serving["event_time"] < AUGUST
    assert len(shared_july) == july_offline.sum() == july_online.sum() > 8_000
    assert (shared_july["event_time_offline"] == shared_july["event_time_online"]).all()
    assert (shared_july["is_fraud_offline"] == shared_july["is_fraud_online"]).all()
    assert (shared_july["amount_offline"] == shared_july["amount_online"]).all()
    offline, online = shared_july["avg_amount_30d_offline"], shared_july["avg_amount_30d_online"]
    both = offline.notna() & online.notna()
    assert (~np.isclose(offline[both], online[both])).mean() > 0.8
    assert online.isna().mean() > offline.isna().mean() + 0.1
    assert (shared_july["score_offline"] != shared_july["score_online"]).mean() > 0.9


def test_distance_is_in_miles_online(shared_july) -> None:
    ratio = (
        shared_july["distance_from_home_km_offline"] / shared_july["distance_from_home_km_online"]
    )
    assert ratio.median() == pytest.approx(1.609344, abs=0.002)
    assert ((ratio - 1.609344).abs() < 0.02).mean() > 0.9


def test_new_category_from_september_with_high_fraud_rate(case, labelled, generated) -> None:
    new = card_fraud.NEW_CATEGORY
    assert (case.training["merchant_category"] != new).all()
    rows = case.serving["merchant_category"] == new
    first = case.serving.loc[rows, "event_time"].min()
    assert (
        card_fraud.NEW_CATEGORY_START
        <= first
        < card_fraud.NEW_CATEGORY_START + pd.Timedelta(days=1)
    )
    truth = generated.serving_truth
    after = (case.serving["event_time"] >= card_fraud.NEW_CATEGORY_START).to_numpy()
    assert truth[rows.to_numpy()].mean() > 0.15
    assert truth[rows.to_numpy()].mean() > 8 * truth[after & ~rows.to_numpy()].mean()
    assert labelled.loc[labelled["merchant_category"] == new, "is_fraud"].mean() > 0.1


def test_silent_incident_sticks_device_risk_and_hurts_auc(case, labelled) -> None:
    serving = case.serving
    window = (serving["event_time"] >= card_fraud.INCIDENT_START) & (
        serving["event_time"] < card_fraud.INCIDENT_END
    )
    assert pd.Timedelta(days=10) == card_fraud.INCIDENT_END - card_fraud.INCIDENT_START
    assert window.sum() > 2_000
    assert (serving.loc[window, "device_risk_score"] == card_fraud.DEVICE_RISK_DEFAULT).all()
    assert (
        serving.loc[~window, "device_risk_score"] == card_fraud.DEVICE_RISK_DEFAULT
    ).mean() < 0.01
    assert serving.loc[window, "is_fraud"].notna().all()  # labels already in
    inside = labelled[window[labelled.index]]
    outside = labelled[~window[labelled.index]]
    assert auc(inside, "score") < auc(outside, "score") - 0.1
    threshold = case.spec.business.threshold
    assert (inside["score"] >= threshold).mean() > 2 * (outside["score"] >= threshold).mean()


def test_holiday_season_raises_volume_and_fraud_rate(case, generated) -> None:
    time = case.serving["event_time"]
    season = (time >= card_fraud.HOLIDAY_START).to_numpy()
    before = ((time >= pd.Timestamp("2025-09-01", tz="UTC")) & ~season).to_numpy()
    per_day_season = season.sum() / 34  # 28 November - 31 December
    per_day_before = before.sum() / 88  # 1 September - 27 November
    assert 1.4 < per_day_season / per_day_before < 1.8
    truth = generated.serving_truth
    assert 1.8 < truth[season].mean() / truth[before].mean() < 2.6
    assert case.serving.loc[season, "is_fraud"].notna().mean() < 0.05  # not visible yet


def test_challenger_better_overall_but_worse_abroad(labelled) -> None:
    assert auc(labelled, "challenger_score") > auc(labelled, "score") + 0.03
    abroad = labelled[labelled["region"] == "international"]
    assert abroad["is_fraud"].sum() > 50
    assert auc(abroad, "challenger_score") < auc(abroad, "score") - 0.05


# --- the known-problems table and names ------------------------------------------------------


def test_known_problems_frame(case) -> None:
    frame = samples.known_problems("card_fraud")
    assert list(frame.columns) == ["problem", "feature", "start", "end", "description"]
    assert len(frame) == 7 and frame["problem"].is_unique
    assert frame["problem"].dtype == "str" and frame["description"].dtype == "str"
    assert str(frame["start"].dtype) == str(frame["end"].dtype) == "datetime64[us, UTC]"
    features = frame["feature"].dropna()
    assert set(features) <= set(case.feature_names)
    assert frame["feature"].isna().sum() == 1  # the holiday season has no single feature
    dated = frame.dropna(subset=["start"])
    assert (dated["start"] < dated["end"]).all()
    incident = frame.set_index("problem").loc["silent_incident"]
    assert (incident["feature"], incident["start"], incident["end"]) == (
        "device_risk_score",
        pd.Timestamp("2025-09-08", tz="UTC"),
        pd.Timestamp("2025-09-18", tz="UTC"),
    )


def test_unknown_sample_name_lists_the_available_ones(tmp_path: Path) -> None:
    assert samples.available() == ["card_fraud", "delivery_time", "elec2"]
    for call in (
        lambda: samples.load("credit_risk"),
        lambda: samples.known_problems("credit_risk"),
        lambda: samples.write("credit_risk", tmp_path, rows=5_000, seed=0),
    ):
        with pytest.raises(ParameterError) as error:
            call()
        assert "'credit_risk'" in str(error.value) and "card_fraud" in str(error.value)
    assert not list(tmp_path.iterdir())


def test_baseline_model_is_deterministic_and_takes_unseen_categories(case) -> None:
    small = case.training[case.training["event_time"] < pd.Timestamp("2025-03-01", tz="UTC")]
    first = models.fit(small, case.features, "is_fraud", seed=3)
    second = models.fit(small, case.features, "is_fraud", seed=3)
    september = case.serving[case.serving["event_time"] >= card_fraud.NEW_CATEGORY_START].head(
        5_000
    )
    assert (september["merchant_category"] == card_fraud.NEW_CATEGORY).any()
    scores = first.predict_score(september)
    np.testing.assert_array_equal(scores, second.predict_score(september))
    assert scores.shape == (5_000,) and ((scores >= 0) & (scores <= 1)).all()


def test_docs_name_every_problem_with_its_feature_and_dates() -> None:
    docs = (Path(__file__).resolve().parents[1] / "docs" / "sample_case.md").read_text()
    for row in samples.known_problems().itertuples():
        line = next(text for text in docs.splitlines() if text.startswith(f"| `{row.problem}`"))
        if isinstance(row.feature, str):
            assert f"`{row.feature}`" in line
        for moment in (row.start, row.end):
            if not pd.isna(moment):
                assert moment.strftime("%Y-%m-%d") in line
    assert "prodready sample card_fraud --rows" in docs
