"""Label-free performance estimate from calibrated scores, and when not to trust it.

The idea is NannyML's confidence-based performance estimation (CBPE; NannyML documentation,
"How it works: Performance estimation",
https://nannyml.readthedocs.io/en/stable/how_it_works/performance_estimation.html): when a
model's scores are calibrated probabilities, each score says how likely its row is to be a
positive, so the confusion matrix, and the metrics built on it, can be *expected* before the
labels arrive. The code here is our own.

Definitions (see :func:`performance`)
-------------------------------------
* **Calibration.** ``p_i`` = the probability that row ``i`` is a positive, read from an isotonic
  regression of the reference's labels on its scores
  (``sklearn.isotonic.IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1)``). Isotonic
  because it is monotone (it never reorders the model's ranking, it only says what each score
  means), it assumes no shape (Platt scaling assumes a sigmoid in the score, which is wrong for
  scores that are already probabilities but bent, such as fraud scores squashed near 0), and a
  reference holds thousands of rows, where isotonic calibration beats Platt's (Niculescu-Mizil &
  Caruana, "Predicting good probabilities with supervised learning", ICML 2005). Scores outside
  the reference's range get the probability of the nearest reference score (``clip``).
* **Predicted positive** = ``score >= threshold`` (the raw score, as the model acts on it).
* **Estimated accuracy** = ``mean(p_i * [pred_i = 1] + (1 - p_i) * [pred_i = 0])``: the expected
  share of correct decisions. Accuracy is a mean of per-row indicators, so when labels are drawn
  ``Bernoulli(p_i)`` this is exactly the expectation of the realised accuracy.
* **Estimated ROC AUC** = the area under the *expected* ROC curve. At a threshold ``t`` on the raw
  score, ``E[TP(t)] = sum of p_i over rows with score >= t`` and ``E[FP(t)] = sum of (1 - p_i)``
  over the same rows; ``TPR(t) = E[TP(t)] / sum p_i`` and ``FPR(t) = E[FP(t)] / sum (1 - p_i)``.
  The curve joins (0, 0) and the points at every distinct score, from the highest down (rows with
  equal scores enter together, so a tie is a straight segment), and its area is taken by the
  trapezoid rule. With ``p_i`` in {0, 1} this is exactly the realised ROC AUC
  (``sklearn.metrics.roc_auc_score``). With probabilities it equals
  ``sum_{i,j} p_i (1 - p_j) H(s_i - s_j) / (sum p_i * sum (1 - p_j))``, ``H`` = 1 above 0, 1/2 at
  0: a ratio of expectations. The expectation of the realised AUC (a ratio) differs from it by
  terms of order ``1 / n`` (the pairs ``i = j`` and the randomness of the class counts), far below
  a chunk's sampling error.
* **Realised** metrics use the rows of the chunk whose label has arrived: accuracy of
  ``score >= threshold`` (NaN when no row has a label) and the ROC AUC of the raw score (NaN
  when the labelled rows hold one class only): the expected ROC AUC with the labels as the
  probabilities, which is ``sklearn.metrics.roc_auc_score``'s number without its input checks.

When not to trust the estimate (``trust = "warn"``, with ``trust_reason``)
---------------------------------------------------------------------------
CBPE assumes the relation between score and outcome is the one seen in the reference. Concept
drift breaks it silently: the estimate stays steady while the real performance collapses. A chunk
is flagged when:

(a) **scores** move far from the reference: more than :data:`OUT_OF_RANGE_LIMIT` (5%) of the
    chunk's scores lie outside the reference's score range, or the PSI of the scores against the
    reference exceeds :data:`PSI_LIMIT` (0.25; PSI as in :mod:`prodready.stats.drift`, reference
    deciles, natural log);
(b) a **feature** (when ``features`` are given) moves far from the reference by the same rule
    (numeric: out-of-range share or PSI; categorical: share of categories the reference never saw
    above 5%, or PSI above 0.25); the reason names the feature;
(c) **labels that have arrived disagree** with the estimate computed on the same labelled rows:
    the realised number of correct decisions lies outside the central 95% interval
    (``scipy.stats.binom.interval``) of a binomial with the estimated accuracy (the true count is
    a Poisson-binomial sum, whose variance never exceeds the binomial's with the same mean, so
    this interval is on the wide side), or the realised ROC AUC differs from the estimate by more
    than 1.96 standard errors of Hanley & McNeil ("The meaning and use of the area under a
    receiver operating characteristic (ROC) curve", Radiology 143, 1982), with the labelled
    rows' class counts;
(d) the chunk has **too few rows** (under :data:`MIN_ROWS`) or too few expected positives or
    negatives (``sum p_i`` or ``sum (1 - p_i)`` under :data:`MIN_EXPECTED_CLASS`) for an estimate
    to mean much: with fewer than 10 expected cases of a class the ROC curve rests on a handful
    of rows (the usual ``n p >= 10`` rule for a binomial's normal approximation).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.stats
from pandas.tseries.frequencies import to_offset
from sklearn.isotonic import IsotonicRegression

from prodready.errors import DataError, ParameterError
from prodready.stats.drift import (
    CategoricalReference,
    NumericReference,
    categorical_drift,
    numeric_shift,
)

__all__ = [
    "COLUMNS",
    "CONFIDENCE",
    "MIN_EXPECTED_CLASS",
    "MIN_ROWS",
    "OUT_OF_RANGE_LIMIT",
    "PSI_LIMIT",
    "UNSEEN_LIMIT",
    "assumptions",
    "calibrate",
    "expected_accuracy",
    "expected_roc_auc",
    "hanley_mcneil_se",
    "performance",
]

OUT_OF_RANGE_LIMIT = 0.05
"""Warn when more than this share of a chunk's values lie outside the reference's range."""
PSI_LIMIT = 0.25
"""Warn when the PSI of a chunk's values against the reference exceeds this (a large shift)."""
UNSEEN_LIMIT = 0.05
"""Warn when more than this share of a chunk's categories never occur in the reference."""
MIN_ROWS = 100
"""A chunk needs at least this many rows for its estimate to be trusted."""
MIN_EXPECTED_CLASS = 10
"""A chunk needs at least this many expected positives (``sum p_i``) and expected negatives."""
CONFIDENCE = 0.95
"""Level of the intervals realised labels are checked against (binomial; Hanley-McNeil)."""

