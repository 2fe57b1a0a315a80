"""The Streamlit app, driven headless with AppTest: pages render the package's real numbers,
uploads mapped through the form build a case, and bad uploads show a plain message (no traceback).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from prodready import Case
from prodready.overview import overview
from prodready.results import format_money

APP = "../app/streamlit_app.py"  # AppTest resolves it against this file
TIMEOUT = 120  # seconds per run; the first run loads and summarises the sample case


# -- small synthetic data for the upload journeys --------------------------------------------
def _frames(rows: int = 600, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)

    def one(start: str, serving: bool) -> pd.DataFrame:
        when = pd.Timestamp(start) + pd.to_timedelta(np.sort(rng.uniform(0, 56, rows)), unit="D")
        amount = rng.lognormal(3, 1, rows).round(2)
        channel = rng.choice(["web", "pos", "app"], rows)
        fraud = (rng.uniform(size=rows) < 0.1 + 0.15 * (channel == "web")).astype(int)
        score = np.clip(0.35 * fraud + rng.uniform(0, 0.65, rows), 0, 1).round(4)
        frame = pd.DataFrame(
            {
                "txn_id": [f"{'s' if serving else 't'}{i}" for i in range(rows)],
                "event_time": when.strftime("%Y-%m-%d %H:%M:%S"),
                "amount": amount,
                "channel": channel,
                "is_fraud": fraud.astype("float64"),
                "score": score,
            }
        )
        if serving:
            frame.loc[frame.index[-rows // 10 :], "is_fraud"] = np.nan  # truth not arrived yet
        return frame

    return one("2025-01-06", serving=False), one("2025-03-03", serving=True)


def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode("utf-8")


@pytest.fixture
def small_case_dir(tmp_path: Path) -> Path:
    """A tiny case file to start the app with (fast, independent of the sample)."""
    training, serving = _frames(rows=300, seed=7)
    training.to_csv(tmp_path / "training.csv", index=False)
    serving.to_csv(tmp_path / "serving.csv", index=False)
    (tmp_path / "case.yaml").write_text(
        "name: Small test case\n"
        "task: binary\n"
        "training: {path: training.csv}\n"
        "serving: {path: serving.csv}\n"
        "columns: {id: txn_id, timestamp: event_time, label: is_fraud, prediction: score}\n"
        "features:\n"
        "  - {name: amount, type: numeric}\n"
        "  - {name: channel, type: categorical}\n",
        encoding="utf-8",
    )
    return tmp_path


def _start(monkeypatch: pytest.MonkeyPatch, case: Path | None) -> AppTest:
    if case is None:
        monkeypatch.delenv("PRODREADY_CASE", raising=False)
    else:
        monkeypatch.setenv("PRODREADY_CASE", str(case))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _errors(at: AppTest) -> list[str]:
    """Messages shown with st.error, as ``str(err)`` (the app adds markdown line breaks)."""
    return [e.value.replace("  \n", "\n") for e in at.error]


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _figures(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def _numbers(values: list | dict) -> np.ndarray:
    """A plotly JSON array: a list, or plotly 6's base64 typed array ``{dtype, bdata}``."""
    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
    return np.asarray(values, dtype="float64")


def _titles(at: AppTest) -> list[str]:
    return [fig["layout"]["title"]["text"] for fig in _figures(at)]


def _upload(at: AppTest, training: tuple[str, bytes], serving: tuple[str, bytes]) -> AppTest:
    at.segmented_control(key="case_source").set_value("Upload your own data").run()
    at.file_uploader(key="upload_training").upload(*training, "text/csv")
    at.file_uploader(key="upload_serving").upload(*serving, "text/csv")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


# -- the sample case on both pages ------------------------------------------------------------
@pytest.fixture(scope="module")
def sample():
    samples = pytest.importorskip("prodready.samples")
    case = samples.load("card_fraud")
    return case, overview(case, seed=0)


