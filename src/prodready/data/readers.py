"""Read one data set (CSV or Parquet, one file or several) into pandas, with clear messages.

Readers know files, not the case contract: what a column must hold is checked in
:mod:`prodready.data.validation`.
"""

from __future__ import annotations

import codecs
import csv
import io
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from prodready.errors import DataError, first_line

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


def _not_utf8(name: str, bad_byte: int, line: int) -> DataError:
    """The one message for a CSV that is not UTF-8, read whole (eager) or streamed (lazy)."""
    return DataError(
        f"the file is not UTF-8 text (first bad byte 0x{bad_byte:02x} on line {line})",
        where=name,
        expected="a CSV file encoded as UTF-8",
        found="another encoding, such as Latin-1 or Windows-1252",
        fix="save it again as 'CSV UTF-8' (Excel: Save As > CSV UTF-8), or convert it with "
        f"`iconv -f latin1 -t utf-8 {Path(name).name} > fixed.csv`",
    )


# Bytes read at a time when a CSV left on disk is checked for UTF-8 (it may not fit in memory).
UTF8_CHECK_CHUNK = 1 << 20


def check_utf8(path: Path, name: str, *, chunk_bytes: int = UTF8_CHECK_CHUNK) -> None:
    """Raise the eager reader's "not UTF-8 text" error (same bad byte, line and fix) for a CSV
    on disk, streaming its bytes through a UTF-8 decoder: DuckDB would otherwise read a UTF-16
    or Windows-1252 file into missing columns or a parse error that hides the cause."""
    line, pending = 1, b""
    with path.open("rb") as handle:
        while True:
            chunk = handle.read(chunk_bytes)
            data, final = pending + chunk, not chunk
            try:
                _, used = codecs.utf_8_decode(data, "strict", final)
            except UnicodeDecodeError as exc:
                bad_line = line + data.count(b"\n", 0, exc.start)
                raise _not_utf8(name, data[exc.start], bad_line) from None
            if final:
                return
            line += data.count(b"\n", 0, used)
            pending = data[used:]  # the start of a character cut by the chunk's end


def _read_csv(data: bytes, name: str) -> pd.DataFrame:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise _not_utf8(name, data[exc.start], line) from None
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
        raise _unreadable_parquet(exc, name) from None


def table_columns(path: Path, *, name: str) -> list[str]:
    """The column names of a CSV or Parquet file, read from its header or footer only."""
    if table_format(name) == "parquet":
        try:
            return list(pq.read_schema(path).names)
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise DataError(
                "the file is not a readable Parquet file (corrupt, cut off, or another format)",
                where=name,
                found=first_line(exc, 200),
                fix="write the file again, or remove it from the folder the pattern matches",
            ) from None
    with path.open("rb") as handle:
        header = handle.readline().decode("utf-8-sig", errors="replace").strip()
    return next(csv.reader([header]), []) if header else []