COLUMNS = [
    "chunk_start",
    "chunk_end",
    "n",
    "estimated_roc_auc",
    "estimated_accuracy",
    "realised_roc_auc",
    "realised_accuracy",
    "n_labelled",
    "estimated_roc_auc_labelled",
    "estimated_accuracy_labelled",
    "trust",
    "trust_reason",
]

_ASSUMPTIONS = (
    "The relation between score and outcome is the one seen in the reference: a given score means "
    "the same chance of a positive now as then. Concept drift breaks this, and then the estimate "
    "can stay steady while the real performance falls.",
    "The calibration fitted on the reference (isotonic regression of label on score) is close to "
    "the true chance of a positive at each score, which needs a reference with enough rows and "
    "positives across the whole score range.",
    "Scores in the analysis data lie in the range the reference covers; outside it the "
    "calibration repeats the probability of the nearest reference score.",
    "Outcomes of different rows are independent given their scores.",
    "Rows whose labels have arrived are like the rows still waiting, given their scores; "
    "otherwise the realised metrics describe different rows than the estimate.",
    "Features may drift (covariate shift) as long as the score still means the same, but a move "
    "far outside the reference is a sign that it may not, so it is flagged.",
)


def assumptions() -> list[str]:
    """The assumptions the estimate rests on, as plain sentences."""
    return list(_ASSUMPTIONS)


# --------------------------------------------------------------------------------------------
# The formulas


