"""Leakage probe: features whose link to the label looks too good to be available in production.

Why: a feature computed after the outcome (a chargeback count that includes this transaction's
own chargeback) makes a model shine offline and fail in production. Declared availability
(``available_at_prediction: false``) is reported by the audit; this probe looks for leakage nobody
declared, from two symptoms:

(a) **Too strong alone**: the feature on its own predicts the label far better than any other
    feature (strength at least ``MARGIN`` above the next best feature), or nearly perfectly
    (strength at least ``ALONE``).
(b) **Weaker in production**: its strength in training is much higher than on the labelled
    serving log (a drop of at least ``DROP``), i.e. training saw information serving does not.

Strength of one feature alone:

- binary: ROC AUC of the feature as a score, folded so that 0.5 = no signal and 1 = perfect.
  Numeric: the raw value, missing values imputed with the training median (the same median on
  serving). Categorical: target encoding, the category's positive rate smoothed towards the
  overall rate with a weight of ``SMOOTHING`` rows (missing is a category of its own); on training
  it is computed out of fold (5 random folds drawn with ``seed``) so a category cannot score its
  own rows, on serving from all of training (categories unseen in training get the overall rate).
- regression: |Spearman rho| (``scipy.stats.spearmanr``) with the same inputs (target encoding
  uses the mean label).

Training strength is measured on the whole training set (a raw value has nothing fitted to
overfit; categories are encoded out of fold). The drop in (b) compares serving in the direction
the feature has in training, so a reversed association counts as a drop.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.stats
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import KFold

from prodready.case import Case, sample_note
from prodready.results import to_json
from prodready.spec import Feature

# Thresholds by task: (alone, margin over the next feature, drop training -> serving).
# Binary strengths live on [0.5, 1], |rho| on [0, 1], so regression margins are doubled.
THRESHOLDS: dict[str, dict[str, float]] = {
    "binary": {"alone": 0.9, "margin": 0.15, "drop": 0.10},
    "regression": {"alone": 0.9, "margin": 0.30, "drop": 0.20},
}
SMOOTHING = 10.0
FOLDS = 5
# The drop rule needs this many labelled serving rows of each class (binary) or in all
# (regression); with fewer, serving strength is too noisy to call a drop.
MIN_SERVING_CLASS_ROWS = 30
_MISSING = "\x00missing"
_STRENGTH_NAME = {"binary": "ROC AUC", "regression": "|Spearman rho|"}


@dataclass(frozen=True)
class LeakageProbe:
    """Per-feature leakage evidence.

    ``features`` (index ``feature``): strength_training, strength_serving (see the module
    docstring), margin_over_next (training strength minus the best other feature's), drop
    (training strength minus serving strength in the training direction), leakage_suspect,
    reason (one sentence with the numbers, ``""`` when not suspect), note (why a strength is
    NaN, else ``""``).
    """

    features: pd.DataFrame = field(repr=False)
    metric: str = "ROC AUC"

    def to_frame(self) -> pd.DataFrame:
        return self.features

    @property
    def suspects(self) -> list[str]:
        return self.features.index[self.features["leakage_suspect"]].tolist()

    def to_dict(self) -> dict[str, Any]:
        return to_json({"metric": self.metric, "features": self.features})


def probe_leakage(case: Case, *, seed: int = 0) -> LeakageProbe:
    """Measure each feature's strength alone on the label, in training and serving, and flag
    the ones that look leaky (rules and thresholds in the module docstring)."""
    task = case.task
    label = case.columns.label
    training = case.training
    serving = case.labelled_serving
    y_train = training[label].to_numpy(dtype="float64", na_value=np.nan)
    y_serve = serving[label].to_numpy(dtype="float64", na_value=np.nan)
    keep = ~np.isnan(y_train)
    folds = _fold_ids(int(keep.sum()), seed)
    serving_ok = _enough(y_serve, task)

    labelled = training.loc[keep]
    rows = [
        _probe_feature(feature, labelled, y_train[keep], serving, y_serve, task, folds, serving_ok)
        for feature in case.features
    ]
    empty = {
        "feature": "str",
        "strength_training": "float64",
        "strength_serving": "float64",
        "_serving_directed": "float64",
        "note": "str",
    }
    table = pd.DataFrame(rows) if rows else pd.DataFrame(columns=list(empty)).astype(empty)
    table = table.set_index("feature")
    table["margin_over_next"] = _margins(table["strength_training"])
    table["drop"] = table["strength_training"] - table["_serving_directed"]
    table = table.drop(columns="_serving_directed")
    judged = [_judge(row, task) for _, row in table.iterrows()]
    suspects = [suspect for suspect, _ in judged]
    reasons = [reason for _, reason in judged]
    table["leakage_suspect"] = np.array(suspects, dtype=bool)
    table["reason"] = pd.Series(reasons, index=table.index, dtype="str")
    sampled = _sample_note(case)
    if sampled:
        table["note"] = [
            f"{note}; {sampled}" if note else sampled for note in table["note"].astype("str")
        ]
    table["note"] = table["note"].astype("str")
    columns = ["strength_training", "strength_serving", "margin_over_next", "drop"]
    table[columns] = table[columns].astype("float64")
    return LeakageProbe(
        features=table[[*columns, "leakage_suspect", "reason", "note"]],
        metric=_STRENGTH_NAME[task],
    )


def _sample_note(case: Case) -> str:
    return sample_note(case, "training strength measured on", "serving strength measured on")


def _fold_ids(n: int, seed: int) -> np.ndarray:
    ids = np.zeros(n, dtype=np.int64)
    if n >= FOLDS:
        splitter = KFold(n_splits=FOLDS, shuffle=True, random_state=seed)
        for fold, (_, part) in enumerate(splitter.split(np.zeros(n))):
            ids[part] = fold
    return ids


def _enough(y: np.ndarray, task: str) -> bool:
    y = y[~np.isnan(y)]
    if task == "binary":
        positives = int(np.count_nonzero(y == 1))
        return min(positives, y.size - positives) >= MIN_SERVING_CLASS_ROWS
    return y.size >= MIN_SERVING_CLASS_ROWS


def _probe_feature(
    feature: Feature,
    training: pd.DataFrame,
    y_train: np.ndarray,
    serving: pd.DataFrame,
    y_serve: np.ndarray,
    task: str,
    folds: np.ndarray,
    serving_ok: bool,
) -> dict[str, Any]:
    name = feature.name
    row: dict[str, Any] = {
        "feature": name,
        "strength_training": math.nan,
        "strength_serving": math.nan,
        "_serving_directed": math.nan,
        "note": "",
    }
    if name not in training:
        row["note"] = f"{name} is not in the training data"
        return row
    notes = []
    numeric = feature.type == "numeric"
    if numeric:
        x_train = pd.to_numeric(training[name], errors="coerce").to_numpy("float64", np.nan)
        if np.isnan(x_train).all():
            row["note"] = f"{name} has no numeric value in training"
            return row
        # Binary: the feature's own model is the label rate of its training-quantile bin, out
        # of fold, so a non-monotone leak (the outcome at both ends of the range) is caught too.
        # Regression: the raw value (Spearman's rho is already a rank statistic).
        edges = _bin_edges(x_train)
        constant = np.nanmin(x_train) == np.nanmax(x_train)
        if task == "binary" and not constant:
            x_fit = _oof_encoding(_bins(x_train, edges), y_train, folds)
        else:
            median = float(np.nanmedian(x_train))
            x_fit = np.where(np.isnan(x_train), median, x_train)
    else:
        x_fit = _oof_encoding(_categories(training[name]), y_train, folds)
    train_raw = _raw_strength(x_fit, y_train, task)
    row["strength_training"] = _fold(train_raw, task)

    if name not in serving:
        notes.append(f"{name} is not in the serving log")
    elif len(serving) == 0:
        notes.append("no serving row has its label yet")
    elif serving[name].isna().all():
        notes.append(f"{name} is empty on every labelled serving row")
    else:
        if numeric:
            x_serve = pd.to_numeric(serving[name], errors="coerce").to_numpy("float64", np.nan)
            if task == "binary" and not constant:
                x_serve = _apply_encoding(_bins(x_train, edges), y_train, _bins(x_serve, edges))
            else:
                x_serve = np.where(np.isnan(x_serve), median, x_serve)
        else:
            x_serve = _apply_encoding(
                _categories(training[name]), y_train, _categories(serving[name])
            )
        serve_raw = _raw_strength(x_serve, y_serve, task)
        row["strength_serving"] = _fold(serve_raw, task)
        if serving_ok:
            row["_serving_directed"] = _directed(serve_raw, train_raw, task)
        else:
            notes.append("too few labelled serving rows of each class to judge a drop")
    row["note"] = "; ".join(notes)
    return row


NUMERIC_BINS = 20  # training-quantile bins of a numeric feature's own model


def _bin_edges(values: np.ndarray) -> np.ndarray:
    present = values[~np.isnan(values)]
    return np.unique(np.quantile(present, np.linspace(0, 1, NUMERIC_BINS + 1)[1:-1]))


def _bins(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin number of each value as a category key; missing values get a key of their own."""
    keys = np.searchsorted(edges, values, side="left").astype(object)
    keys[np.isnan(values)] = _MISSING
    return keys


def _categories(values: pd.Series) -> np.ndarray:
    return values.astype("str").where(values.notna(), _MISSING).to_numpy(dtype=object)


def _encode(keys: np.ndarray, fit_keys: np.ndarray, fit_y: np.ndarray, prior: float) -> np.ndarray:
    """Smoothed mean label of each key's category in (fit_keys, fit_y); unseen -> ``prior``.

    ``prior`` is the whole training set's rate in every fold: a per-fold prior would differ a
    little from fold to fold and give categories never seen elsewhere a spurious signal.
    """
    stats = pd.DataFrame({"k": fit_keys, "y": fit_y}).groupby("k")["y"].agg(["sum", "count"])
    encoded = (stats["sum"] + SMOOTHING * prior) / (stats["count"] + SMOOTHING)
    at = encoded.index.get_indexer(keys)  # -1: a key the fitting rows do not hold
    out = np.full(len(keys), prior, dtype="float64")
    out[at >= 0] = encoded.to_numpy(dtype="float64")[at[at >= 0]]
    return out


def _oof_encoding(keys: np.ndarray, y: np.ndarray, folds: np.ndarray) -> np.ndarray:
    prior = float(y.mean()) if y.size else math.nan
    out = np.empty(keys.size, dtype="float64")
    for fold in np.unique(folds):
        part = folds == fold
        if part.all():  # too few rows for folds: in-sample encoding
            return _encode(keys, keys, y, prior)
        out[part] = _encode(keys[part], keys[~part], y[~part], prior)
    return out


def _apply_encoding(fit_keys: np.ndarray, fit_y: np.ndarray, keys: np.ndarray) -> np.ndarray:
    prior = float(fit_y.mean()) if fit_y.size else math.nan
    return _encode(keys, fit_keys, fit_y, prior)


def _raw_strength(x: np.ndarray, y: np.ndarray, task: str) -> float:
    """Binary: ROC AUC of x as a score (unfolded). Regression: Spearman rho (signed).

    A constant x carries no signal: AUC 0.5, rho 0.
    """
    keep = ~np.isnan(y) & ~np.isnan(x)
    x, y = x[keep], y[keep]
    if task == "binary":
        if y.size == 0 or np.unique(y).size < 2:
            return math.nan
        if np.ptp(x) == 0:
            return 0.5
        return float(roc_auc_score(y, x))
    if y.size < 3:
        return math.nan
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(scipy.stats.spearmanr(x, y).statistic)


def _fold(raw: float, task: str) -> float:
    if math.isnan(raw):
        return math.nan
    return max(raw, 1 - raw) if task == "binary" else abs(raw)


def _directed(serve_raw: float, train_raw: float, task: str) -> float:
    """Serving strength measured in the direction the feature has in training."""
    if math.isnan(serve_raw) or math.isnan(train_raw):
        return math.nan
    if task == "binary":
        return serve_raw if train_raw >= 0.5 else 1 - serve_raw
    return serve_raw if train_raw >= 0 else -serve_raw


def _margins(strength: pd.Series) -> pd.Series:
    """Each feature's strength minus the best *other* feature's (NaN with one feature)."""
    values = strength.to_numpy(dtype="float64")
    out = np.full(values.size, np.nan)
    for i in range(values.size):
        others = np.delete(values, i)
        others = others[~np.isnan(others)]
        if others.size and not math.isnan(values[i]):
            out[i] = values[i] - others.max()
    return pd.Series(out, index=strength.index)


def _judge(row: pd.Series, task: str) -> tuple[bool, str]:
    """Apply rules (a) and (b); the reason states the numbers in one sentence."""
    limits = THRESHOLDS[task]
    metric = _STRENGTH_NAME[task]
    train, serve = row["strength_training"], row["strength_serving"]
    margin, drop = row["margin_over_next"], row["drop"]
    dominant = not math.isnan(margin) and margin >= limits["margin"]
    alone = not math.isnan(train) and train >= limits["alone"]
    weaker = not math.isnan(drop) and drop >= limits["drop"]
    if not (dominant or alone or weaker):
        return False, ""
    served = f"{serve:.2f}" if not math.isnan(serve) else "not measurable"
    # reversed: serving, read in the training direction, sits clearly below "no signal"
    directed = train - drop
    reversed_ = (
        " with its direction reversed"
        if weaker and directed < _floor(task) - limits["drop"] / 2
        else ""
    )
    if dominant or alone:
        text = f"alone it scores {metric} {train:.2f} in training"
        if dominant:
            text += f", {margin:.2f} above any other feature"
        if weaker:
            text += f", but {served} in serving{reversed_}"
        elif not math.isnan(serve):
            text += f" ({served} in serving)"
        text += ": its value may be computed after the outcome"
        return True, text
    return True, (
        f"alone it scores {metric} {train:.2f} in training but {served} in serving{reversed_}: "
        "the offline value may carry information production does not have at prediction time"
    )


def _floor(task: str) -> float:
    """Strength of no signal."""
    return 0.5 if task == "binary" else 0.0
