"""Decay and retraining faces show the package's own numbers: the four charts, the app page
(AppTest) and the ``03_decay_retraining`` notebook (papermill).

One small case is written for the module: a concept that turns by 90 degrees every 150 days
(what predicts the label moves from ``x1`` to ``x2``), 20 events a day for 252 days, labels 1 to
30 days late and missing where they had not arrived by the export. With 56-day training windows
every 21 days it trains 9 aging models and 18 policy models with the real baseline; the aging
curve, policy comparison and estimate are computed once with the package and compared with what
each face shows.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import papermill
import pytest
import yaml
from streamlit.testing.v1 import AppTest
from test_decay import drifting_case, logistic

import prodready
from prodready import charts, decay, estimate
from prodready.charts import decay as decay_charts
from prodready.decay.aging import AgingCurve
from prodready.decay.policies import PolicyComparison
from prodready.kernels import python_kernel_manager
from prodready.resources import notebooks_dir
from prodready.results import format_money

pytestmark = pytest.mark.slow  # a long file: its worker starts it first (tests/conftest.py)

APP = "../app/streamlit_app.py"  # AppTest resolves it against this file
TIMEOUT = 180
NOTEBOOK = "03_decay_retraining.ipynb"
START = pd.Timestamp("2025-01-01", tz="UTC")
WINDOW, STEP = 56, 21  # days: small settings, so each run trains few models
SEED = 0
RETRAIN_COST = 2_000.0


def write_turning_case(folder: Path, days: int = 252, per_day: int = 20, turn_days: int = 150):
    """y = Bernoulli(sigmoid(3 (cos(a) x1 + sin(a) x2))) with a = (t / turn_days) * pi / 2;
    labels known 1 to 30 days after the event, missing when that is after the export (the last
    event). Writes training (the first third), serving log and case.yaml; returns the case file."""
    rng = np.random.default_rng(0)
    n = days * per_day
    t = np.sort(rng.uniform(0, days, n))
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    angle = (t / turn_days) * (np.pi / 2)
    p = 1 / (1 + np.exp(-3 * (np.cos(angle) * x1 + np.sin(angle) * x2)))
    y = (rng.random(n) < p).astype(int)
    times = START + pd.to_timedelta(np.round(t * 86_400), unit="s")
    known = times + pd.to_timedelta(np.round(rng.uniform(1, 30, n) * 86_400), unit="s")
    arrived = known <= times.max()
    frame = pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(n)],
            "ts": times,
            "x1": x1,
            "x2": x2,
            "y": pd.Series(y, dtype="Int64").where(arrived),
            "score": 1 / (1 + np.exp(-3 * x1)),  # the served model only knows x1
            "known": known.where(arrived),
        }
    )
    cut = START + pd.Timedelta(days=days // 3)
    frame[frame["ts"] < cut].to_parquet(folder / "training.parquet", index=False)
    frame[frame["ts"] >= cut].to_parquet(folder / "serving_log.parquet", index=False)
    spec = {
        "name": "Turning concept",
        "task": "binary",
        "training": {"path": "training.parquet"},
        "serving": {"path": "serving_log.parquet"},
        "columns": {
            "id": "id",
            "timestamp": "ts",
            "label": "y",
            "label_time": "known",
            "prediction": "score",
        },
        "features": [{"name": "x1", "type": "numeric"}, {"name": "x2", "type": "numeric"}],
        "business": {
            "currency": "EUR",
            "value": {
                "true_positive": 100,
                "false_positive": -50,
                "false_negative": -100,
                "true_negative": 0,
            },
            "threshold": 0.5,
        },
    }
    (folder / "case.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return folder / "case.yaml"


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory):
    """(case file, aging curve, policy comparison, estimate): the package's numbers."""
    path = write_turning_case(tmp_path_factory.mktemp("turning"))
    case = prodready.load_case(path)
    curve = decay.aging_curve(case, train_window=f"{WINDOW}D", step=f"{STEP}D", seed=SEED)
    policies = decay.compare_policies(
        case,
        retrain_cost=RETRAIN_COST,
        train_window=f"{WINDOW}D",
        step=f"{STEP}D",
        seed=SEED,
    )
    return path, curve, policies, estimate.estimate_case(case)


def _as_json(data: dict) -> dict:
    return json.loads(json.dumps(data, allow_nan=False))  # as a JSON file gives it back


