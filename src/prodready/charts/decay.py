"""Figures of decay and retraining (:func:`prodready.decay.aging_curve`,
:func:`prodready.decay.compare_policies`) and of the label-free estimate
(:func:`prodready.estimate.estimate_case`).

Each function draws numbers the result has already computed (the aging curve's quantiles and
half-life, the policies' timeline and table, the estimate's chunks); the only work done here is
ordering, labelling, and, for the Pareto chart, picking which policies no other one beats.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from prodready import metrics
from prodready.charts.style import BAD, GOOD, NEUTRAL, SERVING, TRAINING, layout
from prodready.decay.periods import CHANCE, short_label
from prodready.results import format_money

if TYPE_CHECKING:  # the results' types, for annotations only
    from prodready.decay import AgingCurve, PolicyComparison
    from prodready.estimate import PerformanceEstimate

MEDIAN_COLOUR = TRAINING
HALF_LIFE_COLOUR = BAD
# Policies in the order they come; "never retrain" is always grey (the do-nothing baseline).
POLICY_COLOURS = (
    "#4C78A8",
    "#F58518",
    "#54A24B",
    "#B279A2",
    "#72B7B2",
    "#EECA3B",
    "#FF9DA6",
    "#9D755D",
    "#E45756",
)
NEVER = "never retrain"
RETRAIN_SYMBOL = "triangle-up"


def _transparent(colour: str, alpha: float) -> str:
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red}, {green}, {blue}, {alpha})"


def half_life_sentence(curve: AgingCurve) -> str:
    """The aging curve's finding in one line, as the chart's title writes it: what
    ``lost_share`` counts follows the aging module's definition (for ROC AUC the part above
    chance, for an error metric its growth)."""
    oldest = int(curve.curve["model_age_days"].iloc[-1])
    label = short_label(curve.metric)
    share = f"{curve.lost_share:.0%}"
    half = curve.half_life_days
    when = f"within the {oldest} days observed" if half is None else f"after {half:.0f} days"
    if curve.higher_is_better:
        chance = CHANCE.get(curve.metric, 0.0)
        above = f"above chance ({chance:g})" if chance else "above 0"
        verb = "do not lose" if half is None else "lose"
        return f"Models {verb} {share} of their {label} {above} {when}"
    verb = "does not grow" if half is None else "grows"
    return f"A model's {label} {verb} by {share} {when}"


def interval_words(curve: AgingCurve, *, short: bool = False) -> str:
    """The half-life's 95% interval as text ("n/a" without a half-life); ``short`` for a tile:
    ``48-58 days``, ``48+ days`` without an upper end."""
    if curve.half_life_days is None:
        return "n/a"
    low = "?" if curve.half_life_low is None else f"{curve.half_life_low:.0f}"
    high = curve.half_life_high
    if short:
        return f"{low}+ days" if high is None else f"{low}-{high:.0f} days"
    if high is None:
        return f"{low} days to more than the {int(curve.curve['model_age_days'].iloc[-1])} observed"
    return f"{low} to {high:.0f} days"


def aging_curve(curve: AgingCurve) -> go.Figure:
    """The metric by model age: the median over training origins with its 25-75% and 10-90%
    bands, and the half-life marked (a vertical line, its 95% interval shaded) or a note that the
    curve never gets there within the ages observed."""
    frame = curve.curve
    ages = frame["model_age_days"].to_numpy(float)
    label = metrics.METRIC_LABELS[curve.metric]
    fig = go.Figure()
    for low, high, name, alpha in (
        ("q10", "q90", "10-90% of origins", 0.13),
        ("q25", "q75", "25-75% of origins", 0.28),
    ):
        fig.add_scatter(
            x=ages,
            y=frame[high].to_numpy(float),
            mode="lines",
            line={"width": 0, "color": MEDIAN_COLOUR},
            name=f"{name} (high)",
            showlegend=False,
            hoverinfo="skip",
        )
        fig.add_scatter(
            x=ages,
            y=frame[low].to_numpy(float),
            mode="lines",
            line={"width": 0, "color": MEDIAN_COLOUR},
            fill="tonexty",
            fillcolor=_transparent(MEDIAN_COLOUR, alpha),
            name=name,
            hoverinfo="skip",
        )
    fig.add_scatter(
        x=ages,
        y=frame["median"].to_numpy(float),
        mode="lines+markers",
        line={"color": MEDIAN_COLOUR, "width": 3},
        marker={"size": 6},
        name=f"median {short_label(curve.metric)}",
        customdata=np.column_stack(
            [
                frame["n_origins"].to_numpy(int),
                frame["q10"].to_numpy(float),
                frame["q90"].to_numpy(float),
            ]
        ),
        hovertemplate=f"%{{x:.0f}} days old: median {short_label(curve.metric)} %{{y:.3f}} over "
        "%{customdata[0]} origins (10-90%: %{customdata[1]:.3f} to %{customdata[2]:.3f})"
        "<extra></extra>",
    )
    oldest = float(ages[-1])
    half = curve.half_life_days
    if half is None:
        fig.add_annotation(
            text=f"half-life: never within {oldest:.0f} days",
            showarrow=False,
            xref="paper",
            yref="paper",
            x=0.99,
            y=0.02,
            xanchor="right",
            yanchor="bottom",
            font={"color": "#555"},
        )
    else:
        low = curve.half_life_low
        high = oldest if curve.half_life_high is None else curve.half_life_high
        if low is not None:
            fig.add_vrect(
                x0=low,
                x1=high,
                fillcolor=_transparent(HALF_LIFE_COLOUR, 0.10),
                line_width=0,
                layer="below",
                name="half-life 95% interval",
            )
        fig.add_shape(
            type="line",
            x0=half,
            x1=half,
            y0=0,
            y1=1,
            yref="paper",
            line={"color": HALF_LIFE_COLOUR, "dash": "dash", "width": 2},
            name="half-life",
        )
        fig.add_annotation(
            x=half,
            y=1,
            yref="paper",
            text=f"half-life {half:.0f} days",
            showarrow=False,
            xanchor="left",
            yanchor="top",
            xshift=4,
            font={"color": HALF_LIFE_COLOUR},
        )
    fig.update_layout(
        xaxis={"title": "model age (days since it was trained)", "rangemode": "tozero"},
        yaxis={"title": label},
        hovermode="closest",
    )
    start, end = frame["median"].iloc[0], frame["median"].iloc[-1]
    subtitle = (
        f"Median {start:.3f} when new, {end:.3f} at {oldest:.0f} days; "
        f"{curve.models_trained} models, each trained on {curve.train_window_days} days, one "
        f"every {curve.step_days} days."
    )
    if half is not None:
        subtitle = f"95% interval {interval_words(curve)}. " + subtitle
    return layout(fig, title=half_life_sentence(curve), subtitle=subtitle, height=440)


def policy_colours(comparison: PolicyComparison) -> dict[str, str]:
    """A colour per policy, in the table's order; never retraining in grey."""
    colours, others = {}, iter(POLICY_COLOURS * 3)
    for name in comparison.table["policy"]:
        colours[name] = NEUTRAL if name == NEVER else next(others)
    return colours


