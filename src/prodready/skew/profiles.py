"""Audit from saved profiles: a team sends profiles of its data instead of the data.

:func:`case_profiles` summarises a case the way the skew audit compares it on data left on disk
(:func:`prodready.skew.distribution.profile_sides`): the training data whole, on the reference
layouts (bins from training quantiles, training categories), and the serving log per calendar
month (UTC) of the case's timestamp. No row leaves: only counts per bin and per category,
moments (mean, sum of squares, extremes) and missing counts, with a small header (case name,
feature kinds, timestamp column, row counts). :func:`save_case_profiles` writes them as one
JSON file; :func:`load_case_profiles` reads and checks one from someone else.

:func:`audit_profiles` is the distribution part of :func:`prodready.skew.audit` from those
profiles alone: the same measures, Benjamini-Hochberg correction and grades (its grading
functions), the same months. Row-level skew, leakage, availability at prediction time and the
metric gap need the rows: they are not known here, and the result says so.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from prodready.case import Case
from prodready.engine.layout import CategoricalLayout
from prodready.engine.profile import ProfileSet
from prodready.engine.store import document_bytes, parse_document, write_document
from prodready.errors import DataError, ParameterError, ProdreadyError
from prodready.results import Finding, most_severe_first, to_json
from prodready.skew.audit import _adjust_pvalues, _feature_text, _grade, _missing
from prodready.skew.distribution import (
    ALL_COLUMNS,
    FeatureDrift,
    ProfiledSides,
    _no_months,
    profile_sides,
)
from prodready.skew.thresholds import Thresholds

__all__ = [
    "CaseProfiles",
    "ProfileAudit",
    "audit_profiles",
    "case_profiles",
    "case_profiles_bytes",
    "load_case_profiles",
    "read_case_profiles",
    "save_case_profiles",
]

FORMAT = "prodready-case-profiles"
VERSION = 1
KINDS = ("numeric", "categorical")
FRAME_COLUMNS = [
    "kind",
    *ALL_COLUMNS,
    "missing_train",
    "missing_serving",
    "severity",
    "problem",
    "note",
]
NOT_KNOWN = (
    "Audited from profiles only: row-level skew (the same event logged with different values), "
    "leakage, availability at prediction time and the production metric gap need the rows and "
    "are not known here; run `prodready audit skew` where the data is for them."
)
_FIX = (
    "ask for the file again, made with `prodready profile --case case.yaml --out "
    "profiles.json.gz` (or prodready.skew.profiles.save_case_profiles)"
)


@dataclass(frozen=True)
class CaseProfiles:
    """What a team sends instead of its data: the header and both data sets' profiles.

    ``training``: the whole training data on the reference layouts; ``serving``: the serving
    log per calendar month (``sides.serving``); ``kinds``: every feature -> numeric or
    categorical. ``sides`` also holds, per feature, what was decided from the data without a
    profile (absent from a data set, empty) and training's notes.
    """

    case_name: str
    timestamp: str
    training_rows: int
    serving_rows: int
    sides: ProfiledSides = field(repr=False)

    @property
    def kinds(self) -> dict[str, str]:
        return dict(self.sides.kinds)

    @property
    def training(self) -> ProfileSet | None:
        return self.sides.training

    @property
    def serving(self) -> ProfileSet | None:
        return self.sides.serving

    @property
    def months(self) -> list[pd.Timestamp]:
        """The serving months profiled, in order."""
        serving = self.sides.serving
        return [g for g in serving.groups if g is not None] if serving is not None else []

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: the header, the features and both profile sets."""
        sides = self.sides
        features = []
        for name, kind in sides.kinds.items():
            drift = sides.unprofiled.get(name)
            entry: dict[str, Any] = {"name": name, "kind": kind}
            if drift is None:
                entry |= {
                    "profiled": True,
                    "note": sides.notes.get(name, ""),
                    "missing_train": _number(sides.missing_train.get(name)),
                }
            else:
                entry |= {
                    "profiled": False,
                    "note": drift.note,
                    "usable": drift.usable,
                    "missing_train": _number(drift.missing_train),
                    "missing_serving": _number(drift.missing_serving),
                }
            features.append(entry)
        return {
            "case": self.case_name,
            "timestamp": self.timestamp,
            "training_rows": self.training_rows,
            "serving_rows": self.serving_rows,
            "features": features,
            "training": None if sides.training is None else sides.training.to_dict(),
            "serving": None if sides.serving is None else sides.serving.to_dict(),
        }


