"""The rollout replay's faces show the replay's own numbers: the charts, the app page (AppTest),
the ``02_rollout_replay`` notebook (papermill) and ``prodready audit rollout``; and the Monte
Carlo's (its chart, the page's section, the notebook's JSON).

The bundled sample's replay is computed once for the module; the CLI runs on a small written copy
of the sample so it stays fast.
"""

from __future__ import annotations

import dataclasses
import json
from html import unescape
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

import prodready
import prodready.samples
from prodready import charts
from prodready.cli import app
from prodready.errors import ProdreadyError
from prodready.report import run_report
from prodready.resources import notebooks_dir
from prodready.results import format_money
from prodready.rollout import Plan, default_triggers, monte_carlo, scenarios, simulate

pytestmark = pytest.mark.slow  # a long file: its worker starts it first (tests/conftest.py)

APP = "../app/streamlit_app.py"  # AppTest resolves it against this file
TIMEOUT = 120
NOTEBOOK = "02_rollout_replay.ipynb"
runner = CliRunner()


@pytest.fixture(scope="module")
def sample():
    case = prodready.samples.load()
    return case, simulate(case, seed=0)


@pytest.fixture(scope="module")
def broken(sample):
    case, _ = sample
    return simulate(case, challenger=scenarios.challenger_scores(case, "broken challenger"))


@pytest.fixture(scope="module")
def held(sample):
    """A plan longer than the log: no decision, the money at risk counted to the last day."""
    case, _ = sample
    plan = Plan.from_value(
        [{"name": "shadow", "days": 14, "share": 0}, {"name": "canary", "days": 90, "share": 5}]
    )
    return simulate(case, plan=plan)


@pytest.fixture(scope="module")
def outcomes(sample):
    """The Monte Carlo of the default plan: the sample's challenger and the broken one."""
    case, _ = sample
    broken_scores = scenarios.challenger_scores(case, "broken challenger")
    return {
        "sample": monte_carlo(case, n=300, seed=0),
        "broken": monte_carlo(case, n=300, seed=0, challenger=broken_scores),
    }


def _page_triggers(case) -> list:
    """The rules the Rollout page starts from: the defaults plus the suggested guardrail."""
    guardrail = _guardrail(case)
    return default_triggers(case) + ([guardrail.trigger] if guardrail is not None else [])


def _guardrail(case):
    suggest = getattr(prodready.rollout, "suggest_guardrail", None)
    return suggest(case) if suggest is not None else None


def _as_json(data: dict) -> dict:
    return json.loads(json.dumps(data, allow_nan=False))  # as a JSON file gives it back


def _values(values) -> np.ndarray:
    return np.asarray(values, dtype="float64")


def _dates(values) -> list[pd.Timestamp]:
    return list(pd.to_datetime(list(values), utc=True))


def _title(fig) -> str:
    return fig.layout.title.text


# -- charts -------------------------------------------------------------------------------------
@pytest.mark.parametrize("which", ["sample", "broken"])
def test_timeline_draws_the_traffic_steps_kpis_with_bands_and_the_decisions(sample, broken, which):
    result = sample[1] if which == "sample" else broken
    timeline, decisions = result.timeline, result.decisions
    fig = charts.rollout_timeline(result)
    traces = {trace.name: trace for trace in fig.data}

    share = traces["challenger's traffic share"]
    assert share.line.shape == "hv"
    assert _dates(share.x) == list(timeline["date"])
    assert _values(share.y) == pytest.approx(timeline["share"].to_numpy())
    marks = traces["decisions"]
    assert _dates(marks.x) == list(decisions["date"])
    assert list(marks.text) == decisions["action"].tolist()
    assert [row[1] for row in marks.customdata] == decisions["reason"].tolist()
    for arm in ("champion", "challenger"):
        for trace, column in (
            (traces[f"{arm} value per 1,000"], f"{arm} value per 1000"),
            (traces[f"{arm} band (high)"], f"{arm} value high"),
            (traces[f"{arm} band (low)"], f"{arm} value low"),
        ):
            assert _values(trace.y) == pytest.approx(timeline[column].to_numpy(), nan_ok=True)
        assert traces[f"{arm} band (low)"].fill == "tonexty"
    assert charts.outcome_sentence(result) in _title(fig)
    assert f"{result.days_replayed} of the plan's {result.plan_days} days replayed" in _title(fig)
    unknown = (
        timeline[["champion value per 1000", "challenger value per 1000"]].isna().to_numpy().all()
    )
    notes = [a.text for a in fig.layout.annotations]
    assert ("No label had arrived by the decision" in " ".join(notes)) == unknown
    if which == "broken":
        assert result.outcome == "rolled_back"
        assert _title(fig).count("Rolled back on") == 1
        assert decisions["action"].iloc[-1] == "rollback"


