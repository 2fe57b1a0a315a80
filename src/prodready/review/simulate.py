"""Replay a human review band on a binary case's serving log.

Question: "where should a person look before the model acts, and is it worth the reviewers'
time?" Definitions (every count is per UTC calendar day, from the log's first to its last day;
a day without traffic is a row of zeros):

- **Band**: an event is *in band* when its served score ``s`` satisfies ``low <= s < high``.
  In-band events are routed to review before the model acts.
- **Queue** (FIFO within the day, no carry-over): the in-band events of a UTC day join that day's
  queue in time order (ties keep the log's order). Reviewers handle the first
  ``capacity_per_day`` of them. What is left at the end of the day is not carried over: those
  events are the **overflow**, and the model decides them alone (its decision at the case
  threshold), because a decision cannot wait for tomorrow. ``queue_length`` is the number of
  events that joined the day's queue, so ``reviewed = min(queue_length, capacity_per_day)`` and
  ``overflow = queue_length - reviewed``; with this rule every in-band event joins the queue,
  so ``queue_length`` equals ``in_band``. ``overflow_share = overflow / in_band`` (NaN on a day
  with nothing in band).
- **Model decision**: act when ``s >= business.threshold`` (as in :mod:`prodready.metrics`).
- **Reviewer**: a reviewed event gets the right decision (act exactly when the label is 1) with
  probability ``reviewer_accuracy``, else the wrong one. The draw is one uniform number ``u`` per
  log event, in time order, from ``numpy.random.default_rng(seed)``; the reviewer is right when
  ``u < reviewer_accuracy``. An event keeps its draw whatever the band, so bands compared by
  :func:`prodready.review.sweep` differ only by the band (common random numbers).
- **Money** (labelled events only: an event whose label has not arrived counts in the load but
  not in money): ``value = TP*v_tp + FP*v_fp + FN*v_fn + TN*v_tn`` with the case's value matrix.
  ``value_model_only`` values the model's decisions on all labelled events of the day;
  ``value_with_review`` values the same events with reviewed decisions replaced by the
  reviewer's. ``errors_avoided`` = reviewed labelled events the model got wrong and the reviewer
  right, minus those the model got right and the reviewer wrong. ``cost = reviewed labelled
  events x cost_per_review`` (the reviews whose benefit can be measured) and
  ``net = value_with_review - value_model_only - cost``. The totals also give
  ``review_cost_all = reviewed x cost_per_review`` (every review, labelled or not): what the
  reviewers' time would cost over the whole log. Without any label in the log, the money columns
  are NaN and only the load is reported.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from prodready.case import Case
from prodready.errors import ParameterError
from prodready.results import Finding, format_money, most_severe_first, to_json

DAILY_COLUMNS: tuple[str, ...] = (
    "date",
    "events",
    "labelled",
    "in_band",
    "reviewed",
    "overflow",
    "overflow_share",
    "queue_length",
    "reviewed_labelled",
    "errors_avoided",
    "cost",
    "value_model_only",
    "value_with_review",
    "net",
)
_MONEY_COLUMNS = ("errors_avoided", "cost", "value_model_only", "value_with_review", "net")


# -- inputs -------------------------------------------------------------------------------------


def _number(value: Any, name: str, where: str, expected: str, fix: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ParameterError(
            f"{name} must be a number",
            where=f"{where}: {name}",
            expected=expected,
            found=repr(value),
            fix=fix,
        )
    value = float(value)
    if not math.isfinite(value):
        raise ParameterError(
            f"{name} must be finite",
            where=f"{where}: {name}",
            expected=expected,
            found=repr(value),
            fix=fix,
        )
    return value


def check_band(band: Any, where: str) -> tuple[float, float]:
    """``(low, high)`` with ``0 <= low < high <= 1``, or a ParameterError."""
    expected = "two scores (low, high) with 0 <= low < high <= 1, e.g. (0.4, 0.6)"
    fix = "pass band=(low, high) around the case threshold, e.g. band=(0.04, 0.08)"
    try:
        low, high = band
    except (TypeError, ValueError):
        raise ParameterError(
            "band must be a pair (low, high)",
            where=f"{where}: band",
            expected=expected,
            found=repr(band),
            fix=fix,
        ) from None
    low = _number(low, "band low", where, expected, fix)
    high = _number(high, "band high", where, expected, fix)
    if not 0 <= low < high <= 1:
        raise ParameterError(
            "the band must lie inside [0, 1] with low below high",
            where=f"{where}: band",
            expected=expected,
            found=f"({low:g}, {high:g})",
            fix=fix,
        )
    return low, high


def check_settings(
    capacity_per_day: Any, cost_per_review: Any, reviewer_accuracy: Any, seed: Any, where: str
) -> tuple[int, float, float, int]:
    """Validated ``(capacity_per_day, cost_per_review, reviewer_accuracy, seed)``."""
    if (
        isinstance(capacity_per_day, bool)
        or not isinstance(capacity_per_day, numbers.Integral)
        or capacity_per_day < 0
    ):
        raise ParameterError(
            "capacity_per_day must be a whole number of 0 or more",
            where=f"{where}: capacity_per_day",
            expected="how many events the reviewers can check in a day, e.g. 40",
            found=repr(capacity_per_day),
            fix="pass the reviewers' daily capacity as an integer (0 means nobody reviews)",
        )
    cost = _number(
        cost_per_review,
        "cost_per_review",
        where,
        "the money one review costs (>= 0), in the case's currency",
        "pass e.g. cost_per_review=5.0",
    )
    if cost < 0:
        raise ParameterError(
            "cost_per_review cannot be negative",
            where=f"{where}: cost_per_review",
            expected="the money one review costs, 0 or more",
            found=repr(cost_per_review),
            fix="pass the cost of one review as a positive amount, e.g. 5.0",
        )
    accuracy = _number(
        reviewer_accuracy,
        "reviewer_accuracy",
        where,
        "the probability a reviewer decides right, between 0 and 1",
        "pass e.g. reviewer_accuracy=0.95 (not 95)",
    )
    if not 0 <= accuracy <= 1:
        raise ParameterError(
            "reviewer_accuracy must be a probability between 0 and 1",
            where=f"{where}: reviewer_accuracy",
            expected="e.g. 0.95 for 95 % right",
            found=repr(reviewer_accuracy),
            fix="pass reviewer_accuracy=0.95 (not 95)",
        )
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ParameterError(
            "the seed must be a whole number of 0 or more",
            where=f"{where}: seed",
            expected="an integer >= 0",
            found=repr(seed),
            fix="pass e.g. seed=0",
        )
    return int(capacity_per_day), cost, accuracy, int(seed)


def check_case(case: Any, where: str) -> None:
    """A binary case with a value matrix, or a ParameterError saying what is missing."""
    if not isinstance(case, Case):
        raise ParameterError(
            "review needs a case",
            where=where,
            expected="a prodready Case",
            found=type(case).__name__,
            fix="load one with prodready.load_case(path) or prodready.samples.load()",
        )
    case.require_whole_log("review simulation")
    if case.task != "binary":
        raise ParameterError(
            "review needs a binary decision (act or not), and this is a regression case",
            where=f"{where}: case task",
            expected="task: binary, with a score and a decision threshold",
            found=f"task: {case.task}",
            fix="use review on a binary case; for a regression model, route large predicted "
            "errors to people with your own rule",
        )
    business = case.business
    if business is None or business.value is None:
        raise ParameterError(
            "the case has no value matrix, so the worth of a review cannot be put in money",
            where="case file: business.value",
            expected="business.value with true_positive, false_positive, false_negative and "
            "true_negative (money per decision; losses negative)",
            found="no business section" if business is None else "no business.value",
            fix="fill in business.value in the case file, e.g. value: {true_positive: 120, "
            "false_positive: -15, false_negative: -250, true_negative: 0}",
        )


# -- the log, prepared once ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Log:
    """The arrays every band needs, in time order."""

    day: np.ndarray  # int64 day number from the first UTC day
    dates: pd.DatetimeIndex  # every UTC day from the first to the last
    score: np.ndarray
    truth: np.ndarray  # int8, -1 where the label has not arrived
    labelled: np.ndarray
    decision: np.ndarray  # int8, the model's decision at the threshold
    draw: np.ndarray  # uniform per event, the reviewer's luck
    matrix: np.ndarray  # value[truth, decision]
    threshold: float
    currency: str


def prepare_log(case: Case, seed: int) -> _Log:
    columns = case.columns
    frame = case.serving.sort_values(columns.timestamp, kind="stable")
    times = frame[columns.timestamp]
    days = times.dt.floor("D")
    if len(frame):
        dates = pd.date_range(days.iloc[0], days.iloc[-1], freq="D")
        day = ((days - days.iloc[0]) // pd.Timedelta(days=1)).to_numpy(dtype="int64")
    else:
        dates = pd.DatetimeIndex([], dtype="datetime64[us, UTC]")
        day = np.zeros(0, dtype="int64")
    score = frame[columns.prediction].to_numpy(dtype="float64")
    label = frame[columns.label].to_numpy(dtype="float64", na_value=np.nan)
    labelled = ~np.isnan(label)
    truth = np.where(labelled, label, -1).astype(np.int8)
    business = case.business
    assert business is not None and business.value is not None  # checked by check_case
    v = business.value
    matrix = np.array(
        [[v.true_negative, v.false_positive], [v.false_negative, v.true_positive]], dtype="float64"
    )
    return _Log(
        day=day,
        dates=dates.as_unit("us"),
        score=score,
        truth=truth,
        labelled=labelled,
        decision=(score >= business.threshold).astype(np.int8),
        draw=np.random.default_rng(seed).random(len(frame)),
        matrix=matrix,
        threshold=float(business.threshold),
        currency=business.currency,
    )


def _per_day(log: _Log, mask: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    w = mask.astype("float64") if weights is None else np.where(mask, weights, 0.0)
    return np.bincount(log.day, weights=w, minlength=len(log.dates))


def replay_band(
    log: _Log, low: float, high: float, capacity: int, cost_per_review: float, accuracy: float
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The daily frame and the totals of one band (see the module docstring)."""
    n_days = len(log.dates)
    in_band = (log.score >= low) & (log.score < high)
    positions = np.flatnonzero(in_band)
    band_days = log.day[positions]  # sorted: the log is in time order
    rank = np.arange(positions.size) - np.searchsorted(band_days, band_days, side="left")
    reviewed = np.zeros(log.score.size, dtype=bool)
    reviewed[positions[rank < capacity]] = True
    overflow = in_band & ~reviewed

    labelled = log.labelled
    truth = np.where(labelled, log.truth, 0)
    right = log.draw < accuracy
    reviewer = np.where(right, truth, 1 - truth).astype(np.int8)
    checked = reviewed & labelled
    final = np.where(checked, reviewer, log.decision)
    model_right = log.decision == truth
    value_model = np.where(labelled, log.matrix[truth, log.decision], 0.0)
    value_review = np.where(labelled, log.matrix[truth, final], 0.0)
    wrong_to_right = checked & ~model_right & right
    right_to_wrong = checked & model_right & ~right
    # What the overflow would have earned had it been reviewed (same draws), net of the reviews.
    missed = overflow & labelled
    gain_if_reviewed = log.matrix[truth, reviewer] - log.matrix[truth, log.decision]

    counts = {
        "events": _per_day(log, np.ones(log.score.size, dtype=bool)),
        "labelled": _per_day(log, labelled),
        "in_band": _per_day(log, in_band),
        "reviewed": _per_day(log, reviewed),
        "overflow": _per_day(log, overflow),
        "reviewed_labelled": _per_day(log, checked),
    }
    daily = pd.DataFrame({"date": log.dates})
    for name, values in counts.items():
        daily[name] = values.astype("int64") if n_days else np.zeros(0, dtype="int64")
    daily["overflow_share"] = (
        daily["overflow"] / daily["in_band"].where(daily["in_band"] > 0)
    ).astype("float64")
    daily["queue_length"] = daily["in_band"]
    has_money = bool(labelled.any())
    if has_money:
        daily["errors_avoided"] = (
            _per_day(log, wrong_to_right) - _per_day(log, right_to_wrong)
        ).astype("int64")
        daily["cost"] = daily["reviewed_labelled"] * cost_per_review
        daily["value_model_only"] = _per_day(log, labelled, value_model)
        daily["value_with_review"] = _per_day(log, labelled, value_review)
        daily["net"] = daily["value_with_review"] - daily["value_model_only"] - daily["cost"]
    else:
        for name in _MONEY_COLUMNS:
            daily[name] = np.nan
    daily = daily[list(DAILY_COLUMNS)]

    total_in_band = int(in_band.sum())
    total_overflow = int(overflow.sum())
    total_reviewed = int(reviewed.sum())
    money = {
        "wrong_to_right": int(wrong_to_right.sum()) if has_money else None,
        "right_to_wrong": int(right_to_wrong.sum()) if has_money else None,
        "errors_avoided": int(wrong_to_right.sum() - right_to_wrong.sum()) if has_money else None,
        "cost": float(checked.sum() * cost_per_review) if has_money else math.nan,
        "value_model_only": float(value_model.sum()) if has_money else math.nan,
        "value_with_review": float(value_review.sum()) if has_money else math.nan,
        "net": math.nan,
        "missed_on_overflow": (
            float(gain_if_reviewed[missed].sum() - missed.sum() * cost_per_review)
            if has_money
            else math.nan
        ),
    }
    if has_money:
        money["net"] = money["value_with_review"] - money["value_model_only"] - money["cost"]
    totals = {
        "days": n_days,
        "days_without_traffic": int((daily["events"] == 0).sum()),
        "events": int(log.score.size),
        "labelled": int(labelled.sum()),
        "in_band": total_in_band,
        "reviewed": total_reviewed,
        "reviewed_labelled": int(checked.sum()),
        "overflow": total_overflow,
        "overflow_share": total_overflow / total_in_band if total_in_band else math.nan,
        "days_with_overflow": int((daily["overflow"] > 0).sum()),
        "days_with_overflow_share": (float((daily["overflow"] > 0).mean()) if n_days else math.nan),
        "mean_daily_load": total_in_band / n_days if n_days else math.nan,
        "peak_daily_load": int(daily["in_band"].max()) if n_days else 0,
        "review_cost_all": total_reviewed * cost_per_review,
        **money,
    }
    return daily, totals


