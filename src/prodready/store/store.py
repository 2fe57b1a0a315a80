"""The assessment store: workshops -> teams -> assessments -> append-only answers.

Every write is one transaction. Answers are never updated in place: a new row is appended, so
two facilitators recording at the same time lose nothing, and a history of each question (who
proposed, who confirmed or overrode, when) is always there. Cached scores on the assessment are
recomputed inside the same transaction, after the assessment row is locked.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import URL
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from prodready.errors import ParameterError, StoreError
from prodready.readiness import BANK_VERSION, SECTIONS, decisive, score, validate_answers
from prodready.results import to_json
from prodready.store import transfer
from prodready.store.engine import WRITE_OPTION, database_errors, redact
from prodready.store.models import AnswerRow, AssessmentRow, TeamRow, WorkshopRow
from prodready.store.transfer import FORMAT, check_name, utc

if TYPE_CHECKING:
    from prodready.readiness.scoring import Scorecard

HISTORY_COLUMNS = (
    "question_id",
    "score",
    "author",
    "answered_at",
    "note",
    "proposed",
    "reason",
    "overridden",
)
SUMMARY_COLUMNS = ("assessment_id", "created_at", "author", "answered", "ml_test_score", *SECTIONS)
WRITE_ATTEMPTS = 3  # a write that lost a race on a unique name is retried (it then finds it)


@dataclass(frozen=True, eq=False)
class Assessment:
    """One assessment as stored: current answers, every answer row, audits and its scorecard."""

    id: int
    workshop: str
    team: str
    author: str
    created_at: datetime
    bank_version: str | None
    answers: dict[str, float]  # current: the latest row of each question
    history: pd.DataFrame  # every row, oldest first (HISTORY_COLUMNS)
    audits: dict[str, Any]
    scorecard: Scorecard


class Store:
    """An open store. Use :func:`prodready.store.open`; close it (or use ``with``) when done."""

    def __init__(self, engine: Engine, url: URL) -> None:
        self.engine = engine
        self._url = url

    @property
    def url(self) -> str:
        """The database URL, password hidden."""
        return redact(self._url)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    # -- writing ---------------------------------------------------------------------------

    def save_assessment(
        self,
        workshop: str,
        team: str,
        answers: Mapping[str, Any],
        author: str,
        *,
        audits: Mapping[str, Any] | None = None,
        proposals: pd.DataFrame | None = None,
    ) -> int:
        """Store a new assessment of ``team`` (workshop and team created when new); its id.

        ``audits``: audit results (or their ``to_dict()``) shown to the team, kept as JSON.
        ``proposals``: :func:`prodready.readiness.propose`'s frame; each answer row records what
        the evidence proposed (the lowest proposal) and why, so an override is visible.
        """
        workshop = check_name(workshop, "workshop")
        team = check_name(team, "team")
        author = check_name(author, "author")
        card = score(answers)  # validates ids and scores (ParameterError)
        snapshots = _snapshots(audits)
        proposed = _proposals(proposals)
        with database_errors(self._url, "written"):
            for attempt in range(WRITE_ATTEMPTS):
                try:
                    with self._transaction(write=True) as session:
                        now = _now()
                        team_row = self._team_for_write(session, workshop, team, now)
                        row = AssessmentRow(
                            team=team_row,
                            created_at=now,
                            author=author,
                            bank_version=str(BANK_VERSION),
                            audits=snapshots,
                            scores=_cache(card),
                        )
                        session.add(row)
                        for question_id, value in card.answers.items():
                            suggestion, reason = proposed.get(question_id, (None, None))
                            row.answers.append(
                                AnswerRow(
                                    question_id=question_id,
                                    score=float(value),
                                    author=author,
                                    answered_at=now,
                                    proposed=suggestion,
                                    reason=reason,
                                )
                            )
                        session.flush()
                        return row.id
                except IntegrityError:  # another writer created the same workshop or team
                    if attempt == WRITE_ATTEMPTS - 1:
                        raise
        raise AssertionError("unreachable")  # pragma: no cover

    def record_answer(
        self,
        assessment_id: int,
        question_id: str,
        score_: Any,
        author: str,
        *,
        note: str | None = None,
        proposed: Any = None,
        reason: str | None = None,
    ) -> None:
        """Append one answer to an assessment and refresh its cached scores (one transaction).

        Safe with several writers at once: the assessment row is locked first, so the cached
        scores always include every answer committed before.
        """
        value = _one_answer(question_id, score_)
        suggestion = None if _missing(proposed) else _one_answer(question_id, proposed)
        author = check_name(author, "author")
        for name, given in (("note", note), ("reason", reason)):
            if given is not None and not isinstance(given, str):
                raise ParameterError(
                    f"the answer's {name} must be text", found=repr(given), fix="pass a string"
                )
        with self._session(write=True, doing="written") as session:
            row = session.scalar(
                select(AssessmentRow).where(AssessmentRow.id == assessment_id).with_for_update()
            )
            if row is None:
                raise self._no_assessment(session, assessment_id)
            session.add(
                AnswerRow(
                    assessment_id=row.id,
                    question_id=question_id,
                    score=value,
                    author=author,
                    answered_at=_now(),
                    note=note,
                    proposed=suggestion,
                    reason=reason,
                )
            )
            session.flush()
            row.scores = _cache(score(_current(session, row.id)))

    def import_workshop(self, data: Mapping[str, Any], *, rename: str | None = None) -> str:
        """Write an exported workshop (checked completely first; one transaction); its name.

        An existing workshop of the same name is refused: pass ``rename`` to import a copy.
        """
        plan = transfer.parse_workshop(data, check_answer=_checked_answer)
        if rename is not None:
            plan.name = check_name(rename, "workshop", "rename")
        with self._session(write=True, doing="written") as session:
            if session.scalar(select(WorkshopRow.id).where(WorkshopRow.name == plan.name)):
                raise self._exists(plan.name)
            workshop = WorkshopRow(name=plan.name, created_at=plan.created_at)
            session.add(workshop)
            for team_plan in plan.teams:
                team = TeamRow(name=team_plan.name, created_at=team_plan.created_at)
                workshop.teams.append(team)
                for item in team_plan.assessments:
                    current: dict[str, float] = {}
                    for answer in item.answers:
                        current[answer.question_id] = answer.score
                    assessment = AssessmentRow(
                        created_at=item.created_at,
                        author=item.author,
                        bank_version=item.bank_version,
                        audits=item.audits,
                        scores=_cache(score(current)),
                        answers=[AnswerRow(**vars(answer)) for answer in item.answers],
                    )
                    team.assessments.append(assessment)
            try:
                session.flush()
            except IntegrityError:  # created by someone else since the check above
                raise self._exists(plan.name) from None
        return plan.name

    # -- reading ---------------------------------------------------------------------------

    def load_assessment(self, assessment_id: int) -> Assessment:
        """The assessment with its current answers, full answer history, audits and scorecard."""
        with self._session(doing="read") as session:
            row = session.get(AssessmentRow, assessment_id)
            if row is None:
                raise self._no_assessment(session, assessment_id)
            rows = list(row.answers)
            current = {answer.question_id: answer.score for answer in rows}
            return Assessment(
                id=row.id,
                workshop=row.team.workshop.name,
                team=row.team.name,
                author=row.author,
                created_at=utc(row.created_at),
                bank_version=row.bank_version,
                answers=current,
                history=_history_frame(rows),
                audits=row.audits,
                scorecard=score(current),
            )

    def latest_assessment(self, workshop: str, team: str) -> int | None:
        """The id of the team's newest assessment, or None if it has none."""
        with self._session(doing="read") as session:
            return session.scalar(
                select(AssessmentRow.id)
                .join(TeamRow)
                .join(WorkshopRow)
                .where(WorkshopRow.name == workshop, TeamRow.name == team)
                .order_by(AssessmentRow.created_at.desc(), AssessmentRow.id.desc())
                .limit(1)
            )

    def workshops(self) -> list[str]:
        """Workshop names, alphabetically."""
        with self._session(doing="read") as session:
            return list(session.scalars(select(WorkshopRow.name).order_by(WorkshopRow.name)))

    def teams(self, workshop: str) -> list[str]:
        """The workshop's team names, alphabetically."""
        with self._session(doing="read") as session:
            found = self._workshop(session, workshop)
            return sorted(team.name for team in found.teams)

    def history(self, workshop: str, team: str) -> pd.DataFrame:
        """One row per assessment of the team, oldest first: to see it improve over time."""
        with self._session(doing="read") as session:
            found = self._workshop(session, workshop)
            match = [t for t in found.teams if t.name == team]
            if not match:
                raise StoreError(
                    f"the workshop {workshop!r} has no team named {team!r}",
                    where=self.url,
                    found=f"teams: {', '.join(sorted(t.name for t in found.teams)) or 'none'}",
                    fix="check the spelling, or save an assessment for the team first",
                )
            rows = sorted(match[0].assessments, key=lambda a: (utc(a.created_at), a.id))
            return _summary_frame([_summary(a) for a in rows])

    def compare(self, workshop: str) -> pd.DataFrame:
        """One row per team of the workshop (its latest assessment), teams alphabetically."""
        with self._session(doing="read") as session:
            found = self._workshop(session, workshop)
            records = []
            for team in sorted(found.teams, key=lambda t: t.name):
                if team.assessments:
                    latest = max(team.assessments, key=lambda a: (utc(a.created_at), a.id))
                    records.append({"team": team.name, **_summary(latest)})
            frame = _summary_frame(records, extra=("team",))
            frame["team"] = frame["team"].astype("str")
            return frame

    def export_workshop(self, workshop: str) -> dict[str, Any]:
        """The whole workshop as JSON-safe data (every answer row): see docs/store.md."""
        with self._session(doing="read") as session:
            found = self._workshop(session, workshop)
            return {
                "format": FORMAT,
                "bank_version": str(BANK_VERSION),
                "exported_at": _now().isoformat(),
                "workshop": found.name,
                "created_at": utc(found.created_at).isoformat(),
                "teams": [
                    {
                        "name": team.name,
                        "created_at": utc(team.created_at).isoformat(),
                        "assessments": [_export_assessment(a) for a in team.assessments],
                    }
                    for team in found.teams
                ],
            }

    # -- helpers ---------------------------------------------------------------------------

    @contextmanager
    def _session(self, *, write: bool = False, doing: str) -> Iterator[Session]:
        """A session in one transaction, with driver errors turned into a StoreError."""
        with database_errors(self._url, doing), self._transaction(write=write) as session:
            yield session

    @contextmanager
    def _transaction(self, *, write: bool = False) -> Iterator[Session]:
        """A session in one transaction; writers on SQLite take the write lock at BEGIN."""
        with self.engine.connect() as connection:
            if write:
                connection.execution_options(**{WRITE_OPTION: True})
            with Session(bind=connection, expire_on_commit=False) as session, session.begin():
                yield session

    def _team_for_write(self, session: Session, workshop: str, team: str, now: datetime) -> TeamRow:
        found = session.scalar(select(WorkshopRow).where(WorkshopRow.name == workshop))
        if found is None:
            found = WorkshopRow(name=workshop, created_at=now)
            session.add(found)
        for existing in found.teams:
            if existing.name == team:
                return existing
        row = TeamRow(name=team, created_at=now)
        found.teams.append(row)
        return row

    def _workshop(self, session: Session, name: str) -> WorkshopRow:
        found = session.scalar(select(WorkshopRow).where(WorkshopRow.name == name))
        if found is None:
            known = list(session.scalars(select(WorkshopRow.name).order_by(WorkshopRow.name)))
            raise StoreError(
                f"no workshop named {name!r} in the store",
                where=self.url,
                found=f"workshops: {', '.join(known) or 'none yet'}",
                fix="check the spelling, or point --db / PRODREADY_DB_URL at the right database",
            )
        return found

    def _no_assessment(self, session: Session, assessment_id: int) -> StoreError:
        newest = session.scalar(select(func.max(AssessmentRow.id)))
        return StoreError(
            f"no assessment with id {assessment_id} in the store",
            where=self.url,
            found=f"ids go up to {newest}" if newest else "the store holds no assessment yet",
            fix="use an id returned by save_assessment or latest_assessment",
        )

    def _exists(self, name: str) -> StoreError:
        return StoreError(
            f"a workshop named {name!r} is already in the store",
            where=self.url,
            fix=f"import it under another name with --rename (e.g. --rename '{name} (copy)'), "
            "or use another database",
        )


