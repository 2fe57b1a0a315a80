"""prodready.metrics against scikit-learn, scipy and hand-computed values."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from prodready.errors import ParameterError
from prodready.metrics import (
    BINARY_METRICS,
    HIGHER_IS_BETTER,
    METRIC_LABELS,
    REGRESSION_METRICS,
    BusinessValue,
    Estimate,
    binary_metrics,
    bootstrap,
    business_value,
    metric,
    regression_metrics,
)
from prodready.spec import Business, ValueMatrix

VALUES = ValueMatrix(true_positive=120, false_positive=-15, false_negative=-250, true_negative=0)


def _binary_data(n: int, seed: int = 0, signal: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Labels with ~30 % positives and probabilities from a logistic score with some signal."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(int)
    margin = signal * (2 * y - 1) + rng.normal(size=n)
    return y, 1 / (1 + np.exp(-margin))


def _sklearn_binary(y: np.ndarray, s: np.ndarray, threshold: float) -> dict[str, float]:
    """The reference: scikit-learn's public functions, NaN where the metric is undefined."""
    d = (s >= threshold).astype(int)
    has_pos, has_neg = bool((y == 1).any()), bool((y == 0).any())
    return {
        "roc_auc": skm.roc_auc_score(y, s) if has_pos and has_neg else math.nan,
        "pr_auc": skm.average_precision_score(y, s) if has_pos else math.nan,
        "accuracy": skm.accuracy_score(y, d),
        "precision": skm.precision_score(y, d, zero_division=np.nan),
        "recall": skm.recall_score(y, d, zero_division=np.nan),
        "log_loss": skm.log_loss(y, s, labels=[0, 1]),
        "brier": skm.brier_score_loss(y, s, pos_label=1),
    }


def _assert_same(got: dict[str, float], expected: dict[str, float]) -> None:
    assert set(got) == set(expected)
    for name, value in expected.items():
        if math.isnan(value):
            assert math.isnan(got[name]), name
        else:
            assert got[name] == pytest.approx(value, rel=1e-12, abs=1e-12), name


# -- binary metrics -------------------------------------------------------------------------------


def test_binary_metrics_equal_sklearn() -> None:
    y, s = _binary_data(2000)
    got = binary_metrics(y, s, threshold=0.4)
    assert list(got) == list(BINARY_METRICS)
    _assert_same(got, _sklearn_binary(y, s, 0.4))
    assert all(isinstance(v, float) for v in got.values())


@settings(max_examples=80, deadline=None)
@given(
    data=st.lists(
        st.tuples(st.integers(0, 1), st.floats(0, 1, allow_nan=False)), min_size=1, max_size=60
    ),
    threshold=st.floats(0, 1),
)
def test_binary_metrics_equal_sklearn_property(
    data: list[tuple[int, float]], threshold: float
) -> None:
    y = np.array([t for t, _ in data])
    s = np.array([p for _, p in data])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the reference itself may warn on undefined cases
        expected = _sklearn_binary(y, s, threshold)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # ours must not
        got = binary_metrics(y, s, threshold=threshold)
    _assert_same(got, expected)


def test_closed_form_binary_metrics() -> None:
    y = np.array([1, 1, 0, 0])
    s = np.array([0.9, 0.4, 0.6, 0.1])
    got = binary_metrics(y, s)
    # positive/negative pairs ranked right: (0.9>0.6), (0.9>0.1), (0.4>0.1), not (0.4<0.6) -> 3/4
    assert got["roc_auc"] == pytest.approx(0.75)
    # ranked 0.9(+) 0.6(-) 0.4(+) 0.1(-): AP = 1/2*1 + 1/2*(2/3)
    assert got["pr_auc"] == pytest.approx(0.5 + 1 / 3)
    assert got["accuracy"] == pytest.approx(0.5)  # decisions 1,0,1,0
    assert got["precision"] == pytest.approx(0.5)
    assert got["recall"] == pytest.approx(0.5)
    assert got["brier"] == pytest.approx((0.1**2 + 0.6**2 + 0.6**2 + 0.1**2) / 4)
    expected_log_loss = -np.mean(np.log([0.9, 0.4, 0.4, 0.9]))
    assert got["log_loss"] == pytest.approx(expected_log_loss)


