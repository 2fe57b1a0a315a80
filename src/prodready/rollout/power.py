"""How many days a rollout stage needs to detect a true change in a KPI, for the engine's test.

The rollback rule on a KPI (:class:`prodready.rollout.Trigger` ``"business_value"``) is checked
daily with the anytime-valid normal-mixture confidence sequence of
:mod:`prodready.rollout.sequential`: on day ``t`` it fires when the difference of the arms' mean
KPI per decision, ``est_t = mean_challenger - mean_champion``, is beyond ``margin`` by more than
the half-width::

    est_t + half_width(V_t, tau2, alpha) < -margin,  V_t = sd**2 * (1/n1_t + 1/n0_t),
    tau2 = sd**2 / TIGHT_AT,

with ``n1_t`` and ``n0_t`` the labelled decisions each arm has by day ``t`` (at least
``MIN_LABELLED`` each). Sequential tests have no closed-form power, so :func:`detection_curve`
computes it the way the engine decides: it draws ``paths`` Gaussian random walks of the arms'
daily sums (per-decision mean ``effect`` apart, per-decision standard deviation ``sd``; a fixed
``seed``, so the answer is the same every time), applies the daily check to each, and returns the
share of paths that have fired by each day. The daily sums are exactly Gaussian for a Gaussian
KPI and approximately so (central limit) for a rate or money per decision. Detection is
symmetric: an improvement of ``effect`` is found as fast by the mirrored rule, so only
``|effect|`` matters.

:func:`power` returns the first day on which that share reaches the requested power.
"""

from __future__ import annotations

import numpy as np

from prodready.errors import ParameterError
from prodready.rollout.sequential import half_width, mixing_variance
from prodready.rollout.simulate import MIN_LABELLED, TIGHT_AT


def _per_decision_sd(baseline_rate: float | None, sd: float | None) -> float:
    if (baseline_rate is None) == (sd is None):
        raise ParameterError(
            "give exactly one of baseline_rate (a KPI that is a rate) or sd (the standard "
            "deviation of the KPI per decision)",
            where="power",
            fix="e.g. baseline_rate=0.02 for a 2% fraud-catch rate, or sd=35.0 for money",
        )
    if baseline_rate is not None:
        if not 0 < baseline_rate < 1:
            raise ParameterError(
                "baseline_rate must be between 0 and 1",
                where="power: baseline_rate",
                found=repr(baseline_rate),
            )
        return float(np.sqrt(baseline_rate * (1 - baseline_rate)))
    if not sd > 0:
        raise ParameterError("sd must be positive", where="power: sd", found=repr(sd))
    return float(sd)


def detection_curve(
    effect: float,
    *,
    share: float,
    daily_volume: float,
    baseline_rate: float | None = None,
    sd: float | None = None,
    alpha: float = 0.05,
    margin: float = 0.0,
    label_delay_days: int = 0,
    max_days: int = 120,
    paths: int = 10_000,
    seed: int = 0,
) -> np.ndarray:
    """Probability that the daily rule has fired by day 1, 2, ..., ``max_days`` (array of
    ``max_days``), for a true difference ``effect`` (challenger minus champion, KPI units per
    decision), the challenger serving ``share`` percent (0 < share < 100) of ``daily_volume``
    labelled decisions a day whose labels arrive ``label_delay_days`` later. Method in the
    module docstring."""
    sigma = _per_decision_sd(baseline_rate, sd)
    if not 0 < share < 100:
        raise ParameterError(
            "share must be a percentage strictly between 0 and 100 (both arms need decisions)",
            where="power: share",
            found=repr(share),
        )
    if not daily_volume > 0:
        raise ParameterError(
            "daily_volume must be positive", where="power: daily_volume", found=repr(daily_volume)
        )
    if margin < 0 or label_delay_days < 0 or max_days < 1 or paths < 100:
        raise ParameterError(
            "margin and label_delay_days must be 0 or more, max_days at least 1 and paths at "
            "least 100",
            where="power",
            found=f"margin={margin!r}, label_delay_days={label_delay_days!r}, "
            f"max_days={max_days!r}, paths={paths!r}",
        )
    delta = abs(float(effect))
    n1_day = daily_volume * share / 100
    n0_day = daily_volume - n1_day
    days = np.arange(1, int(max_days) + 1)
    labelled_days = np.maximum(days - int(label_delay_days), 0)
    n1, n0 = n1_day * labelled_days, n0_day * labelled_days
    rng = np.random.default_rng(seed)
    # cumulative sums of each arm's (centred) KPI: Gaussian random walks, one step per day
    walk1 = np.cumsum(rng.standard_normal((paths, days.size)), axis=1) * sigma * np.sqrt(n1_day)
    walk0 = np.cumsum(rng.standard_normal((paths, days.size)), axis=1) * sigma * np.sqrt(n0_day)
    # labels of day d arrive on day d + delay: the walk seen on day t is the one of day t - delay
    seen = labelled_days - 1
    valid = labelled_days > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        noise = walk1[:, np.maximum(seen, 0)] / n1 - walk0[:, np.maximum(seen, 0)] / n0
        est = -delta + noise
        variance = sigma**2 * (1 / n1 + 1 / n0)
        bound = half_width(variance, mixing_variance(sigma**2, TIGHT_AT), alpha)
        enough = valid & (np.minimum(n0, n1) >= MIN_LABELLED)
        fires = enough & (est + bound < -margin)
    return np.maximum.accumulate(fires, axis=1).mean(axis=0)


def power(
    effect: float,
    *,
    share: float,
    daily_volume: float,
    baseline_rate: float | None = None,
    sd: float | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
    margin: float = 0.0,
    label_delay_days: int = 0,
    max_days: int = 120,
    paths: int = 10_000,
    seed: int = 0,
) -> int | None:
    """Days a stage serving ``share`` percent of ``daily_volume`` labelled decisions a day needs
    for the daily rollback rule to have fired with probability ``power`` when the challenger's
    KPI truly differs by ``effect`` per decision (e.g. ``-0.002`` for a 10% drop of a 2% rate,
    with ``baseline_rate=0.02``; or money per decision with ``sd``). ``None`` if not reached
    within ``max_days``. See :func:`detection_curve` and the module docstring."""
    if not 0 < power < 1:
        raise ParameterError("power must be between 0 and 1", where="power", found=repr(power))
    curve = detection_curve(
        effect,
        share=share,
        daily_volume=daily_volume,
        baseline_rate=baseline_rate,
        sd=sd,
        alpha=alpha,
        margin=margin,
        label_delay_days=label_delay_days,
        max_days=max_days,
        paths=paths,
        seed=seed,
    )
    reached = np.flatnonzero(curve >= power)
    return int(reached[0]) + 1 if reached.size else None
