"""Model metrics and business value: how good the model is, and what its decisions are worth.

Every metric is computed by scikit-learn (but the bootstrap's resamples of ROC AUC, which are
computed together: :func:`_resampled_roc_auc`); this module only chooses the right call, validates
the inputs once, and turns "undefined" into NaN so a page or a report can show a dash instead of
crashing. Definitions (``y`` the true label or value, ``p`` the score or prediction, ``n`` rows):

Binary (``y`` in {0, 1}, 1 = the event the model predicts; a *decision* is ``p >= threshold``):

- ``roc_auc``: area under the ROC curve = probability that a random positive scores higher than a
  random negative (ties count 1/2). Undefined unless both classes are present.
- ``pr_auc``: average precision, ``sum_k (R_k - R_{k-1}) P_k`` over score thresholds (the
  step-wise area under the precision-recall curve, no interpolation). Undefined without positives.
- ``accuracy``: share of decisions that are right, ``(TP + TN) / n``.
- ``precision``: ``TP / (TP + FP)``; undefined when the model flags nothing.
- ``recall``: ``TP / (TP + FN)``; undefined without positives.
- ``log_loss``: ``-mean(y log p + (1 - y) log(1 - p))``, ``p`` clipped to machine epsilon by
  scikit-learn. Needs probabilities: NaN when a score is outside [0, 1].
- ``brier``: ``mean((p - y)^2)``, in [0, 1]. Needs probabilities: NaN when a score is outside
  [0, 1].

Regression: ``mae = mean|y - p|``, ``rmse = sqrt(mean((y - p)^2))``, ``mape = mean(|y - p| / |y|)``
as a *fraction* (0.12 means 12 %), NaN when any true value is 0 (scikit-learn would divide by
machine epsilon and report a meaningless ~1e15).

Inputs are any 1-D array-like (numpy, lists, pandas Series including nullable ``Int8``/``boolean``
and float with NaN). **Rows whose true value is missing are dropped**: in a serving log that means
the label has not arrived yet, so those rows cannot be scored. A missing or infinite score on a
labelled row is an error, not something to drop silently: the model returned nothing there.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.stats
from numpy.typing import ArrayLike
from sklearn import metrics as skm

from prodready.errors import ParameterError
from prodready.results import to_json
from prodready.spec import Business, Task

BINARY_METRICS: tuple[str, ...] = (
    "roc_auc",
    "pr_auc",
    "accuracy",
    "precision",
    "recall",
    "log_loss",
    "brier",
)
REGRESSION_METRICS: tuple[str, ...] = ("mae", "rmse", "mape")

METRIC_LABELS: dict[str, str] = {
    "roc_auc": "ROC AUC",
    "pr_auc": "PR AUC (average precision)",
    "accuracy": "Accuracy",
    "precision": "Precision",
    "recall": "Recall",
    "log_loss": "Log loss",
    "brier": "Brier score",
    "mae": "Mean absolute error (MAE)",
    "rmse": "Root mean squared error (RMSE)",
    "mape": "Mean absolute percentage error (MAPE, fraction)",
}

HIGHER_IS_BETTER: dict[str, bool] = {
    "roc_auc": True,
    "pr_auc": True,
    "accuracy": True,
    "precision": True,
    "recall": True,
    "log_loss": False,
    "brier": False,
    "mae": False,
    "rmse": False,
    "mape": False,
}

METRIC_TASKS: dict[str, Task] = {
    **dict.fromkeys(BINARY_METRICS, "binary"),
    **dict.fromkeys(REGRESSION_METRICS, "regression"),
}

# Bootstrap resamples are drawn in batches of at most this many cells (rows x resamples) so that
# 1,000 resamples of 1 million rows do not allocate gigabytes of indices at once.
_MAX_BATCH_CELLS = 2_000_000

# An interval is reported only if the metric is defined on at least this share of resamples.
_MIN_DEFINED_SHARE = 0.5


# -- inputs -------------------------------------------------------------------------------------


def _as_float_array(values: ArrayLike, *, argument: str, where: str) -> tuple[np.ndarray, pd.Index]:
    """A 1-D float64 array (missing -> NaN) and the row labels to name rows in messages."""
    if isinstance(values, pd.DataFrame):
        raise ParameterError(
            f"{argument} is a table, not a single column",
            where=where,
            expected="one column (a 1-D array or a pandas Series)",
            found=f"a DataFrame with {values.shape[1]} column(s)",
            fix=f"pass the column itself, e.g. frame['{argument}']",
        )
    if isinstance(values, pd.Series | pd.Index | pd.api.extensions.ExtensionArray):
        series = pd.Series(values)
    else:
        try:
            array = np.asarray(values)
        except (TypeError, ValueError) as exc:
            raise ParameterError(
                f"{argument} cannot be read as a column of numbers",
                where=where,
                expected="a 1-D array-like of numbers",
                found=type(values).__name__,
                fix=f"pass {argument} as a numpy array, a list or a pandas Series",
            ) from exc
        if array.ndim != 1:
            raise ParameterError(
                f"{argument} must be one-dimensional",
                where=where,
                expected="a 1-D array-like with one value per row",
                found=f"an array of shape {array.shape}",
                fix="pass a single column (for an (n, 1) array use .ravel(); for scikit-learn's "
                "predict_proba use [:, 1])",
            )
        series = pd.Series(array)
    try:
        floats = series.to_numpy(dtype="float64", na_value=np.nan)
    except (TypeError, ValueError) as exc:
        sample = ", ".join(repr(v) for v in series.dropna().unique()[:3])
        raise ParameterError(
            f"{argument} contains values that are not numbers",
            where=where,
            expected="numbers (0/1 labels, scores, or values)",
            found=f"{series.dtype} values such as {sample}",
            fix="convert the column to numbers first (for labels: 1 for the event the model "
            "predicts, 0 otherwise)",
        ) from exc
    return floats, series.index


def _rows(index: pd.Index, positions: np.ndarray, limit: int = 5) -> str:
    """Name rows by their index labels (positions for plain arrays), the first few only."""
    labels = [index[i].item() if isinstance(index[i], np.generic) else index[i] for i in positions]
    shown = ", ".join(
        repr(label) if isinstance(label, str) else str(label) for label in labels[:limit]
    )
    more = f" and {len(positions) - limit:,} more" if len(positions) > limit else ""
    return f"row(s) {shown}{more}"


def _prepare(
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    task: Task | None,
    where: str,
    score_name: str = "y_score",
) -> tuple[np.ndarray, np.ndarray]:
    """Validate and align the inputs; drop rows without a true value.

    ``task=None`` (a user-supplied metric) checks lengths and missing values only.
    """
    truth, truth_index = _as_float_array(y_true, argument="y_true", where=where)
    score, _ = _as_float_array(y_score, argument=score_name, where=where)
    if truth.shape[0] != score.shape[0]:
        raise ParameterError(
            f"y_true and {score_name} have different lengths",
            where=where,
            expected="one score per label, the two aligned row by row",
            found=f"{truth.shape[0]:,} labels and {score.shape[0]:,} scores",
            fix="pass the label and prediction columns of the same rows (two columns of one "
            "table, or after joining on the id)",
        )
    labelled = ~np.isnan(truth)
    kept = np.flatnonzero(labelled)
    truth, score = truth[labelled], score[labelled]

    bad_score = ~np.isfinite(score)
    if bad_score.any():
        raise ParameterError(
            f"{int(bad_score.sum()):,} labelled row(s) have a missing, NaN or infinite "
            f"{score_name}",
            where=f"{where}, {_rows(truth_index, kept[bad_score])}",
            expected="a finite score on every row that has a label",
            found=f"{score[bad_score][0]} in {score_name}",
            fix="find why the model returned no score for these rows (itself a silent failure "
            "worth fixing), then fill or drop them before computing metrics",
        )
    bad_truth = np.isinf(truth)
    if bad_truth.any():
        raise ParameterError(
            f"{int(bad_truth.sum()):,} row(s) have an infinite true value",
            where=f"{where}, {_rows(truth_index, kept[bad_truth])}",
            expected="finite true values",
            found=str(truth[bad_truth][0]),
            fix="clean the label column (an infinite outcome is a data error)",
        )
    if task == "binary":
        not_binary = (truth != 0) & (truth != 1)
        if not_binary.any():
            values = ", ".join(f"{v:g}" for v in np.unique(truth[not_binary])[:5])
            raise ParameterError(
                "a binary metric needs labels that are 0 or 1",
                where=f"{where}, {_rows(truth_index, kept[not_binary])}",
                expected="y_true in {0, 1} (1 = the event the model predicts)",
                found=f"{int(not_binary.sum()):,} other value(s), such as {values}",
                fix="map the outcome to 1 (e.g. fraud) and 0; for a numeric target use a "
                "regression metric (mae, rmse, mape)",
            )
    return truth, score


def _check_threshold(threshold: float, where: str) -> float:
    if isinstance(threshold, bool) or not isinstance(threshold, int | float | np.number):
        raise ParameterError(
            "threshold must be a number",
            where=f"{where}: threshold",
            expected="a score at or above which the model acts, e.g. 0.5",
            found=repr(threshold),
            fix="pass a number, e.g. threshold=0.5 (the case's business.threshold)",
        )
    if not math.isfinite(float(threshold)):
        raise ParameterError(
            "threshold must be finite",
            where=f"{where}: threshold",
            expected="a finite score, e.g. 0.5",
            found=repr(threshold),
            fix="pass the score at or above which the model acts",
        )
    return float(threshold)


def _check_name(name: object, where: str) -> str:
    if not isinstance(name, str) or name not in METRIC_TASKS:
        valid = ", ".join(METRIC_TASKS)
        raise ParameterError(
            f"unknown metric {name!r}",
            where=where,
            expected=f"one of {valid}",
            found=repr(name),
            fix=f"use one of: {valid} (or pass a function f(y_true, y_score) -> float to "
            "bootstrap)",
        )
    return name


# -- metrics on validated arrays ----------------------------------------------------------------


def _binary_value(name: str, truth: np.ndarray, score: np.ndarray, threshold: float) -> float:
    """One binary metric on clean arrays (labels 0/1 as numbers, finite scores); NaN if undefined.

    Undefined cases are detected before calling scikit-learn, so nothing warns or raises.
    """
    n = truth.shape[0]
    if n == 0:
        return math.nan
    positives = int(np.count_nonzero(truth == 1))
    if name == "roc_auc":
        if positives in (0, n):
            return math.nan
        # roc_curve + auc is exactly what roc_auc_score does for binary labels, without its
        # label_binarize step (about 30 % faster, which matters inside the bootstrap).
        fpr, tpr, _ = skm.roc_curve(truth, score)
        return float(skm.auc(fpr, tpr))
    if name == "pr_auc":
        return math.nan if positives == 0 else float(skm.average_precision_score(truth, score))
    if name in ("log_loss", "brier"):
        if score.min() < 0 or score.max() > 1:
            return math.nan
        if name == "log_loss":
            return float(skm.log_loss(truth, score, labels=[0, 1]))
        return float(skm.brier_score_loss(truth, score, pos_label=1, labels=[0, 1]))
    decision = (score >= threshold).astype(np.int8)
    if name == "accuracy":
        return float(skm.accuracy_score(truth, decision))
    if name == "precision":
        return float(skm.precision_score(truth, decision, labels=[0, 1], zero_division=np.nan))
    if name == "recall":
        return float(skm.recall_score(truth, decision, labels=[0, 1], zero_division=np.nan))
    raise AssertionError(name)  # pragma: no cover - names are checked by the callers


def _regression_value(name: str, truth: np.ndarray, prediction: np.ndarray) -> float:
    """One regression metric on clean arrays; NaN if undefined (no rows, MAPE with a zero)."""
    if truth.shape[0] == 0:
        return math.nan
    if name == "mae":
        return float(skm.mean_absolute_error(truth, prediction))
    if name == "rmse":
        return float(skm.root_mean_squared_error(truth, prediction))
    if name == "mape":
        if np.any(truth == 0):
            return math.nan
        return float(skm.mean_absolute_percentage_error(truth, prediction))
    raise AssertionError(name)  # pragma: no cover


def _value(name: str, truth: np.ndarray, score: np.ndarray, threshold: float) -> float:
    if METRIC_TASKS[name] == "binary":
        return _binary_value(name, truth, score, threshold)
    return _regression_value(name, truth, score)


# -- public metrics -----------------------------------------------------------------------------


def binary_metrics(
    y_true: ArrayLike, y_score: ArrayLike, *, threshold: float = 0.5
) -> dict[str, float]:
    """All binary metrics (see the module docstring for definitions), NaN where undefined.

    A decision is ``y_score >= threshold``. Rows with a missing label are dropped.
    """
    where = "binary_metrics"
    threshold = _check_threshold(threshold, where)
    truth, score = _prepare(y_true, y_score, task="binary", where=where)
    return {name: _binary_value(name, truth, score, threshold) for name in BINARY_METRICS}


def regression_metrics(y_true: ArrayLike, y_pred: ArrayLike) -> dict[str, float]:
    """MAE, RMSE and MAPE (a fraction: 0.12 = 12 %), NaN where undefined.

    Rows with a missing true value are dropped.
    """
    truth, prediction = _prepare(
        y_true, y_pred, task="regression", where="regression_metrics", score_name="y_pred"
    )
    return {name: _regression_value(name, truth, prediction) for name in REGRESSION_METRICS}


def metric(name: str, y_true: ArrayLike, y_score: ArrayLike, *, threshold: float = 0.5) -> float:
    """One metric by name (a key of :data:`METRIC_LABELS`); the task follows from the name.

    For a regression metric ``y_score`` is the predicted value and ``threshold`` is ignored.
    """
    where = f"metric({name!r})"
    name = _check_name(name, where)
    threshold = _check_threshold(threshold, where)
    truth, score = _prepare(y_true, y_score, task=METRIC_TASKS[name], where=where)
    return _value(name, truth, score, threshold)


# -- bootstrap confidence intervals -------------------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    """A metric on the data (``value``) and a bootstrap confidence interval ``[low, high]``.

    ``low``/``high`` are NaN when the data cannot support an interval (see :func:`bootstrap`).
    """

    value: float
    low: float
    high: float
    confidence: float

    @property
    def has_interval(self) -> bool:
        return math.isfinite(self.low) and math.isfinite(self.high)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: NaN becomes ``None``."""
        return to_json(
            {"value": self.value, "low": self.low, "high": self.high, "confidence": self.confidence}
        )


