"""The case at a glance: how much data, how late the truth arrives, and the served model's
offline metric next to what it really scored in production.

The app's Case and Overview pages, the ``00_case_overview`` notebook and the report all show
this one result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from prodready import metrics
from prodready.case import Case
from prodready.results import Finding, format_duration, format_money, most_severe_first, to_json

PRIMARY_METRIC = {"binary": "roc_auc", "regression": "mae"}
WEEK = "W-SUN"  # weeks end on Sunday, so each row of ``over_time`` is labelled by its Monday


@dataclass(frozen=True)
class CaseOverview:
    """Headline numbers of a case. ``numbers`` holds the key figures by name."""

    name: str
    task: str
    numbers: dict[str, Any]
    features: pd.DataFrame = field(repr=False)
    headline: pd.DataFrame = field(repr=False)
    over_time: pd.DataFrame = field(repr=False)
    business_value: metrics.BusinessValue | None = None
    value_without_model: metrics.BusinessValue | None = None  # binary: the model never acts
    primary_metric: str = "roc_auc"

    def to_frame(self) -> pd.DataFrame:
        """The feature table: one row per feature (type, availability, missing rates)."""
        return self.features

    def summary(self) -> list[Finding]:
        """Plain-language findings, most severe first."""
        return most_severe_first(_findings(self))

    def to_dict(self) -> dict[str, Any]:
        return to_json(
            {
                "name": self.name,
                "task": self.task,
                "primary_metric": self.primary_metric,
                "numbers": self.numbers,
                "features": self.features,
                "headline": self.headline,
                "over_time": self.over_time,
                "business_value": self.business_value.to_dict() if self.business_value else None,
                "value_without_model": self.value_without_model.to_dict()
                if self.value_without_model
                else None,
                "summary": [f.to_dict() for f in self.summary()],
            }
        )


def overview(case: Case, *, seed: int = 0, n_resamples: int = 300) -> CaseOverview:
    """Compute the overview of ``case``.

    Offline = the served model's score as the training data carries it (its offline evaluation);
    serving = the same model's served score on serving rows whose label has arrived. The primary
    metric (ROC AUC, or MAE for regression) gets a percentile-bootstrap 95% interval with
    ``n_resamples`` resamples drawn with ``seed``.
    """
    case.require_whole_log("case overview")
    primary = PRIMARY_METRIC[case.task]
    value, without = _business_value(case)
    return CaseOverview(
        name=case.name,
        task=case.task,
        numbers=_numbers(case),
        features=_feature_table(case),
        headline=_headline(case, primary, seed=seed, n_resamples=n_resamples),
        over_time=_over_time(case),
        business_value=value,
        value_without_model=without,
        primary_metric=primary,
    )


def _numbers(case: Case) -> dict[str, Any]:
    cols = case.columns
    train, serve = case.training, case.serving
    labelled = case.labelled_serving
    numbers: dict[str, Any] = {
        "training_rows": len(train),
        "serving_rows": len(serve),
        "labelled_serving_rows": len(labelled),
        "labelled_share": len(labelled) / len(serve),
        "training_start": train[cols.timestamp].min(),
        "training_end": train[cols.timestamp].max(),
        "serving_start": serve[cols.timestamp].min(),
        "serving_end": serve[cols.timestamp].max(),
        "features": len(case.features),
        "features_not_available_at_prediction": sum(
            not f.available_at_prediction for f in case.features
        ),
        "base_rate_training": float(train[cols.label].astype("float64").mean()),
        "base_rate_serving": float(labelled[cols.label].astype("float64").mean())
        if len(labelled)
        else float("nan"),
        "shared_ids": int(train[cols.id].isin(serve[cols.id]).sum()) if cols.id else None,
        "currency": case.business.currency if case.business else None,
    }
    numbers |= _label_delay(case)
    return numbers


def _label_delay(case: Case) -> dict[str, Any]:
    """Label delay in days (label_time - timestamp) and how long the log's tail has no labels."""
    cols = case.columns
    serve = case.serving
    labelled = case.labelled_serving
    out: dict[str, Any] = {
        "label_delay_median_days": float("nan"),
        "label_delay_p90_days": float("nan"),
        "days_without_labels_at_end": float("nan"),
    }
    if len(labelled):
        gap = serve[cols.timestamp].max() - labelled[cols.timestamp].max()
        out["days_without_labels_at_end"] = gap / pd.Timedelta(days=1)
    if cols.label_time and len(labelled):
        delay = (labelled[cols.label_time] - labelled[cols.timestamp]) / pd.Timedelta(days=1)
        delay = delay.dropna()
        if len(delay):
            out["label_delay_median_days"] = float(delay.median())
            out["label_delay_p90_days"] = float(delay.quantile(0.9))
    return out


