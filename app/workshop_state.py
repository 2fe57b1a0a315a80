"""What the Workshop and Executive dashboard pages share: the store, the selection kept in the
page address (so a reload comes back to the same team), and the audit evidence of the case.

Nothing here computes a number: scores come from :func:`prodready.readiness.score`, proposals
from :func:`prodready.readiness.propose`, audits from :func:`prodready.readiness.run_audits`.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import app_state as state
import pandas as pd
import streamlit as st

from prodready import readiness
from prodready import store as store_module
from prodready.errors import ProdreadyError

# query parameters: the selection survives a reload and can be shared as a link
WORKSHOP, TEAM, AUTHOR, VIEW = "workshop", "team", "author", "view"
DEFAULT_WORKSHOP, DEFAULT_TEAM = "Demo workshop", "Fraud team"
SCORE_LABELS = {
    None: "not answered",
    0.0: "0 · not done",
    0.5: "0.5 · by hand",
    1.0: "1 · automated",
}
SECTION_TITLES = {
    "organisation": "Organisation",
    "data": "Features and data",
    "model": "Model development",
    "infrastructure": "ML infrastructure",
    "monitoring": "Monitoring",
}


@st.cache_resource(show_spinner=False)
def _open_store(url: str | None) -> tuple[Any, str | None]:
    """The configured store (``PRODREADY_DB_URL`` or the local file), opened once per process
    and shared by every session; when it cannot be reached, a temporary SQLite file instead and
    the reason, so the workshop still runs (answers then last as long as the app)."""
    try:
        return store_module.open(url), None
    except ProdreadyError as err:
        folder = tempfile.mkdtemp(prefix="prodready-workshop-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)  # it lasts as long as the app
        return store_module.open(f"sqlite:///{Path(folder) / 'workshop.db'}"), str(err)


def store() -> Any:
    """The shared store; shows once per page why it is a temporary one, when it is."""
    opened, problem = _open_store(os.environ.get("PRODREADY_DB_URL") or None)
    if problem:
        st.warning(
            f"The workshop database cannot be reached, so answers are kept in a temporary file "
            f"for as long as the app runs. {problem}".replace("$", r"\$"),
            icon=":material/database_off:",
        )
    return opened


def param(name: str, default: str | None = None) -> str | None:
    value = st.query_params.get(name)
    return value if value else default


def set_param(name: str, value: str | None) -> None:
    if value:
        st.query_params[name] = value
    elif name in st.query_params:
        del st.query_params[name]


def viewer_mode() -> bool:
    return param(VIEW, "") in ("1", "true", "yes")


def _incidents(case: Any) -> pd.DataFrame | None:
    name = state.sample_name(case)
    if name is None:
        return None
    from prodready import samples

    return samples.known_problems(name)


@st.cache_resource(show_spinner=False)
def _audit_runs() -> dict[tuple[str, tuple[str, ...]], readiness.AuditRun]:
    """Audit runs shared by every session of this process (a case's audits never change)."""
    return {}


def audits(case: Any, *, include_decay: bool = False) -> readiness.AuditRun:
    """The case's audits, run once per case and process, with a progress bar while they run."""
    include = tuple(n for n in readiness.AUDIT_NAMES if n != "decay" or include_decay)
    key = (st.session_state.get(state.CASE_KEY) or f"id:{id(case)}", include)
    runs = _audit_runs()
    if key not in runs:
        bar = st.progress(0.0, text="Running the audits for evidence…")

        def progress(name: str, done: int, total: int) -> None:
            text = f"Running the {name} audit ({done + 1} of {total})…" if name else "Done."
            bar.progress(done / max(total, 1), text=text)

        runs[key] = readiness.run_audits(
            case, include=include, incidents=_incidents(case), progress=progress
        )
        bar.empty()
    return runs[key]


def has_audits(case: Any) -> bool:
    case_key = st.session_state.get(state.CASE_KEY) or f"id:{id(case)}"
    return any(key[0] == case_key for key in _audit_runs())


def snapshots(run: readiness.AuditRun) -> dict[str, Any]:
    """The audits as JSON-safe dicts, as the store keeps them."""
    return {name: result.to_dict() for name, result in run.results.items()}
