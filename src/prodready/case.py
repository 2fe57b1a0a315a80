"""The case: a validated description plus the training data and the serving log, ready to audit.

``load_case(path)`` reads a YAML case file and the data files it names; ``Case.from_frames``
builds the same object from frames already in memory (the app's uploads, a notebook). Both go
through the same validation, so an audit never sees data that breaks the contract.
"""

from __future__ import annotations

import glob
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import pyarrow as pa
import yaml
from pydantic import ValidationError

from prodready.data.readers import (
    DUCKDB_NUMBER_TYPES,
    check_tables,
    duckdb_connection,
    parquet_column_stats,
    read_table,
    read_tables,
    sample_tables,
    scan_sql,
    table_format,
    table_rows,
)
from prodready.data.validation import (
    _require_columns,
    _Where,
    check_overlap,
    infer_features,
    prepare,
)
from prodready.data.yaml_file import read_yaml_mapping
from prodready.errors import CaseFileError, DataError, ParameterError, first_line
from prodready.spec import Business, CaseSpec, Columns, Feature, Task

CASE_FILE_NAMES = ("case.yaml", "case.yml")
DEFAULT_SAMPLE_ROWS = 500_000


@dataclass(frozen=True)
class DataSource:
    """Data that stays on disk (``load_case(..., lazy=True)``): the training data or the log.

    ``files``: its files (Parquet or CSV), sorted; ``table``: instead of files, the name of a
    table or view in the Spark catalog (read through ``spark_engine.session()``);
    ``rows``: rows in all of them;
    ``sample_rows``: rows held in memory (``case.training`` or ``case.serving``: a uniform random
    sample drawn with ``seed``, in time order; all rows when the data is that small);
    ``role``: ``"training"`` or ``"serving"``, for messages.
    """

    files: tuple[Path, ...]
    rows: int
    sample_rows: int
    seed: int
    role: Literal["training", "serving"] = "serving"
    table: str | None = None

    @property
    def where(self) -> str:
        """Where the data lives, in the user's words: "Spark table risk.serving" or "12 files"."""
        if self.table is not None:
            return f"Spark table {self.table}"
        return f"{len(self.files):,} file(s)"

    @property
    def is_sample(self) -> bool:
        """True when the frame in memory holds only part of the data."""
        return self.sample_rows < self.rows

    def describe(self) -> str:
        """ "a uniform sample of 500,000 of the 10,000,000 serving rows", or "all 215,261
        serving rows" when the sample is the whole data."""
        if not self.is_sample:
            return f"all {self.rows:,} {self.role} rows"
        return f"a uniform sample of {self.sample_rows:,} of the {self.rows:,} {self.role} rows"


def sampled(*sources: DataSource | None) -> str:
    """What the sampled sets are, joined with "and" (``""`` when nothing is sampled): the
    notes of the audit parts that run on the samples (metric gap, leakage probe) say it."""
    return " and ".join(s.describe() for s in sources if s is not None and s.is_sample)


def sample_note(case: Case, training: str, serving: str) -> str:
    """``"<training> <what the training sample is>; <serving> <what the serving sample is>"``
    for the sets held as samples (``""`` when none is), e.g. with ``"fitted on"`` and
    ``"serving scored on"``: what a part run on the samples says of them."""
    pairs = ((training, case.training_source), (serving, case.serving_source))
    return "; ".join(f"{words} {held}" for words, source in pairs if (held := sampled(source)))


