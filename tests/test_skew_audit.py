"""The skew audit as a whole: on the sample it finds the planted problems; thresholds, p-value
correction and per-feature notes behave as documented."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from prodready import Case, samples
from prodready.errors import ParameterError
from prodready.skew import SkewAudit, Thresholds, audit, distribution_table
from prodready.spec import CaseSpec

REQUIRED = [
    "kind",
    "psi",
    "js_distance",
    "wasserstein_norm",
    "ks_stat",
    "ks_pvalue",
    "hellinger",
    "linf",
    "chi2_pvalue",
    "unseen_share",
    "missing_train",
    "missing_serving",
    "row_mismatch_rate",
    "available_at_prediction",
    "leakage_suspect",
    "severity",
]


@pytest.fixture(scope="module")
def case() -> Case:
    return samples.load()


@pytest.fixture(scope="module")
def result(sample_run) -> SkewAudit:
    """``audit(samples.load())``: conftest's shared run of the sample's audits holds it."""
    return sample_run().results["skew"]


def test_frame_has_every_column_and_one_row_per_feature(case: Case, result: SkewAudit) -> None:
    frame = result.to_frame()
    assert set(REQUIRED) <= set(frame.columns)
    assert sorted(frame.index) == sorted(case.feature_names)
    assert set(frame["severity"]) <= {"none", "low", "medium", "high"}
    numeric = frame[frame["kind"] == "numeric"]
    categorical = frame[frame["kind"] == "categorical"]
    assert numeric[["linf", "chi2_pvalue", "unseen_share"]].isna().all().all()
    assert categorical[["wasserstein_norm", "ks_stat", "ks_pvalue"]].isna().all().all()
    order = frame["severity"].map({"high": 0, "medium": 1, "low": 2, "none": 3})
    assert order.is_monotonic_increasing  # most severe first


def test_finds_the_planted_problems(result: SkewAudit) -> None:
    frame = result.to_frame()
    leak = frame.loc["chargebacks_90d"]
    assert leak["severity"] == "high" and leak["problem"] == "leakage"
    assert not leak["available_at_prediction"]
    units = frame.loc["distance_from_home_km"]
    assert units["problem"] == "unit change" and "km to miles" in units["unit_hint"]
    window = frame.loc["avg_amount_30d"]
    assert window["severity"] == "high" and window["row_mismatch_rate"] > 0.5
    assert window["availability_lag"] == "1d"
    assert frame.loc["merchant_category", "unseen_share"] > 0.01  # crypto_exchange from September
    texts = " ".join(f.text for f in result.summary())
    assert "km to miles" in texts and "chargebacks_90d" in texts


def test_metric_gap_tells_the_offline_vs_production_story(result: SkewAudit) -> None:
    gap = result.metric_gap
    assert 0.92 <= gap.offline <= 0.96
    assert 0.68 <= gap.serving <= 0.75
    assert abs(gap.honest_offline - gap.honest_serving) < abs(gap.offline - gap.serving)
    first = result.summary()[0]
    assert first.severity == "high"


def test_pvalues_are_benjamini_hochberg_adjusted(case: Case, result: SkewAudit) -> None:
    frame = result.to_frame()
    raw = {}
    for feature in case.features:
        training = case.training[feature.name].dropna()
        serving = case.serving[feature.name].dropna()
        if feature.type == "numeric":
            raw[feature.name] = stats.ks_2samp(training, serving).pvalue
        else:
            counts = pd.concat([training.value_counts(), serving.value_counts()], axis=1)
            raw[feature.name] = stats.chi2_contingency(counts.fillna(0).to_numpy().T).pvalue
    names = list(raw)
    adjusted = stats.false_discovery_control([raw[n] for n in names])
    for name, expected in zip(names, adjusted, strict=True):
        column = "ks_pvalue" if frame.loc[name, "kind"] == "numeric" else "chi2_pvalue"
        assert frame.loc[name, column] == pytest.approx(expected, rel=1e-6, abs=1e-300)


def test_by_month_covers_every_serving_month(case: Case, result: SkewAudit) -> None:
    months = result.by_month[result.by_month["feature"] == "amount"]
    assert len(months) == 6
    assert months["rows"].sum() == case.serving["amount"].notna().sum()
    assert (months["month"].dt.day == 1).all()


def test_to_dict_is_json_safe(result: SkewAudit) -> None:
    data = json.loads(json.dumps(result.to_dict()))
    assert {row["feature"] for row in data["features"]} >= {"amount", "chargebacks_90d"}
    assert data["metric_gap"] and data["summary"][0]["severity"] == "high"


def test_threshold_override_per_feature() -> None:
    case = raw_case()
    default = audit(case).to_frame().loc["good"]
    lenient = audit(case, thresholds={"features": {"good": {"psi": [5, 6, 7]}}})
    relaxed = lenient.to_frame().loc["good"]
    assert default["severity"] in ("medium", "high") and default["problem"] == "distribution shift"
    assert relaxed["severity"] != default["severity"]
    assert lenient.thresholds.band("good", "psi") == (5, 6, 7)


def test_thresholds_are_validated() -> None:
    with pytest.raises(ParameterError, match="three increasing numbers"):
        Thresholds.from_value({"psi": [0.3, 0.2, 0.1]})
    with pytest.raises(ParameterError, match="unknown threshold"):
        Thresholds.from_value({"pis": [0.1, 0.2, 0.3]})
    bands = Thresholds.from_value({"psi": [0.1, 0.2, 0.3], "features": {"x": {"psi": [1, 2, 3]}}})
    assert bands.severity("y", "psi", 0.25) == "medium"
    assert bands.severity("x", "psi", 0.25) == "none"
    assert bands.severity("y", "psi", float("nan")) == "none"


def test_distribution_table(case: Case) -> None:
    numeric = distribution_table(case, "amount", bins=20)
    assert len(numeric) == 20
    assert numeric["training"].sum() == pytest.approx(1)
    assert numeric["serving"].sum() == pytest.approx(1)
    assert (numeric["scale"] == "log").all()  # amounts have a long tail: geometric bins
    assert (distribution_table(case, "hour_of_day")["scale"] == "linear").all()
    categories = distribution_table(case, "merchant_category")
    crypto = categories.set_index("category").loc["crypto_exchange"]
    assert crypto["training"] == 0 and crypto["serving"] > 0


# -- bad input: a per-feature note, and the audit completes for every other feature -----------


def raw_case() -> Case:
    """A case built without validation, holding what validation would normally refuse."""
    rng = np.random.default_rng(3)
    n = 400
    ts = pd.Series(pd.date_range("2025-01-01", periods=n, freq="6h", tz="UTC"))
    y = rng.integers(0, 2, n)
    training = pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(n)],
            "ts": ts,
            "y": pd.array(y, dtype="Int8"),
            "p": rng.random(n),
            "good": rng.normal(size=n),
            "absent": rng.normal(size=n),
            "empty": rng.normal(size=n),
            "constant": 1.0,
            "one_category": "a",
            "mixed": rng.normal(size=n),
            "single": rng.normal(size=n),
        }
    )
    serving = training.assign(
        id=[f"s{i}" for i in range(n)],  # other events: no row-level comparison
        ts=ts + pd.Timedelta(days=120),
        good=rng.normal(0.5, 1, n),
        empty=np.nan,
        mixed=pd.Series(["x"] * n, dtype="str"),
        single=np.where(np.arange(n) == 0, 1.0, np.nan),
    ).drop(columns="absent")
    spec = CaseSpec.model_validate(
        {
            "name": "raw",
            "task": "binary",
            "columns": {"id": "id", "timestamp": "ts", "label": "y", "prediction": "p"},
            "features": [
                {"name": "good", "type": "numeric"},
                {"name": "absent", "type": "numeric", "available_at_prediction": False},
                {"name": "empty", "type": "numeric"},
                {"name": "constant", "type": "numeric"},
                {"name": "one_category", "type": "categorical"},
                {"name": "mixed", "type": "numeric"},
                {"name": "single", "type": "numeric"},
            ],
        }
    )
    return Case(spec=spec, training=training, serving=serving)


def test_bad_features_get_a_note_and_the_rest_is_audited() -> None:
    frame = audit(raw_case()).to_frame()
    notes = frame["note"]
    assert "not in the serving log" in notes["absent"]
    assert "empty on every serving row" in notes["empty"]
    assert "holds text in serving" in notes["mixed"] and "'x'" in notes["mixed"]
    assert notes["single"] != ""  # one value in serving: nothing to compare
    assert "constant in training (1.0)" in notes["constant"]
    assert "single category" in notes["one_category"]
    good = frame.loc["good"]
    assert good["note"] == "" and good["psi"] > 0.1 and good["ks_stat"] > 0.1
    assert frame.loc["empty", "missing_serving"] == 1.0


def test_feature_absent_from_serving_is_graded_and_the_models_still_score() -> None:
    import dataclasses

    case = samples.load()
    lacking = dataclasses.replace(case, serving=case.serving.drop(columns="customer_age"))
    result = audit(lacking)
    row = result.to_frame().loc["customer_age"]
    assert row["missing_serving"] == 1.0 and row["severity"] == "high"
    assert "not in the serving log" in row["note"]
    gap = result.metric_gap
    assert not np.isnan(gap.serving) and not np.isnan(gap.honest_serving)


def test_tolerance_decides_what_counts_as_the_same_value() -> None:
    rng = np.random.default_rng(5)
    n = 300
    training = pd.DataFrame(
        {
            "id": [f"e{i}" for i in range(n)],
            "ts": pd.date_range("2025-01-01", periods=n, freq="h"),
            "y": rng.integers(0, 2, n),
            "p": rng.random(n),
            "x": rng.lognormal(size=n),
        }
    )
    serving = training.assign(x=training["x"] * 1.01)  # 1% apart on every shared event
    case = Case.from_frames(
        training, serving, task="binary", label="y", prediction="p", timestamp="ts", id="id"
    )
    assert audit(case).to_frame().loc["x", "row_mismatch_rate"] == 1.0
    assert audit(case, tolerance=0.02).to_frame().loc["x", "row_mismatch_rate"] == 0.0


def test_bad_thresholds_get_a_clear_message() -> None:
    with pytest.raises(ParameterError, match="alpha must be a number between 0 and 1"):
        Thresholds.from_value({"alpha": "x"})
    with pytest.raises(ParameterError, match="must map measures to bands"):
        Thresholds.from_value({"features": {"x1": [1, 2, 3]}})
    with pytest.raises(ParameterError, match="does not have: nope"):
        audit(raw_case(), thresholds={"features": {"nope": {"psi": [1, 2, 3]}}})


def test_distribution_table_of_an_unknown_feature() -> None:
    with pytest.raises(ParameterError, match="'nope' is not a feature of the case"):
        distribution_table(raw_case(), "nope")
