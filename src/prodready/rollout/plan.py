"""A rollout plan: ordered stages, each with a name, a duration in days and a served share.

A stage's ``share`` is the percentage (0-100) of decisions the challenger *serves*. A share of
0 is shadow mode: the challenger scores every event but serves none. Stages follow each other
without gaps or overlap: a stage starts the day after the previous one ends.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from prodready.errors import ParameterError


@dataclass(frozen=True)
class Stage:
    """One step of a rollout: ``name``, ``days`` (a positive whole number), ``share`` (0-100)."""

    name: str
    days: int
    share: float

    def __post_init__(self) -> None:
        where = f"rollout stage {self.name!r}"
        if not isinstance(self.name, str) or not self.name.strip():
            raise ParameterError(
                "a stage needs a non-empty name",
                where="rollout stage",
                found=repr(self.name),
                fix="name each stage, e.g. 'shadow', 'canary', 'ramp 25%'",
            )
        if isinstance(self.days, bool) or not float(self.days).is_integer() or self.days <= 0:
            raise ParameterError(
                "the duration must be a positive whole number of days",
                where=where,
                found=repr(self.days),
                fix="give at least 1 day, e.g. days=7",
            )
        object.__setattr__(self, "days", int(self.days))
        try:
            share = float(self.share)
        except (TypeError, ValueError):
            share = float("nan")
        if not 0 <= share <= 100:
            raise ParameterError(
                "the traffic share must be a percentage between 0 and 100",
                where=where,
                found=repr(self.share),
                fix="use 0 for shadow mode, e.g. 5 for a 5% canary, 100 for full rollout",
            )
        object.__setattr__(self, "share", share)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "days": self.days, "share": self.share}


@dataclass(frozen=True)
class Plan:
    """Ordered, non-overlapping stages; validated on construction."""

    stages: tuple[Stage, ...]

    def __post_init__(self) -> None:
        stages = tuple(s if isinstance(s, Stage) else Stage(**dict(s)) for s in (self.stages or ()))
        if not stages:
            raise ParameterError(
                "a rollout plan needs at least one stage",
                where="rollout plan",
                fix="use Plan.default() or give stages such as Stage('canary', 14, 5)",
            )
        names = [s.name for s in stages]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ParameterError(
                f"stage names must be unique; repeated: {', '.join(dupes)}",
                where="rollout plan",
                fix="give each stage its own name, e.g. 'ramp 5%' and 'ramp 25%'",
            )
        object.__setattr__(self, "stages", stages)

    @classmethod
    def default(cls, canary_share: float = 5) -> Plan:
        """Shadow 14 days (share 0), canary 14 days at ``canary_share`` (5 or 1 percent), then
        5% -> 25% -> 50% -> 100% for 7 days each: 56 days in all."""
        if canary_share not in (1, 5):
            raise ParameterError(
                "the default plan's canary share is 1 or 5 percent",
                where="Plan.default",
                found=repr(canary_share),
                fix="pass canary_share=1 or 5, or build a Plan from your own stages",
            )
        return cls(
            (
                Stage("shadow", 14, 0),
                Stage("canary", 14, canary_share),
                Stage("ramp 5%", 7, 5),
                Stage("ramp 25%", 7, 25),
                Stage("ramp 50%", 7, 50),
                Stage("full 100%", 7, 100),
            )
        )

    @classmethod
    def from_value(cls, value: Plan | Iterable[Stage | Mapping[str, Any]] | None) -> Plan:
        """Accept a Plan, None (the default plan) or a list of stages / dicts."""
        if value is None:
            return cls.default()
        if isinstance(value, Plan):
            return value
        return cls(tuple(value))

    @property
    def days(self) -> int:
        return sum(s.days for s in self.stages)

    def to_frame(self) -> pd.DataFrame:
        """One row per stage: name, days, share, first_day and last_day (0-based, inclusive)."""
        ends = pd.Series([s.days for s in self.stages]).cumsum()
        frame = pd.DataFrame([s.to_dict() for s in self.stages])
        frame["first_day"] = (ends - frame["days"]).astype(int)
        frame["last_day"] = (ends - 1).astype(int)
        return frame

    def to_dict(self) -> dict[str, Any]:
        return {"stages": [s.to_dict() for s in self.stages], "days": self.days}
