"""`prodready store export|import`, on both backends (tests/conftest.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from prodready import store
from prodready.cli import app

runner = CliRunner()
ANSWERS = {"org_owner": 1, "data_1": 1, "data_2": 0.5, "model_1": 1, "infra_1": 0.5, "monitor_1": 1}


@pytest.fixture
def filled(store_url: str) -> str:
    with store.open(store_url) as db:
        first = db.save_assessment("Acme", "Payments", ANSWERS, "Ana")
        db.record_answer(first, "infra_1", 1, "Ben", proposed=0.5, reason="canary replay ran")
        db.save_assessment("Acme", "Lending", {"data_1": 0.5}, "Cy")
    return store_url


def test_export_then_import_into_another_database(
    filled: str, new_store_url, tmp_path: Path
) -> None:
    out = tmp_path / "exports" / "acme.json"
    result = runner.invoke(
        app, ["store", "export", "--workshop", "Acme", "--out", str(out), "--db", filled]
    )
    assert result.exit_code == 0, result.output
    assert f"Wrote workshop 'Acme' (2 teams, 2 assessments) to {out}" in result.stdout
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["format"] == "prodready-workshop/1"
    rows = data["teams"][0]["assessments"][0]["answers"]
    assert [(r["question_id"], r["score"], r["author"]) for r in rows][-1] == (
        "infra_1",
        1.0,
        "Ben",
    )
    assert list(out.parent.iterdir()) == [out]  # written atomically: no temporary left

    target = new_store_url()
    result = runner.invoke(app, ["store", "import", str(out), "--db", target])
    assert result.exit_code == 0, result.output
    assert "Imported workshop 'Acme' (2 teams) into the store" in result.stdout
    with store.open(target) as db:
        history = db.history("Acme", "Payments")
        assert history["infrastructure"].tolist() == [1.0]
        assert history["ml_test_score"].tolist() == [1.0]
        assert db.export_workshop("Acme")["teams"] == data["teams"]

    # the same again: the name is taken; --rename imports a copy
    result = runner.invoke(app, ["store", "import", str(out), "--db", target])
    assert result.exit_code == 2
    assert "a workshop named 'Acme' is already in the store" in result.stderr
    assert "--rename" in result.stderr
    result = runner.invoke(
        app, ["store", "import", str(out), "--db", target, "--rename", "Acme (copy)"]
    )
    assert result.exit_code == 0, result.output
    with store.open(target) as db:
        assert db.workshops() == ["Acme", "Acme (copy)"]


def test_a_corrupt_file_is_refused_and_nothing_is_written(store_url: str, tmp_path: Path) -> None:
    not_json = tmp_path / "broken.json"
    not_json.write_text("{ this is not json", encoding="utf-8")
    result = runner.invoke(app, ["store", "import", str(not_json), "--db", store_url])
    assert result.exit_code == 2
    assert f"{not_json}: line 1, column 3: the workshop file is not JSON" in result.stderr
    assert "Traceback" not in result.output

    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps({"format": "mlflow-run", "teams": []}), encoding="utf-8")
    result = runner.invoke(app, ["store", "import", str(foreign), "--db", store_url])
    assert result.exit_code == 2
    assert "Expected: format: prodready-workshop/1." in result.stderr
    assert "Found: format: 'mlflow-run'." in result.stderr
    with store.open(store_url) as db:
        assert db.workshops() == []


def test_export_of_an_unknown_workshop_or_unreachable_db(filled: str, tmp_path: Path) -> None:
    out = tmp_path / "x.json"
    result = runner.invoke(
        app, ["store", "export", "--workshop", "Initech", "--out", str(out), "--db", filled]
    )
    assert result.exit_code == 2
    assert "no workshop named 'Initech' in the store" in result.stderr
    assert "workshops: Acme" in result.stderr
    assert not out.exists()
    url = "postgresql+psycopg://ana:pw@127.0.0.1:1/x"
    result = runner.invoke(
        app, ["store", "export", "--workshop", "A", "--out", str(out), "--db", url]
    )
    assert result.exit_code == 2
    assert "postgresql+psycopg://ana:***@127.0.0.1:1/x: the database could not be opened" in (
        result.stderr
    )
    assert ":pw@" not in result.stderr
