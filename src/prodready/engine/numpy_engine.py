"""The in-memory engine: profiles of pandas/numpy data on a layout.

A numeric profile sorts the values once and finds each edge by binary search
(``prodready.stats.drift._profile_sorted``, the same code as the binned drift path, so the
numbers are the same to the last digit). A categorical profile counts labels with pandas'
``value_counts`` and compares them as text. :func:`profile_frame` profiles many columns at once,
optionally per calendar month (or day) of a UTC timestamp column; :func:`profile_groups` does
the same from columns already turned into arrays and group codes (the Parquet engine's batches,
which never become a pandas frame).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from prodready.engine.layout import (
    CategoricalLayout,
    Layout,
    NumericLayout,
    categorical_layout,
    finite_sorted,
    for_column,
    labels_as_text,
    numeric_layout,
)
from prodready.engine.profile import (
    CategoricalProfile,
    NumericProfile,
    Profile,
    ProfileSet,
)
from prodready.errors import ParameterError
from prodready.stats.drift import _profile_sorted

__all__ = [
    "ENGINE",
    "Labels",
    "layouts_for",
    "profile_categorical",
    "profile_frame",
    "profile_groups",
    "profile_numeric",
]

ENGINE = "numpy"
_M2_CHUNK = 1 << 20  # values whose squared deviations are summed at a time (8 MB each)
_FREQUENCIES = {"MS": "calendar month", "D": "day"}


@dataclass(frozen=True)
class Labels:
    """A categorical column as positions into its distinct labels, so counting needs no text per
    row: ``codes[i]`` is row ``i``'s position in ``text`` (-1: missing); ``text`` is each
    distinct label as text (None: a missing entry). Equal texts count as one label."""

    codes: np.ndarray
    text: np.ndarray


def profile_numeric(values, layout: NumericLayout) -> NumericProfile:
    """Profile of numeric values on ``layout``: NaN/None count as missing, +/-inf as
    ``nonfinite`` (outside the bins). Text raises :class:`~prodready.errors.ParameterError`."""
    return profile_of_sorted(*finite_sorted(values), layout)


def profile_of_sorted(
    finite: np.ndarray, missing: int, nonfinite: int, layout: NumericLayout
) -> NumericProfile:
    """:func:`profile_numeric` of values already through :func:`finite_sorted` (a caller
    holding a large column sorts it once for its layout and its profile)."""
    n = int(finite.size)
    size = layout.edges.size + 1
    if n == 0:
        zeros = np.zeros(size, dtype=np.int64)
        return NumericProfile(
            layout=layout,
            counts=zeros,
            interior=zeros.copy(),
            offsets=np.zeros(size),
            n=0,
            missing=missing,
            nonfinite=nonfinite,
            minimum=np.nan,
            maximum=np.nan,
            mean=np.nan,
            m2=np.nan,
        )
    fine = _profile_sorted(finite, layout.edges)
    mean = np.mean(finite)
    # two passes: accurate m2 whatever the values' magnitude; the deviations a chunk at a time,
    # so a column of 85M values needs no two more copies of itself (one chunk: one np.sum)
    m2 = sum(_squared_deviations(finite[i : i + _M2_CHUNK], mean) for i in range(0, n, _M2_CHUNK))
    return NumericProfile(
        layout=layout,
        counts=fine.counts,
        interior=fine.interior,
        offsets=fine.offsets,
        n=n,
        missing=missing,
        nonfinite=nonfinite,
        minimum=float(finite[0]),
        maximum=float(finite[-1]),
        mean=float(mean),
        m2=float(m2),
    )


def _squared_deviations(values: np.ndarray, mean: np.floating) -> np.floating:
    """``np.sum(np.square(values - mean))``, the square taken in place: one temporary array
    instead of two (a fresh 8 MB array's page faults cost more than the arithmetic: measured
    several times faster on 1M values). The same floats, summed in the same order."""
    deviations = values - mean
    np.square(deviations, out=deviations)
    return np.sum(deviations)


def profile_categorical(values, layout: CategoricalLayout) -> CategoricalProfile:
    """Profile of labels on ``layout`` (labels compared as text; missing values counted apart;
    labels outside the layout go to ``other``)."""
    counts, missing = labels_as_text(values)
    n = int(counts.sum())
    aligned = counts.reindex(layout.index, fill_value=0).to_numpy(dtype=np.int64)
    return CategoricalProfile(
        layout=layout, counts=aligned, other=n - int(aligned.sum()), missing=missing, n=n
    )


def profile_values(values, layout: Layout) -> Profile:
    """Numeric or categorical profile, as the layout says."""
    if isinstance(layout, NumericLayout):
        return profile_numeric(values, layout)
    return profile_categorical(values, layout)


def layouts_for(
    frame: pd.DataFrame, numeric: Sequence[str] = (), categorical: Sequence[str] = ()
) -> dict[str, Layout]:
    """Layouts of the listed columns of a reference frame (numeric first, then categorical)."""
    out: dict[str, Layout] = {}
    for name in [*numeric, *categorical]:
        _require_column(frame, name)
        try:
            if name in numeric:
                out[name] = numeric_layout(frame[name])
            else:
                out[name] = categorical_layout(frame[name])
        except ParameterError as err:
            raise for_column(err, name) from err
    return out


def profile_frame(
    frame: pd.DataFrame,
    layouts: Mapping[str, Layout],
    *,
    by: str | None = None,
    freq: str = "MS",
    description: str = "",
) -> ProfileSet:
    """One profile per column in ``layouts``, for the whole frame or per period of ``by``.

    ``by`` names a time-zone-aware timestamp column; groups are its calendar months in UTC
    (``freq="MS"``) or days (``"D"``), keyed by the period start (a UTC ``pd.Timestamp``). Rows
    whose timestamp is missing are left out of the groups (their number is in
    ``source["rows_without_time"]``).
    """
    for name in layouts:
        _require_column(frame, name)
    source = {"engine": ENGINE, "rows": len(frame), "description": description}
    if by is None:
        profiles = {}
        for name, layout in layouts.items():
            try:
                profiles[(None, name)] = profile_values(frame[name], layout)
            except ParameterError as err:
                raise for_column(err, name) from err
        return ProfileSet(layouts=dict(layouts), profiles=profiles, source=source)

    starts = _period_starts(frame, by, freq)
    codes, uniques = pd.factorize(starts, sort=True, use_na_sentinel=True)

    def column(name: str) -> np.ndarray | Labels:
        if isinstance(layouts[name], CategoricalLayout):
            return _factorized(frame[name])
        return _numbers(frame[name])

    return _grouped(column, layouts, codes, [pd.Timestamp(u) for u in uniques], source)


def profile_groups(
    columns: Mapping[str, np.ndarray | Labels],
    layouts: Mapping[str, Layout],
    groups: np.ndarray,
    starts: Sequence[pd.Timestamp],
    *,
    description: str = "",
) -> ProfileSet:
    """What :func:`profile_frame` gives with ``by``, from columns already converted: a numeric
    column as float64 values (NaN missing), a categorical one as :class:`Labels`; ``groups[i]``
    is row ``i``'s position in ``starts`` (-1: no time, left out of the groups)."""
    source = {"engine": ENGINE, "rows": len(groups), "description": description}
    return _grouped(columns.__getitem__, layouts, np.asarray(groups), list(starts), source)


