"""A case file whose training data and serving log are Spark tables (``table: NAME``).

The proof: the same card fraud data as Parquet files and as Spark tables (local Spark) gives
the same distribution measures, missing rates, months and row-level counts, whether the case
is loaded lazily (Spark computes the profiles and the id join; only samples come to pandas) or
whole. Bad input (an unknown table, both path and table, a malformed name, a missing column,
empty ids, text timestamps) gets one clear message.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from prodready import load_case, samples, skew
from prodready.errors import CaseFileError, DataError
from prodready.skew.distribution import ALL_COLUMNS, drift_by_feature
from prodready.skew.rows import row_skew

ROWS, PARTS, SAMPLE = 20_000, 2, 4_000
TRAINING, SERVING = "spark_case_training", "spark_case_serving"
DISTRIBUTION = [*ALL_COLUMNS, "missing_train", "missing_serving"]
ROW_COUNTS = ["compared", "matches", "mismatches", "missing_only_training", "missing_only_serving"]


@pytest.fixture(scope="module")
def files_case(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return samples.write("card_fraud", tmp_path_factory.mktemp("files"), rows=ROWS, parts=PARTS)


def _table_case(files_case: Path, folder: Path, training: str, serving: str) -> Path:
    spec = yaml.safe_load(files_case.read_text())
    spec["training"], spec["serving"] = {"table": training}, {"table": serving}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "case.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def table_case(spark, files_case: Path, tmp_path_factory) -> Path:
    """The same data saved as two tables of Spark's catalog, and a case file naming them."""
    case = load_case(files_case)
    for table, role in ((TRAINING, "training"), (SERVING, "serving")):
        paths = [str(p) for p in case.data_files(role)]
        spark.read.parquet(*paths).write.mode("overwrite").saveAsTable(table)
    return _table_case(files_case, tmp_path_factory.mktemp("tables"), TRAINING, SERVING)


@pytest.fixture(scope="module")
def files_audit(files_case: Path) -> skew.SkewAudit:
    return skew.audit(load_case(files_case, lazy=True, sample_rows=SAMPLE))


def _same_audit(a: skew.SkewAudit, b: skew.SkewAudit) -> None:
    left, right = a.features.sort_index(), b.features.sort_index()
    assert list(left.index) == list(right.index)
    np.testing.assert_allclose(
        left[DISTRIBUTION].to_numpy(float), right[DISTRIBUTION].to_numpy(float), rtol=1e-9
    )
    # severity and problem also weigh the leakage probe, fitted on the samples (drawn otherwise)
    for column in ("kind", "note", "unit_hint", "row_mismatch_rate", "available_at_prediction"):
        assert left[column].tolist() == right[column].tolist(), column
    months = [m.by_month.sort_values(["feature", "month"]).reset_index(drop=True) for m in (a, b)]
    assert months[0][["feature", "rows"]].equals(months[1][["feature", "rows"]])
    assert [str(m) for m in months[0]["month"]] == [str(m) for m in months[1]["month"]]
    np.testing.assert_allclose(
        months[0][["psi", "js_distance"]].to_numpy(float),
        months[1][["psi", "js_distance"]].to_numpy(float),
        rtol=1e-9,
    )
    assert (a.rows.joined, a.rows.only_training, a.rows.only_serving) == (
        b.rows.joined,
        b.rows.only_training,
        b.rows.only_serving,
    )
    assert a.rows.features[ROW_COUNTS].equals(b.rows.features[ROW_COUNTS])
    np.testing.assert_allclose(
        a.rows.features["median_ratio"], b.rows.features["median_ratio"], rtol=1e-12
    )


# -- the case file ----------------------------------------------------------------------------


def test_a_lazy_table_case_holds_a_sample_and_names_its_tables(files_case, table_case) -> None:
    case = load_case(table_case, lazy=True, sample_rows=SAMPLE, seed=3)
    whole = load_case(files_case)
    for source, table, frame in (
        (case.serving_source, SERVING, whole.serving),
        (case.training_source, TRAINING, whole.training),
    ):
        assert source.table == table and source.files == ()
        assert (source.rows, source.sample_rows) == (len(frame), SAMPLE)
        assert source.where == f"Spark table {table}"
    assert len(case.serving) == len(case.training) == SAMPLE
    stamps = case.serving[case.columns.timestamp]
    assert stamps.is_monotonic_increasing and str(stamps.dt.tz) == "UTC"
    ids = case.serving[case.columns.id]
    assert ids.isin(whole.serving[case.columns.id]).all() and ids.is_unique
    again = load_case(table_case, lazy=True, sample_rows=SAMPLE, seed=3)
    pd.testing.assert_frame_equal(case.serving, again.serving)  # the same sample every run
    assert f"serving={len(whole.serving):,} rows in {SERVING} (a sample of 4,000" in repr(case)