def case_profiles(
    case: Case, *, progress: Callable[[float, str], None] | None = None
) -> CaseProfiles:
    """The profiles of ``case`` for :func:`audit_profiles`: from the frames (numpy engine), or
    from every row of the files of a case loaded with ``lazy=True``. ``progress(fraction,
    message)`` is told as the training data and the serving log (each file) are profiled."""
    if not isinstance(case, Case):
        raise ParameterError("case_profiles needs a Case", found=type(case).__name__)
    sides = profile_sides(case, progress=progress)
    # a feature absent from one data set: its missing rate in the other, as the skew audit
    # counts it (on the frame in memory)
    unprofiled = {}
    for name, drift in sides.unprofiled.items():
        rates = _missing(case, name, drift)
        unprofiled[name] = replace(drift, **rates)
    sides = replace(sides, unprofiled=unprofiled)
    training = case.training_source
    serving = case.serving_source
    return CaseProfiles(
        case_name=case.name,
        timestamp=case.columns.timestamp,
        training_rows=training.rows if training is not None else len(case.training),
        serving_rows=serving.rows if serving is not None else len(case.serving),
        sides=sides,
    )


def save_case_profiles(profiles: CaseProfiles, path: str | Path) -> Path:
    """Write ``profiles`` to ``path`` as one JSON file (gzip when it ends with ``.gz``),
    atomically; returns the path."""
    _require_profiles(profiles, "save_case_profiles")
    return write_document(profiles.to_dict(), path, fmt=FORMAT, version=VERSION)


def case_profiles_bytes(profiles: CaseProfiles, *, compress: bool = True) -> bytes:
    """The bytes :func:`save_case_profiles` writes (gzip-compressed unless ``compress`` is
    False), for a download."""
    _require_profiles(profiles, "case_profiles_bytes")
    return document_bytes(profiles.to_dict(), fmt=FORMAT, version=VERSION, compress=compress)


def load_case_profiles(path: str | Path) -> CaseProfiles:
    """Read a file written by :func:`save_case_profiles`. A missing, foreign, corrupt or
    inconsistent file raises one :class:`~prodready.errors.DataError` naming the file, what is
    wrong and how to fix it (the file may come from someone else: it is checked, never run)."""
    try:
        raw = Path(path).read_bytes()
    except OSError as err:
        raise DataError(
            f"cannot read the case profiles file ({err.strerror})",
            where=str(path),
            fix="check the path",
        ) from err
    return read_case_profiles(raw, where=str(path))


def read_case_profiles(raw: bytes, *, where: str = "the uploaded file") -> CaseProfiles:
    """:func:`load_case_profiles` on the file's bytes (an upload); ``where`` names it in
    messages."""
    document = parse_document(
        raw, where=where, fmt=FORMAT, version=VERSION, what="case profiles file", fix=_FIX
    )
    try:
        return _from_document(document)
    except ProdreadyError as err:
        raise DataError(f"is damaged: {err.problem}", where=where, fix=_FIX) from err
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise DataError(
            "is damaged",
            where=where,
            found=f"{type(err).__name__}: {err}",
            fix=_FIX,
        ) from err


def _require_profiles(profiles: Any, what: str) -> None:
    if not isinstance(profiles, CaseProfiles):
        raise ParameterError(
            f"{what} needs case profiles",
            found=type(profiles).__name__,
            fix="pass case_profiles(case) or load_case_profiles(path)",
        )


def _from_document(document: dict[str, Any]) -> CaseProfiles:
    case_name = _text(document["case"], "case")
    timestamp = _text(document["timestamp"], "timestamp")
    training_rows = _count(document["training_rows"], "training_rows")
    serving_rows = _count(document["serving_rows"], "serving_rows")
    training = _profile_set(document["training"], "training")
    serving = _profile_set(document["serving"], "serving")
    if (training is None) != (serving is None):
        raise DataError("it holds the profiles of one data set only")
    entries = document["features"]
    if not isinstance(entries, list) or not entries:
        raise DataError("'features' must be a non-empty list")
    kinds: dict[str, str] = {}
    notes: dict[str, str] = {}
    missing_train: dict[str, float] = {}
    unprofiled: dict[str, FeatureDrift] = {}
    empty = {c: float("nan") for c in ALL_COLUMNS}
    for entry in entries:
        name = _text(entry["name"], "a feature's name")
        if name in kinds:
            raise DataError(f"feature {name!r} is listed twice")
        kind = entry["kind"]
        if kind not in KINDS:
            raise DataError(f"feature {name!r} has kind {kind!r}, not numeric or categorical")
        kinds[name] = kind
        note = _text(entry.get("note", ""), f"the note of {name!r}", empty_ok=True)
        if entry["profiled"] is True:
            notes[name] = note
            missing_train[name] = _share(entry["missing_train"], f"missing_train of {name!r}")
        else:
            unprofiled[name] = FeatureDrift(
                empty,
                _no_months(),
                note,
                usable=bool(entry.get("usable", True)),
                missing_serving=_share_or_none(entry.get("missing_serving"), name),
                missing_train=_share_or_none(entry.get("missing_train"), name),
            )
    _check_profiled(kinds, unprofiled, training, serving)
    sides = ProfiledSides(kinds, training, serving, missing_train, notes, unprofiled)
    return CaseProfiles(case_name, timestamp, training_rows, serving_rows, sides)


