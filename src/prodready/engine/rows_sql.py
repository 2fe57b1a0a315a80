"""Row-level skew in SQL: the training data joined on the id column with the serving log, and
the small queries the lazy skew audit needs on that log. The queries are built once, for a
:class:`~prodready.engine.sql.Dialect`, and run on DuckDB (:func:`compare_rows`: a frame in
memory or files, joined with a serving log that stays on disk) or on Spark
(:func:`prodready.engine.rows_spark.compare_rows_spark`: tables in a cluster), so both engines
count by the same text.

The rules are those of :mod:`prodready.skew.rows`, written in SQL (every comparison in double
precision, in the same order of operations as numpy, so the counts are the same):

- ids are compared as text (``CAST(id AS VARCHAR)``, as the loader's ``astype("str")``);
- numeric values (read as ``DOUBLE``; ``NULL`` and ``NaN`` are missing) match when
  ``abs(serving - training) <= atol + rtol * abs(training)`` (``numpy.isclose(serving,
  training)``; two infinities match when equal); categorical values match when their text is
  equal (text columns as they are, integers as their digits, booleans as ``True``/``False``,
  as the loader reads them); both missing match, one missing is a mismatch;
- ratios = serving / training over mismatched pairs with both values present and non-zero,
  finite ratios only; their median is the engine's exact ``median`` (the mean of the two middle
  ratios, as ``numpy.median``); the shares that decide a unit hint (the ratios within a
  tolerance of each known factor and of the median) are counted over all of them.

What differs between the dialects stays in small helpers: identifier quoting, the text type
(``VARCHAR`` / ``STRING``), division (Spark's ANSI mode fails on a division by zero that the
query's own guard rules out, so it divides with ``try_divide``), how the joined rows are kept (a
DuckDB table on disk; a cached Spark view) and how the first rows of each pick are kept (see
:func:`_picked_rows`). Infinity is tested as ``abs(x) = CAST('Infinity' AS DOUBLE)`` in both
(Spark has no ``isinf``). The whole comparison is four statements: a Spark job costs about a
second of scheduling whatever its size, so the counts share one scan of the joined rows.

Only aggregates come back to Python, plus ``examples`` mismatched pairs and at most ``max_pairs``
pairs per feature for the scatter chart, picked by the engine's ``hash`` of the id and the seed
(reproducible; not the same rows as the in-memory audit's random pick, nor the same rows on
DuckDB and Spark, whose hash functions differ). DuckDB runs with a memory limit and spills to a
temporary folder.
"""

from __future__ import annotations

import functools
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from prodready.data.readers import duckdb_connection, scan_sql
from prodready.engine.sql import DUCKDB, Dialect, is_finite, is_infinite, is_missing
from prodready.errors import DataError, first_line

JOIN_MEMORY_LIMIT = "2GB"
"""DuckDB's memory for the id join (it runs after the profiles, alone): its hash join spills to
disk, but at 1 GB the join of 100M serving rows with 100M training rows (15M shared ids) still
ran out; at 2 GB it finished in 220 s with the whole process under 2.7 GB (measured)."""

__all__ = [
    "JoinEngine",
    "JoinedRows",
    "compare_rows",
    "serving_labels",
    "serving_schema",
    "text_sql",
]

Rows = Callable[[str], list[tuple[Any, ...]]]
"""Run one SQL statement, give its rows as tuples (none for a statement without a result)."""


def _quote(name: str, dialect: Dialect = DUCKDB) -> str:
    return dialect.quote(name)


def _double(value: float) -> str:
    """A float as a double, exactly (a bare 0.5 would be a DECIMAL in both dialects)."""
    return f"CAST('{float(value)!r}' AS DOUBLE)"


def _text_type(dialect: Dialect) -> str:
    """The text type a cast names: Spark's ``VARCHAR`` needs a length, ``STRING`` does not."""
    return "VARCHAR" if dialect == DUCKDB else "STRING"


def _divide(dialect: Dialect, s: str, t: str) -> str:
    """``s / t``. The queries only divide where ``t <> 0``, but Spark (ANSI mode) may evaluate
    the quotient before that guard and would fail on a zero: ``try_divide`` gives NULL there."""
    return f"({s} / {t})" if dialect == DUCKDB else f"try_divide({s}, {t})"


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


def text_sql(column: str, kind: str, dialect: Dialect = DUCKDB) -> str:
    """A categorical column as the loader's text: as is, digits, or ``True``/``False``.

    ``kind`` is the column's type in DuckDB's words (``BOOLEAN``, ``VARCHAR``, ``BIGINT``, ...;
    the Spark engine names its types the same way); any other kind is cast to text."""
    q = _quote(column, dialect)
    if kind == "BOOLEAN":
        return f"(CASE WHEN {q} THEN 'True' WHEN NOT {q} THEN 'False' END)"
    if kind in ("VARCHAR",):
        return q
    return f"CAST({q} AS {_text_type(dialect)})"


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


