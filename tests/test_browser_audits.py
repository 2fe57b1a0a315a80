"""The workshop journeys in a real browser, part 2: the Rollout simulator, Monitoring, Human
review and Decay & retraining pages (see test_browser.py for what every journey does)."""

from __future__ import annotations

import pytest
from browser_support import (
    LAPTOP,
    app_fixture,  # noqa: F401  (fixture `app`: this module's own server)
    artefacts_fixture,  # noqa: F401  (fixture `artefacts`)
    caption_of,
    check_page,
    chromium_fixture,  # noqa: F401  (fixture `chromium`)
    download,
    download_figure,
    download_table,
    expect_metric,
    headline,
    on_the_projector,
    open_page,
    remove_choice,
    screenshot,
    set_number,
    size_name,
)

from prodready import charts
from prodready.results import format_money

pytestmark = pytest.mark.browser

CASE = "card_fraud_detection"  # the sample's name in downloaded file names
REVIEW = {"cost_per_review": 5.0, "reviewer_accuracy": 0.95, "seed": 0}  # the page's defaults
BROKEN = "broken challenger"
# decay, cut down so the models train in seconds: 60-day steps and two policies to compare
DECAY = {"train_window": 90, "step": 60, "seed": 0}
DECAY_POLICIES = ("never retrain", "every 90 days")
RETRAIN_COSTS = (2000.0, 500.0)  # the page's default, then the consultant's own figure


@pytest.fixture(scope="module")
def case():
    from prodready import samples

    return samples.load("card_fraud")


def _rollout(case, scenario: str):
    """The replay the Rollout page shows: the default plan and rules plus the suggested
    segment guardrail, for the case's own challenger or a scenario's."""
    from prodready import rollout
    from prodready.rollout import scenarios

    plan = rollout.Plan.default()
    triggers = list(rollout.default_triggers(case))
    guardrail = rollout.suggest_guardrail(case)
    if guardrail is not None:
        triggers.append(guardrail.trigger)
    challenger = (
        None
        if scenario == "sample challenger"
        else scenarios.challenger_scores(case, scenario, plan=plan, seed=0)
    )
    return rollout.simulate(case, plan=plan, triggers=triggers, challenger=challenger, seed=0)


def _expect_rollout(page, result) -> None:
    last = result.decisions.iloc[-1]
    money, currency = result.money, result.currency
    expect_metric(page, "Outcome", charts.rollout.OUTCOME_WORDS[result.outcome])
    expect_metric(page, "Decided on", f"{last['date']:%d %b %Y}")
    expect_metric(page, "Money at risk", format_money(money["at_risk"], currency))
    big_bang = money["big_bang"] - money["champion_only"]
    expect_metric(page, "Big bang vs champion", format_money(big_bang, currency))


def test_rollout_page_journey(app, chromium, artefacts, case):
    sample, broken = _rollout(case, "sample challenger"), _rollout(case, BROKEN)
    page = open_page(chromium, f"{app.url}/rollout")
    tag = f"rollout_{size_name(LAPTOP)}_"

    # the replay of the case's challenger: outcome, decision day, money at risk
    _expect_rollout(page, sample)
    check_page(page, charts=2)  # the timeline and the money at risk
    screenshot(page, artefacts, tag + "sample_challenger")
    on_the_projector(page, artefacts, "rollout", "sample_challenger", charts=2)
    table = download_table(page, artefacts, f"{CASE}_rollout_decisions.csv", prefix=tag)
    assert len(table) == len(sample.decisions)
    assert list(table["stage"]) == list(sample.decisions["stage"])
    download_figure(
        page,
        artefacts,
        f"{CASE}_rollout_timeline.html",
        headline(charts.rollout_timeline(sample)),
        prefix=tag,
    )

    # rolling out a broken challenger instead: the rules catch it as the package says
    page.locator('[data-testid="stRadio"]').get_by_text(BROKEN, exact=True).click()
    _expect_rollout(page, broken)
    check_page(page, charts=2)
    screenshot(page, artefacts, tag + "broken_challenger")


