"""Row-level skew with DuckDB: the training data (a frame in memory, or its files) joined on the
id column with a serving log that stays on disk, and the small queries the lazy skew audit needs
on that log.

The rules are those of :mod:`prodready.skew.rows`, written in SQL (every comparison in double
precision, in the same order of operations as numpy, so the counts are the same):

- ids are compared as text (``CAST(id AS VARCHAR)``, as the loader's ``astype("str")``);
- numeric values (read as ``DOUBLE``; ``NULL`` and ``NaN`` are missing) match when
  ``abs(serving - training) <= atol + rtol * abs(training)`` (``numpy.isclose(serving,
  training)``; two infinities match when equal); categorical values match when their text is
  equal (text columns as they are, integers as their digits, booleans as ``True``/``False``,
  as the loader reads them); both missing match, one missing is a mismatch;
- ratios = serving / training over mismatched pairs with both values present and non-zero,
  finite ratios only; their median is DuckDB's ``median`` (the mean of the two middle ratios,
  as ``numpy.median``, up to the last bit); the shares that decide a unit hint are counted
  over all of them (:func:`ratio_counts`).

Only aggregates come back to Python, plus ``examples`` mismatched pairs and at most ``max_pairs``
pairs per feature for the scatter chart, picked by a hash of the id and the seed (reproducible;
not the same rows as the in-memory audit's random pick). DuckDB runs with a 1 GB memory limit
and spills to a temporary folder.
"""

from __future__ import annotations

import functools
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from prodready.data.readers import duckdb_connection, scan_sql
from prodready.errors import DataError, first_line

JOIN_MEMORY_LIMIT = "2GB"
"""DuckDB's memory for the id join (it runs after the profiles, alone): its hash join spills to
disk, but at 1 GB the join of 100M serving rows with 100M training rows (15M shared ids) still
ran out; at 2 GB it finished in 220 s with the whole process under 2.7 GB (measured)."""

__all__ = [
    "JoinedRows",
    "compare_rows",
    "ratio_counts",
    "serving_labels",
    "serving_schema",
]


