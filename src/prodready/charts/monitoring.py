"""Figures of silent-failure monitoring (:func:`prodready.monitoring.replay`,
:func:`prodready.monitoring.detection_report`).

Each function draws numbers the result has already computed (the replay's ``trace`` and
``alerts``, the detection report's ``table``); the only work done here is choosing, ordering
and labelling. The rules (threshold, EWMA, CUSUM) and their limits are defined in
:mod:`prodready.monitoring.rules`; an EWMA panel shows the day's value and the smoothed
statistic ``z_t`` against its limits, a CUSUM panel the cumulative sum against ``+/- H``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from prodready.charts.style import BAD, GOOD, NEUTRAL, SERVING, TRAINING, layout
from prodready.errors import ParameterError
from prodready.results import format_money

if TYPE_CHECKING:  # the results' types, for annotations only
    from prodready.monitoring import DetectionReport, MonitoringReplay

__all__ = ["default_panel_monitors", "monitor_panel", "time_to_detect"]

FAMILY_ORDER = ("business", "model_output", "data_quality", "performance", "system_health")
FAMILY_COLOURS = {
    "business": "#B279A2",
    "model_output": SERVING,
    "data_quality": TRAINING,
    "performance": GOOD,
    "system_health": NEUTRAL,
}
OBSERVED_COLOUR = "#BBBBBB"
STATISTIC_COLOUR = TRAINING
LIMIT_COLOUR = "#333333"
ALERT_COLOUR = BAD
INCIDENT_COLOUR = "rgba(228, 87, 86, 0.12)"
NEVER_PATTERN = "/"
MAX_PANELS = 8


def family_words(family: str) -> str:
    """``model_output`` -> ``model output``."""
    return family.replace("_", " ")


def default_panel_monitors(replay: MonitoringReplay) -> list[str]:
    """The monitors the panel shows by default: the first monitor to fire in each family (in the
    order business, model output, data quality, performance, system health), then the system
    health ``volume`` monitor when the replay has it and it is not already there."""
    alerts = replay.alerts
    chosen: list[str] = []
    for family in FAMILY_ORDER:
        rows = alerts[alerts["family"] == family]
        if len(rows):
            chosen.append(str(rows["monitor"].iloc[0]))
    names = [m.name for m in replay.monitors]
    if "volume" in names and "volume" not in chosen:
        chosen.append("volume")
    if not chosen and names:
        chosen.append(names[0])
    return chosen


def _incident_spans(incidents: pd.DataFrame | None, start, end) -> list[tuple[str, object, object]]:
    """(problem, start, end) of each incident that begins inside the monitored period (one
    that began earlier is part of the reference: no monitor can see it begin); a missing end
    means until the log ends."""
    if incidents is None or len(incidents) == 0:
        return []
    spans = []
    for row in incidents.itertuples(index=False):
        if pd.isna(row.start):
            continue
        first = pd.Timestamp(row.start)
        first = first.tz_localize("UTC") if first.tz is None else first.tz_convert("UTC")
        if first < start or first >= end:
            continue
        last = end if pd.isna(row.end) else pd.Timestamp(row.end)
        last = last.tz_localize("UTC") if last.tz is None else last.tz_convert("UTC")
        spans.append((str(row.problem), first, min(last, end)))
    return spans


def panel_sentence(replay: MonitoringReplay) -> str:
    """The replay in one line, as the panel's title writes it."""
    alerts = replay.alerts
    days = int(replay.trace["day"].nunique()) if len(replay.trace) else 0
    if alerts.empty:
        return f"No monitor fired over the {days:,} monitored days"
    health = alerts[alerts["family"] == "system_health"]
    others = alerts[alerts["family"] != "system_health"]
    first = alerts.iloc[0]
    watched = {m.family for m in replay.monitors}
    if health.empty and "system_health" in watched:
        return (
            f"System health stayed green while {len(others):,} model, data and business "
            f"monitors fired, the first on {first['first_fire']:%d %b %Y}"
        )
    return (
        f"{len(alerts):,} of {len(replay.monitors):,} monitors fired, the first on "
        f"{first['first_fire']:%d %b %Y} ({first['monitor']})"
    )