def test_case_page_shows_the_sample_cases_numbers(sample, monkeypatch):
    case, ov = sample
    at = _start(monkeypatch, None)
    n = ov.numbers

    assert at.title[0].value == "Case"
    assert at.session_state["case"].name == case.name
    assert not at.error
    shown = _metrics(at)
    assert shown["Training rows"] == f"{n['training_rows']:,}"
    assert shown["Serving rows"] == f"{n['serving_rows']:,}"
    assert shown["Labelled serving rows"] == f"{n['labelled_serving_rows']:,}"
    assert shown["Features"] == f"{n['features']:,}"
    assert shown["Median label delay"] == f"{n['label_delay_median_days']:.1f} days"
    assert shown["Positive rate, training"] == f"{n['base_rate_training']:.2%}"
    assert shown["Positive rate, serving"] == f"{n['base_rate_serving']:.2%}"
    span = (n["training_end"] - n["training_start"]) / pd.Timedelta(days=1)
    assert shown["Training period"] == f"{span:,.0f} days"

    titles = _titles(at)
    assert any("Volume and base rate over time" in t for t in titles)
    assert any("Missing values per feature" in t for t in titles)
    # every figure gets an HTML download, every table a CSV download
    labels = [b.label for b in at.get("download_button")]
    assert labels.count("Download figure (HTML, opens offline)") == len(titles) == 2
    assert labels.count("Download table (CSV)") == 2  # weekly volume table, feature table
    table = at.dataframe[-1].value
    assert list(table.index) == list(ov.to_frame().index)


def test_every_bundled_sample_can_be_picked_and_loaded(monkeypatch):
    from prodready import samples

    at = _start(monkeypatch, None)
    picker = at.selectbox(key="sample_name")
    assert picker.options == [samples.describe(n) for n in samples.available()]
    assert picker.value == "card_fraud"
    for name in ("elec2", "delivery_time"):
        at.selectbox(key="sample_name").set_value(name).run()
        at.button(key="load_default").click().run()
        assert not at.exception, [e.value for e in at.exception]
        case = samples.load(name)
        assert at.session_state["case"].name == case.name
        assert at.session_state["case_key"] == f"sample:{name}"
        assert any(f"**{case.name}**" in s.value for s in at.success)
        assert _metrics(at)["Serving rows"] == f"{len(case.serving):,}"


def test_overview_page_shows_the_headline_numbers(sample, monkeypatch):
    _, ov = sample
    at = _start(monkeypatch, None)
    at.switch_page("app_pages/overview.py").run()
    assert not at.exception, [e.value for e in at.exception]

    assert at.title[0].value == "Overview"
    head = ov.headline.loc["roc_auc"]
    shown = _metrics(at)
    assert shown["Offline ROC AUC"] == f"{head['offline']:.3f}"
    assert shown["Serving ROC AUC"] == f"{head['serving']:.3f}"
    value = ov.business_value
    assert value is not None
    assert shown["Business value"] == format_money(value.total, value.currency)
    added = value.total - ov.value_without_model.total
    delta = next(m.delta for m in at.metric if m.label == "Business value")
    assert delta == f"{format_money(added, value.currency)} vs never acting"
    # each headline number is explained in a sentence
    captions = " ".join(c.value for c in at.caption)
    assert "before launch" in captions and "really delivers" in captions
    assert f"{value.decisions:,} production decisions" in captions
    # the findings of the package are listed
    markdown = " ".join(m.value for m in at.markdown)
    for finding in ov.summary():
        assert finding.text in markdown

    figures = _figures(at)
    assert len(figures) == 1
    assert "offline and in production" in figures[0]["layout"]["title"]["text"]
    offline_bar = figures[0]["data"][0]
    assert offline_bar["x"][0] == "ROC AUC"
    assert _numbers(offline_bar["y"])[0] == pytest.approx(head["offline"])
    assert "Download table (CSV)" in [b.label for b in at.get("download_button")]


# -- uploads mapped through the form ----------------------------------------------------------
def test_a_good_upload_mapped_through_the_form_builds_the_case(small_case_dir, monkeypatch):
    at = _start(monkeypatch, small_case_dir)
    assert at.session_state["case"].name == "Small test case"
    training, serving = _frames()
    _upload(at, ("train.csv", _csv(training)), ("serving.csv", _csv(serving)))

    # the form starts from sensible guesses
    guessed = {s.label: s.value for s in at.selectbox}
    assert guessed["Timestamp"] == "event_time"
    assert guessed["Label (the truth)"] == "is_fraud"
    assert guessed["Served score"] == "score"
    assert guessed["Id (optional)"] == "txn_id"
    assert guessed["Label time (optional)"] == "(none)"
    assert at.radio[0].value == "binary"

    at.text_input[0].set_value("Uploaded fraud model")
    at.form_submit_button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]

    case = at.session_state["case"]
    assert case.name == "Uploaded fraud model"
    assert case.feature_names == ["amount", "channel"]
    assert case.spec.features[1].type == "categorical"
    assert case.business.threshold == 0.5
    expected = Case.from_frames(
        training,
        serving,
        task="binary",
        label="is_fraud",
        prediction="score",
        timestamp="event_time",
        id="txn_id",
        features=["amount", "channel"],
    )
    n = overview(expected).numbers
    shown = _metrics(at)
    assert shown["Training rows"] == f"{n['training_rows']:,}" == "600"
    assert shown["Labelled serving rows"] == f"{n['labelled_serving_rows']:,}" == "540"
    assert any("Volume and base rate" in t for t in _titles(at))

    # the Overview page follows the uploaded case
    at.switch_page("app_pages/overview.py").run()
    assert not at.exception
    assert at.subheader[0].value == "Uploaded fraud model"
    offline = overview(expected).headline.loc["roc_auc", "offline"]
    assert _metrics(at)["Offline ROC AUC"] == f"{offline:.3f}"


