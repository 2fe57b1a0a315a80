"""Rollout replay: plan validation, hash arms, label arrival, sequential test, sample outcomes."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import prodready.samples as samples
from prodready.errors import ParameterError
from prodready.rollout import (
    Plan,
    Stage,
    Trigger,
    arm_position,
    default_triggers,
    simulate,
    suggest_guardrail,
)
from prodready.rollout.sequential import confidence_sequence, msprt_rejects


@pytest.fixture(scope="module")
def case():
    return samples.load()


def test_default_plan_matches_the_issue():
    frame = Plan.default().to_frame()
    assert list(frame["share"]) == [0, 5, 5, 25, 50, 100]
    assert list(frame["days"]) == [14, 14, 7, 7, 7, 7]
    assert Plan.default(canary_share=1).stages[1].share == 1
    assert Plan.default().days == 56


@pytest.mark.parametrize(
    ("stages", "message"),
    [
        ([Stage("a", 7, 5), {"name": "a", "days": 7, "share": 25}], "unique; repeated: a"),
        ([], "at least one stage"),
        ([{"name": "x", "days": 0, "share": 5}], "positive whole number of days"),
        ([{"name": "x", "days": 7, "share": 120}], "between 0 and 100"),
        ([{"name": "x", "days": 7, "share": -1}], "between 0 and 100"),
        ([{"name": "", "days": 7, "share": 5}], "non-empty name"),
    ],
)
def test_plan_validation_messages(stages, message):
    with pytest.raises(ParameterError, match=message):
        Plan(tuple(stages))


def test_trigger_validation():
    with pytest.raises(ParameterError, match="unknown trigger kind"):
        Trigger("accuracy")
    with pytest.raises(ParameterError, match="floor between 0 and 1"):
        Trigger("metric_floor")
    with pytest.raises(ParameterError, match=r"\(column, value\)"):
        Trigger("score_psi", segment="region")


def test_hash_arms_stable_and_independent_of_row_order():
    ids = pd.Series([f"t{i}" for i in range(5000)])
    u = arm_position(ids, seed=3)
    shuffled = ids.sample(frac=1, random_state=1)
    assert np.array_equal(arm_position(shuffled, seed=3), u[shuffled.index.to_numpy()])
    assert np.array_equal(arm_position(ids, seed=3), u)
    assert not np.array_equal(arm_position(ids, seed=4), u)
    assert ((u >= 0) & (u < 1)).all()
    assert abs((u < 0.05).mean() - 0.05) < 0.01  # roughly uniform


def test_simulate_is_independent_of_row_order(case):
    plan = Plan((Stage("canary", 20, 30),))
    a = simulate(case, plan=plan, triggers=[])
    shuffled = dataclasses.replace(case, serving=case.serving.sample(frac=1, random_state=0))
    b = simulate(shuffled, plan=plan, triggers=[])
    assert a.money == pytest.approx(b.money)
    pd.testing.assert_frame_equal(a.timeline, b.timeline)


def test_labels_count_only_once_arrived(case):
    result = simulate(case, plan=Plan((Stage("shadow", 60, 0),)), triggers=[])
    s = case.serving
    origin = s["event_time"].min().normalize()
    day = (s["event_time"] - origin) // pd.Timedelta(days=1)
    arrived = (s["label_time"] - origin) // pd.Timedelta(days=1)
    for d in (10, 35, 59):
        expected = int(((day <= d) & (arrived <= d) & s["is_fraud"].notna()).sum())
        assert result.timeline.loc[d, "champion labelled"] == expected
    assert result.timeline.loc[10, "champion labelled"] == 0  # labels take 30+ days


def test_no_challenger_explains_and_suggests_baselines(case):
    spec = case.spec.model_copy(
        update={"columns": case.columns.model_copy(update={"challenger": None})}
    )
    bare = dataclasses.replace(case, spec=spec)
    with pytest.raises(ParameterError, match="no challenger") as err:
        simulate(bare)
    assert "retrained baseline" in str(err.value)


def test_sample_challenger_under_the_default_plan_and_guardrails(case):
    # default rules: promoted (its scores are stable against its own shadow scores, and no
    # label-based rule finds it worse)
    assert simulate(case).outcome == "promoted"
    # at the case's threshold it is better on international by value, so a value guardrail on
    # that segment does not fire either (its AUC there is worse; see the notes of issue 4)
    guarded = [
        *default_triggers(case),
        Trigger("business_value", segment=("region", "international")),
    ]
    assert simulate(case, triggers=guarded).outcome == "promoted"
    # the suggested guardrail is label-free: the challenger flags 38% of international decisions
    # in shadow against a ceiling of 1.5x the champion's 12%, and is rolled back before serving
    suggested = suggest_guardrail(case)
    assert suggested.trigger.segment == ("region", "international")
    assert suggested.trigger.kind == "flag_rate" and suggested.trigger.ceiling == 0.179
    assert (suggested.champion_auc, suggested.challenger_auc) == pytest.approx(
        (0.61, 0.51), abs=0.01
    )
    assert "ROC AUC 0.51 against 0.61" in suggested.why
    stopped = simulate(case, triggers=[*default_triggers(case), suggested.trigger])
    last = stopped.decisions.iloc[-1]
    assert stopped.outcome == "rolled_back" and last["stage"] == "shadow"
    assert "[region == international]: flag rate 38.15% above the ceiling 17.90%" in last["reason"]
    assert stopped.money["at_risk"] == 0
    # the money it gave up: the challenger earns more than the champion by value
    assert stopped.money["big_bang"] > stopped.money["realised"] == stopped.money["champion_only"]
    # against the champion's scores it shifts at once: it is calibrated differently
    strict = [*default_triggers(case), Trigger("score_psi", reference="champion")]
    result = simulate(case, triggers=strict)
    assert result.outcome == "rolled_back"
    last = result.decisions.iloc[-1]
    assert last["action"] == "rollback" and last["stage"] == "shadow"
    assert result.money["at_risk"] == 0
    assert result.to_dict()["outcome"] == "rolled_back"


def test_shadow_measures_agreement_shift_and_value_delta(case):
    result = simulate(case)
    s, threshold = case.serving, case.business.threshold
    day = ((s["event_time"] - s["event_time"].min().normalize()) // pd.Timedelta(days=1)).to_numpy()
    same = (s["score"].to_numpy() >= threshold) == (s["challenger_score"].to_numpy() >= threshold)
    expected = [same[day == d].mean() for d in range(len(result.timeline))]
    timeline = result.timeline
    assert timeline["decision agreement"].to_numpy() == pytest.approx(expected)
    delta = timeline["challenger value per 1000"] - timeline["champion value per 1000"]
    assert timeline["value delta per 1000"].equals(delta)
    # the shift the default rules do not act on: a different calibration (module docstring)
    assert timeline["score PSI vs champion"].iloc[0] > 1
    same_model = simulate(case, challenger=case.columns.prediction).timeline
    assert (same_model["decision agreement"] == 1).all()
    psi = same_model["score PSI vs champion"]
    in_shadow = same_model["stage"] == "shadow"
    assert (psi[in_shadow] == 0).all()  # the same events, the same scores
    # disjoint arms afterwards: sampling noise only, largest with ~100 scores in the 5% canary
    assert psi[~in_shadow].dropna().median() < 0.05


def test_flag_rate_rule_matches_its_confidence_sequence(case):
    """The flag-rate rule fires on the first day the band around the challenger's cumulative
    flag rate (variance at the bound) lies wholly above the ceiling; recomputed here by hand."""
    plan = Plan((Stage("shadow", 30, 0),))
    rule = Trigger("flag_rate", ceiling=0.05)
    result = simulate(case, plan=plan, triggers=[rule])
    s = case.serving
    day = ((s["event_time"] - s["event_time"].min().normalize()) // pd.Timedelta(days=1)).to_numpy()
    flags = s["challenger_score"].to_numpy() >= case.business.threshold
    n = np.cumsum(np.bincount(day, minlength=30)[:30])
    rate = np.cumsum(np.bincount(day, weights=flags, minlength=30)[:30]) / n
    var = 0.05 * 0.95
    tau2 = var / 1000
    v = var / n
    half = np.sqrt(v * (v + tau2) / tau2 * (2 * np.log(20) + np.log((v + tau2) / v)))
    first = int(np.argmax(rate - half > 0.05))
    assert (rate - half > 0.05).any()
    assert len(result.timeline) == first + 1
    assert result.timeline[f"{rule.name}: value"].to_numpy() == pytest.approx(rate[: first + 1])
    assert result.timeline["challenger flag rate"].to_numpy() == pytest.approx(rate[: first + 1])


def test_flag_rate_rule_validation():
    with pytest.raises(ParameterError, match="needs a floor, a ceiling or both"):
        Trigger("flag_rate")
    with pytest.raises(ParameterError, match="strictly between 0 and 1"):
        Trigger("flag_rate", ceiling=1.5)
    with pytest.raises(ParameterError, match="floor must be below its ceiling"):
        Trigger("flag_rate", floor=0.3, ceiling=0.2)
    both = Trigger("flag_rate", floor=0.01, ceiling=0.2, segment=("region", "domestic"))
    assert both.name == "flag rate < 0.01 or flag rate > 0.2 [region == domestic]"
    assert both.to_dict()["ceiling"] == 0.2


def test_no_guardrail_where_the_challenger_never_ranks_worse(case):
    assert suggest_guardrail(case, challenger=case.columns.prediction) is None


def test_identical_challenger_is_promoted(case):
    result = simulate(case, challenger=case.columns.prediction)
    assert result.outcome == "promoted"
    assert result.days_replayed == 56
    assert result.money["realised"] == result.money["champion_only"] == result.money["big_bang"]


def test_constant_challengers_are_judged_by_value(case):
    # flags everything: the value rule rolls it back once enough labels have arrived
    flags_all = simulate(case, challenger=np.full(len(case.serving), 0.9))
    assert flags_all.outcome == "rolled_back"
    assert "value per 1,000" in flags_all.decisions.iloc[-1]["reason"]
    # never flags: on this log never acting is worth more than the champion's decisions (the
    # overview's finding), so a rule on value alone cannot object; the default flag-rate floor
    # catches the silent model in shadow, long before any label arrives
    never = simulate(case, challenger=np.zeros(len(case.serving)))
    assert never.money["big_bang"] > never.money["champion_only"]
    last = never.decisions.iloc[-1]
    assert never.outcome == "rolled_back" and last["stage"] == "shadow"
    assert "flag rate 0.00% below the floor" in last["reason"]
    assert last["date"] < never.decisions.iloc[0]["date"] + pd.Timedelta(days=7)
    value_only = simulate(
        case, challenger=np.zeros(len(case.serving)), triggers=[Trigger("business_value")]
    )
    assert value_only.outcome == "promoted"


def test_plan_longer_than_log_is_said(case):
    result = simulate(case, plan=Plan((Stage("long", 400, 10),)), triggers=[])
    assert result.outcome == "held"
    assert result.days_replayed == result.log_days < 400
    assert any("of the plan's 400 days" in f.text for f in result.summary())


def test_money_matches_direct_computation(case):
    tiny = dataclasses.replace(case, serving=case.serving.iloc[:3000].reset_index(drop=True))
    plan = Plan((Stage("half", 3, 50), Stage("full", 4, 100)))
    result = simulate(tiny, plan=plan, triggers=[], seed=7)
    s = tiny.serving
    days = (
        (s["event_time"] - s["event_time"].min().normalize()) // pd.Timedelta(days=1)
    ).to_numpy()
    share = np.select([days < 3, days < 7], [0.5, 1.0], 0.0)
    served1 = arm_position(s["transaction_id"], 7) < share
    y = s["is_fraud"].astype("Float64").to_numpy(float, na_value=np.nan)
    v = tiny.business.value

    def value(score):
        f = score >= tiny.business.threshold
        out = np.where(
            f,
            np.where(y == 1, v.true_positive, v.false_positive),
            np.where(y == 1, v.false_negative, v.true_negative),
        )
        return np.where(np.isnan(y), 0.0, out)

    v0, v1 = value(s["score"].to_numpy()), value(s["challenger_score"].to_numpy())
    window = days < 7
    assert result.outcome == "promoted"
    assert result.money["champion_only"] == pytest.approx(v0[window].sum())
    assert result.money["big_bang"] == pytest.approx(v1[window].sum())
    assert result.money["realised"] == pytest.approx(np.where(served1, v1, v0)[window].sum())


def test_confidence_sequence_stays_valid_under_daily_looks():
    rng = np.random.default_rng(0)
    n_sims, looks, per_look = 2000, 100, 50
    x = rng.standard_normal((n_sims, looks * per_look)).reshape(n_sims, looks, per_look)
    n = per_look * np.arange(1, looks + 1)
    mean = x.sum(axis=2).cumsum(axis=1) / n
    variance = 1.0 / n
    tau2 = 1.0 / 1000
    low, high = confidence_sequence(mean, variance, tau2, alpha=0.05)
    ever_cs = ((low > 0) | (high < 0)).any(axis=1).mean()
    ever_msprt = msprt_rejects(mean, variance, tau2, alpha=0.05).any(axis=1).mean()
    ever_peek = (np.abs(mean / np.sqrt(variance)) > 1.959964).any(axis=1).mean()
    mc_error = 2 * np.sqrt(0.05 * 0.95 / n_sims)
    assert ever_cs <= 0.05 + mc_error
    assert ever_msprt == pytest.approx(ever_cs)
    assert ever_peek > 0.2  # a fixed-horizon z-test peeked daily


def test_confidence_sequence_detects_a_real_difference():
    rng = np.random.default_rng(1)
    x = 0.2 + rng.standard_normal(20_000)
    n = np.arange(1, 20_001)
    low, _ = confidence_sequence(x.cumsum() / n, 1.0 / n, 1.0 / 1000)
    assert (low > 0).any() and (low[-1] > 0.1)
