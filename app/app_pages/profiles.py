"""Audit from profiles page: the skew audit's distribution part from a team's profiles file,
without its data."""

from __future__ import annotations

import app_state as state
import streamlit as st

from prodready import Case, charts
from prodready.errors import ProdreadyError
from prodready.skew import profiles

st.title("Audit from profiles")
state.intro(
    "Whether production sees what training saw, measured from the profiles a team sends "
    "instead of its data."
)
st.markdown(
    "A profiles file holds no row, only counts per bin and per category, moments and missing "
    "counts of each feature (training whole, serving per month); a team makes one with "
    "`prodready profile --case case.yaml --out profiles.json.gz`."
)


@st.cache_data(show_spinner=False, max_entries=8)
def _profiles_file(key: str, _case: Case) -> bytes:
    """The case's profiles file, once per case (``key``, as the audits are cached). The bar is
    made here, so a cache hit replays it (full, then gone)."""
    bar = st.progress(0.0, text="Profiling the case")

    def told(done: float, text: str) -> None:
        bar.progress(min(max(done, 0.0), 1.0), text=f"Profiling the case: {text}")

    try:
        return profiles.case_profiles_bytes(profiles.case_profiles(_case, progress=told))
    finally:
        bar.empty()


@st.cache_data(show_spinner=False, max_entries=4)
def _audit(raw: bytes, name: str) -> profiles.ProfileAudit:
    return profiles.audit_profiles(profiles.read_case_profiles(raw, where=name))


# -- this case's profiles ----------------------------------------------------------------------
st.subheader("Send this case's profiles")
case = state.current_case()
if case is None:
    st.info("Load a case on the Case page to download its profiles.", icon=":material/info:")
else:
    try:
        made = _profiles_file(st.session_state.get(state.CASE_KEY) or f"id:{id(case)}", case)
    except ProdreadyError as error:
        state.show_error(error)
    else:  # its size in kB (1,000 bytes), as the uploader below shows a file's
        st.download_button(
            f"Download the profiles of {case.name} ({len(made) / 1000:,.0f} kB)",
            data=made,
            file_name=f"{state.slug(case.name)}_profiles.json.gz",
            mime="application/gzip",
            key="profiles_download",
            on_click="ignore",
            icon=":material/download:",
        )

# -- the audit from a profiles file ----------------------------------------------------------
st.subheader("Audit a profiles file")
upload = st.file_uploader(
    "Profiles file",
    key="profiles_upload",
    help=f"A file written by `prodready profile` (.json or .json.gz), up to "
    f"{state.upload_cap_mb()} MB per file.",
)
if upload is None:
    st.caption("Upload a profiles file to see its audit.")
    st.stop()
try:
    result = _audit(upload.getvalue(), upload.name)
except ProdreadyError as error:  # a foreign or damaged file: the message says what to do
    state.show_error(error)
    st.stop()

frame = result.to_frame()
name = state.slug(result.case_name)
flagged = frame[frame["severity"].isin(["high", "medium"])]
tiles = st.columns(3)
tiles[0].metric("Features to fix", f"{len(flagged)} of {len(frame)}", border=True)
tiles[1].metric("Training rows", f"{result.training_rows:,}", border=True)
tiles[2].metric("Serving rows", f"{result.serving_rows:,}", border=True)

st.markdown(f"**{result.case_name}**: what stands out")
for finding in result.summary():
    st.markdown(f"{state.badge(finding.severity)} {finding.text}".replace("$", r"\$"))

st.markdown("**Features ranked by severity**")
st.caption(
    "The skew audit's distribution measures and grades; p-values are Benjamini-Hochberg "
    "corrected across features. Row mismatches, leakage and availability need the rows."
)
state.table(
    frame,
    file_name=f"{name}_profiles_features",
    key="profiles_features",
    column_config={
        **state.DISTRIBUTION_COLUMNS,
    },
)

feature = st.selectbox(
    "Feature",
    [str(f) for f in frame.index],
    key="profiles_feature",
    format_func=lambda f: f"{f} · {frame.loc[f, 'severity']}",
)
state.figure(
    charts.psi_by_month(result, feature),
    file_name=f"{name}_{state.slug(feature)}_psi_by_month",
    key="profiles_by_month",
)
