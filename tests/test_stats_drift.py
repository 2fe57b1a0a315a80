"""prodready.stats.drift against scipy, closed forms and its own stated error bounds."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import jensenshannon

from prodready.errors import ParameterError
from prodready.samples import wide
from prodready.stats import drift
from prodready.stats.drift import (
    EXACT_MAX_VALUES,
    PSI_EPSILON,
    CategoricalReference,
    NumericReference,
    benjamini_hochberg,
    categorical_drift,
    compare_frames,
    numeric_drift,
)

TOL = 1e-9
# scipy's own ks_2samp (the reference here) falls back to its asymptotic p-value with a warning
# for some sample sizes; prodready does the same silently.
pytestmark = pytest.mark.filterwarnings("ignore:ks_2samp. Exact calculation:RuntimeWarning")
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------------------------------------
# Independent reference implementations (numpy / scipy only, written from the definitions)


def _coarse_shares(ref: np.ndarray, cur: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Decile edges of the reference (np.quantile), duplicates removed, bins (e[i-1], e[i]],
    outer bins open."""
    edges = np.unique(np.quantile(ref, np.arange(1, 10) / 10))
    bins = len(edges) + 1
    p = np.bincount(np.searchsorted(edges, ref, side="left"), minlength=bins) / ref.size
    q = np.bincount(np.searchsorted(edges, cur, side="left"), minlength=bins) / cur.size
    return p, q


def _psi_reference(p: np.ndarray, q: np.ndarray) -> float:
    p, q = np.maximum(p, PSI_EPSILON), np.maximum(q, PSI_EPSILON)
    return float(sum((qi - pi) * math.log(qi / pi) for pi, qi in zip(p, q, strict=True)))


def _hellinger_reference(p: np.ndarray, q: np.ndarray) -> float:
    return float(np.linalg.norm(np.sqrt(p) - np.sqrt(q)) / math.sqrt(2))


def _close(a: float, b: float, tol: float = TOL) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(b))


# Samples with many ties (rounded, small integers) as well as continuous values.
_floats = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False, width=64)


@st.composite
def _samples(draw, min_size: int = 2, max_size: int = 300) -> np.ndarray:
    kind = draw(st.sampled_from(["continuous", "rounded", "integers"]))
    values = np.array(draw(st.lists(_floats, min_size=min_size, max_size=max_size)))
    if kind == "rounded":
        values = np.round(values, 0)
    elif kind == "integers":
        values = np.floor(np.abs(values)) % 7
    return values


# ---------------------------------------------------------------------------------------------
# Numeric, exact path = scipy


@PROPERTY
@given(ref=_samples(), cur=_samples(), shift=st.floats(-50, 50))
def test_numeric_exact_equals_scipy(ref: np.ndarray, cur: np.ndarray, shift: float) -> None:
    cur = cur + shift
    got = numeric_drift(ref, cur, method="exact")
    ks = scipy.stats.ks_2samp(ref, cur)
    assert got.method == "exact" and got.error_bound == 0.0
    assert _close(got.ks_stat, float(ks.statistic))
    assert _close(got.ks_pvalue, float(ks.pvalue))
    std = float(np.std(ref))
    if std > 0:
        assert _close(got.wasserstein_norm * std, scipy.stats.wasserstein_distance(ref, cur))
    else:
        assert math.isnan(got.wasserstein_norm)
    p, q = _coarse_shares(ref, cur)
    assert _close(got.js_distance, float(jensenshannon(p, q, base=2)))
    assert _close(got.psi, _psi_reference(p, q))
    assert _close(got.hellinger, _hellinger_reference(p, q))
    outside = np.mean((cur < ref.min()) | (cur > ref.max()))
    assert _close(got.out_of_range_share, float(outside))
    assert (got.n_reference, got.n_current) == (ref.size, cur.size)


