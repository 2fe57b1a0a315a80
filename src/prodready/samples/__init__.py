"""Bundled sample cases: data with known problems, so a team can see what each audit finds.

- ``card_fraud``: synthetic card transactions (binary), seven planted problems.
- ``delivery_time``: synthetic food-delivery times (regression), planted drift and incidents.
- ``elec2``: real electricity-market data (binary) with real concept drift (public domain).

``load()`` opens the bundled copy (generated with the default rows and seed); ``write()``
regenerates a case anywhere, byte for byte the same for the same ``rows`` and ``seed``.
"""

from __future__ import annotations

import numbers
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from prodready.errors import ParameterError
from prodready.samples import card_fraud, delivery_time, elec2

if TYPE_CHECKING:
    from prodready.case import Case

__all__ = ["available", "describe", "known_problems", "load", "write"]

_SAMPLES = {"card_fraud": card_fraud, "delivery_time": delivery_time, "elec2": elec2}
CASE_FILE = "case.yaml"
TRAINING_FILE = "training.parquet"
SERVING_FILE = "serving_log.parquet"
SERVING_PARTS_DIR = "serving_log"  # write(..., parts=K): serving_log/part-00000.parquet, ...
SERVING_PARTS_GLOB = f"{SERVING_PARTS_DIR}/*.parquet"  # what the case file names then

# Fixed writer options: the same frame always gives the same bytes (no write time is stored).
_PARQUET_OPTIONS = {
    "compression": "zstd",
    "compression_level": 9,
    "use_dictionary": True,
    "write_statistics": True,
    "row_group_size": 1 << 20,
    "data_page_version": "2.0",
}


_DESCRIPTIONS = {
    "card_fraud": "Card fraud detection: binary, synthetic, seven planted production problems",
    "delivery_time": "Food delivery time: regression, synthetic, drift and broken feeds",
    "elec2": "Electricity prices, New South Wales 1996-98: binary, real data, concept drift",
}


def available() -> list[str]:
    """Names of the sample cases that ship with prodready."""
    return sorted(_SAMPLES)


def describe(name: str) -> str:
    """One line saying what sample ``name`` is (its task and what it shows)."""
    _module(name)
    return _DESCRIPTIONS[name]


def _module(name: str) -> ModuleType:
    """The generator module of sample ``name``, or a clear error naming the samples there are."""
    try:
        return _SAMPLES[name]
    except KeyError:
        raise ParameterError(
            f"there is no sample case called {name!r}",
            where="sample name",
            expected=f"one of {', '.join(available())}",
            found=repr(name),
            fix=f"use one of the available sample cases: {', '.join(available())}",
        ) from None


def load(name: str = "card_fraud") -> Case:
    """The bundled copy of sample case ``name``, loaded like any other case."""
    _module(name)
    from prodready import load_case
    from prodready.resources import sample_dir

    return load_case(sample_dir(name) / CASE_FILE)


def known_problems(name: str = "card_fraud") -> pd.DataFrame:
    """The problems planted in sample ``name``: problem, feature, start, end (UTC), description.

    ``start`` is inclusive and ``end`` exclusive; both are NaT for a problem that holds over the
    whole data rather than a period; ``feature`` is missing where no single feature is involved.
    """
    return _module(name).known_problems_frame()


