"""The readiness roadmap: what to do in months 1, 2, 3 and 4+, and why, from a scorecard's gaps
and the audits' findings.

Every item comes from a template in :data:`TEMPLATES` (one small table, reviewed like data): the
template names the questions it closes, its phase and months, the owner role, the effort and the
expected impact. An item appears only when one of its questions is a gap of the scorecard (score
below 1 or unanswered) or is linked to an audit finding that needs work (a proposed 0, or a high
or medium severity); "More use cases on the same platform" always appears. Items are ranked by
severity, then money at stake, then how weak their section is.

Effort: ``S`` up to 1 person-week, ``M`` 2 to 4 person-weeks, ``L`` 5 to 8 person-weeks.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from prodready.errors import DataError, ParameterError
from prodready.files import write_atomic
from prodready.results import SEVERITY_ORDER, Finding, format_money, markdown_text, to_json

if TYPE_CHECKING:  # for annotations only
    from prodready.readiness.scoring import Scorecard

__all__ = ["EFFORT_WEEKS", "PHASES", "TEMPLATES", "Roadmap", "RoadmapItem", "roadmap"]

#: phase -> (first month, last month, what the phase is for)
PHASES: dict[str, tuple[int, int, str]] = {
    "Foundation": (1, 1, "metrics, data audit, feature definitions by serving availability, MLOps"),
    "Baseline": (2, 2, "the simplest model, shadow mode, monitoring"),
    "Iteration": (3, 3, "improve, A/B test, gradual rollout, handover"),
    "Optimisation": (4, 6, "automated retraining, more use cases"),
}
#: effort code -> person-weeks (inclusive range)
EFFORT_WEEKS: dict[str, tuple[int, int]] = {"S": (0, 1), "M": (2, 4), "L": (5, 8)}
COLUMNS = [
    "phase",
    "month_start",
    "month_end",
    "title",
    "why",
    "owner",
    "effort",
    "impact",
    "money",
    "currency",
    "questions",
    "priority",
    "severity",
]
FINDING_COLUMNS = [
    "id",
    "proposed",
    "reason",
    "audit",
    "finding",
    "severity",
    "money",
    "currency",
]
WORK_SEVERITIES = ("high", "medium")
NO_SEVERITY = len(SEVERITY_ORDER)  # ranks after "info"


@dataclass(frozen=True)
class RoadmapItem:
    """A template: the work that closes ``questions``, when, by whom, how big, to what end."""

    key: str
    phase: str
    title: str
    owner: str
    effort: str
    impact: str
    questions: tuple[str, ...]
    months: tuple[int, int] | None = None  # default: the phase's months
    always: bool = False  # appears even without a gap or finding
    follows: tuple[str, ...] = ()  # keys of items whose appearance brings this one in

    @property
    def month_start(self) -> int:
        return (self.months or PHASES[self.phase][:2])[0]

    @property
    def month_end(self) -> int:
        return (self.months or PHASES[self.phase][:2])[1]


# The reviewable table: every question of the bank belongs to exactly one item.
TEMPLATES: tuple[RoadmapItem, ...] = (
    RoadmapItem(
        "owner",
        "Foundation",
        "One owner accountable for the business outcome",
        "Product owner",
        "S",
        "Someone decides, funds and answers for the model in production",
        ("org_owner",),
    ),
    RoadmapItem(
        "metrics",
        "Foundation",
        "Success metrics: business impact, offline checked against online",
        "ML engineer",
        "S",
        "Success is judged by business impact measured online, not offline accuracy",
        ("org_success", "model_2"),
    ),
    RoadmapItem(
        "data_audit",
        "Foundation",
        "Data audit: schema, expectations and privacy controls",
        "Data engineer",
        "M",
        "Bad or non-compliant data is caught before it reaches training or serving",
        ("data_1", "data_4", "data_5"),
    ),
    RoadmapItem(
        "feature_definitions",
        "Foundation",
        "Feature definitions by serving availability, one tested pipeline for both",
        "Data engineer",
        "M",
        "Production sees what training saw: no skew, no features from the future",
        ("monitor_3", "data_7"),
    ),
    RoadmapItem(
        "mlops_setup",
        "Foundation",
        "MLOps set-up: reproducible training, tested pipeline, production architecture",
        "MLOps engineer",
        "L",
        "Every model can be rebuilt, tested and shipped the same way; no pilot trap",
        ("org_pilot", "infra_1", "infra_2", "infra_3", "monitor_1"),
    ),
    RoadmapItem(
        "simplest_model",
        "Baseline",
        "The simplest model as a reviewed baseline",
        "ML engineer",
        "M",
        "A benchmark every later model must beat, with its spec reviewed",
        ("model_1", "model_5"),
    ),
    RoadmapItem(
        "shadow_canary_rollback",
        "Baseline",
        "Shadow mode, canary and one-click rollback",
        "MLOps engineer",
        "M",
        "A bad model is stopped before it costs money and undone in minutes",
        ("infra_4", "infra_6", "infra_7", "org_shadow_canary", "org_rollback"),
        months=(2, 3),
    ),
    RoadmapItem(
        "monitoring",
        "Baseline",
        "Monitoring of business KPIs, input data and prediction quality",
        "ML engineer",
        "M",
        "Silent failures are noticed in days, not quarters",
        ("org_business_kpis", "monitor_2", "monitor_4", "monitor_5", "monitor_6", "monitor_7"),
    ),
    RoadmapItem(
        "human_review",
        "Baseline",
        "Human review for high-stakes decisions",
        "Product owner",
        "S",
        "The costliest errors are caught by a person before the model acts",
        ("org_human_review",),
    ),
    RoadmapItem(
        "improve_model",
        "Iteration",
        "Improve the model: features, tuning, important slices, inclusion",
        "ML engineer",
        "M",
        "Better business value on the slices that matter, with features that pay their way",
        ("data_2", "data_3", "data_6", "model_3", "model_6", "model_7"),
    ),
    RoadmapItem(
        "ab_gradual",
        "Iteration",
        "A/B test and gradual rollout",
        "ML engineer",
        "M",
        "Each new model earns its traffic on online evidence, step by step",
        (),
        follows=("metrics", "shadow_canary_rollback"),
    ),
    RoadmapItem(
        "handover",
        "Iteration",
        "Handover: runbook, on-call and a debuggable model",
        "MLOps engineer",
        "S",
        "The team that runs the model can explain and fix it without its authors",
        ("infra_5",),
    ),
    RoadmapItem(
        "automated_retraining",
        "Optimisation",
        "Automated retraining on a schedule set by measured staleness",
        "ML engineer",
        "L",
        "The model stays fresh without heroics; retraining has an owner and a cadence",
        ("org_retraining", "model_4"),
    ),
    RoadmapItem(
        "more_use_cases",
        "Optimisation",
        "More use cases on the same platform",
        "Product owner",
        "L",
        "The platform built here pays again for the next model",
        (),
        always=True,
    ),
)
# A question the table does not name (a newer bank) lands in its section's item.
SECTION_FALLBACK = {
    "organisation": "owner",
    "data": "data_audit",
    "model": "improve_model",
    "infrastructure": "mlops_setup",
    "monitoring": "monitoring",
}
_BY_KEY = {t.key: t for t in TEMPLATES}
_BY_QUESTION = {q: t.key for t in TEMPLATES for q in t.questions}


def template_for(question_id: str, section: str | None = None) -> RoadmapItem:
    """The template a question belongs to (its section's fallback when the table lacks it)."""
    key = _BY_QUESTION.get(question_id)
    if key is None:
        prefix = question_id.split("_", 1)[0]
        guess = {"org": "organisation", "infra": "infrastructure", "monitor": "monitoring"}
        key = SECTION_FALLBACK.get(section or guess.get(prefix, prefix), "owner")
    return _BY_KEY[key]


def first_of_next_month(today: date | None = None) -> date:
    today = today or date.today()
    return date(today.year + today.month // 12, today.month % 12 + 1, 1)


def month_start_date(start: date, month: int) -> date:
    """The first day of roadmap month ``month`` (1-based) when month 1 begins on ``start``."""
    return (pd.Timestamp(start) + pd.DateOffset(months=month - 1)).date()


@dataclass(frozen=True)
class Roadmap:
    """The plan: ``items`` (one row per item, :data:`COLUMNS`), ordered by month then priority;
    month 1 begins on ``start``."""

    items: pd.DataFrame
    start: date
    ml_test_score: float
    weakest: str
    #: the audit rows the roadmap answers (``propose`` columns), each with its item's title
    findings: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=FINDING_COLUMNS))

    def to_frame(self) -> pd.DataFrame:
        return self.items.copy()

    def month_date(self, month: int) -> date:
        return month_start_date(self.start, month)

    def money_at_stake(self) -> tuple[float, str | None]:
        """Money of the linked findings, each finding counted once (items may share one)."""
        unique = self.findings.drop_duplicates(["audit", "finding"])
        return _money_of(unique)

    def to_dict(self) -> dict[str, Any]:
        return to_json(
            {
                "start": self.start,
                "ml_test_score": self.ml_test_score,
                "weakest": self.weakest,
                "phases": {p: list(m[:2]) for p, m in PHASES.items()},
                "effort_weeks": {e: list(w) for e, w in EFFORT_WEEKS.items()},
                "items": self.items.to_dict(orient="records"),
                "findings": self.findings.to_dict(orient="records"),
                "summary": [f.to_dict() for f in self.summary()],
            }
        )

    def summary(self) -> list[Finding]:
        """Month 1 in a few sentences: its items, then the money at stake in the findings."""
        first = self.items[self.items["month_start"] == 1]
        out: list[Finding] = []
        total, currency = self.money_at_stake()
        begins = f"{self.start:%d %b %Y}"
        if first.empty:
            out.append(
                Finding(
                    "info",
                    f"Month 1 (from {begins}) has nothing to fix: no gap or finding points to "
                    "the foundation work.",
                )
            )
        else:
            worst = min(SEVERITY_ORDER.get(s, NO_SEVERITY) for s in first["severity"])
            severity = next((s for s, o in SEVERITY_ORDER.items() if o == worst), "low")
            out.append(
                Finding(
                    severity,  # type: ignore[arg-type]
                    f"Month 1 (Foundation, from {begins}): {len(first)} item(s) - "
                    + "; ".join(f"{r.title} ({r.owner}, {r.effort})" for r in first.itertuples())
                    + ".",
                )
            )
            for row in first.itertuples():
                money = None if pd.isna(row.money) else float(row.money)
                out.append(
                    Finding(
                        row.severity if row.severity in SEVERITY_ORDER else "low",
                        f"{row.title}: {row.why}",
                        money=money,
                        currency=row.currency if money is not None else None,
                    )
                )
        if total > 0:
            out.append(
                Finding(
                    "high",
                    f"{format_money(total, currency)} at stake in the audit findings the "
                    f"roadmap answers ({int(self.items['money'].notna().sum())} item(s) "
                    "carry money).",
                    money=total,
                    currency=currency,
                )
            )
        return out

    def to_markdown(self) -> str:
        """A heading and a table per phase (a phase with nothing to do says so)."""
        lines = [
            "# Readiness roadmap",
            "",
            f"Month 1 begins on {self.start:%d %b %Y}. ML Test Score {self.ml_test_score:g}; "
            f"weakest section: {self.weakest}. Effort: S up to 1 person-week, M 2-4, L 5-8.",
        ]
        total, currency = self.money_at_stake()
        if total > 0:
            lines[-1] += f" Money at stake in the audit findings: {format_money(total, currency)}."
        for phase, (first, last, purpose) in PHASES.items():
            months = f"Month {first}" if first == last else f"Months {first}-{last}"
            lines += ["", f"## {months}: {phase} ({purpose})", ""]
            rows = self.items[self.items["phase"] == phase]
            if rows.empty:
                lines.append("Nothing to do here: no gap or audit finding points to this phase.")
                continue
            lines.append("| priority | item | months | why | owner | effort | impact | money |")
            lines.append("| --- | --- | --- | --- | --- | --- | --- | --- |")
            for r in rows.itertuples():
                span = (
                    f"{r.month_start}"
                    if r.month_start == r.month_end
                    else (f"{r.month_start}-{r.month_end}")
                )
                money = "" if pd.isna(r.money) else format_money(float(r.money), r.currency)
                cells = [str(r.priority), r.title, span, r.why, r.owner, r.effort, r.impact, money]
                lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        return "\n".join(lines) + "\n"

    def to_csv(self, path: str | os.PathLike[str]) -> Path:
        """Write the items as CSV, atomically (a temp file beside ``path``, then a rename)."""
        target = Path(path)
        if not target.parent.is_dir():
            raise ParameterError(
                "the folder to write the roadmap into does not exist",
                where=f"Roadmap.to_csv: {target}",
                expected="a path in an existing folder",
                found=str(target.parent),
                fix=f"create {target.parent} first or pick another path",
            )
        return write_atomic(target, self.items.to_csv(index=False, lineterminator="\n"))


