"""Layouts: the binning decided once from the REFERENCE (training) data.

A layout fixes the bins on which every other data set (serving, one month, one chunk of a file)
is profiled, so that those profiles are comparable with the reference's and mergeable with each
other. It is built from the reference only, once.

* :class:`NumericLayout`: ``edges`` = ``np.unique`` of the reference's linear ("numpy default")
  quantiles at levels k/2000, k = 0..2000 (exactly the fine edges of
  :mod:`prodready.stats.drift`, so the first edge is the minimum and the last the maximum), and
  ``coarse_edges`` = the decile edges drift.py uses for PSI, Jensen-Shannon and Hellinger. The
  decile levels j/10 equal the fine levels 200j/2000 as doubles, so every coarse edge is one of
  the fine edges (``coarse_index`` says which) and coarse counts are sums of fine counts.
  Only finite values build a layout (NaN and +/-inf are left out); fewer than 2 raise
  :class:`~prodready.errors.ParameterError`.
* A SQL engine builds the SAME layout (bit for bit) without sorting everything in Python: it
  asks for the order statistics at :func:`layout_positions` (about 4,000 positions of the sorted
  finite values) and passes them to :func:`numeric_layout_from_sorted_positions`.
* :class:`CategoricalLayout`: the reference's labels **as text** (``str(label)``, so ``1`` and
  ``"1"`` are one category), most frequent first (ties by label), at most ``max_categories``
  (:data:`MAX_CATEGORIES`); ``complete`` is False when the reference had more, the rest then
  fall into the profiles' long-tail "other" bucket.

``layout.key`` is a sha256 of the bins (edges' bytes, or the categories), so checking that two
profiles share a layout is cheap.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from prodready.errors import DataError, ParameterError
from prodready.stats.drift import (
    _COARSE_LEVELS,
    _FINE_LEVELS,
    _lerp,
    _quantile_positions,
    _require_two,
)

__all__ = [
    "MAX_CATEGORIES",
    "CategoricalLayout",
    "Layout",
    "NumericLayout",
    "categorical_layout",
    "categorical_layout_from_label_counts",
    "labels_as_text",
    "layout_from_dict",
    "layout_positions",
    "numeric_layout",
    "numeric_layout_from_sorted_positions",
    "numeric_layout_of_sorted",
]

MAX_CATEGORIES = 1_000
"""Most categories a categorical layout keeps; rarer reference labels share the "other" bucket."""


def _float(value) -> float:
    return math.nan if value is None else float(value)


@dataclass(frozen=True, eq=False)
class NumericLayout:
    """Fine quantile edges (and the decile edges among them) of a numeric reference."""

    edges: np.ndarray = field(repr=False)  # float64, strictly increasing
    coarse_edges: np.ndarray = field(repr=False)  # float64, each one of `edges`
    minimum: float
    maximum: float
    std: float  # ddof=0, of the reference's finite values
    n: int  # the reference's finite values
    key: str = field(init=False)
    coarse_index: np.ndarray = field(init=False, repr=False)  # position of each coarse edge

    def __post_init__(self) -> None:
        edges = np.asarray(self.edges, dtype=np.float64)
        coarse = np.asarray(self.coarse_edges, dtype=np.float64)
        _check_edges(edges, "edges")
        _check_edges(coarse, "coarse_edges")
        index = np.searchsorted(edges, coarse)
        found = edges[np.minimum(index, edges.size - 1)]
        if np.any(index >= edges.size) or np.any(found != coarse):
            raise DataError("the layout's coarse edges are not all among its fine edges")
        object.__setattr__(self, "edges", edges)
        object.__setattr__(self, "coarse_edges", coarse)
        object.__setattr__(self, "coarse_index", index.astype(np.int64))
        digest = hashlib.sha256(b"numeric:" + edges.astype("<f8").tobytes()).hexdigest()
        object.__setattr__(self, "key", digest)

    kind = "numeric"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, NumericLayout)
            and self.key == other.key
            and np.array_equal(self.coarse_edges, other.coarse_edges)
            and _same_float(self.minimum, other.minimum)
            and _same_float(self.maximum, other.maximum)
            and _same_float(self.std, other.std)
            and self.n == other.n
        )

    __hash__ = None  # type: ignore[assignment]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe; floats round-trip exactly through ``json`` (it writes their repr)."""
        return {
            "kind": "numeric",
            "edges": self.edges.tolist(),
            "coarse_edges": self.coarse_edges.tolist(),
            "minimum": self.minimum,
            "maximum": self.maximum,
            "std": self.std,
            "n": self.n,
        }


