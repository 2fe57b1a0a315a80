"""The label-free estimate on a case, as a result the app, notebooks, CLI and reports share.

A case's training set carries no served scores, so the calibration cannot be fitted there. The
reference is the start of the serving log instead: the labelled serving rows of its first
``reference_months`` calendar months (UTC), whose labels have had the most time to arrive. The
analysis is every serving row after them, cut into periods (``chunk``, calendar months by default).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from prodready.case import Case
from prodready.errors import DataError, ParameterError
from prodready.estimate.cbpe import performance
from prodready.results import Finding, most_severe_first, to_json

__all__ = ["PerformanceEstimate", "estimate_case"]

FEW_LABELS_SHARE = 0.5
"""A chunk with labels on fewer than this share of its rows is "waiting for labels"."""


@dataclass(frozen=True)
class PerformanceEstimate:
    """Result of :func:`estimate_case`: the per-chunk table of
    :func:`prodready.estimate.performance` (``to_frame()``) and how it was made."""

    case_name: str
    score: str
    label: str
    threshold: float
    chunk: str
    reference_start: pd.Timestamp | None
    reference_end: pd.Timestamp | None
    reference_rows: int
    reference_positive_rate: float
    assumptions: tuple[str, ...]
    table: pd.DataFrame = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """One row per chunk (columns: :data:`prodready.estimate.cbpe.COLUMNS`)."""
        return self.table

    def summary(self) -> list[Finding]:
        """Plain-language findings, most severe first: chunks whose estimate is not to be
        trusted, the largest gap between estimate and realised, and where labels are still
        missing, what the estimate says there."""
        return most_severe_first(_findings(self))

    def to_dict(self) -> dict[str, Any]:
        return to_json(
            {
                "case": self.case_name,
                "score": self.score,
                "label": self.label,
                "threshold": self.threshold,
                "chunk": self.chunk,
                "reference_start": self.reference_start,
                "reference_end": self.reference_end,
                "reference_rows": self.reference_rows,
                "reference_positive_rate": self.reference_positive_rate,
                "assumptions": list(self.assumptions),
                "table": self.table.to_dict(orient="records"),
                "summary": [f.to_dict() for f in self.summary()],
            }
        )


def estimate_case(
    case: Case,
    *,
    chunk: int | str = "MS",
    reference: pd.DataFrame | None = None,
    reference_months: int = 1,
    features: Sequence[str] | None = None,
) -> PerformanceEstimate:
    """Label-free performance estimate over a binary case's serving log.

    score = ``columns.prediction``, label = ``columns.label``, threshold = ``business.threshold``
    (0.5 without a business section), chunks cut on ``columns.timestamp``. ``reference=None``:
    the labelled serving rows of the first ``reference_months`` calendar months (UTC) of the
    serving log; the analysis is every serving row from the next month on. A ``reference`` frame
    (with the case's score and label columns) replaces that, and the analysis is then the whole
    serving log. ``features``: columns watched for drift (trust check b); ``None`` = every feature
    of the case with its declared type (except one the reference holds fewer than 2 values of);
    ``[]`` = none.
    """
    if not isinstance(case, Case):
        raise ParameterError(
            "estimate_case needs a case",
            where="case",
            found=type(case).__name__,
            fix="load one with prodready.load_case(PATH) or prodready.samples.load()",
        )
    case.require_whole_log("label-free estimate")
    if case.task != "binary":
        raise ParameterError(
            "the label-free estimate works on calibrated probabilities, so it needs a binary "
            f"case; {case.name!r} is a {case.task} case",
            where="case task",
            expected="task: binary",
            found=f"task: {case.task}",
        )
    if (
        isinstance(reference_months, bool)
        or not isinstance(reference_months, numbers.Integral)
        or reference_months < 1
    ):
        raise ParameterError(
            "reference_months must be a whole number of 1 or more",
            where="reference_months",
            found=repr(reference_months),
        )
    cols = case.columns
    serving = case.serving
    times = serving[cols.timestamp]
    if reference is None:
        utc = times.dt.tz_convert("UTC") if times.dt.tz is not None else times
        first = utc.min()
        start = pd.Timestamp(first.year, first.month, 1, tz=utc.dt.tz)
        end = start + pd.DateOffset(months=int(reference_months))
        in_reference = (utc < end).to_numpy()
        ref = serving[in_reference & serving[cols.label].notna().to_numpy()]
        analysis = serving[~in_reference]
        if ref.empty:
            raise DataError(
                "no serving row of the reference period has a label yet",
                where=f"{case.name}, serving log, column {cols.label!r}",
                expected=f"labelled rows from {start:%Y-%m-%d} to {end:%Y-%m-%d}",
                fix="take a longer reference period (reference_months=...) or pass a labelled "
                "reference frame",
            )
        if analysis.empty:
            span = f"{utc.min():%Y-%m-%d} to {utc.max():%Y-%m-%d}"
            raise DataError(
                f"the serving log ends within the reference period, so nothing is left to "
                f"estimate (it spans {span})",
                where=f"{case.name}, serving log",
                expected=f"serving rows after {end:%Y-%m-%d}: at least {reference_months + 1} "
                "calendar months of serving log in all",
                fix="use a shorter reference period (reference_months=1) or a longer log",
            )
        ref_start, ref_end = start, end
    else:
        ref, analysis = reference, serving
        ref_start = ref_end = None
    feature_kinds: Mapping[str, str]
    if features is None:  # every feature the reference has values of (drift needs 2 or more)
        feature_kinds = {
            f.name: f.type
            for f in case.features
            if f.name in ref.columns and int(ref[f.name].notna().sum()) >= 2
        }
    else:
        types = {f.name: f.type for f in case.features}
        feature_kinds = {f: types.get(f, "numeric") for f in features}
    threshold = case.business.threshold if case.business is not None else 0.5
    table = performance(
        ref,
        analysis,
        score=cols.prediction,
        label=cols.label,
        threshold=threshold,
        chunk=chunk,
        timestamp=cols.timestamp,
        features=dict(feature_kinds),
    )
    return PerformanceEstimate(
        case_name=case.name,
        score=cols.prediction,
        label=cols.label,
        threshold=float(threshold),
        chunk=str(chunk),
        reference_start=ref_start,
        reference_end=ref_end,
        reference_rows=int(table.attrs["reference_rows"]),
        reference_positive_rate=float(table.attrs["reference_positive_rate"]),
        assumptions=tuple(table.attrs["assumptions"]),
        table=table,
    )


# --------------------------------------------------------------------------------------------
# Findings


def _chunk_name(result: PerformanceEstimate, row: pd.Series) -> str:
    start, end = row["chunk_start"], row["chunk_end"]
    if not isinstance(start, pd.Timestamp):
        return f"rows {int(start):,} to {int(end):,}"
    if result.chunk.isdigit():
        return f"the rows from {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M}"
    if result.chunk == "MS":
        return f"{start:%Y-%m}"
    return f"the period from {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M}"


def _findings(result: PerformanceEstimate) -> list[Finding]:
    table = result.table
    findings: list[Finding] = []
    for _, row in table[table["trust"] == "warn"].iterrows():
        reason = row["trust_reason"]
        if "Labels that have arrived disagree" in reason:
            severity = "high"
        elif "moved far" in reason:
            severity = "medium"
        else:
            severity = "low"
        findings.append(
            Finding(
                severity,
                f"Do not trust the estimate for {_chunk_name(result, row)} "
                f"(estimated ROC AUC {_num(row['estimated_roc_auc'])}, accuracy "
                f"{_num(row['estimated_accuracy'])}): {reason}",
            )
        )
    gaps = (table["realised_roc_auc"] - table["estimated_roc_auc_labelled"]).abs()
    if gaps.notna().any():
        worst = table.loc[gaps.idxmax()]
        estimated, realised = worst["estimated_roc_auc_labelled"], worst["realised_roc_auc"]
        findings.append(
            Finding(
                "info",
                f"The largest gap between estimate and realised ROC AUC is in "
                f"{_chunk_name(result, worst)}: estimated {_num(estimated)} on the "
                f"{int(worst['n_labelled']):,} rows whose labels have arrived, realised "
                f"{_num(realised)} ({realised - estimated:+.3f}).",
            )
        )
    waiting = table[(table["n"] > 0) & (table["n_labelled"] < FEW_LABELS_SHARE * table["n"])]
    if len(waiting):
        parts = [
            f"{_chunk_name(result, row)}: {int(row['n_labelled']):,} of {int(row['n']):,} rows "
            f"labelled, estimated ROC AUC {_num(row['estimated_roc_auc'])} and accuracy "
            f"{_num(row['estimated_accuracy'])}"
            for _, row in waiting.iterrows()
        ]
        findings.append(
            Finding(
                "info",
                "Labels have not arrived yet for most rows of "
                f"{len(waiting)} period{'s' if len(waiting) > 1 else ''}; the estimate fills the "
                "gap until they do (" + "; ".join(parts) + ").",
            )
        )
    return findings


def _num(value: float) -> str:
    return (
        "n/a"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else (f"{value:.3f}")
    )