def test_decision_is_score_at_or_above_threshold() -> None:
    # the score equal to the threshold is a positive decision
    assert metric("recall", [1, 1], [0.5, 0.49], threshold=0.5) == 0.5
    assert metric("precision", [1, 0], [0.5, 0.5], threshold=0.5) == 0.5


@pytest.mark.filterwarnings("error")
def test_undefined_binary_metrics_are_nan_without_warnings() -> None:
    only_negatives = binary_metrics([0, 0, 0], [0.1, 0.7, 0.2])
    assert math.isnan(only_negatives["roc_auc"])
    assert math.isnan(only_negatives["pr_auc"])
    assert math.isnan(only_negatives["recall"])
    assert only_negatives["precision"] == 0.0  # one flagged row, wrong
    assert only_negatives["accuracy"] == pytest.approx(2 / 3)
    assert only_negatives["log_loss"] == pytest.approx(-np.mean(np.log([0.9, 0.3, 0.8])))

    nothing_flagged = binary_metrics([0, 1], [0.1, 0.2])
    assert math.isnan(nothing_flagged["precision"])
    assert nothing_flagged["recall"] == 0.0
    assert nothing_flagged["roc_auc"] == 1.0

    only_positives = binary_metrics([1, 1], [0.3, 0.8])
    assert math.isnan(only_positives["roc_auc"])
    assert only_positives["pr_auc"] == 1.0

    no_rows = binary_metrics([np.nan, np.nan], [0.1, 0.2])
    assert all(math.isnan(v) for v in no_rows.values())


def test_scores_outside_unit_interval_leave_only_probability_metrics_undefined() -> None:
    y, s = _binary_data(300)
    margin = np.log(s / (1 - s))  # same ranking, not probabilities
    got = binary_metrics(y, margin, threshold=0.0)
    assert math.isnan(got["log_loss"])
    assert math.isnan(got["brier"])
    assert got["roc_auc"] == pytest.approx(skm.roc_auc_score(y, s))
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(y, s >= 0.5))


# -- regression metrics ---------------------------------------------------------------------------


def test_regression_metrics_equal_sklearn_and_closed_form() -> None:
    y = np.array([10.0, 20.0, 40.0])
    p = np.array([12.0, 17.0, 40.0])
    got = regression_metrics(y, p)
    assert list(got) == list(REGRESSION_METRICS)
    assert got["mae"] == pytest.approx(5 / 3)
    assert got["rmse"] == pytest.approx(math.sqrt(13 / 3))
    assert got["mape"] == pytest.approx((0.2 + 0.15 + 0) / 3)  # a fraction, not percent
    assert got["mae"] == skm.mean_absolute_error(y, p)
    assert got["rmse"] == skm.root_mean_squared_error(y, p)
    assert got["mape"] == skm.mean_absolute_percentage_error(y, p)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0.01, 1e6, allow_nan=False) | st.floats(-1e6, -0.01, allow_nan=False),
            st.floats(-1e6, 1e6, allow_nan=False),
        ),
        min_size=1,
        max_size=50,
    )
)
def test_regression_metrics_equal_sklearn_property(data: list[tuple[float, float]]) -> None:
    y = np.array([t for t, _ in data])
    p = np.array([q for _, q in data])
    got = regression_metrics(y, p)
    assert got["mae"] == pytest.approx(skm.mean_absolute_error(y, p), rel=1e-12)
    assert got["rmse"] == pytest.approx(skm.root_mean_squared_error(y, p), rel=1e-12)
    assert got["mape"] == pytest.approx(skm.mean_absolute_percentage_error(y, p), rel=1e-12)
    assert got["rmse"] >= got["mae"] - 1e-9 * max(1.0, got["mae"])  # RMSE >= MAE always


def test_mape_is_nan_when_a_true_value_is_zero() -> None:
    got = regression_metrics([0.0, 2.0], [1.0, 2.0])
    assert math.isnan(got["mape"])
    assert got["mae"] == 0.5


# -- metric by name, labels -----------------------------------------------------------------------


