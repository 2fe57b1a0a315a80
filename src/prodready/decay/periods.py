"""A model's metric and business value on one period of the history, with hindsight labels.

Both the aging curve and the policy comparison judge a period by every label the data holds for
it (the audit looks back from the export): only retraining decisions are limited to the labels
known at the time. A period whose labels cannot support the metric gets NaN: a binary metric
needs ``MIN_EACH_CLASS`` positives and negatives, a regression metric ``MIN_ROWS`` rows.
"""

from __future__ import annotations

import itertools
import math
import re

import numpy as np

from prodready import metrics
from prodready.decay.history import LABEL, History
from prodready.errors import ParameterError
from prodready.spec import Business

MIN_EACH_CLASS = 10
MIN_ROWS = 30
CHANCE = {"roc_auc": 0.5}  # the level of a model with no skill; 0 for other metrics


def short_label(metric: str) -> str:
    """The metric's name as a sentence uses it: "ROC AUC", "MAE", "accuracy"."""
    label = metrics.METRIC_LABELS[metric]
    acronym = re.search(r"\(([A-Z]{2,})", label)
    if acronym:
        return acronym.group(1)
    first = label.split()[0]
    return label if first.isupper() or first == "Brier" else label[0].lower() + label[1:]


def default_metric(task: str) -> str:
    return "roc_auc" if task == "binary" else "mae"


def check_metric(name: str | None, task: str) -> str:
    """The metric to use: ``name`` validated for the task, or the task's default."""
    if name is None:
        return default_metric(task)
    allowed = metrics.BINARY_METRICS if task == "binary" else metrics.REGRESSION_METRICS
    if name not in allowed:
        from prodready.errors import ParameterError

        raise ParameterError(
            f"metric {name!r} does not fit a {task} case",
            where="metric",
            expected=", ".join(allowed),
            found=repr(name),
            fix=f"pick one of: {', '.join(allowed)}",
        )
    return name


def enough(task: str, truth: np.ndarray) -> bool:
    if task == "binary":
        positives = int(np.count_nonzero(truth == 1))
        return min(positives, truth.size - positives) >= MIN_EACH_CLASS
    return truth.size >= MIN_ROWS


def period_metric(
    hist: History, score: np.ndarray, lo: int, hi: int, metric: str, threshold: float
) -> float:
    """``metric`` of ``score`` (the scores of rows ``lo:hi``) on those rows that are labelled
    (NaN when they cannot support it)."""
    truth = hist.frame[LABEL].to_numpy()[lo:hi]
    keep = ~np.isnan(truth) & ~np.isnan(score)
    truth, score = truth[keep], score[keep]
    if not enough(hist.task, truth):
        return math.nan
    return metrics.metric(metric, truth, score, threshold=threshold)


def period_value(
    hist: History, score: np.ndarray, lo: int, hi: int, business: Business | None
) -> float:
    """Money of the decisions on rows ``lo:hi`` (``score`` their scores) that are labelled
    (unlabelled rows count 0); NaN without a business section."""
    if business is None or (business.value is None and business.cost_per_unit_error is None):
        return math.nan
    truth = hist.frame[LABEL].to_numpy()[lo:hi]
    keep = ~np.isnan(truth) & ~np.isnan(score)
    if not keep.any():
        return 0.0
    return metrics.business_value(truth[keep], score[keep], business, task=hist.task).total


AUTO_STEP = "auto"
STEP_CANDIDATES = ("7D", "14D", "28D", "56D", "91D")


def choose_step(case_or_history, *, step: str = AUTO_STEP, train_window: str = "90D") -> str:
    """``step`` as given, or for ``"auto"`` the shortest of :data:`STEP_CANDIDATES` whose
    periods can mostly be measured: at least half of them hold labels enough for the metric
    (:func:`enough`: 10 of each class, or 30 rows). Counted from the labels alone, before any
    model is trained, so a small case gets a longer step instead of a failed aging curve. When
    none qualifies, the longest the history holds is returned (the aging curve then says what
    is missing)."""
    from prodready.decay.history import grid, history

    if step != AUTO_STEP:
        return step
    hist = case_or_history if isinstance(case_or_history, History) else history(case_or_history)
    truth = hist.frame[LABEL].to_numpy()
    fitting = STEP_CANDIDATES[0]
    for candidate in STEP_CANDIDATES:
        try:
            g = grid(hist, train_window, candidate)
        except ParameterError:  # too little history for this step, and so for longer ones
            break
        fitting = candidate
        bounds = hist.position(g.points)
        measurable = [
            enough(hist.task, truth[lo:hi][~np.isnan(truth[lo:hi])])
            for lo, hi in itertools.pairwise(bounds)
        ]
        if np.mean(measurable) >= 0.5:
            return candidate
    return fitting
