"""Figures of the readiness workshop: the scorecard's sections (:func:`section_radar`), the
roadmap (:func:`roadmap_gantt`), a team's scores over time (:func:`score_trend`) and the teams of
a workshop side by side (:func:`team_comparison`).

Each function draws numbers :mod:`prodready.readiness` or :mod:`prodready.store` computed; the
only work done here is ordering, scaling the organisation section to the ML Test Score's 0..7
(its share of its maximum times 7, so the five axes compare) and labelling.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative

from prodready.charts.style import BAD, GOOD, NEUTRAL, SERVING, TRAINING, layout
from prodready.errors import ParameterError
from prodready.results import format_money

if TYPE_CHECKING:  # the results' types, for annotations only
    from prodready.readiness import Roadmap, Scorecard

__all__ = ["roadmap_gantt", "score_trend", "section_radar", "team_comparison"]

SECTION_ORDER = ("organisation", "data", "model", "infrastructure", "monitoring")
ML_TEST = SECTION_ORDER[1:]
SECTION_MAX = 7.0
ORGANISATION_LABEL = "organisation (scaled to 7)"
PHASE_COLOURS = {
    "Foundation": TRAINING,
    "Baseline": SERVING,
    "Iteration": GOOD,
    "Optimisation": "#B279A2",
}
SECTION_COLOURS = {
    "organisation": "#B279A2",
    "data": TRAINING,
    "model": SERVING,
    "infrastructure": GOOD,
    "monitoring": "#EECA3B",
}
TEAM_COLOURS = qualitative.Safe
COMPARE_COLOURS = (NEUTRAL, SERVING, GOOD, "#B279A2", "#EECA3B", BAD)


def axis_label(section: str) -> str:
    return ORGANISATION_LABEL if section == "organisation" else section


def scaled_sections(scorecard: Scorecard) -> list[float]:
    """The five sections on one 0..7 axis: the organisation section as its share times 7."""
    values = []
    for section in SECTION_ORDER:
        score = float(scorecard.sections[section])
        if section == "organisation":
            top = float(scorecard.maximum.get(section, SECTION_MAX)) or SECTION_MAX
            score = score / top * SECTION_MAX
        values.append(score)
    return values


def _organisation_max() -> float:
    from prodready.readiness import questions

    bank = questions()
    return float((bank["section"] == "organisation").sum()) or SECTION_MAX


def _empty(fig: go.Figure, text: str) -> go.Figure:
    fig.add_annotation(
        text=text,
        xref="paper",
        yref="paper",
        x=0.5,
        y=0.5,
        showarrow=False,
        font={"size": 14, "color": NEUTRAL},
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def section_radar(
    scorecard: Scorecard,
    compare: Scorecard | Mapping[str, Scorecard] | None = None,
    *,
    name: str = "this assessment",
) -> go.Figure:
    """One closed polygon per scorecard on the five sections (radial 0..7). ``compare``: a
    previous assessment (drawn as "previous") or a mapping name -> Scorecard (other teams).
    Each trace's ``meta`` is its name; ``customdata`` holds the unscaled section scores."""
    others: dict[str, Any]
    if compare is None:
        others = {}
    elif isinstance(compare, Mapping):
        others = dict(compare)
    else:
        others = {"previous": compare}
    fig = go.Figure()
    theta = [axis_label(s) for s in SECTION_ORDER]
    drawn = [(name, scorecard, TRAINING)] + [
        (label, card, COMPARE_COLOURS[i % len(COMPARE_COLOURS)])
        for i, (label, card) in enumerate(others.items())
    ]
    for label, card, colour in reversed(drawn):  # the main scorecard on top
        r = scaled_sections(card)
        raw = [float(card.sections[s]) for s in SECTION_ORDER]
        fig.add_scatterpolar(
            r=r + r[:1],
            theta=theta + theta[:1],
            customdata=raw + raw[:1],
            fill="toself",
            opacity=0.85 if card is scorecard else 0.55,
            line={"color": colour, "width": 3 if card is scorecard else 2},
            name=f"{label} (ML Test Score {float(card.ml_test_score):g})",
            meta=label,
            hovertemplate=f"{label}<br>%{{theta}}: %{{customdata:g}}<extra></extra>",
        )
    score = float(scorecard.ml_test_score)
    weakest = str(scorecard.weakest)
    title = (
        f"ML Test Score {score:g} of 7: {weakest} is the weakest section "
        f"({float(scorecard.sections[weakest]):g})"
    )
    if len(others) == 1:
        ((label, other),) = others.items()
        change = score - float(other.ml_test_score)
        word = "up" if change > 0 else "down" if change < 0 else "unchanged"
        title += f", {word} from {float(other.ml_test_score):g} ({label})"
    layout(fig, title=title, subtitle=str(getattr(scorecard, "band", "")), height=460)
    fig.update_layout(
        polar={
            "radialaxis": {"range": [0, SECTION_MAX], "dtick": 1, "angle": 54, "tickangle": 54},
            "angularaxis": {"rotation": 90, "direction": "clockwise"},
        },
        margin={"t": 100, "b": 60},
        legend={"y": -0.05, "yanchor": "top", "x": 0.5, "xanchor": "center"},
        showlegend=True,
    )
    return fig