@dataclass(frozen=True, eq=False, repr=False)
class Case:
    """A case ready to audit. Frames are canonical (see :mod:`prodready.data.validation`).

    ``serving_source`` / ``training_source`` are None when the frame is the whole data; for a
    case loaded with ``lazy=True`` they name the files and the frame holds a uniform sample.
    """

    spec: CaseSpec
    training: pd.DataFrame
    serving: pd.DataFrame
    path: Path | None = None  # the case file; None for a case built in memory
    serving_source: DataSource | None = None
    training_source: DataSource | None = None

    def __repr__(self) -> str:
        def rows(frame: pd.DataFrame, source: DataSource | None) -> str:
            if source is None:
                return f"{len(frame):,} rows"
            held = f"in {source.table}" if source.table is not None else "on disk"
            return f"{source.rows:,} rows {held} (a sample of {source.sample_rows:,} in memory)"

        return (
            f"Case({self.spec.name!r}, task={self.spec.task}, "
            f"training={rows(self.training, self.training_source)}, "
            f"serving={rows(self.serving, self.serving_source)}, "
            f"features={len(self.spec.features)})"
        )

    def require_whole_log(self, audit: str) -> None:
        """Refuse, with one clear message, an audit that reads every row from memory on a case
        whose data stayed on disk with only a sample in memory (``lazy=True``): it would
        otherwise report on the sample as if it were the data."""
        held = sampled(self.training_source, self.serving_source)
        if held:
            raise ParameterError(
                f"the {audit} needs the whole training data and serving log in memory, but this "
                f"case was loaded with the data left on disk ({held} in memory)",
                where=str(self.path) if self.path is not None else self.spec.name,
                fix="load the case without lazy=True (no --lazy); the skew audit and the "
                "monitoring replay work on a log left on disk",
            )

    # -- the contract in the user's words ------------------------------------------------------
    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def task(self) -> Task:
        return self.spec.task

    @property
    def columns(self) -> Columns:
        return self.spec.columns

    @property
    def features(self) -> list[Feature]:
        return list(self.spec.features)

    @property
    def feature_names(self) -> list[str]:
        return self.spec.feature_names

    @property
    def business(self) -> Business | None:
        return self.spec.business

    def data_files(self, role: Literal["training", "serving"]) -> tuple[Path, ...]:
        """The files ``role``'s data was read from (every match of a glob, sorted); empty for a
        case built in memory. Resolved again from the case file, so it names the files there now.
        """
        if self.path is None:
            return ()
        return tuple(data_files(self.path, self.spec).get(role, ()))

    @property
    def labelled_serving(self) -> pd.DataFrame:
        """Serving rows whose truth has arrived."""
        return self.serving[self.serving[self.columns.label].notna()]

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def from_spec(
        cls,
        spec: CaseSpec,
        training: pd.DataFrame,
        serving: pd.DataFrame,
        *,
        names: tuple[str, str] = ("training data", "serving log"),
        path: Path | None = None,
        serving_source: DataSource | None = None,
        training_source: DataSource | None = None,
    ) -> Case:
        """Validate both frames against ``spec``; ``names`` are what messages call them."""
        check_overlap(training, serving, names)
        return cls(
            spec=spec,
            training=prepare(training, spec, role="training", source=names[0]),
            serving=prepare(serving, spec, role="serving", source=names[1]),
            path=path,
            serving_source=serving_source,
            training_source=training_source,
        )

    @classmethod
    def from_frames(
        cls,
        training: pd.DataFrame,
        serving: pd.DataFrame,
        *,
        task: Task,
        label: str,
        prediction: str,
        timestamp: str,
        id: str | None = None,
        label_time: str | None = None,
        challenger: str | None = None,
        features: Sequence[Feature | Mapping[str, Any] | str] | Mapping[str, str] | None = None,
        business: Business | Mapping[str, Any] | None = None,
        name: str = "In-memory case",
        names: tuple[str, str] = ("training data", "serving log"),
    ) -> Case:
        """Build a case from frames in memory.

        ``features`` may be omitted (every column both frames share that plays no other role,
        typed from the training data), a list of names (types inferred), a list of
        :class:`Feature` or dicts, or a mapping of name to type. ``names`` are what error
        messages call the two frames, e.g. the uploaded files' names (a ``.csv`` name adds the
        line in the file to row numbers).
        """
        columns = {
            "timestamp": timestamp,
            "label": label,
            "prediction": prediction,
            "id": id,
            "label_time": label_time,
            "challenger": challenger,
        }
        check_overlap(training, serving, names)
        roles = {c for c in columns.values() if c}
        inferred = {f.name: f for f in infer_features(training, serving, roles)}
        if features is None:
            feature_list: list[Any] = list(inferred.values())
        elif isinstance(features, Mapping):
            feature_list = [{"name": n, "type": t} for n, t in features.items()]
        else:
            feature_list = [
                inferred.get(f, {"name": f, "type": _guess_type(training, f)})
                if isinstance(f, str)
                else f
                for f in features
            ]
        raw = {
            "name": name,
            "task": task,
            "columns": columns,
            "features": [f.model_dump() if isinstance(f, Feature) else f for f in feature_list],
            "business": business.model_dump() if isinstance(business, Business) else business,
        }
        spec = _validate_spec(raw, where="the case settings")
        return cls.from_spec(spec, training, serving, names=names)


