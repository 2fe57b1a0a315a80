"""The readiness roadmap: items from the scorecard's gaps and the audits' findings, in the
four phases, ranked, and exported as Markdown and CSV."""

from __future__ import annotations

import json
import math
import os
from datetime import date, datetime

import pandas as pd
import pytest

from prodready import readiness
from prodready.errors import ProdreadyError
from prodready.readiness.roadmap import PHASES, TEMPLATES, Roadmap, roadmap, template_for
from prodready.results import format_money

START = date(2027, 1, 1)
RETRAINING = "Automated retraining on a schedule set by measured staleness"
MORE = "More use cases on the same platform"
SHADOW = "Shadow mode, canary and one-click rollback"
AB = "A/B test and gradual rollout"
FEATURES = "Feature definitions by serving availability, one tested pipeline for both"


@pytest.fixture(scope="module")
def ids() -> list[str]:
    return list(readiness.questions()["id"])


@pytest.fixture(scope="module")
def perfect(ids):
    return readiness.score(dict.fromkeys(ids, 1))


@pytest.fixture(scope="module")
def zero(ids):
    return readiness.score(dict.fromkeys(ids, 0))


@pytest.fixture(scope="module")
def skew_audit(sample_run):
    """``skew.audit(samples.load())``, from conftest's shared run of the sample's audits."""
    return sample_run().results["skew"]


@pytest.fixture(scope="module")
def proposals(skew_audit):
    return readiness.propose({"skew": skew_audit})


def test_every_bank_question_has_its_own_template(ids):
    named = [q for t in TEMPLATES for q in t.questions]
    assert sorted(named) == sorted(ids)  # each question exactly once, none unknown
    assert len(named) == len(set(named)) == 36
    assert template_for("infra_6").title == SHADOW
    assert template_for("org_rollback").title == SHADOW
    assert template_for("monitor_3").phase == "Foundation"


def test_perfect_scorecard_without_audits_gives_only_more_use_cases(perfect):
    plan = roadmap(perfect, start=START)
    items = plan.items
    assert list(items["title"]) == [MORE]
    row = items.iloc[0]
    assert (row["phase"], row["month_start"], row["month_end"]) == ("Optimisation", 4, 6)
    assert row["priority"] == 1 and row["owner"] == "Product owner" and row["effort"] == "L"
    assert math.isnan(row["money"]) and row["questions"] == ""
    assert "ML Test Score now 7" in row["why"]
    assert plan.ml_test_score == 7.0


def test_retraining_gap_adds_the_automated_retraining_item(ids):
    answers = dict.fromkeys(ids, 1) | {"org_retraining": 0.5}
    items = roadmap(readiness.score(answers), start=START).items
    assert list(items["title"]) == [RETRAINING, MORE]
    row = items.iloc[0]
    assert row["questions"] == "org_retraining"
    assert row["severity"] == "low" and "(scored 0.5 of 1)" in row["why"]
    assert list(items["priority"]) == [1, 2]


def test_questions_sharing_an_item_make_one_item_over_months_2_and_3(ids):
    answers = dict.fromkeys(ids, 1) | {"infra_6": 0, "org_rollback": 0.5, "infra_7": 0}
    items = roadmap(readiness.score(answers), start=START).items
    # the canary work brings its follow-up, the A/B test and gradual rollout, in month 3
    assert list(items["title"]) == [SHADOW, AB, MORE]
    follow = items.iloc[1]
    assert (follow["month_start"], follow["questions"]) == (3, "")
    assert follow["why"].startswith(f"Follows {SHADOW}:")
    row = items.iloc[0]
    assert (row["phase"], row["month_start"], row["month_end"]) == ("Baseline", 2, 3)
    assert sorted(row["questions"].split(",")) == ["infra_6", "infra_7", "org_rollback"]
    assert row["why"].count("scored 0 of 1") == 2 and row["why"].count("scored 0.5 of 1") == 1
    assert row["severity"] == "medium"


