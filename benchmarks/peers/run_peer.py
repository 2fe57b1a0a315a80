"""Run one peer drift tool on reference vs current Parquet files; print one JSON line.

Runs INSIDE the peer venv made by ``setup.sh`` (never the project's: the peers pin old plotly),
and imports nothing from prodready.

    python run_peer.py --tool evidently|nannyml --reference REF.parquet --current CUR.parquet \
        --numeric a,b,c --categorical d,e [--timestamp COL]

Output keys: tool, version, seconds (the drift computation only, data already in pandas),
load_seconds, rss_before_mib (after loading, before computing), peak_rss_mib (ru_maxrss at the
end), drifted (the columns the tool flags), n_columns, plus settings (what was run).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import resource
import sys
import time

# No usage telemetry from either tool (both phone home by default).
os.environ.setdefault("DO_NOT_TRACK", "1")  # evidently (iterative-telemetry)
os.environ.setdefault("NML_DISABLE_USAGE_LOGGING", "1")  # nannyml (segment)

import pandas as pd


def _rss_mib() -> float:
    """Current resident memory of this process in MiB (from /proc, Linux)."""
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_rss_mib() -> float:
    """High-water resident memory of this process in MiB (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_hwm() -> None:
    """Reset the kernel's peak-memory mark (VmHWM), as benchmarks/bench_skew.py does."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        pass


def _hwm_mib() -> float:
    """VmHWM in MiB: the peak since the last reset (ru_maxrss ignores resets)."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _evidently(ref, cur, numeric, categorical, timestamp):
    """DataDriftPreset with its defaults; the columns whose ValueDrift test fails are flagged."""
    import evidently
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
    start = time.perf_counter()
    report = Report([DataDriftPreset()], include_tests=True)
    snapshot = report.run(
        Dataset.from_pandas(cur, data_definition=definition),
        Dataset.from_pandas(ref, data_definition=definition),
    )
    result = snapshot.dict()
    seconds = time.perf_counter() - start
    drifted = []
    for test in result["tests"]:
        column = (test.get("metric_config") or {}).get("params", {}).get("column")
        if column is not None and test.get("status") == "FAIL":
            drifted.append(column)
    methods = {
        m["config"]["column"]: m["config"].get("method")
        for m in result["metrics"]
        if "column" in m.get("config", {})
    }
    settings = {
        "preset": "DataDriftPreset() (defaults), Report(include_tests=True)",
        "chunking": "none (whole sets)",
        "methods": methods,
    }
    return evidently.__version__, seconds, drifted, settings


def _nannyml(ref, cur, numeric, categorical, timestamp):
    """UnivariateDriftCalculator (KS + JS on numeric, chi2 + JS on categorical), fit + calculate.

    One chunk for the whole set, or monthly chunks (chunk_period="M") when a timestamp is given;
    a column is flagged when any method alerts on any analysis chunk.
    """
    import nannyml as nml

    chunking = {"chunk_period": "M"} if timestamp else {"chunk_number": 1}
    start = time.perf_counter()
    calculator = nml.UnivariateDriftCalculator(
        column_names=numeric + categorical,
        treat_as_numerical=numeric,
        treat_as_categorical=categorical,
        timestamp_column_name=timestamp,
        continuous_methods=["kolmogorov_smirnov", "jensen_shannon"],
        categorical_methods=["chi2", "jensen_shannon"],
        **chunking,
    )
    calculator.fit(ref)
    fit_seconds = time.perf_counter() - start
    results = calculator.calculate(cur).filter(period="analysis").to_df()
    seconds = time.perf_counter() - start
    drifted = []
    for column in numeric + categorical:
        alerts = results.loc[:, [c for c in results.columns if c[0] == column and c[2] == "alert"]]
        if alerts.fillna(False).astype(bool).to_numpy().any():
            drifted.append(column)
    chunks = len(results)
    settings = {"chunking": f"{chunking} -> {chunks} analysis chunk(s)", "fit_seconds": fit_seconds}
    return nml.__version__, seconds, drifted, settings


_TOOLS = {"evidently": _evidently, "nannyml": _nannyml}
_MODULES = {"evidently": "evidently.presets", "nannyml": "nannyml"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tool", required=True, choices=sorted(_TOOLS))
    parser.add_argument("--reference", required=True)
    parser.add_argument("--current", required=True)
    parser.add_argument("--numeric", default="")
    parser.add_argument("--categorical", default="")
    parser.add_argument("--timestamp", default=None)
    args = parser.parse_args(argv)
    numeric = [c for c in args.numeric.split(",") if c]
    categorical = [c for c in args.categorical.split(",") if c]
    if args.tool == "evidently":
        args.timestamp = None  # the preset compares whole sets; a datetime column only adds work
    columns = numeric + categorical + ([args.timestamp] if args.timestamp else [])

    # Import the tool first, so rss_before_mib includes it and extra_peak_mib is the computation.
    importlib.import_module(_MODULES[args.tool])
    start = time.perf_counter()
    ref = pd.read_parquet(args.reference, columns=columns)
    cur = pd.read_parquet(args.current, columns=columns)
    load_seconds = time.perf_counter() - start
    gc.collect()
    rss_before = _rss_mib()
    _reset_hwm()

    version, seconds, drifted, settings = _TOOLS[args.tool](
        ref, cur, numeric, categorical, args.timestamp
    )
    line = {
        "tool": args.tool,
        "version": version,
        "seconds": round(seconds, 3),
        "load_seconds": round(load_seconds, 3),
        "peak_rss_mib": round(_peak_rss_mib(), 1),
        "rss_before_mib": round(rss_before, 1),
        "extra_peak_mib": round(_hwm_mib() - rss_before, 1),
        "drifted": drifted,
        "n_columns": len(numeric) + len(categorical),
        "rows": [len(ref), len(cur)],
        "settings": settings,
    }
    print(json.dumps(line), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
