"""Benchmark: the skew audit at scale, against Evidently and NannyML, and how its cost grows.

Three parts, measured in one run on the same machine:

* **rows**: the card-fraud sample case (``prodready.samples.write("card_fraud", DIR,
  rows=1.85 x N, seed=0, parts=max(10, N / 1M))``, about N serving rows; the real count is read
  back from the Parquet footers) at N = 1M, 10M, 100M serving rows. Each size runs in fresh
  processes: ``prodready.load_case(DIR, lazy=True)`` then either the whole
  ``prodready.skew.audit(case)`` or only its distribution part,
  ``prodready.skew.distribution.drift_by_feature(case)``. Wall time of loading and of the
  step, and the whole process's peak resident memory (loading included; the issue's target,
  under 4 GB at 100M rows, is for the whole process).
* **peers** (on the 1M data): Evidently's ``DataDriftPreset`` and NannyML's univariate drift
  (``benchmarks/_peers.py``, in their own venv) on the same 12 features, training against
  serving: ``training.parquet`` and the serving parts concatenated into one Parquet file
  (written once beside the case, ``peers/serving_log.parquet``). Ratios are ours against
  theirs; the like-for-like one is the distribution part (the same comparisons: every feature,
  training against serving, and per serving month); the whole audit also does row-level skew,
  leakage and the model's metric gap.
* **features**: ``prodready.samples.wide.generate(rows, numeric=0.8 k, categorical=0.2 k)`` at
  k = 25, 100, 250, 500 features, written as Parquet (training file, serving log in 2 parts)
  with a case file (a timestamp, a random 0/1 label and a random score added: wide data has
  none), measured through the same path as the rows sweep.

Generated data is cached under ``--data-dir`` (default: ``prodready-bench-scale`` in the system
temp folder), one folder per rows/seed/parts, and reused when its ``case.yaml`` exists (the
generator writes it last). ``--case N=DIR`` takes an existing card-fraud case for size N.

    .venv/bin/python benchmarks/bench_scale.py [--serving-rows 1000000,10000000,100000000]
        [--features 25,100,250,500] [--feature-rows 200000] [--repeat 1] [--data-dir DIR]
        [--case N=DIR] [--no-generate] [--peers/--no-peers] [--peers-at 1000000] [--peers-only]

``--peers-only`` measures our steps at the peers' size and the peers, nothing else. Writes its
sections of docs/performance.md ("scale": rows; "scale_peers"; "scale_features") and the
cost-growth figures docs/performance_scale_rows.svg and docs/performance_scale_features.svg
(plotly's static export: needs kaleido and a Chromium; without them the section says the
figures were not drawn).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from _peers import run_peer
from _report import PERFORMANCE_MD, machine, write_section

from prodready import charts, samples
from prodready.files import write_atomic

SERVING_SHARE_ROWS = 1.85  # rows= to ask the generator for per serving row wanted (~54 % serve)
MEMORY_TARGET_MIB = 4e9 / 2**20  # "under 4 GB" for the whole process at 100M rows (3,815 MiB)
SPEED_TARGETS = {"evidently": 30.0, "nannyml": 8.0}  # at least this many times faster
PEER_SIZE = 1_000_000
DOCS = PERFORMANCE_MD.parent
FIGURES = {
    "rows": DOCS / "performance_scale_rows.svg",
    "features": DOCS / "performance_scale_features.svg",
}

AUDIT = "skew audit"
DISTRIBUTION = "distribution part"
STEPS = {AUDIT: "skew.audit(case)", DISTRIBUTION: "drift_by_feature(case)"}

# One fresh process per measurement: imports, the lazy load and the step each timed; the peak
# resident memory (VmHWM) read after loading, then reset, then read again after the step.
_PROBE = """
import gc, json, os, sys, time
def _status(key):
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(key):
                return int(line.split()[1]) / 1024
start = time.perf_counter()
import prodready
from prodready import skew
from prodready.skew.distribution import drift_by_feature
imported = time.perf_counter()
case = prodready.load_case(sys.argv[1], lazy=True)
loaded = time.perf_counter()
load_peak = _status("VmHWM:")
gc.collect()
resident = _status("VmRSS:")
try:
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")  # reset the peak mark: the step's own peak from here
except OSError:
    pass
