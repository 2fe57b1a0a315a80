"""Profiles: small, mergeable summaries of one column of one data set on a layout.

A profile is what an engine (numpy, DuckDB, Spark) produces and what statistics consume
(``prodready.stats.drift.numeric_drift_from_profiles`` and
``categorical_drift_from_profiles``), so the same audit runs on any size of data.

* :class:`NumericProfile` on a :class:`~prodready.engine.layout.NumericLayout`: ``counts``
  (bin ``j`` = ``(edges[j-1], edges[j]]``, bin 0 = ``(-inf, edges[0]]``, the last bin =
  ``(edges[-1], +inf)``), ``interior`` (values strictly inside a bin, not on its right edge),
  ``offsets`` (sum over a bin's values of ``x - anchor[j]``, ``anchor[j] = edges[max(j-1, 0)]``)
  — exactly the fine profile of :mod:`prodready.stats.drift` — plus ``n`` (finite values),
  ``missing`` (NaN/None), ``nonfinite`` (+/-inf, kept out of the bins), ``minimum`` and
  ``maximum`` (NaN when ``n == 0``), ``mean`` (NaN when ``n == 0``) and ``m2`` (sum of squared
  deviations from the mean).
* :class:`CategoricalProfile` on a :class:`~prodready.engine.layout.CategoricalLayout`:
  ``counts`` aligned with the layout's categories, ``other`` (values outside the layout: the
  long-tail bucket, which also holds labels the reference never had), ``missing``, ``n``
  (non-missing).

Merging two profiles of the same layout gives the profile of the two data sets together:
counts, ``n``, ``missing``, minimum and maximum exactly; offsets, mean and ``m2`` up to the order
of floating sums. Means and ``m2`` merge with the parallel formula of Chan, Golub and LeVeque
("Updating formulae and a pairwise algorithm for computing sample variances", 1979):
``delta = mean_b - mean_a``, ``mean = mean_a + delta n_b / n``,
``m2 = m2_a + m2_b + delta^2 n_a n_b / n``.

A :class:`ProfileSet` holds the profiles of many columns, optionally per time group (calendar
month or day, UTC), with the layouts they were made on and where they came from.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import reduce
from typing import Any

import numpy as np
import pandas as pd

from prodready.engine.layout import (
    CategoricalLayout,
    Layout,
    NumericLayout,
    _count,
    _float,
    _same_float,
    layout_from_dict,
)
from prodready.errors import DataError, ParameterError

__all__ = [
    "CategoricalProfile",
    "NumericProfile",
    "Profile",
    "ProfileSet",
    "merge_all",
    "profile_from_dict",
]


def _check_layouts(a, b) -> None:
    if type(a) is not type(b) or a.layout.key != b.layout.key:
        raise ParameterError(
            "cannot merge profiles made on different layouts",
            fix="profile every data set on the layout built once from the reference data",
        )


def _json_float(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def _array(data: dict, name: str, dtype, length: int) -> np.ndarray:
    values = data[name]
    if not isinstance(values, list) or len(values) != length:
        found = len(values) if isinstance(values, list) else type(values).__name__
        raise DataError(f"'{name}' must be a list of {length} numbers, found {found}")
    if dtype is np.int64 and not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values
    ):
        raise DataError(f"'{name}' must hold non-negative whole numbers")
    array = np.asarray([_float(v) for v in values] if dtype is np.float64 else values, dtype=dtype)
    if dtype is np.float64 and not np.all(np.isfinite(array)):
        raise DataError(f"'{name}' must hold finite numbers")
    return array


# --------------------------------------------------------------------------------------------
# Numeric


@dataclass(frozen=True, eq=False)
class NumericProfile:
    """Fine-bin counts, within-bin offsets and moments of one numeric column on a layout."""

    layout: NumericLayout = field(repr=False)
    counts: np.ndarray = field(repr=False)  # int64, len(edges) + 1
    interior: np.ndarray = field(repr=False)  # int64
    offsets: np.ndarray = field(repr=False)  # float64
    n: int
    missing: int
    nonfinite: int
    minimum: float
    maximum: float
    mean: float
    m2: float

    kind = "numeric"

    @property
    def total(self) -> int:
        """All values seen: finite, missing and infinite."""
        return self.n + self.missing + self.nonfinite

    def std(self, ddof: int = 0) -> float:
        """Standard deviation of the finite values (NaN when there are ``ddof`` or fewer)."""
        return math.sqrt(self.m2 / (self.n - ddof)) if self.n > ddof else math.nan

    def coarse_counts(self) -> np.ndarray:
        """Counts in the layout's decile bins, summed from the fine bins (no second pass)."""
        cumulative = np.cumsum(self.counts)[self.layout.coarse_index]
        return np.diff(np.concatenate(([0], cumulative, [self.n]))).astype(np.int64)

    def merge(self, other: NumericProfile) -> NumericProfile:
        """The profile of both data sets together (same layout, else ParameterError)."""
        _check_layouts(self, other)
        n = self.n + other.n
        if self.n == 0 or other.n == 0:
            mean, m2 = (other.mean, other.m2) if self.n == 0 else (self.mean, self.m2)
        else:  # Chan, Golub and LeVeque's parallel update
            delta = other.mean - self.mean
            mean = self.mean + delta * other.n / n
            m2 = self.m2 + other.m2 + delta * delta * self.n * other.n / n
        return NumericProfile(
            layout=self.layout,
            counts=self.counts + other.counts,
            interior=self.interior + other.interior,
            offsets=self.offsets + other.offsets,
            n=n,
            missing=self.missing + other.missing,
            nonfinite=self.nonfinite + other.nonfinite,
            minimum=float(np.fmin(self.minimum, other.minimum)),
            maximum=float(np.fmax(self.maximum, other.maximum)),
            mean=float(mean),
            m2=float(m2),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NumericProfile) or self.layout.key != other.layout.key:
            return False
        arrays = ("counts", "interior", "offsets")
        floats = ("minimum", "maximum", "mean", "m2")
        return (
            all(np.array_equal(getattr(self, a), getattr(other, a)) for a in arrays)
            and all(_same_float(getattr(self, f), getattr(other, f)) for f in floats)
            and (self.n, self.missing, self.nonfinite) == (other.n, other.missing, other.nonfinite)
        )

    __hash__ = None  # type: ignore[assignment]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe (arrays as lists, NaN as None; floats round-trip exactly via json)."""
        return {
            "kind": "numeric",
            "layout_key": self.layout.key,
            "counts": self.counts.tolist(),
            "interior": self.interior.tolist(),
            "offsets": self.offsets.tolist(),
            "n": self.n,
            "missing": self.missing,
            "nonfinite": self.nonfinite,
            "minimum": _json_float(self.minimum),
            "maximum": _json_float(self.maximum),
            "mean": _json_float(self.mean),
            "m2": _json_float(self.m2),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], layout: NumericLayout) -> NumericProfile:
        """Inverse of :meth:`to_dict`; anything inconsistent raises DataError."""
        size = layout.edges.size + 1
        counts = _array(data, "counts", np.int64, size)
        interior = _array(data, "interior", np.int64, size)
        n = _count(data["n"])
        if np.any(interior > counts):
            raise DataError("'interior' exceeds 'counts' in some bin")
        if int(counts.sum()) != n:
            raise DataError(f"'counts' add up to {int(counts.sum()):,}, not n = {n:,}")
        return cls(
            layout=layout,
            counts=counts,
            interior=interior,
            offsets=_array(data, "offsets", np.float64, size),
            n=n,
            missing=_count(data["missing"]),
            nonfinite=_count(data["nonfinite"]),
            minimum=_float(data["minimum"]),
            maximum=_float(data["maximum"]),
            mean=_float(data["mean"]),
            m2=_float(data["m2"]),
        )