def _now() -> datetime:
    return datetime.now(UTC)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _one_answer(question_id: Any, value: Any) -> float:
    """One answer checked by the readiness rules (unknown id, score not 0/0.5/1)."""
    if not isinstance(question_id, str):
        raise ParameterError(
            "a question id must be text", found=repr(question_id), fix="use ids such as data_1"
        )
    return float(validate_answers({question_id: value})[question_id])


def _checked_answer(question_id: Any, value: Any, where: str) -> float:
    """:func:`_one_answer` with the place in the import file named."""
    try:
        return _one_answer(question_id, value)
    except ParameterError as error:
        raise ParameterError(
            error.problem,
            where=where,
            expected=error.expected,
            found=error.found,
            fix=error.fix,
        ) from None


def _snapshots(audits: Mapping[str, Any] | None) -> dict[str, Any]:
    """Audit results as JSON-safe dicts (objects are converted with their to_dict())."""
    if audits is None:
        return {}
    if not isinstance(audits, Mapping):
        raise ParameterError(
            "audits must be a mapping of audit name to result",
            found=type(audits).__name__,
            fix='pass e.g. {"skew": skew_result}',
        )
    snapshots = {}
    for name, result in audits.items():
        value = to_json(result.to_dict() if hasattr(result, "to_dict") else result)
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as error:
            raise ParameterError(
                "an audit result cannot be stored as JSON",
                where=f"audits[{name!r}]",
                found=str(error),
                fix="pass the audit's result object or its to_dict()",
            ) from None
        snapshots[str(name)] = value
    return snapshots


