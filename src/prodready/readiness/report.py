"""One readiness report: the scorecard, the audits' evidence, the three biggest risks and the
roadmap, as the executive summary notebook and ``prodready audit readiness`` show them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from prodready.case import Case
from prodready.readiness.audits import AUDIT_NAMES, check_known, run_audits, top_risks
from prodready.results import Finding, to_json


@dataclass(frozen=True)
class ReadinessReport:
    """``answers_from`` says whose answers were scored: the team's, or the audits' proposals."""

    case_name: str | None
    answers_from: str
    scorecard: Any  # readiness.Scorecard
    proposals: pd.DataFrame
    risks: pd.DataFrame
    roadmap: Any  # readiness.Roadmap
    audits: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> list[Finding]:
        card = self.scorecard
        findings = [
            Finding(
                "high"
                if card.ml_test_score < 1
                else "medium"
                if card.ml_test_score < 3
                else "info",
                f"ML Test Score {card.ml_test_score:g} of 7 (weakest area: {card.weakest}), from "
                f"{self.answers_from}. {card.band}",
            ),
            Finding(
                "info",
                f"MLOps level {card.level['google']} of 2 (Google), {card.level['microsoft']} "
                f"of 4 (Microsoft); {card.answered} of {card.total} questions answered.",
            ),
        ]
        for risk in self.risks.itertuples():
            findings.append(
                Finding(
                    risk.severity, f"Risk ({risk.audit}): {risk.text}", risk.money, risk.currency
                )
            )
        findings += self.roadmap.summary()
        findings += [Finding("low", note) for note in self.notes]
        return findings

    def to_dict(self) -> dict[str, Any]:
        return to_json(
            {
                "case": self.case_name,
                "answers_from": self.answers_from,
                "scorecard": self.scorecard.to_dict(),
                "proposals": self.proposals,
                "risks": self.risks,
                "roadmap": self.roadmap.to_dict(),
                "audits_run": list(self.audits),
                "notes": list(self.notes),
                "summary": [f.to_dict() for f in self.summary()],
            }
        )


def assess(
    case: Case | None = None,
    answers: Mapping[str, float] | None = None,
    *,
    include: tuple[str, ...] = tuple(n for n in AUDIT_NAMES if n != "decay"),
    incidents: pd.DataFrame | None = None,
    answers_from: str | None = None,
    seed: int = 0,
    progress: Callable[[str, int, int], None] | None = None,
    known: Mapping[str, Any] | None = None,
) -> ReadinessReport:
    """Score ``answers`` (without them: the answers the case's audits propose, said as such),
    with the case's audits (``include``, see :func:`run_audits`) as evidence, risks and roadmap.
    Without a case, the answers alone are scored and the roadmap comes from the gaps.

    ``known``: audits already run on this case with this seed (name -> result or its
    ``.to_dict()``, e.g. the JSON a report's earlier notebooks wrote, :func:`read_audits`); those
    in ``include`` are taken as they are instead of being run again."""
    from prodready.readiness import apply, propose, roadmap, score

    known = check_known(known or {})
    run = (
        run_audits(
            case,
            include=tuple(name for name in include if name not in known),
            incidents=incidents,
            seed=seed,
            progress=progress,
        )
        if (case is not None)
        else None
    )
    found = {**known, **run.results} if run is not None else {}
    audits = {name: found[name] for name in AUDIT_NAMES if name in found and name in include}
    proposals = propose(audits)
    if answers is None:
        answers = apply(proposals)
        answers_from = "the answers the audits propose (not confirmed by a team)"
    scorecard = score(answers)
    return ReadinessReport(
        case_name=case.name if case is not None else None,
        answers_from=answers_from or "the team's answers",
        scorecard=scorecard,
        proposals=proposals,
        risks=top_risks(audits),
        roadmap=roadmap(scorecard, audits=audits),
        audits=audits,
        notes=run.notes if run is not None else [],
    )
