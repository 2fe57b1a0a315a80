"""The in-memory engine: profiles of pandas/numpy data on a layout.

A numeric profile sorts the values once and finds each edge by binary search
(``prodready.stats.drift._profile_sorted``, the same code as the binned drift path, so the
numbers are the same to the last digit). A categorical profile counts labels with pandas'
``value_counts`` and compares them as text. :func:`profile_frame` profiles many columns at once,
optionally per calendar month (or day) of a UTC timestamp column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

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

__all__ = ["ENGINE", "layouts_for", "profile_categorical", "profile_frame", "profile_numeric"]

ENGINE = "numpy"
_M2_CHUNK = 1 << 20  # values whose squared deviations are summed at a time (8 MB each)
_FREQUENCIES = {"MS": "calendar month", "D": "day"}


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
    m2 = sum(np.sum(np.square(finite[i : i + _M2_CHUNK] - mean)) for i in range(0, n, _M2_CHUNK))
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
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(-1, len(uniques) + 1))
    source["rows_without_time"] = int(bounds[1] - bounds[0])
    profiles = {}
    for name, layout in layouts.items():
        try:
            if isinstance(layout, CategoricalLayout):
                found = _categorical_by_group(frame[name], layout, codes, len(uniques))
            else:
                values = _numbers(frame[name])[order]
                found = [
                    profile_numeric(values[bounds[code + 1] : bounds[code + 2]], layout)
                    for code in range(len(uniques))
                ]
        except ParameterError as err:
            raise for_column(err, name) from err
        for start, profile in zip(uniques, found, strict=True):
            profiles[(pd.Timestamp(start), name)] = profile
    return ProfileSet(layouts=dict(layouts), profiles=profiles, source=source)


def _numbers(column: pd.Series) -> np.ndarray:
    try:
        return column.to_numpy(dtype="float64", na_value=np.nan)
    except (TypeError, ValueError) as err:
        raise ParameterError("holds values that are not numbers", expected="numbers") from err


def _categorical_by_group(
    column: pd.Series, layout: CategoricalLayout, groups: np.ndarray, n_groups: int
) -> list[CategoricalProfile]:
    """Categorical profiles of every group in one pass: each distinct label is mapped once
    (as text) to its layout position, "other" or missing, then one bincount over
    (group, bucket) pairs. The same counts as :func:`profile_categorical` per group."""
    k = len(layout.categories)
    labels, distinct = pd.factorize(column, use_na_sentinel=True)
    text = pd.Index(distinct.astype(object)).map(str) if len(distinct) else pd.Index([])
    position = layout.index.get_indexer(text)
    bucket_of = np.append(np.where(position >= 0, position, k), k + 1)  # k other, k + 1 missing
    buckets = bucket_of[labels]  # label -1 (missing) picks the last entry
    keep = groups >= 0
    table = np.bincount(
        groups[keep] * (k + 2) + buckets[keep], minlength=n_groups * (k + 2)
    ).reshape(n_groups, k + 2)
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
