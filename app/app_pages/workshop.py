"""Workshop page: the readiness questions answered with the team, each beside the evidence the
audits found on its own data, saved as you go."""

from __future__ import annotations

import json

import app_state as state
import pandas as pd
import streamlit as st
import workshop_state as ws

from prodready import charts, readiness
from prodready import store as store_module
from prodready.errors import ProdreadyError

st.title("Readiness workshop")
state.intro(
    "Score the team against the 28 tests of Google's ML Test Score and eight organisation "
    "questions. The audits of the case propose answers from evidence; you confirm or override "
    "them. Every answer is saved as you click, with who and when."
)

db = ws.store()
questions = readiness.questions()

with st.expander("Import a workshop (JSON from Export the workshop or `prodready store export`)"):
    upload = st.file_uploader(
        "Workshop file",
        type=["json"],
        key="ws_import",
        help="A workshop exported from this page or by prodready store export (JSON), "
        f"up to {state.upload_cap_mb()} MB per file.",
    )
    rename = st.text_input("Import under another name (optional)", key="ws_import_rename")
    if upload is not None and st.button("Import", key="ws_import_go", icon=":material/upload:"):
        try:
            data = store_module.read_workshop_file(upload.getvalue(), name=upload.name)
            imported = db.import_workshop(data, rename=rename.strip() or None)
        except ProdreadyError as err:  # foreign or corrupt file, name taken: nothing written
            state.show_error(err)
        else:
            ws.set_param(ws.WORKSHOP, imported)
            st.success(f"Imported workshop {imported!r}.")

# -- who and which team ------------------------------------------------------------------------
NEW = "+ new…"
pick = st.columns([1.2, 1.2, 1])
with pick[0]:
    workshops = db.workshops()
    current = ws.param(ws.WORKSHOP, workshops[0] if workshops else ws.DEFAULT_WORKSHOP)
    options = list(dict.fromkeys([*workshops, current, NEW]))
    chosen = st.selectbox("Workshop", options, index=options.index(current), key="ws_workshop")
    workshop = (
        st.text_input("New workshop name", key="ws_new_workshop").strip()
        if chosen == NEW
        else chosen
    )
with pick[1]:
    teams = db.teams(workshop) if workshop in workshops else []
    current_team = ws.param(ws.TEAM, teams[0] if teams else ws.DEFAULT_TEAM)
    if current_team not in teams and teams and ws.param(ws.TEAM) is None:
        current_team = teams[0]
    team_options = list(dict.fromkeys([*teams, current_team, NEW]))
    chosen_team = st.selectbox(
        "Team", team_options, index=team_options.index(current_team), key="ws_team"
    )
    team = (
        st.text_input("New team name", key="ws_new_team").strip()
        if chosen_team == NEW
        else chosen_team
    )
with pick[2]:
    author = st.text_input(
        "Your name", value=ws.param(ws.AUTHOR, ""), key="ws_author", placeholder="facilitator"
    ).strip()

if not workshop or not team:
    st.info("Name the workshop and the team to start.")
    st.stop()
ws.set_param(ws.WORKSHOP, workshop)
ws.set_param(ws.TEAM, team)
ws.set_param(ws.AUTHOR, author)
author = author or "facilitator"

# -- evidence ----------------------------------------------------------------------------------
case = state.current_case()
proposals = None
with st.expander("Evidence from the audits of the case", expanded=True):
    if case is None:
        st.caption("No case is loaded: load one on the Case page to see evidence beside the "
                   "questions.")  # fmt: skip
    else:
        include_decay = st.checkbox(
            "Include the decay audit (trains a bank of models: a minute or two)",
            key="ws_decay",
        )
        if ws.has_audits(case) or st.button(
            f"Collect evidence from {case.name}", key="ws_collect", icon=":material/search:"
        ):
            run = ws.audits(case, include_decay=include_decay)
            proposals = readiness.propose(run.results)
            st.caption(
                f"{len(proposals)} proposed answers from the "
                f"{', '.join(run.results)} audits of **{case.name}**."
            )
            for note in run.notes:
                st.caption(note)

# -- the assessment ----------------------------------------------------------------------------
assessment_id = db.latest_assessment(workshop, team)
top = st.columns([1, 1, 2])
with top[0]:
    start_new = st.button(
        "Start a new assessment" if assessment_id else "Start the assessment",
        key="ws_start",
        type="primary" if assessment_id is None else "secondary",
        help="A re-assessment starts empty; the earlier ones stay for the trend.",
    )
if start_new:
    run_now = ws.audits(case) if case is not None and proposals is not None else None
    assessment_id = db.save_assessment(
        workshop, team, {}, author, audits=ws.snapshots(run_now) if run_now else None
    )
    st.rerun()
if assessment_id is None:
    st.info(f"No assessment of {team} yet: start one to answer the questions.")
    st.stop()

