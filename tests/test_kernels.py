"""Warm kernels: each notebook a fresh kernel in the report folder, none left running."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest
from papermill.exceptions import PapermillExecutionError

from prodready.kernels import (
    KERNEL_NAME,
    WarmKernels,
    _remove_left_folders,
    _socket_folder,
    execute,
)


def _notebook(folder: Path, name: str, *sources: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": KERNEL_NAME,
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell("# parameters\nmark = ''")]
    nb.cells[0].metadata["tags"] = ["parameters"]
    nb.cells += [nbformat.v4.new_code_cell(source) for source in sources]
    path = folder / name
    nbformat.write(nb, path)
    return path


def _kernels_of_this_process() -> list[int]:
    """Child processes of this test running ipykernel (read from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            command = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == os.getpid() and b"ipykernel" in command:
            found.append(int(entry))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_each_notebook_gets_a_fresh_kernel_in_the_folder_and_none_is_left(tmp_path: Path) -> None:
    first = _notebook(
        tmp_path,
        "a.ipynb",
        "import os\nleft_over = 1\nprint(os.getcwd(), mark)",
        "from ipykernel.kernelapp import IPKernelApp\nprint(IPKernelApp.instance().transport)",
    )
    second = _notebook(tmp_path, "b.ipynb", "print('left_over' in globals(), mark)")
    out = tmp_path / "out"
    out.mkdir()
    with WarmKernels(out, 2) as kernels:
        manager, _ = kernels.take()
        # Unix sockets in a private folder, not TCP ports another process could take first
        assert manager.transport == "ipc" and Path(manager.ip).parent == _socket_folder()
        sockets = [Path(f"{manager.ip}-{port}") for port in manager.ports]
        ran = execute(
            first, tmp_path / "a.out.ipynb", manager=manager, parameters={"mark": "x"}, cwd=out
        )
        assert ran.cells[2].outputs[0]["text"].split() == [str(out), "x"]
        assert ran.cells[3].outputs[0]["text"].strip() == "ipc"  # what the kernel itself uses
        assert not any(s.exists() for s in sockets)  # removed when the kernel stopped
        manager, waited = kernels.take()
        assert waited < 30
        ran = execute(
            second, tmp_path / "b.out.ipynb", manager=manager, parameters={"mark": "y"}, cwd=out
        )
        assert ran.cells[2].outputs[0]["text"].split() == ["False", "y"]  # a fresh kernel
        with pytest.raises(RuntimeError, match="no kernel left"):
            kernels.take()
    assert _kernels_of_this_process() == []


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_failed_notebook_stops_its_kernel_and_the_spare(tmp_path: Path) -> None:
    failing = _notebook(tmp_path, "bad.ipynb", "raise ValueError('boom')")
    with WarmKernels(tmp_path, 3) as kernels:
        manager, _ = kernels.take()
        with pytest.raises(PapermillExecutionError, match="boom"):
            execute(
                failing, tmp_path / "bad.out.ipynb", manager=manager, parameters={}, cwd=tmp_path
            )
        assert (tmp_path / "bad.out.ipynb").exists()  # papermill saved it, the error marked
    assert _kernels_of_this_process() == []  # the failed one, and the one started for the next


def test_socket_folders_left_by_killed_runs_are_removed(tmp_path: Path, monkeypatch) -> None:
    """A report killed with SIGKILL leaves its socket folder; the next report removes it, and
    leaves running processes' folders and anything else alone."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead_pid = int(ended.stdout)
    left = tmp_path / f"prodready-kernels-{dead_pid}-k1ll3d_x"
    left.mkdir()
    (left / "0123456789ab-1").touch()  # a dead kernel's socket
    running = tmp_path / f"prodready-kernels-{os.getpid()}-running"
    running.mkdir()
    older = tmp_path / "prodready-kernels-x1y2z3_q"  # no process id in the name
    older.mkdir()
    _remove_left_folders()
    assert not left.exists()
    assert running.exists() and older.exists()
