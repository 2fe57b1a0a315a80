"""Figures of human-in-the-loop review (:func:`prodready.review.simulate`,
:func:`prodready.review.sweep`).

Each function draws numbers the result has already computed (the replay's daily frame and
totals, the sweep's table and best band); the only work done here is ordering and labelling.
Definitions (band ``[low, high)``, FIFO queue within the UTC day without carry-over, net value)
are in :mod:`prodready.review.simulate`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from prodready.charts.style import BAD, GOOD, NEUTRAL, TRAINING, layout
from prodready.results import format_money

if TYPE_CHECKING:  # the results' types, for annotations only
    from prodready.review import ReviewResult, ReviewSweep

REVIEWED_COLOUR = GOOD
OVERFLOW_COLOUR = BAD
CAPACITY_COLOUR = "#333333"
NET_COLOUR = TRAINING
BEST_COLOUR = "#EECA3B"


def band_words(band: tuple[float, float]) -> str:
    """A band as the package writes it: ``[0.03, 0.09)`` (closed below, open above)."""
    low, high = band
    return f"[{low:g}, {high:g})"


def queue_sentence(result: ReviewResult) -> str:
    """The replay's queue in one line, as the queue chart's title writes it."""
    t = result.totals
    if t["events"] == 0:
        return "The serving log is empty: nothing to review"
    if t["in_band"] == 0:
        return f"No event fell in the band {band_words(result.band)}: widen it"
    if t["overflow"] == 0:
        return f"The reviewers kept up every day: all {t['in_band']:,} in-band events were reviewed"
    return (
        f"The queue overflowed on {t['days_with_overflow']:,} of {t['days']:,} days: "
        f"{t['overflow']:,} of {t['in_band']:,} in-band events ({t['overflow_share']:.0%}) "
        "were decided by the model alone"
    )


def review_queue(result: ReviewResult) -> go.Figure:
    """Per UTC day: the in-band events split into those reviewed (at most the capacity) and the
    overflow the model decided alone, stacked so each bar's height is the day's in-band count;
    the reviewers' daily capacity as a line."""
    daily = result.daily
    dates = list(daily["date"])
    in_band = daily["in_band"].to_numpy("int64")
    fig = go.Figure()
    fig.add_bar(
        x=dates,
        y=daily["reviewed"].to_numpy("int64"),
        name="reviewed",
        marker_color=REVIEWED_COLOUR,
        customdata=in_band,
        hovertemplate="%{x|%d %b %Y}: %{y:,} of %{customdata:,} in-band events reviewed"
        "<extra></extra>",
    )
    fig.add_bar(
        x=dates,
        y=daily["overflow"].to_numpy("int64"),
        name="overflow (the model decided alone)",
        marker_color=OVERFLOW_COLOUR,
        customdata=in_band,
        hovertemplate="%{x|%d %b %Y}: %{y:,} of %{customdata:,} in-band events overflowed"
        "<extra></extra>",
    )
    capacity = result.capacity_per_day
    fig.add_scatter(
        x=dates,
        y=np.full(len(dates), capacity, dtype="int64"),
        mode="lines",
        line={"color": CAPACITY_COLOUR, "dash": "dash", "width": 2},
        name=f"capacity ({capacity:,} a day)",
        hovertemplate=f"capacity: {capacity:,} reviews a day<extra></extra>",
    )
    fig.update_layout(
        barmode="stack",
        bargap=0.1,
        xaxis={"title": "UTC day", "tickformat": "%d %b %Y"},
        yaxis={"title": "in-band events", "rangemode": "tozero"},
        hovermode="closest",
        legend_traceorder="normal",
    )
    t = result.totals
    subtitle = (
        f"Band {band_words(result.band)} around the threshold {result.threshold:g}: "
        f"{t['mean_daily_load']:.1f} events a day on average, peak {t['peak_daily_load']:,}, "
        f"against {capacity:,} reviews a day (FIFO within the day, no carry-over)."
    )
    return layout(fig, title=queue_sentence(result), subtitle=subtitle, height=420)


def sweep_sentence(sweep: ReviewSweep) -> str:
    """The sweep's answer in one line, as the net-value chart's title writes it."""
    best = sweep.best_result
    if best is None:
        return "No review band recommended"
    return (
        f"Best band {band_words(best.band)}: net {format_money(best.net, sweep.currency)} "
        f"within the capacity of {sweep.capacity_per_day:,} a day"
    )