@pytest.mark.parametrize("which", ["sample", "broken", "held"])
def test_money_chart_draws_each_days_gain_against_the_champion_and_the_decision(
    sample, broken, held, which
):
    result = {"sample": sample[1], "broken": broken, "held": held}[which]
    money, currency, by_day = result.money, result.currency, result.money_by_day
    assert len(by_day) > 0
    fig = charts.money_at_risk(result)
    traces = {trace.name: trace for trace in fig.data}
    rollout_gap = (by_day["realised"] - by_day["champion_only"]).to_numpy()
    bang_gap = (by_day["big_bang"] - by_day["champion_only"]).to_numpy()

    for name, gap in (
        ("this rollout vs champion only", rollout_gap),
        ("big bang vs champion only", bang_gap),
    ):
        trace = traces[name]
        assert _dates(trace.x) == list(by_day["date"])
        assert _values(trace.y) == pytest.approx(gap)
        assert [row[0] for row in trace.customdata] == [format_money(v, currency) for v in gap]
        assert [row[1] for row in trace.customdata] == by_day["stage"].tolist()
    zero = traces["champion only"]
    assert _dates(zero.x) == list(by_day["date"]) and not _values(zero.y).any()
    # the last day's gaps are the money dict's totals
    assert rollout_gap[-1] == pytest.approx(money["realised"] - money["champion_only"])
    assert bang_gap[-1] == pytest.approx(money["big_bang"] - money["champion_only"])

    # the loss shaded up to the decision (every valued day when held)
    shaded = traces["money at risk (loss before the decision)"]
    upto = (
        by_day["date"] <= result.decision_date
        if result.decision_date is not None
        else pd.Series(True, index=by_day.index)
    ).to_numpy()
    assert shaded.fill == "tozeroy"
    assert _dates(shaded.x) == list(by_day["date"][upto])
    assert _values(shaded.y) == pytest.approx(np.minimum(rollout_gap[upto], 0.0))

    title = _title(fig)
    assert f"Money at risk up to the decision: {format_money(money['at_risk'], currency)}" in title
    gain = money["realised"] - money["champion_only"]
    verb = "gained" if gain >= 0 else "lost"
    assert f"the rollout {verb} {format_money(abs(gain), currency)}" in title
    words = charts.rollout.OUTCOME_WORDS[result.outcome]
    if result.decision_date is None:
        assert result.outcome == "held"
        assert not fig.layout.shapes
        assert not [name for name in traces if name.startswith("decision")]
        assert money["at_risk"] == pytest.approx(min(0.0, rollout_gap[-1]))
        return
    (line,) = fig.layout.shapes
    assert pd.Timestamp(line.x0) == pd.Timestamp(line.x1) == result.decision_date
    marker = traces[f"decision: {words}"]
    assert _dates(marker.x) == [result.decision_date]
    at = list(by_day["date"]).index(result.decision_date)
    assert _values(marker.y) == pytest.approx([rollout_gap[at]])
    assert money["at_risk"] == pytest.approx(min(0.0, rollout_gap[at]))  # the marker's loss
    assert marker.text == (f"{words}: at risk {format_money(money['at_risk'], currency)}",)
    if which == "broken":
        # after the rollback the champion serves everything: the rollout's curve stays flat
        assert result.outcome == "rolled_back"
        assert by_day["date"].iloc[-1] > result.decision_date
        assert np.all(rollout_gap[at + 1 :] == pytest.approx(rollout_gap[at + 1]))
        assert bang_gap[-1] < rollout_gap[-1]


