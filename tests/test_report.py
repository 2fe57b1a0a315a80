"""`prodready report`: the notebooks run with papermill on the bundled sample, and what they write.

The run is shared by the module (one papermill run of every report notebook); small notebooks
written here check failures and the kernel choice without the cost of the real ones.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import papermill
import plotly.io as pio
import pytest

import prodready
import prodready.samples
from prodready import charts
from prodready.errors import CaseFileError
from prodready.report import (
    NotebookFailed,
    NotebookStep,
    ReportResult,
    report_notebooks,
    run_report,
    save_json,
    write_atomic,
)
from prodready.resources import notebooks_dir

pytestmark = pytest.mark.slow  # a long file: its worker starts it first (tests/conftest.py)

OVERVIEW = "00_case_overview"
SKEW = "01_skew_audit"
ROLLOUT = "02_rollout_replay"
DECAY = "03_decay_retraining"
MONITORING = "04_monitoring_review"
READINESS = "05_executive_summary"
NOTEBOOKS = [
    f"{OVERVIEW}.ipynb",
    f"{SKEW}.ipynb",
    f"{ROLLOUT}.ipynb",
    f"{DECAY}.ipynb",
    f"{MONITORING}.ipynb",
    f"{READINESS}.ipynb",
]  # every report notebook, in order
EXTRA_PARAMETERS = {  # beyond case_path, output_dir, seed
    f"{ROLLOUT}.ipynb": {"replays": "int"},
    f"{DECAY}.ipynb": {"train_window": "str", "step": "str", "retrain_cost": "float"},
    f"{MONITORING}.ipynb": {"capacity_per_day": "int", "cost_per_review": "float"},
    f"{READINESS}.ipynb": {
        "answers_path": "str",
        "db_url": "str",
        "workshop": "str",
        "team": "str",
        "include_decay": "bool",
        "reuse_audits": "bool",
    },
}
EXTERNAL_SCRIPT = re.compile(r"<script[^>]*\bsrc\s*=\s*[\"']https?:", re.IGNORECASE)
CODE_BLOCK = 'class="highlight hl-ipython3"'  # how nbconvert's lab template renders code input
CODE_COMMENT = "Inline plotly.js once in the notebook"  # a comment in the setup cell
FOOTER = re.compile(r'<footer class="prodready-footer".*?</footer>', re.DOTALL)
DECAY_STEP = {"step": "56D"}  # the one parameter the module's report run sets
HAS_CHROMIUM = shutil.which("chromium") is not None  # the PDF needs it (scripts/test installs it)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[ReportResult, list[NotebookStep]]:
    steps: list[NotebookStep] = []
    out = tmp_path_factory.mktemp("report") / "out" / "nested"  # papermill would not create it
    # eight-weekly training origins: an eighth of the default's model fits (the decay notebook
    # is most of the run); the weekly default is the decay tests' and the CLI's business
    result = run_report(
        None, out, seed=0, progress=steps.append, pdf=HAS_CHROMIUM, parameters=DECAY_STEP
    )
    return result, steps


@pytest.fixture(scope="module")
def sample_overview(sample_run) -> dict:
    """The bundled sample's overview, computed directly (not through the notebook): conftest's
    shared run of the sample's audits makes the same ``overview(case, seed=0)`` call."""
    data = sample_run().results["overview"].to_dict()
    return json.loads(json.dumps(data))  # as JSON would give it back


def _html(result: ReportResult, executive: bool = False) -> str:
    suffix = ".executive.html" if executive else ".html"
    return (result.out_dir / f"{OVERVIEW}{suffix}").read_text(encoding="utf-8")


# -- the notebook as committed ------------------------------------------------------------------
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebooks_are_committed_clean_with_typed_parameters(name: str) -> None:
    path = notebooks_dir() / name
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    assert nb.cells[0].cell_type == "markdown"
    assert 'pio.renderers.default = "notebook"' in code[0].source
    parameters = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(parameters) == 1
    inferred = papermill.inspect_notebook(str(path))
    assert {name: p["inferred_type_name"] for name, p in inferred.items()} == {
        "case_path": "str",
        "output_dir": "str",
        "seed": "int",
        **EXTRA_PARAMETERS.get(name, {}),
    }
    assert all(p["help"] for p in inferred.values())  # each parameter is commented
    assert [p.name for p in report_notebooks()] == NOTEBOOKS


