"""Read a YAML file that must hold a mapping (a case file, a batch file), with one clear error.

Every way such a file goes wrong (not UTF-8, not YAML, a list or nothing instead of a mapping)
raises the caller's error class with the file, the line where YAML can tell it, and a fix.
"""

from __future__ import annotations

import reprlib
from pathlib import Path
from typing import Any

import yaml

from prodready.errors import ProdreadyError

# What a message shows of a file's content: a few items of a few levels. ``str`` would expand a
# YAML alias bomb (each level a list of aliases to the one above) into billions of items.
_SHORT = reprlib.Repr()  # keyword arguments need Python 3.12
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxdict, _SHORT.maxstring = 2, 4, 4, 40


def _describe(raw: object) -> str:
    """A few items of ``raw`` (at most about 120 characters), for a message."""
    text = _SHORT.repr(raw)
    return f"{type(raw).__name__}: {text if len(text) <= 120 else text[:119] + '…'}"


def read_yaml_mapping(
    path: Path, *, kind: str, error: type[ProdreadyError], expected: str, fix: str
) -> tuple[dict[str, Any], str]:
    """The mapping in ``path`` and the file's text (for line numbers in later messages).

    ``kind`` names the file in messages ("case file"); ``expected`` and ``fix`` say what a
    mapping of this kind holds and where to start from, for a file that holds something else.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise error(
            f"the {kind} is not UTF-8 text",
            where=str(path),
            fix=f"save it as UTF-8; is this really the YAML {kind} and not a data file?",
        ) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f", line {mark.line + 1}" if mark is not None else ""
        raise error(
            f"the {kind} is not valid YAML",
            where=f"{path}{line}",
            found=str(getattr(exc, "problem", None) or exc),
            fix="check indentation (spaces, not tabs) and that every 'key: value' has a space "
            "after the colon",
        ) from None
    if not isinstance(raw, dict):
        found = _describe(raw) if raw is not None else "an empty file"
        raise error(
            f"the {kind} does not describe {'an' if kind[0] in 'aeiou' else 'a'} "
            f"{kind.removesuffix(' file')}",
            where=str(path),
            expected=expected,
            found=found,
            fix=fix,
        )
    return raw, text
