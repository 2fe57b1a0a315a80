"""`prodready report --batch`: many cases, parallel, up-to-date skips, failures kept per case.

Cases are small generated card_fraud samples (3,000 rows) and most runs use the overview
notebook only (``run_batch(..., notebooks=...)``): the behaviour under test is the batch's, not
the notebooks'. One module-level run (2 good cases and a broken one, ``jobs=2``) is shared.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from typer.testing import CliRunner

from prodready import samples
from prodready.batch import BatchStep, load_batch, run_batch
from prodready.batch.index import headlines, render_index
from prodready.batch.runner import STAMP, TEMP_PREFIX, CaseOutcome, _clean_leftovers
from prodready.batch.spec import _slug
from prodready.cli import app
from prodready.errors import ParameterError
from prodready.report import report_notebooks

pytestmark = pytest.mark.slow  # a long file: its worker starts it first (tests/conftest.py)

runner = CliRunner()
ROWS = 3_000
OVERVIEW = "00_case_overview"
FANCY = '<i>Team "one" & co'  # a name with HTML in it: shown escaped, folder slugged
FANCY_SLUG = "i-Team-one-co"


def _overview() -> list[Path]:
    return [p for p in report_notebooks() if p.stem == OVERVIEW]


def _batch_text(extra_for_two: str = "") -> str:
    return f"""
parameters: {{replays: 20}}
cases:
  - case: team0/case.yaml
  - case: team1
    name: '{FANCY}'
    parameters: {{retrain_cost: 500{extra_for_two}}}
  - case: broken/case.yaml
