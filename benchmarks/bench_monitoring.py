"""Benchmark: every default monitor replayed day by day over a large serving log.

Data: the sample generator (``prodready.samples.write("card_fraud", rows=ROWS, parts=10)``;
about half the rows are the serving log, written as 10 Parquet parts), written once (or taken
from ``--case``) and loaded in each fresh process. Steps, measured in the same run (best wall
time of ``--repeat`` fresh processes):

* streamed: ``load_case(path, lazy=True)`` (the serving log stays on disk; a sample of it in
  memory), then ``prodready.monitoring.replay(case)``, which streams the log from its files
  day by day (:mod:`prodready.monitoring.stream`); timed: the replay; memory: the whole
  process's peak, loading included (the issue's target is for the whole process), and the
  replay's own peak above the loaded case;
* baseline, in memory: ``load_case(path)`` (the whole log in pandas), then
  ``replay(case)``: the daily profiles computed once, shared by every default monitor;
* baseline: monitors replayed one at a time (``replay(case, [monitor])``), each with its own
  pass over the raw rows as separate monitoring jobs would; 5 are timed and the time is scaled
  to all of them (labelled as such).

"Extra peak" is a step's resident high-water mark minus the resident memory once the case is
loaded (the mark is reset after loading); "whole-process peak" is the high-water mark of a
fresh process that loads the case and runs the step (nothing reset).

    .venv/bin/python benchmarks/bench_monitoring.py [--rows 20000000] [--repeat 1] [--case DIR]

Writes its section ("monitoring") of docs/performance.md.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _report import loaded_case_setup, machine, measure, write_section

from prodready import samples
from prodready.monitoring.stream import MAX_SPAN_ROWS, READ_ROWS

_IMPORTS = """from prodready import monitoring"""

_ONE_AT_A_TIME = """
monitors = monitoring.default_monitors(case)
for monitor in monitors[:SAMPLED]:
    monitoring.replay(case, [monitor])  # its own pass over the raw rows, nothing shared