# --------------------------------------------------------------------------------------------
# Categorical


@dataclass(frozen=True, eq=False)
class CategoricalProfile:
    """Counts per layout category, the long-tail "other" bucket and missing values."""

    layout: CategoricalLayout = field(repr=False)
    counts: np.ndarray = field(repr=False)  # int64, aligned with layout.categories
    other: int
    missing: int
    n: int  # non-missing values, = counts.sum() + other

    kind = "categorical"

    @property
    def total(self) -> int:
        return self.n + self.missing

    @property
    def unseen_share_is_upper_bound(self) -> bool:
        """True when the layout is incomplete: "other" then mixes rare reference labels with
        labels the reference never had."""
        return not self.layout.complete

    def merge(self, other: CategoricalProfile) -> CategoricalProfile:
        _check_layouts(self, other)
        return CategoricalProfile(
            layout=self.layout,
            counts=self.counts + other.counts,
            other=self.other + other.other,
            missing=self.missing + other.missing,
            n=self.n + other.n,
        )

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, CategoricalProfile)
            and self.layout.key == other.layout.key
            and np.array_equal(self.counts, other.counts)
            and (self.other, self.missing, self.n) == (other.other, other.missing, other.n)
        )

    __hash__ = None  # type: ignore[assignment]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "categorical",
            "layout_key": self.layout.key,
            "counts": self.counts.tolist(),
            "other": self.other,
            "missing": self.missing,
            "n": self.n,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], layout: CategoricalLayout) -> CategoricalProfile:
        counts = _array(data, "counts", np.int64, len(layout.categories))
        other, n = _count(data["other"]), _count(data["n"])
        if int(counts.sum()) + other != n:
            raise DataError(f"'counts' and 'other' add up to {int(counts.sum()) + other:,}, not n")
        return cls(layout=layout, counts=counts, other=other, missing=_count(data["missing"]), n=n)


