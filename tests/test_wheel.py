"""The built wheel works on its own: resources, `prodready report` and `prodready app`.

Hatchling's force-include copies app/, notebooks/ and sample_data/ into the wheel but not into
an editable install, so only a real wheel proves the lookup in :mod:`prodready.resources`. The
wheel is installed with ``pip --target`` into a folder put first on ``PYTHONPATH``: that copy
shadows the editable checkout (checked), while the dependencies come from the venv.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import nbformat
import pytest

from prodready.notebooks import report_notebooks

REPO = Path(__file__).resolve().parents[1]
BUNDLED = ("app", "notebooks", "sample_data")
SKIPPED = {"__pycache__", "secrets.toml"}  # never in the wheel


pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """(target folder, environment) of the freshly built wheel."""
    work = tmp_path_factory.mktemp("wheel")
    # Built from a copy of what goes into the wheel, with a developer's app password planted
    # where Streamlit reads it (the shared checkout is left alone: a running app would read it).
    source = work / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", ".gitignore"):
        shutil.copy2(REPO / name, source / name)
    for folder in ("src", *BUNDLED):
        shutil.copytree(REPO / folder, source / folder, ignore=shutil.ignore_patterns(*SKIPPED))
    secrets = source / "app" / ".streamlit" / "secrets.toml"
    secrets.write_text('app_password = "planted by tests/test_wheel.py"\n', encoding="utf-8")
    # --no-isolation: build with the venv's hatchling instead of downloading one
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(work), source],
        check=True,
        capture_output=True,
        timeout=300,
    )
    [wheel] = work.glob("prodready-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert [n for n in names if n.endswith("secrets.toml")] == []
    for folder in BUNDLED:  # every other file of the three folders is in the wheel
        for path in (REPO / folder).rglob("*"):
            if path.is_file() and not SKIPPED.intersection(path.parts):
                relative = path.relative_to(REPO).as_posix()
                assert f"prodready/_bundled/{relative}" in names, relative

    target = work / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", target, wheel],
        check=True,
        capture_output=True,
        timeout=300,
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PRODREADY_CASE")}
    env["PYTHONPATH"] = str(target)
    return target, env


def _python(code: str, env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True, check=True
    )
    return done.stdout


def test_resources_resolve_inside_the_installed_wheel(installed) -> None:
    target, env = installed
    found = json.loads(
        _python(
            "import json, prodready, prodready.resources as r\n"
            "print(json.dumps({'package': prodready.__file__, 'app': str(r.app_script()),\n"
            "    'notebooks': str(r.notebooks_dir()),\n"
            "    'samples': str(r.resource_dir('sample_data'))}))",
            env,
            target.parent,
        )
    )
    bundled = target / "prodready" / "_bundled"
    assert Path(found["package"]).is_relative_to(target)  # not the editable checkout
    assert Path(found["app"]) == bundled / "app" / "streamlit_app.py"
    assert Path(found["app"]).is_file()
    assert Path(found["notebooks"]) == bundled / "notebooks"
    assert (bundled / "notebooks" / "00_case_overview.ipynb").is_file()
    assert Path(found["samples"]) == bundled / "sample_data"


def test_report_runs_from_the_wheel_on_a_generated_sample(installed) -> None:
    target, env = installed
    out = target.parent / "report"
    case_dir = target.parent / "small_case"
    prodready_bin = target / "bin" / "prodready"
    # One notebook proves the wheel's notebooks run in a kernel importing the wheel's prodready;
    # every notebook on the bundled sample is covered by tests/test_report.py.
    made = subprocess.run(
        [prodready_bin, "sample", "card_fraud", "--rows", "20000", "--out", case_dir],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert made.returncode == 0, made.stderr
    command = [prodready_bin, "report", "--case", case_dir / "case.yaml", "--out", out]
    done = subprocess.run(
        [*command, "--notebook", "case_overview"],
        env=env,
        cwd=target.parent,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    notebooks = sorted(p.name for p in (target / "prodready/_bundled/notebooks").glob("*.ipynb"))
    assert notebooks == sorted(p.name for p in report_notebooks())  # the wheel holds them all
    assert "[1/1] 00_case_overview.ipynb done in" in done.stdout
    for name in (
        "00_case_overview.ipynb",
        "00_case_overview.html",
        "00_case_overview.executive.html",
        "case_overview.json",
        "results.json",
    ):
        assert (out / name).stat().st_size > 0, name
    assert not (out / "01_skew_audit.html").exists()
    executed = nbformat.read(out / "00_case_overview.ipynb", as_version=4)
    # papermill ran the wheel's copy of the notebook, in a kernel importing the wheel's prodready
    assert Path(executed.metadata.papermill.input_path).is_relative_to(target)
    numbers = json.loads((out / "case_overview.json").read_text(encoding="utf-8"))["numbers"]
    assert numbers["training_rows"] > 0 and numbers["serving_rows"] > 0
    wrong = subprocess.run(
        [*command, "--notebook", "skew_audt"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert wrong.returncode == 2
    assert "01_skew_audit" in wrong.stderr and "Traceback" not in wrong.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("", 0))
        return s.getsockname()[1]


def test_app_starts_from_the_wheel(installed) -> None:
    target, env = installed
    port = _free_port()
    process = subprocess.Popen(
        [target / "bin" / "prodready", "app", "--port", str(port)],
        env=env,
        cwd=target.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, so the test can stop Streamlit too
    )
    health = ""
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and process.poll() is None:
            try:
                url = f"http://localhost:{port}/_stcore/health"
                with urllib.request.urlopen(url, timeout=2) as response:
                    health = response.read().decode()
                    break
            except OSError:
                time.sleep(0.5)
        assert health == "ok", f"exit code {process.poll()}"
        process.terminate()  # prodready forwards SIGTERM to Streamlit and returns its code
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert f"http://localhost:{port}" in output
    assert "bundled sample case" in output
    with pytest.raises(OSError):  # nothing left serving on the port
        urllib.request.urlopen(f"http://localhost:{port}/_stcore/health", timeout=2)