def test_metric_by_name_matches_the_tables() -> None:
    y, s = _binary_data(500, seed=3)
    table = binary_metrics(y, s, threshold=0.3)
    for name in BINARY_METRICS:
        assert metric(name, y, s, threshold=0.3) == table[name]
    y_reg, p_reg = s * 10 + 1, s * 9 + 1.5
    table = regression_metrics(y_reg, p_reg)
    for name in REGRESSION_METRICS:
        assert metric(name, y_reg, p_reg) == table[name]


def test_labels_and_directions_cover_every_metric() -> None:
    names = set(BINARY_METRICS) | set(REGRESSION_METRICS)
    assert set(METRIC_LABELS) == names
    assert set(HIGHER_IS_BETTER) == names
    assert METRIC_LABELS["roc_auc"] == "ROC AUC"
    assert METRIC_LABELS["pr_auc"] == "PR AUC (average precision)"
    assert HIGHER_IS_BETTER["roc_auc"] and not HIGHER_IS_BETTER["log_loss"]
    assert not HIGHER_IS_BETTER["mape"]


def test_unknown_metric_lists_the_valid_names() -> None:
    with pytest.raises(ParameterError) as info:
        metric("auc", [0, 1], [0.2, 0.8])
    text = str(info.value)
    assert "unknown metric 'auc'" in text
    for name in (*BINARY_METRICS, *REGRESSION_METRICS):
        assert name in text
    with pytest.raises(ParameterError, match="unknown metric"):
        bootstrap("f1", [0, 1], [0.2, 0.8])


# -- inputs ---------------------------------------------------------------------------------------


def test_rows_without_a_label_are_dropped() -> None:
    y, s = _binary_data(400, seed=5)
    y_missing = pd.Series(y, dtype="Int8")
    y_missing[::7] = pd.NA
    kept = y_missing.notna().to_numpy()
    s_with_gaps = s.copy()
    s_with_gaps[~kept] = np.nan  # a score may be missing where the label is
    expected = binary_metrics(y[kept], s[kept])
    _assert_same(binary_metrics(y_missing, pd.Series(s_with_gaps)), expected)
    as_float = y_missing.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    _assert_same(binary_metrics(as_float, s), expected)
    _assert_same(binary_metrics(y_missing.astype("boolean"), s.tolist()), expected)

    reg = regression_metrics([1.0, np.nan, 3.0], [1.5, np.nan, 2.0])
    assert reg["mae"] == pytest.approx(0.75)


def test_mismatched_lengths_are_explained() -> None:
    with pytest.raises(ParameterError) as info:
        binary_metrics([0, 1, 1], [0.2, 0.8])
    text = str(info.value)
    assert "different lengths" in text
    assert "3 labels and 2 scores" in text
    assert "How to fix" in text


def test_non_binary_labels_are_explained() -> None:
    with pytest.raises(ParameterError) as info:
        binary_metrics(pd.Series([0, 1, 2, 1], index=list("abcd")), [0.1, 0.2, 0.3, 0.4])
    text = str(info.value)
    assert "0 or 1" in text
    assert "'c'" in text  # the offending row, by its index label
    assert "such as 2" in text
    assert "regression" in text  # the way out for a numeric target
    with pytest.raises(ParameterError, match="not numbers"):
        binary_metrics(pd.Series(["yes", "no"]), [0.1, 0.2])


def test_missing_scores_on_labelled_rows_are_explained() -> None:
    with pytest.raises(ParameterError) as info:
        binary_metrics(pd.Series([0, 1, 1], index=[10, 11, 12]), [0.2, np.nan, np.inf])
    text = str(info.value)
    assert "2 labelled row(s)" in text
    assert "11, 12" in text
    assert "y_score" in text
    with pytest.raises(ParameterError, match="y_pred"):
        regression_metrics([1.0, 2.0], [1.0, np.nan])


