"""The skew audit: will production see what training saw, and what does the model really score?

One call puts together distribution skew (training vs serving, and per serving month), row-level
skew on shared ids, prediction-time availability and leakage, and the metric the baseline model
gets offline and in production with and without the features production cannot have.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from prodready.case import Case, sampled
from prodready.errors import ParameterError
from prodready.metrics import HIGHER_IS_BETTER
from prodready.results import Finding, format_duration, format_money, most_severe_first, to_json
from prodready.skew.distribution import ALL_COLUMNS, FeatureDrift, drift_by_feature
from prodready.skew.gap import MetricGap, metric_gap, sample_note
from prodready.skew.leakage import LeakageProbe, probe_leakage
from prodready.skew.rows import RowSkew, row_skew
from prodready.skew.thresholds import Thresholds, worst
from prodready.stats.drift import benjamini_hochberg

FRAME_COLUMNS = [
    "kind",
    *ALL_COLUMNS,
    "missing_train",
    "missing_serving",
    "row_mismatch_rate",
    "unit_hint",
    "available_at_prediction",
    "availability_lag",
    "leakage_suspect",
    "severity",
    "problem",
    "note",
]


@dataclass(frozen=True)
class SkewAudit:
    """Result of :func:`audit`. ``features`` is the per-feature table (``to_frame()``)."""

    case_name: str
    features: pd.DataFrame = field(repr=False)
    by_month: pd.DataFrame = field(repr=False)
    rows: RowSkew | None
    leakage: LeakageProbe = field(repr=False)
    metric_gap: MetricGap = field(repr=False)
    thresholds: Thresholds = field(repr=False)
    # how much of the serving log each part saw, when the log stays on disk ("" otherwise)
    serving_note: str = ""
    # "serving scored on a uniform sample of N of the M serving rows" ("" for the whole log)
    sample: str = ""

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
                "features": self.features,
                "by_month": self.by_month,
                "rows": self.rows.to_dict() if self.rows is not None else None,
                "leakage": self.leakage.to_dict(),
                "metric_gap": self.metric_gap.to_dict(),
                "thresholds": self.thresholds.to_dict(),
                "serving_note": self.serving_note,
                "summary": [f.to_dict() for f in self.summary()],
            }
        )


def audit(
    case: Case,
    *,
    seed: int = 0,
    thresholds: Thresholds | Mapping[str, Any] | None = None,
    tolerance: float = 1e-6,
    progress: Callable[[float, str], None] | None = None,
) -> SkewAudit:
    """Run the skew audit on ``case``.

    ``progress(fraction, message)`` is called as the parts start (and, on data left on disk,
    as the training data and each serving file are profiled): for a status line or a bar.

    ``tolerance``: two numbers logged for the same event match when they differ by at most
    this fraction of the larger (``numpy.isclose`` with ``rtol=tolerance``).

    Distribution measures: see :mod:`prodready.stats.drift` (PSI on 10 training-quantile bins,
    natural log; Jensen-Shannon distance in base 2; Wasserstein / training standard deviation;
    KS; Hellinger; chi-square). ``ks_pvalue`` and ``chi2_pvalue`` are Benjamini-Hochberg adjusted
    across all features together. Severity: the worst band reached by PSI, unseen share, change
    in missing rate, out-of-range share and row mismatch rate (``thresholds``), a shift that is
    not significant at ``thresholds.alpha`` capped at ``low``; a feature not available at
    prediction time or suspected of leakage is ``high``.
    """
    bands = Thresholds.from_value(thresholds)
    unknown = sorted(set(bands.features) - set(case.feature_names))
    if unknown:
        raise ParameterError(
            f"thresholds name feature(s) the case does not have: {', '.join(unknown)}",
            expected=f"features of the case: {', '.join(case.feature_names)}",
            fix="correct the feature names under 'features' in the thresholds",
        )

    def part(start: float, end: float, name: str) -> Callable[[float, str], None]:
        def told(fraction: float, message: str) -> None:
            if progress is not None:
                progress(
                    start + (end - start) * fraction, f"{name}: {message}" if message else name
                )

        told(0.0, "")
        return told

    drifts = drift_by_feature(case, progress=part(0.0, 0.5, "distribution skew"))
    modelled = _modelled(case, [name for name, drift in drifts.items() if not drift.usable])
    part(0.5, 0.6, "row-level skew on shared ids")
    rows = row_skew(case, rtol=tolerance, seed=seed)
    part(0.6, 0.75, "leakage probe")
    leakage = probe_leakage(modelled, seed=seed)
    part(0.75, 1.0, "metric gap")
    gap = metric_gap(modelled, seed=seed)
    if progress is not None:
        progress(1.0, "done")
    records, months = [], []
    for feature in case.features:
        drift = drifts[feature.name]
        record: dict[str, Any] = {"feature": feature.name, "kind": feature.type, **drift.values}
        record |= _missing(case, feature.name, drift)
        record |= _rows_of(rows, feature.name)
        record["available_at_prediction"] = feature.available_at_prediction
        record["availability_lag"] = format_duration(feature.availability_lag)
        suspect = leakage.features["leakage_suspect"].get(feature.name, False)
        record["leakage_suspect"] = bool(suspect)
        record["note"] = drift.note
        records.append(record)
        if len(drift.by_month):
            months.append(drift.by_month.assign(feature=feature.name))
    table = pd.DataFrame(records).set_index("feature")
    _adjust_pvalues(table)
    table["severity"], table["problem"] = zip(
        *(_grade(name, row, bands) for name, row in table.iterrows()), strict=True
    )
    order = table["severity"].map({"high": 0, "medium": 1, "low": 2, "none": 3})
    table = table.assign(_order=order, _psi=table["psi"].fillna(-1))
    table = table.sort_values(["_order", "_psi"], ascending=[True, False], kind="stable")
    by_month = (
        pd.concat(months, ignore_index=True)[["feature", "month", "psi", "js_distance", "rows"]]
        if months
        else pd.DataFrame(columns=["feature", "month", "psi", "js_distance", "rows"])
    )
    return SkewAudit(
        case_name=case.name,
        features=table[FRAME_COLUMNS],
        by_month=by_month,
        rows=rows,
        leakage=leakage,
        metric_gap=gap,
        thresholds=bands,
        serving_note=_serving_note(case),
        sample=sample_note(case),
    )


def _serving_note(case: Case) -> str:
    """What each part of the audit saw when the data stays on disk."""
    source = case.serving_source
    if source is None:
        return ""
    on_disk = f"{source.rows:,} serving rows in {source.where}"
    training = case.training_source
    if training is not None:
        on_disk += f", {training.rows:,} training rows in {training.where}"
    places = {"in Spark" if s.table else "on disk" for s in (source, training) if s is not None}
    stays = " and ".join(sorted(places))
    held = sampled(training, source)
    if not held:
        return f"The data stays {stays} ({on_disk}); every part of the audit used all of its rows."
    return (
        f"The data stays {stays} ({on_disk}): distribution skew, missing rates and row-level "
        f"skew use every row; the metric gap and the leakage probe run on {held}."
    )


def _modelled(case: Case, unusable: list[str]) -> Case:
    """The case the baseline models see: without features whose type differs between the two
    data sets (a model cannot be fitted on one and applied to the other), and with a feature the
    serving log lacks present but empty, which is what production feeds the model."""
    absent = [f.name for f in case.features if f.name not in case.serving]
    if not unusable and not absent:
        return case
    kept = [f for f in case.features if f.name not in unusable]
    spec = case.spec.model_copy(update={"features": kept})
    serving = case.serving.assign(**dict.fromkeys(absent, np.nan))
    return Case(
        spec=spec,
        training=case.training,
        serving=serving,
        path=case.path,
        serving_source=case.serving_source,
        training_source=case.training_source,
    )


def _missing(case: Case, name: str, drift: FeatureDrift) -> dict[str, float]:
    """Missing rates; a feature the serving log lacks is missing on every serving row. Data
    left on disk: the rates the distribution comparison counted on every row."""
    serving, training = drift.missing_serving, drift.missing_train
    if serving is None:
        serving = case.serving[name].isna().mean() if name in case.serving else 1.0
    if training is None:
        training = case.training[name].isna().mean() if name in case.training else float("nan")
    return {"missing_train": float(training), "missing_serving": float(serving)}


def _rows_of(rows: RowSkew | None, name: str) -> dict[str, Any]:
    if rows is None or name not in rows.features.index:
        return {"row_mismatch_rate": float("nan"), "unit_hint": ""}
    found = rows.features.loc[name]
    return {
        "row_mismatch_rate": float(found["mismatch_rate"]),
        "unit_hint": str(found["unit_hint"] or ""),
    }


def _adjust_pvalues(table: pd.DataFrame) -> None:
    """Benjamini-Hochberg across every p-value of the audit (numeric KS and categorical chi2)."""
    stacked = np.concatenate([table["ks_pvalue"].to_numpy(), table["chi2_pvalue"].to_numpy()])
    adjusted = benjamini_hochberg(stacked)
    table["ks_pvalue"] = adjusted[: len(table)]
    table["chi2_pvalue"] = adjusted[len(table) :]


_PROBLEMS = {
    "row_mismatch_rate": "row mismatch",
    "unseen_share": "unseen categories",
    "missing_change": "missing values",
    "psi": "distribution shift",
    "out_of_range_share": "distribution shift",
}


def _grade(name: str, row: pd.Series, bands: Thresholds) -> tuple[str, str]:
    """(severity, problem) of one feature: the worst band any measure reaches."""
    if not row["available_at_prediction"] or row["leakage_suspect"]:
        return "high", "leakage"
    pvalue = row["ks_pvalue"] if row["kind"] == "numeric" else row["chi2_pvalue"]
    significant = bool(np.isnan(pvalue)) or pvalue <= bands.alpha  # NaN: no test, no cap
    measures = {
        "row_mismatch_rate": row["row_mismatch_rate"],
        "unseen_share": row["unseen_share"],
        "missing_change": abs(row["missing_serving"] - row["missing_train"]),
        "psi": row["psi"],
        "out_of_range_share": row["out_of_range_share"],
    }
    graded = {m: bands.severity(name, m, v) for m, v in measures.items()}
    if not significant:  # a difference chance explains is at most "low", whatever its size
        for m in ("psi", "out_of_range_share"):
            if graded[m] != "none":
                graded[m] = "low"
    severity = worst(list(graded.values()))
    if severity == "none":
        return "none", ""
    problem = next(_PROBLEMS[m] for m in _PROBLEMS if graded[m] == severity)
    if problem == "row mismatch" and row["unit_hint"]:
        problem = "unit change"
    return severity, problem


def _findings(result: SkewAudit) -> list[Finding]:
    findings = _gap_findings(result.metric_gap, result.sample)
    if result.serving_note:
        findings.append(Finding("info", result.serving_note))
    table = result.features
    reasons = result.leakage.features["reason"] if len(result.leakage.features) else pd.Series()
    for name, row in table[table["severity"].isin(["high", "medium"])].iterrows():
        reason = str(reasons.get(name, "") or "")
        reason = reason if not reason or reason.endswith(".") else reason + "."
        findings.append(Finding(row["severity"], _feature_text(name, row, reason)))
    shifted = table[table["psi"] >= result.thresholds.psi[2]]
    if len(shifted):
        findings.append(
            Finding(
                "info",
                f"{len(shifted)} of {len(table)} features shift beyond PSI "
                f"{result.thresholds.psi[2]:g} between training and serving: "
                f"{', '.join(shifted.index[:8])}.",
            )
        )
    for name, note in table["note"].items():
        if note:
            findings.append(Finding("info", f"{name}: {note}."))
    if result.rows is not None:
        findings.append(
            Finding(
                "info",
                f"{result.rows.joined:,} events are in both data sets (same id): each feature "
                "was compared value by value on them.",
            )
        )
    return findings


def _feature_text(name: str, row: pd.Series, leakage_reason: str) -> str:
    problem = row["problem"]
    if problem == "leakage":
        if not row["available_at_prediction"]:
            text = (
                f"{name} is not available at prediction time (declared): a model trained with it "
                "learns from the future; drop it or rebuild it from data known at prediction."
            )
            return text + (f" The leakage probe agrees: {leakage_reason}" if leakage_reason else "")
        return f"{name} looks like leakage: {leakage_reason}"
    if problem in ("row mismatch", "unit change"):
        text = (
            f"{name} differs between the offline and the online pipeline on "
            f"{row['row_mismatch_rate']:.0%} of the events both logged"
        )
        text += f" ({row['unit_hint']})." if row["unit_hint"] else "."
        if row["availability_lag"]:
            text += (
                f" It is declared available {row['availability_lag']} after the event: check "
                "that both pipelines apply that lag and the same window."
            )
        return text
    if problem == "unseen categories":
        return f"{row['unseen_share']:.1%} of serving rows have a {name} value training never saw."
    if problem == "missing values":
        return (
            f"{name} is missing on {row['missing_serving']:.0%} of serving rows against "
            f"{row['missing_train']:.0%} in training."
        )
    text = (
        f"{name} is distributed differently in serving (PSI {row['psi']:.2f}, Jensen-Shannon "
        f"distance {row['js_distance']:.2f})"
    )
    if row["unseen_share"] > 0:
        text += f"; {row['unseen_share']:.1%} of serving rows are in categories training never saw"
    return text + "."


def _gap_findings(gap: MetricGap, sampled: str = "") -> list[Finding]:
    if np.isnan(gap.offline) or np.isnan(gap.serving):
        return []
    table = gap.table
    label = gap.label
    text = (
        f"Trained on all features, the baseline model scores {label} {gap.offline:.3f} on "
        f"training data held out from {gap.holdout_start:%d %b %Y} but {gap.serving:.3f} in "
        "production"
    )
    if sampled:
        text += f" ({sampled})"
    # the honest model differs only when some feature is not available at prediction time
    honest_differs = len(table) == 2 and table["features"].iloc[1] < table["features"].iloc[0]
    if honest_differs and not np.isnan(gap.honest_offline):
        text += (
            f"; with only the features production has at prediction time it scores "
            f"{gap.honest_offline:.3f} offline and {gap.honest_serving:.3f} in production"
        )
    money = None
    values = table.get("serving_value_per_1000")
    if honest_differs and values is not None and values.notna().all():
        money = float(values.iloc[1] - values.iloc[0])
        text += (
            f", worth {format_money(abs(money), gap.currency)} "
            f"{'more' if money >= 0 else 'less'} per 1,000 production decisions"
        )
    worse = gap.offline - gap.serving if HIGHER_IS_BETTER[gap.metric] else gap.serving - gap.offline
    relative = worse / abs(gap.offline) if gap.offline else float("inf")
    severity = "high" if relative >= 0.1 else "medium" if relative >= 0.05 else "info"
    return [Finding(severity, text + ".", money=money, currency=gap.currency)]
