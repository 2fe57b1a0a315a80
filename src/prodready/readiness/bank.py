"""The readiness question bank: a versioned YAML file inside the package, validated once.

Organisation questions (ownership, "success theater", the "pilot trap", human review,
retraining, business KPIs, shadow and canary, rollback), then the 28 tests of Breck et al.,
"The ML Test Score: A Rubric for ML Production Readiness and Technical Debt Reduction" (IEEE Big
Data 2017), in the paper's order and wording. The file is data so that a consultant can read and
reword it without touching code; the version number is stored with every assessment.
"""

from __future__ import annotations

import functools
from collections import Counter
from importlib import resources
from typing import Literal

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from prodready.errors import DataError

SECTIONS: tuple[str, ...] = ("organisation", "data", "model", "infrastructure", "monitoring")
"""Every section, in bank order."""

ML_TEST_SECTIONS: tuple[str, ...] = SECTIONS[1:]
"""The four sections of the ML Test Score (features and data, model development, ML
infrastructure, monitoring), seven tests each."""

SECTION_TITLES: dict[str, str] = {
    "organisation": "Organisation",
    "data": "Features and data",
    "model": "Model development",
    "infrastructure": "ML infrastructure",
    "monitoring": "Monitoring",
}

COLUMNS: tuple[str, ...] = ("id", "section", "text", "why", "evidence", "short", "paper_id")
"""The columns of :func:`questions`: the contract's five, then the chart label and paper label."""

BANK_FILE = "questions.yaml"
TESTS_PER_SECTION = 7

Section = Literal["organisation", "data", "model", "infrastructure", "monitoring"]


class Question(BaseModel):
    """One question as the bank file states it."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    id: str
    section: Section
    text: str
    why: str
    evidence: str
    short: str
    paper_id: str = ""

    @field_validator("id", "text", "why", "evidence", "short")
    @classmethod
    def _not_empty(cls, value: str) -> str:
        if not value:
            raise ValueError("must not be empty")
        return value

    @field_validator("why")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if "\n" in value:
            raise ValueError("'why' is one line")
        return value


class Bank(BaseModel):
    """The whole file: a version and the questions, checked as a set."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int
    questions: tuple[Question, ...]

    @model_validator(mode="after")
    def _complete(self) -> Bank:
        ids = Counter(q.id for q in self.questions)
        twice = sorted(i for i, n in ids.items() if n > 1)
        if twice:
            raise ValueError(f"question ids must be unique; repeated: {', '.join(twice)}")
        order = [SECTIONS.index(q.section) for q in self.questions]
        if order != sorted(order):
            raise ValueError("questions must be grouped by section in the order " + str(SECTIONS))
        counts = Counter(q.section for q in self.questions)
        for section in ML_TEST_SECTIONS:
            if counts[section] != TESTS_PER_SECTION:
                raise ValueError(
                    f"section {section!r} needs the paper's {TESTS_PER_SECTION} tests, "
                    f"has {counts[section]}"
                )
        if not counts["organisation"]:
            raise ValueError("the organisation section has no question")
        return self


@functools.cache
def load_bank() -> Bank:
    """The bank, read and validated once per process (it is immutable: callers get copies)."""
    source = resources.files("prodready.readiness").joinpath(BANK_FILE)
    where = f"prodready/readiness/{BANK_FILE}"
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise DataError(
            "the readiness question bank is not valid YAML",
            where=where,
            found=str(exc).splitlines()[0],
            fix="restore the file from the prodready release",
        ) from exc
    try:
        return Bank.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        place = ".".join(str(p) for p in first["loc"]) or "the file"
        raise DataError(
            "the readiness question bank breaks its own rules",
            where=f"{where}: {place}",
            found=first["msg"],
            fix="restore the file from the prodready release, or fix the entry named",
        ) from exc


@functools.cache
def _frame() -> pd.DataFrame:
    rows = [q.model_dump() for q in load_bank().questions]
    return pd.DataFrame(rows, columns=list(COLUMNS))


def questions() -> pd.DataFrame:
    """Every question in bank order: ``id, section, text, why, evidence, short, paper_id``.

    Organisation first (8), then the ML Test Score sections ``data``, ``model``,
    ``infrastructure``, ``monitoring`` (7 each, in the paper's order). A fresh copy each call.
    """
    return _frame().copy()


def bank_version() -> int:
    """The ``version:`` of the bank file, stored with every assessment."""
    return load_bank().version


@functools.cache
def question_ids() -> tuple[str, ...]:
    """Every question id, in bank order."""
    return tuple(q.id for q in load_bank().questions)


@functools.cache
def _sections() -> tuple[tuple[str, str], ...]:
    return tuple((q.id, q.section) for q in load_bank().questions)


def section_of() -> dict[str, str]:
    """Question id -> section, in bank order (a fresh dict each call)."""
    return dict(_sections())
