"""The rollout replay's faces show the replay's own numbers: the charts, the app page (AppTest),
the ``02_rollout_replay`` notebook (papermill) and ``prodready audit rollout``.

The bundled sample's replay is computed once for the module; the CLI runs on a small written copy
of the sample so it stays fast.
"""

from __future__ import annotations

import json
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
from prodready.report import run_report
from prodready.resources import notebooks_dir
from prodready.results import format_money
from prodready.rollout import scenarios, simulate

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


def test_money_chart_draws_realised_champion_only_and_big_bang(sample, broken):
    for result in (sample[1], broken):
        money, currency = result.money, result.currency
        fig = charts.money_at_risk(result)
        bars = fig.data[0]
        assert list(bars.x) == ["champion only", "this rollout", "big bang on day one"]
        expected = [money["champion_only"], money["realised"], money["big_bang"]]
        assert _values(bars.y) == pytest.approx(expected)
        assert list(bars.text) == [format_money(v, currency) for v in expected]
        assert f"Money at risk up to the decision: {format_money(money['at_risk'], currency)}" in (
            _title(fig)
        )


# -- the app page -------------------------------------------------------------------------------
def _titles(at: AppTest) -> list[str]:
    return [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]


def test_rollout_page_shows_outcome_decisions_and_charts_and_rejects_a_bad_share(
    sample, broken, monkeypatch
):
    _, result = sample
    monkeypatch.delenv("PRODREADY_CASE", raising=False)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page("app_pages/rollout.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Rollout simulator"
    assert not at.error
    assert at.radio(key="rollout_scenario").value == "sample challenger"
    assert at.radio(key="rollout_scenario").options == list(scenarios.SCENARIOS)

    def shows(expected) -> None:
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
        assert any(t.startswith("What the rollout was worth") for t in titles)
        labels = [b.label for b in at.get("download_button")]
        assert labels.count("Download figure (HTML, opens offline)") == len(titles) == 2
        assert labels.count("Download table (CSV)") == 2  # decisions and every day

    shows(result)

    # the broken challenger scenario is replayed and rolled back
    at.radio(key="rollout_scenario").set_value("broken challenger").run()
    assert not at.exception, [e.value for e in at.exception]
    assert broken.outcome == "rolled_back"
    shows(broken)

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


# -- the notebook -------------------------------------------------------------------------------
def test_notebook_writes_the_replay_as_json(sample, tmp_path: Path):
    _, result = sample
    report = run_report(
        None, tmp_path, seed=0, executive=False, notebooks=[notebooks_dir() / NOTEBOOK]
    )
    written = json.loads((tmp_path / "rollout_replay.json").read_text(encoding="utf-8"))
    assert written == _as_json(result.to_dict())
    assert [p.name for p in report.files] == [
        NOTEBOOK,
        "02_rollout_replay.html",
        "rollout_replay.json",
    ]
    html = (tmp_path / "02_rollout_replay.html").read_text(encoding="utf-8")
    assert html.count('class="plotly-graph-div"') == 2
    assert "How the rollout would have gone" in html
    assert "What the rollout was worth" in html


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