def test_shapes_and_parameters_are_checked() -> None:
    with pytest.raises(ParameterError, match="one-dimensional"):
        binary_metrics(np.zeros((3, 2)), np.zeros(3))
    with pytest.raises(ParameterError, match="a table"):
        binary_metrics(pd.DataFrame({"a": [0, 1]}), [0.1, 0.2])
    with pytest.raises(ParameterError, match="threshold must be finite"):
        binary_metrics([0, 1], [0.1, 0.2], threshold=float("nan"))
    with pytest.raises(ParameterError, match="threshold must be a number"):
        metric("accuracy", [0, 1], [0.1, 0.2], threshold="0.5")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="at least 2"):
        bootstrap("accuracy", [0, 1], [0.1, 0.2], n_resamples=1)
    with pytest.raises(ParameterError, match="not 95"):
        bootstrap("accuracy", [0, 1], [0.1, 0.2], confidence=95)


# -- bootstrap ------------------------------------------------------------------------------------


def test_bootstrap_is_deterministic_for_a_seed() -> None:
    y, s = _binary_data(300, seed=1)
    first = bootstrap("roc_auc", y, s, n_resamples=200, seed=7)
    again = bootstrap("roc_auc", y, s, n_resamples=200, seed=7)
    other = bootstrap("roc_auc", y, s, n_resamples=200, seed=8)
    assert first == again
    assert (first.low, first.high) != (other.low, other.high)
    assert first.value == other.value == metric("roc_auc", y, s)


@pytest.mark.parametrize("name", ["roc_auc", "pr_auc", "precision", "recall", "log_loss", "brier"])
def test_bootstrap_interval_contains_the_estimate(name: str) -> None:
    y, s = _binary_data(500, seed=2)
    estimate = bootstrap(name, y, s, n_resamples=300)
    assert estimate.has_interval
    assert estimate.low < estimate.value < estimate.high
    assert estimate.confidence == 0.95


def test_bootstrap_equals_scipy_percentile_interval() -> None:
    # no undefined resamples here, so our interval must be scipy's own percentile interval
    y, s = _binary_data(400, seed=4)
    estimate = bootstrap("brier", y, s, n_resamples=300, confidence=0.9, seed=3)
    reference = scipy.stats.bootstrap(
        (y, s),
        lambda t, p: skm.brier_score_loss(t, p),
        n_resamples=300,
        paired=True,
        vectorized=False,
        confidence_level=0.9,
        method="percentile",
        rng=np.random.default_rng(3),
    )
    assert estimate.low == pytest.approx(reference.confidence_interval.low, rel=1e-12)
    assert estimate.high == pytest.approx(reference.confidence_interval.high, rel=1e-12)


@pytest.mark.parametrize("rows", [25, 400, 3000])
def test_bootstrap_of_roc_auc_equals_scikit_learn_on_every_resample(rows: int) -> None:
    """ROC AUC's resamples are computed together (ranked once): the same distribution as
    scikit-learn's roc_auc_score on each of scipy's paired resamples, ties and resamples without
    a positive included."""
    rng = np.random.default_rng(rows)
    y = (rng.random(rows) < 0.12).astype(float)
    y[:2] = 1  # at least two positives, so the interval is supported
    s = np.round(rng.random(rows) * 0.7 + y * 0.3, 1)  # few distinct scores: many ties

    def sklearn_auc(t: np.ndarray, p: np.ndarray) -> float:
        return skm.roc_auc_score(t, p) if 0 < t.sum() < len(t) else math.nan

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns about the NaN resamples
        reference = scipy.stats.bootstrap(
            (y, s),
            sklearn_auc,
            n_resamples=300,
            paired=True,
            vectorized=False,
            method="percentile",
            rng=np.random.default_rng(5),
        ).bootstrap_distribution
    assert np.isnan(reference).any() == (rows == 25)  # the small case has one-class resamples
    defined = reference[~np.isnan(reference)]
    low, high = np.quantile(defined, [0.025, 0.975])
    estimate = bootstrap("roc_auc", y, s, n_resamples=300, seed=5)
    assert estimate.value == pytest.approx(skm.roc_auc_score(y, s), rel=1e-12)
    assert estimate.low == pytest.approx(low, rel=1e-12)
    assert estimate.high == pytest.approx(high, rel=1e-12)


def test_bootstrap_narrows_as_rows_grow() -> None:
    small = bootstrap("roc_auc", *_binary_data(200, seed=6), n_resamples=200)
    large = bootstrap("roc_auc", *_binary_data(5000, seed=6), n_resamples=200)
    # the width shrinks like 1/sqrt(n): 25x the rows should give about 1/5 the width
    ratio = (large.high - large.low) / (small.high - small.low)
    assert 0.1 < ratio < 0.35


