"""A case whose data is a glob of files, and the card_fraud generator writing its log in parts."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from prodready import load_case, samples, skew
from prodready.case import data_files
from prodready.data.readers import read_table, read_tables
from prodready.errors import DataError, ParameterError
from prodready.samples import card_fraud
from prodready.spec import CaseSpec

ROWS, SEED, PARTS = 50_000, 3, 5


@pytest.fixture(scope="module")
def parts_case_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return samples.write(
        "card_fraud", tmp_path_factory.mktemp("parts"), rows=ROWS, seed=SEED, parts=PARTS
    )


@pytest.fixture(scope="module")
def parts_case(parts_case_file: Path):
    return load_case(parts_case_file)


def _case_with(folder: Path, serving: str, training: str = "training.parquet") -> Path:
    """A copy of the bundled case's text in ``folder`` with other data paths."""
    from prodready.resources import sample_dir

    text = (sample_dir("card_fraud") / "case.yaml").read_text(encoding="utf-8")
    text = text.replace("serving: {path: serving_log.parquet}", f"serving: {{path: '{serving}'}}")
    text = text.replace("training: {path: training.parquet}", f"training: {{path: '{training}'}}")
    case_file = folder / "case.yaml"
    case_file.write_text(text, encoding="utf-8")
    return case_file


