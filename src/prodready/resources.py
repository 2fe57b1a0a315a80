"""Find the app, the notebooks and the bundled sample cases, installed or in a checkout.

A wheel carries them under ``prodready/_bundled`` (hatchling force-include); an editable install
or a checkout has them at the top of the repository. Force-include does not apply to editable
installs, so both places are looked up, the wheel's first.
"""

from __future__ import annotations

from pathlib import Path

from prodready.errors import ProdreadyError

_PACKAGE_DIR = Path(__file__).resolve().parent
_BUNDLED = _PACKAGE_DIR / "_bundled"
_CHECKOUT = _PACKAGE_DIR.parent.parent  # src/prodready -> repository root


def resource_dir(name: str) -> Path:
    """Folder ``name`` (``app``, ``notebooks`` or ``sample_data``) wherever it is installed."""
    for base in (_BUNDLED, _CHECKOUT):
        candidate = base / name
        if candidate.is_dir():
            return candidate
    raise ProdreadyError(
        f"the {name!r} folder that ships with prodready is missing",
        where=str(_PACKAGE_DIR),
        expected=f"{_BUNDLED / name} (installed wheel) or {_CHECKOUT / name} (checkout)",
        found="neither",
        fix="reinstall prodready (pip install --force-reinstall prodready) or use a full checkout",
    )


def app_script() -> Path:
    """The Streamlit router file."""
    return resource_dir("app") / "streamlit_app.py"


def notebooks_dir() -> Path:
    return resource_dir("notebooks")


def sample_dir(name: str) -> Path:
    return resource_dir("sample_data") / name