def test_weak_scorecard_fills_all_four_phases_in_month_then_priority_order(zero):
    plan = roadmap(zero, start=START)
    items = plan.items
    assert set(items["phase"]) == set(PHASES)
    assert len(items) == len(TEMPLATES) == 14
    assert items[["month_start", "priority"]].equals(
        items[["month_start", "priority"]].sort_values(["month_start", "priority"])
    )
    assert sorted(items["priority"]) == list(range(1, 15))
    assert list(items["month_start"])[:6] == [1, 1, 1, 1, 1, 2]
    joined = ",".join(q for q in items["questions"] if q).split(",")
    assert len(joined) == 36 and len(set(joined)) == 36
    # no money without findings; every gap item says what scored 0
    assert items["money"].isna().all()
    gap_items = items[~items["title"].isin([MORE, AB])]
    assert gap_items["why"].str.contains("scored 0 of 1", regex=False).all()
    assert (gap_items["severity"] == "medium").all()
    # more use cases, which closes no gap, comes last
    assert items.iloc[-1]["title"] == MORE and items.iloc[-1]["priority"] == 14
    assert items.loc[items["title"] == AB, "severity"].item() == "low"


def test_unanswered_questions_are_gaps_that_say_so():
    items = roadmap(readiness.score({}), start=START).items
    assert len(items) == 14
    assert items["why"].str.contains("not answered", regex=False).sum() == 12


def test_skew_finding_is_a_month_one_item_with_its_reason_and_money(perfect, skew_audit, proposals):
    work = proposals[(proposals["proposed"] == 0) | proposals["severity"].isin(["high", "medium"])]
    assert len(work)  # the sample's skew audit finds real problems
    plan = roadmap(perfect, {"skew": skew_audit}, start=START)
    items = plan.items
    # the training-serving skew itself: month 1, with the audit's reason
    feature = items[items["title"] == FEATURES]
    assert len(feature) == 1
    row = feature.iloc[0]
    assert (row["phase"], row["month_start"], row["severity"]) == ("Foundation", 1, "high")
    skewed = work.loc[work["id"] == "monitor_3", "reason"].item()
    assert "distance_from_home_km" in skewed and skewed in row["why"]
    # the money the skew audit puts on it (the metric gap: USD 620 per 1,000 decisions)
    gap = next(f for f in skew_audit.summary() if f.money is not None)
    money = items.dropna(subset=["money"])
    assert len(money) == 1
    paid = money.iloc[0]
    assert paid["month_start"] == 1 and paid["priority"] == 1
    assert paid["money"] == pytest.approx(gap.money) and paid["currency"] == gap.currency
    assert format_money(gap.money, "USD") == "USD 620"
    assert "USD 620 at stake" in paid["impact"]
    assert "0.940" in paid["why"] and "0.718" in paid["why"]
    assert plan.money_at_stake() == (pytest.approx(gap.money), "USD")
    # every reason the roadmap answers is in its item's why; nothing else appears
    for finding in plan.findings.itertuples():
        why = items.loc[items["title"] == finding.item, "why"].item()
        assert finding.reason in why
    expected = {template_for(q).title for q in work["id"]} | {MORE}
    if template_for("model_2").title in expected:
        expected.add(AB)  # online metrics bring the A/B test and gradual rollout
    assert set(items["title"]) == expected
    assert items.iloc[-1]["title"] == MORE


def test_audit_objects_and_their_dicts_give_the_same_roadmap(perfect, skew_audit, proposals):
    from_objects = roadmap(perfect, {"skew": skew_audit}, start=START).items
    from_dicts = roadmap(perfect, {"skew": skew_audit.to_dict()}, start=START).items
    from_frame = roadmap(perfect, proposals, start=START).items
    pd.testing.assert_frame_equal(from_objects, from_dicts)
    pd.testing.assert_frame_equal(from_objects, from_frame)


def test_findings_outrank_gaps_by_severity_then_money(zero, proposals):
    items = roadmap(zero, proposals, start=START).items
    top = items.sort_values("priority").iloc[0]
    assert top["severity"] == "high"
    high = items[items["severity"] == "high"].sort_values("priority")
    money = high["money"].fillna(-math.inf).tolist()
    assert money == sorted(money, reverse=True)
    assert (
        items.loc[items["priority"] > len(high), "severity"].isin(["medium", "low", "info"]).all()
    )


