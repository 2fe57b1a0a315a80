"""Decay & retraining page: how fast does the model go stale, and how often should we retrain?"""

from __future__ import annotations

import app_state as state
import streamlit as st

from prodready import charts, metrics
from prodready.charts import decay as decay_charts
from prodready.decay.periods import default_metric
from prodready.errors import ProdreadyError
from prodready.results import format_money

st.title("Decay & retraining")
state.intro(
    "How fast a model trained on your own history goes stale, and which retraining policy would "
    "have earned the most net of its cost, each replayed on the same history with the label "
    "delay your team really has."
)

case = state.require_case()
name = state.slug(case.name)
badge = state.badge
defaults = state.DecaySettings()


def findings(items) -> None:
    for finding in items:
        st.markdown(f"{badge(finding.severity)} {finding.text}".replace("$", r"\$"))


# -- controls ------------------------------------------------------------------------------------
choices = metrics.BINARY_METRICS if case.task == "binary" else metrics.REGRESSION_METRICS
first, second, third, fourth = st.columns(4)
with first:
    train_window = st.number_input(
        "Training window (days)",
        min_value=1,
        value=defaults.train_window_days,
        step=1,
        key="decay_train_window",
        help="Each model is trained on this many days of history before its start.",
    )
with second:
    step = st.number_input(
        "Step (days)",
        min_value=1,
        value=defaults.step_days,
        step=1,
        key="decay_step",
        help="A model is trained every this many days, and each period lasts this long.",
    )
with third:
    metric = st.selectbox(
        "Metric",
        list(choices),
        index=list(choices).index(default_metric(case.task)),
        format_func=lambda m: metrics.METRIC_LABELS[m],
        key="decay_metric",
    )
with fourth:
    lost_share = st.number_input(
        "Lost share for the half-life",
        min_value=0.05,
        max_value=0.95,
        value=defaults.lost_share,
        step=0.05,
        key="decay_lost_share",
        help="The half-life is the model age at which the median curve has lost this share "
        "(ROC AUC: of its part above chance; an error metric: the error has grown by it).",
    )
first, second, third = st.columns([1, 3, 1])
with first:
    retrain_cost = st.number_input(
        f"Cost of one retraining ({case.business.currency if case.business else 'money'})",
        min_value=0.0,
        value=defaults.retrain_cost,
        step=100.0,
        key="decay_retrain_cost",
        help="Changes each policy's cost, net value and the recommendation at once, without "
        "training the models again.",
    )
with second:
    chosen = st.multiselect(
        "Retraining policies to compare",
        state.decay_policy_names(),
        default=list(defaults.policies),
        key="decay_policies",
    )
with third:
    every_days = st.number_input(
        "Also: retrain every N days",
        min_value=0,
        value=defaults.every_days,
        step=1,
        key="decay_every_days",
        help="A custom policy added to the comparison; 0: none.",
    )
settings = state.DecaySettings(
    train_window_days=int(train_window),
    step_days=int(step),
    metric=metric,
    lost_share=float(lost_share),
    retrain_cost=float(retrain_cost),
    policies=tuple(chosen),
    every_days=int(every_days),
)
run = st.button(
    "Run: train the models and replay the policies",
    key="decay_run",
    type="primary",
    icon=":material/hourglass_bottom:",
)

if run:
    result = state.run_decay(case, settings)
else:
    result = state.kept_decay(case, settings)
    if result is None:
        st.caption(
            ("The settings changed since the last run: press" if state.has_decay() else "Press")
            + " Run to train the models (tens of them, one per training window: about a minute "
            "on the bundled sample). Nothing heavy runs before you ask."
        )

