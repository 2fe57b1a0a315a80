"""The store's tables as SQLAlchemy 2 ORM classes.

The database is created and changed only by the Alembic migrations in ``migrations/versions``;
these classes must describe the same schema (a test compares them with the migrated database).
Answers are append-only: the current answer to a question is its latest row, so two facilitators
writing at once never overwrite each other and every override keeps its author and time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAME_LENGTH = 200  # workshop, team and author names
QUESTION_ID_LENGTH = 64

# Deterministic constraint names, so a migration can name what it alters on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# JSON on SQLite, JSONB (indexed, compact) on PostgreSQL.
JSONDocument = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class WorkshopRow(Base):
    """A workshop: one client engagement, several teams."""

    __tablename__ = "workshops"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    teams: Mapped[list[TeamRow]] = relationship(
        back_populates="workshop", cascade="all, delete-orphan", order_by="TeamRow.id"
    )


class TeamRow(Base):
    """A team within a workshop; assessed once or many times."""

    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("workshop_id", "name", name="uq_teams_workshop_id_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshops.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    workshop: Mapped[WorkshopRow] = relationship(back_populates="teams")
    assessments: Mapped[list[AssessmentRow]] = relationship(
        back_populates="team", cascade="all, delete-orphan", order_by="AssessmentRow.id"
    )


class AssessmentRow(Base):
    """One sitting of a team: its answers, the audit snapshots it was shown, cached scores."""

    __tablename__ = "assessments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    author: Mapped[str] = mapped_column(String(NAME_LENGTH))
    bank_version: Mapped[str | None] = mapped_column(String(32))
    # the audit results' to_dict() snapshots, keyed by audit name ("skew", "rollout", ...)
    audits: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    # cached parts of Scorecard.to_dict(): sections, ml_test_score, level, answered
    scores: Mapped[dict[str, Any]] = mapped_column(JSONDocument)

    team: Mapped[TeamRow] = relationship(back_populates="assessments")
    answers: Mapped[list[AnswerRow]] = relationship(
        back_populates="assessment", cascade="all, delete-orphan", order_by="AnswerRow.id"
    )


class AnswerRow(Base):
    """One answer given to one question, append-only (the latest row per question counts)."""

    __tablename__ = "answers"
    __table_args__ = (
        CheckConstraint("score IN (0, 0.5, 1)", name="score_allowed"),
        CheckConstraint("proposed IS NULL OR proposed IN (0, 0.5, 1)", name="proposed_allowed"),
        Index("ix_answers_assessment_question", "assessment_id", "question_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(String(QUESTION_ID_LENGTH))
    score: Mapped[float] = mapped_column(Float)
    author: Mapped[str] = mapped_column(String(NAME_LENGTH))
    answered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)
    proposed: Mapped[float | None] = mapped_column(Float)  # what the audit evidence proposed
    reason: Mapped[str | None] = mapped_column(Text)  # why it proposed that

    assessment: Mapped[AssessmentRow] = relationship(back_populates="answers")
