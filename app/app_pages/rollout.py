"""Rollout simulator page: if the challenger had been shipped the safe way, what would have
happened, and would the rollback rules have fired in time?"""

from __future__ import annotations

import app_state as state
import streamlit as st

from prodready import charts, rollout
from prodready.errors import ProdreadyError
from prodready.results import format_money
from prodready.rollout import scenarios
from prodready.rollout import triggers as rules_module

st.title("Rollout simulator")
state.intro(
    "What a shadow, canary and gradual rollout of the challenger would have done on your own "
    "serving log: each day's traffic, what each model earned, and the day a rollback rule fires."
)

case = state.require_case()
name = state.slug(case.name)
badge = state.badge

# -- controls ------------------------------------------------------------------------------------
scenario = st.radio(
    "Challenger to roll out",
    list(scenarios.SCENARIOS),
    index=0,
    key="rollout_scenario",
    horizontal=True,
    captions=list(scenarios.SCENARIOS.values()),
)

left, right = st.columns([2, 3])
with left:
    st.markdown("**Plan**: stages in order; share is the % of decisions the challenger serves")
    stages = st.data_editor(
        state.stage_table(),
        key="rollout_stages",
        num_rows="dynamic",
        hide_index=True,
        width="stretch",
        column_config={
            "name": st.column_config.TextColumn("stage", required=True),
            "days": st.column_config.NumberColumn("days", step=1, format="%d"),
            "share": st.column_config.NumberColumn(
                "share (%)", help="0 is shadow mode: the challenger scores but serves nothing"
            ),
        },
    )
with right:
    st.markdown("**Rollback rules**, checked every day on what is known that day")
    try:
        defaults = rollout.default_triggers(case)
    except ProdreadyError as error:
        state.show_error(error)
        st.stop()
    segment_columns = [""] + [str(c) for c in case.serving.columns]
    rules = st.data_editor(
        state.trigger_table(defaults),
        key="rollout_triggers",
        num_rows="dynamic",
        hide_index=True,
        width="stretch",
        disabled=["rule"],
        column_config={
            "use": st.column_config.CheckboxColumn("use", default=True),
            "rule": st.column_config.TextColumn("rule (as it was)"),
            "kind": st.column_config.SelectboxColumn("kind", options=list(rules_module.KINDS)),
            "action": st.column_config.SelectboxColumn(
                "action", options=list(rules_module.ACTIONS), default="rollback"
            ),
            "margin": st.column_config.NumberColumn(
                "margin", help="business_value: money per 1,000 decisions the challenger may lose"
            ),
            "metric": st.column_config.SelectboxColumn(
                "metric", options=list(rules_module.METRICS)
            ),
            "floor": st.column_config.NumberColumn(
                "floor", format="%.4f", help="metric_floor: the lowest acceptable value"
            ),
            "limit": st.column_config.NumberColumn("PSI limit", help="score_psi: the highest PSI"),
            "alpha": st.column_config.NumberColumn("alpha", help="1 - confidence"),
            "reference": st.column_config.SelectboxColumn(
                "PSI against",
                options=list(getattr(rules_module, "REFERENCES", ("champion",))),
                help="score_psi: the champion's scores, or the challenger's own in shadow",
            ),
            state.SEGMENT_COLUMN: st.column_config.SelectboxColumn(
                state.SEGMENT_COLUMN, options=segment_columns
            ),
            state.SEGMENT_VALUE: st.column_config.TextColumn(
                state.SEGMENT_VALUE, help="e.g. international: the rule is checked inside it"
            ),
        },
    )
    st.caption(
        "Add a row for a segment guardrail (the same rule inside one segment, e.g. region = "
        "international); untick a rule to switch it off."
    )

try:
    plan = state.plan_from_table(stages)
    triggers = state.triggers_from_table(rules, case)
    result = state.rollout_result(case, plan, triggers, scenario)
except ProdreadyError as error:  # a plan, a rule or a case the replay cannot use: say what to fix
    state.show_error(error)
    st.stop()

# -- outcome -------------------------------------------------------------------------------------
money, currency = result.money, result.currency
last = result.decisions.iloc[-1]
tiles = st.columns(4)
with tiles[0]:
    st.metric("Outcome", charts.rollout.OUTCOME_WORDS[result.outcome], border=True)
    st.caption(charts.outcome_sentence(result))
with tiles[1]:
    st.metric("Decided on", f"{last['date']:%d %b %Y}", border=True)
    st.caption(f"In the {last['stage']} stage, day {result.days_replayed} of {result.plan_days}.")
with tiles[2]:
    st.metric("Money at risk", format_money(money["at_risk"], currency), border=True)
    st.caption(
        "Money lost to the challenger before the decision, against the champion alone "
        "(0 when it did no worse)."
    )
with tiles[3]:
    st.metric(
        "Big bang vs champion",
        format_money(money["big_bang"] - money["champion_only"], currency),
        border=True,
    )
    st.caption("Had the challenger served everything from day one, over the same days.")

st.subheader("What stands out")
for finding in result.summary():
    st.markdown(f"{badge(finding.severity)} {finding.text}".replace("$", r"\$"))

st.subheader("Decisions, day by day")
state.table(
    result.decisions,
    file_name=f"{name}_rollout_decisions",
    key="rollout_decisions",
    index=False,
    column_config={"date": st.column_config.DatetimeColumn("date", format="YYYY-MM-DD")},
)
state.figure(charts.rollout_timeline(result), file_name=f"{name}_rollout_timeline", key="timeline")
state.figure(charts.money_at_risk(result), file_name=f"{name}_rollout_money", key="money")

with st.expander("Every replayed day: traffic, value per arm, each rule's statistic"):
    state.table(result.timeline, file_name=f"{name}_rollout_timeline", key="rollout_timeline")