def monitor_panel(
    replay: MonitoringReplay,
    monitors: Sequence[str] | None = None,
    incidents: pd.DataFrame | None = None,
) -> go.Figure:
    """One small panel per monitor, stacked over the monitored days (shared time axis): the
    day's observed value (grey), the rule's statistic (blue; for a threshold rule the day's
    value itself, for an EWMA ``z_t``, for a CUSUM the cumulative sum) with its lower and upper
    control limits (dashed), a red cross on every day the rule fired, and each incident that
    began in the monitored period shaded (``incidents``: problem, start, end, e.g.
    :func:`prodready.samples.known_problems`). ``monitors``: monitor names; default
    :func:`default_panel_monitors`. Every trace carries its monitor's name in ``meta``."""
    names = list(default_panel_monitors(replay) if monitors is None else monitors)
    known = {m.name: m for m in replay.monitors}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ParameterError(
            "the panel can only show monitors the replay ran",
            where="monitor_panel: monitors",
            expected="names from replay.monitors: " + ", ".join(list(known)[:12]) + ", ...",
            found=", ".join(map(repr, unknown)),
            fix="pick monitors the replay ran (skipped monitors have no trace)",
        )
    names = names[:MAX_PANELS]
    rows = max(1, len(names))
    fired_any = replay.trace.groupby("monitor")["fired"].any() if len(replay.trace) else {}
    titles = [
        f"{n} ({family_words(known[n].family)}, {known[n].rule}"
        + (", fired)" if bool(fired_any.get(n, False)) else ")")
        for n in names
    ]
    fig = make_subplots(
        rows=rows,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=min(0.08, 0.3 / rows),
        subplot_titles=titles or None,
    )
    for i, name in enumerate(names, start=1):
        monitor = known[name]
        trace = replay.trace[replay.trace["monitor"] == name]
        days = list(trace["day"])
        observed = trace["observed"].to_numpy("float64")
        statistic = trace["statistic"].to_numpy("float64")
        fired = trace["fired"].to_numpy(bool)
        first = i == 1
        if monitor.rule != "cusum":  # a CUSUM sum is not in the series' units
            fig.add_scatter(
                x=days,
                y=observed,
                mode="lines+markers" if monitor.rule == "ewma" else "lines",
                line={"color": OBSERVED_COLOUR, "width": 1},
                marker={"size": 3},
                name="observed (the day's value)",
                legendgroup="observed",
                showlegend=first,
                meta=name,
                hovertemplate=f"{name}<br>%{{x|%d %b %Y}}: observed %{{y:.4g}}<extra></extra>",
                row=i,
                col=1,
            )
        label = {"threshold": "the day's value", "ewma": "EWMA z_t", "cusum": "CUSUM sum"}
        fig.add_scatter(
            x=days,
            y=statistic,
            mode="lines",
            line={"color": STATISTIC_COLOUR, "width": 2},
            name="statistic (what the rule compares)",
            legendgroup="statistic",
            showlegend=first,
            meta=name,
            customdata=observed,
            hovertemplate=f"{name}<br>%{{x|%d %b %Y}}: {label[monitor.rule]} %{{y:.4g}} "
            "(observed %{customdata:.4g})<extra></extra>",
            row=i,
            col=1,
        )
        for side in ("lower", "upper"):
            limit = trace[side].to_numpy("float64")
            if not np.isfinite(limit).any():
                continue
            fig.add_scatter(
                x=days,
                y=limit,
                mode="lines",
                line={"color": LIMIT_COLOUR, "dash": "dash", "width": 1},
                name=f"{side} limit",
                legendgroup="limits",
                showlegend=first and side == "upper",
                meta=name,
                hovertemplate=f"{name}<br>%{{x|%d %b %Y}}: {side} limit %{{y:.4g}}<extra></extra>",
                row=i,
                col=1,
            )
        fig.add_scatter(
            x=[d for d, f in zip(days, fired, strict=True) if f],
            y=statistic[fired],
            mode="markers",
            marker={"symbol": "x", "size": 8, "color": ALERT_COLOUR},
            name="alert (the rule fired)",
            legendgroup="alert",
            showlegend=first,
            meta=name,
            hovertemplate=f"{name} fired on %{{x|%d %b %Y}}: %{{y:.4g}}<extra></extra>",
            row=i,
            col=1,
        )
        fig.update_yaxes(title_text=monitor.target, row=i, col=1)
    start, end = replay.monitored_start, replay.monitored_end
    for k, (problem, first_day, last_day) in enumerate(_incident_spans(incidents, start, end)):
        fig.add_shape(
            type="rect",
            xref="x",
            yref="paper",
            x0=first_day,
            x1=last_day,
            y0=0,
            y1=1,
            fillcolor=INCIDENT_COLOUR,
            line={"width": 0},
            layer="below",
            name=problem,
        )
        fig.add_annotation(
            x=first_day,
            y=1.0,
            xref="x",
            yref="paper",
            text=problem,
            showarrow=False,
            xanchor="left",
            yanchor="bottom",
            yshift=18 + 12 * (k % 2),  # above the first panel's title; neighbours staggered
            font={"size": 10, "color": ALERT_COLOUR},
        )
    fig.update_xaxes(tickformat="%d %b %Y")
    fig.update_xaxes(title_text="UTC day", row=rows, col=1)
    subtitle = (
        f"Limits from {replay.reference}; shaded: known incidents. "
        "Dashed: control limits; crosses: days the rule fired."
    )
    layout(fig, title=panel_sentence(replay), subtitle=subtitle, height=160 + 170 * rows)
    fig.update_layout(
        legend={"orientation": "h", "yanchor": "top", "y": -0.06, "xanchor": "left", "x": 0.0},
        margin={"b": 90, "t": 130},
        hovermode="closest",
    )
    return fig