def _minimum_support(name: str, truth: np.ndarray, score: np.ndarray, threshold: float) -> bool:
    """Whether the rows an interval rests on number at least 2 (fewer cannot show variation)."""
    if truth.shape[0] < 2:
        return False
    positives = int(np.count_nonzero(truth == 1))
    negatives = truth.shape[0] - positives
    if name == "roc_auc":
        return positives >= 2 and negatives >= 2
    if name in ("pr_auc", "recall"):
        return positives >= 2
    if name == "precision":
        return int(np.count_nonzero(score >= threshold)) >= 2
    return True


def _resampled_roc_auc(truth: np.ndarray, score: np.ndarray) -> Callable[..., np.ndarray]:
    """ROC AUC of many resamples at once, each given by its row numbers (a ``(batch, n)`` array).

    By hand because scikit-learn sorts the scores again for every resample, which is most of a
    bootstrap's time. Here the scores are ranked once (their distinct values, ascending); a
    resample's AUC is the Mann-Whitney statistic from its counts of positives ``P_k`` and
    negatives ``N_k`` at each distinct score ``k``: ``sum_k P_k (N_<k + N_k / 2) / (P N)`` (a tie
    counts one half), the area that ``roc_curve`` + ``auc`` give, up to rounding. NaN for a
    resample without both classes. Method: Hanley and McNeil (1982), "The meaning and use of the
    area under a ROC curve", Radiology 143(1).
    """
    levels, level = np.unique(score, return_inverse=True)
    width = levels.shape[0]
    positive = truth == 1

    def statistic(rows: np.ndarray, axis: int = -1) -> np.ndarray:
        rows = np.atleast_2d(rows)
        batch = rows.shape[0]
        cell = level[rows] + width * np.arange(batch)[:, None]  # (resample, score level)
        shape = (batch, width)
        pos = np.bincount(cell[positive[rows]], minlength=batch * width).reshape(shape)
        neg = np.bincount(cell.ravel(), minlength=batch * width).reshape(shape) - pos
        below = np.cumsum(neg, axis=1) - neg
        pairs = pos.sum(axis=1) * neg.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            auc = (pos * (below + neg / 2)).sum(axis=1) / pairs
        return np.where(pairs > 0, auc, np.nan)

    return statistic