def _values(values) -> np.ndarray:
    return np.asarray(values, dtype="float64")


def _dates(values) -> list[pd.Timestamp]:
    return list(pd.to_datetime(list(values), utc=True))


def _title(fig) -> str:
    return fig.layout.title.text


# -- charts -------------------------------------------------------------------------------------
def _half_life(ages: np.ndarray, median: np.ndarray, share: float) -> float | None:
    """The first age where the median has lost ``share`` of its ROC AUC above 0.5, by linear
    interpolation (the definition, written again here)."""
    lost = (median[0] - median) / (median[0] - 0.5)
    for i in range(1, len(ages)):
        if lost[i] >= share:
            return ages[i - 1] + (share - lost[i - 1]) / (lost[i] - lost[i - 1]) * (
                ages[i] - ages[i - 1]
            )
    return None


def test_aging_chart_draws_the_quantiles_and_marks_the_half_life_at_its_age(small):
    _, curve, _, _ = small
    frame = curve.to_frame()
    ages = frame["model_age_days"].to_numpy(float)
    fig = charts.aging_curve(curve)
    traces = {trace.name: trace for trace in fig.data}
    median = traces["median ROC AUC"]
    assert _values(median.x) == pytest.approx(ages)
    assert _values(median.y) == pytest.approx(frame["median"].to_numpy())
    assert [row[0] for row in median.customdata] == frame["n_origins"].tolist()
    for band, low, high in (
        ("10-90% of origins", "q10", "q90"),
        ("25-75% of origins", "q25", "q75"),
    ):
        assert _values(traces[f"{band} (high)"].y) == pytest.approx(frame[high].to_numpy())
        assert _values(traces[band].y) == pytest.approx(frame[low].to_numpy())
        assert traces[band].fill == "tonexty"
    assert fig.layout.yaxis.title.text == "ROC AUC"

    # the concept turns: a half-life, where the definition puts it, with its interval shaded
    half = curve.half_life_days
    assert half is not None and 0 < half < ages[-1]
    assert half == pytest.approx(_half_life(ages, frame["median"].to_numpy(), 0.5))
    line = next(s for s in fig.layout.shapes if s.name == "half-life")
    assert line.x0 == line.x1 == pytest.approx(half)
    shaded = next(s for s in fig.layout.shapes if s.name == "half-life 95% interval")
    high = ages[-1] if curve.half_life_high is None else curve.half_life_high
    assert (shaded.x0, shaded.x1) == pytest.approx((curve.half_life_low, high))
    assert shaded.x0 <= half <= shaded.x1
    assert _title(fig).startswith(
        f"Models lose 50% of their ROC AUC above chance (0.5) after {half:.0f} days<br>"
    )
    assert decay_charts.interval_words(curve) in _title(fig)
    assert f"{curve.models_trained} models" in _title(fig)


def test_aging_chart_without_a_half_life_says_never_within_the_ages_seen():
    steady = decay.aging_curve(
        drifting_case(turn=False, per_day=20),
        model=logistic,
        train_window="60D",
        step="28D",
        jobs=1,  # the test's model function stays in this process
    )
    assert steady.half_life_days is None
    oldest = int(steady.curve["model_age_days"].iloc[-1])
    fig = charts.aging_curve(steady)
    assert not fig.layout.shapes
    assert [a.text for a in fig.layout.annotations] == [f"half-life: never within {oldest} days"]
    assert _title(fig).startswith(
        f"Models do not lose 50% of their ROC AUC above chance (0.5) within the {oldest} days"
    )
    # an error metric: the y axis says which, the title says "more error"
    curve = pd.DataFrame(
        {
            "model_age_days": [0, 10, 20, 30],
            "metric": "mae",
            "median": [10.0, 13.0, 17.0, 20.0],
            **{q: [10.0, 13.0, 17.0, 20.0] for q in ("q10", "q25", "q75", "q90")},
            "n_origins": [5, 5, 4, 3],
        }
    )
    mae = AgingCurve("mae", curve, pd.DataFrame(), 15.0, 12.0, None, 0.5, 30, 10, 5)
    fig = charts.aging_curve(mae)
    assert fig.layout.yaxis.title.text == "Mean absolute error (MAE)"
    assert _title(fig).startswith("A model's MAE grows by 50% after 15 days<br>")
    shaded = next(s for s in fig.layout.shapes if s.name == "half-life 95% interval")
    assert (shaded.x0, shaded.x1) == (12.0, 30.0)  # no upper end: shaded to the oldest age
    assert "12 days to more than the 30 observed" in _title(fig)
    assert decay_charts.interval_words(mae, short=True) == "12+ days"


