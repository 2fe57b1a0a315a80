"""The main journey in a real browser: start the app, see the sample case, open the Overview.

Drives Debian's Chromium (/usr/bin/chromium) through Playwright. Set
``PRODREADY_SCREENSHOT=docs/screenshot.png`` to also save the Case page for the README.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from prodready.results import format_money

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app" / "streamlit_app.py"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STARTUP_SECONDS = 60
PAGE_TIMEOUT_MS = 120_000  # the first page view loads and summarises the sample case


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app served by ``streamlit run`` on a free port; always terminated afterwards."""
    if not CHROMIUM.exists():
        pytest.skip(f"no system Chromium at {CHROMIUM} (Debian package 'chromium')")
    pytest.importorskip("playwright.sync_api", reason="playwright (python) is not installed")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "PRODREADY_CASE"}  # the bundled sample
    log = tmp_path_factory.mktemp("streamlit") / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(APP),
                "--server.headless",
                "true",
                "--server.port",
                str(port),
                "--server.address",
                "127.0.0.1",
                "--server.fileWatcherType",
                "none",
                "--browser.gatherUsageStats",
                "false",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if server.poll() is not None:
                pytest.fail(f"streamlit exited with {server.returncode}:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"streamlit did not answer within {STARTUP_SECONDS}s:\n{log.read_text()}"
                )
            time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=5)


@pytest.fixture(scope="module")
def sample_overview():
    samples = pytest.importorskip("prodready.samples")
    from prodready.overview import overview

    case = samples.load("card_fraud")
    return case, overview(case, seed=0)


def test_sample_case_and_overview_in_chromium(app_url, sample_overview):
    from playwright.sync_api import expect, sync_playwright

    case, ov = sample_overview
    n = ov.numbers
    head = ov.headline.loc["roc_auc"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1400}, accept_downloads=True)
            page.set_default_timeout(PAGE_TIMEOUT_MS)
            expect.set_options(timeout=PAGE_TIMEOUT_MS)
            page.goto(app_url)

            # the Case page opens with the sample case loaded and its data overview
            heading = page.get_by_role("heading", name=f"What the data holds: {case.name}")
            expect(heading).to_be_visible()
            rows = page.locator('[data-testid="stMetric"]', has_text="Training rows")
            expect(rows).to_contain_text(f"{n['training_rows']:,}")
            expect(page.locator(".js-plotly-plot").first).to_be_visible()
            expect(page.get_by_text("Missing values per feature")).to_be_visible()
            if target := os.environ.get("PRODREADY_SCREENSHOT"):
                page.wait_for_timeout(1500)  # let the plotly figures finish drawing
                path = Path(target) if Path(target).is_absolute() else ROOT / target
                path.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(path))

            # the feature table downloads as CSV, one row per feature of the case
            download_csv = page.get_by_role("button", name="Download table (CSV)")
            with page.expect_download() as download:
                download_csv.first.click()
            table = download.value.path().read_text(encoding="utf-8").splitlines()
            assert table[0].startswith("feature,type,available_at_prediction")
            assert len(table) == 1 + len(case.features)

            # the Overview shows the served model's real offline and serving AUC
            page.locator('[data-testid="stSidebarNav"]').get_by_text("Overview").click()
            expect(page.get_by_role("heading", name="Overview")).to_be_visible()
            offline = page.locator('[data-testid="stMetric"]', has_text="Offline ROC AUC")
            serving = page.locator('[data-testid="stMetric"]', has_text="Serving ROC AUC")
            expect(offline).to_contain_text(f"{head['offline']:.3f}")
            expect(serving).to_contain_text(f"{head['serving']:.3f}")
            value = ov.business_value
            business = page.locator('[data-testid="stMetric"]', has_text="Business value")
            expect(business).to_contain_text(format_money(value.total, value.currency))
            expect(page.locator(".js-plotly-plot").first).to_be_visible()
            assert page.get_by_text("Traceback").count() == 0
        finally:
            browser.close()
