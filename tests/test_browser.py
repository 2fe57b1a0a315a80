"""The workshop journeys in a real browser, part 1: the Case, Overview, Skew audit and Audit from
profiles pages.

Each journey opens its page in a fresh session (the sample case loads by default) at laptop size
(1280x720), waits for the audit, checks the numbers shown against the package's own result, moves
the window to the projector (1920x1080: the page redrawn there, nothing broken, empty or cut,
and a screenshot), then back on the laptop changes one control and checks the new number,
downloads a table and a figure, and keeps a screenshot of each view (browser_support says
where). Drives Debian's Chromium (/usr/bin/chromium) through Playwright.

Set ``PRODREADY_SCREENSHOT=docs/screenshot.png`` to also save the Case page for the README.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from browser_support import (
    LAPTOP,
    ROOT,
    app_fixture,  # noqa: F401  (fixture `app`: this module's own server)
    artefacts_fixture,  # noqa: F401  (fixture `artefacts`)
    caption_of,
    check_page,
    choose,
    chromium_fixture,  # noqa: F401  (fixture `chromium`)
    download,
    download_figure,
    download_table,
    expect_metric,
    go_to,
    headline,
    on_the_projector,
    open_page,
    screenshot,
    size_name,
)

from prodready import charts
from prodready.results import format_money

pytestmark = pytest.mark.browser

OTHER_SAMPLE = "delivery_time"  # the sample a consultant switches to (a regression case)


@pytest.fixture(scope="module")
def expected(sample_run):
    """The package's own results on the bundled samples, as the app computes them (seed 0);
    the sample's overview and skew audit come from conftest's shared run (the same calls)."""
    from prodready import samples
    from prodready.overview import overview
    from prodready.skew import profiles

    case = samples.load("card_fraud")
    other = samples.load(OTHER_SAMPLE)
    shared = sample_run().results
    return {
        "case": case,
        "overview": shared["overview"],
        "skew": shared["skew"],
        "profiles": profiles.audit_profiles(profiles.case_profiles(case)),
        "other": other,
        "other_overview": overview(other, seed=0),
    }


def _load_other_sample(page) -> None:
    """On the Case page: pick the other bundled sample and load it."""
    from prodready import samples

    choose(page, "Sample case", samples.describe(OTHER_SAMPLE))
    page.get_by_role("button", name=f"Load the bundled sample case '{OTHER_SAMPLE}'").click()


def test_case_page_journey(app, chromium, artefacts, expected):
    from playwright.sync_api import expect

    case, ov = expected["case"], expected["overview"]
    n = ov.numbers
    page = open_page(chromium, app.url)
    tag = f"case_{size_name(LAPTOP)}_"

    # the sample case is loaded and its data overview shows the package's counts
    expect(page.get_by_role("heading", name=f"What the data holds: {case.name}")).to_be_visible()
    expect_metric(page, "Training rows", f"{n['training_rows']:,}")
    expect_metric(page, "Serving rows", f"{n['serving_rows']:,}")
    expect_metric(page, "Labelled serving rows", f"{n['labelled_serving_rows']:,}")
    expect_metric(page, "Features", f"{n['features']:,}")
    expect_metric(page, "Known too late", f"{n['features_not_available_at_prediction']:,}")
    expect_metric(page, "Median label delay", f"{n['label_delay_median_days']:.1f} days")
    check_page(page, charts=2)  # the volume over time and the missing values per feature
    screenshot(page, artefacts, tag + "sample")
    on_the_projector(page, artefacts, "case", "sample", charts=2)
    if target := os.environ.get("PRODREADY_SCREENSHOT"):
        page.set_viewport_size({"width": 1440, "height": 1400})
        page.wait_for_timeout(1500)  # let the plotly figures redraw at the new width
        path = Path(target) if Path(target).is_absolute() else ROOT / target
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path))
        page.set_viewport_size(dict(LAPTOP))

    # the feature table downloads as CSV: one row per feature, the package's missing shares
    table = download_table(page, artefacts, "card_fraud_detection_features.csv", prefix=tag)
    features = ov.to_frame()
    assert list(table.columns[:3]) == ["feature", "type", "available_at_prediction"]
    assert list(table["feature"]) == list(features.index)
    assert table["missing_serving"].tolist() == pytest.approx(features["missing_serving"].tolist())
    download_figure(
        page,
        artefacts,
        "card_fraud_detection_volume.html",
        headline(charts.volume_over_time(ov)),
        prefix=tag,
    )

    # switching to another sample shows that sample's counts
    other = expected["other_overview"].numbers
    _load_other_sample(page)
    name = expected["other"].name
    expect(page.get_by_role("heading", name=f"What the data holds: {name}")).to_be_visible()
    expect_metric(page, "Training rows", f"{other['training_rows']:,}")
    expect_metric(page, "Serving rows", f"{other['serving_rows']:,}")
    check_page(page, charts=2)
    screenshot(page, artefacts, tag + OTHER_SAMPLE)


def test_overview_page_journey(app, chromium, artefacts, expected):
    from playwright.sync_api import expect

    ov = expected["overview"]
    head = ov.headline
    page = open_page(chromium, f"{app.url}/overview")
    tag = f"overview_{size_name(LAPTOP)}_"

    # the served model's offline and production ROC AUC, its interval and its business value
    expect_metric(page, "Offline ROC AUC", f"{head.loc['roc_auc', 'offline']:.3f}")
    expect_metric(page, "Serving ROC AUC", f"{head.loc['roc_auc', 'serving']:.3f}")
    low, high = head.loc["roc_auc", "serving_low"], head.loc["roc_auc", "serving_high"]
    interval = f"95% interval {low:.3f} to {high:.3f}"
    expect(caption_of(page, "Serving ROC AUC")).to_contain_text(interval)
    value = ov.business_value
    expect_metric(page, "Business value", format_money(value.total, value.currency))
    check_page(page, charts=1)
    screenshot(page, artefacts, tag + "card_fraud")
    on_the_projector(page, artefacts, "overview", "card_fraud", charts=1)

    # every metric, offline and serving, downloads as the package's table
    table = download_table(page, artefacts, "card_fraud_detection_headline.csv", prefix=tag)
    assert list(table["metric"]) == list(head.index)
    assert table["offline"].tolist() == pytest.approx(head["offline"].tolist())
    assert table["serving"].tolist() == pytest.approx(head["serving"].tolist())
    download_figure(
        page,
        artefacts,
        "card_fraud_detection_offline_vs_serving.html",
        headline(charts.offline_vs_serving(ov)),
        prefix=tag,
    )

    # the consultant switches to the regression sample: the Overview follows with its MAE
    go_to(page, "Case")
    _load_other_sample(page)
    expect(
        page.get_by_role("heading", name=f"What the data holds: {expected['other'].name}")
    ).to_be_visible()
    go_to(page, "Overview")
    other = expected["other_overview"].headline
    label = other.loc["mae", "label"]  # Mean absolute error (MAE)
    expect_metric(page, f"Offline {label}", f"{other.loc['mae', 'offline']:.3f}")
    expect_metric(page, f"Serving {label}", f"{other.loc['mae', 'serving']:.3f}")
    check_page(page, charts=1)
    screenshot(page, artefacts, tag + OTHER_SAMPLE)


def _skew_charts(result, feature: str) -> int:
    """Charts on the Skew page with ``feature`` in the drill-down: the ranking, its two
    distributions, its PSI by month, the production gap, and the offline-vs-online scatter of
    a numeric feature both pipelines logged."""
    rows = result.rows
    numeric = result.to_frame().loc[feature, "kind"] == "numeric"
    return 4 + int(rows is not None and feature in rows.features.index and numeric)


def test_skew_page_journey(app, chromium, artefacts, expected):
    result = expected["skew"]
    frame, gap, rows = result.to_frame(), result.metric_gap, result.rows
    page = open_page(chromium, f"{app.url}/skew")
    tag = f"skew_{size_name(LAPTOP)}_"

    # the audit's headline: features to fix, leakage, and what production really gets
    flagged = frame["severity"].isin(["high", "medium"]).sum()
    expect_metric(page, "Features to fix", f"{flagged} of {len(frame)}")
    expect_metric(page, "Leakage", f"{(frame['problem'] == 'leakage').sum()}")
    expect_metric(page, "ROC AUC, all features", f"{gap.serving:.3f}")
    expect_metric(page, "ROC AUC, prediction-time only", f"{gap.honest_serving:.3f}")
    first = str(frame.index[0])  # the drill-down opens on the most severe feature
    expect_metric(page, "Rows that differ", f"{rows.features.loc[first, 'mismatch_rate']:.1%}")
    check_page(page, charts=_skew_charts(result, first))
    screenshot(page, artefacts, tag + "audit")
    on_the_projector(page, artefacts, "skew", "audit", charts=_skew_charts(result, first))

    # the ranking downloads with the package's order and PSI
    table = download_table(page, artefacts, "card_fraud_detection_skew_features.csv", prefix=tag)
    assert list(table["feature"]) == [str(f) for f in frame.index]
    assert table["psi"].tolist() == pytest.approx(frame["psi"].tolist(), nan_ok=True)
    download_figure(
        page,
        artefacts,
        "card_fraud_detection_skew_ranking.html",
        headline(charts.skew_ranking(result)),
        prefix=tag,
    )

    # another feature in the drill-down: its own share of rows that differ
    shared = rows.features["mismatch_rate"]
    other = next(
        str(f)
        for f in frame.index
        if f in shared.index and round(shared[f], 3) != round(shared[first], 3)
    )
    label = f"{other} · {frame.loc[other, 'severity']}" + (
        f" · {frame.loc[other, 'problem']}" if frame.loc[other, "problem"] else ""
    )
    choose(page, "Feature", label)
    expect_metric(page, "Rows that differ", f"{shared[other]:.1%}")
    check_page(page, charts=_skew_charts(result, other))
    screenshot(page, artefacts, tag + other)


def test_profiles_page_journey(app, chromium, artefacts, expected, tmp_path):
    """The team's half (download the case's profiles file) and the consultant's (audit that
    file without the data); a file that is not a profiles file gets one message."""
    from playwright.sync_api import expect

    from prodready.skew import profiles

    result = expected["profiles"]
    frame = result.to_frame()
    page = open_page(chromium, f"{app.url}/profiles")
    tag = f"profiles_{size_name(LAPTOP)}_"
    sent = download(
        page,
        re.compile(f"^Download the profiles of {expected['case'].name}"),
        artefacts,
        prefix=tag,
    )
    made = profiles.audit_profiles(profiles.load_case_profiles(sent))  # the file holds this case
    assert made.to_frame().equals(frame)

    uploader = page.locator('[data-testid="stFileUploader"] input[type="file"]')
    uploader.set_input_files(str(sent))
    flagged = frame["severity"].isin(["high", "medium"]).sum()
    expect_metric(page, "Features to fix", f"{flagged} of {len(frame)}")
    expect_metric(page, "Training rows", f"{result.training_rows:,}")
    expect_metric(page, "Serving rows", f"{result.serving_rows:,}")
    check_page(page, charts=1)  # the most severe feature's skew per serving month
    screenshot(page, artefacts, tag + "audit")
    on_the_projector(page, artefacts, "profiles", "audit", charts=1)

    table = download_table(
        page, artefacts, "card_fraud_detection_profiles_features.csv", prefix=tag
    )
    assert list(table["feature"]) == [str(f) for f in frame.index]
    assert table["psi"].tolist() == pytest.approx(frame["psi"].tolist(), nan_ok=True)
    # the drill-down opens on the most severe feature; another one picked shows its own months
    for n, feature in enumerate(str(f) for f in frame.index[:2]):
        if n:
            choose(page, "Feature", f"{feature} · {frame.loc[feature, 'severity']}")
            check_page(page, charts=1)
        download_figure(
            page,
            artefacts,
            f"card_fraud_detection_{feature}_psi_by_month.html",
            headline(charts.psi_by_month(result, feature)),
            prefix=tag,
        )
    screenshot(page, artefacts, tag + feature)

    # a file that is not a profiles file: one message saying what to do, no audit, no traceback
    notes = tmp_path / "notes.json"
    notes.write_text("these are not profiles", encoding="utf-8")
    uploader.set_input_files(str(notes))
    error = page.locator('[data-testid="stAlertContentError"]')
    expect(error).to_have_count(1)
    expect(error).to_contain_text("notes.json: is not a prodready case profiles file")
    expect(error).to_contain_text("How to fix")
    expect(page.locator('[data-testid="stMetric"]')).to_have_count(0)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    screenshot(page, artefacts, tag + "not_a_profiles_file")