def calibrate(reference_scores, reference_labels) -> IsotonicRegression:
    """Isotonic regression of 0/1 labels on scores (``out_of_bounds="clip"``), fitted and returned.

    ``calibrate(s, y).predict(scores)`` gives each score's probability of a positive.
    """
    model = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0, increasing=True)
    x = np.asarray(reference_scores, dtype="float64")
    model.fit(x, np.asarray(reference_labels, dtype="float64"))
    return model


def expected_accuracy(probabilities, predicted) -> float:
    """``mean(p_i * [pred_i = 1] + (1 - p_i) * [pred_i = 0])``; NaN for no rows."""
    p = np.asarray(probabilities, dtype="float64")
    pred = np.asarray(predicted, dtype=bool)
    if p.size == 0:
        return math.nan
    return float(np.mean(np.where(pred, p, 1.0 - p)))


def expected_roc_auc(scores, probabilities) -> float:
    """Area under the expected ROC curve (module docstring): thresholds at every distinct
    ``score``, expected true and false positives from ``probabilities``, trapezoid rule, ties
    entering together. NaN when ``sum p`` or ``sum (1 - p)`` is 0."""
    s = np.asarray(scores, dtype="float64")
    p = np.asarray(probabilities, dtype="float64")
    positives, negatives = p.sum(), (1.0 - p).sum()
    if s.size == 0 or positives <= 0 or negatives <= 0:
        return math.nan
    order = np.argsort(-s, kind="stable")
    s, p = s[order], p[order]
    # the last row of each run of equal scores: the curve moves once per distinct score
    last = np.flatnonzero(np.r_[s[1:] != s[:-1], True])
    tp = np.r_[0.0, np.cumsum(p)[last]]
    fp = np.r_[0.0, np.cumsum(1.0 - p)[last]]
    tpr, fpr = tp / positives, fp / negatives
    area = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))
    return min(max(area, 0.0), 1.0)


def hanley_mcneil_se(auc: float, n_positive: int, n_negative: int) -> float:
    """Standard error of an ROC AUC estimated from ``n_positive`` and ``n_negative`` cases
    (Hanley & McNeil 1982): ``Q1 = A / (2 - A)``, ``Q2 = 2 A^2 / (1 + A)``,
    ``SE^2 = (A (1 - A) + (n1 - 1)(Q1 - A^2) + (n0 - 1)(Q2 - A^2)) / (n1 n0)``. NaN without a
    case of each class. At ``A = 0.5`` it equals the exact null variance of the Mann-Whitney
    AUC, ``(n1 + n0 + 1) / (12 n1 n0)``."""
    if n_positive < 1 or n_negative < 1 or not math.isfinite(auc):
        return math.nan
    a = auc
    q1, q2 = a / (2.0 - a), 2.0 * a * a / (1.0 + a)
    variance = (
        a * (1.0 - a) + (n_positive - 1) * (q1 - a * a) + (n_negative - 1) * (q2 - a * a)
    ) / (n_positive * n_negative)
    return math.sqrt(max(variance, 0.0))


# --------------------------------------------------------------------------------------------
# Input checks


