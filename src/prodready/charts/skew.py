"""Figures of the skew audit (:mod:`prodready.skew`).

Each function draws numbers the audit (or :func:`prodready.skew.distribution_table`) has already
computed; the only work done here is ordering and labelling.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from prodready.charts.style import BAD, NEUTRAL, SET_COLOURS, layout
from prodready.results import format_money

if TYPE_CHECKING:  # the audit's types, for annotations only
    from prodready.skew import MetricGap, RowSkew, SkewAudit

PROBLEM_COLOURS = {  # one colour per kind of problem, the same in every figure and page
    "leakage": BAD,
    "row mismatch": "#B279A2",
    "unit change": "#9D755D",
    "distribution shift": SET_COLOURS["serving"],
    "unseen categories": "#EECA3B",
    "missing values": "#72B7B2",
    "": NEUTRAL,
}
NO_PROBLEM = "no problem found"


def skew_ranking(audit: SkewAudit) -> go.Figure:
    """Features in the audit's order (severity, then PSI), bars of PSI coloured by the kind of
    problem."""
    table = audit.to_frame()
    features = [str(f) for f in table.index]
    problems = table["problem"].fillna("").astype(str)
    fig = go.Figure()
    for problem in dict.fromkeys(problems):  # legend in ranking order
        part = table[problems == problem]
        psi = part["psi"].astype("float64")
        fig.add_bar(
            y=[str(f) for f in part.index],
            x=psi.fillna(0.0),
            orientation="h",
            name=problem or NO_PROBLEM,
            marker_color=PROBLEM_COLOURS.get(problem, NEUTRAL),
            text=[_bar_text(s, p) for s, p in zip(part["severity"], psi, strict=True)],
            textposition="outside",
            cliponaxis=False,
            customdata=np.column_stack(
                [
                    part["severity"].astype(str),
                    [problem or NO_PROBLEM] * len(part),
                    part["kind"].astype(str),
                    [_fmt(v) for v in part["js_distance"]],
                    [_fmt(v, ".1%") for v in part["missing_train"]],
                    [_fmt(v, ".1%") for v in part["missing_serving"]],
                    [_fmt(v, ".1%") for v in part["row_mismatch_rate"]],
                    part["note"].fillna("").astype(str),
                ]
            ),
            hovertemplate="<b>%{y}</b> (%{customdata[2]})<br>severity %{customdata[0]}: "
            "%{customdata[1]}<br>PSI %{x:.3f} · Jensen-Shannon %{customdata[3]}<br>missing "
            "%{customdata[4]} in training, %{customdata[5]} in serving<br>row mismatch "
            "%{customdata[6]}<br>%{customdata[7]}<extra></extra>",
        )
    _, medium, high = audit.thresholds.psi
    for value, name in ((medium, "moderate shift"), (high, "significant shift")):
        fig.add_vline(
            x=value,
            line_dash="dot",
            line_color=NEUTRAL,
            annotation_text=f"PSI {value:g}: {name}",
            annotation_position="bottom right",
            annotation_font_size=11,
        )
    widest = max(float(table["psi"].max(skipna=True)) if table["psi"].notna().any() else 0, high)
    fig.update_layout(
        barmode="overlay",
        xaxis={"title": "population stability index (PSI)", "range": [0, widest * 1.3]},
    )
    fig.update_yaxes(categoryorder="array", categoryarray=features, autorange="reversed")
    flagged = table[table["severity"].isin(["high", "medium"])]
    if len(flagged):
        worst = flagged.index[0]
        lead = (
            f"{len(flagged)} of {len(table)} features need attention; the most severe is "
            f"{worst} ({flagged['problem'].iloc[0] or flagged['severity'].iloc[0]})."
        )
    else:
        lead = f"None of the {len(table)} features shows a medium or high skew."
    return layout(
        fig,
        title="Which features production sees differently",
        subtitle=f"{lead} Ranked by severity, then PSI; the label says the severity.",
        height=max(340, 110 + 30 * len(table)),
    )


def feature_distribution(
    table: pd.DataFrame, feature: str, *, row: pd.Series | None = None
) -> go.Figure:
    """Training against serving shares of one feature, from
    :func:`prodready.skew.distribution_table`. ``row`` (the feature's row of the audit's
    frame) adds its PSI and severity to the subtitle."""
    fig = go.Figure()
    numeric = "bin_left" in table.columns
    if numeric:
        left = table["bin_left"].to_numpy(dtype="float64")
        right = table["bin_right"].to_numpy(dtype="float64")
        x: Any = (left + right) / 2
        ranges = [f"{a:,.4g} to {b:,.4g}" for a, b in zip(left, right, strict=True)]
        geometric = "scale" in table.columns and (table["scale"] == "log").any()
        for name in ("training", "serving"):
            fig.add_bar(
                x=ranges if geometric else x,
                y=table[name],
                width=None if geometric else right - left,
                name=name,
                marker_color=SET_COLOURS[name],
                opacity=0.6,
                customdata=ranges,
                hovertemplate=f"{name}: %{{y:.2%}} of values in %{{customdata}}<extra></extra>",
            )
        fig.update_layout(barmode="overlay", bargap=0.05 if geometric else 0, xaxis_title=feature)
        reading = "Share of non-missing values per bin (the end bins hold the tails)."
        if geometric:
            reading += " Bins widen geometrically: the values have a long tail."
    else:
        categories = table["category"].astype(str).tolist()
        unseen = [
            c
            for c, t, s in zip(categories, table["training"], table["serving"], strict=True)
            if t == 0 and s > 0
        ]
        for name in ("training", "serving"):
            fig.add_bar(
                x=categories,
                y=table[name],
                name=name,
                marker_color=SET_COLOURS[name],
                hovertemplate=f"{name}: %{{y:.2%}} of values are %{{x}}<extra></extra>",
            )
        fig.update_layout(barmode="group", xaxis_title=feature)
        reading = "Share of non-missing values per category."
        if unseen:
            reading += f" Never seen in training: {', '.join(unseen)}."
    fig.update_yaxes(title_text="share of values", tickformat=".0%")
    subtitle = reading
    if row is not None:
        parts = [f"PSI {_fmt(row.get('psi'))}", f"severity {row.get('severity', 'n/a')}"]
        if row.get("problem"):
            parts.append(str(row["problem"]))
        subtitle = f"{', '.join(parts)}. {reading}"
    return layout(fig, title=f"{feature}: training vs serving", subtitle=subtitle)


def psi_by_month(audit: SkewAudit, feature: str) -> go.Figure:
    """PSI of one feature against training, for each serving month (with the PSI bands)."""
    months = audit.by_month[audit.by_month["feature"] == feature].sort_values("month")
    fig = go.Figure()
    fig.add_scatter(
        x=months["month"],
        y=months["psi"],
        mode="lines+markers",
        name="PSI",
        line={"color": SET_COLOURS["serving"]},
        customdata=months["rows"],
        hovertemplate="%{x|%b %Y}: PSI %{y:.3f} on %{customdata:,} rows<extra></extra>",
    )
    _, medium, high = audit.thresholds.band(feature, "psi")
    for value, name in ((medium, "moderate"), (high, "significant")):
        fig.add_hline(
            y=value,
            line_dash="dot",
            line_color=NEUTRAL,
            annotation_text=f"{value:g}: {name}",
            annotation_position="top left",
            annotation_font_size=11,
        )
    fig.update_xaxes(title_text="serving month", tickformat="%b %Y", dtick="M1")
    fig.update_yaxes(title_text="PSI vs training", rangemode="tozero")
    if len(months) and months["psi"].notna().any():
        top = months.loc[months["psi"].idxmax()]
        subtitle = (
            f"Highest in {top['month']:%B %Y} (PSI {top['psi']:.3f}): a shift that starts in one "
            "month is a change upstream, a slow climb is drift."
        )
    else:
        subtitle = "No month could be compared with training for this feature."
    return layout(fig, title=f"{feature}: skew per serving month", subtitle=subtitle, height=340)


def mismatch_scatter(rows: RowSkew, feature: str) -> go.Figure:
    """Training against serving value of the same id (joined rows), with the line y = x."""
    pairs = rows.pairs[rows.pairs["feature"] == feature]
    fig = go.Figure()
    if len(pairs):
        x = pairs["training"].to_numpy(dtype="float64")
        y = pairs["serving"].to_numpy(dtype="float64")
        fig.add_scatter(
            x=x,
            y=y,
            mode="markers",
            name="same id",
            marker={"color": SET_COLOURS["serving"], "size": 5, "opacity": 0.5},
            hovertemplate="training %{x:,.4g}<br>serving %{y:,.4g}<extra></extra>",
        )
        both = np.concatenate([x, y])
        both = both[np.isfinite(both)]
        if len(both):
            low, high = float(both.min()), float(both.max())
            fig.add_scatter(
                x=[low, high],
                y=[low, high],
                mode="lines",
                name="same value (y = x)",
                line={"color": NEUTRAL, "dash": "dash"},
                hoverinfo="skip",
            )
    else:
        fig.add_annotation(
            text="No joined numeric values to compare for this feature.",
            showarrow=False,
            xref="paper",
            yref="paper",
            x=0.5,
            y=0.5,
        )
    fig.update_layout(xaxis_title=f"{feature} in training", yaxis_title=f"{feature} in serving")
    subtitle = "Each point is one id in both data sets; on the dashed line the two pipelines agree."
    if feature in rows.features.index:
        stats = rows.features.loc[feature]
        share = _fmt(stats["mismatch_rate"], ".1%")
        reading = f"{share} of {int(stats['compared']):,} joined rows differ"
        hint = str(stats.get("unit_hint") or "")
        ratio = stats.get("median_ratio")
        if hint:
            reading += f"; {hint}"
        elif ratio is not None and not _nan(ratio):
            reading += f"; median serving / training = {ratio:.3f}"
        subtitle = f"{reading}. {subtitle}"
    return layout(fig, title=f"{feature}: the same rows, offline and online", subtitle=subtitle)


def production_gap(metric_gap: MetricGap) -> go.Figure:
    """Offline (held-out training) against serving metric, for the model with all features and
    the one with prediction-time features only."""
    table = metric_gap.table
    models = [str(m) for m in table.index]
    fig = go.Figure()
    names = {
        "offline": f"offline (training held out from {metric_gap.holdout_start:%d %b %Y})",
        "serving": "serving (labelled production rows)",
    }
    for column in ("offline", "serving"):
        values = table[column].astype("float64")
        money = table.get(f"{column}_value_per_1000")
        fig.add_bar(
            x=models,
            y=values,
            name=names[column],
            marker_color=SET_COLOURS[column],
            text=[_fmt(v) for v in values],
            textposition="outside",
            customdata=[_money(v, metric_gap.currency) for v in money]
            if money is not None
            else None,
            hovertemplate=f"{column} {metric_gap.label} %{{y:.3f}}"
            + ("<br>value per 1,000 decisions: %{customdata}" if money is not None else "")
            + "<extra></extra>",
        )
    fig.update_layout(barmode="group", yaxis_title=metric_gap.label)
    subtitle = (
        f"{metric_gap.label}: {_fmt(metric_gap.offline)} offline vs {_fmt(metric_gap.serving)} "
        f"in production with all features; {_fmt(metric_gap.honest_offline)} vs "
        f"{_fmt(metric_gap.honest_serving)} with the features production has when it predicts."
    )
    return layout(fig, title="What production really gets", subtitle=subtitle)


# -- formatting ---------------------------------------------------------------------------------
def _nan(value: Any) -> bool:
    try:
        return value is None or value is pd.NA or math.isnan(float(value))
    except (TypeError, ValueError):
        return False


def _fmt(value: Any, spec: str = ".3f") -> str:
    return "n/a" if _nan(value) else format(float(value), spec)


def _bar_text(severity: Any, psi: float) -> str:
    return f"{severity} · PSI {_fmt(psi)}" if not _nan(psi) else f"{severity} · PSI n/a"


def _money(value: Any, currency: str | None) -> str:
    return "n/a" if _nan(value) else format_money(float(value), currency)
