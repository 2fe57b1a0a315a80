"""The audits a readiness assessment leans on: run them on a case, and rank their risks in money.

``run_audits(case)`` runs every audit that applies to the case with its defaults (the same calls
the audit pages and notebooks make) and returns ``{name: result}`` for
:func:`prodready.readiness.propose`, :func:`prodready.readiness.roadmap` and the store's audit
snapshots. One audit that cannot run on the case (e.g. a rollout without a challenger, human
review without a value matrix) is left out with a note; the others still run.

``top_risks(audits)`` ranks the audits' findings that carry money: the executive's "three
biggest risks".
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from prodready.case import Case
from prodready.errors import DataError, ParameterError, ProdreadyError
from prodready.notebooks import AUDIT_FILES

AUDIT_NAMES = ("overview", "skew", "rollout", "monitoring", "review", "decay")
"""Every audit :func:`run_audits` knows, in the order it runs them (decay, the slowest, last)."""

REVIEW_CAPACITY, REVIEW_COST = 20, 5.0  # the Human review page's defaults
_RISK_SEVERITIES = ("high", "medium")

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class AuditRun:
    """The audits that ran (``results``, name -> result object) and why any did not (``notes``)."""

    results: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def run_audits(
    case: Case,
    *,
    include: tuple[str, ...] = ("overview", "skew", "rollout", "monitoring", "review"),
    incidents: pd.DataFrame | None = None,
    seed: int = 0,
    progress: Progress | None = None,
) -> AuditRun:
    """Run the audits named in ``include`` (decay is left out by default: it trains a bank of
    models and takes minutes on the sample; add ``"decay"`` to run it). ``incidents`` go to the
    monitoring audit's detection report; ``progress(name, done, total)`` is called before each
    audit and once at the end with ``name`` empty."""
    _check_names(include, "run_audits: include")
    chosen = [name for name in AUDIT_NAMES if name in include]
    results: dict[str, Any] = {}
    notes: list[str] = []
    for done, name in enumerate(chosen):
        if progress is not None:
            progress(name, done, len(chosen))
        try:
            results[name] = _RUNNERS[name](case, incidents, seed)
        except ProdreadyError as err:  # this audit does not apply to the case: say why
            notes.append(f"The {name} audit did not run: {err.problem}")
    if progress is not None:
        progress("", len(chosen), len(chosen))
    return AuditRun(results, notes)


def _check_names(names: Iterable[str], where: str) -> None:
    unknown = [name for name in names if name not in AUDIT_NAMES]
    if unknown:
        raise ParameterError(
            f"there is no audit called {unknown[0]!r}",
            where=where,
            expected="some of " + ", ".join(AUDIT_NAMES),
            fix="pick names from the list",
        )


def check_known(known: Mapping[str, Any]) -> dict[str, Any]:
    """``known`` (audit name -> result or its ``.to_dict()``) as a dict, its names checked."""
    if not isinstance(known, Mapping):
        raise ParameterError(
            "the audits already run must be given by name",
            where="known",
            found=type(known).__name__,
            expected='e.g. {"skew": skew.audit(case)} or their .to_dict() forms',
            fix="pass a dict from audit names to results",
        )
    _check_names(known, "known")
    return dict(known)


def read_audits(folder: str | Path) -> dict[str, Any]:
    """The audits whose JSON a report's notebooks wrote into ``folder`` (:data:`AUDIT_FILES`,
    those present), for :func:`prodready.readiness.assess`'s ``known``."""
    found = {}
    for name, file in AUDIT_FILES.items():
        path = Path(folder) / file
        if path.is_file():
            try:
                found[name] = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise DataError(
                    f"the {name} audit's JSON file cannot be read: {exc}",
                    where=str(path),
                    expected=f"the {file} a report wrote",
                    fix="run the report again: it writes the file anew",
                ) from exc
    return found


def _overview(case: Case, incidents, seed: int):
    from prodready.overview import overview

    return overview(case, seed=seed)


def _skew(case: Case, incidents, seed: int):
    from prodready import skew

    return skew.audit(case, seed=seed)


def _rollout(case: Case, incidents, seed: int):
    from prodready import rollout

    if not case.columns.challenger:
        raise ParameterError("the case has no challenger column to replay a rollout with")
    return rollout.simulate(case, seed=seed)


def _monitoring(case: Case, incidents, seed: int):
    from prodready.monitoring.audit import audit

    return audit(case, incidents)


def _review(case: Case, incidents, seed: int):
    from prodready import review

    sweep = review.sweep(
        case, capacity_per_day=REVIEW_CAPACITY, cost_per_review=REVIEW_COST, seed=seed
    )
    if sweep.best_result is None:
        raise ParameterError(f"no review band is worth it: {sweep.reason}")
    return sweep.best_result


def _decay(case: Case, incidents, seed: int):
    from prodready.decay.audit import audit

    return audit(case, seed=seed)


_RUNNERS = {
    "overview": _overview,
    "skew": _skew,
    "rollout": _rollout,
    "monitoring": _monitoring,
    "review": _review,
    "decay": _decay,
}


def top_risks(audits: Mapping[str, Any], n: int = 3) -> pd.DataFrame:
    """The ``n`` findings with the most money at stake among the high and medium ones.

    ``audits`` maps audit names to results or to their ``.to_dict()`` (a stored snapshot). The
    size of a finding's money decides, whatever its sign: audits state money as a loss, a gap or
    a gain forgone, and each is money the team leaves on the table. Columns: ``audit``,
    ``severity``, ``text``, ``money``, ``currency``; most money first."""
    rows = []
    for name, result in audits.items():
        for finding in _findings(result):
            money = finding.get("money")
            if finding.get("severity") in _RISK_SEVERITIES and money is not None and money != 0:
                rows.append(
                    {
                        "audit": name,
                        "severity": finding["severity"],
                        "text": finding["text"],
                        "money": float(money),
                        "currency": finding.get("currency"),
                    }
                )
    frame = pd.DataFrame(rows, columns=["audit", "severity", "text", "money", "currency"])
    if frame.empty:
        return frame
    order = frame["money"].abs().sort_values(ascending=False, kind="stable").index
    return frame.loc[order].head(n).reset_index(drop=True)


def _findings(result: Any) -> list[dict[str, Any]]:
    if isinstance(result, Mapping):
        return [f for f in result.get("summary") or [] if isinstance(f, Mapping)]
    if hasattr(result, "summary"):
        return [f.to_dict() for f in result.summary()]
    return []