def policy_timeline(comparison: PolicyComparison) -> go.Figure:
    """The metric of each period under each policy (one line each), the periods where a policy
    put a newly trained model in service as markers; the recommended policy drawn thick."""
    timeline = comparison.timeline
    label = short_label(comparison.metric)
    colours = policy_colours(comparison)
    currency = comparison.currency
    fig = go.Figure()
    for name in comparison.table["policy"]:
        rows = timeline[timeline["policy"] == name]
        best = name == comparison.recommended
        colour = colours[name]
        legend = f"{name} (recommended)" if best else name
        values = [format_money(v, currency) for v in rows["value"]]
        fig.add_scatter(
            x=list(rows["period_start"]),
            y=rows["metric"].to_numpy(float),
            mode="lines",
            line={"color": colour, "width": 4 if best else 1.8},
            opacity=1.0 if best else 0.75,
            name=legend,
            legendgroup=name,
            customdata=np.column_stack(
                [[f"{t:%d %b %Y}" for t in rows["model_trained_at"]], values]
            ),
            hovertemplate=f"<b>{name}</b><br>period from %{{x|%d %b %Y}}: {label} %{{y:.3f}}, "
            "value %{customdata[1]}<br>model trained up to %{customdata[0]}<extra></extra>",
        )
        retrained = rows[rows["retrained"].astype(bool)]
        if len(retrained):
            fig.add_scatter(
                x=list(retrained["period_start"]),
                y=retrained["metric"].to_numpy(float),
                mode="markers",
                marker={
                    "symbol": RETRAIN_SYMBOL,
                    "size": 12 if best else 9,
                    "color": colour,
                    "line": {"width": 1, "color": "white"},
                },
                name=f"{name}: retrained",
                legendgroup=name,
                showlegend=False,
                hovertemplate=f"<b>{name}</b>: a new model serves from %{{x|%d %b %Y}} "
                f"({label} %{{y:.3f}} in its first period)<extra></extra>",
            )
    table = comparison.table.set_index("policy")
    best = table.loc[comparison.recommended]
    subtitle = f"Mean {label} {best['mean_metric']:.3f} with {int(best['retrains'])} retrainings"
    if NEVER in table.index and comparison.recommended != NEVER:
        subtitle += f", against {table.loc[NEVER, 'mean_metric']:.3f} never retraining"
    subtitle += f"; triangles: a new model goes into service ({comparison.step_days}-day periods)."
    fig.update_layout(
        xaxis={"title": "period", "tickformat": "%d %b %Y"},
        yaxis={"title": metrics.METRIC_LABELS[comparison.metric]},
        hovermode="closest",
    )
    layout(
        fig,
        title=f"Recommended: {comparison.recommended}",
        subtitle=subtitle,
        height=480,
    )
    fig.update_layout(
        legend={"orientation": "h", "yanchor": "top", "y": -0.15, "xanchor": "left", "x": 0.0},
        margin={"b": 110},
    )
    return fig