@pytest.fixture(scope="module")
def monitoring_expected(case):
    from prodready import monitoring, samples

    replay = monitoring.replay(case)
    incidents = samples.known_problems("card_fraud")
    one = incidents[incidents["problem"] == "silent_incident"]
    return {
        "replay": replay,
        "incidents": incidents,
        "one": one,
        "report": monitoring.detection_report(replay, case, incidents),
        "report_one": monitoring.detection_report(replay, case, one),
    }


def _expect_findings(page, findings, absent=()) -> None:
    from playwright.sync_api import expect

    shown = page.locator('[data-testid="stMarkdownContainer"]')
    for finding in findings:
        expect(shown.filter(has_text=finding.text)).not_to_have_count(0)
    for finding in absent:
        expect(shown.filter(has_text=finding.text)).to_have_count(0)


def test_monitoring_page_journey(app, chromium, artefacts, monitoring_expected, tmp_path):
    expected = monitoring_expected
    replay, alerts = expected["replay"], expected["replay"].alerts
    page = open_page(chromium, f"{app.url}/monitoring")
    tag = f"monitoring_{size_name(LAPTOP)}_"

    # the replay: monitors, alerts, the first alert; and how fast each known problem was caught
    expect_metric(page, "Monitors", f"{len(replay.monitors):,}")
    expect_metric(page, "Alerts", f"{len(alerts):,}")
    expect_metric(page, "First alert", f"{alerts['first_fire'].min():%d %b %Y}")
    health = (alerts["family"] == "system_health").sum()
    expect_metric(page, "System health alerts", f"{health:,}")
    _expect_findings(page, expected["report"].summary())
    check_page(page, charts=2)  # the monitors day by day, the time to detect each incident
    screenshot(page, artefacts, tag + "sample_incidents")
    on_the_projector(page, artefacts, "monitoring", "sample_incidents", charts=2)

    table = download_table(page, artefacts, f"{CASE}_monitoring_alerts.csv", prefix=tag)
    assert list(table["monitor"]) == list(alerts["monitor"])
    download_figure(
        page,
        artefacts,
        f"{CASE}_monitor_panel.html",
        headline(charts.monitor_panel(replay, ["volume"], None)),
        prefix=tag,
    )
    yaml_file = download(page, "Download monitors (YAML)", artefacts, prefix=tag)
    assert yaml_file.read_text(encoding="utf-8").count("name:") >= len(replay.monitors)

    # the team's own incident list (just the silent incident): the report follows it
    incidents = tmp_path / "incidents.csv"
    expected["one"][["problem", "start", "end"]].to_csv(incidents, index=False)
    uploader = page.locator('[data-testid="stFileUploader"]')
    uploader.locator('input[type="file"]').set_input_files(str(incidents))
    _expect_findings(
        page,
        expected["report_one"].summary(),
        absent=[f for f in expected["report"].summary() if "new_category" in f.text],
    )
    check_page(page, charts=2)
    screenshot(page, artefacts, tag + "own_incidents")


def _review(case, capacity: int):
    from prodready import review

    sweep = review.sweep(case, capacity_per_day=capacity, **REVIEW)
    return sweep, review.simulate(case, band=sweep.best, capacity_per_day=capacity, **REVIEW)


def _expect_review(page, result) -> None:
    from prodready.charts.review import band_words

    t = result.totals
    expect_metric(page, "Band", band_words(result.band))
    expect_metric(page, "Mean load a day", f"{t['mean_daily_load']:.1f}")
    expect_metric(page, "Overflow share", f"{t['overflow_share']:.1%}")
    expect_metric(page, "Errors avoided", f"{int(t['errors_avoided']):,}")
    expect_metric(page, "Net value", format_money(t["net"], result.currency))


