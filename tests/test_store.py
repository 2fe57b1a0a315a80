"""The assessment store, on a SQLite file and on a real PostgreSQL server (tests/conftest.py).

Every test that takes ``store_url`` runs twice, once per backend, on a fresh database.
"""

from __future__ import annotations

import copy
import json
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import IntegrityError

from prodready import store
from prodready.errors import DataError, ParameterError, StoreError
from prodready.readiness import SECTIONS, score
from prodready.store.engine import make_engine, migrate, resolve_url, script_directory
from prodready.store.models import Base
from prodready.store.store import HISTORY_COLUMNS, SUMMARY_COLUMNS

VERSION_TABLE = "prodready_alembic_version"
TABLES = ("workshops", "teams", "assessments", "answers")

# organisation 1.5, data 1.5, model 2, infrastructure 0.5, monitoring 1 -> ML Test Score 0.5
FIRST = {
    "org_owner": 1,
    "org_success": 0.5,
    "data_1": 1,
    "data_2": 0.5,
    "model_1": 1,
    "model_2": 1,
    "infra_1": 0.5,
    "monitor_1": 1,
}
# the same team a month later: infrastructure 2.5, monitoring 2 -> ML Test Score 1.5
SECOND = {**FIRST, "infra_1": 1, "infra_2": 1, "infra_3": 0.5, "monitor_2": 1}


def _counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {
                t: connection.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar() for t in TABLES
            }
    finally:
        engine.dispose()


def test_save_and_load_round_trip(store_url: str) -> None:
    audits = {"skew": {"features_skewed": 3, "names": ["avg_amount_30d"], "gap": 0.23}}
    with store.open(store_url) as db:
        before = datetime.now(UTC)
        assessment_id = db.save_assessment("Acme", "Payments", FIRST, "Ana", audits=audits)
        loaded = db.load_assessment(assessment_id)
    assert loaded.id == assessment_id
    assert (loaded.workshop, loaded.team, loaded.author) == ("Acme", "Payments", "Ana")
    assert before - timedelta(seconds=1) <= loaded.created_at <= datetime.now(UTC)
    assert loaded.created_at.tzinfo is not None
    assert loaded.answers == {k: float(v) for k, v in FIRST.items()}
    assert loaded.audits == audits
    assert list(loaded.history.columns) == list(HISTORY_COLUMNS)
    assert len(loaded.history) == 8
    assert set(loaded.history["author"]) == {"Ana"}
    assert not loaded.history["overridden"].any()
    card = loaded.scorecard
    assert card.sections == {
        "organisation": 1.5,
        "data": 1.5,
        "model": 2.0,
        "infrastructure": 0.5,
        "monitoring": 1.0,
    }
    assert card.ml_test_score == 0.5
    assert card.answered == 8


def test_reassessing_a_team_gives_its_history_and_compare(store_url: str) -> None:
    with store.open(store_url) as db:
        first = db.save_assessment("Acme", "Payments", FIRST, "Ana")
        other = db.save_assessment("Acme", "Lending", {"data_1": 1, "model_1": 0.5}, "Ben")
        second = db.save_assessment("Acme", "Payments", SECOND, "Ana")
        db.save_assessment("Globex", "Payments", {"org_owner": 1}, "Cy")
        assert db.latest_assessment("Acme", "Payments") == second
        assert db.latest_assessment("Acme", "Nobody") is None
        assert db.workshops() == ["Acme", "Globex"]
        assert db.teams("Acme") == ["Lending", "Payments"]
        history = db.history("Acme", "Payments")
        compared = db.compare("Acme")
    assert list(history.columns) == list(SUMMARY_COLUMNS)
    assert history["assessment_id"].tolist() == [first, second]
    assert history["ml_test_score"].tolist() == [0.5, 1.5]
    assert history["infrastructure"].tolist() == [0.5, 2.5]
    assert history["monitoring"].tolist() == [1.0, 2.0]
    assert history["organisation"].tolist() == [1.5, 1.5]
    assert history["answered"].tolist() == [8, 11]
    assert history["created_at"].is_monotonic_increasing
    assert str(history["created_at"].dt.tz) == "UTC"
    assert list(compared.columns) == ["team", *SUMMARY_COLUMNS]
    assert compared["team"].tolist() == ["Lending", "Payments"]
    assert compared["assessment_id"].tolist() == [other, second]
    assert compared["data"].tolist() == [1.0, 1.5]
    assert compared["model"].tolist() == [0.5, 2.0]
    assert compared["ml_test_score"].tolist() == [0.0, 1.5]


