"""Audit evidence for the readiness questions, from the real audits run on the sample case.

The audits run once per module (skew about 12 s, overview 5 s, the others about 1 s). The decay
audit on the bundled sample takes over two minutes, so it runs on a 20,000-row copy of the same
generator with a 56-day step (about 10 s) and a retraining cost of 200, low enough that
retraining pays and the staleness rule has money to report.
"""

from __future__ import annotations

import copy
import json
import math

import pandas as pd
import pytest

from prodready import load_case, readiness, rollout, samples
from prodready.decay.audit import audit as decay_audit
from prodready.errors import ParameterError
from prodready.overview import overview
from prodready.readiness.evidence import COLUMNS
from prodready.review import simulate as review_simulate

pytestmark = pytest.mark.slow  # a long file: its worker starts it first (tests/conftest.py)


@pytest.fixture(scope="module")
def case():
    return samples.load()


@pytest.fixture(scope="module")
def audits(case, tmp_path_factory, sample_run) -> dict:
    small = load_case(samples.write("card_fraud", tmp_path_factory.mktemp("small"), rows=20_000))
    shared = sample_run().results  # skew, rollout and monitoring as below, run once per test run
    return {
        "overview": overview(case, n_resamples=100),
        "skew": shared["skew"],  # skew_audit(case)
        "rollout": shared["rollout"],  # rollout.simulate(case)
        "monitoring": shared["monitoring"],  # monitoring_audit(case, samples.known_problems())
        "review": review_simulate(case, band=(0.03, 0.09), capacity_per_day=20, cost_per_review=5),
        "decay": decay_audit(small, step="56D", retrain_cost=200),
    }


@pytest.fixture(scope="module")
def snapshots(audits) -> dict:
    """What the store keeps: the audits' JSON, through a real JSON round trip."""
    return {name: json.loads(json.dumps(result.to_dict())) for name, result in audits.items()}


@pytest.fixture(scope="module")
def proposals(snapshots) -> pd.DataFrame:
    return readiness.propose(snapshots)


def rows(frame: pd.DataFrame, qid: str, audit: str) -> pd.Series:
    [row] = [r for _, r in frame.iterrows() if r["id"] == qid and r["audit"] == audit]
    return row


def test_objects_and_their_dicts_propose_the_same_frame(audits, proposals):
    from_objects = readiness.propose(audits)
    pd.testing.assert_frame_equal(from_objects, proposals)
    assert list(proposals.columns) == list(COLUMNS)
    assert proposals["proposed"].dtype == float and proposals["money"].dtype == float
    # bank order, then audit order
    order = {qid: i for i, qid in enumerate(readiness.questions()["id"])}
    assert proposals["id"].map(order).is_monotonic_increasing
    assert set(proposals["id"]) == {
        "org_success",
        "org_pilot",
        "org_human_review",
        "org_retraining",
        "org_business_kpis",
        "org_shadow_canary",
        "org_rollback",
        "data_1",
        "data_4",
        "data_7",
        "model_2",
        "model_4",
        "infra_6",
        "infra_7",
        "monitor_2",
        "monitor_3",
        "monitor_4",
        "monitor_6",
        "monitor_7",
    }


def test_skew_mismatch_proposes_monitor_3_zero_and_informs_the_schema(proposals):
    row = rows(proposals, "monitor_3", "skew")
    assert row["proposed"] == 0
    assert row["reason"] == (
        "The skew audit found 2 feature(s) computed differently in training and serving on the "
        "same events (distance_from_home_km 100%, avg_amount_30d 91% of events differ)."
    )
    assert row["severity"] == "high"
    assert row["finding"].startswith("distance_from_home_km differs between the offline and")
    schema = rows(proposals, "data_1", "skew")
    assert math.isnan(schema["proposed"])
    assert (
        "distance_from_home_km (unit change), avg_amount_30d (row mismatch)" in (schema["reason"])
    )
    assert "merchant_category (distribution shift)" in schema["reason"]
    assert math.isnan(rows(proposals, "data_7", "skew")["proposed"])


def test_leakage_proposes_data_4_and_the_pilot_trap_zero_naming_the_feature(proposals):
    for audit in ("skew", "overview"):
        for qid in ("data_4", "org_pilot"):
            row = rows(proposals, qid, audit)
            assert row["proposed"] == 0, (qid, audit)
            assert "chargebacks_90d" in row["reason"]
            assert "chargebacks_90d" in row["finding"]
    assert "pilot trap" in rows(proposals, "org_pilot", "skew")["reason"]


def test_offline_and_online_metrics_that_disagree_propose_model_2_zero(proposals):
    skew = rows(proposals, "model_2", "skew")
    assert skew["proposed"] == 0
    assert "ROC AUC 0.940 offline but 0.718 on the serving log (24% apart" in skew["reason"]
    assert skew["money"] == pytest.approx(620.03, abs=0.01) and skew["currency"] == "USD"
    served = rows(proposals, "model_2", "overview")
    assert served["proposed"] == 0
    assert "ROC AUC 0.939 offline but 0.724" in served["reason"]


