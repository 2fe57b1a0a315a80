"""Decay and retraining: the aging curve and the policy comparison on data whose decay is known."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from prodready import decay
from prodready.case import Case
from prodready.decay.aging import _crossing
from prodready.decay.bank import ModelBank, TrainingSet
from prodready.decay.history import LABEL, LABEL_KNOWN, grid, history
from prodready.errors import DataError, ParameterError

START = pd.Timestamp("2025-01-01", tz="UTC")


def drifting_case(
    days: int = 300, per_day: int = 60, delay_days: float = 0.0, seed: int = 0, turn: bool = True
) -> Case:
    """y = Bernoulli(sigmoid(3 * (cos(a) x1 + sin(a) x2))): the angle ``a`` turns from 0 to pi/2
    over the year when ``turn`` (concept drift: what predicts y moves from x1 to x2), so a model
    fitted at one time loses skill as it ages; labels arrive ``delay_days`` after the event."""
    rng = np.random.default_rng(seed)
    n = days * per_day
    t = np.sort(rng.uniform(0, days, n))
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    angle = (t / days) * (np.pi / 2) if turn else np.zeros(n)
    p = 1 / (1 + np.exp(-3 * (np.cos(angle) * x1 + np.sin(angle) * x2)))
    y = (rng.random(n) < p).astype(int)
    times = START + pd.to_timedelta(t, unit="D")
    frame = pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(n)],
            "ts": times,
            "x1": x1,
            "x2": x2,
            "y": y,
            "score": 1 / (1 + np.exp(-3 * x1)),
            "known": times + pd.Timedelta(days=delay_days),
        }
    )
    cut = START + pd.Timedelta(days=days // 3)
    training, serving = frame[frame["ts"] < cut], frame[frame["ts"] >= cut]
    return Case.from_frames(
        training,
        serving,
        task="binary",
        label="y",
        prediction="score",
        timestamp="ts",
        id="id",
        label_time="known",
        features=["x1", "x2"],
        business={
            "value": {
                "true_positive": 10,
                "false_positive": -5,
                "false_negative": -10,
                "true_negative": 0,
            },
            "threshold": 0.5,
        },
    )


@dataclass(frozen=True)
class _Logistic:
    model: LogisticRegression
    names: list[str]

    def predict_score(self, frame: pd.DataFrame) -> np.ndarray:
        return self.model.predict_proba(frame[self.names].to_numpy(float))[:, 1]


def logistic(training, features, label, *, seed=0, task="binary"):
    """A fast model with the signature of prodready.models.fit."""
    names = [f.name for f in features]
    model = LogisticRegression().fit(training[names].to_numpy(float), training[label].astype(int))
    return _Logistic(model, names)


@pytest.fixture(scope="module")
def drifting():
    return drifting_case()


def test_crossing_interpolates_linearly():
    ages = np.array([0.0, 10.0, 20.0, 30.0])
    # ROC AUC 0.9 -> lift 0.4; half of it is lost at 0.7, between 10 (0.8) and 20 (0.6)
    assert _crossing(ages, np.array([0.9, 0.8, 0.6, 0.55]), 0.5, "roc_auc") == pytest.approx(15)
    assert _crossing(ages, np.array([0.9, 0.89, 0.88, 0.87]), 0.5, "roc_auc") is None
    # an error (MAE) growing 10 -> 20 by 30 days: +50% reached at 15 days when linear
    assert _crossing(ages, np.array([10.0, 13.0, 17.0, 20.0]), 0.5, "mae") == pytest.approx(
        10 + (0.5 - 0.3) / (0.7 - 0.3) * 10
    )


def test_aging_curve_on_a_turning_concept(drifting):
    curve = decay.aging_curve(drifting, model=logistic, train_window="60D", step="14D", jobs=1)
    frame = curve.to_frame()
    assert list(frame.columns) == [
        "model_age_days",
        "metric",
        "median",
        "q10",
        "q25",
        "q75",
        "q90",
        "n_origins",
    ]
    assert (frame["metric"] == "roc_auc").all()
    assert frame["model_age_days"].iloc[0] == 0 and (frame["model_age_days"].diff()[1:] == 14).all()
    # the statistics are those of the per-origin values
    by_age = curve.by_origin.dropna().groupby("model_age_days")["value"]
    for _, row in frame.iterrows():
        values = by_age.get_group(row["model_age_days"]).to_numpy()
        assert row["median"] == pytest.approx(np.median(values))
        assert row["q10"] == pytest.approx(np.quantile(values, 0.1))
        assert row["n_origins"] == values.size >= 3
    # the concept turns by 90 degrees over 300 days: a model's lift above chance falls with age
    assert frame["median"].iloc[0] > 0.8
    assert frame["median"].iloc[-1] < frame["median"].iloc[0] - 0.1
    assert curve.half_life_days is not None
    assert curve.half_life_low <= curve.half_life_days
    assert curve.half_life_high is None or curve.half_life_days <= curve.half_life_high
    assert curve.half_life_days == pytest.approx(curve.age_to_lose(0.5))
    # closed form: a model fitted on a 60-day window scores along the concept's direction at the
    # window's middle (30 days before the origin) and is judged mid-period (7 days after its
    # age); the concept turns pi/600 rad a day. Its ROC AUC at a turn of d rad (large-sample
    # integral for this logistic model) falls to halfway between chance and its value at age 0
    # (d = 37 days of turn) at d = 1.027 rad: 1.027 / (pi / 600) - 37 = 159 days
    assert curve.half_life_days == pytest.approx(159, abs=12)
    text = " ".join(f.text for f in curve.summary())
    assert f"after {curve.half_life_days:.0f} days" in text
    data = json.loads(json.dumps(curve.to_dict()))
    assert data["half_life_days"] == pytest.approx(curve.half_life_days)
    assert curve.models_trained == len(curve.by_origin["origin"].unique())


def test_no_half_life_without_drift():
    steady = drifting_case(turn=False)
    curve = decay.aging_curve(steady, model=logistic, train_window="60D", step="14D", jobs=1)
    assert curve.half_life_days is None and curve.half_life_low is None
    assert "do not lose 50%" in curve.summary()[0].text
    assert curve.to_frame()["median"].min() > 0.8


def test_policies_on_a_turning_concept(drifting):
    result = decay.compare_policies(
        drifting,
        [decay.never(), decay.every(28), decay.every(28, "expanding"), decay.on_performance(0.05)],
        model=logistic,
        train_window="60D",
        step="14D",
        retrain_cost=100,
        jobs=1,
    )
    table = result.to_frame().set_index("policy")
    g = grid(history(drifting), "60D", "14D")
    assert table.loc["never retrain", "retrains"] == 0
    assert table.loc["every 28 days", "retrains"] == len(range(2, g.periods, 2))
    assert table.loc["every 28 days", "cost"] == 100 * table.loc["every 28 days", "retrains"]
    # a sliding window follows the turning concept; never retraining falls behind
    assert table.loc["every 28 days", "mean_metric"] > table.loc["never retrain", "mean_metric"]
    assert table.loc["every 28 days", "net"] > table.loc["never retrain", "net"]
    assert table.loc["on performance (drop > 5%)", "retrains"] > 0
    assert result.recommended == table["net"].idxmax()
    assert "highest value net of retraining cost" in result.reason
    timeline = result.timeline
    assert set(timeline["policy"]) == set(table.index)
    assert timeline.groupby("policy").size().eq(g.periods).all()
    never = timeline[timeline["policy"] == "never retrain"]
    assert never["model_trained_at"].nunique() == 1 and not never["retrained"].any()
    # value per period is the business value of that period's decisions
    assert table.loc["never retrain", "value"] == pytest.approx(never["value"].sum())
    assert json.loads(json.dumps(result.to_dict()))["recommended"] == result.recommended
    # another retraining cost reprices the same replay: what a new run at that cost gives
    for cost in (0.0, 100.0, 1e9):
        again = decay.compare_policies(
            drifting,
            [decay.never(), decay.every(28), decay.every(28, "expanding")],
            model=logistic,
            train_window="60D",
            step="14D",
            retrain_cost=cost,
            jobs=1,
        )
        if cost == 0.0:
            free = again
        assert free.with_retrain_cost(cost).to_dict() == again.to_dict()
    assert free.with_retrain_cost(1e9).recommended == "never retrain"
    with pytest.raises(ParameterError, match="retrain_cost must be 0 or more"):
        result.with_retrain_cost(-1)


def test_models_fitted_by_two_worker_processes_equal_those_fitted_in_this_one(monkeypatch):
    """The parallel path (the suite runs everything else with one job: tests/conftest.py)."""
    hist = history(drifting_case(days=120, per_day=30))
    g = grid(hist, "30D", "14D")
    keys = [TrainingSet(end=p, start=p - g.window) for p in g.points[:4]]
    end = len(hist.frame)
    monkeypatch.setenv("LOKY_MAX_CPU_COUNT", "1")
    assert ModelBank(hist).jobs == 1  # the default honours the usable cores
    parallel, serial = ModelBank(hist, jobs=2), ModelBank(hist, jobs=1)
    assert parallel.jobs == 2  # a number given is kept
    parallel.fit(keys, score_until=end)
    serial.fit(keys, score_until=end)
    assert parallel.fitted == serial.fitted == 4
    for key in keys:
        lo = int(hist.position(key.end)[0])
        np.testing.assert_array_equal(parallel.predict(key, lo, end), serial.predict(key, lo, end))
    monkeypatch.setenv("LOKY_MAX_CPU_COUNT", "8")
    assert ModelBank(hist).jobs == min(2, os.cpu_count() or 1)


def test_label_delay_is_honoured():
    late = drifting_case(delay_days=30)
    hist = history(late)
    g = grid(hist, "60D", "14D")
    bank = ModelBank(hist, model=logistic, jobs=1)
    key = TrainingSet(end=g.points[3], start=g.points[3] - g.window, labels_by=g.points[3])
    rows = bank.rows(key)
    assert (rows[LABEL_KNOWN] <= g.points[3]).all()
    assert rows["_timestamp"].max() <= g.points[3] - pd.Timedelta(days=30)
    hindsight = bank.rows(TrainingSet(end=g.points[3], start=g.points[3] - g.window))
    assert len(hindsight) > len(rows) and hindsight[LABEL].notna().all()
    # a performance policy waits for labels: with 30 days of delay it retrains later
    prompt = decay.compare_policies(
        drifting_case(),
        [decay.on_performance(0.05)],
        model=logistic,
        train_window="60D",
        step="14D",
        jobs=1,
    ).timeline
    delayed = decay.compare_policies(
        late,
        [decay.on_performance(0.05)],
        model=logistic,
        train_window="60D",
        step="14D",
        jobs=1,
    ).timeline
    first = prompt.loc[prompt["retrained"], "period_start"].min()
    first_late = delayed.loc[delayed["retrained"], "period_start"].min()
    assert first_late > first


def test_drift_policy_retrains_on_feature_drift():
    case = drifting_case()
    serving = case.serving.copy()
    later = serving["ts"] >= START + pd.Timedelta(days=200)
    serving.loc[later, "x1"] = serving.loc[later, "x1"] + 3  # the feed shifts
    shifted = Case.from_frames(
        case.training,
        serving,
        task="binary",
        label="y",
        prediction="score",
        timestamp="ts",
        id="id",
        label_time="known",
        features=["x1", "x2"],
    )
    result = decay.compare_policies(
        shifted,
        [decay.on_drift("psi", 0.25)],
        model=logistic,
        train_window="60D",
        step="14D",
        jobs=1,
    )
    retrained = result.timeline.loc[result.timeline["retrained"], "period_start"]
    assert (retrained >= START + pd.Timedelta(days=200)).any()
    # no business section: ranked by the metric, and said so
    assert "no business value" in result.reason


def test_bad_input(drifting):
    with pytest.raises(ParameterError, match="too short") as err:
        decay.aging_curve(drifting, model=logistic, train_window="280D", step="14D")
    assert "at least 308 days" in str(err.value)
    sparse = drifting_case(days=300, per_day=2)  # about 14 events a week: too few to measure
    with pytest.raises(ParameterError, match="too few periods hold labels enough") as err:
        decay.aging_curve(sparse, model=logistic, train_window="60D", step="7D", jobs=1)
    assert "use a longer step, e.g. 28D" in str(err.value)
    with pytest.raises(ParameterError, match="whole number of days"):
        decay.aging_curve(drifting, model=logistic, step="0D")
    with pytest.raises(ParameterError, match="not a duration"):
        decay.aging_curve(drifting, model=logistic, step="weekly")
    with pytest.raises(ParameterError, match="does not fit a binary case"):
        decay.aging_curve(drifting, model=logistic, metric="mae")
    with pytest.raises(ParameterError, match="whole number of at least 1"):
        decay.every(0)
    with pytest.raises(ParameterError, match="unknown drift metric"):
        decay.on_drift("ks")
    with pytest.raises(ParameterError, match="two policies are the same"):
        decay.compare_policies(drifting, [decay.never(), decay.never()])
    unlabelled = drifting.serving.assign(y=pd.NA)
    no_labels = Case.from_frames(
        drifting.training,
        unlabelled,
        task="binary",
        label="y",
        prediction="score",
        timestamp="ts",
        id="id",
        features=["x1", "x2"],
    )
    with pytest.raises(DataError, match="no label yet"):
        decay.aging_curve(no_labels)


def test_shuffled_rows_come_in_time_order_and_gaps_are_said(drifting):
    serving = drifting.serving.sample(frac=1.0, random_state=0)
    gap = (serving["ts"] >= START + pd.Timedelta(days=150)) & (
        serving["ts"] < START + pd.Timedelta(days=160)
    )
    shuffled = Case.from_frames(
        drifting.training,
        serving[~gap],
        task="binary",
        label="y",
        prediction="score",
        timestamp="ts",
        id="id",
        label_time="known",
        features=["x1", "x2"],
    )
    hist = history(shuffled)
    assert hist.frame["_timestamp"].is_monotonic_increasing
    assert any("gap" in note for note in hist.notes)


@dataclass(frozen=True)
class _Linear:
    coef: np.ndarray
    intercept: float
    names: list[str]

    def predict_score(self, frame: pd.DataFrame) -> np.ndarray:
        return frame[self.names].to_numpy(float) @ self.coef + self.intercept


def linear(training, features, label, *, seed=0, task="regression"):
    from sklearn.linear_model import LinearRegression

    names = [f.name for f in features]
    model = LinearRegression().fit(training[names].to_numpy(float), training[label])
    return _Linear(model.coef_, float(model.intercept_), names)


def test_regression_error_growth_and_policies():
    """Minutes per km rise through the year: a model's MAE grows with its age."""
    rng = np.random.default_rng(1)
    n, days = 18_000, 300
    t = np.sort(rng.uniform(0, days, n))
    km = rng.uniform(1, 10, n)
    minutes = (3 + 3 * t / days) * km + rng.normal(0, 1, n)
    times = START + pd.to_timedelta(t, unit="D")
    frame = pd.DataFrame(
        {"id": [f"o{i}" for i in range(n)], "ts": times, "km": km, "y": minutes, "pred": 3 * km}
    )
    cut = START + pd.Timedelta(days=100)
    case = Case.from_frames(
        frame[frame["ts"] < cut],
        frame[frame["ts"] >= cut],
        task="regression",
        label="y",
        prediction="pred",
        timestamp="ts",
        id="id",
        features=["km"],
        business={"cost_per_unit_error": 0.5, "currency": "EUR"},
    )
    curve = decay.aging_curve(case, model=linear, train_window="60D", step="14D", jobs=1)
    assert curve.metric == "mae" and not curve.higher_is_better
    median = curve.to_frame()["median"]
    assert median.iloc[-1] > 2 * median.iloc[0]
    assert curve.half_life_days is not None
    assert "see their MAE grow by 50% after" in curve.summary()[0].text
    result = decay.compare_policies(
        case,
        [decay.never(), decay.every(14)],
        model=linear,
        train_window="60D",
        step="14D",
        retrain_cost=10,
        jobs=1,
    )
    table = result.to_frame().set_index("policy")
    assert table.loc["every 14 days", "mean_metric"] < table.loc["never retrain", "mean_metric"]
    # value = minus the cost of the errors, summed over the periods
    assert table.loc["never retrain", "value"] == pytest.approx(
        result.timeline.query("policy == 'never retrain'")["value"].sum()
    )
    assert result.recommended == "every 14 days"


def test_auto_step_is_the_shortest_whose_periods_hold_labels_enough(drifting):
    assert decay.choose_step(drifting, step="14D") == "14D"  # a given step stays
    assert decay.choose_step(drifting) == "7D"  # 420 labelled rows a week
    # one event a day: a week (7 rows) or a fortnight (14) never holds 10 of each class; 28 do
    sparse = drifting_case(per_day=1, seed=3)
    assert decay.choose_step(sparse) == "28D"
    with pytest.raises(ParameterError, match="too few periods hold labels"):
        decay.aging_curve(sparse, step="7D", model=logistic)
    assert decay.aging_curve(sparse, step="28D", model=logistic).to_frame()["n_origins"].max() > 1
    # too little history for any step: the shortest, so the aging curve says what is missing
    assert decay.choose_step(drifting_case(days=100)) == "7D"