def _guess_type(frame: pd.DataFrame, column: str) -> str:
    if column in frame and pd.api.types.is_numeric_dtype(frame[column].dtype):
        return "categorical" if pd.api.types.is_bool_dtype(frame[column].dtype) else "numeric"
    return "categorical"


def load_case(
    path: str | Path,
    *,
    lazy: bool = False,
    sample_rows: int = DEFAULT_SAMPLE_ROWS,
    seed: int = 0,
) -> Case:
    """Read a case file (or a folder holding ``case.yaml``) and the data files it names.

    A data path may be a glob (``serving_log/*.parquet``, ``logs/**/*.csv``): its matches, sorted
    by path, are read into one frame; :func:`data_files` lists them without reading them.

    ``lazy=True`` leaves the data on disk, the training data and the serving log alike: their
    files are checked from their schemas (columns the case names, with types the audits can
    use; for Parquet also missing ids, timestamps, labels and scores, and score and label
    ranges, from the row groups' statistics), their rows are counted (Parquet: from the
    footers), and ``case.training`` / ``case.serving`` hold a uniform random sample of
    ``sample_rows`` rows of each (drawn with ``seed``; all rows when the data is smaller), in
    time order and validated like whole data. ``case.training_source`` and
    ``case.serving_source`` name the files; the skew audit then profiles every row of both with
    DuckDB and the monitoring replay streams the log. Memory is bounded by the samples and
    DuckDB's limit (1 GB, spilling to a temporary folder).
    """
    if lazy and (
        isinstance(sample_rows, bool) or not isinstance(sample_rows, int) or sample_rows < 2
    ):
        raise ParameterError(
            "sample_rows must be a whole number of at least 2",
            where="sample_rows",
            found=repr(sample_rows),
            fix="pass the number of serving rows to hold in memory, e.g. 500_000",
        )
    case_file = _find_case_file(Path(path))
    raw, text = read_yaml_mapping(
        case_file,
        kind="case file",
        error=CaseFileError,
        expected="a YAML mapping with name, task, training, serving, columns and features",
        fix="start from the sample case: prodready sample card_fraud --out DIR",
    )
    spec = _validate_spec(raw, where=str(case_file), text=text)
    frames: dict[str, pd.DataFrame] = {}
    shown_as: dict[str, str] = {}
    sources: dict[str, DataSource] = {}
    for role in ("training", "serving"):
        table = getattr(spec, role).table
        if table is not None:
            shown_as[role] = f"Spark table {table}"
            frames[role], source = _table_side(
                spec, role, table, lazy=lazy, sample_rows=sample_rows, seed=seed
            )
            if source is not None:
                sources[role] = source
            continue
        pattern = getattr(spec, role).path
        if not pattern:
            raise CaseFileError(
                f"{role}.path is missing",
                where=str(case_file),
                expected=f"{role}: {{path: FILE.parquet}} (CSV or Parquet, relative to the case) "
                "or {table: DATABASE.TABLE} (a Spark table)",
                fix=f"add the {role} file's path (or Spark table) to the case file",
            )
        files = _resolve(case_file, role, pattern)
        shown = [_shown(f, case_file) for f in files]
        if lazy:
            where = f"{case_file}, {role}.path {pattern!r}" if is_glob(pattern) else shown[0]
            if is_glob(pattern):
                count = f"{len(files)} file" + ("s" if len(files) > 1 else "")
                shown_as[role] = f"{pattern} ({count})"
            else:
                shown_as[role] = shown[0]
            frames[role], sources[role] = _lazy_table(
                spec,
                role,
                files,
                shown,
                where=where,
                called=shown_as[role],
                sample_rows=sample_rows,
                seed=seed,
            )
            continue
        if is_glob(pattern):
            count = f"{len(files)} file" + ("s" if len(files) > 1 else "")
            shown_as[role] = f"{pattern} ({count})"  # not ending in .csv: no line numbers
            where = f"{case_file}, {role}.path {pattern!r}"
            frames[role] = read_tables(files, name=where, names=shown)
        else:
            shown_as[role] = shown[0]
            frames[role] = read_table(files[0], name=shown[0])
    training, serving = frames.pop("training"), frames.pop("serving")
    names = (shown_as["training"], shown_as["serving"])
    case = Case.from_spec(
        spec,
        training,
        serving,
        names=names,
        path=case_file,
        serving_source=sources.get("serving"),
        training_source=sources.get("training"),
    )
    del training, serving
    # Arrow's allocator keeps the freed buffers of the file reads for reuse; hand them back so a
    # loaded 10M-event case holds its frames, not twice their size.
    pa.default_memory_pool().release_unused()
    return case


