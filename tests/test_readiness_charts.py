"""The readiness figures draw the scorecard's, the roadmap's and the store's own numbers."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from prodready import charts, readiness
from prodready.charts.readiness import ORGANISATION_LABEL, PHASE_COLOURS
from prodready.errors import ProdreadyError
from prodready.results import format_money

SECTIONS = ["organisation", "data", "model", "infrastructure", "monitoring"]
START = date(2027, 1, 1)


@pytest.fixture(scope="module")
def bank() -> pd.DataFrame:
    return readiness.questions()


def answers_for(bank: pd.DataFrame, per_section: dict[str, float]) -> dict[str, float]:
    """Each section's questions answered with the given score."""
    return {row.id: per_section[row.section] for row in bank.itertuples()}


@pytest.fixture(scope="module")
def card(bank):
    # organisation 8 x 0.5 = 4 (of 8), data 7, model 3.5, infrastructure 0, monitoring 7
    scores = {"organisation": 0.5, "data": 1, "model": 0.5, "infrastructure": 0, "monitoring": 1}
    return readiness.score(answers_for(bank, scores))


@pytest.fixture(scope="module")
def better(bank):
    scores = {"organisation": 1, "data": 1, "model": 1, "infrastructure": 0.5, "monitoring": 1}
    return readiness.score(answers_for(bank, scores))


def test_radar_draws_the_sections_with_organisation_scaled_to_seven(card):
    fig = charts.section_radar(card)
    (trace,) = fig.data
    assert list(trace.r[:5]) == [3.5, 7.0, 3.5, 0.0, 7.0]
    assert trace.r[5] == trace.r[0]  # closed polygon
    assert list(trace.customdata[:5]) == [card.sections[s] for s in SECTIONS]
    assert list(trace.theta[:5]) == [ORGANISATION_LABEL, *SECTIONS[1:]]
    assert trace.meta == "this assessment"
    assert list(fig.layout.polar.radialaxis.range) == [0, 7]
    title = fig.layout.title.text
    assert "ML Test Score 0 of 7: infrastructure is the weakest section (0)" in title
    assert card.band in title


def test_radar_compares_with_a_previous_assessment_and_other_teams(card, better):
    fig = charts.section_radar(better, card)
    assert [t.meta for t in fig.data] == ["previous", "this assessment"]
    assert list(fig.data[1].r[:5]) == [7.0, 7.0, 7.0, 3.5, 7.0]
    assert "ML Test Score 3.5 of 7" in fig.layout.title.text
    assert "up from 0 (previous)" in fig.layout.title.text
    teams = charts.section_radar(card, {"blue": better, "red": card}, name="green")
    assert sorted(t.meta for t in teams.data) == ["blue", "green", "red"]
    assert "from" not in teams.layout.title.text


def test_gantt_has_one_bar_per_item_on_the_month_axis(bank):
    plan = readiness.roadmap(readiness.score(dict.fromkeys(bank["id"], 0)), start=START)
    fig = charts.roadmap_gantt(plan)
    items = plan.items
    assert sum(len(t.x) for t in fig.data) == len(items) == 14
    assert {t.meta for t in fig.data} == set(PHASE_COLOURS)
    for trace in fig.data:
        rows = items[items["phase"] == trace.meta]
        assert trace.marker.color == PHASE_COLOURS[trace.meta]
        assert list(trace.base) == list(rows["month_start"] - 1)
        assert list(trace.x) == list(rows["month_end"] - rows["month_start"] + 1)
        names = [label.replace("<br>", " ").split(". ", 1)[1] for label in trace.y]
        assert names == list(rows["title"])
        assert [c[1] for c in trace.customdata] == list(rows["owner"])
        assert [c[2] for c in trace.customdata] == list(rows["effort"])
    shadow = next(t for t in fig.data if t.meta == "Baseline")
    assert 2 in list(shadow.x)  # the shadow/canary item spans months 2-3
    assert fig.layout.title.text.startswith("14 roadmap items over 6 months, 5 in month 1")
    assert fig.layout.xaxis.ticktext[0] == "month 1<br>Jan 2027"
    assert list(fig.layout.xaxis.range) == [0, 6]