begin = time.perf_counter()
exec(sys.argv[2])
done = time.perf_counter()
step_peak = _status("VmHWM:")
print()
print(json.dumps({
    "import_seconds": imported - start, "load_seconds": loaded - imported,
    "step_seconds": done - begin, "load_peak_mib": load_peak, "resident_mib": resident,
    "step_peak_mib": step_peak, "peak_mib": max(load_peak, step_peak),
    "training_rows_in_memory": len(case.training), "serving_rows_in_memory": len(case.serving),
    "training_on_disk": getattr(case, "training_source", None) is not None,
}))
"""


def probe(case_dir: Path, step: str, repeat: int) -> dict:
    """Best times and largest peaks of ``step`` over ``repeat`` fresh processes."""
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", _PROBE, str(case_dir), STEPS[step]],
            capture_output=True,
            text=True,
            env={**os.environ, "OMP_NUM_THREADS": "2"},
            check=False,
        )
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        if done.returncode != 0 or not lines:
            raise RuntimeError(f"{step} on {case_dir} failed:\n{done.stderr[-3000:]}")
        runs.append(json.loads(lines[-1]) | {"process_seconds": time.perf_counter() - start})
    best = {k: min(r[k] for r in runs) for k in runs[0] if k.endswith("_seconds")}
    peaks = {k: max(r[k] for r in runs) for k in runs[0] if k.endswith("_mib")}
    return runs[0] | best | peaks | {"wall_seconds": best["load_seconds"] + best["step_seconds"]}


# --- data ---------------------------------------------------------------------------------


def card_fraud_case(serving_rows: int, data_dir: Path, given: dict[int, Path], generate: bool):
    """The case folder for about ``serving_rows`` serving rows: given, cached, or generated
    (None when absent and ``generate`` is off)."""
    if serving_rows in given:
        return given[serving_rows]
    rows = round(serving_rows * SERVING_SHARE_ROWS)
    parts = max(10, serving_rows // 1_000_000)
    folder = data_dir / f"card_fraud-rows{rows}-seed0-parts{parts}"
    if (folder / samples.CASE_FILE).exists():
        return folder
    if not generate:
        return None
    print(f"generating {folder} (rows={rows:,}, parts={parts})", flush=True)
    start = time.perf_counter()
    samples.write("card_fraud", folder, rows=rows, seed=0, parts=parts)
    print(f"  generated in {time.perf_counter() - start:.0f} s", flush=True)
    return folder


def role_files(case_dir: Path) -> dict[str, list[Path]]:
    """Role -> the data files the case names (resolved from the case file, nothing read)."""
    import yaml

    from prodready.case import data_files
    from prodready.spec import CaseSpec

    case_file = case_dir / samples.CASE_FILE if case_dir.is_dir() else case_dir
    spec = CaseSpec.model_validate(yaml.safe_load(case_file.read_text()))
    return data_files(case_file, spec)


def parquet_rows(files: list[Path]) -> int:
    return sum(pq.read_metadata(f).num_rows for f in files)


WIDE_NUMERIC_SHARE = 0.8  # wide data: 4 numeric features for each categorical one


def wide_case(features: int, rows: int, data_dir: Path) -> Path:
    """A case of ``features`` wide features (training ``rows`` rows, serving ``rows`` rows in
    2 files), cached: a timestamp over six months, a random 0/1 label (10 % ones) and a random
    score are added, since the wide generator makes features only."""
    from prodready.samples import wide

    folder = data_dir / f"wide-rows{rows}-features{features}-seed0"
    case_file = folder / samples.CASE_FILE
    if case_file.exists():
        return folder
    print(f"generating {folder}", flush=True)
    numeric = round(features * WIDE_NUMERIC_SHARE)
    training, serving = wide.generate(rows, numeric=numeric, categorical=features - numeric)
    rng = np.random.default_rng([0, features])
    (folder / "serving_log").mkdir(parents=True, exist_ok=True)
    for frame, start in ((training, "2025-01-01"), (serving, "2025-07-01")):
        begin = pd.Timestamp(start, tz="UTC")
        frame["event_time"] = pd.date_range(begin, begin + pd.Timedelta(days=182), periods=rows)
        frame["label"] = pd.array((rng.random(rows) < 0.1).astype("int8"), dtype="Int8")
        frame["score"] = rng.random(rows)
    _write_parquet(training, folder / "training.parquet")
    half = rows // 2
    for number, part in enumerate((serving.iloc[:half], serving.iloc[half:])):
        _write_parquet(part, folder / "serving_log" / f"part-{number:05d}.parquet")
    spec = {
        "name": f"Wide synthetic data, {features} features",
        "task": "binary",
        "training": {"path": "training.parquet"},
        "serving": {"path": "serving_log/*.parquet"},
        "columns": {"timestamp": "event_time", "label": "label", "prediction": "score"},
        "features": [
            {"name": c, "type": "numeric" if c.startswith("num_") else "categorical"}
            for c in training.columns
            if c.startswith(("num_", "cat_"))
        ],
    }
    import yaml

    header = f"# bench_scale.py: samples.wide.generate({rows}, numeric={numeric}, seed=0) + label\n"
    write_atomic(case_file, header + yaml.safe_dump(spec, sort_keys=False))  # last: complete
    return folder


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    temp = path.with_name(path.name + ".tmp")
    frame.to_parquet(temp, index=False)
    os.replace(temp, path)


# --- peers --------------------------------------------------------------------------------


def peer_inputs(case_dir: Path, data_dir: Path) -> dict:
    """Reference and current Parquet files for the peers, and the features both sets have.

    Reference: the training file. Current: the serving parts concatenated (only the features
    and the timestamp), written once under ``data_dir``."""
    import pyarrow as pa
    import yaml

    files = role_files(case_dir)
    spec = yaml.safe_load((case_dir / samples.CASE_FILE).read_text())
    timestamp = spec["columns"]["timestamp"]
    shared = set(pq.read_schema(files["training"][0]).names) & set(
        pq.read_schema(files["serving"][0]).names
    )
    numeric = [
        f["name"] for f in spec["features"] if f["type"] == "numeric" and f["name"] in shared
    ]
    categorical = [
        f["name"] for f in spec["features"] if f["type"] == "categorical" and f["name"] in shared
    ]
    if len(files["training"]) != 1:
        raise RuntimeError(f"peers take one training file; {case_dir} has {len(files['training'])}")
    current = data_dir / f"peers-{case_dir.name}" / "serving_log.parquet"
    if not current.exists():
        current.parent.mkdir(parents=True, exist_ok=True)
        columns = [timestamp, *numeric, *categorical]
        temp = current.with_name(current.name + ".tmp")
        schema = pq.read_schema(files["serving"][0])
        schema = pa.schema([schema.field(c) for c in columns])
        with pq.ParquetWriter(temp, schema) as writer:
            for part in files["serving"]:
                writer.write_table(pq.read_table(part, columns=columns))
        os.replace(temp, current)
    return {
        "reference": files["training"][0],
        "current": current,
        "numeric": numeric,
        "categorical": categorical,
        "timestamp": timestamp,
    }


PEER_RUNS = {
    "Evidently DataDriftPreset (whole sets)": ("evidently", False),
    "NannyML univariate drift, monthly chunks": ("nannyml", True),
    "NannyML univariate drift, 1 chunk": ("nannyml", False),
}


def run_peers(inputs: dict, repeat: int) -> dict[str, dict]:
    """Each peer configuration: best computation and end-to-end seconds, largest peaks."""
    out = {}
    for label, (tool, monthly) in PEER_RUNS.items():
        runs = []
        for _ in range(repeat):
            start = time.perf_counter()
            result = run_peer(
                tool,
                inputs["reference"],
                inputs["current"],
                inputs["numeric"],
                inputs["categorical"],
                timestamp=inputs["timestamp"] if monthly else None,
            )
            result["process_seconds"] = time.perf_counter() - start
            runs.append(result)
            print(f"  {label}: {json.dumps(result)[:400]}", flush=True)
        failed = [r for r in runs if "error" in r]
        if failed:
            out[label] = failed[0]
            continue
        best = {k: min(r[k] for r in runs) for k in ("seconds", "process_seconds")}
        peaks = {k: max(r[k] for r in runs) for k in ("peak_rss_mib", "extra_peak_mib")}
        out[label] = runs[0] | best | peaks
    return out


# --- sweeps -------------------------------------------------------------------------------


def rows_sweep(sizes, data_dir, given, generate, repeat) -> tuple[pd.DataFrame, list[str]]:
    """One row per (size, step) measured; and a note per size skipped or failed."""
    records, notes = [], []
    for size in sizes:
        case_dir = card_fraud_case(size, data_dir, given, generate)
        if case_dir is None:
            notes.append(
                f"{size:,} serving rows: skipped, no data under {data_dir} (--no-generate)"
            )
            continue
        files = role_files(case_dir)
        base = {
            "size": size,
            "case": str(case_dir),
            "serving_rows": parquet_rows(files["serving"]),
            "training_rows": parquet_rows(files["training"]),
            "files": len(files["serving"]),
        }
        for step in STEPS:
            print(f"{size:,} serving rows: {step}", flush=True)
            try:
                result = probe(case_dir, step, repeat)
            except RuntimeError as error:
                notes.append(f"{size:,} serving rows, {step}: failed: {_last_error(error)}")
                continue
            records.append(base | {"series": step} | result)
            print(f"  {json.dumps(records[-1])}", flush=True)
    return pd.DataFrame(records), notes


def features_sweep(counts, rows, data_dir, repeat) -> tuple[pd.DataFrame, list[str]]:
    """One row per (feature count, step) measured; and a note per step that failed."""
    records, notes = [], []
    for count in counts:
        case_dir = wide_case(count, rows, data_dir)
        numeric = round(count * WIDE_NUMERIC_SHARE)
        for step in STEPS:
            print(f"{count} features: {step}", flush=True)
            try:
                result = probe(case_dir, step, repeat)
            except RuntimeError as error:
                notes.append(f"{count} features, {step}: failed: {_last_error(error)}")
                print(f"  {notes[-1]}", flush=True)
                continue
            records.append(
                {"features": count, "numeric": numeric, "categorical": count - numeric}
                | {"series": step}
                | result
            )
            print(f"  {json.dumps(records[-1])}", flush=True)
    return pd.DataFrame(records), notes


def _last_error(error: Exception) -> str:
    """The last lines of a failed probe's traceback: the error and the package's message."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    start = max((i for i, line in enumerate(lines) if line.startswith("prodready.")), default=-1)
    return " ".join(lines[start:] if start >= 0 else lines[-3:])


