"""Monitoring replay: control charts against hand computations, daily series against direct
computations, the card_fraud incidents, bad input, and the YAML export round trip."""

from __future__ import annotations

import json
import math
from datetime import timedelta, timezone

import numpy as np
import pandas as pd
import pytest

from prodready import samples
from prodready.case import Case
from prodready.errors import DataError, ParameterError
from prodready.metrics import business_value, metric
from prodready.monitoring import (
    Monitor,
    cusum,
    default_monitors,
    ewma,
    export_monitors,
    load_monitors,
    replay,
    threshold_rule,
)
from prodready.stats.drift import NumericReference, numeric_shift


@pytest.fixture(scope="module")
def card():
    return samples.load("card_fraud")


@pytest.fixture(scope="module")
def card_replay(card):
    return replay(card)


# -- control charts ------------------------------------------------------------------------


def test_ewma_matches_hand_computation():
    x = [1.0, 3.0, np.nan, -2.0]
    trace = ewma(x, center=0.0, sd=1.0, smoothing=0.5, limit_sd=2.0)
    # z1 = 0.5, z2 = 0.5*3 + 0.5*0.5 = 1.75, (NaN day carries), z3 = 0.5*-2 + 0.5*1.75 = -0.125
    assert trace.statistic[0] == pytest.approx(0.5)
    assert trace.statistic[1] == pytest.approx(1.75)
    assert math.isnan(trace.statistic[2])
    assert trace.statistic[3] == pytest.approx(-0.125)
    # limits: 2 * sqrt(0.5 / 1.5 * (1 - 0.5^(2t))), t = 1, 2, -, 3
    widths = [2 * math.sqrt(1 / 3 * (1 - 0.25**t)) for t in (1, 2, 3)]
    assert trace.upper[[0, 1, 3]] == pytest.approx(widths)
    assert trace.lower[[0, 1, 3]] == pytest.approx([-w for w in widths])
    # fires at t=2: 1.75 > 2 * sqrt(1/3 * 0.9375) = 1.118
    assert trace.fired.tolist() == [False, True, False, False]


def test_ewma_one_sided_and_default_parameters():
    rng = np.random.default_rng(3)
    x = rng.normal(10, 2, size=50)
    trace = ewma(x, 10.0, 2.0, direction="above")
    z, lam = 10.0, 0.2
    for t, value in enumerate(x, start=1):
        z = lam * value + (1 - lam) * z
        upper = 10 + 3 * 2 * math.sqrt(lam / (2 - lam) * (1 - (1 - lam) ** (2 * t)))
        assert trace.statistic[t - 1] == pytest.approx(z, rel=1e-12)
        assert trace.upper[t - 1] == pytest.approx(upper, rel=1e-12)
        assert trace.fired[t - 1] == (z > upper)
    assert np.isnan(trace.lower).all()


def test_cusum_matches_hand_computation():
    # mu0 = 0, sigma = 1: K = 0.5, H = 5 (Montgomery's defaults)
    x = np.array([1.5, 2.5, 1.5, 2.0, -1.0, 0.0])
    trace = cusum(x, 0.0, 1.0, direction="above")
    # C+ = max(0, x - 0.5 + C+): 1, 3, 4, 5.5, 4, 3.5
    assert trace.statistic.tolist() == pytest.approx([1.0, 3.0, 4.0, 5.5, 4.0, 3.5])
    assert trace.fired.tolist() == [False, False, False, True, False, False]
    low = cusum(-x, 0.0, 1.0, direction="below")
    assert (-low.statistic).tolist() == pytest.approx([1.0, 3.0, 4.0, 5.5, 4.0, 3.5])
    assert low.fired.tolist() == trace.fired.tolist()
    both = cusum(x, 0.0, 1.0, allowance_sd=1.0, decision_sd=2.0)
    # C+ = 0.5, 2, 2.5 (> H = 2) ...
    assert both.fired.tolist()[:3] == [False, False, True]