def _grouped(
    column: Callable[[str], np.ndarray | Labels],
    layouts: Mapping[str, Layout],
    codes: np.ndarray,
    starts: list[pd.Timestamp],
    source: dict,
) -> ProfileSet:
    """One profile per column and group; ``column(name)`` gives a column's values when needed
    (one converted column in memory at a time)."""
    if codes.size < 2 or bool(np.all(codes[1:] >= codes[:-1])):
        order = None  # rows already in group order (a log written in time order): no gather
        bounds = np.searchsorted(codes, np.arange(-1, len(starts) + 1))
    else:
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(-1, len(starts) + 1))
    source["rows_without_time"] = int(bounds[1] - bounds[0])
    profiles = {}
    for name, layout in layouts.items():
        try:
            values = column(name)
            if isinstance(layout, CategoricalLayout):
                found = _labels_by_group(values, layout, codes, len(starts))
            else:
                values = values if order is None else values[order]
                found = [
                    profile_numeric(values[bounds[code + 1] : bounds[code + 2]], layout)
                    for code in range(len(starts))
                ]
        except ParameterError as err:
            raise for_column(err, name) from err
        for start, profile in zip(starts, found, strict=True):
            profiles[(start, name)] = profile
    return ProfileSet(layouts=dict(layouts), profiles=profiles, source=source)