def test_gantt_says_the_money_at_stake_and_hovers_it(bank):
    proposals = pd.DataFrame(
        {
            "id": ["monitor_3", "data_7"],
            "proposed": [0.0, 0.0],
            "reason": ["The skew audit found 2 features computed differently", "x differs"],
            "audit": ["skew", "skew"],
            "finding": ["f1", "f2"],
            "severity": ["high", "medium"],
            "money": [620.0, float("nan")],
            "currency": ["USD", None],
        }
    )
    plan = readiness.roadmap(readiness.score(dict.fromkeys(bank["id"], 1)), proposals, start=START)
    fig = charts.roadmap_gantt(plan)
    assert sum(len(t.x) for t in fig.data) == 2
    assert "2 roadmap items over 6 months, 1 in month 1<br><sup>USD 620 at stake" in (
        fig.layout.title.text
    )
    foundation = next(t for t in fig.data if t.meta == "Foundation")
    assert format_money(620.0, "USD") in foundation.customdata[0][3]
    assert "computed differently" in foundation.customdata[0][0]


def history_frame(scores: list[float]) -> pd.DataFrame:
    n = len(scores)
    return pd.DataFrame(
        {
            "assessment_id": range(1, n + 1),
            "created_at": pd.date_range("2026-09-01", periods=n, freq="30D", tz="UTC"),
            "author": ["ana"] * n,
            "answered": [36] * n,
            "ml_test_score": scores,
            "organisation": [4.0 + i for i in range(n)],
            "data": [s + 1 for s in scores],
            "model": scores,
            "infrastructure": [s + 2 for s in scores],
            "monitoring": [s + 0.5 for s in scores],
        }
    )


def test_score_trend_draws_each_section_and_the_thick_score():
    fig = charts.score_trend(history_frame([1.0, 1.5, 2.5]))
    by = {t.meta: t for t in fig.data}
    assert set(by) == {*SECTIONS, "ml_test_score"}
    assert list(by["ml_test_score"].y) == [1.0, 1.5, 2.5]
    assert by["ml_test_score"].line.width > by["data"].line.width
    assert list(by["data"].y) == [2.0, 2.5, 3.5]
    assert list(by["organisation"].y) == [3.5, 4.375, 5.25]  # 4, 5, 6 of 8 scaled to 7
    assert list(by["organisation"].customdata) == [4.0, 5.0, 6.0]
    assert fig.layout.title.text.startswith("ML Test Score rose from 1 to 2.5 over 3 assessments")
    fell = charts.score_trend(history_frame([2.0, 0.5]))
    assert fell.layout.title.text.startswith("ML Test Score fell from 2 to 0.5 over 2")


def test_score_trend_with_one_or_no_assessment_explains_itself():
    one = charts.score_trend(history_frame([1.5]))
    assert one.layout.title.text.startswith("ML Test Score 1.5 in the only assessment (01 Sep")
    assert "re-assess" in one.layout.annotations[0].text
    assert all(t.mode == "markers" for t in one.data)
    empty = charts.score_trend(history_frame([]))
    assert len(empty.data) == 0
    assert "No assessment saved yet" in empty.layout.title.text
    assert "Save an assessment" in empty.layout.annotations[0].text


def test_team_comparison_groups_bars_by_team():
    frame = pd.DataFrame(
        {
            "team": ["payments", "risk", "growth"],
            "assessment_id": [1, 2, 3],
            "ml_test_score": [2.0, 0.5, 1.0],
            "organisation": [8.0, 4.0, 2.0],
            "data": [3.0, 0.5, 1.0],
            "model": [2.0, 1.0, 1.0],
            "infrastructure": [4.0, 2.0, 1.5],
            "monitoring": [2.5, 3.0, 1.0],
        }
    )
    fig = charts.team_comparison(frame)
    assert [t.meta for t in fig.data] == ["payments", "risk", "growth"]
    assert list(fig.data[1].y) == [0.5, 3.5, 0.5, 1.0, 2.0, 3.0]
    assert list(fig.data[0].x)[1] == ORGANISATION_LABEL
    assert list(fig.data[0].customdata)[1] == 8.0
    assert fig.layout.barmode == "group"
    assert fig.layout.title.text.startswith(
        "payments leads with ML Test Score 2; risk trails at 0.5"
    )
    one = charts.team_comparison(frame.iloc[:1])
    assert one.layout.title.text.startswith("Only payments assessed so far: ML Test Score 2")
    empty = charts.team_comparison(frame.iloc[:0])
    assert len(empty.data) == 0 and "compare teams" in empty.layout.annotations[0].text


def test_charts_refuse_frames_they_cannot_draw():
    with pytest.raises(ProdreadyError, match="lacks columns") as error:
        charts.score_trend(pd.DataFrame({"created_at": []}))
    assert "ml_test_score" in str(error.value)
    with pytest.raises(ProdreadyError, match="needs a frame"):
        charts.team_comparison([{"team": "a"}])