def test_policy_timeline_draws_each_policys_metric_and_its_retrainings(small):
    _, _, policies, _ = small
    timeline = policies.timeline
    fig = charts.policy_timeline(policies)
    traces = {trace.name: trace for trace in fig.data}
    for name in policies.table["policy"]:
        rows = timeline[timeline["policy"] == name]
        best = name == policies.recommended
        line = traces[f"{name} (recommended)" if best else name]
        assert _dates(line.x) == list(rows["period_start"])
        assert _values(line.y) == pytest.approx(rows["metric"].to_numpy(), nan_ok=True)
        assert line.line.width == (4 if best else 1.8)
        retrained = rows[rows["retrained"]]
        marks = traces.get(f"{name}: retrained")
        if retrained.empty:
            assert marks is None
        else:
            assert _dates(marks.x) == list(retrained["period_start"])
            assert _values(marks.y) == pytest.approx(retrained["metric"].to_numpy(), nan_ok=True)
            assert len(marks.x) == policies.table.set_index("policy").loc[name, "retrains"]
    best = policies.table.set_index("policy").loc[policies.recommended]
    assert _title(fig).startswith(f"Recommended: {policies.recommended}<br>")
    assert f"Mean ROC AUC {best['mean_metric']:.3f} with {int(best['retrains'])}" in _title(fig)


def _dominated(cost: np.ndarray, value: np.ndarray, i: int) -> bool:
    return any(
        cost[j] <= cost[i] and value[j] >= value[i] and (cost[j], value[j]) != (cost[i], value[i])
        for j in range(len(cost))
    )


def test_pareto_chart_draws_the_front_and_marks_the_recommendation(small):
    _, _, policies, _ = small
    table = policies.table
    cost, value = table["cost"].to_numpy(float), table["value"].to_numpy(float)
    fig = charts.policy_pareto(policies)
    traces = {trace.name: trace for trace in fig.data}
    front = traces["Pareto front (no policy is cheaper and worth more)"]
    expected = [i for i in range(len(table)) if not _dominated(cost, value, i)]
    drawn = sorted(zip(_values(front.x), _values(front.y), strict=True))
    assert drawn == sorted(zip(cost[expected], value[expected], strict=True))
    for _, row in table.iterrows():
        point = traces[row["policy"]]
        assert (point.x[0], point.y[0]) == (row["cost"], row["value"])
        retrains, net = point.customdata[0][:2]
        assert (retrains, net) == (row["retrains"], format_money(row["net"], "EUR"))
        assert (point.marker.symbol == "star") == (row["policy"] == policies.recommended)
    assert traces[policies.recommended].text == ("recommended",)
    assert _title(fig).startswith(f"Best return on retraining: {policies.recommended}<br>")

    # a table made by hand: ties stay on the front, the dominated leave it
    made = pd.DataFrame(
        {
            "policy": ["never retrain", "a", "b", "c", "d", "e"],
            "retrains": [0, 0, 1, 1, 4, 6],
            "mean_metric": [0.7, 0.7, 0.8, 0.75, 0.85, 0.84],
            "min_metric": 0.5,
            "value": [10.0, 10.0, 50.0, 40.0, 70.0, 60.0],
            "cost": [0.0, 0.0, 5.0, 5.0, 20.0, 30.0],
        }
    ).assign(net=lambda t: t["value"] - t["cost"])
    assert decay_charts.pareto_front(made["cost"], made["value"]) == [0, 1, 2, 4]
    assert decay_charts.pareto_front([0, 1, 2], [5.0, float("nan"), 6.0]) == [0, 2]
    comparison = PolicyComparison(
        "roc_auc", made, policies.timeline.iloc[:0], "d", "the best net.", 5.0, "EUR", 56, 21, 9
    )
    fig = charts.policy_pareto(comparison)
    front = next(t for t in fig.data if t.name.startswith("Pareto front"))
    assert list(zip(front.x, front.y, strict=True)) == [(0, 10), (0, 10), (5, 50), (20, 70)]
    assert "On the Pareto front (no policy cheaper and worth more): never retrain, a, b, d." in (
        _title(fig)
    )
    # no business value: the mean metric instead, and for an error (MAE) lower is better
    errors = made.assign(value=np.nan, net=np.nan, mean_metric=[3.0, 3.0, 2.0, 2.5, 1.5, 1.6])
    fig = charts.policy_pareto(
        PolicyComparison("mae", errors, made.iloc[:0], "d", "lowest MAE.", 5.0, None, 56, 21, 9)
    )
    front = next(t for t in fig.data if t.name.startswith("Pareto front"))
    assert list(zip(front.x, front.y, strict=True)) == [(0, 3), (0, 3), (5, 2), (20, 1.5)]
    assert fig.layout.yaxis.title.text == "mean MAE"


