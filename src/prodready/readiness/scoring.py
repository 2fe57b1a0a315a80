"""Score readiness answers: section sums, the ML Test Score, its band and the MLOps levels.

The ML Test Score follows Breck et al., "The ML Test Score: A Rubric for ML Production Readiness
and Technical Debt Reduction" (IEEE Big Data 2017): each test scores 0, 0.5 (done by hand and
documented) or 1 (automated and repeated); a section's score is its sum; the final score is the
minimum over the four sections, because a system is only as ready as its weakest area.

The levels map the answers onto two published maturity scales by a written rule (see
``docs/readiness.md``, "Levels rule"): Google Cloud's "MLOps: Continuous delivery and automation
pipelines in machine learning" (levels 0-2) and Microsoft's "Machine Learning operations maturity
model" (levels 0-4). Each level names the questions it needs and the score each needs; levels are
cumulative, so a team is at the highest level whose needs, and every lower level's, are met.
"""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from prodready.errors import ParameterError
from prodready.readiness.bank import (
    ML_TEST_SECTIONS,
    SECTION_TITLES,
    SECTIONS,
    bank_version,
    question_ids,
    questions,
    section_of,
)
from prodready.results import Finding, to_json

VALID_SCORES: tuple[float, ...] = (0.0, 0.5, 1.0)
"""0: not done; 0.5: done by hand, documented; 1: automated and repeated (Breck et al. 2017)."""

BANDS: tuple[tuple[float, str], ...] = (
    (0.0, "More of a research project than a productionized system."),
    (
        1.0,
        "Not totally untested, but it is worth considering the possibility of serious holes in "
        "reliability.",
    ),
    (
        2.0,
        "There's been first pass at basic productionization, but additional investment may be "
        "needed.",
    ),
    (
        3.0,
        "Reasonably tested, but it's possible that more of those tests and procedures may be "
        "automated.",
    ),
    (
        5.0,
        "Strong levels of automated testing and monitoring, appropriate for mission-critical "
        "systems.",
    ),
    (math.inf, "Exceptional levels of automated testing and monitoring."),
)
"""The paper's interpretation of the final score: (upper bound inclusive, sentence). 0 is its own
band; then (0, 1], (1, 2], (2, 3], (3, 5] and above 5."""

# ----------------------------------------------------------------------------- the levels rule
# (level, name, {question id: minimum score}); a level needs its own questions and every lower
# level's. Written out in docs/readiness.md, "Levels rule"; change both together.
GOOGLE_LEVELS: tuple[tuple[int, str, dict[str, float]], ...] = (
    (0, "manual process", {}),
    (
        1,
        "ML pipeline automation",
        {
            "data_1": 1.0,  # data validation runs in the pipeline
            "infra_1": 1.0,  # the pipeline trains reproducibly
            "infra_3": 1.0,  # the pipeline itself is tested
            "infra_4": 1.0,  # model validation before serving
            "org_retraining": 1.0,  # continuous training: retraining runs by itself
            "monitor_4": 0.5,  # staleness watched, so training is triggered for a reason
        },
    ),
    (
        2,
        "CI/CD pipeline automation",
        {
            "data_7": 1.0,  # CI: feature code tested on every change
            "infra_2": 1.0,  # CI: model code unit tested
            "infra_6": 1.0,  # CD: canary before serving
            "infra_7": 1.0,  # CD: rollback
            "monitor_7": 1.0,  # prediction quality monitored, feeding the next iteration
        },
    ),
)

MICROSOFT_LEVELS: tuple[tuple[int, str, dict[str, float]], ...] = (
    (0, "No MLOps", {}),
    (
        1,
        "DevOps but no MLOps",
        {
            "data_7": 1.0,  # automated tests of application (feature) code
            "infra_2": 1.0,  # automated builds and tests of model code
            "monitor_6": 0.5,  # application telemetry
        },
    ),
    (
        2,
        "Automated training",
        {
            "infra_1": 1.0,  # managed, reproducible training environment
            "org_retraining": 1.0,  # training runs automatically
            "model_1": 0.5,  # model specs tracked and reviewed (model management)
        },
    ),
    (
        3,
        "Automated model deployment",
        {
            "infra_3": 1.0,  # train > test > production pipeline tested
            "infra_4": 1.0,  # automated validation before release
            "infra_6": 1.0,  # A/B or canary in deployment
            "infra_7": 1.0,  # low-friction, automatic release and rollback
        },
    ),
    (
        4,
        "Full MLOps automated operations",
        {
            "monitor_2": 1.0,  # verbose metrics from the deployed model: inputs
            "monitor_3": 1.0,  # ... training-serving skew
            "monitor_4": 1.0,  # ... staleness triggers retraining
            "monitor_7": 1.0,  # ... prediction quality
            "org_business_kpis": 1.0,  # ... and the business outcome
        },
    ),
)

