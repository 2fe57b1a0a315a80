"""Fuzzed case files and data files fed to ``load_case``, eager and lazy: every input ends in one
``ProdreadyError`` that says where and what (and how to fix it), or in a valid case in canonical
form; never in another exception.

Inputs start from the card-fraud sample (2,000 rows) and are broken the ways real files are:
wrong types in the YAML, a file of random bytes, BOMs and other encodings, unicode and hostile
column names, huge and non-finite values, zero rows, thousands of columns. Hypothesis runs
derandomized (the same inputs on every run, so CI is reproducible); the last test prints how many
inputs were tried and how each ended.
"""

from __future__ import annotations

import io
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prodready import Case, load_case, samples
from prodready.errors import ProdreadyError

ROLES = ("training", "serving")
FUZZ = settings(
    deadline=None,
    derandomize=True,  # the same inputs on every run: a CI failure reproduces locally
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TRIED: Counter[str] = Counter()  # "eager/error:DataError", "lazy/valid"... for the summary
SECONDS: Counter[str] = Counter()  # time load_case took, per mode


# -- the starting point: the sample case, read once ---------------------------------------------
@dataclass
class Inputs:
    """One case to write: the YAML mapping, the two frames, how each file is written, and raw
    bytes that replace a file (or the case file) outright."""

    spec: dict[str, Any]
    frames: dict[str, pd.DataFrame]
    formats: dict[str, str] = field(default_factory=lambda: dict.fromkeys(ROLES, "parquet"))
    encodings: dict[str, str] = field(default_factory=lambda: dict.fromkeys(ROLES, "utf-8"))
    raw_files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    case_bytes: bytes | None = None

    def file_name(self, role: str) -> str:
        return f"{role}.{'csv' if self.formats[role] == 'csv' else 'parquet'}"

    def set_format(self, role: str, kind: str) -> None:
        self.formats[role] = kind
        if isinstance(self.spec.get(role), dict):
            self.spec[role]["path"] = self.file_name(role)

    def write(self, folder: Path) -> Path:
        for role in ROLES:
            if role in self.raw_files:
                name, data = self.raw_files[role]
                (folder / name).write_bytes(data)
            elif self.formats[role] == "csv":
                text = self.frames[role].to_csv(index=False)
                data = text.encode(self.encodings[role], errors="replace")
                (folder / self.file_name(role)).write_bytes(data)
            else:
                _write_parquet(self.frames[role], folder / self.file_name(role))
        case_file = folder / "case.yaml"
        if self.case_bytes is not None:
            case_file.write_bytes(self.case_bytes)
        else:
            case_file.write_text(
                yaml.safe_dump(self.spec, allow_unicode=True, sort_keys=False), encoding="utf-8"
            )
        return case_file


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Parquet as another tool might write it: duplicate or odd names kept, a column of mixed
    values stored as text."""
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, ValueError):
        arrays = []
        for position in range(frame.shape[1]):
            column = frame.iloc[:, position]
            try:
                arrays.append(pa.array(column, from_pandas=True))
            except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
                arrays.append(pa.array(column.astype(str)))
        table = pa.Table.from_arrays(arrays, names=[str(c) for c in frame.columns])
    pq.write_table(table, path)


@dataclass(repr=False)
class Sample:
    """The card-fraud sample every input starts from, and the folder inputs are written to."""

    spec: dict[str, Any]
    frames: dict[str, pd.DataFrame]
    root: Path

    def __repr__(self) -> str:  # Hypothesis shows it beside a failing input: keep it short
        return "<card_fraud sample, 2000 rows>"


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Sample:
    folder = tmp_path_factory.mktemp("fuzz_sample")
    case_file = samples.write("card_fraud", folder, rows=2000)
    spec = yaml.safe_load(case_file.read_text(encoding="utf-8"))
    frames = {
        "training": pd.read_parquet(folder / spec["training"]["path"]),
        "serving": pd.read_parquet(folder / spec["serving"]["path"]),
    }
    spec["training"]["path"], spec["serving"]["path"] = "training.parquet", "serving.parquet"
    return Sample(spec, frames, tmp_path_factory.mktemp("fuzz_cases"))


def _fresh(sample: Sample) -> Inputs:
    spec = yaml.safe_load(yaml.safe_dump(sample.spec))  # a deep copy
    return Inputs(spec=spec, frames={r: f.copy() for r, f in sample.frames.items()})


# -- mutations: each a small value Hypothesis can show when a case fails -------------------------
WRONG_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["", " ", "<script>alert(1)</script>", "../../etc/passwd", "1d", "-3h"]),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
    st.binary(max_size=8),  # YAML !!binary: bytes where text belongs
)
YAML_PATHS = [
    ("name",),
    ("task",),
    ("description",),
    ("training",),
    ("training", "path"),
    ("serving", "path"),
    ("columns",),
    ("columns", "id"),
    ("columns", "timestamp"),
    ("columns", "label"),
    ("columns", "label_time"),
    ("columns", "prediction"),
    ("columns", "challenger"),
    ("features",),
    ("features", 0),
    ("features", 0, "name"),
    ("features", 1, "type"),
    ("features", 8, "availability_lag"),
    ("features", 11, "available_at_prediction"),
    ("business",),
    ("business", "currency"),
    ("business", "threshold"),
    ("business", "amount"),
    ("business", "value"),
    ("business", "value", "false_negative"),
]
HOSTILE_NAMES = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "<script>alert(1)</script>",
            "a,b",
            'quo"te',
            "new\nline",
            "tab\there",
            "montant_€",
            "🙂",
            "__index_level_0__",
            "NaN",
            "None",
            "0",
            "event_time",  # the name of another column: a duplicate
            "x" * 300,
            "[x](javascript:alert(1))",
            "$\\frac{1}{0}$",
            "\u202eevil",  # right-to-left override
        ]
    ),
    st.text(min_size=1, max_size=16),
)
BAD_NUMBERS = st.sampled_from(
    [np.inf, -np.inf, np.nan, 1e308, -1e308, 2.0**63, -(2.0**63), 5e-324, "text", "1,5", ""]
)


@dataclass(frozen=True)
class SetField:
    """A YAML field set to a value of the wrong type (or removed, or an unknown key added)."""

    path: tuple
    action: str  # "set" | "delete" | "add"
    value: Any = None

    def apply(self, inputs: Inputs) -> None:
        node: Any = inputs.spec
        for key in self.path[:-1]:
            in_dict = isinstance(node, dict) and key in node
            in_list = isinstance(node, list) and isinstance(key, int) and key < len(node)
            if not (in_dict or in_list):
                return
            node = node[key]
        last = self.path[-1]
        if isinstance(node, list) and isinstance(last, int) and last < len(node):
            if self.action == "delete":
                del node[last]
            else:
                node[last] = self.value
        elif isinstance(node, dict):
            if self.action == "delete":
                node.pop(last, None)
            elif self.action == "add":
                node["unexpected_key"] = self.value
            else:
                node[last] = self.value


@dataclass(frozen=True)
class CaseBytes:
    """The case file replaced: random bytes or text, another encoding, cut short, an alias
    bomb."""

    kind: str
    data: bytes = b""
    cut: int = 0

    def apply(self, inputs: Inputs) -> None:
        text = yaml.safe_dump(inputs.spec, allow_unicode=True, sort_keys=False)
        text = text.replace("Card fraud detection", "Détection de fraude ✓")
        if self.kind == "random":
            inputs.case_bytes = self.data
        elif self.kind == "cut":
            inputs.case_bytes = text.encode("utf-8")[: self.cut]
        elif self.kind == "alias_bomb":  # 10^5 strings from a few lines of YAML
            lines = ['- &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
            lines += [f"- &a{i} [{','.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 5)]
            inputs.case_bytes = "\n".join(lines).encode()
        else:  # an encoding: "utf-8-sig", "utf-16", "latin-1", "cp1252"
            inputs.case_bytes = text.encode(self.kind, errors="replace")


@dataclass(frozen=True)
class RandomFile:
    """A data file that is random bytes (or a real Parquet file cut short)."""

    role: str
    kind: str  # "csv" | "parquet" | "cut_parquet"
    data: bytes = b""

    def apply(self, inputs: Inputs) -> None:
        inputs.set_format(self.role, "csv" if self.kind == "csv" else "parquet")
        data = self.data
        if self.kind == "cut_parquet":
            buffer = io.BytesIO()
            inputs.frames[self.role].head(50).to_parquet(buffer)
            whole = buffer.getvalue()
            data = whole[: int.from_bytes(self.data[:4].ljust(4, b"\0"), "big") % len(whole)]
        inputs.raw_files[self.role] = (inputs.file_name(self.role), data)


@dataclass(frozen=True)
class CsvEncoding:
    """The data as CSV in another encoding (with a BOM for utf-8-sig and utf-16)."""

    role: str
    encoding: str
    accented: bool  # put non-ASCII text in a column, so Latin-1 really differs from UTF-8

    def apply(self, inputs: Inputs) -> None:
        inputs.set_format(self.role, "csv")
        inputs.encodings[self.role] = self.encoding
        if self.accented:
            frame = inputs.frames[self.role]
            frame["merchant_category"] = frame["merchant_category"].str.cat(
                pd.Series("-épicerie", index=frame.index)
            )


@dataclass(frozen=True)
class RenameColumn:
    """A column renamed to a unicode or hostile name, in the data only or also in the case."""

    role: str  # "training", "serving" or "both"
    column: str
    name: str
    in_case: bool
    csv: bool

    def apply(self, inputs: Inputs) -> None:
        roles = ROLES if self.role == "both" else (self.role,)
        for role in roles:
            frame = inputs.frames[role]
            if self.column in frame.columns:
                frame.columns = [self.name if c == self.column else c for c in frame.columns]
            if self.csv:
                inputs.set_format(role, "csv")
        if self.in_case:
            _rename_in_spec(inputs.spec, self.column, self.name)


def _rename_in_spec(spec: dict[str, Any], old: str, new: str) -> None:
    for role, column in spec["columns"].items():
        if column == old:
            spec["columns"][role] = new
    for feature in spec["features"]:
        if feature["name"] == old:
            feature["name"] = new
    if spec.get("business", {}).get("amount") == old:
        spec["business"]["amount"] = new


@dataclass(frozen=True)
class BadValues:
    """Huge, non-finite or non-numeric values written into some rows of a column."""

    role: str
    column: str
    value: Any
    rows: str  # "first" | "some" | "all"
    csv: bool

    def apply(self, inputs: Inputs) -> None:
        frame = inputs.frames[self.role]
        if self.column not in frame.columns:
            return
        positions = {"first": [0], "some": list(range(0, len(frame), 7)), "all": slice(None)}
        values = frame[self.column].astype(object)
        values.iloc[positions[self.rows]] = self.value
        frame[self.column] = values
        inputs.set_format(self.role, "csv" if self.csv else "parquet")


@dataclass(frozen=True)
class ZeroRows:
    """A file with the header (or schema) and no rows; or a CSV of blank lines."""

    role: str
    kind: str  # "csv" | "parquet" | "blank_csv"

    def apply(self, inputs: Inputs) -> None:
        inputs.frames[self.role] = inputs.frames[self.role].head(0)
        inputs.set_format(self.role, "parquet" if self.kind == "parquet" else "csv")
        if self.kind == "blank_csv":
            inputs.raw_files[self.role] = (inputs.file_name(self.role), b"\n\n\n")


@dataclass(frozen=True)
class ManyColumns:
    """Thousands of extra columns (on 200 rows, so the file stays small)."""

    role: str
    extra: int
    csv: bool

    def apply(self, inputs: Inputs) -> None:
        for role in ROLES:  # fewer rows in both, so the periods still line up
            inputs.frames[role] = inputs.frames[role].head(200).reset_index(drop=True)
        frame = inputs.frames[self.role]
        values = np.arange(len(frame) * self.extra, dtype="int32") % 97  # short in a CSV
        block = pd.DataFrame(
            values.reshape(len(frame), self.extra),
            columns=[f"extra_{i}" for i in range(self.extra)],
        )
        inputs.frames[self.role] = pd.concat([frame, block], axis=1)
        inputs.set_format(self.role, "csv" if self.csv else "parquet")


def _columns(role: str) -> list[str]:
    names = ["event_time", "is_fraud", "transaction_id", "amount", "merchant_category"]
    names += ["label_time", "customer_age", "chargebacks_90d"]
    return names + (["score", "challenger_score"] if role == "serving" else ["score"])


def _role_and_column(roles=ROLES):
    return st.sampled_from(roles).flatmap(
        lambda r: st.tuples(st.just(r), st.sampled_from(_columns(r)))
    )


YAML_MUTATION = st.builds(
    SetField,
    path=st.sampled_from(YAML_PATHS),
    action=st.sampled_from(["set", "set", "set", "delete", "add"]),
    value=WRONG_VALUES,
)
CASE_BYTES = st.one_of(
    st.builds(CaseBytes, kind=st.just("random"), data=st.binary(max_size=200)),
    st.builds(CaseBytes, kind=st.just("cut"), cut=st.integers(0, 1500)),
    st.builds(CaseBytes, kind=st.sampled_from(["alias_bomb", "utf-8-sig", "utf-16", "latin-1"])),
)


def data_mutations(widths: list[int]) -> st.SearchStrategy:
    """Ways to break a data file; ``widths``: how many extra columns a wide file gets."""
    return st.one_of(
        st.builds(
            RandomFile,
            role=st.sampled_from(ROLES),
            kind=st.sampled_from(["csv", "parquet", "cut_parquet"]),
            data=st.binary(max_size=300),
        ),
        st.builds(
            CsvEncoding,
            role=st.sampled_from(ROLES),
            encoding=st.sampled_from(["utf-8-sig", "utf-16", "latin-1", "cp1252"]),
            accented=st.booleans(),
        ),
        st.builds(
            lambda rc, name, in_case, csv: RenameColumn(rc[0], rc[1], name, in_case, csv),
            _role_and_column(("training", "serving", "both")),
            HOSTILE_NAMES,
            st.booleans(),
            st.booleans(),
        ),
        st.builds(
            lambda rc, value, rows, csv: BadValues(rc[0], rc[1], value, rows, csv),
            _role_and_column(),
            BAD_NUMBERS,
            st.sampled_from(["first", "some", "all"]),
            st.booleans(),
        ),
        st.builds(
            ZeroRows,
            role=st.sampled_from(ROLES),
            kind=st.sampled_from(["csv", "parquet", "blank_csv"]),
        ),
        st.builds(
            ManyColumns,
            role=st.sampled_from(ROLES),
            extra=st.sampled_from(widths),
            csv=st.booleans(),
        ),
    )


def mutations(widths: list[int]) -> st.SearchStrategy:
    """One or two mutations; data ones first, as they may rename a column in the YAML."""
    data = data_mutations(widths)
    return st.one_of(
        data.map(lambda m: [m]),
        YAML_MUTATION.map(lambda m: [m]),
        CASE_BYTES.map(lambda m: [m]),
        st.tuples(data, YAML_MUTATION).map(list),
        st.tuples(data, data).map(list),
    )


# -- what every outcome must be --------------------------------------------------------------------
def _check_error(err: ProdreadyError) -> None:
    """One clear message: where (the file, column, row or YAML key), what is wrong, and
    nothing of a traceback."""
    message = str(err)
    assert err.problem and err.problem.strip(), message
    assert err.where and err.where.strip(), f"no 'where' in: {message}"
    assert message.startswith(f"{err.where}: {err.problem}"), message
    assert "Traceback" not in message and 'File "/' not in message, message


def _check_case(case: Case, lazy: bool) -> None:
    """The canonical form every audit relies on (prodready.data.validation)."""
    assert isinstance(case, Case)
    cols = case.columns
    assert len(case.training) > 0 and len(case.serving) > 0
    assert (case.serving_source is not None) is lazy
    for frame in (case.training, case.serving):
        when = frame[cols.timestamp]
        assert isinstance(when.dtype, pd.DatetimeTZDtype) and str(when.dt.tz) == "UTC"
        assert when.notna().all() and when.is_monotonic_increasing
        if case.task == "binary":
            assert str(frame[cols.label].dtype) == "Int8"
            assert set(frame[cols.label].dropna().unique()) <= {0, 1}
        for feature in case.features:
            if feature.name in frame:
                column = frame[feature.name]
                if feature.type == "numeric":
                    assert column.dtype == "float64", (feature.name, column.dtype)
                else:
                    assert pd.api.types.is_string_dtype(column.dtype), (feature.name, column.dtype)
    scores = case.serving[cols.prediction]
    assert scores.dtype == "float64" and np.isfinite(scores).all()
    if case.task == "binary":
        assert scores.between(0, 1).all()


def _try(sample: Sample, mutations: list, *, lazy: bool) -> None:
    inputs = _fresh(sample)
    for mutation in mutations:
        mutation.apply(inputs)
    folder = Path(tempfile.mkdtemp(dir=sample.root))
    try:
        case_file = inputs.write(folder)
        mode = "lazy" if lazy else "eager"
        started = time.perf_counter()
        try:
            case = load_case(case_file, lazy=lazy)
        except ProdreadyError as err:
            TRIED[f"{mode}/error:{type(err).__name__}"] += 1
            _check_error(err)
        else:
            TRIED[f"{mode}/valid"] += 1
            _check_case(case, lazy)
        SECONDS[mode] += time.perf_counter() - started
        for mutation in mutations:
            TRIED[f"mutation:{type(mutation).__name__}"] += 1
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@settings(FUZZ, max_examples=100)
@given(mutations=mutations(widths=[1000, 2500]))
def test_fuzzed_cases_load_or_fail_clearly(sample, mutations):
    _try(sample, mutations, lazy=False)


@settings(FUZZ, max_examples=30)
# DuckDB counts a CSV's rows by parsing every column (about 3 s per 1,000 columns here): the
# lazy run keeps its wide files at 1,000 extra columns.
@given(mutations=mutations(widths=[1000]))
def test_fuzzed_cases_load_lazily_or_fail_clearly(sample, mutations):
    _try(sample, mutations, lazy=True)


def test_the_unchanged_sample_is_a_valid_case(sample):
    """The starting point of every mutation loads: a failure above is the mutation's doing."""
    for lazy in (False, True):
        _try(sample, [], lazy=lazy)
    assert TRIED["eager/valid"] >= 1 and TRIED["lazy/valid"] >= 1


@pytest.mark.parametrize("encoding", ["utf-16", "cp1252"])
def test_lazy_names_a_non_utf8_serving_csv_as_eager_does(sample, encoding):
    """Found by the fuzz above: the same file gets the same diagnosis in both modes."""
    inputs = _fresh(sample)
    CsvEncoding("serving", encoding, accented=True).apply(inputs)
    folder = Path(tempfile.mkdtemp(dir=sample.root))
    case_file = inputs.write(folder)
    messages = []
    for lazy in (False, True):
        with pytest.raises(ProdreadyError) as caught:
            load_case(case_file, lazy=lazy)
        messages.append(str(caught.value))
    assert "the file is not UTF-8 text" in messages[0]
    assert "iconv -f latin1 -t utf-8 serving.csv > fixed.csv" in messages[0]
    assert messages[1] == messages[0]  # the same bad byte, line and fix


def test_zz_how_many_inputs_were_tried(record_property, capsys):
    """Runs last in this file: how many fuzzed inputs load_case got and how each ended."""
    if not TRIED:
        pytest.skip("run with the fuzz tests above to count their inputs")
    runs = {k: v for k, v in TRIED.items() if not k.startswith("mutation:")}
    total = sum(runs.values())
    record_property("fuzzed_inputs", total)
    for key, count in sorted(TRIED.items()):
        record_property(key, count)
    with capsys.disabled():
        print(f"\nload_case fuzz: {total} inputs tried")
        for key, count in sorted(TRIED.items()):
            print(f"  {key}: {count}")
        for key, seconds in sorted(SECONDS.items()):
            print(f"  load_case seconds, {key}: {seconds:.1f}")
    # every kind of mutation ran, and the fuzz saw both outcomes in both modes
    kinds = {"SetField", "CaseBytes", "RandomFile", "CsvEncoding", "RenameColumn", "BadValues"}
    kinds |= {"ZeroRows", "ManyColumns"}
    assert {k.removeprefix("mutation:") for k in TRIED if k.startswith("mutation:")} == kinds
    for mode in ("eager", "lazy"):
        assert TRIED[f"{mode}/valid"] >= 2, TRIED
        assert sum(v for k, v in runs.items() if k.startswith(f"{mode}/error")) >= 10, TRIED
