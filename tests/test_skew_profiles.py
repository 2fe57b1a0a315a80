"""Audit from saved profiles (``prodready.skew.profiles``): a team sends profiles, not rows.

The proof: the audit from a saved and reloaded profiles file equals the distribution part of the
skew audit of the same data (on a case whose log stays on disk, which the skew audit compares
through the same profiles) to 1e-9, whether the profiles come from the files or from the frames
in memory; what profiles cannot know is said, never made up; a bad file gets one message.
The skew audit's model parts are replaced by a fixed empty result (as in test_skew_lazy.py).
"""

from __future__ import annotations

import dataclasses
import gzip
import importlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from prodready import load_case, samples, skew
from prodready.engine import MAX_CATEGORIES, save_profiles
from prodready.errors import DataError, ParameterError
from prodready.skew.distribution import ALL_COLUMNS
from prodready.skew.gap import ALL_FEATURES, PREDICTION_TIME, MetricGap
from prodready.skew.leakage import LeakageProbe
from prodready.skew.profiles import (
    FRAME_COLUMNS,
    NOT_KNOWN,
    audit_profiles,
    case_profiles,
    case_profiles_bytes,
    load_case_profiles,
    read_case_profiles,
    save_case_profiles,
)
from prodready.stats.drift import FINE_BINS

audit_module = importlib.import_module("prodready.skew.audit")

ROWS, PARTS = 20_000, 2
DISTRIBUTION = [*ALL_COLUMNS, "missing_train", "missing_serving"]
# problems the skew audit finds from the distributions alone (the others need rows or the spec)
FROM_DISTRIBUTIONS = {"", "distribution shift", "unseen categories", "missing values"}


@pytest.fixture(scope="module")
def case_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return samples.write("card_fraud", tmp_path_factory.mktemp("case"), rows=ROWS, parts=PARTS)


@pytest.fixture(scope="module")
def lazy(case_file: Path):
    return load_case(case_file, lazy=True, sample_rows=2_000)


@pytest.fixture(scope="module")
def skew_audit(lazy) -> skew.SkewAudit:
    """The skew audit of the lazy case, its model parts replaced by an empty result."""
    leakage = LeakageProbe(
        pd.DataFrame(
            {"leakage_suspect": pd.Series(dtype=bool), "reason": pd.Series(dtype=str)},
            index=pd.Index([], name="feature"),
        )
    )
    table = pd.DataFrame(
        {"offline": np.nan, "serving": np.nan, "features": [1, 1]},
        index=pd.Index([ALL_FEATURES, PREDICTION_TIME], name="model"),
    )
    gap = MetricGap("roc_auc", "ROC AUC", table, pd.Timestamp("2025-01-01", tz="UTC"), None)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(audit_module, "probe_leakage", lambda case, seed=0: leakage)
        patch.setattr(audit_module, "metric_gap", lambda case, seed=0: gap)
        return skew.audit(lazy)


@pytest.fixture(scope="module")
def saved(lazy, tmp_path_factory: pytest.TempPathFactory) -> tuple:
    """The lazy case's profiles, saved (gzip) and loaded again."""
    made = case_profiles(lazy)
    path = save_case_profiles(made, tmp_path_factory.mktemp("profiles") / "p.json.gz")
    return made, path, load_case_profiles(path)


def _same_numbers(left: pd.DataFrame, right: pd.DataFrame) -> None:
    left, right = left.sort_index(), right.sort_index()
    assert list(left.index) == list(right.index)
    np.testing.assert_allclose(
        left[DISTRIBUTION].to_numpy(float), right[DISTRIBUTION].to_numpy(float), rtol=1e-9
    )
    assert left["kind"].tolist() == right["kind"].tolist()
    assert left["note"].tolist() == right["note"].tolist()


def _same_months(left: pd.DataFrame, right: pd.DataFrame) -> None:
    left = left.sort_values(["feature", "month"]).reset_index(drop=True)
    right = right.sort_values(["feature", "month"]).reset_index(drop=True)
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


