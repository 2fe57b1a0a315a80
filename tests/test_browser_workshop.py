"""The workshop journeys in a real browser, part 3: the Readiness workshop and the Executive
dashboard (see test_browser.py for what every journey does). The app's workshop store is a
SQLite file of this module's server (browser_support sets ``PRODREADY_DB_URL``)."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from browser_support import (
    LAPTOP,
    app_fixture,  # noqa: F401  (fixture `app`: this module's own server)
    artefacts_fixture,  # noqa: F401  (fixture `artefacts`)
    check_page,
    choose,
    chromium_fixture,  # noqa: F401  (fixture `chromium`)
    download_figure,
    download_table,
    expect_metric,
    headline,
    on_the_projector,
    open_page,
    screenshot,
    size_name,
)

from prodready import charts
from prodready.results import format_money

pytestmark = pytest.mark.browser

TEAM, OTHER_TEAM = "Fraud team", "Payments team"


def _slug(text: str) -> str:
    """How the app names downloaded files (app_state.slug)."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


@pytest.fixture(scope="module")
def evidence(sample_run):
    """The audits the workshop collects on the sample case, and the answers they propose."""
    from prodready import readiness, samples

    case = samples.load("card_fraud")
    run = sample_run()  # readiness.run_audits(case, incidents=samples.known_problems())
    proposals = readiness.propose(run.results)
    decided = {qid: value for qid, (value, _) in readiness.decisive(proposals).items()}
    return {
        "case": case,
        "proposals": proposals,
        "answers": decided,
        "snapshots": {name: result.to_dict() for name, result in run.results.items()},
    }


def _expect_scorecard(page, scorecard, score_label: str, levels: tuple[str, str]) -> None:
    expect_metric(page, score_label, f"{scorecard.ml_test_score:g} of 7")
    expect_metric(page, "Weakest area", scorecard.weakest.capitalize())
    expect_metric(page, levels[0], str(scorecard.level["google"]))
    expect_metric(page, levels[1], str(scorecard.level["microsoft"]))


def test_workshop_page_journey(app, chromium, artefacts, evidence):
    from playwright.sync_api import expect

    from prodready import readiness

    workshop = "Browser workshop"
    query = urlencode({"workshop": workshop, "team": TEAM, "author": "consultant"})
    page = open_page(chromium, f"{app.url}/workshop?{query}")
    tag = f"workshop_{size_name(LAPTOP)}_"
    levels = ("Google MLOps level", "Microsoft MLOps level")
    total = len(readiness.questions())

    # collect the audits' evidence (run once per server: a later session finds it ready)
    case = evidence["case"]
    collect = page.get_by_role("button", name=f"Collect evidence from {case.name}")
    proposed = page.get_by_text(f"{len(evidence['proposals'])} proposed answers from the")
    expect(collect.or_(proposed)).to_be_visible()
    if collect.is_visible():
        collect.click()
    expect(proposed).to_be_visible()

    # a new assessment starts empty
    page.get_by_role("button", name="Start the assessment").click()
    progress = page.locator('[data-testid="stProgress"]')
    expect(progress).to_contain_text(f"0 of {total} questions answered")
    _expect_scorecard(page, readiness.score({}), "ML Test Score", levels)

    # accepting the proposals answers what the evidence decides, scored as the package says
    page.get_by_role("button", name="Accept the proposals").click()
    answers = evidence["answers"]
    expect(progress).to_contain_text(f"{len(answers)} of {total} questions answered")
    scorecard = readiness.score(answers)
    _expect_scorecard(page, scorecard, "ML Test Score", levels)
    check_page(page, charts=3)  # sections radar, trend, teams
    screenshot(page, artefacts, tag + "proposals_accepted")
    on_the_projector(page, artefacts, "workshop", "proposals_accepted", charts=3)

    name = _slug(f"{workshop}_{TEAM}")
    table = download_table(page, artefacts, f"{name}_gaps.csv", prefix=tag)
    assert len(table) == len(scorecard.gaps)
    assert list(table.columns) == [str(c) for c in scorecard.gaps.columns]
    download_figure(
        page,
        artefacts,
        f"{name}_sections.html",
        headline(charts.section_radar(scorecard)),
        prefix=tag,
    )


def test_executive_page_journey(app, chromium, artefacts, evidence):
    from playwright.sync_api import expect

    from prodready import readiness, store

    # two teams assessed in an earlier workshop, saved through the package
    workshop = "Board review"
    db = store.open(app.store_url)
    try:
        first = db.save_assessment(
            workshop, TEAM, evidence["answers"], "consultant", audits=evidence["snapshots"]
        )
        everything = {qid: 1.0 for qid in readiness.questions()["id"]}
        db.save_assessment(workshop, OTHER_TEAM, everything, "consultant")
        saved = db.load_assessment(first)
    finally:
        db.close()

    query = urlencode({"workshop": workshop, "team": TEAM})
    page = open_page(chromium, f"{app.url}/executive?{query}")
    tag = f"executive_{size_name(LAPTOP)}_"
    levels = ("MLOps level (Google, 0-2)", "MLOps level (Microsoft, 0-4)")

    # the team's readiness and its three biggest risks in money
    _expect_scorecard(page, saved.scorecard, "Readiness (ML Test Score)", levels)
    risks = readiness.top_risks(saved.audits)
    assert len(risks), "the sample case's audits carry money"
    for risk in risks.itertuples():
        money = format_money(abs(risk.money), risk.currency)
        expect(page.locator("strong", has_text=money).first).to_be_visible()
    check_page(page, charts=3)  # sections radar, roadmap, trend
    screenshot(page, artefacts, tag + "fraud_team")
    on_the_projector(page, artefacts, "executive", "fraud_team", charts=3)

    name = _slug(f"{workshop}_{TEAM}")
    table = download_table(page, artefacts, f"{name}_risks.csv", prefix=tag)
    assert len(table) == len(risks)
    assert table["money"].tolist() == pytest.approx(risks["money"].tolist())
    download_figure(
        page,
        artefacts,
        f"{name}_roadmap.html",
        headline(charts.roadmap_gantt(readiness.roadmap(saved.scorecard, audits=saved.audits))),
        nth=1,
        prefix=tag,
    )

    # the other team: its own score, as the package scores its answers
    choose(page, "Team", OTHER_TEAM)
    other = readiness.score(everything)
    _expect_scorecard(page, other, "Readiness (ML Test Score)", levels)
    check_page(page, charts=3)
    screenshot(page, artefacts, tag + "payments_team")
