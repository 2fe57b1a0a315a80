"""The one-click scenarios replayed with the default plan and triggers on the sample case."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from prodready import samples
from prodready.errors import ParameterError
from prodready.rollout import Plan, simulate
from prodready.rollout.scenarios import SCENARIOS, challenger_scores


@pytest.fixture(scope="module")
def case():
    return samples.load()


def test_identical_challenger_is_promoted(case) -> None:
    scores = challenger_scores(case, "identical challenger (A/A)")
    assert np.array_equal(scores, case.serving[case.columns.prediction].to_numpy())
    assert simulate(case, challenger=scores).outcome == "promoted"


def test_broken_challenger_is_rolled_back_during_the_canary(case) -> None:
    scores = challenger_scores(case, "broken challenger")
    champion = case.serving[case.columns.prediction].to_numpy()
    stages = Plan.default().to_frame().set_index("name")
    first_served = int(stages.loc["canary", "first_day"])
    times = case.serving[case.columns.timestamp]
    day = ((times - times.min().normalize()) // pd.Timedelta(days=1)).to_numpy()
    assert np.array_equal(scores[day < first_served], champion[day < first_served])
    assert (scores[day >= first_served] > champion[day >= first_served]).mean() > 0.95
    result = simulate(case, challenger=scores)
    assert result.outcome == "rolled_back"
    last = result.decisions.iloc[-1]
    assert last["action"] == "rollback" and last["stage"] == "canary"
    assert "PSI" in last["reason"]
    # money lost to the challenger before the rollback: its canary decisions
    assert result.money["at_risk"] == min(0.0, result.money["at_risk"])
    assert simulate(case, challenger=champion).money["at_risk"] == 0


def test_sample_challenger_scenario_is_the_logged_column(case) -> None:
    scores = challenger_scores(case, "sample challenger")
    assert np.array_equal(scores, case.serving[case.columns.challenger].to_numpy())


def test_unknown_scenario_and_a_plan_that_never_serves(case) -> None:
    with pytest.raises(ParameterError, match="no scenario called 'x'"):
        challenger_scores(case, "x")
    shadow_only = Plan.from_value([{"name": "shadow", "days": 30, "share": 0}])
    with pytest.raises(ParameterError, match="never serves the challenger"):
        challenger_scores(case, "broken challenger", plan=shadow_only)
    assert set(SCENARIOS) == {
        "sample challenger",
        "broken challenger",
        "identical challenger (A/A)",
        "retrained baseline",
    }


def test_retrained_baseline_is_a_candidate_for_a_case_without_challenger(case) -> None:
    import dataclasses

    from prodready import models

    spec = case.spec.model_copy(
        update={"columns": case.spec.columns.model_copy(update={"challenger": None})}
    )
    bare = dataclasses.replace(case, spec=spec)
    with pytest.raises(ParameterError, match="retrained baseline"):
        simulate(bare)
    scores = challenger_scores(bare, "retrained baseline")
    honest = [f for f in case.features if f.available_at_prediction]
    expected = models.fit(case.training, honest, "is_fraud").predict_score(case.serving)
    assert np.array_equal(scores, expected)
    assert "chargebacks_90d" not in {f.name for f in honest}
    result = simulate(bare, challenger=scores)
    assert result.outcome in ("promoted", "rolled_back")
    assert any("challenger (array)" in note for note in result.notes)


def test_score_shift_against_shadow_needs_a_shadow_stage(case) -> None:
    from prodready.rollout import Trigger

    with pytest.raises(ParameterError, match="unknown PSI reference"):
        Trigger("score_psi", reference="yesterday")
    no_shadow = Plan.from_value([{"name": "canary", "days": 14, "share": 5}])
    result = simulate(case, plan=no_shadow)
    assert any("no shadow stage" in note for note in result.notes)


def test_numeric_ids_are_salted_by_the_seed_like_text_ids() -> None:
    from prodready.rollout import arm_position

    ids = np.arange(1_000)
    assert not np.array_equal(arm_position(ids, 1), arm_position(ids, 2))
    assert np.array_equal(arm_position(ids, 1), arm_position(ids.astype(str), 1))


def _regression_case():
    from prodready.case import Case

    rng = np.random.default_rng(0)
    n = 40_000
    t = np.sort(rng.uniform(0, 120, n))
    ts = pd.Timestamp("2025-01-01", tz="UTC") + pd.to_timedelta(t, unit="D")
    x = rng.normal(size=n)
    frame = pd.DataFrame(
        {
            "id": [f"o{i}" for i in range(n)],
            "ts": ts,
            "x": x,
            "y": 30 + 5 * x + rng.normal(0, 3, n),
            "pred": 30 + 5 * x,
            "chal": 30 + 4.5 * x,
            "known": ts + pd.Timedelta(hours=1),
        }
    )
    return Case.from_frames(
        frame.iloc[:10_000],
        frame.iloc[10_000:],
        task="regression",
        label="y",
        prediction="pred",
        timestamp="ts",
        id="id",
        challenger="chal",
        label_time="known",
        features=["x"],
        business={"cost_per_unit_error": 0.4, "currency": "EUR"},
    )


def test_regression_cases_replay_with_money_lost_to_errors() -> None:
    from prodready.rollout import Trigger, default_triggers, monte_carlo

    case = _regression_case()
    assert [t.kind for t in default_triggers(case)] == ["business_value", "score_psi"]
    # the challenger is slightly worse (slope 4.5 against 5): judged by money lost to errors
    result = simulate(
        case, triggers=[], plan=Plan.from_value([{"name": "all", "days": 10, "share": 100}])
    )
    s = case.serving
    days = ((s["ts"] - s["ts"].min().normalize()) // pd.Timedelta(days=1)).to_numpy() < 10
    lost = -0.4 * np.abs(s["y"] - s["chal"]).to_numpy()[days].sum()
    assert result.money["realised"] == pytest.approx(lost)
    broken = simulate(case, challenger=challenger_scores(case, "broken challenger"))
    last = broken.decisions.iloc[-1]
    assert broken.outcome == "rolled_back" and last["stage"] == "canary"
    assert simulate(
        case, challenger=challenger_scores(case, "identical challenger (A/A)")
    ).outcome == ("promoted")
    with pytest.raises(ParameterError, match="this case predicts numbers"):
        simulate(case, triggers=[Trigger("flag_rate", ceiling=0.2)])
    aa = monte_carlo(case, n=200, challenger="pred")
    assert aa.rollback_rate <= 0.05 + 2 * np.sqrt(0.05 * 0.95 / 200)
