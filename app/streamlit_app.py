"""prodready app: the router. Pages live in ``app_pages/`` and only call the prodready package.

Run with ``prodready app`` or ``streamlit run app/streamlit_app.py``. The case loaded at start is
the file named by the ``PRODREADY_CASE`` environment variable, else the bundled sample case.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

APP_DIR = Path(__file__).resolve().parent
if str(APP_DIR) not in sys.path:  # pages import the shared helpers as ``app_state``
    sys.path.insert(0, str(APP_DIR))

import access_gate  # noqa: E402
import app_state  # noqa: E402

st.set_page_config(
    page_title="prodready",
    page_icon=":material/health_and_safety:",
    layout="wide",
    initial_sidebar_state="expanded",
)
access_gate.require_password()  # nothing below runs until the app password, when one is set
app_state.tile_style()

PAGES = [
    st.Page(
        "app_pages/case.py",
        title="Case",
        icon=":material/folder_open:",
        default=True,
    ),
    st.Page("app_pages/skew.py", title="Skew audit", icon=":material/compare_arrows:"),
    st.Page("app_pages/profiles.py", title="Audit from profiles", icon=":material/summarize:"),
    st.Page("app_pages/rollout.py", title="Rollout simulator", icon=":material/alt_route:"),
    st.Page("app_pages/monitoring.py", title="Monitoring", icon=":material/monitor_heart:"),
    st.Page("app_pages/decay.py", title="Decay & retraining", icon=":material/hourglass_bottom:"),
    st.Page("app_pages/review.py", title="Human review", icon=":material/person_search:"),
    st.Page("app_pages/overview.py", title="Overview", icon=":material/speed:"),
    st.Page("app_pages/workshop.py", title="Readiness workshop", icon=":material/groups:"),
    st.Page("app_pages/executive.py", title="Executive dashboard", icon=":material/insights:"),
]

page = st.navigation(PAGES)

case = app_state.current_case()
with st.sidebar:
    st.markdown("**prodready**: will this model survive production?")
    if case is not None:
        st.caption(
            f"Case: **{case.name}** · {case.task} · {len(case.training):,} training rows · "
            f"{len(case.serving):,} serving rows"
        )
    else:
        st.caption("No case loaded yet.")

page.run()