# -- one real run on the bundled sample ---------------------------------------------------------
def test_report_writes_notebook_html_executive_and_artefact(report) -> None:
    result, steps = report
    out = result.out_dir
    names = [p.name for p in result.files]
    assert names == [
        f"{OVERVIEW}.ipynb",
        f"{OVERVIEW}.html",
        f"{OVERVIEW}.executive.html",
        "case_overview.json",
        f"{SKEW}.ipynb",
        f"{SKEW}.html",
        f"{SKEW}.executive.html",
        "skew_audit.json",
        f"{ROLLOUT}.ipynb",
        f"{ROLLOUT}.html",
        f"{ROLLOUT}.executive.html",
        "rollout_montecarlo.json",
        "rollout_replay.json",
        f"{DECAY}.ipynb",
        f"{DECAY}.html",
        f"{DECAY}.executive.html",
        "decay_aging.json",
        "decay_estimate.json",
        "decay_policies.json",
        f"{MONITORING}.ipynb",
        f"{MONITORING}.html",
        f"{MONITORING}.executive.html",
        "detection.json",
        "monitoring.json",
        "review.json",
        f"{READINESS}.ipynb",
        f"{READINESS}.html",
        f"{READINESS}.executive.html",
        "readiness.json",
        "results.json",
        *(["executive_summary.pdf"] if HAS_CHROMIUM else []),
    ]
    assert all(p.is_file() and p.stat().st_size > 0 for p in result.files)
    assert sorted(p.name for p in out.iterdir()) == sorted(names)  # no temporary files left
    total = len(NOTEBOOKS)
    assert [(s.index, s.total, s.notebook, s.done) for s in steps] == [
        (index, total, name, done)
        for index, name in enumerate(NOTEBOOKS, start=1)
        for done in (False, True)
    ]

    for name in NOTEBOOKS:
        executed = nbformat.read(out / name, as_version=4)
        assert executed.metadata.papermill.parameters == {
            "case_path": "",
            "output_dir": str(out),
            "seed": 0,
            **(DECAY_STEP if name == f"{DECAY}.ipynb" else {}),
            # the summary reads the overview, skew and rollout JSON this run wrote
            **({"reuse_audits": True} if name == f"{READINESS}.ipynb" else {}),
        }
        code = [c for c in executed.cells if c.cell_type == "code"]
        assert all(c.execution_count is not None for c in code)
        assert not [o for c in code for o in c.outputs if o.output_type == "error"]


def test_json_artefact_equals_overview_computed_directly(report, sample_overview) -> None:
    result, _ = report
    written = json.loads((result.out_dir / "case_overview.json").read_text(encoding="utf-8"))
    assert written == sample_overview
    assert written["numbers"]["training_rows"] > 0


def test_monitoring_artefacts_equal_the_package_on_the_sample(report) -> None:
    from prodready import monitoring, review

    result, _ = report
    case = prodready.samples.load()
    replayed = monitoring.replay(case)
    detection = monitoring.detection_report(
        replayed, case, prodready.samples.known_problems("card_fraud")
    )
    sweep = review.sweep(case, capacity_per_day=20, cost_per_review=5.0, seed=0)
    for name, expected in (
        ("monitoring.json", replayed.to_dict()),
        ("detection.json", detection.to_dict()),
        ("review.json", sweep.to_dict()),
    ):
        written = json.loads((result.out_dir / name).read_text(encoding="utf-8"))
        assert written == json.loads(json.dumps(expected)), name


def test_readiness_artefact_equals_the_package_on_the_sample(report, sample_run, monkeypatch):
    from prodready import readiness
    from prodready.readiness import report as assess_module

    result, _ = report
    # assess runs the sample's audits with their defaults: conftest's shared run is that call
    monkeypatch.setattr(assess_module, "run_audits", lambda *args, **kwargs: sample_run())
    expected = readiness.assess(
        prodready.samples.load(),
        incidents=prodready.samples.known_problems("card_fraud"),
    ).to_dict()
    written = json.loads((result.out_dir / "readiness.json").read_text(encoding="utf-8"))
    assert written == json.loads(json.dumps(expected))
    assert written["answers_from"].startswith("the answers the audits propose")
    assert written["roadmap"]["items"]  # the sample has gaps: the roadmap is not empty
    executive = (result.out_dir / f"{READINESS}.executive.html").read_text(encoding="utf-8")
    assert CODE_COMMENT not in executive and "ML Test Score" in executive