LEVEL_SCALES: dict[str, tuple[tuple[int, str, dict[str, float]], ...]] = {
    "google": GOOGLE_LEVELS,
    "microsoft": MICROSOFT_LEVELS,
}
_SCALE_NAMES = {"google": "Google MLOps", "microsoft": "Microsoft MLOps maturity"}


# ----------------------------------------------------------------------------- validation
def check_id(question_id: Any, *, where: str = "answers") -> str:
    """``question_id`` if the bank has it, else a ParameterError suggesting close ids."""
    ids = question_ids()
    if isinstance(question_id, str) and question_id in ids:
        return question_id
    raise ParameterError(
        f"there is no readiness question {question_id!r}",
        where=where,
        expected="a question id of the bank, e.g. org_owner, data_1, infra_6, monitor_7",
        found=repr(question_id) + _suggestion(question_id),
        fix="use the ids of prodready.readiness.questions() (prodready.readiness.questions().id)",
    )


def _suggestion(question_id: Any) -> str:
    close = difflib.get_close_matches(str(question_id), question_ids(), n=3, cutoff=0.6)
    return f" (did you mean {' or '.join(close)}?)" if close else ""


def check_score(value: Any, question_id: str, *, where: str = "answers") -> float:
    """``value`` as 0.0, 0.5 or 1.0; anything else (incl. True, NaN, 0.7, "abc") is refused.

    Numbers and numeric strings ("0.5", " 1 ") are accepted; booleans are not, because ``True``
    is more likely a yes/no answer typed into the wrong column than a deliberate 1.
    """
    number: float | None = None
    if isinstance(value, bool | np.bool_):
        number = None
    elif isinstance(value, numbers.Real):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    if number is not None and number in VALID_SCORES:
        return number
    raise ParameterError(
        f"question {question_id} has a score prodready cannot use",
        where=where,
        expected="0 (not done), 0.5 (done by hand, documented) or 1 (automated and repeated)",
        found=f"{value!r} ({type(value).__name__})",
        fix=f"answer {question_id} with 0, 0.5 or 1, or leave it out if unanswered",
    )


def validate_answers(answers: Any, *, where: str = "answers") -> dict[str, float]:
    """A validated copy of ``answers`` (question id -> 0, 0.5 or 1), in bank order.

    Unknown ids are all listed at once, with close ids suggested; the first bad score is named.
    """
    if not isinstance(answers, Mapping):
        raise ParameterError(
            "the answers are not a mapping",
            where=where,
            expected="a mapping of question id to score, e.g. {'org_owner': 1, 'data_1': 0.5}",
            found=f"a {type(answers).__name__}",
            fix="pass a dict of question id -> 0, 0.5 or 1",
        )
    ids = question_ids()
    unknown = [key for key in answers if not (isinstance(key, str) and key in ids)]
    if len(unknown) == 1:
        check_id(unknown[0], where=where)
    if unknown:
        raise ParameterError(
            f"{len(unknown)} answers are for questions the bank does not have",
            where=where,
            expected="question ids of prodready.readiness.questions()",
            found="; ".join(repr(key) + _suggestion(key) for key in unknown),
            fix="correct or remove those ids",
        )
    checked = {qid: check_score(value, qid, where=where) for qid, value in answers.items()}
    return {qid: checked[qid] for qid in ids if qid in checked}


# ----------------------------------------------------------------------------- scorecard
@dataclass(frozen=True)
class Scorecard:
    """The scored answers: section sums, the ML Test Score (the minimum over the four ML Test
    sections), its band, the MLOps levels with their reasons, and the gaps to close."""

    answers: dict[str, float]
    sections: dict[str, float]
    maximum: dict[str, float]
    ml_test_score: float
    weakest: str
    band: str
    level: dict[str, int]
    level_reasons: dict[str, str]
    gaps: pd.DataFrame
    answered: int
    total: int

    @property
    def unanswered(self) -> list[str]:
        """Ids of the questions without an answer, in bank order."""
        return [qid for qid in question_ids() if qid not in self.answers]

    def to_frame(self) -> pd.DataFrame:
        """One row per question: id, section, text, score (NaN when unanswered)."""
        frame = questions()[["id", "section", "text"]]
        frame["score"] = frame["id"].map(self.answers).astype(float)
        return frame

    def summary(self) -> list[Finding]:
        """The score and its band, the weakest section, the levels, and what is unanswered."""
        findings = [
            Finding(
                _band_severity(self.ml_test_score),
                f"ML Test Score {self.ml_test_score:g} of 7 (the weakest of the four sections, "
                f"{SECTION_TITLES[self.weakest].lower()}): {self.band}",
            ),
            Finding("info", self.level_reasons["google"]),
            Finding("info", self.level_reasons["microsoft"]),
        ]
        org = self.sections["organisation"]
        if org < self.maximum["organisation"] / 2:
            findings.append(
                Finding(
                    "high",
                    f"Organisation scores {org:g} of {self.maximum['organisation']:g}: "
                    "ownership, success measures and release practice need work before tests do.",
                )
            )
        if self.answered < self.total:
            missing = self.total - self.answered
            findings.append(
                Finding(
                    "medium" if missing > self.total / 2 else "low",
                    f"{missing} of {self.total} questions are unanswered and count as 0: "
                    f"{', '.join(self.unanswered[:6])}"
                    + (f" and {missing - 6} more." if missing > 6 else "."),
                )
            )
        return findings

    def to_dict(self) -> dict[str, Any]:
        return to_json(
            {
                "bank_version": bank_version(),
                "answers": self.answers,
                "sections": self.sections,
                "maximum": self.maximum,
                "ml_test_score": self.ml_test_score,
                "weakest": self.weakest,
                "band": self.band,
                "level": self.level,
                "level_reasons": self.level_reasons,
                "gaps": self.gaps.to_dict(orient="records"),
                "answered": self.answered,
                "total": self.total,
                "summary": [f.to_dict() for f in self.summary()],
            }
        )


