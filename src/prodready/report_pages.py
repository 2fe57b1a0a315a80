"""HTML pages of executed notebooks: self-contained, offline, the same bytes on a rerun, and
ending with a footer that says what made them.

Plotly output must come from the ``notebook`` renderer (plotly.js inlined once per page).
External scripts are dropped (offline they would block the page) and plotly's random div ids
are numbered in page order. The footer escapes everything it shows.
"""

from __future__ import annotations

import copy
import functools
import html
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prodready.files import write_atomic

if TYPE_CHECKING:
    import nbformat

FOOTER_CLASS = "prodready-footer"


# External scripts nbconvert's lab template (require.js, MathJax) and plotly's notebook renderer
# (MathJax, one per figure) add. The report needs none of them; offline they would block the page.
_EXTERNAL_SCRIPT = re.compile(
    r"""<script\b[^>]*\bsrc\s*=\s*["']https?://[^"']*["'][^>]*>\s*</script>""", re.IGNORECASE
)


_PLOT_DIV = re.compile(r"<div\b[^>]*\bplotly-graph-div\b[^>]*>")


_ID_ATTRIBUTE = re.compile(r'\bid="([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"')


def to_html(nb: nbformat.NotebookNode, *, executive: bool = False, title: str | None = None) -> str:
    """A self-contained HTML page of an executed notebook.

    Plotly output must come from the ``notebook`` renderer (plotly.js inlined once). External
    scripts are dropped and plot ids made deterministic, so the page renders offline and the same
    run gives the same bytes. ``executive`` hides code, prompts and stderr (warnings).
    """
    import nbformat

    exporter = _exporter(executive)
    if executive:
        nb = _without_stderr(nb)
    resources = {"metadata": {"name": title}} if title else None
    body, _ = exporter.from_notebook_node(nbformat.from_dict(nb), resources=resources)
    return _deterministic_plot_ids(_EXTERNAL_SCRIPT.sub("", body))


@functools.cache
def _exporter(executive: bool) -> Any:
    """One HTML exporter per kind, kept: building one loads and compiles its Jinja templates
    (a fifth of a second, every page otherwise)."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab")
    if executive:
        exporter.exclude_input = True
        exporter.exclude_input_prompt = True
        exporter.exclude_output_prompt = True
    return exporter


class Footer:
    """The footer every HTML page ends with: what made the page, all text escaped."""

    def __init__(
        self, hashes: Mapping[str, str], parameters: Mapping[str, Any], seed: int, started: str
    ) -> None:
        import prodready

        self.version = prodready.__version__
        self.hashes = dict(hashes)
        self.parameters = {**parameters, "seed": seed}
        self.started = started

    def html(self, duration: float | None) -> str:
        hashes = ", ".join(
            f"<code>{digest[:12]}</code> {html.escape(name)}"
            for name, digest in self.hashes.items()
        )
        parameters = ", ".join(
            f"{html.escape(name)}={html.escape(json.dumps(value, ensure_ascii=False))}"
            for name, value in self.parameters.items()
        )
        took = f"{duration:.1f} s" if duration is not None else "running"
        return (
            f'<footer class="{FOOTER_CLASS}" style="margin:2em 1em 1em;padding-top:.5em;'
            'border-top:1px solid #ccc;color:#555;font:12px/1.5 sans-serif">'
            f"<div>Made by prodready {html.escape(self.version)}.</div>"
            f"<div>Data (sha256): {hashes}.</div>"
            f"<div>Parameters: {parameters} (other parameters: the notebooks' defaults).</div>"
            f"<div>Run started {html.escape(self.started)} UTC; run time "
            f'<span class="prodready-run-time">{took}</span>.</div>'
            "</footer>"
        )

    def add(self, page: str, duration: float | None = None) -> str:
        """The page with the footer just before ``</body>`` (or appended)."""
        at = page.rfind("</body>")
        footer = self.html(duration) + "\n"
        return page[:at] + footer + page[at:] if at >= 0 else page + footer


_RUN_TIME = re.compile(r'<span class="prodready-run-time">running</span>')


def finish_footers(pages: Sequence[Path], footer: Footer, duration: float) -> None:
    """Put the whole run's duration into the footers written while it was running."""
    done = f'<span class="prodready-run-time">{duration:.1f} s</span>'
    for page in pages:
        text = page.read_text(encoding="utf-8")
        at = text.rfind(f'<footer class="{FOOTER_CLASS}"')
        if at >= 0:
            text = text[:at] + _RUN_TIME.sub(done, text[at:], count=1)
            write_atomic(page, text)


def notebook_json(nb: nbformat.NotebookNode) -> str:
    import nbformat

    for cell in nb.cells:  # papermill gives its injected cell a random id; keep reruns alike
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            cell["id"] = "injected-parameters"
    return nbformat.writes(nb)


def _without_stderr(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            cell["outputs"] = [
                o
                for o in cell.get("outputs", [])
                if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
            ]
    return nb


def _deterministic_plot_ids(html: str) -> str:
    """Replace plotly's random div ids (uuid4) by ``plot-1``, ``plot-2``... in page order."""
    ids = [m.group(1) for div in _PLOT_DIV.findall(html) if (m := _ID_ATTRIBUTE.search(div))]
    for number, plot_id in enumerate(dict.fromkeys(ids), start=1):
        html = html.replace(plot_id, f"plot-{number}")
    return html