Profile = NumericProfile | CategoricalProfile


def merge_all(profiles: Iterable[Profile]) -> Profile:
    """Merge several profiles of one layout (at least one)."""
    profiles = list(profiles)
    if not profiles:
        raise ParameterError("merge_all needs at least one profile")
    return reduce(lambda a, b: a.merge(b), profiles)


def profile_from_dict(data: dict[str, Any], layout: Layout) -> Profile:
    """A profile from ``to_dict()`` output and its layout; a mismatch raises DataError."""
    try:
        if data.get("kind") != layout.kind:
            raise DataError(f"a {data.get('kind')!r} profile is paired with a {layout.kind} layout")
        if data.get("layout_key") != layout.key:
            raise DataError("a profile's layout_key does not match its column's layout")
        cls = NumericProfile if layout.kind == "numeric" else CategoricalProfile
        return cls.from_dict(data, layout)
    except DataError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise DataError(f"a profile is malformed ({type(err).__name__}: {err})") from err


# --------------------------------------------------------------------------------------------
# Many columns, many groups


Group = pd.Timestamp | None


def _group_sort_key(group: Group) -> tuple[int, Any]:
    return (0, pd.Timestamp.min.tz_localize("UTC")) if group is None else (1, group)


@dataclass(frozen=True, eq=False)
class ProfileSet:
    """Profiles of many columns of one data set, per group (period start, UTC) or for the
    whole (group ``None``), with the layouts they were made on and their ``source``
    (``engine``, ``rows``, ``description``)."""

    layouts: Mapping[str, Layout]
    profiles: Mapping[tuple[Group, str], Profile]
    source: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for (_, column), profile in self.profiles.items():
            layout = self.layouts.get(column)
            if layout is None or layout.key != profile.layout.key:
                raise ParameterError(
                    f"the profile of column {column!r} is not on the layout given for it"
                )

    @property
    def groups(self) -> list[Group]:
        """Group keys in time order (``None``, the whole data set, first)."""
        return sorted({g for g, _ in self.profiles}, key=_group_sort_key)

    @property
    def columns(self) -> list[str]:
        return list(self.layouts)

    def column(self, name: str, group: Group = None) -> Profile:
        """The profile of one column in one group (``None``: the whole set)."""
        try:
            return self.profiles[(group, name)]
        except KeyError:
            raise ParameterError(
                f"no profile of column {name!r} for group {group}",
                expected=f"a column among {', '.join(map(repr, self.layouts))} and a group "
                f"among {', '.join(map(str, self.groups))}",
                fix="call .whole() first for the whole data set" if group is None else None,
            ) from None

    def merge(self, other: ProfileSet) -> ProfileSet:
        """Union of groups and columns; profiles present in both are merged."""
        for name, layout in other.layouts.items():
            mine = self.layouts.get(name)
            if mine is not None and mine.key != layout.key:
                raise ParameterError(f"column {name!r} has different layouts in the two sets")
        profiles = dict(self.profiles)
        for key, profile in other.profiles.items():
            profiles[key] = profiles[key].merge(profile) if key in profiles else profile
        source = {
            "engine": _joined(self.source.get("engine"), other.source.get("engine")),
            "rows": int(self.source.get("rows", 0)) + int(other.source.get("rows", 0)),
            "description": _joined(self.source.get("description"), other.source.get("description")),
        }
        untimed = [s.get("rows_without_time") for s in (self.source, other.source)]
        if any(u is not None for u in untimed):  # profiled per period: rows left out of them
            source["rows_without_time"] = sum(int(u or 0) for u in untimed)
        return ProfileSet(
            layouts={**self.layouts, **other.layouts}, profiles=profiles, source=source
        )

    def whole(self) -> ProfileSet:
        """All groups merged: one profile per column, group ``None``."""
        by_column: dict[str, list[Profile]] = {}
        for (_, column), profile in self._in_order():
            by_column.setdefault(column, []).append(profile)
        profiles = {(None, c): merge_all(ps) for c, ps in by_column.items()}
        return ProfileSet(layouts=dict(self.layouts), profiles=profiles, source=dict(self.source))

    def _in_order(self) -> list[tuple[tuple[Group, str], Profile]]:
        return sorted(self.profiles.items(), key=lambda kv: (_group_sort_key(kv[0][0]), kv[0][1]))

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ProfileSet)
            and dict(self.layouts) == dict(other.layouts)
            and dict(self.profiles) == dict(other.profiles)
            and dict(self.source) == dict(other.source)
        )

    __hash__ = None  # type: ignore[assignment]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: layouts by column, profiles as a list with their group (ISO 8601 period
        start, or null) and column, and the source."""
        return {
            "layouts": {name: layout.to_dict() for name, layout in self.layouts.items()},
            "profiles": [
                {
                    "group": None if group is None else group.isoformat(),
                    "column": column,
                    **profile.to_dict(),
                }
                for (group, column), profile in self._in_order()
            ],
            "source": dict(self.source),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProfileSet:
        """Inverse of :meth:`to_dict`; anything malformed raises DataError."""
        try:
            layouts = {str(k): layout_from_dict(v) for k, v in data["layouts"].items()}
            profiles: dict[tuple[Group, str], Profile] = {}
            for item in data["profiles"]:
                column = item["column"]
                if column not in layouts:
                    raise DataError(f"a profile names column {column!r}, which has no layout")
                group = None if item["group"] is None else _timestamp(item["group"])
                if (group, column) in profiles:
                    raise DataError(f"column {column!r} has two profiles for group {group}")
                try:
                    profiles[(group, column)] = profile_from_dict(item, layouts[column])
                except DataError as err:
                    raise DataError(f"column {column!r}, group {group}: {err.problem}") from err
            source = data.get("source", {})
            if not isinstance(source, dict):
                raise DataError("'source' must be an object")
        except DataError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise DataError(f"the profile set is malformed ({type(err).__name__}: {err})") from err
        return cls(layouts=layouts, profiles=profiles, source=source)


def _timestamp(text: str) -> pd.Timestamp:
    stamp = pd.Timestamp(text)
    if stamp.tzinfo is None:
        raise DataError(f"group {text!r} has no time zone", expected="a UTC ISO 8601 time")
    return stamp.tz_convert("UTC")


def _joined(a: str | None, b: str | None) -> str | None:
    if not a or not b or a == b:
        return a or b
    return f"{a} + {b}"