def _feature_table(case: Case) -> pd.DataFrame:
    rows = []
    for feature in case.features:
        in_serving = feature.name in case.serving
        rows.append(
            {
                "feature": feature.name,
                "type": feature.type,
                "available_at_prediction": feature.available_at_prediction,
                "availability_lag": format_duration(feature.availability_lag),
                "in_serving": in_serving,
                "missing_training": float(case.training[feature.name].isna().mean()),
                "missing_serving": float(case.serving[feature.name].isna().mean())
                if in_serving
                else float("nan"),
            }
        )
    return pd.DataFrame(rows).set_index("feature")


def _scored(frame: pd.DataFrame, case: Case) -> tuple[np.ndarray, np.ndarray]:
    """Labels and served scores of the rows that have both."""
    cols = case.columns
    if cols.prediction not in frame:
        return np.array([]), np.array([])
    rows = frame[frame[cols.label].notna() & frame[cols.prediction].notna()]
    return rows[cols.label].to_numpy(dtype="float64"), rows[cols.prediction].to_numpy("float64")


def _headline(case: Case, primary: str, *, seed: int, n_resamples: int) -> pd.DataFrame:
    """Offline vs serving metrics of the served model, with an interval on the primary one."""
    threshold = case.business.threshold if case.business else 0.5
    columns = ["label", "offline", "serving", "serving_low", "serving_high", "higher_is_better"]
    sets = {"offline": _scored(case.training, case), "serving": _scored(case.serving, case)}
    values: dict[str, dict[str, float]] = {}
    for name, (y, score) in sets.items():
        if len(y) == 0:
            values[name] = {}
        elif case.task == "binary":
            values[name] = metrics.binary_metrics(y, score, threshold=threshold)
        else:
            values[name] = metrics.regression_metrics(y, score)
    keys = list(values["serving"] or values["offline"])
    table = pd.DataFrame(index=pd.Index(keys, name="metric"), columns=columns)
    for key in keys:
        table.loc[key, "label"] = metrics.METRIC_LABELS[key]
        table.loc[key, "offline"] = values["offline"].get(key, np.nan)
        table.loc[key, "serving"] = values["serving"].get(key, np.nan)
        table.loc[key, "higher_is_better"] = metrics.HIGHER_IS_BETTER[key]
    y, score = sets["serving"]
    if len(y):
        estimate = metrics.bootstrap(
            primary, y, score, threshold=threshold, n_resamples=n_resamples, seed=seed
        )
        table.loc[primary, ["serving_low", "serving_high"]] = [estimate.low, estimate.high]
    numeric = ["offline", "serving", "serving_low", "serving_high"]
    table[numeric] = table[numeric].astype("float64")
    table["label"] = table["label"].astype("str")
    table["higher_is_better"] = table["higher_is_better"].astype("bool")
    return table


def _over_time(case: Case) -> pd.DataFrame:
    """Weekly volume, labelled rows and base rate (mean label over labelled rows) per data set."""
    ts, label = case.columns.timestamp, case.columns.label
    parts = []
    for name, frame in (("training", case.training), ("serving", case.serving)):
        weeks = frame[ts].dt.tz_localize(None).dt.to_period(WEEK).dt.start_time
        grouped = frame[label].astype("float64").groupby(weeks)
        part = pd.DataFrame(
            {"rows": grouped.size(), "labelled": grouped.count(), "base_rate": grouped.mean()}
        )
        part["labelled_share"] = part["labelled"] / part["rows"]
        part.index = part.index.tz_localize("UTC")
        part.index.name = "week"
        parts.append(part.reset_index().assign(set=name))
    return pd.concat(parts, ignore_index=True)[
        ["set", "week", "rows", "labelled", "labelled_share", "base_rate"]
    ]


def _business_value(
    case: Case,
) -> tuple[metrics.BusinessValue | None, metrics.BusinessValue | None]:
    """Value of the served decisions on labelled serving rows, and (binary) of never acting."""
    business = case.business
    if business is None or (business.value is None and business.cost_per_unit_error is None):
        return None, None
    y, score = _scored(case.serving, case)
    if len(y) == 0:
        return None, None
    served = metrics.business_value(y, score, business, task=case.task)
    if case.task != "binary":
        return served, None
    never = business.model_copy(update={"threshold": 1.0})
    return served, metrics.business_value(y, np.zeros_like(score), never, task=case.task)


