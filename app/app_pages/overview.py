"""Overview page: the case's headline numbers, each with the one sentence that explains it."""

from __future__ import annotations

import math

import app_state as state
import streamlit as st

from prodready import charts
from prodready.results import format_money

MEANING = {
    "roc_auc": "how well the model ranks events above non-events (1.0 is perfect, 0.5 is a coin "
    "toss)",
    "mae": "the average size of the model's error, in the label's unit (lower is better)",
}

st.title("Overview")
state.intro(
    "How the model in production scores against what it scored offline, and what its decisions "
    "were worth: the numbers to start the conversation with."
)

case = state.require_case()
ov = state.case_overview(case)
head = ov.headline
primary = ov.primary_metric
name = head.loc[primary, "label"] if primary in head.index else primary
offline = head.loc[primary, "offline"] if primary in head.index else math.nan
serving = head.loc[primary, "serving"] if primary in head.index else math.nan
low = head.loc[primary, "serving_low"] if primary in head.index else math.nan
high = head.loc[primary, "serving_high"] if primary in head.index else math.nan
higher_is_better = bool(head.loc[primary, "higher_is_better"]) if primary in head.index else True
meaning = MEANING.get(primary, "the served model's main metric")
value = ov.business_value

st.subheader(case.name)
cols = st.columns(3)
with cols[0]:
    st.metric(f"Offline {name}", state.fmt_metric(offline), border=True)
    st.caption(
        f"The served model's {name} on the training data, the number the team saw before "
        f"launch: {meaning}."
    )
with cols[1]:
    gap = serving - offline if not (math.isnan(serving) or math.isnan(offline)) else None
    same = gap is not None and round(gap, 3) == 0
    st.metric(
        f"Serving {name}",
        state.fmt_metric(serving),
        delta=None if gap is None else "same as offline" if same else f"{gap:+.3f} vs offline",
        delta_color="off" if same else "normal" if higher_is_better else "inverse",
        delta_arrow="off" if same else "auto",
        border=True,
    )
    interval = (
        ""
        if math.isnan(low)
        else (f" (95% interval {state.fmt_metric(low)} to {state.fmt_metric(high)})")
    )
    st.caption(
        f"The same metric on the {state.fmt_int(ov.numbers['labelled_serving_rows'])} production "
        f"predictions whose truth has arrived{interval}: what the model really delivers."
    )
with cols[2]:
    if value is None:
        st.metric("Business value", "n/a", border=True)
        st.caption(
            "Not available: the case has no business section (money per outcome), or no "
            "labelled serving rows yet."
        )
    else:
        without = ov.value_without_model
        added = None if without is None else value.total - without.total
        st.metric(
            "Business value",
            format_money(value.total, value.currency),
            delta=None
            if added is None
            else f"{format_money(added, value.currency)} vs never acting",
            border=True,
        )
        rule = (
            f"acting at a score of {case.business.threshold:g} or above, valued with the case's "
            "money per outcome"
            if case.task == "binary"
            else "charged the case's cost per unit of error"
        )
        st.caption(
            f"What the model's {value.decisions:,} production decisions with a known outcome "
            f"were worth ({format_money(value.per_1000, value.currency)} per 1,000), {rule}."
            + (
                ""
                if without is None
                else f" Never acting would have been worth "
                f"{format_money(without.total, without.currency)}."
            )
        )

findings = ov.summary()
if findings:
    st.subheader("What stands out")
    for finding in findings:
        st.markdown(f"{state.badge(finding.severity)} {finding.text}")

state.figure(
    charts.offline_vs_serving(ov),
    file_name=f"{state.slug(case.name)}_offline_vs_serving",
    key="offline_vs_serving",
)
st.subheader("Offline vs serving, every metric")
st.caption(
    "Each metric of the served model on the training data and on labelled production rows; the "
    "95% interval is on the main metric."
)
state.table(
    head,
    file_name=f"{state.slug(case.name)}_headline",
    key="headline",
    show_index=False,  # the metric's key; kept in the CSV
    column_config={
        "label": st.column_config.TextColumn("metric"),
        "offline": st.column_config.NumberColumn("offline", format="%.3f"),
        "serving": st.column_config.NumberColumn("serving", format="%.3f"),
        "serving_low": st.column_config.NumberColumn("serving, 95% low", format="%.3f"),
        "serving_high": st.column_config.NumberColumn("serving, 95% high", format="%.3f"),
        "higher_is_better": st.column_config.CheckboxColumn("higher is better"),
    },
)