def test_threshold_rule_and_monitor_validation():
    trace = threshold_rule([0.1, 0.3, np.nan], 0.25, "above")
    assert trace.fired.tolist() == [False, True, False]
    with pytest.raises(ParameterError, match="needs a threshold"):
        Monitor("m", "business", "flag_rate", "flag_rate", "threshold", "above")
    with pytest.raises(ParameterError, match="unknown family"):
        Monitor("m", "money", "flag_rate", "flag_rate")
    with pytest.raises(ParameterError, match="smoothing"):
        Monitor("m", "business", "flag_rate", "flag_rate", smoothing=1.5)


# -- daily series --------------------------------------------------------------------------


def _day_rows(case, day):
    times = case.serving[case.columns.timestamp]
    start = pd.Timestamp(day)
    start = start.tz_localize("UTC") if start.tz is None else start
    return case.serving[(times >= start) & (times < start + pd.Timedelta(days=1))]


def test_daily_series_match_direct_computation(card, card_replay):
    daily = card_replay.daily
    assert daily.index.tz is not None and str(daily.index.tz) == "UTC"
    assert (daily["error_rate"] == 0).all()  # a valid case: every row has a usable score
    reference = card.serving[card.serving["event_time"] < daily.index[0] + pd.Timedelta(days=28)]
    score_ref = NumericReference.from_values(reference["score"], method="binned")
    for day in ["2025-07-03", "2025-09-10", "2025-12-01"]:
        rows = _day_rows(card, day)
        row = daily.loc[pd.Timestamp(day, tz="UTC")]
        assert row["volume"] == len(rows)
        assert row["flag_rate"] == pytest.approx((rows["score"] >= 0.06).mean(), abs=1e-15)
        assert row["mean_score"] == pytest.approx(rows["score"].mean(), rel=1e-12)
        psi, js = numeric_shift(score_ref, rows["score"])
        assert row["score_psi"] == pytest.approx(psi, rel=1e-12, abs=1e-15)
        assert row["score_js"] == pytest.approx(js, rel=1e-12, abs=1e-15)
        value = business_value(rows["is_fraud"], rows["score"], card.business)
        assert row["value_per_1000_hindsight"] == pytest.approx(value.per_1000, rel=1e-12)
        for feature in ("device_risk_score", "avg_amount_30d"):
            values = rows[feature]
            present = values.dropna()
            assert row[f"missing_rate[{feature}]"] == pytest.approx(values.isna().mean())
            ref = reference[feature]
            outside = ((present < ref.min()) | (present > ref.max())).mean()
            assert row[f"out_of_range[{feature}]"] == pytest.approx(outside, abs=1e-15)
            share = present.value_counts().iloc[0] / len(present)
            assert row[f"stuck_share[{feature}]"] == pytest.approx(share)
            assert row[f"constant[{feature}]"] == float(present.std() == 0)
        categories = set(reference["merchant_category"].dropna())
        cat = rows["merchant_category"].dropna()
        unseen = (~cat.isin(categories)).mean()
        assert row["unseen_share[merchant_category]"] == pytest.approx(unseen, abs=1e-15)
    # labels take 30 to 90 days: nothing is known by the day's end
    assert (daily["labels_known"] == 0).all()
    assert daily["value_per_1000_known"].isna().all()


def _quick_label_case(days=40, per_day=60, seed=1, gap=None, offsets=False, amount=False):
    """A small binary case whose labels arrive 2 hours after the event."""
    rng = np.random.default_rng(seed)
    n = days * per_day
    start = pd.Timestamp("2025-01-01", tz="UTC")
    times = start + pd.to_timedelta(np.sort(rng.uniform(0, days * 86_400, n)), unit="s")
    if gap is not None:
        keep = (times < start + pd.Timedelta(days=gap[0])) | (
            times >= start + pd.Timedelta(days=gap[1])
        )
        times = times[keep]
        n = len(times)
    x = rng.normal(size=n)
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(x * 2 - 1)))).astype(int)
    score = 1 / (1 + np.exp(-(x * 1.5 - 1)))
    serving = pd.DataFrame(
        {
            "t": times,
            "x": x,
            "color": rng.choice(["red", "blue"], size=n),
            "score": score,
            "y": y,
            "label_time": times + pd.Timedelta(hours=2),
        }
    )
    business = {"value": {"true_positive": 10, "false_positive": -2, "false_negative": -5,
                          "true_negative": 0}, "threshold": 0.5}  # fmt: skip
    if amount:
        serving["amount"] = np.round(rng.lognormal(3, 1, size=n), 2)
        serving.loc[serving.index[::50], "amount"] = np.nan  # a missing amount counts as 0
        business["amount"] = "amount"
    if offsets:
        zones = [timezone(timedelta(hours=5)), timezone(timedelta(hours=-7))]
        local = [ts.tz_convert(zones[i % 2]).isoformat() for i, ts in enumerate(times)]
        serving["t"] = local
    training = serving.drop(columns=["score", "label_time", "amount"], errors="ignore")
    training = training.iloc[:200].copy()
    training["t"] = pd.Timestamp("2024-12-01", tz="UTC")
    return Case.from_frames(
        training,
        serving,
        task="binary",
        label="y",
        prediction="score",
        timestamp="t",
        label_time="label_time",
        features={"x": "numeric", "color": "categorical"},
        business=business,
    )


