"""What every result shares: plain-language findings and JSON-safe conversion."""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

import numpy as np
import pandas as pd

Severity = Literal["info", "low", "medium", "high"]
SEVERITY_ORDER: dict[str, int] = {"high": 0, "medium": 1, "low": 2, "info": 3}


@dataclass(frozen=True)
class Finding:
    """One sentence a team can act on, with how much it matters and, where it applies, money."""

    severity: Severity
    text: str
    money: float | None = None
    currency: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "text": self.text,
            "money": to_json(self.money),
            "currency": self.currency,
        }


def most_severe_first(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: SEVERITY_ORDER[f.severity])


def to_json(value: Any) -> Any:
    """Convert numpy/pandas values (and containers of them) to JSON-safe Python.

    NaN and missing values become ``None``; timestamps become ISO 8601 strings; frames become a
    list of records.
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, pd.DataFrame):
        return to_json(value.reset_index().to_dict(orient="records"))
    if isinstance(value, pd.Series):
        return to_json(value.to_dict())
    if isinstance(value, pd.Timestamp | datetime | date):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, pd.Timedelta | timedelta):
        return None if pd.isna(value) else pd.Timedelta(value).isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if value is pd.NA or value is pd.NaT:
        return None
    return value


# CommonMark lets a backslash escape any ASCII punctuation; these are the ones that make markup
# (links, emphasis, code, headings, lists, tables, maths with $ in Jupyter's renderer, and the
# ":" of a bare URL, which the renderer would otherwise turn into a link).
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$:])")


def markdown_text(text: object) -> str:
    """``text`` (a name or sentence that may hold user data) for a Markdown cell, shown exactly
    as written and never as markup: ``<``, ``>`` and ``&`` become HTML entities and Markdown's
    punctuation is backslash-escaped, so a column named ``<script>`` or ``[x](javascript:...)``
    stays text, and ``$`` is not read as maths. Escape each piece of user text, then add your
    own markup around it."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", html.escape(str(text), quote=False))


def format_money(amount: float, currency: str | None = None) -> str:
    """``USD -12,345`` style: currency code, sign, thousands separators, no cents above 100."""
    if amount is None or (isinstance(amount, float) and math.isnan(amount)):
        return "n/a"
    digits = 0 if abs(amount) >= 100 else 2
    text = f"{amount:,.{digits}f}"
    return f"{currency} {text}" if currency else text


def format_duration(value: timedelta | None) -> str:
    """A duration as people write it: ``1d``, ``6h``, ``1d 6h``, ``30min``; empty when none."""
    if value is None:
        return ""
    c = pd.Timedelta(value).components
    parts = [(c.days, "d"), (c.hours, "h"), (c.minutes, "min"), (c.seconds, "s")]
    return " ".join(f"{amount}{unit}" for amount, unit in parts if amount) or "0s"
