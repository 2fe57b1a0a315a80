"""Shared by the benchmarks: run a step in a fresh process, and write a section of
docs/performance.md (each benchmark owns the text between its markers)."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

PERFORMANCE_MD = Path(__file__).resolve().parents[1] / "docs" / "performance.md"
_HEADER = (
    "# Performance\n\nFigures written by the scripts in `benchmarks/`; each is measured against a "
    "baseline in the same run on the same machine. Re-run a benchmark to refresh its section.\n"
)

_PROBE = """
import json, resource, sys, time
setup = sys.argv[1]; step = sys.argv[2]
exec(setup)
start = time.perf_counter()
exec(step)
seconds = time.perf_counter() - start
peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
try:  # VmHWM honours a reset through /proc/self/clear_refs (ru_maxrss does not)
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                peak_mib = int(line.split()[1]) / 1024
except OSError:
    pass
print(json.dumps({"seconds": seconds, "peak_mib": peak_mib}))
"""


def measure(setup: str, step: str, *, repeat: int = 3) -> dict[str, float]:
    """Best wall time of ``step`` over ``repeat`` fresh processes, and its peak resident memory.

    ``setup`` runs first in the same process (imports) and is not timed; peak memory covers the
    whole process, so it includes the interpreter and imports, as a user would see it.
    """
    runs = []
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, "-c", _PROBE, setup, step],
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, "OMP_NUM_THREADS": "2"},
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {
        "seconds": min(r["seconds"] for r in runs),
        "peak_mib": max(r["peak_mib"] for r in runs),
    }


def loaded_case_setup(case_file, imports: str) -> str:
    """Setup code for :func:`measure`: ``imports``, the case loaded as ``case``, then the
    peak-memory mark reset, so a step's peak counts only what comes after loading."""
    return f"""
{imports}
import prodready
case = prodready.load_case({str(case_file)!r})
import gc
gc.collect()
try:
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")
except OSError:
    pass
"""


def machine() -> str:
    """The machine, and how busy it was: other work on the cores inflates every time (the
    15-minute load average when the figures are written; 1 per core is a fully used machine)."""
    load = f", load average {os.getloadavg()[2]:.1f}" if hasattr(os, "getloadavg") else ""
    return (
        f"{platform.machine()}, {os.cpu_count()} cores{load}, Python "
        f"{platform.python_version()}, {datetime.now(UTC):%Y-%m-%d}"
    )


def write_section(name: str, body: str) -> None:
    """Replace this benchmark's section of docs/performance.md (atomically)."""
    begin, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    text = PERFORMANCE_MD.read_text() if PERFORMANCE_MD.exists() else _HEADER
    section = f"{begin}\n{body.strip()}\n{end}"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    PERFORMANCE_MD.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", dir=PERFORMANCE_MD.parent, delete=False, suffix=".tmp"
    ) as handle:
        handle.write(text)
    os.replace(handle.name, PERFORMANCE_MD)