def _quote(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def _double(value: float) -> str:
    """A float as a DuckDB double, exactly (a bare 0.5 would be a DECIMAL)."""
    return f"CAST('{float(value)!r}' AS DOUBLE)"


def serving_schema(files: Sequence[Path]) -> dict[str, str]:
    """Column name -> DuckDB type of the files read together (footers / CSV sniffing only).

    Remembered per list of files while none of them changes (size and modification time): an
    audit asks for the same files' types several times, at tens of milliseconds a time."""
    stamps = tuple((str(f), s.st_size, s.st_mtime_ns) for f in files for s in [Path(f).stat()])
    return dict(_schema(stamps))


@functools.lru_cache(maxsize=64)
def _schema(stamps: tuple[tuple[str, int, int], ...]) -> tuple[tuple[str, str], ...]:
    with tempfile.TemporaryDirectory(prefix="prodready-rows-") as temp:
        con = duckdb_connection(temp)
        try:
            paths = [Path(name) for name, _, _ in stamps]
            rows = con.execute(f"DESCRIBE SELECT * FROM {scan_sql(paths)}").fetchall()
        finally:
            con.close()
    return tuple((row[0], str(row[1])) for row in rows)


def text_sql(column: str, kind: str) -> str:
    """A categorical column as the loader's text: as is, digits, or ``True``/``False``."""
    q = _quote(column)
    if kind == "BOOLEAN":
        return f"(CASE WHEN {q} THEN 'True' WHEN NOT {q} THEN 'False' END)"
    if kind in ("VARCHAR",):
        return q
    return f"CAST({q} AS VARCHAR)"


def serving_labels(files: Sequence[Path], columns: Sequence[str]) -> dict[str, list[str]]:
    """The distinct labels (as the loader's text) of each categorical column of the files."""
    schema = serving_schema(files)
    out: dict[str, list[str]] = {}
    with tempfile.TemporaryDirectory(prefix="prodready-rows-") as temp:
        con = duckdb_connection(temp)
        try:
            for name in columns:
                text = text_sql(name, schema[name])
                query = (
                    f"SELECT DISTINCT {text} AS label FROM {scan_sql(list(files))} "
                    f"WHERE {_quote(name)} IS NOT NULL"
                )
                out[name] = [row[0] for row in con.execute(query).fetchall()]
        finally:
            con.close()
    return out


@dataclass(frozen=True)
class JoinedRows:
    """What :func:`compare_rows` found: counts per feature and the chart / example rows."""

    joined: int
    only_training: int
    only_serving: int
    features: pd.DataFrame  # index feature: matches, missing_only_*, differ, ratios, median_ratio
    ratio_counts: dict[str, dict[float, int]]  # feature -> factor -> ratios within tolerance
    examples: pd.DataFrame  # feature, id, training, serving (raw values)
    pairs: pd.DataFrame  # feature, training, serving (floats)


def compare_rows(
    training: pd.DataFrame | Sequence[Path],
    files: Sequence[Path],
    *,
    id_column: str,
    timestamp: str,
    features: Sequence[tuple[str, str]],
    rtol: float,
    atol: float,
    examples: int,
    seed: int,
    max_pairs: int,
    factors: Sequence[float],
    tolerance: float,
    min_ratios: int,
) -> JoinedRows | None:
    """Join ``training`` (canonical, in memory; or its files, when only a sample of it is in
    memory) with the serving ``files`` on ``id_column`` and compare each of ``features``
    (``(name, "numeric" | "categorical")``, present in both) row by row; None when no id is
    shared. ``factors``: the ratios whose share within ``tolerance`` is counted for the unit
    hint (for features with at least ``min_ratios`` ratios)."""
    files = [Path(f) for f in files]
    options = {
        "id_column": id_column,
        "timestamp": timestamp,
        "features": features,
        "rtol": rtol,
        "atol": atol,
        "examples": examples,
        "seed": seed,
        "max_pairs": max_pairs,
        "factors": factors,
        "tolerance": tolerance,
        "min_ratios": min_ratios,
    }
    import duckdb

    with tempfile.TemporaryDirectory(prefix="prodready-rows-") as temp:
        # the joined rows are a table on disk (15M shared ids at 100M rows: about 4 GB)
        database = str(Path(temp) / "rows.duckdb")
        con = duckdb_connection(temp, database=database, memory_limit=JOIN_MEMORY_LIMIT)
        try:
            if isinstance(training, pd.DataFrame):
                names = [id_column, timestamp, *(name for name, _ in features)]
                con.register("prodready_training", training[names])
                # the loader's frame holds categorical values as text: cast, never reformat
                left = _Side("prodready_training", dict.fromkeys(names, "TEXT"))
            else:
                left = _Side(scan_sql([Path(f) for f in training]), serving_schema(training))
            right = _Side(scan_sql(files), serving_schema(files))
            return _compare(con, left, right, **options)
        except duckdb.OutOfMemoryException as err:
            raise DataError(
                f"DuckDB ran out of its memory limit ({JOIN_MEMORY_LIMIT}) joining the training "
                f"data and the serving log on {id_column!r}",
                where=f"{len(files)} serving file(s)",
                found=first_line(err),
                fix="free memory or disk space for DuckDB's spill folder (the system's temporary "
                "folder), or audit a sample of the log",
            ) from err
        finally:
            con.close()


@dataclass(frozen=True)
class _Side:
    """One data set of the join: what to select from, and its column types."""

    source: str  # a registered frame's name or a scan of files
    schema: dict[str, str]

    def columns(self, names: Sequence[str], kinds: dict[str, str], prefix: str) -> str:
        return "".join(
            f", CAST({_quote(n)} AS DOUBLE) AS {prefix}{i}"
            if kinds[n] == "numeric"
            else f", {text_sql(n, self.schema[n])} AS {prefix}{i}"
            for i, n in enumerate(names)
        )


def _missing(x: str, kind: str) -> str:
    return f"({x} IS NULL OR isnan({x}))" if kind == "numeric" else f"({x} IS NULL)"


def _equal(t: str, s: str, kind: str, rtol: float, atol: float) -> str:
    tm, sm = _missing(t, kind), _missing(s, kind)
    if kind == "numeric":
        same = (
            f"CASE WHEN isinf({t}) OR isinf({s}) THEN {s} = {t} "
            f"ELSE abs({s} - {t}) <= {_double(atol)} + {_double(rtol)} * abs({t}) END"
        )
    else:
        same = f"{t} = {s}"
    return f"(CASE WHEN {tm} AND {sm} THEN TRUE WHEN {tm} OR {sm} THEN FALSE ELSE {same} END)"


def _ratio_rows(t: str, s: str, rtol: float, atol: float) -> str:
    """Mismatched pairs, both present and non-zero, with a finite ratio."""
    both = f"NOT {_missing(t, 'numeric')} AND NOT {_missing(s, 'numeric')}"
    return (
        f"(NOT {_equal(t, s, 'numeric', rtol, atol)} AND {both} AND {t} <> 0 AND {s} <> 0 "
        f"AND isfinite({s} / {t}))"
    )


def _utc(value) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tz is None else stamp.tz_convert("UTC")


def _compare(
    con,
    left: _Side,
    right: _Side,
    *,
    id_column: str,
    timestamp: str,
    features: Sequence[tuple[str, str]],
    rtol: float,
    atol: float,
    examples: int,
    seed: int,
    max_pairs: int,
    factors: Sequence[float],
    tolerance: float,
    min_ratios: int,
) -> JoinedRows | None:
    names = [name for name, _ in features]
    kinds = dict(features)
    ts = _quote(timestamp)

    def side(part: _Side, prefix: str) -> str:
        return (
            f"(SELECT CAST({_quote(id_column)} AS VARCHAR) AS _id, {ts} AS _ts"
            f"{part.columns(names, kinds, prefix)} FROM {part.source})"
        )

    con.execute(
        "CREATE TABLE prodready_joined AS "
        "SELECT t._id AS _id, t._ts AS _ts_t, s._ts AS _ts_s"
        + "".join(f", t{i}, s{i}" for i in range(len(names)))
        + f" FROM {side(left, 't')} AS t JOIN {side(right, 's')} AS s ON t._id = s._id"
    )
    joined = int(con.execute("SELECT count(*) FROM prodready_joined").fetchone()[0])
    if joined == 0:
        return None

    # ids in one set only, inside the time span both sets cover
    t_low, t_high = con.execute(f"SELECT min({ts}), max({ts}) FROM {left.source}").fetchone()
    s_low, s_high = con.execute(f"SELECT min({ts}), max({ts}) FROM {right.source}").fetchone()
    start, end = max(_utc(t_low), _utc(s_low)), min(_utc(t_high), _utc(s_high))
    only_training = only_serving = 0
    if start <= end:
        span = [start.to_pydatetime(), end.to_pydatetime()]
        in_train, in_serve = (
            con.execute(
                f"SELECT count(*) FROM {part.source} WHERE {ts} BETWEEN ? AND ?", span
            ).fetchone()[0]
            for part in (left, right)
        )
        shared_t, shared_s = con.execute(
            "SELECT count(*) FILTER (WHERE _ts_t BETWEEN $1 AND $2), "
            "count(*) FILTER (WHERE _ts_s BETWEEN $1 AND $2) FROM prodready_joined",
            span,
        ).fetchone()
        only_training = int(in_train) - int(shared_t)
        only_serving = int(in_serve) - int(shared_s)

    parts = []
    for i, name in enumerate(names):
        t, s, kind = f"t{i}", f"s{i}", kinds[name]
        tm, sm = _missing(t, kind), _missing(s, kind)
        parts.append(f"count(*) FILTER (WHERE {_equal(t, s, kind, rtol, atol)}) AS matches{i}")
        parts.append(f"count(*) FILTER (WHERE {tm} AND NOT {sm}) AS mot{i}")
        parts.append(f"count(*) FILTER (WHERE {sm} AND NOT {tm}) AS mos{i}")
        if kind == "numeric":
            differ = f"NOT {_equal(t, s, kind, rtol, atol)} AND NOT {tm} AND NOT {sm}"
            ratio = _ratio_rows(t, s, rtol, atol)
            parts.append(f"count(*) FILTER (WHERE {differ}) AS differ{i}")
            parts.append(f"count(*) FILTER (WHERE {ratio}) AS ratios{i}")
            parts.append(f"median({s} / {t}) FILTER (WHERE {ratio}) AS median{i}")
    found = (
        con.execute(f"SELECT {', '.join(parts)} FROM prodready_joined").fetchone() if parts else ()
    )
    values = dict(zip([p.rsplit(" AS ", 1)[1] for p in parts], found, strict=True))
    rows = []
    counts: dict[str, dict[float, int]] = {}
    unique_factors = sorted(set(factors))
    for i, name in enumerate(names):
        row = {
            "feature": name,
            "matches": int(values[f"matches{i}"]),
            "missing_only_training": int(values[f"mot{i}"]),
            "missing_only_serving": int(values[f"mos{i}"]),
            "differ": int(values.get(f"differ{i}", 0) or 0),
            "ratios": int(values.get(f"ratios{i}", 0) or 0),
            "median_ratio": values.get(f"median{i}"),
        }
        row["median_ratio"] = np.nan if row["median_ratio"] is None else float(row["median_ratio"])
        rows.append(row)
        if kinds[name] == "numeric" and row["ratios"] >= min_ratios:
            counts[name] = ratio_counts(
                con, i, [*unique_factors, row["median_ratio"]], tolerance, rtol, atol
            )
    table = pd.DataFrame(
        rows,
        columns=[
            "feature",
            "matches",
            "missing_only_training",
            "missing_only_serving",
            "differ",
            "ratios",
            "median_ratio",
        ],
    ).set_index("feature")

    example_parts, pair_parts = [], []
    for i, name in enumerate(names):
        t, s, kind = f"t{i}", f"s{i}", kinds[name]
        picked = con.execute(
            f"SELECT _id, {t}, {s} FROM prodready_joined "
            f"WHERE NOT {_equal(t, s, kind, rtol, atol)} "
            f"ORDER BY hash(_id, {int(seed)}, {i}), _id LIMIT {max(int(examples), 0)}"
        ).fetchall()
        picked.sort(key=lambda r: r[0])
        example_parts.append(
            pd.DataFrame(
                {
                    "feature": name,
                    "id": [r[0] for r in picked],
                    "training": pd.Series([r[1] for r in picked], dtype=object),
                    "serving": pd.Series([r[2] for r in picked], dtype=object),
                }
            )
        )
        if kind == "numeric":
            finite = f"isfinite({t}) AND isfinite({s})"
            got = con.execute(
                f"SELECT _id, {t}, {s} FROM prodready_joined WHERE {finite} "
                f"ORDER BY hash(_id, {int(seed)}, {i}), _id LIMIT {int(max_pairs)}"
            ).fetchall()
            got.sort(key=lambda r: r[0])
            pair_parts.append(
                pd.DataFrame(
                    {
                        "feature": name,
                        "training": np.array([r[1] for r in got], dtype="float64"),
                        "serving": np.array([r[2] for r in got], dtype="float64"),
                    }
                )
            )
    return JoinedRows(
        joined=joined,
        only_training=only_training,
        only_serving=only_serving,
        features=table,
        ratio_counts=counts,
        examples=pd.concat(example_parts, ignore_index=True) if example_parts else pd.DataFrame(),
        pairs=pd.concat(pair_parts, ignore_index=True) if pair_parts else pd.DataFrame(),
    )


def ratio_counts(
    con, column: int, factors: Sequence[float], tolerance: float, rtol: float, atol: float
) -> dict[float, int]:
    """For each factor, how many ratios of feature number ``column`` of the joined table lie
    within ``tolerance`` of it (``abs(ratio / factor - 1) <= tolerance``, as numpy computes it)."""
    t, s = f"t{column}", f"s{column}"
    factors = [f for f in factors if f == f and f != 0]  # NaN or 0: nothing to count
    if not factors:
        return {}
    counted = ", ".join(
        f"count(*) FILTER (WHERE abs(r / {_double(f)} - 1) <= {_double(tolerance)}) AS k{k}"
        for k, f in enumerate(factors)
    )
    found = con.execute(
        f"SELECT {counted} FROM (SELECT {s} / {t} AS r FROM prodready_joined "
        f"WHERE {_ratio_rows(t, s, rtol, atol)}) AS ratios"
    ).fetchone()
    return {float(f): int(n) for f, n in zip(factors, found, strict=True)}