def test_html_embeds_plotly_and_the_figures_so_it_renders_offline(report, sample_run) -> None:
    result, _ = report
    for html in (_html(result), _html(result, executive=True)):
        assert not EXTERNAL_SCRIPT.search(html)  # nothing from a CDN: not plotly, not MathJax
        assert html.count("window.Plotly = Plotly") == 1  # plotly.js inlined once
        assert html.count('class="plotly-graph-div"') == 3
        assert [f"plot-{n}" for n in (1, 2, 3)] == re.findall(r'id="(plot-\d)"', html)

    # each figure's data and layout, as embedded, equal the chart built directly from the case
    ov = sample_run().results["overview"]  # overview(the sample, seed=0)
    expected = [
        charts.offline_vs_serving(ov),
        charts.volume_over_time(ov),
        charts.feature_missingness(ov),
    ]
    embedded = _embedded_figures(_html(result))
    assert [plot_id for plot_id, _ in embedded] == ["plot-1", "plot-2", "plot-3"]
    for (_, figure), built in zip(embedded, expected, strict=True):
        assert figure == {k: v for k, v in json.loads(pio.to_json(built)).items() if k != "frames"}


def _embedded_figures(html: str) -> list[tuple[str, dict]]:
    """(div id, {"data", "layout"}) of each ``Plotly.newPlot(id, data, layout, ...)`` call."""
    decoder = json.JSONDecoder()
    found = []
    for call in re.finditer(r'Plotly\.newPlot\(\s*"([^"]+)",\s*', html):
        data, end = decoder.raw_decode(html, call.end())
        start = re.compile(r"\s*,\s*").match(html, end).end()
        layout, _ = decoder.raw_decode(html, start)
        found.append((call.group(1), {"data": data, "layout": layout}))
    return found


def test_executive_html_has_no_code_but_the_findings(report, sample_overview) -> None:
    result, _ = report
    full, executive = _html(result), _html(result, executive=True)
    assert CODE_BLOCK in full
    assert CODE_COMMENT in full
    assert CODE_BLOCK not in executive
    assert CODE_COMMENT not in executive
    prompts = re.compile(r"\b(In|Out)\s?\[\d+\]:")  # nbconvert writes "In\xa0[1]:"
    assert prompts.search(full)
    assert not prompts.search(executive)  # prompts hidden too
    first_finding = sample_overview["summary"][0]["text"]
    words = first_finding.split(":")[0][:40]
    assert words in executive  # what the executive came for is still there


@pytest.mark.browser
def test_html_draws_its_figures_in_chromium_without_network(report) -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed (scripts/test installs it)")
    result, _ = report
    page = result.out_dir / f"{OVERVIEW}.executive.html"
    dom = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--host-resolver-rules=MAP * ~NOTFOUND",  # no name resolves: no network at all
            "--virtual-time-budget=15000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    # plotly draws each figure as SVG <g class="trace ..."> groups once plotly.js has run
    assert dom.count('class="main-svg"') >= 3
    assert len(re.findall(r'<g class="trace', dom)) >= 3


def test_same_case_and_seed_give_the_same_html(report, tmp_path: Path) -> None:
    first, _ = report
    overview_only = [notebooks_dir() / f"{OVERVIEW}.ipynb"]  # the skew notebook: test_skew_faces
    second = run_report(None, tmp_path, seed=0, executive=False, notebooks=overview_only)
    # the footer tells the run's time; everything else is the same, byte for byte
    before = FOOTER.sub("", _html(first).replace(str(first.out_dir), "OUT"))
    after = FOOTER.sub("", _html(second).replace(str(second.out_dir), "OUT"))
    assert before == after
    assert (first.out_dir / "case_overview.json").read_bytes() == (
        tmp_path / "case_overview.json"
    ).read_bytes()
    assert not (tmp_path / f"{OVERVIEW}.executive.html").exists()  # --no-executive


def test_every_page_has_the_footer_and_results_json_has_every_artefact(report) -> None:
    result, _ = report
    pages = [p for nb in result.notebooks for p in (nb.html, nb.executive_html)]
    assert len(pages) == 2 * len(NOTEBOOKS)
    for page in pages:
        footers = FOOTER.findall(page.read_text(encoding="utf-8"))
        assert len(footers) == 1
        assert f"prodready {prodready.__version__}" in footers[0]
        assert "seed=0" in footers[0]
    results = json.loads(result.results_json.read_text(encoding="utf-8"))
    artefacts = [p for nb in result.notebooks for p in nb.artefacts]
    assert sorted(results["results"]) == sorted(p.stem for p in artefacts)
    for path in artefacts:
        assert results["results"][path.stem] == json.loads(path.read_text(encoding="utf-8"))
    assert results["case"] is None and results["parameters"] == DECAY_STEP
    assert sorted(results["data_hashes"]) == [
        "case.yaml",
        "serving_log.parquet",
        "training.parquet",
    ]
    # the timing split of every notebook adds up to (nearly) its whole step
    for nb in result.notebooks:
        parts = nb.kernel_seconds + nb.execute_seconds + nb.convert_seconds
        assert 0.9 * nb.seconds < parts <= nb.seconds + 1e-6
        assert nb.execute_seconds > nb.kernel_seconds > 0