def test_the_audit_from_a_saved_file_equals_the_skew_audits_distributions(saved, skew_audit, lazy):
    made, path, loaded = saved
    assert path.read_bytes()[:2] == b"\x1f\x8b"  # gzip, as the name says
    assert loaded.training == made.training and loaded.serving == made.serving
    assert loaded.kinds == made.kinds and loaded.months == made.months
    result = audit_profiles(loaded)
    _same_numbers(result.to_frame(), skew_audit.to_frame())
    _same_months(result.by_month, skew_audit.by_month)
    # graded as the skew audit grades where it graded from the distributions
    theirs = skew_audit.to_frame()
    ours = result.to_frame().loc[theirs.index]
    by_distributions = theirs["problem"].isin(FROM_DISTRIBUTIONS)
    assert by_distributions.sum() >= 8
    assert ours.loc[by_distributions, "severity"].equals(theirs.loc[by_distributions, "severity"])
    assert ours.loc[by_distributions, "problem"].equals(theirs.loc[by_distributions, "problem"])
    assert (theirs["problem"] == "distribution shift").any()
    assert theirs.loc["merchant_category", "unseen_share"] > 0  # each unseen label counted apart
    # the header: every row of the files, not the sample in memory
    assert (loaded.case_name, loaded.timestamp) == (skew_audit.case_name, "event_time")
    assert loaded.training_rows == lazy.training_source.rows > len(lazy.training)
    assert loaded.serving_rows == lazy.serving_source.rows > len(lazy.serving)


def test_profiles_from_the_frames_give_the_same_audit(case_file, saved, tmp_path):
    _, _, loaded = saved
    eager = load_case(case_file)
    made = case_profiles(eager)
    assert (made.training_rows, made.serving_rows) == (loaded.training_rows, loaded.serving_rows)
    plain = save_case_profiles(made, tmp_path / "p.json")  # without .gz: plain JSON
    assert json.loads(plain.read_text())["format"] == "prodready-case-profiles"
    again = load_case_profiles(plain)
    ours, theirs = audit_profiles(again), audit_profiles(loaded)
    _same_numbers(ours.to_frame(), theirs.to_frame())
    _same_months(ours.by_month, theirs.by_month)
    assert ours.to_frame()["severity"].tolist() == theirs.to_frame()["severity"].tolist()
    # the same bytes as the download offers
    assert read_case_profiles(case_profiles_bytes(made)).serving == again.serving


def test_what_profiles_cannot_know_is_said_not_made_up(saved, skew_audit):
    _, _, loaded = saved
    result = audit_profiles(loaded)
    frame = result.to_frame()
    assert list(frame.columns) == FRAME_COLUMNS
    assert not {"row_mismatch_rate", "leakage_suspect", "available_at_prediction"} & set(frame)
    # declared not available at prediction: the skew audit says leakage, profiles cannot
    assert skew_audit.to_frame().loc["chargebacks_90d", "problem"] == "leakage"
    assert "leakage" not in set(frame["problem"])
    texts = [f.text for f in result.summary()]
    assert NOT_KNOWN in texts
    assert any("no row was read" in t for t in texts)
    said = result.to_dict()
    assert said["not_known"] == NOT_KNOWN and len(said["features"]) == len(frame)
    json.dumps(said, allow_nan=False)  # JSON-safe


def test_the_file_holds_counts_not_rows(saved, lazy):
    _, path, _ = saved
    text = gzip.decompress(path.read_bytes()).decode("utf-8")
    ids = lazy.serving["transaction_id"].astype(str).sample(200, random_state=0)
    assert not [i for i in ids if f'"{i}"' in text]
    # counts per bin and per category: their number is set by the layouts, not by the rows
    document = json.loads(text)
    profiles = [*document["training"]["profiles"], *document["serving"]["profiles"]]
    assert max(len(p["counts"]) for p in profiles) <= max(FINE_BINS + 2, MAX_CATEGORIES)


def test_progress_is_told_from_start_to_end(lazy):
    told: list[tuple[float, str]] = []
    case_profiles(lazy, progress=lambda done, text: told.append((done, text)))
    fractions = [done for done, _ in told]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    texts = " | ".join(text for _, text in told)
    assert "profiling the training data" in texts
    assert f"profiling file {PARTS} of {PARTS}" in texts


