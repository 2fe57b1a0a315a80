"""The `prodready` command: errors as messages with exit codes, `sample`, `app` wiring, --version.

Streamlit itself is started for real in tests/test_wheel.py; here ``subprocess.Popen`` is
replaced so the command line and environment the CLI builds can be checked exactly.
"""

from __future__ import annotations

import json
import socket
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any, ClassVar

import nbformat
import pytest
from typer.testing import CliRunner

import prodready
from prodready import load_case
from prodready.cli import app
from prodready.resources import app_script, sample_dir
from prodready.samples import card_fraud

runner = CliRunner()
ROWS, SEED = 3_000, 11


@pytest.fixture(scope="module")
def sample_case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample") / "card_fraud"
    result = runner.invoke(
        app, ["sample", "card_fraud", "--rows", str(ROWS), "--seed", str(SEED), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    written = Path(result.stdout.split(" to ", 1)[1].splitlines()[0].strip())
    assert written.is_file() and written.parent == out
    return written


class FakeStreamlit:
    """Stands in for ``subprocess.Popen``: records the command and environment."""

    calls: ClassVar[list[tuple[list[str], dict[str, str]]]] = []

    def __init__(self, command: list[str], env: dict[str, str], **_: Any) -> None:
        FakeStreamlit.calls.append((command, env))

    def wait(self) -> int:
        return 0

    def send_signal(self, signum: int) -> None:  # pragma: no cover - only on SIGTERM
        pass


@pytest.fixture
def fake_streamlit(monkeypatch: pytest.MonkeyPatch) -> type[FakeStreamlit]:
    FakeStreamlit.calls = []
    monkeypatch.setattr("prodready.cli.subprocess.Popen", FakeStreamlit)
    return FakeStreamlit


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("", 0))
        return s.getsockname()[1]


def test_version_is_the_installed_package_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"prodready {version('prodready')}"
    assert prodready.__version__ == version("prodready")


def test_sample_writes_a_case_that_load_case_reads(sample_case: Path) -> None:
    case = load_case(sample_case)
    expected = card_fraud.generate(rows=ROWS, seed=SEED)
    assert case.task == "binary"
    assert case.feature_names == card_fraud.FEATURE_NAMES
    assert len(case.training) == len(expected.training)  # --rows and --seed were used
    assert len(case.serving) == len(expected.serving)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sample", "credit_risk"], "there is no sample case called 'credit_risk'"),
        (["sample", "card_fraud", "--rows", "10"], "2000"),  # the least a year of data needs
    ],
)
def test_sample_refuses_what_it_cannot_write(args: list[str], message: str, tmp_path: Path) -> None:
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert message in result.stderr
    assert "How to fix:" in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["report", "app"])
def test_missing_case_prints_the_message_and_exits_2(
    command: str, tmp_path: Path, fake_streamlit: type[FakeStreamlit]
) -> None:
    missing = tmp_path / "no_such" / "case.yaml"
    args = [command, "--case", str(missing)] + (
        ["--out", str(tmp_path / "out")] * (command == "report")
    )
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert f"{missing}: the case file does not exist" in result.stderr
    assert "How to fix:" in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert fake_streamlit.calls == []  # Streamlit never started
    assert not (tmp_path / "out").exists()


