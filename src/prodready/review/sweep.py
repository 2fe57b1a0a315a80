"""Review bands of several widths, compared on the same log: net value against reviewer load.

A band of width ``w`` around ``centre`` (the case threshold unless given) is
``[max(0, centre - w/2), min(1, centre + w/2))``: clipped to the score range, so a wide band
around a low threshold is narrower than ``w`` (the frame shows both ``width`` asked and the band
used). Every band is replayed by :func:`prodready.review.simulate` rules with the same seed, so
each event has the same reviewer draw in every band and the bands differ only by the band.

``mean_daily_load`` is the mean number of in-band events per UTC day (days without traffic count
as 0). The **best** band is the one with the highest net value among the bands whose mean daily
load is within ``capacity_per_day``; ties go to the narrower band. None when no band is within
capacity, when no label has arrived (no net value), or when no band within capacity has a
positive net value (reviewing would cost more than it saves); ``reason`` says which.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from prodready.case import Case
from prodready.errors import ParameterError
from prodready.results import Finding, format_money, most_severe_first, to_json
from prodready.review.simulate import (
    ReviewResult,
    check_case,
    check_settings,
    prepare_log,
    replay_band,
)

DEFAULT_WIDTHS: tuple[float, ...] = (0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.15, 0.2, 0.3)

SWEEP_COLUMNS: tuple[str, ...] = (
    "band",
    "low",
    "high",
    "width",
    "mean_daily_load",
    "peak_daily_load",
    "within_capacity",
    "in_band",
    "reviewed",
    "overflow",
    "overflow_share",
    "errors_avoided",
    "cost",
    "net",
)


def _band_label(low: float, high: float) -> str:
    return f"[{low:g}, {high:g})"


@dataclass(frozen=True)
class ReviewSweep:
    """Bands compared: ``table`` (one row per band, columns :data:`SWEEP_COLUMNS`), ``results``
    (the :class:`ReviewResult` of each band, same order), ``best`` (``(low, high)`` or None) and
    ``reason`` (why that band, or why none)."""

    table: pd.DataFrame
    results: tuple[ReviewResult, ...]
    best: tuple[float, float] | None
    reason: str
    centre: float
    capacity_per_day: int
    cost_per_review: float
    reviewer_accuracy: float
    seed: int
    currency: str

    @property
    def best_result(self) -> ReviewResult | None:
        for result in self.results:
            if result.band == self.best:
                return result
        return None

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> list[Finding]:
        best = self.best_result
        if best is None:
            return [Finding("medium", f"No review band recommended: {self.reason}")]
        findings = [
            Finding(
                "high",
                f"Best band: {_band_label(*best.band)}. {self.reason}",
                money=float(best.net),
                currency=self.currency,
            )
        ]
        over = self.table[~self.table["within_capacity"]]
        if len(over):
            findings.append(
                Finding(
                    "low",
                    f"{len(over)} of {len(self.table)} bands send more events a day than the "
                    f"reviewers' capacity of {self.capacity_per_day:,}; the widest asks for "
                    f"{over['mean_daily_load'].max():.1f} a day.",
                )
            )
        return most_severe_first(findings)

    def to_dict(self) -> dict[str, Any]:
        return to_json(
            {
                "centre": self.centre,
                "capacity_per_day": self.capacity_per_day,
                "cost_per_review": self.cost_per_review,
                "reviewer_accuracy": self.reviewer_accuracy,
                "seed": self.seed,
                "currency": self.currency,
                "best": None if self.best is None else list(self.best),
                "reason": self.reason,
                "table": self.table.to_dict(orient="records"),
                "summary": [f.to_dict() for f in self.summary()],
            }
        )


def _check_widths(widths: Any, where: str) -> tuple[float, ...]:
    expected = "one or more band widths, each above 0 and at most 2, e.g. (0.02, 0.05, 0.1)"
    fix = "pass e.g. widths=(0.02, 0.05, 0.1), or leave widths out for the defaults"
    if widths is None:
        return DEFAULT_WIDTHS
    if isinstance(widths, str) or not isinstance(widths, Sequence) or len(widths) == 0:
        raise ParameterError(
            "widths must be a list of numbers",
            where=f"{where}: widths",
            expected=expected,
            found=repr(widths),
            fix=fix,
        )
    out = []
    for width in widths:
        if (
            isinstance(width, bool)
            or not isinstance(width, numbers.Real)
            or not math.isfinite(float(width))
            or not 0 < float(width) <= 2
        ):
            raise ParameterError(
                "every band width must be a number above 0 and at most 2",
                where=f"{where}: widths",
                expected=expected,
                found=repr(width),
                fix=fix,
            )
        out.append(float(width))
    return tuple(sorted(set(out)))


def sweep(
    case: Case,
    *,
    widths: Sequence[float] | None = None,
    centre: float | None = None,
    capacity_per_day: int,
    cost_per_review: float,
    reviewer_accuracy: float = 0.95,
    seed: int = 0,
) -> ReviewSweep:
    """Replay review bands of each width around ``centre`` (default: the case threshold) and pick
    the best one within the reviewers' capacity; definitions in :mod:`prodready.review.sweep`."""
    where = "review.sweep"
    check_case(case, where)
    capacity, cost, accuracy, seed = check_settings(
        capacity_per_day, cost_per_review, reviewer_accuracy, seed, where
    )
    chosen = _check_widths(widths, where)
    log = prepare_log(case, seed)
    if centre is None:
        centre = log.threshold
    if (
        isinstance(centre, bool)
        or not isinstance(centre, numbers.Real)
        or not 0 <= float(centre) <= 1
    ):
        raise ParameterError(
            "centre must be a score between 0 and 1",
            where=f"{where}: centre",
            expected="the score the bands are centred on (the case threshold by default)",
            found=repr(centre),
            fix="pass e.g. centre=0.5, or leave it out",
        )
    centre = float(centre)

    rows, results = [], []
    for width in chosen:
        low, high = max(0.0, centre - width / 2), min(1.0, centre + width / 2)
        if not low < high:  # only when centre is 1 and the width rounds away: skip the band
            continue
        daily, totals = replay_band(log, low, high, capacity, cost, accuracy)
        results.append(
            ReviewResult(
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
        )
        rows.append(
            {
                "band": _band_label(low, high),
                "low": low,
                "high": high,
                "width": width,
                "mean_daily_load": totals["mean_daily_load"],
                "peak_daily_load": totals["peak_daily_load"],
                "within_capacity": bool(totals["mean_daily_load"] <= capacity),
                "in_band": totals["in_band"],
                "reviewed": totals["reviewed"],
                "overflow": totals["overflow"],
                "overflow_share": totals["overflow_share"],
                "errors_avoided": totals["errors_avoided"],
                "cost": totals["cost"],
                "net": totals["net"],
            }
        )
    table = pd.DataFrame(rows, columns=list(SWEEP_COLUMNS))
    best, reason = _choose(table, results, capacity, log.currency)
    return ReviewSweep(
        table=table,
        results=tuple(results),
        best=best,
        reason=reason,
        centre=centre,
        capacity_per_day=capacity,
        cost_per_review=cost,
        reviewer_accuracy=accuracy,
        seed=seed,
        currency=log.currency,
    )


def _choose(
    table: pd.DataFrame, results: list[ReviewResult], capacity: int, currency: str
) -> tuple[tuple[float, float] | None, str]:
    if table.empty:
        return None, "no band could be formed around the centre."
    if results[0].totals["labelled"] == 0:
        return None, "no label has arrived in the serving log, so no band has a net value."
    fits = table[table["within_capacity"]]
    if fits.empty:
        narrowest = table.iloc[0]
        return None, (
            f"every band sends more events a day than the capacity of {capacity:,} (the "
            f"narrowest, {narrowest['band']}, {narrowest['mean_daily_load']:.1f} a day): add "
            "reviewers or narrow the band."
        )
    ranked = fits.sort_values(["net", "width"], ascending=[False, True], kind="stable")
    top = ranked.iloc[0]
    if not top["net"] > 0:
        return None, (
            f"no band within the capacity of {capacity:,} a day pays for its reviews (the best, "
            f"{top['band']}, nets {format_money(float(top['net']), currency)})."
        )
    return (float(top["low"]), float(top["high"])), (
        f"Highest net value, {format_money(float(top['net']), currency)}, of the "
        f"{len(fits)} band(s) whose mean daily load is within the capacity of {capacity:,}: "
        f"{top['mean_daily_load']:.1f} events a day, {int(top['errors_avoided']):,} errors "
        f"avoided, {top['overflow_share']:.0%} of in-band events overflowed."
    )
