"""Nothing lost (issue 10, point 5): a process killed half-way, or a bad file, loses no work.

- The store: a writer killed with SIGKILL inside a transaction (an answer being recorded, or a
  big workshop being imported) leaves a database that opens, is intact, holds every answer it
  acknowledged exactly once and nothing of the unfinished transaction; a second writer working
  at the same time loses nothing and is not blocked for good. On SQLite and PostgreSQL.
- A report run killed while it writes leaves only complete files in view (hidden temporary
  files apart), and the next run completes.
- A failed upload on the Case page leaves the case loaded before in place, untouched.

(Two writers recording at once without a kill: tests/test_store.py; a killed batch report:
tests/test_batch.py; fuzzed uploads: tests/test_fuzz_upload.py.)
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from streamlit.testing.v1 import AppTest

from prodready import samples, store
from prodready.files import TEMP_PREFIX
from prodready.readiness import SECTIONS, questions, score
from prodready.report import report_notebooks, run_report

pytestmark = pytest.mark.slow  # a long file: its worker starts it first (tests/conftest.py)

QUESTION_IDS = list(questions()["id"])
KILLED, OTHER = "Ana", "Ben"  # the writer that is killed and the one working beside it
KILLED_ACKS = 20  # answers the killed writer commits (and acknowledges) before the kill
OTHER_ANSWERS = 40  # answers the other writer records while the first one dies
BIG_TEAMS = 20  # teams in the imported workshop: 2 assessments x 36 answers each (1,440 rows:
# the answers go in two batches, and the kill comes after the first)
TABLES = ("workshops", "teams", "assessments", "answers")
STOP_SECONDS = 120  # longest wait for a child's next line or its exit

# A facilitator's process. It records answers one transaction each and prints "ACK n" after
# each commit; then, when given a workshop file, imports it. At the kill point it prints where
# it is and waits to be killed, inside the open transaction, after rows were written to it:
#   record: in answer number `kill_at`, after its INSERT, before the cached scores are updated
#   import: in the import, after the first batch of its answer rows
WRITER = """
import json, sys, time
from sqlalchemy import event
from prodready import store
from prodready.readiness import questions

url, assessment_id, author, count, kill, kill_at, workshop = sys.argv[1:8]
assessment_id, count, kill_at = int(assessment_id), int(count), int(kill_at)
ids = list(questions()["id"])
doing = {"record": None, "importing": False}

def at_kill_point(connection, cursor, statement, parameters, context, executemany):
    if not statement.lstrip().upper().startswith("INSERT INTO ANSWERS"):
        return
    if (kill == "record" and doing["record"] == kill_at) or (
        kill == "import" and doing["importing"]
    ):
        print("INSIDE", kill, flush=True)
        time.sleep(600)  # killed here, the transaction still open

with store.open(url) as db:
    event.listen(db.engine, "after_cursor_execute", at_kill_point)
    for n in range(count):
        doing["record"] = n
        db.record_answer(assessment_id, ids[n % len(ids)], (0, 0.5, 1)[n % 3], author,
                         note=f"{author} {n}")
        print("ACK", n, flush=True)
    doing["record"] = None
    if workshop:
        doing["importing"] = True
        db.import_workshop(json.loads(open(workshop, encoding="utf-8").read()))
        print("IMPORTED", flush=True)
"""


# -- helpers ------------------------------------------------------------------------------------
def _writer(
    url: str,
    assessment_id: int,
    author: str,
    count: int,
    *,
    kill: str = "none",
    kill_at: int = -1,
    workshop: Path | None = None,
) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            WRITER,
            url,
            str(assessment_id),
            author,
            str(count),
            kill,
            str(kill_at),
            str(workshop or ""),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _kill(process: subprocess.Popen) -> None:
    """SIGKILL the child's whole process group (it may have ended already), and reap it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=STOP_SECONDS)


def _read_until(process: subprocess.Popen, last: str) -> list[str]:
    """The child's lines up to and including the first that starts with ``last``."""
    lines: list[str] = []
    deadline = time.monotonic() + STOP_SECONDS
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:  # the child ended before the kill point
            process.wait(timeout=STOP_SECONDS)
            pytest.fail(f"the writer ended early ({process.returncode}):\n{process.stderr.read()}")
        lines.append(line.strip())
        if line.startswith(last):
            return lines
    pytest.fail(f"the writer did not reach {last!r} in {STOP_SECONDS} s: {lines[-3:]}")


def _acks(lines: list[str]) -> list[int]:
    return [int(line.split()[1]) for line in lines if line.startswith("ACK ")]