def test_invalid_case_file_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "case.yaml"
    bad.write_text("name: x\ntask: binary\ncolumns:\n\ttimestamp: t\n", encoding="utf-8")
    result = runner.invoke(app, ["report", "--case", str(bad), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert f"{bad}, line 4: the case file is not valid YAML" in result.stderr
    assert "Traceback" not in result.output


def test_app_starts_streamlit_on_the_bundled_app_with_the_case(
    sample_case: Path, fake_streamlit: type[FakeStreamlit], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(sample_case.parent)
    port = _free_port()
    result = runner.invoke(
        app, ["app", "--case", sample_case.name, "--port", str(port), "--no-browser"]
    )
    assert result.exit_code == 0, result.output
    [(command, env)] = fake_streamlit.calls
    assert command[:5] == [sys.executable, "-m", "streamlit", "run", str(app_script())]
    options = dict(zip(command[5::2], command[6::2], strict=True))
    assert options["--server.port"] == str(port)
    assert options["--server.headless"] == "true"  # --no-browser
    assert env["PRODREADY_CASE"] == str(sample_case.resolve())  # absolute, from a relative path
    assert f"http://localhost:{port}" in result.stdout


def test_app_without_case_uses_the_bundled_sample(
    fake_streamlit: type[FakeStreamlit], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRODREADY_CASE", "/left/over/from/the/shell.yaml")
    result = runner.invoke(app, ["app", "--port", str(_free_port())])
    assert result.exit_code == 0, result.output
    [(command, env)] = fake_streamlit.calls
    assert "PRODREADY_CASE" not in env  # the app falls back to the bundled sample
    options = dict(zip(command[5::2], command[6::2], strict=True))
    assert options["--server.headless"] == "true"  # prodready opens the tab itself
    assert "bundled sample" in result.stdout


def test_app_on_a_busy_port_says_so(fake_streamlit: type[FakeStreamlit]) -> None:
    with socket.socket() as busy:
        busy.bind(("", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = runner.invoke(app, ["app", "--port", str(port)])
    assert result.exit_code == 2
    assert f"port {port} is already in use" in result.stderr
    assert f"--port {port + 1}" in result.stderr
    assert fake_streamlit.calls == []


def test_failing_notebook_exits_1_naming_notebook_and_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell('case_path = ""\noutput_dir = ""\nseed = 0'),
        nbformat.v4.new_code_cell('raise KeyError("merchant_category")'),
    ]
    nb.cells[0].metadata["tags"] = ["parameters"]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    broken = tmp_path / "07_broken.ipynb"
    nbformat.write(nb, broken)
    monkeypatch.setattr("prodready.report.report_notebooks", lambda: [broken])

    out = tmp_path / "out"
    result = runner.invoke(app, ["report", "--out", str(out)])
    assert result.exit_code == 1
    assert result.stderr.startswith("07_broken.ipynb: the report notebook failed in cell")
    assert "KeyError: 'merchant_category'" in result.stderr
    assert "Traceback" not in result.output
    assert [p.name for p in out.iterdir()] == ["07_broken.failed.ipynb"]


def test_bad_seed_and_unknown_command_are_usage_errors(tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", "--out", str(tmp_path), "--seed", "-1"])
    assert result.exit_code == 2
    assert "--seed" in result.output
    assert runner.invoke(app, ["audit-everything"]).exit_code == 2


def test_browser_tab_opens_once_the_server_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    import http.server
    import threading

    from prodready import cli

    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/_stcore/health" else 404)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    opened: list[str] = []
    monkeypatch.setattr(cli.webbrowser, "open", opened.append)
    with http.server.HTTPServer(("127.0.0.1", 0), Health) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}"
        cli._open_when_ready(url, timeout=10)
        server.shutdown()
    assert opened == [url]
    opened.clear()
    cli._open_when_ready(f"http://127.0.0.1:{_free_port()}", timeout=1)  # nobody answers
    assert opened == []


def test_audit_rollout_guardrail_adds_the_suggested_segment_rule() -> None:
    outcome = runner.invoke(app, ["audit", "rollout", "--guardrail", "--json", "-"])
    assert outcome.exit_code == 0, outcome.output
    data = json.loads(outcome.stdout)
    rules = {rule["name"]: rule for rule in data["triggers"]}
    guard = rules["flag rate > 0.179 [region == international]"]
    assert guard["kind"] == "flag_rate" and guard["segment"] == ["region", "international"]
    assert data["outcome"] == "rolled_back"
    assert "region == international" in data["decisions"][-1]["reason"]
    assert "Guardrail added: flag rate > 0.179 [region == international]" in outcome.stderr
    plain = runner.invoke(app, ["audit", "rollout", "--json", "-"])
    assert json.loads(plain.stdout)["outcome"] == "promoted"


def test_audit_decay_prints_findings_and_policies_and_writes_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import prodready.decay.audit as decay_audit

    made: list = []  # the audit the command ran, with the arguments it was given

    def audit(case, **kwargs):
        made.append((case, kwargs, real(case, **kwargs)))
        return made[-1][2]

    real = decay_audit.audit
    monkeypatch.setattr(decay_audit, "audit", audit)
    # small and coarse (4 aging and 8 policy models): this checks the command, not the audit
    path = prodready.samples.write("card_fraud", tmp_path / "small", rows=10_000)
    args = ["audit", "decay", "--case", str(path), "--train-window", "60D", "--step", "56D"]
    target = tmp_path / "decay.json"
    outcome = runner.invoke(app, [*args, "--retrain-cost", "500", "--json", str(target)])
    assert outcome.exit_code == 0, outcome.output
    # the command's audit is the package's, on the case file, with the options given (the
    # audit's own numbers are tested in tests/test_decay.py)
    [(case, kwargs, expected)] = made
    assert case.path == load_case(path).path
    assert (kwargs["train_window"], kwargs["step"], kwargs["retrain_cost"]) == ("60D", "56D", 500)
    data = json.loads(target.read_text(encoding="utf-8"))
    assert data["policies"]["recommended"] == expected.policies.recommended
    assert data["aging"]["curve"] == json.loads(json.dumps(expected.aging.to_dict()["curve"]))
    assert data["estimate"] is not None
    out = outcome.stdout
    assert f"recommended: {expected.policies.recommended}" in out
    for finding in expected.summary()[:3]:
        assert finding.text[:60] in " ".join(out.split())
    short = runner.invoke(app, [*args[:4], "--train-window", "400D"])
    assert short.exit_code == 2
    assert "too short" in short.output


def test_audit_review_compares_bands_or_replays_one(tmp_path: Path) -> None:
    from prodready import review, samples

    case = samples.load()
    outcome = runner.invoke(app, ["audit", "review", "--capacity", "20", "--json", "-"])
    assert outcome.exit_code == 0, outcome.output
    expected = review.sweep(case, capacity_per_day=20, cost_per_review=5.0)
    data = json.loads(outcome.stdout)
    assert data["best"] == list(expected.best)
    assert len(data["table"]) == len(expected.table)
    shown = runner.invoke(app, ["audit", "review", "--band", "0.03", "0.09"])
    assert shown.exit_code == 0, shown.output
    one = review.simulate(case, band=(0.03, 0.09), capacity_per_day=20, cost_per_review=5.0)
    assert one.summary()[0].text[:50] in " ".join(shown.stdout.split())
    bad = runner.invoke(app, ["audit", "review", "--band", "0.5", "0.1"])
    assert bad.exit_code == 2 and "band" in bad.output.lower()


def test_audit_monitoring_replays_and_times_the_incidents(tmp_path: Path) -> None:
    from prodready import monitoring, samples

    outcome = runner.invoke(app, ["audit", "monitoring", "--json", "-"])
    assert outcome.exit_code == 0, outcome.output
    data = json.loads(outcome.stdout)
    case = samples.load()
    expected = monitoring.replay(case)
    assert len(data["replay"]["alerts"]) == len(expected.alerts)
    silent = [r for r in data["detection"]["table"] if r["problem"] == "silent_incident"]
    assert {r["family"]: r["days_to_detect"] for r in silent}["data_quality"] == 0
    incidents = tmp_path / "incidents.csv"
    incidents.write_text("problem,start,end\nstuck,2025-09-08,2025-09-18\n", encoding="utf-8")
    own = runner.invoke(
        app,
        [
            "audit",
            "monitoring",
            "--case",
            str(sample_dir("card_fraud")),
            "--incidents",
            str(incidents),
        ],
    )
    assert own.exit_code == 0, own.output
    assert "stuck (from 2025-09-08): caught by" in " ".join(own.stdout.split())
    incidents.write_text("problem,begin\nstuck,2025-09-08\n", encoding="utf-8")
    bad = runner.invoke(app, ["audit", "monitoring", "--incidents", str(incidents)])
    assert bad.exit_code == 2 and "lacks columns" in bad.output


def test_audit_skew_lazy_leaves_the_log_on_disk(tmp_path: Path) -> None:
    from prodready import samples, skew

    case_file = samples.write("card_fraud", tmp_path, rows=30_000, parts=2)
    result = runner.invoke(
        app,
        [
            "audit",
            "skew",
            "--case",
            str(case_file),
            "--lazy",
            "--sample-rows",
            "3000",
            "--json",
            "-",
        ],
    )
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    expected = skew.audit(load_case(case_file, lazy=True, sample_rows=3000)).to_dict()
    assert shown["features"] == expected["features"]  # every serving row, as in Python
    refused = runner.invoke(app, ["audit", "skew", "--lazy"])
    assert refused.exit_code == 2
    assert "--lazy needs a case file" in refused.output


def test_report_notebook_option_runs_the_chosen_notebooks_in_report_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prodready.notebooks import pick_notebooks, report_notebooks
    from prodready.report import ReportResult

    every = report_notebooks()
    assert pick_notebooks(["05", "skew_audit", "00_case_overview.ipynb", "01_SKEW_AUDIT"]) == [
        every[0],
        every[1],
        every[5],
    ]
    asked: list = []

    def fake_run_report(case, out, **kwargs) -> ReportResult:
        asked.append(kwargs["notebooks"])
        return ReportResult(case_path=None, out_dir=Path(out), seed=0, notebooks=())

    monkeypatch.setattr("prodready.report.run_report", fake_run_report)
    out = str(tmp_path / "out")
    chosen = runner.invoke(app, ["report", "--out", out, "--notebook", "03", "--notebook", "01"])
    assert chosen.exit_code == 0, chosen.output
    assert asked == [[every[1], every[3]]]
    runner.invoke(app, ["report", "--out", out])
    assert asked[-1] is None  # no option: every notebook
    typo = runner.invoke(app, ["report", "--out", out, "--notebook", "skew_audt"])
    assert typo.exit_code == 2 and len(asked) == 2
    message = " ".join(typo.stderr.split())
    assert "no report notebook 'skew_audt'" in message and "did you mean '01_skew_audit'" in message
    batch = tmp_path / "batch.yaml"
    batch.write_text("cases: []\n", encoding="utf-8")
    both = runner.invoke(app, ["report", "--batch", str(batch), "--out", out, "--notebook", "01"])
    assert both.exit_code == 2 and "--notebook cannot be used with --batch" in both.stderr
