"""Run the parameterised notebooks for one case and write the report files.

For every notebook named ``NN_*.ipynb`` in :func:`prodready.resources.notebooks_dir` this writes,
into the output folder: the executed notebook, an HTML page (code shown) and, optionally, an
executive HTML page (no code). Both pages embed plotly.js and load nothing from the network, so
they open on a laptop without internet. Every file is written to a temporary name in the output
folder and renamed into place, so a failed run never leaves a half-written file behind.

The kernel is always the Python running prodready (not whatever a user's ``python3``
kernelspec points at), so the notebooks import the same prodready as the command.

Around the notebooks: parameters are checked against what the notebooks declare before any
kernel starts (:func:`check_parameters`); every HTML page ends with a footer saying what made it
(version, data hashes, parameters, time); ``results.json`` gathers every JSON artefact for
machines; and the executive summary is printed to PDF by the local Chromium (:mod:`prodready.pdf`).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prodready.errors import CaseFileError, ParameterError, ProdreadyError
from prodready.files import TEMP_PREFIX, claim_folder, file_sha256, save_json, write_atomic
from prodready.kernels import WarmKernels, execute
from prodready.notebooks import (
    AUDIT_FILES,
    RESERVED_PARAMETERS,
    check_parameters,
    declared_parameters,
    notebook_parameters,
    report_notebooks,
)
from prodready.report_pages import FOOTER_CLASS, Footer, finish_footers, notebook_json, to_html

if TYPE_CHECKING:  # heavy imports stay out of `import prodready.report` (notebooks import it)
    import nbformat

__all__ = [  # the report's API; parameters, pages and files live in their own modules
    "FOOTER_CLASS",
    "RESERVED_PARAMETERS",
    "NotebookFailed",
    "NotebookReport",
    "NotebookStep",
    "ReportResult",
    "case_hashes",
    "check_parameters",
    "file_sha256",
    "notebook_parameters",
    "prepare_out_dir",
    "report_notebooks",
    "run_report",
    "save_json",
    "to_html",
    "write_atomic",
    "write_results",
]

EXECUTIVE_SUFFIX = ".executive.html"
FAILED_SUFFIX = ".failed.ipynb"
RESULTS_FILE = "results.json"
PDF_FILE = "executive_summary.pdf"
PDF_NOTEBOOK = "05_executive_summary"  # its executive page is printed to PDF_FILE
# a notebook declaring this reads the audits the run's earlier notebooks wrote (the executive
# summary: the skew audit alone is half of its time), when this run wrote them
REUSE_AUDITS = "reuse_audits"


class NotebookFailed(ProdreadyError):
    """A report notebook raised an error in one of its cells."""


@dataclass(frozen=True)
class NotebookStep:
    """Progress of one notebook: sent when it starts (``seconds`` None) and when it is done."""

    index: int  # 1-based
    total: int
    notebook: str
    seconds: float | None = None

    @property
    def done(self) -> bool:
        return self.seconds is not None


@dataclass(frozen=True)
class NotebookReport:
    """The files written for one notebook."""

    notebook: str
    executed: Path
    html: Path
    executive_html: Path | None
    artefacts: tuple[Path, ...]
    seconds: float  # the whole step: kernel + execution + conversion + writes
    kernel_seconds: float = 0.0  # waiting for the kernel, papermill outside the cells, shutdown
    execute_seconds: float = 0.0  # the cells running in the kernel
    convert_seconds: float = 0.0  # nbconvert: the HTML pages (and the executed .ipynb)

    @property
    def files(self) -> tuple[Path, ...]:
        own = (self.executed, self.html, self.executive_html)
        return tuple(p for p in own if p is not None) + self.artefacts


@dataclass(frozen=True)
class ReportResult:
    """What a report run wrote, notebook by notebook, with what made it and how long it took."""

    case_path: Path | None  # None: the bundled sample case
    out_dir: Path
    seed: int
    notebooks: tuple[NotebookReport, ...]
    results_json: Path | None = None
    pdf: Path | None = None
    parameters: dict[str, Any] = field(default_factory=dict)  # the validated overrides
    data_hashes: dict[str, str] = field(default_factory=dict)  # file name -> sha256
    sizes: dict[str, int] = field(default_factory=dict)  # file name -> bytes
    seconds: float = 0.0  # wall time of the whole run
    started: str = ""  # UTC start, ISO 8601

    @property
    def files(self) -> tuple[Path, ...]:
        own = tuple(path for nb in self.notebooks for path in nb.files)
        return own + tuple(p for p in (self.results_json, self.pdf) if p is not None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "case_path": str(self.case_path) if self.case_path else None,
            "out_dir": str(self.out_dir),
            "seed": self.seed,
            "parameters": self.parameters,
            "data_hashes": self.data_hashes,
            "started": self.started,
            "seconds": round(self.seconds, 3),
            "results_json": str(self.results_json) if self.results_json else None,
            "pdf": str(self.pdf) if self.pdf else None,
            "files": [str(p) for p in self.files],
            "sizes": self.sizes,
            "notebooks": [
                {
                    "notebook": nb.notebook,
                    "executed": str(nb.executed),
                    "html": str(nb.html),
                    "executive_html": str(nb.executive_html) if nb.executive_html else None,
                    "artefacts": [str(p) for p in nb.artefacts],
                    "seconds": round(nb.seconds, 3),
                    "kernel_seconds": round(nb.kernel_seconds, 3),
                    "execute_seconds": round(nb.execute_seconds, 3),
                    "convert_seconds": round(nb.convert_seconds, 3),
                }
                for nb in self.notebooks
            ],
        }


# -- public API ---------------------------------------------------------------------------------


def case_hashes(case_path: str | Path | None) -> dict[str, str]:
    """File name -> full sha256 of the case file and of every data file it names.

    Reads the case file's YAML only (not the data), so it is cheap enough to decide whether a
    report is up to date. Data files are named relative to the case's folder; a glob gives one
    entry per file it matches.
    None (or empty) is the bundled sample case.
    """
    from prodready.case import _find_case_file, _shown, _validate_spec, data_files
    from prodready.data.yaml_file import read_yaml_mapping

    if case_path is None or str(case_path).strip() == "":
        from prodready.resources import sample_dir
        from prodready.samples import CASE_FILE

        case_file = sample_dir("card_fraud") / CASE_FILE
    else:
        case_file = _find_case_file(Path(case_path).expanduser())
    case_file = case_file.resolve()
    hashes = {case_file.name: file_sha256(case_file)}
    try:
        raw, text = read_yaml_mapping(
            case_file, kind="case file", error=CaseFileError, expected="", fix=""
        )
    except CaseFileError:
        return hashes  # load_case gives the clear error; the case file's hash still tells
    spec = _validate_spec(raw, where=str(case_file), text=text)
    for files in data_files(case_file, spec).values():  # a glob: every file it matches
        for data in files:
            if data.is_file():
                hashes[_shown(data, case_file)] = file_sha256(data)
    return hashes


def run_report(
    case_path: str | Path | None,
    out_dir: str | Path,
    *,
    seed: int = 0,
    executive: bool = True,
    progress: Callable[[NotebookStep], None] | None = None,
    notebooks: Iterable[Path] | None = None,
    parameters: Mapping[str, Any] | None = None,
    pdf: bool = True,
) -> ReportResult:
    """Execute the report notebooks on one case and write their files into ``out_dir``.

    ``case_path`` None (or empty) runs on the bundled sample case. The case and ``parameters``
    are checked here first, so a bad case, an unknown parameter or a missing Chromium (``pdf``)
    fails with its clear message before any kernel starts. Each notebook receives the parameters
    it declares. A notebook whose cell raises gives :class:`NotebookFailed` naming the notebook,
    the cell and the error; its executed copy (error included) is kept as
    ``NN_name.failed.ipynb`` for debugging. After the notebooks: ``results.json`` and, with
    ``pdf`` and the executive summary run, ``executive_summary.pdf``.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ParameterError(
            "the seed must be a whole number of zero or more",
            found=repr(seed),
            fix="pass e.g. --seed 0",
        )
    case_file = _check_case(case_path)
    paths = list(notebooks) if notebooks is not None else report_notebooks()
    overrides: dict[str, Any] = {}
    if parameters:  # (inspecting the notebooks imports papermill: only when there is a need)
        known = list(dict.fromkeys([*report_notebooks(), *paths]))  # a subset takes every name
        overrides = check_parameters(parameters, where="report parameters", notebooks=known)
    make_pdf = pdf and executive and any(p.stem == PDF_NOTEBOOK for p in paths)
    if make_pdf:
        from prodready.pdf import find_chromium

        find_chromium()  # no Chromium: say so now, not after minutes of notebooks
    hashes = case_hashes(case_file)
    out = prepare_out_dir(Path(out_dir))
    with claim_folder(out):  # one run at a time; a killed run's temporary files go
        clock = time.perf_counter()
        started = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        footer = Footer(hashes, overrides, seed, started)
        with WarmKernels(out, len(paths)) as kernels:
            reports = _run_notebooks(
                paths,
                out,
                kernels,
                case_file=case_file,
                seed=seed,
                executive=executive,
                overrides=overrides,
                footer=footer,
                progress=progress,
            )
        results_path = write_results(
            out / RESULTS_FILE,
            reports,
            case_file=case_file,
            data_hashes=hashes,
            parameters=overrides,
            seed=seed,
        )
        pages = [p for nb in reports for p in (nb.html, nb.executive_html) if p is not None]
        finish_footers(pages, footer, time.perf_counter() - clock)
        pdf_path = None
        if make_pdf:
            from prodready.pdf import html_to_pdf

            pdf_path = html_to_pdf(out / f"{PDF_NOTEBOOK}{EXECUTIVE_SUFFIX}", out / PDF_FILE)
        files = [p for nb in reports for p in nb.files] + [results_path]
        files += [pdf_path] if pdf_path else []
        return ReportResult(
            case_path=case_file,
            out_dir=out,
            seed=seed,
            notebooks=tuple(reports),
            results_json=results_path,
            pdf=pdf_path,
            parameters=overrides,
            data_hashes=hashes,
            sizes={p.name: p.stat().st_size for p in files},
            seconds=time.perf_counter() - clock,
            started=started,
        )


