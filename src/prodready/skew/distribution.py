"""Distribution skew per feature: training against the whole serving log and each serving month.

The statistics themselves live in :mod:`prodready.stats.drift`; this module decides what to
compare (non-missing values of one feature), catches what makes a feature impossible to compare,
and turns that into a per-feature note so the audit completes for every other feature.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from prodready.case import Case
from prodready.errors import ProdreadyError
from prodready.spec import Feature
from prodready.stats.drift import (
    CategoricalReference,
    NumericReference,
    categorical_drift,
    numeric_drift,
)

NUMERIC_COLUMNS = [
    "psi",
    "js_distance",
    "wasserstein_norm",
    "ks_stat",
    "ks_pvalue",
    "hellinger",
    "out_of_range_share",
]
CATEGORICAL_COLUMNS = ["psi", "js_distance", "linf", "chi2_pvalue", "hellinger", "unseen_share"]
ALL_COLUMNS = list(dict.fromkeys(NUMERIC_COLUMNS + CATEGORICAL_COLUMNS))


@dataclass(frozen=True)
class FeatureDrift:
    """Distances for one feature (NaN where a measure does not apply) and a note if any."""

    values: dict[str, float]
    by_month: pd.DataFrame  # month, psi, js_distance, rows
    note: str = ""
    usable: bool = True  # False: its values cannot feed a model (types differ between the sets)


def feature_drift(case: Case, feature: Feature) -> FeatureDrift:
    """Compare one feature's training values with its serving values, overall and by month."""
    empty = {c: float("nan") for c in ALL_COLUMNS}
    if feature.name not in case.serving:
        note = "not in the serving log"
        if not feature.available_at_prediction:
            note += " (declared not available at prediction time)"
        return FeatureDrift(empty, _no_months(), note)
    training, serving, problem = _comparable(case, feature)
    if problem:
        usable = not problem.startswith("holds text")
        if not usable:
            problem += "; it is left out of the baseline models"
        return FeatureDrift(empty, _no_months(), problem, usable=usable)
    try:
        if feature.type == "numeric":
            reference = NumericReference.from_values(training.to_numpy())
            result = numeric_drift(reference, serving.to_numpy())
            columns = NUMERIC_COLUMNS

            def compare(values: pd.Series) -> object:
                return numeric_drift(reference, values.to_numpy())
        else:
            counted = CategoricalReference.from_values(training)  # counted once, for every month
            result = categorical_drift(counted, serving)
            columns = CATEGORICAL_COLUMNS

            def compare(values: pd.Series) -> object:
                return categorical_drift(counted, values)
    except ProdreadyError as err:
        return FeatureDrift(empty, _no_months(), err.problem)
    values = empty | {c: float(getattr(result, c)) for c in columns}
    return FeatureDrift(values, _months(case, serving, compare), _degenerate_note(training))


def _comparable(case: Case, feature: Feature) -> tuple[pd.Series, pd.Series, str]:
    """Non-missing values of both sets, or a note saying why they cannot be compared.

    A case built without validation may hold text in one set and numbers in the other: that is
    reported for this feature instead of failing the whole audit.
    """
    raw = {"training": case.training[feature.name], "serving": case.serving[feature.name]}
    present = {name: values.dropna() for name, values in raw.items()}
    for name, values in present.items():
        if len(values) == 0:
            return present["training"], present["serving"], f"empty on every {name} row"
    if feature.type == "numeric":
        for name, values in present.items():
            numbers = pd.to_numeric(values, errors="coerce")
            if numbers.isna().any():
                other = "serving" if name == "training" else "training"
                example = values[numbers.isna()].iloc[0]
                return (
                    present["training"],
                    present["serving"],
                    f"holds text in {name} (such as {example!r}) but numbers in {other}: "
                    "the two pipelines disagree on its type",
                )
            present[name] = numbers.astype("float64")
    else:
        present = {name: values.astype("str") for name, values in present.items()}
    return present["training"], present["serving"], ""


def _degenerate_note(training: pd.Series) -> str:
    if training.nunique() == 1:
        kind = "a single category" if training.dtype == "str" else "constant"
        value = training.iloc[0]
        value = value.item() if isinstance(value, np.generic) else value
        return f"{kind} in training ({value!r}): some measures are undefined"
    return ""


def _months(case: Case, serving: pd.Series, compare) -> pd.DataFrame:
    timestamps = case.serving.loc[serving.index, case.columns.timestamp]
    months = timestamps.dt.tz_localize(None).dt.to_period("M").dt.start_time.dt.tz_localize("UTC")
    rows = []
    for month, values in serving.groupby(months.to_numpy()):
        try:
            result = compare(values)
            psi, js = float(result.psi), float(result.js_distance)
        except ProdreadyError:
            psi = js = float("nan")
        rows.append({"month": month, "psi": psi, "js_distance": js, "rows": len(values)})
    return pd.DataFrame(rows, columns=["month", "psi", "js_distance", "rows"])


def _no_months() -> pd.DataFrame:
    return pd.DataFrame(columns=["month", "psi", "js_distance", "rows"])


def distribution_table(case: Case, feature: str, *, bins: int = 30) -> pd.DataFrame:
    """Shares of training and serving values, for drawing one feature's two distributions.

    Numeric: ``bins`` equal-width bins over the 0.5th-99.5th percentile range of both sets
    together, the first and last bins also holding the values beyond it (columns ``bin_left``,
    ``bin_right``, ``training``, ``serving``). Categorical: one row per category, the 30 most
    frequent in both sets together, the rest summed as ``(other)`` (columns ``category``,
    ``training``, ``serving``). Shares are of non-missing values.
    """
    spec = case.spec.feature(feature)
    training = case.training[feature].dropna()
    serving = case.serving[feature].dropna() if feature in case.serving else pd.Series([])
    if spec.type == "numeric":
        both = np.concatenate([training.to_numpy(float), serving.to_numpy(float)])
        low, high = np.quantile(both, [0.005, 0.995]) if len(both) else (0.0, 1.0)
        if high <= low:
            low, high = low - 0.5, high + 0.5
        edges = np.linspace(low, high, bins + 1)

        def shares(values: pd.Series) -> np.ndarray:
            clipped = np.clip(values.to_numpy(float), low, high)
            counts, _ = np.histogram(clipped, bins=edges)
            return counts / max(len(values), 1)

        return pd.DataFrame(
            {
                "bin_left": edges[:-1],
                "bin_right": edges[1:],
                "training": shares(training),
                "serving": shares(serving),
            }
        )
    table = pd.DataFrame(
        {
            "training": training.astype("str").value_counts(normalize=True),
            "serving": serving.astype("str").value_counts(normalize=True),
        }
    ).fillna(0.0)
    table = table.sort_values(by=["training", "serving"], ascending=False)
    top = 30
    if len(table) > top:
        other = table.iloc[top:].sum().rename("(other)")
        table = pd.concat([table.iloc[:top], other.to_frame().T])
    table.index.name = "category"
    return table.reset_index()