"""
SAMPLED = 5  # monitors timed one at a time; the time is scaled to all of them


def run(rows: int, repeat: int, case: Path | None = None) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        case_file = (
            _find_case(case)
            if case is not None
            else samples.write("card_fraud", Path(tmp), rows=rows, seed=0, parts=10)
        )
        rows = _generated_rows(case_file, rows)
        results = _measure_all(case_file, repeat)
        serving_rows = _serving_rows(case_file)
        parts = len(_serving_files(case_file))
        monitors = _monitor_count(case_file)
    return _text(rows, repeat, results, serving_rows, parts, monitors)


STREAMED = "prodready replay streamed from the files (lazy case), every default monitor"
IN_MEMORY = "baseline: replay in memory (whole log loaded), profiles shared"
ONE_AT_A_TIME = "baseline: 5 monitors, each replayed alone from the raw rows"


def _measure_all(case_file: Path, repeat: int) -> dict[str, dict[str, float]]:
    lazy = _whole_setup(case_file, lazy=True)
    eager = loaded_case_setup(case_file, _IMPORTS)
    out: dict[str, dict[str, float]] = {}
    lazy_reset = _reset_setup(case_file, lazy=True)
    out["lazy loaded"] = measure(lazy, "pass", repeat=1)
    out["lazy resident"] = measure(lazy_reset, "pass", repeat=1)
    streamed = measure(lazy_reset, "monitoring.replay(case)", repeat=repeat)
    streamed["whole_mib"] = measure(lazy, "monitoring.replay(case)", repeat=1)["peak_mib"]
    out[STREAMED] = streamed
    loaded = measure(eager, "pass", repeat=1)
    out["loaded"] = loaded
    whole = measure(_whole_setup(case_file, lazy=False), "monitoring.replay(case)", repeat=1)
    in_memory = measure(eager, "monitoring.replay(case)", repeat=repeat)
    in_memory["whole_mib"] = whole["peak_mib"]
    out[IN_MEMORY] = in_memory
    out[ONE_AT_A_TIME] = measure(eager, _ONE_AT_A_TIME.replace("SAMPLED", str(SAMPLED)), repeat=1)
    return out


def _text(rows, repeat, results, serving_rows, parts, monitors) -> str:
    loaded = results["loaded"]["peak_mib"]
    lazy_loaded = results["lazy loaded"]["peak_mib"]
    lazy_resident = results["lazy resident"]["peak_mib"]
    streamed, in_memory = results[STREAMED], results[IN_MEMORY]
    alone = results[ONE_AT_A_TIME]["seconds"]
    lines = [
        "## Monitoring replay",
        "",
        f"Sample case generated with rows={rows:,}, parts={parts}: a serving log of "
        f"{serving_rows:,} events in {parts} Parquet files, {monitors} default monitors. Best "
        f"of {repeat} fresh process(es) (the one-at-a-time baseline: 1). Machine: {machine()}.",
        "",
        "| step | seconds | extra peak MiB | whole-process peak MiB |",
        "| --- | ---: | ---: | ---: |",
        f"| {STREAMED} | {streamed['seconds']:.2f} | "
        f"{max(0.0, streamed['peak_mib'] - lazy_resident):.0f} | {streamed['whole_mib']:.0f} |",
        f"| {IN_MEMORY} | {in_memory['seconds']:.2f} | "
        f"{max(0.0, in_memory['peak_mib'] - loaded):.0f} | {in_memory['whole_mib']:.0f} |",
        f"| {ONE_AT_A_TIME} | {alone:.2f} | "
        f"{max(0.0, results[ONE_AT_A_TIME]['peak_mib'] - loaded):.0f} | |",
        f"| baseline scaled to all {monitors} monitors (x{monitors / SAMPLED:.1f}) | "
        f"{alone * monitors / SAMPLED:.0f} | | |",
        "",
        "Target (issue 6): a 10M-event log in at most 60 s and 2 GB (whole process) on 2 cores. "
        "Streamed: the case is loaded with `load_case(path, lazy=True)` (the training data and "
        "the serving log on disk, a sample of each in memory), then the replay reads only the "
        "columns the monitors need from the files, row groups "
        f"{READ_ROWS:,} rows at a time, and profiles the log in time order 14 UTC days at a "
        f"time (fewer days where they hold more than {MAX_SPAN_ROWS:,} events); its result "
        "equals the in-memory replay's (tests/test_monitoring_stream.py). The whole-process "
        "peak includes the interpreter, the imports and loading the lazy case "
        f"({lazy_loaded:.0f} MiB peak while loading, {lazy_resident:.0f} MiB resident once "
        "loaded); the replay's extra peak is its own memory above the loaded lazy case. "
        "In memory: "
        f"the whole log is loaded into pandas first ({loaded:.0f} MiB resident once loaded, "
        "the extra peak is the replay's own memory above that).",
        "",
        f"Streamed over in-memory: x{in_memory['seconds'] / streamed['seconds']:.2f} the speed "
        f"of the replay step, and {streamed['whole_mib'] / 1024:.2f} GiB against "
        f"{in_memory['whole_mib'] / 1024:.2f} GiB whole-process peak. The one-at-a-time "
        "baseline replays monitors as separate monitoring jobs would, each with its own pass "
        "over the raw rows.",
    ]
    return "\n".join(lines)


def _whole_setup(case_file: Path, *, lazy: bool) -> str:
    """Setup for :func:`measure` that loads the case and resets nothing: the step's peak is
    the whole process's."""
    return f"""
{_IMPORTS}
import prodready
case = prodready.load_case({str(case_file)!r}{", lazy=True" if lazy else ""})
"""


def _reset_setup(case_file: Path, *, lazy: bool) -> str:
    """:func:`loaded_case_setup` for a lazily loaded case: the peak-memory mark is reset
    after loading, so a step's peak counts only what comes after."""
    eager = loaded_case_setup(case_file, _IMPORTS)
    return eager.replace(
        f"load_case({str(case_file)!r})", f"load_case({str(case_file)!r}, lazy={lazy})"
    )


def _find_case(path: Path) -> Path:
    path = Path(path)
    return path / "case.yaml" if path.is_dir() else path


def _generated_rows(case_file: Path, default: int) -> int:
    """``rows=`` from the generator's comment at the top of a sample case file."""
    import re

    found = re.search(r"rows=(\d+)", case_file.read_text().split("\n", 1)[0])
    return int(found.group(1)) if found else default


def _serving_files(case_file: Path) -> tuple[Path, ...]:
    import prodready

    spec_case = prodready.load_case(case_file, lazy=True, sample_rows=1_000)
    return spec_case.data_files("serving")


def _serving_rows(case_file: Path) -> int:
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(f).metadata.num_rows for f in _serving_files(case_file))


def _monitor_count(case_file: Path) -> int:
    import prodready
    from prodready import monitoring

    case = prodready.load_case(case_file, lazy=True, sample_rows=1_000)
    return len(monitoring.default_monitors(case))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--case", type=Path, help="a card_fraud case written with parts= (default: generate)"
    )
    args = parser.parse_args()
    text = run(args.rows, args.repeat, args.case)
    print(text)
    write_section("monitoring", text)


if __name__ == "__main__":
    main()