def _is_number_type(kind: str) -> bool:
    """A DuckDB or Spark SQL number type (Spark's INT is DuckDB's INTEGER)."""
    return kind in DUCKDB_NUMBER_TYPES or kind == "INT" or kind.startswith("DECIMAL")


def _lazy_table(
    spec: CaseSpec,
    role: Literal["training", "serving"],
    files: list[Path],
    shown: list[str],
    *,
    where: str,
    called: str,
    sample_rows: int,
    seed: int,
) -> tuple[pd.DataFrame, DataSource]:
    """The checks of ``role``'s files that need no full read, their row count and sample."""
    import tempfile

    columns = check_tables(files, name=where, names=shown)
    # the same message as the eager loader for a column the case names but the log lacks
    _require_columns(pd.DataFrame(columns=columns), spec, role, _Where(called, pd.DataFrame()))
    with tempfile.TemporaryDirectory(prefix="prodready-lazy-") as temp:
        con = duckdb_connection(temp)
        try:
            try:
                described = con.execute(f"DESCRIBE SELECT * FROM {scan_sql(files)}").fetchall()
            except Exception as exc:  # duckdb.Error: a file its reader refuses
                raise DataError(
                    "the files cannot be read together",
                    where=where,
                    found=first_line(exc),
                    fix="export every file with the same columns and column types",
                ) from None
            types = {row[0]: str(row[1]) for row in described}
            _check_types(spec, types, where, role)
            rows = table_rows(files, names=shown, con=con)
            total = int(sum(rows))
            if total == 0:
                raise DataError(
                    "the files have no rows",
                    where=where,
                    expected="at least one row of data",
                    fix="check that the export ran on the right table and was not filtered to "
                    "nothing",
                )
            if table_format(shown[0]) == "parquet":
                wanted = [*_checked_columns(spec, types, role), spec.columns.label]
                stats = parquet_column_stats(files, list(dict.fromkeys(wanted)))
                _check_statistics(spec, stats, where, types, role)
            sample = sample_tables(
                files,
                name=where,
                names=shown,
                rows=rows,
                sample_rows=sample_rows,
                seed=seed,
                con=con,
            )
        finally:
            con.close()
    source = DataSource(
        files=tuple(files), rows=total, sample_rows=min(sample_rows, total), seed=seed, role=role
    )
    return sample, source


