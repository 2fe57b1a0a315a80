"""The optional password in front of the whole app, for a dashboard shown beyond the room.

When ``PRODREADY_APP_PASSWORD`` or the ``app_password`` secret is set, every session first sees
a password form and nothing else, until the right password is entered; the session then stays
open. With neither set, the app opens as before. Not per-user authentication: see
docs/deployment.md for a reverse proxy that authenticates people.
"""

from __future__ import annotations

import os

import streamlit as st

from prodready.access import check_password, configured_password
from prodready.errors import ProdreadyError

UNLOCKED = "access_unlocked"  # session_state: the right password was entered in this session
WRONG_PASSWORD = "Wrong password. Ask whoever shared this dashboard for the password."


def _secrets():
    """Streamlit's secrets, or None when no secrets.toml exists (reading them then fails)."""
    return st.secrets if st.secrets.load_if_toml_exists() else None


def require_password() -> None:
    """Stop the script here (``st.stop``) until this session has entered the app password."""
    try:
        expected = configured_password(_secrets(), os.environ)
    except ProdreadyError as err:  # a password is meant but unreadable: stay closed
        st.error(str(err).replace("\n", "  \n"), icon=":material/error:")
        st.stop()
    if expected is None or st.session_state.get(UNLOCKED):
        return
    st.title("prodready")
    with st.form("access_form"):
        given = st.text_input("Password", type="password", key="access_password")
        submitted = st.form_submit_button("Open the app", type="primary")
    if submitted:
        if check_password(given, expected):
            st.session_state[UNLOCKED] = True
            st.session_state.pop("access_password", None)
            st.rerun()
        st.error(WRONG_PASSWORD, icon=":material/lock:")
    st.stop()