def _proposals(frame: pd.DataFrame | None) -> dict[str, tuple[float | None, str | None]]:
    """Question id -> (lowest proposed score, its reason) from readiness.propose()'s frame."""
    if frame is None or len(frame) == 0:
        return {}
    missing = {"id", "proposed", "reason"} - set(frame.columns)
    if missing:
        raise ParameterError(
            "the proposals frame lacks columns",
            found=", ".join(sorted(missing)),
            expected="readiness.propose()'s frame (id, proposed, reason, ...)",
        )
    return decisive(frame)


def _cache(card: Scorecard) -> dict[str, Any]:
    """The parts of a scorecard kept on the assessment row for history() and compare()."""
    return to_json(
        {
            "sections": {name: float(card.sections[name]) for name in SECTIONS},
            "ml_test_score": float(card.ml_test_score),
            "level": dict(card.level),
            "answered": int(card.answered),
        }
    )


def _current(session: Session, assessment_id: int) -> dict[str, float]:
    rows = session.execute(
        select(AnswerRow.question_id, AnswerRow.score)
        .where(AnswerRow.assessment_id == assessment_id)
        .order_by(AnswerRow.id)
    )
    return {question_id: value for question_id, value in rows}


def _history_frame(rows: list[AnswerRow]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "question_id": pd.Series([r.question_id for r in rows], dtype="str"),
            "score": pd.Series([r.score for r in rows], dtype="float64"),
            "author": pd.Series([r.author for r in rows], dtype="str"),
            "answered_at": pd.to_datetime([utc(r.answered_at) for r in rows], utc=True),
            "note": pd.Series([r.note for r in rows], dtype="object"),
            "proposed": pd.Series(
                [math.nan if r.proposed is None else r.proposed for r in rows], dtype="float64"
            ),
            "reason": pd.Series([r.reason for r in rows], dtype="object"),
        }
    )
    frame["overridden"] = frame["proposed"].notna() & (frame["score"] != frame["proposed"])
    return frame[list(HISTORY_COLUMNS)]


