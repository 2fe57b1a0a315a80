"""How the cost of an analysis grows with the data: wall time and peak memory against size.

Drawn from a benchmark's table (``benchmarks/bench_scale.py``): one row per measured size, the
numbers already measured; nothing is computed here but the labels.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from prodready.charts.style import BAD, NEUTRAL, SERVING, TRAINING, layout
from prodready.errors import ParameterError

SECONDS = "seconds"
PEAK_MIB = "peak_mib"
SERIES = "series"  # optional column: one line per value (e.g. the whole audit and one step)
LOG_X_SPREAD = 100  # log x axis by default when the largest size is this many times the smallest
SERIES_COLOURS = (TRAINING, SERVING, NEUTRAL, BAD)


def cost_growth(
    table: pd.DataFrame,
    *,
    x: str,
    title: str,
    log_x: bool | None = None,
    memory_limit_mib: float | None = None,
) -> go.Figure:
    """Wall seconds (top panel) and peak resident MiB (bottom panel) against column ``x``.

    ``table`` has one row per measured point with columns ``x``, ``seconds`` and ``peak_mib``,
    and optionally ``series`` (one line per value, in order of first appearance). ``log_x``:
    a log x axis (sizes that grow by factors, such as 1M, 10M, 100M rows); by default when the
    largest ``x`` is at least 100 times the smallest; the time axis is then logarithmic as well.
    ``memory_limit_mib`` draws a target as a dashed line on the memory panel.
    """
    missing = [c for c in (x, SECONDS, PEAK_MIB) if c not in table.columns]
    if missing:
        raise ParameterError(
            f"the cost table lacks the column(s) {', '.join(missing)}",
            where="cost_growth(table)",
            expected=f"columns {x!r}, {SECONDS!r} and {PEAK_MIB!r}, one row per measured size",
            found=", ".join(map(str, table.columns)) or "no columns",
            fix="pass the table the scale benchmark writes, or name its size column with x=",
        )
    sizes = table[x].to_numpy("float64")
    if log_x is None:
        positive = sizes[sizes > 0]
        log_x = len(positive) == len(sizes) > 0 and positive.max() >= LOG_X_SPREAD * positive.min()
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.1)
    groups = table.groupby(SERIES, sort=False) if SERIES in table.columns else [(None, table)]
    for number, (name, part) in enumerate(groups):
        part = part.sort_values(x, kind="stable")
        colour = SERIES_COLOURS[number % len(SERIES_COLOURS)]
        label = str(name) if name is not None else "measured"
        for row, column, unit in ((1, SECONDS, "s"), (2, PEAK_MIB, "MiB")):
            fig.add_scatter(
                x=part[x].to_numpy(),
                y=part[column].to_numpy("float64"),
                name=label,
                legendgroup=label,
                showlegend=row == 1 and name is not None,
                mode="lines+markers",
                line={"color": colour},
                hovertemplate=f"{label}: %{{x:,}} {x}, %{{y:,.1f}} {unit}<extra></extra>",
                row=row,
                col=1,
            )
    if memory_limit_mib is not None:
        fig.add_hline(
            y=memory_limit_mib,
            line={"color": BAD, "dash": "dash"},
            annotation_text=f"target {memory_limit_mib:,.0f} MiB",
            annotation_position="top left",
            row=2,
            col=1,
        )
    fig.update_xaxes(type="log" if log_x else "linear")
    fig.update_xaxes(title_text=x.replace("_", " "), row=2, col=1)
    # On a log x axis time is drawn on a log axis too: linear growth is then a line of slope 1.
    if log_x:
        fig.update_yaxes(title_text="wall seconds (log)", type="log", row=1, col=1)
    else:
        fig.update_yaxes(title_text="wall seconds", rangemode="tozero", row=1, col=1)
    fig.update_yaxes(title_text="peak MiB", rangemode="tozero", row=2, col=1)
    return layout(fig, title=title, subtitle=_growth_words(table, x), height=520)


def _growth_words(table: pd.DataFrame, x: str) -> str:
    """How much time and memory grow from the smallest to the largest size (the first series)."""
    part = table[table[SERIES] == table[SERIES].iloc[0]] if SERIES in table.columns else table
    part = part.sort_values(x, kind="stable")
    if len(part) < 2:
        return "One size measured: nothing to compare yet."
    first, last = part.iloc[0], part.iloc[-1]
    size = float(last[x]) / float(first[x]) if float(first[x]) else np.nan
    time = float(last[SECONDS]) / float(first[SECONDS]) if float(first[SECONDS]) else np.nan
    memory = float(last[PEAK_MIB]) / float(first[PEAK_MIB]) if float(first[PEAK_MIB]) else np.nan
    which = f"{str(part[SERIES].iloc[0]).capitalize()}: f" if SERIES in table.columns else "F"
    return (
        f"{which}rom {first[x]:,.0f} to {last[x]:,.0f} {x.replace('_', ' ')} (x{size:,.3g}), "
        f"time x{time:,.3g} and peak memory x{memory:,.3g}."
    )