def test_summary_lists_month_one_items_and_money_at_stake(zero, proposals):
    plan = roadmap(zero, proposals, start=START)
    findings = plan.summary()
    first = plan.items[plan.items["month_start"] == 1]
    assert findings[0].text.startswith("Month 1 (Foundation, from 01 Jan 2027): 5 item(s)")
    for title in first["title"]:
        assert title in findings[0].text
    assert len(findings) == 1 + len(first) + (1 if plan.money_at_stake()[0] > 0 else 0)
    total, currency = plan.money_at_stake()
    unique = plan.findings.drop_duplicates(["audit", "finding"])
    assert total == pytest.approx(float(unique["money"].sum()))
    assert set(plan.findings["item"]) <= set(plan.items["title"])
    if total > 0:
        assert findings[-1].money == pytest.approx(total)
        assert format_money(total, currency) in findings[-1].text
    json.dumps(plan.to_dict())  # JSON-safe
    assert plan.to_dict()["items"][0]["phase"] == "Foundation"


def test_markdown_has_a_table_per_phase(zero, perfect, proposals):
    text = roadmap(zero, proposals, start=START).to_markdown()
    for heading in (
        "## Month 1: Foundation",
        "## Month 2: Baseline",
        "## Month 3: Iteration",
        "## Months 4-6: Optimisation",
    ):
        assert heading in text
    assert text.count("| priority | item | months | why |") == 4
    assert text.count("\n| ") == 4 * 2 + 14  # header + rule per table, one row per item
    assert "Month 1 begins on 01 Jan 2027" in text
    calm = roadmap(perfect, start=START).to_markdown()
    assert calm.count("| priority |") == 1
    assert calm.count("Nothing to do here") == 3


def test_markdown_formats_money_and_escapes_pipes(perfect, proposals):
    plan = roadmap(perfect, proposals, start=START)
    text = plan.to_markdown()
    for row in plan.items.dropna(subset=["money"]).itertuples():
        assert f"| {format_money(row.money, row.currency)} |" in text
    for line in text.splitlines():
        if line.startswith("| ") and "---" not in line:
            assert line.replace("\\|", "").count("|") == 9


def test_csv_round_trip(tmp_path, zero, proposals):
    plan = roadmap(zero, proposals, start=START)
    path = plan.to_csv(tmp_path / "roadmap.csv")
    back = pd.read_csv(path, keep_default_na=False, na_values={"money": [""], "currency": [""]})
    expected = plan.to_frame()
    assert list(back.columns) == list(expected.columns)
    assert back["title"].tolist() == expected["title"].tolist()
    assert back["why"].tolist() == expected["why"].tolist()
    assert back["priority"].tolist() == expected["priority"].tolist()
    assert back["month_end"].tolist() == expected["month_end"].tolist()
    assert back["questions"].tolist() == expected["questions"].tolist()
    pd.testing.assert_series_equal(back["money"], expected["money"], check_dtype=False)


def test_csv_write_is_atomic(tmp_path, zero, monkeypatch):
    plan = roadmap(zero, start=START)
    target = tmp_path / "roadmap.csv"
    plan.to_csv(target)
    assert os.listdir(tmp_path) == ["roadmap.csv"]
    before = target.read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        roadmap(readiness.score({}), start=START).to_csv(target)
    assert os.listdir(tmp_path) == ["roadmap.csv"]  # no temp file left behind
    assert target.read_bytes() == before


def test_start_dates(perfect):
    plan = roadmap(perfect, start=datetime(2027, 11, 3, 9, 30))
    assert plan.start == date(2027, 11, 3)
    assert plan.month_date(3) == date(2028, 1, 3)
    assert roadmap(perfect, start="2027-02-01").month_date(4) == date(2027, 5, 1)
    default = roadmap(perfect).start
    today = date.today()
    assert default.day == 1 and default > today
    assert (default.year * 12 + default.month) - (today.year * 12 + today.month) == 1


def test_bad_input_gives_one_clear_error(perfect, tmp_path):
    with pytest.raises(ProdreadyError, match="needs a scorecard"):
        roadmap({"org_owner": 1})
    with pytest.raises(ProdreadyError, match="audits must be a mapping"):
        roadmap(perfect, 42)
    with pytest.raises(ProdreadyError, match="lacks columns"):
        roadmap(perfect, pd.DataFrame({"id": ["data_1"]}))
    with pytest.raises(ProdreadyError, match="start is not a date"):
        roadmap(perfect, start="soon")
    with pytest.raises(ProdreadyError, match="does not exist") as error:
        roadmap(perfect).to_csv(tmp_path / "missing" / "roadmap.csv")
    assert "How to fix" in str(error.value)
    assert isinstance(roadmap(perfect), Roadmap)