def test_performance_on_known_labels_matches_metric():
    case = _quick_label_case()
    result = replay(case)
    daily = result.daily
    serving = case.serving
    for d in [10, 30, 39]:
        day = daily.index[d]
        window = serving[
            (serving["t"] >= day - pd.Timedelta(days=6))
            & (serving["t"] < day + pd.Timedelta(days=1))
        ]
        known = window[window["label_time"] < day + pd.Timedelta(days=1)]
        assert daily["roc_auc_known"].iloc[d] == pytest.approx(
            metric("roc_auc", known["y"], known["score"]), rel=1e-12
        )
        rows = _day_rows(case, day)
        arrived = rows[rows["label_time"] < day + pd.Timedelta(days=1)]
        value = business_value(arrived["y"], arrived["score"], case.business)
        assert daily["value_per_1000_known"].iloc[d] == pytest.approx(value.per_1000, rel=1e-12)
    names = {m.name for m in result.monitors}
    assert {"roc_auc_known", "value_per_1000_known", "estimated_roc_auc"} <= names
    assert daily["estimated_roc_auc"].iloc[28:].notna().all()


def test_amount_series_match_direct_computation():
    case = _quick_label_case(amount=True)
    result = replay(case)
    daily = result.daily
    for d in [3, 20, 39]:
        day = daily.index[d]
        rows = _day_rows(case, day)
        money = rows["amount"].fillna(0)
        flagged = rows["score"] >= 0.5
        assert daily["flagged_amount"].iloc[d] == pytest.approx(money[flagged].sum())
        assert daily["flagged_amount_share"].iloc[d] == pytest.approx(
            money[flagged].sum() / money.sum()
        )
        known = rows["label_time"] < day + pd.Timedelta(days=1)
        for when, seen in (("known", known), ("hindsight", rows["y"].notna())):
            positive = seen & (rows["y"] == 1)
            caught = money[positive & flagged].sum()
            assert daily[f"caught_amount_{when}"].iloc[d] == pytest.approx(caught)
            assert daily[f"caught_amount_share_{when}"].iloc[d] == pytest.approx(
                caught / money[positive].sum()
            )
    monitors = {m.name: m for m in result.monitors}
    assert monitors["caught_amount_share_known"].direction == "below"
    assert monitors["flagged_amount_share"].family == "business"
    assert daily["caught_amount_share_known"].iloc[28:].notna().all()


def test_amount_monitor_needs_an_amount_column():
    case = _quick_label_case()
    assert "flagged_amount" not in replay(case).daily.columns
    with pytest.raises(ParameterError, match="needs the amount") as err:
        replay(case, [Monitor("caught", "business", "caught_amount_share_known", "caught")])
    assert "business: {amount: COLUMN}" in str(err.value)


# -- the card_fraud incidents --------------------------------------------------------------


