"""A case whose serving log stays on disk (``load_case(..., lazy=True)``) and the skew audit on it.

The proof: on a log of about 215,000 rows (beyond the 200,000 values where the in-memory audit
also takes the binned path), the lazy audit's distribution measures, missing rates, months and
row-level counts equal the in-memory audit's, whether the in-memory sample holds every row or
only a few thousand. The model-based parts (metric gap, leakage probe) run on the sample; they
are replaced by one fixed result in the equality tests (they cost a minute per audit here) and
checked for real on a small case.
"""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from prodready import load_case, samples, skew
from prodready.case import DataSource
from prodready.errors import DataError, ParameterError
from prodready.skew.distribution import ALL_COLUMNS

pytestmark = pytest.mark.slow  # a long file: its worker starts it first (tests/conftest.py)

audit_module = importlib.import_module("prodready.skew.audit")

ROWS, PARTS = 400_000, 4
SMALL_ROWS, SMALL_PARTS = 30_000, 2
DISTRIBUTION = [*ALL_COLUMNS, "missing_train", "missing_serving"]
ROW_COUNTS = ["compared", "matches", "mismatches", "missing_only_training", "missing_only_serving"]


@pytest.fixture(scope="module")
def big_case_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return samples.write("card_fraud", tmp_path_factory.mktemp("big"), rows=ROWS, parts=PARTS)


@pytest.fixture(scope="module")
def small_case_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("small")
    return samples.write("card_fraud", folder, rows=SMALL_ROWS, parts=SMALL_PARTS)


@pytest.fixture(scope="module")
def small_audit(small_case_file: Path) -> skew.SkewAudit:
    """The real audit (models included) of the small case, lazily, on a sample of 3,000."""
    return skew.audit(load_case(small_case_file, lazy=True, sample_rows=3_000))