def pareto_front(cost, value) -> list[int]:
    """Positions of the points no other point beats: none costs at most as much and is worth at
    least as much, and is better on one of the two. In order of cost (then of value, best
    first); points with a missing value are never on the front."""
    cost, value = np.asarray(cost, float), np.asarray(value, float)
    usable = np.flatnonzero(~np.isnan(cost) & ~np.isnan(value))
    order = usable[np.lexsort((-value[usable], cost[usable]))]
    front: list[int] = []
    best, best_cost = -np.inf, np.nan
    for i in order:  # every earlier point costs at most as much
        if value[i] > best or (value[i] == best and cost[i] == best_cost):  # a tie: both stay
            front.append(int(i))
            best, best_cost = value[i], cost[i]
    return front


def policy_pareto(comparison: PolicyComparison) -> go.Figure:
    """Retraining cost (x) against what the policy's decisions were worth (y), one point per
    policy, the Pareto front drawn and the recommendation marked. Without business value the
    y axis is the mean metric instead (an error metric: lower is better, so the front is drawn
    for the lowest)."""
    table = comparison.table.reset_index(drop=True)
    label = short_label(comparison.metric)
    currency = comparison.currency
    valued = table["value"].notna().any()
    money = currency or "money"
    if valued:
        y = table["value"].to_numpy(float)
        y_title = f"value before cost ({money})"
        better = y
    else:
        y = table["mean_metric"].to_numpy(float)
        y_title = f"mean {label}"
        better = y if metrics.HIGHER_IS_BETTER[comparison.metric] else -y
    cost = table["cost"].to_numpy(float)
    colours = policy_colours(comparison)
    fig = go.Figure()
    front = pareto_front(cost, better)
    fig.add_scatter(
        x=cost[front],
        y=y[front],
        mode="lines",
        line={"color": NEUTRAL, "dash": "dot", "width": 1.5, "shape": "hv"},
        name="Pareto front (no policy is cheaper and worth more)",
        hoverinfo="skip",
    )
    for i, row in table.iterrows():
        best = row["policy"] == comparison.recommended
        fig.add_scatter(
            x=[cost[i]],
            y=[y[i]],
            mode="markers+text" if best else "markers",
            marker={
                "size": 20 if best else 12,
                "symbol": "star" if best else ("circle" if i in front else "circle-open"),
                "color": colours[row["policy"]],
                "line": {"width": 2, "color": GOOD if best else colours[row["policy"]]},
            },
            text=["recommended"] if best else None,
            textposition="top center",
            name=row["policy"],
            customdata=[
                [
                    int(row["retrains"]),
                    format_money(row["net"], currency),
                    format_money(row["cost"], currency),
                    format_money(row["value"], currency),
                    float(row["mean_metric"]),
                ]
            ],
            hovertemplate=f"<b>{row['policy']}</b><br>%{{customdata[0]}} retrainings costing "
            "%{customdata[2]}<br>value %{customdata[3]}, net %{customdata[1]}<br>"
            f"mean {label} %{{customdata[4]:.3f}}<extra></extra>",
        )
    fig.update_layout(
        xaxis={
            "title": f"retraining cost ({money}: retrainings x "
            f"{format_money(comparison.retrain_cost, currency)})"
        },
        yaxis={"title": y_title},
        hovermode="closest",
    )
    names = table["policy"].to_numpy()[front]
    recommended = table[table["policy"] == comparison.recommended].iloc[0]
    if valued:
        best = (
            f"The highest value net of retraining cost: "
            f"{format_money(recommended['net'], currency)}"
        )
    else:
        best = f"The best mean {label}: {recommended['mean_metric']:.3f}"
    subtitle = (
        f"{best} with {int(recommended['retrains'])} retrainings.<br>"
        f"On the Pareto front (no policy cheaper and worth more): {', '.join(names)}."
    )
    layout(
        fig,
        title=f"Best return on retraining: {comparison.recommended}",
        subtitle=subtitle,
        height=480,
    )
    fig.update_layout(
        legend={"orientation": "h", "yanchor": "top", "y": -0.18, "xanchor": "left", "x": 0.0},
        margin={"b": 120, "t": 100},
    )
    return fig


