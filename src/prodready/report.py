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

import difflib
import functools
import hashlib
import html
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prodready.errors import CaseFileError, ParameterError, ProdreadyError
from prodready.kernels import WarmKernels, execute
from prodready.resources import notebooks_dir

if TYPE_CHECKING:  # heavy imports stay out of `import prodready.report` (notebooks import it)
    import nbformat

NOTEBOOK_NAME = re.compile(r"^\d{2}_[A-Za-z0-9_]+\.ipynb$")
EXECUTIVE_SUFFIX = ".executive.html"
FAILED_SUFFIX = ".failed.ipynb"
RESULTS_FILE = "results.json"
PDF_FILE = "executive_summary.pdf"
PDF_NOTEBOOK = "05_executive_summary"  # its executive page is printed to PDF_FILE
RESERVED_PARAMETERS = ("case_path", "output_dir", "seed")  # run_report sets these itself
FOOTER_CLASS = "prodready-footer"
_TEMP_PREFIX = ".prodready-"
_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (float, int),  # an int is a fine float (bool is refused separately)
    "bool": (bool,),
}

# External scripts nbconvert's lab template (require.js, MathJax) and plotly's notebook renderer
# (MathJax, one per figure) add. The report needs none of them; offline they would block the page.
_EXTERNAL_SCRIPT = re.compile(
    r"""<script\b[^>]*\bsrc\s*=\s*["']https?://[^"']*["'][^>]*>\s*</script>""", re.IGNORECASE
)
_PLOT_DIV = re.compile(r"<div\b[^>]*\bplotly-graph-div\b[^>]*>")
_ID_ATTRIBUTE = re.compile(r'\bid="([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"')


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
def report_notebooks(directory: Path | None = None) -> list[Path]:
    """The notebooks a report runs, in order: ``NN_name.ipynb`` files of the notebooks folder."""
    folder = directory or notebooks_dir()
    found = sorted(p for p in folder.iterdir() if p.is_file() and NOTEBOOK_NAME.match(p.name))
    if not found:
        raise ProdreadyError(
            "there are no report notebooks",
            where=str(folder),
            expected="notebooks named like 00_case_overview.ipynb",
            fix="reinstall prodready, or run from a full checkout",
        )
    return found


def notebook_parameters(notebooks: Iterable[Path] | None = None) -> dict[str, str]:
    """Every parameter the report notebooks declare -> its type name as papermill infers it.

    The names come from the notebooks' ``parameters`` cells, so a new parameter in a notebook is
    accepted everywhere (CLI, batch files) without a list to keep in step.
    """
    paths = tuple(notebooks) if notebooks is not None else tuple(report_notebooks())
    found: dict[str, str] = {}
    for path in paths:
        for name, type_name in _declared(Path(path)).items():
            found.setdefault(name, type_name)
    return dict(sorted(found.items()))


def check_parameters(
    parameters: Mapping[str, Any],
    *,
    where: str,
    allowed_folders: Sequence[Path] | None = None,
    notebooks: Iterable[Path] | None = None,
) -> dict[str, Any]:
    """A validated copy of notebook parameter overrides, checked before any kernel starts.

    Refuses names no notebook declares, the names ``run_report`` sets itself, values of the wrong
    type (bool is not int; an int is accepted for a float and made one), and ``*_path`` values
    that do not exist or lie outside every ``allowed_folders`` (resolved, symlinks followed;
    None: anywhere). Paths come back absolute, since the kernels run in the output folder.
    """
    if not isinstance(parameters, Mapping):
        raise ParameterError(
            "the parameters are not a mapping",
            where=where,
            expected="name: value pairs, e.g. {replays: 200}",
            found=f"{type(parameters).__name__}: {str(parameters)[:80]!r}",
            fix="write the parameters as a mapping of names to values",
        )
    declared = notebook_parameters(notebooks)
    valid = [name for name in declared if name not in RESERVED_PARAMETERS]
    checked: dict[str, Any] = {}
    for name, value in parameters.items():
        if name in RESERVED_PARAMETERS:
            raise ParameterError(
                f"the parameter {name!r} cannot be set here",
                where=where,
                found=f"{name}: {value!r}",
                fix="remove it: the report sets case_path, output_dir and seed itself "
                "(give the case with --case or a batch file's case:, the seed with --seed or "
                "seed:)",
            )
        if name not in declared:
            close = difflib.get_close_matches(str(name), valid, n=3, cutoff=0.6)
            hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
            raise ParameterError(
                f"no report notebook has a parameter named {name!r}",
                where=where,
                expected=f"one of {', '.join(valid)}",
                found=repr(name),
                fix=f"{hint}correct or remove the name",
            )
        checked[name] = _checked_value(name, value, declared[name], where, allowed_folders)
    return dict(sorted(checked.items()))


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
    clock = time.perf_counter()
    started = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    footer = _Footer(hashes, overrides, seed, started)
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
    _finish_footers(pages, footer, time.perf_counter() - clock)
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
    footer: _Footer,
    progress: Callable[[NotebookStep], None] | None,
) -> list[NotebookReport]:
    reports = []
    for index, notebook in enumerate(paths, start=1):
        if progress:
            progress(NotebookStep(index, len(paths), notebook.name))
        step_start = time.perf_counter()
        before = _snapshot(out)
        declared = _declared(notebook) if overrides else {}
        given = {k: v for k, v in overrides.items() if k in declared}
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
        artefacts = tuple(p for p in _changed(out, before) if p not in own)
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


