"""Monitors replayed day by day on the serving log: would we have noticed, and when?

:func:`replay` computes the daily profiles of the serving log once
(:mod:`prodready.monitoring.profiles`), takes every monitor's centre and spread from the
reference period, evaluates each monitor's rule (:mod:`prodready.monitoring.rules`) on the days
after it, and returns a :class:`MonitoringReplay`.

The reference, by default, is the first :data:`REFERENCE_DAYS` (28) UTC days of the serving log:
the served model in its first month of production, as it was seen online. The training data is
not used: it was computed offline by another pipeline (the skew audit measures how far apart the
two are), so limits taken from it would fire on the skew itself every day, not on a change.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from prodready.case import Case
from prodready.errors import DataError, ParameterError
from prodready.monitoring.profiles import (
    LABEL_WINDOW_DAYS,
    Days,
    FeatureReference,
    daily_profiles,
    day_numbers,
    feature_series,
    profile_days,
)
from prodready.monitoring.rules import FAMILIES, Monitor, cusum, ewma, threshold_rule
from prodready.results import Finding, most_severe_first, to_json
from prodready.stats.drift import NumericReference

__all__ = [
    "ALERT_COLUMNS",
    "CONSTANT_ALERT",
    "ERROR_RATE_ALERT",
    "OUT_OF_RANGE_ALERT",
    "PSI_ALERT",
    "REFERENCE_DAYS",
    "UNSEEN_ALERT",
    "MonitoringReplay",
    "default_monitors",
    "replay",
]

REFERENCE_DAYS = 28
"""Default reference: the first 28 UTC days of the serving log."""
PSI_ALERT = 0.25
"""Score PSI above which the model-output monitor fires (the usual "major shift" level)."""
OUT_OF_RANGE_ALERT = 0.05
"""Share of a day's values outside the reference's range above which a feature monitor fires
(as the label-free estimate's trust check)."""
UNSEEN_ALERT = 0.01
"""Share of a day's values in categories the reference never saw above which it fires."""
ERROR_RATE_ALERT = 0.01
"""Share of a day's events without a usable score above which system health fires."""
CONSTANT_ALERT = 0.5
"""``constant[F]`` is 1 on a day whose values are all equal: the monitor fires above 0.5."""

ALERT_COLUMNS = [
    "monitor",
    "family",
    "target",
    "first_fire",
    "value",
    "threshold",
    "rule",
    "series",
    "observed",
]
TRACE_COLUMNS = ["day", "monitor", "observed", "statistic", "lower", "upper", "fired"]
_FEATURE_SERIES = re.compile(r"(?P<stat>[a-z_]+)\[(?P<feature>.+)\]")
_AMOUNT_SERIES = (
    "flagged_amount",
    "flagged_amount_share",
    "caught_amount_known",
    "caught_amount_share_known",
    "caught_amount_hindsight",
    "caught_amount_share_hindsight",
)
_LABEL_SERIES = (
    "roc_auc_known",
    "mae_known",
    "value_per_1000_known",
    "value_per_1000_hindsight",
    "caught_amount_known",
    "caught_amount_share_known",
    "caught_amount_hindsight",
    "caught_amount_share_hindsight",
)
_KPI_SERIES = (
    "volume",
    "error_rate",
    "flag_rate",
    "review_load",
    "labels_known",
    "labels_hindsight",
    "value_per_1000_known",
    "value_per_1000_hindsight",
    "mean_score",
    "score_psi",
    "score_js",
    "roc_auc_known",
    "mae_known",
    "estimated_roc_auc",
)


# --------------------------------------------------------------------------------------------
# Default monitors


def default_monitors(
    case: Case,
    *,
    reference: pd.DataFrame | tuple | None = None,
    stream: bool | None = None,
) -> list[Monitor]:
    """One monitor per KPI, score shift, each feature's data-quality series, performance and
    system health, with the documented defaults (docs/monitoring.md lists them).

    ``reference`` is as for :func:`replay`; it sets the stuck-at-constant thresholds: a
    ``stuck_share[F]`` monitor fires when the day's most frequent value covers more than
    ``(m + 1) / 2`` of its values, ``m`` the highest daily share of any reference day (halfway
    from the most "stuck" the feature ever was in the reference to fully stuck). ``stream`` as
    for :func:`replay`: the reference rows are then read from the serving log's files."""
    _check_case(case)
    log = _serving_log(case, stream)
    if log is None:
        stuck = _reference_stuck_shares(case, reference)
        return _default_monitors(case, case.serving.columns, stuck)
    rows = _streamed_reference(case, reference, log)[0]
    return _default_monitors(case, log.columns, _stuck_shares(case, rows, log.columns))


def _default_monitors(case: Case, columns, stuck: dict[str, float]) -> list[Monitor]:
    binary = case.task == "binary"
    m: list[Monitor] = []
    if binary:
        m.append(Monitor("flag_rate", "business", "flag_rate", "flag_rate", "ewma", "both"))
        m.append(Monitor("review_load", "business", "review_load", "review_load", "ewma", "above"))
    m.append(
        Monitor(
            "value_per_1000_known",
            "business",
            "value_per_1000_known",
            "value_per_1000",
            "ewma",
            "below",
        )
    )
    if binary and _amount_column(case, columns) is not None:
        m.append(
            Monitor(
                "flagged_amount_share",
                "business",
                "flagged_amount_share",
                "flagged_amount",
                "ewma",
                "both",
            )
        )
        m.append(
            Monitor(
                "caught_amount_share_known",
                "business",
                "caught_amount_share_known",
                "caught_amount",
                "ewma",
                "below",
            )
        )
    m.append(
        Monitor("score_psi", "model_output", "score_psi", "score", "threshold", "above", PSI_ALERT)
    )
    m.append(Monitor("mean_score", "model_output", "mean_score", "score", "ewma", "both"))
    for feature in case.features:
        name = feature.name
        if name not in columns:
            continue

        def add(stat: str, rule: str, threshold: float | None = None, name: str = name) -> None:
            series = f"{stat}[{name}]"
            m.append(Monitor(series, "data_quality", series, name, rule, "above", threshold))

        add("missing_rate", "ewma")
        if feature.type == "numeric":
            add("out_of_range", "threshold", OUT_OF_RANGE_ALERT)
        else:
            add("unseen_share", "threshold", UNSEEN_ALERT)
        highest = stuck.get(name, math.nan)
        if math.isfinite(highest) and highest < 1.0:
            add("stuck_share", "threshold", (highest + 1.0) / 2.0)
        if feature.type == "numeric":
            add("constant", "threshold", CONSTANT_ALERT)
    window = f"{LABEL_WINDOW_DAYS}d"
    if binary:
        m.append(
            Monitor(
                "roc_auc_known", "performance", "roc_auc_known", "roc_auc", "ewma", "below",
                window=window,
            )
        )  # fmt: skip
        m.append(
            Monitor("estimated_roc_auc", "performance", "estimated_roc_auc", "roc_auc", "ewma",
                    "below")
        )  # fmt: skip
    else:
        m.append(
            Monitor("mae_known", "performance", "mae_known", "mae", "ewma", "above", window=window)
        )
    m.append(Monitor("volume", "system_health", "volume", "volume", "ewma", "below"))
    m.append(
        Monitor(
            "error_rate", "system_health", "error_rate", "error_rate", "threshold", "above",
            ERROR_RATE_ALERT,
        )
    )  # fmt: skip
    return m


# --------------------------------------------------------------------------------------------
# Result


@dataclass(frozen=True)
class MonitoringReplay:
    """What :func:`replay` returns.

    ``alerts``: one row per monitor that fired (columns :data:`ALERT_COLUMNS`): ``first_fire``
    is the UTC day (its midnight) on whose end the rule first fired, ``value`` the rule's
    statistic that day (the day's value, the EWMA ``z_t`` or the CUSUM sum), ``threshold`` the
    limit it crossed, ``observed`` the day's raw value. ``daily``: every series, one row per UTC
    day of the log (``in_reference`` marks the reference days). ``trace``: per monitored day and
    monitor the observed value, statistic, limits and whether it fired. ``monitors``: the
    monitors as replayed, with the ``center`` and ``sd`` taken from the reference (export these).
    ``notes``: monitors skipped and why.
    """

    case_name: str
    currency: str | None
    reference: str
    reference_start: pd.Timestamp | None
    reference_end: pd.Timestamp | None
    monitored_start: pd.Timestamp | None
    monitored_end: pd.Timestamp | None
    monitors: tuple[Monitor, ...]
    alerts: pd.DataFrame = field(repr=False)
    daily: pd.DataFrame = field(repr=False)
    trace: pd.DataFrame = field(repr=False)
    notes: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """The alerts (one row per monitor that fired)."""
        return self.alerts

    def fired(self, start=None, end=None) -> pd.DataFrame:
        """First firing day of each monitor within ``[start, end)`` (UTC; None = open), one
        row per monitor that fired there, earliest first: the question "which monitor caught
        this incident first?". ``firing_before`` marks monitors that were already firing on
        the day before ``start`` (an alert that began earlier, not a new one)."""
        trace = self.trace[self.trace["fired"]]
        before = set()
        if start is not None:
            day_before = _utc(start).normalize() - pd.Timedelta(days=1)
            before = set(trace.loc[trace["day"] == day_before, "monitor"])
            trace = trace[trace["day"] >= _utc(start)]
        if end is not None:
            trace = trace[trace["day"] < _utc(end)]
        first = trace.groupby("monitor", sort=False).head(1)
        families = {m.name: m.family for m in self.monitors}
        targets = {m.name: m.target for m in self.monitors}
        out = first.assign(
            family=first["monitor"].map(families), target=first["monitor"].map(targets)
        )
        out = out.rename(columns={"day": "first_fire"})
        out["firing_before"] = out["monitor"].isin(before)
        columns = ["monitor", "family", "target", "first_fire", "observed", "statistic"]
        return out[[*columns, "firing_before"]].sort_values(
            ["first_fire", "monitor"], kind="stable", ignore_index=True
        )

    def summary(self) -> list[Finding]:
        """Plain-language findings: whether system health saw anything while the model and
        data monitors fired, the first alert of each family, and skipped monitors."""
        return most_severe_first(_findings(self))

    def to_dict(self) -> dict[str, Any]:
        daily = self.daily.reset_index()
        return to_json(
            {
                "case": self.case_name,
                "currency": self.currency,
                "reference": self.reference,
                "reference_start": self.reference_start,
                "reference_end": self.reference_end,
                "monitored_start": self.monitored_start,
                "monitored_end": self.monitored_end,
                "monitors": [m.to_dict() for m in self.monitors],
                "alerts": self.alerts.to_dict(orient="records"),
                "daily": daily.to_dict(orient="records"),
                "notes": list(self.notes),
                "summary": [f.to_dict() for f in self.summary()],
            }
        )


def _findings(result: MonitoringReplay) -> list[Finding]:
    alerts = result.alerts
    findings: list[Finding] = []
    by_family = {f: alerts[alerts["family"] == f] for f in FAMILIES}
    watched = {m.family for m in result.monitors}
    health = by_family["system_health"]
    others = alerts[alerts["family"] != "system_health"]
    if len(others) and health.empty and "system_health" in watched:
        first = others.iloc[0]
        findings.append(
            Finding(
                "high",
                f"System health (volume, error rate) stayed green over the whole replay while "
                f"{len(others)} model, data and business monitors fired, the first on "
                f"{first['first_fire']:%Y-%m-%d} ({first['monitor']}): a silent failure that "
                "only model monitoring shows.",
            )
        )
    for family in FAMILIES:
        rows = by_family[family]
        if family not in watched:
            continue
        if rows.empty:
            findings.append(Finding("info", f"No {family.replace('_', ' ')} monitor fired."))
            continue
        first = rows.iloc[0]
        findings.append(
            Finding(
                "medium" if family != "system_health" else "high",
                f"First {family.replace('_', ' ')} alert on {first['first_fire']:%Y-%m-%d}: "
                f"{first['monitor']} ({first['rule']}, value {first['value']:.4g} against "
                f"{first['threshold']:.4g}); {len(rows)} monitor(s) of this family fired.",
            )
        )
    findings.extend(Finding("low", note) for note in result.notes)
    return findings


# --------------------------------------------------------------------------------------------
# The replay


def replay(
    case: Case,
    monitors: Sequence[Monitor] | None = None,
    *,
    reference: pd.DataFrame | tuple | None = None,
    stream: bool | None = None,
    chunk_days: int = 14,
    progress: Callable[[int, int], None] | None = None,
) -> MonitoringReplay:
    """Replay ``monitors`` (default: :func:`default_monitors`) day by day on the case's serving
    log.

    ``reference``: ``None`` = the first :data:`REFERENCE_DAYS` UTC days of the serving log (the
    served model's first month in production; the days after it are monitored); a ``(start,
    end)`` pair of times = the serving rows in ``[start, end)`` (naive times are UTC; the days
    from ``end`` on are monitored); or a DataFrame with the case's timestamp and score columns
    (and the label, for the label-free estimate), e.g. an earlier month's log (every day of the
    log is monitored). Every centre, spread, feature range and known category is taken from it.

    ``stream``: ``None`` = stream when the case holds only a sample of its serving log (loaded
    with ``load_case(path, lazy=True)``), else replay the log in memory; ``True`` = read the log
    from the case's serving files even when it is in memory; ``False`` = use ``case.serving``.
    Streaming reads only the columns the monitors need, ``chunk_days`` UTC days at a time
    (fewer where they hold more than ``stream.MAX_SPAN_ROWS`` events), in time order
    (:mod:`prodready.monitoring.stream`), and gives the same result as the in-memory
    replay of the whole log. ``progress(done_days, total_days)`` is called after each chunk
    (once when not streaming).

    Raises :class:`~prodready.errors.DataError` for a monitor on a feature the case lacks or a
    reference without rows, :class:`~prodready.errors.ParameterError` for an unknown series or a
    bad argument.
    """
    _check_case(case)
    if isinstance(chunk_days, bool) or not isinstance(chunk_days, int) or chunk_days < 1:
        raise ParameterError(
            "chunk_days must be a whole number of days of 1 or more",
            where="chunk_days",
            found=repr(chunk_days),
            fix="leave it out (14 days), or pass e.g. chunk_days=7",
        )
    log = _serving_log(case, stream)
    columns = case.serving.columns if log is None else log.columns
    if monitors is not None:  # a wrong monitor fails before any data is read
        monitors = list(monitors)
        _check_monitors(case, monitors, columns)
    if log is None:
        serving = case.serving
        if serving.empty:
            raise DataError("the serving log has no rows", where=f"{case.name}, serving log")
        days = Days.from_times(serving[case.columns.timestamp])
        ref_frame, start, end, reference_from, monitored_from = _reference(case, reference, days)
    else:
        days = Days.from_times(pd.Series([log.first_time, log.last_time]))
        ref_frame, start, end, reference_from, monitored_from = _streamed_reference(
            case, reference, log
        )
    if monitors is None:
        stuck = (
            _reference_stuck_shares(case, reference)
            if log is None
            else _stuck_shares(case, ref_frame, columns)
        )
        monitors = _default_monitors(case, columns, stuck)
    monitors = list(monitors)
    _check_monitors(case, monitors, columns)
    cols = case.columns

    notes: list[str] = []
    features = [
        FeatureReference.from_values(f.name, f.type, ref_frame[f.name])
        for f in case.features
        if f.name in columns and f.name in ref_frame.columns
    ]
    score_ref = None
    try:
        score_ref = NumericReference.from_values(
            pd.to_numeric(ref_frame[cols.prediction], errors="coerce"), method="binned"
        )
    except ParameterError:
        notes.append(
            "Score PSI and Jensen-Shannon are not computed: the reference has fewer than 2 scores."
        )
    profile_args = _profile_args(case, score_ref, features, columns)
    if isinstance(reference, pd.DataFrame):
        ref_days = Days.from_times(ref_frame[cols.timestamp])
        ref_daily = daily_profiles(ref_frame, ref_days, **profile_args)
    else:
        ref_days, ref_daily = None, None
    if log is None:
        daily = daily_profiles(serving, days, **profile_args)
        if case.task == "binary":
            estimated, note = _estimate(case, ref_frame, serving, days)
            daily["estimated_roc_auc"] = estimated
            if note:
                notes.append(note)
        if progress is not None:
            progress(days.n, days.n)
    else:
        # from here on only the estimate's calibration reads the reference rows: keep (a copy
        # of) their times, scores and labels, and free the features' (a streamed reference of
        # a month of a large log is most of the replay's memory otherwise)
        ref_frame = ref_frame[
            [c for c in (cols.timestamp, cols.prediction, cols.label) if c in ref_frame.columns]
        ].copy()
        daily, note = _streamed_daily(
            case, log, ref_frame, profile_args, columns, chunk_days, progress
        )
        if note:
            notes.append(note)

    if case.task == "binary" and ref_daily is not None:
        ref_daily["estimated_roc_auc"], _ = _estimate(case, ref_frame, ref_frame, ref_days)
    positions = np.arange(days.n)
    monitored = positions >= monitored_from
    in_reference = (positions >= reference_from) & ~monitored
    daily.insert(0, "in_reference", in_reference if ref_daily is None else False)
    if ref_daily is None:
        ref_daily = daily[daily["in_reference"]]
    if not monitored.any():
        raise DataError(
            "the serving log ends within the reference period, so no day is left to monitor",
            where=f"{case.name}, serving log",
            expected=f"days after {end:%Y-%m-%d}" if end is not None else "days to monitor",
            fix="pass a shorter reference period, e.g. reference=(start, end), or a reference "
            "frame",
        )

    resolved, traces, alerts = [], [], []
    watched = daily[monitored]
    label_rows = int(daily["labels_hindsight"].sum())
    for monitor in monitors:
        values = watched[monitor.series].to_numpy(dtype="float64")
        reference_values = ref_daily[monitor.series].to_numpy(dtype="float64")
        present = reference_values[~np.isnan(reference_values)]
        center, sd = monitor.center, monitor.sd
        if monitor.rule != "threshold" and (center is None or sd is None):
            if present.size < 2:
                notes.append(_skip_note(monitor, present.size, label_rows, case))
                continue
            center = float(np.mean(present)) if center is None else center
            sd = float(np.std(present, ddof=1)) if sd is None else sd
        if monitor.rule == "threshold":
            trace = threshold_rule(values, monitor.threshold, monitor.direction)
        elif monitor.rule == "ewma":
            trace = ewma(
                values,
                center,
                sd,
                smoothing=monitor.smoothing,
                limit_sd=monitor.limit_sd,
                direction=monitor.direction,
            )
        else:
            trace = cusum(
                values,
                center,
                sd,
                allowance_sd=monitor.allowance_sd,
                decision_sd=monitor.decision_sd,
                direction=monitor.direction,
            )
        if monitor.rule != "threshold":
            monitor = replace(monitor, center=center, sd=sd)
        resolved.append(monitor)
        if np.isnan(values).all():
            reason = (
                ": the serving log has no labels"
                if monitor.series in _LABEL_SERIES and label_rows == 0
                else ""
            )
            notes.append(
                f"Monitor {monitor.name!r} had no value of {monitor.series} on any monitored "
                f"day, so it could not fire{reason}."
            )
        traces.append(
            pd.DataFrame(
                {
                    "day": watched.index,
                    "monitor": monitor.name,
                    "observed": values,
                    "statistic": trace.statistic,
                    "lower": trace.lower,
                    "upper": trace.upper,
                    "fired": trace.fired,
                }
            )
        )
        if trace.fired.any():
            i = int(np.argmax(trace.fired))
            stat = float(trace.statistic[i])
            crossed = trace.upper[i] if stat > trace.upper[i] else trace.lower[i]
            alerts.append(
                {
                    "monitor": monitor.name,
                    "family": monitor.family,
                    "target": monitor.target,
                    "first_fire": watched.index[i],
                    "value": stat,
                    "threshold": float(crossed),
                    "rule": monitor.rule,
                    "series": monitor.series,
                    "observed": float(values[i]),
                }
            )
    alert_frame = pd.DataFrame.from_records(alerts, columns=ALERT_COLUMNS)
    alert_frame["first_fire"] = pd.to_datetime(alert_frame["first_fire"], utc=True)
    alert_frame = alert_frame.sort_values(["first_fire", "monitor"], ignore_index=True)
    trace_frame = (
        pd.concat(traces, ignore_index=True) if traces else pd.DataFrame(columns=TRACE_COLUMNS)
    )
    monitored_days = daily.index[monitored]
    return MonitoringReplay(
        case_name=case.name,
        currency=case.business.currency if case.business is not None else None,
        reference=_reference_text(reference),
        reference_start=start,
        reference_end=end,
        monitored_start=monitored_days[0],
        monitored_end=monitored_days[-1] + pd.Timedelta(days=1),
        monitors=tuple(resolved),
        alerts=alert_frame,
        daily=daily,
        trace=trace_frame,
        notes=tuple(notes),
    )


# --------------------------------------------------------------------------------------------
# Helpers


def _utc(value) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tz is None else stamp.tz_convert("UTC")


def _check_case(case: object) -> None:
    if not isinstance(case, Case):
        raise ParameterError(
            "monitoring needs a case",
            where="case",
            found=type(case).__name__,
            fix="load one with prodready.load_case(PATH) or prodready.samples.load()",
        )


def _amount_column(case: Case, columns=None) -> str | None:
    amount = case.business.amount if case.business is not None else None
    return amount if amount in (case.serving.columns if columns is None else columns) else None


def _known_series(case: Case, columns=None) -> list[str]:
    names = list(_KPI_SERIES)
    if case.task == "binary" and _amount_column(case, columns) is not None:
        names += _AMOUNT_SERIES
    for f in case.features:
        stats = ["missing_rate", "stuck_share"]
        stats += ["out_of_range", "constant"] if f.type == "numeric" else ["unseen_share"]
        names += [f"{s}[{f.name}]" for s in stats]
    return names


def _check_monitors(case: Case, monitors: list[Monitor], columns=None) -> None:
    known = set(_known_series(case, columns))
    names: set[str] = set()
    features = case.feature_names
    for monitor in monitors:
        if not isinstance(monitor, Monitor):
            raise ParameterError(
                "monitors must be Monitor objects",
                where="monitors",
                found=type(monitor).__name__,
                fix="build them with prodready.monitoring.Monitor(...) or start from "
                "default_monitors(case)",
            )
        if monitor.name in names:
            raise ParameterError(
                f"two monitors are called {monitor.name!r}",
                where="monitors",
                fix="give every monitor its own name",
            )
        names.add(monitor.name)
        match = _FEATURE_SERIES.fullmatch(monitor.series)
        if match and match["feature"] not in features:
            raise DataError(
                f"monitor {monitor.name!r} watches feature {match['feature']!r}, which the case "
                "lacks",
                where=f"monitor {monitor.name!r}, series {monitor.series!r}",
                expected="a feature of the case: " + ", ".join(features),
                found=repr(match["feature"]),
                fix="correct the feature name, or add the feature to the case",
            )
        if monitor.series not in known:
            if match:
                kind = case.spec.feature(match["feature"]).type
                stats = ["missing_rate", "stuck_share"] + (
                    ["out_of_range", "constant"] if kind == "numeric" else ["unseen_share"]
                )
                expected = f"for a {kind} feature one of " + ", ".join(stats)
            elif monitor.series in _AMOUNT_SERIES:
                raise ParameterError(
                    f"monitor {monitor.name!r} watches {monitor.series!r}, which needs the "
                    "amount of each event",
                    where=f"monitor {monitor.name!r}",
                    found="no business.amount in the case"
                    if case.task == "binary"
                    else "a regression case (caught amount is for binary cases)",
                    fix="name the money column in the case file (business: {amount: COLUMN}) "
                    "or drop the monitor",
                )
            else:
                expected = "one of " + ", ".join(_KPI_SERIES) + ", or STAT[FEATURE]"
            raise ParameterError(
                f"monitor {monitor.name!r} watches {monitor.series!r}, which is not a daily "
                "series of this case (no such column)",
                where=f"monitor {monitor.name!r}",
                expected=expected,
                found=repr(monitor.series),
                fix="pick a series listed above (docs/monitoring.md defines each)",
            )


def _reference(case: Case, reference, days: Days):
    """``(reference rows, start, end, first reference day position, first monitored day
    position)``; positions count days from the log's first day."""
    cols = case.columns
    serving = case.serving
    if reference is None:
        end_day = days.first + REFERENCE_DAYS
        rows = serving[days.index < REFERENCE_DAYS]
        return rows, _day(days.first), _day(end_day), 0, REFERENCE_DAYS
    if isinstance(reference, pd.DataFrame):
        return _reference_frame(case, reference), None, None, 0, 0
    if isinstance(reference, tuple | list) and len(reference) == 2:
        start, end = _reference_period(reference)
        times = serving[cols.timestamp]
        inside = ((times >= start) & (times < end)).to_numpy()
        if not inside.any():
            raise DataError(
                "no serving row falls in the reference period",
                where="reference",
                found=f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} (UTC); the log spans "
                f"{times.min():%Y-%m-%d} to {times.max():%Y-%m-%d}",
                fix="pass a period inside the serving log",
            )
        end_day = int(day_numbers(pd.Series([end - pd.Timedelta(microseconds=1)]))[0]) + 1
        start_day = int(day_numbers(pd.Series([start]))[0])
        first = max(0, start_day - days.first)
        return serving[inside], start, end, first, end_day - days.first
    raise ParameterError(
        "reference must be None, a (start, end) pair or a DataFrame",
        where="reference",
        found=type(reference).__name__,
        fix="leave it out for the first 28 days of the serving log",
    )