def _summary(row: AssessmentRow) -> dict[str, Any]:
    cached = row.scores
    return {
        "assessment_id": row.id,
        "created_at": utc(row.created_at),
        "author": row.author,
        "answered": cached["answered"],
        "ml_test_score": cached["ml_test_score"],
        **{name: cached["sections"][name] for name in SECTIONS},
    }


def _summary_frame(records: list[dict[str, Any]], extra: tuple[str, ...] = ()) -> pd.DataFrame:
    columns = [*extra, *SUMMARY_COLUMNS]
    frame = pd.DataFrame(records, columns=columns)
    frame["assessment_id"] = frame["assessment_id"].astype("int64")
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    frame["author"] = frame["author"].astype("str")
    frame["answered"] = frame["answered"].astype("int64")
    for column in ("ml_test_score", *SECTIONS):
        frame[column] = frame[column].astype("float64")
    return frame


def _export_assessment(row: AssessmentRow) -> dict[str, Any]:
    return {
        "created_at": utc(row.created_at).isoformat(),
        "author": row.author,
        "bank_version": row.bank_version,
        "audits": row.audits,
        "answers": [
            {
                "question_id": a.question_id,
                "score": a.score,
                "author": a.author,
                "answered_at": utc(a.answered_at).isoformat(),
                "note": a.note,
                "proposed": a.proposed,
                "reason": a.reason,
            }
            for a in row.answers
        ],
    }
