"""Daily profiles of a serving log: every series the monitors watch, computed once.

Days are UTC calendar days from the first event's day to the last event's day; a day without
traffic is present with ``volume`` 0 (and NaN for every share, which is undefined there). Each
row is assigned to its day once; every series is then a ``np.bincount`` over day numbers (or a
short loop over days, never over rows). Features are processed one at a time so memory stays at
a few arrays of the log's length.

Series (columns of the daily frame; ``F`` a feature name)
---------------------------------------------------------
* ``volume``: events that day.
* ``error_rate``: share of the day's events without a usable served score (missing, NaN,
  infinite, or outside [0, 1] for a binary case). A case that passed the loader has none, so this
  is 0: system health stays green whatever the model does.
* ``flag_rate``: share of events with ``score >= threshold`` (the case's
  ``business.threshold``, 0.5 without one); ``review_load``: their count (binary cases).
* ``labels_known``: events of the day whose label had arrived by the day's end
  (``label_time < next midnight``; without a label_time column a present label counts as known
  at once); ``labels_hindsight``: events of the day with a label in the log at all.
* ``value_per_1000_known``: money per 1,000 decisions over the day's events whose label had
  arrived by the day's end, what a live monitor can see; ``value_per_1000_hindsight``: the same
  over every label in the log, known only later (for comparison, not for a live monitor).
  Money as :func:`prodready.metrics.business_value`: binary ``TP v_tp + FP v_fp + FN v_fn + TN
  v_tn`` over ``score >= threshold``; regression ``-cost_per_unit_error * sum |y - prediction|``.
* With ``business.amount`` naming a money column (binary cases; a missing amount counts as 0):
  ``flagged_amount``, the amount of the day's flagged events, and ``flagged_amount_share``, that
  over the day's whole amount (both label-free); ``caught_amount_known``, the amount of flagged
  events that turned out positive among labels arrived by the day's end, and
  ``caught_amount_share_known``, that over the amount of every known positive (the share of the
  fraud money the model caught; NaN without a known positive amount); ``caught_amount_hindsight``
  and ``caught_amount_share_hindsight``, the same over every label in the log.
* ``mean_score``: mean served score; ``score_psi`` and ``score_js``: PSI and Jensen-Shannon
  distance of the day's scores against the reference's, on the reference's deciles, exactly as
  :func:`prodready.stats.drift.numeric_shift` (natural-log PSI with empty shares raised to 1e-4;
  JS distance base 2); NaN for a day with fewer than 2 scores.
* ``roc_auc_known`` (binary) or ``mae_known`` (regression): the metric on the events of the
  trailing 7 days (the day and the 6 before, :data:`LABEL_WINDOW_DAYS`) whose label had arrived
  by the day's end; NaN without both classes (ROC AUC) or without labels.
* ``estimated_roc_auc``: the label-free estimate (:func:`prodready.estimate.performance`, chunks
  of one UTC day, calibrated on the reference's labelled rows), filled in by the replay.
* Per numeric feature: ``missing_rate[F]`` (share of events with no value), ``out_of_range[F]``
  (share of the present values below the reference's minimum or above its maximum),
  ``stuck_share[F]`` (share of the present values equal to the day's most frequent value) and
  ``constant[F]`` (1 when the day's values all equal each other, so their standard deviation is
  0, else 0; NaN with fewer than 2 values). Per categorical feature: ``missing_rate[F]``,
  ``unseen_share[F]`` (share of present values whose category the reference never saw) and
  ``stuck_share[F]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.spatial.distance import jensenshannon

from prodready.stats.drift import PSI_EPSILON, NumericReference

__all__ = [
    "LABEL_WINDOW_DAYS",
    "Days",
    "FeatureReference",
    "KnownLabels",
    "daily_profiles",
    "day_numbers",
    "profile_days",
]

LABEL_WINDOW_DAYS = 7
"""Days of events (the day and the 6 before) that the performance on known labels covers."""

_US_PER_DAY = 86_400_000_000


def day_numbers(times: pd.Series) -> np.ndarray:
    """UTC day number (days since 1970-01-01) of each timestamp; naive times are taken as UTC."""
    index = pd.DatetimeIndex(times)
    if index.tz is not None:
        index = index.tz_convert("UTC")
    return np.floor_divide(index.as_unit("us").asi8, _US_PER_DAY)


@dataclass(frozen=True, eq=False)
class Days:
    """The log's rows assigned to UTC days: ``index`` (day position of each row, from 0),
    ``bounds`` (where each day starts in day order, length ``n + 1``), ``order`` (the rows in day
    order; ``None`` when the rows already are, as a loaded case's are)."""

    first: int  # day number of the first day
    n: int
    index: np.ndarray
    bounds: np.ndarray
    order: np.ndarray | None

    @classmethod
    def from_times(cls, times: pd.Series, *, first: int | None = None, last: int | None = None):
        numbers = day_numbers(times)
        first = int(numbers.min()) if first is None else first
        last = int(numbers.max()) if last is None else last
        index = numbers - first
        order = None if np.all(index[1:] >= index[:-1]) else np.argsort(index, kind="stable")
        ordered = index if order is None else index[order]
        n = last - first + 1
        bounds = np.searchsorted(ordered, np.arange(n + 1), side="left")
        return cls(first=first, n=n, index=index, bounds=bounds, order=order)

    @property
    def starts(self) -> pd.DatetimeIndex:
        """Each day's UTC midnight."""
        return pd.DatetimeIndex(
            pd.to_datetime((self.first + np.arange(self.n)) * _US_PER_DAY, unit="us", utc=True)
        )

    def count(self, weights: np.ndarray | None = None) -> np.ndarray:
        return np.bincount(self.index, weights=weights, minlength=self.n).astype("float64")

    def in_day_order(self, values: np.ndarray) -> np.ndarray:
        return values if self.order is None else values[self.order]


@dataclass(frozen=True, eq=False)
class FeatureReference:
    """What the data-quality series compare a feature with: numeric range, or known categories."""

    name: str
    kind: str  # "numeric" | "categorical"
    minimum: float = np.nan
    maximum: float = np.nan
    categories: pd.Index | None = None

    @classmethod
    def from_values(cls, name: str, kind: str, values: pd.Series) -> FeatureReference:
        if kind == "numeric":
            array = pd.to_numeric(values, errors="coerce").to_numpy("float64", na_value=np.nan)
            array = array[~np.isnan(array)]
            if array.size == 0:
                return cls(name, kind)
            return cls(name, kind, minimum=float(array.min()), maximum=float(array.max()))
        present = values.dropna()
        return cls(name, kind, categories=pd.Index(present.unique()))


def _divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    safe = np.where(denominator > 0, denominator, 1.0)
    return np.where(denominator > 0, numerator / safe, np.nan)


def _mode_and_constant(days: Days, day_index: np.ndarray, values: np.ndarray):
    """Per day: count of the most frequent value, and whether all values are equal (the
    present values only; ``values`` numeric codes or floats without NaN). Values are hashed to
    codes and each (day, code) pair counted: no sort of the values."""
    mode = np.zeros(days.n)
    constant = np.full(days.n, np.nan)
    if day_index.size == 0:
        return mode, constant
    codes, uniques = pd.factorize(values)  # equal values (0.0 and -0.0 too) share a code
    k = max(len(uniques), 1)
    key = day_index.astype(np.int64) * k + codes
    if days.n * k <= 4 * key.size + 1_000_000:
        counts = np.bincount(key, minlength=days.n * k)
        pairs = np.flatnonzero(counts)
        pair_counts = counts[pairs]
    else:
        pairs, pair_counts = np.unique(key, return_counts=True)
    pair_day = pairs // k  # ascending
    starts = np.flatnonzero(np.r_[True, pair_day[1:] != pair_day[:-1]])
    day_of_group = pair_day[starts]
    mode[day_of_group] = np.maximum.reduceat(pair_counts, starts)
    distinct = np.diff(np.append(starts, pairs.size))
    totals = np.add.reduceat(pair_counts, starts)
    constant[day_of_group] = np.where(totals >= 2, (distinct == 1).astype("float64"), np.nan)
    return mode, constant


def feature_series(days: Days, series: pd.Series, reference: FeatureReference) -> dict:
    """The data-quality series of one feature (module docstring)."""
    name, volume = reference.name, days.count()
    out: dict[str, np.ndarray] = {}
    if reference.kind == "numeric":
        values = pd.to_numeric(series, errors="coerce").to_numpy("float64", na_value=np.nan)
        missing = np.isnan(values)
        present_n = days.count(None) - days.count(missing.astype("float64"))
        out[f"missing_rate[{name}]"] = _divide(volume - present_n, volume)
        with np.errstate(invalid="ignore"):
            outside = (values < reference.minimum) | (values > reference.maximum)
        if np.isnan(reference.minimum):
            out[f"out_of_range[{name}]"] = np.full(days.n, np.nan)
        else:
            out[f"out_of_range[{name}]"] = _divide(days.count(outside.astype("float64")), present_n)
        keep = ~missing
        mode, constant = _mode_and_constant(days, days.index[keep], values[keep])
        out[f"stuck_share[{name}]"] = _divide(mode, present_n)
        out[f"constant[{name}]"] = constant
        return out
    present = series.notna().to_numpy()
    present_n = days.count(present.astype("float64"))
    out[f"missing_rate[{name}]"] = _divide(volume - present_n, volume)
    codes, _ = pd.factorize(series)
    known = series.isin(reference.categories).to_numpy() if reference.categories is not None else 0
    unseen = present & ~np.asarray(known, dtype=bool)
    out[f"unseen_share[{name}]"] = _divide(days.count(unseen.astype("float64")), present_n)
    mode, _ = _mode_and_constant(days, days.index[present], codes[present].astype("float64"))
    out[f"stuck_share[{name}]"] = _divide(mode, present_n)
    return out


def score_shift(days: Days, scores: np.ndarray, reference: NumericReference):
    """Per day ``(psi, js)`` of the scores against ``reference``: one bincount over
    (day, decile bin), then the formulas of :mod:`prodready.stats.drift` row by row."""
    edges = reference.coarse_edges
    n_bins = edges.size + 1
    usable = ~np.isnan(scores)
    bins = np.searchsorted(edges, scores[usable], side="left")
    counts = np.bincount(days.index[usable] * n_bins + bins, minlength=days.n * n_bins).reshape(
        days.n, n_bins
    )
    totals = counts.sum(axis=1)
    p = reference.coarse_counts / reference.coarse_counts.sum()
    ok = totals >= 2
    psi = np.full(days.n, np.nan)
    js = np.full(days.n, np.nan)
    if ok.any():
        q = counts[ok] / totals[ok, None]
        ps, qs = np.maximum(p, PSI_EPSILON), np.maximum(q, PSI_EPSILON)
        psi[ok] = np.sum((qs - ps) * np.log(qs / ps), axis=1)
        js[ok] = jensenshannon(np.broadcast_to(p, q.shape), q, axis=1, base=2)
    return psi, js


def daily_profiles(
    frame: pd.DataFrame,
    days: Days,
    *,
    task: str,
    timestamp: str,
    score: str,
    label: str,
    label_time: str | None,
    threshold: float,
    value_matrix: tuple[float, float, float, float] | None,
    cost_per_unit_error: float | None,
    score_reference: NumericReference | None,
    features: list[FeatureReference],
    amount: str | None = None,
) -> pd.DataFrame:
    """The daily frame of ``frame`` (module docstring), one row per day of ``days``.

    ``value_matrix`` is ``(tp, fp, fn, tn)`` money per decision (binary); ``score_reference`` the
    prepared reference scores (None: PSI and JS are NaN)."""
    return profile_days(
        frame,
        days,
        task=task,
        timestamp=timestamp,
        score=score,
        label=label,
        label_time=label_time,
        threshold=threshold,
        value_matrix=value_matrix,
        cost_per_unit_error=cost_per_unit_error,
        score_reference=score_reference,
        features=features,
        amount=amount,
    )[0]


@dataclass(frozen=True, eq=False)
class KnownLabels:
    """The rows a later day's trailing known-label metric still looks at: those of the last
    ``LABEL_WINDOW_DAYS - 1`` days of a span, in day order. ``day`` and ``known`` are absolute
    UTC day numbers (``known``: the day the label was known, int64 max for never)."""

    day: np.ndarray
    y: np.ndarray
    scores: np.ndarray
    known: np.ndarray

    @classmethod
    def empty(cls) -> KnownLabels:
        return cls(
            np.empty(0, dtype=np.int64),
            np.empty(0),
            np.empty(0),
            np.empty(0, dtype=np.int64),
        )


def profile_days(
    frame: pd.DataFrame,
    days: Days,
    *,
    task: str,
    timestamp: str,
    score: str,
    label: str,
    label_time: str | None,
    threshold: float,
    value_matrix: tuple[float, float, float, float] | None,
    cost_per_unit_error: float | None,
    score_reference: NumericReference | None,
    features: list[FeatureReference],
    amount: str | None = None,
    history: KnownLabels | None = None,
) -> tuple[pd.DataFrame, KnownLabels]:
    """:func:`daily_profiles` for a span of whole days of a longer log, and the rows the next
    span's trailing known-label metric needs. ``history``: what the previous span returned (the
    rows of the days just before ``days``); the result is then exactly what the whole log's
    daily frame holds for these days, so a log can be profiled span by span in time order."""
    volume = days.count()
    raw = pd.to_numeric(frame[score], errors="coerce").to_numpy("float64", na_value=np.nan)
    with np.errstate(invalid="ignore"):
        unusable = ~np.isfinite(raw)
        if task == "binary":
            unusable |= (raw < 0) | (raw > 1)
    scores = np.where(unusable, np.nan, raw)
    daily: dict[str, np.ndarray] = {"volume": volume}
    daily["error_rate"] = _divide(days.count(unusable.astype("float64")), volume)
    usable_n = volume - days.count(unusable.astype("float64"))
    if task == "binary":
        flagged = days.count((scores >= threshold).astype("float64"))
        daily["flag_rate"] = _divide(flagged, usable_n)
        daily["review_load"] = np.where(volume > 0, flagged, 0.0)
    daily["mean_score"] = _divide(days.count(np.where(unusable, 0.0, scores)), usable_n)
    if score_reference is not None:
        daily["score_psi"], daily["score_js"] = score_shift(days, scores, score_reference)
    else:
        daily["score_psi"] = daily["score_js"] = np.full(days.n, np.nan)

    # labels: known by the day's end, and in hindsight
    y = pd.to_numeric(frame[label], errors="coerce").to_numpy("float64", na_value=np.nan)
    labelled = ~np.isnan(y) & ~unusable
    never = np.iinfo(np.int64).max
    known_day = np.full(len(frame), never, dtype=np.int64)
    if label_time is not None and label_time in frame.columns:
        # a label without an arrival time counts in hindsight only: when it arrived is unknown
        arrived = labelled & frame[label_time].notna().to_numpy()
        arrival_day = day_numbers(frame[label_time][arrived]) - days.first
        known_day[arrived] = np.maximum(arrival_day, days.index[arrived])
    else:
        known_day[labelled] = days.index[labelled]
    known = known_day <= days.index  # label arrived by the end of its event's day
    per_row = _row_value(task, y, scores, threshold, value_matrix, cost_per_unit_error)
    daily["labels_known"] = days.count(known.astype("float64"))
    daily["labels_hindsight"] = days.count(labelled.astype("float64"))
    if per_row is not None:
        daily["value_per_1000_known"] = 1000 * _divide(
            days.count(np.where(known, per_row, 0.0)), daily["labels_known"]
        )
        daily["value_per_1000_hindsight"] = 1000 * _divide(
            days.count(np.where(labelled, per_row, 0.0)), daily["labels_hindsight"]
        )
    else:
        daily["value_per_1000_known"] = np.full(days.n, np.nan)
        daily["value_per_1000_hindsight"] = np.full(days.n, np.nan)
    if task == "binary" and amount is not None and amount in frame.columns:
        money = np.nan_to_num(frame[amount].to_numpy("float64", na_value=np.nan), nan=0.0)
        flagged = scores >= threshold
        daily["flagged_amount"] = days.count(np.where(flagged, money, 0.0))
        daily["flagged_amount_share"] = _divide(daily["flagged_amount"], days.count(money))
        for when, seen in (("known", known), ("hindsight", labelled)):
            positive = seen & (y == 1)
            caught = days.count(np.where(flagged & positive, money, 0.0))
            daily[f"caught_amount_{when}"] = caught
            daily[f"caught_amount_share_{when}"] = _divide(
                caught, days.count(np.where(positive, money, 0.0))
            )
    metric_name = "roc_auc_known" if task == "binary" else "mae_known"
    daily[metric_name], carry = _known_metric(days, task, y, scores, known_day, history)

    for reference in features:
        if reference.name in frame.columns:
            daily.update(feature_series(days, frame[reference.name], reference))
    out = pd.DataFrame(daily, index=pd.Index(days.starts, name="day"))
    return out, carry


def _row_value(task, y, scores, threshold, value_matrix, cost_per_unit_error):
    """Money of each labelled decision (NaN where unlabelled); None when money is not defined."""
    with np.errstate(invalid="ignore"):
        if task == "binary":
            if value_matrix is None:
                return None
            tp, fp, fn, tn = value_matrix
            act = scores >= threshold
            positive = y == 1
            value = np.where(act, np.where(positive, tp, fp), np.where(positive, fn, tn))
            return np.where(np.isnan(y) | np.isnan(scores), np.nan, value)
        if cost_per_unit_error is None:
            return None
        return -cost_per_unit_error * np.abs(y - scores)


def _known_metric(days: Days, task: str, y, scores, known_day, history=None):
    """ROC AUC (binary) or MAE (regression) per day over the events of the trailing
    :data:`LABEL_WINDOW_DAYS` days whose label had arrived by the day's end, and the rows the
    next span needs (:class:`KnownLabels`). One loop over days; each day touches only its
    window's rows. ``history`` holds the rows of the days before ``days`` (absolute days)."""
    from sklearn.metrics import roc_auc_score

    never = np.iinfo(np.int64).max
    y_o, s_o, k_o = (days.in_day_order(a) for a in (y, scores, known_day))
    d_o = days.first + days.in_day_order(days.index).astype(np.int64)
    k_o = np.where(k_o == never, never, k_o + days.first)  # absolute day numbers
    if history is not None and history.day.size:
        d_o = np.concatenate([history.day, d_o])
        y_o = np.concatenate([history.y, y_o])
        s_o = np.concatenate([history.scores, s_o])
        k_o = np.concatenate([history.known, k_o])
    window = LABEL_WINDOW_DAYS
    keep = np.searchsorted(d_o, days.first + days.n - (window - 1), side="left")
    carry = KnownLabels(d_o[keep:], y_o[keep:], s_o[keep:], k_o[keep:])
    out = np.full(days.n, np.nan)
    if not (k_o < never).any():
        return out, carry
    # bounds[j]: first row of absolute day days.first - window + 1 + j
    bounds = np.searchsorted(d_o, days.first - window + 1 + np.arange(days.n + window), "left")
    for d in range(days.n):
        lo, hi = bounds[d], bounds[d + window]
        mask = k_o[lo:hi] <= days.first + d
        if not mask.any():
            continue
        truth, score = y_o[lo:hi][mask], s_o[lo:hi][mask]
        if task == "binary":
            positives = int(np.count_nonzero(truth == 1))
            if 0 < positives < truth.size:
                out[d] = roc_auc_score(truth, score)
        else:
            out[d] = float(np.mean(np.abs(truth - score)))
    return out, carry
