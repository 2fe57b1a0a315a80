"""Benchmark: distribution skew of every feature, training against serving, on wide data.

Data: ``prodready.samples.wide.generate(rows)`` (20 numeric + 5 categorical features, 1M training
and 1M serving rows by default), written once to Parquet and read back in each fresh process.
Steps, each measured in the same run (best wall time of ``--repeat`` fresh processes):

* the binned path (``prodready.stats.compare_frames(..., method="binned")``, 2 threads);
* the same on 1 thread;
* the exact path (``method="exact"``, 2 threads);
* what the skew audit runs: every feature against all serving and against each serving month
  (``prodready.skew.distribution.drift_by_feature``, 2 threads);
* baseline: a plain per-column scipy loop (``ks_2samp`` + ``wasserstein_distance`` per numeric
  column, ``chi2_contingency`` per categorical column on ``value_counts``), single-threaded.

"Extra peak" is the step's peak resident memory minus the resident memory once the frames are
loaded: the process's high-water mark is reset after loading (``/proc/self/clear_refs``), so the
transient memory of reading Parquet is not counted for either.

    .venv/bin/python benchmarks/bench_skew.py [--rows 1000000] [--repeat 3]

Writes its section ("skew") of docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np
from _report import machine, measure, write_section

from prodready.samples import wide
from prodready.stats import compare_frames

_SETUP = """
import os
os.environ.setdefault("OMP_NUM_THREADS", "2")
import gc
import numpy as np, pandas as pd, scipy.stats
from prodready.stats import compare_frames
training = pd.read_parquet({training!r})
serving = pd.read_parquet({serving!r})
numeric = [c for c in training if c.startswith("num_")]
categorical = [c for c in training if c.startswith("cat_")]
from prodready import Case
from prodready.skew.distribution import drift_by_feature
from prodready.spec import CaseSpec
for frame, start in ((training, "2025-01-01"), (serving, "2025-07-01")):
    frame["ts"] = pd.date_range(start, periods=len(frame), freq="15s", tz="UTC")
    frame["y"] = pd.array(np.arange(len(frame)) % 2, dtype="Int8")
    frame["p"] = 0.5
case = Case(
    spec=CaseSpec.model_validate({{
        "name": "wide", "task": "binary",
        "columns": {{"timestamp": "ts", "label": "y", "prediction": "p"}},
        "features": [{{"name": c, "type": "numeric"}} for c in numeric]
        + [{{"name": c, "type": "categorical"}} for c in categorical],
    }}),
    training=training,
    serving=serving,
)
gc.collect()
try:
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")  # reset the peak-memory mark: count only what comes after loading
except OSError:
    pass
"""

_SCIPY_LOOP = """
for c in numeric:
    a, b = training[c].dropna().to_numpy(), serving[c].dropna().to_numpy()
    scipy.stats.ks_2samp(a, b)
    scipy.stats.wasserstein_distance(a, b)
for c in categorical:
    counts = pd.concat([training[c].value_counts(), serving[c].value_counts()], axis=1)
    scipy.stats.chi2_contingency(counts.fillna(0).to_numpy().T)
"""

STEPS = {
    "frames loaded (reference for extra memory)": "pass",
    "prodready binned path, 2 threads": (
        "compare_frames(training, serving, numeric=numeric, categorical=categorical, "
        "method='binned', workers=2)"
    ),
    "prodready binned path, 1 thread": (
        "compare_frames(training, serving, numeric=numeric, categorical=categorical, "
        "method='binned', workers=1)"
    ),
    "prodready exact path, 2 threads": (
        "compare_frames(training, serving, numeric=numeric, categorical=categorical, "
        "method='exact', workers=2)"
    ),
    "skew audit's distribution part: overall and per serving month (6 months), 2 threads": (
        "drift_by_feature(case, workers=2)"
    ),
    "baseline: per-column scipy loop": _SCIPY_LOOP,
}


def _accuracy(training, serving) -> str:
    """Largest binned-vs-exact differences over the numeric features, with the largest bound."""
    numeric = [c for c in training if c.startswith("num_")]
    exact = compare_frames(training, serving, numeric=numeric, method="exact")
    binned = compare_frames(training, serving, numeric=numeric, method="binned")
    ks = max(abs(exact[c].ks_stat - binned[c].ks_stat) for c in numeric)
    bound = max(binned[c].error_bound for c in numeric)
    w = max(abs(exact[c].wasserstein_norm - binned[c].wasserstein_norm) for c in numeric)
    psi = max(abs(exact[c].psi - binned[c].psi) for c in numeric)
    return (
        f"Binned against exact on these {len(numeric)} numeric features: largest KS difference "
        f"{ks:.2e} (largest reported `error_bound` {bound:.2e}), largest normalised Wasserstein "
        f"difference {w:.2e}, largest PSI difference {psi:.1e} (same decile edges on both paths)."
    )


def run(rows: int, repeat: int) -> str:
    training, serving = wide.generate(rows, seed=0)
    columns = training.shape[1]
    numeric = sum(c.startswith("num_") for c in training)
    load = os.getloadavg()[0]
    accuracy = _accuracy(training, serving)
    lines = [
        "## Distribution skew on wide data",
        "",
        f"`samples.wide.generate({rows:,})`: {rows:,} training + {rows:,} serving rows x "
        f"{columns} features ({numeric} numeric, {columns - numeric} categorical); every "
        f"feature's distances and tests, training against serving. Best of {repeat} fresh "
        "processes; extra peak = peak resident memory of the step minus resident memory once "
        f"the frames are loaded. Machine: {machine()}, load average {load:.1f} at start.",
        "",
        "| step | seconds | x baseline | extra peak MiB |",
        "| --- | ---: | ---: | ---: |",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        paths = {name: str(Path(tmp) / f"{name}.parquet") for name in ("training", "serving")}
        training.to_parquet(paths["training"])
        serving.to_parquet(paths["serving"])
        del training, serving
        setup = _SETUP.format(**paths)
        results = {label: measure(setup, step, repeat=repeat) for label, step in STEPS.items()}
    loaded = results.pop("frames loaded (reference for extra memory)")["peak_mib"]
    baseline = results["baseline: per-column scipy loop"]["seconds"]
    for label, result in results.items():
        lines.append(
            f"| {label} | {result['seconds']:.2f} | {result['seconds'] / baseline:.2f} | "
            f"{max(0.0, result['peak_mib'] - loaded):.0f} |"
        )
        print(lines[-1], flush=True)
    lines += ["", f"Resident memory with the frames loaded: {loaded:.0f} MiB. {accuracy}"]
    print(lines[-1])
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    np.seterr(all="ignore")
    write_section("skew", run(args.rows, args.repeat))


if __name__ == "__main__":
    main()