def _findings(ov: CaseOverview) -> list[Finding]:
    n = ov.numbers
    findings = []
    findings += _metric_gap_findings(ov)
    leaky = ov.features.index[~ov.features["available_at_prediction"]].tolist()
    if leaky:
        names = ", ".join(leaky)
        findings.append(
            Finding(
                "high",
                f"{len(leaky)} feature(s) are not available at prediction time ({names}): a "
                "model trained with them learns from the future and will score worse in "
                "production than offline.",
            )
        )
    findings += _value_findings(ov)
    median = n["label_delay_median_days"]
    if not np.isnan(median):
        silent = n["days_without_labels_at_end"]
        findings.append(
            Finding(
                "medium" if median > 14 else "info",
                f"The truth arrives a median {_in_days(median)} after a prediction (90% within "
                f"{_in_days(n['label_delay_p90_days'])}); the last {_in_days(silent)} of the log "
                "have no labels yet, so an accuracy monitor cannot see problems there.",
            )
        )
    missing = ov.features["missing_serving"] - ov.features["missing_training"]
    for feature in missing.index[missing > 0.05]:
        findings.append(
            Finding(
                "medium",
                f"{feature} is missing on {ov.features.loc[feature, 'missing_serving']:.0%} of "
                f"serving rows against {ov.features.loc[feature, 'missing_training']:.0%} in "
                "training.",
            )
        )
    before, after = n["base_rate_training"], n["base_rate_serving"]
    if ov.task == "binary" and before > 0 and not np.isnan(after):
        change = after / before - 1
        if abs(change) > 0.25:
            findings.append(
                Finding(
                    "medium" if abs(change) > 0.5 else "low",
                    f"The positive rate moved from {before:.2%} in training to {after:.2%} in "
                    f"labelled serving data ({change:+.0%}): thresholds tuned offline may no "
                    "longer fit.",
                )
            )
    return findings


def _in_days(days: float) -> str:
    """A duration given in days, in the unit people would say: 36 days, 5.2 hours, 41 minutes
    (a delivery's truth arrives within the hour, a fraud label after weeks)."""
    if np.isnan(days):
        return "an unknown time"
    if days >= 2:
        return f"{days:.0f} days"
    if days >= 1:
        return f"{days:.1f} days"
    if days * 24 >= 1:
        return f"{days * 24:.1f} hours"
    return f"{days * 24 * 60:.0f} minutes"


def _value_findings(ov: CaseOverview) -> list[Finding]:
    value, without = ov.business_value, ov.value_without_model
    if value is None:
        return []
    text = (
        f"On the {value.decisions:,} serving decisions whose outcome is known, the model's "
        f"decisions were worth {format_money(value.total, value.currency)} "
        f"({format_money(value.per_1000, value.currency)} per 1,000 decisions)"
    )
    if without is None:
        if ov.task == "regression":  # no decision to act on: the value is the cost of errors
            text = (
                f"On the {value.decisions:,} serving predictions whose outcome is known, the "
                f"model's errors cost {format_money(-value.total, value.currency)} "
                f"({format_money(-value.per_1000, value.currency)} per 1,000 predictions)"
            )
        return [
            Finding(
                "medium" if value.total < 0 else "info", text + ".", value.total, value.currency
            )
        ]
    added = value.total - without.total
    verdict = "more" if added >= 0 else "less"
    text += (
        f", {format_money(abs(added), value.currency)} {verdict} than if it had never acted "
        f"({format_money(without.total, value.currency)})."
    )
    severity = "high" if added < 0 else "medium" if value.total < 0 else "info"
    return [Finding(severity, text, money=added, currency=value.currency)]


def _metric_gap_findings(ov: CaseOverview) -> list[Finding]:
    row = ov.headline.loc[ov.primary_metric] if ov.primary_metric in ov.headline.index else None
    if row is None or np.isnan(row["offline"]) or np.isnan(row["serving"]):
        return []
    gap = row["offline"] - row["serving"]
    worse_by = gap if row["higher_is_better"] else -gap
    relative = worse_by / abs(row["offline"]) if row["offline"] else np.inf
    severity = "high" if relative >= 0.1 else "medium" if relative >= 0.05 else "low"
    interval = ""
    if not np.isnan(row["serving_low"]):
        interval = f" (95% interval {row['serving_low']:.3f} to {row['serving_high']:.3f})"
    if relative < 0.02:
        return [
            Finding(
                "info",
                f"The served model's {row['label']} holds up in production: "
                f"{row['offline']:.3f} offline, {row['serving']:.3f} in serving{interval}.",
            )
        ]
    return [
        Finding(
            severity,
            f"The served model scores {row['label']} {row['offline']:.3f} on the training data "
            f"but {row['serving']:.3f} on the serving log{interval}: production does not see "
            "what training saw (see the skew audit).",
        )
    ]