def test_numeric_exact_equals_scipy_on_large_samples_with_asymptotic_pvalue() -> None:
    rng = np.random.default_rng(3)
    ref, cur = rng.normal(size=30_000), rng.normal(0.02, 1, size=25_000)
    got = numeric_drift(ref, cur, method="exact")
    ks = scipy.stats.ks_2samp(ref, cur)
    assert 1e-6 < ks.pvalue < 1  # a p-value that is not trivially 0 or 1
    assert _close(got.ks_stat, float(ks.statistic))
    assert _close(got.ks_pvalue, float(ks.pvalue))
    assert _close(got.wasserstein_norm, scipy.stats.wasserstein_distance(ref, cur) / ref.std())


def test_psi_closed_form() -> None:
    # Reference 1..100: decile edges 10.9, 20.8, ..., 90.1, so each bin holds 10 values.
    # Current: 50 values in the first bin, 50 in the last. p = 0.1 everywhere; q = 0.5, 0, ..., 0.5
    # with the 8 empty bins raised to 1e-4.
    ref = np.arange(1, 101, dtype=float)
    cur = np.array([1.0] * 50 + [100.0] * 50)
    expected = 2 * (0.5 - 0.1) * math.log(0.5 / 0.1) + 8 * (1e-4 - 0.1) * math.log(1e-4 / 0.1)
    got = numeric_drift(ref, cur)
    assert got.psi == pytest.approx(expected, rel=1e-12)
    # Hellinger: 1 - sum sqrt(p q) = 1 - 2 sqrt(0.05); JS by hand (base 2).
    assert got.hellinger == pytest.approx(math.sqrt(1 - 2 * math.sqrt(0.05)), rel=1e-12)
    m = np.array([0.3] + [0.05] * 8 + [0.3])
    p, q = np.full(10, 0.1), np.array([0.5] + [0] * 8 + [0.5])
    kl_pm = float(np.sum(p * np.log2(p / m)))
    kl_qm = float(np.sum(np.where(q > 0, q * np.log2(np.where(q > 0, q, 1) / m), 0)))
    assert got.js_distance == pytest.approx(math.sqrt((kl_pm + kl_qm) / 2), rel=1e-12)
    assert got.ks_stat == pytest.approx(0.49)  # F_ref(1) = 0.01 vs F_cur(1) = 0.5
    assert got.out_of_range_share == 0.0


def test_identical_samples_are_at_distance_zero() -> None:
    values = np.random.default_rng(0).gamma(2.0, size=5_000)
    got = numeric_drift(values, values.copy())
    assert got.psi == 0 and got.js_distance == 0 and got.hellinger == 0
    assert got.ks_stat == 0 and got.wasserstein_norm == 0 and got.ks_pvalue == 1


def test_ties_spanning_deciles_merge_bins() -> None:
    # 60 zeros then 1..40: deciles 0.1..0.5 are all 0, 0.6 -> 0.4, 0.7 -> 10.3, 0.8 -> 20.2,
    # 0.9 -> 30.1 (linear interpolation at position 99 q): 5 distinct edges, 6 bins, one of them
    # (0, 0.4] empty in the reference.
    ref = np.array([0.0] * 60 + list(range(1, 41)), dtype=float)
    reference = NumericReference.from_values(ref)
    np.testing.assert_allclose(reference.coarse_edges, [0, 0.4, 10.3, 20.2, 30.1])
    assert reference.coarse_counts.tolist() == [60, 0, 10, 10, 10, 10]
    p, q = _coarse_shares(ref, ref + 0.5)
    got = numeric_drift(reference, ref + 0.5)
    assert _close(got.js_distance, float(jensenshannon(p, q, base=2)))
    assert _close(got.psi, _psi_reference(p, q))


@PROPERTY
@given(values=_samples(max_size=2000))
def test_sorted_quantiles_equal_numpy(values: np.ndarray) -> None:
    levels = np.arange(2001) / 2000
    ours = drift._quantiles_sorted(np.sort(values), levels)
    np.testing.assert_array_equal(ours, np.quantile(values, levels))


# ---------------------------------------------------------------------------------------------
# Binned path: its stated bounds, proven on arbitrary edges, then checked at 300k rows