# -- failures -----------------------------------------------------------------------------------
def test_bad_case_path_fails_clearly_before_any_kernel(tmp_path: Path) -> None:
    out = tmp_path / "out"
    missing = tmp_path / "nowhere" / "case.yaml"
    with pytest.raises(CaseFileError) as caught:
        run_report(missing, out)
    assert str(missing) in str(caught.value)
    assert "does not exist" in str(caught.value)
    assert not out.exists()


def _notebook(path: Path, *sources: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nb.cells[0].metadata["tags"] = ["parameters"]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)
    return path


def test_failing_notebook_names_notebook_cell_and_error_and_keeps_old_files(
    tmp_path: Path,
) -> None:
    source = tmp_path / "notebooks"
    source.mkdir()
    broken = _notebook(
        source / "99_broken.ipynb",
        'case_path = ""\noutput_dir = ""\nseed = 0',
        "1 + 1",
        'raise ValueError("the threshold column is empty")',
    )
    out = tmp_path / "out"
    out.mkdir()
    old_html = out / "99_broken.html"
    old_html.write_text("last good report", encoding="utf-8")

    with pytest.raises(NotebookFailed) as caught:
        run_report(None, out, notebooks=[broken])

    message = str(caught.value)
    assert message.startswith("99_broken.ipynb: ")
    assert "ValueError: the threshold column is empty" in message
    assert "raise ValueError" in message  # the failing cell's first line
    assert "Traceback" not in message
    failed = out / "99_broken.failed.ipynb"
    assert str(failed) in message
    assert old_html.read_text(encoding="utf-8") == "last good report"  # untouched
    assert sorted(p.name for p in out.iterdir()) == ["99_broken.failed.ipynb", "99_broken.html"]
    kept = nbformat.read(failed, as_version=4)
    errors = [o for c in kept.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert [e.evalue for e in errors] == ["the threshold column is empty"]

    not_json = source / "98_not_json.ipynb"  # papermill cannot even read its parameters
    not_json.write_text("{not json", encoding="utf-8")
    with pytest.raises(NotebookFailed, match=r"^98_not_json\.ipynb: .*could not run: NotJSON"):
        run_report(None, out, notebooks=[not_json])


def test_kernel_is_this_python_whatever_kernelspec_jupyter_finds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a user-level `python3` kernelspec pointing at another interpreter must not be used
    bogus = tmp_path / "jupyter" / "kernels" / "python3"
    bogus.mkdir(parents=True)
    (bogus / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [
                    "/nonexistent/python",
                    "-m",
                    "ipykernel_launcher",
                    "-f",
                    "{connection_file}",
                ],
                "display_name": "another env",
                "language": "python",
            }
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    source = tmp_path / "notebooks"
    source.mkdir()
    probe = _notebook(
        source / "01_probe.ipynb",
        'case_path = ""\noutput_dir = ""\nseed = 0',
        "import sys\n"
        "from prodready.report import save_json\n"
        'save_json({"executable": sys.executable, "seed": seed}, output_dir, "kernel.json")',
    )
    out = tmp_path / "out"
    result = run_report(None, out, seed=3, executive=False, notebooks=[probe])
    written = json.loads((out / "kernel.json").read_text(encoding="utf-8"))
    assert written == {"executable": sys.executable, "seed": 3}
    assert [p.name for p in result.files] == [
        "01_probe.ipynb",
        "01_probe.html",
        "kernel.json",
        "results.json",
    ]
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert results["results"] == {"kernel": written}
    assert result.pdf is None  # no executive summary notebook ran


# -- atomic writes ------------------------------------------------------------------------------
def test_write_atomic_leaves_the_old_file_when_the_write_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "case_overview.json"
    save_json({"answer": 1}, tmp_path, target.name)
    assert json.loads(target.read_text(encoding="utf-8")) == {"answer": 1}

    def refuse(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("prodready.report.os.replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, "x" * 1_000_000)
    assert json.loads(target.read_text(encoding="utf-8")) == {"answer": 1}
    assert [p.name for p in tmp_path.iterdir()] == [target.name]  # temporary file removed

    with pytest.raises(ValueError):  # NaN is not JSON: refused before anything is written
        save_json({"answer": float("nan")}, tmp_path, target.name)
    assert json.loads(target.read_text(encoding="utf-8")) == {"answer": 1}