def test_a_feature_missing_from_serving_keeps_its_note(case_file):
    eager = load_case(case_file)
    without = dataclasses.replace(eager, serving=eager.serving.drop(columns=["channel"]))
    loaded = read_case_profiles(case_profiles_bytes(case_profiles(without)))
    row = audit_profiles(loaded).to_frame().loc["channel"]
    assert row["note"] == "not in the serving log" and row["missing_serving"] == 1.0
    assert np.isnan(row["psi"]) and row["severity"] == "high"
    assert row["problem"] == "missing values"


def test_thresholds_are_the_skew_audits(saved):
    _, _, loaded = saved
    strict = audit_profiles(loaded, thresholds={"psi": [0.001, 0.002, 0.003]})
    assert (strict.to_frame()["severity"] == "high").sum() > (
        audit_profiles(loaded).to_frame()["severity"] == "high"
    ).sum()
    with pytest.raises(ParameterError, match="thresholds name feature"):
        audit_profiles(loaded, thresholds={"features": {"nope": {"psi": [0.1, 0.2, 0.3]}}})
    with pytest.raises(ParameterError, match="audit_profiles needs case profiles"):
        audit_profiles({"case": "x"})


def _rewrite(path: Path, target: Path, change) -> Path:
    document = json.loads(gzip.decompress(path.read_bytes()))
    change(document)
    target.write_text(json.dumps(document))
    return target


def _drop_training_of_amount(document: dict) -> None:
    training = document["training"]
    del training["layouts"]["amount"]
    training["profiles"] = [p for p in training["profiles"] if p["column"] != "amount"]


def _first_serving_profile(document: dict) -> dict:
    return document["serving"]["profiles"][0]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(version=2), "format version 2, which this prodready cannot read"),
        (lambda d: d.update(format="something"), "is not a prodready case profiles file"),
        (lambda d: d.pop("serving"), "is damaged"),
        (lambda d: d.update(training_rows=-3), "'training_rows' must be a whole number"),
        (lambda d: d["features"][0].update(kind="text"), "not numeric or categorical"),
        (
            lambda d: _first_serving_profile(d).update(n=_first_serving_profile(d)["n"] + 1),
            "is damaged: the serving profiles: column",
        ),
        (
            lambda d: d["features"][0].update(profiled=False),
            "the features said to be profiled are not those",
        ),
        (_drop_training_of_amount, "feature 'amount' has no training profile"),
    ],
)
def test_a_damaged_file_gets_one_clear_message(saved, tmp_path, change, message):
    _, path, _ = saved
    bad = _rewrite(path, tmp_path / "bad.json", change)
    with pytest.raises(DataError) as err:
        load_case_profiles(bad)
    said = str(err.value)
    assert message in said and said.startswith(str(bad)) and "How to fix: " in said


def test_foreign_and_broken_files_get_one_clear_message(saved, tmp_path):
    made, path, _ = saved
    cases = {
        "garbage.json": (b"not json at all", "is not a prodready case profiles file (not readable"),
        "cut.json.gz": (path.read_bytes()[:300], "not readable JSON"),
        "list.json": (b"[1, 2]", "is not a prodready case profiles file"),
    }
    for name, (raw, message) in cases.items():
        (tmp_path / name).write_bytes(raw)
        with pytest.raises(DataError) as err:
            load_case_profiles(tmp_path / name)
        assert message in str(err.value), name
    # a profile set of one data set is another kind of file, and said so
    one = save_profiles(made.training, tmp_path / "training.json")
    with pytest.raises(DataError) as err:
        load_case_profiles(one)
    assert "Found: 'prodready-profiles'" in str(err.value)
    with pytest.raises(DataError, match="cannot read the case profiles file"):
        load_case_profiles(tmp_path / "absent.json.gz")
    with pytest.raises(DataError, match=r"upload\.json: is not a prodready"):
        read_case_profiles(b"{}", where="upload.json")
    # saved again by a Windows editor: a BOM before the JSON is read as any other file
    plain = case_profiles_bytes(made, compress=False)
    assert read_case_profiles(b"\xef\xbb\xbf" + plain).to_dict() == made.to_dict()