def review_net_value(sweep: ReviewSweep) -> go.Figure:
    """Against the band width asked (log scale): top, each band's net value (value with review
    minus value of the model alone minus the cost of the labelled reviews); bottom, its mean
    daily load (in-band events per UTC day) with the reviewers' capacity as a line. Points within
    capacity are filled, the others open; the best band is starred in both panels."""
    table = sweep.table.reset_index(drop=True)
    width = table["width"].to_numpy("float64")
    net = table["net"].to_numpy("float64")
    load = table["mean_daily_load"].to_numpy("float64")
    fits = table["within_capacity"].to_numpy(bool)
    currency = sweep.currency
    money = currency or "money"
    customdata = np.column_stack(
        [
            table["band"].astype(str).to_numpy(),
            [format_money(v, currency) for v in net],
            table["peak_daily_load"].to_numpy("int64"),
            [f"{v:.0%}" if math.isfinite(v) else "n/a" for v in table["overflow_share"]],
            table["errors_avoided"].to_numpy("float64"),
        ]
    )
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.55, 0.45], vertical_spacing=0.08
    )
    symbols = ["circle" if f else "circle-open" for f in fits]
    fig.add_scatter(
        x=width,
        y=net,
        mode="lines+markers",
        line={"color": NET_COLOUR, "width": 2},
        marker={"symbol": symbols, "size": 10, "color": NET_COLOUR},
        name="net value (filled: within capacity)",
        customdata=customdata,
        hovertemplate="width %{x:g}, band %{customdata[0]}: net %{customdata[1]}, "
        "%{customdata[4]:,.0f} errors avoided<extra></extra>",
        row=1,
        col=1,
    )
    fig.add_scatter(
        x=width,
        y=load,
        mode="lines+markers",
        line={"color": NEUTRAL, "width": 2},
        marker={"symbol": symbols, "size": 10, "color": NEUTRAL},
        name="mean daily load",
        customdata=customdata,
        hovertemplate="width %{x:g}, band %{customdata[0]}: %{y:.1f} events a day "
        "(peak %{customdata[2]:,}), %{customdata[3]} overflowed<extra></extra>",
        row=2,
        col=1,
    )
    capacity = sweep.capacity_per_day
    fig.add_scatter(
        x=[float(width.min()), float(width.max())] if len(width) else [],
        y=[capacity, capacity] if len(width) else [],
        mode="lines",
        line={"color": CAPACITY_COLOUR, "dash": "dash", "width": 2},
        name=f"capacity ({capacity:,} a day)",
        hovertemplate=f"capacity: {capacity:,} reviews a day<extra></extra>",
        row=2,
        col=1,
    )
    best = sweep.best
    if best is not None:
        row = table[(table["low"] == best[0]) & (table["high"] == best[1])].iloc[0]
        star = {
            "symbol": "star",
            "size": 20,
            "color": BEST_COLOUR,
            "line": {"width": 1, "color": "#333333"},
        }
        fig.add_scatter(
            x=[float(row["width"])],
            y=[float(row["net"])],
            mode="markers",
            marker=star,
            name=f"best band {row['band']}",
            legendgroup="best",
            hovertemplate=f"best band {row['band']}: net "
            f"{format_money(float(row['net']), currency)}<extra></extra>",
            row=1,
            col=1,
        )
        fig.add_scatter(
            x=[float(row["width"])],
            y=[float(row["mean_daily_load"])],
            mode="markers",
            marker=star,
            name=f"best band {row['band']} (load)",
            legendgroup="best",
            showlegend=False,
            hovertemplate=f"best band {row['band']}: {float(row['mean_daily_load']):.1f} "
            "events a day<extra></extra>",
            row=2,
            col=1,
        )
    if not np.isfinite(net).any():
        fig.add_annotation(
            text="no label has arrived: no net value",
            showarrow=False,
            xref="x domain",
            yref="y domain",
            x=0.5,
            y=0.5,
            font={"color": "#555"},
        )
    ticks = {"tickvals": list(width), "ticktext": [f"{w:g}" for w in width]}
    fig.update_xaxes(type="log", **ticks, row=1, col=1)
    fig.update_xaxes(type="log", title_text="band width asked (log scale)", **ticks, row=2, col=1)
    fig.update_yaxes(title_text=f"net value ({money})", zeroline=True, row=1, col=1)
    fig.update_yaxes(title_text="in-band events a day", rangemode="tozero", row=2, col=1)
    subtitle = (
        f"Bands centred on {sweep.centre:g}; {int(fits.sum())} of {len(table)} have a mean daily "
        f"load within {capacity:,} reviews a day (filled points)"
        + (", and the best nets the most among them." if best is not None else f": {sweep.reason}")
    )
    layout(fig, title=sweep_sentence(sweep), subtitle=_wrap(subtitle), height=560)
    fig.update_layout(
        legend={"orientation": "h", "yanchor": "top", "y": -0.16, "xanchor": "left", "x": 0.0},
        margin={"b": 110},
        hovermode="closest",
    )
    return fig


def _wrap(text: str, width: int = 110) -> str:
    """A subtitle broken into lines of about ``width`` characters."""
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    if line:
        lines.append(line)
    return "<br>".join(lines)