def test_metrics_that_agree_are_half_evidence(snapshots):
    skew = copy.deepcopy(snapshots["skew"])
    skew["metric_gap"]["table"][0]["serving"] = 0.92  # 2% below 0.940
    row = rows(readiness.propose({"skew": skew}), "model_2", "skew")
    assert row["proposed"] == 0.5
    assert "0.940 offline and 0.920 on the serving log (within 5%)" in row["reason"]


def test_skew_without_mismatch_is_half_evidence_and_without_ids_informs(snapshots):
    clean = copy.deepcopy(snapshots["skew"])
    for feature in clean["features"]:
        feature["problem"], feature["severity"] = "", "none"
    frame = readiness.propose({"skew": clean})
    row = rows(frame, "monitor_3", "skew")
    assert row["proposed"] == 0.5
    assert "compared 9,685 events value by value, by hand with prodready" in row["reason"]
    assert math.isnan(rows(frame, "data_4", "skew")["proposed"])
    assert "data_1" not in set(frame["id"]) and "org_pilot" not in set(frame["id"])
    clean["rows"] = None
    row = rows(readiness.propose({"skew": clean}), "monitor_3", "skew")
    assert math.isnan(row["proposed"]) and "share no event ids" in row["reason"]


def test_a_replayed_rollout_is_half_evidence_and_says_what_it_decided(proposals):
    for qid in ("infra_6", "infra_7", "org_shadow_canary", "org_rollback"):
        row = rows(proposals, qid, "rollout")
        assert row["proposed"] == 0.5, qid
        assert "promoted on 2025-08-25, no rollback rule firing" in row["reason"]
        assert row["money"] == 4030.0 and row["currency"] == "USD"  # -61,020 vs -65,050
    assert "shadow 14 d at 0%, canary 14 d at 5%" in rows(proposals, "infra_6", "rollout")["reason"]
    assert rows(proposals, "infra_7", "rollout")["reason"].startswith(
        "4 rollback rule(s) replayed on the log (value per 1,000 worse by > 0, precision < 0.0163"
    )


def test_a_rolled_back_replay_says_when_and_why(case):
    guard = rollout.suggest_guardrail(case).trigger
    stopped = rollout.simulate(case, triggers=[*rollout.default_triggers(case), guard])
    frame = readiness.propose({"rollout": stopped})
    row = rows(frame, "org_rollback", "rollout")
    assert row["proposed"] == 0.5 and row["severity"] == "high"
    assert "rolled back on 2025-07-14 in the shadow stage" in row["reason"]
    assert "flag rate 38.15% above the ceiling 17.90%" in row["reason"]
    assert row["money"] == 0.0  # money at risk before the rollback


def test_a_plan_without_shadow_or_canary_does_not_count(snapshots):
    big_bang = copy.deepcopy(snapshots["rollout"])
    big_bang["plan"]["stages"] = [{"name": "full", "days": 56, "share": 100.0}]
    frame = readiness.propose({"rollout": big_bang})
    assert math.isnan(rows(frame, "infra_6", "rollout")["proposed"])
    assert "no canary stage" in rows(frame, "infra_6", "rollout")["reason"]
    assert "lacks a shadow stage" in rows(frame, "org_shadow_canary", "rollout")["reason"]
    assert rows(frame, "infra_7", "rollout")["proposed"] == 0.5  # the triggers still ran


def test_monitoring_informs_with_the_numbers(proposals):
    kpis = rows(proposals, "org_business_kpis", "monitoring")
    assert math.isnan(kpis["proposed"])
    assert "3 business monitor(s) fired, the first on 2025-08-27 (review_load)" in kpis["reason"]
    assert (
        "watching only system health would have lost USD 4,307 over the 3 known" in (kpis["reason"])
    )
    assert kpis["money"] == pytest.approx(4307.28, abs=0.01)
    assert kpis["finding"].startswith("System health (volume, error rate) stayed green")
    quality = rows(proposals, "monitor_7", "monitoring")
    assert math.isnan(quality["proposed"])
    assert (
        "1 performance monitor(s) fired, the first on 2025-09-08 (estimated_roc_auc)"
        in (quality["reason"])
    )
    assert "3 label-based monitor(s) could not run" in quality["reason"]
    inputs = rows(proposals, "monitor_2", "monitoring")
    assert "4 data quality monitor(s) fired, the first on 2025-09-01" in inputs["reason"]
    assert "account_age_days, device_risk_score, merchant_category" in inputs["reason"]
    assert "no system health monitor fired" in rows(proposals, "monitor_6", "monitoring")["reason"]


