"""Print an HTML report page to PDF with the Chromium installed on the machine.

Chromium draws the page exactly as a reader's browser does, plotly figures included (their
JavaScript runs during a virtual time budget before printing), so no second rendering path
(kaleido, static images) is needed. Nothing is downloaded: a machine without Chromium gets one
clear error saying how to install it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from prodready.errors import ProdreadyError

CHROMIUM_ENV = "PRODREADY_CHROMIUM"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
VIRTUAL_TIME_MS = 20_000  # page time Chromium grants scripts (plotly) before printing
# A4 less 12 mm margins is 186 mm, about 703 CSS pixels: the window Chromium lays the page out
# in, so plotly sizes its figures to what the paper holds instead of cutting them off.
PRINT_WIDTH_PX = 703
PRINT_STYLE = """<style media="print">
@page { size: A4; margin: 12mm; }
.modebar-container { display: none !important; }
.jp-RenderedHTMLCommon table { width: 100%; table-layout: auto; font-size: 8.5pt; }
.jp-RenderedHTMLCommon td, .jp-RenderedHTMLCommon th { padding: 2px 4px; }
.plotly-graph-div, .jp-RenderedHTMLCommon tr { break-inside: avoid; }
</style>
"""


def find_chromium() -> str:
    """The Chromium to print with: ``$PRODREADY_CHROMIUM``, else the first one on the PATH."""
    override = os.environ.get(CHROMIUM_ENV, "").strip()
    if override:
        found = shutil.which(override)
        if found is None:
            raise ProdreadyError(
                f"{CHROMIUM_ENV} names no program that can run",
                where=CHROMIUM_ENV,
                found=override,
                fix=f"set {CHROMIUM_ENV} to the path of a Chromium or Chrome executable, or "
                "unset it to use the chromium on the PATH",
            )
        return found
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found is not None:
            return found
    raise ProdreadyError(
        "no Chromium to print the PDF with",
        expected=f"one of {', '.join(CHROMIUM_NAMES)} on the PATH, or {CHROMIUM_ENV} set",
        fix="install it (Debian/Ubuntu: sudo apt-get install chromium), or skip the PDF "
        "(run_report(..., pdf=False))",
    )


def html_to_pdf(html: Path, pdf: Path, *, timeout: float = 120) -> Path:
    """Print ``html`` to ``pdf`` (A4-ish, backgrounds on, no browser header or footer).

    Written to a temporary file beside ``pdf`` and renamed, so a failed print leaves no
    half-written PDF.
    """
    html, pdf = Path(html).resolve(), Path(pdf)
    if not html.is_file():
        raise ProdreadyError(
            "the page to print does not exist", where=str(html), fix="run the report first"
        )
    chromium = find_chromium()
    pdf.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=".prodready-", suffix=".pdf", dir=pdf.parent)
    os.close(fd)
    temp = Path(temp_name)
    with tempfile.TemporaryDirectory(prefix="prodready-chromium-") as profile:
        page = Path(profile) / "print.html"  # the page with its print styles, beside nothing
        page.write_text(_for_print(html.read_text(encoding="utf-8")), encoding="utf-8")
        command = [
            chromium,
            "--headless",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            f"--user-data-dir={profile}",  # never touch the user's own profile, run alongside
            "--run-all-compositor-stages-before-draw",
            f"--virtual-time-budget={VIRTUAL_TIME_MS}",
            "--no-pdf-header-footer",
            f"--window-size={PRINT_WIDTH_PX},1000",
            f"--print-to-pdf={temp}",
            page.as_uri(),
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.insert(1, "--no-sandbox")  # Chromium refuses to run as root with it
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            temp.unlink(missing_ok=True)
            raise ProdreadyError(
                f"Chromium did not print the PDF within {timeout:g} s",
                where=str(html),
                fix="try again on a less busy machine, or skip the PDF",
            ) from None
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
    if done.returncode != 0 or temp.stat().st_size == 0:
        temp.unlink(missing_ok=True)
        last = (done.stderr or "").strip().splitlines()[-3:]
        raise ProdreadyError(
            "Chromium could not print the PDF",
            where=str(html),
            found=f"exit code {done.returncode}: {' | '.join(last) or 'no message'}",
            fix="check that Chromium starts (chromium --headless --version); or skip the PDF",
        )
    os.chmod(temp, 0o644)
    os.replace(temp, pdf)
    return pdf


def _for_print(page: str) -> str:
    """The page with :data:`PRINT_STYLE` (paper size, no plotly toolbar, tables that fit)."""
    head_end = page.lower().find("</head>")
    if head_end < 0:
        return PRINT_STYLE + page
    return page[:head_end] + PRINT_STYLE + page[head_end:]
