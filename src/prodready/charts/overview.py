"""Figures of the case overview (:mod:`prodready.overview`)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from prodready.charts.style import BAD, NEUTRAL, SET_COLOURS, TRAINING, layout
from prodready.overview import CaseOverview

MIN_LABELLED_SHARE = 0.5  # weeks with fewer labels than this are left out of the rate line


def volume_over_time(ov: CaseOverview) -> go.Figure:
    """Rows per week in each data set (bars) and the weekly base rate (lines)."""
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08, row_heights=[0.55, 0.45]
    )
    rate_name = "positive rate" if ov.task == "binary" else "mean label"
    for name, part in ov.over_time.groupby("set", sort=False):
        colour = SET_COLOURS[str(name)]
        fig.add_bar(
            x=part["week"],
            y=part["rows"],
            name=f"{name} rows",
            marker_color=colour,
            opacity=0.75,
            row=1,
            col=1,
        )
        # A week with most labels still to come gives a rate from a biased handful: not drawn.
        rate = part["base_rate"].where(part["labelled_share"] >= MIN_LABELLED_SHARE)
        fig.add_scatter(
            x=part["week"],
            y=rate,
            name=f"{name} {rate_name}",
            mode="lines+markers",
            line={"color": colour},
            marker={"size": 4},
            row=2,
            col=1,
        )
    fig.update_layout(barmode="overlay")
    fig.update_yaxes(title_text="rows per week", row=1, col=1)
    fig.update_yaxes(
        title_text=rate_name, tickformat=".1%" if ov.task == "binary" else None, row=2, col=1
    )
    return layout(
        fig,
        title="Volume and base rate over time",
        subtitle="Weeks where the two data sets overlap share the same events; the rate line "
        f"stops where fewer than {MIN_LABELLED_SHARE:.0%} of a week's labels have arrived.",
        height=480,
    )


def offline_vs_serving(ov: CaseOverview) -> go.Figure:
    """The served model's metrics offline next to the same metrics in serving."""
    table = ov.headline.dropna(subset=["offline", "serving"], how="all")
    fig = go.Figure()
    fig.add_bar(
        x=table["label"],
        y=table["offline"],
        name="offline (training data)",
        marker_color=SET_COLOURS["offline"],
        text=_labels(table["offline"]),
        textposition="outside",
    )
    low = (table["serving"] - table["serving_low"]).fillna(0)
    high = (table["serving_high"] - table["serving"]).fillna(0)
    fig.add_bar(
        x=table["label"],
        y=table["serving"],
        name="serving (labelled production rows)",
        marker_color=SET_COLOURS["serving"],
        text=_labels(table["serving"]),
        textposition="outside",
        error_y={"type": "data", "array": high, "arrayminus": low, "visible": True},
    )
    fig.update_layout(barmode="group", yaxis_title="value")
    primary = ov.headline.loc[ov.primary_metric] if ov.primary_metric in ov.headline.index else None
    subtitle = "Error bar: 95% bootstrap interval of the primary metric in serving."
    if primary is not None and not np.isnan(primary["offline"]):
        subtitle = (
            f"{primary['label']}: {primary['offline']:.3f} offline vs {primary['serving']:.3f} "
            "in production. " + subtitle
        )
    return layout(fig, title="The served model, offline and in production", subtitle=subtitle)


def feature_missingness(ov: CaseOverview) -> go.Figure:
    """Share of missing values per feature in training and in serving."""
    table = ov.features.sort_values("missing_serving", ascending=True)
    fig = go.Figure()
    fig.add_bar(
        y=table.index,
        x=table["missing_training"],
        orientation="h",
        name="training",
        marker_color=TRAINING,
    )
    colours = [NEUTRAL if available else BAD for available in table["available_at_prediction"]]
    fig.add_bar(
        y=table.index,
        x=table["missing_serving"],
        orientation="h",
        name="serving",
        marker_color=SET_COLOURS["serving"],
        marker_line_color=colours,
        marker_line_width=2,
    )
    fig.update_layout(barmode="group", xaxis_tickformat=".0%", xaxis_title="missing values")
    return layout(
        fig,
        title="Missing values per feature",
        subtitle="A feature that is filled offline but empty online is a skew to fix before "
        "anything else; red outline = not available at prediction time.",
        height=max(320, 90 + 28 * len(table)),
    )


def _labels(values) -> list[str]:
    return ["" if np.isnan(v) else f"{v:.3f}" for v in values]