def test_monitoring_replay_alone_works_too(case):
    from prodready.monitoring import replay

    frame = readiness.propose({"monitoring": replay(case)})
    kpis = rows(frame, "org_business_kpis", "monitoring")
    assert math.isnan(kpis["money"])  # no incidents given: no loss to report
    assert "3 business monitor(s) fired" in kpis["reason"]


def test_decay_measures_staleness_and_prices_it(proposals):
    aging = rows(proposals, "model_4", "decay")
    assert aging["proposed"] == 0.5
    assert aging["reason"].startswith("The decay audit measured staleness by hand with prodready:")
    for qid in ("monitor_4", "org_retraining"):
        row = rows(proposals, qid, "decay")
        assert row["proposed"] == 0
        assert row["money"] == 7210.0 and row["currency"] == "USD"
        assert (
            "never retrained loses USD 7,210 over the history against 'every 30 days, "
            in (row["reason"])
        )
        assert row["finding"].startswith("Against never retraining, it earns USD 7,210 more")


def test_decay_where_never_retraining_is_best_only_informs(snapshots):
    decay = copy.deepcopy(snapshots["decay"])
    decay["policies"]["recommended"] = "never retrain"
    frame = readiness.propose({"decay": decay})
    row = rows(frame, "monitor_4", "decay")
    assert math.isnan(row["proposed"])
    assert (
        "no retraining policy worth its cost: 'never retrain' is best (USD -40,760 net)"
        in (row["reason"])
    )


def test_review_informs_with_its_net_value(proposals):
    row = rows(proposals, "org_human_review", "review")
    assert math.isnan(row["proposed"])
    assert row["money"] == 17355.0 and row["currency"] == "USD"
    assert "band [0.03, 0.09) with 20 reviews a day" in row["reason"]
    assert "net USD 17,355 (281 errors avoided" in row["reason"]
    assert "overflowed on 12 of 184 days" in row["reason"]


def test_overview_informs_success_theater_with_the_money(proposals):
    row = rows(proposals, "org_success", "overview")
    assert math.isnan(row["proposed"])
    assert row["money"] == -2380.0
    assert "worth USD -150,130, USD 2,380 less than never acting" in row["reason"]


# ----------------------------------------------------------------------------- apply
def test_apply_fills_unanswered_with_the_lowest_proposal_and_keeps_answers(proposals):
    filled = readiness.apply(proposals, {"monitor_3": 1, "infra_6": 0})
    assert filled["monitor_3"] == 1.0 and filled["infra_6"] == 0.0  # explicit answers win
    assert filled["infra_7"] == 0.5 and filled["model_4"] == 0.5
    assert filled["model_2"] == 0.0 and filled["data_4"] == 0.0 and filled["org_pilot"] == 0.0
    assert filled["monitor_4"] == 0.0 and filled["org_retraining"] == 0.0
    assert "org_human_review" not in filled and "monitor_7" not in filled  # NaN fills nothing
    assert list(filled) == [q for q in readiness.questions()["id"] if q in filled]
    card = readiness.score(filled)
    assert card.sections["infrastructure"] == 0.5 and card.sections["model"] == 0.5
    lowest = pd.DataFrame(
        {"id": ["infra_6", "infra_6", "data_1"], "proposed": [0.5, 0.0, float("nan")]}
    )
    assert readiness.apply(lowest) == {"infra_6": 0.0}


def test_apply_refuses_bad_input(proposals):
    with pytest.raises(ParameterError, match=r"not a frame from prodready\.readiness\.propose"):
        readiness.apply({"infra_6": 0.5})
    with pytest.raises(ParameterError, match="question infra_6 has a score"):
        readiness.apply(proposals, {"infra_6": 0.7})
    odd = pd.DataFrame({"id": ["infra6"], "proposed": [0.5]})
    with pytest.raises(ParameterError, match="did you mean infra_6"):
        readiness.apply(odd)


# ----------------------------------------------------------------------------- bad input
def test_propose_refuses_unknown_keys_and_foreign_values(snapshots):
    with pytest.raises(ParameterError) as caught:
        readiness.propose({"skews": snapshots["skew"]})
    assert "propose does not know the audit 'skews'" in str(caught.value)
    assert "did you mean 'skew'" in str(caught.value)
    with pytest.raises(ParameterError) as caught:
        readiness.propose({"skew": snapshots["rollout"]})
    assert "the 'skew' entry is not a skew audit result" in str(caught.value)
    with pytest.raises(ParameterError, match="is not a review audit result"):
        readiness.propose({"review": 3})
    with pytest.raises(ParameterError, match="the audits are not a mapping"):
        readiness.propose([snapshots["skew"]])


def test_no_audits_no_rows():
    empty = readiness.propose({})
    assert empty.empty and list(empty.columns) == list(COLUMNS)
    assert readiness.propose({"skew": None}).empty
    assert readiness.apply(empty, {"data_1": 1}) == {"data_1": 1.0}