@pytest.fixture(scope="module")
def split_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled case with its serving log cut into three Parquet files under logs/."""
    from prodready.resources import sample_dir

    folder = tmp_path_factory.mktemp("split")
    shutil.copy(sample_dir("card_fraud") / "training.parquet", folder / "training.parquet")
    serving = pd.read_parquet(sample_dir("card_fraud") / "serving_log.parquet")
    (folder / "logs").mkdir()
    for i, piece in enumerate([serving[:20_000], serving[20_000:45_000], serving[45_000:]]):
        piece.to_parquet(folder / "logs" / f"2025-{i + 7:02d}.parquet", index=False)
    return folder


# --- globs in a case file --------------------------------------------------------------------


def test_glob_loads_like_the_single_file(split_log: Path) -> None:
    whole = samples.load("card_fraud")
    case = load_case(_case_with(split_log, "logs/2025-*.parquet"))
    pd.testing.assert_frame_equal(case.serving, whole.serving)
    pd.testing.assert_frame_equal(case.training, whole.training)
    names = [p.name for p in case.data_files("serving")]
    assert names == ["2025-07.parquet", "2025-08.parquet", "2025-09.parquet"]
    assert case.data_files("training") == ((split_log / "training.parquet").resolve(),)


def test_recursive_question_mark_and_class_globs(split_log: Path, tmp_path: Path) -> None:
    nested = tmp_path / "case"
    (nested / "deep" / "er").mkdir(parents=True)
    for i, source in enumerate(sorted((split_log / "logs").glob("*.parquet"))):
        target = nested / ("deep/er" if i else "deep") / source.name
        shutil.copy(source, target)
    for pattern in ("deep/**/*.parquet", "deep/**/2025-0?.parquet", "deep/**/2025-0[789].parquet"):
        case_file = _case_with(nested, pattern, training=str(split_log / "training.parquet"))
        files = data_files(case_file, load_case(case_file).spec)["serving"]
        assert [p.name for p in files] == ["2025-07.parquet", "2025-08.parquet", "2025-09.parquet"]


def test_glob_may_leave_the_case_folder_like_a_plain_path(split_log: Path, tmp_path: Path) -> None:
    shutil.copytree(split_log, tmp_path / "data")
    elsewhere = tmp_path / "cases" / "one"
    elsewhere.mkdir(parents=True)
    case_file = _case_with(
        elsewhere, "../../data/logs/*.parquet", training="../../data/training.parquet"
    )
    case = load_case(case_file)
    assert len(case.serving) == len(samples.load("card_fraud").serving)
    assert case.data_files("serving")[0] == (tmp_path / "data/logs/2025-07.parquet").resolve()
    absolute = _case_with(elsewhere, str(tmp_path / "data" / "logs" / "*.parquet"))
    assert len(data_files(absolute, case.spec)["serving"]) == 3


def test_data_files_does_not_read_data(split_log: Path) -> None:
    case_file = _case_with(split_log, "logs/*.parquet")
    spec = load_case(case_file).spec
    files = data_files(case_file, spec)
    assert set(files) == {"training", "serving"}
    assert len(files["serving"]) == 3
    # a bad pattern gives no files rather than an error (load_case explains)
    bare = CaseSpec.model_validate(
        {**spec.model_dump(exclude_none=True), "serving": {"path": "nothing/*.parquet"}}
    )
    assert data_files(case_file, bare)["serving"] == []


def _error(case_file: Path) -> str:
    with pytest.raises(DataError) as info:
        load_case(case_file)
    return str(info.value)


def test_glob_matching_nothing(split_log: Path) -> None:
    message = _error(_case_with(split_log, "logs/*.csv"))
    assert "matches no file" in message
    assert "case.yaml" in message and "serving.path 'logs/*.csv'" in message
    assert "How to fix" in message


def test_glob_matching_a_folder(split_log: Path) -> None:
    message = _error(_case_with(split_log, "*"))
    assert "matches a folder" in message and "logs" in message
    assert "serving.path '*'" in message


def test_glob_matching_mixed_formats_and_other_files(tmp_path: Path, split_log: Path) -> None:
    shutil.copytree(split_log, tmp_path / "c")
    logs = tmp_path / "c" / "logs"
    pd.read_parquet(logs / "2025-09.parquet").head(50).to_csv(logs / "2025-10.csv", index=False)
    message = _error(_case_with(tmp_path / "c", "logs/2025-*"))
    assert "mix CSV and Parquet" in message and "2025-10.csv" in message
    (logs / "2025-10.csv").unlink()
    (logs / "_SUCCESS").write_text("")
    message = _error(_case_with(tmp_path / "c", "logs/*"))
    assert "neither CSV nor Parquet" in message and "_SUCCESS" in message


def test_glob_files_with_other_columns(tmp_path: Path, split_log: Path) -> None:
    shutil.copytree(split_log, tmp_path / "c")
    odd = tmp_path / "c" / "logs" / "2025-08.parquet"
    frame = pd.read_parquet(odd).drop(columns=["channel"]).rename(columns={"region": "zone"})
    frame.to_parquet(odd, index=False)
    message = _error(_case_with(tmp_path / "c", "logs/*.parquet"))
    assert "logs/2025-08.parquet does not have the same columns as logs/2025-07.parquet" in (
        message
    )
    assert "missing 'channel', 'region'" in message and "extra 'zone'" in message


def test_csv_files_read_as_one(tmp_path: Path) -> None:
    serving = samples.load("card_fraud").serving.head(3_000)
    paths = []
    for i, start in enumerate((0, 1_000, 2_500)):
        paths.append(tmp_path / f"log-{i}.csv")
        serving.iloc[start : (1_000, 2_500, 3_000)[i]].to_csv(paths[-1], index=False)
    serving.to_csv(tmp_path / "whole.csv", index=False)
    names = [p.name for p in paths]
    joined = read_tables(paths, name="log-*.csv", names=names)
    pd.testing.assert_frame_equal(joined, read_table(tmp_path / "whole.csv"))


def test_plain_paths_are_unchanged(split_log: Path) -> None:
    case_file = _case_with(split_log, "logs/2025-07.parquet")
    case = load_case(case_file)
    assert len(case.serving) == 20_000
    assert case.data_files("serving") == ((split_log / "logs" / "2025-07.parquet").resolve(),)
    message = _error(_case_with(split_log, "logs/missing.parquet"))
    assert "logs/missing.parquet: the file does not exist" in message


# --- the generator writing parts -------------------------------------------------------------


def test_parts_layout_and_case_file(parts_case_file: Path, parts_case) -> None:
    folder = parts_case_file.parent
    names = sorted(p.name for p in (folder / "serving_log").iterdir())
    assert names == [f"part-{k:05d}.parquet" for k in range(PARTS)]
    assert (folder / "training.parquet").is_file()
    assert "serving: {path: serving_log/*.parquet}" in parts_case_file.read_text()
    assert [p.name for p in parts_case.data_files("serving")] == names
    assert len(parts_case.training) + len(parts_case.serving) > ROWS  # July is in both
    ids = pd.concat([parts_case.training["transaction_id"], parts_case.serving["transaction_id"]])
    assert ids.nunique() == ROWS  # rows counts every transaction of the year, once


def test_parts_are_byte_reproducible(tmp_path: Path) -> None:
    def write(folder: str, seed: int = 1, parts: int = 3) -> Path:
        return samples.write("card_fraud", tmp_path / folder, rows=8_000, seed=seed, parts=parts)

    first, again = write("a").parent, write("b").parent
    names = [
        "case.yaml",
        "training.parquet",
        *(f"serving_log/part-{k:05d}.parquet" for k in range(3)),
    ]
    for name in names:
        assert (first / name).read_bytes() == (again / name).read_bytes()
    part = "serving_log/part-00000.parquet"
    assert (write("c", seed=2).parent / part).read_bytes() != (first / part).read_bytes()
    assert (write("d", parts=4).parent / part).read_bytes() != (first / part).read_bytes()


def test_rewriting_with_fewer_parts_leaves_no_stale_part(tmp_path: Path) -> None:
    samples.write("card_fraud", tmp_path, rows=4_000, seed=0, parts=3)
    case_file = samples.write("card_fraud", tmp_path, rows=4_000, seed=0, parts=2)
    assert len(list((tmp_path / "serving_log").iterdir())) == 2
    assert len(load_case(case_file).data_files("serving")) == 2


def test_parts_are_contiguous_time_spans_in_order(parts_case_file: Path) -> None:
    spans = []
    for k in range(PARTS):
        part = pq.read_table(parts_case_file.parent / f"serving_log/part-{k:05d}.parquet")
        time = part.column("event_time").to_pandas()
        assert time.is_monotonic_increasing
        spans.append((time.min(), time.max(), len(time)))
    for (_, end, _), (start, _, _) in itertools.pairwise(spans):
        assert end <= start
    sizes = [n for *_, n in spans]
    assert max(sizes) < 1.2 * min(sizes)  # parts of about equal rows
    assert spans[0][0] >= card_fraud.SERVING_START


def test_parts_keep_the_planted_problems(parts_case) -> None:
    training, serving = parts_case.training, parts_case.serving
    assert serving["event_time"].is_monotonic_increasing
    assert serving["transaction_id"].is_monotonic_increasing
    # new category: never in training, from 1 September in serving
    new = serving["merchant_category"] == card_fraud.NEW_CATEGORY
    assert (training["merchant_category"] != card_fraud.NEW_CATEGORY).all()
    assert new.sum() > 300
    first = serving.loc[new, "event_time"].min()
    assert (
        card_fraud.NEW_CATEGORY_START
        <= first
        < card_fraud.NEW_CATEGORY_START + pd.Timedelta(days=1)
    )
    # stuck device score in the incident window, and only there
    window = (serving["event_time"] >= card_fraud.INCIDENT_START) & (
        serving["event_time"] < card_fraud.INCIDENT_END
    )
    stuck = serving["device_risk_score"] == card_fraud.DEVICE_RISK_DEFAULT
    assert window.sum() > 1_000 and stuck[window].all() and stuck[~window].mean() < 0.01
    # labels 30-90 days late, and missing after the snapshot
    labelled = serving[serving["is_fraud"].notna()]
    delay = (labelled["label_time"] - labelled["event_time"]).dt.total_seconds() / 86_400
    assert delay.min() >= 30 and delay.max() <= 90
    too_late = serving["event_time"] > card_fraud.SNAPSHOT - pd.Timedelta(days=30)
    assert serving.loc[too_late, "is_fraud"].isna().all()
    # July in both sets: leaky chargebacks offline, miles and a 7-day window online
    july = training[training["event_time"] >= pd.Timestamp("2025-07-01", tz="UTC")]
    shared = july.merge(serving, on="transaction_id", suffixes=("_off", "_on"))
    assert len(shared) == len(july) > 2_000
    fraud = shared[shared["is_fraud_off"] == 1]
    assert (fraud["chargebacks_90d_off"] > 0).mean() > 0.8
    assert (fraud["chargebacks_90d_on"] > 0).mean() < 0.1
    ratio = shared["distance_from_home_km_off"] / shared["distance_from_home_km_on"]
    assert ratio.median() == pytest.approx(card_fraud.KM_PER_MILE, abs=0.002)
    both = shared["avg_amount_30d_off"].notna() & shared["avg_amount_30d_on"].notna()
    assert (
        shared.loc[both, "avg_amount_30d_off"] != shared.loc[both, "avg_amount_30d_on"]
    ).mean() > 0.8
    assert shared["avg_amount_30d_on"].isna().mean() > shared["avg_amount_30d_off"].isna().mean()
    # rolling windows carried across parts: no empty-history cliff at a part's start
    assert (serving["account_age_days"] >= 0).all()
    start_of_part = serving["event_time"] < serving["event_time"].iloc[0] + pd.Timedelta(days=1)
    assert serving.loc[start_of_part, "avg_amount_30d"].notna().mean() > 0.5
    # the holiday season: more volume
    season = serving["event_time"] >= card_fraud.HOLIDAY_START
    autumn = (serving["event_time"] >= card_fraud.NEW_CATEGORY_START) & ~season
    assert 1.3 < (season.sum() / 34) / (autumn.sum() / 88) < 1.9


def test_skew_audit_runs_on_a_case_in_parts(parts_case) -> None:
    result = skew.audit(parts_case)
    assert result is not None


def test_parts_refused_where_not_supported(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="cannot be written in parts"):
        samples.write("delivery_time", tmp_path, parts=2)
    for bad in (0, -1, 2.5, True, card_fraud.MAX_PARTS + 1):
        with pytest.raises(ParameterError, match="parts"):
            samples.write("card_fraud", tmp_path, rows=4_000, parts=bad)
    with pytest.raises(ParameterError, match="without a transaction"):
        samples.write("card_fraud", tmp_path, rows=2_000, parts=2_000)