def test_estimate_chart_draws_estimated_and_realised_and_marks_what_not_to_trust(small):
    _, _, _, estimated = small
    table = estimated.to_frame()
    fig = charts.estimate_vs_realised(estimated)
    traces = {trace.name: trace for trace in fig.data}
    est = traces["estimated ROC AUC (every row, no label needed)"]
    real = traces["realised ROC AUC (labelled rows)"]
    assert _dates(est.x) == list(table["chunk_start"])
    assert _values(est.y) == pytest.approx(table["estimated_roc_auc"].to_numpy(), nan_ok=True)
    assert _values(real.y) == pytest.approx(table["realised_roc_auc"].to_numpy(), nan_ok=True)
    share = traces["labelled share (right axis)"]
    assert _values(share.y) == pytest.approx((table["n_labelled"] / table["n"]).to_numpy())
    assert share.yaxis == "y2"
    assert _values(share.y)[-1] < 0.5  # the last month is still waiting for its labels
    warn = table[table["trust"] == "warn"]
    assert len(warn) > 0
    marks = traces["do not trust the estimate (hover for why)"]
    assert _dates(marks.x) == list(warn["chunk_start"])
    assert [r.replace("<br>", " ") for r in marks.customdata] == warn["trust_reason"].tolist()
    assert _title(fig).startswith(f"Do not trust the estimate in {len(warn)} of {len(table)}")


# -- the app page -------------------------------------------------------------------------------
def _titles(at: AppTest) -> list[str]:
    return [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]


def _markdown(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown).replace(r"\$", "$")


