"""The serving log as the arrays a rollout replay needs, computed once and shared by
:func:`prodready.rollout.simulate` and :func:`prodready.rollout.monte_carlo`, so both read the
log, the labels' arrival and the score bins the same way."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from prodready.case import Case
from prodready.errors import ParameterError
from prodready.rollout.plan import Plan
from prodready.rollout.triggers import Trigger, default_triggers

NEVER = np.iinfo(np.int64).max // 4  # the known day of a label that never arrives
BINARY_ONLY = ("metric_floor", "flag_rate")  # rules about decisions to act: binary cases only


@dataclass
class ReplayLog:
    """Per event: champion (0) and challenger (1) flags and values, truth, the 0-based day of the
    event (``day``) and of its label's arrival (``known``, ``NEVER`` without a label), score
    bins; per rule scope (``None`` = every event, or a segment ``(column, value)``): its mask."""

    triggers: tuple[Trigger, ...]
    notes: list[str]
    flags0: np.ndarray
    flags1: np.ndarray
    v0: np.ndarray
    v1: np.ndarray
    truth: np.ndarray
    labelled: np.ndarray
    day: np.ndarray
    known: np.ndarray
    origin: pd.Timestamp
    log_days: int
    bins0: np.ndarray
    bins1: np.ndarray
    n_bins: int
    shadow_days: int
    self_bins: np.ndarray
    n_self: int
    scopes: list[Any]
    masks: list[np.ndarray]


def replay_log(case: Case, plan: Plan, triggers, challenger) -> ReplayLog:
    """Validate the case, the rules and the challenger, and turn the log into arrays."""
    check_case(case)
    triggers = tuple(default_triggers(case) if triggers is None else triggers)
    for t in triggers:
        if not isinstance(t, Trigger):
            raise ParameterError("triggers must be Trigger objects", found=type(t).__name__)
        if case.task == "regression" and t.kind in BINARY_ONLY:
            raise ParameterError(
                f"a {t.kind} rule needs decisions to act or not, and this case predicts numbers",
                where=f"trigger {t.name}",
                expected="for a regression case: business_value or score_psi rules",
                fix="drop the rule, or use a value rule (money lost to errors) instead",
            )
        if t.segment is not None and t.segment[0] not in case.serving.columns:
            raise ParameterError(
                f"the trigger's segment column {t.segment[0]!r} is not in the serving log",
                where=f"trigger {t.name}",
                fix="use a column of the serving log, e.g. ('region', 'international')",
            )
    cols, serving = case.columns, case.serving
    notes: list[str] = []
    scores1, challenger_label = challenger_scores(case, challenger)
    scores0 = serving[cols.prediction].to_numpy(float)
    truth = serving[cols.label].astype("Float64").to_numpy(float, na_value=np.nan)
    if case.task == "binary":
        threshold = case.business.threshold
        flags0, flags1 = scores0 >= threshold, scores1 >= threshold
    else:  # a prediction of a number does not act or not: nothing is flagged
        flags0 = flags1 = np.zeros(len(serving), bool)
    v0, v1 = (event_values(truth, s, f, case) for s, f in ((scores0, flags0), (scores1, flags1)))
    labelled = ~np.isnan(truth)

    times = pd.to_datetime(serving[cols.timestamp], utc=True)
    origin = times.min().normalize()
    day = ((times - origin) // pd.Timedelta(days=1)).to_numpy(np.int64)
    if cols.label_time and cols.label_time in serving.columns:
        arrival = pd.to_datetime(serving[cols.label_time], utc=True)
        arrived = ((arrival - origin) // pd.Timedelta(days=1)).to_numpy(np.float64, na_value=np.nan)
        known = np.where(np.isnan(arrived), NEVER, np.maximum(np.nan_to_num(arrived), day))
    else:
        known = day.copy()
        notes.append("The case has no label_time: labels are taken as known on the event's day.")
    known = np.where(labelled, known, NEVER).astype(np.int64)
    if not labelled.any():
        notes.append("No label ever arrives in the log: only the score PSI rule can fire.")
    log_days = int(day.max()) + 1

    bins0, bins1, n_bins, shadow_days, self_bins, n_self = score_bins(
        scores0, scores1, day, plan, triggers, notes
    )

    scopes: list[tuple[str, Any] | None] = [None]
    for t in triggers:
        if t.segment not in scopes:
            scopes.append(t.segment)
    masks = [
        np.ones(len(serving), bool)
        if s is None
        else (serving[s[0]] == s[1]).fillna(False).to_numpy(bool)
        for s in scopes
    ]

    if challenger_label != cols.challenger:
        notes.append(f"Challenger scores: {challenger_label}.")
    return ReplayLog(
        triggers=triggers,
        notes=notes,
        flags0=flags0,
        flags1=flags1,
        v0=v0,
        v1=v1,
        truth=truth,
        labelled=labelled,
        day=day,
        known=known,
        origin=origin,
        log_days=log_days,
        bins0=bins0,
        bins1=bins1,
        n_bins=n_bins,
        shadow_days=shadow_days,
        self_bins=self_bins,
        n_self=n_self,
        scopes=scopes,
        masks=masks,
    )


def challenger_scores(case: Case, challenger) -> tuple[np.ndarray, str]:
    """The challenger's scores aligned with the serving log, and where they came from: the case's
    challenger column (``None``), another column's name, or an array of scores."""
    serving = case.serving
    if challenger is None:
        name = case.columns.challenger
        if not name:
            raise ParameterError(
                "the case has no challenger, so there is no candidate model to roll out",
                where="case file: columns.challenger",
                expected="a column of the serving log with the candidate model's scores, or "
                "scores passed as simulate(case, challenger=...)",
                fix="add columns.challenger to the case, pass a column name or an array of "
                "scores aligned with the serving log, or replay the skew audit's baseline model "
                "as the challenger: challenger=rollout.scenarios.challenger_scores(case, "
                "'retrained baseline') (the app's 'retrained baseline' scenario)",
            )
        challenger = name
    if isinstance(challenger, str):
        if challenger not in serving.columns:
            raise ParameterError(
                f"the serving log has no column {challenger!r}",
                where="simulate: challenger",
                expected="a column of the serving log holding scores",
                fix="pass one of: " + ", ".join(map(str, serving.columns[:20])),
            )
        values, label = serving[challenger], challenger
    else:
        values, label = challenger, "challenger (array)"
    try:
        scores = np.asarray(values, dtype=float).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise ParameterError(
            "the challenger's scores must be numbers", where="simulate: challenger"
        ) from exc
    if scores.shape[0] != len(serving):
        raise ParameterError(
            "the challenger's scores must be aligned with the serving log",
            where="simulate: challenger",
            expected=f"{len(serving)} scores (one per serving row)",
            found=f"{scores.shape[0]}",
        )
    if not np.isfinite(scores).all():
        raise ParameterError(
            "the challenger's scores contain missing or infinite values",
            where="simulate: challenger",
            fix="fill or drop them; every served event needs a score",
        )
    return scores, label