def _check_frame(frame, name: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise ParameterError(
            f"the {name} must be a pandas DataFrame",
            where=name,
            found=type(frame).__name__,
            fix=f"pass the {name} rows as a DataFrame (pandas.read_parquet, read_csv, ...)",
        )
    return frame


def _require_columns(frame: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        shown = ", ".join(repr(c) for c in list(frame.columns)[:15])
        more = f" and {len(frame.columns) - 15} more" if len(frame.columns) > 15 else ""
        raise DataError(
            f"the {name} has no column {', '.join(repr(c) for c in missing)}",
            where=name,
            expected=f"columns {', '.join(repr(c) for c in columns)}",
            found=f"columns {shown}{more}" if shown else "no columns",
            fix="pass the column names as they are in the frame (score=..., label=..., "
            "timestamp=..., features=...)",
        )


def _scores(frame: pd.DataFrame, column: str, name: str) -> np.ndarray:
    series = frame[column]
    if not (pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series)):
        raise DataError(
            f"the score column {column!r} does not hold numbers",
            where=f"{name}, column {column!r}",
            expected="scores between 0 and 1",
            found=f"dtype {series.dtype}",
            fix="pass the model's probability score (a number from 0 to 1) as the score column",
        )
    values = series.to_numpy(dtype="float64", na_value=np.nan)
    missing = np.isnan(values)
    if missing.any():
        raise DataError(
            f"the score column {column!r} has missing values",
            where=f"{name}, column {column!r}",
            expected="a score on every row",
            found=f"{int(missing.sum()):,} missing, the first at index "
            f"{series.index[missing][0]!r}",
            fix="drop the rows the model did not score, or fill in their scores",
        )
    outside = (values < 0.0) | (values > 1.0)
    if outside.any():
        first = int(np.flatnonzero(outside)[0])
        raise DataError(
            f"the score column {column!r} has values outside 0 to 1",
            where=f"{name}, column {column!r}",
            expected="probability scores between 0 and 1",
            found=f"{int(outside.sum()):,} rows, e.g. {values[first]:g} at index "
            f"{series.index[first]!r} (range {values.min():g} to {values.max():g})",
            fix="pass the model's probability (e.g. predict_proba[:, 1]), not a raw margin or "
            "log-odds; apply a sigmoid first if the model outputs log-odds",
        )
    return values


def _labels(frame: pd.DataFrame, column: str, name: str, *, required: bool) -> np.ndarray:
    """Labels as float64 with NaN for missing; DataError unless every present label is 0 or 1."""
    series = frame[column]
    if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype):
        values = series.to_numpy(dtype="float64", na_value=np.nan)
    else:
        example = series.dropna()
        raise DataError(
            f"the label column {column!r} does not hold 0/1 numbers",
            where=f"{name}, column {column!r}",
            expected="labels 0 (negative) and 1 (positive)",
            found=f"dtype {series.dtype}" + (f", e.g. {example.iloc[0]!r}" if len(example) else ""),
            fix="map the outcome to 0 and 1 first, e.g. frame[label].map({'no': 0, 'yes': 1})",
        )
    present = ~np.isnan(values)
    bad = present & (values != 0.0) & (values != 1.0)
    if bad.any():
        seen = sorted({float(v) for v in values[bad][:1000]})[:5]
        raise DataError(
            f"the label column {column!r} has values other than 0 and 1",
            where=f"{name}, column {column!r}",
            expected="labels 0 (negative) and 1 (positive), or missing where not yet known",
            found=f"{int(bad.sum()):,} rows with {', '.join(f'{v:g}' for v in seen)}; the first "
            f"at index {series.index[bad][0]!r}",
            fix="map the outcome to 0 and 1 (a multi-class label needs one binary label per class)",
        )
    if required and not present.all():
        raise DataError(
            f"the {name} has rows without a label in {column!r}",
            where=f"{name}, column {column!r}",
            expected="a label on every reference row (the calibration is fitted on them)",
            found=f"{int((~present).sum()):,} of {len(values):,} rows without a label",
            fix=f"pass only the labelled rows: reference[reference[{column!r}].notna()]",
        )
    return values


def _feature_kinds(
    features, reference: pd.DataFrame, name_ref: str, analysis: pd.DataFrame
) -> dict[str, str]:
    if features is None:
        return {}
    if isinstance(features, str):
        features = [features]
    if isinstance(features, Mapping):
        kinds = {str(k): str(v) for k, v in features.items()}
    elif isinstance(features, Sequence):
        kinds = {}
        for f in features:
            if not isinstance(f, str):
                raise ParameterError(
                    "features must be column names",
                    where="features",
                    expected="a list of column names, or a mapping of name to 'numeric' or "
                    "'categorical'",
                    found=repr(f),
                )
            dtype = reference[f].dtype if f in reference.columns else None
            numeric = (
                dtype is not None
                and pd.api.types.is_numeric_dtype(dtype)
                and not pd.api.types.is_bool_dtype(dtype)
            )
            kinds[f] = "numeric" if numeric else "categorical"
    else:
        raise ParameterError(
            "features must be column names",
            where="features",
            expected="a list of column names, or a mapping of name to 'numeric' or 'categorical'",
            found=type(features).__name__,
        )
    wrong = {k: v for k, v in kinds.items() if v not in ("numeric", "categorical")}
    if wrong:
        raise ParameterError(
            "a feature's type must be 'numeric' or 'categorical'",
            where="features",
            found=", ".join(f"{k}: {v!r}" for k, v in wrong.items()),
        )
    _require_columns(reference, list(kinds), name_ref)
    _require_columns(analysis, list(kinds), "analysis frame")
    return kinds


