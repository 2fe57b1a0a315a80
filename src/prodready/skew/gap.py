"""What production really gets: the offline metric next to the metric on the serving log.

Why: a model evaluated on a held-out slice of training is fed the offline pipeline's features,
including any that leak the outcome or that serving computes differently. Scoring the same model
on the serving log, with what serving really computed, shows the gap a team will meet in
production; a second model trained only on features available at prediction time shows what an
honest model would have promised.

Protocol (see :func:`metric_gap`):

- Holdout = the last calendar month of training when training spans at least 3 calendar months
  (UTC), else the last 20% of training rows by time. Both models are fitted on the rest with
  :func:`prodready.models.fit` (regression: the same booster settings as a regressor).
- ``offline`` = the case's main metric (ROC AUC, or MAE for regression) on the holdout;
  ``serving`` = the same model on the serving rows whose label has arrived, fed the serving log's
  own feature values.
- Business value per 1,000 decisions (:func:`prodready.metrics.business_value`). Binary: the
  threshold is the one that maximises value on the holdout among the holdout scores at the
  quantiles 0, 0.5%, ..., 100% (so it is chosen offline, as a team would), then applied unchanged to
  serving. Regression: the cost per unit of absolute error. NaN without a business section.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from prodready import metrics, models
from prodready.case import Case
from prodready.case import sample_note as case_sample_note
from prodready.errors import ProdreadyError
from prodready.results import to_json
from prodready.spec import Feature

PRIMARY_METRIC = {"binary": "roc_auc", "regression": "mae"}
ALL_FEATURES = "all features"
PREDICTION_TIME = "prediction-time features only"
# Threshold candidates: these quantiles of the holdout scores.
THRESHOLD_QUANTILES = np.linspace(0.0, 1.0, 201)
HOLDOUT_MONTHS_MIN = 3
HOLDOUT_SHARE = 0.2

_COLUMNS = [
    "offline",
    "serving",
    "offline_value_per_1000",
    "serving_value_per_1000",
    "threshold",
    "features",
    "holdout_rows",
    "serving_rows",
    "note",
]


@dataclass(frozen=True)
class MetricGap:
    """Offline vs serving metric (and money) for a model with all features and an honest one.

    ``table`` (index ``model``: "all features", "prediction-time features only") has columns
    offline, serving, offline_value_per_1000, serving_value_per_1000, threshold, features
    (count), holdout_rows, serving_rows (labelled rows scored) and note (why a figure is NaN,
    else ``""``).
    """

    metric: str
    label: str
    table: pd.DataFrame = field(repr=False)
    holdout_start: pd.Timestamp
    currency: str | None

    def _get(self, model: str, column: str) -> float:
        return float(self.table.loc[model, column])

    @property
    def offline(self) -> float:
        return self._get(ALL_FEATURES, "offline")

    @property
    def serving(self) -> float:
        return self._get(ALL_FEATURES, "serving")

    @property
    def honest_offline(self) -> float:
        return self._get(PREDICTION_TIME, "offline")

    @property
    def honest_serving(self) -> float:
        return self._get(PREDICTION_TIME, "serving")

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def to_dict(self) -> dict[str, Any]:
        return to_json(
            {
                "metric": self.metric,
                "label": self.label,
                "holdout_start": self.holdout_start,
                "currency": self.currency,
                "table": self.table,
            }
        )


def holdout_split(case: Case) -> tuple[np.ndarray, pd.Timestamp]:
    """Boolean mask of the training rows held out, and when the holdout starts (UTC).

    The last calendar month when training spans at least 3 calendar months, else the last 20%
    of rows by time (rows sharing the boundary timestamp go to the holdout).
    """
    times = case.training[case.columns.timestamp]
    naive = times.dt.tz_convert("UTC").dt.tz_localize(None)
    first, last = naive.min().to_period("M"), naive.max().to_period("M")
    if (last - first).n + 1 >= HOLDOUT_MONTHS_MIN:
        start = pd.Timestamp(last.start_time).tz_localize("UTC")
    else:
        ordered = np.sort(times.to_numpy())
        position = min(math.floor(len(ordered) * (1 - HOLDOUT_SHARE)), len(ordered) - 1)
        start = pd.Timestamp(ordered[position])
        start = start.tz_localize("UTC") if start.tzinfo is None else start.tz_convert("UTC")
    return (times >= start).to_numpy(), start


def metric_gap(case: Case, *, seed: int = 0) -> MetricGap:
    """Offline (time holdout) vs serving metric and value, for all features and honest ones.

    A model whose features the serving log lacks cannot be scored on serving: its serving
    figures are NaN and ``note`` says which columns are missing. Nothing raises for bad data;
    the reason for every NaN is in ``note``.
    """
    task = case.task
    name = PRIMARY_METRIC[task]
    held, start = holdout_split(case)
    fit_part, holdout = case.training.loc[~held], case.training.loc[held]
    serving = case.labelled_serving
    honest = [f for f in case.features if f.available_at_prediction]
    rows = {
        ALL_FEATURES: _evaluate(case, case.features, fit_part, holdout, serving, name, seed),
        PREDICTION_TIME: _evaluate(case, honest, fit_part, holdout, serving, name, seed),
    }
    table = pd.DataFrame.from_dict(rows, orient="index")[_COLUMNS]
    table.index.name = "model"
    floats = [c for c in _COLUMNS if c not in ("features", "holdout_rows", "serving_rows", "note")]
    table[floats] = table[floats].astype("float64")
    table[["features", "holdout_rows", "serving_rows"]] = table[
        ["features", "holdout_rows", "serving_rows"]
    ].astype("int64")
    sampled = sample_note(case)
    if sampled:
        table["note"] = [
            f"{note}; {sampled}" if note else sampled for note in table["note"].astype("str")
        ]
    table["note"] = table["note"].astype("str")
    return MetricGap(
        metric=name,
        label=metrics.METRIC_LABELS[name],
        table=table,
        holdout_start=start,
        currency=case.business.currency if case.business else None,
    )


def sample_note(case: Case) -> str:
    """``"fitted on a uniform sample of 500,000 of the 5,400,000 training rows; serving scored
    on a uniform sample of 500,000 of the 10,000,000 serving rows"`` (the parts that apply) when
    the case holds only samples of its data (``load_case(..., lazy=True)``), else ``""``."""
    return case_sample_note(case, "fitted on", "serving scored on")


def _evaluate(
    case: Case,
    features: list[Feature],
    fit_part: pd.DataFrame,
    holdout: pd.DataFrame,
    serving: pd.DataFrame,
    name: str,
    seed: int,
) -> dict[str, Any]:
    label = case.columns.label
    row: dict[str, Any] = dict.fromkeys(_COLUMNS, math.nan)
    row.update(
        features=len(features), holdout_rows=len(holdout), serving_rows=len(serving), note=""
    )
    notes: list[str] = []
    if not features:
        row["note"] = (
            "no feature is available at prediction time, so there is no honest model"
            if case.features
            else "the case has no features, so there is no model"
        )
        return row
    if len(fit_part) == 0 or len(holdout) == 0:
        row["note"] = "training is too short to hold out a time slice and still fit a model"
        return row
    try:
        model = _fit(case, fit_part, features, seed)
    except ProdreadyError as exc:
        row["note"] = f"the model could not be fitted: {exc.problem}"
        return row
    try:
        offline_score = model(holdout)
    except ProdreadyError as exc:
        row["note"] = f"the holdout could not be scored: {exc.problem}"
        return row
    row["offline"] = metrics.metric(name, holdout[label], offline_score)
    threshold = _best_threshold(case, holdout[label], offline_score)
    row["threshold"] = threshold
    row["offline_value_per_1000"] = _value(case, holdout[label], offline_score, threshold)

    lacking = [f.name for f in features if f.name not in serving.columns]
    if lacking:
        notes.append(
            f"the serving log has no {', '.join(lacking)}, so this model cannot be scored on "
            "serving"
        )
    elif len(serving) == 0:
        notes.append("no serving row has its label yet, so serving cannot be scored")
    else:
        try:
            serving_score = model(serving)
        except ProdreadyError as exc:
            notes.append(f"the serving log could not be scored: {exc.problem}")
        else:
            row["serving"] = metrics.metric(name, serving[label], serving_score)
            row["serving_value_per_1000"] = _value(case, serving[label], serving_score, threshold)
    shown = metrics.METRIC_LABELS[name]
    if math.isnan(row["offline"]):
        notes.append(f"{shown} is undefined on the holdout (it needs both classes)")
    elif not notes and len(serving) and math.isnan(row["serving"]):
        notes.append(f"{shown} is undefined on labelled serving rows (it needs both classes)")
    row["note"] = "; ".join(notes)
    return row


def _fit(case: Case, fit_part: pd.DataFrame, features: list[Feature], seed: int) -> Any:
    """A scoring function: the case's baseline model (a classifier, or its regression twin)."""
    fitted = models.fit(fit_part, features, case.columns.label, seed=seed, task=case.task)
    return fitted.predict_score


