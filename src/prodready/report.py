"""Run the parameterised notebooks for one case and write the report files.

For every notebook named ``NN_*.ipynb`` in :func:`prodready.resources.notebooks_dir` this writes,
into the output folder: the executed notebook, an HTML page (code shown) and, optionally, an
executive HTML page (no code). Both pages embed plotly.js and load nothing from the network, so
they open on a laptop without internet. Every file is written to a temporary name in the output
folder and renamed into place, so a failed run never leaves a half-written file behind.

The kernel is always the Python running prodready (not whatever a user's ``python3``
kernelspec points at), so the notebooks import the same prodready as the command.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prodready.errors import ParameterError, ProdreadyError
from prodready.resources import notebooks_dir

if TYPE_CHECKING:  # heavy imports stay out of `import prodready.report` (notebooks import it)
    import nbformat

NOTEBOOK_NAME = re.compile(r"^\d{2}_[A-Za-z0-9_]+\.ipynb$")
KERNEL_NAME = "python3"  # the name in the notebooks' metadata; resolved to sys.executable below
EXECUTIVE_SUFFIX = ".executive.html"
FAILED_SUFFIX = ".failed.ipynb"
_TEMP_PREFIX = ".prodready-"

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
    seconds: float

    @property
    def files(self) -> tuple[Path, ...]:
        own = (self.executed, self.html, self.executive_html)
        return tuple(p for p in own if p is not None) + self.artefacts


@dataclass(frozen=True)
class ReportResult:
    """What a report run wrote, notebook by notebook."""

    case_path: Path | None  # None: the bundled sample case
    out_dir: Path
    seed: int
    notebooks: tuple[NotebookReport, ...]

    @property
    def files(self) -> tuple[Path, ...]:
        return tuple(path for nb in self.notebooks for path in nb.files)

    def to_dict(self) -> dict[str, Any]:
        return {
            "case_path": str(self.case_path) if self.case_path else None,
            "out_dir": str(self.out_dir),
            "seed": self.seed,
            "files": [str(p) for p in self.files],
            "notebooks": [
                {
                    "notebook": nb.notebook,
                    "executed": str(nb.executed),
                    "html": str(nb.html),
                    "executive_html": str(nb.executive_html) if nb.executive_html else None,
                    "artefacts": [str(p) for p in nb.artefacts],
                    "seconds": round(nb.seconds, 3),
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


def run_report(
    case_path: str | Path | None,
    out_dir: str | Path,
    *,
    seed: int = 0,
    executive: bool = True,
    progress: Callable[[NotebookStep], None] | None = None,
    notebooks: Iterable[Path] | None = None,
) -> ReportResult:
    """Execute the report notebooks on one case and write their files into ``out_dir``.

    ``case_path`` None (or empty) runs on the bundled sample case. The case is loaded once here
    first, so a bad case fails with its clear message before any kernel starts. A notebook whose
    cell raises gives :class:`NotebookFailed` naming the notebook, the cell and the error; its
    executed copy (error included) is kept as ``NN_name.failed.ipynb`` for debugging.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ParameterError(
            "the seed must be a whole number of zero or more",
            found=repr(seed),
            fix="pass e.g. --seed 0",
        )
    case_file = _check_case(case_path)
    out = _prepare_out_dir(Path(out_dir))
    paths = list(notebooks) if notebooks is not None else report_notebooks()
    reports = []
    for index, notebook in enumerate(paths, start=1):
        if progress:
            progress(NotebookStep(index, len(paths), notebook.name))
        started = time.perf_counter()
        before = _snapshot(out)
        executed, html, executive_html = _run_one(
            notebook, out, case_file=case_file, seed=seed, executive=executive
        )
        own = {executed, html, executive_html}
        artefacts = tuple(p for p in _changed(out, before) if p not in own)
        seconds = time.perf_counter() - started
        reports.append(
            NotebookReport(notebook.name, executed, html, executive_html, artefacts, seconds)
        )
        if progress:
            progress(NotebookStep(index, len(paths), notebook.name, seconds))
    return ReportResult(case_file, out, seed, tuple(reports))


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
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab")
    if executive:
        exporter.exclude_input = True
        exporter.exclude_input_prompt = True
        exporter.exclude_output_prompt = True
        nb = _without_stderr(nb)
    resources = {"metadata": {"name": title}} if title else None
    body, _ = exporter.from_notebook_node(nbformat.from_dict(nb), resources=resources)
    return _deterministic_plot_ids(_EXTERNAL_SCRIPT.sub("", body))


