"""Human review faces show the package's own numbers: the two charts and the app page (AppTest).

The card_fraud sample is replayed once with the package (``review.sweep`` and
``review.simulate`` with the page's defaults: 20 reviews a day, 5 USD a review, reviewer accuracy
0.95, seed 0) and compared with what each face shows.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest
from test_review import _case

from prodready import charts, review, samples
from prodready.charts.review import band_words, queue_sentence, sweep_sentence
from prodready.results import format_money

APP = "../app/streamlit_app.py"  # AppTest resolves it against this file
TIMEOUT = 120
SETTINGS = {"capacity_per_day": 20, "cost_per_review": 5.0, "reviewer_accuracy": 0.95, "seed": 0}


@pytest.fixture(scope="module")
def card_fraud():
    return samples.load("card_fraud")


@pytest.fixture(scope="module")
def swept(card_fraud) -> review.ReviewSweep:
    return review.sweep(card_fraud, **SETTINGS)


def _serving(labels: list) -> pd.DataFrame:
    """Three events (two on day one in [0.4, 0.6), one on day two at 0.9) with these labels."""
    return pd.DataFrame(
        {
            "t": pd.to_datetime(
                ["2025-01-01 08:00", "2025-01-01 09:00", "2025-01-02 10:00"], utc=True
            ),
            "y": pd.array(labels, dtype="Int8"),
            "score": [0.45, 0.55, 0.9],
            "x": [1.0, 1.0, 1.0],
        }
    )


def _values(values) -> np.ndarray:
    return np.asarray(values, dtype="float64")


def _title(fig) -> str:
    return fig.layout.title.text


def _traces(fig) -> dict:
    return {trace.name: trace for trace in fig.data}


# -- charts -------------------------------------------------------------------------------------
def test_queue_chart_stacks_reviewed_and_overflow_per_day_under_the_capacity(swept):
    result = swept.best_result
    assert result is not None and result.band == (0.03, 0.09)
    daily = result.to_frame()
    fig = charts.review_queue(result)
    traces = _traces(fig)
    reviewed, overflow = traces["reviewed"], traces["overflow (the model decided alone)"]
    assert fig.layout.barmode == "stack"
    for trace, column in ((reviewed, "reviewed"), (overflow, "overflow")):
        assert trace.type == "bar"
        assert list(pd.to_datetime(list(trace.x), utc=True)) == list(daily["date"])
        assert _values(trace.y) == pytest.approx(daily[column].to_numpy(float))
    # one bar per day; the stack is the day's in-band count, reviewed never above the capacity
    assert len(reviewed.x) == result.totals["days"] == 184
    stacked = _values(reviewed.y) + _values(overflow.y)
    assert stacked == pytest.approx(daily["in_band"].to_numpy(float))
    assert _values(reviewed.y).max() <= 20
    assert _values(reviewed.customdata) == pytest.approx(daily["in_band"].to_numpy(float))
    capacity = traces["capacity (20 a day)"]
    assert set(_values(capacity.y)) == {20.0} and len(capacity.x) == len(daily)
    # the title says the finding: 652 of 2,546 (26%) on 12 of 184 days
    t = result.totals
    assert (t["overflow"], t["in_band"], t["days_with_overflow"]) == (652, 2546, 12)
    assert _title(fig).startswith(
        "The queue overflowed on 12 of 184 days: 652 of 2,546 in-band events (26%) were decided "
        "by the model alone<br>"
    )
    assert "13.8 events a day on average, peak 109, against 20 reviews a day" in _title(fig)


def test_queue_chart_title_when_the_reviewers_keep_up_or_nothing_is_in_band(card_fraud):
    roomy = review.simulate(card_fraud, band=(0.05, 0.07), **{**SETTINGS, "capacity_per_day": 50})
    assert roomy.totals["overflow"] == 0
    fig = charts.review_queue(roomy)
    assert _values(_traces(fig)["overflow (the model decided alone)"].y).sum() == 0
    assert _title(fig).startswith(
        f"The reviewers kept up every day: all {roomy.totals['in_band']:,} in-band events were "
        "reviewed"
    )
    empty = review.simulate(card_fraud, band=(0.999, 1.0), **SETTINGS)
    assert empty.totals["in_band"] == 0
    assert queue_sentence(empty) == "No event fell in the band [0.999, 1): widen it"


def test_net_value_chart_draws_each_band_and_stars_the_best(swept):
    table = swept.to_frame()
    fig = charts.review_net_value(swept)
    traces = _traces(fig)
    net = traces["net value (filled: within capacity)"]
    load = traces["mean daily load"]
    assert _values(net.x) == pytest.approx(table["width"].to_numpy(float))
    assert _values(net.y) == pytest.approx(table["net"].to_numpy(float))
    assert _values(load.x) == pytest.approx(table["width"].to_numpy(float))
    assert _values(load.y) == pytest.approx(table["mean_daily_load"].to_numpy(float))
    assert [row[0] for row in net.customdata] == table["band"].tolist()
    # filled points within capacity, open ones past it
    symbols = ["circle" if f else "circle-open" for f in table["within_capacity"]]
    assert list(net.marker.symbol) == symbols == list(load.marker.symbol)
    assert table["within_capacity"].sum() == 5
    # net value on top, load with the capacity line below, sharing the x axis (log scale)
    assert (net.yaxis, load.yaxis) == ("y", "y2")
    capacity = traces["capacity (20 a day)"]
    assert capacity.yaxis == "y2" and set(_values(capacity.y)) == {20.0}
    assert _values(capacity.x) == pytest.approx([0.005, 0.3])
    assert fig.layout.xaxis.type == fig.layout.xaxis2.type == "log"
    # the best band [0.03, 0.09) (width 0.06) starred at its net value and at its load
    best = table[(table["low"] == 0.03) & (table["high"] == 0.09)].iloc[0]
    star = traces["best band [0.03, 0.09)"]
    assert star.marker.symbol == "star" and star.yaxis == "y"
    assert (star.x[0], star.y[0]) == pytest.approx((0.06, best["net"]))
    assert star.y[0] == pytest.approx(17_355.0) == swept.best_result.net
    star_load = traces["best band [0.03, 0.09) (load)"]
    assert star_load.yaxis == "y2"
    assert (star_load.x[0], star_load.y[0]) == pytest.approx((0.06, best["mean_daily_load"]))
    assert _title(fig).startswith(
        "Best band [0.03, 0.09): net USD 17,355 within the capacity of 20 a day<br>"
    )
    assert "5 of 10 have a mean daily load within 20 reviews a day" in _title(fig)


def test_net_value_chart_without_a_best_band_or_without_labels(card_fraud):
    none_fit = review.sweep(card_fraud, **{**SETTINGS, "capacity_per_day": 0})
    assert none_fit.best is None
    fig = charts.review_net_value(none_fit)
    assert not [t for t in fig.data if t.name.startswith("best band")]
    assert sweep_sentence(none_fit) == "No review band recommended"
    assert _title(fig).startswith("No review band recommended<br>")
    assert "0 of 10 have a mean daily load within 0 reviews a day" in _title(fig)
    assert "add reviewers or narrow the band" in _title(fig).replace("<br>", " ")
    symbols = _traces(fig)["net value (filled: within capacity)"].marker.symbol
    assert list(symbols) == ["circle-open"] * 10

    # no label has arrived: the load is drawn, the net value is empty and says why
    unlabelled = review.sweep(
        _case(_serving([None, None, None])),
        widths=[0.1, 0.2],
        capacity_per_day=5,
        cost_per_review=1,
    )
    fig = charts.review_net_value(unlabelled)
    assert np.isnan(_values(_traces(fig)["net value (filled: within capacity)"].y)).all()
    # [0.45, 0.55) holds 0.45 only (open above): 1 event over 2 days; [0.4, 0.6) holds 2
    assert _values(_traces(fig)["mean daily load"].y) == pytest.approx([0.5, 1.0])
    assert [a.text for a in fig.layout.annotations] == ["no label has arrived: no net value"]


# -- the app page -------------------------------------------------------------------------------
def _titles(at: AppTest) -> list[str]:
    return [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]


def _markdown(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown).replace(r"\$", "$")


def _shows(at: AppTest, result: review.ReviewResult, sweep: review.ReviewSweep) -> None:
    """The tiles, findings, charts and tables are the package's numbers for these settings."""
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error
    t = result.totals
    tiles = {m.label: m.value for m in at.metric}
    assert tiles == {
        "Band": band_words(result.band),
        "Mean load a day": f"{t['mean_daily_load']:.1f}",
        "Overflow share": f"{t['overflow_share']:.1%}",
        "Errors avoided": f"{t['errors_avoided']:,}",
        "Net value": format_money(t["net"], "USD"),
    }
    markdown = _markdown(at)
    for finding in [*result.summary(), *sweep.summary()]:
        assert finding.text in markdown
    titles = _titles(at)
    assert titles == [_title(charts.review_queue(result)), _title(charts.review_net_value(sweep))]
    frames = [df.value for df in at.dataframe]
    bands = next(f for f in frames if "within_capacity" in f.columns)
    pd.testing.assert_frame_equal(bands.reset_index(drop=True), sweep.to_frame())
    daily = next(f for f in frames if "queue_length" in f.columns)
    assert daily["reviewed"].tolist() == result.daily["reviewed"].tolist()
    assert daily["overflow"].tolist() == result.daily["overflow"].tolist()
    labels = [b.label for b in at.get("download_button")]
    assert labels.count("Download figure (HTML, opens offline)") == 2
    assert labels.count("Download table (CSV)") == 2