def test_overrides_are_kept_with_who_and_when(store_url: str) -> None:
    proposals = pd.DataFrame(
        {
            "id": ["monitor_3", "monitor_3", "infra_6", "model_2"],
            "proposed": [0.0, 0.5, 0.5, float("nan")],
            "reason": ["skew audit: 3 features differ", "monitoring replay", "canary ran", "n/a"],
        }
    )
    answers = {"monitor_3": 0, "infra_6": 0.5, "model_2": 1}
    with store.open(store_url) as db:
        assessment_id = db.save_assessment("Acme", "Payments", answers, "Ana", proposals=proposals)
        start = db.load_assessment(assessment_id)
        db.record_answer(
            assessment_id,
            "monitor_3",
            0.5,
            "Ben",
            note="the team fixed the feature last week",
            proposed=0,
            reason="skew audit: 3 features differ",
        )
        db.record_answer(assessment_id, "infra_6", 1, "Cy")
        loaded = db.load_assessment(assessment_id)
        cached = db.history("Acme", "Payments")
    rows = loaded.history
    assert len(rows) == 5
    # the first three rows are saved in bank order: model_2, infra_6, monitor_3
    assert rows["question_id"].tolist()[:3] == ["model_2", "infra_6", "monitor_3"]
    assert pd.isna(rows.iloc[0].proposed)  # NaN proposals inform, they do not propose
    assert rows.iloc[1].proposed == 0.5 and rows.iloc[1].reason == "canary ran"
    confirmed = rows.iloc[2]
    assert (confirmed.score, confirmed.proposed) == (0.0, 0.0)
    assert confirmed.reason == "skew audit: 3 features differ"  # the lowest proposal wins
    override = rows.iloc[3]
    assert override.question_id == "monitor_3" and override.author == "Ben"
    assert override.score == 0.5 and override.proposed == 0.0 and bool(override.overridden)
    assert override.note == "the team fixed the feature last week"
    assert override.answered_at >= start.created_at
    assert rows["overridden"].tolist() == [False, False, False, True, False]
    assert rows["author"].tolist() == ["Ana", "Ana", "Ana", "Ben", "Cy"]
    assert loaded.answers == {"monitor_3": 0.5, "infra_6": 1.0, "model_2": 1.0}
    assert loaded.scorecard.sections["monitoring"] == 0.5
    assert loaded.scorecard.sections["infrastructure"] == 1.0
    # the cached scores were refreshed with the overrides
    assert cached["monitoring"].tolist() == [0.5]
    assert cached["infrastructure"].tolist() == [1.0]
    assert cached["answered"].tolist() == [3]


def test_export_then_import_into_a_fresh_database_is_identical(new_store_url) -> None:
    source, target = new_store_url(), new_store_url()
    with store.open(source) as db:
        ids = [
            db.save_assessment("Acme", "Payments", FIRST, "Ana", audits={"skew": {"n": 3}}),
            db.save_assessment("Acme", "Payments", SECOND, "Ana"),
            db.save_assessment("Acme", "Lending", {"data_1": 1}, "Ben"),
        ]
        db.record_answer(ids[1], "data_3", 1, "Cy", proposed=0.5, reason="feature tests exist")
        exported = db.export_workshop("Acme")
        originals = [db.load_assessment(i) for i in ids]
        history = db.history("Acme", "Payments")
    text_form = json.dumps(exported, allow_nan=False)  # JSON-safe
    assert exported["format"] == "prodready-workshop/1"
    assert [t["name"] for t in exported["teams"]] == ["Payments", "Lending"]
    assert [len(a["answers"]) for a in exported["teams"][0]["assessments"]] == [8, 12]
    with store.open(target) as db:
        assert db.import_workshop(json.loads(text_form)) == "Acme"
        copies = [
            db.load_assessment(i)
            for team in ("Payments", "Lending")
            for i in db.history("Acme", team)["assessment_id"]
        ]
        copied_history = db.history("Acme", "Payments")
        again = db.export_workshop("Acme")
    for original, copied in zip(originals, copies, strict=True):
        for field in ("workshop", "team", "author", "created_at", "bank_version", "answers"):
            assert getattr(copied, field) == getattr(original, field), field
        assert copied.audits == original.audits
        pd.testing.assert_frame_equal(copied.history, original.history)
        assert copied.scorecard.sections == original.scorecard.sections
        assert copied.scorecard.ml_test_score == original.scorecard.ml_test_score
    pd.testing.assert_frame_equal(
        copied_history.drop(columns="assessment_id"), history.drop(columns="assessment_id")
    )
    assert {**again, "exported_at": None} == {**exported, "exported_at": None}


