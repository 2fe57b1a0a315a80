"""prodready.estimate: label-free performance estimate (CBPE idea) and its trust checks.

Formulas are checked against sklearn, a brute-force pairwise sum, an exact enumeration and Monte
Carlo draws of Bernoulli(p_i) labels; each trust reason (a)-(d) is provoked on purpose.
"""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from sklearn.metrics import roc_auc_score

from prodready import estimate
from prodready.errors import DataError, ParameterError
from prodready.estimate import (
    assumptions,
    expected_accuracy,
    expected_roc_auc,
    hanley_mcneil_se,
    performance,
)
from prodready.estimate.cbpe import COLUMNS, MIN_EXPECTED_CLASS, MIN_ROWS

LABELS_DISAGREE = "Labels that have arrived disagree with the estimate"
SCORES_MOVED = "Scores have moved far from the reference"
INPUTS_MOVED = "Inputs have moved far from the reference"
TOO_LITTLE = "Too little data to estimate"


def _world(seed: int, n_reference: int, n_analysis: int, *, power: float = 1.0):
    """True probabilities p ~ Beta(2, 5), labels ~ Bernoulli(p), served score = p ** power (a
    monotone, miscalibrated score when power != 1)."""
    rng = np.random.default_rng(seed)
    p_ref = rng.beta(2, 5, n_reference)
    y_ref = (rng.random(n_reference) < p_ref).astype(int)
    p = rng.beta(2, 5, n_analysis)
    y = (rng.random(n_analysis) < p).astype(int)
    reference = pd.DataFrame({"score": p_ref**power, "y": y_ref})
    analysis = pd.DataFrame({"score": p**power, "y": y})
    return reference, analysis, p, rng


# --------------------------------------------------------------------------------------------
# The formulas


def test_expected_auc_with_0_1_probabilities_is_sklearns_auc_ties_included():
    rng = np.random.default_rng(1)
    scores = np.round(rng.random(800), 1)  # 11 distinct values: many ties
    labels = (rng.random(800) < scores).astype(float)
    assert expected_roc_auc(scores, labels) == pytest.approx(
        roc_auc_score(labels, scores), abs=1e-12
    )


def test_expected_auc_equals_the_pairwise_sum():
    rng = np.random.default_rng(2)
    s = np.round(rng.random(400), 2)
    p = rng.random(400)
    step = (s[:, None] > s[None, :]) + 0.5 * (s[:, None] == s[None, :])
    pairwise = (p[:, None] * (1 - p)[None, :] * step).sum() / (p.sum() * (1 - p).sum())
    assert expected_roc_auc(s, p) == pytest.approx(pairwise, abs=1e-12)


def test_expected_auc_undefined_without_expected_cases_of_a_class():
    assert math.isnan(expected_roc_auc([0.2, 0.4], [0.0, 0.0]))
    assert math.isnan(expected_roc_auc([0.2, 0.4], [1.0, 1.0]))
    assert math.isnan(expected_roc_auc([], []))


def test_expected_accuracy_is_the_exact_expectation_by_enumeration():
    """All 2^10 label vectors, weighted by their Bernoulli(p_i) probability."""
    rng = np.random.default_rng(3)
    p = rng.random(10)
    predicted = rng.random(10) < 0.5
    exact = 0.0
    for labels in itertools.product((0, 1), repeat=10):
        y = np.array(labels, dtype=bool)
        weight = np.prod(np.where(y, p, 1 - p))
        exact += weight * np.mean(predicted == y)
    assert expected_accuracy(p, predicted) == pytest.approx(exact, abs=1e-12)