def _check_chunk(chunk, timestamp: str | None):
    if isinstance(chunk, str):
        if timestamp is None:
            raise ParameterError(
                f"chunk={chunk!r} cuts the data by time, but no timestamp column was given",
                where="chunk",
                expected="timestamp='<column>' with a period chunk, or a whole number of rows",
                fix=f"pass timestamp='event_time' (your time column) with chunk={chunk!r}, or "
                "chunk=5000 to cut every 5,000 rows",
            )
        try:
            return to_offset(chunk)
        except (ValueError, TypeError):
            raise ParameterError(
                f"chunk={chunk!r} is not a period pandas knows",
                where="chunk",
                expected="a pandas offset alias such as 'MS' (months), 'W-MON' (weeks from "
                "Monday), 'D' (days), or a whole number of rows",
                found=repr(chunk),
            ) from None
    if isinstance(chunk, bool) or not isinstance(chunk, numbers.Integral) or chunk < 1:
        raise ParameterError(
            "chunk must be a whole number of rows of 1 or more, or a period",
            where="chunk",
            expected="e.g. 5000 (rows per chunk) or 'MS' (calendar months, needs timestamp=)",
            found=repr(chunk),
        )
    return int(chunk)


# --------------------------------------------------------------------------------------------
# Chunks


@dataclass(frozen=True)
class _Chunk:
    start: object
    end: object
    rows: np.ndarray  # positions in the analysis frame


def _chunks(analysis: pd.DataFrame, chunk, timestamp: str | None) -> list[_Chunk]:
    n = len(analysis)
    if timestamp is None:
        return [
            _Chunk(start, min(start + chunk, n) - 1, np.arange(start, min(start + chunk, n)))
            for start in range(0, n, chunk)
        ]
    times = analysis[timestamp]
    if not pd.api.types.is_datetime64_any_dtype(times.dtype):
        raise DataError(
            f"the timestamp column {timestamp!r} does not hold dates and times",
            where=f"analysis frame, column {timestamp!r}",
            expected="datetime values",
            found=f"dtype {times.dtype}",
            fix=f"convert it first: frame[{timestamp!r}] = "
            f"pandas.to_datetime(frame[{timestamp!r}])",
        )
    if times.isna().any():
        raise DataError(
            f"the timestamp column {timestamp!r} has missing values",
            where=f"analysis frame, column {timestamp!r}",
            expected="a time on every row",
            found=f"{int(times.isna().sum()):,} missing",
            fix="drop the rows without a time, or fill it in",
        )
    order = np.argsort(pd.DatetimeIndex(times).asi8, kind="stable")
    ordered = pd.DatetimeIndex(times.iloc[order])
    if isinstance(chunk, int):
        return [
            _Chunk(ordered[s], ordered[min(s + chunk, n) - 1], order[s : min(s + chunk, n)])
            for s in range(0, n, chunk)
        ]
    first = ordered[0].normalize()
    start = chunk.rollback(first)  # the period holding the first row starts here
    edges = pd.date_range(start=start, end=ordered[-1], freq=chunk)
    edges = edges.append(pd.DatetimeIndex([edges[-1] + chunk])).as_unit(ordered.unit)
    which = np.searchsorted(edges.asi8, ordered.asi8, side="right") - 1
    bounds = np.searchsorted(which, np.arange(len(edges)), side="left")
    return [
        _Chunk(edges[k], edges[k + 1], order[bounds[k] : bounds[k + 1]])
        for k in range(len(edges) - 1)
    ]


