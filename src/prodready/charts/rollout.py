"""Figures of the rollout replay (:func:`prodready.rollout.simulate`).

Each function draws numbers the replay has already computed (its ``timeline``, ``decisions`` and
``money``); the only work done here is ordering and labelling.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from prodready.charts.style import BAD, GOOD, NEUTRAL, SERVING, TRAINING, layout
from prodready.results import format_money

if TYPE_CHECKING:  # the replay's type, for annotations only
    from prodready.rollout import RolloutResult

ARM_COLOURS = {"champion": TRAINING, "challenger": SERVING}
ACTION_SYMBOLS = {
    "start": "circle-open",
    "advance": "triangle-right",
    "hold": "square",
    "rollback": "x",
    "promote": "star",
    "stop": "diamond",
}
ACTION_COLOURS = {"rollback": BAD, "promote": GOOD, "hold": "#EECA3B"}
OUTCOME_WORDS = {"promoted": "promoted", "rolled_back": "rolled back", "held": "held"}


def outcome_sentence(result: RolloutResult) -> str:
    """The replay's decision in one sentence, from its last decision."""
    last = result.decisions.iloc[-1]
    if result.outcome == "rolled_back":
        return (
            f"Rolled back on {last['date']:%d %b %Y} in the {last['stage']} stage: "
            f"{last['reason']}."
        )
    if result.outcome == "promoted":
        return f"Promoted on {last['date']:%d %b %Y}: no rollback rule fired."
    return f"No decision: {last['reason']}."


def rollout_timeline(result: RolloutResult) -> go.Figure:
    """Top: the challenger's served traffic share per day, with the plan's decisions as markers.
    Bottom: business value per 1,000 decisions of each arm (labels known that day), with the
    anytime-valid confidence band."""
    timeline = result.timeline
    dates = list(timeline["date"])
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        row_heights=[0.32, 0.68],
        vertical_spacing=0.06,
    )
    fig.add_scatter(
        x=dates,
        y=timeline["share"].astype("float64"),
        mode="lines",
        line={"shape": "hv", "color": SERVING, "width": 2},
        name="challenger's traffic share",
        customdata=timeline["stage"].astype(str),
        hovertemplate="%{x|%d %b %Y}: %{y:g}% served by the challenger "
        "(%{customdata})<extra></extra>",
        row=1,
        col=1,
    )
    decisions = result.decisions
    shares = timeline.set_index("date")["share"]
    marker_y = [float(shares.get(d, 0.0)) for d in decisions["date"]]
    fig.add_scatter(
        x=list(decisions["date"]),
        y=marker_y,
        mode="markers+text",
        name="decisions",
        text=decisions["action"].astype(str).tolist(),
        textposition="top center",
        marker={
            "size": 12,
            "symbol": [ACTION_SYMBOLS.get(a, "circle") for a in decisions["action"]],
            "color": [ACTION_COLOURS.get(a, NEUTRAL) for a in decisions["action"]],
            "line": {"width": 2},
        },
        customdata=np.column_stack(
            [decisions["stage"].astype(str), decisions["reason"].astype(str)]
        ),
        hovertemplate="%{x|%d %b %Y}: <b>%{text}</b> (%{customdata[0]})<br>"
        "%{customdata[1]}<extra></extra>",
        row=1,
        col=1,
    )
    for arm, colour in ARM_COLOURS.items():
        high = timeline[f"{arm} value high"].astype("float64")
        low = timeline[f"{arm} value low"].astype("float64")
        value = timeline[f"{arm} value per 1000"].astype("float64")
        fig.add_scatter(
            x=dates,
            y=high,
            mode="lines",
            line={"width": 0, "color": colour},
            name=f"{arm} band (high)",
            showlegend=False,
            hoverinfo="skip",
            row=2,
            col=1,
        )
        fig.add_scatter(
            x=dates,
            y=low,
            mode="lines",
            line={"width": 0, "color": colour},
            fill="tonexty",
            fillcolor=_transparent(colour),
            name=f"{arm} band (low)",
            showlegend=False,
            hoverinfo="skip",
            row=2,
            col=1,
        )
        fig.add_scatter(
            x=dates,
            y=value,
            mode="lines+markers",
            marker={"size": 4},
            line={"color": colour},
            name=f"{arm} value per 1,000",
            customdata=np.column_stack([timeline[f"{arm} labelled"].astype("float64"), low, high]),
            hovertemplate=f"%{{x|%d %b %Y}}: {arm} %{{y:,.0f}} per 1,000 decisions "
            "(band %{customdata[1]:,.0f} to %{customdata[2]:,.0f}) on %{customdata[0]:,.0f} "
            "labelled decisions<extra></extra>",
            row=2,
            col=1,
        )
    known = timeline[[f"{arm} value per 1000" for arm in ARM_COLOURS]].notna().any(axis=None)
    if not known:
        fig.add_annotation(
            text="No label had arrived by the decision: the value of each arm was not yet known.",
            showarrow=False,
            xref="x2 domain",
            yref="y2 domain",
            x=0.5,
            y=0.5,
        )
    currency = result.currency or "money"
    fig.update_yaxes(title_text="served share (%)", range=[-8, 118], row=1, col=1)
    fig.update_yaxes(title_text=f"{currency} per 1,000 decisions", row=2, col=1)
    fig.update_xaxes(tickformat="%d %b", row=2, col=1)
    replayed = f"{result.days_replayed} of the plan's {result.plan_days} days replayed"
    return layout(
        fig,
        title="How the rollout would have gone",
        subtitle=f"{outcome_sentence(result)} ({replayed}; value bands only once labels "
        "have arrived.)",
        height=560,
    )


def money_at_risk(result: RolloutResult) -> go.Figure:
    """Value realised by the replayed rollout against a champion-only world and a big-bang switch
    on day one, over the same days, with the money at risk before the decision."""
    money = result.money
    currency = result.currency
    names = ["champion only", "this rollout", "big bang on day one"]
    values = [money["champion_only"], money["realised"], money["big_bang"]]
    colours = [TRAINING, GOOD if money["realised"] >= money["champion_only"] else BAD, SERVING]
    fig = go.Figure()
    fig.add_bar(
        x=names,
        y=values,
        marker_color=colours,
        text=[format_money(v, currency) for v in values],
        textposition="outside",
        cliponaxis=False,
        name="value realised",
        hovertemplate="%{x}: %{text}<extra></extra>",
    )
    fig.update_layout(
        showlegend=False, yaxis_title=f"value realised ({currency or 'money'})", bargap=0.4
    )
    gain = money["realised"] - money["champion_only"]
    bang = money["big_bang"] - money["champion_only"]
    subtitle = (
        f"Money at risk up to the decision: {format_money(money['at_risk'], currency)} against "
        f"the champion alone. Over the replayed days the rollout {_verb(gain)} "
        f"{format_money(abs(gain), currency)}; a big bang would have {_verb(bang)} "
        f"{format_money(abs(bang), currency)}."
    )
    return layout(fig, title="What the rollout was worth", subtitle=subtitle)


def _transparent(colour: str, alpha: float = 0.18) -> str:
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red}, {green}, {blue}, {alpha})"


def _verb(amount: float) -> str:
    return "gained" if amount >= 0 else "lost"