@PROPERTY
@given(ref=_samples(), cur=_samples(), shift=st.floats(-5, 5), bins=st.integers(1, 25))
def test_binned_bounds_hold_for_any_reference_quantile_edges(
    ref: np.ndarray, cur: np.ndarray, shift: float, bins: int
) -> None:
    """Coarse edges make the bounds bite: exact - binned lies in [0, bound] for KS and W1, and
    the KS bound never exceeds the largest single-bin share on either side."""
    cur = cur * 0.7 + shift
    a, b = np.sort(ref), np.sort(cur)
    edges = np.unique(drift._quantiles_sorted(a, np.arange(bins + 1) / bins))
    pa, pb = drift._profile_sorted(a, edges), drift._profile_sorted(b, edges)
    assert pa.counts.sum() == a.size and pb.counts.sum() == b.size
    ks_exact = float(scipy.stats.ks_2samp(a, b).statistic)
    w_exact = scipy.stats.wasserstein_distance(a, b)
    ks, ks_bound, *_ = drift._ks_from_profiles(edges, pa, pb)
    w, w_bound = drift._wasserstein_from_profiles(edges, pa, pb)
    slack = 1e-9 * max(1.0, w_exact)
    assert ks <= ks_exact + 1e-12
    assert ks_exact - ks <= ks_bound + 1e-12
    assert ks_bound <= max((pa.counts / a.size).max(), (pb.counts / b.size).max()) + 1e-12
    assert w <= w_exact + slack
    assert w_exact - w <= w_bound + slack


@pytest.fixture(scope="module")
def big_pairs() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(11)
    n = 300_000
    return {
        "normal, small shift": (rng.normal(size=n), rng.normal(0.03, 1, size=n)),
        "log-normal, wider": (rng.lognormal(0, 0.5, n), rng.lognormal(0, 0.75, n)),
        "counts with ties": (
            rng.poisson(3, n).astype(float),
            rng.poisson(3.2, n + 5_000).astype(float),
        ),
        "unit change (x 0.621)": (rng.gamma(3, 10, n), 0.621 * rng.gamma(3, 10, n)),
        "far from zero (1e6 + normal)": (1e6 + rng.normal(size=n), 1e6 + rng.normal(0.1, 1, n)),
        "bimodal, out of range": (
            np.where(rng.random(n) < 0.3, rng.normal(0, 1, n), rng.normal(5, 1, n)),
            rng.normal(9, 2, n),
        ),
    }


def test_binned_agrees_with_exact_within_stated_bounds_at_300k(big_pairs) -> None:
    for name, (ref, cur) in big_pairs.items():
        reference = NumericReference.from_values(ref, method="exact")
        exact = numeric_drift(reference, cur, method="exact")
        binned = numeric_drift(reference, cur, method="binned")
        assert binned.method == "binned" and exact.method == "exact", name
        # KS: binned never above exact, and within the reported bound (<= 1/2000 + drift mass).
        assert 0 <= exact.ks_stat - binned.ks_stat <= binned.error_bound + 1e-12, name
        assert binned.error_bound < 0.01, name
        # Wasserstein: within the bound of _wasserstein_from_profiles (checked small here).
        cur_profile = drift._profile_sorted(np.sort(cur), reference.fine_edges)
        _, w_bound = drift._wasserstein_from_profiles(
            reference.fine_edges, reference.profile, cur_profile
        )
        gap = (exact.wasserstein_norm - binned.wasserstein_norm) * reference.std
        assert -1e-9 <= gap <= w_bound + 1e-9, name
        assert abs(exact.wasserstein_norm - binned.wasserstein_norm) < 1e-3, name
        if name == "counts with ties":  # every value on an edge: the binned KS is exact
            assert binned.error_bound == 0 and binned.ks_stat == exact.ks_stat
        # Coarse-bin measures share the exact decile edges: identical on both paths.
        for measure in ("psi", "js_distance", "hellinger", "out_of_range_share"):
            assert getattr(binned, measure) == getattr(exact, measure), (name, measure)
        # Against scipy directly, for the exact path at this size.
        ks = scipy.stats.ks_2samp(ref, cur)
        assert _close(exact.ks_stat, float(ks.statistic)), name
        assert _close(exact.ks_pvalue, float(ks.pvalue)), name


