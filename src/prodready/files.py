"""Files a report writes: atomically (a failed run never leaves half a file) and hashed.

Every file goes to a temporary name beside its target (hidden, starting with
:data:`TEMP_PREFIX`) and is renamed over it, so a reader sees the old file or the new one.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

TEMP_PREFIX = ".prodready-"


def save_json(data: Any, output_dir: str | Path, name: str) -> Path:
    """Write ``data`` as indented JSON to ``output_dir/name`` atomically (creating the folder).

    Notebooks write their artefacts with this, so a report's JSON is never half-written.
    """
    folder = Path(output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    return write_atomic(folder / name, text)


def write_atomic(path: Path, data: str | bytes) -> Path:
    """Write to a temporary file beside ``path``, then rename it over ``path``."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path


def file_sha256(path: Path) -> str:
    """Full sha256 of a file, read in 1 MiB blocks (data files can be large)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