def _run_notebooks(
    paths: Sequence[Path],
    out: Path,
    kernels: WarmKernels,
    *,
    case_file: Path | None,
    seed: int,
    executive: bool,
    overrides: Mapping[str, Any],
    footer: Footer,
    progress: Callable[[NotebookStep], None] | None,
) -> list[NotebookReport]:
    reports = []
    written: set[Path] = set()  # every file this run has written so far
    for index, notebook in enumerate(paths, start=1):
        if progress:
            progress(NotebookStep(index, len(paths), notebook.name))
        step_start = time.perf_counter()
        before = _snapshot(out)
        declared = _declared(notebook)
        given = {k: v for k, v in overrides.items() if k in declared}
        if REUSE_AUDITS in declared:
            given[REUSE_AUDITS] = _audits_written(out, written)
        ran = _run_one(
            notebook,
            out,
            kernels,
            case_file=case_file,
            seed=seed,
            executive=executive,
            parameters=given,
            footer=footer,
        )
        own = {ran.executed, ran.html, ran.executive_html}
        changed = _changed(out, before)
        written.update(changed)
        artefacts = tuple(p for p in changed if p not in own)
        seconds = time.perf_counter() - step_start
        reports.append(
            NotebookReport(
                notebook.name,
                ran.executed,
                ran.html,
                ran.executive_html,
                artefacts,
                seconds,
                kernel_seconds=ran.kernel_seconds,
                execute_seconds=ran.execute_seconds,
                convert_seconds=ran.convert_seconds,
            )
        )
        if progress:
            progress(NotebookStep(index, len(paths), notebook.name, seconds))
    return reports