def detection_sentence(report: DetectionReport) -> str:
    """The detection report in one line, as the time-to-detect chart's title writes it."""
    table = report.table
    if table.empty:
        return "No incident began after the reference period: nothing to detect"
    problems = list(dict.fromkeys(table["problem"]))
    fastest = table.groupby("problem", sort=False)["days_to_detect"].min()
    caught = fastest.notna()
    health = table[table["family"] == "system_health"]
    health_caught = int(health["detected"].notna().sum())
    if not caught.any():
        return f"No monitor caught any of the {len(problems)} incidents"
    slowest = int(fastest[caught].max())
    when = "on the day it began" if slowest == 0 else f"within {slowest} day(s) of its start"
    if caught.all():
        head = f"Each of the {len(problems)} incidents was caught {when}"
    else:
        head = f"{int(caught.sum())} of {len(problems)} incidents caught, each {when}"
    return head + f"; system health alone caught {health_caught or 'none'}"


def time_to_detect(report: DetectionReport) -> go.Figure:
    """Per incident (x) and monitor family (a bar each): the days from the incident's start to
    the family's first new alert. A family that never fired during the incident is drawn
    hatched up to the incident's length and labelled "never". Hover: the first monitor and the
    money lost before detection (:mod:`prodready.monitoring.incidents`)."""
    table = report.table
    problems = list(dict.fromkeys(table["problem"]))
    fig = go.Figure()
    for family in FAMILY_ORDER:
        rows = table[table["family"] == family]
        if rows.empty:
            continue
        detected = rows["days_to_detect"].notna().to_numpy(bool)
        length = ((rows["end"] - rows["start"]) / pd.Timedelta(days=1)).to_numpy("float64")
        days = rows["days_to_detect"].to_numpy("float64")
        height = np.where(detected, days, length)
        text = [f"{d:g} d" if ok else "never" for d, ok in zip(days, detected, strict=True)]
        money = [
            format_money(v, report.currency) if pd.notna(v) else "n/a"
            for v in rows["money_lost_before_detection"]
        ]
        first = [m if m else "no monitor" for m in rows["first_monitor"]]
        fig.add_bar(
            x=list(rows["problem"]),
            y=height,
            name=family_words(family),
            marker={
                "color": FAMILY_COLOURS[family],
                "pattern": {
                    "shape": ["" if ok else NEVER_PATTERN for ok in detected],
                    "fillmode": "overlay",
                },
                "opacity": 1.0,
            },
            text=text,
            textposition="outside",
            customdata=np.column_stack([text, first, money]),
            hovertemplate=f"%{{x}}, {family_words(family)}: %{{customdata[0]}} "
            "(%{customdata[1]}); %{customdata[2]} lost before detection<extra></extra>",
        )
    fig.update_layout(
        barmode="group",
        xaxis={"title": "incident", "categoryorder": "array", "categoryarray": problems},
        yaxis={"title": "days to detect", "rangemode": "tozero"},
        hovermode="closest",
    )
    subtitle = (
        "Days from each incident's start to the first new alert of each monitor family; "
        "hatched bars, labelled never, run the incident's whole length without an alert."
    )
    return layout(fig, title=detection_sentence(report), subtitle=subtitle, height=440)
