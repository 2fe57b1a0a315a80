"""The labelled history a decay audit trains and evaluates on, and the time grid it steps along.

History = the training rows dated before the serving log starts, then every serving row (the
serving log is what production saw, so where the two overlap the serving rows win), in time order
(the case loader sorts each set by its timestamp). Features = the case's features available at
prediction time (a feature only known later would flatter every model the audit trains).

Label delay: ``label_known`` is when each label became known (``label_time`` where the case has
it, else the event's own time; never for a missing label). The aging curve looks back with every
label the data holds (hindsight); a retraining policy sees a label only once it is known.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from prodready.case import Case
from prodready.errors import DataError, ParameterError
from prodready.spec import Feature, parse_duration

TIMESTAMP, LABEL, LABEL_KNOWN = "_timestamp", "_label", "_label_known"


@dataclass(frozen=True)
class History:
    """Rows in time order with ``_timestamp``, ``_label`` (NaN while unknown), ``_label_known``
    (NaT when never) and the feature columns; ``notes`` says what was repaired or is missing."""

    frame: pd.DataFrame
    features: tuple[Feature, ...]
    task: str
    notes: tuple[str, ...]

    @property
    def start(self) -> pd.Timestamp:
        return self.frame[TIMESTAMP].iloc[0]

    def position(self, stamps) -> np.ndarray:
        """Row positions where each time in ``stamps`` would go (first row at or after it)."""
        times = self.frame[TIMESTAMP].dt.tz_convert(None).to_numpy()
        moments = pd.DatetimeIndex(np.atleast_1d(stamps)).tz_convert(None).to_numpy()
        return np.searchsorted(times, moments, side="left")

    @property
    def last_label(self) -> pd.Timestamp:
        """The time of the last labelled event: evaluation cannot go past it."""
        labelled = self.frame[TIMESTAMP][self.frame[LABEL].notna()]
        return labelled.iloc[-1]


def history(case: Case) -> History:
    """The case's labelled history (module docstring). Raises :class:`DataError` when the serving
    log has no label at all."""
    case.require_whole_log("decay audit")
    cols = case.columns
    features = tuple(f for f in case.features if f.available_at_prediction)
    if not features:
        raise ParameterError(
            "the case has no feature available at prediction time to train models on",
            where="case file: features",
            fix="declare at least one feature without available_at_prediction: false",
        )
    serving = case.serving
    if serving[cols.label].notna().sum() == 0:
        raise DataError(
            "the serving log has no label yet, so nothing shows how the model ages in production",
            where=f"serving log, column {cols.label!r}",
            expected="labels for at least part of the serving log (they may arrive late)",
            fix="export the serving log again once labels have arrived, or use the label-free "
            "estimate (prodready.estimate) meanwhile",
        )
    notes: list[str] = []
    parts = []
    serving_start = pd.to_datetime(serving[cols.timestamp], utc=True).min()
    for frame in (case.training, serving):
        times = pd.to_datetime(frame[cols.timestamp], utc=True)
        keep = times < serving_start if frame is case.training else np.ones(len(frame), bool)
        label = frame[cols.label].astype("Float64").astype("float64")
        if cols.label_time and cols.label_time in frame.columns:
            known = pd.to_datetime(frame[cols.label_time], utc=True)
            known = known.where(known >= times, times)  # a label is never known before its event
        else:
            known = times
        known = known.where(label.notna())
        part = pd.DataFrame(
            {TIMESTAMP: times, LABEL: label, LABEL_KNOWN: known},
            index=frame.index,
        )
        for f in features:
            part[f.name] = frame[f.name]
        parts.append(part[keep])
    # the case loader puts each set in time order; training rows end where serving starts
    frame = pd.concat(parts, ignore_index=True)
    days = frame[TIMESTAMP].dt.floor("D")
    gaps = days.drop_duplicates().diff().dt.days.fillna(1)
    if (gaps > 1).any():
        longest = int(gaps.max()) - 1
        notes.append(
            f"The history has {int((gaps > 1).sum())} gap(s) without any event (the longest: "
            f"{longest} days): periods in a gap have no metric."
        )
    if cols.label_time is None:
        notes.append("The case has no label_time: labels are taken as known at the event's time.")
    return History(frame, features, case.task, tuple(notes))


@dataclass(frozen=True)
class Grid:
    """Decision points ``points[k]`` every ``step``; period ``k`` is ``[points[k], points[k+1])``.
    The first point is the history's start plus the training window."""

    points: pd.DatetimeIndex
    step: pd.Timedelta
    window: pd.Timedelta

    @property
    def periods(self) -> int:
        return len(self.points) - 1


def grid(hist: History, train_window: str, step: str, *, periods_needed: int = 2) -> Grid:
    """The grid from the first full training window to the last labelled event. Raises
    :class:`ParameterError` saying how much history is needed when it is too short."""
    window = pd.Timedelta(days=_days(train_window, "train_window"))
    stride = pd.Timedelta(days=_days(step, "step"))
    first = hist.start.floor("D") + window
    end = hist.last_label
    count = int((end - first) // stride)
    if count < periods_needed:
        needed = window + stride * periods_needed
        have = end - hist.start
        raise ParameterError(
            "the labelled history is too short for the windows asked",
            where="train_window / step",
            expected=f"at least {needed.days} days of labelled history (a training window of "
            f"{window.days} days, then {periods_needed} periods of {stride.days} days)",
            found=f"{have.days} days ({hist.start:%Y-%m-%d} to {end:%Y-%m-%d})",
            fix="shorten train_window or step, or add history",
        )
    points = pd.DatetimeIndex([first + stride * k for k in range(count + 1)])
    return Grid(points, stride, window)


def _days(value: str | int | float, name: str) -> float:
    """Whole days from a duration such as ``"90D"``, ``"12w"`` or a number of days."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        days = float(value)
    else:
        try:
            days = parse_duration(value).total_seconds() / 86_400
        except ValueError as exc:
            raise ParameterError(
                f"{name} is not a duration",
                where=name,
                found=repr(value),
                fix='write it as days, e.g. "90D", "30d" or 90',
            ) from exc
    if not days >= 1 or days != int(days):
        raise ParameterError(
            f"{name} must be a whole number of days, at least 1",
            where=name,
            found=repr(value),
            fix='e.g. "7D" or "90D"',
        )
    return days
