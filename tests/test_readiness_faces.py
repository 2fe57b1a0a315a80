"""The Readiness workshop and Executive dashboard pages, driven headless with AppTest against a
real SQLite store: answers are saved as you click and survive a reload, evidence stands beside
the questions, the dashboard shows the package's numbers, and viewer mode hides the controls."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from prodready import readiness
from prodready import store as store_module
from prodready.results import format_money

pytestmark = pytest.mark.slow  # a long file: its worker starts it first (tests/conftest.py)

APP = "../app/streamlit_app.py"
TIMEOUT = 180  # the first run of a page collects the sample's audits


@pytest.fixture
def db_url(tmp_path, monkeypatch) -> str:
    url = f"sqlite:///{tmp_path / 'workshop.db'}"
    monkeypatch.setenv("PRODREADY_DB_URL", url)
    monkeypatch.delenv("PRODREADY_CASE", raising=False)
    return url


@pytest.fixture(scope="module")
def sample_audits(sample_run) -> readiness.AuditRun:
    """The sample's audits (run once for the test run: conftest's ``sample_run``; the app's
    pages run them once per process too)."""
    return sample_run()


def _page(page: str, params: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in (params or {}).items():
        at.query_params[key] = value
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_workshop_saves_each_answer_and_a_reload_keeps_it(db_url):
    params = {"workshop": "Acme", "team": "Fraud", "author": "Ada"}
    at = _page("app_pages/workshop.py", params)
    at.button(key="ws_start").click().run()
    assert not at.exception, [e.value for e in at.exception]
    with store_module.open(db_url) as db:
        assessment_id = db.latest_assessment("Acme", "Fraud")
    assert assessment_id is not None
    key = f"ws_{assessment_id}_infra_6"
    at.radio(key=key).set_value(0.5).run()
    at.radio(key=f"ws_{assessment_id}_data_1").set_value(1.0).run()
    assert not at.exception
    with store_module.open(db_url) as db:
        saved = db.load_assessment(assessment_id)
    assert saved.answers == {"infra_6": 0.5, "data_1": 1.0}
    assert set(saved.history["author"]) == {"Ada"}
    # a reload (a new session with the same address) shows the saved answers
    again = _page("app_pages/workshop.py", params)
    assert again.radio(key=key).value == 0.5
    assert "2 of 36 questions answered" in again.get("progress")[0].proto.text
    card = readiness.score({"infra_6": 0.5, "data_1": 1.0})
    assert _metrics(again)["ML Test Score"] == f"{card.ml_test_score:g} of 7"


def test_workshop_shows_evidence_and_accepts_the_proposals(db_url, sample_audits):
    at = _page("app_pages/workshop.py", {"workshop": "Acme", "team": "Fraud"})
    at.button(key="ws_collect").click().run()
    at.button(key="ws_start").click().run()
    at.button(key="ws_accept").click().run()
    assert not at.exception, [e.value for e in at.exception]
    expected = readiness.apply(readiness.propose(sample_audits.results))
    with store_module.open(db_url) as db:
        saved = db.load_assessment(db.latest_assessment("Acme", "Fraud"))
    assert saved.answers == expected
    assert saved.history["proposed"].notna().all()
    markdown = " ".join(m.value for m in at.markdown)
    assert "proposed 0" in markdown  # the skew audit's finding stands beside its question


def test_an_unreachable_database_leaves_the_workshop_working(monkeypatch):
    monkeypatch.setenv("PRODREADY_DB_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    monkeypatch.delenv("PRODREADY_CASE", raising=False)
    at = _page("app_pages/workshop.py", {"workshop": "Acme", "team": "Fraud"})
    warnings = " ".join(w.value for w in at.warning)
    assert "cannot be reached" in warnings and "127.0.0.1:1" in warnings
    at.button(key="ws_start").click().run()
    assert not at.exception and "0 of 36 questions answered" in at.get("progress")[0].proto.text


def test_dashboard_without_assessments_shows_the_proposed_readiness(db_url, sample_audits):
    at = _page("app_pages/executive.py")
    # what readiness.assess computes, from the module's run of the audits
    scorecard = readiness.score(readiness.apply(readiness.propose(sample_audits.results)))
    metrics = _metrics(at)
    assert metrics["Readiness (ML Test Score)"] == f"{scorecard.ml_test_score:g} of 7"
    assert metrics["MLOps level (Google, 0-2)"] == str(scorecard.level["google"])
    text = " ".join(m.value for m in at.markdown)
    top = readiness.top_risks(sample_audits.results).iloc[0]
    assert format_money(abs(top["money"]), top["currency"]) in text
    assert len(at.get("plotly_chart")) == 2  # the radar and the roadmap (no trend yet)


def test_dashboard_of_a_team_and_its_viewer_mode(db_url):
    with store_module.open(db_url) as db:
        db.save_assessment("Acme", "Fraud", {q: 0.5 for q in readiness.questions()["id"]}, "Ada")
        db.save_assessment("Acme", "Fraud", {q: 1.0 for q in readiness.questions()["id"]}, "Ada")
    at = _page("app_pages/executive.py", {"workshop": "Acme", "team": "Fraud"})
    metrics = _metrics(at)
    assert metrics["Readiness (ML Test Score)"] == "7 of 7"
    score_tile = next(m for m in at.metric if m.label == "Readiness (ML Test Score)")
    assert score_tile.delta == "+3.5 since the last assessment"  # 7 now, 3.5 before
    assert len(at.get("plotly_chart")) == 3  # radar, roadmap, trend
    assert at.selectbox(key="ex_team").value == "Fraud"
    viewer = _page("app_pages/executive.py", {"workshop": "Acme", "team": "Fraud", "view": "1"})
    assert _metrics(viewer)["Readiness (ML Test Score)"] == "7 of 7"
    assert not viewer.selectbox and not viewer.toggle and not viewer.button
    downloads = [d.label for d in viewer.get("download_button")]
    assert set(downloads) == {"Download figure (HTML, opens offline)"}  # figures only


def test_workshop_imports_an_export_and_explains_a_foreign_file(db_url, tmp_path):
    import json

    other = f"sqlite:///{tmp_path / 'other.db'}"
    with store_module.open(other) as db:
        db.save_assessment("Elsewhere", "Risk", {"data_1": 1.0, "infra_6": 0.5}, "Bo")
        exported = json.dumps(db.export_workshop("Elsewhere")).encode()
    at = _page("app_pages/workshop.py", {"workshop": "Acme", "team": "Fraud"})
    at.file_uploader(key="ws_import").upload("elsewhere.json", exported, "application/json")
    at.run()
    at.button(key="ws_import_go").click().run()
    assert not at.exception and "Imported workshop 'Elsewhere'." in [s.value for s in at.success]
    with store_module.open(db_url) as db:
        assert db.load_assessment(db.latest_assessment("Elsewhere", "Risk")).answers == {
            "data_1": 1.0,
            "infra_6": 0.5,
        }
    at.file_uploader(key="ws_import").upload("notes.json", b'{"hello": 1}', "application/json")
    at.run()
    at.button(key="ws_import_go").click().run()
    assert not at.exception
    assert any("prodready-workshop/1" in e.value for e in at.error)