def test_bootstrap_of_accuracy_matches_the_normal_approximation() -> None:
    y, s = _binary_data(2000, seed=9)
    estimate = bootstrap("accuracy", y, s, n_resamples=2000, seed=1)
    p, n = estimate.value, len(y)
    half_width = 1.959964 * math.sqrt(p * (1 - p) / n)  # Wald interval of a proportion
    assert estimate.low == pytest.approx(p - half_width, abs=0.1 * half_width)
    assert estimate.high == pytest.approx(p + half_width, abs=0.1 * half_width)


def test_bootstrap_of_mae_matches_the_normal_approximation() -> None:
    rng = np.random.default_rng(11)
    y = rng.normal(100, 10, size=2000)
    p = y + rng.normal(0, 5, size=2000)
    estimate = bootstrap("mae", y, p, n_resamples=1000, seed=2)
    errors = np.abs(y - p)
    half_width = 1.959964 * errors.std(ddof=1) / math.sqrt(len(errors))
    assert estimate.value == pytest.approx(errors.mean())
    assert estimate.low == pytest.approx(errors.mean() - half_width, abs=0.1 * half_width)
    assert estimate.high == pytest.approx(errors.mean() + half_width, abs=0.1 * half_width)


@pytest.mark.filterwarnings("error")
def test_bootstrap_survives_resamples_without_a_class() -> None:
    # 3 positives in 25 rows: about 1 resample in 20 has no positive, so no ROC AUC
    y = np.array([1, 1, 1] + [0] * 22)
    s = np.linspace(0.05, 0.95, 25)[::-1]
    estimate = bootstrap("roc_auc", y, s, n_resamples=400)
    assert estimate.value == 1.0
    assert estimate.has_interval
    assert 0 <= estimate.low <= estimate.high <= 1


@pytest.mark.parametrize(
    ("name", "y", "s"),
    [
        ("roc_auc", [1, 0, 0, 0, 0], [0.9, 0.1, 0.2, 0.3, 0.4]),  # one positive
        ("roc_auc", [0, 0, 0, 0], [0.9, 0.1, 0.2, 0.3]),  # undefined on the data
        ("recall", [1, 0, 0, 0], [0.9, 0.1, 0.2, 0.3]),
        ("precision", [1, 0, 1, 0], [0.9, 0.1, 0.2, 0.3]),  # one flagged row
        ("accuracy", [1, np.nan], [0.9, 0.1]),  # one labelled row
    ],
)
def test_bootstrap_gives_no_interval_when_the_data_cannot_support_one(
    name: str, y: list[float], s: list[float]
) -> None:
    estimate = bootstrap(name, y, s, n_resamples=50)
    assert math.isnan(estimate.low) and math.isnan(estimate.high)
    assert not estimate.has_interval
    assert estimate.to_dict()["low"] is None


def test_bootstrap_accepts_a_function() -> None:
    y, s = _binary_data(300, seed=12)

    def mean_score(t: np.ndarray, p: np.ndarray) -> float:
        return float(np.mean(p))

    estimate = bootstrap(mean_score, y, s, n_resamples=500)
    assert estimate.value == pytest.approx(s.mean())
    half_width = 1.959964 * s.std(ddof=1) / math.sqrt(len(s))
    assert estimate.high - estimate.low == pytest.approx(2 * half_width, rel=0.15)

    def strict_auc(t: np.ndarray, p: np.ndarray) -> float:
        if len(np.unique(t)) < 2:
            raise ValueError("one class")
        return skm.roc_auc_score(t, p)

    small_y = np.array([1, 1, 1] + [0] * 22)
    tolerant = bootstrap(strict_auc, small_y, np.linspace(0, 1, 25), n_resamples=200)
    assert tolerant.has_interval


def test_estimate_to_dict_is_json_safe() -> None:
    estimate = Estimate(value=0.8, low=math.nan, high=math.nan, confidence=0.95)
    assert estimate.to_dict() == {"value": 0.8, "low": None, "high": None, "confidence": 0.95}
    json.dumps(estimate.to_dict(), allow_nan=False)


