"""What a report writes around the notebooks: parameters, footer, results.json, PDF, escaping.

Two small generated cases (20,000 rows) and a subset of the notebooks keep this file short; the
full report on the bundled sample is tests/test_report.py's.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pypdfium2 as pdfium
import pytest

import prodready
import prodready.samples
from prodready import pdf as pdf_module
from prodready.errors import ParameterError, ProdreadyError
from prodready.report import (
    FOOTER_CLASS,
    RESERVED_PARAMETERS,
    ReportResult,
    _audits_written,
    case_hashes,
    check_parameters,
    notebook_parameters,
    run_report,
)
from prodready.resources import notebooks_dir
from prodready.results import markdown_text

SCRIPT = "<script>alert(1)</script>"
CASE_NAME = "<b>x</b> [y](javascript:alert(2))"
TRAINING_FILE = "train<i>&.parquet"  # a file name that is markup too: the footer shows it
AUDITS_RUN = ["overview", "skew", "rollout", "monitoring", "review"]  # include_decay off
LEAKY = "chargebacks_90d"  # the sample's leaked feature: high severity, named in the findings
PARAMETERS = {  # every parameter a notebook declares beyond case_path, output_dir and seed
    "answers_path": "str",
    "capacity_per_day": "int",
    "cost_per_review": "float",
    "db_url": "str",
    "include_decay": "bool",
    "replays": "int",
    "retrain_cost": "float",
    "reuse_audits": "bool",
    "step": "str",
    "team": "str",
    "train_window": "str",
    "workshop": "str",
}
OVERVIEW, SKEW, ROLLOUT, SUMMARY = (
    "00_case_overview",
    "01_skew_audit",
    "02_rollout_replay",
    "05_executive_summary",
)
needs_chromium = pytest.mark.skipif(
    not any(shutil.which(n) for n in pdf_module.CHROMIUM_NAMES), reason="no Chromium installed"
)

pytestmark = pytest.mark.slow  # a long file: its worker starts it first (tests/conftest.py)


def _notebooks(*stems: str) -> list[Path]:
    return [notebooks_dir() / f"{stem}.ipynb" for stem in stems]


def _footer(page: str) -> str:
    found = re.findall(rf'<footer class="{FOOTER_CLASS}".*?</footer>', page, flags=re.DOTALL)
    assert len(found) == 1
    return found[0]


@pytest.fixture(scope="module")
def hostile_case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 20,000-row card fraud case whose name, a feature and a file name are HTML."""
    folder = tmp_path_factory.mktemp("hostile")
    case_file = prodready.samples.write("card_fraud", folder, rows=20_000)
    for name in ("training.parquet", "serving_log.parquet"):
        frame = pd.read_parquet(folder / name).rename(columns={LEAKY: SCRIPT})
        frame.to_parquet(folder / (TRAINING_FILE if name == "training.parquet" else name))
    (folder / "training.parquet").unlink()
    text = case_file.read_text(encoding="utf-8")
    text = text.replace("name: Card fraud detection", f'name: "{CASE_NAME}"')
    text = text.replace(f"{{name: {LEAKY},", f'{{name: "{SCRIPT}",')
    text = text.replace(
        "training: {path: training.parquet}", f'training: {{path: "{TRAINING_FILE}"}}'
    )
    case_file.write_text(text, encoding="utf-8")
    return case_file


@pytest.fixture(scope="module")
def hostile_report(hostile_case: Path, tmp_path_factory: pytest.TempPathFactory) -> ReportResult:
    out = tmp_path_factory.mktemp("hostile_report")
    return run_report(
        hostile_case,
        out,
        seed=0,
        notebooks=_notebooks(OVERVIEW, SKEW, SUMMARY),
        parameters={"team": SCRIPT, "include_decay": False},
        pdf=bool(shutil.which("chromium")),
    )


# -- parameters ---------------------------------------------------------------------------------
def test_notebook_parameters_are_the_names_and_types_the_notebooks_declare() -> None:
    declared = notebook_parameters()
    assert declared == {"case_path": "str", "output_dir": "str", "seed": "int", **PARAMETERS}
    assert notebook_parameters(_notebooks(ROLLOUT)) == {
        "case_path": "str",
        "output_dir": "str",
        "seed": "int",
        "replays": "int",
    }


def test_check_parameters_accepts_and_normalises_good_values(tmp_path: Path) -> None:
    answers = tmp_path / "answers.yaml"
    answers.write_text("{}", encoding="utf-8")
    checked = check_parameters(
        {"retrain_cost": 1500, "replays": 50, "include_decay": True, "answers_path": str(answers)},
        where="batch.yaml, case a",
        allowed_folders=[tmp_path],
    )
    assert checked == {
        "answers_path": str(answers.resolve()),
        "include_decay": True,
        "replays": 50,
        "retrain_cost": 1500.0,
    }
    assert isinstance(checked["retrain_cost"], float)
    assert check_parameters({"answers_path": ""}, where="x") == {"answers_path": ""}  # no file


