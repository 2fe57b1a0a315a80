"""Skew audit page: will production see what training saw, and what does the model really score?"""

from __future__ import annotations

import math

import app_state as state
import streamlit as st

from prodready import charts
from prodready.errors import ProdreadyError
from prodready.metrics import HIGHER_IS_BETTER

st.title("Skew audit")
state.intro(
    "Whether production feeds the model what training fed it, feature by feature and row by "
    "row, and what the model really scores when it only gets what production has."
)

case = state.require_case()
try:
    result = state.skew_audit(case)
except ProdreadyError as error:  # data the audit cannot use: the message says what to fix
    state.show_error(error)
    st.stop()
frame = result.to_frame()
gap = result.metric_gap
name = state.slug(case.name)

badge = state.badge


# -- headline --------------------------------------------------------------------------------
flagged = frame[frame["severity"].isin(["high", "medium"])]
leaky = frame[frame["problem"] == "leakage"]
tiles = st.columns(4)
with tiles[0]:
    st.metric("Features to fix", f"{len(flagged)} of {len(frame)}", border=True)
    st.caption("Features whose skew is medium or high: production feeds the model other values.")
with tiles[1]:
    st.metric("Leakage", f"{len(leaky)}", border=True)
    st.caption(
        "Features production does not have when it predicts (declared, or suspected from the "
        "data): offline scores that include them are too good to be true."
    )
with tiles[2]:
    drop = gap.serving - gap.offline
    st.metric(
        f"{gap.label}, all features",
        state.fmt_metric(gap.serving),
        delta=None if math.isnan(drop) else f"{drop:+.3f} vs offline",
        delta_color="normal" if HIGHER_IS_BETTER[gap.metric] else "inverse",
        border=True,
    )
    st.caption(
        f"The baseline model trained on every feature: {state.fmt_metric(gap.offline)} offline "
        "(held-out end of training), this in production."
    )
with tiles[3]:
    honest = gap.honest_serving - gap.honest_offline
    st.metric(
        f"{gap.label}, prediction-time only",
        state.fmt_metric(gap.honest_serving),
        delta=None if math.isnan(honest) else f"{honest:+.3f} vs offline",
        delta_color="normal" if HIGHER_IS_BETTER[gap.metric] else "inverse",
        border=True,
    )
    st.caption(
        f"The same model trained only on what production has when it predicts: "
        f"{state.fmt_metric(gap.honest_offline)} offline, the number to promise."
    )

findings = result.summary()
if findings:
    st.subheader("What stands out")
    for finding in findings:
        st.markdown(f"{badge(finding.severity)} {finding.text}".replace("$", r"\$"))

# -- ranking -----------------------------------------------------------------------------------
st.subheader("Features ranked by severity")
st.caption(
    "Severity comes from effect sizes (PSI, unseen categories, change in missing values, values "
    "out of the training range, row mismatches), not from p-values alone; p-values are "
    "Benjamini-Hochberg corrected across features."
)
state.figure(charts.skew_ranking(result), file_name=f"{name}_skew_ranking", key="skew_ranking")
state.table(
    frame,
    file_name=f"{name}_skew_features",
    key="skew_features",
    column_config={
        "kind": st.column_config.TextColumn("kind"),
        **state.DISTRIBUTION_COLUMNS,
        "row_mismatch_rate": st.column_config.NumberColumn("row mismatch", format="percent"),
        "unit_hint": st.column_config.TextColumn("unit hint"),
        "available_at_prediction": st.column_config.CheckboxColumn("known at prediction"),
        "availability_lag": st.column_config.TextColumn("known online after"),
        "leakage_suspect": st.column_config.CheckboxColumn("leakage suspect"),
        "severity": st.column_config.TextColumn("severity"),
        "problem": st.column_config.TextColumn("problem"),
        "note": st.column_config.TextColumn("note"),
    },
)

# -- drill-down --------------------------------------------------------------------------------
st.subheader("One feature up close")
st.caption("Most severe first. Pick a feature to see its two distributions, month by month.")
features = [str(f) for f in frame.index]
feature = st.selectbox(
    "Feature",
    features,
    index=0,
    key="skew_feature",
    format_func=lambda f: (
        f"{f} · {frame.loc[f, 'severity']}"
        + (f" · {frame.loc[f, 'problem']}" if frame.loc[f, "problem"] else "")
    ),
)
row = frame.loc[feature]
facts = [badge(str(row["severity"])), f"**{feature}** ({row['kind']})"]
if row["problem"]:
    facts.append(f"problem: {row['problem']}")