def test_card_fraud_incidents_and_silent_system_health(card_replay):
    alerts = card_replay.alerts.set_index("monitor")
    assert list(card_replay.alerts.columns[:6]) == [
        "monitor", "family", "target", "first_fire", "value", "threshold",
    ]  # fmt: skip
    day = pd.Timestamp
    # the stuck device_risk_score (8-17 September) is caught on its first day
    for name in ("constant[device_risk_score]", "stuck_share[device_risk_score]", "score_psi"):
        assert alerts.loc[name, "first_fire"] == day("2025-09-08", tz="UTC")
    assert alerts.loc["constant[device_risk_score]", "family"] == "data_quality"
    # the new merchant category on its first day, and the flag rate (business KPI) with it
    assert alerts.loc["unseen_share[merchant_category]", "first_fire"] == day(
        "2025-09-01", tz="UTC"
    )
    assert alerts.loc["flag_rate", "first_fire"] == day("2025-09-01", tz="UTC")
    # system health sees nothing
    assert not (card_replay.alerts["family"] == "system_health").any()
    health = card_replay.trace[card_replay.trace["monitor"].isin(["volume", "error_rate"])]
    assert len(health) > 0 and not health["fired"].any()
    assert card_replay.summary()[0].severity == "high"
    assert "System health" in card_replay.summary()[0].text
    # labels arrive 30-90 days late: performance on labels is skipped, the estimate runs
    assert any("roc_auc_known" in note for note in card_replay.notes)
    assert "estimated_roc_auc" in alerts.index
    in_incident = card_replay.fired("2025-09-08", "2025-09-18")
    assert {"constant[device_risk_score]", "estimated_roc_auc"} <= set(in_incident["monitor"])


def test_result_conversions(card_replay):
    data = card_replay.to_dict()
    assert data["alerts"][0]["first_fire"].endswith("+00:00")
    assert len(data["daily"]) == len(card_replay.daily) == 184
    assert card_replay.to_frame() is card_replay.alerts
    json.dumps(data)


# -- bad input ------------------------------------------------------------------------------


def test_monitor_on_a_missing_feature_names_it(card):
    bad = Monitor("typo", "data_quality", "missing_rate[amout]", "amout")
    with pytest.raises(DataError, match="'amout'") as err:
        replay(card, [bad])
    assert "lacks" in str(err.value)
    with pytest.raises(ParameterError, match="no such column"):
        replay(card, [Monitor("x", "business", "caught_money", "money")])
    with pytest.raises(ParameterError, match="categorical"):
        replay(card, [Monitor("x", "data_quality", "out_of_range[channel]", "channel")])


def test_log_without_labels_skips_performance_but_estimates():
    case = _quick_label_case()
    labelled_reference = case.serving.iloc[:600].copy()
    serving = case.serving.assign(y=pd.NA, label_time=pd.NaT)
    unlabelled = Case.from_spec(case.spec, case.training, serving)
    result = replay(unlabelled, reference=labelled_reference)
    assert any("no labels" in n and "roc_auc_known" in n for n in result.notes)
    assert result.daily["estimated_roc_auc"].notna().all()
    assert "estimated_roc_auc" in {m.name for m in result.monitors}
    # with the default reference (itself unlabelled) the estimate cannot calibrate: a note
    default = replay(unlabelled)
    assert any("nothing to calibrate" in n for n in default.notes)


def test_mixed_time_zones_are_utc_days():
    plain = _quick_label_case(days=35, per_day=30)
    mixed = _quick_label_case(days=35, per_day=30, offsets=True)
    assert str(mixed.serving["t"].dt.tz) == "UTC"
    a, b = replay(plain).daily, replay(mixed).daily
    assert a.index.equals(b.index)
    pd.testing.assert_series_equal(a["volume"], b["volume"])


def test_days_without_traffic_are_present():
    case = _quick_label_case(days=40, per_day=60, gap=(31, 33))
    result = replay(case)
    daily = result.daily
    assert len(daily) == 40
    empty = daily.iloc[31:33]
    assert (empty["volume"] == 0).all() and empty["flag_rate"].isna().all()
    # an outage: the volume monitor (system health) fires on the first empty day
    volume = result.alerts.set_index("monitor").loc["volume"]
    assert volume["first_fire"] == daily.index[31] and volume["family"] == "system_health"


def test_reference_period_and_short_log(card):
    result = replay(card, reference=("2025-08-01", "2025-09-01"))
    assert result.daily["in_reference"].sum() == 31
    assert result.monitored_start == pd.Timestamp("2025-09-01", tz="UTC")
    with pytest.raises(DataError, match="no serving row"):
        replay(card, reference=("2030-01-01", "2030-02-01"))
    short = _quick_label_case(days=20)
    with pytest.raises(DataError, match="within the reference period"):
        replay(short)