"""


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """team0 and team1 (seeds 0 and 1) and a broken case file, beside batch.yaml."""
    base = tmp_path_factory.mktemp("batch")
    for seed in (0, 1):
        samples.write("card_fraud", base / f"team{seed}", rows=ROWS, seed=seed)
    (base / "broken").mkdir()
    (base / "broken" / "case.yaml").write_text("name: broken\ntask: [binary\n")
    (base / "batch.yaml").write_text(_batch_text())
    return base


@pytest.fixture(scope="module")
def first(cases: Path):
    steps: list[BatchStep] = []
    out = cases / "out"
    started = time.perf_counter()
    result = run_batch(
        load_batch(cases / "batch.yaml"), out, jobs=2, notebooks=_overview(), progress=steps.append
    )
    return result, steps, time.perf_counter() - started


# -- the first run ------------------------------------------------------------------------------
def test_first_run_reports_every_case_and_records_the_broken_one(first, cases: Path) -> None:
    result, steps, _ = first
    frame = result.cases
    assert list(frame.columns) == ["name", "status", "error", "folder", "seconds"]
    assert list(frame["name"]) == ["team0", FANCY, "broken"]
    assert list(frame["status"]) == ["ok", "ok", "failed"]
    assert result.failed
    error = frame["error"].iloc[2]
    assert str(cases / "broken" / "case.yaml") in error and "not valid YAML" in error
    assert frame["error"].iloc[:2].isna().all()
    out = result.out_dir
    assert list(frame["folder"].iloc[:2]) == [str(out / "team0"), str(out / FANCY_SLUG)]
    # only complete folders, the index, and nothing hidden left behind
    assert sorted(p.name for p in out.iterdir()) == sorted(["team0", FANCY_SLUG, "index.html"])
    for slug in ("team0", FANCY_SLUG):
        folder = out / slug
        stamp = json.loads((folder / STAMP).read_text())
        assert stamp["files"] == sorted(p.name for p in folder.iterdir() if p.name != STAMP)
        assert f"{OVERVIEW}.html" in stamp["files"] and "results.json" in stamp["files"]
        assert stamp["notebooks"] == [f"{OVERVIEW}.ipynb"]
        assert len(stamp["key"]) == 64 and stamp["seed"] == 0
        results = json.loads((folder / "results.json").read_text())
        assert results["parameters"]["replays"] == 20
    assert stamp["parameters"] == {"replays": 20, "retrain_cost": 500.0}  # case overrides batch
    # the ReportResult of each case points at the final folder, not the work folder
    report = result.reports["team0"]
    assert report.out_dir == out / "team0"
    assert all(p.is_file() and p.parent == out / "team0" for p in report.files)
    assert [nb.notebook for nb in report.notebooks] == [f"{OVERVIEW}.ipynb"]
    # progress: every case ends with one "done"; the good ones start and run their notebook
    done = [(s.case, s.status) for s in steps if s.event == "done"]
    assert sorted(done) == sorted([("team0", "ok"), (FANCY, "ok"), ("broken", "failed")])
    for name in ("team0", FANCY):
        events = [s for s in steps if s.case == name]
        assert events[0].event == "start"
        finished = [s.notebook for s in events if s.event == "notebook" and s.notebook.done]
        assert [n.notebook for n in finished] == [f"{OVERVIEW}.ipynb"]


def test_index_lists_statuses_numbers_links_and_escapes_names(first) -> None:
    result, _, _ = first
    page = result.index.read_text(encoding="utf-8")
    assert result.index == result.out_dir / "index.html"
    assert "<script" not in page and "http" not in page  # self-contained, nothing to load
    assert FANCY not in page and "&lt;i&gt;Team &quot;one&quot; &amp; co" in page
    assert "2 ok, 1 failed" in page
    assert page.count('class="status ok"') == 2 and page.count('class="status failed"') == 1
    assert "not valid YAML" in page
    for slug in ("team0", FANCY_SLUG):
        overview = json.loads((result.out_dir / slug / "results.json").read_text())
        head = overview["results"]["case_overview"]["headline"][0]
        expected = (
            f"{head['label']} {head['offline']:.3f} offline vs {head['serving']:.3f} in production"
        )
        assert expected in page
        for name in (f"{OVERVIEW}.html", f"{OVERVIEW}.executive.html", "results.json"):
            assert f'href="{slug}/{name}"' in page
            assert (result.out_dir / slug / name).is_file()
    size = (result.out_dir / "team0" / f"{OVERVIEW}.html").stat().st_size / (1 << 20)
    assert f'href="team0/{OVERVIEW}.html">00 case overview</a> <span class=size>{size:.1f} MB' in (
        page
    )
    assert page.count("<dd>n/a</dd>") == 2 * 4  # skew, rollout, ML Test Score, top risk: not run


def test_rerun_skips_up_to_date_cases_without_a_kernel(first, cases: Path) -> None:
    result, _, first_seconds = first
    before = {p: p.stat().st_mtime_ns for p in (result.out_dir / "team0").iterdir()}
    started = time.perf_counter()
    again = run_batch(
        load_batch(cases / "batch.yaml"), result.out_dir, jobs=2, notebooks=_overview()
    )
    seconds = time.perf_counter() - started
    assert list(again.cases["status"]) == ["up to date", "up to date", "failed"]
    assert again.reports == {}
    assert seconds < 5 and seconds < first_seconds / 4
    assert {p: p.stat().st_mtime_ns for p in (result.out_dir / "team0").iterdir()} == before
    # the time shown is the run that wrote the report
    assert again.cases["seconds"].iloc[0] == pytest.approx(result.cases["seconds"].iloc[0], 1e-3)
    assert again.index.read_text().count('class="status up-to-date"') == 2


def test_a_changed_parameter_reruns_only_that_case(first, cases: Path, tmp_path: Path) -> None:
    result, _, _ = first
    out = tmp_path / "out"
    shutil.copytree(result.out_dir, out)
    (cases / "changed.yaml").write_text(_batch_text(", replays: 30"))
    changed = run_batch(load_batch(cases / "changed.yaml"), out, jobs=2, notebooks=_overview())
    assert list(changed.cases["status"]) == ["up to date", "ok", "failed"]
    assert list(changed.reports) == [FANCY]
    results = json.loads((out / FANCY_SLUG / "results.json").read_text())
    assert results["parameters"] == {"replays": 30, "retrain_cost": 500.0}
    assert sorted(p.name for p in out.iterdir()) == sorted(["team0", FANCY_SLUG, "index.html"])
    # --force re-runs an up-to-date case
    (cases / "one.yaml").write_text("parameters: {replays: 20}\ncases: [{case: team0}]\n")
    forced = run_batch(load_batch(cases / "one.yaml"), out, force=True, notebooks=_overview())
    assert list(forced.cases["status"]) == ["ok"]
    again = run_batch(load_batch(cases / "one.yaml"), out, notebooks=_overview())
    assert list(again.cases["status"]) == ["up to date"]
    assert json.loads((out / "team0" / "results.json").read_text()) == json.loads(
        (result.out_dir / "team0" / "results.json").read_text()
    )  # same case and parameters, same numbers


def test_a_failing_notebook_is_kept_beside_the_case_and_linked(cases: Path, tmp_path: Path) -> None:
    notebook = tmp_path / "99_fails.ipynb"
    nb = nbformat.v4.new_notebook()
    parameters = nbformat.v4.new_code_cell('case_path = ""\noutput_dir = "."\nseed = 0')
    parameters.metadata["tags"] = ["parameters"]
    nb.cells = [parameters, nbformat.v4.new_code_cell('raise ValueError("boom <b>bold</b>")')]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, notebook)
    (cases / "fails.yaml").write_text("cases: [{case: team0}]\n")
    out = tmp_path / "out"
    result = run_batch(load_batch(cases / "fails.yaml"), out, notebooks=[notebook])
    outcome = result.outcomes[0]
    assert outcome.status == "failed" and outcome.failed_notebook == "99_fails.ipynb"
    assert "ValueError: boom <b>bold</b>" in outcome.error
    assert outcome.failed_file == out / "team0.failed.ipynb"
    failed = nbformat.read(outcome.failed_file, as_version=4)
    assert failed.cells[-1].outputs[0]["ename"] == "ValueError"
    assert sorted(p.name for p in out.iterdir()) == ["index.html", "team0.failed.ipynb"]
    page = result.index.read_text()
    assert "boom &lt;b&gt;bold&lt;/b&gt;" in page and "<b>bold</b>" not in page
    assert 'href="team0.failed.ipynb"' in page


# -- interrupted runs ---------------------------------------------------------------------------
_KILLED_RUN = """
import sys
from pathlib import Path
from prodready.batch import load_batch, run_batch
from prodready.report import report_notebooks

