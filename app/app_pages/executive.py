"""Executive dashboard: one page for someone who has never seen the kit. How ready the team is,
the three biggest risks in money, what to do month by month, and the trend."""

from __future__ import annotations

import app_state as state
import streamlit as st
import workshop_state as ws

from prodready import charts, readiness
from prodready.results import format_money

st.title("Executive dashboard")
state.intro(
    "Will this model survive production? The team's readiness score, the biggest risks its own "
    "data shows, in money, and the plan to fix them, month by month."
)

db = ws.store()
viewer = ws.viewer_mode()

# -- which team (hidden in viewer mode: the link decides) --------------------------------------
workshops = db.workshops()
workshop = ws.param(ws.WORKSHOP, workshops[0] if workshops else None)
team = ws.param(ws.TEAM)
if not viewer:
    cols = st.columns([1, 1, 1])
    if workshops:
        workshop = cols[0].selectbox(
            "Workshop",
            workshops,
            index=workshops.index(workshop) if workshop in workshops else 0,
            key="ex_workshop",
        )
        teams = db.teams(workshop)
        if teams:
            team = cols[1].selectbox(
                "Team", teams, index=teams.index(team) if team in teams else 0, key="ex_team"
            )
    with cols[2]:
        st.toggle(
            "Viewer mode",
            key="ex_viewer",
            help="Hides every control; share the page address to show this dashboard as it is.",
            on_change=lambda: ws.set_param(ws.VIEW, "1"),
        )
    ws.set_param(ws.WORKSHOP, workshop)
    ws.set_param(ws.TEAM, team)
elif team is None and workshop in workshops:
    team = (db.teams(workshop) or [None])[0]

assessment_id = db.latest_assessment(workshop, team) if workshop and team else None
case = state.current_case()
if assessment_id is not None:
    assessment = db.load_assessment(assessment_id)
    scorecard, audits = assessment.scorecard, assessment.audits
    source = (
        f"**{team}** ({workshop}), assessed {assessment.created_at:%d %b %Y} by "
        f"{assessment.author}: {scorecard.answered} of {scorecard.total} questions answered."
    )
    if not audits and case is not None and ws.has_audits(case):
        audits = ws.snapshots(ws.audits(case))
else:
    if case is None:
        st.info("No assessment yet, and no case to draw evidence from: run a workshop first.")
        st.stop()
    st.info(
        "No team has been assessed yet. Shown below: the answers the audits of "
        f"**{case.name}** propose, not yet confirmed by a team. Run the Readiness workshop to "
        "replace them with the team's own.",
        icon=":material/lightbulb:",
    )
    run = ws.audits(case)
    audits = run.results
    scorecard = readiness.score(readiness.apply(readiness.propose(audits)))
    source = None  # the box above says whose answers these are

if source:
    st.caption(f"Readiness of {source}".replace("$", r"\$"))

# -- the score -----------------------------------------------------------------------------------
history = db.history(workshop, team) if assessment_id is not None else None
previous = None
if history is not None and len(history) > 1:
    previous = history.iloc[-2]
tiles = st.columns([1, 1, 1, 1.2])
delta = None if previous is None else scorecard.ml_test_score - float(previous["ml_test_score"])
tiles[0].metric(
    "Readiness (ML Test Score)",
    f"{scorecard.ml_test_score:g} of 7",
    delta=None if delta is None else f"{delta:+g} since the last assessment",
    border=True,
)
tiles[0].caption(
    "The weakest of four areas (data, model, infrastructure, monitoring), each scored 0 to 7: "
    "a chain is as strong as its weakest link."
)
tiles[1].metric("Weakest area", scorecard.weakest.capitalize(), border=True)
tiles[1].caption(f"{ws.SECTION_TITLES[scorecard.weakest]}: {scorecard.band}")
tiles[2].metric("MLOps level (Google, 0-2)", scorecard.level["google"], border=True)
tiles[2].caption(scorecard.level_reasons["google"])
tiles[3].metric("MLOps level (Microsoft, 0-4)", scorecard.level["microsoft"], border=True)
tiles[3].caption(scorecard.level_reasons["microsoft"])

name = state.slug(f"{workshop or 'proposed'}_{team or 'case'}")
left, right = st.columns([1, 1.2])
with left:
    st.subheader("Where the gaps are")
    compare = None
    if previous is not None:
        compare = {
            "last assessment": readiness.score(
                db.load_assessment(int(previous["assessment_id"])).answers
            )
        }
    state.figure(
        charts.section_radar(scorecard, compare=compare), file_name=f"{name}_radar", key="ex_radar"
    )
with right:
    st.subheader("The three biggest risks, in money")
    risks = readiness.top_risks(audits)
    if risks.empty:
        st.caption("No audit finding carries money yet: collect evidence in the workshop.")
    for risk in risks.itertuples():
        st.markdown(
            f"{state.badge(risk.severity)} **{format_money(abs(risk.money), risk.currency)}** "
            f"· {risk.audit} audit  \n{risk.text}".replace("$", r"\$")
        )
    if not risks.empty and not viewer:
        state.table(risks, file_name=f"{name}_risks", key="ex_risks", index=False)

st.subheader("The roadmap")
plan = readiness.roadmap(scorecard, audits=audits)
headline = plan.summary()[0]  # month 1; each item's evidence is one click away, below
st.markdown(f"{state.badge(headline.severity)} {headline.text}".replace("$", r"\$"))
total, currency = plan.money_at_stake()
if total > 0:
    st.markdown(
        f"**{format_money(total, currency)}** at stake in the audit findings the roadmap "
        "answers.".replace("$", r"\$")
    )
state.figure(charts.roadmap_gantt(plan), file_name=f"{name}_roadmap", key="ex_gantt")
with st.expander("Why each item is on the roadmap (the evidence)"):
    for item in plan.to_frame().itertuples():
        st.markdown(
            f"**{item.title}** · months {item.month_start}-{item.month_end} · {item.owner} · "
            f"effort {item.effort}  \n{item.why}".replace("$", r"\$")
        )
if not viewer:
    state.table(plan.to_frame(), file_name=f"{name}_roadmap", key="ex_roadmap", index=False)
    st.download_button(
        "Download the roadmap (Markdown)",
        data=plan.to_markdown().encode("utf-8"),
        file_name=f"{name}_roadmap.md",
        mime="text/markdown",
        key="ex_roadmap_md",
        on_click="ignore",
        icon=":material/download:",
    )

if history is not None:
    st.subheader("The trend")
    state.figure(charts.score_trend(history), file_name=f"{name}_trend", key="ex_trend")