# -- the result ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewResult:
    """One review band replayed on the log: ``daily`` (one row per UTC day, columns
    :data:`DAILY_COLUMNS`) and ``totals`` (sums over the log, plus shares and loads; see the
    module docstring for definitions). ``has_money`` is False when no label has arrived."""

    band: tuple[float, float]
    capacity_per_day: int
    cost_per_review: float
    reviewer_accuracy: float
    seed: int
    threshold: float
    currency: str
    daily: pd.DataFrame
    totals: dict[str, Any] = field(default_factory=dict)

    @property
    def has_money(self) -> bool:
        return self.totals.get("labelled", 0) > 0

    @property
    def net(self) -> float:
        return float(self.totals["net"])

    def to_frame(self) -> pd.DataFrame:
        return self.daily.copy()

    def _band_text(self) -> str:
        low, high = self.band
        return f"scores in [{low:g}, {high:g})"

    def summary(self) -> list[Finding]:
        t = self.totals
        money = self.currency
        findings: list[Finding] = []
        if t["events"] == 0:
            return [Finding("medium", "The serving log is empty: there is nothing to review.")]
        load = (
            f"Reviewing {self._band_text()} (threshold {self.threshold:g}) sends "
            f"{t['mean_daily_load']:.1f} events a day on average (peak {t['peak_daily_load']:,}) "
            f"to reviewers who can check {self.capacity_per_day:,} a day."
        )
        if t["in_band"] == 0:
            findings.append(Finding("low", f"{load} No event fell in the band: widen it."))
        elif t["overflow"] == 0:
            findings.append(Finding("info", f"{load} The queue never overflowed."))
        else:
            share = t["overflow_share"]
            severity = "high" if share >= 0.3 else "medium" if share >= 0.1 else "low"
            missed = t["missed_on_overflow"]
            tail = (
                f" Reviewing them too would have changed the net value by "
                f"{format_money(missed, money)}."
                if self.has_money and math.isfinite(missed)
                else ""
            )
            findings.append(
                Finding(
                    severity,
                    f"{load} On {t['days_with_overflow']:,} of {t['days']:,} days "
                    f"({t['days_with_overflow_share']:.0%}) the queue overflowed: "
                    f"{t['overflow']:,} of {t['in_band']:,} in-band events ({share:.0%}) were "
                    f"decided by the model alone.{tail}",
                    money=missed if self.has_money and math.isfinite(missed) else None,
                    currency=money if self.has_money else None,
                )
            )
        if not self.has_money:
            findings.append(
                Finding(
                    "medium",
                    "No label has arrived in the serving log, so the money a review saves cannot "
                    "be measured: only the load and the overflow are reported. Money needs labels.",
                )
            )
        elif t["reviewed"] > 0:
            net = t["net"]
            verdict = "pays for itself" if net > 0 else "costs more than it saves"
            findings.append(
                Finding(
                    "high" if net > 0 else "medium",
                    f"On the {t['labelled']:,} labelled events, review {verdict}: net "
                    f"{format_money(net, money)} ({t['errors_avoided']:,} errors avoided: "
                    f"{t['wrong_to_right']:,} wrong decisions put right, {t['right_to_wrong']:,} "
                    f"right ones made wrong; {t['reviewed_labelled']:,} reviews cost "
                    f"{format_money(t['cost'], money)}).",
                    money=float(net),
                    currency=money,
                )
            )
            unlabelled = t["reviewed"] - t["reviewed_labelled"]
            if unlabelled:
                findings.append(
                    Finding(
                        "low",
                        f"{unlabelled:,} reviewed events have no label yet: they count in the "
                        f"load, and in the cost of all reviews "
                        f"({format_money(t['review_cost_all'], money)}), but not in the net value.",
                        money=float(unlabelled * self.cost_per_review),
                        currency=money,
                    )
                )
        if t["days_without_traffic"]:
            findings.append(
                Finding(
                    "low",
                    f"{t['days_without_traffic']:,} day(s) had no traffic at all (rows of zeros "
                    "in the daily table): check whether the log is complete.",
                )
            )
        return most_severe_first(findings)

    def to_dict(self) -> dict[str, Any]:
        return to_json(
            {
                "band": list(self.band),
                "capacity_per_day": self.capacity_per_day,
                "cost_per_review": self.cost_per_review,
                "reviewer_accuracy": self.reviewer_accuracy,
                "seed": self.seed,
                "threshold": self.threshold,
                "currency": self.currency,
                "queue_rule": "fifo_within_day_no_carry_over",
                "totals": dict(self.totals),
                "daily": self.daily.to_dict(orient="records"),
                "summary": [f.to_dict() for f in self.summary()],
            }
        )