# --------------------------------------------------------------------------------------------
# Trust


def _pct(x: float) -> str:
    return f"{x:.1%}"


class _DriftCheck:
    """One column's reference, and the rule of checks (a) and (b) on a chunk."""

    def __init__(self, values, kind: str, what: str, where: str):
        self.kind, self.what = kind, what
        try:
            if kind == "numeric":
                self.reference = NumericReference.from_values(values)
            else:
                self.reference = CategoricalReference.from_values(values)
        except ParameterError as err:
            raise DataError(
                f"cannot compare {what} with the reference: {err.problem}",
                where=where,
                fix="leave this column out of features, or pass a reference with values in it",
            ) from None

    def reasons(self, values) -> list[str]:
        if self.kind == "numeric":
            array = np.asarray(values, dtype="float64")
            array = array[~np.isnan(array)]
            if array.size < 2:
                return []
            psi, _ = numeric_shift(self.reference, array)
            ref = self.reference
            outside = float(np.mean((array < ref.minimum) | (array > ref.maximum)))
            found = []
            if outside > OUT_OF_RANGE_LIMIT:
                found.append(
                    f"{_pct(outside)} of {self.what} values lie outside the reference's range "
                    f"{ref.minimum:.4g} to {ref.maximum:.4g} (limit {OUT_OF_RANGE_LIMIT:.0%})"
                )
            if psi > PSI_LIMIT:
                found.append(
                    f"the PSI of {self.what} against the reference is {psi:.2f} "
                    f"(limit {PSI_LIMIT:g})"
                )
            return found
        present = pd.Series(values).dropna()
        if len(present) < 2:
            return []
        drift = categorical_drift(self.reference, present)
        found = []
        if drift.unseen_share > UNSEEN_LIMIT:
            found.append(
                f"{_pct(drift.unseen_share)} of {self.what} values are categories the reference "
                f"never saw (limit {UNSEEN_LIMIT:.0%})"
            )
        if drift.psi > PSI_LIMIT:
            found.append(
                f"the PSI of {self.what} against the reference is {drift.psi:.2f} "
                f"(limit {PSI_LIMIT:g})"
            )
        return found


def _label_reasons(
    est_acc: float, est_auc: float, real_acc: float, real_auc: float, m: int, m_pos: int
) -> list[str]:
    found = []
    if m > 0 and math.isfinite(est_acc):
        low, high = scipy.stats.binom.interval(CONFIDENCE, m, est_acc)
        correct = round(real_acc * m)
        if correct < low or correct > high:
            found.append(
                f"realised accuracy {real_acc:.3f} lies outside the {CONFIDENCE:.0%} range "
                f"{low / m:.3f} to {high / m:.3f} expected from the estimate {est_acc:.3f} on "
                f"the same {m:,} labelled rows"
            )
    if math.isfinite(real_auc) and math.isfinite(est_auc):
        se = hanley_mcneil_se(est_auc, m_pos, m - m_pos)
        z = scipy.stats.norm.ppf(0.5 + CONFIDENCE / 2)
        if math.isfinite(se) and abs(real_auc - est_auc) > z * se:
            found.append(
                f"realised ROC AUC {real_auc:.3f} differs from the estimate {est_auc:.3f} on the "
                f"same {m:,} labelled rows by more than {z:.2f} standard errors "
                f"(Hanley-McNeil, {se:.3f})"
            )
    return found


def _trust_text(groups: dict[str, list[str]]) -> str:
    sentences = []
    if groups["rows"]:
        sentences.append("Too little data to estimate: " + "; ".join(groups["rows"]) + ".")
    if groups["labels"]:
        sentences.append(
            "Labels that have arrived disagree with the estimate, so the score may no longer "
            "mean what it meant in the reference (concept drift): "
            + "; ".join(groups["labels"])
            + "."
        )
    if groups["scores"]:
        sentences.append(
            "Scores have moved far from the reference, where the calibration was not fitted: "
            + "; ".join(groups["scores"])
            + "."
        )
    if groups["features"]:
        sentences.append(
            "Inputs have moved far from the reference, so the score may not mean the same: "
            + "; ".join(groups["features"])
            + "."
        )
    return " ".join(sentences)