def _table_side(
    spec: CaseSpec,
    role: Literal["training", "serving"],
    table: str,
    *,
    lazy: bool,
    sample_rows: int,
    seed: int,
) -> tuple[pd.DataFrame, DataSource | None]:
    """``role``'s data from a Spark table (``spark_engine.session()``): the whole table in
    memory, or (``lazy``) the checks :func:`_lazy_table` makes of files, answered by one scan
    of the table, its row count and a uniform sample; the table is never copied whole."""
    from prodready.engine import spark_engine

    where = f"{role}.table {table!r}"
    try:
        types = spark_engine.table_schema(table)
    except DataError as err:  # say which entry of the case file names the table
        raise DataError(
            err.problem, where=where, expected=err.expected, found=err.found, fix=err.fix
        ) from None
    called = f"Spark table {table}"
    _require_columns(pd.DataFrame(columns=list(types)), spec, role, _Where(called, pd.DataFrame()))
    if not lazy:
        return spark_engine.table_frame(table), None
    _check_types(spec, types, where, role, held_in="table")
    wanted = [*_checked_columns(spec, types, role), spec.columns.label]
    rows, stats = spark_engine.table_stats(table, list(dict.fromkeys(wanted)))
    if rows == 0:
        raise DataError(
            "the table has no rows",
            where=where,
            expected="at least one row of data",
            fix="check the table's name and that it was not filtered to nothing",
        )
    _check_statistics(spec, stats, where, types, role, counted="a scan of the table")
    sample = spark_engine.table_sample(
        table, rows=rows, sample_rows=sample_rows, seed=seed, timestamp=spec.columns.timestamp
    )
    source = DataSource(
        files=(),
        rows=rows,
        sample_rows=min(sample_rows, rows),
        seed=seed,
        role=role,
        table=table,
    )
    return sample, source


def _check_types(
    spec: CaseSpec, types: dict[str, str], where: str, role: str, held_in: str = "files"
) -> None:
    """Column types the whole-data audits can use, from the files' schemas (DuckDB's types)
    or the Spark table's (``held_in="table"``)."""
    cols = spec.columns

    def refuse(column: str, expected: str, fix: str) -> None:
        raise DataError(
            f"column {column!r} holds {types[column]} values in the {role} {held_in}",
            where=where,
            expected=expected,
            fix=fix,
        )

    stamp = types[cols.timestamp]
    if not (stamp.startswith("TIMESTAMP") or stamp == "DATE"):
        refuse(
            cols.timestamp,
            "a timestamp column (Parquet timestamp, or ISO 8601 text DuckDB recognises in CSV)",
            "write the timestamps as a timestamp type, or load the case without lazy",
        )
    # the whole-log queries read the timestamp and the numeric features as they are; the other
    # columns are used from the sample only, which the loader converts as usual
    for column in [f.name for f in spec.features if f.type == "numeric"]:
        if column and column in types and not _is_number_type(types[column]):
            refuse(
                column,
                "numbers",
                "write the column as numbers (the lazy path reads it as is), declare the feature "
                "categorical, or load the case without lazy",
            )


def _checked_columns(spec: CaseSpec, types: dict[str, str], role: str) -> list[str]:
    """The columns :func:`_check_statistics` needs: timestamp, id, scores; the label too."""
    cols = spec.columns
    wanted = [c for c in (cols.timestamp, cols.id, cols.prediction, cols.challenger) if c]
    if role == "training":
        wanted.append(cols.label)
    return [c for c in wanted if c in types]