@pytest.fixture(scope="module")
def fixed_models(small_audit: skew.SkewAudit):
    """The model-based parts replaced by the small case's results (same features)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(audit_module, "probe_leakage", lambda case, seed=0: small_audit.leakage)
        patch.setattr(audit_module, "metric_gap", lambda case, seed=0: small_audit.metric_gap)
        yield


@pytest.fixture(scope="module")
def eager(big_case_file: Path, fixed_models) -> skew.SkewAudit:
    return skew.audit(load_case(big_case_file))


@pytest.fixture(scope="module")
def lazy_all(big_case_file: Path, fixed_models) -> skew.SkewAudit:
    return skew.audit(load_case(big_case_file, lazy=True, sample_rows=10_000_000))


@pytest.fixture(scope="module")
def lazy_sample(big_case_file: Path, fixed_models) -> skew.SkewAudit:
    """A small sample (the training data too: read from its file, every row), and the files
    profiled in batches of 30,000 rows whose profiles merge."""
    arrow_engine = importlib.import_module("prodready.engine.arrow_engine")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(arrow_engine, "BATCH_ROWS", 30_000)  # several batches per file, merged
        return skew.audit(load_case(big_case_file, lazy=True, sample_rows=5_000, seed=7))


def _same_features(a: skew.SkewAudit, b: skew.SkewAudit) -> None:
    left, right = a.features.sort_index(), b.features.sort_index()
    assert list(left.index) == list(right.index)
    np.testing.assert_allclose(
        left[DISTRIBUTION].to_numpy(float), right[DISTRIBUTION].to_numpy(float), rtol=1e-9
    )
    for column in ("kind", "severity", "problem", "note", "unit_hint", "row_mismatch_rate"):
        assert left[column].tolist() == right[column].tolist(), column


def _same_months(a: skew.SkewAudit, b: skew.SkewAudit) -> None:
    left = a.by_month.sort_values(["feature", "month"]).reset_index(drop=True)
    right = b.by_month.sort_values(["feature", "month"]).reset_index(drop=True)
    assert (
        left[["feature", "month", "rows"]]
        .astype(str)
        .equals(right[["feature", "month", "rows"]].astype(str))
    )
    np.testing.assert_allclose(
        left[["psi", "js_distance"]].to_numpy(float),
        right[["psi", "js_distance"]].to_numpy(float),
        rtol=1e-9,
    )


def _same_rows(a: skew.SkewAudit, b: skew.SkewAudit) -> None:
    assert (a.rows.joined, a.rows.only_training, a.rows.only_serving) == (
        b.rows.joined,
        b.rows.only_training,
        b.rows.only_serving,
    )
    left, right = a.rows.features, b.rows.features
    assert left[ROW_COUNTS].equals(right[ROW_COUNTS])
    assert left["unit_hint"].tolist() == right["unit_hint"].tolist()
    np.testing.assert_allclose(left["median_ratio"], right["median_ratio"], rtol=1e-12)


# -- the lazy case ------------------------------------------------------------------------------


def test_a_lazy_case_holds_a_reproducible_time_ordered_sample(big_case_file: Path) -> None:
    case = load_case(big_case_file, lazy=True, sample_rows=5_000, seed=7)
    source = case.serving_source
    files = sorted((big_case_file.parent / "serving_log").glob("*.parquet"))
    total = sum(pq.read_metadata(f).num_rows for f in files)
    assert source == DataSource(files=tuple(files), rows=total, sample_rows=5_000, seed=7)
    training = big_case_file.parent / "training.parquet"
    training_rows = pq.read_metadata(training).num_rows
    assert case.training_source == DataSource(
        files=(training.resolve(),), rows=training_rows, sample_rows=5_000, seed=7, role="training"
    )
    assert len(case.training) == 5_000 and case.training["event_time"].is_monotonic_increasing
    assert f"training={training_rows:,} rows on disk (a sample of 5,000 in memory)" in repr(case)
    assert total > 200_000 and len(case.serving) == 5_000
    assert case.serving["event_time"].is_monotonic_increasing
    assert case.serving["transaction_id"].is_unique
    assert f"serving={total:,} rows on disk (a sample of 5,000 in memory)" in repr(case)
    again = load_case(big_case_file, lazy=True, sample_rows=5_000, seed=7)
    assert again.serving.equals(case.serving)
    other = load_case(big_case_file, lazy=True, sample_rows=5_000, seed=8)
    assert not other.serving["transaction_id"].equals(case.serving["transaction_id"])
    # the sample is canonical, like a whole log: the same dtypes as the eager loader's
    eager = load_case(big_case_file)
    assert case.serving.dtypes.equals(eager.serving.dtypes)
    assert eager.serving_source is None
    # uniform: the sample's months follow the log's
    shares = [
        frame["event_time"].dt.month.value_counts(normalize=True).sort_index()
        for frame in (eager.serving, case.serving)
    ]
    assert np.abs(shares[0] - shares[1]).max() < 0.03


def test_a_sample_as_large_as_the_log_is_the_whole_log(big_case_file: Path) -> None:
    lazy = load_case(big_case_file, lazy=True, sample_rows=10_000_000)
    assert lazy.serving.equals(load_case(big_case_file).serving)
    assert not lazy.serving_source.is_sample
    assert lazy.serving_source.sample_rows == lazy.serving_source.rows == len(lazy.serving)


# -- the audit: every row, whatever the sample ---------------------------------------------------


def test_lazy_audit_on_all_rows_equals_the_in_memory_audit(eager, lazy_all) -> None:
    _same_features(eager, lazy_all)
    _same_months(eager, lazy_all)
    _same_rows(eager, lazy_all)
    assert "every part of the audit used all of its rows" in lazy_all.serving_note
    assert eager.serving_note == ""


def test_lazy_audit_on_a_small_sample_still_uses_every_row(eager, lazy_sample) -> None:
    _same_features(eager, lazy_sample)
    _same_months(eager, lazy_sample)
    _same_rows(eager, lazy_sample)
    assert eager.features.loc["merchant_category", "unseen_share"] > 0  # each unseen label apart
    assert "uniform sample of 5,000 of the" in lazy_sample.serving_note
    texts = [f.text for f in lazy_sample.summary()]
    assert any("row-level skew use every row" in t for t in texts)
    # the scatter pairs and examples come from the whole log, capped per feature
    pairs = lazy_sample.rows.pairs.groupby("feature").size()
    assert pairs.max() <= 2_000 and pairs["distance_from_home_km"] == 2_000
    ratio = lazy_sample.rows.pairs.query("feature == 'distance_from_home_km'")
    ratios = ratio["serving"] / ratio["training"]
    assert np.median(ratios) == pytest.approx(0.621371, rel=1e-3)  # km to miles, rounded values
    examples = lazy_sample.rows.examples
    assert set(examples["feature"]) == {
        "distance_from_home_km",
        "avg_amount_30d",
        "chargebacks_90d",
    }


def test_the_model_parts_say_they_ran_on_the_sample(small_audit: skew.SkewAudit) -> None:
    said = "a uniform sample of 3,000 of the"
    assert all(said in note for note in small_audit.metric_gap.table["note"])
    assert all(said in note for note in small_audit.leakage.features["note"])
    gap = small_audit.summary()[0].text
    assert "fitted on a uniform sample of 3,000 of the" in gap
    assert "serving scored on a uniform sample of 3,000 of the" in gap
    assert small_audit.to_dict()["serving_note"].startswith("The data stays on disk")


# -- bad input: the eager loader's errors ---------------------------------------------------------


def _copy(case_file: Path, folder: Path) -> Path:
    shutil.copytree(case_file.parent, folder)
    return folder / "case.yaml"


def _errors(case_file: Path) -> tuple[str, str]:
    with pytest.raises(DataError) as eager:
        load_case(case_file)
    with pytest.raises(DataError) as lazy:
        load_case(case_file, lazy=True)
    return str(eager.value), str(lazy.value)


def test_a_missing_glob_or_file_fails_as_the_eager_loader(small_case_file, tmp_path) -> None:
    case_file = _copy(small_case_file, tmp_path / "noglob")
    shutil.rmtree(case_file.parent / "serving_log")
    eager, lazy = _errors(case_file)
    assert eager == lazy and "the pattern matches no file" in lazy

    case_file = _copy(small_case_file, tmp_path / "nofile")
    text = case_file.read_text().replace("serving_log/*.parquet", "gone.parquet")
    case_file.write_text(text)
    eager, lazy = _errors(case_file)
    assert eager == lazy and "gone.parquet: the file does not exist" in lazy


def test_a_serving_file_without_a_column_fails_as_the_eager_loader(small_case_file, tmp_path):
    case_file = _copy(small_case_file, tmp_path / "onefile")
    part = case_file.parent / "serving_log" / "part-00001.parquet"
    pq.write_table(pq.read_table(part).drop_columns(["channel"]), part)
    eager, lazy = _errors(case_file)
    assert eager == lazy and "does not have the same columns" in lazy and "'channel'" in lazy

    case_file = _copy(small_case_file, tmp_path / "allfiles")
    for part in (case_file.parent / "serving_log").glob("*.parquet"):
        pq.write_table(pq.read_table(part).drop_columns(["channel"]), part)
    eager, lazy = _errors(case_file)
    assert eager == lazy and "column is missing from the serving data: 'channel'" in lazy


def test_what_the_lazy_path_cannot_read_is_named(small_case_file, tmp_path) -> None:
    case_file = _copy(small_case_file, tmp_path / "text")
    for part in (case_file.parent / "serving_log").glob("*.parquet"):
        table = pq.read_table(part)
        at = table.schema.get_field_index("amount")
        text = pa.array(table["amount"].to_pandas().map("{:.2f}".format))
        pq.write_table(table.set_column(at, "amount", text), part)
    with pytest.raises(DataError, match="column 'amount' holds VARCHAR values"):
        load_case(case_file, lazy=True)

    case_file = _copy(small_case_file, tmp_path / "scores")
    part = case_file.parent / "serving_log" / "part-00000.parquet"
    table = pq.read_table(part)
    at = table.schema.get_field_index("score")
    logits = pa.array(table["score"].to_numpy() * 10 - 5)
    pq.write_table(table.set_column(at, "score", logits), part)
    eager, lazy = _errors(case_file)
    assert "score(s) are outside [0, 1]" in eager and "score(s) are outside [0, 1]" in lazy

    with pytest.raises(ParameterError, match="sample_rows"):
        load_case(small_case_file, lazy=True, sample_rows=0)


def test_training_files_are_checked_as_the_eager_loader_checks_them(small_case_file, tmp_path):
    case_file = _copy(small_case_file, tmp_path / "nolabel")
    training = case_file.parent / "training.parquet"
    table = pq.read_table(training)
    at = table.schema.get_field_index("is_fraud")
    labels = table["is_fraud"].to_pandas().astype("Int64")
    labels.iloc[[3, 30]] = pd.NA
    pq.write_table(table.set_column(at, "is_fraud", pa.array(labels)), training)
    eager, lazy = _errors(case_file)
    assert "2 training row(s) have no label" in eager and "2 training row(s) have no label" in lazy

    case_file = _copy(small_case_file, tmp_path / "nocolumn")
    training = case_file.parent / "training.parquet"
    pq.write_table(pq.read_table(training).drop_columns(["chargebacks_90d"]), training)
    eager, lazy = _errors(case_file)
    assert eager == lazy and "missing from the training data: 'chargebacks_90d'" in lazy


def test_a_single_serving_file_and_a_csv_log_load_lazily(small_case_file, tmp_path) -> None:
    case_file = _copy(small_case_file, tmp_path / "csv")
    frames = [pd.read_parquet(p) for p in sorted((case_file.parent / "serving_log").glob("*"))]
    pd.concat(frames).to_csv(case_file.parent / "serving.csv", index=False)
    text = case_file.read_text().replace("serving_log/*.parquet", "serving.csv")
    case_file.write_text(text)
    lazy = load_case(case_file, lazy=True, sample_rows=2_000)
    eager = load_case(case_file)
    assert lazy.serving_source.rows == len(eager.serving) and len(lazy.serving) == 2_000
    assert lazy.serving.dtypes.equals(eager.serving.dtypes)
    again = load_case(case_file, lazy=True, sample_rows=2_000)
    assert again.serving.equals(lazy.serving)
    # a CSV training file is left on disk and sampled the same way
    pd.read_parquet(case_file.parent / "training.parquet").to_csv(
        case_file.parent / "training.csv", index=False
    )
    case_file.write_text(case_file.read_text().replace("training.parquet", "training.csv"))
    lazy = load_case(case_file, lazy=True, sample_rows=2_000)
    assert lazy.training_source.rows == len(eager.training) and len(lazy.training) == 2_000
    assert lazy.training.dtypes.equals(eager.training.dtypes)


def test_audits_that_need_every_row_refuse_a_sample(tmp_path: Path) -> None:
    from prodready import decay, estimate, overview, review, rollout, samples

    case_file = samples.write("card_fraud", tmp_path, rows=20_000, parts=2)
    lazy = load_case(case_file, lazy=True, sample_rows=2_000)
    for run in (
        lambda: overview.overview(lazy),
        lambda: decay.aging_curve(lazy),
        lambda: estimate.estimate_case(lazy),
        lambda: rollout.simulate(lazy),
        lambda: review.simulate(lazy, band=(0.2, 0.6), capacity_per_day=10, cost_per_review=1),
    ):
        with pytest.raises(ParameterError, match="needs the whole training data and serving log"):
            run()
    whole = load_case(case_file, lazy=True, sample_rows=1_000_000)  # the sample is the log
    assert not whole.serving_source.is_sample
    assert overview.overview(whole, n_resamples=20).to_dict()


def test_a_csv_case_audited_lazily_equals_the_eager_audit(big_case_file, tmp_path, eager):
    """CSV files go through DuckDB (ranked order statistics, SQL profiles): the same findings
    as the in-memory audit of the same rows (from Parquet: the CSV holds the same values)."""
    case_file = _copy(big_case_file, tmp_path / "csvs")
    folder = case_file.parent
    with duckdb.connect() as con:  # (pandas' to_csv takes half a minute for these rows)
        for source, target in (
            ("serving_log/*.parquet", "serving.csv"),
            ("training.parquet", "training.csv"),
        ):
            con.execute(
                f"COPY (SELECT * FROM read_parquet('{folder / source}')) "
                f"TO '{folder / target}' (HEADER)"
            )
    text = case_file.read_text().replace("serving_log/*.parquet", "serving.csv")
    case_file.write_text(text.replace("training.parquet", "training.csv"))
    lazy = load_case(case_file, lazy=True, sample_rows=5_000)
    assert lazy.training_source.is_sample and lazy.serving_source.is_sample
    ours = skew.audit(lazy)
    _same_features(eager, ours)
    _same_months(eager, ours)
    _same_rows(eager, ours)


def test_the_audit_tells_its_progress(small_case_file, fixed_models):
    told: list[tuple[float, str]] = []
    skew.audit(
        load_case(small_case_file, lazy=True, sample_rows=3_000),
        progress=lambda done, text: told.append((done, text)),
    )
    fractions = [done for done, _ in told]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    texts = " | ".join(text for _, text in told)
    for part in (
        "distribution skew: profiling the training data",
        "distribution skew: serving log, profiling file 1 of 2",
        "row-level skew on shared ids",
        "leakage probe",
        "metric gap",
    ):
        assert part in texts


def test_a_join_beyond_duckdbs_memory_is_one_clear_error(small_case_file, monkeypatch) -> None:
    from prodready.engine import rows_sql
    from prodready.skew.rows import row_skew

    lazy = load_case(small_case_file, lazy=True, sample_rows=3_000)
    monkeypatch.setattr(rows_sql, "JOIN_MEMORY_LIMIT", "1MB")  # far below one block per thread
    with pytest.raises(DataError) as caught:
        row_skew(lazy)
    message = str(caught.value)
    assert "DuckDB ran out of its memory limit (1MB) joining the training data" in message
    assert "How to fix" in message and "Out of Memory" in message
