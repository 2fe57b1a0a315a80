"""Monitoring faces show the package's own numbers: the two charts, the app page (AppTest) and
the ``04_monitoring_review`` notebook (papermill).

The card_fraud sample is replayed once with the package (``monitoring.replay`` with the default
monitors, its known problems as incidents) and compared with what each face shows.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

import prodready
from prodready import charts, monitoring, review, samples
from prodready.charts.monitoring import (
    default_panel_monitors,
    detection_sentence,
    panel_sentence,
)
from prodready.errors import ParameterError, ProdreadyError
from prodready.report import run_report
from prodready.resources import notebooks_dir
from prodready.results import format_money

pytestmark = pytest.mark.slow  # a long file: its worker starts it first (tests/conftest.py)

APP = "../app/streamlit_app.py"  # AppTest resolves it against this file
TIMEOUT = 120
NOTEBOOK = "04_monitoring_review.ipynb"


@pytest.fixture(scope="module")
def card_fraud():
    return samples.load("card_fraud")


@pytest.fixture(scope="module")
def incidents() -> pd.DataFrame:
    return samples.known_problems("card_fraud")


@pytest.fixture(scope="module")
def replayed(card_fraud) -> monitoring.MonitoringReplay:
    return monitoring.replay(card_fraud)


@pytest.fixture(scope="module")
def detected(replayed, card_fraud, incidents) -> monitoring.DetectionReport:
    return monitoring.detection_report(replayed, card_fraud, incidents)


def _utc(value) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tz is None else stamp.tz_convert("UTC")


def _days(values) -> list[pd.Timestamp]:
    return [_utc(v) for v in values]


def _values(values) -> np.ndarray:
    return np.asarray([np.nan if v is None else v for v in values], dtype="float64")


def _title(fig) -> str:
    return fig.layout.title.text.split("<br>")[0]


# -- the monitor panel --------------------------------------------------------------------------
def test_default_panel_is_the_first_alert_of_each_family_and_volume(replayed):
    alerts = replayed.alerts
    assert list(alerts["family"].unique())  # the sample fires
    expected = [
        alerts.loc[alerts["family"] == f, "monitor"].iloc[0]
        for f in ("business", "model_output", "data_quality", "performance", "system_health")
        if (alerts["family"] == f).any()
    ]
    assert default_panel_monitors(replayed) == [*expected, "volume"]
    first = ["review_load", "mean_score", "unseen_share[merchant_category]", "estimated_roc_auc"]
    assert expected == first


def test_panel_draws_the_trace_limits_alerts_and_incident_spans(replayed, incidents):
    fig = charts.monitor_panel(replayed, incidents=incidents)
    names = default_panel_monitors(replayed)
    for name in names:
        trace = replayed.trace[replayed.trace["monitor"] == name]
        drawn = {t.name: t for t in fig.data if t.meta == name}
        days = list(trace["day"])
        observed = drawn["observed (the day's value)"]
        assert _days(observed.x) == days
        np.testing.assert_array_equal(_values(observed.y), trace["observed"].to_numpy(float))
        statistic = drawn["statistic (what the rule compares)"]
        np.testing.assert_array_equal(_values(statistic.y), trace["statistic"].to_numpy(float))
        for side in ("lower", "upper"):
            limit = trace[side].to_numpy(float)
            if np.isfinite(limit).any():
                np.testing.assert_array_equal(_values(drawn[f"{side} limit"].y), limit)
            else:
                assert f"{side} limit" not in drawn
        alert = drawn["alert (the rule fired)"]
        fired = trace[trace["fired"]]
        assert _days(alert.x) == list(fired["day"])
        np.testing.assert_array_equal(_values(alert.y), fired["statistic"].to_numpy(float))
        if name in set(replayed.alerts["monitor"]):  # the first cross is the alert's day
            row = replayed.alerts.set_index("monitor").loc[name]
            assert _utc(alert.x[0]) == row["first_fire"]
            assert alert.y[0] == pytest.approx(row["value"])
    # volume: system health never fired on the sample, so no cross
    volume = {t.name: t for t in fig.data if t.meta == "volume"}
    assert len(volume["alert (the rule fired)"].x) == 0
    # incidents that began after the reference are shaded from start to end (clipped to the log)
    spans = {s.name: (_utc(s.x0), _utc(s.x1)) for s in fig.layout.shapes}
    end = replayed.monitored_end
    assert spans == {
        "new_category": (pd.Timestamp("2025-09-01", tz="UTC"), end),
        "silent_incident": (
            pd.Timestamp("2025-09-08", tz="UTC"),
            pd.Timestamp("2025-09-18", tz="UTC"),
        ),
        "holiday_season": (pd.Timestamp("2025-11-28", tz="UTC"), end),
    }
    assert end == pd.Timestamp("2026-01-01", tz="UTC")
    assert _title(fig) == panel_sentence(replayed)
    assert _title(fig) == (
        "System health stayed green while 10 model, data and business monitors fired, the first "
        "on 27 Aug 2025"
    )


def test_panel_with_chosen_monitors_and_an_unknown_one(replayed):
    fig = charts.monitor_panel(replayed, ["score_psi"])
    assert {t.meta for t in fig.data} == {"score_psi"}
    assert not fig.layout.shapes  # no incidents given
    drawn = {t.name: t for t in fig.data}
    assert "lower limit" not in drawn  # a threshold "above" watches one side
    threshold = replayed.alerts.set_index("monitor").loc["score_psi", "threshold"]
    assert set(_values(drawn["upper limit"].y)) == {threshold}
    with pytest.raises(ParameterError, match="monitors the replay ran"):
        charts.monitor_panel(replayed, ["value_per_1000_known"])  # skipped: no trace


# -- time to detect -----------------------------------------------------------------------------
def test_time_to_detect_bars_equal_the_report_table(detected):
    table = detected.table
    fig = charts.time_to_detect(detected)
    bars = {t.name: t for t in fig.data}
    families = ["business", "model output", "data quality", "performance", "system health"]
    assert list(bars) == families
    for family, rows in table.groupby("family", sort=False):
        bar = bars[family.replace("_", " ")]
        assert list(bar.x) == list(rows["problem"])
        length = ((rows["end"] - rows["start"]) / pd.Timedelta(days=1)).to_numpy(float)
        days = rows["days_to_detect"].to_numpy(float)
        never = np.isnan(days)
        np.testing.assert_array_equal(_values(bar.y), np.where(never, length, days))
        assert list(bar.text) == [
            "never" if n else f"{d:g} d" for d, n in zip(days, never, strict=True)
        ]
        assert list(bar.marker.pattern.shape) == ["/" if n else "" for n in never]
        money = [format_money(v, "USD") for v in rows["money_lost_before_detection"]]
        assert [c[2] for c in bar.customdata] == money
    health = bars["system health"]
    assert list(health.text) == ["never"] * 3  # the point: volume and errors saw nothing
    assert _title(fig) == detection_sentence(detected)
    assert _title(fig) == (
        "Each of the 3 incidents was caught on the day it began; system health alone caught none"
    )


# -- the app page -------------------------------------------------------------------------------
def test_monitoring_page_shows_the_packages_numbers(
    replayed, detected, monkeypatch, tmp_path: Path
):
    stored: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def keep(self, path_or_data, mimetype, kind, filename=None):
        file_id = original(self, path_or_data, mimetype, kind, filename)
        stored[file_id] = path_or_data
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", keep)
    monkeypatch.delenv("PRODREADY_CASE", raising=False)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page("app_pages/monitoring.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error
    assert at.title[0].value == "Monitoring"
    alerts = replayed.alerts
    tiles = {m.label: m.value for m in at.metric}
    assert tiles == {
        "Monitors": f"{len(replayed.monitors)}",
        "Alerts": f"{len(alerts)}",
        "First alert": f"{alerts['first_fire'].min():%d %b %Y}",
        "System health alerts": "0",
    }
    assert tiles["First alert"] == "27 Aug 2025"
    markdown = " ".join(m.value for m in at.markdown).replace(r"\$", "$")
    for finding in [*replayed.summary(), *detected.summary()]:
        assert finding.text in markdown
    assert at.multiselect(key="monitoring_panel").value == default_panel_monitors(replayed)
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]
    sample = samples.known_problems("card_fraud")
    assert titles == [
        charts.monitor_panel(replayed, incidents=sample).layout.title.text,
        charts.time_to_detect(detected).layout.title.text,
    ]
    frames = [df.value for df in at.dataframe]
    pd.testing.assert_frame_equal(frames[0].reset_index(drop=True), alerts)
    pd.testing.assert_frame_equal(frames[1].reset_index(drop=True), detected.table)
    assert frames[2].shape == detected.coverage.shape

    # the YAML download reads back as the replay's monitors
    button = next(b for b in at.get("download_button") if b.proto.label.startswith("Download mon"))
    data = stored[button.proto.url.rsplit("/", 1)[-1]]
    path = tmp_path / "monitors.yaml"
    path.write_bytes(data)
    assert monitoring.load_monitors(path) == list(replayed.monitors)

    # fewer monitors: the panel draws only those
    at.multiselect(key="monitoring_panel").set_value(["volume"]).run()
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert {t.get("meta") for t in chart["data"]} == {"volume"}


def test_monitoring_page_reads_an_incidents_upload(replayed, card_fraud, monkeypatch):
    """A case that is not a bundled sample shows no detection until incidents are uploaded;
    the report is then the package's for those incidents; a bad file gets a clear error."""
    monkeypatch.delenv("PRODREADY_CASE", raising=False)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    spec = card_fraud.spec.model_copy(update={"name": "our fraud model"})
    at.session_state["case"] = dataclasses.replace(card_fraud, spec=spec)
    at.session_state["case_key"] = "test:renamed"
    at.switch_page("app_pages/monitoring.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.get("plotly_chart")) == 1  # the panel; no incidents, no detection
    assert not at.get("plotly_chart")[0].proto.spec.count("silent_incident")

    csv = b"problem,start,end\nsilent_incident,2025-09-08,2025-09-18\n"
    at.file_uploader(key="monitoring_incidents").upload("incidents.csv", csv, "text/csv").run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error
    incidents = pd.DataFrame(
        {
            "problem": ["silent_incident"],
            "start": [pd.Timestamp("2025-09-08", tz="UTC")],
            "end": [pd.Timestamp("2025-09-18", tz="UTC")],
        }
    )
    expected = monitoring.detection_report(replayed, card_fraud, incidents)
    frames = [df.value for df in at.dataframe]
    pd.testing.assert_frame_equal(frames[1].reset_index(drop=True), expected.table)
    assert len(at.get("plotly_chart")) == 2

    bad = b"problem,start\nsilent_incident,2025-09-08\n"
    at.file_uploader(key="monitoring_incidents").upload("bad.csv", bad, "text/csv").run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.error) == 1
    assert "the incidents file lacks columns" in at.error[0].value
    assert "How to fix" in at.error[0].value
    assert len(at.get("plotly_chart")) == 1