def _valid_export(url: str) -> dict:
    with store.open(url) as db:
        db.save_assessment("Acme", "Payments", FIRST, "Ana")
        db.save_assessment("Acme", "Lending", {"data_1": 1, "model_1": 0.5}, "Ben")
        return db.export_workshop("Acme")


def _set_last_answer(data: dict, **changes: object) -> dict:
    data["teams"][-1]["assessments"][-1]["answers"][-1].update(changes)
    return data


def _drop(data: dict, key: str) -> dict:
    return {k: v for k, v in data.items() if k != key}


def _drop_answered_at(data: dict) -> dict:
    data["teams"][-1]["assessments"][-1]["answers"][-1].pop("answered_at")
    return data


def _bad_team_time(data: dict) -> dict:
    data["teams"][1]["created_at"] = "last Tuesday"
    return data


LAST = "teams[1].assessments[0].answers[1]"  # the last answer of the last team: after the rest
BAD_IMPORTS = {  # how to spoil a valid export, where the error must point, what it must say
    "not an object": (lambda d: [d], None, "a JSON list"),
    "wrong format tag": (
        lambda d: {**d, "format": "evidently-report/2"},
        "format",
        "format: 'evidently-report/2'",
    ),
    "no format": (lambda d: _drop(d, "format"), "format", "no format key"),
    "unknown question id": (lambda d: _set_last_answer(d, question_id="data_99"), LAST, "data_99"),
    "score 0.7": (lambda d: _set_last_answer(d, score=0.7), LAST, "0.7"),
    "missing answer key": (
        _drop_answered_at,
        f"{LAST}.answered_at",
        "lacks the key 'answered_at'",
    ),
    "missing teams": (lambda d: _drop(d, "teams"), "teams", "lacks the key 'teams'"),
    "bad time": (_bad_team_time, "teams[1].created_at", "'last Tuesday'"),
}


@pytest.mark.parametrize("case", BAD_IMPORTS, ids=list(BAD_IMPORTS))
def test_a_corrupt_or_foreign_import_is_refused_and_writes_nothing(new_store_url, case) -> None:
    spoil, where, found = BAD_IMPORTS[case]
    data = spoil(copy.deepcopy(_valid_export(new_store_url())))
    target = new_store_url()
    with store.open(target) as db, pytest.raises(ParameterError) as caught:
        db.import_workshop(data)
    message = str(caught.value)
    if where is not None:
        assert message.startswith(f"{where}: ")
    assert found in message
    if case in ("not an object", "wrong format tag", "no format"):
        assert "prodready-workshop/1" in message
    assert _counts(target) == dict.fromkeys(TABLES, 0)


def test_an_import_file_that_is_not_json_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "workshop.json"
    bad.write_text('{"format": "prodready-workshop/1", "teams": [', encoding="utf-8")
    with pytest.raises(DataError) as caught:
        store.read_workshop_file(bad)
    assert f"{bad}: line 1, column" in str(caught.value)
    assert "the workshop file is not JSON" in str(caught.value)
    with pytest.raises(DataError, match="does not exist"):
        store.read_workshop_file(tmp_path / "missing.json")