@dataclass(frozen=True)
class JoinEngine:
    """Where the id join runs: the dialect its SQL is written in, ``rows`` ("run this SQL, give
    its rows") and the name the joined rows are kept under while the counts are taken."""

    dialect: Dialect
    rows: Rows
    joined: str = "prodready_joined"

    def keep(self, query: str) -> None:
        """Keep ``query``'s rows as :attr:`joined`, read once per count instead of joined again:
        a DuckDB table (in the connection's database file, so it may be larger than memory) or
        a cached Spark temporary view (memory, then disk)."""
        verb = "CREATE TABLE" if self.dialect == DUCKDB else "CACHE TABLE"
        self.rows(f"{verb} {self.joined} AS {query}")

    def one(self, query: str) -> tuple[Any, ...]:
        """The single row of an aggregate query."""
        return self.rows(query)[0]


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
            engine = JoinEngine(DUCKDB, lambda query: con.execute(query).fetchall())
            return _compare(engine, left, right, **options)
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
    """One data set of the join: what to select from, and its column types (DuckDB's words)."""

    source: str  # a registered frame's or view's name, or a scan of files
    schema: dict[str, str]

    def columns(
        self, names: Sequence[str], kinds: dict[str, str], prefix: str, dialect: Dialect
    ) -> str:
        return "".join(
            f", CAST({_quote(n, dialect)} AS DOUBLE) AS {prefix}{i}"
            if kinds[n] == "numeric"
            else f", {text_sql(n, self.schema[n], dialect)} AS {prefix}{i}"
            for i, n in enumerate(names)
        )


def _missing(x: str, kind: str) -> str:
    return is_missing(x) if kind == "numeric" else f"({x} IS NULL)"


def _equal(t: str, s: str, kind: str, rtol: float, atol: float) -> str:
    tm, sm = _missing(t, kind), _missing(s, kind)
    if kind == "numeric":
        same = (
            f"CASE WHEN {is_infinite(t)} OR {is_infinite(s)} THEN {s} = {t} "
            f"ELSE abs({s} - {t}) <= {_double(atol)} + {_double(rtol)} * abs({t}) END"
        )
    else:
        same = f"{t} = {s}"
    return f"(CASE WHEN {tm} AND {sm} THEN TRUE WHEN {tm} OR {sm} THEN FALSE ELSE {same} END)"


def _ratio(dialect: Dialect, t: str, s: str, equal: str) -> str:
    """serving / training on a mismatched pair (``equal`` false) with both values present and
    non-zero, when that ratio is finite; NULL on every other row (so ``count`` and ``median``
    of it take exactly the ratio rows)."""
    ratio = _divide(dialect, s, t)
    both = f"NOT {_missing(t, 'numeric')} AND NOT {_missing(s, 'numeric')}"
    return (
        f"(CASE WHEN NOT {equal} AND {both} AND {t} <> 0 AND {s} <> 0 "
        f"AND {is_finite(ratio)} THEN {ratio} END)"
    )


def _compared(
    dialect: Dialect,
    joined: str,
    names: Sequence[str],
    kinds: dict[str, str],
    rtol: float,
    atol: float,
) -> str:
    """The joined rows with, per feature ``i``, ``e{i}`` (the pair matches) and, for a numeric
    one, ``r{i}`` (its ratio or NULL): each rule is written once per feature, not once per
    count that needs it (Spark takes seconds to plan and compile the repeated rules)."""
    equal = "".join(
        f", {_equal(f't{i}', f's{i}', kinds[n], rtol, atol)} AS e{i}" for i, n in enumerate(names)
    )
    ratios = "".join(
        f", {_ratio(dialect, f't{i}', f's{i}', f'e{i}')} AS r{i}"
        for i, n in enumerate(names)
        if kinds[n] == "numeric"
    )
    return f"(SELECT *{ratios} FROM (SELECT *{equal} FROM {joined}) AS e) AS c"


def _ratio_counts_sql(column: int, factors: Sequence[float], tolerance: float) -> list[str]:
    """Per factor, the ratios ``r{column}`` within ``tolerance`` of it (``abs(ratio / factor -
    1) <= tolerance``, as numpy computes it), as ``k{column}_{j}``."""
    return [
        f"count(*) FILTER (WHERE abs(r{column} / {_double(f)} - 1) <= {_double(tolerance)}) "
        f"AS k{column}_{j}"
        for j, f in enumerate(factors)
    ]


def _countable(factors: Sequence[float]) -> list[float]:
    return [f for f in factors if f == f and f != 0]  # NaN or 0: nothing to count