def event_values(
    truth: np.ndarray, scores: np.ndarray, flags: np.ndarray, case: Case
) -> np.ndarray:
    """Each event's value, 0 where the label is missing. Binary: the case's value matrix for the
    decision ``flags`` (score at or above the threshold). Regression: ``-cost_per_unit_error *
    |truth - prediction|``, money lost to the error."""
    known = ~np.isnan(truth)
    if case.task == "regression":
        cost = case.business.cost_per_unit_error
        return np.where(known, -cost * np.abs(np.nan_to_num(truth) - scores), 0.0)
    m = case.business.value
    return (
        np.where(
            flags,
            np.where(truth == 1, m.true_positive, m.false_positive),
            np.where(truth == 1, m.false_negative, m.true_negative),
        ).astype(float)
        * known
    )


def check_case(case: Case) -> None:
    """A replay values decisions in money: a binary case needs ``business.value``, a regression
    case ``business.cost_per_unit_error``."""
    case.require_whole_log("rollout replay")
    business = case.business
    if case.task == "binary" and (business is None or business.value is None):
        raise ParameterError(
            "the rollout replay values decisions in money, and this case has no value matrix",
            where="case file: business.value",
            fix="add business.value (money per true positive, false positive, false negative "
            "and true negative) and business.threshold",
        )
    if case.task == "regression" and (business is None or business.cost_per_unit_error is None):
        raise ParameterError(
            "the rollout replay values predictions in money, and this case has no cost of error",
            where="case file: business.cost_per_unit_error",
            fix="add business.cost_per_unit_error (money lost per unit of absolute error)",
        )


def score_bins(
    scores0: np.ndarray,
    scores1: np.ndarray,
    day: np.ndarray,
    plan: Plan,
    triggers: Sequence[Trigger],
    notes: list[str],
) -> tuple[np.ndarray, np.ndarray, int, int, np.ndarray, int]:
    """Score bins for the PSI rules, shared by :func:`simulate` and the Monte Carlo replays.

    Returns (champion bins, challenger bins, number of bins) on the deciles of the champion's
    scores, the plan's leading shadow days, and (challenger bins, number of bins) on the
    deciles of the challenger's own shadow-mode scores; notes a plan without shadow stage.
    """
    edges = np.unique(np.quantile(scores0, np.linspace(0.1, 0.9, 9)))
    bins0 = np.searchsorted(edges, scores0, side="left")
    bins1 = np.searchsorted(edges, scores1, side="left")
    shadow_days = leading_shadow_days(plan)
    in_shadow = day < shadow_days
    self_edges = np.unique(
        np.quantile(scores1[in_shadow] if in_shadow.any() else scores1, np.linspace(0.1, 0.9, 9))
    )
    self_bins = np.searchsorted(self_edges, scores1, side="left")
    if shadow_days == 0 and any(t.reference == "shadow" for t in triggers):
        notes.append(
            "The plan has no shadow stage: score PSI rules against shadow scores compare with "
            "the champion's scores instead."
        )
    return bins0, bins1, edges.size + 1, shadow_days, self_bins, self_edges.size + 1


def leading_shadow_days(plan: Plan) -> int:
    """Days of the shadow stages (share 0) the plan starts with."""
    days = 0
    for stage in plan.stages:
        if stage.share > 0:
            break
        days += stage.days
    return days
