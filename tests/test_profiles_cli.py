"""`prodready profile` and `prodready audit profiles`: a case's profiles written by one command
and audited by the other, as in Python; a bad file is one message and exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from prodready import load_case, samples
from prodready.cli import app
from prodready.skew.profiles import audit_profiles, case_profiles, load_case_profiles

runner = CliRunner()
ROWS = 4_000
NUMBERS = ["psi", "js_distance", "ks_pvalue", "chi2_pvalue", "missing_train", "missing_serving"]


@pytest.fixture(scope="module")
def case_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return samples.write("card_fraud", tmp_path_factory.mktemp("case"), rows=ROWS, parts=2)


@pytest.fixture(scope="module")
def profiles_file(case_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("out") / "new folder" / "profiles.json.gz"
    result = runner.invoke(app, ["profile", "--case", str(case_file), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"Next: prodready audit profiles {out}" in result.stdout
    assert "Wrote the profiles of 12 of 12 features of 'Card fraud detection'" in result.stdout
    return out


def _numbers(features: list[dict]) -> np.ndarray:
    return np.array([[np.nan if f[c] is None else f[c] for c in NUMBERS] for f in features])


def test_profile_then_audit_gives_the_audit_of_python(case_file, profiles_file):
    result = runner.invoke(app, ["audit", "profiles", str(profiles_file), "--json", "-"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)  # stdout is pure JSON with --json -
    loaded = audit_profiles(load_case_profiles(profiles_file)).to_dict()
    assert shown == loaded
    direct = audit_profiles(case_profiles(load_case(case_file))).to_dict()
    assert [f["feature"] for f in shown["features"]] == [f["feature"] for f in direct["features"]]
    np.testing.assert_allclose(_numbers(shown["features"]), _numbers(direct["features"]))
    assert [f["severity"] for f in shown["features"]] == [f["severity"] for f in direct["features"]]


def test_audit_profiles_prints_findings_and_the_table(profiles_file, tmp_path):
    target = tmp_path / "audit.json"
    result = runner.invoke(app, ["audit", "profiles", str(profiles_file), "--json", str(target)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Skew audit from profiles: Card fraud detection" in out
    assert "Findings, most severe first" in out and "no row was read" in out
    assert "Features ranked by severity, then PSI" in out
    written = json.loads(target.read_text())
    for feature in written["features"]:
        assert feature["feature"] in out
    assert f"Wrote every number of the audit to {target}" in out
    top = written["features"][0]
    assert f"{top['psi']:.3f}" in out


def test_profile_lazy_reads_every_row_of_the_files(case_file, profiles_file, tmp_path):
    out = tmp_path / "lazy.json"
    result = runner.invoke(
        app,
        ["profile", "--case", str(case_file), "--out", str(out), "--lazy", "--sample-rows", "300"],
    )
    assert result.exit_code == 0, result.output
    lazy, eager = load_case_profiles(out), load_case_profiles(profiles_file)
    assert (lazy.training_rows, lazy.serving_rows) == (eager.training_rows, eager.serving_rows)
    ours, theirs = audit_profiles(lazy).to_frame(), audit_profiles(eager).to_frame()
    np.testing.assert_allclose(ours[NUMBERS].to_numpy(float), theirs[NUMBERS].to_numpy(float))
    refused = runner.invoke(app, ["profile", "--out", str(tmp_path / "x.json"), "--lazy"])
    assert refused.exit_code == 2 and "--lazy needs a case file" in refused.output


def test_a_bad_profiles_file_is_one_message(tmp_path):
    bad = tmp_path / "bad.json.gz"
    bad.write_bytes(b"\x1f\x8b not really gzip")
    result = runner.invoke(app, ["audit", "profiles", str(bad)])
    assert result.exit_code == 2
    said = result.output
    assert f"{bad}: is not a prodready case profiles file (not readable JSON)" in said
    assert "How to fix: ask for the file again, made with `prodready profile" in said
    assert "Traceback" not in said
    missing = runner.invoke(app, ["audit", "profiles", str(tmp_path / "absent.json")])
    assert missing.exit_code == 2 and "cannot read the case profiles file" in missing.output


def test_profile_refuses_a_folder_as_out(case_file, tmp_path):
    result = runner.invoke(app, ["profile", "--case", str(case_file), "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "the --out path is a folder" in result.output
