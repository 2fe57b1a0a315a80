"""Monitoring page: would we have noticed the model failing silently, and how fast?"""

from __future__ import annotations

import tempfile
from pathlib import Path

import app_state as state
import pandas as pd
import streamlit as st

from prodready import charts, monitoring, samples
from prodready.charts.monitoring import default_panel_monitors
from prodready.errors import DataError, ProdreadyError

st.title("Monitoring")
state.intro(
    "Would you have noticed? Business, model-output, data-quality, performance and "
    "system-health monitors replayed day by day on your serving log, with limits from its "
    "first month, and how fast each known incident would have been caught."
)

case = state.require_case()
name = state.slug(case.name)
badge = state.badge


def findings(items) -> None:
    for finding in items:
        st.markdown(f"{badge(finding.severity)} {finding.text}".replace("$", r"\$"))


def read_incidents(data: bytes, file_name: str) -> pd.DataFrame:
    """An uploaded incidents CSV (problem, start, end) with its times as UTC timestamps."""
    frame = state.read_upload(data, file_name)
    missing = [c for c in ("problem", "start", "end") if c not in frame.columns]
    if missing:
        raise DataError(
            "the incidents file lacks columns",
            where=file_name,
            expected="columns problem, start, end (UTC times; end may be empty)",
            found="columns " + ", ".join(map(str, frame.columns)),
            fix="add the missing columns: " + ", ".join(missing),
        )
    out = frame[["problem", "start", "end"]].copy()
    for column in ("start", "end"):
        try:
            out[column] = pd.to_datetime(out[column], utc=True)
        except (TypeError, ValueError) as err:
            raise DataError(
                f"the incidents' {column} column holds values that are not times",
                where=f"{file_name}, column {column}",
                expected="times such as 2025-09-08 or 2025-09-08T00:00:00Z",
                found=str(err).splitlines()[0][:120],
                fix="write each time as YYYY-MM-DD (UTC) or leave it empty",
            ) from err
    return out


try:
    replay = state.monitoring_replay(case)
except ProdreadyError as error:
    state.show_error(error)
    st.stop()

alerts = replay.alerts
health = alerts[alerts["family"] == "system_health"]
tiles = st.columns(4)
with tiles[0]:
    st.metric("Monitors", f"{len(replay.monitors):,}", border=True)
    st.caption(f"Replayed on {replay.trace['day'].nunique():,} monitored days.")
with tiles[1]:
    st.metric("Alerts", f"{len(alerts):,}", border=True)
    st.caption("Monitors that fired at least once.")
with tiles[2]:
    first = alerts["first_fire"].min() if len(alerts) else None
    st.metric("First alert", "none" if first is None else f"{first:%d %b %Y}", border=True)
    st.caption("" if first is None else f"{alerts['monitor'].iloc[0]} fired first.")
with tiles[3]:
    st.metric("System health alerts", f"{len(health):,}", border=True)
    st.caption("Volume and error rate: what most teams watch.")

st.subheader("What stands out")
findings(replay.summary())

# -- incidents: a bundled sample's own, or an upload ----------------------------------------------
sample = state.sample_name(case)
uploaded = st.file_uploader(
    "Known incidents (CSV with problem, start, end; optional)",
    type=["csv"],
    key="monitoring_incidents",
    help="Each incident's start and end (UTC; end may be empty: until the log ends). The "
    "detection report says how fast each monitor family caught each one. "
    f"Up to {state.upload_cap_mb()} MB per file.",
)
incidents, incidents_key = None, None
if uploaded is not None:
    try:
        data = uploaded.getvalue()
        incidents = read_incidents(data, uploaded.name)
        incidents_key = state.upload_key(data, uploaded.name)
    except ProdreadyError as error:
        state.show_error(error)
elif sample is not None:
    incidents, incidents_key = samples.known_problems(sample), f"sample:{sample}"

st.subheader("The monitors, day by day")
options = [m.name for m in replay.monitors]
chosen = st.multiselect(
    "Monitors to show",
    options,
    default=default_panel_monitors(replay),
    key="monitoring_panel",
    help="By default the first monitor to fire in each family, and system health's volume.",
)
if chosen:
    state.figure(
        charts.monitor_panel(replay, chosen, incidents),
        file_name=f"{name}_monitor_panel",
        key="monitoring_panel_figure",
    )
else:
    st.info("Pick at least one monitor to draw.", icon=":material/info:")

st.subheader("Alerts")
state.table(
    alerts,
    file_name=f"{name}_monitoring_alerts",
    key="monitoring_alerts",
    index=False,
    column_config={
        "first_fire": st.column_config.DatetimeColumn("first_fire", format="YYYY-MM-DD")
    },
)

if incidents is not None:
    st.subheader("How fast was each incident caught?")
    where = f"the {sample} sample's known problems" if uploaded is None else uploaded.name
    st.caption(f"Incidents from {where}.")
    try:
        report = state.detection(case, incidents, incidents_key)
    except ProdreadyError as error:
        state.show_error(error)
    else:
        findings(report.summary())
        state.figure(
            charts.time_to_detect(report),
            file_name=f"{name}_time_to_detect",
            key="monitoring_detect",
        )
        state.table(
            report.table,
            file_name=f"{name}_detection",
            key="monitoring_detection",
            index=False,
        )
        st.markdown("**Coverage**: days each monitor took to fire in each incident (empty: never)")
        state.table(
            report.coverage,
            file_name=f"{name}_coverage",
            key="monitoring_coverage",
        )

st.subheader("Take the monitors with you")
with tempfile.TemporaryDirectory() as folder:
    path = monitoring.export_monitors(replay, Path(folder) / f"{name}_monitors.yaml")
    yaml_bytes = path.read_bytes()
st.download_button(
    "Download monitors (YAML)",
    data=yaml_bytes,
    file_name=f"{name}_monitors.yaml",
    mime="application/yaml",
    key="monitoring_yaml",
    on_click="ignore",
    icon=":material/download:",
    help="Every monitor with its rule and the centre and spread taken from the reference, for "
    "your own monitoring stack (prodready.monitoring.load_monitors reads it back).",
)
