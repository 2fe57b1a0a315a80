"""``index.html``: one page listing every case of a batch with its status and headline numbers.

The page is self-contained (inline CSS, no script, nothing from the network) and every piece of
text that comes from a user (case names, paths, error messages, feature names) is escaped. The
headline numbers are read from each report's ``results.json``; what is missing shows as n/a.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from prodready.batch.runner import STAMP
from prodready.files import write_atomic
from prodready.report import EXECUTIVE_SUFFIX, PDF_FILE, RESULTS_FILE
from prodready.results import format_money

if TYPE_CHECKING:
    from prodready.batch.runner import CaseOutcome
    from prodready.batch.spec import Batch

NA = "n/a"
OUTCOME_WORDS = {"promoted": "promoted", "rolled_back": "rolled back", "held": "held"}

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#1f2933}
h1{font-size:1.5rem;margin-bottom:.25rem} p.meta{color:#52606d;margin-top:0}
table{border-collapse:collapse;width:100%} th,td{text-align:left;vertical-align:top;
padding:.5rem .6rem;border-bottom:1px solid #d9e2ec} th{background:#f0f4f8}
.status{font-weight:600;white-space:nowrap} .ok{color:#1b7a3a} .up-to-date{color:#2f6fb0}
.failed{color:#b42318} ul{margin:0;padding-left:1.1rem} li{margin:.1rem 0}
pre.error{white-space:pre-wrap;background:#fff4f2;border-left:3px solid #b42318;padding:.5rem;
margin:0 0 .3rem;font-size:.85rem} tr:has(+ tr.error-row) td{border-bottom:none}
.size{color:#7b8794;font-size:.85rem} dl{margin:0} dt{font-weight:600} dd{margin:0 0 .3rem 0}
col.case{width:20%} col.status{width:8%} col.numbers{width:36%} col.reports{width:26%}
"""


def write_index(
    out: Path, outcomes: Sequence[CaseOutcome], *, batch: Batch, seconds: float
) -> Path:
    """Write ``out/index.html`` atomically and return its path."""
    return write_atomic(
        out / "index.html", render_index(out, outcomes, batch=batch, seconds=seconds)
    )


