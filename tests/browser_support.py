"""What the browser journeys share: the app served by ``streamlit run``, Debian's Chromium driven
by Playwright, and the checks every page must pass.

A test module imports the fixtures it needs (``app_fixture``, ``chromium_fixture`` and
``artefacts_fixture``, which tests ask for as ``app``, ``chromium``, ``artefacts``), so that each
module starts its own server: pytest-xdist (``--dist loadfile``) then spreads the modules over
its workers. A module has one browser window (``chromium``); each journey opens its page in a
tab of its own, which the app serves as a session of its own, as it does each participant.
Screenshots and downloaded files are kept as test artefacts (never committed) in
``$PRODREADY_ARTEFACTS`` when set, else in ``browser-artefacts`` under pytest's base temporary
folder; the folder is printed (``pytest -s`` shows it).

The checks: a page shows no Python traceback (``stException``, or the word "Traceback") and no
error box, every plotly chart on it has drawn something (a chart with no marks is a failure,
as it would be in front of a workshop) at the width of its column, and no tile cuts its text.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

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
# the first view of a page runs its audit on 2 shared cores (the skew audit, the decay models):
# generous, since a test fails at the first expectation that is not met in time
PAGE_TIMEOUT_MS = 240_000
ARTEFACTS_ENV = "PRODREADY_ARTEFACTS"

# the two screens a workshop runs on: each journey runs in full at laptop size, and its first
# view is also checked on the projector (:func:`on_the_projector`)
LAPTOP = {"width": 1280, "height": 720}
PROJECTOR = {"width": 1920, "height": 1080}

IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
CONNECTED = '[data-testid="stApp"][data-test-connection-state="CONNECTED"]'

# each chart's marks: lines and markers, bars, filled areas, heatmap images, text marks
_CHART_MARKS = """
plots => plots.map(gd => {
  const paths = [...gd.querySelectorAll('.trace path, .barlayer path, .boxlayer path')]
    .filter(p => { const d = p.getAttribute('d') || ''; return d.length > 4 && d !== 'M0,0Z'; });
  const images = gd.querySelectorAll('.hm image, .imagelayer image, .heatmaplayer image');
  const texts = gd.querySelectorAll('.trace text, .textpoint text');
  const svg = gd.querySelector('.main-svg');
  return {
    title: (gd.layout && gd.layout.title && gd.layout.title.text) || '',
    traces: (gd.data || []).length,
    marks: paths.length + images.length + texts.length,
    width: svg ? Number(svg.getAttribute('width')) : 0,
    column: gd.parentElement.clientWidth,
  };
})
"""
# plotly redraws a chart at its column's new width a moment after the window is resized
_CHARTS_FIT = """
() => [...document.querySelectorAll('.js-plotly-plot')].every(gd => {
  const svg = gd.querySelector('.main-svg');
  return svg && Math.abs(Number(svg.getAttribute('width')) - gd.parentElement.clientWidth) <= 1;
})
"""


# each tile's label and value whose text is wider than its box (Streamlit cuts it with "…")
_CUT_TILES = """
boxes => boxes.filter(b => b.scrollWidth > b.clientWidth + 1).map(b => b.innerText)
"""


# -- the server --------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class AppServer:
    """A running ``streamlit run`` of the app: its address, process, log file and the URL of
    its workshop store."""

    url: str
    process: subprocess.Popen
    log: Path
    store_url: str


def _wait_until_healthy(server: AppServer) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        if server.process.poll() is not None:
            pytest.fail(
                f"streamlit exited with {server.process.returncode}:\n{server.log.read_text()}"
            )
        try:
            with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(
                f"streamlit did not answer within {STARTUP_SECONDS}s:\n{server.log.read_text()}"
            )
        time.sleep(0.3)


@contextmanager
def serve_app(folder: Path, env: Mapping[str, str] | None = None) -> Iterator[AppServer]:
    """Serve the app on a free port with the bundled sample case and a workshop store of its
    own in ``folder`` (never the user's ``~/.prodready``); always stopped afterwards."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if k != "PRODREADY_CASE"}
    environment["PRODREADY_DB_URL"] = f"sqlite:///{folder / 'workshop.db'}"
    environment.update(env or {})
    store_url = environment["PRODREADY_DB_URL"]
    log = folder / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
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
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = AppServer(f"http://127.0.0.1:{port}", process, log, store_url)
    try:
        _wait_until_healthy(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def require_browser() -> None:
    """Skip when this machine cannot run the browser tests (no Chromium, no Playwright)."""
    if not CHROMIUM.exists():
        pytest.skip(f"no system Chromium at {CHROMIUM} (Debian package 'chromium')")
    pytest.importorskip("playwright.sync_api", reason="playwright (python) is not installed")


@pytest.fixture(scope="module", name="app")
def app_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """The app served for this test module (each module starts its own)."""
    require_browser()
    with serve_app(tmp_path_factory.mktemp("app")) as server:
        yield server


@pytest.fixture(scope="module", name="chromium")
def chromium_fixture():
    """One headless Chromium window (a browser context) for the module; each journey opens a tab
    of its own (:func:`open_page`), and the tabs share the window's cache of the app's code, as a
    consultant's tabs do (a new context per journey cost a quarter more of Chromium's time)."""
    require_browser()
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=PAGE_TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            window = browser.new_context(viewport=dict(LAPTOP), accept_downloads=True)
            window.set_default_timeout(PAGE_TIMEOUT_MS)
            yield window
        finally:
            browser.close()


@pytest.fixture(scope="session", name="artefacts")
def artefacts_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots and downloads are kept (not committed)."""
    where = os.environ.get(ARTEFACTS_ENV)
    folder = Path(where) if where else tmp_path_factory.getbasetemp() / "browser-artefacts"
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nbrowser artefacts (screenshots, downloads): {folder}")
    return folder


# -- a page in a session of its own ------------------------------------------------------------
def size_name(size: Mapping[str, int]) -> str:
    return f"{size['width']}x{size['height']}"


def open_page(window, url: str):
    """``url`` in a new tab of ``window`` (a session of its own) at laptop size, once the app
    has run the page."""
    page = window.new_page()
    page.goto(url)
    page.wait_for_selector(CONNECTED)
    wait_idle(page)
    return page


def wait_idle(page) -> None:
    """Wait until the app's script has finished its run (after a page load or an action)."""
    page.wait_for_timeout(300)  # the run a click starts is reported a moment later
    page.wait_for_selector(IDLE)


def go_to(page, title: str) -> None:
    """Open another page of the app from the sidebar (the session, and its case, stay)."""
    page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()
    page.get_by_role("heading", name=title, exact=True).wait_for()
    wait_idle(page)


def metric(page, label: str):
    """The value shown by the metric tile whose label is exactly ``label``."""
    tile = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator(
            '[data-testid="stMetricLabel"]', has_text=re.compile(rf"^\s*{re.escape(label)}\s*$")
        )
    )
    return tile.locator('[data-testid="stMetricValue"]')


def expect_metric(page, label: str, value: str) -> None:
    """Wait until tile ``label`` shows exactly ``value``."""
    from playwright.sync_api import expect

    expect(metric(page, label)).to_have_text(value)


def caption_of(page, label: str):
    """The caption under metric tile ``label`` (the tile's column holds both)."""
    column = page.locator('[data-testid="stColumn"]').filter(
        has=page.locator(
            '[data-testid="stMetricLabel"]', has_text=re.compile(rf"^\s*{re.escape(label)}\s*$")
        )
    )
    return column.locator('[data-testid="stCaptionContainer"]')


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the selectbox labelled ``label``."""
    from playwright.sync_api import TimeoutError as NotYet

    box = page.locator('[data-testid="stSelectbox"]').filter(
        has=page.get_by_role("combobox", name=label, exact=True)
    )
    box.scroll_into_view_if_needed()
    wanted = page.get_by_role("option", name=option, exact=True)
    for _ in range(3):  # a list opened while the page still scrolls closes again: reopen it
        page.wait_for_timeout(300)
        box.get_by_role("button", name="Open").click()
        try:
            wanted.wait_for(timeout=3_000)
            break
        except NotYet:
            continue
    wanted.click()
    wait_idle(page)


def remove_choice(page, label: str, option: str) -> None:
    """Take ``option`` out of the multiselect labelled ``label``."""
    box = page.locator('[data-testid="stMultiSelect"]').filter(
        has=page.locator('[data-testid="stWidgetLabel"]', has_text=label)
    )
    box.get_by_role("button", name=f"Remove {option}", exact=True).click()
    wait_idle(page)


def set_number(page, label: str, value: float | int) -> None:
    """Type ``value`` into the number input labelled ``label`` and commit it."""
    field = page.get_by_label(label, exact=True)
    field.fill(str(value))
    field.press("Enter")
    wait_idle(page)


# -- the checks every page passes --------------------------------------------------------------
def check_page(page, charts: int) -> list[dict]:
    """The page has finished drawing its ``charts`` plotly charts, shows no traceback and no
    error box, no chart is empty or wider or narrower than its column, and no tile cuts its
    value or label short (app/tiles.css); returns each chart's title, traces, marks and width."""
    from playwright.sync_api import TimeoutError as NotYet
    from playwright.sync_api import expect

    wait_idle(page)
    expect(page.locator('[data-testid="stSpinner"]')).to_have_count(0)
    expect(page.locator('[data-testid="stSkeleton"]')).to_have_count(0)
    expect(page.locator('[data-testid="stPlotlyChart"] .js-plotly-plot')).to_have_count(charts)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    expect(page.get_by_text("Traceback")).to_have_count(0)
    expect(page.locator('[data-testid="stAlertContentError"]')).to_have_count(0)
    page.wait_for_timeout(500)  # plotly draws its marks just after its element appears
    with contextlib.suppress(NotYet):  # the assertion below names the charts that do not fit
        page.wait_for_function(_CHARTS_FIT, timeout=10_000)
    drawn = page.locator(".js-plotly-plot").evaluate_all(_CHART_MARKS)
    empty = [d["title"] or f"chart {i + 1}" for i, d in enumerate(drawn) if d["marks"] == 0]
    assert not empty, f"empty charts on {page.url}: {empty}"
    misfit = [
        f"{d['title'] or f'chart {i + 1}'}: {d['width']}px in a {d['column']}px column"
        for i, d in enumerate(drawn)
        if abs(d["width"] - d["column"]) > 1
    ]
    assert not misfit, f"charts not drawn at their column's width on {page.url}: {misfit}"
    cut = page.locator('[data-testid="stMetric"] [data-testid="stMarkdownContainer"]')
    cut = cut.evaluate_all(_CUT_TILES)
    assert not cut, f"tiles cut short on {page.url}: {cut}"
    return drawn


def screenshot(page, artefacts: Path, name: str) -> Path:
    """Keep what the screen shows now as ``name.png`` among the artefacts."""
    path = artefacts / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def on_the_projector(page, artefacts: Path, journey: str, view: str, charts: int) -> Path:
    """The view on screen now, moved to the projector: the window goes to 1920x1080, as when a
    consultant drags it to the projector's screen, and the page must pass :func:`check_page`
    there (the charts redrawn at the wider columns, no tile cut); its screenshot is kept as
    ``{journey}_1920x1080_{view}``. The window then returns to laptop size, redrawn and checked.

    Resizing does not rerun the app's script, so the numbers shown stay the ones the journey
    checked; what another screen can break is the layout, which this checks. (A second session
    opened at projector size cost the suite ten page loads and app runs for the same checks.)"""
    page.set_viewport_size(dict(PROJECTOR))
    check_page(page, charts=charts)
    path = screenshot(page, artefacts, f"{journey}_{size_name(PROJECTOR)}_{view}")
    page.set_viewport_size(dict(LAPTOP))
    check_page(page, charts=charts)
    return path


# -- downloads ---------------------------------------------------------------------------------
TABLE_BUTTON = "Download table (CSV)"
FIGURE_BUTTON = "Download figure (HTML, opens offline)"


def download(page, button: str, artefacts: Path, *, nth: int = 0, prefix: str = "") -> Path:
    """Click the ``nth`` visible download button named ``button``; the file is kept among the
    artefacts under its suggested name (``prefix`` first)."""
    target = page.get_by_role("button", name=button).nth(nth)
    target.scroll_into_view_if_needed()
    with page.expect_download() as started:
        target.click()
    done = started.value
    path = artefacts / f"{prefix}{done.suggested_filename}"
    done.save_as(path)
    return path


def download_table(
    page, artefacts: Path, file_name: str, *, nth: int = 0, prefix: str = ""
) -> pd.DataFrame:
    """The ``nth`` table's CSV, which must be called ``file_name``, read back as a frame."""
    path = download(page, TABLE_BUTTON, artefacts, nth=nth, prefix=prefix)
    assert path.name == f"{prefix}{file_name}", f"downloaded {path.name}, not {file_name}"
    return pd.read_csv(io.StringIO(path.read_text(encoding="utf-8")))


def download_figure(
    page, artefacts: Path, file_name: str, headline: str, *, nth: int = 0, prefix: str = ""
) -> str:
    """The ``nth`` figure's standalone HTML, which must be called ``file_name``, draw with plotly
    inlined (it opens offline) and carry the title ``headline`` (see :func:`headline`)."""
    path = download(page, FIGURE_BUTTON, artefacts, nth=nth, prefix=prefix)
    assert path.name == f"{prefix}{file_name}", f"downloaded {path.name}, not {file_name}"
    html = path.read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith(("<!doctype html>", "<html")), "not an HTML page"
    assert "Plotly.newPlot(" in html, "the figure file does not draw a plotly figure"
    assert not re.search(r"<script[^>]*\bsrc=", html), (
        "the figure file loads scripts from elsewhere"
    )
    assert len(html) > 1_000_000, "plotly.js is not inlined: the file will not open offline"
    assert any(form in html for form in _json_forms(headline)), (
        f"{path.name} is not the figure titled {headline!r}"
    )
    return html


def headline(figure) -> str:
    """The first line of a :mod:`prodready.charts` figure's title (its subtitle follows a
    ``<br>``): what names the figure in a downloaded file."""
    return (figure.layout.title.text or "").split("<br>")[0]


def _json_forms(text: str) -> set[str]:
    """``text`` as it may appear inside the figure's JSON (plotly escapes <, > and &)."""
    forms = set()
    for ascii_only in (True, False):
        encoded = json.dumps(text, ensure_ascii=ascii_only)[1:-1]
        forms.add(encoded)
        forms.add(encoded.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))
    return forms
