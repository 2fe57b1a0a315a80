"""Anytime-valid inference for daily rollout checks: a normal-mixture confidence sequence.

A rollout is checked every day. Peeking at a fixed-horizon z-test daily and stopping at the
first ``|z| > 1.96`` rejects a true null far more often than 5% (about 30% over 100 looks).
Instead prodready uses the **mixture sequential probability ratio test** (mSPRT) of Johari,
Pekelis and Walsh, "Always valid inference: continuous monitoring of A/B tests" (2017; Operations
Research 2022), equivalently the normal-mixture confidence sequence of Robbins (1970), see
Howard, Ramdas, McAuliffe and Sekhon, "Time-uniform, nonparametric, nonasymptotic confidence
sequences", Annals of Statistics 49 (2021).

For an estimate ``theta_hat`` of a difference in means with (plug-in) variance ``V`` and a
normal mixing distribution ``N(null, tau2)`` on the true difference, the mixture likelihood ratio
is::

    Lambda = sqrt(V / (V + tau2)) * exp(tau2 * (theta_hat - null)**2 / (2 * V * (V + tau2)))

and ``P(Lambda >= 1/alpha at any look) <= alpha`` under the null (Ville's inequality). Inverting
it gives the confidence sequence ``theta_hat +- half_width`` with::

    half_width = sqrt(V * (V + tau2) / tau2 * (2 * log(1/alpha) + log((V + tau2) / V)))

which covers the true difference at *every* look simultaneously with probability ``1 - alpha``.
The guarantee is exact for Gaussian data with known variance and asymptotic with the plug-in
variance used here (Johari et al., section 4). ``tau2`` only moves where the boundary is
tightest (around ``V = tau2``), never the error rate; :func:`mixing_variance` sets it so that
the band is tightest at a chosen number of observations.
"""

from __future__ import annotations

import numpy as np

from prodready.errors import ParameterError


def _check_alpha(alpha: float) -> float:
    if not 0 < alpha < 1:
        raise ParameterError("alpha must be between 0 and 1", found=repr(alpha))
    return float(alpha)


def mixing_variance(per_observation_variance, tight_at: float = 1000.0):
    """``tau2 = sigma2 / tight_at``: the band is tightest when about ``tight_at`` observations
    (per arm) have been seen."""
    if tight_at <= 0:
        raise ParameterError("tight_at must be positive", found=repr(tight_at))
    return np.asarray(per_observation_variance, dtype=float) / tight_at


def half_width(variance, mixing_var, alpha: float = 0.05):
    """Half-width of the normal-mixture confidence sequence (module docstring). Infinite where
    the variance is not positive or not finite (nothing known yet)."""
    alpha = _check_alpha(alpha)
    v = np.asarray(variance, dtype=float)
    t = np.asarray(mixing_var, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.sqrt(v * (v + t) / t * (2 * np.log(1 / alpha) + np.log((v + t) / v)))
    return np.where((v > 0) & np.isfinite(v) & (t > 0), out, np.inf)


def confidence_sequence(estimate, variance, mixing_var, alpha: float = 0.05):
    """``(low, high)`` of the (1 - alpha) confidence sequence around ``estimate``."""
    h = half_width(variance, mixing_var, alpha)
    est = np.asarray(estimate, dtype=float)
    return est - h, est + h


def msprt_rejects(estimate, variance, mixing_var, alpha: float = 0.05, null: float = 0.0):
    """True where the mixture likelihood ratio is at least 1/alpha (the null is rejected)."""
    alpha = _check_alpha(alpha)
    v = np.asarray(variance, dtype=float)
    t = np.asarray(mixing_var, dtype=float)
    d = np.asarray(estimate, dtype=float) - null
    with np.errstate(divide="ignore", invalid="ignore"):
        log_lr = 0.5 * np.log(v / (v + t)) + t * d**2 / (2 * v * (v + t))
    return np.where((v > 0) & np.isfinite(v), log_lr >= np.log(1 / alpha), False)