def render_index(
    out: Path, outcomes: Sequence[CaseOutcome], *, batch: Batch, seconds: float
) -> str:
    """The index page as text (links are relative to ``out``)."""
    import prodready

    counts = {s: sum(o.status == s for o in outcomes) for s in ("ok", "up to date", "failed")}
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    rows = "\n".join(_row(out, o) for o in outcomes)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>prodready batch: {len(outcomes)} cases</title>
<style>{_STYLE}</style>
</head>
<body>
<h1>prodready batch: {len(outcomes)} cases</h1>
<p class="meta">{escape(summary)}. Batch file {escape(str(batch.path))}, seed {batch.seed};
finished {escape(now)} UTC in {seconds:.1f} s; prodready {escape(prodready.__version__)}.</p>
<table>
<colgroup><col class="case"><col class="status"><col class="numbers"><col class="reports">
<col></colgroup>
<thead><tr><th>case</th><th>status</th><th>headline numbers</th><th>reports</th>
<th>run time</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
</body>
</html>
"""


def headlines(results: dict[str, Any] | None) -> dict[str, str]:
    """The few numbers an executive reads first, from a report's ``results.json`` content.

    Keys: ``production metric``, ``skew``, ``rollout``, ``ML Test Score``, ``top risk``; a value
    is ``n/a`` when the notebook that computes it did not run or wrote something unexpected.
    """
    found = (results or {}).get("results") or {}
    return {
        "production metric": _guard(_metric, found.get("case_overview")),
        "skew": _guard(_skew, found.get("skew_audit")),
        "rollout": _guard(_rollout, found.get("rollout_replay")),
        "ML Test Score": _guard(_ml_test_score, found.get("readiness")),
        "top risk": _guard(_top_risk, found.get("readiness")),
    }


# -- one row ------------------------------------------------------------------------------------
def _row(out: Path, outcome: CaseOutcome) -> str:
    status_class = outcome.status.replace(" ", "-")
    name = f"<strong>{escape(outcome.name)}</strong><br><span class=size>"
    name += f"{escape(str(outcome.case_path))}</span>"
    status = f'<span class="status {status_class}">{escape(outcome.status)}</span>'
    error = ""
    if outcome.error:  # a row of its own, the table's full width
        error = f'<pre class="error">{escape(outcome.error)}</pre>'
        if outcome.failed_file is not None:
            error += _link(out, outcome.failed_file, "the executed notebook, error marked")
        error = f'<tr class="error-row"><td colspan="5">{error}</td></tr>'
    folder = outcome.folder if outcome.folder is not None else out / outcome.slug
    has_report = (folder / STAMP).is_file()  # complete, and written by a batch
    numbers = _numbers(folder) if has_report and outcome.status != "failed" else ""
    reports = _reports(out, folder) if has_report else NA
    if outcome.status == "failed" and has_report:
        reports = "<p>previous complete report:</p>" + reports
    when = f"{outcome.seconds:.1f} s" if outcome.seconds else ""
    if outcome.finished:
        when += f"<br><span class=size>{escape(outcome.finished)}</span>"
    return (
        f"<tr><td>{name}</td><td>{status}</td><td>{numbers or NA}</td><td>{reports}</td>"
        f"<td>{when}</td></tr>{error}"
    )


def _numbers(folder: Path) -> str:
    try:
        data = json.loads((folder / RESULTS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = None
    items = "".join(
        f"<dt>{escape(label)}</dt><dd>{escape(value)}</dd>"
        for label, value in headlines(data if isinstance(data, dict) else None).items()
    )
    return f"<dl>{items}</dl>"


def _reports(out: Path, folder: Path) -> str:
    links = []
    for page in sorted(folder.glob("*.html")):
        if page.name.endswith(EXECUTIVE_SUFFIX):
            continue
        title = page.stem.replace("_", " ")
        item = _link(out, page, title)
        executive = folder / f"{page.stem}{EXECUTIVE_SUFFIX}"
        if executive.is_file():
            item += " · " + _link(out, executive, "executive")
        links.append(f"<li>{item}</li>")
    for extra, title in ((PDF_FILE, "executive summary (PDF)"), (RESULTS_FILE, "results.json")):
        if (folder / extra).is_file():
            links.append(f"<li>{_link(out, folder / extra, title)}</li>")
    return f"<ul>{''.join(links)}</ul>" if links else NA


def _link(out: Path, path: Path, title: str) -> str:
    href = "/".join(quote(part) for part in path.relative_to(out).parts)
    size = path.stat().st_size if path.is_file() else 0
    return f'<a href="{escape(href)}">{escape(title)}</a> <span class=size>{_size(size)}</span>'


def _size(size: int) -> str:
    if size >= 1 << 20:
        return f"{size / (1 << 20):.1f} MB"
    return f"{size / 1024:.0f} KB" if size >= 1024 else f"{size} B"


# -- headline numbers ---------------------------------------------------------------------------
def _guard(read: Any, data: Any) -> str:
    if not isinstance(data, dict):
        return NA
    try:
        return read(data) or NA
    except (KeyError, IndexError, TypeError, ValueError, AttributeError):
        return NA


def _number(value: Any, spec: str = ".3f") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NA
    return format(float(value), spec)


def _metric(overview: dict[str, Any]) -> str:
    head = overview["headline"][0]
    return (
        f"{head['label']} {_number(head['offline'])} offline vs "
        f"{_number(head['serving'])} in production"
    )


def _skew(audit: dict[str, Any]) -> str:
    features = audit["features"]
    problems = [f for f in features if f.get("severity") in ("high", "medium")]
    high = sum(f.get("severity") == "high" for f in problems)
    return f"{len(problems)} of {len(features)} features with problems ({high} high)"


def _rollout(replay: dict[str, Any]) -> str:
    outcome = OUTCOME_WORDS.get(replay["outcome"], str(replay["outcome"]))
    at_risk = replay.get("money", {}).get("at_risk")
    if at_risk is None:
        return outcome
    money = format_money(at_risk, replay.get("currency"))
    return f"{outcome}; {money} against keeping the champion alone"


def _ml_test_score(readiness: dict[str, Any]) -> str:
    card = readiness["scorecard"]
    return f"{card['ml_test_score']:g} of 7 (weakest: {card.get('weakest', NA)})"


def _top_risk(readiness: dict[str, Any]) -> str:
    risks = readiness["risks"]
    if not risks:
        return "none found"
    top = risks[0]
    money = top.get("money")
    text = f"{top['text']}"
    if money is not None:
        text = f"{format_money(money, top.get('currency'))}: {text}"
    return text