def _check_profiled(
    kinds: dict[str, str],
    unprofiled: dict[str, FeatureDrift],
    training: ProfileSet | None,
    serving: ProfileSet | None,
) -> None:
    """The features said to be profiled are exactly those with profiles, on layouts the
    comparison can pair: training whole, serving per month, the same bins (a categorical
    serving layout may add labels after training's)."""
    profiled = [n for n in kinds if n not in unprofiled]
    have = list(serving.layouts) if serving is not None else []
    if sorted(profiled) != sorted(have):
        raise DataError(
            "the features said to be profiled are not those the serving profiles hold: "
            f"{', '.join(sorted(profiled)) or 'none'} against {', '.join(sorted(have)) or 'none'}"
        )
    if training is None or serving is None:
        return
    if training.groups != [None]:
        raise DataError("the training profiles must be of the whole training data")
    if None in serving.groups:
        raise DataError("the serving profiles must be per month (the whole log is their merge)")
    for name in profiled:
        if name not in training.layouts:
            raise DataError(f"feature {name!r} has no training profile")
        ref, cur = training.layouts[name], serving.layouts[name]
        if ref.kind != kinds[name]:
            raise DataError(f"feature {name!r} is {kinds[name]} but its layout is {ref.kind}")
        if isinstance(ref, CategoricalLayout):
            same = (
                cur.kind == "categorical"
                and tuple(cur.categories[: len(ref.categories)]) == tuple(ref.categories)
                and (cur.key == ref.key or (ref.complete and cur.complete))
            )
        else:
            same = cur.key == ref.key
        if not same:
            raise DataError(f"feature {name!r} has serving bins other than its training bins")
        for group in serving.groups:
            serving.column(name, group)  # every month holds every feature


def _profile_set(data: Any, what: str) -> ProfileSet | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        raise DataError(f"'{what}' must be a profile set (a JSON object)")
    try:
        return ProfileSet.from_dict(data)
    except ProdreadyError as err:
        raise DataError(f"the {what} profiles: {err.problem}") from err


def _text(value: Any, what: str, *, empty_ok: bool = False) -> str:
    if not isinstance(value, str) or not (value or empty_ok):
        raise DataError(f"{what} must be a text, found {value!r}")
    return value