def test_an_existing_workshop_name_is_refused_with_a_rename_hint(store_url: str) -> None:
    with store.open(store_url) as db:
        db.save_assessment("Acme", "Payments", FIRST, "Ana")
        data = db.export_workshop("Acme")
        with pytest.raises(StoreError) as caught:
            db.import_workshop(data)
        assert "a workshop named 'Acme' is already in the store" in str(caught.value)
        assert "--rename" in str(caught.value)
        assert db.import_workshop(data, rename="Acme 2025") == "Acme 2025"
        assert db.workshops() == ["Acme", "Acme 2025"]
        assert db.history("Acme 2025", "Payments")["ml_test_score"].tolist() == [0.5]
    assert _counts(store_url) == {"workshops": 2, "teams": 2, "assessments": 2, "answers": 16}


def test_bad_answers_are_refused_and_write_nothing(store_url: str) -> None:
    with store.open(store_url) as db:
        with pytest.raises(ParameterError, match="data_99"):
            db.save_assessment("Acme", "Payments", {"data_1": 1, "data_99": 1}, "Ana")
        with pytest.raises(ParameterError, match=r"0\.7"):
            db.save_assessment("Acme", "Payments", {"data_1": 0.7}, "Ana")
        with pytest.raises(ParameterError, match="team"):
            db.save_assessment("Acme", "  ", {"data_1": 1}, "Ana")
        assert db.workshops() == []
        assessment_id = db.save_assessment("Acme", "Payments", {"data_1": 1}, "Ana")
        with pytest.raises(ParameterError, match=r"0\.7"):
            db.record_answer(assessment_id, "data_2", 0.7, "Ben")
        with pytest.raises(StoreError, match="no assessment with id 999"):
            db.record_answer(999, "data_2", 1, "Ben")
        with pytest.raises(StoreError, match="no assessment with id 999"):
            db.load_assessment(999)
        with pytest.raises(StoreError, match="workshops: Acme"):
            db.history("Initech", "Payments")
        with pytest.raises(StoreError, match="teams: Payments"):
            db.history("Acme", "Lending")
    assert _counts(store_url) == {"workshops": 1, "teams": 1, "assessments": 1, "answers": 1}


def test_an_unreachable_database_is_a_clear_store_error() -> None:
    with pytest.raises(StoreError) as caught:
        store.open("postgresql+psycopg://facilitator:s3cret@127.0.0.1:1/workshops")
    message = str(caught.value)
    assert message.startswith(
        "postgresql+psycopg://facilitator:***@127.0.0.1:1/workshops: "
        "the database could not be opened"
    )
    assert "s3cret" not in message
    assert "Found: " in message and "refused" in message.lower()
    assert "How to fix: check the URL (argument --db, or the PRODREADY_DB_URL" in message


def test_a_bad_url_or_folder_is_a_clear_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot be read"):
        store.open("not a url")
    with pytest.raises(StoreError, match="cannot use this kind of database"):
        store.open("oracle+nodriver://u@127.0.0.1/x")
    with pytest.raises(StoreError, match="unable to open database file"):
        store.open(f"sqlite:///{tmp_path / 'missing' / 'folder' / 'x.db'}")


def test_a_database_from_a_newer_prodready_or_not_a_database_is_refused(
    store_url: str, tmp_path: Path
) -> None:
    store.open(store_url).close()
    engine = create_engine(store_url)
    with engine.begin() as connection:
        connection.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(StoreError) as caught:
        store.open(store_url)
    assert "the database's schema is not one this version of prodready knows" in str(caught.value)
    assert "9999" in str(caught.value)
    not_a_db = tmp_path / "notes.db"
    not_a_db.write_text("shopping list: milk, eggs\n" * 100, encoding="utf-8")
    with pytest.raises(StoreError, match="file is not a database"):
        store.open(f"sqlite:///{not_a_db}")