def test_a_table_case_loaded_whole_equals_the_files(files_case, table_case) -> None:
    files, tables = load_case(files_case), load_case(table_case)
    assert tables.serving_source is None and tables.training_source is None
    for role in ("training", "serving"):
        key = files.columns.id
        left = getattr(files, role).sort_values(key, ignore_index=True)
        right = getattr(tables, role).sort_values(key, ignore_index=True)[list(left.columns)]
        pd.testing.assert_frame_equal(left, right, check_dtype=False)


def test_the_skew_audit_on_tables_equals_the_audit_on_files(table_case, files_audit) -> None:
    """Spark profiles every row and joins on the ids; DuckDB and pyarrow do on the files. The
    model parts (metric gap, leakage probe) fit on the samples, which Spark draws otherwise."""
    told = []
    on_tables = skew.audit(
        load_case(table_case, lazy=True, sample_rows=SAMPLE),
        progress=lambda fraction, message: told.append(message),
    )
    _same_audit(files_audit, on_tables)
    assert on_tables.rows.joined > 0
    assert any("serving table" in m for m in told)
    assert "stays in Spark" in on_tables.serving_note
    assert f"Spark table {SERVING}" in on_tables.serving_note
    gap = on_tables.metric_gap
    assert 0.5 < gap.offline <= 1 and 0.5 < gap.serving <= 1
    assert "uniform sample of 4,000" in on_tables.sample
    assert on_tables.summary()


def test_a_training_file_and_a_serving_table_mix(files_case, table_case, files_audit, tmp_path):
    """Training from its file (pyarrow), serving from the table (Spark): Spark joins both."""
    spec = yaml.safe_load(table_case.read_text())
    spec["training"] = {"path": str(files_case.parent / samples.TRAINING_FILE)}
    mixed = tmp_path / "case.yaml"
    mixed.write_text(yaml.safe_dump(spec, sort_keys=False))
    case = load_case(mixed, lazy=True, sample_rows=SAMPLE)
    drift = drift_by_feature(case)
    expected = drift_by_feature(load_case(files_case, lazy=True, sample_rows=SAMPLE))
    for name, found in drift.items():
        np.testing.assert_allclose(
            [found.values[c] for c in ALL_COLUMNS],
            [expected[name].values[c] for c in ALL_COLUMNS],
            rtol=1e-9,
        )
    rows = row_skew(case)
    assert rows.features[ROW_COUNTS].equals(files_audit.rows.features[ROW_COUNTS])


# -- bad input ----------------------------------------------------------------------------------


def _spec_with(files_case: Path, folder: Path, **sources) -> Path:
    spec = yaml.safe_load(files_case.read_text())
    spec.update(sources)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "case.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def test_a_source_with_path_and_table_or_a_bad_name_is_refused(files_case, tmp_path) -> None:
    both = _spec_with(
        files_case, tmp_path / "both", serving={"path": "x.parquet", "table": "db.serving"}
    )
    with pytest.raises(CaseFileError, match=r"either path \(files\) or table"):
        load_case(both)
    bad = _spec_with(files_case, tmp_path / "bad", serving={"table": "db.serving; DROP"})
    with pytest.raises(CaseFileError, match="is not a table name"):
        load_case(bad)


def test_an_unknown_table_is_one_clear_error(table_case, files_case, tmp_path) -> None:
    case_file = _spec_with(
        files_case,
        tmp_path / "unknown",
        training={"table": TRAINING},
        serving={"table": "no_such_table"},
    )
    for lazy in (False, True):
        with pytest.raises(DataError) as err:
            load_case(case_file, lazy=lazy)
        text = str(err.value)
        assert text.startswith("serving.table 'no_such_table': is not a table or view Spark knows")
        assert "spark.catalog.listTables" in text


def test_table_contents_are_checked_as_files_are(spark, files_case, table_case, tmp_path) -> None:
    serving = spark.table(SERVING)
    spark_case = load_case(files_case)
    stamp, key = spark_case.columns.timestamp, spark_case.columns.id

    def refused(name: str, frame) -> str:
        frame.write.mode("overwrite").saveAsTable(name)
        case_file = _spec_with(
            files_case, tmp_path / name, training={"table": TRAINING}, serving={"table": name}
        )
        with pytest.raises(DataError) as err:
            load_case(case_file, lazy=True, sample_rows=SAMPLE)
        return str(err.value)

    from pyspark.sql import functions as F

    text = refused("spark_case_no_amount", serving.drop("amount"))
    assert "amount" in text and "Spark table spark_case_no_amount" in text
    text = refused("spark_case_text_time", serving.withColumn(stamp, F.col(stamp).cast("string")))
    assert "holds STRING values in the serving table" in text
    empty_ids = serving.withColumn(key, F.when(F.rand(1) < 0.01, None).otherwise(F.col(key)))
    text = refused("spark_case_empty_ids", empty_ids)
    assert "row(s) have no id" in text and "a scan of the table" in text
    text = refused("spark_case_empty", serving.limit(0))
    assert "the table has no rows" in text
