"""The app's "Audit from profiles" page, driven headless with AppTest: it offers the case's
profiles, audits an uploaded profiles file with the package's numbers, and a bad file shows one
message while the rest of the page still works."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from prodready import samples
from prodready.skew.profiles import (
    audit_profiles,
    case_profiles,
    case_profiles_bytes,
    read_case_profiles,
)

APP = "../app/streamlit_app.py"  # AppTest resolves it against this file
PAGE = "app_pages/profiles.py"
TIMEOUT = 120
NUMBERS = ["psi", "js_distance", "ks_pvalue", "chi2_pvalue", "missing_train", "missing_serving"]


@pytest.fixture(scope="module")
def sample_file() -> bytes:
    """The bundled sample's profiles file, as `prodready profile` writes it."""
    return case_profiles_bytes(case_profiles(samples.load("card_fraud")))


def _page(monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.delenv("PRODREADY_CASE", raising=False)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.switch_page(PAGE).run()  # straight to the page: the Case page's overview is not needed
    assert not at.exception, [e.value for e in at.exception]
    return at


def _upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader(key="profiles_upload").upload(name, data, "application/gzip")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _numbers(values: list | dict) -> np.ndarray:
    """A plotly JSON array: a list, or plotly 6's base64 typed array ``{dtype, bdata}``."""
    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
    return np.asarray(values, dtype="float64")


def _download_labels(at: AppTest) -> list[str]:
    return [b.label for b in at.get("download_button")]


def test_the_page_offers_the_cases_profiles_and_says_how_to_make_one(monkeypatch):
    at = _page(monkeypatch)
    assert at.title[0].value == "Audit from profiles"
    assert not at.error
    text = " ".join(m.value for m in at.markdown)
    assert "prodready profile --case case.yaml --out profiles.json.gz" in text
    assert "no row" in text
    labels = _download_labels(at)
    assert any(
        label.startswith("Download the profiles of Card fraud detection") for label in labels
    )
    uploader = at.file_uploader(key="profiles_upload")
    assert "up to 200 MB per file" in uploader.help


def test_an_uploaded_profiles_file_shows_its_audit(monkeypatch, sample_file):
    at = _upload(_page(monkeypatch), "card_fraud_profiles.json.gz", sample_file)
    assert not at.error
    expected = audit_profiles(read_case_profiles(sample_file))
    shown = at.dataframe[-1].value
    frame = expected.to_frame()
    assert list(shown.index) == list(frame.index)
    np.testing.assert_allclose(
        shown[NUMBERS].to_numpy(float), frame[NUMBERS].to_numpy(float), rtol=1e-12
    )
    assert shown["severity"].tolist() == frame["severity"].tolist()
    markdown = " ".join(m.value for m in at.markdown)
    for finding in expected.summary():
        assert finding.text.replace("$", r"\$") in markdown
    metrics = {m.label: m.value for m in at.metric}
    flagged = frame["severity"].isin(["high", "medium"]).sum()
    assert metrics["Features to fix"] == f"{flagged} of {len(frame)}"
    assert metrics["Serving rows"] == f"{expected.serving_rows:,}"
    assert "Download table (CSV)" in _download_labels(at)
    figures = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    first = str(frame.index[0])
    assert len(figures) == 1
    assert figures[0]["layout"]["title"]["text"].startswith(f"{first}: skew per serving month")
    months = expected.by_month[expected.by_month["feature"] == first].sort_values("month")
    np.testing.assert_allclose(_numbers(figures[0]["data"][0]["y"]), months["psi"], rtol=1e-12)


def test_a_bad_file_shows_one_error_and_the_page_still_works(monkeypatch):
    at = _upload(_page(monkeypatch), "notes.json", b"these are not profiles")
    assert len(at.error) == 1
    said = at.error[0].value
    assert "notes.json: is not a prodready case profiles file" in said
    assert "How to fix" in said
    assert not at.dataframe  # no audit shown from a bad file
    assert any(label.startswith("Download the profiles of") for label in _download_labels(at))