def write(
    name: str,
    out_dir: str | Path,
    *,
    rows: int | None = None,
    seed: int | None = None,
    parts: int | None = None,
) -> Path:
    """Generate sample ``name`` into ``out_dir`` (created if needed); return the case file's path.

    ``rows`` and ``seed`` default to the sample's own (``card_fraud``: 120,000 and 0;
    ``delivery_time``: 60,000 and 0; ``elec2`` is real data of a fixed size with nothing random,
    so it accepts only its defaults). Each file is written to a temporary name in the same folder
    and then renamed, so a reader never sees half a file.

    ``parts=K`` (``card_fraud`` only) writes the serving log as ``serving_log/part-00000.parquet``
    to ``part-{K-1:05d}.parquet``, each a later span of time, and the case file names
    ``serving_log/*.parquet``; the training set stays one file (written slice by slice). The
    data is generated time slice by time slice (:func:`prodready.samples.card_fraud.
    generate_parts`), so memory stays bounded by one part plus a month of card history, whatever
    ``rows`` is (100 million with parts=100 fits in well under 1.5 GB). ``rows`` still counts
    every transaction of the year (training and serving). The rows differ from ``parts=None``
    for the same seed; the same ``rows``, ``seed`` and ``parts`` give the same bytes.
    """
    module = _module(name)
    rows = module.DEFAULT_ROWS if rows is None else rows
    seed = module.DEFAULT_SEED if seed is None else seed
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ParameterError(
            "the seed must be a whole number of 0 or more",
            where="seed",
            found=repr(seed),
            fix="pass a seed such as 0, 1 or 42",
        )
    module.check_rows(rows)
    if hasattr(module, "check_seed"):
        module.check_seed(seed)
    if parts is not None:
        return _write_parts(name, module, Path(out_dir), int(rows), int(seed), parts)
    sample = module.generate(rows=int(rows), seed=int(seed))
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    _atomic(folder / TRAINING_FILE, lambda path: _write_parquet(sample.training, path))
    _atomic(folder / SERVING_FILE, lambda path: _write_parquet(sample.serving, path))
    case_text = module.case_yaml(rows=int(rows), seed=int(seed))
    _atomic(folder / CASE_FILE, lambda path: path.write_text(case_text, encoding="utf-8"))
    return folder / CASE_FILE


def _write_parts(
    name: str, module: ModuleType, folder: Path, rows: int, seed: int, parts: object
) -> Path:
    """Stream a sample whose generator can work slice by slice; see :func:`write`."""
    if not hasattr(module, "generate_parts"):
        raise ParameterError(
            f"sample {name!r} cannot be written in parts",
            where="parts",
            expected="parts=None for this sample",
            found=repr(parts),
            fix="leave parts out, or use the card_fraud sample, which writes its serving log "
            "in parts",
        )
    module.check_parts(parts)
    parts = int(parts)  # type: ignore[call-overload]
    part_dir = folder / SERVING_PARTS_DIR
    part_dir.mkdir(parents=True, exist_ok=True)
    written: set[str] = set()
    training_target = folder / TRAINING_FILE
    handle, temporary = tempfile.mkstemp(
        dir=folder, prefix=f".{training_target.name}.", suffix=".tmp"
    )
    os.close(handle)
    writer: pq.ParquetWriter | None = None
    try:
        for chunk in module.generate_parts(rows=rows, seed=seed, parts=parts):
            if chunk.training is not None:
                table = pa.Table.from_pandas(chunk.training, preserve_index=False)
                if writer is None:
                    options = {k: v for k, v in _PARQUET_OPTIONS.items() if k != "row_group_size"}
                    writer = pq.ParquetWriter(temporary, table.schema, **options)
                writer.write_table(
                    table.cast(writer.schema), row_group_size=_PARQUET_OPTIONS["row_group_size"]
                )
                del table
            if chunk.serving is not None:
                part = part_dir / f"part-{chunk.part:05d}.parquet"
                serving = chunk.serving
                _atomic(part, lambda path, frame=serving: _write_parquet(frame, path))
                written.add(part.name)
            del chunk
        if writer is not None:
            writer.close()
            writer = None
        os.chmod(temporary, 0o644)
        os.replace(temporary, training_target)
    except BaseException:
        if writer is not None:
            writer.close()
        Path(temporary).unlink(missing_ok=True)
        raise
    for stale in part_dir.glob("part-*.parquet"):  # from an earlier write with more parts
        if stale.name not in written:
            stale.unlink()
    case_text = module.case_yaml(rows=rows, seed=seed, parts=parts)
    _atomic(folder / CASE_FILE, lambda path: path.write_text(case_text, encoding="utf-8"))
    return folder / CASE_FILE


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(table, path, **_PARQUET_OPTIONS)


def _atomic(target: Path, write_to: Callable[[Path], None]) -> None:
    """Write through ``write_to`` into a temporary file beside ``target``, then rename it."""
    handle, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
    )
    os.close(handle)
    try:
        write_to(Path(temporary))
        os.chmod(temporary, 0o644)  # mkstemp makes it private; data files are for everyone
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