def _reference_frame(case: Case, reference: pd.DataFrame) -> pd.DataFrame:
    """A reference given as a frame, checked, with its times parsed."""
    cols = case.columns
    missing = [c for c in (cols.timestamp, cols.prediction) if c not in reference.columns]
    if missing:
        raise DataError(
            "the reference frame lacks the case's " + " and ".join(repr(c) for c in missing),
            where="reference frame",
            expected=f"columns {cols.timestamp!r} and {cols.prediction!r} (and the "
            "features; the label for the label-free estimate)",
            found=f"columns {', '.join(map(str, list(reference.columns)[:12]))}",
            fix="pass rows with the serving log's columns, e.g. an earlier month's log",
        )
    if reference.empty:
        raise DataError("the reference frame has no rows", where="reference frame")
    if not pd.api.types.is_datetime64_any_dtype(reference[cols.timestamp].dtype):
        reference = reference.assign(
            **{cols.timestamp: pd.to_datetime(reference[cols.timestamp], utc=True)}
        )
    return reference


def _reference_period(reference) -> tuple[pd.Timestamp, pd.Timestamp]:
    """A reference given as ``(start, end)``, checked, as UTC times."""
    try:
        start, end = _utc(reference[0]), _utc(reference[1])
    except (TypeError, ValueError) as err:
        raise ParameterError(
            "the reference period's start and end must be times",
            where="reference",
            found=repr(reference),
            fix="pass e.g. reference=('2025-07-01', '2025-08-01')",
        ) from err
    if not start < end:
        raise ParameterError(
            "the reference period must end after it starts",
            where="reference",
            found=f"{start} to {end}",
        )
    return start, end