def read_tables(paths: Sequence[Path], *, name: str, names: Sequence[str]) -> pd.DataFrame:
    """Read several files of one format and the same columns into one frame, in the given order.

    ``name`` is what messages call the set (e.g. the glob as the case wrote it) and ``names``
    each file. Every file is checked the way :func:`read_table` checks one; columns are compared
    from the headers (Parquet footers) before any data is read, so a wrong file fails fast. A
    column's type may widen across files (int in one file, float in another; all-null in one
    file): Arrow's permissive promotion decides. Parquet files are read from disk into Arrow
    tables and converted to pandas once, so the set costs what one file of the same size costs.
    """
    if len(paths) == 1:
        return read_table(paths[0], name=names[0])
    kinds = {table_format(n) for n in names}
    if len(kinds) > 1:
        csvs = [n for n in names if table_format(n) == "csv"]
        parquets = [n for n in names if table_format(n) == "parquet"]
        raise DataError(
            "the files mix CSV and Parquet",
            where=name,
            expected="files of one format",
            found=f"{len(csvs)} CSV (first {csvs[0]}) and {len(parquets)} Parquet "
            f"(first {parquets[0]})",
            fix="narrow the pattern to one format, e.g. *.parquet, or convert the odd files",
        )
    for path, shown in zip(paths, names, strict=True):
        _check_file(path, shown)
    first = table_columns(paths[0], name=names[0])
    for path, shown in zip(paths[1:], names[1:], strict=True):
        columns = table_columns(path, name=shown)
        if set(columns) != set(first):
            missing = [c for c in first if c not in columns]
            extra = [c for c in columns if c not in first]
            found = "; ".join(
                part
                for part in (
                    f"missing {', '.join(map(repr, missing))}" if missing else "",
                    f"extra {', '.join(map(repr, extra))}" if extra else "",
                )
                if part
            )
            raise DataError(
                f"{shown} does not have the same columns as {names[0]}",
                where=name,
                expected=f"the columns of {names[0]} in every file",
                found=f"{shown}: {found}",
                fix="export every file with the same columns, or narrow the pattern to the "
                "files that belong together",
            )
    if kinds == {"csv"}:
        frames = [read_table(path, name=shown) for path, shown in zip(paths, names, strict=True)]
        return pd.concat([f[first] for f in frames], ignore_index=True)
    tables = []
    for path, shown in zip(paths, names, strict=True):
        try:
            table = pq.read_table(path)
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise _unreadable_parquet(exc, shown) from None
        tables.append(table.select(first))
    try:
        table = pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise DataError(
            "a column has incompatible types in different files",
            where=name,
            found=first_line(exc),
            fix="export every file with the same column types (e.g. cast the column in the "
            "query that writes the files)",
        ) from None
    del tables
    frame = table.to_pandas()
    if len(frame) == 0:
        raise DataError(
            "the files have no rows",
            where=name,
            expected="at least one row of data",
            fix="check that the export ran on the right table and was not filtered to nothing",
        )
    return frame


def _check_file(path: Path, name: str) -> None:
    if not path.exists():
        raise DataError(
            "the file does not exist (it was removed after the pattern was expanded)",
            where=name,
            fix="run again once the files are complete",
        )
    if path.stat().st_size == 0:
        raise DataError(
            "the file is empty (0 bytes)",
            where=name,
            fix="export the data again, or remove the empty file from the folder",
        )


def _unreadable_parquet(exc: Exception, name: str) -> DataError:
    return DataError(
        "the file is not a readable Parquet file (corrupt, cut off, or another format)",
        where=name,
        expected="a Parquet file written by pandas, pyarrow, Spark or DuckDB",
        found=first_line(exc, 200),
        fix="write the file again; if it is really CSV, give it a .csv extension",
    )


# --------------------------------------------------------------------------------------------
# A data set that stays on disk: its schema, its size and a uniform sample, without a full read

# DuckDB's settings for the few queries the readers run: bounded memory, spills to a temp folder.
DUCKDB_MEMORY_LIMIT = "1GB"


# DuckDB's column type names (DESCRIBE), for checks without reading the data.
DUCKDB_INTEGER_TYPES = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
)
DUCKDB_NUMBER_TYPES = (*DUCKDB_INTEGER_TYPES, "FLOAT", "DOUBLE", "BOOLEAN")


def duckdb_connection(
    temp_directory: str | Path,
    *,
    threads: int | None = None,
    database: str = ":memory:",
    memory_limit: str | None = None,
):
    """A DuckDB connection with a memory limit (default :data:`DUCKDB_MEMORY_LIMIT`), a spill
    folder and the session time zone UTC (timestamps without a zone are read as UTC, as the
    loader does). ``database``: a file for tables larger than the memory limit (an in-memory
    database cannot move them to disk)."""
    import duckdb

    config: dict[str, object] = {
        "memory_limit": memory_limit or DUCKDB_MEMORY_LIMIT,
        "temp_directory": str(temp_directory),
        "preserve_insertion_order": False,
    }
    if threads is not None:
        config["threads"] = int(threads)
    con = duckdb.connect(database, config=config)
    con.execute("LOAD icu")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")  # it writes to stdout; callers report progress
    return con