def test_review_page_journey(app, chromium, artefacts, case):
    sweep, result = _review(case, 20)
    page = open_page(chromium, f"{app.url}/review")
    tag = f"review_{size_name(LAPTOP)}_"

    # the best band for 20 reviews a day, replayed day by day
    _expect_review(page, result)
    check_page(page, charts=2)  # the queue day by day, net value against load per band
    screenshot(page, artefacts, tag + "capacity_20")
    on_the_projector(page, artefacts, "review", "capacity_20", charts=2)
    table = download_table(page, artefacts, f"{CASE}_review_bands.csv", prefix=tag)
    assert len(table) == len(sweep.to_frame())
    assert table["net"].tolist() == pytest.approx(sweep.to_frame()["net"].tolist(), nan_ok=True)
    download_figure(
        page,
        artefacts,
        f"{CASE}_review_queue.html",
        headline(charts.review_queue(result)),
        prefix=tag,
    )

    # twice the reviewers: the package's best band and its numbers for 40 a day
    _, more = _review(case, 40)
    set_number(page, "Reviews a day (capacity)", 40)
    _expect_review(page, more)
    check_page(page, charts=2)
    screenshot(page, artefacts, tag + "capacity_40")


@pytest.fixture(scope="module")
def decay_expected(case):
    from prodready import decay, estimate

    policies = [p for p in decay.default_policies() if p.name in DECAY_POLICIES]
    replayed = decay.compare_policies(case, policies, **DECAY)  # repriced: tests/test_decay.py
    return {
        "aging": decay.aging_curve(case, **DECAY),
        "policies": {cost: replayed.with_retrain_cost(cost) for cost in RETRAIN_COSTS},
        "estimate": estimate.estimate_case(case),
    }


def _expect_decay(page, aging, policies) -> None:
    from playwright.sync_api import expect

    oldest = int(aging.curve["model_age_days"].iloc[-1])
    half = aging.half_life_days
    expect_metric(page, "Half-life", f"{half:.0f} days" if half is not None else f"> {oldest} days")
    expect_metric(page, "Recommended policy", policies.recommended)
    net = policies.table.set_index("policy").loc[policies.recommended, "net"]
    expect_metric(page, "Net value", format_money(net, policies.currency))
    # the reason names the runner-up's net value, which moves with the cost of a retraining
    expect(caption_of(page, "Recommended policy")).to_have_text(policies.reason)


def test_decay_page_journey(app, chromium, artefacts, decay_expected):
    from prodready import decay

    expected = decay_expected
    page = open_page(chromium, f"{app.url}/decay")
    tag = f"decay_{size_name(LAPTOP)}_"

    # nothing heavy runs before the button; the label-free estimate is there already
    check_page(page, charts=1)
    for finding in expected["estimate"].summary()[:1]:
        markdown = page.locator('[data-testid="stMarkdownContainer"]')
        markdown.filter(has_text=finding.text).first.wait_for()

    # 60-day steps and two policies, then Run: the half-life and the recommended policy
    set_number(page, "Step (days)", DECAY["step"])
    for name in decay.default_policies():
        if name.name not in DECAY_POLICIES:
            remove_choice(page, "Retraining policies to compare", name.name)
    page.get_by_role("button", name="Run: train the models and replay the policies").click()
    aging, policies = expected["aging"], expected["policies"]
    _expect_decay(page, aging, policies[RETRAIN_COSTS[0]])
    check_page(page, charts=4)  # aging curve, policy timeline, pareto, label-free estimate
    screenshot(page, artefacts, tag + "run")
    on_the_projector(page, artefacts, "decay", "run", charts=4)
    table = download_table(page, artefacts, f"{CASE}_decay_policies.csv", prefix=tag)
    frame = policies[RETRAIN_COSTS[0]].to_frame()
    assert list(table["policy"]) == list(frame["policy"])
    assert table["net"].tolist() == pytest.approx(frame["net"].tolist())
    download_figure(
        page, artefacts, f"{CASE}_decay_aging.html", headline(charts.aging_curve(aging)), prefix=tag
    )

    # a cheaper retraining: the same replay repriced (no model fitted again), net values move
    set_number(page, "Cost of one retraining (USD)", RETRAIN_COSTS[1])
    _expect_decay(page, aging, policies[RETRAIN_COSTS[1]])  # at once, without Run
    check_page(page, charts=4)
    screenshot(page, artefacts, tag + "cheaper_retraining")
