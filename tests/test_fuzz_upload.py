"""Fuzzed uploads on the Case page (AppTest drives st.file_uploader in Streamlit 1.67): each
pair of files ends in exactly one st.error with a plain message and the case loaded before
left loaded and intact, or in a new valid case; never in an exception or a traceback.

The files start from a small, valid training set and serving log and are broken the ways real
exports are: random bytes, other encodings, hostile column and file names, huge and non-finite
values, zero rows, a thousand extra columns. When the files can be read, the mapping form is
submitted with the page's own guesses.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

APP = "../app/streamlit_app.py"  # AppTest resolves it against this file
TIMEOUT = 120
FIRST_CASE = "Case before the uploads"
TRIED: Counter[str] = Counter()


def _frame(start: str, rows: int, seed: int, serving: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    when = pd.Timestamp(start) + pd.to_timedelta(np.sort(rng.uniform(0, 56, rows)), unit="D")
    fraud = (rng.uniform(size=rows) < 0.15).astype("float64")
    frame = pd.DataFrame(
        {
            "txn_id": [f"{'s' if serving else 't'}{i}" for i in range(rows)],
            "event_time": when.strftime("%Y-%m-%d %H:%M:%S"),
            "amount": rng.lognormal(3, 1, rows).round(2),
            "channel": rng.choice(["web", "pos", "app"], rows),
            "is_fraud": fraud,
            "score": np.clip(0.35 * fraud + rng.uniform(0, 0.65, rows), 0, 1).round(4),
        }
    )
    if serving:
        frame.loc[frame.index[-rows // 10 :], "is_fraud"] = np.nan  # truth not arrived yet
    return frame


TRAINING = _frame("2025-01-06", 300, 1, serving=False)
SERVING = _frame("2025-03-03", 300, 2, serving=True)


@pytest.fixture(scope="module")
def app(tmp_path_factory) -> Iterator[App]:
    """The app started once on a small case file, with the Case page in upload mode."""
    folder = tmp_path_factory.mktemp("upload_case")
    TRAINING.to_csv(folder / "training.csv", index=False)
    SERVING.to_csv(folder / "serving.csv", index=False)
    (folder / "case.yaml").write_text(
        f"name: {FIRST_CASE}\ntask: binary\n"
        "training: {path: training.csv}\nserving: {path: serving.csv}\n"
        "columns: {id: txn_id, timestamp: event_time, label: is_fraud, prediction: score}\n"
        "features:\n  - {name: amount, type: numeric}\n  - {name: channel, type: categorical}\n",
        encoding="utf-8",
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PRODREADY_CASE", str(folder / "case.yaml"))
        patch.delenv("PRODREADY_APP_PASSWORD", raising=False)
        at = AppTest.from_file(APP, default_timeout=TIMEOUT)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        assert at.session_state["case"].name == FIRST_CASE
        at.segmented_control(key="case_source").set_value("Upload your own data").run()
        assert not at.exception
        yield App(at, folder / "case.yaml")


# -- fuzzed files ---------------------------------------------------------------------------------
HOSTILE_NAMES = st.sampled_from(
    [
        "",
        "<script>alert(1)</script>",
        "**bold**",
        "[x](javascript:alert(1))",
        "a,b",
        'quo"te',
        "new\nline",
        "🙂",
        "\u202eevil",
        "event_time",  # a duplicate of another column
        "NaN",
        "x" * 300,
    ]
)
FILE_NAMES = st.sampled_from(
    [
        "data.csv",
        "data.parquet",
        "data.txt",
        "DATA.CSV",
        "<img src=x onerror=alert(1)>.csv",
        "../../etc/passwd.csv",
        "new\nline.csv",
        "données 🙂.csv",
        "data.pq",
        "data.csv.parquet",
    ]
)  # all with an extension the uploader accepts: Streamlit refuses the others (test below)
BAD_VALUES = st.sampled_from(
    [np.inf, -np.inf, np.nan, 1e308, -1e308, 2.0**63, "text", "", "1,5", "<b>x</b>"]
)


def _csv(frame: pd.DataFrame, encoding: str = "utf-8") -> bytes:
    return frame.to_csv(index=False).encode(encoding, errors="replace")


def _parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.astype({c: str for c in frame.columns if frame[c].dtype == object}).to_parquet(buffer)
    return buffer.getvalue()


@st.composite
def upload(draw, base: pd.DataFrame) -> tuple[str, bytes]:
    """One uploaded file: (name, bytes), valid or broken one way."""
    frame = base.copy()
    kind = draw(
        st.sampled_from(
            ["valid", "random", "encoding", "rename", "values", "zero_rows", "wide", "cut"]
        )
    )
    as_parquet = draw(st.booleans())
    if kind == "random":
        return draw(FILE_NAMES), draw(st.binary(max_size=400))
    if kind == "encoding":
        frame["channel"] = frame["channel"] + "-café"
        encoding = draw(st.sampled_from(["utf-8-sig", "utf-16", "latin-1", "cp1252"]))
        return "data.csv", _csv(frame, encoding)
    if kind == "rename":
        column = draw(st.sampled_from(list(frame.columns)))
        new = draw(HOSTILE_NAMES)
        frame.columns = [new if c == column else c for c in frame.columns]
        if frame.columns.duplicated().any():
            as_parquet = False  # Parquet (pandas) refuses duplicate names; CSV keeps them
    elif kind == "values":
        column = draw(st.sampled_from(list(frame.columns)))
        values = frame[column].astype(object)
        rows = draw(st.sampled_from([[0], list(range(0, len(frame), 5)), slice(None)]))
        values.iloc[rows] = draw(BAD_VALUES)
        frame[column] = values
    elif kind == "zero_rows":
        frame = frame.head(0)
    elif kind == "wide":
        extra = pd.DataFrame(
            np.zeros((len(frame), 1000), dtype="int8"), columns=[f"c{i}" for i in range(1000)]
        )
        frame = pd.concat([frame, extra], axis=1)
    data = _parquet(frame) if as_parquet else _csv(frame)
    if kind == "cut":
        data = data[: draw(st.integers(0, len(data) - 1))]
    name = draw(FILE_NAMES) if kind == "valid" and draw(st.booleans()) else "data.csv"
    if as_parquet and name == "data.csv":
        name = "data.parquet"
    return name, data


class App:
    """The running app, with a short repr: Hypothesis prints its arguments beside a failure."""

    def __init__(self, at: AppTest, case_file: Path) -> None:
        self.at = at
        self.case_file = case_file

    def __repr__(self) -> str:
        return "<the app, Case page>"


def _upload_mode(app: App) -> AppTest:
    """The Case page with its uploaders showing (an earlier input may have left another view)."""
    at = app.at
    if "upload_training" not in {u.key for u in at.get("file_uploader")}:
        if "case_source" not in {c.key for c in at.get("segmented_control")}:
            at.switch_page("app_pages/case.py").run()
        at.segmented_control(key="case_source").set_value("Upload your own data").run()
    return at


# -- what every outcome must be --------------------------------------------------------------
def _errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


@settings(
    max_examples=24,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(training=upload(TRAINING), serving=upload(SERVING))
def test_a_fuzzed_upload_shows_one_plain_error_or_builds_a_case(app, training, serving):
    at = _upload_mode(app)
    before = at.session_state["case"]
    before_key = at.session_state["case_key"]
    before_rows = (len(before.training), len(before.serving))

    at.file_uploader(key="upload_training").upload(training[0], training[1], "text/csv")
    at.file_uploader(key="upload_serving").upload(serving[0], serving[1], "text/csv")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    submitted = bool(at.form_submit_button)
    if submitted:  # both files were read: build the case from the page's guesses
        at.form_submit_button[0].click().run()
        assert not at.exception, [e.value for e in at.exception]

    errors = _errors(at)
    shown = " ".join(errors + [m.value for m in at.markdown] + [s.value for s in at.success])
    assert "Traceback" not in shown and 'File "/' not in shown
    if errors:
        TRIED["error after the form" if submitted else "error reading the files"] += 1
        assert len(errors) == 1, errors
        # a reading or checking error says how to fix it; the form's own prompt says what to do
        assert "How to fix:" in errors[0] or errors[0].startswith("Choose the "), errors[0]
        # the case loaded before stays loaded and intact
        after = at.session_state["case"]
        assert at.session_state["case_key"] == before_key
        assert after.name == before.name
        assert (len(after.training), len(after.serving)) == before_rows
    else:
        TRIED["new case built"] += 1
        assert submitted
        assert at.session_state["case_key"].startswith("upload:")
        assert at.session_state["case_origin"] == "upload"
        assert any("Case built from your files" in s.value for s in at.success)
        assert len(at.session_state["case"].serving) > 0


def test_the_uploaders_accept_only_csv_and_parquet(app):
    at = _upload_mode(app)
    for key in ("upload_training", "upload_serving"):
        assert at.file_uploader(key=key).allowed_type == [".csv", ".parquet", ".pq", ".txt"]


def test_streamlit_refuses_a_file_type_the_uploader_does_not_accept(app, monkeypatch):
    """The browser only offers those types; a crafted request with another name is stopped by
    Streamlit before the page reads a byte, and the loaded case stays as it was. (A fresh app:
    the refused file stays in the uploader's state and fails every rerun of that session.)"""
    monkeypatch.setenv("PRODREADY_CASE", str(app.case_file))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.segmented_control(key="case_source").set_value("Upload your own data").run()
    before_key = at.session_state["case_key"]
    at.file_uploader(key="upload_training").upload("report.xlsx", b"PK\x03\x04", "text/csv")
    at.file_uploader(key="upload_serving").upload("serving.csv", _csv(SERVING), "text/csv")
    at.run()
    refused = [e.value for e in at.exception]
    assert refused == [
        "Invalid file extension: `.xlsx`. Allowed: ['.csv', '.parquet', '.pq', '.txt']"
    ]
    assert at.session_state["case_key"] == before_key
    assert not at.get("form")  # nothing was read: no mapping form


def test_the_case_page_builds_the_unchanged_files(app):
    """The starting files are a valid upload: an error above is the fuzzing's doing."""
    at = _upload_mode(app)
    at.file_uploader(key="upload_training").upload("train.csv", _csv(TRAINING), "text/csv")
    at.file_uploader(key="upload_serving").upload("serving.csv", _csv(SERVING), "text/csv")
    at.run()
    at.form_submit_button[0].click().run()
    assert not at.exception and not at.error, _errors(at)
    assert at.session_state["case_origin"] == "upload"
    assert len(at.session_state["case"].training) == len(TRAINING)


def test_zz_how_many_uploads_were_tried(app, record_property, capsys):
    """Runs last in this file: how many fuzzed uploads the page got and how each ended."""
    if not TRIED:
        pytest.skip("run with the fuzz test above to count its inputs")
    total = sum(TRIED.values())
    record_property("fuzzed_uploads", total)
    with capsys.disabled():
        print(f"\nupload fuzz: {total} pairs of files tried")
        for key, count in sorted(TRIED.items()):
            print(f"  {key}: {count}")
    assert total >= 20
    assert TRIED["error reading the files"] >= 1 and TRIED["error after the form"] >= 1, TRIED