def _cell(text: str) -> str:
    """A table cell: user text (feature names in the evidence) stays text, pipes included."""
    return markdown_text(str(text).replace("\n", " "))


def _money_of(rows: pd.DataFrame) -> tuple[float, str | None]:
    money = rows["money"].astype("float64")
    known = rows[money.notna()]
    currency = next((str(c) for c in known["currency"] if isinstance(c, str) and c), None)
    return (float(money.sum(skipna=True)) if len(known) else 0.0), currency


def _check_scorecard(scorecard: Any) -> None:
    needed = ("gaps", "sections", "ml_test_score", "weakest", "answers")
    missing = [name for name in needed if not hasattr(scorecard, name)]
    if missing:
        raise ParameterError(
            "roadmap() needs a scorecard",
            where="roadmap: scorecard",
            expected="the Scorecard returned by prodready.readiness.score(answers)",
            found=type(scorecard).__name__,
            fix="score the answers first: roadmap(readiness.score(answers), audits)",
        )


def _start(start: Any) -> date:
    if start is None:
        return first_of_next_month()
    if isinstance(start, datetime):
        return start.date()
    if isinstance(start, date):
        return start
    try:
        return pd.Timestamp(start).date()
    except (ValueError, TypeError) as error:
        raise ParameterError(
            "the roadmap's start is not a date",
            where="roadmap: start",
            expected="a date such as 2027-01-01",
            found=repr(start),
            fix="pass a datetime.date or an ISO date string",
        ) from error


