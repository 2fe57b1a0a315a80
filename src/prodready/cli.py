"""The ``prodready`` command: open the app, write a sample case, run the reports.

Commands stay thin: they parse options, call the package and print. A
:class:`~prodready.errors.ProdreadyError` is printed as its message (red, on stderr) with exit
code 2, never as a traceback; a report notebook that fails exits with code 1.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import webbrowser
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

import prodready
from prodready.errors import ParameterError, ProdreadyError

EXIT_INPUT_ERROR = 2  # the user's input is wrong (same code as a usage error)
EXIT_NOTEBOOK_FAILED = 1  # a report notebook raised in one of its cells

app = typer.Typer(
    name="prodready",
    help="Show, from your own data, why a model will or will not survive production.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # a bug's traceback must not dump client data
)

out_console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


@contextmanager
def _friendly_errors() -> Iterator[None]:
    """Turn prodready's own errors into a message and an exit code, without a traceback."""
    from prodready.report import NotebookFailed

    try:
        yield
    except NotebookFailed as error:
        err_console.print(Text(str(error), style="red"))
        raise typer.Exit(EXIT_NOTEBOOK_FAILED) from None
    except ProdreadyError as error:
        err_console.print(Text(str(error), style="red"))
        raise typer.Exit(EXIT_INPUT_ERROR) from None


def _version(value: bool) -> None:
    if value:
        out_console.print(f"prodready {prodready.__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Show, from your own data, why a model will or will not survive production."""


CaseOption = Annotated[
    Path | None,
    typer.Option(
        "--case",
        help="Case YAML file (or a folder holding case.yaml). Default: the bundled sample case.",
        show_default=False,
    ),
]


@app.command("app")
def app_command(
    case: CaseOption = None,
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to serve on.")] = 8501,
    browser: Annotated[
        bool,
        typer.Option(
            "--browser/--no-browser",
            help="Open a browser tab (when this machine has a display).",
        ),
    ] = True,
) -> None:
    """Open the prodready app (Streamlit) in your browser."""
    from prodready.case import load_case
    from prodready.resources import app_script

    with _friendly_errors():
        env = dict(os.environ)
        if case is not None:
            loaded = load_case(case)  # a bad case fails here, clearly, before Streamlit starts
            env["PRODREADY_CASE"] = str((loaded.path or case).resolve())
        else:
            env.pop("PRODREADY_CASE", None)
        script = app_script()
        if not script.is_file():
            raise ProdreadyError(
                "the app is missing from this installation",
                where=str(script),
                fix="reinstall prodready (pip install --force-reinstall prodready)",
            )
        _check_port_free(port)
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(script),
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",  # client data stays local: no telemetry
        "false",
    ]
    # Always headless: a non-headless Streamlit asks for an e-mail address on its first run.
    # The tab is opened here instead, once the server answers.
    command += ["--server.headless", "true"]
    which = f"case {env['PRODREADY_CASE']}" if case is not None else "the bundled sample case"
    out_console.print(f"prodready app on http://localhost:{port} with {which} (Ctrl+C to stop)")
    process = subprocess.Popen(command, env=env)
    if browser and _has_display():
        url = f"http://localhost:{port}"
        threading.Thread(target=_open_when_ready, args=(url,), daemon=True).start()
    raise typer.Exit(_wait_forwarding_sigterm(process))


def _has_display() -> bool:
    """A browser tab can only open where there is a screen (not over SSH, not in CI)."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _open_when_ready(url: str, timeout: float = 60.0) -> None:
    """Open ``url`` in the default browser as soon as Streamlit's health check answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    webbrowser.open(url)
                    return
        except OSError:
            pass
        time.sleep(0.5)


def _wait_forwarding_sigterm(process: subprocess.Popen[bytes]) -> int:
    """Wait for Streamlit; a SIGTERM to prodready (a service manager, a test) stops it too."""
    forward = threading.current_thread() is threading.main_thread()
    previous = None
    if forward:
        previous = signal.signal(signal.SIGTERM, lambda signum, _: process.send_signal(signum))
    try:
        return process.wait()
    except KeyboardInterrupt:  # Streamlit got the same Ctrl+C from the terminal; let it finish
        code = process.wait()
        return 0 if code in (0, -signal.SIGINT, 130) else code
    finally:
        if forward:
            signal.signal(signal.SIGTERM, previous)


def _check_port_free(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("", port))
        except OSError:
            raise ParameterError(
                f"port {port} is already in use",
                where="--port",
                fix=f"stop what is using it, or pick another port: prodready app --port {port + 1}",
            ) from None