def test_review_page_shows_the_packages_numbers_and_explains_a_bad_band(card_fraud, monkeypatch):
    monkeypatch.delenv("PRODREADY_CASE", raising=False)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page("app_pages/review.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Human review"
    assert at.number_input(key="review_capacity").value == 20
    assert at.number_input(key="review_cost").value == 5.0
    assert at.number_input(key="review_accuracy").value == 0.95
    assert at.radio(key="review_mode").value == "best from the sweep"

    # the defaults: the sweep's best band, replayed as review.simulate replays it
    sweep = review.sweep(card_fraud, **SETTINGS)
    best = review.simulate(card_fraud, band=sweep.best, **SETTINGS)
    _shows(at, best, sweep)
    assert at.metric[0].value == "[0.03, 0.09)"
    assert {m.label: m.value for m in at.metric}["Net value"] == "USD 17,355"

    # 40 reviews a day: a new sweep, a new best band, new tiles
    at.number_input(key="review_capacity").set_value(40).run()
    sweep40 = review.sweep(card_fraud, **{**SETTINGS, "capacity_per_day": 40})
    best40 = review.simulate(card_fraud, band=sweep40.best, **{**SETTINGS, "capacity_per_day": 40})
    _shows(at, best40, sweep40)
    assert best40.totals["net"] != best.totals["net"]

    # a custom band starts at the best band; moving it replays that band
    at.radio(key="review_mode").set_value("custom band").run()
    assert at.slider(key="review_band").value == pytest.approx(sweep40.best)
    at.slider(key="review_band").set_value((0.04, 0.08)).run()
    custom = review.simulate(card_fraud, band=(0.04, 0.08), **{**SETTINGS, "capacity_per_day": 40})
    _shows(at, custom, sweep40)

    # low not below high: the package's message, no tiles, no traceback
    at.slider(key="review_band").set_value((0.05, 0.05)).run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.error) == 1
    message = at.error[0].value
    assert "the band must lie inside [0, 1] with low below high" in message
    assert "Found: (0.05, 0.05)" in message
    assert not at.metric
    assert _titles(at) == [_title(charts.review_net_value(sweep40))]  # the sweep still shows


@pytest.mark.parametrize("which", ["regression", "no value matrix"])
def test_review_page_refuses_a_case_review_cannot_value(which, monkeypatch):
    if which == "regression":
        case = samples.load("delivery_time")
        expected = "review needs a binary decision (act or not), and this is a regression case"
    else:
        case = _case(_serving([1, 0, 1]), business=None)
        expected = "the case has no value matrix"
    monkeypatch.delenv("PRODREADY_CASE", raising=False)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.session_state["case"] = case
    at.session_state["case_key"] = f"test:{which}"
    at.switch_page("app_pages/review.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.error) == 1 and expected in at.error[0].value
    assert "How to fix" in at.error[0].value
    assert not at.metric and not at.get("plotly_chart")
