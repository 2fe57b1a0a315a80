"""Check one data set against the case description and return it in canonical form.

Canonical form, which every audit relies on: timestamps are UTC ``datetime64``; a binary label is
nullable ``Int8`` (0/1, missing where the truth has not arrived); scores are ``float64``; numeric
features are ``float64``; categorical features are ``str``; rows are in time order. Every rule
breach becomes one :class:`~prodready.errors.DataError` that names the file, the column, the first
offending row, what was expected and how to fix it.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Literal

import numpy as np
import pandas as pd

from prodready.errors import DataError
from prodready.spec import CaseSpec, Feature

Role = Literal["training", "serving"]

_TRUE = {"1", "1.0", "true", "yes", "y", "t"}
_FALSE = {"0", "0.0", "false", "no", "n", "f"}


def _empty_value(_: object) -> str:
    return "an empty value"


class _Where:
    """Names a file and, for one row, the row number and (for CSV) the line in the file."""

    def __init__(self, source: str, frame: pd.DataFrame) -> None:
        self.source = source
        self.is_csv = source.lower().endswith((".csv", ".txt"))
        self._positions = pd.Series(np.arange(len(frame)), index=frame.index)

    def column(self, column: str) -> str:
        return f"{self.source}, column {column!r}"

    def row(self, index: object) -> str:
        position = int(self._positions.loc[index]) + 1
        return f"row {position}" + (f" (line {position + 1} of the file)" if self.is_csv else "")

    def check(
        self,
        bad: pd.Series,
        column: str,
        problem: str,
        *,
        expected: str,
        found: Callable[[object], str],
        fix: str,
    ) -> None:
        """Raise for the rows flagged in ``bad``: their count, the first one, and its value
        (``found`` turns the first row's index into the text to show)."""
        if not bad.any():
            return
        first = bad.idxmax()
        raise DataError(
            f"{int(bad.sum()):,} {problem}",
            where=f"{self.column(column)}, {self.row(first)}",
            expected=expected,
            found=found(first),
            fix=fix,
        )


def prepare(frame: pd.DataFrame, spec: CaseSpec, *, role: Role, source: str) -> pd.DataFrame:
    """Validate ``frame`` (the training set or the serving log) and return its canonical form."""
    where = _Where(source, frame)
    _require_columns(frame, spec, role, where)
    cols = spec.columns
    out = frame.copy(deep=False)  # copy-on-write: the caller's frame is never changed
    out[cols.timestamp] = _timestamps(out[cols.timestamp], cols.timestamp, where, required=True)
    if cols.label_time and cols.label_time in out:
        out[cols.label_time] = _timestamps(
            out[cols.label_time], cols.label_time, where, required=False
        )
    out[cols.label] = _labels(out[cols.label], spec, role, where)
    for column in (cols.prediction, cols.challenger):
        if column and column in out:
            out[column] = _scores(out[column], column, spec.task, where)
    if cols.id:
        out[cols.id] = _ids(out[cols.id], cols.id, where)
    for feature in spec.features:
        if feature.name in out:
            out[feature.name] = _feature(out[feature.name], feature, where)
    amount = spec.business.amount if spec.business is not None else None
    if amount and amount in out and amount not in spec.feature_names:
        out[amount] = _numbers(out[amount], amount, where, what="an amount of money")
    if out[cols.timestamp].is_monotonic_increasing:  # logs usually are: skip a copy
        return out.reset_index(drop=True)
    return out.sort_values(cols.timestamp, kind="stable").reset_index(drop=True)


def required_columns(spec: CaseSpec, role: Role) -> list[str]:
    """Columns a data set must have. Serving may lack features not available at prediction."""
    cols = spec.columns
    names = [cols.timestamp, cols.label]
    if role == "serving":
        names += [cols.prediction]
        names += [c for c in (cols.challenger, cols.label_time) if c]
        names += [f.name for f in spec.features if f.available_at_prediction]
        if spec.business is not None and spec.business.amount:
            names.append(spec.business.amount)
    else:
        names += [f.name for f in spec.features]
    if cols.id:
        names.append(cols.id)
    return list(dict.fromkeys(names))


def _require_columns(frame: pd.DataFrame, spec: CaseSpec, role: Role, where: _Where) -> None:
    missing = [c for c in required_columns(spec, role) if c not in frame.columns]
    if not missing:
        return
    present = [str(c) for c in frame.columns]
    hints = []
    for column in missing:
        close = difflib.get_close_matches(column, present, n=1)
        if close:
            hints.append(f"{column!r} might be {close[0]!r}")
    fix = "rename the column in the data, or change the case to name the column the data has."
    if hints:
        fix = f"{'; '.join(hints)}: {fix}"
    noun = "column is" if len(missing) == 1 else "columns are"
    raise DataError(
        f"{len(missing)} {noun} missing from the {role} data: {', '.join(map(repr, missing))}",
        where=where.source,
        expected=f"the columns the case names: {', '.join(required_columns(spec, role))}",
        found=f"{len(present)} columns: {_preview(present)}",
        fix=fix,
    )


def _preview(values: list[str], limit: int = 12) -> str:
    shown = ", ".join(values[:limit])
    return shown + (f", … ({len(values) - limit} more)" if len(values) > limit else "")


def _timestamps(series: pd.Series, column: str, where: _Where, *, required: bool) -> pd.Series:
    """Parse to UTC. Naive timestamps are taken as UTC; aware ones are converted."""
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        parsed = series.dt.tz_convert("UTC")
    elif pd.api.types.is_datetime64_dtype(series.dtype):
        parsed = series.dt.tz_localize("UTC")
    elif pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series):
        raise DataError(
            "timestamps are plain numbers",
            where=where.column(column),
            expected="dates and times such as 2025-03-01 14:05:00 or 2025-03-01T14:05:00Z",
            found=f"numbers such as {series.dropna().iloc[0] if series.notna().any() else 'NaN'}",
            fix="convert epoch seconds to ISO 8601 text before exporting "
            "(pandas: pd.to_datetime(x, unit='s', utc=True))",
        )
    else:
        text = series.astype("str").where(series.notna())
        try:
            parsed = pd.to_datetime(text, utc=True, format="ISO8601", errors="coerce")
        except (ValueError, TypeError):
            parsed = pd.Series(pd.NaT, index=series.index, dtype="datetime64[us, UTC]")
        retry = parsed.isna() & text.notna()
        if retry.any():
            parsed = parsed.copy()
            parsed[retry] = pd.to_datetime(text[retry], utc=True, format="mixed", errors="coerce")
        where.check(
            parsed.isna() & text.notna(),
            column,
            "value(s) are not dates and times",
            expected="dates and times such as 2025-03-01 14:05:00 or 2025-03-01T14:05:00Z",
            found=lambda first: repr(series.loc[first]),
            fix="correct or remove these rows; write timestamps in ISO 8601 "
            "(YYYY-MM-DD HH:MM:SS, with +00:00 or Z for UTC)",
        )
    if required:
        where.check(
            parsed.isna(),
            column,
            "row(s) have no timestamp",
            expected="a timestamp on every row (when the prediction was made)",
            found=_empty_value,
            fix="fill in the timestamps or drop those rows",
        )
    return parsed.astype("datetime64[us, UTC]")


