"""Would we have noticed, and how fast? Each known incident against the replayed monitors.

For every incident (a row with ``problem``, ``start``, ``end``; the sample cases document theirs
in :func:`prodready.samples.known_problems`) and every monitor family, the first day in
``[start, end)`` on which one of the family's monitors fires, among monitors that were not already
firing the day before ``start`` (an alert that was already on says nothing new). Incidents
without a start (present in all the data, hence in the reference too) cannot be detected by a
monitor that compares with the reference: they are listed with a note (the skew audit finds
them).

Money lost before detection: over the labelled events from ``start`` up to the detection day
(excluded; the whole incident when never detected), the value of the decisions the model made,
compared with what the same number of decisions earned per decision in the reference period
(hindsight labels; :func:`prodready.metrics.business_value`); zero when the incident's decisions
did no worse. It is what the incident cost while nobody knew.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from prodready import metrics
from prodready.case import Case
from prodready.errors import ParameterError
from prodready.monitoring.replay import MonitoringReplay
from prodready.monitoring.rules import FAMILIES
from prodready.results import Finding, format_money, most_severe_first, to_json

DETECTION_COLUMNS = (
    "problem",
    "start",
    "end",
    "family",
    "detected",
    "days_to_detect",
    "first_monitor",
    "money_lost_before_detection",
)


@dataclass(frozen=True)
class DetectionReport:
    """``table``: one row per incident and monitor family (columns :data:`DETECTION_COLUMNS`);
    ``coverage``: monitors x incidents, the days each took to fire (NaN: did not);
    ``undetectable``: incidents without a start."""

    table: pd.DataFrame
    coverage: pd.DataFrame
    undetectable: tuple[str, ...]
    currency: str | None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def summary(self) -> list[Finding]:
        findings: list[Finding] = []
        for problem, rows in self.table.groupby("problem", sort=False):
            caught = rows[rows["detected"].notna()].sort_values("days_to_detect", kind="stable")
            health = rows[rows["family"] == "system_health"].iloc[0]
            start = rows["start"].iloc[0]
            if caught.empty:
                lost = rows["money_lost_before_detection"].max()
                findings.append(
                    Finding(
                        "high",
                        f"{problem} (from {start:%Y-%m-%d}): no monitor caught it; it cost "
                        f"{format_money(lost, self.currency)} against the reference.",
                        money=_money(lost),
                        currency=self.currency,
                    )
                )
                continue
            first = caught.iloc[0]
            text = (
                f"{problem} (from {start:%Y-%m-%d}): caught by the {first['family']} monitors "
                f"after {int(first['days_to_detect'])} day(s) ({first['first_monitor']}), "
                f"with {format_money(first['money_lost_before_detection'], self.currency)} lost "
                "before."
            )
            if pd.isna(health["detected"]):
                text += (
                    " System health (volume, errors) never fired: "
                    f"{format_money(health['money_lost_before_detection'], self.currency)} lost "
                    "over the incident for a team watching only that."
                )
            findings.append(
                Finding(
                    "medium" if first["days_to_detect"] > 2 else "info",
                    text,
                    money=_money(first["money_lost_before_detection"]),
                    currency=self.currency,
                )
            )
        if self.undetectable:
            findings.append(
                Finding(
                    "low",
                    "Present from the first day, so part of the reference and invisible to "
                    f"monitors: {', '.join(self.undetectable)} (the skew audit finds these).",
                )
            )
        findings.extend(Finding("low", note) for note in self.notes)
        return most_severe_first(findings)

    def to_dict(self) -> dict[str, Any]:
        return to_json(
            {
                "table": self.table.to_dict(orient="records"),
                "coverage": self.coverage.reset_index().to_dict(orient="records"),
                "undetectable": list(self.undetectable),
                "currency": self.currency,
                "summary": [f.to_dict() for f in self.summary()],
                "notes": list(self.notes),
            }
        )


def _money(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def detection_report(
    replay: MonitoringReplay, case: Case, incidents: pd.DataFrame
) -> DetectionReport:
    """Time to detect each incident by each monitor family, and the money lost before (module
    docstring). ``incidents``: a frame with ``problem``, ``start``, ``end`` (UTC; ``end`` may be
    missing: until the log ends), e.g. :func:`prodready.samples.known_problems`."""
    missing = [c for c in ("problem", "start", "end") if c not in incidents.columns]
    if missing:
        raise ParameterError(
            "the incidents frame lacks columns",
            where=", ".join(missing),
            expected="problem, start, end (UTC timestamps; end may be empty)",
            fix="pass prodready.samples.known_problems(name) or a frame with those columns",
        )
    cols = case.columns
    serving = case.serving
    times = pd.to_datetime(serving[cols.timestamp], utc=True)
    log_end = times.max().normalize() + pd.Timedelta(days=1)
    truth = serving[cols.label].astype("Float64").to_numpy(float, na_value=np.nan)
    score = serving[cols.prediction].to_numpy(float)
    labelled = ~np.isnan(truth)
    reference = replay.daily["in_reference"].to_numpy(bool)
    watched_from = replay.daily.index[~reference][0]  # the first monitored day
    in_reference = (times >= replay.daily.index[reference][0]) & (times < watched_from)
    baseline = _per_decision(case, truth, score, in_reference.to_numpy() & labelled)

    rows, coverage, undetectable, notes = [], {}, [], []
    for incident in incidents.itertuples(index=False):
        if pd.isna(incident.start):
            undetectable.append(str(incident.problem))
            continue
        start = pd.Timestamp(incident.start).tz_convert("UTC")
        end = log_end if pd.isna(incident.end) else pd.Timestamp(incident.end).tz_convert("UTC")
        if start < watched_from:  # it began before or during the reference
            undetectable.append(str(incident.problem))
            continue
        fired = replay.fired(start, end)
        new = fired[~fired["firing_before"]]
        coverage[str(incident.problem)] = {
            row.monitor: float((row.first_fire - start).days) for row in new.itertuples()
        }
        for family in FAMILIES:
            hits = new[new["family"] == family]
            detected = hits["first_fire"].iloc[0] if len(hits) else pd.NaT
            until = end if pd.isna(detected) else detected
            window = (times >= start).to_numpy() & (times < until).to_numpy() & labelled
            lost = _lost(case, truth, score, window, baseline)
            rows.append(
                {
                    "problem": str(incident.problem),
                    "start": start,
                    "end": end,
                    "family": family,
                    "detected": detected,
                    "days_to_detect": (
                        np.nan if pd.isna(detected) else float((detected - start).days)
                    ),
                    "first_monitor": hits["monitor"].iloc[0] if len(hits) else "",
                    "money_lost_before_detection": lost,
                }
            )
    if math.isnan(baseline):
        notes.append("No labelled decision in the reference period: money lost is not known.")
    table = pd.DataFrame(rows, columns=list(DETECTION_COLUMNS))
    names = [m.name for m in replay.monitors]
    frame = pd.DataFrame(coverage, index=pd.Index(names, name="monitor"), dtype="float64")
    return DetectionReport(
        table=table,
        coverage=frame,
        undetectable=tuple(undetectable),
        currency=case.business.currency if case.business is not None else None,
        notes=tuple(notes),
    )


def _per_decision(case: Case, truth, score, mask) -> float:
    if case.business is None or not mask.any():
        return math.nan
    value = metrics.business_value(truth[mask], score[mask], case.business, task=case.task)
    return value.total / value.decisions


def _lost(case: Case, truth, score, mask, baseline: float) -> float:
    """Value short of the reference's per-decision value over the events in ``mask``."""
    if math.isnan(baseline):
        return math.nan
    if not mask.any():
        return 0.0
    value = metrics.business_value(truth[mask], score[mask], case.business, task=case.task)
    return float(max(0.0, baseline * value.decisions - value.total))