assessment = db.load_assessment(assessment_id)
answers = dict(assessment.answers)
with top[1]:
    if proposals is not None and st.button(
        "Accept the proposals",
        key="ws_accept",
        help="Fills every unanswered question that has a proposed score; the lowest wins "
        "when several audits propose one. Answered questions stay as they are.",
    ):
        for qid, (value, reason) in readiness.decisive(proposals).items():
            if qid not in answers:
                db.record_answer(assessment_id, qid, value, author, proposed=value, reason=reason)
        st.rerun()

answered = len(answers)
st.progress(
    answered / len(questions),
    text=f"{answered} of {len(questions)} questions answered · assessment {assessment_id} of "
    f"{team}, started {assessment.created_at:%d %b %Y %H:%M} UTC by {assessment.author}",
)


def save(question_id: str, key: str, proposed: float | None, reason: str | None) -> None:
    """Saved as you go: every click appends the answer, with who and when."""
    value = st.session_state[key]
    if value is None:
        return
    try:
        db.record_answer(
            assessment_id, question_id, value, author, proposed=proposed, reason=reason
        )
    except ProdreadyError as err:
        st.session_state["ws_save_error"] = str(err)


if error := st.session_state.pop("ws_save_error", None):
    state.show_error(error)

in_section = {s: list(questions.loc[questions.section == s, "id"]) for s in readiness.SECTIONS}
tabs = st.tabs(
    [
        f"{ws.SECTION_TITLES[s]} ({sum(q in answers for q in ids)}/{len(ids)})"
        for s, ids in in_section.items()
    ]
)
decided = readiness.decisive(proposals) if proposals is not None else {}
for tab, section in zip(tabs, readiness.SECTIONS, strict=True):
    with tab:
        for question in questions[questions.section == section].itertuples():
            left, right = st.columns([1.4, 1])
            rows = proposals[proposals["id"] == question.id] if proposals is not None else None
            proposed, reason = decided.get(question.id, (None, None))
            with left:
                key = f"ws_{assessment_id}_{question.id}"
                st.markdown(f"**{question.text}**")
                st.radio(
                    question.text,
                    list(ws.SCORE_LABELS),
                    index=list(ws.SCORE_LABELS).index(answers.get(question.id)),
                    format_func=ws.SCORE_LABELS.get,
                    horizontal=True,
                    key=key,
                    label_visibility="collapsed",
                    on_change=save,
                    args=(question.id, key, proposed, reason),
                )
                st.caption(f"Why it matters: {question.why}")
            with right:
                st.caption(f"Evidence that counts: {question.evidence}")
                if rows is not None:  # two audits may state the same evidence: show it once
                    for row in rows.drop_duplicates("reason").itertuples():
                        label = (
                            ":blue-badge[evidence]"
                            if pd.isna(row.proposed)
                            else f":violet-badge[proposed {row.proposed:g}]"
                        )
                        st.markdown(f"{label} {row.reason}".replace("$", r"\$"))
            st.divider()

# -- the scorecard, history and the teams ----------------------------------------------------
latest = db.load_assessment(assessment_id)  # with the answers saved on this run
scorecard = latest.scorecard
st.subheader("Where the team stands")
tiles = st.columns(4)
tiles[0].metric("ML Test Score", f"{scorecard.ml_test_score:g} of 7", border=True)
tiles[1].metric("Weakest area", scorecard.weakest.capitalize(), border=True)
tiles[2].metric("Google MLOps level", scorecard.level["google"], border=True)
tiles[3].metric("Microsoft MLOps level", scorecard.level["microsoft"], border=True)
st.caption(scorecard.band)

history = db.history(workshop, team)
previous = history[history["assessment_id"] != assessment_id]
compare = None
if len(previous):
    compare = readiness.score(db.load_assessment(int(previous["assessment_id"].iloc[-1])).answers)
name = state.slug(f"{workshop}_{team}")
state.figure(
    charts.section_radar(scorecard, compare={"previous assessment": compare} if compare else None),
    file_name=f"{name}_sections",
    key="ws_radar",
)
state.table(scorecard.gaps, file_name=f"{name}_gaps", key="ws_gaps", index=False)
st.subheader("Over time and across teams")
state.figure(charts.score_trend(history), file_name=f"{name}_trend", key="ws_trend")
state.figure(
    charts.team_comparison(db.compare(workshop)),
    file_name=f"{state.slug(workshop)}_teams",
    key="ws_teams",
)
state.table(latest.history, file_name=f"{name}_answer_history", key="ws_history", index=False)
st.download_button(
    "Export the workshop (JSON)",
    data=lambda: json.dumps(db.export_workshop(workshop), indent=2),
    file_name=f"{state.slug(workshop)}.json",
    mime="application/json",
    key="ws_export",
    on_click="ignore",
    icon=":material/download:",
    help="Every team, assessment and answer (with its history); import it with "
    "`prodready store import FILE`.",
)