# -- internals ----------------------------------------------------------------------------------
def _check_case(case_path: str | Path | None) -> Path | None:
    """Load the case once so a bad path or file fails here; return it absolute."""
    from prodready.case import load_case

    if case_path is None or str(case_path).strip() == "":
        return None
    path = Path(case_path).expanduser().resolve()
    case = load_case(path)
    return case.path.resolve() if case.path is not None else path


def _prepare_out_dir(out: Path) -> Path:
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


def _run_one(
    notebook: Path, out: Path, *, case_file: Path | None, seed: int, executive: bool
) -> tuple[Path, Path, Path | None]:
    import papermill
    from papermill.exceptions import PapermillExecutionError

    stem = notebook.stem
    parameters = {"case_path": str(case_file or ""), "output_dir": str(out), "seed": seed}
    # papermill saves as it goes (and, on failure, with the error marked) to a hidden temporary
    # file; only a finished notebook is renamed into view.
    fd, temp_name = tempfile.mkstemp(prefix=f"{_TEMP_PREFIX}{stem}-", suffix=".ipynb", dir=out)
    os.close(fd)
    temp = Path(temp_name)
    try:
        executed = papermill.execute_notebook(
            str(notebook),
            str(temp),
            parameters=parameters,
            kernel_name=KERNEL_NAME,
            kernel_manager_class=_this_python_kernel_manager(),
            progress_bar=False,
            cwd=str(out),  # a stray relative path lands in the report folder, not site-packages
        )
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

    executed_path = write_atomic(out / notebook.name, _ipynb(executed))
    title = f"{stem} report"
    html_path = write_atomic(out / f"{stem}.html", to_html(executed, title=title))
    executive_path = None
    if executive:
        executive_path = write_atomic(
            out / f"{stem}{EXECUTIVE_SUFFIX}", to_html(executed, executive=True, title=title)
        )
    (out / f"{stem}{FAILED_SUFFIX}").unlink(missing_ok=True)  # an old failure no longer applies
    return executed_path, html_path, executive_path


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


_KERNEL_MANAGER: type | None = None


def _this_python_kernel_manager() -> type:
    """A kernel manager whose ``python3`` kernel is ``sys.executable -m ipykernel_launcher``.

    jupyter_client would otherwise use the first ``python3`` kernelspec on the Jupyter path,
    which in a user's setup can be another environment without prodready. Transport encryption
    (CurveZMQ) is switched on when pyzmq supports it, which also silences ipykernel's warning.
    """
    global _KERNEL_MANAGER
    if _KERNEL_MANAGER is not None:
        return _KERNEL_MANAGER

    import zmq
    from ipykernel.kernelspec import RESOURCES, get_kernel_dict
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class ThisPythonKernelSpecManager(KernelSpecManager):
        def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
            return KernelSpec(resource_dir=RESOURCES, **get_kernel_dict())

    class ThisPythonKernelManager(AsyncKernelManager):
        @default("kernel_spec_manager")
        def _default_kernel_spec_manager(self) -> KernelSpecManager:
            return ThisPythonKernelSpecManager(data_dir=self.data_dir)

        @default("transport_encryption")
        def _default_transport_encryption(self) -> str:
            return "auto" if zmq.has("curve") else "disabled"

    _KERNEL_MANAGER = ThisPythonKernelManager
    return _KERNEL_MANAGER
