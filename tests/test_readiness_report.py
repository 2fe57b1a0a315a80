"""Running the audits for a readiness assessment, the biggest risks in money, the report that
joins them, and ``prodready audit readiness``."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from prodready import readiness, samples
from prodready.cli import app
from prodready.errors import DataError, ParameterError
from prodready.readiness import report as report_module
from prodready.readiness.audits import top_risks


@pytest.fixture(scope="module")
def card():
    return samples.load()


@pytest.fixture(scope="module")
def run(card):
    steps = []
    result = readiness.run_audits(
        card,
        incidents=samples.known_problems("card_fraud"),
        progress=lambda name, done, total: steps.append((name, done, total)),
    )
    return result, steps


@pytest.fixture
def sample_audits_once(card, run, monkeypatch):
    """``assess`` and the CLI reuse the module's run of the sample's audits (each audit runs on
    its own, so a subset is the same results): the run itself is tested above, and running
    the sample's audits again for each test would add half a minute each."""
    result, _ = run
    real = report_module.run_audits
    incidents_given = samples.known_problems("card_fraud")

    def reuse(case, *, include, incidents=None, seed=0, progress=None):  # as assess calls it
        same_incidents = "monitoring" not in include or (
            incidents is not None and incidents.equals(incidents_given)
        )
        if case.path != card.path or seed != 0 or not same_incidents:
            return real(case, include=include, incidents=incidents, seed=seed, progress=progress)
        return readiness.AuditRun({n: r for n, r in result.results.items() if n in include})

    monkeypatch.setattr(report_module, "run_audits", reuse)


def test_run_audits_runs_each_fast_audit_with_progress(run):
    result, steps = run
    assert list(result.results) == ["overview", "skew", "rollout", "monitoring", "review"]
    assert result.notes == []
    assert steps == [
        ("overview", 0, 5),
        ("skew", 1, 5),
        ("rollout", 2, 5),
        ("monitoring", 3, 5),
        ("review", 4, 5),
        ("", 5, 5),
    ]
    # the results are the audits' own: the review is the sweep's best band on the page defaults
    from prodready import review

    sweep = review.sweep(samples.load(), capacity_per_day=20, cost_per_review=5.0)
    assert result.results["review"].to_dict() == sweep.best_result.to_dict()


def test_an_audit_that_does_not_apply_is_left_out_with_its_reason():
    case = samples.load("delivery_time")  # regression: no human review band
    result = readiness.run_audits(case, include=("review", "overview"))
    assert list(result.results) == ["overview"]
    assert len(result.notes) == 1 and result.notes[0].startswith("The review audit did not run:")
    with pytest.raises(ParameterError, match="no audit called 'skw'"):
        readiness.run_audits(case, include=("skw",))


def test_top_risks_rank_high_and_medium_findings_by_money():
    audits = {
        "skew": {
            "summary": [
                {"severity": "high", "text": "gap", "money": -500.0, "currency": "EUR"},
                {"severity": "low", "text": "small", "money": 9000.0, "currency": "EUR"},
                {"severity": "medium", "text": "no money", "money": None, "currency": None},
            ]
        },
        "review": {
            "summary": [
                {"severity": "high", "text": "review pays", "money": 1200.0, "currency": "EUR"},
                {"severity": "medium", "text": "overflow", "money": 300.0, "currency": "EUR"},
                {"severity": "medium", "text": "tiny", "money": 10.0, "currency": "EUR"},
            ]
        },
    }
    risks = top_risks(audits)
    assert risks["text"].tolist() == ["review pays", "gap", "overflow"]
    assert risks["money"].tolist() == [1200.0, -500.0, 300.0]
    assert risks["audit"].tolist() == ["review", "skew", "review"]
    assert top_risks({}).empty


def test_top_risks_from_objects_equal_from_their_dicts(run):
    result, _ = run
    from_objects = top_risks(result.results)
    from_dicts = top_risks({name: r.to_dict() for name, r in result.results.items()})
    pd.testing.assert_frame_equal(from_objects, from_dicts)
    assert len(from_objects) == 3
    assert from_objects["money"].abs().is_monotonic_decreasing