def show(step):
    if step.event == "notebook" and step.notebook.done:
        print("NOTEBOOK DONE", step.notebook.notebook, flush=True)

if __name__ == "__main__":
    notebooks = [p for p in report_notebooks() if p.stem.startswith(("00", "01"))]
    run_batch(load_batch(sys.argv[1]), sys.argv[2], force=True, notebooks=notebooks, progress=show)
"""


def test_a_killed_run_leaves_only_complete_folders(first, cases: Path, tmp_path: Path) -> None:
    result, _, _ = first
    out = tmp_path / "out"
    shutil.copytree(result.out_dir, out)
    previous = (out / "team0" / STAMP).read_text()
    (cases / "one.yaml").write_text("parameters: {replays: 20}\ncases: [{case: team0}]\n")
    script = tmp_path / "killed.py"
    script.write_text(_KILLED_RUN)
    process = subprocess.Popen(
        [sys.executable, str(script), str(cases / "one.yaml"), str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its kernels too: the whole group is killed
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("NOTEBOOK DONE 00_case_overview"), process.stderr.read()
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    hidden = [p.name for p in out.iterdir() if p.name.startswith(".")]
    assert hidden == [f"{TEMP_PREFIX}team0"]  # the work folder, half written
    assert (out / hidden[0] / f"{OVERVIEW}.html").is_file()
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == sorted(
        ["team0", FANCY_SLUG, "index.html"]
    )
    assert (out / "team0" / STAMP).read_text() == previous  # the previous complete report
    # the next run, whatever it runs, removes the leftovers first
    (cases / "only_broken.yaml").write_text("cases: [{case: broken}]\n")
    run_batch(load_batch(cases / "only_broken.yaml"), out)
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_a_folder_caught_between_the_two_renames_is_put_back(tmp_path: Path) -> None:
    old = tmp_path / f"{TEMP_PREFIX}team0.old"
    old.mkdir()
    (old / "page.html").write_text("complete")
    work = tmp_path / f"{TEMP_PREFIX}team1"
    work.mkdir()
    (work / "half.html").write_text("half")
    (tmp_path / ".prodready-x.tmp").write_text("half an index")
    _clean_leftovers(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["team0"]
    assert (tmp_path / "team0" / "page.html").read_text() == "complete"


def test_a_folder_the_batch_did_not_write_is_never_replaced(cases: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "team0").mkdir(parents=True)
    (out / "team0" / "notes.txt").write_text("mine")
    (cases / "one.yaml").write_text("parameters: {replays: 20}\ncases: [{case: team0}]\n")
    result = run_batch(load_batch(cases / "one.yaml"), out, notebooks=_overview())
    assert list(result.cases["status"]) == ["failed"]
    assert "a folder of this name that a batch did not write" in result.cases["error"].iloc[0]
    assert [p.name for p in (out / "team0").iterdir()] == ["notes.txt"]
    assert "notes.txt" not in result.index.read_text()


# -- the batch file, checked before any kernel --------------------------------------------------
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("cases: [{case: team0, parameters: {replay: 10}}]", "did you mean 'replays'"),
        ("cases: [{case: team0, parameters: {replays: many}}]", "'replays' has the wrong type"),
        ("cases: [{case: team0, parameters: {replays: true}}]", "'replays' has the wrong type"),
        ("parameters: {answers_path: ../outside.yaml}\ncases: [{case: team0}]", "outside the"),
        ("parameters: {seed: 3}\ncases: [{case: team0}]", "'seed' cannot be set here"),
        ("cases: [{case: team0}, {case: team1, name: team0}]", "two cases have the same name"),
        ("cases: [{case: team0, name: A b}, {case: team1, name: a-b}]", "same folder name"),
        ("cases: [{case: team0, name: ../up}]", "cannot be used: it contains a slash"),
        ("cases: [{case: team0, name: '..'}]", "cannot be used: it contains '..'"),
        ('cases: [{case: team0, name: "a\\tb"}]', "control character"),
        ("cases: [{case: team0, name: Index.html}]", "the name of a file the batch writes"),
        ("cases: [{case: team0, nmae: x}]", "cases[0].nmae: unknown key"),
        ("cases: []", "cases: List should have at least 1 item"),
        ("seed: -1\ncases: [{case: team0}]", "seed: Input should be greater than or equal to 0"),
        ("seed: '1'\ncases: [{case: team0}]", "seed: Input should be a valid integer"),
        ("allowed_folders: [nowhere]\ncases: [{case: team0}]", "allowed folder does not exist"),
        ("cases: [{case: team0}", "not valid YAML"),
        ("- team0", "does not describe a batch"),
    ],
)
def test_a_bad_batch_file_stops_before_any_output(
    cases: Path, tmp_path: Path, text: str, message: str
) -> None:
    (cases.parent / "outside.yaml").write_text("{}\n")  # ../outside.yaml from batch.yaml
    batch = cases / "bad.yaml"
    batch.write_text(text + "\n")
    with pytest.raises(ParameterError) as raised:
        load_batch(batch)
    assert message in str(raised.value)
    assert str(batch) in str(raised.value) and "How to fix" in str(raised.value)
    out = tmp_path / "out"
    cli = runner.invoke(app, ["report", "--batch", str(batch), "--out", str(out)])
    assert cli.exit_code == 2, cli.output
    assert message in " ".join(cli.output.split()) or message in cli.output
    assert not out.exists()


def test_paths_are_relative_to_the_batch_file_and_checked_against_allowed_folders(
    cases: Path,
) -> None:
    answers = cases / "answers"
    answers.mkdir(exist_ok=True)
    (answers / "team0.yaml").write_text("{}\n")
    (cases / "paths.yaml").write_text(
        "allowed_folders: [answers]\n"
        "cases: [{case: team0, parameters: {answers_path: answers/team0.yaml}}]\n"
    )
    batch = load_batch(cases / "paths.yaml")
    assert batch.allowed_folders == (answers,)
    assert batch.cases[0].parameters == {"answers_path": str(answers / "team0.yaml")}
    assert batch.cases[0].case_path == cases / "team0" and batch.cases[0].name == "team0"
    (cases / "escape.yaml").write_text(
        "allowed_folders: [answers]\n"
        "cases: [{case: team0, parameters: {answers_path: team0/case.yaml}}]\n"
    )
    with pytest.raises(ParameterError, match="outside the allowed"):
        load_batch(cases / "escape.yaml")


def test_slugs_are_plain_folder_names() -> None:
    assert _slug("Card fraud (EU) 2024") == "Card-fraud-EU-2024"
    assert _slug(".hidden") == "hidden"
    assert _slug("équipe_α") == "équipe_α"
    assert _slug("<>") == "case"


# -- the command --------------------------------------------------------------------------------
def test_cli_batch_exit_codes_and_progress(
    first, cases: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, _, _ = first
    subset = functools.partial(run_batch, notebooks=_overview())  # as the first run
    monkeypatch.setattr("prodready.batch.run_batch", subset)
    (cases / "good.yaml").write_text(_batch_text().replace("  - case: broken/case.yaml\n", ""))
    out = tmp_path / "out"
    shutil.copytree(result.out_dir, out)
    ok = runner.invoke(app, ["report", "--batch", str(cases / "good.yaml"), "--out", str(out)])
    assert ok.exit_code == 0, ok.output
    assert "[case 1/2] team0: up to date" in ok.output
    assert f"[case 2/2] {FANCY}: up to date" in ok.output
    assert re.search(r"Wrote .*index\.html \(2 up to date\)", ok.output)

    failing = runner.invoke(
        app, ["report", "--batch", str(cases / "batch.yaml"), "--out", str(out), "--jobs", "2"]
    )
    assert failing.exit_code == 1, failing.output
    assert "[case 3/3] broken: failed:" in failing.output
    assert "(2 up to date, 1 failed)" in failing.output
    assert "broken failed:" in failing.stderr and "not valid YAML" in failing.stderr
    assert "broken" in (out / "index.html").read_text()

    for extra, word in (
        (["--case", str(cases / "team0")], "--case cannot be used with --batch"),
        (["--seed", "3"], "--seed cannot be used with --batch"),
    ):
        wrong = runner.invoke(
            app, ["report", "--batch", str(cases / "good.yaml"), "--out", str(out), *extra]
        )
        assert wrong.exit_code == 2 and word in wrong.output
    alone = runner.invoke(app, ["report", "--out", str(tmp_path / "x"), "--jobs", "2"])
    assert alone.exit_code == 2 and "--jobs only applies to --batch" in alone.output
    assert not (tmp_path / "x").exists()


# -- headline numbers ---------------------------------------------------------------------------
def test_headlines_read_every_audit_and_say_na_for_what_is_missing(tmp_path: Path) -> None:
    results = {
        "results": {
            "case_overview": {
                "headline": [{"label": "ROC AUC", "offline": 0.9306, "serving": 0.7}]
            },
            "skew_audit": {
                "features": [
                    {"feature": "a", "severity": "high"},
                    {"feature": "b", "severity": "medium"},
                    {"feature": "c", "severity": "none"},
                ]
            },
            "rollout_replay": {
                "outcome": "rolled_back",
                "currency": "USD",
                "money": {"at_risk": -465.0},
            },
            "readiness": {
                "scorecard": {"ml_test_score": 1.5, "weakest": "monitoring"},
                "risks": [
                    {
                        "text": "<script>alert(1)</script> drifts",
                        "money": -12345.6,
                        "currency": "EUR",
                    }
                ],
            },
        }
    }
    assert headlines(results) == {
        "production metric": "ROC AUC 0.931 offline vs 0.700 in production",
        "skew": "2 of 3 features with problems (1 high)",
        "rollout": "rolled back; USD -465 against keeping the champion alone",
        "ML Test Score": "1.5 of 7 (weakest: monitoring)",
        "top risk": "EUR -12,346: <script>alert(1)</script> drifts",
    }
    assert set(headlines(None).values()) == {"n/a"}
    assert headlines({"results": {"case_overview": {"headline": []}}})["production metric"] == "n/a"
    folder = tmp_path / "x"
    folder.mkdir()
    (folder / "results.json").write_text(json.dumps(results))
    (folder / STAMP).write_text("{}")  # a folder a batch wrote
    outcome = CaseOutcome("x", "x", tmp_path / "case.yaml", "ok", folder, 1.0)

    class FakeBatch:
        path, seed = tmp_path / "batch.yaml", 0

    page = render_index(tmp_path, [outcome], batch=FakeBatch(), seconds=1.0)
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; drifts" in page
