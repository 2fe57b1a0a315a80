"""The elec2 sample: real data, rebuilt the stated way, byte-reproducible, with its real drift.

Every magnitude stated in ``prodready.samples.elec2.KNOWN_PROBLEMS`` and in docs/sample_cases.md
is measured here on the bundled copy (what users open).
"""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from typer.testing import CliRunner

from prodready import models, samples
from prodready.cli import app
from prodready.errors import ParameterError
from prodready.overview import overview
from prodready.resources import sample_dir
from prodready.samples import elec2
from prodready.skew import audit

REPO = Path(__file__).resolve().parents[1]
SHARED_CSV = REPO.parent / "shared" / "data" / "elec2.csv"
FILES = ("case.yaml", "training.parquet", "serving_log.parquet")


def auc(frame: pd.DataFrame, score: str | np.ndarray) -> float:
    values = frame[score] if isinstance(score, str) else score
    return float(roc_auc_score(frame["price_up"].astype(int), values))


def by_month(frame: pd.DataFrame, score: str = "score") -> pd.Series:
    """ROC AUC per calendar month (UTC), index = month period."""
    month = frame["interval_start"].dt.tz_localize(None).dt.to_period("M")
    return frame.groupby(month).apply(lambda part: auc(part, score))


@pytest.fixture(scope="module")
def case():
    return samples.load("elec2")


@pytest.fixture(scope="module")
def everything(case) -> pd.DataFrame:
    return pd.concat([case.training, case.serving], ignore_index=True)


@pytest.fixture(scope="module")
def source() -> pd.DataFrame:
    return elec2.read_source()


# --- the shipped data and reproducibility -----------------------------------------------------


def test_shipped_csv_is_an_unmodified_copy(source) -> None:
    assert elec2.SOURCE.is_file()
    assert elec2.SOURCE.is_relative_to(REPO / "src" / "prodready")  # inside the package (wheel)
    assert len(source) == elec2.DEFAULT_ROWS == 45_312
    assert list(source.columns) == elec2.SOURCE_COLUMNS
    if SHARED_CSV.is_file():  # the project's shared copy, when this checkout has it
        unpacked = (SHARED_CSV.read_bytes(), gzip.decompress(elec2.SOURCE.read_bytes()))
        digest = [hashlib.sha256(data).hexdigest() for data in unpacked]
        assert digest[0] == digest[1]


def test_write_is_byte_reproducible_and_equals_the_bundled_copy(tmp_path: Path) -> None:
    first = samples.write("elec2", tmp_path / "a")
    second = samples.write("elec2", tmp_path / "b", rows=elec2.DEFAULT_ROWS, seed=0)
    assert first == tmp_path / "a" / "case.yaml" and second == tmp_path / "b" / "case.yaml"
    bundled = sample_dir("elec2")
    for name in FILES:
        data = (tmp_path / "a" / name).read_bytes()
        assert data == (tmp_path / "b" / name).read_bytes(), name
        assert data == (bundled / name).read_bytes(), name
    assert not list((tmp_path / "a").glob(".*.tmp"))
    assert sum((bundled / name).stat().st_size for name in FILES) < 3_000_000


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"rows": 10_000}, "45312"),
        ({"rows": 45_313}, "fixed number of rows"),
        ({"seed": 1}, "nothing random to seed"),
        ({"seed": True}, "whole number"),
    ],
)
def test_write_refuses_another_size_or_seed(options, message, tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match=message) as error:
        samples.write("elec2", tmp_path / "out", **options)
    assert error.value.where in ("rows", "seed") and error.value.fix
    if options.get("seed") is not True:  # elec2's own refusal points to the synthetic samples
        assert "delivery_time" in error.value.fix
    assert not (tmp_path / "out").exists()