def estimate_vs_realised(estimate: PerformanceEstimate) -> go.Figure:
    """Per chunk: the label-free estimate of ROC AUC (every row) and the realised ROC AUC (rows
    whose label has arrived), the chunks whose estimate is not to be trusted marked with the
    reason on hover, and the share of each chunk's rows that are labelled (bars, right axis)."""
    table = estimate.table
    x = list(table["chunk_start"])
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    n = table["n"].to_numpy(float)
    labelled = table["n_labelled"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(n > 0, labelled / n, np.nan)
    fig.add_bar(
        x=x,
        y=share,
        name="labelled share (right axis)",
        marker_color=_transparent(NEUTRAL, 0.22),
        customdata=np.column_stack([labelled.astype(int), n.astype(int)]),
        hovertemplate="%{customdata[0]:,} of %{customdata[1]:,} rows labelled "
        "(%{y:.0%})<extra></extra>",
        secondary_y=True,
    )
    estimated = table["estimated_roc_auc"].to_numpy(float)
    fig.add_scatter(
        x=x,
        y=estimated,
        mode="lines+markers",
        line={"color": SERVING, "width": 3},
        name="estimated ROC AUC (every row, no label needed)",
        customdata=np.column_stack(
            [table["estimated_roc_auc_labelled"].to_numpy(float), n.astype(int)]
        ),
        hovertemplate="%{x|%d %b %Y}: estimated %{y:.3f} on %{customdata[1]:,} rows "
        "(%{customdata[0]:.3f} on the labelled rows)<extra></extra>",
        secondary_y=False,
    )
    fig.add_scatter(
        x=x,
        y=table["realised_roc_auc"].to_numpy(float),
        mode="lines+markers",
        line={"color": TRAINING, "width": 2, "dash": "dash"},
        name="realised ROC AUC (labelled rows)",
        customdata=labelled.astype(int),
        hovertemplate="%{x|%d %b %Y}: realised %{y:.3f} on %{customdata:,} labelled rows"
        "<extra></extra>",
        secondary_y=False,
    )
    warn = (table["trust"] == "warn").to_numpy()
    if warn.any():
        reasons = table["trust_reason"].astype(str).to_numpy()[warn]
        fig.add_scatter(
            x=[x[i] for i in np.flatnonzero(warn)],
            y=estimated[warn],
            mode="markers",
            marker={"symbol": "x", "size": 13, "color": BAD, "line": {"width": 1}},
            name="do not trust the estimate (hover for why)",
            customdata=[_wrap(r) for r in reasons],
            hovertemplate="%{x|%d %b %Y}: <b>do not trust</b> the estimate %{y:.3f}<br>"
            "%{customdata}<extra></extra>",
            secondary_y=False,
        )
    fig.update_yaxes(title_text="ROC AUC", secondary_y=False)
    fig.update_yaxes(
        title_text="labelled share",
        tickformat=".0%",
        range=[0, 1.02],
        tickvals=[0, 0.25, 0.5, 0.75, 1],
        showgrid=False,
        secondary_y=True,
    )
    fig.update_xaxes(title_text=f"chunk ({estimate.chunk})")
    chunks = len(table)
    warned = int(warn.sum())
    if warned:
        title = f"Do not trust the estimate in {warned} of {chunks} chunks"
    else:
        title = f"The estimate can be trusted in all {chunks} chunks"
    waiting = int(np.sum(share < 0.5))
    subtitle = (
        f"Calibrated on {estimate.reference_rows:,} labelled reference rows; "
        f"{waiting} chunk{'s' if waiting != 1 else ''} still waiting for most labels, where "
        "the estimate is all there is."
    )
    layout(fig, title=title, subtitle=subtitle, height=440)
    fig.update_layout(
        legend={"orientation": "h", "yanchor": "top", "y": -0.15, "xanchor": "left", "x": 0.0},
        margin={"b": 100},
        hovermode="closest",
    )
    return fig


def _wrap(text: str, width: int = 80) -> str:
    """Hover text broken into lines of about ``width`` characters."""
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    if line:
        lines.append(line)
    return "<br>".join(lines)