def _counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {
                t: connection.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar() for t in TABLES
            }
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def big_workshop(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """An export of a workshop of BIG_TEAMS teams (its JSON file, and its answer rows)."""
    folder = tmp_path_factory.mktemp("big_workshop")
    every = {qid: (0, 0.5, 1)[i % 3] for i, qid in enumerate(QUESTION_IDS)}
    with store.open(f"sqlite:///{folder / 'source.db'}") as db:
        db.save_assessment("Big", "Team 0", every, "Cy")
        db.save_assessment("Big", "Team 0", {**every, "data_1": 0}, "Cy")
        exported = db.export_workshop("Big")
    one_team = exported["teams"][0]
    exported["teams"] = [{**copy.deepcopy(one_team), "name": f"Team {t}"} for t in range(BIG_TEAMS)]
    path = folder / "big.json"
    path.write_text(json.dumps(exported), encoding="utf-8")
    return path, BIG_TEAMS * 2 * len(QUESTION_IDS)


# -- 1. the store survives a writer killed inside a transaction -------------------------------
@pytest.mark.parametrize("kill", ["record", "import"])
def test_a_writer_killed_inside_a_transaction_loses_nothing_it_acknowledged(
    new_store_url: Callable[[], str], big_workshop: tuple[Path, int], kill: str
) -> None:
    url = new_store_url()
    workshop_file, big_answers = big_workshop
    with store.open(url) as db:
        assessment_id = db.save_assessment("Acme", "Payments", {}, "Ana")
    if kill == "record":  # it dies in its last answer; another writer works beside it
        killed = _writer(
            url, assessment_id, KILLED, KILLED_ACKS + 1, kill="record", kill_at=KILLED_ACKS
        )
        other = _writer(url, assessment_id, OTHER, OTHER_ANSWERS)
    else:  # it dies in the import that follows its answers
        killed = _writer(
            url, assessment_id, KILLED, KILLED_ACKS, kill="import", workshop=workshop_file
        )
        other = None
    try:
        lines = _read_until(killed, "INSIDE")
        time.sleep(0.3)  # the other writer is now busy, or waiting for the lock the killed holds
    except BaseException:
        if other is not None:
            _kill(other)
        raise
    finally:
        _kill(killed)
    assert killed.returncode == -signal.SIGKILL
    acknowledged = _acks(lines)
    assert acknowledged == list(range(KILLED_ACKS))
    others = 0
    if other is not None:  # the other writer finishes: the killed writer's lock went with it
        out, err = other.communicate(timeout=STOP_SECONDS)
        assert other.returncode == 0, err
        assert _acks(out.splitlines()) == list(range(OTHER_ANSWERS))
        others = OTHER_ANSWERS

    if url.startswith("sqlite"):
        with sqlite3.connect(make_url(url).database) as raw:
            assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert raw.execute("PRAGMA foreign_key_check").fetchall() == []
    with store.open(url) as db:  # opens again: the migration check passes
        loaded = db.load_assessment(assessment_id)
        cached = db.history("Acme", "Payments").iloc[0]
        assert db.workshops() == ["Acme"]  # nothing of a half-done import
    notes = Counter(loaded.history["note"])
    assert notes == Counter(
        [f"{KILLED} {n}" for n in acknowledged] + [f"{OTHER} {n}" for n in range(others)]
    )  # every acknowledged answer exactly once, the one being written when killed not at all
    assert _counts(url) == {
        "workshops": 1,
        "teams": 1,
        "assessments": 1,
        "answers": KILLED_ACKS + others,
    }
    # the cached scores were updated in the same transactions: they agree with the answers
    expected = score(loaded.answers)
    assert cached["answered"] == expected.answered == len(loaded.answers)
    assert cached["ml_test_score"] == expected.ml_test_score
    for section in SECTIONS:
        assert cached[section] == expected.sections[section]
    if kill == "import":  # the store takes the import again: whole this time
        with store.open(url) as db:
            data = json.loads(workshop_file.read_text(encoding="utf-8"))
            assert db.import_workshop(data) == "Big"
            assert len(db.teams("Big")) == BIG_TEAMS
        assert _counts(url)["answers"] == KILLED_ACKS + big_answers


# -- 2. a report run killed while it writes -----------------------------------------------------
@pytest.fixture(scope="module")
def small_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The card fraud sample with 20,000 rows: its case file."""
    return samples.write("card_fraud", tmp_path_factory.mktemp("sample"), rows=20_000)


def _is_complete(path: Path) -> bool:
    """A report file that was written to its end."""
    content = path.read_text(encoding="utf-8")
    if path.suffix == ".html":
        return content.rstrip().endswith("</html>")
    if path.suffix == ".json":
        json.loads(content)
        return True
    if path.suffix == ".ipynb":
        return len(nbformat.reads(content, as_version=4).cells) > 0
    raise AssertionError(f"a report writes no such file: {path.name}")


def test_a_report_killed_while_writing_leaves_no_partial_file(
    small_sample: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report"
    command = Path(sys.executable).with_name("prodready")
    log = (tmp_path / "report.log").open("w")
    run = subprocess.Popen(
        [command, "report", "--case", small_sample, "--out", out, "--no-pdf"],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # the command and the kernels it starts: the group is killed
    )
    try:
        # kill at the first temporary file (a file being written, about to be renamed into
        # view), or once the first notebook is in view if every write was too quick to see
        deadline = time.monotonic() + STOP_SECONDS
        seen: list[str] = []
        while time.monotonic() < deadline and run.poll() is None:
            seen = sorted(p.name for p in out.iterdir()) if out.is_dir() else []
            writing = [n for n in seen if n.startswith(TEMP_PREFIX) and n.endswith(".tmp")]
            if writing or "00_case_overview.ipynb" in seen:
                break
            time.sleep(0.005)
    finally:
        _kill(run)
        log.close()
    assert run.returncode == -signal.SIGKILL, (tmp_path / "report.log").read_text()
    assert seen, "the report wrote nothing before the kill"

    left = sorted(out.iterdir())
    in_view = [p for p in left if not p.name.startswith(".")]
    hidden = [p for p in left if p.name.startswith(".")]
    assert all(_is_complete(p) for p in in_view), [p.name for p in in_view]
    assert all(p.name.startswith(TEMP_PREFIX) and p.is_file() for p in hidden), hidden
    assert not (out / "results.json").exists()  # written last: the run did not finish

    # the next run (the first notebook only, to keep this quick) completes in the same folder
    overview = [p for p in report_notebooks() if p.stem == "00_case_overview"]
    result = run_report(small_sample, out, notebooks=overview, pdf=False)
    assert {p.name for p in result.files} >= {
        "00_case_overview.ipynb",
        "00_case_overview.html",
        "00_case_overview.executive.html",
        "case_overview.json",
        "results.json",
    }
    assert all(_is_complete(p) for p in out.iterdir() if not p.name.startswith("."))
    leftovers = sorted(p.name for p in out.iterdir() if p.name.startswith("."))
    assert leftovers == []  # the killed run's temporary files are gone (and the run's lock)


# -- 3. a failed upload leaves the loaded case intact -------------------------------------------
APP = "../app/streamlit_app.py"  # AppTest resolves it against this file


def test_a_failed_upload_keeps_the_loaded_case(
    small_sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRODREADY_CASE", str(small_sample))
    monkeypatch.delenv("PRODREADY_APP_PASSWORD", raising=False)
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    case = at.session_state["case"]
    key, origin = at.session_state["case_key"], at.session_state["case_origin"]
    rows = (len(case.training), len(case.serving))
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["Training rows"] == f"{rows[0]:,}"

    # a good training file and a serving log whose download stopped half-way
    training = (small_sample.parent / "training.parquet").read_bytes()
    serving = (small_sample.parent / "serving_log.parquet").read_bytes()
    at.segmented_control(key="case_source").set_value("Upload your own data").run()
    at.file_uploader(key="upload_training").upload("training.parquet", training, "text/csv")
    at.file_uploader(key="upload_serving").upload(
        "serving_log.parquet", serving[: len(serving) // 2], "text/csv"
    )
    at.run()

    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert len(errors) == 1, errors
    assert "serving_log.parquet" in errors[0] and "How to fix:" in errors[0], errors[0]
    assert not at.get("form")  # nothing to map: the file could not be read
    after = at.session_state["case"]
    assert after is case  # the very same loaded case, not a rebuilt one
    assert (at.session_state["case_key"], at.session_state["case_origin"]) == (key, origin)
    assert after.name == case.name
    assert (len(after.training), len(after.serving)) == rows
    pd.testing.assert_frame_equal(after.serving.head(), case.serving.head())
    assert {m.label: m.value for m in at.metric} == tiles  # the page still shows it


def test_a_second_run_into_a_folder_in_use_is_refused(tmp_path: Path) -> None:
    from prodready.errors import ParameterError
    from prodready.files import claim_folder

    refused = pytest.raises(ParameterError, match="another report is being written to this folder")
    with claim_folder(tmp_path), refused, claim_folder(tmp_path):
        pass
    with claim_folder(tmp_path):  # free again once the first run ends
        pass
    assert list(tmp_path.iterdir()) == []
