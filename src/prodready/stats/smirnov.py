"""The two-sided Kolmogorov-Smirnov survival function ``P(D_n >= d)``, equal to
``scipy.stats.kstwo.sf(d, n)`` and fast for large ``n``.

Why hand-written: for ``n > 140`` and ``2.2 <= n d^2 < 370`` scipy (Simard & L'Ecuyer 2011, the
algorithm in ``scipy/stats/_ksstats.py``) returns ``2 * scipy.special.smirnov(n, d)``, and
``smirnov`` sums the ~n terms of the Birnbaum-Tingey formula one at a time in double-double
arithmetic: about 0.4 s per call at n = 100,000 and 2.5 s at n = 500,000. This module sums the
same formula vectorised in numpy (tens of milliseconds at n = 1,000,000) and hands every other
regime to scipy itself, so the result there is scipy's by construction.

The one-sided tail (Birnbaum & Tingey 1951; Smirnov 1944), with ``w = n - v``::

    P(D+_n >= d) = d * sum_{v=0}^{V} C(n, v) (d + v/n)^(v-1) (1 - d - v/n)^(n-v)

where ``V = n - floor(n d) - 1`` (scipy's ``n1mxfl``: when ``n d`` is an integer the last term of
``floor(n(1-d))`` is 0 and is left out). Each term is ``binom.pmf(v; n, p) / p`` with
``p = d + v/n``; its logarithm is taken in Loader's saddle-point form (Loader 2000, "Fast and
accurate computation of binomial probabilities", as R's ``dbinom``)::

    log term = stirlerr(n) - stirlerr(v) - stirlerr(w) - bd - log(2 pi v w (v + nd)^2 / n^3) / 2
    bd       = w log1p(nd / (w - nd)) - v log1p(nd / v)

with ``stirlerr(k) = log(k!) - log(sqrt(2 pi k) (k/e)^k)`` and ``nd = n d``. Every piece stays
small (at most ~nd), so the logarithm is good to ~1e-12 absolute (measured: within 3e-13 of
scipy); the plain ``gammaln(n+1) - gammaln(v+1) - ...`` form subtracts numbers near 1e7 and was
measured 3.5e-10 off at n = 500,000, a third of the 1e-9 tolerance. The terms are positive (no
cancellation) and are summed relative to the largest, as ``scipy.special.logsumexp`` does.

The two-sided value is ``2 * P(D+_n >= d)``, scipy's choice in this regime following Simard &
L'Ecuyer 2011 (exact for d >= 0.5; below, it leaves out the small chance of crossing both
bounds), so this matches scipy rather than a more exact two-sided formula.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import scipy.special
import scipy.stats

from prodready.errors import ParameterError

__all__ = ["ks_two_sided_sf"]

SCIPY_SMALL_N = 140
"""scipy uses other methods (Durbin/Pomeranz matrices, Miller) up to this n."""
SCIPY_SMIRNOV_MAX_N = 1_000_000
"""Above this n scipy's ``smirnov`` is the O(1) approximation ``exp(-(6nd+1)^2 / 18n)``."""
SMIRNOV_MIN_ND2 = 2.2
"""From this ``n d^2`` (with n > 140) scipy's survival function is ``2 * smirnov(n, d)``..."""
ZERO_ND2 = 370.0
"""...up to this ``n d^2``, where it returns 0."""

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
_CHUNK = 1 << 14  # terms per numpy pass: 16,384 float64 arrays stay in cache (measured ~2x faster)
_GRID = 1025  # points of the coarse pass that finds where the terms matter
_LOG_DROP = math.log(1e20)
_LOG_TINY = math.log(np.finfo(np.float64).tiny)  # the smallest normal float, ~2.2e-308
# Terms below 1e-20 of the largest are left out of the sum. There are at most n <= 1e6 of them,
# so together they are below 1e-14 of the largest term, hence of the sum: far under the 1e-9
# agreement with scipy asked for (scipy stops its own loop once the terms left are below machine
# epsilon of the sum). Which terms those are is found on a coarse grid: the terms are
# log-concave in v (the second derivative of the Stirling form of the log term is
# -(nd)^2 / (v (v+nd)^2) - (nd)^2 / (w (w-nd)^2) < 0; tests check the exact second differences),
# so they rise to one peak and fall, and every term beyond a grid point that is below the
# threshold, on the side away from the peak, is below it too. At n d^2 = 100 this skips half of
# the terms; at n d^2 = 10 about a sixth.


def ks_two_sided_sf(d: float, n: int) -> float:
    """``P(D_n >= d)`` for the two-sided one-sample KS statistic of ``n`` values: the number
    ``scipy.stats.kstwo.sf(d, n)`` gives (to ~1e-12 relative where it is above 1e-300).

    Computed here when ``140 < n <= 1,000,000``, ``2.2 <= n d^2 < 370``, ``1 < n d < n - 1`` and
    ``d < 0.5`` (where scipy spends O(n) in ``smirnov``); everywhere else this calls scipy. Raises
    :class:`~prodready.errors.ParameterError` when ``n`` is not a whole number of at least 1.
    """
    n = _sample_size(n)
    d = float(d)
    t = n * d  # the same float operations scipy's _kolmogn uses to pick its method
    fast = (
        SCIPY_SMALL_N < n <= SCIPY_SMIRNOV_MAX_N
        and 1.0 < t < n - 1
        and d < 0.5
        and SMIRNOV_MIN_ND2 <= t * d < ZERO_ND2
    )
    if not fast:
        return float(scipy.stats.kstwo.sf(d, n))
    return min(1.0, 2.0 * _smirnov_sf(d, n))