def _count(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise DataError(f"'{what}' must be a whole number of rows, found {value!r}")
    return value


def _share(value: Any, what: str) -> float:
    if value is None:
        return float("nan")
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise DataError(f"{what} must be a share between 0 and 1, found {value!r}")
    return float(value)


def _share_or_none(value: Any, name: str) -> float | None:
    return None if value is None else _share(value, f"a missing share of {name!r}")


def _number(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


# --------------------------------------------------------------------------------------------
# The audit


@dataclass(frozen=True)
class ProfileAudit:
    """Result of :func:`audit_profiles`. ``features``: one row per feature, most severe first
    (the distribution columns of the skew audit's table, severity, problem and note);
    ``by_month``: feature, month, psi, js_distance, rows."""

    case_name: str
    features: pd.DataFrame = field(repr=False)
    by_month: pd.DataFrame = field(repr=False)
    thresholds: Thresholds = field(repr=False)
    training_rows: int
    serving_rows: int
    months: tuple[pd.Timestamp, ...] = ()
    not_known: str = NOT_KNOWN

    def to_frame(self) -> pd.DataFrame:
        """One row per feature, index = feature name, most severe first."""
        return self.features

    def summary(self) -> list[Finding]:
        """Plain-language findings, most severe first."""
        return most_severe_first(_findings(self))

    def to_dict(self) -> dict[str, Any]:
        return to_json(
            {
                "case": self.case_name,
                "training_rows": self.training_rows,
                "serving_rows": self.serving_rows,
                "months": list(self.months),
                "features": self.features,
                "by_month": self.by_month,
                "thresholds": self.thresholds.to_dict(),
                "not_known": self.not_known,
                "summary": [f.to_dict() for f in self.summary()],
            }
        )


def audit_profiles(
    profiles: CaseProfiles, *, thresholds: Thresholds | Mapping[str, Any] | None = None
) -> ProfileAudit:
    """The distribution part of :func:`prodready.skew.audit` from ``profiles`` alone: its
    measures, p-values corrected across features, missing rates, months, and severity graded by
    its rules with the measures profiles cannot give left out (row mismatch, leakage,
    availability: see ``ProfileAudit.not_known``)."""
    _require_profiles(profiles, "audit_profiles")
    bands = Thresholds.from_value(thresholds)
    names = list(profiles.kinds)
    unknown = sorted(set(bands.features) - set(names))
    if unknown:
        raise ParameterError(
            f"thresholds name feature(s) the profiles do not have: {', '.join(unknown)}",
            expected=f"features of the profiles: {', '.join(names)}",
            fix="correct the feature names under 'features' in the thresholds",
        )
    drifts = profiles.sides.drift()
    records, months = [], []
    for name, kind in profiles.kinds.items():
        drift = drifts[name]
        record: dict[str, Any] = {"feature": name, "kind": kind, **drift.values}
        record["missing_train"] = _rate(drift.missing_train)
        record["missing_serving"] = _rate(drift.missing_serving)
        record["note"] = drift.note
        records.append(record)
        if len(drift.by_month):
            months.append(drift.by_month.assign(feature=name))
    table = pd.DataFrame(records).set_index("feature")
    _adjust_pvalues(table)
    graded = [_grade(name, _gradable(row), bands) for name, row in table.iterrows()]
    table["severity"], table["problem"] = zip(*graded, strict=True)
    order = table["severity"].map({"high": 0, "medium": 1, "low": 2, "none": 3})
    table = table.assign(_order=order, _psi=table["psi"].fillna(-1))
    table = table.sort_values(["_order", "_psi"], ascending=[True, False], kind="stable")
    columns = ["feature", "month", "psi", "js_distance", "rows"]
    by_month = (
        pd.concat(months, ignore_index=True)[columns] if months else pd.DataFrame(columns=columns)
    )
    return ProfileAudit(
        case_name=profiles.case_name,
        features=table[FRAME_COLUMNS],
        by_month=by_month,
        thresholds=bands,
        training_rows=profiles.training_rows,
        serving_rows=profiles.serving_rows,
        months=tuple(profiles.months),
    )


def _rate(value: float | None) -> float:
    return float("nan") if value is None else float(value)


def _gradable(row: pd.Series) -> pd.Series:
    """The row as the skew audit's grading reads it, with what profiles cannot know neutral:
    no row mismatch measured, no leakage or unavailability declared or suspected."""
    known = {
        "row_mismatch_rate": float("nan"),
        "unit_hint": "",
        "available_at_prediction": True,
        "leakage_suspect": False,
        "availability_lag": "",
    }
    return pd.concat([row, pd.Series(known, dtype=object)])


def _findings(result: ProfileAudit) -> list[Finding]:
    table = result.features
    span = ""
    if result.months:
        first, last = result.months[0], result.months[-1]
        span = f" over {len(result.months)} month(s), {first:%b %Y} to {last:%b %Y}"
    findings = [
        Finding(
            "info",
            f"From the profiles of {result.training_rows:,} training rows and "
            f"{result.serving_rows:,} serving rows{span}; no row was read.",
        ),
        Finding("info", result.not_known),
    ]
    for name, row in table[table["severity"].isin(["high", "medium"])].iterrows():
        findings.append(Finding(row["severity"], _feature_text(name, _gradable(row), "")))
    high = result.thresholds.psi[2]
    shifted = table[table["psi"] >= high]
    if len(shifted):
        findings.append(
            Finding(
                "info",
                f"{len(shifted)} of {len(table)} features shift beyond PSI {high:g} between "
                f"training and serving: {', '.join(shifted.index[:8])}.",
            )
        )
    for name, note in table["note"].items():
        if note:
            findings.append(Finding("info", f"{name}: {note}."))
    return findings