# -- results -------------------------------------------------------------------------------------
if result is not None:
    for message in result.errors:
        state.show_error(message)
    aging, policies = result.aging, result.policies
    tiles = st.columns([1, 1.1, 1.8, 1.3])
    if aging is not None:
        oldest = int(aging.curve["model_age_days"].iloc[-1])
        with tiles[0]:
            half = aging.half_life_days
            st.metric(
                "Half-life",
                f"{half:.0f} days" if half is not None else f"> {oldest} days",
                border=True,
            )
            st.caption(f"{decay_charts.half_life_sentence(aging)}.")
        with tiles[1]:
            st.metric("95% interval", decay_charts.interval_words(aging, short=True), border=True)
            st.caption(
                "Of the half-life: percentile bootstrap over the training origins"
                + ("." if aging.half_life_high is not None else ", no upper end seen.")
            )
    if policies is not None:
        with tiles[2]:
            st.metric("Recommended policy", policies.recommended, border=True)
            st.caption(policies.reason)
        with tiles[3]:
            table = policies.table.set_index("policy")
            net = table.loc[policies.recommended, "net"]
            st.metric("Net value", format_money(net, policies.currency), border=True)
            st.caption(
                f"What its decisions earned over the history, minus "
                f"{int(table.loc[policies.recommended, 'retrains'])} retrainings at "
                f"{format_money(policies.retrain_cost, policies.currency)}."
            )
    trained = [
        f"{r.models_trained} for {what}"
        for r, what in ((aging, "the aging curve"), (policies, "the policies"))
        if r is not None
    ]
    st.caption(f"Models trained for this run: {' and '.join(trained)}.")

    st.subheader("What stands out")
    if aging is not None:
        findings(aging.summary())
    if policies is not None:
        findings(policies.summary())

    if aging is not None:
        st.subheader("How fast the model goes stale")
        state.figure(charts.aging_curve(aging), file_name=f"{name}_decay_aging", key="aging")
        with st.expander("The curve by age, and every model's metric by period"):
            state.table(
                aging.to_frame(), file_name=f"{name}_decay_aging", key="decay_aging", index=False
            )
            state.table(
                aging.by_origin,
                file_name=f"{name}_decay_aging_by_origin",
                key="decay_by_origin",
                index=False,
            )

    if policies is not None:
        st.subheader("How often to retrain")
        state.table(
            policies.to_frame(),
            file_name=f"{name}_decay_policies",
            key="decay_policies_table",
            index=False,
        )
        state.figure(
            charts.policy_timeline(policies), file_name=f"{name}_decay_timeline", key="timeline"
        )
        state.figure(charts.policy_pareto(policies), file_name=f"{name}_decay_pareto", key="pareto")
        st.success(
            f"**Recommendation: {policies.recommended}.** {policies.reason}".replace("$", r"\$"),
            icon=":material/recommend:",
        )
        with st.expander("Every period under every policy"):
            state.table(
                policies.timeline,
                file_name=f"{name}_decay_policy_timeline",
                key="decay_timeline",
                index=False,
            )

# -- label-free estimate -------------------------------------------------------------------------
st.subheader("While labels are delayed: the label-free estimate")
st.markdown(
    "Calibrated scores say how many decisions should be right before the labels arrive: ROC AUC "
    "and accuracy estimated per month, next to the realised numbers where labels have arrived, "
    "and a warning where the estimate is not to be trusted."
)
if case.task != "binary":
    st.info(
        "The label-free estimate reads calibrated probabilities, so it needs a binary case; "
        f"this one is a {case.task} case.",
        icon=":material/info:",
    )
else:
    try:
        estimated = state.label_free_estimate(case)
    except ProdreadyError as error:
        state.show_error(error)
    else:
        findings(estimated.summary())
        state.figure(
            charts.estimate_vs_realised(estimated),
            file_name=f"{name}_estimate",
            key="estimate",
        )
        state.table(
            estimated.to_frame(),
            file_name=f"{name}_estimate",
            key="decay_estimate",
            index=False,
            column_config={
                "chunk_start": st.column_config.DatetimeColumn("chunk_start", format="YYYY-MM-DD"),
                "chunk_end": st.column_config.DatetimeColumn("chunk_end", format="YYYY-MM-DD"),
            },
        )