@pytest.mark.parametrize("which", ["sample", "broken"])
def test_monte_carlo_chart_stacks_the_decision_days_of_each_outcome(outcomes, which):
    mc = outcomes[which]
    frame = mc.days_to_decision
    fig = charts.monte_carlo_outcomes(mc)
    assert fig.layout.barmode == "stack"
    words = charts.rollout.OUTCOME_WORDS
    drawn = {}
    for bars in fig.data:
        outcome = next(o for o, w in words.items() if bars.name.startswith(f"{w} ("))
        drawn[outcome] = bars
        counts = frame.loc[frame["outcome"] == outcome, "decision_day"].value_counts().sort_index()
        assert list(bars.x) == counts.index.tolist()
        assert list(bars.y) == counts.tolist()
        assert bars.marker.color == charts.rollout.OUTCOME_COLOURS[outcome]
    assert set(drawn) == set(frame["outcome"])  # one bar series per outcome that happened
    assert sum(sum(bars.y) for bars in fig.data) == mc.n
    rates = {"promoted": mc.promotion_rate, "rolled_back": mc.rollback_rate, "held": mc.hold_rate}
    share = charts.rollout.share_text
    assert [share(r) for r in (0, 0.004, 0.05, 0.955, 1)] == ["0%", "0.4%", "5%", "96%", "100%"]
    for outcome, bars in drawn.items():
        assert bars.name == f"{words[outcome]} ({share(rates[outcome])})"
        assert (frame["outcome"] == outcome).mean() == pytest.approx(rates[outcome])
    title = _title(fig)
    assert title.startswith(
        f"{mc.n} replays: rolled back {share(mc.rollback_rate)}, promoted "
        f"{share(mc.promotion_rate)}, held {share(mc.hold_rate)}<br>"
    )
    kind = "promotions" if mc.challenger_worse else "rollbacks"
    assert f"Wrong calls: {share(mc.wrong_promotion_rate)} (wrong {kind})" in title
    if which == "broken":  # the broken challenger is always caught, in the canary
        assert mc.rollback_rate == 1.0 and mc.challenger_worse
        assert set(drawn) == {"rolled_back"}
        assert "canary" in frame["stage"].tolist()
    else:
        assert mc.promotion_rate > 0.5 and not mc.challenger_worse
        promoted = drawn["promoted"]
        assert list(promoted.x) == [mc.plan.days - 1]  # promotions come on the plan's last day


# -- the app page -------------------------------------------------------------------------------
def _titles(at: AppTest) -> list[str]:
    return [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]


