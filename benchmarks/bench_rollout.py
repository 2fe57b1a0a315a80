"""Benchmark: 500 Monte Carlo replays of a rollout plan on a serving log of about 1M events.

Data: the sample generator (``prodready.samples.write("card_fraud", rows=2_000_000)``), whose
serving log holds about a million events, written once and loaded in each fresh process (not
timed). Steps, measured in the same run (best wall time of ``--repeat`` fresh processes):

* ``prodready.rollout.monte_carlo(case, n=500)``: default plan and triggers;
* the same with a ``hold`` rule added, which makes each replay's stage dates its own and takes
  the day-by-day path;
* ``prodready.rollout.simulate`` once (one replay);
* baseline: a straightforward per-day pandas loop (each replay: assign arms, then for each day
  select that day's rows, group them by arm, accumulate value and counts, and test the
  cumulative difference), timed on 5 replays and multiplied by 100 for 500 (labelled as such).

Extra peak memory is the step's resident high-water mark minus the resident memory once the case
is loaded (the mark is reset after loading), as for the skew benchmark.

    .venv/bin/python benchmarks/bench_rollout.py [--rows 2000000] [--repeat 3]

Writes its section ("rollout") of docs/performance.md.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _report import loaded_case_setup, machine, measure, write_section

from prodready import samples

_IMPORTS = """import numpy as np, pandas as pd
from prodready.rollout import Trigger, arm_position, default_triggers, monte_carlo, simulate"""

_PANDAS_LOOP = """
cols = case.columns
log = case.serving
day = ((log[cols.timestamp] - log[cols.timestamp].min().normalize()).dt.days).to_numpy()
value_matrix = case.business.value
truth = log[cols.label].astype("float64")
def value(scores):
    act = scores >= case.business.threshold
    v = np.where(act, np.where(truth == 1, value_matrix.true_positive, value_matrix.false_positive),
                 np.where(truth == 1, value_matrix.false_negative, value_matrix.true_negative))
    return pd.Series(np.where(truth.notna(), v, 0.0), index=log.index)
v0, v1 = value(log[cols.prediction].to_numpy()), value(log[cols.challenger].to_numpy())
for replay in range(5):
    u = arm_position(log[cols.id], replay)
    totals = {0: [0.0, 0.0, 0], 1: [0.0, 0.0, 0]}
    for d in range(int(day.max()) + 1):
        rows = log[day == d]
        arm = pd.Series((u[day == d] < 0.25).astype(int), index=rows.index)
        values = pd.Series(np.where(arm == 1, v1[rows.index], v0[rows.index]), index=rows.index)
        for a, part in values.groupby(arm):
            totals[a][0] += part.sum(); totals[a][1] += (part ** 2).sum(); totals[a][2] += len(part)
        if totals[0][2] > 30 and totals[1][2] > 30:
            m = [totals[a][0] / totals[a][2] for a in (0, 1)]
            var = [totals[a][1] / totals[a][2] - m[a] ** 2 for a in (0, 1)]
            z = (m[1] - m[0]) / np.sqrt(var[0] / totals[0][2] + var[1] / totals[1][2])
"""


_WITH_HOLD = """
rules = [*default_triggers(case), Trigger("flag_rate", ceiling=0.05, action="hold")]
monte_carlo(case, triggers=rules, n=500, seed=0)
"""


def run(rows: int, repeat: int) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        case_file = samples.write("card_fraud", Path(tmp), rows=rows, seed=0)
        setup = loaded_case_setup(case_file, _IMPORTS)
        loaded = measure(setup, "pass", repeat=1)["peak_mib"]
        results = {
            "prodready monte_carlo, 500 replays": measure(
                setup, "monte_carlo(case, n=500, seed=0)", repeat=repeat
            ),
            "prodready monte_carlo with a hold rule (day by day), 500 replays": measure(
                setup, _WITH_HOLD, repeat=repeat
            ),
            "prodready simulate, 1 replay": measure(setup, "simulate(case)", repeat=repeat),
            "baseline: per-day pandas loop, 5 replays": measure(setup, _PANDAS_LOOP, repeat=1),
        }
        serving_rows = _serving_rows(case_file)
    baseline_500 = results["baseline: per-day pandas loop, 5 replays"]["seconds"] * 100
    lines = [
        "## Rollout replay: Monte Carlo",
        "",
        f"Sample case generated with rows={rows:,}: a serving log of {serving_rows:,} events. "
        f"Best of {repeat} fresh processes (the baseline: 1). Machine: {machine()}.",
        "",
        "| step | seconds | extra peak MiB |",
        "| --- | ---: | ---: |",
    ]
    for label, result in results.items():
        extra = max(0.0, result["peak_mib"] - loaded)
        lines.append(f"| {label} | {result['seconds']:.2f} | {extra:.0f} |")
    lines += [
        f"| baseline extrapolated to 500 replays (x100) | {baseline_500:.0f} | |",
        "",
        f"Resident memory with the case (training and serving) loaded: {loaded:.0f} MiB; "
        "extra peak = the step's peak minus that (the peak mark is reset after loading). "
        "Target (issue 4): 500 replays of a 1M-event log in at most 20 s and 1 GB.",
    ]
    return "\n".join(lines)


def _serving_rows(case_file: Path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(case_file.parent / "serving_log.parquet").metadata.num_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    text = run(args.rows, args.repeat)
    print(text)
    write_section("rollout", text)


if __name__ == "__main__":
    main()