def _reference_stuck_shares(case: Case, reference) -> dict[str, float]:
    """Highest daily ``stuck_share`` of each feature over the reference days."""
    if case.serving.empty:
        return {}
    days = Days.from_times(case.serving[case.columns.timestamp])
    rows = _reference(case, reference, days)[0]
    return _stuck_shares(case, rows, case.serving.columns)


def _stuck_shares(case: Case, rows: pd.DataFrame, columns) -> dict[str, float]:
    """Highest daily ``stuck_share`` of each feature over the reference ``rows``."""
    ref_days = Days.from_times(rows[case.columns.timestamp])
    out = {}
    for f in case.features:
        if f.name in rows.columns and f.name in columns:
            ref = FeatureReference.from_values(f.name, f.type, rows[f.name])
            shares = feature_series(ref_days, rows[f.name], ref)[f"stuck_share[{f.name}]"]
            present = shares[~np.isnan(shares)]
            out[f.name] = float(present.max()) if present.size else math.nan
    return out


# --------------------------------------------------------------------------------------------
# Streaming from the serving files (prodready.monitoring.stream)


def _serving_log(case: Case, stream: bool | None):
    """The serving log to stream from (its files, or the Spark table the case names), or None
    to replay ``case.serving`` in memory."""
    source = getattr(case, "serving_source", None)
    if stream is None:
        stream = source is not None
    if not isinstance(stream, bool):
        raise ParameterError(
            "stream must be True, False or None",
            where="stream",
            found=repr(stream),
            fix="leave it out: a lazily loaded case streams, a loaded one replays in memory",
        )
    if not stream:
        if source is not None and source.sample_rows < source.rows:
            raise ParameterError(
                "stream=False needs the whole serving log in memory, but this case holds only "
                f"a sample of it ({source.sample_rows:,} of {source.rows:,} rows)",
                where="stream",
                fix="leave stream out (the replay then reads the log from its files or table), "
                "or load the case with load_case(path) to hold the whole log",
            )
        return None
    if source is not None and source.table is not None:
        from prodready.monitoring.stream_spark import open_table_log

        return open_table_log(
            source.table,
            timestamp=case.columns.timestamp,
            source=f"{case.name}, serving log",
            order_by=[case.columns.id] if case.columns.id else [],
        )
    files = tuple(source.files) if source is not None else case.data_files("serving")
    if not files:
        raise ParameterError(
            "stream=True reads the serving log from its files, but this case was built in memory",
            where="stream",
            fix="leave stream out to replay case.serving, or load the case from its case file",
        )
    from prodready.monitoring.stream import open_log

    return open_log(files, timestamp=case.columns.timestamp, source=f"{case.name}, serving log")