def test_plain_postgresql_urls_use_psycopg_and_the_env_var_and_default_apply(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert resolve_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    monkeypatch.setenv("PRODREADY_DB_URL", f"sqlite:///{tmp_path / 'env.db'}")
    with store.open() as db:
        db.save_assessment("Acme", "Payments", {"data_1": 1}, "Ana")
    assert (tmp_path / "env.db").is_file()
    monkeypatch.delenv("PRODREADY_DB_URL")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    with store.open() as db:
        assert db.url == f"sqlite:///{tmp_path / 'home' / '.prodready' / 'prodready.db'}"
        assert db.workshops() == []
    assert (tmp_path / "home" / ".prodready" / "prodready.db").is_file()


# One facilitator's process: 50 answers, each its own transaction. It runs as a fresh
# interpreter (not multiprocessing "spawn"), so it depends on nothing this worker imported
# before: spawn re-runs the parent's __main__, which other tests (Streamlit's AppTest) replace.
RECORD_MANY = """
import json, sys
from prodready import store
url, assessment_id, author, questions = json.loads(sys.argv[1])
with store.open(url) as db:
    for n in range(50):
        db.record_answer(assessment_id, questions[n % len(questions)], (0, 0.5, 1)[n % 3], author)
"""


def test_two_facilitators_at_once_lose_nothing(store_url: str) -> None:
    with store.open(store_url) as db:
        assessment_id = db.save_assessment("Acme", "Payments", {}, "Ana")
    data_and_model = [f"data_{i}" for i in range(1, 8)] + [f"model_{i}" for i in range(1, 8)]
    infra_and_monitor = [f"infra_{i}" for i in range(1, 8)] + [f"monitor_{i}" for i in range(1, 8)]
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", RECORD_MANY, json.dumps([store_url, assessment_id, who, asked])],
            stderr=subprocess.PIPE,
            text=True,
        )
        for who, asked in (("Ana", data_and_model), ("Ben", infra_and_monitor))
    ]
    errors = [worker.communicate(timeout=300)[1] for worker in workers]
    assert [w.returncode for w in workers] == [0, 0], errors
    with store.open(store_url) as db:
        loaded = db.load_assessment(assessment_id)
        cached = db.history("Acme", "Payments").iloc[0]
    assert len(loaded.history) == 100
    assert (loaded.history["author"] == "Ana").sum() == 50
    assert (loaded.history["author"] == "Ben").sum() == 50
    # the rows of both writers interleave (they really ran at the same time) or queue; either
    # way the last row of each question is the current answer, and the cache agrees with it
    assert len(loaded.answers) == 28
    expected = score(loaded.answers)
    assert cached["answered"] == 28
    assert cached["ml_test_score"] == expected.ml_test_score
    for section in SECTIONS:
        assert cached[section] == expected.sections[section]
    # question n % 14 got score (0, 0.5, 1)[n % 3] for n < 50; data_1 last at n=42 -> 0,
    # monitor_7 (index 13) last at n=41 -> 1
    assert loaded.answers["data_1"] == 0.0 and loaded.answers["data_2"] == 0.5
    assert loaded.answers["infra_1"] == 0.0 and loaded.answers["monitor_7"] == 1.0


def test_a_sqlite_store_uses_wal_and_foreign_keys(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    with store.open(f"sqlite:///{path}") as db:
        db.save_assessment("Acme", "Payments", {"data_1": 1}, "Ana")
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
            with pytest.raises(IntegrityError, match="FOREIGN KEY"):
                connection.execute(
                    text(
                        "INSERT INTO answers (assessment_id, question_id, score, author, "
                        "answered_at) VALUES (999, 'data_1', 1, 'x', '2025-01-01')"
                    )
                )
    with sqlite3.connect(path) as raw:  # WAL is a property of the file
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_the_migrations_match_the_orm_and_reopening_is_a_no_op(store_url: str) -> None:
    with store.open(store_url) as db:
        db.save_assessment("Acme", "Payments", {"data_1": 1}, "Ana")
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"version_table": VERSION_TABLE, "compare_type": True}
            )
            assert compare_metadata(context, Base.metadata) == []
            assert context.get_current_revision() == script_directory().get_current_head()
    engine = make_engine(resolve_url(store_url))
    statements: list[str] = []
    event.listen(
        engine, "before_cursor_execute", lambda *args: statements.append(args[2].strip().upper())
    )
    try:
        migrate(engine)
    finally:
        engine.dispose()
    writes = ("CREATE", "ALTER", "DROP", "INSERT", "UPDATE", "DELETE")
    assert statements, "the migration ran no query at all"
    assert [s for s in statements if s.startswith(writes)] == []
    with store.open(store_url) as db:
        assert db.history("Acme", "Payments")["data"].tolist() == [1.0]