def _sample_size(n) -> int:
    try:
        whole = int(n)
        ok = whole == n and whole >= 1
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise ParameterError(
            "the KS p-value needs the number of values as a whole number of at least 1",
            found=repr(n),
            fix="pass the (effective) sample size, e.g. round(n1 * n2 / (n1 + n2))",
        )
    return whole


def _smirnov_sf(d: float, n: int) -> float:
    """``P(D+_n >= d)`` by the Birnbaum-Tingey sum (module docstring), for ``1 < nd < n-1``."""
    exact_nd = Fraction(d) * n  # exact, as scipy's double-double floor(n d) and remainder
    nd_floor = math.floor(exact_nd)
    terms = _Terms(d, n, float(exact_nd), nd_floor, float(exact_nd - nd_floor))
    first, stop, largest = _window(terms, n - nd_floor - 1)
    chunks = [
        np.arange(start, min(start + _CHUNK, stop + 1), dtype="float64")
        for start in range(first, stop + 1, _CHUNK)
    ]
    total = sum(float(np.exp(terms.log(v) - largest).sum()) for v in chunks)
    log_sf = largest + math.log(total) + math.log(d)
    if log_sf >= _LOG_TINY:
        return math.exp(log_sf)
    # Below the smallest normal float the answer is a subnormal and scipy's is what its own
    # float steps give: each term rounded on its own (a term under half the smallest subnormal
    # is 0), summed, times d. Doing those same steps gives its zeros where it gives 0.
    return d * sum(float(np.exp(terms.log(v)).sum()) for v in chunks)


def _window(terms: _Terms, last: int) -> tuple[int, int, float]:
    """``(first, stop, largest)``: the terms ``v`` outside ``first..stop`` of ``0..last`` are
    below ``exp(-_LOG_DROP)`` times the largest term; ``largest`` is the largest log term on a
    coarse grid (at most the largest of all), against which the sum is scaled."""
    grid = np.unique(np.rint(np.linspace(0.0, last, min(_GRID, last + 1))))
    coarse = terms.log(grid)
    top = int(np.argmax(coarse))
    largest = float(coarse[top])
    low = np.flatnonzero(coarse[:top] < largest - _LOG_DROP)
    high = np.flatnonzero(coarse[top + 1 :] < largest - _LOG_DROP)
    first = int(grid[low[-1]]) if low.size else 0
    stop = int(grid[top + 1 + high[0]]) if high.size else last
    return first, stop, largest


class _Terms:
    """Logarithms of the Birnbaum-Tingey terms ``C(n,v) (d+v/n)^(v-1) (1-d-v/n)^(n-v)``."""

    def __init__(self, d: float, n: int, nd: float, nd_floor: int, nd_frac: float) -> None:
        self.n, self.nd, self.nd_floor, self.nd_frac = float(n), nd, nd_floor, nd_frac
        self.constant = float(_stirling_error(np.array([self.n]))[0]) - _HALF_LOG_2PI
        self.first = n * math.log1p(-d) - math.log(d)  # v = 0: (1-d)^n / d

    def log(self, v: np.ndarray) -> np.ndarray:
        """For whole numbers ``0 <= v <= n - floor(nd) - 1`` (as float64)."""
        zero = v == 0
        v = np.where(zero, 1.0, v) if zero.any() else v
        w = self.n - v
        rest = (w - self.nd_floor) - self.nd_frac  # n - v - nd, without rounding nd first
        nd = self.nd
        out = w * np.log1p(nd / rest)
        out -= v * np.log1p(nd / v)
        out += _stirling_error(v)
        out += _stirling_error(w)
        out += 0.5 * np.log(v * w * ((v + nd) ** 2 / self.n**3))  # and log(2 pi) / 2: constant
        out = self.constant - out
        if zero.any():
            out[zero] = self.first
        return out


def _stirling_error(k: np.ndarray) -> np.ndarray:
    """``log(k!) - log(sqrt(2 pi k) (k/e)^k)`` for whole ``k >= 1``: directly for ``k <= 15``
    (absolute error ~1e-14), else by its asymptotic series, whose first omitted term
    (691 / 360360 / k^11) is below 1e-16 there (as R's ``stirlerr``)."""
    small = k <= 15
    if small.any():
        out = np.empty_like(k)
        ks = k[small]
        out[small] = scipy.special.gammaln(ks + 1) - (ks + 0.5) * np.log(ks) + ks - _HALF_LOG_2PI
        out[~small] = _stirling_series(k[~small])
        return out
    return _stirling_series(k)


def _stirling_series(k: np.ndarray) -> np.ndarray:
    k2 = 1.0 / (k * k)
    return (1 / 12 - (1 / 360 - (1 / 1260 - (1 / 1680 - k2 / 1188) * k2) * k2) * k2) / k
