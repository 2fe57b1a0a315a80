"""Benchmark: every default monitor replayed day by day over a large serving log.

Data: the sample generator (``prodready.samples.write("card_fraud", rows=ROWS)``; about half the
rows are the serving log), written once and loaded in each fresh process (not timed). Steps,
measured in the same run (best wall time of ``--repeat`` fresh processes):

* ``prodready.monitoring.replay(case)``: the daily profiles computed once (one grouping of the
  rows by day), shared by every default monitor;
* baseline: monitors replayed one at a time (``replay(case, [monitor])``), each with its own
  pass over the raw rows as separate monitoring jobs would; 5 are timed and the time is scaled
  to all of them (labelled as such).

Peak memory is the step's resident high-water mark minus the resident memory once the case is
loaded (the mark is reset after loading).

    .venv/bin/python benchmarks/bench_monitoring.py [--rows 20000000] [--repeat 1]

Writes its section ("monitoring") of docs/performance.md.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _report import loaded_case_setup, machine, measure, write_section

from prodready import samples

_IMPORTS = """from prodready import monitoring"""

_ONE_AT_A_TIME = """
monitors = monitoring.default_monitors(case)
for monitor in monitors[:SAMPLED]:
    monitoring.replay(case, [monitor])  # its own pass over the raw rows, nothing shared
"""
SAMPLED = 5  # monitors timed one at a time; the time is scaled to all of them


def run(rows: int, repeat: int) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        case_file = samples.write("card_fraud", Path(tmp), rows=rows, seed=0)
        setup = loaded_case_setup(case_file, _IMPORTS)
        loaded = measure(setup, "pass", repeat=1)["peak_mib"]
        results = {
            "prodready replay: every default monitor, profiles shared": measure(
                setup, "monitoring.replay(case)", repeat=repeat
            ),
            "baseline: 5 monitors, each replayed alone from the raw rows": measure(
                setup, _ONE_AT_A_TIME.replace("SAMPLED", str(SAMPLED)), repeat=1
            ),
        }
        serving_rows = _serving_rows(case_file)
        monitors = _monitor_count(case_file)
    lines = [
        "## Monitoring replay",
        "",
        f"Sample case generated with rows={rows:,}: a serving log of {serving_rows:,} events, "
        f"{monitors} default monitors. Best of {repeat} fresh process(es) (the baseline: 1). "
        f"Machine: {machine()}.",
        "",
        "| step | seconds | extra peak MiB |",
        "| --- | ---: | ---: |",
    ]
    for label, result in results.items():
        extra = max(0.0, result["peak_mib"] - loaded)
        lines.append(f"| {label} | {result['seconds']:.2f} | {extra:.0f} |")
    alone = results["baseline: 5 monitors, each replayed alone from the raw rows"]["seconds"]
    replayed = results["prodready replay: every default monitor, profiles shared"]
    replay_extra = max(0.0, replayed["peak_mib"] - loaded)
    lines.append(
        f"| baseline scaled to all {monitors} monitors (x{monitors / SAMPLED:.1f}) | "
        f"{alone * monitors / SAMPLED:.0f} | |"
    )
    lines += [
        "",
        f"Resident memory with the case loaded: {loaded:.0f} MiB; extra peak = the step's peak "
        "minus that. Target (issue 6): a 10M-event log in at most 60 s and 2 GB on 2 cores. The "
        "baseline replays monitors one at a time, each with its own pass over the raw rows, as "
        "separate monitoring jobs would.",
        "",
        "Reading the memory figures: the extra peak is the replay's own memory above the loaded "
        f"case ({replay_extra:.0f} MiB, about {replay_extra * 2**20 / serving_rows:.0f} bytes "
        "per event: the day-by-day profile arrays, one feature at a time); the loader holds the "
        f"case (training and serving frames) at {loaded / 1024:.1f} GiB. So the whole process "
        f"peaks near {(loaded + replay_extra) / 1024:.1f} GiB: the 2 GB target is met by neither "
        "part alone at this size; it needs the profiles computed out of core without loading the "
        "log into pandas (DuckDB), which is the scale issue's work.",
    ]
    return "\n".join(lines)


def _serving_rows(case_file: Path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(case_file.parent / "serving_log.parquet").metadata.num_rows


def _monitor_count(case_file: Path) -> int:
    import prodready
    from prodready import monitoring

    return len(monitoring.default_monitors(prodready.load_case(case_file)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    text = run(args.rows, args.repeat)
    print(text)
    write_section("monitoring", text)


if __name__ == "__main__":
    main()