def test_rollout_page_shows_outcome_decisions_charts_and_monte_carlo_and_rejects_a_bad_share(
    sample, monkeypatch
):
    case, _ = sample
    triggers = _page_triggers(case)
    expected_sample = simulate(case, triggers=triggers, seed=0)
    broken_scores = scenarios.challenger_scores(case, "broken challenger")
    expected_broken = simulate(case, triggers=triggers, challenger=broken_scores, seed=0)
    monkeypatch.delenv("PRODREADY_CASE", raising=False)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page("app_pages/rollout.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Rollout simulator"
    assert not at.error
    assert at.radio(key="rollout_scenario").value == "sample challenger"
    assert at.radio(key="rollout_scenario").options == list(scenarios.SCENARIOS)

    # the rules start from the defaults and the suggested guardrail, whose reason is shown
    editor = at.data_editor(key="rollout_triggers").value
    assert editor["rule"].tolist() == [t.name for t in triggers]
    guardrail = _guardrail(case)
    captions = [c.value for c in at.caption]
    if guardrail is not None:
        assert any(guardrail.why in c and guardrail.trigger.name in c for c in captions)
        assert editor["segment column"].iloc[-1] == guardrail.trigger.segment[0]

    def shows(expected, mc=None) -> None:
        shown = {m.label: m.value for m in at.metric}
        assert shown["Outcome"] == charts.rollout.OUTCOME_WORDS[expected.outcome]
        last = expected.decisions.iloc[-1]
        assert shown["Decided on"] == f"{last['date']:%d %b %Y}"
        assert shown["Money at risk"] == format_money(expected.money["at_risk"], "USD")
        markdown = " ".join(m.value for m in at.markdown).replace(r"\$", "$")
        for finding in expected.summary():
            assert finding.text in markdown
        table = next(df.value for df in at.dataframe if "reason" in df.value.columns)
        assert table["action"].tolist() == expected.decisions["action"].tolist()
        assert table["reason"].tolist() == expected.decisions["reason"].tolist()
        titles = _titles(at)
        assert any(charts.outcome_sentence(expected) in t for t in titles)
        money = format_money(expected.money["at_risk"], "USD")
        assert any(
            t.startswith("What the rollout was worth")
            and f"Money at risk up to the decision: {money}" in t
            for t in titles
        )
        labels = [b.label for b in at.get("download_button")]
        figures = 2 if mc is None else 3
        assert labels.count("Download figure (HTML, opens offline)") == len(titles) == figures
        assert labels.count("Download table (CSV)") == figures  # decisions, every day, replays
        monte = {k: shown.get(k) for k in ("Rolled back", "Promoted", "Held", "Wrong calls")}
        if mc is None:
            assert set(monte.values()) == {None}
            return
        assert monte == {
            "Rolled back": f"{mc.rollback_rate:.1%}",
            "Promoted": f"{mc.promotion_rate:.1%}",
            "Held": f"{mc.hold_rate:.1%}",
            "Wrong calls": f"{mc.wrong_promotion_rate:.1%}",
        }
        for finding in mc.summary():
            assert finding.text in markdown
        assert any(t == _title(charts.monte_carlo_outcomes(mc)) for t in titles)
        replays = next(df.value for df in at.dataframe if "decision_day" in df.value.columns)
        assert replays["outcome"].tolist() == mc.days_to_decision["outcome"].tolist()
        assert replays["decision_day"].tolist() == mc.days_to_decision["decision_day"].tolist()

    shows(expected_sample)

    # the Monte Carlo: 200 replays of the same plan, rules and challenger as the package runs them
    assert at.number_input(key="rollout_mc_replays").value == 500
    at.number_input(key="rollout_mc_replays").set_value(200)
    at.button(key="rollout_mc_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error
    mc = monte_carlo(case, triggers=triggers, n=200, seed=0)
    shows(expected_sample, mc)
    at.run()  # a rerun without a click keeps the result of the same inputs
    shows(expected_sample, mc)

    # the broken challenger scenario is replayed and rolled back; the old Monte Carlo is not
    # shown for it, and its own comes with a click
    at.radio(key="rollout_scenario").set_value("broken challenger").run()
    assert not at.exception, [e.value for e in at.exception]
    assert expected_broken.outcome == "rolled_back"
    shows(expected_broken)
    assert any("changed since the last run" in c.value for c in at.caption)
    at.button(key="rollout_mc_run").click().run()
    mc_broken = monte_carlo(case, triggers=triggers, n=200, seed=0, challenger=broken_scores)
    assert mc_broken.rollback_rate == 1.0
    shows(expected_broken, mc_broken)
    at.radio(key="rollout_scenario").set_value("sample challenger").run()
    shows(expected_sample, mc)  # kept per inputs: back to the sample, its result is back

    # a hold rule: the page replays it; the Monte Carlo runs it or says why it cannot, no crash
    at.session_state["rollout_triggers"] = {
        "edited_rows": {0: {"action": "hold"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    at.button(key="rollout_mc_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    hold = [dataclasses.replace(triggers[0], action="hold"), *triggers[1:]]
    try:
        mc_hold = monte_carlo(case, triggers=hold, n=200, seed=0)
    except ProdreadyError as error:
        assert len(at.error) == 1
        assert str(error).splitlines()[0] in at.error[0].value
        assert not [m for m in at.metric if m.label == "Rolled back"]
    else:
        assert not at.error
        shows(simulate(case, triggers=hold, seed=0), mc_hold)
    at.session_state["rollout_triggers"] = {"edited_rows": {}, "added_rows": [], "deleted_rows": []}

    # a share of 150% in the stage table: the plan's own message, no replay shown
    at.session_state["rollout_stages"] = {
        "edited_rows": {1: {"share": 150}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.error) == 1
    message = at.error[0].value
    assert "rollout stage 'canary'" in message
    assert "the traffic share must be a percentage between 0 and 100" in message
    assert "Found: 150" in message
    assert not at.metric and not at.get("plotly_chart")


def test_trigger_table_round_trips_and_a_segment_guardrail_is_replayed(sample):
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))
    import app_state

    case, result = sample
    table = app_state.trigger_table(result.triggers)
    assert app_state.triggers_from_table(table, case) == list(result.triggers)
    assert app_state.plan_from_table(app_state.stage_table()) == result.plan
    guard = table.iloc[[0]].assign(**{"segment column": "region", "segment value": "international"})
    triggers = app_state.triggers_from_table(pd.concat([table, guard]), case)
    assert triggers[-1].segment == ("region", "international")
    assert triggers[-1].kind == result.triggers[0].kind
    guarded = simulate(case, triggers=triggers)
    assert f"{triggers[-1].name}: fires" in guarded.timeline.columns
    assert "[region == international]" in triggers[-1].name
    off = table.assign(use=[False] + [True] * (len(table) - 1))
    assert app_state.triggers_from_table(off, case) == list(result.triggers[1:])
    page = _page_triggers(case)  # with the suggested guardrail, ceiling and segment included
    assert app_state.triggers_from_table(app_state.trigger_table(page), case) == page


# -- the notebook -------------------------------------------------------------------------------
def test_notebook_writes_the_replay_and_the_monte_carlo_as_json(sample, tmp_path: Path):
    case, result = sample
    report = run_report(
        None, tmp_path, seed=0, executive=False, notebooks=[notebooks_dir() / NOTEBOOK]
    )
    written = json.loads((tmp_path / "rollout_replay.json").read_text(encoding="utf-8"))
    assert written == _as_json(result.to_dict())
    mc = monte_carlo(case, n=500, seed=0)  # the notebook's default: replays = 500
    written_mc = json.loads((tmp_path / "rollout_montecarlo.json").read_text(encoding="utf-8"))
    assert written_mc == _as_json(mc.to_dict())
    assert written_mc["n"] == 500
    assert written_mc["rollback_rate"] == mc.rollback_rate
    assert [r["decision_day"] for r in written_mc["days_to_decision"]] == (
        mc.days_to_decision["decision_day"].tolist()
    )
    assert [p.name for p in report.files] == [
        NOTEBOOK,
        "02_rollout_replay.html",
        "rollout_montecarlo.json",
        "rollout_replay.json",
        "results.json",  # every artefact of the run, for machines
    ]
    html = unescape((tmp_path / "02_rollout_replay.html").read_text(encoding="utf-8"))
    assert html.count('class="plotly-graph-div"') == 3
    assert "How the rollout would have gone" in html
    assert "What the rollout was worth" in html
    assert f"{mc.n} replays: rolled back {charts.rollout.share_text(mc.rollback_rate)}" in html
    for finding in mc.summary():
        assert finding.text.split(" (")[0] in html


# -- the command --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_case(tmp_path_factory: pytest.TempPathFactory):
    path = prodready.samples.write("card_fraud", tmp_path_factory.mktemp("small"), rows=3_000)
    return Path(path), simulate(prodready.load_case(path), seed=3)


def test_audit_rollout_prints_outcome_decisions_and_findings_and_writes_json(small_case, tmp_path):
    path, result = small_case
    target = tmp_path / "new_folder" / "rollout.json"  # the folder is created
    outcome = runner.invoke(
        app, ["audit", "rollout", "--case", str(path), "--seed", "3", "--json", str(target)]
    )
    assert outcome.exit_code == 0, outcome.output
    out = outcome.stdout
    words = charts.rollout.OUTCOME_WORDS[result.outcome]
    assert f"Outcome: {words}. {charts.outcome_sentence(result)}" in out
    for finding in result.summary():
        assert finding.text in out
    lines = out.splitlines()
    for row in result.decisions.itertuples(index=False):
        assert any(
            line.split()[:1] == [f"{row.date:%Y-%m-%d}"]
            and row.action in line
            and row.stage in line
            for line in lines
        ), row
    assert f"Wrote every number of the replay to {target}" in out
    assert json.loads(target.read_text(encoding="utf-8")) == _as_json(result.to_dict())

    to_stdout = runner.invoke(
        app, ["audit", "rollout", "--case", str(path), "--seed", "3", "--json", "-"]
    )
    assert to_stdout.exit_code == 0, to_stdout.output
    assert json.loads(to_stdout.stdout) == _as_json(result.to_dict())


def test_audit_rollout_without_a_challenger_explains_and_exits_2(small_case, tmp_path):
    path, _ = small_case
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    del spec["columns"]["challenger"]
    for name in ("training.parquet", "serving_log.parquet"):
        (tmp_path / name).symlink_to(path.parent / name)
    no_challenger = tmp_path / "case.yaml"
    no_challenger.write_text(yaml.safe_dump(spec), encoding="utf-8")
    outcome = runner.invoke(app, ["audit", "rollout", "--case", str(no_challenger)])
    assert outcome.exit_code == 2
    assert "the case has no challenger" in outcome.stderr
    assert "How to fix:" in outcome.stderr
    assert "Traceback" not in outcome.output
    assert outcome.stdout == ""