def _proposals(audits: Any) -> pd.DataFrame:
    """The audit rows that ask for work: a proposed 0, or a high or medium finding."""
    columns = FINDING_COLUMNS
    if audits is None:
        return pd.DataFrame(columns=columns)
    if isinstance(audits, pd.DataFrame):
        frame = audits
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise DataError(
                "the proposals frame lacks columns",
                where="roadmap: audits",
                expected="the frame of prodready.readiness.propose(audits): " + ", ".join(columns),
                found="missing " + ", ".join(missing),
                fix="pass the audits mapping itself, or propose(audits)",
            )
    elif isinstance(audits, Mapping):
        from prodready.readiness.evidence import propose

        frame = propose(audits)
    else:
        raise ParameterError(
            "audits must be a mapping of audit name to result",
            where="roadmap: audits",
            expected='e.g. {"skew": skew.audit(case)} or their .to_dict() forms',
            found=type(audits).__name__,
            fix="pass a dict of audit results (or None)",
        )
    if frame.empty:
        return pd.DataFrame(columns=columns)
    proposed = pd.to_numeric(frame["proposed"], errors="coerce")
    severity = frame["severity"].astype("object").fillna("").astype(str).str.lower()
    keep = (proposed == 0) | severity.isin(WORK_SEVERITIES)
    return frame.loc[keep, columns].reset_index(drop=True)


