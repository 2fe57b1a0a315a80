"""A workshop's participants at once: 20 browser sessions on the sample case, concurrently.

Opt-in (marked ``load``; skipped unless ``PRODREADY_LOAD_TEST=1``): run it with
``scripts/load_test``. One server (``streamlit run``) and one Chromium with a context (a session)
per participant. Each session opens the app on the Case page (the sample case loads by default)
and goes to the Skew audit, as a workshop does in its first minutes.

Measured: the time from opening the page to the Case page's first number and to the skew audit's
first number (p50 and p95 over the sessions); the server's resident memory (the streamlit process
and its children) with no session, with one session and with 20; memory per extra session =
(RSS with 20 - RSS with 1) / 19. Every run writes its figures to the "Workshop load" section of
docs/performance.md (benchmarks/_report.write_section); the machine's load average is noted
there, since other work on the cores slows every session.

The first session runs alone, so it pays for loading the case and the audits; the 20 then share
what it left in the server's caches (``st.cache_resource``: the case, the overview, the skew audit
with its baseline models), which is what a workshop sees once the facilitator has opened the app.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import sys
import time
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent
for folder in (TESTS, ROOT / "benchmarks"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from browser_support import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    CONNECTED,
    LAPTOP,
    require_browser,
    serve_app,
)

pytestmark = [
    pytest.mark.load,
    pytest.mark.browser,
    pytest.mark.skipif(
        os.environ.get("PRODREADY_LOAD_TEST") != "1",
        reason="load test: opt-in with PRODREADY_LOAD_TEST=1 (scripts/load_test)",
    ),
]

SESSIONS = 20
SESSION_TIMEOUT_MS = 600_000  # 20 browsers and the server share the machine's cores
MIB = 1024 * 1024


def server_rss(pid: int) -> int:
    """Resident bytes of the server process and all its children (e.g. joblib workers)."""
    import psutil

    process = psutil.Process(pid)
    total = 0
    for each in [process, *process.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):  # a worker that has just exited
            total += each.memory_info().rss
    return total


def _metric_value(page, label: str):
    tile = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]', has_text=label)
    )
    return tile.locator('[data-testid="stMetricValue"]')


async def journey(browser, url: str, expected: dict[str, str]) -> dict:
    """One participant: open the app, see the case's numbers, open the Skew audit. Returns the
    seconds from opening to each page's first number; the context stays open (the session
    stays alive on the server) until the caller closes it."""
    context = await browser.new_context(viewport=dict(LAPTOP))
    context.set_default_timeout(SESSION_TIMEOUT_MS)
    page = await context.new_page()
    start = time.perf_counter()
    await page.goto(url)
    await page.wait_for_selector(CONNECTED)
    rows = _metric_value(page, "Training rows")
    await rows.filter(has_text=expected["training_rows"]).wait_for()
    case_seconds = time.perf_counter() - start
    await page.locator('[data-testid="stSidebarNav"]').get_by_text("Skew audit").click()
    await _metric_value(page, "Features to fix").filter(has_text=expected["to_fix"]).wait_for()
    skew_seconds = time.perf_counter() - start
    return {"context": context, "case": case_seconds, "skew": skew_seconds}


def p95(values: list[float]) -> float:
    """The 95th percentile (linear interpolation, as numpy's default)."""
    import numpy as np

    return float(np.percentile(values, 95))


async def run_load(url: str, pid: int, expected: dict[str, str]) -> dict:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            rss_idle = server_rss(pid)
            first = await journey(browser, url, expected)  # cold: fills the server's caches
            await first["context"].close()
            await asyncio.sleep(3)  # the server drops the closed session
            rss_warm = server_rss(pid)
            one = await journey(browser, url, expected)
            await asyncio.sleep(2)  # let the server settle the session's last messages
            rss_one = server_rss(pid)
            await one["context"].close()
            started = time.perf_counter()
            crowd = await asyncio.gather(
                *(journey(browser, url, expected) for _ in range(SESSIONS))
            )
            wall = time.perf_counter() - started
            await asyncio.sleep(2)
            rss_crowd = server_rss(pid)
            for session in crowd:
                await session["context"].close()
        finally:
            await browser.close()
    return {
        "first": first,
        "crowd": crowd,
        "wall": wall,
        "rss_idle": rss_idle,
        "rss_warm": rss_warm,
        "rss_one": rss_one,
        "rss_crowd": rss_crowd,
    }


def _spread(seconds: list[float]) -> str:
    """p50 | p95 | max, as table cells."""
    return f"{statistics.median(seconds):.1f} | {p95(seconds):.1f} | {max(seconds):.1f}"


def _per_session_words(per_session_mib: float) -> str:
    if per_session_mib > 1:
        return f"Each extra session costs the server about {per_session_mib:.0f} MiB."
    return (
        "An extra session costs the server less than resident memory can resolve here: RSS "
        "moves by tens of MiB as the allocator hands back the working memory of the first "
        "session's audits, more than 20 sessions add."
    )


def report(figures: dict) -> str:
    """The "Workshop load" section of docs/performance.md."""
    from _report import machine

    case = [s["case"] for s in figures["crowd"]]
    skew = [s["skew"] for s in figures["crowd"]]
    per_session = (figures["rss_crowd"] - figures["rss_one"]) / (SESSIONS - 1) / MIB
    first = figures["first"]
    return f"""
## Workshop load

{SESSIONS} participants at once on the bundled `card_fraud` sample: one `streamlit run` server,
one headless Chromium with a context (a session) per participant, all started together; each
opens the app on the Case page and goes to the Skew audit. `scripts/load_test`
(tests/load/test_load_sessions.py). Machine: {machine()}.

| what | p50 seconds | p95 seconds | max seconds |
| --- | ---: | ---: | ---: |
| page open to the Case page's first number | {_spread(case)} |
| page open to the skew audit's first number | {_spread(skew)} |

All {len(figures["crowd"])} sessions completed their journey ({figures["wall"]:.1f} s for the
crowd). The 20 browsers run on the same cores as the server, so these times include drawing 20
pages at once. The first session, alone beforehand, paid for loading the case and running the audits
once: {first["case"]:.1f} s to the Case page's numbers, {first["skew"]:.1f} s to the skew audit's.

| server resident memory (streamlit and its children) | MiB |
| --- | ---: |
| started, no session | {figures["rss_idle"] / MIB:.0f} |
| after the first session, none open (caches filled) | {figures["rss_warm"] / MIB:.0f} |
| one session | {figures["rss_one"] / MIB:.0f} |
| {SESSIONS} sessions | {figures["rss_crowd"] / MIB:.0f} |
| per extra session: (RSS with {SESSIONS} - RSS with 1) / {SESSIONS - 1} | {per_session:.1f} |

{_per_session_words(per_session)}

The case, its overview and the skew audit (with its two baseline models) are cached once per
server with `st.cache_resource` and shared by every session, not copied per session; a session
holds its widget state and a reference to the shared case.
"""


def test_twenty_participants_at_once(tmp_path):
    require_browser()
    pytest.importorskip("psutil")
    from _report import write_section

    from prodready import samples, skew
    from prodready.overview import overview

    case = samples.load("card_fraud")
    frame = skew.audit(case, seed=0).to_frame()
    flagged = int(frame["severity"].isin(["high", "medium"]).sum())
    expected = {
        "training_rows": f"{overview(case, seed=0).numbers['training_rows']:,}",
        "to_fix": f"{flagged} of {len(frame)}",
    }
    with serve_app(tmp_path) as server:
        figures = asyncio.run(run_load(server.url, server.process.pid, expected))

    assert len(figures["crowd"]) == SESSIONS  # every participant saw the skew audit's number
    body = report(figures)
    print(body)
    write_section("workshop-load", body)