def _wrap(text: str, width: int = 70) -> str:
    return "<br>".join(textwrap.wrap(str(text), width)) or ""


def roadmap_gantt(roadmap: Roadmap) -> go.Figure:
    """One horizontal bar per item across its months, coloured by phase (a trace per phase);
    the hover says why, who, how big and the money. Items read top-down in roadmap order."""
    items = roadmap.items
    fig = go.Figure()
    if items.empty:
        layout(fig, title="Nothing on the roadmap: no gaps and no findings")
        return _empty(fig, "The scorecard has no gaps and the audits found nothing to fix.")
    # wrapped, so the names take a third of a printed page's width, not most of it
    labels = [_wrap(f"{int(r.priority)}. {r.title}", 44) for r in items.itertuples()]
    last_month = int(items["month_end"].max())
    for phase, colour in PHASE_COLOURS.items():
        mask = (items["phase"] == phase).to_numpy()
        rows = items[mask]
        if rows.empty:
            continue
        money = [
            "" if pd.isna(m) else "<br>at stake: " + format_money(float(m), c)
            for m, c in zip(rows["money"], rows["currency"], strict=True)
        ]
        custom = [
            [_wrap(r.why), r.owner, r.effort, money[i], r.month_start, r.month_end]
            for i, r in enumerate(rows.itertuples())
        ]
        fig.add_bar(
            y=[label for label, keep in zip(labels, mask, strict=True) if keep],
            x=(rows["month_end"] - rows["month_start"] + 1).astype(int).tolist(),
            base=(rows["month_start"] - 1).astype(int).tolist(),
            orientation="h",
            marker={"color": colour},
            name=phase,
            meta=phase,
            customdata=custom,
            hovertemplate="<b>%{y}</b> (months %{customdata[4]}-%{customdata[5]})<br>"
            "%{customdata[0]}<br>owner: %{customdata[1]}, effort %{customdata[2]}"
            "%{customdata[3]}<extra></extra>",
        )
    month_ticks = list(range(1, last_month + 1))
    fig.update_xaxes(
        range=[0, last_month],
        tickvals=[m - 0.5 for m in month_ticks],
        ticktext=[f"month {m}<br>{roadmap.month_date(m):%b %Y}" for m in month_ticks],
        showgrid=False,
    )
    for m in month_ticks[1:]:
        fig.add_vline(x=m - 1, line={"color": "#DDDDDD", "width": 1}, layer="below")
    fig.update_yaxes(autorange="reversed", categoryorder="array", categoryarray=labels)
    first = items[items["month_start"] == 1]
    total, currency = roadmap.money_at_stake()
    title = f"{len(items)} roadmap items over {last_month} months, {len(first)} in month 1"
    top = items.loc[items["priority"].idxmin()]
    subtitle = f"First: {top['title']} ({top['owner']}, effort {top['effort']})"
    if total > 0:  # in the subtitle: a title this long is cut off on a printed page
        subtitle = f"{format_money(total, currency)} at stake in the audit findings. {subtitle}"
    layout(
        fig,
        title=title,
        subtitle=_wrap(subtitle, 90),
        height=max(340, 150 + 46 * len(items)),
    )
    fig.update_layout(
        barmode="overlay",
        margin={"l": 10, "b": 110},
        # below the month axis: on a narrow page the house place (top right) covers the title
        legend={"orientation": "h", "yanchor": "top", "y": -0.06, "xanchor": "left", "x": 0.0},
    )
    fig.update_yaxes(automargin=True)
    return fig


