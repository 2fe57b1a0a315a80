"""Run a batch: every case's report in its own folder, in parallel, skipping what is up to date.

Each case is written by :func:`prodready.report.run_report` into a hidden sibling folder
(``.prodready-batch-<slug>``) and renamed into place only once complete, with a stamp
(``.prodready-stamp.json``) whose key covers everything the report depends on. So the output
folder holds complete reports only: an interrupted run leaves the previous complete folder (or
none) plus hidden leftovers, which the next run removes before it starts.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, fields, is_dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from queue import Empty
from typing import TYPE_CHECKING, Any

from prodready.batch.spec import Batch, BatchCase
from prodready.errors import ParameterError, ProdreadyError
from prodready.report import file_sha256, prepare_out_dir

if TYPE_CHECKING:
    import pandas as pd

    from prodready.report import NotebookStep, ReportResult

STAMP = ".prodready-stamp.json"
TEMP_PREFIX = ".prodready-batch-"  # hidden work folders in the output folder
OLD_SUFFIX = ".old"  # the previous folder, for the instant between the two renames of a swap
FAILED_SUFFIX = ".failed.ipynb"  # out/<slug>.failed.ipynb: the executed notebook that failed
INDEX = "index.html"

OK, UP_TO_DATE, FAILED = "ok", "up to date", "failed"


@dataclass(frozen=True)
class BatchStep:
    """Progress of a batch, one event per case start, notebook step and case end."""

    case: str  # the case's name
    index: int  # 1-based position of the case in the batch file
    total: int
    event: str  # "start", "notebook" or "done"
    notebook: NotebookStep | None = None  # for "notebook"
    status: str | None = None  # for "done": ok, up to date or failed
    seconds: float | None = None
    error: str | None = None


@dataclass(frozen=True)
class CaseOutcome:
    """What became of one case."""

    name: str
    slug: str
    case_path: Path
    status: str  # ok | up to date | failed
    folder: Path | None  # the complete report folder (None when there is none)
    seconds: float  # this run's time (for "up to date": the run that wrote the folder)
    error: str | None = None
    failed_notebook: str | None = None  # the notebook that raised, when one did
    failed_file: Path | None = None  # its executed copy, error marked
    finished: str | None = None  # UTC time the report was completed
    report: ReportResult | None = None  # only for the cases run now


@dataclass(frozen=True)
class BatchResult:
    """The outcome of :func:`run_batch`: one row per case, and the index page."""

    out_dir: Path
    index: Path
    outcomes: tuple[CaseOutcome, ...]
    seconds: float

    @property
    def cases(self) -> pd.DataFrame:
        """One row per case: name, status, error, folder, seconds (batch file order)."""
        import pandas as pd

        rows = [
            {
                "name": o.name,
                "status": o.status,
                "error": o.error,
                "folder": str(o.folder) if o.folder else None,
                "seconds": o.seconds,
            }
            for o in self.outcomes
        ]
        return pd.DataFrame(rows, columns=["name", "status", "error", "folder", "seconds"])

    @property
    def failed(self) -> bool:
        return any(o.status == FAILED for o in self.outcomes)

    @property
    def reports(self) -> dict[str, ReportResult]:
        """Case name -> :class:`~prodready.report.ReportResult`, for the cases run now."""
        return {o.name: o.report for o in self.outcomes if o.report is not None}


@dataclass(frozen=True)
class _Task:
    """One case to run, as sent to a worker process (picklable)."""

    case: BatchCase
    index: int
    total: int
    out_dir: Path
    key: str
    seed: int
    notebooks: tuple[Path, ...]
    executive: bool
    pdf: bool


def run_batch(
    batch: Batch,
    out_dir: str | Path,
    *,
    jobs: int = 1,
    force: bool = False,
    progress: Callable[[BatchStep], None] | None = None,
    notebooks: Iterable[Path] | None = None,
    executive: bool = True,
    pdf: bool = True,
) -> BatchResult:
    """Write every case's report under ``out_dir/<slug>/`` and ``out_dir/index.html``.

    ``jobs`` cases run at once, each in its own process running its notebooks one kernel at a
    time. A case whose stamp matches (same case files, parameters, seed, prodready version and
    notebooks) and whose files are all there is skipped unless ``force``. A case that fails is
    recorded with its error; the others complete. ``notebooks`` runs a subset (tests).
    """
    from prodready import report as report_module
    from prodready.batch.index import write_index

    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ParameterError(
            "the number of parallel jobs must be a whole number of 1 or more",
            where="--jobs",
            found=repr(jobs),
            fix="pass e.g. --jobs 2 (one per core is a good start)",
        )
    started = time.perf_counter()
    paths = tuple(
        Path(p).resolve()
        for p in (notebooks if notebooks is not None else report_module.report_notebooks())
    )
    if pdf and executive and any(p.stem == report_module.PDF_NOTEBOOK for p in paths):
        from prodready.pdf import find_chromium

        find_chromium()  # no Chromium: one message now, not one failure per case
    notebook_hashes = {p.name: file_sha256(p) for p in paths}
    out = prepare_out_dir(Path(out_dir))
    emit = progress or (lambda step: None)
    with _exclusive(out):
        _clean_leftovers(out)
        outcomes: dict[int, CaseOutcome] = {}
        tasks: list[_Task] = []
        total = len(batch.cases)
        for index, case in enumerate(batch.cases, start=1):
            try:
                _check_not_foreign(out / case.slug)
                key = _key(case, batch.seed, notebook_hashes, executive=executive, pdf=pdf)
            except Exception as error:  # a missing or unreadable case file: this case only
                outcome = _failure(case, error, 0.0)
                _remove_failed_copy(out, case.slug)
                outcomes[index] = outcome
                emit(_done_step(outcome, index, total))
                continue
            stamp = None if force else _up_to_date(out / case.slug, key)
            if stamp is not None:
                outcome = CaseOutcome(
                    case.name,
                    case.slug,
                    case.case_path,
                    UP_TO_DATE,
                    out / case.slug,
                    float(stamp.get("seconds", 0.0)),
                    finished=stamp.get("finished"),
                )
                outcomes[index] = outcome
                emit(_done_step(outcome, index, total))
                continue
            task = _Task(case, index, total, out, key, batch.seed, paths, executive, pdf)
            tasks.append(task)
        for task, outcome in _run_tasks(tasks, jobs, emit):
            outcomes[task.index] = outcome
            emit(_done_step(outcome, task.index, total))
        ordered = tuple(outcomes[i] for i in sorted(outcomes))
        seconds = time.perf_counter() - started
        index_path = write_index(out, ordered, batch=batch, seconds=seconds)
    return BatchResult(out, index_path, ordered, seconds)


# -- running cases ------------------------------------------------------------------------------
def _run_tasks(
    tasks: list[_Task], jobs: int, emit: Callable[[BatchStep], None]
) -> Iterator[tuple[_Task, CaseOutcome]]:
    """Yield each task with its outcome as it completes: in this process, or in a pool."""
    if not tasks:
        return
    if jobs == 1 or len(tasks) == 1:
        for task in tasks:
            yield task, _run_case(task, emit)
        return
    # spawn, not fork: a forked child of a process with threads (zmq, the caller's) can
    # deadlock; each worker imports prodready once and then runs its cases.
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()  # workers' progress; read here, so `emit` runs on this thread only
    pool = ProcessPoolExecutor(
        max_workers=min(jobs, len(tasks)),
        mp_context=context,
        initializer=_init_worker,
        initargs=(queue, max(1, (os.cpu_count() or 1) // jobs)),
    )
    try:
        pending: dict[Future[CaseOutcome], _Task] = {
            pool.submit(_run_case, task): task for task in tasks
        }
        while pending:
            done, _ = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            _drain(queue, emit)
            for future in done:
                task = pending.pop(future)
                try:
                    outcome = future.result()
                except Exception as error:  # the worker died (killed, out of memory)
                    outcome = _failure(
                        task.case,
                        ProdreadyError(
                            f"the process running this case stopped: {type(error).__name__}: "
                            f"{error}",
                            where=task.case.name,
                            fix="run the batch again; if it stops again, run this case alone "
                            "with prodready report --case",
                        ),
                        0.0,
                    )
                yield task, outcome
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        _drain(queue, emit)
        queue.close()


def _drain(queue: Any, emit: Callable[[BatchStep], None]) -> None:
    while True:
        try:
            step = queue.get(timeout=0.05)
        except Empty:
            return
        emit(step)


_QUEUE: Any = None  # in a worker process: where progress events go


THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _init_worker(queue: Any, threads: int) -> None:
    """Give each worker's kernels their share of the cores (unless the user chose): N kernels
    each using every core for OpenMP/BLAS (scikit-learn's gradient boosting) fight for them;
    on 2 cores with 2 jobs this took a batch from 204 s to 123 s."""
    global _QUEUE
    _QUEUE = queue
    for name in THREAD_VARIABLES:
        os.environ.setdefault(name, str(threads))  # kernels inherit this environment


def _run_case(task: _Task, emit: Callable[[BatchStep], None] | None = None) -> CaseOutcome:
    """Run one case's report into a hidden folder; on success swap it into place."""
    from prodready.report import NotebookFailed, run_report

    def send(step: BatchStep) -> None:
        if emit is not None:
            emit(step)
        elif _QUEUE is not None:
            _QUEUE.put(step)

    case, out = task.case, task.out_dir
    started = time.perf_counter()
    send(BatchStep(case.name, task.index, task.total, "start"))
    work = out / f"{TEMP_PREFIX}{case.slug}"  # fixed name: reruns show the same paths
    shutil.rmtree(work, ignore_errors=True)
    try:
        result = run_report(
            case.case_path,
            work,
            seed=task.seed,
            executive=task.executive,
            notebooks=task.notebooks,
            parameters=case.parameters,
            pdf=task.pdf,
            progress=lambda step: send(
                BatchStep(case.name, task.index, task.total, "notebook", notebook=step)
            ),
        )
    except Exception as error:  # this case fails alone; the batch goes on
        seconds = time.perf_counter() - started
        failed_file = None
        if isinstance(error, NotebookFailed):
            copies = sorted(work.glob(f"*{FAILED_SUFFIX}")) if work.is_dir() else []
            if copies:
                failed_file = out / f"{case.slug}{FAILED_SUFFIX}"
                os.replace(copies[0], failed_file)
        if failed_file is None:
            _remove_failed_copy(out, case.slug)
        shutil.rmtree(work, ignore_errors=True)
        return _failure(case, error, seconds, failed_file)
    seconds = time.perf_counter() - started
    finished = datetime.now(UTC).isoformat(timespec="seconds")
    folder = out / case.slug
    _write_stamp(work, task, seconds=seconds, finished=finished)
    _swap(work, folder)
    _remove_failed_copy(out, case.slug)
    return CaseOutcome(
        case.name,
        case.slug,
        case.case_path,
        OK,
        folder,
        seconds,
        finished=finished,
        report=_moved(result, work, folder),
    )


def _failure(
    case: BatchCase, error: BaseException, seconds: float, failed_file: Path | None = None
) -> CaseOutcome:
    from prodready.report import NotebookFailed

    if isinstance(error, ProdreadyError):
        message = str(error)
        notebook = error.where if isinstance(error, NotebookFailed) else None
    else:  # a bug: the message still goes into the index rather than stopping the batch
        message, notebook = f"{type(error).__name__}: {error}", None
    return CaseOutcome(
        case.name,
        case.slug,
        case.case_path,
        FAILED,
        None,
        seconds,
        error=message,
        failed_notebook=notebook,
        failed_file=failed_file,
    )


def _done_step(outcome: CaseOutcome, index: int, total: int) -> BatchStep:
    return BatchStep(
        outcome.name,
        index,
        total,
        "done",
        status=outcome.status,
        seconds=outcome.seconds,
        error=outcome.error,
    )


# -- up to date ---------------------------------------------------------------------------------
def _key(
    case: BatchCase, seed: int, notebook_hashes: dict[str, str], *, executive: bool, pdf: bool
) -> str:
    """sha256 over everything a report depends on; any change re-runs the case."""
    import prodready
    from prodready.report import case_hashes

    parameter_files = {  # an answers file that changes changes the report
        name: file_sha256(Path(value))
        for name, value in case.parameters.items()
        if name.endswith("_path") and isinstance(value, str) and value.strip()
    }
    payload = {
        "case_hashes": case_hashes(case.case_path),
        "parameter_files": parameter_files,
        "parameters": case.parameters,
        "seed": seed,
        "prodready_version": prodready.__version__,
        "notebooks": notebook_hashes,
        "executive": executive,
        "pdf": pdf,
    }
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _up_to_date(folder: Path, key: str) -> dict[str, Any] | None:
    """The folder's stamp when its key is ``key`` and every file it lists is there."""
    try:
        stamp = json.loads((folder / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(stamp, dict) or stamp.get("key") != key:
        return None
    files = stamp.get("files") or []
    if not files or not all((folder / name).is_file() for name in files):
        return None
    return stamp


def _write_stamp(folder: Path, task: _Task, *, seconds: float, finished: str) -> None:
    import prodready
    from prodready.report import save_json

    files = sorted(
        str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and p.name != STAMP
    )
    stamp = {
        "key": task.key,
        "name": task.case.name,
        "case": str(task.case.case_path),
        "parameters": task.case.parameters,
        "seed": task.seed,
        "prodready_version": prodready.__version__,
        "notebooks": [p.name for p in task.notebooks],
        "files": files,
        "seconds": round(seconds, 3),
        "finished": finished,
    }
    save_json(json.loads(json.dumps(stamp, default=str)), folder, STAMP)


# -- the output folder --------------------------------------------------------------------------
@contextmanager
def _exclusive(out: Path) -> Iterator[None]:
    """One batch at a time per output folder (a lock on the folder itself, where supported)."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; documented
        yield
        return
    fd = os.open(out, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise ParameterError(
                "another prodready batch is writing to this output folder",
                where=str(out),
                fix="wait for it to finish, or pass another --out",
            ) from None
        yield
    finally:
        os.close(fd)  # releases the lock


def _clean_leftovers(out: Path) -> None:
    """Remove what an interrupted run left: work folders, and restore a folder caught mid-swap."""
    for entry in out.iterdir():
        if not entry.name.startswith(TEMP_PREFIX):
            continue
        if entry.is_dir() and entry.name.endswith(OLD_SUFFIX):
            target = out / entry.name[len(TEMP_PREFIX) : -len(OLD_SUFFIX)]
            if not target.exists():  # stopped between the two renames: put it back
                os.replace(entry, target)
                continue
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
    for entry in out.glob(".prodready-*.tmp"):  # an index.html that was being written
        entry.unlink(missing_ok=True)


def _swap(work: Path, folder: Path) -> None:
    """Put the complete ``work`` folder at ``folder``; the previous one is removed after."""
    old = folder.parent / f"{TEMP_PREFIX}{folder.name}{OLD_SUFFIX}"
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        os.replace(folder, old)
    os.replace(work, folder)
    shutil.rmtree(old, ignore_errors=True)


def _check_not_foreign(folder: Path) -> None:
    """Only a folder a batch wrote (it has a stamp) may be replaced: never a user's own files."""
    if folder.exists() and not (folder / STAMP).is_file():
        raise ProdreadyError(
            "the output folder already holds a folder of this name that a batch did not write",
            where=str(folder),
            fix="move that folder away, rename the case (name: ...), or choose another --out",
        )


def _remove_failed_copy(out: Path, slug: str) -> None:
    (out / f"{slug}{FAILED_SUFFIX}").unlink(missing_ok=True)


def _moved(value: Any, old: Path, new: Path) -> Any:
    """``value`` with every path under ``old`` moved under ``new`` (dataclasses, containers)."""
    if isinstance(value, Path):
        return new / value.relative_to(old) if value.is_relative_to(old) else value
    if is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: _moved(getattr(value, f.name), old, new) for f in fields(value)}
        init = {f.name for f in fields(value) if f.init}
        return replace(value, **{k: v for k, v in changes.items() if k in init})
    if isinstance(value, tuple):
        return tuple(_moved(v, old, new) for v in value)
    if isinstance(value, list):
        return [_moved(v, old, new) for v in value]
    if isinstance(value, dict):
        return {k: _moved(v, old, new) for k, v in value.items()}
    return value
