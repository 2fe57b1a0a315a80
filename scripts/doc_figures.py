"""Draw the figures the docs show, as PNG files in docs/img/, from the bundled sample cases.

Every figure comes from ``prodready.charts``; the PNG is a screenshot of the figure's offline HTML
taken by Debian's Chromium through Playwright (no kaleido, no browser download).

    .venv/bin/python scripts/doc_figures.py          # all figures (several minutes: trains models)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from prodready import charts, decay, samples

OUT = Path(__file__).resolve().parent.parent / "docs" / "img"
CHROMIUM = "/usr/bin/chromium"


def _png(figures: dict[str, object]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as play:
        browser = play.chromium.launch(executable_path=CHROMIUM)
        page = browser.new_page(viewport={"width": 1100, "height": 620})
        for name, fig in figures.items():
            html = Path(tmp) / f"{name}.html"
            fig.write_html(html, include_plotlyjs=True, full_html=True)
            page.goto(html.as_uri())
            page.wait_for_selector(".main-svg")
            target = OUT / f"{name}.png"
            page.locator(".plotly-graph-div").screenshot(path=str(target))
            print(f"wrote {target.relative_to(OUT.parent.parent)}")
        browser.close()


def main() -> None:
    elec2 = samples.load("elec2")
    curve = decay.aging_curve(elec2, progress=lambda d, n: print(f"aging {d}/{n}", end="\r"))
    policies = decay.compare_policies(elec2)
    _png(
        {
            "elec2_aging_curve": charts.aging_curve(curve),
            "elec2_policy_timeline": charts.policy_timeline(policies),
            "elec2_policy_pareto": charts.policy_pareto(policies),
        }
    )


if __name__ == "__main__":
    sys.exit(main())