def save_json(data: Any, output_dir: str | Path, name: str) -> Path:
    """Write ``data`` as indented JSON to ``output_dir/name`` atomically (creating the folder).

    Notebooks write their artefacts with this, so a report's JSON is never half-written.
    """
    folder = Path(output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    return write_atomic(folder / name, text)


def write_atomic(path: Path, data: str | bytes) -> Path:
    """Write to a temporary file beside ``path``, then rename it over ``path``."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, temp = tempfile.mkstemp(prefix=_TEMP_PREFIX, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path


def to_html(nb: nbformat.NotebookNode, *, executive: bool = False, title: str | None = None) -> str:
    """A self-contained HTML page of an executed notebook.

    Plotly output must come from the ``notebook`` renderer (plotly.js inlined once). External
    scripts are dropped and plot ids made deterministic, so the page renders offline and the same
    run gives the same bytes. ``executive`` hides code, prompts and stderr (warnings).
    """
    import nbformat

    exporter = _exporter(executive)
    if executive:
        nb = _without_stderr(nb)
    resources = {"metadata": {"name": title}} if title else None
    body, _ = exporter.from_notebook_node(nbformat.from_dict(nb), resources=resources)
    return _deterministic_plot_ids(_EXTERNAL_SCRIPT.sub("", body))


# -- internals ----------------------------------------------------------------------------------
@functools.cache
def _exporter(executive: bool) -> Any:
    """One HTML exporter per kind, kept: building one loads and compiles its Jinja templates
    (a fifth of a second, every page otherwise)."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab")
    if executive:
        exporter.exclude_input = True
        exporter.exclude_input_prompt = True
        exporter.exclude_output_prompt = True
    return exporter


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
        with tempfile.TemporaryFile(prefix=_TEMP_PREFIX, dir=out):
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
    footer: _Footer | None = None,
) -> _Ran:
    started = time.perf_counter()  # importing papermill counts as kernel overhead too
    from papermill.exceptions import PapermillExecutionError

    stem = notebook.stem
    given = {"case_path": str(case_file or ""), "output_dir": str(out), "seed": seed}
    given.update(parameters or {})
    # papermill saves as it goes (and, on failure, with the error marked) to a hidden temporary
    # file; only a finished notebook is renamed into view.
    fd, temp_name = tempfile.mkstemp(prefix=f"{_TEMP_PREFIX}{stem}-", suffix=".ipynb", dir=out)
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
            f"({sys.executable})",
        ) from None
    finally:
        temp.unlink(missing_ok=True)
    # kernel time: waiting for the warm kernel, then papermill outside the cells (connecting,
    # shutting down, saving the executed notebook)
    papermill_seconds = time.perf_counter() - started - waited
    execute_seconds = min(_cells_seconds(executed), papermill_seconds)

    converting = time.perf_counter()
    executed_path = write_atomic(out / notebook.name, _ipynb(executed))
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


@functools.lru_cache(maxsize=64)
def _declared_cached(path: str, mtime_ns: int) -> tuple[tuple[str, str], ...]:
    import papermill

    inferred = papermill.inspect_notebook(path)
    return tuple((name, str(p.get("inferred_type_name") or "None")) for name, p in inferred.items())


def _declared(notebook: Path) -> dict[str, str]:
    """The parameters one notebook declares: name -> papermill's inferred type name."""
    path = Path(notebook)
    return dict(_declared_cached(str(path.resolve()), path.stat().st_mtime_ns))


def _checked_value(
    name: str,
    value: Any,
    type_name: str,
    where: str,
    allowed_folders: Sequence[Path] | None,
) -> Any:
    accepted = _PYTHON_TYPES.get(type_name)
    if accepted is not None:
        wrong_bool = isinstance(value, bool) and type_name != "bool"
        if wrong_bool or not isinstance(value, accepted):
            raise ParameterError(
                f"the parameter {name!r} has the wrong type",
                where=where,
                expected=f"{_TYPE_WORDS.get(type_name, type_name)}",
                found=f"{type(value).__name__} {value!r}",
                fix=f"give {name} {_TYPE_EXAMPLES.get(type_name, 'a value of that type')}",
            )
        if type_name == "float":
            value = float(value)
    if name.endswith("_path") and isinstance(value, str) and value.strip():
        value = str(_checked_path(name, value, where, allowed_folders))
    return value