# -- export --------------------------------------------------------------------------------


def test_export_round_trip(card, card_replay, tmp_path):
    path = export_monitors(card_replay, tmp_path / "monitors.yaml")
    loaded = load_monitors(path)
    assert loaded == list(card_replay.monitors)
    text = path.read_text()
    assert "format: prodready-monitors/1" in text and "limits:" in text
    again = replay(card, loaded)
    pd.testing.assert_frame_equal(again.alerts, card_replay.alerts)
    plain = default_monitors(card)
    assert load_monitors(export_monitors(plain, tmp_path / "plain.yaml")) == plain
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind


def test_load_monitors_errors(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("format: prodready-monitors/1\nmonitors:\n  - {name: a, family: business}\n")
    with pytest.raises(ParameterError, match="missing key") as err:
        load_monitors(path)
    assert "monitors[0] ('a')" in str(err.value)
    path.write_text(
        "monitors:\n  - {name: a, family: business, series: flag_rate, target: f, rule: ewma, "
        "smoothing: high}\n"
    )
    with pytest.raises(ParameterError, match="smoothing must be a number"):
        load_monitors(path)
    path.write_text(
        "monitors:\n  - {name: a, family: business, series: flag_rate, target: f, rule: ewma, "
        "colour: red}\n"
    )
    with pytest.raises(ParameterError, match="unknown key"):
        load_monitors(path)
    path.write_text("monitors: [\n")
    with pytest.raises(ParameterError, match="not valid YAML"):
        load_monitors(path)


def test_detection_report_on_the_sample_incidents():
    from prodready import metrics, monitoring

    case = samples.load()
    result = monitoring.replay(case)
    problems = samples.known_problems()
    report = monitoring.detection_report(result, case, problems)
    table = report.table.set_index(["problem", "family"])
    # the stuck feature: caught on its first day by data-quality and model-output monitors;
    # system health never fires
    assert table.loc[("silent_incident", "data_quality"), "days_to_detect"] == 0
    assert table.loc[("silent_incident", "model_output"), "days_to_detect"] == 0
    assert pd.isna(table.loc[("silent_incident", "system_health"), "detected"])
    assert table.loc[("new_category", "data_quality"), "first_monitor"] == (
        "unseen_share[merchant_category]"
    )
    # present from day one: part of the reference, listed as undetectable by monitors
    assert {"leaky_feature", "unit_change", "window_mismatch"} <= set(report.undetectable)
    # money lost while only system health watched: the whole incident against the reference's
    # value per decision, recomputed here
    s = case.serving
    times, y, score = s["event_time"], s["is_fraud"].astype("Float64"), s["score"]
    labelled = y.notna().to_numpy()
    first = times.min().normalize()
    ref = ((times < first + pd.Timedelta(days=28)).to_numpy()) & labelled
    base = metrics.business_value(y[ref].astype(int), score[ref], case.business)
    start, end = pd.Timestamp("2025-09-08", tz="UTC"), pd.Timestamp("2025-09-18", tz="UTC")
    window = ((times >= start) & (times < end)).to_numpy() & labelled
    got = metrics.business_value(y[window].astype(int), score[window], case.business)
    expected = max(0.0, base.total / base.decisions * got.decisions - got.total)
    assert table.loc[("silent_incident", "system_health"), "money_lost_before_detection"] == (
        pytest.approx(expected)
    )
    # coverage: the days each monitor took, as the replay's own first fires say
    fired = result.fired(start, end)
    fresh = fired[~fired["firing_before"]].set_index("monitor")["first_fire"]
    column = report.coverage["silent_incident"].dropna()
    assert set(column.index) == set(fresh.index)
    text = " ".join(f.text for f in report.summary())
    assert "System health (volume, errors) never fired" in text
    assert json.loads(json.dumps(report.to_dict()))["undetectable"] == list(report.undetectable)
    with pytest.raises(ParameterError, match="lacks columns"):
        monitoring.detection_report(result, case, problems.drop(columns=["start"]))
