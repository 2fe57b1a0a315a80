"""The skew audit's faces show the audit's own numbers: the charts, the app page (AppTest), the
``01_skew_audit`` notebook (papermill) and ``prodready audit skew``.

The bundled sample's audit is computed once for the module; the CLI runs on a small written copy
of the sample so it stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

import prodready
import prodready.samples
from prodready import charts
from prodready.cli import app
from prodready.report import run_report
from prodready.resources import notebooks_dir
from prodready.skew import audit, distribution_table

pytestmark = pytest.mark.slow  # a long file: its worker starts it first (tests/conftest.py)

APP = "../app/streamlit_app.py"  # AppTest resolves it against this file
TIMEOUT = 180  # seconds per run; the first run on the skew page audits the sample
NOTEBOOK = "01_skew_audit.ipynb"
runner = CliRunner()


@pytest.fixture(scope="module")
def sample(sample_run):
    """The sample and its skew audit at seed 0 (from conftest's shared ``sample_run``)."""
    return prodready.samples.load(), sample_run().results["skew"]


def _as_json(data: dict) -> dict:
    return json.loads(json.dumps(data, allow_nan=False))  # as a JSON file gives it back


def _values(values) -> np.ndarray:
    return np.asarray(values, dtype="float64")


def _title(fig) -> str:
    return fig.layout.title.text


# -- charts -------------------------------------------------------------------------------------
def test_ranking_draws_each_features_psi_in_the_audits_order_coloured_by_problem(sample):
    _, result = sample
    frame = result.to_frame()
    fig = charts.skew_ranking(result)

    assert list(fig.layout.yaxis.categoryarray) == list(frame.index)  # most severe on top
    drawn = {}
    for trace in fig.data:
        part = frame.loc[list(trace.y)]
        expected_problem = part["problem"].iloc[0] or charts.skew.NO_PROBLEM
        assert trace.name == expected_problem
        assert set(part["problem"].replace("", charts.skew.NO_PROBLEM)) == {trace.name}
        assert trace.marker.color == charts.skew.PROBLEM_COLOURS[part["problem"].iloc[0]]
        drawn |= dict(zip(trace.y, _values(trace.x), strict=True))
        for feature, text in zip(trace.y, trace.text, strict=True):
            assert text == f"{frame.loc[feature, 'severity']} · PSI {frame.loc[feature, 'psi']:.3f}"
    assert drawn == pytest.approx(frame["psi"].to_dict())
    flagged = frame["severity"].isin(["high", "medium"]).sum()
    assert f"{flagged} of {len(frame)} features need attention" in _title(fig)
    assert f"the most severe is {frame.index[0]}" in _title(fig)
    # the PSI bands are the audit's thresholds
    lines = [shape.x0 for shape in fig.layout.shapes]
    assert lines == list(result.thresholds.psi[1:])


@pytest.mark.parametrize("feature", ["distance_from_home_km", "merchant_category"])
def test_distribution_draws_the_distribution_table(sample, feature):
    case, result = sample
    table = distribution_table(case, feature)
    row = result.to_frame().loc[feature]
    fig = charts.feature_distribution(table, feature, row=row)

    training, serving = fig.data
    assert (training.name, serving.name) == ("training", "serving")
    assert _values(training.y) == pytest.approx(table["training"].to_numpy())
    assert _values(serving.y) == pytest.approx(table["serving"].to_numpy())
    if "bin_left" in table and (table["scale"] == "log").all():  # a long tail: labelled bins
        assert feature == "distance_from_home_km"
        assert (
            training.x[0]
            == f"{table['bin_left'].iloc[0]:,.4g} to {table['bin_right'].iloc[0]:,.4g}"
        )
        assert "Bins widen geometrically" in _title(fig)
    elif "bin_left" in table:
        middle = (table["bin_left"] + table["bin_right"]) / 2
        assert _values(training.x) == pytest.approx(middle.to_numpy())
    else:
        assert list(training.x) == table["category"].tolist()
        assert "Never seen in training: crypto_exchange" in _title(fig)  # the planted category
    assert _title(fig).startswith(f"{feature}: training vs serving")
    assert f"PSI {row['psi']:.3f}, severity {row['severity']}" in _title(fig)


def test_psi_by_month_draws_the_audits_monthly_psi(sample):
    _, result = sample
    months = result.by_month[result.by_month["feature"] == "merchant_category"]
    fig = charts.psi_by_month(result, "merchant_category")
    assert _values(fig.data[0].y) == pytest.approx(months["psi"].to_numpy())
    assert list(pd.to_datetime(fig.data[0].x, utc=True)) == list(months["month"])
    top = months.loc[months["psi"].idxmax()]
    assert f"Highest in {top['month']:%B %Y} (PSI {top['psi']:.3f})" in _title(fig)


def test_mismatch_scatter_draws_the_joined_pairs_and_the_line_of_agreement(sample):
    _, result = sample
    rows = result.rows
    feature = "distance_from_home_km"
    pairs = rows.pairs[rows.pairs["feature"] == feature]
    fig = charts.mismatch_scatter(rows, feature)

    points, line = fig.data
    assert len(pairs) > 0
    assert _values(points.x) == pytest.approx(pairs["training"].to_numpy())
    assert _values(points.y) == pytest.approx(pairs["serving"].to_numpy())
    assert list(line.x) == list(line.y)  # y = x
    stats = rows.features.loc[feature]
    assert f"{stats['mismatch_rate']:.1%} of {stats['compared']:,} joined rows differ" in (
        _title(fig)
    )
    assert "km to miles" in stats["unit_hint"] and stats["unit_hint"] in _title(fig)
    assert not charts.mismatch_scatter(rows, "merchant_category").data  # no numeric pairs


def test_production_gap_draws_offline_and_serving_for_both_models(sample):
    _, result = sample
    gap = result.metric_gap
    fig = charts.production_gap(gap)
    offline, serving = fig.data
    assert list(offline.x) == list(gap.table.index)
    assert _values(offline.y) == pytest.approx(gap.table["offline"].to_numpy())
    assert _values(serving.y) == pytest.approx(gap.table["serving"].to_numpy())
    assert (
        f"{gap.label}: {gap.offline:.3f} offline vs {gap.serving:.3f} in production with all "
        f"features; {gap.honest_offline:.3f} vs {gap.honest_serving:.3f}"
    ) in _title(fig)


# -- the app page -------------------------------------------------------------------------------
def _figures(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def _titles(at: AppTest) -> list[str]:
    return [fig["layout"]["title"]["text"] for fig in _figures(at)]


def test_skew_page_shows_the_audit_and_its_drill_down_follows_the_choice(sample, monkeypatch):
    _, result = sample
    frame = result.to_frame()
    gap = result.metric_gap
    monkeypatch.delenv("PRODREADY_CASE", raising=False)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page("app_pages/skew.py").run()
    assert not at.exception, [e.value for e in at.exception]

    assert at.title[0].value == "Skew audit"
    assert not at.error
    shown = {m.label: m.value for m in at.metric}
    flagged = frame["severity"].isin(["high", "medium"]).sum()
    assert shown["Features to fix"] == f"{flagged} of {len(frame)}"
    assert shown[f"{gap.label}, all features"] == f"{gap.serving:.3f}"
    assert shown[f"{gap.label}, prediction-time only"] == f"{gap.honest_serving:.3f}"
    markdown = " ".join(m.value for m in at.markdown).replace(r"\$", "$")
    for finding in result.summary():
        assert finding.text in markdown

    # the ranked table, most severe first, with its CSV; every figure downloadable
    ranked = next(df.value for df in at.dataframe if "psi" in df.value.columns)
    assert list(ranked.index) == list(frame.index)
    assert ranked["psi"].to_numpy() == pytest.approx(frame["psi"].to_numpy(), nan_ok=True)
    titles = _titles(at)
    labels = [b.label for b in at.get("download_button")]
    assert labels.count("Download figure (HTML, opens offline)") == len(titles)
    assert labels.count("Download table (CSV)") == len(at.dataframe)
    assert any(t.startswith("Which features production sees differently") for t in titles)
    assert any(t.startswith("What production really gets") for t in titles)
    first = frame.index[0]  # the drill-down starts on the most severe feature
    assert at.selectbox(key="skew_feature").value == first
    assert any(t.startswith(f"{first}: training vs serving") for t in titles)
    assert any(t.startswith(f"{first}: skew per serving month") for t in titles)

    # switching the drill-down to another feature redraws it with that feature's numbers
    at.selectbox(key="skew_feature").set_value("avg_amount_30d").run()
    assert not at.exception, [e.value for e in at.exception]
    titles = _titles(at)
    assert any(t.startswith("avg_amount_30d: training vs serving") for t in titles)
    assert any(t.startswith("avg_amount_30d: the same rows, offline and online") for t in titles)
    assert not any(t.startswith(f"{first}:") for t in titles)
    stats = result.rows.features.loc["avg_amount_30d"]
    shown = {m.label: m.value for m in at.metric}
    assert shown["Rows that differ"] == f"{stats['mismatch_rate']:.1%}"
    assert shown["Median serving / training"] == f"{stats['median_ratio']:.3f}"
    examples = result.rows.examples
    expected = examples[examples["feature"] == "avg_amount_30d"]
    shown_examples = next(df.value for df in at.dataframe if "id" in df.value.columns)
    assert shown_examples["id"].tolist() == expected["id"].tolist()


# -- the notebook -------------------------------------------------------------------------------
def test_notebook_writes_the_audit_as_json(sample, tmp_path: Path):
    _, result = sample
    report = run_report(
        None, tmp_path, seed=0, executive=False, notebooks=[notebooks_dir() / NOTEBOOK]
    )
    written = json.loads((tmp_path / "skew_audit.json").read_text(encoding="utf-8"))
    assert written == _as_json(result.to_dict())
    assert [p.name for p in report.files] == [
        NOTEBOOK,
        "01_skew_audit.html",
        "skew_audit.json",
        "results.json",  # every artefact of the run, for machines
    ]
    html = (tmp_path / "01_skew_audit.html").read_text(encoding="utf-8")
    severe = (result.to_frame()["severity"].isin(["high", "medium"])).sum()
    drill_down = min(severe, 5)
    with_pairs = set(result.rows.pairs["feature"])
    scatters = sum(f in with_pairs for f in result.to_frame().index[:drill_down])
    # ranking, two figures per drilled-down feature, their scatters, the production gap
    assert html.count('class="plotly-graph-div"') == 2 + 2 * drill_down + scatters
    assert "Which features production sees differently" in html
    assert result.summary()[0].text.split(":")[0] in html


# -- the command --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_case(tmp_path_factory: pytest.TempPathFactory):
    path = prodready.samples.write("card_fraud", tmp_path_factory.mktemp("small"), rows=3_000)
    case = prodready.load_case(path)
    return Path(path), audit(case, seed=3)


def test_audit_skew_prints_findings_and_ranked_table_and_writes_json(small_case, tmp_path):
    path, result = small_case
    target = tmp_path / "new_folder" / "skew.json"  # the folder is created
    outcome = runner.invoke(
        app, ["audit", "skew", "--case", str(path), "--seed", "3", "--json", str(target)]
    )
    assert outcome.exit_code == 0, outcome.output
    out = outcome.stdout
    for finding in result.summary():
        assert finding.text in out
    lines = out.splitlines()
    frame = result.to_frame()
    table_rows = [line for line in lines if line.split()[:1] and line.split()[0] in frame.index]
    assert [line.split()[0] for line in table_rows] == list(frame.index)  # ranked, as the audit
    for line, (feature, row) in zip(table_rows, frame.iterrows(), strict=True):
        assert row["severity"] in line.split()
        if not np.isnan(row["psi"]):
            assert f"{row['psi']:.3f}" in line, (feature, line)
    assert f"Wrote every number of the audit to {target}" in out
    assert json.loads(target.read_text(encoding="utf-8")) == _as_json(result.to_dict())


def test_audit_skew_json_to_stdout_is_only_json(small_case):
    path, result = small_case
    outcome = runner.invoke(
        app, ["audit", "skew", "--case", str(path), "--seed", "3", "--json", "-"]
    )
    assert outcome.exit_code == 0, outcome.output
    assert json.loads(outcome.stdout) == _as_json(result.to_dict())


def test_audit_skew_on_a_bad_case_path_says_so_and_exits_2(tmp_path):
    missing = tmp_path / "no_such" / "case.yaml"
    outcome = runner.invoke(app, ["audit", "skew", "--case", str(missing)])
    assert outcome.exit_code == 2
    assert f"{missing}: the case file does not exist" in outcome.stderr
    assert "How to fix:" in outcome.stderr
    assert "Traceback" not in outcome.output
    assert outcome.stdout == ""


def test_audit_skew_refuses_a_json_path_it_cannot_write_before_auditing(tmp_path, monkeypatch):
    monkeypatch.setattr("prodready.skew.audit", lambda *a, **k: pytest.fail("audit ran"))
    for target, message in [
        (tmp_path, "the --json path is a folder"),
        (tmp_path / "a_file.txt" / "skew.json", "the --json file cannot be written inside a file"),
    ]:
        (tmp_path / "a_file.txt").write_text("not a folder", encoding="utf-8")
        outcome = runner.invoke(app, ["audit", "skew", "--json", str(target)])
        assert outcome.exit_code == 2
        assert message in outcome.stderr
        assert "How to fix:" in outcome.stderr
        assert outcome.stdout == ""