def _draw_realised(p, scores, predicted, draws: int, rng):
    """Realised AUC (Mann-Whitney with mid-ranks, = roc_auc_score) and accuracy of many label
    draws y ~ Bernoulli(p); draws with one class only are left out."""
    ranks = scipy.stats.rankdata(scores)
    aucs, accs = [], []
    for _ in range(draws // 1000):
        y = rng.random((1000, p.size)) < p
        n1 = y.sum(axis=1)
        keep = (n1 > 0) & (n1 < p.size)
        y, n1 = y[keep], n1[keep]
        n0 = p.size - n1
        aucs.append((y @ ranks - n1 * (n1 + 1) / 2) / (n1 * n0))
        accs.append((y == predicted).mean(axis=1))
    # the vectorised AUC is sklearn's AUC (checked on the last draw)
    assert aucs[-1][-1] == pytest.approx(roc_auc_score(y[-1], scores), abs=1e-12)
    return np.concatenate(aucs), np.concatenate(accs)


@pytest.mark.parametrize(("a", "b", "threshold"), [(2, 5, 0.5), (1, 30, 0.1), (2, 2, 0.5)])
def test_estimates_match_the_mean_realised_metrics_over_many_draws(a, b, threshold):
    """Perfectly calibrated scores (score = p), labels ~ Bernoulli(p), 20,000 draws.

    Tolerance: 4 Monte Carlo standard errors (a normal deviate beyond 4 has probability 6e-5),
    plus, for the AUC, 1/n: the estimate is a ratio of expectations and the mean realised AUC the
    expectation of a ratio; they differ by terms of order 1/n (module docstring). Accuracy is a
    mean of indicators, so its estimate is the exact expectation and only the Monte Carlo error
    remains.
    """
    n = 2000
    rng = np.random.default_rng(10 + a + b)
    p = rng.beta(a, b, n)
    predicted = p >= threshold
    aucs, accs = _draw_realised(p, p, predicted, 20_000, rng)
    auc_tol = 4 * aucs.std(ddof=1) / math.sqrt(aucs.size) + 1 / n
    acc_tol = 4 * accs.std(ddof=1) / math.sqrt(accs.size)
    assert expected_roc_auc(p, p) == pytest.approx(aucs.mean(), abs=auc_tol)
    assert expected_accuracy(p, predicted) == pytest.approx(accs.mean(), abs=acc_tol)


def test_hanley_mcneil_at_half_is_the_exact_null_variance_of_the_auc():
    for n1, n0 in [(1, 1), (10, 10), (7, 300), (250, 40)]:
        exact = math.sqrt((n1 + n0 + 1) / (12 * n1 * n0))
        assert hanley_mcneil_se(0.5, n1, n0) == pytest.approx(exact, rel=1e-12)


def test_hanley_mcneil_is_close_to_the_monte_carlo_spread_of_the_auc():
    """Hanley-McNeil is an approximation (exponential score model); on calibrated Beta scores it
    should be within 15% of the simulated standard deviation of the realised AUC."""
    rng = np.random.default_rng(4)
    p = rng.beta(2, 5, 1500)
    aucs, _ = _draw_realised(p, p, p >= 0.5, 5000, rng)
    se = hanley_mcneil_se(expected_roc_auc(p, p), round(p.sum()), round((1 - p).sum()))
    assert se == pytest.approx(aucs.std(ddof=1), rel=0.15)
    assert math.isnan(hanley_mcneil_se(0.8, 0, 10))


# --------------------------------------------------------------------------------------------
# performance(): the whole estimate


def test_calibration_recovers_the_truth_from_a_miscalibrated_score():
    """Served score = p ** 3 (same ranking, badly calibrated). After isotonic calibration on
    100,000 reference rows the estimates equal the exact expectations under the true p.

    Tolerance 0.01: over 20 seeds the calibration error of a 5,000-row chunk had a standard
    deviation of 0.0013 (accuracy) and 0.0016 (AUC), so 0.01 is about 6 of them.
    """
    reference, analysis, p, _ = _world(5, 100_000, 10_000, power=3.0)
    threshold = 0.3**3
    table = performance(reference, analysis, score="score", label="y", threshold=threshold)
    assert list(table.columns) == COLUMNS
    assert table["n"].tolist() == [5000, 5000]
    for k in range(2):
        rows = slice(5000 * k, 5000 * (k + 1))
        truth_acc = expected_accuracy(p[rows], p[rows] >= 0.3)
        truth_auc = expected_roc_auc(p[rows], p[rows])
        assert table["estimated_accuracy"][k] == pytest.approx(truth_acc, abs=0.01)
        assert table["estimated_roc_auc"][k] == pytest.approx(truth_auc, abs=0.01)
        # the uncalibrated score taken as a probability would be off by over 3 tolerances
        assert abs(expected_accuracy(p[rows] ** 3, p[rows] >= 0.3) - truth_acc) > 0.03
    assert (table["trust"] == "ok").all()
    assert (table["trust_reason"] == "").all()
    # realised metrics on the labelled rows, as sklearn computes them
    y, s = analysis["y"].to_numpy()[:5000], analysis["score"].to_numpy()[:5000]
    assert table["realised_roc_auc"][0] == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert table["realised_accuracy"][0] == pytest.approx(np.mean((s >= threshold) == y))
    assert table["n_labelled"].tolist() == [5000, 5000]


def test_assumptions_are_plain_sentences_and_in_attrs():
    reference, analysis, _, _ = _world(6, 5000, 1000)
    table = performance(reference, analysis, score="score", label="y")
    sentences = assumptions()
    assert table.attrs["assumptions"] == sentences
    assert len(sentences) >= 4 and all(s.endswith(".") for s in sentences)
    assert any("concept drift" in s.lower() for s in sentences)
    assert table.attrs["reference_rows"] == 5000
    assert table.attrs["threshold"] == 0.5


def test_labels_are_optional_in_the_analysis():
    reference, analysis, _, _ = _world(7, 5000, 3000)
    partly = analysis.assign(y=analysis["y"].astype("Int8").where(analysis.index < 4000 - 2500))
    table = performance(reference, partly, score="score", label="y", chunk=1000)
    assert table["n_labelled"].tolist() == [1000, 500, 0]
    assert math.isnan(table["realised_accuracy"][2]) and math.isnan(table["realised_roc_auc"][2])
    assert not math.isnan(table["estimated_roc_auc"][2])
    # the estimate on the labelled rows is the estimate on exactly those rows
    half = performance(reference, partly.iloc[1000:1500], score="score", label="y", chunk=500)
    assert table["estimated_roc_auc_labelled"][1] == pytest.approx(half["estimated_roc_auc"][0])
    unlabelled = performance(reference, analysis.drop(columns="y"), score="score", label="y")
    assert unlabelled["n_labelled"].tolist() == [0]
    assert unlabelled["estimated_accuracy"][0] == pytest.approx(table["estimated_accuracy"].mean())


def test_realised_auc_is_nan_with_one_class_but_accuracy_is_not():
    reference, analysis, _, _ = _world(8, 5000, 1000)
    one_class = analysis.assign(y=0)
    table = performance(reference, one_class, score="score", label="y", chunk=1000)
    assert math.isnan(table["realised_roc_auc"][0])
    assert table["realised_accuracy"][0] == pytest.approx(np.mean(analysis["score"] < 0.5))


# --------------------------------------------------------------------------------------------
# Trust: each reason


def test_concept_drift_estimate_steady_realised_collapses_trust_warns_c():
    """Labels flip their relation to the score (y ~ Bernoulli(1 - p)) while the scores keep
    their distribution: the estimate cannot see it, the arriving labels can."""
    rng = np.random.default_rng(9)
    p_ref = rng.beta(2, 5, 20_000)
    reference = pd.DataFrame({"score": p_ref, "y": (rng.random(p_ref.size) < p_ref).astype(int)})
    p = rng.beta(2, 5, 20_000)
    y = np.where(
        np.arange(p.size) < 10_000, rng.random(p.size) < p, rng.random(p.size) < 1 - p
    ).astype(int)
    table = performance(reference, pd.DataFrame({"score": p, "y": y}), score="score", label="y")
    estimated = table["estimated_roc_auc"]
    assert estimated.max() - estimated.min() < 0.02  # steady
    assert (table["realised_roc_auc"][:2] > 0.7).all()
    assert (table["realised_roc_auc"][2:] < 0.3).all()  # collapsed
    assert table["trust"].tolist() == ["ok", "ok", "warn", "warn"]
    for reason in table["trust_reason"][2:]:
        assert reason.startswith(LABELS_DISAGREE)
        assert "realised ROC AUC" in reason and "Hanley-McNeil" in reason
        assert "realised accuracy" in reason
        assert SCORES_MOVED not in reason  # the scores did not move


def test_scores_outside_the_reference_range_warn_a():
    rng = np.random.default_rng(11)
    p_ref = rng.uniform(0.0, 0.5, 5000)
    reference = pd.DataFrame({"score": p_ref, "y": (rng.random(5000) < p_ref).astype(int)})
    same = rng.uniform(0.0, 0.5, 1000)
    moved = rng.uniform(0.4, 0.9, 1000)
    analysis = pd.DataFrame({"score": np.r_[same, moved]})
    table = performance(reference, analysis, score="score", label="y", chunk=1000)
    assert table["trust"].tolist() == ["ok", "warn"]
    reason = table["trust_reason"][1]
    assert reason.startswith(SCORES_MOVED)
    assert "of score values lie outside the reference's range" in reason
    assert "(limit 5%)" in reason
    assert "PSI of score against the reference" in reason


def test_scores_shifted_inside_the_range_warn_a_by_psi():
    rng = np.random.default_rng(12)
    p_ref = rng.uniform(0.0, 1.0, 5000)
    reference = pd.DataFrame({"score": p_ref, "y": (rng.random(5000) < p_ref).astype(int)})
    low = rng.uniform(0.0, 0.3, 1000)  # inside the range, but all in the lowest deciles
    table = performance(reference, pd.DataFrame({"score": low}), score="score", label="y")
    reason = table["trust_reason"][0]
    assert table["trust"][0] == "warn"
    assert "PSI of score against the reference is" in reason
    assert "outside the reference's range" not in reason


def test_features_far_from_the_reference_warn_b_and_name_the_feature():
    reference, analysis, _, rng = _world(13, 5000, 2000)
    reference = reference.assign(
        amount=rng.normal(0, 1, 5000), channel=rng.choice(["web", "shop"], 5000)
    )
    amount = np.r_[rng.normal(0, 1, 1000), rng.normal(5, 1, 1000)]
    channel = np.r_[rng.choice(["web", "shop"], 1000), rng.choice(["web", "app"], 1000)]
    analysis = analysis.drop(columns="y").assign(amount=amount, channel=channel)
    table = performance(
        reference, analysis, score="score", label="y", chunk=1000, features=["amount", "channel"]
    )
    assert table["trust"].tolist() == ["ok", "warn"]
    reason = table["trust_reason"][1]
    assert reason.startswith(INPUTS_MOVED)
    assert "of amount values lie outside the reference's range" in reason
    assert "PSI of amount" in reason
    assert "of channel values are categories the reference never saw" in reason
    assert SCORES_MOVED not in reason
    # the same with the types given explicitly
    typed = performance(
        reference,
        analysis,
        score="score",
        label="y",
        chunk=1000,
        features={"amount": "numeric", "channel": "categorical"},
    )
    assert typed["trust_reason"].tolist() == table["trust_reason"].tolist()


def test_too_few_rows_warns_d_and_says_how_many_are_needed():
    reference, analysis, _, _ = _world(14, 5000, 5050)
    table = performance(reference, analysis, score="score", label="y", chunk=5000)
    assert table["n"].tolist() == [5000, 50]
    assert table["trust"][1] == "warn"
    assert table["trust_reason"][1].startswith(TOO_LITTLE)
    assert f"50 rows, and an estimate needs at least {MIN_ROWS}" in table["trust_reason"][1]


def test_too_few_expected_positives_warns_d():
    rng = np.random.default_rng(15)
    p_ref = rng.beta(1, 20, 20_000)
    reference = pd.DataFrame({"score": p_ref, "y": (rng.random(p_ref.size) < p_ref).astype(int)})
    rare = rng.beta(1, 200, 1000)  # about 5 expected positives in 1,000 rows
    table = performance(reference, pd.DataFrame({"score": rare}), score="score", label="y")
    reason = table["trust_reason"][0]
    assert table["trust"][0] == "warn"
    assert "expected positives, and an estimate needs at least" in reason
    assert str(MIN_EXPECTED_CLASS) in reason


# --------------------------------------------------------------------------------------------
# Chunks


def test_period_chunks_follow_calendar_months_and_keep_empty_months():
    reference, analysis, _, rng = _world(16, 5000, 600)
    days = np.r_[rng.integers(0, 31, 300), rng.integers(59, 90, 300)]  # January, March
    times = pd.Timestamp("2025-01-01", tz="UTC") + pd.to_timedelta(days * 86400 + 3600, unit="s")
    analysis = analysis.assign(when=times).sample(frac=1.0, random_state=0)  # any row order
    table = performance(reference, analysis, score="score", label="y", chunk="MS", timestamp="when")
    starts = [pd.Timestamp(f"2025-0{m}-01", tz="UTC") for m in (1, 2, 3)]
    assert table["chunk_start"].tolist() == starts
    assert table["chunk_end"].tolist() == [*starts[1:], pd.Timestamp("2025-04-01", tz="UTC")]
    assert table["n"].tolist() == [300, 0, 300]
    assert table["trust"][1] == "warn" and "0 rows" in table["trust_reason"][1]
    assert math.isnan(table["estimated_roc_auc"][1])
    january = analysis[analysis["when"] < starts[1]]
    one = performance(reference, january, score="score", label="y", chunk=10_000)
    assert table["estimated_roc_auc"][0] == pytest.approx(one["estimated_roc_auc"][0], abs=1e-12)


def test_row_chunks_with_a_timestamp_go_in_time_order():
    reference, analysis, _, _ = _world(17, 5000, 400)
    times = pd.date_range("2025-01-01", periods=400, freq="h", tz="UTC")
    shuffled = analysis.assign(when=times).iloc[::-1]  # newest first
    table = performance(reference, shuffled, score="score", label="y", chunk=200, timestamp="when")
    assert table["chunk_start"].tolist() == [times[0], times[200]]
    assert table["chunk_end"].tolist() == [times[199], times[399]]
    plain = performance(reference, analysis, score="score", label="y", chunk=200)
    assert plain["chunk_start"].tolist() == [0, 200]
    assert plain["chunk_end"].tolist() == [199, 399]
    assert table["estimated_accuracy"].tolist() == pytest.approx(
        plain["estimated_accuracy"].tolist(), abs=1e-12
    )


# --------------------------------------------------------------------------------------------
# Bad input: one clear error each


def _frames():
    reference, analysis, _, _ = _world(18, 2000, 500)
    return reference, analysis


def test_missing_columns_name_the_frame_and_the_column():
    reference, analysis = _frames()
    with pytest.raises(DataError, match="reference frame has no column 'label'") as err:
        performance(reference, analysis, score="score", label="label")
    assert "'score', 'y'" in str(err.value)  # shows the columns there are
    with pytest.raises(DataError, match="analysis frame has no column 'proba'"):
        performance(reference.assign(proba=0.5), analysis, score="proba", label="y")
    with pytest.raises(DataError, match="analysis frame has no column 'ts'"):
        performance(reference, analysis, score="score", label="y", chunk="MS", timestamp="ts")
    with pytest.raises(DataError, match="reference frame has no column 'amount'"):
        performance(reference, analysis, score="score", label="y", features=["amount"])


def test_labels_must_be_0_or_1():
    reference, analysis = _frames()
    with pytest.raises(DataError, match="values other than 0 and 1") as err:
        performance(reference.assign(y=reference["y"] * 2), analysis, score="score", label="y")
    assert "2" in err.value.found and "How to fix" in str(err.value)
    with pytest.raises(DataError, match="does not hold 0/1 numbers"):
        performance(
            reference.assign(y=np.where(reference["y"] == 1, "yes", "no")),
            analysis,
            score="score",
            label="y",
        )
    with pytest.raises(DataError, match="analysis frame, column 'y'"):
        performance(reference, analysis.assign(y=3), score="score", label="y")
    with pytest.raises(DataError, match="rows without a label") as err:
        performance(
            reference.assign(y=reference["y"].astype("Int8").where(reference.index > 5)),
            analysis,
            score="score",
            label="y",
        )
    assert "reference[reference['y'].notna()]" in str(err.value)
    # booleans and nullable integers are fine
    performance(reference.assign(y=reference["y"] == 1), analysis, score="score", label="y")


def test_scores_must_be_probabilities_without_gaps():
    reference, analysis = _frames()
    with pytest.raises(DataError, match="values outside 0 to 1") as err:
        performance(
            reference, analysis.assign(score=analysis["score"] * 3), score="score", label="y"
        )
    assert "log-odds" in str(err.value)
    with pytest.raises(DataError, match="reference frame, column 'score'"):
        performance(
            reference.assign(score=reference["score"] - 1), analysis, score="score", label="y"
        )
    with pytest.raises(DataError, match="has missing values") as err:
        performance(
            reference,
            analysis.assign(score=analysis["score"].where(analysis.index != 7)),
            score="score",
            label="y",
        )
    assert "index 7" in str(err.value)


def test_reference_with_one_class_is_refused():
    reference, analysis = _frames()
    with pytest.raises(DataError, match="one class only") as err:
        performance(reference.assign(y=0), analysis, score="score", label="y")
    assert "all 0 (negative)" in str(err.value)
    assert "longer reference period" in str(err.value)


def test_chunk_arguments_are_checked():
    reference, analysis = _frames()
    with pytest.raises(ParameterError, match="no timestamp column was given") as err:
        performance(reference, analysis, score="score", label="y", chunk="MS")
    assert "timestamp='event_time'" in str(err.value)
    for bad in (0, -5, 2.5, True):
        with pytest.raises(ParameterError, match="whole number of rows of 1 or more"):
            performance(reference, analysis, score="score", label="y", chunk=bad)
    with pytest.raises(ParameterError, match="not a period pandas knows"):
        performance(
            reference,
            analysis.assign(t=pd.Timestamp("2025-01-01")),
            score="score",
            label="y",
            chunk="fortnight",
            timestamp="t",
        )
    with pytest.raises(ParameterError, match="threshold must be a number from 0 to 1"):
        performance(reference, analysis, score="score", label="y", threshold=1.5)
    with pytest.raises(DataError, match="does not hold dates and times"):
        performance(
            reference,
            analysis.assign(t="2025"),
            score="score",
            label="y",
            chunk="MS",
            timestamp="t",
        )
    with pytest.raises(ParameterError, match="must be a pandas DataFrame"):
        performance(reference["score"], analysis, score="score", label="y")


# --------------------------------------------------------------------------------------------
# The case wrapper, on the bundled sample


@pytest.fixture(scope="module")
def card_fraud_estimate():
    from prodready import samples

    return estimate.estimate_case(samples.load())


def test_estimate_case_on_card_fraud(card_fraud_estimate):
    result = card_fraud_estimate
    table = result.to_frame()
    months = [pd.Timestamp(f"2025-{m:02d}-01", tz="UTC") for m in range(8, 13)]
    assert table["chunk_start"].tolist() == months
    assert result.reference_rows == 9685  # July, all labelled
    assert result.threshold == 0.06
    assert table["n"].sum() == 64_290 - 9685
    # Label delay: December has almost no labels, the estimate is still there
    december = table.iloc[-1]
    assert december["n_labelled"] < 10 and december["n"] > 15_000
    assert 0.7 < december["estimated_roc_auc"] < 0.8
    # the silent incident (device_risk_score stuck at 0.5, Sept 8-17) breaks the score: the
    # arrived labels disagree with the estimate and the score and feature moved
    september = table.iloc[1]
    assert september["trust"] == "warn"
    assert LABELS_DISAGREE in september["trust_reason"]
    assert "device_risk_score" in september["trust_reason"]
    assert september["realised_roc_auc"] < september["estimated_roc_auc"] - 0.05
    assert table.iloc[0]["trust"] == "ok"  # August: estimate and labels agree


def test_estimate_case_summary_and_dict(card_fraud_estimate):
    findings = card_fraud_estimate.summary()
    assert findings[0].severity == "high" and "2025-09" in findings[0].text
    texts = " ".join(f.text for f in findings)
    assert "The largest gap between estimate and realised ROC AUC is in 2025-09" in texts
    assert "Labels have not arrived yet for most rows" in texts and "2025-12" in texts
    payload = card_fraud_estimate.to_dict()
    json.dumps(payload)  # JSON-safe
    assert payload["reference_start"] == "2025-07-01T00:00:00+00:00"
    assert len(payload["table"]) == 5 and len(payload["assumptions"]) == len(assumptions())
    assert payload["table"][4]["realised_roc_auc"] is None


def test_estimate_case_refuses_regression_and_bad_reference_months():
    from prodready import Case

    rng = np.random.default_rng(19)
    times = pd.date_range("2025-01-01", periods=200, freq="D", tz="UTC")
    frame = pd.DataFrame({"t": times, "x": rng.normal(size=200), "y": rng.normal(size=200)})
    frame["pred"] = frame["x"]
    case = Case.from_frames(
        frame.iloc[:100],
        frame.iloc[100:],
        task="regression",
        label="y",
        prediction="pred",
        timestamp="t",
    )
    with pytest.raises(ParameterError, match="needs a binary case"):
        estimate.estimate_case(case)
    binary = Case.from_frames(
        frame.iloc[:100].assign(y=(frame["x"][:100] > 0).astype(int), pred=0.5),
        frame.iloc[100:].assign(y=(frame["x"][100:] > 0).astype(int), pred=0.5),
        task="binary",
        label="y",
        prediction="pred",
        timestamp="t",
    )
    with pytest.raises(ParameterError, match="reference_months"):
        estimate.estimate_case(binary, reference_months=0)
    with pytest.raises(DataError, match="nothing is left to estimate"):
        estimate.estimate_case(binary, reference_months=12)


def test_the_package_never_imports_streamlit():
    code = "import sys, prodready.estimate; sys.exit('streamlit' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