def _check_columns(frame: Any, needed: list[str], where: str, source: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise ParameterError(
            "the chart needs a frame",
            where=where,
            expected=f"the frame of {source}",
            found=type(frame).__name__,
            fix=f"pass {source}",
        )
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ParameterError(
            "the frame lacks columns the chart draws",
            where=where,
            expected=", ".join(needed),
            found="missing " + ", ".join(missing),
            fix=f"pass {source}",
        )
    return frame


def score_trend(history: pd.DataFrame) -> go.Figure:
    """A team's assessments over time: one line per section (organisation scaled to 7) and the
    ML Test Score thick. ``history``: :meth:`prodready.store.Store.history`."""
    needed = ["created_at", "ml_test_score", *SECTION_ORDER]
    frame = _check_columns(history, needed, "score_trend: history", "Store.history(...)")
    fig = go.Figure()
    if frame.empty:
        layout(fig, title="No assessment saved yet: nothing to trend")
        return _empty(fig, "Save an assessment of this team to start its trend.")
    frame = frame.assign(created_at=pd.to_datetime(frame["created_at"], utc=True))
    frame = frame.sort_values("created_at", kind="stable")
    when = list(frame["created_at"])
    mode = "lines+markers" if len(frame) > 1 else "markers"
    org_max = _organisation_max()
    for section in SECTION_ORDER:
        values = frame[section].astype("float64")
        shown = values / org_max * SECTION_MAX if section == "organisation" else values
        fig.add_scatter(
            x=when,
            y=shown.tolist(),
            customdata=values.tolist(),
            mode=mode,
            line={"color": SECTION_COLOURS[section], "width": 1.5},
            marker={"size": 7},
            name=axis_label(section),
            meta=section,
            hovertemplate=f"{section}<br>%{{x|%d %b %Y}}: %{{customdata:g}}<extra></extra>",
        )
    score = frame["ml_test_score"].astype("float64")
    fig.add_scatter(
        x=when,
        y=score.tolist(),
        mode=mode,
        line={"color": "#222222", "width": 5},
        marker={"size": 11, "color": "#222222"},
        name="ML Test Score (the minimum)",
        meta="ml_test_score",
        hovertemplate="ML Test Score<br>%{x|%d %b %Y}: %{y:g}<extra></extra>",
    )
    first, last = float(score.iloc[0]), float(score.iloc[-1])
    if len(frame) == 1:
        title = f"ML Test Score {last:g} in the only assessment ({when[0]:%d %b %Y})"
        fig.add_annotation(
            text="One assessment so far: re-assess the team to see the trend.",
            xref="paper",
            yref="paper",
            x=0.5,
            y=1.0,
            showarrow=False,
            font={"color": NEUTRAL},
        )
        day = pd.Timedelta(days=15)  # a readable date axis around the one point
        fig.update_xaxes(range=[when[0] - day, when[0] + day])
    else:
        verb = "rose" if last > first else "fell" if last < first else "stayed"
        span = f"from {first:g} to {last:g}" if verb != "stayed" else f"at {last:g}"
        title = f"ML Test Score {verb} {span} over {len(frame)} assessments"
    layout(fig, title=title, subtitle="Sections on 0..7; organisation scaled to 7")
    fig.update_xaxes(tickformat="%d %b %Y")
    fig.update_yaxes(range=[0, SECTION_MAX + 0.3], title_text="score")
    return fig


def team_comparison(frame: pd.DataFrame) -> go.Figure:
    """The teams of a workshop side by side: grouped bars per section (and the ML Test Score),
    one trace per team. ``frame``: :meth:`prodready.store.Store.compare`."""
    needed = ["team", "ml_test_score", *SECTION_ORDER]
    data = _check_columns(frame, needed, "team_comparison: frame", "Store.compare(workshop)")
    fig = go.Figure()
    if data.empty:
        layout(fig, title="No team assessed yet in this workshop")
        return _empty(fig, "Save an assessment for a team to compare teams.")
    org_max = _organisation_max()
    categories = ["ML Test Score", *(axis_label(s) for s in SECTION_ORDER)]
    for i, row in enumerate(data.itertuples(index=False)):
        raw = [float(row.ml_test_score)] + [float(getattr(row, s)) for s in SECTION_ORDER]
        shown = list(raw)
        shown[1] = raw[1] / org_max * SECTION_MAX
        fig.add_bar(
            x=categories,
            y=shown,
            customdata=raw,
            name=str(row.team),
            meta=str(row.team),
            marker={"color": TEAM_COLOURS[i % len(TEAM_COLOURS)]},
            hovertemplate=f"{row.team}<br>%{{x}}: %{{customdata:g}}<extra></extra>",
        )
    ranked = data.assign(_s=data["ml_test_score"].astype("float64")).sort_values(
        "_s", ascending=False, kind="stable"
    )
    best, worst = ranked.iloc[0], ranked.iloc[-1]
    if len(data) == 1:
        title = f"Only {best['team']} assessed so far: ML Test Score {float(best['_s']):g}"
    elif float(best["_s"]) == float(worst["_s"]):
        title = f"All {len(data)} teams have ML Test Score {float(best['_s']):g}"
    else:
        title = (
            f"{best['team']} leads with ML Test Score {float(best['_s']):g}; "
            f"{worst['team']} trails at {float(worst['_s']):g}"
        )
    layout(fig, title=title, subtitle="Sections on 0..7; organisation scaled to 7")
    fig.update_layout(barmode="group")
    fig.update_yaxes(range=[0, SECTION_MAX], title_text="score")
    return fig
