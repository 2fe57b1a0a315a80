"""prodready.stats.smirnov.ks_two_sided_sf against scipy.stats.kstwo.sf, in and around every
regime boundary of scipy's algorithm, plus the truncation bound it relies on."""

from __future__ import annotations

import math
import time
from fractions import Fraction

import numpy as np
import pytest
import scipy.stats

from prodready.errors import ParameterError
from prodready.stats import drift, smirnov
from prodready.stats.smirnov import ks_two_sided_sf

RTOL = 1e-9
# n d^2 on both sides of scipy's switches: 2.2 (into 2 * smirnov) and 370 (to 0); 369 gives a
# subnormal or 0 depending on n, where only scipy's zeros must be matched.
ND2 = (2.1, 2.2, 2.3, 10.0, 100.0, 369.0, 371.0)


def _same_as_scipy(d: float, n: int) -> None:
    want = float(scipy.stats.kstwo.sf(d, n))
    got = ks_two_sided_sf(d, n)
    if want == 0.0:
        assert got == 0.0, (d, n, got)
    elif want > 1e-300:
        assert got == pytest.approx(want, rel=RTOL, abs=0.0), (d, n, got, want)
    else:  # subnormal: both tiny and positive
        assert 0.0 < got < 1e-300, (d, n, got, want)


def _edges(n: int) -> list[float]:
    """d near 0.5 and 1, near n d = 1 and n - 1, and on an integer n d inside the fast regime."""
    k = math.ceil(math.sqrt(10.0 * n))  # n d = k, a whole number, with n d^2 about 10
    points = [0.5, 1.0, 1.0 / n, (n - 1) / n, k / n]
    out = []
    for p in points:
        out += [p, float(np.nextafter(p, 0.0)), float(np.nextafter(p, 2.0))]
    out += [0.4999, 0.5001, 0.999, 1.000001 / n, 0.999999 / n, (n - 1.000001) / n, 0.0]
    return out


@pytest.mark.parametrize("n", [141, 1_000, 10_000, 100_000, 2_000_000])
def test_equals_scipy_across_the_regimes(n):
    # n = 141 is the first n scipy sums for; 2,000,000 is above its exact-sum limit (1e6), where
    # it uses an O(1) approximation that this function leaves to it. Cost: ~1.5 s at n = 1e5.
    for nd2 in ND2:
        _same_as_scipy(math.sqrt(nd2 / n), n)
    for d in _edges(n):
        _same_as_scipy(d, n)


@pytest.mark.parametrize("nd2", [2.2, 10.0])
def test_equals_scipy_at_half_a_million(nd2):
    # scipy takes ~1-2.5 s per point here: the case this module exists for
    _same_as_scipy(math.sqrt(nd2 / 500_000), 500_000)


def test_equals_scipy_on_a_fine_scan_of_small_n():
    # every n from 141 to 300 (where the terms are fewest and the grid is every term), at n d^2
    # spread over the whole fast regime
    rng = np.random.default_rng(7)
    for n in range(141, 301):
        for nd2 in rng.uniform(2.2, 370.0, size=3):
            _same_as_scipy(math.sqrt(nd2 / n), n)


@pytest.mark.parametrize(
    ("n", "nd2"),
    [(141, 2.2), (141, 60.0), (1_000, 2.2), (1_000, 369.0), (30_000, 10.0), (200_000, 100.0)],
)
def test_the_left_out_terms_are_below_1e20_of_the_largest(n, nd2):
    # The proof of the truncation, numerically: the log terms are concave in v (so one peak), the
    # terms outside the summed window are below 1e-20 of the largest of ALL terms, and the sum of
    # the window equals the sum of every term to 1e-14.
    d = math.sqrt(nd2 / n)
    exact_nd = Fraction(d) * n
    nd_floor = math.floor(exact_nd)
    terms = smirnov._Terms(d, n, float(exact_nd), nd_floor, float(exact_nd - nd_floor))
    last = n - nd_floor - 1
    every = terms.log(np.arange(0, last + 1, dtype="float64"))
    second = np.diff(every, 2)
    assert second.max() < 1e-9  # concave up to rounding (~1e-11)
    first, stop, largest = smirnov._window(terms, last)
    top = float(every.max())
    assert largest <= top
    outside = np.concatenate((every[:first], every[stop + 1 :]))
    if outside.size:
        assert outside.max() < top - math.log(1e20)
    whole = np.exp(every - top).sum()
    window = np.exp(every[first : stop + 1] - top).sum()
    assert (whole - window) / whole < 1e-14
    if nd2 >= 100:  # the window really is shorter there (it saves time)
        assert stop - first < 0.7 * last


def test_a_million_values_take_well_under_a_second():
    n = 1_000_000
    d = math.sqrt(10.0 / n)
    best = math.inf
    for _ in range(3):  # the machine is shared: take the best of three
        start = time.perf_counter()
        value = ks_two_sided_sf(d, n)
        best = min(best, time.perf_counter() - start)
    assert best < 0.5
    # scipy's smirnov takes ~5 s here, so compare with the limit it tends to (within 1%)
    assert value == pytest.approx(2 * math.exp(-2 * 10.0), rel=0.01)


def test_drift_p_value_goes_through_it():
    # the asymptotic branch of drift's KS p-value is kstwo.sf at round(n1 n2 / (n1 + n2))
    n1, n2 = 300_000, 200_000
    d = math.sqrt(10.0 / 120_000)
    assert drift._ks_pvalue(d, n1, n2, None, None) == ks_two_sided_sf(d, 120_000)
    assert drift._ks_pvalue(d, n1, n2, None, None) == pytest.approx(
        float(scipy.stats.kstwo.sf(d, 120_000)), rel=RTOL
    )


@pytest.mark.parametrize("n", [0, -3, 2.5, "many", None])
def test_a_bad_sample_size_says_so(n):
    with pytest.raises(ParameterError, match="whole number of at least 1"):
        ks_two_sided_sf(0.1, n)


def test_not_a_number_gives_not_a_number_like_scipy():
    assert math.isnan(ks_two_sided_sf(float("nan"), 1_000))
    assert ks_two_sided_sf(0.05, 1_000.0) == ks_two_sided_sf(0.05, 1_000)