def score(answers: Mapping[str, Any]) -> Scorecard:
    """Score ``answers`` (question id -> 0, 0.5 or 1; unanswered questions are left out and
    count as 0 in the sums). Bad ids, scores or types raise one ParameterError that says which."""
    checked = validate_answers(answers)
    ids, sections_of = question_ids(), section_of()
    sections = {s: 0.0 for s in SECTIONS}
    maximum = {s: 0.0 for s in SECTIONS}
    for qid in ids:
        maximum[sections_of[qid]] += 1.0
        sections[sections_of[qid]] += checked.get(qid, 0.0)
    ml_test = min(sections[s] for s in ML_TEST_SECTIONS)
    weakest = next(s for s in ML_TEST_SECTIONS if sections[s] == ml_test)
    level, reasons = {}, {}
    for scale in LEVEL_SCALES:
        level[scale], reasons[scale] = _level(scale, checked)
    return Scorecard(
        answers=checked,
        sections=sections,
        maximum=maximum,
        ml_test_score=ml_test,
        weakest=weakest,
        band=band(ml_test),
        level=level,
        level_reasons=reasons,
        gaps=_gaps(checked, sections, maximum),
        answered=len(checked),
        total=len(ids),
    )


def band(ml_test_score: float) -> str:
    """The paper's sentence for a final score: 0, (0,1], (1,2], (2,3], (3,5], above 5."""
    for upper, sentence in BANDS:
        if ml_test_score <= upper:
            return sentence
    raise AssertionError("unreachable: the last band is unbounded")


def _band_severity(ml_test_score: float) -> str:
    if ml_test_score <= 1:
        return "high"
    if ml_test_score <= 2:
        return "medium"
    return "low" if ml_test_score <= 3 else "info"


def _level(scale: str, answers: dict[str, float]) -> tuple[int, str]:
    """The highest level whose needs (and all lower levels' needs) the answers meet, and one
    sentence: what was met and what is missing for the next level."""
    levels = LEVEL_SCALES[scale]
    reached = levels[0]
    for entry in levels[1:]:
        if _missing(entry[2], answers):
            break
        reached = entry
    title = f"{_SCALE_NAMES[scale]} level {reached[0]} ({reached[1]})"
    if reached is levels[-1]:
        return reached[0], f"{title}: every question of every level is met."
    following = levels[reached[0] + 1]
    labels = questions().set_index("id")["short"]  # words an executive reads, not ids
    needs = ", ".join(
        f"{labels[qid]} ({qid}) at {'1' if need == 1 else '0.5 or more'} "
        f"(now {_shown(answers.get(qid))})"
        for qid, need in _missing(following[2], answers)
    )
    met = "the starting point" if reached[0] == 0 else "its questions and the lower levels' are met"
    return (
        reached[0],
        f"{title}: {met}; level {following[0]} ({following[1]}) also needs {needs}.",
    )


def _missing(needs: dict[str, float], answers: dict[str, float]) -> list[tuple[str, float]]:
    return [(qid, need) for qid, need in needs.items() if answers.get(qid, 0.0) < need]


def _shown(value: float | None) -> str:
    return "unanswered" if value is None else f"{value:g}"


def _gaps(
    answers: dict[str, float], sections: dict[str, float], maximum: dict[str, float]
) -> pd.DataFrame:
    """Every question below 1, weakest section first (organisation on the 0..7 scale by its share
    of its maximum), then by score, then bank order. Unanswered questions score 0 here."""
    frame = questions()[["id", "section", "text", "why"]]
    frame["answered"] = frame["id"].isin(list(answers))
    frame["score"] = frame["id"].map(lambda qid: answers.get(qid, 0.0)).astype(float)
    on_seven = {s: sections[s] / maximum[s] * 7.0 for s in SECTIONS}
    frame["_section_score"] = frame["section"].map(on_seven).astype(float)
    frame["_order"] = np.arange(len(frame))
    gaps = frame[frame["score"] < 1.0].sort_values(["_section_score", "score", "_order"])
    return gaps[["id", "section", "text", "why", "score", "answered"]].reset_index(drop=True)