# -- the notebook -------------------------------------------------------------------------------
@pytest.mark.parametrize("which", ["card_fraud", "delivery_time"])
def test_notebook_writes_the_packages_numbers(which, tmp_path: Path):
    rows = {"card_fraud": 3000, "delivery_time": 5000}[which]
    case_file = samples.write(which, tmp_path / "case", rows=rows)
    out = tmp_path / "out"
    result = run_report(
        case_file, out, seed=0, executive=False, notebooks=[notebooks_dir() / NOTEBOOK]
    )
    case = prodready.load_case(case_file)
    replayed = monitoring.replay(case)
    detection = monitoring.detection_report(replayed, case, samples.known_problems(which))
    expected = {"monitoring.json": replayed.to_dict(), "detection.json": detection.to_dict()}
    if which == "card_fraud":
        sweep = review.sweep(case, capacity_per_day=20, cost_per_review=5.0, seed=0)
        expected["review.json"] = sweep.to_dict()
    else:  # review is binary-only: the notebook prints the package's message and skips it
        with pytest.raises(ProdreadyError) as refused:
            review.sweep(case, capacity_per_day=20, cost_per_review=5.0, seed=0)
        executed = nbformat.read(out / NOTEBOOK, as_version=4)
        printed = "".join(
            o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.outputs
        )
        assert str(refused.value) in printed
    names = [p.name for p in result.files]
    assert names == [
        NOTEBOOK,
        NOTEBOOK.replace(".ipynb", ".html"),
        *sorted(expected),
        "results.json",  # every artefact of the run, for machines
    ]
    for name, numbers in expected.items():
        written = json.loads((out / name).read_text(encoding="utf-8"))
        assert written == json.loads(json.dumps(numbers)), name