@dataclass(frozen=True, eq=False)
class CategoricalLayout:
    """The reference's categories (as text), most frequent first."""

    categories: tuple[str, ...]
    complete: bool
    n: int  # the reference's non-missing values
    key: str = field(init=False)
    index: pd.Index = field(init=False, repr=False)

    kind = "categorical"

    def __post_init__(self) -> None:
        categories = tuple(self.categories)
        if not all(isinstance(c, str) for c in categories):
            raise DataError("a categorical layout's categories must be text")
        if len(set(categories)) != len(categories):
            raise DataError("a categorical layout lists a category twice")
        object.__setattr__(self, "categories", categories)
        object.__setattr__(self, "index", pd.Index(categories, dtype=object))
        raw = json.dumps(categories, ensure_ascii=False).encode("utf-8")
        object.__setattr__(self, "key", hashlib.sha256(b"categorical:" + raw).hexdigest())

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, CategoricalLayout)
            and self.key == other.key
            and self.complete == other.complete
            and self.n == other.n
        )

    __hash__ = None  # type: ignore[assignment]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "categorical",
            "categories": list(self.categories),
            "complete": self.complete,
            "n": self.n,
        }


Layout = NumericLayout | CategoricalLayout


def _same_float(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def _check_edges(edges: np.ndarray, name: str) -> None:
    if edges.ndim != 1 or edges.size == 0:
        raise DataError(f"a numeric layout's {name} must be a non-empty list of numbers")
    if not np.all(np.isfinite(edges)) or np.any(np.diff(edges) <= 0):
        raise DataError(f"a numeric layout's {name} must be finite and strictly increasing")


# --------------------------------------------------------------------------------------------
# Numeric builders


def finite_sorted(values) -> tuple[np.ndarray, int, int]:
    """Sorted finite float64 values, the number missing (NaN, None, pandas NA) and the number
    infinite. Text raises :class:`~prodready.errors.ParameterError`."""
    try:
        if isinstance(values, pd.Series | pd.Index):
            array = values.to_numpy(dtype="float64", na_value=np.nan)
        else:
            array = np.asarray(values, dtype="float64")
    except (TypeError, ValueError) as err:
        raise ParameterError(
            "holds values that are not numbers", expected="numbers (or missing values)"
        ) from err
    array = np.sort(array, axis=None)  # NaN last, -inf first, +inf just before NaN
    size = array.size
    stop = size
    if size and np.isnan(array[-1]):
        stop = int(np.searchsorted(array, np.nan, side="left"))
    start = int(np.searchsorted(array[:stop], -np.inf, side="right"))
    end = int(np.searchsorted(array[:stop], np.inf, side="left"))
    return array[start:end], size - stop, (stop - end) + start


def numeric_layout(values) -> NumericLayout:
    """The layout of a numeric reference (NaN and +/-inf left out); fewer than 2 finite values
    raise :class:`~prodready.errors.ParameterError`, as :mod:`prodready.stats.drift` does."""
    return numeric_layout_of_sorted(finite_sorted(values)[0])


def numeric_layout_of_sorted(array: np.ndarray) -> NumericLayout:
    """:func:`numeric_layout` of values already through :func:`finite_sorted` (sorted, finite):
    a caller holding a large column sorts it once for its layout and its profile."""
    _require_two(int(array.size), "reference")
    return NumericLayout(
        edges=np.unique(_quantiles(array, _FINE_LEVELS)),
        coarse_edges=np.unique(_quantiles(array, _COARSE_LEVELS)),
        minimum=float(array[0]),
        maximum=float(array[-1]),
        std=float(np.std(array)),
        n=int(array.size),
    )


def _quantiles(sorted_values: np.ndarray, levels: np.ndarray) -> np.ndarray:
    below, above, t = _quantile_positions(sorted_values.size, levels)
    return _lerp(sorted_values[below], sorted_values[above], t)


def layout_positions(n: int) -> np.ndarray:
    """The 0-based positions (sorted, unique, int64) of the order statistics a layout of ``n``
    finite values needs: ``floor(h)`` and ``floor(h) + 1`` (capped at ``n - 1``) with
    ``h = (n - 1) q`` for every fine level ``q`` (the decile levels are among them)."""
    _require_two(int(n), "reference")
    below, above, _ = _quantile_positions(int(n), _FINE_LEVELS)
    return np.unique(np.concatenate((below, above)))


def numeric_layout_from_sorted_positions(
    n: int, positions, values, minimum: float, maximum: float, std: float
) -> NumericLayout:
    """The same layout as :func:`numeric_layout`, from the reference's sorted finite values at
    :func:`layout_positions` ``(n)`` (``values[i]`` is the value at ``positions[i]``), its
    minimum, maximum and standard deviation (``ddof=0``): what a SQL engine can compute without
    moving the data. Bit-identical edges to :func:`numeric_layout` on the same data."""
    n = int(n)
    _require_two(n, "reference")
    positions = np.asarray(positions, dtype=np.int64)
    values = np.asarray(values, dtype=np.float64)
    needed = layout_positions(n)
    if positions.shape != values.shape or not np.array_equal(np.unique(positions), needed):
        raise ParameterError(
            "the order statistics given do not match the positions a layout needs",
            expected=f"values at the {needed.size:,} positions of layout_positions({n})",
            found=f"{positions.size:,} positions",
        )
    order = np.argsort(positions, kind="stable")
    positions, values = positions[order], values[order]
    if values[0] != minimum or values[-1] != maximum:
        raise ParameterError(
            "the minimum and maximum given differ from the first and last order statistics",
            found=f"minimum {minimum!r} vs {values[0]!r}, maximum {maximum!r} vs {values[-1]!r}",
        )

    def quantiles(levels: np.ndarray) -> np.ndarray:
        below, above, t = _quantile_positions(n, levels)
        a = values[np.searchsorted(positions, below)]
        b = values[np.searchsorted(positions, above)]
        return _lerp(a, b, t)

    return NumericLayout(
        edges=np.unique(quantiles(_FINE_LEVELS)),
        coarse_edges=np.unique(quantiles(_COARSE_LEVELS)),
        minimum=float(minimum),
        maximum=float(maximum),
        std=float(std),
        n=n,
    )


# --------------------------------------------------------------------------------------------
# Categorical builder


def labels_as_text(values) -> tuple[pd.Series, int]:
    """Counts per label as text (missing values dropped; labels that read the same as text are
    one category) and the number of missing values."""
    if isinstance(values, pd.Series | pd.Index):
        series = pd.Series(values, copy=False)
    else:
        series = pd.Series(np.asarray(values, dtype=object).ravel(), dtype=object, copy=False)
    counts = series.value_counts(dropna=True, sort=False)
    missing = int(series.size - counts.sum())
    index = counts.index
    text = isinstance(index.dtype, pd.StringDtype) or (
        index.dtype == object and all(isinstance(v, str) for v in index)
    )
    if not text:
        counts = counts.groupby(index.map(str), sort=False).sum()
    return counts.astype(np.int64), missing


def categorical_layout(values, *, max_categories: int = MAX_CATEGORIES) -> CategoricalLayout:
    """The layout of a categorical reference: labels as text, most frequent first (ties by
    label), at most ``max_categories`` of them. Fewer than 2 non-missing values raise
    :class:`~prodready.errors.ParameterError`."""
    counts, _ = labels_as_text(values)
    return categorical_layout_from_label_counts(counts, max_categories=max_categories)


def categorical_layout_from_label_counts(
    counts: pd.Series, *, max_categories: int = MAX_CATEGORIES
) -> CategoricalLayout:
    """:func:`categorical_layout` from the counts per label (index: labels as text), for
    engines that count without holding the values."""
    if max_categories < 1:
        raise ParameterError("max_categories must be at least 1", found=str(max_categories))
    n = int(counts.sum())
    _require_two(n, "reference")
    frame = pd.DataFrame({"label": counts.index.astype(object), "count": counts.to_numpy()})
    frame = frame.sort_values(["count", "label"], ascending=[False, True], kind="stable")
    labels = tuple(frame["label"].iloc[:max_categories])
    return CategoricalLayout(categories=labels, complete=len(frame) <= max_categories, n=n)


def layout_from_dict(data: dict[str, Any]) -> Layout:
    """Inverse of ``layout.to_dict()``; a malformed dict raises
    :class:`~prodready.errors.DataError`."""
    try:
        kind = data["kind"]
        if kind == "numeric":
            return NumericLayout(
                edges=np.asarray(data["edges"], dtype=np.float64),
                coarse_edges=np.asarray(data["coarse_edges"], dtype=np.float64),
                minimum=_float(data["minimum"]),
                maximum=_float(data["maximum"]),
                std=_float(data["std"]),
                n=_count(data["n"]),
            )
        if kind == "categorical":
            return CategoricalLayout(
                categories=tuple(data["categories"]),
                complete=_bool(data["complete"]),
                n=_count(data["n"]),
            )
    except DataError:
        raise
    except (KeyError, TypeError, ValueError) as err:
        raise DataError(f"a layout is malformed ({type(err).__name__}: {err})") from err
    raise DataError(f"unknown layout kind {kind!r}", expected="'numeric' or 'categorical'")


def _count(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise DataError(f"expected a non-negative whole number, found {value!r}")
    return int(value)


def _bool(value) -> bool:
    if not isinstance(value, bool):
        raise DataError(f"expected true or false, found {value!r}")
    return value


def for_column(err: Exception, name: str) -> Exception:
    """``err`` with the column it is about as its place (other errors pass unchanged)."""
    if isinstance(err, ParameterError):
        return ParameterError(
            err.problem,
            where=f"column {name!r}",
            expected=err.expected,
            found=err.found,
            fix=err.fix,
        )
    return err
