"""Figures of the rollout replay (:func:`prodready.rollout.simulate`) and of its Monte Carlo
(:func:`prodready.rollout.monte_carlo`).

Each function draws numbers the replay has already computed (its ``timeline``, ``decisions``,
``money`` and ``money_by_day``; the Monte Carlo's rates and ``days_to_decision``); the only work
done here is ordering and labelling.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from prodready.charts.style import BAD, GOOD, NEUTRAL, SERVING, TRAINING, layout
from prodready.results import format_money

if TYPE_CHECKING:  # the results' types, for annotations only
    from prodready.rollout import MonteCarloResult, RolloutResult

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
OUTCOME_COLOURS = {"promoted": GOOD, "rolled_back": BAD, "held": NEUTRAL}


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
    """Day by day, the money the replayed rollout and a big-bang switch on day one made or lost
    against the champion serving everything (running totals from the plan's first day), with
    the decision day and the money at risk up to it.

    After a rollback the days left in the plan are valued with the champion serving everything,
    so the rollout's curve goes flat where the big bang's keeps falling: what the rollback saved.
    """
    money, currency = result.money, result.currency
    by_day = result.money_by_day
    fig = go.Figure()
    at_risk = format_money(money["at_risk"], currency)
    gain = money["realised"] - money["champion_only"]
    bang = money["big_bang"] - money["champion_only"]
    if by_day.empty:
        fig.add_annotation(
            text="No day was valued.", showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5
        )
    else:
        dates = list(by_day["date"])
        stages = by_day["stage"].astype(str)
        rollout_gap = (by_day["realised"] - by_day["champion_only"]).to_numpy(float)
        bang_gap = (by_day["big_bang"] - by_day["champion_only"]).to_numpy(float)
        before = np.ones(len(by_day), bool)  # held: the money at risk is at the last day
        if result.decision_date is not None:
            before = (by_day["date"] <= result.decision_date).to_numpy(bool)
        # the money at risk: the rollout's loss against the champion, up to the decision
        fig.add_scatter(
            x=[d for d, keep in zip(dates, before, strict=True) if keep],
            y=np.minimum(rollout_gap[before], 0.0),
            mode="lines",
            line={"width": 0, "color": BAD},
            fill="tozeroy",
            fillcolor=_transparent(BAD, 0.25),
            name="money at risk (loss before the decision)",
            hoverinfo="skip",
        )
        fig.add_scatter(
            x=dates,
            y=np.zeros(len(dates)),
            mode="lines",
            line={"color": TRAINING, "dash": "dot", "width": 1.5},
            name="champion only",
            hovertemplate="%{x|%d %b %Y}: the champion serving everything (the zero line)"
            "<extra></extra>",
        )
        for name, gap, colour, dash in (
            ("big bang vs champion only", bang_gap, SERVING, "dash"),
            ("this rollout vs champion only", rollout_gap, GOOD if gain >= 0 else BAD, "solid"),
        ):
            fig.add_scatter(
                x=dates,
                y=gap,
                mode="lines",
                line={"color": colour, "dash": dash, "width": 2.5},
                name=name,
                customdata=np.column_stack([[format_money(v, currency) for v in gap], stages]),
                hovertemplate=f"%{{x|%d %b %Y}} (%{{customdata[1]}}): {name.split(' vs ')[0]} "
                "%{customdata[0]} against the champion alone, running total<extra></extra>",
            )
        if result.decision_date is not None and before.any():
            action = "rollback" if result.outcome == "rolled_back" else "promote"
            words = OUTCOME_WORDS[result.outcome]
            fig.add_shape(
                type="line",
                x0=result.decision_date,
                x1=result.decision_date,
                y0=0,
                y1=1,
                yref="paper",
                line={"color": ACTION_COLOURS[action], "dash": "dash", "width": 1.5},
                name="decision",
            )
            at = int(np.flatnonzero(before)[-1])  # the decision day (the last day up to it)
            fig.add_scatter(
                x=[result.decision_date],
                y=[rollout_gap[at]],
                mode="markers+text",
                marker={
                    "size": 12,
                    "symbol": ACTION_SYMBOLS[action],
                    "color": ACTION_COLOURS[action],
                    "line": {"width": 2},
                },
                text=[f"{words}: at risk {at_risk}"],
                textposition=("bottom " if rollout_gap[at] >= 0 else "top ")
                + ("left" if at > len(by_day) / 2 else "right"),
                name=f"decision: {words}",
                hovertemplate=f"%{{x|%d %b %Y}}: {words}; money at risk up to here "
                f"{at_risk}<extra></extra>",
            )
    fig.update_layout(
        yaxis_title=f"{currency or 'money'} vs the champion alone (running total)",
        xaxis={"tickformat": "%d %b"},
    )
    subtitle = (
        f"Money at risk up to the decision: {at_risk} against the champion alone. "
        f"Over the {len(by_day)} days valued the rollout {_verb(gain)} "
        f"{format_money(abs(gain), currency)}; a big bang would have {_verb(bang)} "
        f"{format_money(abs(bang), currency)}."
    )
    layout(fig, title="What the rollout was worth", subtitle=subtitle, height=460)
    # five legend entries: below the plot, where they do not cover the subtitle
    fig.update_layout(
        legend={"orientation": "h", "yanchor": "top", "y": -0.12, "xanchor": "left", "x": 0.0},
        margin={"b": 90},
    )
    return fig


def monte_carlo_outcomes(mc: MonteCarloResult) -> go.Figure:
    """How ``mc.n`` replays of the same plan ended, by the day of the plan each decision came
    (0 = the plan's first day): stacked bars per outcome, the plan's stages marked, the rates and
    the wrong-call rate in the title."""
    frame = mc.days_to_decision
    fig = go.Figure()
    rates = {
        "rolled_back": mc.rollback_rate,
        "promoted": mc.promotion_rate,
        "held": mc.hold_rate,
    }
    for outcome in ("promoted", "rolled_back", "held"):
        rows = frame[frame["outcome"] == outcome]
        if rows.empty:
            continue
        counts = rows["decision_day"].value_counts().sort_index()
        first = rows.groupby("decision_day")[["decision_date", "stage"]].first()
        first = first.loc[counts.index]
        words = OUTCOME_WORDS[outcome]
        fig.add_bar(
            x=counts.index.to_numpy(),
            y=counts.to_numpy(),
            name=f"{words} ({share_text(rates[outcome])})",
            marker_color=OUTCOME_COLOURS[outcome],
            customdata=np.column_stack(
                [
                    [f"{d:%d %b %Y}" for d in first["decision_date"]],
                    first["stage"].astype(str),
                    counts.to_numpy() / mc.n,
                ]
            ),
            texttemplate="%{y}",
            textposition="outside",
            constraintext="none",
            cliponaxis=False,
            hovertemplate=f"day %{{x}} (%{{customdata[0]}}, %{{customdata[1]}}): %{{y}} replays "
            f"{words} (%{{customdata[2]:.1%}} of {mc.n})<extra></extra>",
        )
    tallest = max(frame.groupby("decision_day").size().max() if len(frame) else 0, 1)
    stages = mc.plan.to_frame()
    for stage in stages.itertuples(index=False):
        if stage.first_day >= mc.days_replayed:
            break
        if stage.first_day > 0:
            fig.add_vline(x=stage.first_day - 0.5, line={"color": NEUTRAL, "dash": "dot"})
        fig.add_annotation(
            x=stage.first_day - 0.5,
            y=1.0,
            xref="x",
            yref="paper",
            text=str(stage.name),
            showarrow=False,
            xanchor="left",
            yanchor="top",
            font={"size": 11, "color": "#555"},
        )
    fig.update_layout(
        barmode="stack",
        bargap=0.1,
        xaxis={
            "title": "days from the plan's start to the decision",
            "range": [-1, max(mc.days_replayed, 1)],
        },
        yaxis={"title": "replays", "range": [0, tallest * 1.18]},
        showlegend=True,
    )
    kind = "promotions" if mc.challenger_worse else "rollbacks"
    truth = "worse" if mc.challenger_worse else "not worse"
    title = (
        f"{mc.n} replays: rolled back {share_text(mc.rollback_rate)}, promoted "
        f"{share_text(mc.promotion_rate)}, held {share_text(mc.hold_rate)}"
    )
    subtitle = (
        f"Wrong calls: {share_text(mc.wrong_promotion_rate)} (wrong {kind}). Over the whole "
        f"log the challenger is {truth} than the champion beyond the margin "
        f"({mc.true_delta_per_1000:,.1f} {mc.currency or 'money'} per 1,000 decisions; margin "
        f"{mc.margin:g})."
    )
    return layout(fig, title=title, subtitle=subtitle, height=400)


def share_text(rate: float) -> str:
    """A share of replays as the Monte Carlo chart writes it: whole percents, one decimal
    below 1% (so a rare outcome does not read as 0%)."""
    return f"{rate:.1%}" if 0 < rate < 0.01 else f"{rate:.0%}"


def _transparent(colour: str, alpha: float = 0.18) -> str:
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red}, {green}, {blue}, {alpha})"


def _verb(amount: float) -> str:
    return "gained" if amount >= 0 else "lost"