def write_results(
    path: Path,
    notebooks: Sequence[NotebookReport],
    *,
    case_file: Path | None,
    data_hashes: Mapping[str, str],
    parameters: Mapping[str, Any],
    seed: int,
) -> Path:
    """``results.json``: every JSON artefact the notebooks wrote, keyed by file stem, for machines.

    Holds no time or output path, so the same case, parameters and seed give the same file.
    """
    import prodready

    results = {}
    for nb in notebooks:
        for artefact in nb.artefacts:
            if artefact.suffix == ".json" and artefact.parent == path.parent:
                results[artefact.stem] = json.loads(artefact.read_text(encoding="utf-8"))
    data = {
        "prodready_version": prodready.__version__,
        "case": str(case_file) if case_file else None,
        "data_hashes": dict(data_hashes),
        "parameters": dict(parameters),
        "seed": seed,
        "results": results,
    }
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False)
    return write_atomic(path, text + "\n")


# -- internals ----------------------------------------------------------------------------------


def _check_case(case_path: str | Path | None) -> Path | None:
    """Load the case once so a bad path or file fails here; return it absolute."""
    from prodready.case import load_case

    if case_path is None or str(case_path).strip() == "":
        return None
    path = Path(case_path).expanduser().resolve()
    case = load_case(path)
    return case.path.resolve() if case.path is not None else path