def scan_sql(paths: Sequence[Path]) -> str:
    """The DuckDB table function reading ``paths`` (all Parquet or all CSV) as one table."""
    listed = "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"
    if table_format(str(paths[0])) == "parquet":
        return f"read_parquet({listed})"
    return f"read_csv({listed}, union_by_name = true)"


@contextmanager
def columnar(paths: Sequence[Path]) -> Iterator[list[Path]]:
    """``paths`` themselves when they are Parquet; CSV files copied once by DuckDB into one
    temporary Parquet file (removed on exit), with DuckDB's types and the files' row order.

    Why: DuckDB parses a CSV again on every scan, and the training reference scans its data
    once per column (order statistics, category counts): one parse and then columnar reads
    is several times faster. The copy streams, spilling to disk past the memory limit."""
    if table_format(str(paths[0])) == "parquet":
        yield list(paths)
        return
    with tempfile.TemporaryDirectory(prefix="prodready-columnar-") as temp:
        target = Path(temp) / "data.parquet"
        con = duckdb_connection(temp)
        try:
            con.execute("SET preserve_insertion_order = true")  # the same rows in the same order
            quoted = str(target).replace("'", "''")
            con.execute(f"COPY (SELECT * FROM {scan_sql(paths)}) TO '{quoted}' (FORMAT parquet)")
        finally:
            con.close()
        yield [target]


def check_tables(paths: Sequence[Path], *, name: str, names: Sequence[str]) -> list[str]:
    """What :func:`read_tables` checks before reading any data (one format, every file present,
    not empty, CSV in UTF-8, readable, with the same columns); returns the first file's column
    names."""
    kinds = {table_format(n) for n in names}
    if len(kinds) > 1:
        read_tables(paths, name=name, names=names)  # raises the mixed-formats error
    for path, shown in zip(paths, names, strict=True):
        if not path.exists():
            raise DataError(
                "the file does not exist",
                where=shown,
                fix="check the path (in a case file it is relative to the case file) "
                "and that the file was copied with the case",
            )
        if path.is_dir():
            raise DataError(
                "this is a folder, not a data file",
                where=shown,
                expected="a .csv or .parquet file",
                fix="point the case at the file inside the folder",
            )
        _check_file(path, shown)
        if table_format(shown) == "csv":
            check_utf8(path, shown)
    first = table_columns(paths[0], name=names[0])
    for path, shown in zip(paths[1:], names[1:], strict=True):
        columns = table_columns(path, name=shown)
        if set(columns) != set(first):
            missing = [c for c in first if c not in columns]
            extra = [c for c in columns if c not in first]
            found = "; ".join(
                part
                for part in (
                    f"missing {', '.join(map(repr, missing))}" if missing else "",
                    f"extra {', '.join(map(repr, extra))}" if extra else "",
                )
                if part
            )
            raise DataError(
                f"{shown} does not have the same columns as {names[0]}",
                where=name,
                expected=f"the columns of {names[0]} in every file",
                found=f"{shown}: {found}",
                fix="export every file with the same columns, or narrow the pattern to the "
                "files that belong together",
            )
    return first


def table_rows(paths: Sequence[Path], *, names: Sequence[str], con=None) -> list[int]:
    """Rows per file: Parquet from the footers (no data read); CSV by one DuckDB scan."""
    out = []
    for path, shown in zip(paths, names, strict=True):
        if table_format(shown) == "parquet":
            try:
                out.append(int(pq.read_metadata(path).num_rows))
            except (pa.ArrowException, OSError, ValueError) as exc:
                raise _unreadable_parquet(exc, shown) from None
        else:
            out.append(int(con.execute(f"SELECT count(*) FROM {scan_sql([path])}").fetchone()[0]))
    return out