def test_the_summary_reads_only_audits_this_run_wrote(tmp_path: Path) -> None:
    """``reuse_audits`` (notebook 05 then reads the JSON in the output folder) is set only when
    every audit file there is this run's: one left by a run on another case means run them all."""
    skew, overview = tmp_path / "skew_audit.json", tmp_path / "case_overview.json"
    assert not _audits_written(tmp_path, set())  # none there
    skew.write_text("{}", encoding="utf-8")
    assert _audits_written(tmp_path, {skew})
    overview.write_text("{}", encoding="utf-8")  # an earlier run's
    assert not _audits_written(tmp_path, {skew})
    assert _audits_written(tmp_path, {skew, overview})


@pytest.mark.parametrize(
    ("parameters", "words"),
    [
        ({"replay": 5}, ["no report notebook has a parameter named 'replay'", "'replays'"]),
        ({"seed": 1}, ["'seed' cannot be set here", "case_path, output_dir, seed and reuse"]),
        ({"reuse_audits": True}, ["'reuse_audits' cannot be set here"]),
        ({"case_path": "x"}, ["'case_path' cannot be set here"]),
        ({"replays": True}, ["'replays' has the wrong type", "a whole number (int)", "bool True"]),
        ({"replays": 2.5}, ["'replays' has the wrong type", "float 2.5"]),
        ({"retrain_cost": "2000"}, ["'retrain_cost' has the wrong type", "str '2000'"]),
        ({"include_decay": 1}, ["'include_decay' has the wrong type", "true or false"]),
        ({"train_window": 90}, ["'train_window' has the wrong type", "quote it in YAML"]),
    ],
)
def test_check_parameters_refuses_bad_names_and_types(parameters: dict, words: list[str]) -> None:
    with pytest.raises(ParameterError) as caught:
        check_parameters(parameters, where="batch.yaml, case a")
    message = str(caught.value)
    assert message.startswith("batch.yaml, case a: ")
    for word in words:
        assert word in message
    assert "How to fix:" in message


def test_unknown_parameter_lists_every_valid_name() -> None:
    with pytest.raises(ParameterError) as caught:
        check_parameters({"capacity": 5}, where="w")
    settable = [name for name in PARAMETERS if name not in RESERVED_PARAMETERS]
    assert caught.value.expected == "one of " + ", ".join(settable)
    assert "did you mean 'capacity_per_day'?" in caught.value.fix


def test_path_parameters_must_exist_inside_the_allowed_folders(tmp_path: Path) -> None:
    allowed, outside = tmp_path / "allowed", tmp_path / "outside"
    allowed.mkdir()
    outside.mkdir()
    secret = outside / "answers.yaml"
    secret.write_text("{}", encoding="utf-8")
    link = allowed / "link.yaml"
    link.symlink_to(secret)  # inside by name, outside once resolved
    for value in (str(secret), str(link), str(allowed / ".." / "outside" / "answers.yaml")):
        with pytest.raises(ParameterError) as caught:
            check_parameters({"answers_path": value}, where="w", allowed_folders=[allowed])
        assert "'answers_path' points outside the allowed folders" in str(caught.value)
        assert str(allowed.resolve()) in caught.value.expected
    with pytest.raises(ParameterError) as caught:
        check_parameters({"answers_path": str(allowed / "none.yaml")}, where="w")
    assert "the file of parameter 'answers_path' does not exist" in str(caught.value)