def _check_statistics(
    spec: CaseSpec,
    stats: dict[str, dict],
    where: str,
    types: dict[str, str],
    role: str,
    counted: str = "the files' statistics",
) -> None:
    """What the loader checks on every row that summary statistics answer (Parquet's row
    groups', or one scan of a Spark table: ``counted`` says which): no missing timestamp, id
    or score (nor label in training); binary labels 0/1 and scores in [0, 1]."""
    cols = spec.columns
    wanted = _checked_columns(spec, types, role)
    what = {
        cols.timestamp: ("row(s) have no timestamp", "a timestamp on every row"),
        cols.id: ("row(s) have no id", "an id on every row"),
        cols.label: ("training row(s) have no label", "a known outcome on every training row"),
    }
    for column in wanted:
        nulls = stats[column]["nulls"]
        if nulls:
            problem, expected = what.get(
                column, ("score(s) are empty", "a finite score on every row")
            )
            raise DataError(
                f"{nulls:,} {problem}",
                where=f"{where}, column {column!r}",
                expected=expected,
                found=f"empty values (counted from {counted})",
                fix="fill in or drop those rows",
            )
    if spec.task != "binary":
        return
    for column in (cols.prediction, cols.challenger):
        if column and column in types and _is_number_type(types[column]):
            if types[column] == "BOOLEAN":
                continue
            low, high = stats[column]["min"], stats[column]["max"]
            if low is not None and (low < 0 or high > 1):
                raise DataError(
                    "score(s) are outside [0, 1]",
                    where=f"{where}, column {column!r}",
                    expected="probabilities between 0 and 1 for a binary task",
                    found=f"range {low:g} to {high:g} (from {counted})",
                    fix="log the model's probability, not a raw margin or logit "
                    "(apply the sigmoid 1 / (1 + exp(-x)) to logits)",
                )
    label = stats[cols.label]
    numeric_label = _is_number_type(types.get(cols.label, "")) and types[cols.label] != "BOOLEAN"
    outside = label["min"] is not None and (label["min"] < 0 or label["max"] > 1)
    if numeric_label and outside:
        raise DataError(
            "a binary task needs labels that are 0 or 1",
            where=f"{where}, column {cols.label!r}",
            expected="0/1 (or true/false, yes/no)",
            found=f"values from {label['min']} to {label['max']} (from {counted})",
            fix="map the outcome to 1 (the event the model predicts, e.g. fraud) and 0; for "
            "a numeric target use task: regression",
        )


GLOB_CHARACTERS = frozenset("*?[")


def is_glob(path: str) -> bool:
    """Whether a case's data path is a glob pattern (``*``, ``?``, ``[...]`` or ``**``)."""
    return any(c in GLOB_CHARACTERS for c in path)


def data_files(case_file: Path, spec: CaseSpec) -> dict[str, list[Path]]:
    """Role -> the data files a case file names, resolved, without reading any data.

    A plain path gives itself (even if it does not exist: reading it says so); a glob gives its
    matches that are files, sorted by path. Roles without a path are left out. Never raises on a
    bad pattern (``load_case`` does, with the reason), so it suits hashing the case's files.
    """
    folder = Path(case_file).parent
    files = {}
    for role in ("training", "serving"):
        pattern = getattr(spec, role).path
        if pattern:
            matches = _expand(folder, pattern) if is_glob(pattern) else [folder / pattern]
            files[role] = [p.resolve() for p in matches if not is_glob(pattern) or p.is_file()]
    return files


def _expand(folder: Path, pattern: str) -> list[Path]:
    """Every match of ``pattern`` (relative to ``folder`` unless absolute; ``**`` recursive),
    sorted by path (plain character order, so part-00002 comes before part-00010)."""
    base = glob.escape(str(folder.resolve()))  # a folder named "[x]" is not a pattern
    full = pattern if Path(pattern).is_absolute() else f"{base}/{pattern}"
    return sorted((Path(p) for p in glob.glob(full, recursive=True)), key=str)