def _needed_columns(case: Case, columns) -> list[str]:
    """The serving columns a replay reads: time, score, label, label time, amount, features."""
    cols = case.columns
    wanted = [cols.timestamp, cols.prediction, cols.label, cols.label_time]
    wanted.append(_amount_column(case, columns) if case.task == "binary" else None)
    wanted += [f.name for f in case.features]
    return [c for c in dict.fromkeys(wanted) if c and c in columns]


def _read_days(case: Case, log, first_day: int, last_day: int, chunk_days: int):
    from prodready.monitoring.stream import preparer

    columns = _needed_columns(case, log.columns)
    prepare = preparer(case, columns, log.source)
    return log.spans(
        columns, prepare, chunk_days=chunk_days, first_day=first_day, last_day=last_day
    )


def _streamed_reference(case: Case, reference, log):
    """:func:`_reference` for a log read from its files: only the reference rows are read."""
    first = log.first_day
    if reference is None:
        last = min(first + REFERENCE_DAYS - 1, log.last_day)
        rows = _concat([f for _, _, f in _read_days(case, log, first, last, REFERENCE_DAYS)])
        return rows, _day(first), _day(first + REFERENCE_DAYS), 0, REFERENCE_DAYS
    if isinstance(reference, pd.DataFrame):
        return _reference_frame(case, reference), None, None, 0, 0
    if isinstance(reference, tuple | list) and len(reference) == 2:
        start, end = _reference_period(reference)
        start_day = int(day_numbers(pd.Series([start]))[0])
        end_day = int(day_numbers(pd.Series([end - pd.Timedelta(microseconds=1)]))[0]) + 1
        lo, hi = max(start_day, first), min(end_day - 1, log.last_day)
        rows = pd.DataFrame()
        if lo <= hi:
            rows = _concat([f for _, _, f in _read_days(case, log, lo, hi, hi - lo + 1)])
            times = rows[case.columns.timestamp]
            rows = rows[((times >= start) & (times < end)).to_numpy()].reset_index(drop=True)
        if rows.empty:
            raise DataError(
                "no serving row falls in the reference period",
                where="reference",
                found=f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} (UTC); the log spans "
                f"{log.first_time:%Y-%m-%d} to {log.last_time:%Y-%m-%d}",
                fix="pass a period inside the serving log",
            )
        return rows, start, end, max(0, start_day - first), end_day - first
    raise ParameterError(
        "reference must be None, a (start, end) pair or a DataFrame",
        where="reference",
        found=type(reference).__name__,
        fix="leave it out for the first 28 days of the serving log",
    )


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)] or frames[:1]
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def _streamed_daily(case, log, ref_frame, profile_args, columns, chunk_days, progress):
    """The daily frame of the whole log, profiled ``chunk_days`` days at a time in time order
    (the trailing known-label window carried across chunks), with the label-free estimate per
    chunk; and the estimate's note, if it could not run."""
    total = log.last_day - log.first_day + 1
    parts: list[pd.DataFrame] = []
    history = None
    note = None
    estimate = case.task == "binary"
    calibration = None
    for lo, hi, frame in _read_days(case, log, log.first_day, log.last_day, chunk_days):
        days = Days.from_times(frame[case.columns.timestamp], first=lo, last=hi - 1)
        daily, history = profile_days(frame, days, history=history, **profile_args)
        if estimate:
            values = np.full(days.n, np.nan)
            if len(frame) and note is None and calibration is None:
                # the first chunk goes through the estimate's own checks (and its note)
                values, note = _estimate(case, ref_frame, frame, days)
                if note is None:
                    calibration = _calibration(case, ref_frame)
            elif len(frame) and note is None:
                values = _estimated_roc_auc(case, calibration, frame, days)
            daily["estimated_roc_auc"] = values
        parts.append(daily)
        if progress is not None:
            progress(hi - log.first_day, total)
    daily = pd.concat(parts)
    if estimate and note is not None:
        daily["estimated_roc_auc"] = np.nan  # as in memory: no estimate on any day
    return daily, note


