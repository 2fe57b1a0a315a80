"""The workshop export format, and checking an import file before anything is written.

An export is plain JSON (``format: prodready-workshop/1``) holding every answer row, history
included, so a workshop moves between machines or databases without losing who said what when.
Cached scores are not exported: they are recomputed from the answers on import.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prodready.errors import DataError, ParameterError
from prodready.store.models import NAME_LENGTH

FORMAT = "prodready-workshop/1"
EXPECTED_SHAPE = (
    f'a JSON object {{"format": "{FORMAT}", "workshop": NAME, "created_at": TIME, '
    '"teams": [{"name", "created_at", "assessments": [{"created_at", "author", "audits", '
    '"answers": [{"question_id", "score", "author", "answered_at", ...}]}]}]}, as written by '
    "`prodready store export`"
)


@dataclass
class AnswerPlan:
    question_id: str
    score: float
    author: str
    answered_at: datetime
    note: str | None = None
    proposed: float | None = None
    reason: str | None = None


@dataclass
class AssessmentPlan:
    created_at: datetime
    author: str
    bank_version: str | None
    audits: dict[str, Any]
    answers: list[AnswerPlan] = field(default_factory=list)


@dataclass
class TeamPlan:
    name: str
    created_at: datetime
    assessments: list[AssessmentPlan] = field(default_factory=list)


@dataclass
class WorkshopPlan:
    """A checked import: everything needed to write it, nothing left to fail on but the DB."""

    name: str
    created_at: datetime
    teams: list[TeamPlan] = field(default_factory=list)


def utc(moment: datetime) -> datetime:
    """The same instant as an aware UTC datetime (naive values from SQLite are UTC)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def check_name(value: Any, what: str, where: str | None = None) -> str:
    """A workshop, team or author name: text, not blank, at most 200 characters."""
    if not isinstance(value, str) or not value.strip():
        raise ParameterError(
            f"the {what} name must be non-empty text",
            where=where,
            found=repr(value),
            fix=f"give the {what} a name, e.g. 'Payments'",
        )
    name = value.strip()
    if len(name) > NAME_LENGTH:
        raise ParameterError(
            f"the {what} name is too long",
            where=where,
            expected=f"at most {NAME_LENGTH} characters",
            found=f"{len(name)} characters",
            fix="shorten it",
        )
    return name


