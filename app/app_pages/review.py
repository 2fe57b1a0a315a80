"""Human review page: which decisions should a person check before the model acts, and is it
worth the reviewers' time?"""

from __future__ import annotations

import math

import app_state as state
import streamlit as st

from prodready import charts
from prodready.charts.review import band_words
from prodready.errors import ProdreadyError
from prodready.results import format_money

BEST, CUSTOM = "best from the sweep", "custom band"

st.title("Human review")
state.intro(
    "Which of the model's decisions a person should check first: scores in a band around the "
    "threshold go to reviewers before the model acts, replayed day by day on your serving log "
    "against the reviewers' daily capacity, with what it would have saved net of their time."
)

case = state.require_case()
name = state.slug(case.name)
badge = state.badge
currency = case.business.currency if case.business else "money"


def findings(items) -> None:
    for finding in items:
        st.markdown(f"{badge(finding.severity)} {finding.text}".replace("$", r"\$"))


def _number(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


# -- controls ------------------------------------------------------------------------------------
first, second, third, fourth = st.columns([1, 1, 1, 1.4])
with first:
    capacity = st.number_input(
        "Reviews a day (capacity)",
        min_value=0,
        value=state.REVIEW_CAPACITY,
        step=1,
        key="review_capacity",
        help="How many events the reviewers can check in a UTC day. What is left at the end of "
        "the day is decided by the model alone (no carry-over).",
    )
with second:
    cost = st.number_input(
        f"Cost of one review ({currency})",
        min_value=0.0,
        value=state.REVIEW_COST,
        step=1.0,
        key="review_cost",
    )
with third:
    accuracy = st.number_input(
        "Reviewer accuracy",
        min_value=0.0,
        max_value=1.0,
        value=state.REVIEW_ACCURACY,
        step=0.01,
        key="review_accuracy",
        help="The probability a reviewer decides right (acts exactly when the label is 1).",
    )
with fourth:
    mode = st.radio(
        "Band to review",
        [BEST, CUSTOM],
        key="review_mode",
        horizontal=True,
        help="The best band: the highest net value among the bands of the sweep whose mean "
        "daily load is within the capacity.",
    )

try:
    sweep = state.review_sweep(case, int(capacity), float(cost), float(accuracy))
except ProdreadyError as error:  # a regression case, no value matrix: say what is missing
    state.show_error(error)
    st.stop()

result = None
if mode == CUSTOM:
    threshold = case.business.threshold if case.business else 0.5
    start = sweep.best or (max(0.0, threshold - 0.03), min(1.0, threshold + 0.03))
    band = st.slider(
        "Band (low, high): scores with low <= score < high are reviewed",
        min_value=0.0,
        max_value=1.0,
        value=(float(start[0]), float(start[1])),
        step=0.005,
        format="%.3f",
        key="review_band",
    )
    try:
        result = state.review_result(case, band, int(capacity), float(cost), float(accuracy))
    except ProdreadyError as error:  # e.g. low not below high
        state.show_error(error)
elif sweep.best is None:
    st.warning(
        f"No band recommended: {sweep.reason} Pick a custom band to replay one.".replace(
            "$", r"\$"
        ),
        icon=":material/warning:",
    )
else:
    result = state.review_result(case, sweep.best, int(capacity), float(cost), float(accuracy))

# -- the band replayed ---------------------------------------------------------------------------
if result is not None:
    t = result.totals
    tiles = st.columns([1.5, 0.9, 1, 0.9, 1.4])
    with tiles[0]:
        st.metric("Band", band_words(result.band), border=True)
        st.caption(
            f"{'The best band from the sweep' if mode == BEST else 'A custom band'}, around the "
            f"threshold {result.threshold:g}."
        )
    with tiles[1]:
        st.metric("Mean load a day", f"{t['mean_daily_load']:.1f}", border=True)
        st.caption(
            f"In-band events per UTC day; peak {t['peak_daily_load']:,}, against "
            f"{result.capacity_per_day:,} reviews a day."
        )
    with tiles[2]:
        st.metric("Overflow share", state.fmt_share(t["overflow_share"], 1), border=True)
        st.caption(
            f"{t['overflow']:,} of {t['in_band']:,} in-band events decided by the model alone, "
            f"on {t['days_with_overflow']:,} of {t['days']:,} days."
        )
    with tiles[3]:
        avoided = t["errors_avoided"]
        st.metric("Errors avoided", state.fmt_int(avoided), border=True)
        st.caption(
            f"{t['wrong_to_right']:,} wrong decisions put right, {t['right_to_wrong']:,} right "
            "ones made wrong (labelled events)."
            if _number(avoided)
            else "No label has arrived: money and errors need labels."
        )
    with tiles[4]:
        net = t["net"]
        st.metric(
            "Net value", format_money(net, result.currency) if _number(net) else "n/a", border=True
        )
        st.caption(
            f"With review, minus the model alone, minus {t['reviewed_labelled']:,} labelled "
            f"reviews at {format_money(result.cost_per_review, result.currency)}."
        )

st.subheader("What stands out")
if result is not None:
    findings(result.summary())
findings(sweep.summary())

if result is not None:
    st.subheader("The review queue, day by day")
    state.figure(charts.review_queue(result), file_name=f"{name}_review_queue", key="review_queue")
    with st.expander("Every day: in band, reviewed, overflow and money"):
        state.table(
            result.to_frame(),
            file_name=f"{name}_review_daily",
            key="review_daily",
            index=False,
            column_config={"date": st.column_config.DatetimeColumn("date", format="YYYY-MM-DD")},
        )

st.subheader("Which band: net value against the reviewers' load")
state.figure(charts.review_net_value(sweep), file_name=f"{name}_review_bands", key="review_bands")
state.table(sweep.to_frame(), file_name=f"{name}_review_bands", key="review_bands", index=False)
if sweep.best is not None:
    st.success(
        f"**Best band: {band_words(sweep.best)}.** {sweep.reason}".replace("$", r"\$"),
        icon=":material/recommend:",
    )
else:
    st.info(f"No band recommended: {sweep.reason}".replace("$", r"\$"), icon=":material/info:")