def test_cli_refuses_another_size(tmp_path: Path) -> None:
    args = ["sample", "elec2", "--rows", "1000", "--out", str(tmp_path / "out")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "fixed number of rows" in result.stderr and "How to fix:" in result.stderr
    assert not (tmp_path / "out").exists()


# --- the rebuild the README describes ---------------------------------------------------------


def test_timestamps_are_rebuilt_from_the_row_order(everything, source) -> None:
    assert len(everything) == len(source)
    start = everything["interval_start"]
    assert start.iloc[0] == pd.Timestamp("1996-05-07 00:00", tz="UTC")
    assert (start.diff().iloc[1:] == pd.Timedelta(minutes=30)).all()
    assert start.iloc[-1] == pd.Timestamp("1998-12-06 23:30", tz="UTC")
    # the README: the rebuilt weekday agrees with `day` (1 = Monday) on every row
    assert (everything["day"].astype(int) == start.dt.day_of_week + 1).all()
    assert (source["day"] == start.dt.day_of_week + 1).all()
    # and `period` is the half hour of the day, 0 to 1 in 47 steps
    position = np.arange(len(everything))
    assert (np.round(everything["period"] * 47) == position % 48).all()
    assert (everything["label_time"] == start + pd.Timedelta(minutes=30)).all()
    assert (everything["record_id"] == [f"elec2-{i:06d}" for i in position]).all()
    assert (everything["price_up"].astype(int) == (source["class"] == "UP")).all()
    for name in elec2.FEATURE_NAMES[1:]:
        np.testing.assert_array_equal(everything[name].to_numpy(), source[name].to_numpy())
    assert "date" not in everything.columns  # not monotonic, and it would only encode time
    assert not source["date"].is_monotonic_increasing


def test_training_is_the_first_twelve_months(case) -> None:
    training, serving = case.training, case.serving
    assert len(training) == 365 * 48  # 1996-05-07 .. 1997-05-06
    assert training["interval_start"].max() < elec2.TRAINING_END
    assert serving["interval_start"].min() == elec2.TRAINING_END
    assert serving["price_up"].notna().all() and serving["label_time"].notna().all()
    assert "challenger_score" not in training.columns
    assert not set(training["record_id"]) & set(serving["record_id"])


def test_case_file_declares_the_contract(case) -> None:
    spec = case.spec
    assert spec.task == "binary"
    assert [(f.name, f.type) for f in spec.features] == [
        ("day", "categorical"),
        *[(name, "numeric") for name in elec2.FEATURE_NAMES[1:]],
    ]
    assert all(f.available_at_prediction and f.availability_lag is None for f in spec.features)
    columns = spec.columns
    assert (columns.id, columns.timestamp, columns.label) == (
        "record_id",
        "interval_start",
        "price_up",
    )
    assert (columns.prediction, columns.challenger, columns.label_time) == (
        "score",
        "challenger_score",
        "label_time",
    )
    business = spec.business
    assert business.currency == "AUD" and business.threshold == 0.5
    assert business.value.model_dump() == {
        "true_positive": 10,
        "false_positive": -10,
        "false_negative": 0,
        "true_negative": 0,
    }
    assert (sample_dir("elec2") / "case.yaml").read_text() == elec2.case_yaml()


def test_champion_and_challenger_are_the_stated_baselines(case) -> None:
    training = case.training
    first = training[training["interval_start"] < elec2.CHAMPION_END]
    last = training[training["interval_start"] >= elec2.CHAMPION_END]
    assert len(first) == 184 * 48 and len(last) == 181 * 48  # 6 months each
    champion = models.fit(first, case.features, "price_up", seed=0)
    challenger = models.fit(last, case.features, "price_up", seed=0)
    for frame in (training, case.serving):
        np.testing.assert_allclose(champion.predict_score(frame), frame["score"], atol=1e-6)
    np.testing.assert_allclose(
        challenger.predict_score(case.serving), case.serving["challenger_score"], atol=1e-6
    )


# --- the known problems, with their magnitudes ------------------------------------------------


def test_concept_drift_champion_auc_falls_in_serving(case) -> None:
    training, serving = case.training, case.serving
    fitted_on = training["interval_start"] < elec2.CHAMPION_END
    assert 0.96 <= auc(training[fitted_on], "score") <= 0.98  # in sample
    assert 0.84 <= auc(training[~fitted_on], "score") <= 0.87  # training months it never saw
    assert 0.74 <= auc(serving, "score") <= 0.76
    monthly = by_month(serving)
    assert len(monthly) == 20
    month = {str(k): v for k, v in monthly.items()}
    assert month["1997-05"] >= 0.9 and 0.86 <= month["1997-06"] <= 0.88
    # below 0.80 from July 1997: the first serving month to fall under it
    first_below = next(k for k, v in month.items() if v < 0.80)
    assert first_below == "1997-07"
    assert all(0.73 <= month[m] <= 0.83 for m in ("1997-07", "1997-08", "1997-09", "1997-10"))
    assert 0.86 <= month["1997-11"] <= 0.88
    worst = monthly[(monthly.index >= "1997-12") & (monthly.index <= "1998-04")]
    assert (worst < 0.70).all() and (worst > 0.57).all()
    assert monthly.idxmin() == pd.Period("1998-01", "M") and 0.57 <= monthly.min() <= 0.59
    assert str(elec2.WORST_START.date()) == "1997-12-01"
    late = monthly[monthly.index >= "1998-07"]
    assert (late >= 0.86).all() and (late <= 0.94).all()


def test_filled_victorian_columns(case) -> None:
    training, serving = case.training, case.serving
    before = training["interval_start"] < elec2.VICTORIA_START
    assert before.mean() == pytest.approx(0.9945, abs=0.0001)
    fills = {"vicprice": 0.003467, "vicdemand": 0.422915, "transfer": 0.414912}
    for name, fill in fills.items():
        assert (training.loc[before, name] == fill).all(), name
        assert (training.loc[~before, name] == fill).mean() < 0.05, name
        assert (training[name] == fill).mean() == pytest.approx(0.9945, abs=0.0001)
    assert (serving["vicprice"] == fills["vicprice"]).mean() < 0.0002
    assert (serving["vicdemand"] == fills["vicdemand"]).sum() == 1
    assert 0.001 < (serving["transfer"] == fills["transfer"]).mean() < 0.003


def test_same_period_price_is_strong_alone(case) -> None:
    assert 0.88 <= auc(case.training, "nswprice") <= 0.89
    assert 0.77 <= auc(case.serving, "nswprice") <= 0.78


def test_challenger_is_not_better(case) -> None:
    serving = case.serving
    assert 0.71 <= auc(serving, "challenger_score") <= 0.72
    assert auc(serving, "challenger_score") < auc(serving, "score") - 0.03
    champion, challenger = by_month(serving), by_month(serving, "challenger_score")
    wins = sorted(str(m) for m in champion.index[challenger > champion])
    assert wins == ["1997-05", "1998-05", "1998-06"]
    assert challenger["1997-05"] == pytest.approx(0.93, abs=0.005)


def test_skew_audit_sees_the_artefacts(case) -> None:
    result = audit(case)
    table = result.to_frame()
    assert table.loc["transfer", "psi"] == pytest.approx(4.8, abs=0.1)
    assert table.loc["vicdemand", "psi"] == pytest.approx(3.2, abs=0.1)
    assert table.loc["vicprice", "psi"] == pytest.approx(1.4, abs=0.1)
    assert (table.loc[["transfer", "vicdemand", "vicprice"], "severity"] == "high").all()
    suspects = set(result.leakage.suspects)
    assert {"nswprice", "vicprice", "vicdemand"} <= suspects
    assert table.loc["period", "psi"] < 0.01 and table.loc["day", "psi"] < 0.01
    assert result.rows is None or result.rows.joined == 0  # no id in both sets


def test_overview_numbers_in_the_docs(case) -> None:
    result = overview(case, n_resamples=200)
    row = result.headline.loc["roc_auc"]
    assert row["offline"] == pytest.approx(0.922, abs=0.001)
    assert row["serving"] == pytest.approx(0.753, abs=0.001)
    assert 0.745 < row["serving_low"] < 0.75 and 0.756 < row["serving_high"] < 0.762
    assert result.business_value.total == pytest.approx(35_280)
    assert result.business_value.per_1000 == pytest.approx(1_269, abs=1)
    assert result.value_without_model.total == 0


# --- the table, the attribution, the docs ----------------------------------------------------


def test_known_problems_frame(case) -> None:
    frame = samples.known_problems("elec2")
    assert list(frame.columns) == ["problem", "feature", "start", "end", "description"]
    assert frame["problem"].is_unique and len(frame) == len(elec2.KNOWN_PROBLEMS) == 6
    assert str(frame["start"].dtype) == "datetime64[us, UTC]"
    assert set(frame["feature"].dropna()) <= set(case.feature_names)
    dated = frame.dropna(subset=["start"])
    assert (dated["start"] < dated["end"]).all()
    drift = frame.set_index("problem").loc["concept_drift"]
    assert (drift["start"], drift["end"]) == (elec2.TRAINING_END, elec2.END)
    assert pd.Timestamp("1998-12-07", tz="UTC") == elec2.END


def test_attribution_is_stated_everywhere(case) -> None:
    docs = (REPO / "docs" / "sample_cases.md").read_text()
    for text in (case.spec.description, elec2.__doc__, docs):
        for words in ("Harries", "Gama", "public domain", "PDDL"):
            assert words in text, words


def test_docs_name_every_problem_with_its_feature_and_dates() -> None:
    docs = (REPO / "docs" / "sample_cases.md").read_text()
    section = docs[docs.index("## `elec2`") :]
    for row in samples.known_problems("elec2").itertuples():
        line = next(t for t in section.splitlines() if t.startswith(f"| `{row.problem}`"))
        if isinstance(row.feature, str):
            assert f"`{row.feature}`" in line
        for moment in (row.start, row.end):
            if not pd.isna(moment):
                assert moment.strftime("%Y-%m-%d") in line
    assert "prodready sample elec2 --out" in docs
