"""The decay audit in one call: the aging curve, the retraining policies and the label-free
estimate, for the CLI's ``audit decay`` and for reports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from prodready.case import Case
from prodready.decay.aging import AgingCurve, aging_curve
from prodready.decay.policies import DEFAULT_RETRAIN_COST, PolicyComparison, compare_policies
from prodready.errors import ProdreadyError
from prodready.results import Finding, most_severe_first, to_json


@dataclass(frozen=True)
class DecayAudit:
    """``aging`` and ``policies``; ``estimate`` (a
    :class:`prodready.estimate.PerformanceEstimate`) or None with ``estimate_error`` saying why
    (a regression case, say: the estimate is for binary scores)."""

    aging: AgingCurve
    policies: PolicyComparison
    estimate: Any | None
    estimate_error: str | None = None

    def to_frame(self) -> pd.DataFrame:
        return self.policies.to_frame()

    def summary(self) -> list[Finding]:
        findings = [*self.aging.summary(), *self.policies.summary()]
        if self.estimate is not None:
            findings.extend(self.estimate.summary())
        elif self.estimate_error:
            findings.append(Finding("low", f"No label-free estimate: {self.estimate_error}"))
        unique = {f.text: f for f in findings}  # notes shared by the parts appear once
        return most_severe_first(list(unique.values()))

    def to_dict(self) -> dict[str, Any]:
        return to_json(
            {
                "aging": self.aging.to_dict(),
                "policies": self.policies.to_dict(),
                "estimate": None if self.estimate is None else self.estimate.to_dict(),
                "estimate_error": self.estimate_error,
                "summary": [f.to_dict() for f in self.summary()],
            }
        )


def audit(
    case: Case,
    *,
    train_window: str = "90D",
    step: str = "7D",
    retrain_cost: float = DEFAULT_RETRAIN_COST,
    seed: int = 0,
    jobs: int | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> DecayAudit:
    """Run the three parts with shared settings; ``progress(part, done, total)`` as they go."""
    from prodready.estimate import estimate_case

    def report(part: str) -> Callable[[int, int], None] | None:
        if progress is None:
            return None
        return lambda done, total: progress(part, done, total)

    aging = aging_curve(
        case,
        train_window=train_window,
        step=step,
        seed=seed,
        jobs=jobs,
        progress=report("aging curve: models trained"),
    )
    policies = compare_policies(
        case,
        retrain_cost=retrain_cost,
        train_window=train_window,
        step=step,
        seed=seed,
        jobs=jobs,
        progress=report("retraining policies: periods replayed"),
    )
    try:
        estimate, error = estimate_case(case), None
    except ProdreadyError as exc:
        estimate, error = None, exc.problem
    return DecayAudit(aging, policies, estimate, error)