def read_workshop_file(source: str | Path | bytes, *, name: str | None = None) -> dict[str, Any]:
    """Read an export file (a path, or the bytes of an upload called ``name``): a clear
    DataError when it is missing, unreadable or not JSON."""
    path = Path(name or "the uploaded file") if isinstance(source, bytes) else Path(source)
    try:
        raw = source.decode("utf-8-sig") if isinstance(source, bytes) else path.read_text("utf-8")
    except FileNotFoundError:
        raise DataError(
            "the workshop file does not exist", where=str(path), fix="check the path"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(
            "the workshop file cannot be read",
            where=str(path),
            found=str(error),
            fix="choose a JSON file written by `prodready store export`",
        ) from None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as error:
        raise DataError(
            "the workshop file is not JSON",
            where=f"{path}: line {error.lineno}, column {error.colno}",
            expected=EXPECTED_SHAPE,
            found=error.msg,
            fix="choose a file written by `prodready store export` (not edited by hand)",
        ) from None
    return data


def parse_workshop(data: Any, *, check_answer: Any) -> WorkshopPlan:
    """Check an export dict completely and return what to write.

    ``check_answer(question_id, score, where) -> float`` validates one answer (the readiness
    rules); any problem raises a ParameterError naming the entry, e.g.
    ``teams[0].assessments[1].answers[3].score``.
    """
    if not isinstance(data, dict):
        raise ParameterError(
            "this is not a prodready workshop export",
            expected=EXPECTED_SHAPE,
            found=f"a JSON {_json_kind(data)}",
            fix="choose a file written by `prodready store export`",
        )
    tag = data.get("format")
    if tag != FORMAT:
        raise ParameterError(
            "this is not a prodready workshop export (or one of another version)",
            where="format",
            expected=f"format: {FORMAT}",
            found="no format key" if "format" not in data else f"format: {tag!r}",
            fix="choose a file written by `prodready store export`",
        )
    name = check_name(_get(data, "workshop", ""), "workshop", "workshop")
    plan = WorkshopPlan(name=name, created_at=_time(_get(data, "created_at", ""), "created_at"))
    seen: set[str] = set()
    for t, team in enumerate(_list(data, "teams", "")):
        where = f"teams[{t}]"
        _object(team, where)
        team_name = check_name(_get(team, "name", where), "team", f"{where}.name")
        if team_name in seen:
            raise ParameterError(
                "the same team appears twice",
                where=f"{where}.name",
                found=team_name,
                fix="merge the two entries or rename one",
            )
        seen.add(team_name)
        team_plan = TeamPlan(
            team_name, _time(_get(team, "created_at", where), f"{where}.created_at")
        )
        for a, assessment in enumerate(_list(team, "assessments", where)):
            team_plan.assessments.append(
                _assessment(assessment, f"{where}.assessments[{a}]", check_answer)
            )
        plan.teams.append(team_plan)
    return plan


def _assessment(data: Any, where: str, check_answer: Any) -> AssessmentPlan:
    _object(data, where)
    audits = _get(data, "audits", where)
    if not isinstance(audits, dict):
        raise ParameterError(
            "the audit snapshots must be an object (audit name -> result)",
            where=f"{where}.audits",
            found=f"a JSON {_json_kind(audits)}",
            fix="use {} when there are none",
        )
    version = data.get("bank_version")
    plan = AssessmentPlan(
        created_at=_time(_get(data, "created_at", where), f"{where}.created_at"),
        author=check_name(_get(data, "author", where), "author", f"{where}.author"),
        bank_version=None if version is None else str(version),
        audits=audits,
    )
    for n, answer in enumerate(_list(data, "answers", where)):
        at = f"{where}.answers[{n}]"
        _object(answer, at)
        question = _get(answer, "question_id", at)
        proposed = answer.get("proposed")
        plan.answers.append(
            AnswerPlan(
                question_id=question,
                score=check_answer(question, _get(answer, "score", at), at),
                author=check_name(_get(answer, "author", at), "author", f"{at}.author"),
                answered_at=_time(_get(answer, "answered_at", at), f"{at}.answered_at"),
                note=_text(answer.get("note"), f"{at}.note"),
                proposed=None
                if proposed is None
                else check_answer(question, proposed, f"{at}.proposed"),
                reason=_text(answer.get("reason"), f"{at}.reason"),
            )
        )
    return plan


def _get(data: dict[str, Any], key: str, where: str) -> Any:
    if key not in data:
        place = f"{where}.{key}" if where else key
        raise ParameterError(
            f"the workshop file lacks the key {key!r}",
            where=place,
            expected=EXPECTED_SHAPE,
            fix="export the workshop again with `prodready store export`",
        )
    return data[key]


def _list(data: dict[str, Any], key: str, where: str) -> list[Any]:
    value = _get(data, key, where)
    if not isinstance(value, list):
        raise ParameterError(
            f"{key!r} must be a list",
            where=f"{where}.{key}" if where else key,
            found=f"a JSON {_json_kind(value)}",
            fix="export the workshop again with `prodready store export`",
        )
    return value


def _object(value: Any, where: str) -> None:
    if not isinstance(value, dict):
        raise ParameterError(
            "expected a JSON object here",
            where=where,
            found=f"a JSON {_json_kind(value)}",
            fix="export the workshop again with `prodready store export`",
        )


def _time(value: Any, where: str) -> datetime:
    try:
        if not isinstance(value, str):
            raise ValueError
        return utc(datetime.fromisoformat(value))
    except ValueError:
        raise ParameterError(
            "not a date and time",
            where=where,
            expected="ISO 8601, e.g. 2025-09-08T14:30:00+00:00",
            found=repr(value),
            fix="export the workshop again with `prodready store export`",
        ) from None


def _text(value: Any, where: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise ParameterError("expected text or null", where=where, found=repr(value))


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number" if not (isinstance(value, float) and math.isnan(value)) else "NaN"
    return {dict: "object", list: "list", str: "string", type(None): "null"}.get(
        type(value), type(value).__name__
    )
