"""The case description: what the YAML case file (or the app's mapping form) says about the data.

Validated by pydantic, so every audit can trust it. Checks that need the data itself (columns
present, types, label values) live in :mod:`prodready.data.validation`.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

FeatureType = Literal["numeric", "categorical"]
Task = Literal["binary", "regression"]

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([a-zA-Z]+)")
_UNITS = {
    **dict.fromkeys(["w", "wk", "week", "weeks"], "W"),
    **dict.fromkeys(["d", "day", "days"], "D"),
    **dict.fromkeys(["h", "hr", "hour", "hours"], "h"),
    **dict.fromkeys(["m", "min", "mins", "minute", "minutes"], "min"),
    **dict.fromkeys(["s", "sec", "second", "seconds"], "s"),
}


def parse_duration(value: object) -> pd.Timedelta:
    """A duration such as ``1d``, ``6h``, ``2 weeks``, ``90D`` or anything pandas reads; raises
    ValueError otherwise."""
    text = str(value).strip()
    match = _DURATION.fullmatch(text)
    try:
        if match:  # "1d", "6h", "2 weeks": pandas deprecates lower-case "d", so map units
            amount, unit = match.groups()
            return pd.Timedelta(float(amount), unit=_UNITS[unit.lower()])
        return pd.Timedelta(text)
    except (ValueError, KeyError) as exc:
        raise ValueError(f"not a duration: {value!r}") from exc


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_TABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,2}")


class DataSource(_Strict):
    """Where a data set lives: a CSV or Parquet file or a glob of them, relative to the case,
    or a table in a Spark catalog (read through the Spark session, never copied whole)."""

    path: str | None = Field(
        None,
        description="CSV or Parquet file, or a glob of files with the same columns "
        "(serving_log/*.parquet; ** for sub-folders), relative to the case file",
    )
    table: str | None = Field(
        None,
        description="instead of path: a table or view in the Spark catalog, e.g. "
        "risk.card_fraud_serving (table, database.table or catalog.database.table)",
    )

    @field_validator("table")
    @classmethod
    def _table_name(cls, value: str | None) -> str | None:
        if value is not None and not _TABLE_NAME.fullmatch(value):
            raise ValueError(
                f"table {value!r} is not a table name: give table, database.table or "
                "catalog.database.table (letters, digits and _, not starting with a digit)"
            )
        return value

    @model_validator(mode="after")
    def _one_place(self) -> DataSource:
        if self.path is not None and self.table is not None:
            raise ValueError("give either path (files) or table (a Spark table), not both")
        return self


class Columns(_Strict):
    """Which column plays which role in both data sets."""

    timestamp: str = Field(description="when the prediction was made")
    label: str = Field(description="the truth; in the serving log only once it has arrived")
    prediction: str = Field(description="the champion's served score (or value, for regression)")
    id: str | None = Field(None, description="key present in both sets (row-level skew, joins)")
    label_time: str | None = Field(None, description="when the truth became known")
    challenger: str | None = Field(None, description="a candidate model's score on the same events")

    def roles(self) -> dict[str, str]:
        """Role -> column name, for the roles that are set."""
        return {role: name for role, name in self.model_dump().items() if name is not None}


class Feature(_Strict):
    """One model input, and when it is known in production."""

    name: str = Field(min_length=1, description="the column's name in both data sets")
    type: FeatureType
    available_at_prediction: bool = Field(
        True, description="false when the value is only known after the prediction (leakage)"
    )
    availability_lag: timedelta | None = Field(
        None, description="how long after the event the value is known online, e.g. 1d, 6h"
    )

    @field_validator("availability_lag", mode="before")
    @classmethod
    def _parse_lag(cls, value: object) -> object:
        if value is None or isinstance(value, timedelta):
            return value
        try:
            lag = parse_duration(value)
        except ValueError as exc:
            raise ValueError(
                f"availability_lag must be a duration such as 1d, 6h or 30min, not {value!r}"
            ) from exc
        if lag < pd.Timedelta(0):
            raise ValueError(f"availability_lag cannot be negative, got {value!r}")
        return lag.to_pytimedelta()


class ValueMatrix(_Strict):
    """Money gained (positive) or lost (negative) per decision, by outcome, for a binary task."""

    true_positive: float
    false_positive: float
    false_negative: float
    true_negative: float


class Business(_Strict):
    """What a decision is worth, so findings can be stated in money."""

    currency: str = "USD"
    value: ValueMatrix | None = None
    cost_per_unit_error: float | None = Field(
        None, ge=0, description="regression: money lost per unit of absolute error"
    )
    threshold: float = Field(0.5, ge=0, le=1, description="score at or above which the model acts")
    amount: str | None = Field(
        None,
        description="binary: the serving column with each event's money at stake (e.g. the "
        "transaction amount), for the caught-amount KPI; it may also be a numeric feature",
    )


class CaseSpec(_Strict):
    """A whole case: the contract every audit reads."""

    name: str
    task: Task
    description: str | None = None
    training: DataSource = DataSource()
    serving: DataSource = DataSource()
    columns: Columns
    features: list[Feature] = Field(default_factory=list)
    business: Business | None = None

    @field_validator("features")
    @classmethod
    def _once_each(cls, features: list[Feature]) -> list[Feature]:
        seen: set[str] = set()
        for feature in features:
            if feature.name in seen:
                raise ValueError(
                    f"feature {feature.name!r} is declared twice; keep one entry per feature"
                )
            seen.add(feature.name)
        return features

    @model_validator(mode="after")
    def _consistent(self) -> CaseSpec:
        roles = self.columns.roles()
        for feature in self.features:
            for role, column in roles.items():
                if feature.name == column:
                    raise ValueError(
                        f"{feature.name!r} is both a feature and the {role} column; "
                        "a column plays one role"
                    )
        by_column: dict[str, str] = {}
        for role, column in roles.items():
            if column in by_column:
                raise ValueError(
                    f"column {column!r} is given as both {by_column[column]} and {role}"
                )
            by_column[column] = role
        if self.business is not None:
            if self.task == "binary" and self.business.cost_per_unit_error is not None:
                raise ValueError(
                    "business.cost_per_unit_error is for regression; a binary case uses "
                    "business.value (true_positive, false_positive, false_negative, true_negative)"
                )
            if self.task == "regression" and self.business.value is not None:
                raise ValueError(
                    "business.value is for binary cases; a regression case uses "
                    "business.cost_per_unit_error"
                )
            self._check_amount(self.business.amount, roles)
        return self

    def _check_amount(self, amount: str | None, roles: dict[str, str]) -> None:
        if amount is None:
            return
        if self.task != "binary":
            raise ValueError(
                "business.amount is for binary cases (the amount the flagged events caught); "
                "remove it from this regression case"
            )
        for role, column in roles.items():
            if column == amount:
                raise ValueError(
                    f"business.amount {amount!r} is the {role} column; name the column that "
                    "holds each event's money at stake"
                )
        for feature in self.features:
            if feature.name == amount and feature.type != "numeric":
                raise ValueError(
                    f"business.amount {amount!r} is a {feature.type} feature; the amount must "
                    "be numeric"
                )

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    def feature(self, name: str) -> Feature:
        for f in self.features:
            if f.name == name:
                return f
        raise KeyError(name)