def test_auto_is_exact_up_to_the_documented_size_and_binned_above() -> None:
    rng = np.random.default_rng(5)
    small, large = rng.normal(size=1_000), rng.normal(size=EXACT_MAX_VALUES + 1)
    assert numeric_drift(small, small + 0.1).method == "exact"
    assert numeric_drift(small, large).method == "binned"
    assert numeric_drift(large, small).method == "binned"
    reference = NumericReference.from_values(large)
    assert reference.sorted_values is None  # only the profile is kept
    assert numeric_drift(reference, small).method == "binned"
    with pytest.raises(ParameterError, match="sorted values"):
        numeric_drift(reference, small, method="exact")


def test_prepared_reference_gives_the_same_result_as_raw_values() -> None:
    rng = np.random.default_rng(8)
    ref, months = rng.normal(size=5_000), [rng.normal(m / 10, 1, size=800) for m in range(4)]
    reference = NumericReference.from_values(ref)
    for month in months:
        assert numeric_drift(reference, month) == numeric_drift(ref, month)


def test_pandas_inputs_with_missing_values_are_dropped() -> None:
    ref = pd.Series([1.0, 2.0, None, 3.0, 4.0], dtype="Float64")
    cur = pd.Series([2.0, np.nan, 5.0, 6.0])
    got = numeric_drift(ref, cur)
    expected = numeric_drift(np.array([1.0, 2, 3, 4]), np.array([2.0, 5, 6]))
    assert got == expected
    assert (got.n_reference, got.n_current) == (4, 3)
    assert got.out_of_range_share == pytest.approx(2 / 3)


# ---------------------------------------------------------------------------------------------
# Numeric degenerate inputs


@pytest.mark.parametrize(
    ("ref", "cur", "side"),
    [
        ([], [1.0, 2.0], "reference"),
        ([np.nan, np.nan], [1.0, 2.0], "reference"),
        ([1.0, 2.0], [3.0], "current"),
        ([1.0, 2.0], [np.nan], "current"),
    ],
)
def test_too_few_values_raise_a_plain_error(ref, cur, side) -> None:
    with pytest.raises(ParameterError, match=f"fewer than 2 non-missing values in the {side}"):
        numeric_drift(np.array(ref, dtype=float), np.array(cur, dtype=float))


def test_constant_reference_gives_nan_wasserstein_only() -> None:
    got = numeric_drift(np.full(50, 3.0), np.array([3.0, 3.0, 4.0, 5.0]))
    assert math.isnan(got.wasserstein_norm)
    assert got.ks_stat == pytest.approx(0.5)
    assert got.out_of_range_share == pytest.approx(0.5)
    # One edge at 3: bins (-inf, 3] and (3, inf): p = (1, 0), q = (0.5, 0.5).
    assert got.psi == pytest.approx(
        (0.5 - 1) * math.log(0.5) + (0.5 - PSI_EPSILON) * math.log(0.5 / PSI_EPSILON)
    )
    same = numeric_drift(np.full(50, 3.0), np.full(7, 3.0))
    assert (same.psi, same.ks_stat, same.js_distance, same.hellinger) == (0, 0, 0, 0)
    assert math.isnan(same.wasserstein_norm)
    binned = numeric_drift(np.full(50, 3.0), np.array([3.0, 3.0, 4.0, 5.0]), method="binned")
    assert binned.ks_stat == pytest.approx(0.5) and math.isnan(binned.wasserstein_norm)