def _labels(series: pd.Series, spec: CaseSpec, role: Role, where: _Where) -> pd.Series:
    column = spec.columns.label
    if role == "training":
        where.check(
            series.isna(),
            column,
            "training row(s) have no label",
            expected="a known outcome on every training row",
            found=_empty_value,
            fix="drop unlabelled rows from the training data; in the serving log, a missing "
            "label simply means the truth has not arrived yet",
        )
    if spec.task == "regression":
        return _numbers(series, column, where, what="the true value")
    return _binary(series, column, where)


def _binary(series: pd.Series, column: str, where: _Where) -> pd.Series:
    """0/1, booleans, or text true/false/yes/no -> nullable Int8."""
    present = series.dropna()
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.astype("Int8")
    if pd.api.types.is_numeric_dtype(series.dtype):
        ok = present.isin([0, 1])
        mapped = series
    else:
        lowered = series.astype("str").str.strip().str.lower().where(series.notna())
        mapped = lowered.map(lambda v: 1 if v in _TRUE else 0 if v in _FALSE else np.nan)
        ok = lowered.dropna().isin(_TRUE | _FALSE)
    if not ok.all():
        bad = present[~ok.to_numpy()]
        values = sorted({repr(v) for v in bad.unique()[:5]})
        raise DataError(
            "a binary task needs labels that are 0 or 1",
            where=f"{where.column(column)}, {where.row(bad.index[0])}",
            expected="0/1 (or true/false, yes/no)",
            found=f"{bad.nunique():,} other value(s), such as {', '.join(values)}",
            fix="map the outcome to 1 (the event the model predicts, e.g. fraud) and 0; for a "
            "numeric target use task: regression",
        )
    return pd.to_numeric(mapped).astype("Int8")