def test_a_regression_upload_gets_regression_defaults(small_case_dir, monkeypatch):
    rng = np.random.default_rng(3)

    def frame(start: str, rows: int = 400) -> pd.DataFrame:
        when = pd.Timestamp(start) + pd.to_timedelta(np.arange(rows), unit="h")
        temperature = rng.normal(15, 5, rows).round(1)
        target = (50 + 2 * temperature + rng.normal(0, 4, rows)).round(1)
        return pd.DataFrame(
            {
                "timestamp": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "store": rng.choice(["north", "south"], rows),
                "temperature": temperature,
                "target": target,
                "prediction": (target + rng.normal(0, 3, rows)).round(1),
            }
        )

    training, serving = frame("2025-01-01"), frame("2025-03-01")
    at = _start(monkeypatch, small_case_dir)
    _upload(at, ("demand_train.csv", _csv(training)), ("demand_serving.csv", _csv(serving)))
    assert at.radio[0].value == "regression"
    assert {s.label: s.value for s in at.selectbox}["Label (the truth)"] == "target"
    assert "Cost per unit of error" in [n.label for n in at.number_input]
    at.form_submit_button[0].click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]

    case = at.session_state["case"]
    assert case.task == "regression"
    assert case.business.cost_per_unit_error == 1.0
    assert case.feature_names == ["store", "temperature"]
    at.switch_page("app_pages/overview.py").run()
    assert not at.exception
    ov = overview(case)
    label = ov.headline.loc["mae", "label"]
    assert _metrics(at)[f"Serving {label}"] == f"{ov.headline.loc['mae', 'serving']:.3f}"
    value = ov.business_value
    assert _metrics(at)["Business value"] == format_money(value.total, value.currency)


def _drop_label(training: pd.DataFrame, serving: pd.DataFrame):
    return ("train.csv", _csv(training.drop(columns="is_fraud"))), ("serving.csv", _csv(serving))


def _latin1(training: pd.DataFrame, serving: pd.DataFrame):
    training = training.assign(channel="café")
    text = training.to_csv(index=False).encode("latin-1")
    return ("train.csv", text), ("serving.csv", _csv(serving))


def _logits(training: pd.DataFrame, serving: pd.DataFrame):
    serving = serving.assign(score=serving["score"] * 8 - 4)  # raw margins, not probabilities
    return ("train.csv", _csv(training)), ("serving.csv", _csv(serving))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_drop_label, "train.csv: 1 column is missing from the training data: 'is_fraud'"),
        (_latin1, "train.csv: the file is not UTF-8 text"),
        (_logits, "serving.csv, column 'score', row 1 (line 2 of the file)"),
    ],
    ids=["missing-column", "not-utf8", "scores-outside-0-1"],
)
def test_a_bad_upload_shows_a_plain_message(small_case_dir, monkeypatch, make, message):
    at = _start(monkeypatch, small_case_dir)
    training, serving = make(*_frames())
    _upload(at, training, serving)
    if at.form_submit_button:  # the files could be read: map them and build
        at.form_submit_button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    errors = _errors(at)
    assert len(errors) == 1 and message in errors[0], errors
    assert "How to fix:" in errors[0]
    assert "Traceback" not in errors[0]
    # the case loaded before stays in place
    assert at.session_state["case"].name == "Small test case"


def test_a_case_file_that_cannot_be_loaded_is_explained(tmp_path, monkeypatch):
    at = _start(monkeypatch, tmp_path / "missing.yaml")
    assert _errors(at) == [
        f"{tmp_path / 'missing.yaml'}: the case file does not exist\n"
        "How to fix: check the path; a case file is a YAML file such as case.yaml"
    ]
    assert "case" not in at.session_state
    at.switch_page("app_pages/overview.py").run()
    assert not at.exception
    assert "No case is loaded yet" in at.info[0].value