def parquet_column_stats(paths: Sequence[Path], columns: Sequence[str]) -> dict[str, dict]:
    """Per column, from the row groups' statistics (footers only): ``nulls`` (None when some
    row group has no statistics), ``min`` and ``max`` (None when unknown)."""
    out: dict[str, dict] = {c: {"nulls": 0, "min": None, "max": None} for c in columns}
    for path in paths:
        meta = pq.read_metadata(path)
        index = {meta.schema.column(i).name: i for i in range(meta.num_columns)}
        for group in range(meta.num_row_groups):
            row_group = meta.row_group(group)
            for name in columns:
                found = out[name]
                stats = row_group.column(index[name]).statistics if name in index else None
                if stats is None:
                    found["nulls"] = None
                    found["known_range"] = False
                    continue
                if found["nulls"] is not None:
                    found["nulls"] = (
                        None if stats.null_count is None else found["nulls"] + int(stats.null_count)
                    )
                if stats.has_min_max and found.get("known_range", True):
                    low, high = stats.min, stats.max
                    found["min"] = low if found["min"] is None else min(found["min"], low)
                    found["max"] = high if found["max"] is None else max(found["max"], high)
                elif row_group.num_rows > (stats.null_count or 0):
                    found["known_range"] = False
    for found in out.values():
        if not found.pop("known_range", True):
            found["min"] = found["max"] = None
    return out


def sample_tables(
    paths: Sequence[Path],
    *,
    name: str,
    names: Sequence[str],
    rows: Sequence[int],
    sample_rows: int,
    seed: int,
    con=None,
) -> pd.DataFrame:
    """A uniform random sample of ``sample_rows`` rows of the files (all rows when they hold
    fewer: then exactly :func:`read_tables`), in file order; the same ``seed`` gives the same rows.

    Parquet: the row numbers are drawn with ``numpy.random.default_rng(seed)`` (without
    replacement) and the files are streamed batch by batch, keeping only the drawn rows, so
    memory is bounded by the sample plus one batch, and the sample does not depend on threads.
    CSV: DuckDB's ``USING SAMPLE reservoir(n ROWS) REPEATABLE (seed)`` on one thread (``con``).
    """
    total = int(sum(rows))
    if sample_rows >= total:
        return read_tables(paths, name=name, names=names)
    if table_format(names[0]) == "csv":
        con.execute("SET threads = 1")  # the reservoir is reproducible on one thread only
        query = (
            f"SELECT * FROM {scan_sql(paths)} "
            f"USING SAMPLE reservoir({int(sample_rows)} ROWS) REPEATABLE ({int(seed)})"
        )
        relation = con.sql(query)
        fetch = getattr(relation, "to_arrow_table", None) or relation.arrow  # duckdb < 1.1
        frame = fetch().to_pandas()
        con.execute("RESET threads")
        return frame
    chosen = np.sort(np.random.default_rng(seed).choice(total, size=sample_rows, replace=False))
    starts = np.concatenate(([0], np.cumsum(rows)))
    columns = table_columns(paths[0], name=names[0])
    pieces = []
    for number, (path, shown) in enumerate(zip(paths, names, strict=True)):
        low, high = np.searchsorted(chosen, [starts[number], starts[number + 1]])
        wanted = chosen[low:high] - starts[number]
        if not wanted.size:
            continue
        try:
            reader = pq.ParquetFile(path)
            offset = 0
            for batch in reader.iter_batches(batch_size=1 << 17, columns=columns):
                a, b = np.searchsorted(wanted, [offset, offset + batch.num_rows])
                if b > a:
                    pieces.append(pa.Table.from_batches([batch.take(wanted[a:b] - offset)]))
                offset += batch.num_rows
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise _unreadable_parquet(exc, shown) from None
    try:
        table = pa.concat_tables(pieces, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise DataError(
            "a column has incompatible types in different files",
            where=name,
            found=first_line(exc),
            fix="export every file with the same column types (e.g. cast the column in the "
            "query that writes the files)",
        ) from None
    del pieces
    frame = table.to_pandas()
    del table
    pa.default_memory_pool().release_unused()
    return frame
