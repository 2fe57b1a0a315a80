"""Leakage probe: the sample's leaky chargeback count, and small cases with known answers."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from sklearn.metrics import roc_auc_score

from prodready import Case, samples
from prodready.skew.leakage import LeakageProbe, probe_leakage


@pytest.fixture(scope="module")
def sample() -> LeakageProbe:
    return probe_leakage(samples.load())


def make_case(
    train: dict[str, np.ndarray],
    serve: dict[str, np.ndarray],
    y_train: np.ndarray,
    y_serve: np.ndarray,
    *,
    task: str = "binary",
    features: list[dict] | None = None,
) -> Case:
    def frame(values: dict, y: np.ndarray, start: str) -> pd.DataFrame:
        n = len(y)
        return pd.DataFrame(
            {
                "ts": pd.Timestamp(start) + pd.to_timedelta(np.arange(n), unit="min"),
                "y": y,
                "p": np.full(n, 0.5),
                **values,
            }
        )

    if features is None:
        features = [
            {"name": k, "type": "numeric" if np.asarray(v).dtype.kind in "fi" else "categorical"}
            for k, v in train.items()
        ]
    return Case.from_frames(
        frame(train, y_train, "2025-01-01"),
        frame(serve, y_serve, "2025-06-01"),
        task=task,
        label="y",
        prediction="p",
        timestamp="ts",
        features=features,
    )


def honest_and_leaky(n: int = 3_000, seed: int = 0, *, leak_noise: float = 0.05) -> Case:
    """``x`` and ``z``: a modest, stable signal; ``leak``: the label offline, noise online."""
    rng = np.random.default_rng(seed)

    def part(rows: int, online: bool) -> tuple[dict[str, np.ndarray], np.ndarray]:
        x, z = rng.normal(size=rows), rng.normal(size=rows)
        y = (0.8 * x + 0.6 * z + rng.normal(size=rows) > 1.2).astype(int)
        leak = rng.normal(size=rows) if online else y + leak_noise * rng.normal(size=rows)
        return {"x": x, "z": z, "leak": leak}, y

    train, y_train = part(n, online=False)
    serve, y_serve = part(n, online=True)
    return make_case(train, serve, y_train, y_serve)


# -- the sample case --------------------------------------------------------------------------


def test_sample_suspects_the_chargeback_count(sample: LeakageProbe) -> None:
    probe = sample
    table = probe.to_frame()
    assert probe.metric == "ROC AUC"
    assert probe.suspects == ["chargebacks_90d"]
    row = table.loc["chargebacks_90d"]
    assert row["strength_training"] == pytest.approx(0.89, abs=0.02)
    assert row["strength_serving"] == pytest.approx(0.51, abs=0.03)
    assert row["margin_over_next"] > 0.15
    assert row["drop"] > 0.3
    assert row["reason"] == (
        f"alone it scores ROC AUC {row['strength_training']:.2f} in training, "
        f"{row['margin_over_next']:.2f} above any other feature, but "
        f"{row['strength_serving']:.2f} in serving: its value may be computed after the outcome"
    )
    # the honest features stay modest in both sets and change little
    others = table.drop(index="chargebacks_90d")
    assert others["strength_training"].between(0.5, 0.75).all()
    assert (others["drop"].abs() < 0.1).all()
    assert (others["reason"] == "").all()
    assert (table["note"] == "").all()


def test_sample_numeric_strength_is_close_to_the_auc_of_the_raw_value(
    sample: LeakageProbe,
) -> None:
    # a monotone feature: its binned own model ranks about as well as its raw value
    probe = sample
    case = samples.load()
    values = case.training["device_risk_score"]
    filled = values.fillna(values.median())
    auc = roc_auc_score(case.training["is_fraud"].astype(int), filled)
    expected = max(auc, 1 - auc)
    strength = probe.features.loc["device_risk_score", "strength_training"]
    assert strength == pytest.approx(expected, abs=0.02)
    data = json.loads(json.dumps(probe.to_dict()))
    assert {r["feature"] for r in data["features"] if r["leakage_suspect"]} == {"chargebacks_90d"}


# -- known answers ----------------------------------------------------------------------------


def test_perfect_leak_is_suspected_and_honest_features_are_not() -> None:
    probe = probe_leakage(honest_and_leaky())
    table = probe.to_frame()
    assert probe.suspects == ["leak"]
    assert table.loc["leak", "strength_training"] > 0.99
    assert table.loc["leak", "strength_serving"] < 0.56
    assert table.loc["leak", "reason"].startswith("alone it scores ROC AUC 1.00 in training")
    # x and z: stable strengths, small drop, no reason
    assert (table.loc[["x", "z"], "drop"].abs() < 0.05).all()
    assert (table.loc[["x", "z"], "reason"] == "").all()


def test_strong_alone_without_margin_is_still_suspected() -> None:
    # two features equally perfect offline: no margin, but each alone is >= 0.9
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 2_000)
    train = {"a": y + 0.05 * rng.normal(size=2_000), "b": y + 0.05 * rng.normal(size=2_000)}
    serve = {"a": y + 0.05 * rng.normal(size=2_000), "b": rng.normal(size=2_000)}
    table = probe_leakage(make_case(train, serve, y, y)).to_frame()
    assert table["leakage_suspect"].tolist() == [True, True]
    assert table.loc["a", "margin_over_next"] == pytest.approx(0, abs=0.01)
    assert table.loc["a", "reason"] == (
        "alone it scores ROC AUC 1.00 in training (1.00 in serving): its value may be computed "
        "after the outcome"
    )
    assert "but 0.5" in table.loc["b", "reason"]


def test_drop_alone_makes_a_suspect() -> None:
    # x and w are equally useful offline (AUC about 0.76); online w carries nothing
    rng = np.random.default_rng(5)
    n = 4_000
    y_train, y_serve = rng.integers(0, 2, n), rng.integers(0, 2, n)
    train = {"x": y_train + rng.normal(size=n), "w": y_train + rng.normal(size=n)}
    serve = {"x": y_serve + rng.normal(size=n), "w": rng.normal(size=n)}
    table = probe_leakage(make_case(train, serve, y_train, y_serve)).to_frame()
    assert table["leakage_suspect"].tolist() == [False, True]
    row = table.loc["w"]
    assert row["margin_over_next"] < 0.05
    assert row["drop"] > 0.2
    assert row["reason"] == (
        f"alone it scores ROC AUC {row['strength_training']:.2f} in training but "
        f"{row['strength_serving']:.2f} in serving: the offline value may carry information "
        "production does not have at prediction time"
    )


def test_reversed_direction_counts_as_a_drop() -> None:
    rng = np.random.default_rng(6)
    n = 4_000
    y_train, y_serve = rng.integers(0, 2, n), rng.integers(0, 2, n)
    train = {"x": y_train + rng.normal(size=n), "w": y_train + rng.normal(size=n)}
    serve = {"x": y_serve + rng.normal(size=n), "w": -y_serve + rng.normal(size=n)}
    table = probe_leakage(make_case(train, serve, y_train, y_serve)).to_frame()
    row = table.loc["w"]
    # folded, the serving strength looks as good as training; read in training's direction
    # it is below 0.5, so the drop is large
    assert row["strength_serving"] == pytest.approx(row["strength_training"], abs=0.03)
    assert row["drop"] > 0.4
    assert row["leakage_suspect"]
    assert "with its direction reversed" in row["reason"]


def test_categorical_uses_out_of_fold_target_encoding() -> None:
    rng = np.random.default_rng(3)
    n = 3_000
    # a category per row: in-sample encoding would score 1.0, out of fold it is the prior
    unique = np.array([f"u{i}" for i in range(n)], dtype=object)
    # ten categories with different positive rates
    groups = rng.integers(0, 10, n)
    y_group = (rng.random(n) < groups / 10).astype(int)
    train = {"unique": unique, "group": np.array([f"g{g}" for g in groups], dtype=object)}
    # serving: new ids (never seen in training) and the same groups
    serve = {"unique": np.array([f"v{i}" for i in range(n)], dtype=object), "group": train["group"]}
    features = [{"name": "unique", "type": "categorical"}, {"name": "group", "type": "categorical"}]
    table = probe_leakage(make_case(train, serve, y_group, y_group, features=features)).to_frame()
    assert table.loc["unique", "strength_training"] == pytest.approx(0.5)
    assert table.loc["unique", "strength_serving"] == pytest.approx(0.5)  # unseen: the prior
    auc = roc_auc_score(y_group, groups)
    assert table.loc["group", "strength_training"] == pytest.approx(auc, abs=0.01)
    assert table.loc["group", "strength_serving"] == pytest.approx(auc, abs=0.01)


def test_regression_strength_is_absolute_spearman() -> None:
    rng = np.random.default_rng(4)
    n = 1_000
    x_train, x_serve = rng.normal(size=n), rng.normal(size=n)
    y_train = -2 * x_train + rng.normal(size=n)
    y_serve = -2 * x_serve + rng.normal(size=n)
    leak_train = y_train + 0.01 * rng.normal(size=n)
    case = make_case(
        {"x": x_train, "leak": leak_train},
        {"x": x_serve, "leak": rng.normal(size=n)},
        y_train,
        y_serve,
        task="regression",
    )
    probe = probe_leakage(case)
    table = probe.to_frame()
    assert probe.metric == "|Spearman rho|"
    rho = scipy.stats.spearmanr(x_train, y_train).statistic
    assert table.loc["x", "strength_training"] == pytest.approx(abs(rho))
    assert probe.suspects == ["leak"]
    assert table.loc["leak", "reason"].startswith("alone it scores |Spearman rho| 1.00 in training")


# -- degenerate inputs ------------------------------------------------------------------------


def test_constant_missing_and_empty_features_give_notes_not_crashes() -> None:
    rng = np.random.default_rng(8)
    n = 2_000
    y = rng.integers(0, 2, n)
    x = y + rng.normal(size=n)
    case = make_case(
        {"x": x, "constant": np.ones(n), "late": x, "empty": x},
        {"x": x, "constant": np.ones(n), "empty": x},
        y,
        y,
        features=[
            {"name": "x", "type": "numeric"},
            {"name": "constant", "type": "numeric"},
            {"name": "late", "type": "numeric", "available_at_prediction": False},
            {"name": "empty", "type": "numeric"},
        ],
    )
    # the validation refuses an all-empty column; the probe must still cope with one
    case = dataclasses.replace(case, serving=case.serving.assign(empty=np.nan))
    table = probe_leakage(case).to_frame()
    assert table.loc["constant", ["strength_training", "strength_serving"]].tolist() == [0.5, 0.5]
    assert not table.loc["constant", "leakage_suspect"]
    assert math.isnan(table.loc["late", "strength_serving"])
    assert table.loc["late", "note"] == "late is not in the serving log"
    assert math.isnan(table.loc["empty", "strength_serving"])
    assert table.loc["empty", "note"] == "empty is empty on every labelled serving row"
    # same strength as x in training, nothing measurable in serving: not a leakage suspect
    assert not table.loc["empty", "leakage_suspect"]
    assert not table["leakage_suspect"].any()


def test_few_labelled_serving_rows_do_not_judge_a_drop() -> None:
    rng = np.random.default_rng(9)
    n = 2_000
    y_train = rng.integers(0, 2, n)
    y_serve = np.zeros(200, dtype=int)
    y_serve[:10] = 1  # 10 positives: too few to call a drop
    case = make_case(
        {"x": y_train + rng.normal(size=n), "w": y_train + rng.normal(size=n)},
        {"x": rng.normal(size=200), "w": rng.normal(size=200)},
        y_train,
        y_serve,
    )
    table = probe_leakage(case).to_frame()
    assert not table["leakage_suspect"].any()
    assert table["drop"].isna().all()
    assert table["strength_serving"].notna().all()
    assert (table["note"] == "too few labelled serving rows of each class to judge a drop").all()


def test_single_feature_has_no_margin() -> None:
    rng = np.random.default_rng(10)
    y = rng.integers(0, 2, 500)
    table = probe_leakage(
        make_case({"x": y + rng.normal(size=500)}, {"x": y + rng.normal(size=500)}, y, y)
    ).to_frame()
    assert math.isnan(table.loc["x", "margin_over_next"])
    assert not table.loc["x", "leakage_suspect"]


def test_non_monotone_leak_is_suspected() -> None:
    """The outcome at both ends of a feature's range: its raw AUC is 0.5, its own model's is not."""
    rng = np.random.default_rng(2)
    n = 4_000
    x = rng.normal(size=n)
    y = (np.abs(x) > 1).astype(int)
    start = pd.Timestamp("2025-01-01")
    training = pd.DataFrame(
        {
            "ts": start + pd.to_timedelta(np.arange(n), unit="h"),
            "y": y,
            "p": rng.random(n),
            "x": x,
            "noise": rng.normal(size=n),
        }
    )
    serving = training.assign(ts=training["ts"] + pd.Timedelta(days=400), x=rng.normal(size=n))
    case = Case.from_frames(
        training, serving, task="binary", label="y", prediction="p", timestamp="ts"
    )
    probe = probe_leakage(case)
    assert abs(roc_auc_score(y, x) - 0.5) < 0.05
    assert probe.features.loc["x", "strength_training"] > 0.95
    assert probe.suspects == ["x"]
