"""Monitors and the rules that decide, day by day, whether one fires.

A :class:`Monitor` watches one daily series (a column of :attr:`MonitoringReplay.daily`) with one
rule. Every rule is evaluated at the end of each monitored day on that day's value ``x_t``; a day
whose value is missing (NaN: no traffic, no labels yet) leaves the rule's state unchanged and
cannot fire.

Rules
-----
``threshold``
    Fires when ``x_t > threshold`` (``direction="above"``) or ``x_t < threshold``
    (``direction="below"``): a fixed value, for series with a meaning of their own (PSI above
    0.25, 1% of rows without a score).

``ewma`` (exponentially weighted moving average; Montgomery, *Introduction to Statistical Quality
Control*, 8th ed., section 9.2)
    ``z_0 = mu_0``; ``z_t = lambda * x_t + (1 - lambda) * z_{t-1}``; control limits
    ``mu_0 +/- L * sigma * sqrt(lambda / (2 - lambda) * (1 - (1 - lambda)^(2 t)))``, the exact
    variance of ``z_t`` (not only its steady state), with ``t`` the number of monitored days with
    a value so far. Fires when ``z_t`` leaves the limits (strictly). Defaults ``lambda = 0.2``
    (:data:`EWMA_LAMBDA`) and ``L = 3`` (:data:`EWMA_L`).

``cusum`` (tabular CUSUM; Montgomery, section 9.1)
    ``C+_t = max(0, x_t - (mu_0 + K) + C+_{t-1})``, ``C-_t = max(0, (mu_0 - K) - x_t +
    C-_{t-1})``, ``C+_0 = C-_0 = 0``, with ``K = k * sigma`` and ``H = h * sigma``; fires when
    ``C+_t > H`` or ``C-_t > H``. Defaults ``k = 0.5`` (:data:`CUSUM_K`) and ``h = 5``
    (:data:`CUSUM_H`), Montgomery's recommendation for detecting a shift of one sigma.

``mu_0`` and ``sigma`` are the mean and the sample standard deviation (``ddof=1``) of the series
over the days of the reference period (days without a value left out), unless the monitor states
them (``center``, ``sd``), as a monitor loaded from an exported file does. ``direction`` keeps one
side of a chart: ``"above"`` (only the upper limit, ``C+``), ``"below"`` (only the lower limit,
``C-``) or ``"both"``. When ``sigma`` is 0 (the series never moved in the reference, such as the
share of missing values of a feature that was never missing), the limits close on ``mu_0`` and any
departure fires.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from prodready.errors import ParameterError

__all__ = [
    "CUSUM_H",
    "CUSUM_K",
    "DIRECTIONS",
    "EWMA_L",
    "EWMA_LAMBDA",
    "FAMILIES",
    "RULES",
    "Monitor",
    "RuleTrace",
    "cusum",
    "ewma",
    "threshold_rule",
]

Family = Literal["business", "model_output", "data_quality", "performance", "system_health"]
Rule = Literal["threshold", "ewma", "cusum"]
Direction = Literal["above", "below", "both"]

FAMILIES: tuple[str, ...] = (
    "business",
    "model_output",
    "data_quality",
    "performance",
    "system_health",
)
RULES: tuple[str, ...] = ("threshold", "ewma", "cusum")
DIRECTIONS: tuple[str, ...] = ("above", "below", "both")

EWMA_LAMBDA = 0.2
"""EWMA smoothing weight of the newest day (Montgomery: 0.05 to 0.25 works well)."""
EWMA_L = 3.0
"""EWMA control-limit width in standard deviations of the EWMA statistic."""
CUSUM_K = 0.5
"""CUSUM allowance (slack) in reference standard deviations."""
CUSUM_H = 5.0
"""CUSUM decision interval in reference standard deviations."""


@dataclass(frozen=True)
class Monitor:
    """One monitor: a daily series, a rule, and the rule's parameters.

    ``series`` is a column of :attr:`MonitoringReplay.daily` (``"flag_rate"``,
    ``"missing_rate[amount]"``, ...); ``target`` the feature or KPI it is about. ``threshold``
    is needed by (and only used by) the ``threshold`` rule; ``smoothing`` and ``limit_sd`` are
    the EWMA's ``lambda`` and ``L``; ``allowance_sd`` and ``decision_sd`` the CUSUM's ``k`` and
    ``h``. ``center`` and ``sd`` fix ``mu_0`` and ``sigma`` instead of taking them from the
    reference. ``window`` is the span each daily value covers, for the export (``"1d"``; ``"7d"``
    for the trailing-window performance series).
    """

    name: str
    family: Family
    series: str
    target: str
    rule: Rule = "ewma"
    direction: Direction = "both"
    threshold: float | None = None
    smoothing: float = EWMA_LAMBDA
    limit_sd: float = EWMA_L
    allowance_sd: float = CUSUM_K
    decision_sd: float = CUSUM_H
    center: float | None = None
    sd: float | None = None
    window: str = "1d"

    def __post_init__(self) -> None:
        where = f"monitor {self.name!r}"
        for attribute in ("name", "series", "target"):
            value = getattr(self, attribute)
            if not isinstance(value, str) or not value:
                raise ParameterError(
                    f"the monitor's {attribute} must be a non-empty text",
                    where=where,
                    found=repr(value),
                )
        for attribute, allowed in (
            ("family", FAMILIES),
            ("rule", RULES),
            ("direction", DIRECTIONS),
        ):
            value = getattr(self, attribute)
            if value not in allowed:
                raise ParameterError(
                    f"unknown {attribute} {value!r}",
                    where=where,
                    expected="one of " + ", ".join(allowed),
                    found=repr(value),
                )
        if self.rule == "threshold":
            if not _finite(self.threshold):
                raise ParameterError(
                    "a threshold monitor needs a threshold",
                    where=where,
                    expected="threshold: a finite number, e.g. 0.25",
                    found=repr(self.threshold),
                    fix="give the value above (or below) which the monitor fires",
                )
            if self.direction == "both":
                raise ParameterError(
                    "a threshold monitor fires either above or below its threshold",
                    where=where,
                    expected="direction 'above' or 'below'",
                    found="'both'",
                )
        if not (_finite(self.smoothing) and 0.0 < self.smoothing <= 1.0):
            raise ParameterError(
                "the EWMA smoothing (lambda) must lie in (0, 1]",
                where=where,
                found=repr(self.smoothing),
            )
        for attribute in ("limit_sd", "decision_sd"):
            value = getattr(self, attribute)
            if not (_finite(value) and value > 0):
                raise ParameterError(
                    f"{attribute} must be a positive number", where=where, found=repr(value)
                )
        if not (_finite(self.allowance_sd) and self.allowance_sd >= 0):
            raise ParameterError(
                "allowance_sd must be a number of 0 or more",
                where=where,
                found=repr(self.allowance_sd),
            )
        if self.center is not None and not _finite(self.center):
            raise ParameterError("center must be a finite number", where=where)
        if self.sd is not None and not (_finite(self.sd) and self.sd >= 0):
            raise ParameterError("sd must be a finite number of 0 or more", where=where)

    def to_dict(self) -> dict[str, Any]:
        """The monitor's fields (JSON-safe)."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _finite(value: object) -> bool:
    return (
        isinstance(value, int | float | np.number)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


@dataclass(frozen=True)
class RuleTrace:
    """A rule evaluated on a series: per day the statistic compared with the limits, the lower
    and upper limit (NaN where a side is not watched), and whether the rule fired."""

    statistic: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    fired: np.ndarray


def threshold_rule(values, threshold: float, direction: str) -> RuleTrace:
    """``x_t > threshold`` (``"above"``) or ``x_t < threshold`` (``"below"``); NaN never fires."""
    x = np.asarray(values, dtype="float64")
    nan = np.full(x.shape, np.nan)
    limit = np.full(x.shape, float(threshold))
    with np.errstate(invalid="ignore"):
        if direction == "above":
            return RuleTrace(x.copy(), nan, limit, x > threshold)
        return RuleTrace(x.copy(), limit, nan, x < threshold)


def ewma(
    values,
    center: float,
    sd: float,
    *,
    smoothing: float = EWMA_LAMBDA,
    limit_sd: float = EWMA_L,
    direction: str = "both",
) -> RuleTrace:
    """EWMA chart of ``values`` (module docstring). NaN days carry ``z`` over and do not count
    in ``t``; their statistic and limits are NaN."""
    x = np.asarray(values, dtype="float64")
    lam = float(smoothing)
    present = ~np.isnan(x)
    t = np.cumsum(present)
    # z_t as a linear recursion over the days with a value (a short loop over days, not rows)
    z = np.full(x.shape, np.nan)
    current = float(center)
    for i in np.flatnonzero(present):
        current = lam * x[i] + (1.0 - lam) * current
        z[i] = current
    factor = np.sqrt(lam / (2.0 - lam) * (1.0 - (1.0 - lam) ** (2 * t)))
    width = np.where(present, limit_sd * sd * factor, np.nan)
    upper = center + width if direction in ("above", "both") else np.full(x.shape, np.nan)
    lower = center - width if direction in ("below", "both") else np.full(x.shape, np.nan)
    with np.errstate(invalid="ignore"):
        fired = (z > upper) | (z < lower)
    return RuleTrace(z, lower, upper, fired)


def cusum(
    values,
    center: float,
    sd: float,
    *,
    allowance_sd: float = CUSUM_K,
    decision_sd: float = CUSUM_H,
    direction: str = "both",
) -> RuleTrace:
    """Tabular CUSUM of ``values`` (module docstring). The statistic of a day is ``C+`` when
    only the upper side is watched, ``-C-`` when only the lower side is, and otherwise the one
    of ``C+``, ``-C-`` farther from 0 (so the lower limit is ``-H`` and the upper ``H``). NaN
    days carry both sums over."""
    x = np.asarray(values, dtype="float64")
    k, h = allowance_sd * sd, decision_sd * sd
    high = np.full(x.shape, np.nan)
    low = np.full(x.shape, np.nan)
    c_plus = c_minus = 0.0
    for i in np.flatnonzero(~np.isnan(x)):
        c_plus = max(0.0, x[i] - (center + k) + c_plus)
        c_minus = max(0.0, (center - k) - x[i] + c_minus)
        high[i], low[i] = c_plus, c_minus
    present = ~np.isnan(x)
    nan = np.full(x.shape, np.nan)
    limit = np.where(present, h, np.nan)
    with np.errstate(invalid="ignore"):
        if direction == "above":
            return RuleTrace(high, nan, limit, high > h)
        if direction == "below":
            return RuleTrace(-low, -limit, nan, low > h)
        statistic = np.where(high >= low, high, -low)
        return RuleTrace(statistic, -limit, limit, (high > h) | (low > h))