# --------------------------------------------------------------------------------------------
# The estimate


def performance(
    reference: pd.DataFrame,
    analysis: pd.DataFrame,
    *,
    score: str,
    label: str,
    threshold: float = 0.5,
    chunk: int | str = 5000,
    timestamp: str | None = None,
    features: Sequence[str] | Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Estimate ROC AUC and accuracy per chunk of ``analysis`` without labels (CBPE), with a
    trust flag on every estimate.

    ``reference``: labelled rows (``score`` and ``label`` 0/1 on every row) on which the
    calibration is fitted, typically the first period after deployment, whose labels have all
    arrived. ``analysis``: rows with ``score``; ``label`` is optional (column absent or missing
    where the truth has not arrived yet). ``threshold``: a row is predicted positive when
    ``score >= threshold``. ``chunk``: rows per chunk (in the frame's order, or in time order when
    ``timestamp`` is given) or a pandas offset alias (``"MS"`` calendar months, ``"W-MON"`` weeks
    from Monday, ``"D"`` days; needs ``timestamp``). ``features``: columns to watch for drift
    (check b), a list of names (numeric dtype = numeric, else categorical) or a mapping of name to
    ``"numeric"``/``"categorical"``.

    Returns one row per chunk with the columns of :data:`COLUMNS`:

    * ``chunk_start``, ``chunk_end``: row chunks, the first and last row (both included), as
      timestamps when ``timestamp`` is given, else positions in the analysis frame (from 0);
      period chunks, the period's start and the next period's start (excluded). Periods follow
      the offset's anchors (``"MS"``: the 1st of each month, midnight in the timestamps' zone)
      from the first row's period to the last's; a period without rows has ``n = 0``;
    * ``n`` rows; ``estimated_roc_auc``, ``estimated_accuracy`` over all of them;
    * ``realised_roc_auc``, ``realised_accuracy`` over the ``n_labelled`` rows with a label;
    * ``estimated_roc_auc_labelled``, ``estimated_accuracy_labelled``: the estimate on those same
      labelled rows, the number the realised one is checked against (labels that arrive late
      may not be a random part of the chunk);
    * ``trust`` ``"ok"`` or ``"warn"``; ``trust_reason`` plain sentences, ``""`` when ok.

    Definitions, the trust checks (a)-(d) and why isotonic: module docstring. ``.attrs`` holds
    ``assumptions`` (:func:`assumptions`), ``threshold``, ``reference_rows`` and
    ``reference_positive_rate``. Raises :class:`~prodready.errors.ParameterError` for a bad
    argument and :class:`~prodready.errors.DataError` for bad data (missing columns, labels not
    0/1, scores missing or outside 0 to 1, a reference with one class).
    """
    reference = _check_frame(reference, "reference frame")
    analysis = _check_frame(analysis, "analysis frame")
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, numbers.Real)
        or not (0.0 <= float(threshold) <= 1.0)
    ):
        raise ParameterError(
            "the threshold must be a number from 0 to 1",
            where="threshold",
            found=repr(threshold),
            fix="pass the score at or above which the model acts, e.g. threshold=0.5",
        )
    threshold = float(threshold)
    chunk_rule = _check_chunk(chunk, timestamp)
    _require_columns(reference, [score, label], "reference frame")
    _require_columns(analysis, [score] + ([timestamp] if timestamp else []), "analysis frame")
    kinds = _feature_kinds(features, reference, "reference frame", analysis)

    ref_scores = _scores(reference, score, "reference frame")
    ref_labels = _labels(reference, label, "reference frame", required=True)
    positives = int(ref_labels.sum())
    if positives == 0 or positives == len(ref_labels):
        only = "1 (positive)" if positives else "0 (negative)"
        raise DataError(
            "the reference has one class only, so there is nothing to calibrate against",
            where=f"reference frame, column {label!r}",
            expected="both labels, 0 and 1, among the reference rows",
            found=f"{len(ref_labels):,} rows, all {only}",
            fix="take a longer reference period, one that holds positives and negatives",
        )
    if len(analysis) == 0:
        raise DataError(
            "the analysis frame has no rows",
            where="analysis frame",
            fix="pass the rows to estimate performance on",
        )
    scores = _scores(analysis, score, "analysis frame")
    if label in analysis.columns:
        labels = _labels(analysis, label, "analysis frame", required=False)
    else:
        labels = np.full(len(analysis), np.nan)

    calibration = calibrate(ref_scores, ref_labels)
    probabilities = calibration.predict(scores)
    predicted = scores >= threshold
    score_check = _DriftCheck(ref_scores, "numeric", "score", f"reference frame, column {score!r}")
    feature_checks = {
        f: _DriftCheck(reference[f], kind, f, f"reference frame, column {f!r}")
        for f, kind in kinds.items()
    }
    feature_values = {f: analysis[f].to_numpy() for f in kinds}

    records = []
    for part in _chunks(analysis, chunk_rule, timestamp):
        rows = part.rows
        p, s, pred, y = probabilities[rows], scores[rows], predicted[rows], labels[rows]
        n = int(rows.size)
        known = ~np.isnan(y)
        m = int(known.sum())
        m_pos = int(y[known].sum())
        real_acc = float(np.mean(pred[known] == (y[known] == 1.0))) if m else math.nan
        # the labels as probabilities: roc_auc_score's number (module docstring), faster
        real_auc = expected_roc_auc(s[known], y[known]) if 0 < m_pos < m else math.nan
        est_auc, est_acc = expected_roc_auc(s, p), expected_accuracy(p, pred)
        est_auc_l = expected_roc_auc(s[known], p[known]) if m else math.nan
        est_acc_l = expected_accuracy(p[known], pred[known]) if m else math.nan

        groups: dict[str, list[str]] = {"rows": [], "labels": [], "scores": [], "features": []}
        expected_pos, expected_neg = float(p.sum()), float((1.0 - p).sum())
        if n < MIN_ROWS:
            groups["rows"].append(f"{n:,} rows, and an estimate needs at least {MIN_ROWS:,}")
        else:
            if expected_pos < MIN_EXPECTED_CLASS:
                groups["rows"].append(
                    f"{expected_pos:.1f} expected positives, and an estimate needs at least "
                    f"{MIN_EXPECTED_CLASS}"
                )
            if expected_neg < MIN_EXPECTED_CLASS:
                groups["rows"].append(
                    f"{expected_neg:.1f} expected negatives, and an estimate needs at least "
                    f"{MIN_EXPECTED_CLASS}"
                )
        groups["labels"] = _label_reasons(est_acc_l, est_auc_l, real_acc, real_auc, m, m_pos)
        if n >= 2:
            groups["scores"] = score_check.reasons(s)
            for f, check in feature_checks.items():
                groups["features"].extend(check.reasons(feature_values[f][rows]))
        reason = _trust_text(groups)
        records.append(
            {
                "chunk_start": part.start,
                "chunk_end": part.end,
                "n": n,
                "estimated_roc_auc": est_auc,
                "estimated_accuracy": est_acc,
                "realised_roc_auc": real_auc,
                "realised_accuracy": real_acc,
                "n_labelled": m,
                "estimated_roc_auc_labelled": est_auc_l,
                "estimated_accuracy_labelled": est_acc_l,
                "trust": "warn" if reason else "ok",
                "trust_reason": reason,
            }
        )
    table = pd.DataFrame.from_records(records, columns=COLUMNS)
    table.attrs["assumptions"] = assumptions()
    table.attrs["threshold"] = threshold
    table.attrs["reference_rows"] = len(ref_labels)
    table.attrs["reference_positive_rate"] = positives / len(ref_labels)
    return table