def test_bad_parameters_fail_before_any_kernel_starts(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(ParameterError, match="'replays' has the wrong type"):
        run_report(None, out, parameters={"replays": "many"})
    assert not out.exists()


def test_a_missing_chromium_fails_before_any_kernel_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(pdf_module.CHROMIUM_ENV, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no chromium here
    out = tmp_path / "out"
    with pytest.raises(ProdreadyError) as caught:
        run_report(None, out, notebooks=_notebooks(SUMMARY))
    assert "no Chromium to print the PDF with" in str(caught.value)
    assert "apt-get install chromium" in caught.value.fix
    assert not out.exists()
    monkeypatch.setenv(pdf_module.CHROMIUM_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(ProdreadyError, match="PRODREADY_CHROMIUM names no program"):
        pdf_module.find_chromium()


def test_case_hashes_are_the_sha256_of_the_case_and_its_data(hostile_case: Path) -> None:
    folder = hostile_case.parent
    expected = {
        name: hashlib.sha256((folder / name).read_bytes()).hexdigest()
        for name in ("case.yaml", TRAINING_FILE, "serving_log.parquet")
    }
    assert case_hashes(hostile_case) == expected
    assert case_hashes(folder) == expected  # a folder holding case.yaml
    bundled = case_hashes(None)
    assert sorted(bundled) == ["case.yaml", "serving_log.parquet", "training.parquet"]
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in bundled.values())


def test_case_hashes_name_every_file_a_glob_matches(tmp_path: Path) -> None:
    case_file = prodready.samples.write("card_fraud", tmp_path, rows=20_000, parts=3)
    hashes = case_hashes(case_file)
    parts = [f"serving_log/part-0000{i}.parquet" for i in range(3)]
    assert sorted(hashes) == sorted(["case.yaml", "training.parquet", *parts])
    before = hashes[parts[1]]
    (tmp_path / parts[1]).write_bytes((tmp_path / parts[1]).read_bytes() + b" ")
    assert case_hashes(case_file)[parts[1]] != before  # one changed part: the report is stale


# -- one small run with hostile names -----------------------------------------------------------
def test_user_text_is_escaped_in_every_page(hostile_report: ReportResult) -> None:
    pages = [p for nb in hostile_report.notebooks for p in (nb.html, nb.executive_html)]
    assert len(pages) == 6
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert SCRIPT not in text, page.name
        assert "<b>x</b>" not in text, page.name
        assert "javascript:alert(2)" in text and 'href="javascript' not in text, page.name
        assert "alert(1)" in text  # the name is shown, as text
    skew = (hostile_report.out_dir / f"{SKEW}.executive.html").read_text(encoding="utf-8")
    assert skew.count(escaped) >= 3  # findings, the drill-down heading, the tables
    assert "\\u003cscript\\u003ealert(1)" in skew  # plotly's JSON escapes it its own way
    summary = (hostile_report.out_dir / f"{SUMMARY}.executive.html").read_text(encoding="utf-8")
    assert "<strong>&lt;b&gt;x&lt;/b&gt; [y](javascript:alert(2))</strong>: readiness" in summary
    # the artefacts keep the real names
    skew_json = json.loads((hostile_report.out_dir / "skew_audit.json").read_text("utf-8"))
    assert SCRIPT in json.dumps(skew_json, ensure_ascii=False)


def test_every_page_ends_with_an_escaped_footer(hostile_report: ReportResult) -> None:
    hashes = hostile_report.data_hashes
    assert sorted(hashes) == sorted(["case.yaml", TRAINING_FILE, "serving_log.parquet"])
    for nb in hostile_report.notebooks:
        for page in (nb.html, nb.executive_html):
            text = page.read_text(encoding="utf-8")
            footer = _footer(text)
            assert text.rstrip().endswith(footer + "\n</body>\n</html>")
            assert f"prodready {prodready.__version__}" in footer
            for name, digest in hashes.items():
                shown = name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                assert f"<code>{digest[:12]}</code> {shown}" in footer
            assert "team=&quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;" in footer
            assert "include_decay=false" in footer and "seed=0" in footer
            assert f"Run started {hostile_report.started} UTC" in footer
            run_time = re.search(r'prodready-run-time">([\d.]+) s<', footer)
            assert run_time is not None  # the whole run's duration, filled in at the end
            assert 0 < float(run_time.group(1)) <= hostile_report.seconds


def test_results_json_gathers_every_json_artefact(hostile_report: ReportResult) -> None:
    out = hostile_report.out_dir
    results = json.loads(hostile_report.results_json.read_text(encoding="utf-8"))
    assert hostile_report.results_json == out / "results.json"
    assert list(results) == sorted(results)  # keys sorted
    assert results["prodready_version"] == prodready.__version__
    assert results["case"] == str(hostile_report.case_path)
    assert results["data_hashes"] == hostile_report.data_hashes
    assert results["parameters"] == {"include_decay": False, "team": SCRIPT}
    assert results["seed"] == 0
    assert sorted(results["results"]) == ["case_overview", "readiness", "skew_audit"]
    for stem, content in results["results"].items():
        assert content == json.loads((out / f"{stem}.json").read_text(encoding="utf-8"))
    assert results["results"]["readiness"]["audits_run"] == AUDITS_RUN
    # each notebook received only the parameters it declares
    given = {
        nb.notebook: nbformat.read(nb.executed, as_version=4).metadata.papermill.parameters
        for nb in hostile_report.notebooks
    }
    assert "team" not in given[f"{OVERVIEW}.ipynb"]
    assert given[f"{SUMMARY}.ipynb"]["team"] == SCRIPT
    assert given[f"{SUMMARY}.ipynb"]["include_decay"] is False


def test_sizes_and_the_timing_split(hostile_report: ReportResult) -> None:
    result = hostile_report
    assert set(result.sizes) == {p.name for p in result.files}
    assert all(result.sizes[p.name] == p.stat().st_size for p in result.files)
    assert result.sizes[f"{OVERVIEW}.html"] > 3_000_000  # plotly.js inlined: about 5 MB
    for nb in result.notebooks:
        parts = nb.kernel_seconds + nb.execute_seconds + nb.convert_seconds
        assert 0 < nb.kernel_seconds < nb.seconds
        assert 0 < nb.execute_seconds < nb.seconds
        assert 0 < nb.convert_seconds < nb.seconds
        assert parts <= nb.seconds + 1e-6
        assert parts > 0.9 * nb.seconds  # the three parts are (nearly) the whole step
    assert result.seconds >= sum(nb.seconds for nb in result.notebooks)
    data = result.to_dict()
    assert data["notebooks"][0]["kernel_seconds"] == round(result.notebooks[0].kernel_seconds, 3)
    assert data["sizes"] == result.sizes


@needs_chromium
def test_executive_summary_pdf_has_pages_and_the_figures(
    hostile_report: ReportResult, tmp_path: Path
) -> None:
    pdf = hostile_report.pdf
    assert pdf == hostile_report.out_dir / "executive_summary.pdf"
    assert hostile_report.files[-2:] == (hostile_report.results_json, pdf)
    raw = pdf.read_bytes()
    assert raw.startswith(b"%PDF-")
    pages = len(re.findall(rb"/Type\s*/Page\b(?!s)", raw))
    assert pages >= 2
    assert b"/Title (Executive summary)" in raw  # the notebook's title
    # the same page with plotly's drawing calls removed prints smaller: the figures are there
    page = hostile_report.out_dir / f"{SUMMARY}.executive.html"
    text = page.read_text(encoding="utf-8")
    assert text.count("Plotly.newPlot(") == 2  # the radar and the roadmap
    bare = tmp_path / "bare.html"
    bare.write_text(text.replace("Plotly.newPlot(", "(function () {})("), encoding="utf-8")
    without = pdf_module.html_to_pdf(bare, tmp_path / "bare.pdf")
    assert len(raw) - without.stat().st_size > 20_000
    # the figures were drawn: their own text is on the pages, and nothing runs off the paper
    document = pdfium.PdfDocument(str(pdf))
    try:
        printed = ""
        for page in document:
            text = page.get_textpage()
            printed += text.get_text_range()
            width = page.get_width()
            rights = [text.get_charbox(i)[2] for i in range(text.count_chars())]
            assert max(rights, default=0) <= width + 1, "text runs off the page"
    finally:
        document.close()
    assert "organisation (scaled to 7)" in printed  # the radar's axis
    assert "roadmap items over" in printed  # the Gantt chart's title
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bare.html", "bare.pdf"]  # no temp
    assert not [p for p in hostile_report.out_dir.iterdir() if p.name.startswith(".")]


def test_pdf_of_a_missing_page_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ProdreadyError, match="the page to print does not exist"):
        pdf_module.html_to_pdf(tmp_path / "none.html", tmp_path / "out.pdf")
    assert not (tmp_path / "out.pdf").exists()


# -- reproducibility ----------------------------------------------------------------------------
def test_same_case_and_parameters_give_the_same_results(tmp_path: Path) -> None:
    case = prodready.samples.write("card_fraud", tmp_path / "case", rows=20_000)
    runs = [
        run_report(
            case,
            tmp_path / f"run{n}",
            seed=3,
            executive=False,
            notebooks=_notebooks(ROLLOUT),
            parameters={"replays": 20},
            pdf=False,
        )
        for n in (1, 2)
    ]
    first, second = (json.loads(r.results_json.read_text(encoding="utf-8")) for r in runs)
    assert first["results"] == second["results"]
    assert first == second  # no time or output folder anywhere in results.json
    assert sorted(first["results"]) == ["rollout_montecarlo", "rollout_replay"]
    assert first["parameters"] == {"replays": 20} and first["seed"] == 3
    assert first["results"]["rollout_montecarlo"]["n"] == 20  # the parameter reached it
    assert first["results"]["rollout_montecarlo"]["seed"] == 3
    executed = nbformat.read(runs[0].out_dir / f"{ROLLOUT}.ipynb", as_version=4)
    assert executed.metadata.papermill.parameters["replays"] == 20
    assert runs[0].pdf is None


def test_markdown_text_renders_as_the_text_itself() -> None:
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    hostile = (
        "<b>x</b> [y](javascript:alert(2)) ![i](http://x/i.png) <http://z> www.example.com "
        "$5 *a* _b_ `c` # d | e ~~f~~ 1. g \\h 14:00"
    )
    rendered = markdown2html_mistune(markdown_text(hostile))
    assert rendered == f"<p>{html.escape(hostile, quote=False)}</p>\n"  # no markup at all
