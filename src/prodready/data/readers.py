"""Read one data set (CSV or Parquet) into pandas, turning every read failure into a clear message.

Readers know files, not the case contract: what a column must hold is checked in
:mod:`prodready.data.validation`.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import BinaryIO

import pandas as pd
import pyarrow as pa

from prodready.errors import DataError

CSV_SUFFIXES = (".csv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")


def table_format(name: str) -> str:
    """``"csv"`` or ``"parquet"`` from a file name; anything else is refused with a fix."""
    suffix = Path(name).suffix.lower()
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    raise DataError(
        "this file type is not supported",
        where=name,
        expected="a .csv or .parquet file",
        found=f"a file ending in {suffix!r}" if suffix else "a name without an extension",
        fix="export the data as CSV (UTF-8) or Parquet and point the case at that file",
    )


def read_table(source: str | Path | BinaryIO | bytes, *, name: str | None = None) -> pd.DataFrame:
    """Read a CSV or Parquet file (a path, an open binary file or bytes, e.g. an upload).

    ``name`` is what messages call the file (defaults to the path); its extension decides the
    format when ``source`` is not a path.
    """
    if isinstance(source, str | Path):
        path = Path(source)
        name = name or str(path)
        if not path.exists():
            raise DataError(
                "the file does not exist",
                where=name,
                fix="check the path (in a case file it is relative to the case file) "
                "and that the file was copied with the case",
            )
        if path.is_dir():
            raise DataError(
                "this is a folder, not a data file",
                where=name,
                expected="a .csv or .parquet file",
                fix="point the case at the file inside the folder",
            )
        # Parquet is read from the file itself (no copy of its bytes in memory); CSV needs the
        # bytes for the encoding check.
        data: bytes | Path = path if table_format(name) == "parquet" else path.read_bytes()
    else:
        if name is None:
            raise DataError(
                "an uploaded file needs its name to tell CSV from Parquet",
                fix="pass name='file.csv'",
            )
        data = source if isinstance(source, bytes) else source.read()
    kind = table_format(name)
    if not (data.stat().st_size if isinstance(data, Path) else data):
        raise DataError(
            "the file is empty (0 bytes)",
            where=name,
            expected="a header line and at least one row" if kind == "csv" else "Parquet data",
            fix="export the data again; the file was probably cut off while copying",
        )
    frame = _read_csv(data, name) if kind == "csv" else _read_parquet(data, name)
    if frame.shape[1] == 0 or len(frame) == 0:
        raise DataError(
            "the file has no rows" if frame.shape[1] else "the file has no columns",
            where=name,
            expected="a header line and at least one row of data",
            found=f"{frame.shape[1]} columns and {len(frame)} rows",
            fix="check that the export ran on the right table and was not filtered to nothing",
        )
    return frame


def _read_csv(data: bytes, name: str) -> pd.DataFrame:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DataError(
            f"the file is not UTF-8 text (first bad byte 0x{data[exc.start]:02x} on line {line})",
            where=name,
            expected="a CSV file encoded as UTF-8",
            found="another encoding, such as Latin-1 or Windows-1252",
            fix="save it again as 'CSV UTF-8' (Excel: Save As > CSV UTF-8), or convert it with "
            f"`iconv -f latin1 -t utf-8 {Path(name).name} > fixed.csv`",
        ) from None
    try:
        return pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", low_memory=False)
    except pd.errors.EmptyDataError:
        raise DataError(
            "the file has no header line and no rows",
            where=name,
            expected="a header line naming the columns, then one line per row",
            fix="export the data again with a header row",
        ) from None
    except (pd.errors.ParserError, ValueError) as exc:
        raise DataError(
            "the CSV file cannot be parsed",
            where=name,
            expected="the same number of comma-separated fields on every line",
            found=str(exc).strip(),
            fix="look at the line named above: a stray comma or quote usually causes this; "
            "quote text fields that contain commas",
        ) from None


def _read_parquet(data: bytes | Path, name: str) -> pd.DataFrame:
    try:
        return pd.read_parquet(data if isinstance(data, Path) else io.BytesIO(data))
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DataError(
            "the file is not a readable Parquet file (corrupt, cut off, or another format)",
            where=name,
            expected="a Parquet file written by pandas, pyarrow, Spark or DuckDB",
            found=str(exc).strip().splitlines()[0][:200],
            fix="write the file again; if it is really CSV, give it a .csv extension",
        ) from None