# -- business value -------------------------------------------------------------------------------


def test_binary_business_value_closed_form() -> None:
    y = [1, 1, 0, 0, 1, 0]
    s = [0.9, 0.4, 0.6, 0.1, 0.5, 0.5]
    # decisions at 0.5: 1 0 1 0 1 1 -> TP rows 0,4; FN row 1; FP rows 2,5; TN row 3
    result = business_value(y, s, Business(currency="EUR", value=VALUES, threshold=0.5))
    assert result.counts == {"tp": 2, "fp": 2, "fn": 1, "tn": 1}
    assert result.total == 2 * 120 + 2 * -15 + 1 * -250 + 1 * 0 == -40
    assert result.decisions == 6
    assert result.per_1000 == pytest.approx(-40 / 6 * 1000)
    assert result.currency == "EUR"
    # the case's threshold is used: at 0.95 nothing is flagged
    strict = business_value(y, s, Business(value=VALUES, threshold=0.95))
    assert strict.counts == {"tp": 0, "fp": 0, "fn": 3, "tn": 3}
    assert strict.total == -750


@settings(max_examples=40, deadline=None)
@given(
    data=st.lists(st.tuples(st.integers(0, 1), st.floats(0, 1)), min_size=1, max_size=40),
    threshold=st.floats(0, 1),
)
def test_binary_business_value_uses_the_confusion_matrix(
    data: list[tuple[int, float]], threshold: float
) -> None:
    y = np.array([t for t, _ in data])
    s = np.array([p for _, p in data])
    result = business_value(y, s, Business(value=VALUES, threshold=threshold))
    tn, fp, fn, tp = skm.confusion_matrix(y, s >= threshold, labels=[0, 1]).ravel()
    assert result.counts == {"tp": tp, "fp": fp, "fn": fn, "tn": tn}
    assert sum(result.counts.values()) == result.decisions == len(y)
    assert result.total == pytest.approx(120 * tp - 15 * fp - 250 * fn)
    assert result.per_1000 == pytest.approx(result.total / len(y) * 1000)


def test_regression_business_value_closed_form() -> None:
    result = business_value(
        pd.Series([10.0, 20.0, 30.0, np.nan]),
        [12.0, 18.0, 33.0, 5.0],
        Business(cost_per_unit_error=2.5),
        task="regression",
    )
    assert result.total == pytest.approx(-2.5 * (2 + 2 + 3))
    assert result.decisions == 3  # the row without a true value is not counted
    assert result.per_1000 == pytest.approx(-17.5 / 3 * 1000)
    assert result.counts == {}


def test_business_value_without_labels_is_zero_with_no_rate() -> None:
    result = business_value([np.nan], [0.3], Business(value=VALUES))
    assert result.total == 0 and result.decisions == 0
    assert math.isnan(result.per_1000)
    assert result.to_dict()["per_1000"] is None
    json.dumps(result.to_dict(), allow_nan=False)


def test_business_value_to_dict() -> None:
    result = business_value([1, 0], [0.9, 0.2], Business(value=VALUES))
    assert isinstance(result, BusinessValue)
    assert result.to_dict() == {
        "total": 120.0,
        "per_1000": 60000.0,
        "decisions": 2,
        "currency": "USD",
        "counts": {"tp": 1, "fp": 0, "fn": 0, "tn": 1},
    }


def test_missing_value_matrix_says_which_field_to_fill_in() -> None:
    with pytest.raises(ParameterError) as info:
        business_value([1, 0], [0.9, 0.2], Business())
    text = str(info.value)
    assert "business.value" in text
    assert "true_positive" in text and "false_negative" in text
    with pytest.raises(ParameterError) as info:
        business_value([1.0, 2.0], [1.5, 2.5], Business(), task="regression")
    assert "business.cost_per_unit_error" in str(info.value)
    with pytest.raises(ParameterError, match="no business section"):
        business_value([1, 0], [0.9, 0.2], None)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="unknown task"):
        business_value([1, 0], [0.9, 0.2], Business(value=VALUES), task="multiclass")  # type: ignore[arg-type]