# --- report -------------------------------------------------------------------------------


def _held(row) -> str:
    """Where the training data was: on disk with a sample in memory (lazy), or all in memory."""
    held = row["training_rows_in_memory"]
    if row["training_on_disk"]:
        return f"on disk, profiled there; {held:,} rows held in memory"
    return f"all {held:,} rows in memory"


def rows_text(table: pd.DataFrame, notes: list[str], repeat: int) -> list[str]:
    lines = [
        "### Rows",
        "",
        "Card-fraud sample case, `load_case(DIR, lazy=True)` then the step, in a fresh process "
        f"each (best of {repeat}). Load + step is the wall time a user waits after the imports; "
        "the peak is the whole process's resident high-water mark (interpreter, imports, loading "
        f"and the step). Target: 100M serving rows under 4 GB ({MEMORY_TARGET_MIB:,.0f} MiB).",
        "",
        "| serving rows | files | training rows | training data | step | load s | step s "
        "| load + step s | whole-process peak MiB | under 4 GB |",
        "| ---: | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for _, row in table.iterrows():
        under = "yes" if row["peak_mib"] < MEMORY_TARGET_MIB else "**no**"
        lines.append(
            f"| {row['serving_rows']:,} | {row['files']} | {row['training_rows']:,} | "
            f"{_held(row)} | {row['series']} | {row['load_seconds']:.1f} | "
            f"{row['step_seconds']:.1f} | {row['wall_seconds']:.1f} | {row['peak_mib']:,.0f} | "
            f"{under} |"
        )
    lines += ["", *[f"- {note}" for note in notes]] if notes else []
    return lines


def peers_text(ours: pd.DataFrame, peers: dict[str, dict], inputs: dict) -> list[str]:
    """The peers' table, ours on the same data, and the ratios with the targets' verdicts."""
    mine = {row["series"]: row for _, row in ours.iterrows()}
    first = mine[DISTRIBUTION]
    features = len(inputs["numeric"]) + len(inputs["categorical"])
    lines = [
        f"### Against Evidently and NannyML ({first['serving_rows']:,} serving rows)",
        "",
        f"Training ({first['training_rows']:,} rows) against serving ({first['serving_rows']:,} "
        f"rows) on the same {features} features ({len(inputs['numeric'])} numeric, "
        f"{len(inputs['categorical'])} categorical). Peers in their own venv "
        "(`benchmarks/peers/`), from `training.parquet` and the serving parts concatenated into "
        "one Parquet file. *Computation*: the peers' drift computation with the data already in "
        "pandas and the tool imported; ours is the step after `load_case(lazy=True)`, which "
        "still reads the files (every row, batch by batch). *End to end*: the whole "
        "fresh process (interpreter, imports, reading, computing), timed from outside. Peak: "
        "the whole process's resident high-water mark; extra peak: above the resident memory "
        "once the data is loaded.",
        "",
        "| tool | computation s | end to end s | peak MiB | extra peak MiB | columns flagged |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for step in (DISTRIBUTION, AUDIT):
        row = mine[step]
        lines.append(
            f"| prodready: {step} (`{STEPS[step]}`) | {row['step_seconds']:.2f} | "
            f"{row['process_seconds']:.1f} | {row['peak_mib']:,.0f} | "
            f"{max(0.0, row['step_peak_mib'] - row['resident_mib']):,.0f} | |"
        )
    for label, result in peers.items():
        if "error" in result:
            lines.append(f"| {label} | failed: {result['error']} | | | | |")
            continue
        lines.append(
            f"| {label} {result['version']} | {result['seconds']:.2f} | "
            f"{result['process_seconds']:.1f} | {result['peak_rss_mib']:,.0f} | "
            f"{result['extra_peak_mib']:,.0f} | {len(result['drifted'])} of "
            f"{result['n_columns']} |"
        )
    lines += [
        "",
        "Ratios: peer's time / ours (how many times faster we are) and our peak / peer's peak. "
        "The like-for-like comparison is the **distribution part**: the same comparisons the "
        "peers make (every feature, training against serving, and each serving month as "
        "NannyML's monthly chunks); the whole audit adds row-level skew on shared ids, leakage "
        "probes and the model's metric gap, which the peers do not compute.",
        "",
        "| against | target | ours | x faster, computation | x faster, end to end | "
        "our peak / theirs | speed target | less memory |",
        "| --- | ---: | --- | ---: | ---: | ---: | --- | --- |",
    ]
    verdicts = []
    for label, result in peers.items():
        if "error" in result:
            continue
        target = SPEED_TARGETS[result["tool"]]
        for step in (DISTRIBUTION, AUDIT):
            row = mine[step]
            faster = result["seconds"] / row["step_seconds"]
            end_to_end = result["process_seconds"] / row["process_seconds"]
            memory = row["peak_mib"] / result["peak_rss_mib"]
            speed = "pass" if faster >= target else "fail"
            less = "pass" if memory < 1 else "fail"
            if step == DISTRIBUTION:
                verdicts.append((label, faster, target, speed, less))
            lines.append(
                f"| {label} | {target:g}x | {step} | {faster:.2f} | {end_to_end:.2f} | "
                f"{memory:.2f} | {speed} | {less} |"
            )
    if verdicts:
        memory_ok = all(v[4] == "pass" for v in verdicts)
        speed_words = "; ".join(
            f"{label}: {faster:.1f}x against {target:g}x, **{speed}**"
            for label, faster, target, speed, _ in verdicts
        )
        lines += [
            "",
            f"Verdict (distribution part, computation): {speed_words}. Less memory than either "
            f"(whole-process peak): **{'pass' if memory_ok else 'fail'}**.",
        ]
    return lines


def features_text(table: pd.DataFrame, notes: list[str], rows: int, repeat: int) -> list[str]:
    lines = [
        "### Features",
        "",
        f"`samples.wide.generate({rows:,}, numeric=0.8 k, categorical=0.2 k)`: {rows:,} training "
        f"and {rows:,} serving rows (2 files) with a timestamp, a random label and score added, "
        "written as Parquet with a case file; measured as the rows sweep (`load_case(lazy=True)` "
        f"then the step, fresh process, best of {repeat}).",
        "",
        "| features (numeric + categorical) | step | load s | step s | load + step s "
        "| whole-process peak MiB |",
        "| ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for _, row in table.iterrows():
        lines.append(
            f"| {row['features']} ({row['numeric']} + {row['categorical']}) | {row['series']} | "
            f"{row['load_seconds']:.1f} | {row['step_seconds']:.1f} | {row['wall_seconds']:.1f} "
            f"| {row['peak_mib']:,.0f} |"
        )
    lines += ["", *[f"- {note}" for note in notes]] if notes else []
    return lines


def figure(table: pd.DataFrame, against: str) -> list[str]:
    """Draw the cost-growth figure against ``against`` (``rows`` or ``features``) as SVG beside
    docs/performance.md; the lines that show it."""
    if not len(table):
        return []
    if against == "rows":
        fig = charts.cost_growth(
            table.assign(seconds=table["wall_seconds"]),
            x="serving_rows",
            title="Skew audit: time and peak memory against serving rows",
            log_x=True,
            memory_limit_mib=MEMORY_TARGET_MIB,
        )
    else:
        fig = charts.cost_growth(
            table.assign(seconds=table["wall_seconds"]),
            x="features",
            title="Skew audit: time and peak memory against features",
        )
    path = FIGURES[against]
    try:
        write_atomic(path, fig.to_image(format="svg", width=900, height=520))
    except Exception as error:  # static export needs kaleido and a Chromium
        return [f"- figure against {against} not drawn: {type(error).__name__}: {error}"]
    return [
        f"![Cost against {against}: load + step seconds and peak MiB]({path.name})",
        "",
        "Time is load + step; peak is the whole process's. Charts: `prodready.charts.cost_growth`.",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serving-rows", default="1000000,10000000,100000000")
    parser.add_argument("--features", default="25,100,250,500")
    parser.add_argument("--feature-rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "prodready-bench-scale"
    )
    parser.add_argument(
        "--case", action="append", default=[], metavar="N=DIR",
        help="an existing card_fraud case folder for N serving rows (repeatable)",
    )  # fmt: skip
    parser.add_argument("--no-generate", dest="generate", action="store_false")
    parser.add_argument("--peers", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument(
        "--peers-only",
        action="store_true",
        help="measure only our steps at the peers' size and the peers (their own section)",
    )
    parser.add_argument(
        "--peers-at", type=int, default=PEER_SIZE, metavar="N", help="the size peers run on"
    )
    args = parser.parse_args()
    sizes = [int(n) for n in args.serving_rows.split(",") if n]
    counts = [int(n) for n in args.features.split(",") if n]
    given = {int(k): Path(v) for k, v in (item.split("=", 1) for item in args.case)}
    args.data_dir.mkdir(parents=True, exist_ok=True)
    load_start = os.getloadavg()[0]
    np.seterr(all="ignore")

    if args.peers_only:  # ours at the peers' size and the peers, in one run: their section
        sizes, counts = [], []
        at, _ = rows_sweep([args.peers_at], args.data_dir, given, args.generate, args.repeat)
        _peers_section(at, args, load_start)
    if sizes:
        rows_table, notes = rows_sweep(sizes, args.data_dir, given, args.generate, args.repeat)
        lines = [
            "## Scale: the skew audit on large logs, and how its cost grows",
            "",
            _machine_line(load_start),
            "",
            *rows_text(rows_table, notes, args.repeat),
            "",
            *figure(rows_table, "rows"),
        ]
        _write("scale", lines, rows_table, args.data_dir / "bench_scale_rows.csv")
        if args.peers:
            at = rows_table[rows_table["size"] == args.peers_at] if len(rows_table) else rows_table
            _peers_section(at, args, load_start)
    if counts:
        features_table, feature_notes = features_sweep(
            counts, args.feature_rows, args.data_dir, args.repeat
        )
        lines = [
            *features_text(features_table, feature_notes, args.feature_rows, args.repeat),
            "",
            _machine_line(os.getloadavg()[0] if sizes else load_start),
            "",
            *figure(features_table, "features"),
        ]
        _write("scale_features", lines, features_table, args.data_dir / "bench_scale_features.csv")


def _machine_line(load_start: float) -> str:
    return (
        f"`benchmarks/bench_scale.py`. Machine: {machine()}; 1-minute load average "
        f"{load_start:.1f} at the start and {os.getloadavg()[0]:.1f} at the end (2 cores: "
        "above 2 means other work shared them and every time is inflated)."
    )


def _peers_section(at: pd.DataFrame, args, load_start: float) -> None:
    """The peers against our steps measured at their size (``at``) in the same run: the
    ``scale_peers`` section, written apart from the rows sweep so it can be re-measured
    alone (``--peers-only``: minutes, where the 100M sweep takes an hour)."""
    if len(at) == len(STEPS):
        inputs = peer_inputs(Path(at["case"].iloc[0]), args.data_dir)
        peers = run_peers(inputs, args.repeat)
        body = peers_text(at, peers, inputs)
    else:
        body = [f"Peers not run: the {args.peers_at:,}-row size was not measured."]
    lines = ["## Scale: against Evidently and NannyML", "", _machine_line(load_start), "", *body]
    _write("scale_peers", lines, at, args.data_dir / "bench_scale_peers.csv")


def _write(section: str, lines: list[str], table: pd.DataFrame, csv: Path) -> None:
    """One section of docs/performance.md (rows and peers, or features: each can be run on its
    own), and its measurements as CSV beside the data."""
    text = "\n".join(lines)
    print(text)
    write_section(section, text)
    table.to_csv(csv, index=False)


if __name__ == "__main__":
    main()
