"""Benchmark: a batch of reports, every notebook of every case, with parallel kernels.

Data: ``--cases`` card_fraud samples generated with ``rows=--rows`` and seeds 0, 1, ... (not
timed), listed in one batch file with the same parameters. Steps, measured in the same run:

* ``run_batch(..., jobs=--jobs, force=True)``: the cases in ``--jobs`` worker processes;
* baseline: the same batch with ``jobs=1`` (one case after another, one kernel at a time).

From each case's :class:`~prodready.report.ReportResult`: the time of each notebook (median over
cases), and the share of the notebooks' time spent starting kernels and converting to HTML
(sum of ``kernel_seconds + convert_seconds`` over the sum of the notebooks' ``seconds``), against
the issue's target of at most 20%.

    .venv/bin/python benchmarks/bench_batch.py [--cases 10] [--rows 20000] [--jobs 2]

Writes its section ("batch") of docs/performance.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _report import machine, write_section

from prodready import samples
from prodready.batch import BatchResult, BatchStep, load_batch, run_batch

TARGET_SHARE = 0.20
PARAMETERS = "{}"  # the notebooks' defaults (the decay step: "auto", 14 days at 20,000 rows)


def run(cases: int, rows: int, jobs: int, baseline: bool, pdf: bool) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        lines = ["cases:"]
        for seed in range(cases):
            samples.write("card_fraud", base / f"case{seed}", rows=rows, seed=seed)
            lines.append(f"  - case: case{seed}")
        (base / "batch.yaml").write_text(f"parameters: {PARAMETERS}\n" + "\n".join(lines) + "\n")
        batch = load_batch(base / "batch.yaml")
        runs = {f"jobs={jobs}": _timed(batch, base / "parallel", jobs, pdf)}
        if baseline:
            runs["baseline: jobs=1"] = _timed(batch, base / "serial", 1, pdf)
    return _section(runs, cases=cases, rows=rows, jobs=jobs, pdf=pdf)


def _timed(batch, out: Path, jobs: int, pdf: bool) -> tuple[BatchResult, float]:
    def show(step: BatchStep) -> None:
        if step.event == "done":
            print(f"  jobs={jobs} {step.case}: {step.status} {step.seconds:.1f} s", file=sys.stderr)

    started = time.perf_counter()
    result = run_batch(batch, out, jobs=jobs, force=True, pdf=pdf, progress=show)
    seconds = time.perf_counter() - started
    failed = result.cases[result.cases["status"] == "failed"]
    if len(failed):
        raise SystemExit(f"a case failed, no figures written:\n{failed.to_string()}")
    return result, seconds


def _section(runs: dict, *, cases: int, rows: int, jobs: int, pdf: bool) -> str:
    lines = [
        "## Batch reports",
        "",
        f"{cases} card_fraud cases generated with rows={rows:,} (seeds 0-{cases - 1}), every "
        f"report notebook with its default parameters, PDF {'on' if pdf else 'off'}; "
        f"`run_batch(force=True)`. Machine: {machine()}.",
        "",
        "| run | wall seconds | seconds per case | kernel start-up + conversion share |",
        "| --- | ---: | ---: | ---: |",
    ]
    for label, (result, seconds) in runs.items():
        lines.append(f"| {label} | {seconds:.1f} | {seconds / cases:.1f} | {_share(result):.1%} |")
    if len(runs) == 2:
        (_, fast_s), (_, slow_s) = runs.values()
        lines += ["", f"Speed-up of jobs={jobs} over the baseline: x{slow_s / fast_s:.2f}."]
    result, _ = next(iter(runs.values()))
    reports = list(result.reports.values())
    lines += [
        "",
        f"Per notebook, median over the {cases} cases of the jobs={jobs} run (seconds):",
        "",
        "| notebook | total | kernel start-up | execute | convert to HTML |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name in [nb.notebook for nb in reports[0].notebooks]:
        steps = [nb for r in reports for nb in r.notebooks if nb.notebook == name]
        cells = [
            statistics.median(getattr(nb, field) for nb in steps)
            for field in ("seconds", "kernel_seconds", "execute_seconds", "convert_seconds")
        ]
        lines.append(f"| {name} | " + " | ".join(f"{c:.1f}" for c in cells) + " |")
    extra = statistics.median(r.seconds - sum(nb.seconds for nb in r.notebooks) for r in reports)
    share = _share(result)
    verdict = "meets" if share <= TARGET_SHARE else "misses"
    lines += [
        "",
        f"After the notebooks, `results.json` and the PDF take {extra:.1f} s per case (median). "
        f"Kernel start-up + HTML conversion is {share:.1%} of the notebooks' time: this "
        f"{verdict} the issue's target of at most {TARGET_SHARE:.0%}. The baseline runs the "
        "same cases one after another with one kernel at a time.",
    ]
    return "\n".join(lines)


def _share(result: BatchResult) -> float:
    notebooks = [nb for r in result.reports.values() for nb in r.notebooks]
    overhead = sum(nb.kernel_seconds + nb.convert_seconds for nb in notebooks)
    total = sum(nb.seconds for nb in notebooks)
    return overhead / total if total else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--no-baseline", dest="baseline", action="store_false")
    parser.add_argument("--no-pdf", dest="pdf", action="store_false")
    args = parser.parse_args()
    text = run(args.cases, args.rows, args.jobs, args.baseline, args.pdf)
    print(text)
    write_section("batch", text)


if __name__ == "__main__":
    main()