def _best_threshold(case: Case, truth: pd.Series, score: np.ndarray) -> float:
    """The holdout score at quantile 0, 0.5%, ..., 100% (inverted CDF: a score that occurs)
    whose decisions are worth the most.

    NaN for regression or without a value matrix. Ties go to the lowest threshold.
    """
    business = case.business
    if case.task != "binary" or business is None or business.value is None:
        return math.nan
    y = truth.to_numpy(dtype="float64", na_value=np.nan)
    keep = ~np.isnan(y)
    y, s = y[keep], np.asarray(score, dtype="float64")[keep]
    if y.size == 0:
        return math.nan
    # inverted-CDF quantiles are scores that occur, so each candidate is a real decision rule
    candidates = np.unique(
        np.clip(np.quantile(s, THRESHOLD_QUANTILES, method="inverted_cdf"), 0.0, 1.0)
    )
    order = np.sort(s)
    positives = np.sort(s[y == 1])
    flagged = s.size - np.searchsorted(order, candidates, side="left")
    tp = positives.size - np.searchsorted(positives, candidates, side="left")
    fp = flagged - tp
    fn = positives.size - tp
    tn = s.size - positives.size - fp
    v = business.value
    value = (
        tp * v.true_positive + fp * v.false_positive + fn * v.false_negative + tn * v.true_negative
    )
    return float(candidates[int(np.argmax(value))])


def _value(case: Case, truth: pd.Series, score: np.ndarray, threshold: float) -> float:
    """Value per 1,000 decisions; NaN without a business section or with no labelled row."""
    business = case.business
    if business is None:
        return math.nan
    if case.task == "binary":
        if business.value is None or math.isnan(threshold):
            return math.nan
        business = business.model_copy(update={"threshold": threshold})
    elif business.cost_per_unit_error is None:
        return math.nan
    return metrics.business_value(truth, score, business, task=case.task).per_1000