def _numbers(series: pd.Series, column: str, where: _Where, *, what: str) -> pd.Series:
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.astype("float64")
    values = pd.to_numeric(series, errors="coerce").astype("float64")
    where.check(
        values.isna() & series.notna(),
        column,
        "value(s) are not numbers",
        expected=f"numbers ({what})",
        found=lambda first: f"text such as {series.loc[first]!r}",
        fix="clean the column (decimal point, no units or thousands separators), or "
        "declare the feature as type: categorical if it is a category",
    )
    return values


def _scores(series: pd.Series, column: str, task: str, where: _Where) -> pd.Series:
    values = _numbers(series, column, where, what="model scores")
    where.check(
        ~np.isfinite(values),
        column,
        "score(s) are empty, NaN or infinite",
        expected="a finite score on every row (what the model returned)",
        found=lambda first: str(series.loc[first]),
        fix="find why the model returned no score for these rows (that is itself a silent "
        "failure worth fixing), then fill or drop them",
    )
    if task == "binary":
        where.check(
            (values < 0) | (values > 1),
            column,
            "score(s) are outside [0, 1]",
            expected="probabilities between 0 and 1 for a binary task",
            found=lambda first: (
                f"{values.loc[first]:g} (range {values.min():g} to {values.max():g})"
            ),
            fix="log the model's probability, not a raw margin or logit "
            "(apply the sigmoid 1 / (1 + exp(-x)) to logits)",
        )
    return values


def _ids(series: pd.Series, column: str, where: _Where) -> pd.Series:
    where.check(
        series.isna(),
        column,
        "row(s) have no id",
        expected="an id on every row",
        found=_empty_value,
        fix="fill in the ids, or leave columns.id out of the case",
    )
    ids = series.astype("str")
    duplicated = ids.duplicated(keep=False)
    if duplicated.any():
        first_value = ids[duplicated].iloc[0]
        rows = ids.index[ids == first_value][:3]
        raise DataError(
            f"{int(ids[duplicated].nunique()):,} id(s) appear more than once",
            where=where.column(column),
            expected="each id once per data set (one row per prediction)",
            found=f"{first_value!r} on {', '.join(where.row(r) for r in rows)}",
            fix="remove duplicated rows (a join that fanned out is the usual cause), or "
            "choose a column that is unique per prediction",
        )
    return ids


def _feature(series: pd.Series, feature: Feature, where: _Where) -> pd.Series:
    if series.isna().all():
        raise DataError(
            "the feature is empty on every row",
            where=where.column(feature.name),
            expected="at least some values",
            found=f"{len(series):,} empty values",
            fix="check the pipeline that fills this feature (a broken join or a renamed "
            "source column), or remove the feature from the case",
        )
    if feature.type == "numeric":
        return _numbers(series, feature.name, where, what=f"feature {feature.name!r} is numeric")
    return category_text(series)


_TEXT = pd.Series([], dtype="str").dtype  # what astype("str") gives: pandas' text, NaN missing


def category_text(series: pd.Series) -> pd.Series:
    """Categories as text. Whole numbers read as floats (a code column with a gap reads as
    1.0, 2.0, NaN) become "1", "2", as they would from an integer column in the other file."""
    if series.dtype == _TEXT:  # already text, missing as NaN: nothing to change (and the mask
        return series  # below would copy every value of a column that is text already)
    if pd.api.types.is_float_dtype(series.dtype):
        present = series.dropna()
        if len(present) and (present == np.round(present)).all():
            series = series.astype("Int64")
    return series.astype("str").where(series.notna())


def infer_features(training: pd.DataFrame, serving: pd.DataFrame, roles: set[str]) -> list[Feature]:
    """Features = columns in both sets that play no role; numbers are numeric, the rest
    categorical (booleans are categories)."""
    shared = [c for c in training.columns if c in serving.columns and c not in roles]
    features = []
    for name in shared:
        dtype = training[name].dtype
        numeric = pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
        features.append(Feature(name=str(name), type="numeric" if numeric else "categorical"))
    return features


def check_overlap(training: pd.DataFrame, serving: pd.DataFrame, names: tuple[str, str]) -> None:
    """Training and serving must share columns, or nothing can be compared."""
    common = set(map(str, training.columns)) & set(map(str, serving.columns))
    if not common:
        raise DataError(
            "the training data and the serving log have no column in common",
            where=f"{names[0]} and {names[1]}",
            expected="the same column names in both (timestamp, label, features)",
            found=f"training: {_preview(list(map(str, training.columns)), 6)}; "
            f"serving: {_preview(list(map(str, serving.columns)), 6)}",
            fix="check that both files come from the same model and that the columns were "
            "not renamed in one of them",
        )