def bootstrap(
    name_or_callable: str | Callable[[np.ndarray, np.ndarray], float],
    y_true: ArrayLike,
    y_score: ArrayLike,
    *,
    threshold: float = 0.5,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Estimate:
    """A metric and its percentile bootstrap confidence interval over rows.

    Rows (label and score together) are resampled with replacement ``n_resamples`` times by
    ``scipy.stats.bootstrap(paired=True)``; the interval is the ``(1 - confidence) / 2`` and
    ``(1 + confidence) / 2`` quantiles (linear interpolation) of the metric over the resamples.

    - *Percentile, not BCa*: BCa's jackknife recomputes the metric once per row (50,000 extra
      ROC AUCs for 50,000 rows), and is unstable for bounded, discrete metrics such as accuracy.
    - *Undefined resamples*: a resample can lack a class (no positives, so no ROC AUC). Such
      resamples are left out, so the interval is conditional on the metric being defined (the
      usual practice for AUC). ``low``/``high`` are NaN when the metric is undefined on the data,
      when fewer than 2 rows carry it (2 positives and 2 negatives for ROC AUC; 2 positives for
      PR AUC and recall; 2 flagged rows for precision; 2 rows otherwise), or when it is undefined
      on more than half the resamples.
    - *Cost*: one metric evaluation per resample. On 50,000 rows, 1,000 resamples of ROC AUC
      take about 2 s (the scores are ranked once for all resamples: :func:`_resampled_roc_auc`),
      and of the other metrics about 10 s (scikit-learn on each resample): lower
      ``n_resamples`` (e.g. 200) for interactive use.
    - A callable ``f(y_true, y_score) -> float`` may be given instead of a name. It receives
      float64 arrays (labels as 0.0/1.0); rows with a missing label are dropped as for named
      metrics, and a resample on which it raises
      ``ValueError`` or returns a non-finite value counts as undefined.

    The same ``seed`` gives the same interval, to the last digit.
    """
    where = "bootstrap"
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, int | np.integer):
        n_resamples = -1
    if n_resamples < 2:
        raise ParameterError(
            "n_resamples must be a whole number of at least 2",
            where=f"{where}: n_resamples",
            expected="an integer >= 2 (1000 is a good default, 200 for a quick look)",
            found=repr(n_resamples),
            fix="pass e.g. n_resamples=1000",
        )
    if not isinstance(confidence, int | float | np.number) or not 0 < float(confidence) < 1:
        raise ParameterError(
            "confidence must be a probability strictly between 0 and 1",
            where=f"{where}: confidence",
            expected="e.g. 0.95 for a 95 % interval",
            found=repr(confidence),
            fix="pass confidence=0.95 (not 95)",
        )
    confidence = float(confidence)
    threshold = _check_threshold(threshold, where)

    if callable(name_or_callable):
        function = name_or_callable
        truth, score = _prepare(y_true, y_score, task=None, where=where)

        def statistic(t: np.ndarray, s: np.ndarray) -> float:
            try:
                return float(function(t, s))
            except (ValueError, ZeroDivisionError):
                return math.nan

        value = float(function(truth, score))
        supported = truth.shape[0] >= 2
    else:
        name = _check_name(name_or_callable, where)
        truth, score = _prepare(y_true, y_score, task=METRIC_TASKS[name], where=where)

        def statistic(t: np.ndarray, s: np.ndarray) -> float:
            return _value(name, t, s, threshold)

        value = statistic(truth, score)
        supported = _minimum_support(name, truth, score, threshold)

    no_interval = Estimate(value=value, low=math.nan, high=math.nan, confidence=confidence)
    if not (math.isfinite(value) and supported):
        return no_interval

    n = truth.shape[0]
    # ROC AUC is computed from each resample's row numbers (the same draws: scipy resamples
    # paired data by resampling row numbers), all of a batch's resamples at once
    fast = name_or_callable == "roc_auc"
    with warnings.catch_warnings():
        # Undefined resamples are handled below; a warning per resample would only be noise.
        warnings.simplefilter("ignore")
        result = scipy.stats.bootstrap(
            (np.arange(n),) if fast else (truth, score),
            _resampled_roc_auc(truth, score) if fast else statistic,
            n_resamples=n_resamples,
            batch=max(1, min(n_resamples, _MAX_BATCH_CELLS // n)),
            vectorized=fast,
            paired=True,
            confidence_level=confidence,
            method="percentile",
            rng=np.random.default_rng(seed),
        )
    distribution = np.asarray(result.bootstrap_distribution, dtype="float64")
    distribution[~np.isfinite(distribution)] = np.nan
    if np.count_nonzero(~np.isnan(distribution)) < _MIN_DEFINED_SHARE * n_resamples:
        return no_interval
    alpha = (1 - confidence) / 2
    # Same quantile rule as scipy's own percentile interval, leaving out undefined resamples.
    low, high = scipy.stats.quantile(distribution, np.array([alpha, 1 - alpha]), nan_policy="omit")
    return Estimate(value=value, low=float(low), high=float(high), confidence=confidence)


# -- business value -----------------------------------------------------------------------------


@dataclass(frozen=True)
class BusinessValue:
    """What the model's decisions were worth, in the case's currency.

    ``total`` is the sum over decisions; ``per_1000 = total / decisions * 1000`` compares periods
    and models of different volume (NaN when there were no decisions). ``counts`` holds the
    confusion-matrix counts ``tp``/``fp``/``fn``/``tn`` for a binary task (empty for regression).
    """

    total: float
    per_1000: float
    decisions: int
    currency: str
    counts: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: NaN becomes ``None``."""
        return to_json(
            {
                "total": self.total,
                "per_1000": self.per_1000,
                "decisions": self.decisions,
                "currency": self.currency,
                "counts": dict(self.counts),
            }
        )


def business_value(
    y_true: ArrayLike, y_score: ArrayLike, business: Business, *, task: Task = "binary"
) -> BusinessValue:
    """Money gained or lost by the model's decisions, from the case's ``business`` section.

    Binary: decisions are ``y_score >= business.threshold``; with the confusion-matrix counts,
    ``total = TP * v_tp + FP * v_fp + FN * v_fn + TN * v_tn`` (``business.value``, money per
    decision, losses negative). Regression: ``total = -business.cost_per_unit_error *
    sum|y - y_pred|``. Rows with a missing label are dropped (their outcome is not known yet).
    """
    where = "business_value"
    if task not in ("binary", "regression"):
        raise ParameterError(
            f"unknown task {task!r}",
            where=f"{where}: task",
            expected="'binary' or 'regression'",
            found=repr(task),
            fix="pass the case's task (case.task)",
        )
    if not isinstance(business, Business):
        raise ParameterError(
            "the case has no business section, so decisions cannot be valued in money",
            where="case file: business",
            expected="a business section (currency, and value or cost_per_unit_error)",
            found=repr(business) if business is None else type(business).__name__,
            fix="add a business section to the case file, e.g. business: {currency: USD, value: "
            "{true_positive: 120, false_positive: -15, false_negative: -250, true_negative: 0}}",
        )
    truth, score = _prepare(y_true, y_score, task=task, where=where)
    n = int(truth.shape[0])

    if task == "binary":
        if business.value is None:
            raise ParameterError(
                "the case has no value matrix, so binary decisions cannot be valued in money",
                where="case file: business.value",
                expected="business.value with true_positive, false_positive, false_negative "
                "and true_negative (money per decision; losses negative)",
                found="no business.value",
                fix="fill in business.value in the case file, e.g. value: {true_positive: 120, "
                "false_positive: -15, false_negative: -250, true_negative: 0}",
            )
        decision = (score >= business.threshold).astype(np.int8)
        tn, fp, fn, tp = (
            (int(c) for c in skm.confusion_matrix(truth, decision, labels=[0, 1]).ravel())
            if n
            else (0, 0, 0, 0)  # scikit-learn refuses an empty confusion matrix
        )
        matrix = business.value
        total = (
            tp * matrix.true_positive
            + fp * matrix.false_positive
            + fn * matrix.false_negative
            + tn * matrix.true_negative
        )
        counts = {"tp": tp, "fp": fp, "fn": fn, "tn": tn}
    else:
        if business.cost_per_unit_error is None:
            raise ParameterError(
                "the case has no cost per unit of error, so regression errors cannot be "
                "valued in money",
                where="case file: business.cost_per_unit_error",
                expected="business.cost_per_unit_error: money lost per unit of absolute error "
                "(>= 0)",
                found="no business.cost_per_unit_error",
                fix="fill in business.cost_per_unit_error in the case file, e.g. "
                "cost_per_unit_error: 2.5",
            )
        total = -business.cost_per_unit_error * float(np.sum(np.abs(truth - score))) if n else 0.0
        counts = {}
    per_1000 = total / n * 1000 if n else math.nan
    return BusinessValue(
        total=float(total),
        per_1000=float(per_1000),
        decisions=n,
        currency=business.currency,
        counts=counts,
    )