def _calibration(case: Case, ref_frame: pd.DataFrame):
    """The label-free estimate's calibration, fitted once on the reference's labelled rows
    exactly as :func:`prodready.estimate.performance` fits it."""
    from prodready.estimate.cbpe import calibrate

    cols = case.columns
    labelled = ref_frame[ref_frame[cols.label].notna()]
    return calibrate(
        labelled[cols.prediction].to_numpy(dtype="float64", na_value=np.nan),
        labelled[cols.label].to_numpy(dtype="float64", na_value=np.nan),
    )


def _estimated_roc_auc(case: Case, calibration, frame: pd.DataFrame, days: Days) -> np.ndarray:
    """Per day of ``days`` the estimate's ``estimated_roc_auc`` (chunks of one UTC day) on the
    rows of ``frame`` (in time order), without refitting the calibration for every chunk."""
    from prodready.estimate.cbpe import expected_roc_auc

    scores = frame[case.columns.prediction].to_numpy(dtype="float64", na_value=np.nan)
    probabilities = calibration.predict(scores)
    out = np.full(days.n, np.nan)
    for d in range(days.n):
        lo, hi = days.bounds[d], days.bounds[d + 1]
        if hi > lo:
            out[d] = expected_roc_auc(scores[lo:hi], probabilities[lo:hi])
    return out