_TYPE_WORDS = {
    "str": "text (str)",
    "int": "a whole number (int)",
    "float": "a number (float)",
    "bool": "true or false (bool)",
}
_TYPE_EXAMPLES = {
    "str": 'text, e.g. "90D" (quote it in YAML when it looks like a number)',
    "int": "a whole number without quotes or a decimal point, e.g. 200",
    "float": "a number without quotes, e.g. 2000.0",
    "bool": "true or false without quotes",
}


def _checked_path(
    name: str, value: str, where: str, allowed_folders: Sequence[Path] | None
) -> Path:
    path = Path(value).expanduser().resolve()  # symlinks followed: a link cannot lead outside
    if allowed_folders is not None:
        folders = [Path(f).expanduser().resolve() for f in allowed_folders]
        if not any(path.is_relative_to(folder) for folder in folders):
            raise ParameterError(
                f"the parameter {name!r} points outside the allowed folders",
                where=where,
                expected="a file inside " + ", ".join(str(f) for f in folders),
                found=f"{value} (resolved: {path})",
                fix="move the file into an allowed folder, or add its folder to allowed_folders",
            )
    if not path.is_file():
        raise ParameterError(
            f"the file of parameter {name!r} does not exist",
            where=where,
            found=str(path),
            fix="check the path (a relative path is taken from the batch file's folder or the "
            "current folder)",
        )
    return path


def file_sha256(path: Path) -> str:
    """Full sha256 of a file, read in 1 MiB blocks (data files can be large)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _Footer:
    """The footer every HTML page ends with: what made the page, all text escaped."""

    def __init__(
        self, hashes: Mapping[str, str], parameters: Mapping[str, Any], seed: int, started: str
    ) -> None:
        import prodready

        self.version = prodready.__version__
        self.hashes = dict(hashes)
        self.parameters = {**parameters, "seed": seed}
        self.started = started

    def html(self, duration: float | None) -> str:
        hashes = ", ".join(
            f"<code>{digest[:12]}</code> {html.escape(name)}"
            for name, digest in self.hashes.items()
        )
        parameters = ", ".join(
            f"{html.escape(name)}={html.escape(json.dumps(value, ensure_ascii=False))}"
            for name, value in self.parameters.items()
        )
        took = f"{duration:.1f} s" if duration is not None else "running"
        return (
            f'<footer class="{FOOTER_CLASS}" style="margin:2em 1em 1em;padding-top:.5em;'
            'border-top:1px solid #ccc;color:#555;font:12px/1.5 sans-serif">'
            f"<div>Made by prodready {html.escape(self.version)}.</div>"
            f"<div>Data (sha256): {hashes}.</div>"
            f"<div>Parameters: {parameters} (other parameters: the notebooks' defaults).</div>"
            f"<div>Run started {html.escape(self.started)} UTC; run time "
            f'<span class="prodready-run-time">{took}</span>.</div>'
            "</footer>"
        )

    def add(self, page: str, duration: float | None = None) -> str:
        """The page with the footer just before ``</body>`` (or appended)."""
        at = page.rfind("</body>")
        footer = self.html(duration) + "\n"
        return page[:at] + footer + page[at:] if at >= 0 else page + footer


_RUN_TIME = re.compile(r'<span class="prodready-run-time">running</span>')


def _finish_footers(pages: Sequence[Path], footer: _Footer, duration: float) -> None:
    """Put the whole run's duration into the footers written while it was running."""
    done = f'<span class="prodready-run-time">{duration:.1f} s</span>'
    for page in pages:
        text = page.read_text(encoding="utf-8")
        at = text.rfind(f'<footer class="{FOOTER_CLASS}"')
        if at >= 0:
            text = text[:at] + _RUN_TIME.sub(done, text[at:], count=1)
            write_atomic(page, text)


def _ipynb(nb: nbformat.NotebookNode) -> str:
    import nbformat

    for cell in nb.cells:  # papermill gives its injected cell a random id; keep reruns alike
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            cell["id"] = "injected-parameters"
    return nbformat.writes(nb)


def _without_stderr(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    import copy

    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            cell["outputs"] = [
                o
                for o in cell.get("outputs", [])
                if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
            ]
    return nb


def _deterministic_plot_ids(html: str) -> str:
    """Replace plotly's random div ids (uuid4) by ``plot-1``, ``plot-2``... in page order."""
    ids = [m.group(1) for div in _PLOT_DIV.findall(html) if (m := _ID_ATTRIBUTE.search(div))]
    for number, plot_id in enumerate(dict.fromkeys(ids), start=1):
        html = html.replace(plot_id, f"plot-{number}")
    return html


def _snapshot(folder: Path) -> dict[Path, tuple[int, int]]:
    return {
        p: (p.stat().st_mtime_ns, p.stat().st_size)
        for p in folder.rglob("*")
        if p.is_file() and not p.name.startswith(_TEMP_PREFIX)
    }


def _changed(folder: Path, before: dict[Path, tuple[int, int]]) -> list[Path]:
    after = _snapshot(folder)
    return sorted(p for p, stamp in after.items() if before.get(p) != stamp)