def _numbers(column: pd.Series) -> np.ndarray:
    try:
        return column.to_numpy(dtype="float64", na_value=np.nan)
    except (TypeError, ValueError) as err:
        raise ParameterError("holds values that are not numbers", expected="numbers") from err


def _factorized(column: pd.Series) -> Labels:
    """A categorical column's :class:`Labels`: each distinct value once, as text."""
    labels, distinct = pd.factorize(column, use_na_sentinel=True)
    text = pd.Index(distinct.astype(object)).map(str) if len(distinct) else pd.Index([])
    return Labels(codes=labels, text=text.to_numpy(dtype=object))


def _labels_by_group(
    labels: Labels, layout: CategoricalLayout, groups: np.ndarray, n_groups: int
) -> list[CategoricalProfile]:
    """Categorical profiles of every group in one pass: each distinct label is mapped once
    (as text) to its layout position, "other" or missing, then one bincount over
    (group, bucket) pairs. The same counts as :func:`profile_categorical` per group."""
    k = len(layout.categories)
    text = labels.text
    position = layout.index.get_indexer(pd.Index(text, dtype=object)) if len(text) else []
    bucket_of = np.where(np.asarray(position) >= 0, position, k).astype(np.int64)
    bucket_of[pd.isna(text)] = k + 1  # a missing entry of the distinct labels
    bucket_of = np.append(bucket_of, k + 1)  # k other, k + 1 missing
    buckets = bucket_of[labels.codes]  # label -1 (missing) picks the last entry
    keep = groups >= 0
    if not keep.all():  # rows without a time belong to no group
        groups, buckets = groups[keep], buckets[keep]
    table = np.bincount(groups * (k + 2) + buckets, minlength=n_groups * (k + 2))
    table = table.reshape(n_groups, k + 2)
    return [
        CategoricalProfile(
            layout=layout,
            counts=row[:k].astype(np.int64),
            other=int(row[k]),
            missing=int(row[k + 1]),
            n=int(row[: k + 1].sum()),
        )
        for row in table
    ]


def _period_starts(frame: pd.DataFrame, by: str, freq: str) -> pd.Series:
    if freq not in _FREQUENCIES:
        raise ParameterError(
            f"unknown period {freq!r}", expected="'MS' (calendar month) or 'D' (day)"
        )
    _require_column(frame, by)
    times = frame[by]
    if not isinstance(times.dtype, pd.DatetimeTZDtype):
        raise ParameterError(
            f"column {by!r} is not a time-zone-aware timestamp",
            found=str(times.dtype),
            fix="parse it as UTC, e.g. pd.to_datetime(frame[column], utc=True)",
        )
    times = times.dt.tz_convert("UTC")
    days = times.dt.floor("D")
    if freq == "D":
        return days
    return days - pd.to_timedelta(times.dt.day - 1, unit="D")


def _require_column(frame: pd.DataFrame, name: str) -> None:
    if name not in frame.columns:
        raise ParameterError(
            f"column {name!r} is not in the data",
            expected="one of " + ", ".join(repr(c) for c in list(frame.columns)[:20]),
        )
