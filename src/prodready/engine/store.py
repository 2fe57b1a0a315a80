"""Save and load a :class:`~prodready.engine.profile.ProfileSet` as one JSON file.

The file is plain JSON (gzip-compressed when the path ends with ``.gz``) with
``format: "prodready-profiles"``, ``version: 1``, the prodready version that wrote it, the
layouts, the profiles and their source. Floats round-trip exactly (json writes their repr).
It is written atomically (temporary file, then rename), so a reader never sees half a file.
Never pickle: a profile file may come from someone else.

:func:`write_document` and :func:`read_document` (on bytes: :func:`document_bytes` and
:func:`parse_document`) write and check other JSON files of profiles the same way (a case's
profiles: :mod:`prodready.skew.profiles`, format ``"prodready-case-profiles"``).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from prodready.engine.profile import ProfileSet
from prodready.errors import DataError, ParameterError
from prodready.files import write_atomic

__all__ = [
    "FORMAT",
    "VERSION",
    "document_bytes",
    "load_profiles",
    "parse_document",
    "read_document",
    "save_profiles",
    "write_document",
]

FORMAT = "prodready-profiles"
VERSION = 1
_FIX = "write the file again with prodready.engine.save_profiles from the data it summarises"


def save_profiles(profile_set: ProfileSet, path: str | Path) -> Path:
    """Write ``profile_set`` to ``path`` (gzip when it ends with ``.gz``); returns the path."""
    if not isinstance(profile_set, ProfileSet):
        raise ParameterError("save_profiles needs a ProfileSet", found=type(profile_set).__name__)
    return write_document(profile_set.to_dict(), path, fmt=FORMAT, version=VERSION)


def load_profiles(path: str | Path) -> ProfileSet:
    """Read a file written by :func:`save_profiles`. A missing or bad file raises one
    :class:`~prodready.errors.DataError` naming the file, what is wrong and how to fix it."""
    document = read_document(path, fmt=FORMAT, version=VERSION, what="profile file", fix=_FIX)
    try:
        return ProfileSet.from_dict(document)
    except (DataError, ParameterError) as err:
        raise DataError(f"is damaged: {err.problem}", where=str(path), fix=_FIX) from err


def write_document(content: dict[str, Any], path: str | Path, *, fmt: str, version: int) -> Path:
    """Write :func:`document_bytes` of ``content`` to ``path`` (gzip when it ends with ``.gz``),
    atomically; returns the path."""
    path = Path(path)
    raw = document_bytes(content, fmt=fmt, version=version, compress=path.suffix == ".gz")
    if not path.parent.is_dir():
        raise ParameterError(f"folder {str(path.parent)!r} does not exist", fix="create it first")
    return write_atomic(path, raw)


def document_bytes(
    content: dict[str, Any], *, fmt: str, version: int, compress: bool = False
) -> bytes:
    """``content`` under ``format``/``version`` headers as JSON bytes; gzip-compressed with
    mtime 0 when ``compress`` (the same content gives the same bytes)."""
    from prodready import __version__

    document = {"format": fmt, "version": version, "prodready_version": __version__}
    document.update(content)
    text = json.dumps(document, allow_nan=False, ensure_ascii=False, separators=(",", ":"))
    raw = text.encode("utf-8")
    return gzip.compress(raw, mtime=0) if compress else raw


def read_document(
    path: str | Path, *, fmt: str, version: int, what: str, fix: str
) -> dict[str, Any]:
    """:func:`parse_document` of the file at ``path``; one that cannot be read raises
    DataError."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise DataError(
            f"cannot read the {what} ({err.strerror})", where=str(path), fix="check the path"
        ) from err
    return parse_document(raw, where=str(path), fmt=fmt, version=version, what=what, fix=fix)


def parse_document(
    raw: bytes, *, where: str, fmt: str, version: int, what: str, fix: str
) -> dict[str, Any]:
    """The JSON object of bytes made by :func:`document_bytes` with ``fmt`` and ``version``
    (gzip or not). Foreign or corrupt bytes, or another format version, raise one DataError
    naming ``where`` they come from, ``what`` they should be, and ``fix``."""
    try:
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        document = json.loads(raw.decode("utf-8-sig"))  # a BOM: saved by a Windows editor
    except (OSError, EOFError, UnicodeDecodeError, ValueError) as err:
        raise DataError(
            f"is not a prodready {what} (not readable JSON)",
            where=where,
            found=f"{type(err).__name__}: {err}",
            fix=fix,
        ) from err
    if not isinstance(document, dict) or document.get("format") != fmt:
        found = document.get("format") if isinstance(document, dict) else type(document).__name__
        raise DataError(
            f"is not a prodready {what}",
            where=where,
            expected=f'a JSON object with "format": "{fmt}"',
            found=repr(found),
            fix=fix,
        )
    if document.get("version") != version:
        raise DataError(
            f"is a {what} of format version {document.get('version')!r}, which this "
            f"prodready cannot read",
            where=where,
            expected=f"version {version}",
            fix="read it with the prodready version that wrote it "
            f"({document.get('prodready_version')}), or profile the data again",
        )
    return document
