"""Monte Carlo over the arm assignment and the power calculation: agreement with the engine,
calibration on A/A, detection against power, determinism."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

import prodready.samples as samples
from prodready.case import Case
from prodready.errors import ParameterError
from prodready.rollout import (
    Plan,
    Stage,
    Trigger,
    arm_position,
    default_triggers,
    detection_curve,
    monte_carlo,
    power,
    simulate,
)
from prodready.rollout.montecarlo import _replay_paths, _run
from prodready.rollout.replay_log import replay_log

DAYS, PER_DAY, RATE = 20, 1200, 0.2


def synthetic_case(miss: float = 0.1, seed: int = 0) -> tuple[Case, float]:
    """20 days x 1,200 events, 20% positives, value 1 per caught positive. The champion catches
    every positive; the challenger misses exactly every 10th (a 10% drop of the KPI)."""
    rng = np.random.default_rng(seed)
    n = DAYS * PER_DAY
    seconds = np.repeat(np.arange(DAYS), PER_DAY) * 86_400 + rng.integers(0, 86_400, n)
    y = (rng.random(n) < RATE).astype(int)
    champion = y * 0.9 + 0.05
    challenger = champion.copy()
    missed = np.flatnonzero(y == 1)[:: round(1 / miss)]
    challenger[missed] = 0.05
    serving = pd.DataFrame(
        {
            "id": [f"e{i}" for i in range(n)],
            "ts": pd.Timestamp("2025-01-01", tz="UTC") + pd.to_timedelta(seconds, unit="s"),
            "y": y,
            "score": champion,
            "challenger": challenger,
            "x": rng.random(n),
        }
    )
    training = serving.iloc[:100].assign(id=[f"t{i}" for i in range(100)])
    case = Case.from_frames(
        training,
        serving,
        task="binary",
        label="y",
        prediction="score",
        timestamp="ts",
        id="id",
        challenger="challenger",
        features=["x"],
        business={
            "value": {
                "true_positive": 1,
                "false_positive": 0,
                "false_negative": 0,
                "true_negative": 0,
            },
            "threshold": 0.5,
        },
    )
    return case, missed.size / n


@pytest.fixture(scope="module")
def synthetic():
    return synthetic_case()


PLAN = Plan((Stage("canary", DAYS, 50),))
RULE = [Trigger("business_value")]


def _one_unit_per_event_case():
    full = samples.load()  # every 20th event keeps the one-unit-per-event tables small
    return dataclasses.replace(full, serving=full.serving.iloc[::20].reset_index(drop=True))


def test_replays_reproduce_simulate_event_by_event():
    """With one unit per event and simulate's own hash, each replay is simulate's run."""
    case = _one_unit_per_event_case()
    ids = case.serving[case.columns.id]
    n_events = len(ids)
    scores = case.serving[case.columns.prediction].to_numpy()
    broken = np.where(np.arange(n_events) % 3 == 0, 0.0, scores)
    triggers = [
        *default_triggers(case),
        Trigger("business_value", segment=("region", "international")),
        Trigger("score_psi", segment=("region", "international")),
        Trigger("metric_floor", metric="recall", floor=0.5),
        Trigger("score_psi"),  # against the champion: fires on the sample's challenger
        Trigger("flag_rate", ceiling=0.3, segment=("region", "international")),
        Trigger("flag_rate", floor=0.01, ceiling=0.2),
    ]
    seeds = np.array([0, 1])
    u = np.stack([arm_position(ids, int(s)) for s in seeds])
    seen = set()
    for plan in (Plan.default(), Plan((Stage("ramp", 10, 30), Stage("half", 40, 50)))):
        for challenger in (None, case.columns.prediction, broken, np.zeros(n_events)):
            log = replay_log(case, plan, triggers, challenger)
            units = np.arange(n_events)
            frame = _run(log, plan, units, n_events, u, seeds, 0, "USD").days_to_decision
            # the day-by-day path (used for hold rules) agrees with the fast one
            outcome, day, _, _ = _replay_paths(log, plan, units, u)
            assert list(outcome) == list(frame["outcome"])
            assert list(day) == list(frame["decision_day"])
            for r, s in enumerate(seeds):
                run = simulate(case, plan, triggers, challenger=challenger, seed=int(s))
                assert frame.loc[r, "outcome"] == run.outcome
                assert frame.loc[r, "decision_day"] == len(run.timeline) - 1
                seen.add(run.outcome)
    assert seen == {"promoted", "rolled_back"}


def test_plans_with_hold_rules_reproduce_simulate_event_by_event():
    """Hold rules: each replay keeps its own stage dates, exactly as simulate does."""
    case = _one_unit_per_event_case()
    ids = case.serving[case.columns.id]
    n_events = len(ids)
    seeds = np.array([0, 1, 2])
    u = np.stack([arm_position(ids, int(s)) for s in seeds])
    plan = Plan((Stage("shadow", 7, 0), Stage("canary", 7, 10), Stage("half", 14, 50)))
    seen = set()
    for triggers in (
        [Trigger("flag_rate", ceiling=0.02, action="hold"), Trigger("business_value")],
        [Trigger("score_psi", action="hold"), Trigger("flag_rate", floor=0.001)],
        [
            Trigger("flag_rate", ceiling=0.3, segment=("region", "international"), action="hold"),
            Trigger("score_psi", reference="shadow"),
        ],
    ):
        log = replay_log(case, plan, triggers, None)
        frame = _run(log, plan, np.arange(n_events), n_events, u, seeds, 0, "USD")
        assert any("Hold rules" in note for note in frame.notes)
        for r, s in enumerate(seeds):
            run = simulate(case, plan, triggers, seed=int(s))
            row = frame.days_to_decision.loc[r]
            assert row["outcome"] == run.outcome, (triggers, s)
            assert row["decision_day"] == len(run.timeline) - 1
            assert row["stage"] == run.decisions.iloc[-1]["stage"]
            seen.add(run.outcome)
            if run.outcome == "held":
                assert (run.decisions["action"] == "hold").any()
    assert {"held", "promoted"} <= seen


def test_aa_false_rollback_rate_within_alpha(synthetic):
    case, _ = synthetic
    result = monte_carlo(case, PLAN, RULE, n=500, seed=0, challenger="score")
    mc_error = 2 * np.sqrt(0.05 * 0.95 / 500)
    assert result.rollback_rate <= 0.05 + mc_error
    assert result.challenger_worse is False
    assert result.true_delta_per_1000 == 0
    assert result.wrong_promotion_rate == result.rollback_rate  # a rollback of A/A is wrong
    assert result.promotion_rate == 1 - result.rollback_rate


def test_ten_percent_degradation_detected_as_power_predicts(synthetic):
    case, effect = synthetic
    result = monte_carlo(case, PLAN, RULE, n=500, seed=0)
    assert result.challenger_worse
    assert result.true_delta_per_1000 == pytest.approx(-effect * 1000)
    p = case.serving["y"].mean()
    sd = np.sqrt((p * (1 - p) + (p - effect) * (1 - p + effect)) / 2)
    curve = detection_curve(-effect, share=50, daily_volume=PER_DAY, sd=sd, max_days=DAYS)
    frame = result.days_to_decision
    rolled = (frame["outcome"] == "rolled_back").to_numpy()
    observed = np.array([(rolled & (frame["decision_day"] <= d)).mean() for d in range(DAYS)])
    # tolerance: 3 Monte Carlo standard errors at p = 0.5 (500 replays) and the Gaussian
    # approximation of 0/1 values; measured difference at most 0.03
    assert np.max(np.abs(observed - curve)) <= 0.07
    days = power(-effect, share=50, daily_volume=PER_DAY, sd=sd, power=0.8)
    assert days is not None and days <= DAYS
    assert observed[days - 1] >= 0.8 - 0.07
    assert result.wrong_promotion_rate == pytest.approx(result.promotion_rate)


def test_flag_rate_ceiling_at_the_true_rate_fires_within_alpha(synthetic):
    """A ceiling exactly at the challenger's true flag rate is the null's boundary: daily looks
    over 20 days fire at most alpha of the time; 2 points below it, nearly always."""
    case, _ = synthetic
    true_rate = float((case.serving["challenger"] >= 0.5).mean())
    mc_error = 2 * np.sqrt(0.05 * 0.95 / 500)
    at_truth = monte_carlo(case, PLAN, [Trigger("flag_rate", ceiling=true_rate)], n=500)
    assert at_truth.rollback_rate <= 0.05 + mc_error
    below = monte_carlo(case, PLAN, [Trigger("flag_rate", ceiling=true_rate - 0.02)], n=500)
    assert below.rollback_rate >= 0.9
    floor = monte_carlo(case, PLAN, [Trigger("flag_rate", floor=true_rate)], n=500)
    assert floor.rollback_rate <= 0.05 + mc_error


def test_deterministic_for_a_seed(synthetic):
    case, _ = synthetic
    a = monte_carlo(case, PLAN, RULE, n=50, seed=3)
    b = monte_carlo(case, PLAN, RULE, n=50, seed=3)
    c = monte_carlo(case, PLAN, RULE, n=50, seed=4)
    pd.testing.assert_frame_equal(a.days_to_decision, b.days_to_decision)
    assert a.to_dict() == b.to_dict()
    assert not np.array_equal(a.days_to_decision["seed"], c.days_to_decision["seed"])
    assert not a.days_to_decision["decision_day"].equals(c.days_to_decision["decision_day"])
    assert power(-0.02, share=5, daily_volume=1000, baseline_rate=0.2) == power(
        -0.02, share=5, daily_volume=1000, baseline_rate=0.2
    )


def test_result_faces(synthetic):
    case, _ = synthetic
    result = monte_carlo(case, PLAN, RULE, n=20)
    frame = result.days_to_decision
    assert list(frame.columns[:4]) == ["replay", "seed", "outcome", "decision_day"]
    assert len(frame) == 20 and frame["seed"].is_unique
    data = json.loads(json.dumps(result.to_dict()))
    assert data["n"] == 20 and len(data["days_to_decision"]) == 20
    texts = " ".join(f.text for f in result.summary())
    assert "20 replays" in texts and "wrong call" in texts


def test_power_behaves():
    base = {"share": 5, "daily_volume": 20_000, "baseline_rate": 0.02}
    small = power(-0.003, **base)
    large = power(-0.006, **base)
    assert large < small
    assert power(-0.006, **{**base, "share": 25}) < large  # more traffic, sooner
    assert power(-0.006, **base, label_delay_days=10) == large + 10
    assert power(-1e-6, **base, max_days=30) is None
    curve = detection_curve(-0.006, **base, max_days=60)
    assert np.all(np.diff(curve) >= 0) and curve[0] < 0.05 and curve[-1] == 1


def test_bad_input():
    case, _ = synthetic_case()
    with pytest.raises(ParameterError, match="at least 1"):
        monte_carlo(case, PLAN, RULE, n=0)
    with pytest.raises(ParameterError, match="exactly one of"):
        power(-0.1, share=5, daily_volume=100)
    with pytest.raises(ParameterError, match="strictly between 0 and 100"):
        power(-0.1, share=100, daily_volume=100, sd=1)