def simulate(
    case: Case,
    *,
    band: tuple[float, float],
    capacity_per_day: int,
    cost_per_review: float,
    reviewer_accuracy: float = 0.95,
    seed: int = 0,
) -> ReviewResult:
    """Replay review of ``band = (low, high)`` on the case's serving log, day by day.

    Events with ``low <= score < high`` go to reviewers before the model acts; reviewers check
    the first ``capacity_per_day`` of each UTC day (FIFO, no carry-over) and the model decides the
    rest alone. A reviewed event is decided right with probability ``reviewer_accuracy`` (one
    seeded draw per event). Money is counted on labelled events only; see
    :mod:`prodready.review.simulate` for every definition.
    """
    where = "review.simulate"
    check_case(case, where)
    low, high = check_band(band, where)
    capacity, cost, accuracy, seed = check_settings(
        capacity_per_day, cost_per_review, reviewer_accuracy, seed, where
    )
    log = prepare_log(case, seed)
    daily, totals = replay_band(log, low, high, capacity, cost, accuracy)
    return ReviewResult(
        band=(low, high),
        capacity_per_day=capacity,
        cost_per_review=cost,
        reviewer_accuracy=accuracy,
        seed=seed,
        threshold=log.threshold,
        currency=log.currency,
        daily=daily,
        totals=totals,
    )