@app.command()
def sample(
    name: Annotated[
        str, typer.Argument(help="Which sample case: card_fraud, delivery_time or elec2.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Folder to write the case into.")],
    rows: Annotated[
        int | None,
        typer.Option(
            help="Rows to generate (default: the sample's own, 120000 for card_fraud and 60000 "
            "for delivery_time; elec2 is real data of a fixed size)."
        ),
    ] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="Random seed (default: 0).")] = None,
) -> None:
    """Write a sample case (case.yaml plus its data files) to a folder."""
    from prodready import samples

    options = {k: v for k, v in {"rows": rows, "seed": seed}.items() if v is not None}
    with _friendly_errors():
        case_file = Path(samples.write(name, out, **options))
    out_console.print(f"Wrote the sample case {name!r} to {case_file}")
    out_console.print(f"Next: prodready report --case {case_file} --out reports")


@app.command()
def report(
    out: Annotated[Path, typer.Option("--out", help="Folder for the report files (created).")],
    case: CaseOption = None,
    seed: Annotated[
        int | None,
        typer.Option(min=0, help="Seed of every random step (default 0).", show_default=False),
    ] = None,
    executive: Annotated[
        bool,
        typer.Option("--executive/--no-executive", help="Also write an HTML version without code."),
    ] = True,
    pdf: Annotated[
        bool,
        typer.Option(
            "--pdf/--no-pdf",
            help="Also print the executive summary to PDF with the local Chromium.",
        ),
    ] = True,
    batch: Annotated[
        Path | None,
        typer.Option(
            "--batch",
            help="Batch YAML file: many cases, one report folder each, and index.html "
            "(see docs/batch.md). Not with --case.",
            show_default=False,
        ),
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option(
            min=1, help="With --batch: cases run at once (default 1).", show_default=False
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="With --batch: re-run reports that are up to date.")
    ] = False,
    notebook: Annotated[
        list[str] | None,
        typer.Option(
            "--notebook",
            help="Run only this report notebook (repeat for more): 01_skew_audit, skew_audit "
            "or 01. Default: all of them.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run the report notebooks on a case (or on every case of a --batch file): executed
    notebooks, HTML, executive HTML, results.json and the executive summary as PDF."""
    from prodready.notebooks import pick_notebooks
    from prodready.report import NotebookStep, run_report

    if batch is not None:
        if notebook:
            with _friendly_errors():
                raise ParameterError(
                    "--notebook cannot be used with --batch: a batch reports every notebook",
                    fix="drop --notebook, or drop --batch to report on one case",
                )
        _report_batch(
            batch, out, case=case, seed=seed, jobs=jobs, force=force, executive=executive, pdf=pdf
        )
        return
    interactive = out_console.is_terminal
    status = out_console.status("Starting…") if interactive else nullcontext()

    def show(step: NotebookStep) -> None:
        where = f"[{step.index}/{step.total}] {step.notebook}"
        if step.done:
            out_console.print(f"{where} done in {step.seconds:.1f} s")
        elif interactive:
            status.update(f"{where} running…")  # type: ignore[union-attr]

    with _friendly_errors(), status:
        if jobs is not None or force:
            raise ParameterError(
                f"{'--jobs' if jobs is not None else '--force'} only applies to --batch",
                fix="pass a batch file with --batch, or drop the option",
            )
        result = run_report(
            case,
            out,
            seed=seed if seed is not None else 0,
            executive=executive,
            progress=show,
            notebooks=pick_notebooks(notebook) if notebook else None,
            pdf=pdf,
        )
    out_console.print(f"Wrote {len(result.files)} files to {result.out_dir}:")
    for path in result.files:
        out_console.print(f"  {path.relative_to(result.out_dir)}")


def _report_batch(
    batch: Path,
    out: Path,
    *,
    case: Path | None,
    seed: int | None,
    jobs: int | None,
    force: bool,
    executive: bool,
    pdf: bool,
) -> None:
    """`report --batch`: every case checked first (exit 2), then run; exit 1 if one failed."""
    from prodready.batch import BatchStep, load_batch, run_batch

    def show(step: BatchStep) -> None:
        line = Text(f"[case {step.index}/{step.total}] ")
        line.append(step.case, style="bold")  # as Text: a name is never rich markup
        if step.event == "start":
            line.append(": started")
        elif step.event == "notebook" and step.notebook is not None:
            nb = step.notebook
            if not nb.done:
                return
            line.append(f": [{nb.index}/{nb.total}] {nb.notebook} done in {nb.seconds:.1f} s")
        else:
            style = {"ok": "green", "up to date": "cyan", "failed": "red"}.get(step.status, "")
            line.append(": ")
            line.append(str(step.status), style=style)
            if step.status == "ok":
                line.append(f" in {step.seconds:.1f} s")
            if step.error:
                line.append(f": {step.error.splitlines()[0]}")
        out_console.print(line)

    with _friendly_errors():
        if case is not None or seed is not None:
            raise ParameterError(
                f"{'--case' if case is not None else '--seed'} cannot be used with --batch",
                fix="list the cases (case:) and the seed (seed:) in the batch file, or drop "
                "--batch to report on one case",
            )
        loaded = load_batch(batch)
        result = run_batch(
            loaded,
            out,
            jobs=jobs or 1,
            force=force,
            progress=show,
            executive=executive,
            pdf=pdf,
        )
    counts = result.cases["status"].value_counts()
    summary = ", ".join(f"{counts[s]} {s}" for s in ("ok", "up to date", "failed") if s in counts)
    out_console.print(f"Wrote {result.index} ({summary}) in {result.seconds:.1f} s")
    if result.failed:
        for outcome in result.outcomes:
            if outcome.error:
                err_console.print(Text(f"{outcome.name} failed:", style="bold red"))
                err_console.print(Text(outcome.error, style="red"))
        raise typer.Exit(EXIT_NOTEBOOK_FAILED)


audit_app = typer.Typer(
    help="Run one audit on a case and print its findings (or write them as JSON).",
    no_args_is_help=True,
)
app.add_typer(audit_app, name="audit")

SEVERITY_STYLES = {"high": "bold red", "medium": "yellow", "low": "cyan", "info": "green"}
JsonOption = Annotated[
    str | None,
    typer.Option(
        "--json",
        metavar="FILE|-",
        help="Also write every number as JSON to FILE, or to standard output with -.",
        show_default=False,
    ),
]


@audit_app.command("skew")
def audit_skew(
    case: CaseOption = None,
    seed: Annotated[int, typer.Option(min=0, help="Seed of every random step.")] = 0,
    lazy: Annotated[
        bool,
        typer.Option(
            "--lazy",
            help="Leave the training data and the serving log on disk: distributions, missing "
            "rates and shared rows use every row (DuckDB), the models a uniform sample of "
            "--sample-rows rows of each.",
        ),
    ] = False,
    sample_rows: Annotated[
        int,
        typer.Option(min=2, help="Training rows and serving rows held in memory with --lazy."),
    ] = 500_000,
    json_out: JsonOption = None,
) -> None:
    """Skew audit: will production see what training saw, and what does the model score there?"""
    from prodready.skew import audit

    _run_audit(
        case,
        json_out,
        run=lambda loaded, say: audit(
            loaded, seed=seed, progress=lambda done, text: say(f"{text} ({done:.0%})")
        ),
        doing="distributions, shared rows, models",
        show=_print_skew,
        what="audit",
        load_options={"lazy": True, "sample_rows": sample_rows, "seed": seed} if lazy else None,
    )


@audit_app.command("rollout")
def audit_rollout(
    case: CaseOption = None,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the arm assignment (id hash).")] = 0,
    guardrail: Annotated[
        bool,
        typer.Option(
            "--guardrail",
            help="Add the segment guardrail suggested from the labelled history: a flag-rate "
            "ceiling where the challenger ranks worse than the champion.",
        ),
    ] = False,
    json_out: JsonOption = None,
) -> None:
    """Rollout replay: what the default shadow, canary and gradual plan with its rollback rules
    would have done with the case's challenger on the serving log."""
    from prodready.rollout import default_triggers, simulate, suggest_guardrail

    def run(loaded, _say):
        triggers = None
        if guardrail:
            suggested = suggest_guardrail(loaded)
            if suggested is None:
                err_console.print(
                    "No segment where the challenger ranks worse: no guardrail added."
                )
            else:
                err_console.print(
                    Text(f"Guardrail added: {suggested.trigger.name}. {suggested.why}")
                )
                triggers = [*default_triggers(loaded), suggested.trigger]
        return simulate(loaded, triggers=triggers, seed=seed)

    _run_audit(
        case,
        json_out,
        run=run,
        doing="replaying the rollout plan",
        show=_print_rollout,
        what="replay",
    )


@audit_app.command("decay")
def audit_decay(
    case: CaseOption = None,
    train_window: Annotated[
        str, typer.Option(help="Days of history each model trains on, e.g. 90D.")
    ] = "90D",
    step: Annotated[str, typer.Option(help="Days between training origins, e.g. 7D.")] = "7D",
    retrain_cost: Annotated[
        float, typer.Option(min=0, help="Cost of one retraining, in the case's currency.")
    ] = 2000.0,
    seed: Annotated[int, typer.Option(min=0, help="Seed of every random step.")] = 0,
    json_out: JsonOption = None,
) -> None:
    """Decay and retraining: metric by model age, retraining policies compared on the same
    history (label delay honoured), and the label-free estimate. Trains tens of models."""
    from prodready.decay.audit import audit

    def run(loaded, say):
        return audit(
            loaded,
            train_window=train_window,
            step=step,
            retrain_cost=retrain_cost,
            seed=seed,
            progress=lambda part, done, total: say(f"{part} {done}/{total}"),
        )

    _run_audit(
        case,
        json_out,
        run=run,
        doing="training models through history",
        show=_print_decay,
        what="decay audit",
    )


@audit_app.command("monitoring")
def audit_monitoring(
    case: CaseOption = None,
    incidents: Annotated[
        Path | None,
        typer.Option(
            help="CSV of known incidents (problem, start, end) to time their detection; the "
            "bundled sample's own incidents are used when --case is not given.",
            show_default=False,
        ),
    ] = None,
    json_out: JsonOption = None,
) -> None:
    """Silent-failure monitoring: business, model-output, data-quality, performance and
    system-health monitors replayed day by day, and how fast each known incident was caught."""
    from prodready import samples
    from prodready.monitoring.audit import audit

    def run(loaded, _say):
        known = None
        if incidents is not None:
            known = _read_incidents(incidents)
        elif case is None:
            known = samples.known_problems()
        return audit(loaded, known)

    _run_audit(
        case,
        json_out,
        run=run,
        doing="replaying the monitors day by day",
        show=_print_monitoring,
        what="monitoring replay",
    )


def _read_incidents(path: Path) -> Any:
    import pandas as pd

    from prodready.data.readers import read_table

    frame = read_table(path)
    missing = [c for c in ("problem", "start", "end") if c not in frame.columns]
    if missing:
        raise ParameterError(
            "the incidents file lacks columns",
            where=f"{path}: {', '.join(missing)}",
            expected="columns problem, start, end (dates; end may be empty)",
            fix="add the columns, one row per incident",
        )
    for column in ("start", "end"):
        try:
            frame[column] = pd.to_datetime(frame[column], utc=True)
        except (ValueError, TypeError) as exc:
            raise ParameterError(
                f"the incidents file's {column} column holds values that are not dates",
                where=f"{path}: {column}",
                fix="write dates such as 2025-09-08",
            ) from exc
    return frame


@audit_app.command("review")
def audit_review(
    case: CaseOption = None,
    capacity: Annotated[
        int, typer.Option(min=0, help="Events the reviewers can check per day.")
    ] = 20,
    cost_per_review: Annotated[
        float, typer.Option(min=0, help="Cost of one review, in the case's currency.")
    ] = 5.0,
    accuracy: Annotated[
        float, typer.Option(min=0, max=1, help="Share of reviews that reach the right decision.")
    ] = 0.95,
    band: Annotated[
        tuple[float, float] | None,
        typer.Option(
            metavar="LOW HIGH",
            help="Review scores in [LOW, HIGH); default: compare bands around the threshold "
            "and pick the best within capacity.",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the reviewers' draws.")] = 0,
    json_out: JsonOption = None,
) -> None:
    """Human review: which predictions should people check before the model acts, and what is
    it worth against the reviewers' cost and capacity?"""
    from prodready import review

    def run(loaded, _say):
        settings = {
            "capacity_per_day": capacity,
            "cost_per_review": cost_per_review,
            "reviewer_accuracy": accuracy,
            "seed": seed,
        }
        if band is None:
            return review.sweep(loaded, **settings)
        return review.simulate(loaded, band=band, **settings)

    _run_audit(
        case,
        json_out,
        run=run,
        doing="replaying review bands day by day",
        show=_print_review,
        what="review simulation",
    )


@audit_app.command("readiness")
def audit_readiness(
    answers: Annotated[
        Path | None,
        typer.Option(
            help="The team's answers: YAML or JSON {question_id: 0|0.5|1}, or CSV id,score. "
            "Without it, the answers the case's audits propose are scored (and said so).",
            show_default=False,
        ),
    ] = None,
    case: CaseOption = None,
    audits: Annotated[
        bool,
        typer.Option(
            "--audits/--no-audits",
            help="Run the case's audits for evidence, risks and the roadmap (about half a "
            "minute on the sample); --no-audits scores the answers alone.",
        ),
    ] = True,
    decay: Annotated[
        bool, typer.Option("--decay", help="Also run the decay audit (minutes).")
    ] = False,
    json_out: JsonOption = None,
) -> None:
    """Readiness: the ML Test Score and organisation questions scored, the biggest risks in
    money and the month-by-month roadmap."""
    from prodready import readiness, samples

    def run(loaded, say):
        given = readiness.read_answers(answers) if answers is not None else None
        if not audits:
            if given is None:
                raise ParameterError(
                    "--no-audits needs --answers: without audits there is nothing to score",
                    fix="pass --answers FILE, or drop --no-audits",
                )
            return readiness.assess(None, given, answers_from=f"the answers in {answers}")
        include = tuple(n for n in readiness.AUDIT_NAMES if n != "decay" or decay)
        return readiness.assess(
            loaded,
            given,
            include=include,
            incidents=samples.known_problems() if case is None else None,
            answers_from=f"the answers in {answers}" if answers is not None else None,
            progress=lambda name, done, total: say(
                f"running the {name} audit ({done + 1} of {total})" if name else "scoring"
            ),
        )

    _run_audit(
        case,
        json_out,
        run=run,
        doing="running the audits for evidence",
        show=_print_readiness,
        what="readiness report",
    )


def _run_audit(
    case: Path | None,
    json_out: str | None,
    *,
    run: Callable[[Any, Callable[[str], None]], Any],
    doing: str,
    show: Callable[[Any, str], None],
    what: str,
    load_options: dict[str, Any] | None = None,
) -> None:
    """Load the case (default: the sample), run one audit with a status line, then print it and
    write its JSON to a file or, with ``-``, alone to standard output. ``load_options`` go to
    ``load_case`` (e.g. ``lazy=True``)."""
    import json

    from prodready import samples
    from prodready.case import load_case

    to_stdout = json_out == "-"
    console = err_console if to_stdout else out_console  # stdout stays pure JSON with --json -
    interactive = console.is_terminal
    with _friendly_errors():
        target = None if json_out in (None, "-") else _json_target(Path(json_out))
        with console.status("Loading the case…") if interactive else nullcontext() as status:
            if case is None and load_options:
                raise ParameterError(
                    "--lazy needs a case file",
                    fix="pass --case case.yaml (the bundled sample is small enough to load whole)",
                )
            loaded = load_case(case, **(load_options or {})) if case is not None else samples.load()
            if status is not None:
                status.update(f"{loaded.name}: {doing}…")

            def say(text: str) -> None:  # progress of a long audit, on the status line
                if status is not None:
                    status.update(f"{loaded.name}: {text}")

            result = run(loaded, say)
        data = result.to_dict()
        if target is not None:
            _write_json(data, target)
    if to_stdout:
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n")
        return
    show(result, loaded.name)
    if target is not None:
        out_console.print(f"Wrote every number of the {what} to {target}")


def _write_json(data: dict[str, Any], target: Path) -> None:
    from prodready.report import save_json

    try:
        save_json(data, target.parent, target.name)  # atomic; creates the folder
    except OSError as error:
        raise ParameterError(
            "cannot write the --json file",
            where=str(target),
            found=error.strerror or str(error),
            fix="choose a file in a folder you can write to",
        ) from None


def _json_target(path: Path) -> Path:
    """The --json file, checked before the (long) audit runs: not a folder, and not inside a
    path that is a file. Missing folders are created when the file is written."""
    path = path.expanduser().resolve()
    if path.is_dir():
        raise ParameterError(
            "the --json path is a folder", where=str(path), fix="name a file, e.g. skew.json"
        )
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise ParameterError(
            "the --json file cannot be written inside a file",
            where=str(path),
            found=f"{parent} is a file",
            fix="write the JSON somewhere else",
        )
    return path


def _print_skew(result: Any, case_name: str) -> None:
    out_console.print(Text(f"Skew audit: {case_name}", style="bold"))
    out_console.print()
    _print_findings(result.summary())
    _print_feature_ranking(
        result.to_frame(),
        ("row\nmismatch", "right", lambda r: _number(r["row_mismatch_rate"], ".1%")),
    )


def _number(value: Any, spec: str = ".3f") -> str:
    return "" if value is None or value != value else format(float(value), spec)


def _print_feature_ranking(frame: Any, extra: tuple[str, str, Any]) -> None:
    """The features table of a skew audit (``extra``: the one column that differs: row
    mismatch from the rows, unseen share from profiles). Piped or redirected output is not cut
    to 80 columns (a file has no width); a narrow terminal gets the table without its least
    needed columns rather than cut-off numbers. Cells are Text: a feature name or note from
    someone else's file is never rich markup."""
    from rich import box
    from rich.table import Table

    console = out_console
    if not out_console.is_terminal:
        console = Console(highlight=False, soft_wrap=True, width=max(out_console.width, 160))
    wide = console.width >= 130
    columns: list[tuple[str, str, Any]] = [  # (header, justify, cell of a row)
        ("severity", "left", lambda r: Text(r["severity"], SEVERITY_STYLES.get(r["severity"], ""))),
        ("problem", "left", lambda r: str(r["problem"])),
        ("PSI", "right", lambda r: _number(r["psi"])),
        ("JS", "right", lambda r: _number(r["js_distance"])),
        ("missing\ntrain", "right", lambda r: _number(r["missing_train"], ".1%")),
        ("missing\nserving", "right", lambda r: _number(r["missing_serving"], ".1%")),
        extra,
        ("kind", "left", lambda r: str(r["kind"])),
        ("note", "left", lambda r: str(r["note"])),
    ]
    if not wide:
        columns = [c for c in columns if c[0] not in ("JS", "missing\ntrain", "kind", "note")]
    table = Table(
        title="Features ranked by severity, then PSI",
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    table.add_column("feature", no_wrap=True)
    for header, justify, _ in columns:
        wrap = header in ("problem", "note")
        table.add_column(header, justify=justify, no_wrap=not wrap, min_width=12 if wrap else None)
    for feature, row in frame.iterrows():
        cells = [
            c if isinstance(c, Text) else Text(c) for c in (cell(row) for _, _, cell in columns)
        ]
        table.add_row(Text(str(feature)), *cells)
    console.print(table)


OUTCOME_STYLES = {"promoted": "bold green", "rolled_back": "bold red", "held": "bold yellow"}


def _print_findings(findings: list[Any]) -> None:
    out_console.print(Text("Findings, most severe first", style="bold"))
    for finding in findings:
        line = Text("  ")
        line.append(f"{finding.severity:<6}", style=SEVERITY_STYLES.get(finding.severity, ""))
        line.append(f" {finding.text}")
        out_console.print(line)
    out_console.print()


def _print_decay(result: Any, case_name: str) -> None:
    from rich import box
    from rich.table import Table

    from prodready.results import format_money

    out_console.print(Text(f"Decay and retraining: {case_name}", style="bold"))
    out_console.print()
    _print_findings(result.summary())
    policies = result.policies
    table = Table(
        title=f"Retraining policies (recommended: {policies.recommended})",
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
    )
    for header in ("policy", "retrains", f"mean {policies.metric}", "value", "cost", "net"):
        table.add_column(header, justify="left" if header == "policy" else "right")
    for row in policies.to_frame().itertuples(index=False):
        table.add_row(
            Text(str(row.policy)),
            str(row.retrains),
            f"{row.mean_metric:.3f}",
            *(format_money(v, policies.currency) for v in (row.value, row.cost, row.net)),
        )
    out_console.print(table)


def _print_monitoring(result: Any, case_name: str) -> None:
    from rich import box
    from rich.table import Table

    out_console.print(Text(f"Monitoring replay: {case_name}", style="bold"))
    out_console.print()
    _print_findings(result.summary())
    alerts = result.replay.alerts
    table = Table(
        title="First alert of each monitor",
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
    )
    for header in ("first fire", "family", "monitor", "value", "threshold"):
        table.add_column(header, justify="right" if header in ("value", "threshold") else "left")
    for row in alerts.itertuples(index=False):
        table.add_row(
            f"{row.first_fire:%Y-%m-%d}",
            str(row.family),
            Text(str(row.monitor)),
            f"{row.value:.4g}",
            f"{row.threshold:.4g}",
        )
    out_console.print(table)


def _print_readiness(result: Any, case_name: str) -> None:
    from rich import box
    from rich.table import Table

    from prodready.results import format_money

    out_console.print(Text(f"Readiness: {case_name}", style="bold"))
    out_console.print()
    _print_findings(result.summary())
    sections = Table(
        title="Sections", title_justify="left", title_style="bold", box=box.SIMPLE_HEAD
    )
    for header in ("section", "score", "of"):
        sections.add_column(header, justify="left" if header == "section" else "right")
    card = result.scorecard
    for name, value in card.sections.items():
        sections.add_row(name, f"{value:g}", f"{card.maximum[name]:g}")
    out_console.print(sections)
    items = Table(title="Roadmap", title_justify="left", title_style="bold", box=box.SIMPLE_HEAD)
    for header in ("months", "phase", "item", "owner", "effort", "money"):
        items.add_column(header, justify="right" if header == "money" else "left")
    for row in result.roadmap.to_frame().itertuples(index=False):
        months = f"{row.month_start}" + (
            f"-{row.month_end}" if row.month_end != row.month_start else ""
        )
        money = "" if row.money != row.money else format_money(row.money, row.currency)
        items.add_row(months, row.phase, Text(str(row.title)), row.owner, row.effort, money)
    out_console.print(items)


def _print_review(result: Any, case_name: str) -> None:
    from rich import box
    from rich.table import Table

    from prodready.results import format_money

    out_console.print(Text(f"Human review: {case_name}", style="bold"))
    out_console.print()
    _print_findings(result.summary())
    frame = result.to_frame()
    if "band" not in frame.columns:  # one band: its days are in the JSON; the findings say it
        return
    table = Table(
        title="Bands compared", title_justify="left", title_style="bold", box=box.SIMPLE_HEAD
    )
    for header in ("band", "load a day", "overflow", "errors avoided", "net"):
        table.add_column(header, justify="left" if header == "band" else "right")
    for row in frame.itertuples(index=False):
        table.add_row(
            str(row.band),
            f"{row.mean_daily_load:.1f}" + ("" if row.within_capacity else " (over)"),
            f"{row.overflow_share:.0%}",
            f"{row.errors_avoided:,.0f}",
            format_money(row.net, result.currency),
        )
    out_console.print(table)


def _print_rollout(result: Any, case_name: str) -> None:
    from rich import box
    from rich.table import Table

    from prodready.charts.rollout import OUTCOME_WORDS, outcome_sentence

    out_console.print(Text(f"Rollout replay: {case_name}", style="bold"))
    out_console.print()
    line = Text("Outcome: ")
    line.append(OUTCOME_WORDS[result.outcome], style=OUTCOME_STYLES.get(result.outcome, ""))
    line.append(f". {outcome_sentence(result)}")
    out_console.print(line)
    out_console.print()
    _print_findings(result.summary())
    console = out_console
    if not out_console.is_terminal:  # a file has no width: do not cut the reasons
        console = Console(highlight=False, soft_wrap=True, width=max(out_console.width, 160))
    table = Table(
        title="Decisions",
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    for header in ("date", "stage", "action", "reason"):
        table.add_column(header, no_wrap=header != "reason")
    for row in result.decisions.itertuples(index=False):
        # as Text: a reason such as "[region == international]" is not rich markup
        table.add_row(
            *(Text(v) for v in (f"{row.date:%Y-%m-%d}", row.stage, row.action, row.reason))
        )
    console.print(table)


store_app = typer.Typer(
    help="Move a readiness workshop between databases: export it as JSON, import it again.",
    no_args_is_help=True,
)
app.add_typer(store_app, name="store")

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        metavar="URL",
        help="Database URL (sqlite:///file.db or postgresql+psycopg://user@host/db); default "
        "$PRODREADY_DB_URL, else ~/.prodready/prodready.db.",
        show_default=False,
    ),
]


@store_app.command("export")
def store_export(
    workshop: Annotated[str, typer.Option(help="Name of the workshop to export.")],
    out: Annotated[Path, typer.Option(help="JSON file to write (atomically).")],
    db: DbOption = None,
) -> None:
    """Write a workshop (teams, assessments, every answer with its history) as JSON."""
    from prodready import store

    with _friendly_errors():
        target = _json_target(out)
        with store.open(db) as opened:
            data = opened.export_workshop(workshop)
        _write_json(data, target)
    teams = data["teams"]
    assessments = sum(len(team["assessments"]) for team in teams)
    out_console.print(
        f"Wrote workshop {workshop!r} ({len(teams)} teams, {assessments} assessments) to {target}"
    )


@store_app.command("import")
def store_import(
    file: Annotated[Path, typer.Argument(help="A JSON file written by `prodready store export`.")],
    db: DbOption = None,
    rename: Annotated[
        str | None,
        typer.Option(help="Import under this name (when the name is taken).", show_default=False),
    ] = None,
) -> None:
    """Read an exported workshop into the database (checked first; all or nothing)."""
    from prodready import store

    with _friendly_errors():
        data = store.read_workshop_file(file)
        with store.open(db) as opened:
            name = opened.import_workshop(data, rename=rename)
            teams = opened.teams(name)
    out_console.print(f"Imported workshop {name!r} ({len(teams)} teams) into the store")


# -- profiles: a team sends profiles instead of its data ---------------------------------------
@app.command("profile")
def profile_command(
    out: Annotated[
        Path,
        typer.Option("--out", help="File to write (JSON; gzip-compressed when it ends with .gz)."),
    ],
    case: CaseOption = None,
    lazy: Annotated[
        bool,
        typer.Option(
            "--lazy",
            help="Leave the training data and the serving log on disk and profile every row "
            "of their files (Parquet batch by batch, CSV with DuckDB).",
        ),
    ] = False,
    sample_rows: Annotated[
        int,
        typer.Option(min=2, help="Training rows and serving rows held in memory with --lazy."),
    ] = 500_000,
) -> None:
    """Profile a case for `prodready audit profiles`: counts per bin and per category, moments
    and missing counts of every feature, training whole and serving per month; no row."""
    from prodready import samples
    from prodready.case import load_case
    from prodready.skew.profiles import case_profiles, save_case_profiles

    interactive = out_console.is_terminal
    with _friendly_errors():
        target = _profiles_target(out)
        with out_console.status("Loading the case…") if interactive else nullcontext() as status:
            if case is None and lazy:
                raise ParameterError(
                    "--lazy needs a case file",
                    fix="pass --case case.yaml (the bundled sample is small enough to load whole)",
                )
            options = {"lazy": True, "sample_rows": sample_rows} if lazy else {}
            loaded = load_case(case, **options) if case is not None else samples.load()

            def say(done: float, text: str) -> None:  # on the status line, as audits do
                if status is not None:
                    status.update(f"{loaded.name}: {text} ({done:.0%})")

            profiles = case_profiles(loaded, progress=say)
            save_case_profiles(profiles, target)
    profiled = len(profiles.serving.layouts) if profiles.serving is not None else 0
    out_console.print(
        f"Wrote the profiles of {profiled} of {len(profiles.kinds)} features of "
        f"{loaded.name!r} ({profiles.training_rows:,} training rows, {profiles.serving_rows:,} "
        f"serving rows in {len(profiles.months)} months) to {target}"
    )
    out_console.print(f"Next: prodready audit profiles {target}")


def _profiles_target(path: Path) -> Path:
    """The --out file of `profile`, its folder created; a folder is refused before the work."""
    path = path.expanduser().resolve()
    if path.is_dir():
        raise ParameterError(
            "the --out path is a folder", where=str(path), fix="name a file, e.g. profiles.json.gz"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ParameterError(
            "cannot create the folder of the --out file",
            where=str(path.parent),
            found=error.strerror or str(error),
            fix="write the profiles somewhere you can write to",
        ) from None
    return path


@audit_app.command("profiles")
def audit_profiles_command(
    file: Annotated[Path, typer.Argument(help="A profiles file written by `prodready profile`.")],
    json_out: JsonOption = None,
) -> None:
    """Skew audit from saved profiles: the distribution measures, missing rates and months of
    `audit skew`, without the data (row-level skew, leakage and the metric gap need rows)."""
    import json

    from prodready.skew.profiles import audit_profiles, load_case_profiles

    to_stdout = json_out == "-"
    with _friendly_errors():
        target = None if json_out in (None, "-") else _json_target(Path(json_out))
        result = audit_profiles(load_case_profiles(file))
        data = result.to_dict()
        if target is not None:
            _write_json(data, target)
    if to_stdout:
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n")
        return
    _print_profile_audit(result)
    if target is not None:
        out_console.print(f"Wrote every number of the audit to {target}")


def _print_profile_audit(result: Any) -> None:
    out_console.print(Text(f"Skew audit from profiles: {result.case_name}", style="bold"))
    out_console.print()
    _print_findings(result.summary())
    _print_feature_ranking(
        result.to_frame(),
        ("unseen", "right", lambda r: _number(r["unseen_share"], ".1%")),
    )


def main() -> None:
    """Console-script entry point."""
    app(prog_name="prodready")
