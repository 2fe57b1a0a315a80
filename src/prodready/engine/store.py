"""Save and load a :class:`~prodready.engine.profile.ProfileSet` as one JSON file.

The file is plain JSON (gzip-compressed when the path ends with ``.gz``) with
``format: "prodready-profiles"``, ``version: 1``, the prodready version that wrote it, the
layouts, the profiles and their source. Floats round-trip exactly (json writes their repr).
It is written atomically (temporary file, then rename), so a reader never sees half a file.
Never pickle: a profile file may come from someone else.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from prodready.engine.profile import ProfileSet
from prodready.errors import DataError, ParameterError
from prodready.files import write_atomic

__all__ = ["FORMAT", "VERSION", "load_profiles", "save_profiles"]

FORMAT = "prodready-profiles"
VERSION = 1
_FIX = "write the file again with prodready.engine.save_profiles from the data it summarises"


def save_profiles(profile_set: ProfileSet, path: str | Path) -> Path:
    """Write ``profile_set`` to ``path`` (gzip when it ends with ``.gz``); returns the path."""
    from prodready import __version__

    if not isinstance(profile_set, ProfileSet):
        raise ParameterError("save_profiles needs a ProfileSet", found=type(profile_set).__name__)
    path = Path(path)
    document = {"format": FORMAT, "version": VERSION, "prodready_version": __version__}
    document.update(profile_set.to_dict())
    text = json.dumps(document, allow_nan=False, ensure_ascii=False, separators=(",", ":"))
    raw = text.encode("utf-8")
    if path.suffix == ".gz":
        raw = gzip.compress(raw, mtime=0)  # mtime 0: the same profiles give the same bytes
    if not path.parent.is_dir():
        raise ParameterError(f"folder {str(path.parent)!r} does not exist", fix="create it first")
    return write_atomic(path, raw)


def load_profiles(path: str | Path) -> ProfileSet:
    """Read a file written by :func:`save_profiles`. A missing or bad file raises one
    :class:`~prodready.errors.DataError` naming the file, what is wrong and how to fix it."""
    path = Path(path)
    where = str(path)
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise DataError(
            f"cannot read the profile file ({err.strerror})", where=where, fix="check the path"
        ) from err
    try:
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        document = json.loads(raw.decode("utf-8"))
    except (OSError, EOFError, UnicodeDecodeError, ValueError) as err:
        raise DataError(
            "is not a prodready profile file (not readable JSON)",
            where=where,
            found=f"{type(err).__name__}: {err}",
            fix=_FIX,
        ) from err
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        found = document.get("format") if isinstance(document, dict) else type(document).__name__
        raise DataError(
            "is not a prodready profile file",
            where=where,
            expected=f'a JSON object with "format": "{FORMAT}"',
            found=repr(found),
            fix=_FIX,
        )
    if document.get("version") != VERSION:
        raise DataError(
            f"is a profile file of format version {document.get('version')!r}, which this "
            f"prodready cannot read",
            where=where,
            expected=f"version {VERSION}",
            fix="read it with the prodready version that wrote it "
            f"({document.get('prodready_version')}), or profile the data again",
        )
    try:
        return ProfileSet.from_dict(document)
    except (DataError, ParameterError) as err:
        raise DataError(f"is damaged: {err.problem}", where=where, fix=_FIX) from err
