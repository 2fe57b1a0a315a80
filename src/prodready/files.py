"""Files a report writes: atomically (a failed run never leaves half a file) and hashed.

Every file goes to a temporary name beside its target (hidden, starting with
:data:`TEMP_PREFIX`) and is renamed over it, so a reader sees the old file or the new one.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from prodready.errors import ParameterError

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


LOCK_FILE = f"{TEMP_PREFIX}run.lock"


@contextmanager
def claim_folder(folder: Path) -> Iterator[None]:
    """Hold ``folder`` for one run: an exclusive lock on its hidden ``.prodready-run.lock`` (a
    second run into the same folder stops with a clear message), then remove the hidden
    temporary files (``.prodready-*``) a killed run left there; the lock file goes at the end.
    The lock goes with the process, so a killed run never blocks the next. Where the system has
    no ``fcntl`` (Windows) nothing is locked or removed."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    with open(Path(folder) / LOCK_FILE, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise ParameterError(
                "another report is being written to this folder",
                where=str(folder),
                fix="wait for it to finish, or choose another output folder",
            ) from None
        for entry in Path(folder).iterdir():
            if entry.name.startswith(TEMP_PREFIX) and entry.name != LOCK_FILE and entry.is_file():
                entry.unlink(missing_ok=True)
        try:
            yield
        finally:  # removed while still held: the folder is left as clean as the run found it
            (Path(folder) / LOCK_FILE).unlink(missing_ok=True)