def test_decay_page_runs_on_request_shows_the_packages_numbers_and_explains_bad_settings(
    small, monkeypatch
):
    path, curve, policies, estimated = small
    assert curve.half_life_high is not None  # the interval tile shows both ends
    monkeypatch.setenv("PRODREADY_CASE", str(path))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page("app_pages/decay.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Decay & retraining"
    # nothing trains before the button; the label-free estimate (cheap) is there already
    assert not at.metric and not at.error
    assert any(c.value.startswith("Press Run to train the models") for c in at.caption)
    assert _titles(at) == [_title(charts.estimate_vs_realised(estimated))]
    shown = next(df.value for df in at.dataframe if "trust_reason" in df.value.columns)
    assert shown["trust_reason"].tolist() == estimated.to_frame()["trust_reason"].tolist()
    for finding in estimated.summary():
        assert finding.text in _markdown(at)
    assert at.number_input(key="decay_train_window").value == 90
    assert at.number_input(key="decay_step").value == 7
    assert at.number_input(key="decay_retrain_cost").value == RETRAIN_COST
    assert at.multiselect(key="decay_policies").value == [p.name for p in decay.default_policies()]

    def shows_the_run(priced: PolicyComparison = policies) -> None:
        tiles = {m.label: m.value for m in at.metric}
        assert tiles == {
            "Half-life": f"{curve.half_life_days:.0f} days",
            "95% interval": f"{curve.half_life_low:.0f}-{curve.half_life_high:.0f} days",
            "Recommended policy": priced.recommended,
            "Net value": format_money(
                priced.table.set_index("policy").loc[priced.recommended, "net"], "EUR"
            ),
        }
        markdown = _markdown(at)
        for finding in [*curve.summary(), *priced.summary()]:
            assert finding.text in markdown
        table = next(df.value for df in at.dataframe if "net" in df.value.columns)
        assert table["policy"].tolist() == priced.table["policy"].tolist()
        assert table["net"].tolist() == pytest.approx(priced.table["net"].tolist())
        assert table["retrains"].tolist() == priced.table["retrains"].tolist()
        titles = _titles(at)
        assert titles == [
            _title(charts.aging_curve(curve)),
            _title(charts.policy_timeline(priced)),
            _title(charts.policy_pareto(priced)),
            _title(charts.estimate_vs_realised(estimated)),
        ]
        labels = [b.label for b in at.get("download_button")]
        assert labels.count("Download figure (HTML, opens offline)") == 4
        assert any(priced.reason in s.value for s in at.success)
        assert any(
            f"Models trained for this run: {curve.models_trained} for the aging curve and "
            f"{priced.models_trained} for the policies." == c.value
            for c in at.caption
        )

    at.number_input(key="decay_train_window").set_value(WINDOW)
    at.number_input(key="decay_step").set_value(STEP)
    at.button(key="decay_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error
    shows_the_run()
    at.run()  # a rerun without a click keeps the result of the same inputs
    shows_the_run()

    # other settings: nothing is shown until Run, and the old run comes back with its settings
    at.number_input(key="decay_lost_share").set_value(0.4).run()
    assert not at.metric
    assert any("settings changed since the last run" in c.value for c in at.caption)
    at.number_input(key="decay_lost_share").set_value(0.5).run()
    shows_the_run()

    # another retraining cost reprices the run at once: no button, no model trained again
    cheap = policies.with_retrain_cost(50.0)
    at.number_input(key="decay_retrain_cost").set_value(50.0).run()
    shows_the_run(cheap)
    at.number_input(key="decay_retrain_cost").set_value(RETRAIN_COST).run()
    shows_the_run()

    # no policy chosen: the aging curve is shown, the policies' part says what to do
    at.multiselect(key="decay_policies").set_value([])
    at.button(key="decay_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.error) == 1
    assert "policies must be a non-empty list of policies" in at.error[0].value
    assert [m.label for m in at.metric] == ["Half-life", "95% interval"]

    # a training window longer than the history: one clear message, no result, no traceback
    at.multiselect(key="decay_policies").set_value([p.name for p in decay.default_policies()])
    at.number_input(key="decay_train_window").set_value(400)
    at.button(key="decay_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.error) == 1
    message = at.error[0].value
    assert "the labelled history is too short for the windows asked" in message
    assert "at least 442 days of labelled history" in message
    assert "How to fix" in message
    assert not at.metric


# -- the notebook -------------------------------------------------------------------------------
def test_notebook_writes_the_aging_curve_policies_and_estimate_as_json(small, tmp_path: Path):
    path, curve, policies, estimated = small
    executed = tmp_path / NOTEBOOK
    papermill.execute_notebook(
        str(notebooks_dir() / NOTEBOOK),
        str(executed),
        parameters={
            "case_path": str(path),
            "output_dir": str(tmp_path),
            "seed": SEED,
            "train_window": f"{WINDOW}D",
            "step": f"{STEP}D",
            "retrain_cost": RETRAIN_COST,
        },
        kernel_name="python3",
        kernel_manager_class=python_kernel_manager(),
        progress_bar=False,
        cwd=str(tmp_path),
    )
    for name, result in (
        ("decay_aging.json", curve),
        ("decay_policies.json", policies),
        ("decay_estimate.json", estimated),
    ):
        written = json.loads((tmp_path / name).read_text(encoding="utf-8"))
        assert written == _as_json(result.to_dict()), name
    written = json.loads((tmp_path / "decay_aging.json").read_text(encoding="utf-8"))
    assert written["half_life_days"] == curve.half_life_days
    assert written["train_window_days"] == WINDOW and written["step_days"] == STEP
    nb = nbformat.read(executed, as_version=4)
    figures = [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if "text/html" in o.get("data", {}) and "plotly-graph-div" in o["data"]["text/html"]
    ]
    assert len(figures) == 4
    shown = " ".join(
        o["data"].get("text/markdown", "")
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.get("output_type") == "display_data"
    )
    shown = html.unescape(re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", shown))  # markdown_text's escapes
    for finding in [*curve.summary(), *policies.summary(), *estimated.summary()]:
        assert finding.text in shown
