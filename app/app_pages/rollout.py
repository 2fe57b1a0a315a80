"""Rollout simulator page: if the challenger had been shipped the safe way, what would have
happened, and would the rollback rules have fired in time?"""

from __future__ import annotations

import app_state as state
import streamlit as st

from prodready import charts
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
choices = list(scenarios.SCENARIOS)
if not case.columns.challenger:
    st.info(
        "This case has no challenger column, so the page starts with prodready's retrained "
        "baseline (the skew audit's model, features known at prediction time) as the candidate."
    )
scenario = st.radio(
    "Challenger to roll out",
    choices,
    index=0 if case.columns.challenger else choices.index("retrained baseline"),
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
        initial, guardrail = state.initial_triggers(case)
    except ProdreadyError as error:
        state.show_error(error)
        st.stop()
    segment_columns = [""] + [str(c) for c in case.serving.columns]
    rules = st.data_editor(
        state.trigger_table(initial),
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
                "floor",
                format="%.4f",
                help="metric_floor: the lowest acceptable precision or recall (absolute); "
                "flag_rate: the lowest share of decisions the challenger may flag (0-1)",
            ),
            "ceiling": st.column_config.NumberColumn(
                "ceiling",
                format="%.4f",
                help="flag_rate: the highest share of decisions the challenger may flag (0-1)",
            ),
            "limit": st.column_config.NumberColumn("PSI limit", help="score_psi: the highest PSI"),
            "alpha": st.column_config.NumberColumn("alpha", help="1 - confidence"),
            "reference": st.column_config.SelectboxColumn(
                "PSI against",
                options=list(rules_module.REFERENCES),
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
    if guardrail is not None:
        st.caption(
            f"Suggested segment guardrail, the last rule ({guardrail.trigger.name}): "
            f"{guardrail.why}"
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

# -- Monte Carlo ---------------------------------------------------------------------------------
st.subheader("How often would this plan get it right?")
st.markdown(
    "The replay above is one draw of which ids the challenger serves. The Monte Carlo replays "
    "the same plan and rules many times, each with its own assignment, and counts how often it "
    "rolls back, promotes or holds, on which day, and how often that call is wrong."
)
inputs, button = st.columns([1, 2], vertical_alignment="bottom")
with inputs:
    replays = st.number_input(
        "Replays",
        min_value=100,
        max_value=5000,
        value=500,
        step=100,
        key="rollout_mc_replays",
        help="More replays, smaller Monte Carlo error (about 1 s per 300 replays on the sample)",
    )
with button:
    run = st.button(
        "Run the Monte Carlo replays",
        key="rollout_mc_run",
        type="primary",
        icon=":material/casino:",
    )

mc = None
if run:
    try:
        mc = state.run_monte_carlo(case, plan, triggers, scenario, int(replays))
    except ProdreadyError as error:  # e.g. hold rules, which the Monte Carlo does not replay
        state.show_error(error)
else:
    mc = state.kept_monte_carlo(case, plan, triggers, scenario, int(replays))
    if mc is None:
        changed = (
            "The plan, the rules, the challenger or the number of replays changed since the "
            "last run. "
            if state.has_monte_carlo()
            else ""
        )
        st.caption(f"{changed}Press the button to run the replays (a few seconds).")

if mc is not None:
    counts = mc.days_to_decision["outcome"].value_counts()
    tiles = st.columns(4)
    for tile, (label, outcome, rate) in zip(
        tiles[:3],
        (
            ("Rolled back", "rolled_back", mc.rollback_rate),
            ("Promoted", "promoted", mc.promotion_rate),
            ("Held", "held", mc.hold_rate),
        ),
        strict=True,
    ):
        with tile:
            st.metric(label, state.fmt_share(rate, 1), border=True)
            st.caption(f"{int(counts.get(outcome, 0)):,} of {mc.n:,} replays.")
    with tiles[3]:
        st.metric("Wrong calls", state.fmt_share(mc.wrong_promotion_rate, 1), border=True)
        st.caption(
            "Promoted although the challenger is worse over the whole log."
            if mc.challenger_worse
            else "Rolled back although the challenger is not worse over the whole log."
        )
    for finding in mc.summary():
        st.markdown(f"{badge(finding.severity)} {finding.text}".replace("$", r"\$"))
    state.figure(
        charts.monte_carlo_outcomes(mc),
        file_name=f"{name}_rollout_monte_carlo",
        key="monte_carlo",
    )
    with st.expander("Every replay: outcome, decision day, stage and the rules that fired"):
        state.table(
            mc.days_to_decision,
            file_name=f"{name}_rollout_monte_carlo_replays",
            key="rollout_monte_carlo",
            index=False,
            column_config={
                "decision_date": st.column_config.DatetimeColumn(
                    "decision_date", format="YYYY-MM-DD"
                ),
                "seed": st.column_config.NumberColumn("seed", format="%d"),
            },
        )