def _resolve(case_file: Path, role: str, pattern: str) -> list[Path]:
    """The files to read for ``role``: a plain path as is, a glob's checked matches."""
    folder = case_file.parent
    if not is_glob(pattern):
        return [(folder / pattern).resolve()]
    where = f"{case_file}, {role}.path {pattern!r}"
    matches = _expand(folder, pattern)
    if not matches:
        raise DataError(
            "the pattern matches no file",
            where=where,
            expected="at least one CSV or Parquet file (the pattern is relative to the case file)",
            fix="check the folder and the pattern, e.g. serving_log/*.parquet; use ** for files "
            "in sub-folders (serving_log/**/*.parquet)",
        )
    folders = [m for m in matches if m.is_dir()]
    if folders:
        raise DataError(
            "the pattern matches a folder, not only data files",
            where=where,
            found=f"{len(folders)} folder(s), first {_shown(folders[0].resolve(), case_file)}",
            fix="end the pattern with the files' extension, e.g. serving_log/*.parquet",
        )
    files = [m.resolve() for m in matches]
    for path in files:
        try:
            table_format(path.name)
        except DataError:
            raise DataError(
                "the pattern matches a file that is neither CSV nor Parquet",
                where=where,
                found=_shown(path, case_file),
                fix="end the pattern with the data files' extension, e.g. serving_log/*.parquet "
                "(Spark's _SUCCESS and .crc files are then left out)",
            ) from None
    return files


def _shown(path: Path, case_file: Path) -> str:
    """A data file's name as the user wrote it: relative to the case folder when inside it."""
    try:
        return str(path.relative_to(case_file.parent.resolve()))
    except ValueError:
        return str(path)


def _find_case_file(path: Path) -> Path:
    if path.is_dir():
        for name in CASE_FILE_NAMES:
            if (path / name).is_file():
                return path / name
        raise CaseFileError(
            "this folder holds no case file",
            where=str(path),
            expected="a file named case.yaml in the folder",
            fix="pass the case file itself, or create one (see the sample: "
            "prodready sample card_fraud --out DIR)",
        )
    if not path.exists():
        raise CaseFileError(
            "the case file does not exist",
            where=str(path),
            fix="check the path; a case file is a YAML file such as case.yaml",
        )
    return path


def _validate_spec(raw: dict[str, Any], *, where: str, text: str | None = None) -> CaseSpec:
    try:
        return CaseSpec.model_validate(raw)
    except ValidationError as exc:
        raise _spec_error(exc, where, text) from None


def _spec_error(exc: ValidationError, where: str, text: str | None) -> CaseFileError:
    """One message listing every problem pydantic found, each with its key path and line."""
    node = yaml.compose(text) if text else None
    problems = []
    for error in exc.errors()[:8]:
        loc = error["loc"]
        key = _key_path(loc)
        line = _line_of(node, loc) if node is not None else None
        message = error["msg"].removeprefix("Value error, ")
        found = error.get("input")
        at = f"{key or 'top level'}" + (f" (line {line})" if line else "")
        detail = f"{at}: {message}"
        if error["type"] not in ("missing", "value_error") and not isinstance(found, dict | list):
            detail += f" (found {found!r})"
        problems.append(detail)
    count = len(exc.errors())
    if count == 1:
        problem, found = f"the case description is not valid: {problems[0]}", None
    else:
        problem = f"the case description has {count} problems"
        found = "\n  - " + "\n  - ".join(problems)
    return CaseFileError(
        problem,
        where=where,
        found=found,
        fix="correct the entries named above; the case format is shown in docs/case_file.md "
        "and in the sample case (prodready sample card_fraud --out DIR)",
    )


def _key_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the YAML node at ``loc``, or of its nearest parent that exists."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = [v for k, v in node.value if k.value == part]
            if not match:
                break
            node = match[0]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
        else:
            break
        line = node.start_mark.line + 1
    return line