def _reference_text(reference) -> str:
    if reference is None:
        return (
            f"the first {REFERENCE_DAYS} days of the serving log (the served model in its first "
            "month of production)"
        )
    if isinstance(reference, pd.DataFrame):
        return f"a reference frame of {len(reference):,} rows"
    return f"the serving log from {_utc(reference[0])} to {_utc(reference[1])} (UTC)"


def _day(number: int) -> pd.Timestamp:
    return pd.Timestamp(number * 86_400, unit="s", tz="UTC")


def _profile_args(case: Case, score_ref, features, columns=None) -> dict[str, Any]:
    cols, business = case.columns, case.business
    matrix = None
    if business is not None and business.value is not None:
        v = business.value
        matrix = (v.true_positive, v.false_positive, v.false_negative, v.true_negative)
    return {
        "task": case.task,
        "timestamp": cols.timestamp,
        "score": cols.prediction,
        "label": cols.label,
        "label_time": cols.label_time,
        "threshold": business.threshold if business is not None else 0.5,
        "value_matrix": matrix,
        "cost_per_unit_error": business.cost_per_unit_error if business is not None else None,
        "score_reference": score_ref,
        "features": features,
        "amount": _amount_column(case, columns),
    }


def _estimate(case: Case, ref_frame: pd.DataFrame, analysis: pd.DataFrame, days: Days):
    """Estimated ROC AUC per day (NaN where no estimate) and a note when it cannot run."""
    from prodready.estimate import performance

    cols = case.columns
    out = np.full(days.n, np.nan)
    if cols.label not in ref_frame.columns:
        return out, "The label-free estimate is skipped: the reference has no label column."
    labelled = ref_frame[ref_frame[cols.label].notna()]
    if labelled.empty:
        return out, (
            "The label-free estimate is skipped: no reference row has a label, so there is "
            "nothing to calibrate the scores on (pass a labelled reference frame)."
        )
    try:
        table = performance(
            labelled,
            analysis,
            score=cols.prediction,
            label=cols.label,
            threshold=case.business.threshold if case.business is not None else 0.5,
            chunk="D",
            timestamp=cols.timestamp,
            features={},
        )
    except (DataError, ParameterError) as err:
        return out, f"The label-free estimate is skipped: {err.problem}."
    positions = day_numbers(table["chunk_start"]) - days.first
    ok = (positions >= 0) & (positions < days.n)
    out[positions[ok]] = table["estimated_roc_auc"].to_numpy(dtype="float64")[ok]
    return out, None


def _skip_note(monitor: Monitor, present: int, label_rows: int, case: Case) -> str:
    head = (
        f"Monitor {monitor.name!r} is skipped: the reference period has {present} day(s) with a "
        f"value of {monitor.series} and a control chart needs at least 2"
    )
    if monitor.series in _LABEL_SERIES:
        if label_rows == 0:
            return head + ": the serving log has no labels."
        return head + (
            ": labels arrive too late (after the day's end, or more than "
            f"{LABEL_WINDOW_DAYS} days after the events) for a live monitor to see them. "
            "The label-free estimate covers the gap."
            if monitor.series not in ("value_per_1000_known", *_AMOUNT_SERIES)
            else ": labels arrive after the day's end, so a live monitor cannot value the "
            "day's decisions; value_per_1000_hindsight shows them later."
        )
    if monitor.series == "estimated_roc_auc":
        return head + ": the label-free estimate did not run (see the note above)."
    return head + "."