def test_assess_scores_the_proposals_or_the_given_answers(card, run, sample_audits_once):
    result, _ = run
    report = readiness.assess(card, incidents=samples.known_problems("card_fraud"))
    proposed = readiness.apply(readiness.propose(result.results))
    assert report.scorecard.answers == readiness.score(proposed).answers
    assert report.answers_from.startswith("the answers the audits propose")
    given = {q: 1.0 for q in readiness.questions()["id"]}
    full = readiness.assess(card, given, include=("skew",), answers_from="the team")
    assert full.scorecard.ml_test_score == 7
    assert full.answers_from == "the team"
    data = json.loads(json.dumps(full.to_dict()))
    assert data["scorecard"]["ml_test_score"] == 7
    assert data["audits_run"] == ["skew"]
    alone = readiness.assess(None, {"data_1": 0.5})
    assert alone.case_name is None and alone.proposals.empty and alone.risks.empty
    assert alone.scorecard.sections["data"] == 0.5


def test_known_audits_are_taken_as_they_are_and_not_run_again(card, run, tmp_path, monkeypatch):
    """The executive summary's shortcut: the JSON the report's notebooks wrote (read back with
    ``read_audits``) gives the same report as running the audits."""
    result, _ = run
    incidents = samples.known_problems("card_fraud")
    ran_with: list[tuple[str, ...]] = []

    def only_the_rest(case, *, include, incidents=None, seed=0, progress=None):
        ran_with.append(include)
        return readiness.AuditRun({n: r for n, r in result.results.items() if n in include})

    monkeypatch.setattr(report_module, "run_audits", only_the_rest)
    direct = readiness.assess(card, incidents=incidents)
    for name, file in readiness.AUDIT_FILES.items():
        text = json.dumps(result.results[name].to_dict())
        (tmp_path / file).write_text(text, encoding="utf-8")
    known = readiness.read_audits(tmp_path)
    assert list(known) == ["overview", "skew", "rollout"]
    reused = readiness.assess(card, incidents=incidents, known=known)
    assert ran_with == [tuple(readiness.AUDIT_NAMES[:5]), ("monitoring", "review")]
    assert reused.to_dict() == direct.to_dict()
    assert list(reused.audits) == list(direct.audits)  # in the audits' order, known ones too
    only_skew = readiness.assess(card, include=("skew",), known=known)
    assert list(only_skew.audits) == ["skew"] and ran_with[-1] == ()
    with pytest.raises(ParameterError, match="no audit called 'skw'"):
        readiness.assess(card, known={"skw": {}})
    (tmp_path / "skew_audit.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(DataError, match="skew audit's JSON file cannot be read") as caught:
        readiness.read_audits(tmp_path)
    assert "run the report again" in str(caught.value)
    assert readiness.read_audits(tmp_path / "missing") == {}


# -- the command line --------------------------------------------------------------------------
runner = CliRunner()


def test_cli_scores_an_answers_file_with_json(tmp_path):
    answers = tmp_path / "answers.yaml"
    answers.write_text(yaml.safe_dump({q: 1 for q in readiness.questions()["id"]}))
    out = tmp_path / "readiness.json"
    result = runner.invoke(
        app, ["audit", "readiness", "--answers", str(answers), "--no-audits", "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "ML Test Score 7 of 7" in result.output
    data = json.loads(out.read_text())
    assert data["scorecard"]["ml_test_score"] == 7
    assert data["answers_from"] == f"the answers in {answers}"


def test_cli_without_answers_scores_the_sample_proposals_to_stdout(run, sample_audits_once):
    result = runner.invoke(app, ["audit", "readiness", "--json", "-"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["answers_from"].startswith("the answers the audits propose")
    assert data["audits_run"] == ["overview", "skew", "rollout", "monitoring", "review"]
    proposed = readiness.score(readiness.apply(readiness.propose(run[0].results)))
    assert data["scorecard"]["ml_test_score"] == proposed.ml_test_score
    assert not math.isnan(data["scorecard"]["ml_test_score"])


@pytest.mark.parametrize(
    ("content", "args", "says"),
    [
        ("{data_1: 0.7}", [], "0.7"),
        ("{dta_1: 1}", [], "dta_1"),
        (None, ["--no-audits"], "--no-audits needs --answers"),
    ],
)
def test_cli_bad_answers_get_one_clear_message(tmp_path, content, args, says):
    command = ["audit", "readiness", "--no-audits", *args]
    if content is not None:
        answers = tmp_path / "answers.yaml"
        answers.write_text(content)
        command += ["--answers", str(answers)]
    result = runner.invoke(app, command)
    assert result.exit_code == 2  # a ProdreadyError: the message, no traceback
    assert says in result.output and "Traceback" not in result.output