def test_bad_numeric_values_raise_plain_errors() -> None:
    with pytest.raises(ParameterError, match="not numbers"):
        numeric_drift(np.array(["a", "b"], dtype=object), np.array([1.0, 2.0]))
    with pytest.raises(ParameterError, match="not numbers"):
        numeric_drift(np.array([1.0, 2.0]), pd.Series(["1", "x"], dtype="str"))
    with pytest.raises(ParameterError, match="infinite"):
        numeric_drift(np.array([1.0, np.inf, 2.0]), np.array([1.0, 2.0]))
    with pytest.raises(ParameterError, match="unknown method"):
        numeric_drift(np.array([1.0, 2.0]), np.array([1.0, 2.0]), method="fast")


# ---------------------------------------------------------------------------------------------
# Categorical

_labels = st.lists(st.sampled_from(["a", "b", "c", "d", "e", None]), min_size=2, max_size=200)


@PROPERTY
@given(ref=_labels, cur=_labels)
def test_categorical_equals_scipy_and_definitions(ref, cur) -> None:
    ref_present = [x for x in ref if x is not None]
    cur_present = [x for x in cur if x is not None]
    if len(ref_present) < 2 or len(cur_present) < 2:
        with pytest.raises(ParameterError, match="fewer than 2"):
            categorical_drift(ref, cur)
        return
    got = categorical_drift(ref, cur)
    categories = sorted(set(ref_present) | set(cur_present))
    r = np.array([ref_present.count(c) for c in categories])
    c = np.array([cur_present.count(k) for k in categories])
    p, q = r / r.sum(), c / c.sum()
    assert _close(got.js_distance, float(jensenshannon(p, q, base=2)))
    assert _close(got.psi, _psi_reference(p, q))
    assert _close(got.hellinger, _hellinger_reference(p, q))
    assert _close(got.linf, float(np.abs(p - q).max()))
    assert _close(got.unseen_share, float(c[r == 0].sum() / c.sum()))
    if len(categories) > 1:
        assert _close(got.chi2_pvalue, float(scipy.stats.chi2_contingency([r, c]).pvalue))
    else:
        assert math.isnan(got.chi2_pvalue)
    assert (got.n_reference, got.n_current) == (r.sum(), c.sum())


def test_categorical_accepts_str_series_object_arrays_and_a_prepared_reference() -> None:
    rng = np.random.default_rng(2)
    ref = pd.Series(rng.choice(["x", "y", "z"], 5_000), dtype="str")
    cur = pd.Series(rng.choice(["x", "y", "w"], 4_000), dtype="str")
    ref[::10] = np.nan
    expected = categorical_drift(ref, cur)
    assert categorical_drift(ref.to_numpy(), cur.to_numpy()) == expected
    assert categorical_drift(CategoricalReference.from_values(ref), cur) == expected
    assert expected.n_reference == 4_500
    assert expected.unseen_share == pytest.approx(float((cur == "w").mean()))


def test_categorical_degenerate_inputs() -> None:
    single = categorical_drift(["a"] * 5, ["a"] * 3)
    assert math.isnan(single.chi2_pvalue)
    assert (single.psi, single.js_distance, single.linf, single.unseen_share) == (0, 0, 0, 0)
    unseen = categorical_drift(["a", "b", "a"], ["c", "d"])
    assert unseen.unseen_share == 1.0
    assert unseen.js_distance == pytest.approx(1.0) and unseen.hellinger == pytest.approx(1.0)
    assert unseen.linf == pytest.approx(2 / 3) and unseen.chi2_pvalue < 1
    with pytest.raises(ParameterError, match="fewer than 2 non-missing values in the current"):
        categorical_drift(["a", "b"], [None, np.nan, "a"])
    with pytest.raises(ParameterError, match="reference"):
        categorical_drift([], ["a", "b"])


# ---------------------------------------------------------------------------------------------
# Benjamini-Hochberg