def _named(engine: JoinEngine, parts: Sequence[str], source: str) -> dict[str, Any]:
    """One row of aggregates ``parts`` (each ``... AS name``) over ``source``, by name."""
    found = engine.one(f"SELECT {', '.join(parts)} FROM {source}")
    return dict(zip([p.rsplit(" AS ", 1)[1] for p in parts], found, strict=True))


def _compare(
    engine: JoinEngine,
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
    """The join and every count, on either engine (``engine`` runs its dialect's SQL), in four
    statements: the join kept; its size, both time spans and every count and median; the
    unit-hint shares; the example and scatter rows."""
    dialect, joined_rows = engine.dialect, engine.joined
    names = [name for name, _ in features]
    kinds = dict(features)
    ts = _quote(timestamp, dialect)

    def side(part: _Side, prefix: str) -> str:
        return (
            f"(SELECT CAST({_quote(id_column, dialect)} AS {_text_type(dialect)}) AS _id, "
            f"{ts} AS _ts{part.columns(names, kinds, prefix, dialect)} FROM {part.source})"
        )

    engine.keep(
        "SELECT t._id AS _id, t._ts AS _ts_t, s._ts AS _ts_s"
        + "".join(f", t{i}, s{i}" for i in range(len(names)))
        + f" FROM {side(left, 't')} AS t JOIN {side(right, 's')} AS s ON t._id = s._id"
    )

    # ids in one set only are counted inside the time span both sets cover (NULL: none)
    def bounds(part: _Side) -> str:
        return f"(SELECT min({ts}) AS low, max({ts}) AS high FROM {part.source})"

    span = (
        "WITH span AS (SELECT CASE WHEN l.low IS NULL OR r.low IS NULL THEN NULL "
        "ELSE greatest(l.low, r.low) END AS low, CASE WHEN l.high IS NULL OR r.high IS NULL "
        f"THEN NULL ELSE least(l.high, r.high) END AS high FROM {bounds(left)} AS l "
        f"CROSS JOIN {bounds(right)} AS r)"
    )
    parts = [
        "count(*) AS joined",
        "count(*) FILTER (WHERE _ts_t BETWEEN span.low AND span.high) AS shared_t",
        "count(*) FILTER (WHERE _ts_s BETWEEN span.low AND span.high) AS shared_s",
    ]
    for i, name in enumerate(names):
        t, s, kind = f"t{i}", f"s{i}", kinds[name]
        tm, sm = _missing(t, kind), _missing(s, kind)
        parts.append(f"count(*) FILTER (WHERE e{i}) AS matches{i}")
        parts.append(f"count(*) FILTER (WHERE {tm} AND NOT {sm}) AS mot{i}")
        parts.append(f"count(*) FILTER (WHERE {sm} AND NOT {tm}) AS mos{i}")
        if kind == "numeric":
            parts.append(f"count(*) FILTER (WHERE NOT e{i} AND NOT {tm} AND NOT {sm}) AS differ{i}")
            parts.append(f"count(r{i}) AS ratios{i}")
            parts.append(f"median(r{i}) AS median{i}")
    compared = _compared(dialect, joined_rows, names, kinds, rtol, atol)
    sides = "".join(
        f" CROSS JOIN (SELECT count(*) AS {alias} FROM {part.source} AS d CROSS JOIN span "
        f"WHERE d.{ts} BETWEEN span.low AND span.high) AS {alias}"
        for alias, part in (("in_train", left), ("in_serve", right))
    )
    found = engine.one(
        f"{span} SELECT * FROM (SELECT {', '.join(parts)} FROM {compared} CROSS JOIN span) "
        f"AS q{sides}"
    )
    aliases = [p.rsplit(" AS ", 1)[1] for p in parts] + ["in_train", "in_serve"]
    values: dict[str, Any] = dict(zip(aliases, found, strict=True))
    joined = int(values["joined"])
    if joined == 0:
        return None
    only_training = int(values["in_train"]) - int(values["shared_t"])
    only_serving = int(values["in_serve"]) - int(values["shared_s"])

    rows = []
    hinted: dict[int, list[float]] = {}
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
            hinted[i] = _countable([*unique_factors, row["median_ratio"]])
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

    counts: dict[str, dict[float, int]] = {}
    counted = [p for i, fs in hinted.items() for p in _ratio_counts_sql(i, fs, tolerance)]
    near = _named(engine, counted, compared) if counted else {}
    for i, fs in hinted.items():
        counts[names[i]] = {float(f): int(near[f"k{i}_{j}"]) for j, f in enumerate(fs)}

    picked = _picked_rows(engine, names, kinds, rtol, atol, examples, seed, max_pairs)
    example_parts, pair_parts = [], []
    for i, name in enumerate(names):
        numeric = kinds[name] == "numeric"
        chosen = sorted(picked.get((i, 0), []), key=lambda r: r[0])
        example_parts.append(
            pd.DataFrame(
                {
                    "feature": name,
                    "id": [r[0] for r in chosen],
                    "training": pd.Series([r[1 if numeric else 3] for r in chosen], dtype=object),
                    "serving": pd.Series([r[2 if numeric else 4] for r in chosen], dtype=object),
                }
            )
        )
        if numeric:
            got = sorted(picked.get((i, 1), []), key=lambda r: r[0])
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


def _picked_rows(
    engine: JoinEngine,
    names: Sequence[str],
    kinds: dict[str, str],
    rtol: float,
    atol: float,
    examples: int,
    seed: int,
    max_pairs: int,
) -> dict[tuple[int, int], list[tuple[Any, ...]]]:
    """``(feature number, 0)`` -> up to ``examples`` mismatched pairs, ``(feature number, 1)``
    -> up to ``max_pairs`` pairs with both values finite (numeric features), each row ``(id,
    training, serving)`` as numbers then ``(training, serving)`` as text: the rows with the
    smallest ``hash(id, seed, feature number)`` (then id), in one query.

    Both dialects pick by the same rules from the same candidates (a part's ``WHERE``); they
    differ in how the first rows are kept. DuckDB: a top-k per part (a pass over the joined
    rows each, with a small heap). Spark: every part from one pass over the joined rows
    (``stack``), ranked with ``row_number()`` in one shuffle: a top-k per part would be a
    scan and a shuffle stage each, three to four times slower in all (measured on the card
    sample); Spark keeps each partition's first rows per part before the shuffle (see
    ``rows_spark.GROUP_LIMIT``)."""
    dialect, joined = engine.dialect, engine.joined
    no_number, no_text = "CAST(NULL AS DOUBLE)", f"CAST(NULL AS {_text_type(dialect)})"
    columns = ("k", "part", "tn", "sn", "tc", "sc", "h")
    limits: dict[tuple[int, int], int] = {}  # (feature number, part) -> rows to keep
    values: list[list[str]] = []  # each part's ``columns``, in the order of ``limits``
    wheres: list[str] = []  # each part's candidates
    for i, name in enumerate(names):
        t, s = f"t{i}", f"s{i}"
        numeric = kinds[name] == "numeric"
        numbers, texts = ((t, s), (no_text, no_text)) if numeric else ((no_number,) * 2, (t, s))
        wanted = [(0, f"NOT {_equal(t, s, kinds[name], rtol, atol)}", examples)]
        if numeric:
            wanted.append((1, f"{is_finite(t)} AND {is_finite(s)}", max_pairs))
        for part, where, limit in wanted:
            limits[(i, part)] = max(int(limit), 0)
            values.append([str(i), str(part), *numbers, *texts, f"hash(_id, {int(seed)}, {i})"])
            wheres.append(where)
    if not values:
        return {}
    if dialect == DUCKDB:  # rows: k, part, _id, tn, sn, tc, sc, h
        query = " UNION ALL ".join(
            f"(SELECT {row[0]} AS k, {row[1]} AS part, _id, "
            + ", ".join(f"{v} AS {c}" for v, c in zip(row[2:], columns[2:], strict=True))
            + f" FROM {joined} WHERE {where} ORDER BY h, _id LIMIT {n})"
            for row, where, n in zip(values, wheres, limits.values(), strict=True)
        )
    else:  # rows: k, part, _id, tn, sn, tc, sc, rn
        stacked = ", ".join(
            f"{p}, {', '.join(row)}, {where}"
            for p, (row, where) in enumerate(zip(values, wheres, strict=True))
        )
        # a literal bound lets Spark keep each partition's first rows per part (a window
        # group limit) before the shuffle; each part's own bound is applied below
        query = (
            "SELECT k, part, _id, tn, sn, tc, sc, rn FROM (SELECT *, row_number() OVER "
            "(PARTITION BY p ORDER BY h, _id) AS rn FROM (SELECT _id, p, "
            f"{', '.join(columns)} FROM {joined} LATERAL VIEW stack({len(values)}, {stacked}) "
            f"st AS p, {', '.join(columns)}, wanted WHERE wanted) AS u) AS w "
            f"WHERE rn <= {max(limits.values())}"
        )
    out: dict[tuple[int, int], list[tuple[Any, ...]]] = {}
    for k, part, *row in engine.rows(query):
        key = (int(k), int(part))
        if dialect == DUCKDB or row[5] <= limits[key]:
            out.setdefault(key, []).append(tuple(row[:5]))
    return out