def _severity_of_score(score: float) -> str:
    return "low" if score >= 0.5 else "medium"


def roadmap(
    scorecard: Scorecard,
    audits: Mapping[str, Any] | pd.DataFrame | None = None,
    *,
    start: date | None = None,
) -> Roadmap:
    """The plan that closes ``scorecard``'s gaps and answers the ``audits``' findings.

    ``audits``: the mapping :func:`prodready.readiness.propose` takes (audit name -> result or
    its ``to_dict()``), or the frame it returns. ``start``: the first day of month 1 (default:
    the first of next month). Priority (1 = first, across the whole roadmap): the worst linked
    severity (a finding's; a gap scored 0 or unanswered counts as medium, 0.5 as low), then the
    money at stake, then the weakest section first (the scorecard's gap order).
    """
    _check_scorecard(scorecard)
    begins = _start(start)
    gaps = scorecard.gaps.reset_index(drop=True)
    findings = _proposals(audits)

    # key -> collected evidence
    parts: dict[str, dict[str, Any]] = {}

    def slot(key: str) -> dict[str, Any]:
        return parts.setdefault(
            key,
            {
                "why": [],
                "evidence": [],
                "questions": [],
                "severity": NO_SEVERITY,
                "rank": math.inf,
                "money": {},
            },
        )

    for position, gap in enumerate(gaps.itertuples(index=False)):
        item = template_for(str(gap.id), str(gap.section))
        entry = slot(item.key)
        score = float(gap.score) if bool(gap.answered) and not pd.isna(gap.score) else 0.0
        said = f"scored {score:g} of 1" if bool(gap.answered) else "not answered"
        entry["why"].append(f"{str(gap.text).rstrip('.')} ({said})")
        entry["questions"].append(str(gap.id))
        entry["severity"] = min(entry["severity"], SEVERITY_ORDER[_severity_of_score(score)])
        entry["rank"] = min(entry["rank"], position)
    for row in findings.itertuples(index=False):
        item = template_for(str(row.id))
        entry = slot(item.key)
        reason = str(row.reason) if isinstance(row.reason, str) and row.reason else str(row.finding)
        if reason not in entry["evidence"]:
            entry["evidence"].append(reason)
        if str(row.id) not in entry["questions"]:
            entry["questions"].append(str(row.id))
        severity = str(row.severity).lower() if isinstance(row.severity, str) else ""
        if severity in SEVERITY_ORDER:
            entry["severity"] = min(entry["severity"], SEVERITY_ORDER[severity])
        elif float(pd.to_numeric(row.proposed, errors="coerce")) == 0:
            entry["severity"] = min(entry["severity"], SEVERITY_ORDER["medium"])
        money = pd.to_numeric(row.money, errors="coerce")
        if not pd.isna(money):
            # one finding may back several questions: count its money once per item
            key = (str(row.audit), str(row.finding))
            currency = row.currency if isinstance(row.currency, str) else None
            entry["money"][key] = (float(money), currency)
    present = set(parts)
    for item in TEMPLATES:
        if item.always:
            slot(item.key)
        led_by = [_BY_KEY[k].title for k in item.follows if k in present]
        if led_by:
            entry = slot(item.key)
            entry["why"].append(
                "Follows " + " and ".join(led_by) + ": with online metrics and a canary in "
                "place, new models move by A/B test and gradual rollout"
            )
            entry["severity"] = min(entry["severity"], SEVERITY_ORDER["low"])

    names = {SEVERITY_ORDER[s]: s for s in SEVERITY_ORDER}
    records = []
    order = {t.key: i for i, t in enumerate(TEMPLATES)}
    for key, entry in parts.items():
        item = _BY_KEY[key]
        money_values = list(entry["money"].values())
        money = sum(v for v, _ in money_values) if money_values else math.nan
        currency = next((c for _, c in money_values if c), None)
        impact = item.impact
        if money_values:
            impact += f"; {format_money(money, currency)} at stake in the linked findings"
        # the audits' evidence first: measured beats declared
        why = _sentences(entry["evidence"] + entry["why"]) or _always_why(scorecard)
        records.append(
            {
                "phase": item.phase,
                "month_start": item.month_start,
                "month_end": item.month_end,
                "title": item.title,
                "why": why,
                "owner": item.owner,
                "effort": item.effort,
                "impact": impact,
                "money": money,
                "currency": currency,
                "questions": ",".join(entry["questions"]),
                "severity": names.get(entry["severity"], "info"),
                "_sort": (
                    entry["severity"],
                    -money if money_values else math.inf,
                    entry["rank"],
                    order[key],
                ),
            }
        )
    records.sort(key=lambda r: r["_sort"])
    for priority, record in enumerate(records, start=1):
        record["priority"] = priority
        del record["_sort"]
    items = pd.DataFrame.from_records(records, columns=COLUMNS)
    items = items.sort_values(["month_start", "priority"], kind="stable").reset_index(drop=True)
    items = items.astype(
        {"month_start": "int64", "month_end": "int64", "priority": "int64", "money": "float64"}
    )
    linked = findings.assign(item=[template_for(str(q)).title for q in findings["id"]])
    return Roadmap(
        items=items,
        start=begins,
        ml_test_score=float(scorecard.ml_test_score),
        weakest=str(scorecard.weakest),
        findings=linked.reset_index(drop=True),
    )


def _sentences(parts: list[str]) -> str:
    return " ".join(p if p.endswith(".") else p + "." for p in parts)


def _always_why(scorecard: Any) -> str:
    return (
        "What months 1-3 build (ML Test Score now "
        f"{float(scorecard.ml_test_score):g}) pays again when the next model reuses it."
    )
