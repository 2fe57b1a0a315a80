"""Benchmark: load and validate a case, and compute its overview, at growing sizes.

Baseline, measured in the same run: reading the same two Parquet files with ``pandas.read_parquet``
and nothing else. The difference is what validation (types, labels, scores, ids, timestamps) and
the overview cost on top of reading the data.

    .venv/bin/python benchmarks/bench_case.py [--rows 120000 1000000]

Writes its section of docs/performance.md.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _report import machine, measure, write_section

from prodready import samples


def run(rows: list[int], repeat: int) -> str:
    lines = [
        "## Loading a case and its overview",
        "",
        f"Sample case `card_fraud` generated at each size; best of {repeat} fresh processes; "
        f"peak = resident memory of the whole process. Machine: {machine()}.",
        "",
        "| rows (distinct transactions) | step | seconds | x baseline | peak MiB |",
        "| ---: | --- | ---: | ---: | ---: |",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for n in rows:
            case_file = samples.write("card_fraud", Path(tmp) / str(n), rows=n, seed=0)
            folder = case_file.parent
            read = (
                f"import pandas as pd; pd.read_parquet('{folder}/training.parquet'); "
                f"pd.read_parquet('{folder}/serving_log.parquet')"
            )
            steps = {
                "baseline: pandas.read_parquet of both files": ("import pandas as pd", read),
                "prodready.load_case (read + validate)": (
                    "import prodready",
                    f"prodready.load_case('{case_file}')",
                ),
                "load_case + overview (300 bootstrap resamples)": (
                    "import prodready; from prodready.overview import overview",
                    f"overview(prodready.load_case('{case_file}'))",
                ),
            }
            baseline = None
            for label, (setup, step) in steps.items():
                result = measure(setup, step, repeat=repeat)
                baseline = baseline or result["seconds"]
                lines.append(
                    f"| {n:,} | {label} | {result['seconds']:.2f} | "
                    f"{result['seconds'] / baseline:.1f} | {result['peak_mib']:.0f} |"
                )
                print(lines[-1], flush=True)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[120_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    write_section("case", run(args.rows, args.repeat))


if __name__ == "__main__":
    main()
