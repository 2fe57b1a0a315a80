"""Human-in-the-loop review: closed-form counts and money on a hand-made case, reviewer accuracy
against its binomial expectation, the card_fraud sample, and bad input."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from prodready import Case, samples
from prodready.errors import ParameterError
from prodready.metrics import business_value
from prodready.review import DEFAULT_WIDTHS, ReviewResult, ReviewSweep, simulate, sweep
from prodready.review.simulate import DAILY_COLUMNS
from prodready.review.sweep import SWEEP_COLUMNS

VALUE = {"true_positive": 100, "false_positive": -10, "false_negative": -50, "true_negative": 0}
BUSINESS = {"currency": "EUR", "value": VALUE, "threshold": 0.5}


def _case(serving: pd.DataFrame, business: dict | None = BUSINESS, task: str = "binary") -> Case:
    training = pd.DataFrame(
        {
            "t": pd.to_datetime(["2024-12-01", "2024-12-02", "2024-12-03", "2024-12-04"], utc=True),
            "y": [0, 1, 0, 1] if task == "binary" else [1.0, 2.0, 3.0, 4.0],
            "x": [1.0, 2.0, 3.0, 4.0],
        }
    )
    return Case.from_frames(
        training,
        serving,
        task=task,
        label="y",
        prediction="score",
        timestamp="t",
        features=["x"],
        business=business,
    )


@pytest.fixture
def tiny() -> Case:
    """Day 1: four events, three in the band [0.4, 0.6); day 2: no traffic; day 3: two in band,
    one without a label yet. Threshold 0.5, value matrix VALUE."""
    serving = pd.DataFrame(
        {
            "t": pd.to_datetime(
                [
                    "2025-01-01 08:00",  # 0.45, y=1: model FN (wrong), reviewed
                    "2025-01-01 09:00",  # 0.55, y=1: model TP (right), reviewed
                    "2025-01-01 10:00",  # 0.20, y=0: TN, out of band
                    "2025-01-01 11:00",  # 0.50, y=0: model FP, overflow (capacity 2)
                    "2025-01-03 07:00",  # 0.52, y=0: model FP, reviewed
                    "2025-01-03 12:00",  # 0.41, no label: reviewed, counts in load only
                    "2025-01-03 13:00",  # 0.90, y=1: TP, out of band
                ],
                utc=True,
            ),
            "y": pd.array([1, 1, 0, 0, 0, None, 1], dtype="Int8"),
            "score": [0.45, 0.55, 0.20, 0.50, 0.52, 0.41, 0.90],
            "x": [1.0] * 7,
        }
    )
    return _case(serving)


def _run(case: Case, **kwargs) -> ReviewResult:
    settings = {"band": (0.4, 0.6), "capacity_per_day": 2, "cost_per_review": 3.0}
    return simulate(case, **{**settings, **kwargs})


# -- closed form --------------------------------------------------------------------------------


def test_tiny_case_counts_and_money_by_hand(tiny: Case) -> None:
    result = _run(tiny, reviewer_accuracy=1.0)
    daily = result.daily
    assert list(daily.columns) == list(DAILY_COLUMNS)
    assert [d.isoformat()[:10] for d in daily["date"]] == ["2025-01-01", "2025-01-02", "2025-01-03"]
    assert str(daily["date"].dt.tz) == "UTC"
    assert daily["events"].tolist() == [4, 0, 3]
    assert daily["labelled"].tolist() == [4, 0, 2]
    assert daily["in_band"].tolist() == [3, 0, 2]
    assert daily["queue_length"].tolist() == [3, 0, 2]
    assert daily["reviewed"].tolist() == [2, 0, 2]
    assert daily["overflow"].tolist() == [1, 0, 0]
    assert daily["overflow_share"].iloc[0] == pytest.approx(1 / 3)
    assert math.isnan(daily["overflow_share"].iloc[1])  # nothing in band on a day without traffic
    assert daily["overflow_share"].iloc[2] == 0
    assert daily["reviewed_labelled"].tolist() == [2, 0, 1]
    # Day 1: model FN -50, TP 100, TN 0, FP -10 = 40; reviewed: TP, TP -> 100 + 100 + 0 - 10.
    assert daily["value_model_only"].tolist() == [40.0, 0.0, 90.0]  # day 3: FP -10 + TP 100
    assert daily["value_with_review"].tolist() == [190.0, 0.0, 100.0]  # day 3: TN 0 + TP 100
    assert daily["errors_avoided"].tolist() == [1, 0, 1]
    assert daily["cost"].tolist() == [6.0, 0.0, 3.0]  # labelled reviews only
    assert daily["net"].tolist() == [144.0, 0.0, 7.0]

    t = result.totals
    assert (t["days"], t["days_without_traffic"], t["events"], t["labelled"]) == (3, 1, 7, 6)
    assert (t["in_band"], t["reviewed"], t["overflow"]) == (5, 4, 1)
    assert t["overflow_share"] == pytest.approx(0.2)
    assert (t["days_with_overflow"], t["days_with_overflow_share"]) == (1, pytest.approx(1 / 3))
    assert t["mean_daily_load"] == pytest.approx(5 / 3)
    assert t["peak_daily_load"] == 3
    assert (t["wrong_to_right"], t["right_to_wrong"], t["errors_avoided"]) == (2, 0, 2)
    assert (t["cost"], t["review_cost_all"]) == (9.0, 12.0)
    assert (t["value_model_only"], t["value_with_review"], t["net"]) == (130.0, 290.0, 151.0)
    # The overflow event (FP) reviewed right would have been a TN: +10, minus one review (3).
    assert t["missed_on_overflow"] == 7.0
    assert result.net == 151.0
    assert result.has_money


def test_value_model_only_matches_prodready_metrics(tiny: Case) -> None:
    labelled = tiny.labelled_serving
    expected = business_value(labelled["y"], labelled["score"], tiny.business).total
    assert _run(tiny).totals["value_model_only"] == expected


def test_reviewer_always_wrong_by_hand(tiny: Case) -> None:
    t = _run(tiny, reviewer_accuracy=0.0).totals
    # Day 1: 0.45 y=1 stays a FN (wrong -> wrong); 0.55 y=1 becomes a FN (right -> wrong).
    # Day 3: 0.52 y=0 stays a FP (wrong -> wrong).
    assert (t["wrong_to_right"], t["right_to_wrong"], t["errors_avoided"]) == (0, 1, -1)
    assert t["value_with_review"] == -50 - 50 + 0 - 10 + (-10 + 100)
    assert t["net"] == t["value_with_review"] - 130.0 - 9.0


def test_no_capacity_means_no_review_and_no_money_change(tiny: Case) -> None:
    t = _run(tiny, capacity_per_day=0).totals
    assert (t["reviewed"], t["overflow"], t["cost"], t["net"]) == (0, 5, 0.0, 0.0)
    assert t["value_with_review"] == t["value_model_only"]


def test_fifo_within_the_day_follows_time_not_file_order(tiny: Case) -> None:
    serving = tiny.serving.iloc[::-1].reset_index(drop=True)  # same events, reversed file order
    again = _case(serving)
    assert _run(again).daily.equals(_run(tiny).daily)


def test_band_is_closed_below_open_above(tiny: Case) -> None:
    # [0.5, 0.55): the 0.50 and 0.52 events, not the 0.55 one.
    t = simulate(tiny, band=(0.5, 0.55), capacity_per_day=10, cost_per_review=0).totals
    assert t["in_band"] == 2


def test_days_are_utc_days_whatever_the_time_zone() -> None:
    serving = pd.DataFrame(
        {
            # 2025-01-02 01:00 at +05:00 is 2025-01-01 20:00 UTC: the same UTC day as the first.
            "t": ["2025-01-01T10:00:00+00:00", "2025-01-02T01:00:00+05:00"],
            "y": [1, 0],
            "score": [0.45, 0.55],
            "x": [1.0, 2.0],
        }
    )
    result = simulate(_case(serving), band=(0.4, 0.6), capacity_per_day=1, cost_per_review=0)
    assert len(result.daily) == 1
    assert result.daily["in_band"].tolist() == [2]
    assert result.daily["overflow"].tolist() == [1]


# -- reviewer accuracy against its distribution ---------------------------------------------------


def _symmetric(n: int = 20_000, seed: int = 1) -> Case:
    """Scores uniform in [0.4, 0.6) and labels that are fair coins: the model is right half the
    time in the band; value matrix symmetric."""
    rng = np.random.default_rng(seed)
    serving = pd.DataFrame(
        {
            "t": pd.Timestamp("2025-01-01", tz="UTC")
            + pd.to_timedelta(np.sort(rng.integers(0, 10 * 86_400, n)), unit="s"),
            "y": rng.integers(0, 2, n),
            "score": rng.uniform(0.4, 0.6, n),
            "x": rng.normal(size=n),
        }
    )
    value = {"true_positive": 1, "false_positive": -1, "false_negative": -1, "true_negative": 1}
    return _case(serving, business={"currency": "EUR", "value": value, "threshold": 0.5})


def test_accuracy_one_puts_every_reviewed_decision_right() -> None:
    case = _symmetric()
    result = simulate(
        case, band=(0.45, 0.55), capacity_per_day=10**6, cost_per_review=0.0, reviewer_accuracy=1.0
    )
    t = result.totals
    frame = case.serving
    band = (frame["score"] >= 0.45) & (frame["score"] < 0.55)
    model_wrong = (frame["score"] >= 0.5).astype(int) != frame["y"].astype(int)
    assert t["reviewed"] == int(band.sum()) and t["overflow"] == 0
    assert t["right_to_wrong"] == 0
    assert t["wrong_to_right"] == int((band & model_wrong).sum())
    # Symmetric matrix: each reviewed event is worth +1 right; outside the band, the model's.
    outside = ~band
    expected = int(band.sum()) + int((outside & ~model_wrong).sum() - (outside & model_wrong).sum())
    assert t["value_with_review"] == expected


def test_accuracy_half_on_a_symmetric_case_avoids_about_no_errors() -> None:
    case = _symmetric()
    t = simulate(
        case, band=(0.4, 0.6), capacity_per_day=10**6, cost_per_review=0.0, reviewer_accuracy=0.5
    ).totals
    n = t["reviewed_labelled"]
    assert n == 20_000
    # Each event adds +1 (wrong -> right) or -1 (right -> wrong) with probability 1/4 each:
    # mean 0, variance 1/2 per event.
    assert abs(t["errors_avoided"]) < 4 * math.sqrt(0.5 * n)
    assert abs(t["errors_avoided"]) / n < 0.03


@pytest.mark.parametrize("accuracy", [0.8, 0.95])
def test_reviewer_draws_are_binomial_with_the_given_accuracy(accuracy: float) -> None:
    case = _symmetric(seed=2)
    result = simulate(
        case,
        band=(0.4, 0.6),
        capacity_per_day=10**6,
        cost_per_review=0.0,
        reviewer_accuracy=accuracy,
        seed=3,
    )
    t = result.totals
    frame = case.serving
    wrong = int(((frame["score"] >= 0.5).astype(int) != frame["y"].astype(int)).sum())
    right = len(frame) - wrong
    # wrong -> right ~ Binomial(wrong, a); right -> wrong ~ Binomial(right, 1 - a).
    assert scipy.stats.binomtest(t["wrong_to_right"], wrong, accuracy).pvalue > 0.001
    assert scipy.stats.binomtest(t["right_to_wrong"], right, 1 - accuracy).pvalue > 0.001
    mean = accuracy * wrong - (1 - accuracy) * right
    sd = math.sqrt((wrong + right) * accuracy * (1 - accuracy))
    assert abs(t["errors_avoided"] - mean) < 4 * sd


def test_same_seed_same_numbers_other_seed_other_draws() -> None:
    case = _symmetric(n=2_000)
    settings = {"band": (0.4, 0.6), "capacity_per_day": 10**6, "cost_per_review": 1.0}
    a = simulate(case, seed=5, **settings)
    b = simulate(case, seed=5, **settings)
    c = simulate(case, seed=6, **settings)
    assert a.daily.equals(b.daily) and a.totals == b.totals
    assert a.totals["wrong_to_right"] != c.totals["wrong_to_right"] or (
        a.totals["right_to_wrong"] != c.totals["right_to_wrong"]
    )


# -- results ------------------------------------------------------------------------------------


def test_summary_and_to_dict_speak_money(tiny: Case) -> None:
    result = _run(tiny, reviewer_accuracy=1.0)
    findings = result.summary()
    texts = " ".join(f.text for f in findings)
    assert "EUR 151" in texts
    assert "1 of 5 in-band events (20%)" in texts
    assert "no traffic" in texts
    net = [f for f in findings if f.money == 151.0]
    assert net and net[0].severity == "high" and net[0].currency == "EUR"
    data = json.loads(json.dumps(result.to_dict()))
    assert data["totals"]["net"] == 151.0
    assert data["queue_rule"] == "fifo_within_day_no_carry_over"
    assert len(data["daily"]) == 3 and data["daily"][1]["overflow_share"] is None
    assert result.to_frame().equals(result.daily)


# -- the card_fraud sample ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def card_fraud() -> Case:
    return samples.load("card_fraud")


def test_card_fraud_simulate_agrees_with_metrics(card_fraud: Case) -> None:
    result = simulate(card_fraud, band=(0.03, 0.09), capacity_per_day=20, cost_per_review=5.0)
    t = result.totals
    labelled = card_fraud.labelled_serving
    model = business_value(labelled["is_fraud"], labelled["score"], card_fraud.business)
    assert t["value_model_only"] == model.total
    assert t["days"] == 184 and t["events"] == len(card_fraud.serving)
    assert t["reviewed"] + t["overflow"] == t["in_band"]
    assert (result.daily["reviewed"] <= 20).all()
    daily = result.daily
    for column in ("in_band", "reviewed", "overflow", "errors_avoided"):
        assert daily[column].sum() == t[column]
    assert daily["net"].sum() == pytest.approx(t["net"])
    assert t["net"] == pytest.approx(t["value_with_review"] - t["value_model_only"] - t["cost"])
    assert t["errors_avoided"] > 0 and t["net"] > 0  # the sample's point: review pays here


def test_card_fraud_sweep_picks_the_best_band_within_capacity(card_fraud: Case) -> None:
    result = sweep(card_fraud, capacity_per_day=20, cost_per_review=5.0)
    assert isinstance(result, ReviewSweep)
    table = result.table
    assert list(table.columns) == list(SWEEP_COLUMNS)
    assert table["width"].tolist() == sorted(DEFAULT_WIDTHS)
    assert (table["low"] >= 0).all() and (table["high"] <= 1).all()
    fits = table[table["mean_daily_load"] <= 20]
    assert table["within_capacity"].tolist() == (table["mean_daily_load"] <= 20).tolist()
    best = fits.loc[fits["net"].idxmax()]
    assert result.best == (best["low"], best["high"])
    assert result.best_result is not None and result.best_result.net == best["net"]
    assert "Highest net value" in result.reason
    # Each band's row is its own simulation.
    one = simulate(card_fraud, band=result.best, capacity_per_day=20, cost_per_review=5.0)
    assert one.totals == result.best_result.totals
    json.dumps(result.to_dict())
    assert result.summary()[0].money == best["net"]
    # The numbers docs/review.md reports (bundled sample, seed 0).
    assert result.best == pytest.approx((0.03, 0.09))
    t = result.best_result.totals
    assert (t["net"], t["errors_avoided"], t["overflow"], t["in_band"]) == (
        17_355.0,
        281,
        652,
        2546,
    )
    assert t["mean_daily_load"] == pytest.approx(13.8, abs=0.05)


def test_sweep_without_room_or_without_profit_recommends_nothing(card_fraud: Case) -> None:
    tight = sweep(card_fraud, widths=[0.2, 0.3], capacity_per_day=1, cost_per_review=5.0)
    assert tight.best is None and "capacity" in tight.reason
    costly = sweep(card_fraud, widths=[0.01, 0.02], capacity_per_day=100, cost_per_review=1e6)
    assert costly.best is None and "pays for its reviews" in costly.reason
    assert costly.summary()[0].severity == "medium"


def test_sweep_centre_and_clipping(tiny: Case) -> None:
    result = sweep(tiny, widths=[0.2, 2.0], centre=0.5, capacity_per_day=5, cost_per_review=0)
    assert result.table["band"].tolist() == ["[0.4, 0.6)", "[0, 1)"]
    assert result.table["in_band"].tolist() == [5, 7]


# -- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "band",
    [(0.6, 0.4), (0.5, 0.5), (-0.1, 0.5), (0.5, 1.1), (0.5,), "0.4-0.6", (0.4, float("nan"))],
)
def test_bad_band(tiny: Case, band) -> None:
    with pytest.raises(ParameterError, match="band"):
        simulate(tiny, band=band, capacity_per_day=1, cost_per_review=1)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"capacity_per_day": -1}, "capacity_per_day"),
        ({"capacity_per_day": 2.5}, "capacity_per_day"),
        ({"cost_per_review": -1.0}, "cost_per_review"),
        ({"reviewer_accuracy": 1.5}, "reviewer_accuracy"),
        ({"reviewer_accuracy": -0.1}, "reviewer_accuracy"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_settings(tiny: Case, kwargs, name) -> None:
    with pytest.raises(ParameterError) as info:
        _run(tiny, **kwargs)
    assert name in info.value.where
    assert info.value.fix


def test_bad_sweep_widths_and_centre(tiny: Case) -> None:
    for widths in ([], [0.0], [-0.1], "0.1", [3.0]):
        with pytest.raises(ParameterError, match="width"):
            sweep(tiny, widths=widths, capacity_per_day=1, cost_per_review=1)
    with pytest.raises(ParameterError, match="centre"):
        sweep(tiny, centre=1.5, capacity_per_day=1, cost_per_review=1)


def test_regression_case_is_refused() -> None:
    case = samples.load("delivery_time")
    with pytest.raises(ParameterError, match="binary decision"):
        simulate(case, band=(0.4, 0.6), capacity_per_day=10, cost_per_review=1)


def test_case_without_value_matrix_is_refused(tiny: Case) -> None:
    for business in (None, {"currency": "EUR", "threshold": 0.5}):
        case = _case(tiny.serving, business=business)
        with pytest.raises(ParameterError, match="value matrix") as info:
            _run(case)
        assert "business.value" in info.value.where


def test_log_without_labels_reports_load_but_no_money(tiny: Case) -> None:
    serving = tiny.serving.assign(y=pd.array([None] * len(tiny.serving), dtype="Int8"))
    result = _run(_case(serving))
    t = result.totals
    assert not result.has_money
    assert (t["in_band"], t["reviewed"], t["overflow"]) == (5, 4, 1)
    assert math.isnan(t["net"]) and t["errors_avoided"] is None
    assert result.daily["net"].isna().all()
    assert result.daily["reviewed"].tolist() == [2, 0, 2]
    assert any("Money needs labels" in f.text for f in result.summary())
    swept = sweep(_case(serving), widths=[0.2], capacity_per_day=5, cost_per_review=1)
    assert swept.best is None and "label" in swept.reason
    json.dumps(result.to_dict())