def test_benjamini_hochberg_keeps_nan_in_place() -> None:
    raw = np.array([0.01, np.nan, 0.04, 0.03, np.nan, 0.5])
    got = benjamini_hochberg(raw)
    assert np.isnan(got[[1, 4]]).all()
    present = [0, 2, 3, 5]
    expected = scipy.stats.false_discovery_control(raw[present], method="bh")
    np.testing.assert_allclose(got[present], expected, rtol=0, atol=0)
    # By hand: m = 4; sorted 0.01, 0.03, 0.04, 0.5 -> 0.04, 0.0533, 0.0533, 0.5.
    np.testing.assert_allclose(got[present], [0.04, 0.16 / 3, 0.16 / 3, 0.5])
    assert np.isnan(benjamini_hochberg([np.nan, np.nan])).all()
    assert benjamini_hochberg([]).shape == (0,)
    with pytest.raises(ParameterError, match="between 0 and 1"):
        benjamini_hochberg([0.2, 1.5])


# ---------------------------------------------------------------------------------------------
# Many columns, and the wide generator


def test_compare_frames_matches_single_calls_and_reports_bad_columns() -> None:
    training, serving = wide.generate(3_000, numeric=3, categorical=2, seed=1)
    serving["num_01"] = np.nan
    got = compare_frames(
        training, serving, numeric=["num_00", "num_01", "num_02"], categorical=["cat_00", "cat_01"]
    )
    assert list(got) == ["num_00", "num_01", "num_02", "cat_00", "cat_01"]
    assert got["num_00"] == numeric_drift(training["num_00"], serving["num_00"])
    assert got["cat_01"] == categorical_drift(training["cat_01"], serving["cat_01"])
    assert isinstance(got["num_01"], ParameterError)
    assert "fewer than 2" in got["num_01"].problem


def test_wide_generator_is_deterministic_typed_and_drifts_where_it_says() -> None:
    training, serving = wide.generate(20_000, seed=4)
    again, _ = wide.generate(20_000, seed=4)
    other, _ = wide.generate(20_000, seed=5)
    pd.testing.assert_frame_equal(training, again)
    assert not training.equals(other)
    assert training.shape == serving.shape == (20_000, 25)
    assert (training.dtypes.iloc[:20] == "float64").all()
    assert all(str(d) == "str" for d in training.dtypes.iloc[20:])
    assert 0.005 < training["num_05"].isna().mean() < 0.015
    drifted = set(wide.drifted_columns())
    assert drifted == {"num_00", "num_01", "num_02", "cat_00", "cat_01"}
    results = compare_frames(
        training,
        serving,
        numeric=[c for c in training if c.startswith("num")],
        categorical=[c for c in training if c.startswith("cat")],
    )
    for name, result in results.items():
        if name in drifted:
            assert result.psi > 0.1, name
        else:
            assert result.psi < 0.02, name
    assert results["cat_00"].unseen_share == pytest.approx(0.05, abs=0.01)
    ratio = serving["num_02"].median() / training["num_02"].median()
    assert ratio == pytest.approx(0.621, rel=0.03)
    _, calm = wide.generate(20_000, seed=4, drift=False)
    assert numeric_drift(training["num_00"], calm["num_00"]).psi < 0.02
    with pytest.raises(ParameterError, match="rows"):
        wide.generate(0)


def test_results_are_json_safe() -> None:
    import json

    numeric = numeric_drift(np.full(5, 2.0), np.array([1.0, 2.0, 3.0]))
    as_dict = numeric.to_dict()
    assert as_dict["wasserstein_norm"] is None and as_dict["method"] == "exact"
    json.dumps(as_dict, allow_nan=False)
    categorical = categorical_drift(["a", "a"], ["a", "a"]).to_dict()
    assert categorical["chi2_pvalue"] is None
    json.dumps(categorical, allow_nan=False)


def test_numeric_shift_equals_numeric_drift_psi_and_js() -> None:
    from prodready.stats import numeric_shift

    rng = np.random.default_rng(11)
    reference = NumericReference.from_values(np.round(rng.lognormal(2, 1, 5_000), 1))
    for current in (
        np.round(rng.lognormal(2.2, 1.1, 3_000), 1),
        np.concatenate([reference.coarse_edges, [np.nan, -1.0, 1e9]]),  # values on the edges
    ):
        full = numeric_drift(reference, current)
        assert numeric_shift(reference, current) == pytest.approx(
            (full.psi, full.js_distance), abs=1e-12
        )
