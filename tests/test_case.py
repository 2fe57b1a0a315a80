"""The case contract: good cases load in canonical form; every bad input gets its clear message."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from prodready import Case, load_case
from prodready.errors import CaseFileError, DataError, ProdreadyError

N = 60


def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(1)
    base = pd.DataFrame(
        {
            "id": [f"t{i}" for i in range(N)],
            "ts": pd.date_range("2025-01-01", periods=N, freq="h").strftime("%Y-%m-%d %H:%M:%S"),
            "y": rng.integers(0, 2, N),
            "score": rng.random(N).round(4),
            "amount": rng.lognormal(3, 1, N).round(2),
            "shop": rng.choice(["food", "fuel", "travel"], N),
        }
    )
    serving = base.assign(ts=pd.date_range("2025-03-01", periods=N, freq="h").astype(str))
    serving["y"] = serving["y"].astype("Int8").mask(np.arange(N) > 50)
    return base, serving


SPEC = {
    "name": "Test case",
    "task": "binary",
    "training": {"path": "training.csv"},
    "serving": {"path": "serving.csv"},
    "columns": {"id": "id", "timestamp": "ts", "label": "y", "prediction": "score"},
    "features": [
        {"name": "amount", "type": "numeric"},
        {"name": "shop", "type": "categorical", "available_at_prediction": True},
    ],
    "business": {
        "currency": "EUR",
        "value": {
            "true_positive": 10,
            "false_positive": -1,
            "false_negative": -20,
            "true_negative": 0,
        },
    },
}


def write_case(
    folder: Path,
    training: pd.DataFrame | bytes | None = None,
    serving: pd.DataFrame | bytes | None = None,
    spec: dict | None = None,
    fmt: str = "csv",
) -> Path:
    spec = dict(spec or SPEC)
    default_training, default_serving = frames()
    for role, data in (("training", training), ("serving", serving)):
        data = default_training if data is None and role == "training" else data
        data = default_serving if data is None and role == "serving" else data
        name = f"{role}.{fmt}"
        if isinstance(data, bytes):
            (folder / name).write_bytes(data)
        elif fmt == "csv":
            data.to_csv(folder / name, index=False)
        else:
            data.to_parquet(folder / name, index=False)
        spec[role] = {"path": name}
    path = folder / "case.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def error_of(path: Path) -> ProdreadyError:
    with pytest.raises(ProdreadyError) as info:
        load_case(path)
    return info.value


# -- good cases --------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_good_case_loads_in_canonical_form(tmp_path: Path, fmt: str) -> None:
    case = load_case(write_case(tmp_path, fmt=fmt))
    assert case.name == "Test case" and case.task == "binary"
    assert len(case.training) == N and len(case.serving) == N
    assert str(case.training["ts"].dtype) == "datetime64[us, UTC]"
    assert case.training["ts"].iloc[0] == pd.Timestamp("2025-01-01", tz="UTC")
    assert str(case.serving["y"].dtype) == "Int8"
    assert case.serving["y"].isna().sum() == N - 51
    assert len(case.labelled_serving) == 51
    assert case.training["amount"].dtype == "float64"
    assert case.feature_names == ["amount", "shop"]
    assert case.business is not None and case.business.currency == "EUR"
    assert case.path == tmp_path / "case.yaml"


def test_folder_with_case_yaml_loads(tmp_path: Path) -> None:
    write_case(tmp_path)
    assert load_case(tmp_path).name == "Test case"


def test_timestamps_with_offsets_are_converted_to_utc(tmp_path: Path) -> None:
    training, _ = frames()
    training["ts"] = "2025-06-01T12:00:00+02:00"
    training["id"] = [f"x{i}" for i in range(N)]
    case = load_case(write_case(tmp_path, training=training))
    assert (case.training["ts"] == pd.Timestamp("2025-06-01 10:00", tz="UTC")).all()


def test_from_frames_infers_features_and_types() -> None:
    training, serving = frames()
    case = Case.from_frames(
        training, serving, task="binary", label="y", prediction="score", timestamp="ts", id="id"
    )
    assert {f.name: f.type for f in case.features} == {"amount": "numeric", "shop": "categorical"}
    assert case.path is None
    assert case.serving["ts"].is_monotonic_increasing


def test_from_frames_accepts_names_and_mapping() -> None:
    training, serving = frames()
    by_name = Case.from_frames(
        training,
        serving,
        task="binary",
        label="y",
        prediction="score",
        timestamp="ts",
        features=["shop"],
    )
    assert [(f.name, f.type) for f in by_name.features] == [("shop", "categorical")]
    by_map = Case.from_frames(
        training,
        serving,
        task="binary",
        label="y",
        prediction="score",
        timestamp="ts",
        features={"amount": "categorical"},
    )
    assert by_map.training["amount"].dtype == "str"


def test_serving_may_lack_a_feature_not_available_at_prediction(tmp_path: Path) -> None:
    spec = dict(SPEC)
    spec["features"] = [
        *SPEC["features"],
        {
            "name": "late",
            "type": "numeric",
            "available_at_prediction": False,
            "availability_lag": "2d",
        },
    ]
    training, serving = frames()
    training["late"] = 1.0
    case = load_case(write_case(tmp_path, training=training, serving=serving, spec=spec))
    assert "late" not in case.serving
    assert case.spec.feature("late").availability_lag == pd.Timedelta(days=2)


# -- bad inputs: one clear message each -------------------------------------------------------


def test_missing_case_file(tmp_path: Path) -> None:
    err = error_of(tmp_path / "nope.yaml")
    assert isinstance(err, CaseFileError)
    assert "nope.yaml" in str(err) and "does not exist" in str(err)


def test_missing_data_file(tmp_path: Path) -> None:
    path = write_case(tmp_path)
    (tmp_path / "serving.csv").unlink()
    err = error_of(path)
    assert isinstance(err, DataError)
    assert "serving.csv" in str(err) and "does not exist" in str(err)
    assert "relative to the case file" in str(err)


def test_corrupt_parquet(tmp_path: Path) -> None:
    err = error_of(write_case(tmp_path, serving=b"PAR1 this is not parquet", fmt="parquet"))
    assert "serving.parquet" in str(err)
    assert "not a readable Parquet file" in str(err)


def test_empty_file(tmp_path: Path) -> None:
    err = error_of(write_case(tmp_path, training=b""))
    assert "training.csv" in str(err) and "empty (0 bytes)" in str(err)


def test_header_only_csv(tmp_path: Path) -> None:
    err = error_of(write_case(tmp_path, training=b"id,ts,y,score,amount,shop\n"))
    assert "training.csv" in str(err) and "no rows" in str(err)


def test_non_utf8_csv(tmp_path: Path) -> None:
    training, _ = frames()
    training.loc[4, "shop"] = "café"
    data = training.to_csv(index=False).encode("latin-1")
    err = error_of(write_case(tmp_path, training=data))
    assert "training.csv" in str(err)
    assert "not UTF-8" in str(err) and "line 6" in str(err)
    assert "CSV UTF-8" in str(err)


def test_missing_column_names_it_and_suggests_a_match(tmp_path: Path) -> None:
    _, serving = frames()
    serving = serving.rename(columns={"amount": "amount_usd"})
    err = error_of(write_case(tmp_path, serving=serving))
    assert isinstance(err, DataError)
    assert "serving.csv" in str(err) and "'amount'" in str(err)
    assert "missing from the serving data" in str(err)
    assert "'amount' might be 'amount_usd'" in str(err)


def test_feature_declared_twice(tmp_path: Path) -> None:
    spec = dict(SPEC)
    spec["features"] = [*SPEC["features"], {"name": "amount", "type": "numeric"}]
    err = error_of(write_case(tmp_path, spec=spec))
    assert isinstance(err, CaseFileError)
    assert "'amount' is declared twice" in str(err)
    assert "case.yaml" in str(err) and "line" in str(err)


def test_wrong_feature_type_in_case_file(tmp_path: Path) -> None:
    spec = dict(SPEC)
    spec["features"] = [{"name": "amount", "type": "number"}]
    err = error_of(write_case(tmp_path, spec=spec))
    assert "features[0].type" in str(err)
    assert "'numeric' or 'categorical'" in str(err) and "'number'" in str(err)


def test_text_in_a_numeric_feature(tmp_path: Path) -> None:
    training, _ = frames()
    training["amount"] = training["amount"].astype(str)
    training.loc[9, "amount"] = "12,50 EUR"
    err = error_of(write_case(tmp_path, training=training))
    assert "training.csv, column 'amount', row 10 (line 11 of the file)" in str(err)
    assert "not numbers" in str(err) and "'12,50 EUR'" in str(err)


def test_unparseable_timestamps(tmp_path: Path) -> None:
    _, serving = frames()
    serving.loc[3, "ts"] = "next tuesday"
    err = error_of(write_case(tmp_path, serving=serving))
    assert "serving.csv, column 'ts', row 4" in str(err)
    assert "not dates and times" in str(err) and "'next tuesday'" in str(err)
    assert "ISO 8601" in str(err)


def test_non_binary_labels(tmp_path: Path) -> None:
    training, _ = frames()
    training.loc[2, "y"] = 3
    err = error_of(write_case(tmp_path, training=training))
    assert "column 'y', row 3" in str(err)
    assert "0 or 1" in str(err) and "3" in str(err)
    assert "task: regression" in str(err)


@pytest.mark.parametrize("bad", [1.7, -0.2])
def test_scores_outside_unit_interval(tmp_path: Path, bad: float) -> None:
    _, serving = frames()
    serving.loc[5, "score"] = bad
    err = error_of(write_case(tmp_path, serving=serving))
    assert "serving.csv, column 'score', row 6" in str(err)
    assert "outside [0, 1]" in str(err) and "sigmoid" in str(err)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_scores_nan_or_infinite(tmp_path: Path, bad: float) -> None:
    _, serving = frames()
    serving.loc[7, "score"] = bad
    err = error_of(write_case(tmp_path, serving=serving, fmt="parquet"))
    assert "serving.parquet, column 'score', row 8" in str(err)
    assert "empty, NaN or infinite" in str(err)


def test_duplicate_ids(tmp_path: Path) -> None:
    training, _ = frames()
    training.loc[11, "id"] = "t3"
    err = error_of(write_case(tmp_path, training=training))
    assert "column 'id'" in str(err) and "more than once" in str(err)
    assert "'t3' on row 4" in str(err) and "row 12" in str(err)


def test_all_null_feature(tmp_path: Path) -> None:
    _, serving = frames()
    serving["amount"] = np.nan
    err = error_of(write_case(tmp_path, serving=serving))
    assert "serving.csv, column 'amount'" in str(err)
    assert "empty on every row" in str(err)


def test_no_columns_in_common(tmp_path: Path) -> None:
    _, serving = frames()
    serving.columns = [f"col_{i}" for i in range(serving.shape[1])]
    err = error_of(write_case(tmp_path, serving=serving))
    assert "no column in common" in str(err)
    assert "training.csv and serving.csv" in str(err)


def test_no_columns_in_common_in_memory() -> None:
    training, serving = frames()
    serving.columns = [c.upper() for c in serving.columns]
    with pytest.raises(DataError, match="no column in common"):
        Case.from_frames(
            training, serving, task="binary", label="y", prediction="score", timestamp="ts"
        )


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "case.yaml"
    path.write_text("name: x\ntask: binary\ncolumns: {timestamp: ts\nfeatures: []\n")
    err = error_of(path)
    assert isinstance(err, CaseFileError)
    assert "not valid YAML" in str(err) and "line" in str(err)


def test_several_spec_problems_are_listed_together(tmp_path: Path) -> None:
    spec = dict(SPEC)
    spec["task"] = "classification"
    spec["colour"] = "blue"
    err = error_of(write_case(tmp_path, spec=spec))
    assert "2 problems" in str(err)
    assert "task (line 2)" in str(err) and "colour" in str(err)


def test_missing_label_in_training(tmp_path: Path) -> None:
    training, _ = frames()
    training["y"] = training["y"].astype("Int8").mask(np.arange(N) == 4)
    err = error_of(write_case(tmp_path, training=training))
    assert "training row(s) have no label" in str(err) and "row 5" in str(err)


def test_error_to_dict_is_structured(tmp_path: Path) -> None:
    err = error_of(write_case(tmp_path, training=b""))
    data = err.to_dict()
    assert data["error"] == "DataError" and data["where"] == "training.csv"
    assert "empty" in data["problem"] and data["fix"]


def test_from_frames_messages_name_the_uploaded_files() -> None:
    training, serving = frames()
    serving.loc[2, "score"] = 4.0
    with pytest.raises(DataError) as info:
        Case.from_frames(
            training,
            serving,
            task="binary",
            label="y",
            prediction="score",
            timestamp="ts",
            names=("train.csv", "log.parquet"),
        )
    assert "log.parquet, column 'score', row 3: 1 score(s) are outside [0, 1]" in str(info.value)


def test_whole_number_codes_read_as_floats_match_integer_codes() -> None:
    training, serving = frames()
    training["code"] = np.arange(N) % 3  # integers
    serving["code"] = (np.arange(N) % 3).astype(float)
    serving.loc[4, "code"] = np.nan  # a gap makes the column float: 1.0, 2.0, NaN
    case = Case.from_frames(
        training,
        serving,
        task="binary",
        label="y",
        prediction="score",
        timestamp="ts",
        features={"code": "categorical"},
    )
    assert set(case.serving["code"].dropna()) == {"0", "1", "2"} == set(case.training["code"])


# -- business.amount: the money column of the caught-amount KPI ---------------------------------


def _with_amount(amount: str, **changes: object) -> dict:
    spec = {**SPEC, **changes}
    spec["business"] = {**SPEC["business"], "amount": amount}
    return spec


def test_amount_may_be_a_feature_or_a_column_of_its_own(tmp_path: Path) -> None:
    assert load_case(write_case(tmp_path, spec=_with_amount("amount"))).business.amount == "amount"
    training, serving = frames()
    serving["paid"] = serving["amount"].astype(str)  # text digits are read as numbers
    case = load_case(write_case(tmp_path, training, serving, spec=_with_amount("paid")))
    assert case.serving["paid"].dtype == "float64"
    assert case.serving["paid"].tolist() == pytest.approx(serving["amount"].tolist())


@pytest.mark.parametrize(
    ("amount", "changes", "says"),
    [
        ("shop", {}, "'shop' is a categorical feature; the amount must be numeric"),
        ("score", {}, "'score' is the prediction column"),
        ("amount", {"task": "regression", "business": None}, "for binary cases"),
    ],
)
def test_bad_amount_is_refused_with_the_reason(
    tmp_path: Path, amount: str, changes: dict, says: str
) -> None:
    spec = _with_amount(amount, **changes)
    if changes.get("task") == "regression":
        spec["business"] = {"cost_per_unit_error": 1.0, "amount": amount}
    err = error_of(write_case(tmp_path, spec=spec))
    assert isinstance(err, CaseFileError) and says in str(err)


def test_amount_column_missing_or_not_numbers(tmp_path: Path) -> None:
    err = error_of(write_case(tmp_path, spec=_with_amount("paid")))
    assert isinstance(err, DataError) and "'paid'" in str(err) and "serving" in str(err)
    training, serving = frames()
    serving["paid"] = "12 EUR"
    err = error_of(write_case(tmp_path, training, serving, spec=_with_amount("paid")))
    assert "column 'paid'" in str(err) and "not numbers" in str(err)


def test_a_feature_without_a_name_is_refused(tmp_path: Path) -> None:
    spec = dict(SPEC)
    spec["features"] = [{"name": "", "type": "numeric"}, *SPEC["features"]]
    err = error_of(write_case(tmp_path, spec=spec))
    assert isinstance(err, CaseFileError)
    assert "case.yaml" in str(err)
    assert "features[0].name (line 13): String should have at least 1 character (found '')" in (
        str(err)
    )


@pytest.mark.timeout(60, method="thread")  # printing the bomb whole would never end
def test_a_yaml_alias_bomb_that_is_not_a_mapping_is_refused_fast(tmp_path: Path) -> None:
    """Nine levels of nine aliases each stand for 9**9 strings: YAML shares them, so reading
    is quick, and the message must describe the content without expanding it."""
    lines = ['- &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"- &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]" for n in range(1, 9)]
    path = tmp_path / "case.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    started = time.perf_counter()
    err = error_of(path)
    assert time.perf_counter() - started < 2
    assert isinstance(err, CaseFileError)
    assert "the case file does not describe a case" in str(err)
    shown = "Found: list: [['lol', 'lol', 'lol', 'lol', ...], [[...], [...], [...], [...], ...],"
    assert shown in str(err)
    assert len(str(err)) < 500


def test_the_streamed_utf8_check_finds_what_the_whole_file_check_finds(tmp_path: Path) -> None:
    """The lazy loader's check reads a CSV in chunks: a character cut by a chunk's end is not an
    error, and a bad byte gets the eager reader's byte, line and fix whatever the chunk size."""
    from prodready.data.readers import check_utf8, read_table

    good = "city,amount\nMünchen,1\nZürich,2\n€uro,3\n".encode()
    (tmp_path / "good.csv").write_bytes(good)
    for chunk in (1, 2, 3, 5, 1 << 20):
        check_utf8(tmp_path / "good.csv", "good.csv", chunk_bytes=chunk)
    for bad in (good + "Gen\xe8ve,4\n".encode("cp1252"), good[:-3] + b"\xe2\x82"):
        (tmp_path / "bad.csv").write_bytes(bad)
        with pytest.raises(DataError) as eager:
            read_table(tmp_path / "bad.csv", name="bad.csv")
        assert "the file is not UTF-8 text" in str(eager.value)
        for chunk in (1, 2, 3, 7, 1 << 20):
            with pytest.raises(DataError) as streamed:
                check_utf8(tmp_path / "bad.csv", "bad.csv", chunk_bytes=chunk)
            assert str(streamed.value) == str(eager.value), chunk
