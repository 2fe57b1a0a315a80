"""Monitors as a portable YAML file a team can take to its own monitoring stack, and back.

The file (``format: prodready-monitors/1``) lists each monitor with its name, family, series,
target, rule, direction and window, and the numbers the rule needs: ``threshold`` for a threshold
rule; ``center`` and ``sd`` (from the reference) with ``smoothing`` and ``limit_sd`` for an EWMA
and with ``allowance_sd`` and ``decision_sd`` for a CUSUM. ``limits`` spells the rule out in the
series' own units for a reader (EWMA: the steady-state limits ``center +/- limit_sd * sd *
sqrt(smoothing / (2 - smoothing))``; CUSUM: ``allowance`` K and ``decision_interval`` H); it is
derived, so :func:`load_monitors` checks it is a mapping and otherwise ignores it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from prodready.errors import ParameterError
from prodready.files import write_atomic
from prodready.monitoring.rules import Monitor

__all__ = ["FORMAT", "export_monitors", "load_monitors"]

FORMAT = "prodready-monitors/1"
_FIELDS = tuple(Monitor.__dataclass_fields__)
_REQUIRED = ("name", "family", "series", "target", "rule")
_NUMBERS = ("threshold", "smoothing", "limit_sd", "allowance_sd", "decision_sd", "center", "sd")
_TEXTS = ("name", "family", "series", "target", "rule", "direction", "window")


def _entry(monitor: Monitor) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": monitor.name,
        "family": monitor.family,
        "series": monitor.series,
        "target": monitor.target,
        "rule": monitor.rule,
        "direction": monitor.direction,
        "window": monitor.window,
    }
    if monitor.rule == "threshold":
        entry["threshold"] = float(monitor.threshold)
        return entry
    if monitor.center is not None:
        entry["center"] = float(monitor.center)
    if monitor.sd is not None:
        entry["sd"] = float(monitor.sd)
    if monitor.rule == "ewma":
        entry["smoothing"] = float(monitor.smoothing)
        entry["limit_sd"] = float(monitor.limit_sd)
        if monitor.center is not None and monitor.sd is not None:
            lam = monitor.smoothing
            width = monitor.limit_sd * monitor.sd * math.sqrt(lam / (2 - lam))
            limits = {}
            if monitor.direction in ("below", "both"):
                limits["lower"] = float(monitor.center - width)
            if monitor.direction in ("above", "both"):
                limits["upper"] = float(monitor.center + width)
            entry["limits"] = limits
    else:
        entry["allowance_sd"] = float(monitor.allowance_sd)
        entry["decision_sd"] = float(monitor.decision_sd)
        if monitor.sd is not None:
            entry["limits"] = {
                "allowance": float(monitor.allowance_sd * monitor.sd),
                "decision_interval": float(monitor.decision_sd * monitor.sd),
            }
    return entry


def export_monitors(monitors, path: str | Path) -> Path:
    """Write ``monitors`` (a list of :class:`Monitor`, or a :class:`MonitoringReplay`, whose
    monitors carry the centre and spread taken from its reference) to ``path`` as YAML.

    The file is written to a temporary name beside ``path`` and renamed, so a reader never sees
    half a file. Returns the path.
    """
    if hasattr(monitors, "monitors") and not isinstance(monitors, Sequence):
        monitors = monitors.monitors
    monitors = list(monitors)
    for monitor in monitors:
        if not isinstance(monitor, Monitor):
            raise ParameterError(
                "only Monitor objects can be exported",
                where="monitors",
                found=type(monitor).__name__,
            )
    document = {"format": FORMAT, "monitors": [_entry(m) for m in monitors]}
    text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    return write_atomic(target, text)


def load_monitors(path: str | Path) -> list[Monitor]:
    """Read monitors written by :func:`export_monitors` (or by hand in the same form).

    Every entry is checked: a clear :class:`~prodready.errors.ParameterError` names the file, the
    entry (its position and name) and the key that is missing, unknown or of the wrong type.
    """
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ParameterError(
            "the monitors file does not exist",
            where=str(source),
            fix="check the path; export_monitors(monitors, PATH) writes one",
        ) from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f", line {mark.line + 1}" if mark is not None else ""
        raise ParameterError(
            "the monitors file is not valid YAML",
            where=f"{source}{line}",
            found=str(getattr(exc, "problem", None) or exc),
            fix="check indentation (spaces, not tabs) and the 'key: value' pairs",
        ) from None
    if not isinstance(document, dict) or not isinstance(document.get("monitors"), list):
        raise ParameterError(
            "the monitors file does not list monitors",
            where=str(source),
            expected=f"a mapping with format: {FORMAT} and monitors: a list of monitors",
            found=type(document).__name__ if not isinstance(document, dict) else "no list",
        )
    version = document.get("format", FORMAT)
    if version != FORMAT:
        raise ParameterError(
            "unknown monitors file format",
            where=str(source),
            expected=FORMAT,
            found=repr(version),
        )
    monitors = []
    for position, entry in enumerate(document["monitors"]):
        monitors.append(_monitor(entry, f"{source}, monitors[{position}]"))
    return monitors


def _monitor(entry: object, where: str) -> Monitor:
    if not isinstance(entry, dict):
        raise ParameterError(
            "a monitor entry must be a mapping of keys to values",
            where=where,
            found=repr(entry)[:80],
        )
    if "name" in entry:
        where = f"{where} ({entry['name']!r})"
    unknown = [k for k in entry if k not in (*_FIELDS, "limits")]
    if unknown:
        raise ParameterError(
            f"unknown key(s) {', '.join(map(repr, unknown))}",
            where=where,
            expected="keys among " + ", ".join((*_FIELDS, "limits")),
            fix="remove or correct the key",
        )
    missing = [k for k in _REQUIRED if k not in entry]
    if missing:
        raise ParameterError(
            f"missing key(s) {', '.join(map(repr, missing))}",
            where=where,
            expected="every monitor has " + ", ".join(_REQUIRED),
        )
    if "limits" in entry and not isinstance(entry["limits"], dict):
        raise ParameterError("limits must be a mapping", where=where, found=repr(entry["limits"]))
    values = {}
    for key, value in entry.items():
        if key == "limits":
            continue
        if key in _TEXTS and not isinstance(value, str):
            raise ParameterError(f"{key} must be text", where=where, found=f"{key}: {value!r}")
        if key in _NUMBERS and value is not None:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ParameterError(
                    f"{key} must be a number", where=where, found=f"{key}: {value!r}"
                )
            value = float(value)
        values[key] = value
    try:
        return Monitor(**values)
    except ParameterError as err:
        raise ParameterError(
            err.problem, where=where, expected=err.expected, found=err.found, fix=err.fix
        ) from None