def prepare_out_dir(out: Path) -> Path:
    out = out.expanduser().resolve()
    if out.exists() and not out.is_dir():
        raise ParameterError(
            "the output folder is a file",
            where=str(out),
            fix="pass a folder for --out (it is created when missing)",
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(prefix=TEMP_PREFIX, dir=out):
            pass  # can we create files here?
    except OSError as exc:
        raise ParameterError(
            "cannot write to the output folder",
            where=str(out),
            found=exc.strerror or str(exc),
            fix="choose a folder you can write to with --out",
        ) from None
    return out


@dataclass(frozen=True)
class _Ran:
    executed: Path
    html: Path
    executive_html: Path | None
    kernel_seconds: float
    execute_seconds: float
    convert_seconds: float


def _run_one(
    notebook: Path,
    out: Path,
    kernels: WarmKernels,
    *,
    case_file: Path | None,
    seed: int,
    executive: bool,
    parameters: Mapping[str, Any] | None = None,
    footer: Footer | None = None,
) -> _Ran:
    started = time.perf_counter()  # importing papermill counts as kernel overhead too
    from papermill.exceptions import PapermillExecutionError

    stem = notebook.stem
    given = {"case_path": str(case_file or ""), "output_dir": str(out), "seed": seed}
    given.update(parameters or {})
    # papermill saves as it goes (and, on failure, with the error marked) to a hidden temporary
    # file; only a finished notebook is renamed into view.
    fd, temp_name = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{stem}-", suffix=".ipynb", dir=out)
    os.close(fd)
    temp = Path(temp_name)
    try:
        manager, waited = kernels.take()
        executed = execute(notebook, temp, manager=manager, parameters=given, cwd=out)
    except PapermillExecutionError as exc:
        failed = out / f"{stem}{FAILED_SUFFIX}"
        os.replace(temp, failed)
        first_line = next((line for line in exc.source.splitlines() if line.strip()), "")
        raise NotebookFailed(
            f"the report notebook failed in cell [{exc.exec_count}] ({first_line.strip()!r}): "
            f"{exc.ename}: {exc.evalue}",
            where=notebook.name,
            fix="correct the input named in the error; if the case is fine, this is a bug in "
            "prodready: please report it with the executed notebook, which shows the error, "
            f"in {failed}",
        ) from None
    except Exception as exc:  # kernel failed to start, notebook unreadable, ...
        raise NotebookFailed(
            f"the report notebook could not run: {type(exc).__name__}: {exc}",
            where=notebook.name,
            fix="check that ipykernel is installed in the same environment as prodready "
            f"({sys.executable}); if the kernel did not respond in time, the machine was too "
            "busy: run the report again, or a batch with fewer --jobs",
        ) from None
    finally:
        temp.unlink(missing_ok=True)
    # kernel time: waiting for the warm kernel, then papermill outside the cells (connecting,
    # shutting down, saving the executed notebook)
    papermill_seconds = time.perf_counter() - started - waited
    execute_seconds = min(_cells_seconds(executed), papermill_seconds)

    converting = time.perf_counter()
    executed_path = write_atomic(out / notebook.name, notebook_json(executed))
    title = f"{stem} report"
    page = to_html(executed, title=title)
    html_path = write_atomic(out / f"{stem}.html", footer.add(page) if footer else page)
    executive_path = None
    if executive:
        page = to_html(executed, executive=True, title=title)
        executive_path = write_atomic(
            out / f"{stem}{EXECUTIVE_SUFFIX}", footer.add(page) if footer else page
        )
    (out / f"{stem}{FAILED_SUFFIX}").unlink(missing_ok=True)  # an old failure no longer applies
    return _Ran(
        executed_path,
        html_path,
        executive_path,
        kernel_seconds=waited + papermill_seconds - execute_seconds,
        execute_seconds=execute_seconds,
        convert_seconds=time.perf_counter() - converting,
    )


def _cells_seconds(nb: nbformat.NotebookNode) -> float:
    """Seconds the cells ran, from papermill's per-cell timings."""
    total = 0.0
    for cell in nb.cells:
        duration = cell.get("metadata", {}).get("papermill", {}).get("duration")
        if isinstance(duration, int | float):
            total += float(duration)
    return total


def _declared(notebook: Path) -> dict[str, str]:
    """The notebook's parameters; none for one papermill cannot read, which then fails in
    :func:`_run_one` with the report's own message naming it."""
    try:
        return declared_parameters(notebook)
    except Exception:  # papermill raises its own types (e.g. NotJSONError) and OSError
        return {}


def _audits_written(out: Path, written: set[Path]) -> bool:
    """Whether a notebook may read the audits' JSON in ``out`` instead of running them again:
    some are there, and this run wrote each of them (none was left by a run on another case)."""
    present = [out / name for name in AUDIT_FILES.values() if (out / name).is_file()]
    return bool(present) and all(path in written for path in present)


def _snapshot(folder: Path) -> dict[Path, tuple[int, int]]:
    return {
        p: (p.stat().st_mtime_ns, p.stat().st_size)
        for p in folder.rglob("*")
        if p.is_file() and not p.name.startswith(TEMP_PREFIX)
    }


def _changed(folder: Path, before: dict[Path, tuple[int, int]]) -> list[Path]:
    after = _snapshot(folder)
    return sorted(p for p, stamp in after.items() if before.get(p) != stamp)
