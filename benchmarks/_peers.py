"""Peer drift tools (Evidently, NannyML) for the benchmarks, run in their own venv.

The peers pin old plotly, so they never go into the project's venv: ``peers/setup.sh`` makes an
isolated one and ``peers/run_peer.py`` runs there, printing one JSON line. This module (project
side, standard library only) makes sure that venv exists and runs a peer in a subprocess.

    from _peers import run_peer
    result = run_peer("nannyml", "ref.parquet", "cur.parquet", ["amount"], ["channel"])
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

PEERS_DIR = Path(__file__).resolve().parent / "peers"
DEFAULT_VENV = PEERS_DIR / ".venv"
TOOLS = ("evidently", "nannyml")


def _tail(text: str, lines: int = 20) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def ensure_peers(venv: str | Path = DEFAULT_VENV) -> dict[str, Path]:
    """Run ``setup.sh`` (quick when already set up); return the Python to run each tool with.

    Both tools share one venv. Raises ``RuntimeError`` with the end of the setup output on failure.
    """
    venv = Path(venv)
    done = subprocess.run(
        ["bash", str(PEERS_DIR / "setup.sh"), str(venv)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"peers setup failed ({done.returncode}):\n{_tail(done.stderr + done.stdout)}"
        )
    return {tool: venv / "bin" / "python" for tool in TOOLS}


def run_peer(
    tool: str,
    reference: str | Path,
    current: str | Path,
    numeric: list[str],
    categorical: list[str],
    timestamp: str | None = None,
    timeout: float = 1800,
) -> dict:
    """Run ``tool`` on reference vs current Parquet files in the peer venv; return its JSON line.

    Keys: tool, version, seconds (the drift computation only), load_seconds, peak_rss_mib,
    rss_before_mib, drifted, n_columns, rows, settings. On any failure (setup, crash, timeout, no
    JSON) the dict has ``"error"`` and ``"stderr"`` (its last lines) instead; nothing is raised.
    """
    if tool not in TOOLS:
        return {"tool": tool, "error": f"unknown tool, expected one of {TOOLS}", "stderr": ""}
    try:
        python = ensure_peers()[tool]
    except RuntimeError as error:
        return {"tool": tool, "error": "setup failed", "stderr": str(error)}
    command = [
        str(python),
        str(PEERS_DIR / "run_peer.py"),
        "--tool", tool,
        "--reference", str(reference),
        "--current", str(current),
        "--numeric", ",".join(numeric),
        "--categorical", ",".join(categorical),
    ]  # fmt: skip
    if timestamp:
        command += ["--timestamp", timestamp]
    # A clean environment for the peer: no project venv or PYTHONPATH leaking into it.
    env = {
        k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")
    }
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False, env=env
        )
    except subprocess.TimeoutExpired as error:
        stderr = error.stderr.decode() if isinstance(error.stderr, bytes) else error.stderr or ""
        return {"tool": tool, "error": f"timed out after {timeout} s", "stderr": _tail(stderr)}
    for line in reversed(done.stdout.strip().splitlines()):
        if line.startswith("{"):
            try:
                result = json.loads(line)
            except json.JSONDecodeError:
                break
            if done.returncode == 0:
                return result
            break
    return {
        "tool": tool,
        "error": f"exit code {done.returncode}, no result line",
        "stderr": _tail(done.stderr),
    }