if not row["available_at_prediction"]:
    facts.append("declared **not available at prediction time**")
elif row["availability_lag"]:
    facts.append(f"known online after {row['availability_lag']}")
st.markdown(" · ".join(facts))
reasons = result.leakage.features
if feature in reasons.index and reasons.loc[feature, "leakage_suspect"]:
    st.warning(f"Leakage suspected: {reasons.loc[feature, 'reason']}", icon=":material/warning:")
if row["note"]:
    st.info(f"{feature}: {row['note']}.", icon=":material/info:")

with st.spinner(f"Binning {feature} in both data sets…"):
    distribution = state.distribution_table(case, feature)
state.figure(
    charts.feature_distribution(distribution, feature, row=row),
    file_name=f"{name}_{state.slug(feature)}_distribution",
    key="skew_distribution",
)
state.figure(
    charts.psi_by_month(result, feature),
    file_name=f"{name}_{state.slug(feature)}_psi_by_month",
    key="skew_by_month",
)

rows = result.rows
if rows is None:
    st.info(
        "Training and serving share no ids (or the case has no id column), so values cannot be "
        "compared event by event.",
        icon=":material/info:",
    )
elif feature in rows.features.index:
    stats = rows.features.loc[feature]
    st.markdown(f"**The same events offline and online** ({rows.joined:,} ids in both sets)")
    cols = st.columns(2)
    cols[0].metric(
        "Rows that differ",
        state.fmt_share(stats["mismatch_rate"], 1),
        border=True,
        help="Share of the joined rows where the offline and online values differ.",
    )
    cols[1].metric(
        "Median serving / training",
        state.fmt_metric(stats["median_ratio"]),
        border=True,
        help="Median ratio over the rows that differ (numeric features); a constant ratio is a "
        "unit or scale change.",
    )
    if stats["unit_hint"]:
        st.markdown(f":violet-badge[:material/straighten: unit] {stats['unit_hint']}")
    if row["kind"] == "numeric":
        state.figure(
            charts.mismatch_scatter(rows, feature),
            file_name=f"{name}_{state.slug(feature)}_mismatch",
            key="skew_mismatch",
        )
    examples = rows.examples[rows.examples["feature"] == feature]
    st.markdown("**Example rows that differ**")
    if len(examples):
        state.table(
            examples,
            file_name=f"{name}_{state.slug(feature)}_mismatch_examples",
            key="skew_examples",
            index=False,
        )
    else:
        st.caption("No differing rows: both pipelines give the same values.")

# -- the production gap ------------------------------------------------------------------------
st.subheader("What production really gets")
st.caption(
    f"A baseline model trained twice on the training data, scored on its held-out last part "
    f"(from {gap.holdout_start:%d %b %Y}) and on serving rows whose truth has arrived; value per "
    "1,000 decisions uses the case's money per outcome."
)
state.figure(charts.production_gap(gap), file_name=f"{name}_production_gap", key="skew_gap")
state.table(
    gap.to_frame(),
    file_name=f"{name}_production_gap",
    key="skew_gap_table",
    column_config={
        "offline": st.column_config.NumberColumn(f"offline {gap.label}", format="%.3f"),
        "serving": st.column_config.NumberColumn(f"serving {gap.label}", format="%.3f"),
        "offline_value_per_1000": st.column_config.NumberColumn(
            f"offline value per 1,000 ({gap.currency or 'money'})", format="%.0f"
        ),
        "serving_value_per_1000": st.column_config.NumberColumn(
            f"serving value per 1,000 ({gap.currency or 'money'})", format="%.0f"
        ),
        "threshold": st.column_config.NumberColumn("threshold", format="%.3f"),
        "features": st.column_config.NumberColumn("features"),
    },
)

with st.expander("Every feature, row by row and for leakage"):
    if rows is not None:
        st.markdown(
            f"**Row-level comparison**: {rows.joined:,} ids in both sets, "
            f"{rows.only_training:,} only in training and {rows.only_serving:,} only in serving "
            "over the period both cover."
        )
        state.table(rows.to_frame(), file_name=f"{name}_row_skew", key="skew_rows")
    st.markdown(
        "**Leakage probe**: how strongly each feature alone predicts the label, in training and "
        "in serving."
    )
    state.table(result.leakage.features, file_name=f"{name}_leakage", key="skew_leakage")
