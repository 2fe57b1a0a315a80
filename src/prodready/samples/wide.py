"""A wide synthetic training / serving pair for benchmarks and tests of the distribution statistics.

Not a case (no label, ids or timestamps): just many feature columns of varied shapes, with a few
columns drifted between training and serving on purpose. Each column draws from its own
``np.random.default_rng([seed, side, column])`` stream, so the same ``rows`` and ``seed`` give
the same frames, and adding columns does not change the existing ones.

Numeric columns ``num_00, num_01, ...`` cycle through six shapes: normal, log-normal (skewed),
exponential, Poisson counts (many ties), a two-component mixture (bimodal) and uniform; about
1 % of values are missing. Categorical columns ``cat_00, ...`` (pandas ``str`` dtype) hold 5 to 60
labels with Zipf-like frequencies, about 1 % missing.

With ``drift=True`` the serving frame differs where :func:`drifted_columns` says:
``num_00`` mean shifted by half a standard deviation, ``num_01`` spread x 1.5, ``num_02`` a unit
change (serving / training = 0.621, km to miles), ``cat_00`` 5 % of rows in a category never seen
in training, ``cat_01`` frequencies of its two most common labels swapped.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from prodready.errors import ParameterError

__all__ = ["drifted_columns", "generate"]

_MISSING = 0.01
_KM_TO_MILES = 0.621


def numeric_names(count: int) -> list[str]:
    return [f"num_{i:02d}" for i in range(count)]


def categorical_names(count: int) -> list[str]:
    return [f"cat_{i:02d}" for i in range(count)]


def drifted_columns(numeric: int = 20, categorical: int = 5) -> list[str]:
    """The columns :func:`generate` drifts when ``drift=True`` (given the same counts)."""
    return numeric_names(min(numeric, 3)) + categorical_names(min(categorical, 2))


def _numeric(rng: np.random.Generator, shape: int, rows: int, *, drift: int | None) -> np.ndarray:
    """One numeric column; ``drift`` is None (none) or the column's drift kind 0, 1 or 2."""
    loc, scale = 1.0 + shape, 1.0 + 0.5 * shape
    if drift == 0:
        loc += 0.5 * scale
    if drift == 1:
        scale *= 1.5
    kind = shape % 6
    if kind == 0:
        values = rng.normal(loc, scale, rows)
    elif kind == 1:
        values = rng.lognormal(np.log(loc), 0.6 * scale / (1 + 0.5 * shape), rows)
    elif kind == 2:
        values = rng.exponential(scale, rows) + loc
    elif kind == 3:
        values = rng.poisson(loc, rows).astype("float64")
    elif kind == 4:
        first = rng.random(rows) < 0.3
        values = np.where(
            first, rng.normal(loc, scale, rows), rng.normal(loc + 4 * scale, scale, rows)
        )
    else:
        values = rng.uniform(loc - scale, loc + scale, rows)
    if drift == 2:
        values = values * _KM_TO_MILES
    values[rng.random(rows) < _MISSING] = np.nan
    return values


def _categorical(
    rng: np.random.Generator, index: int, rows: int, *, drift: int | None
) -> pd.Series:
    size = 5 + (index * 11) % 56
    labels = np.array([f"c{index:02d}_{k:02d}" for k in range(size)] + [f"c{index:02d}_new"])
    weights = 1.0 / np.arange(1, size + 1) ** 1.1
    if drift == 1:
        weights[[0, 1]] = weights[[1, 0]]
    codes = rng.choice(size, size=rows, p=weights / weights.sum())
    if drift == 0:
        codes[rng.random(rows) < 0.05] = size  # the unseen label
    missing = rng.random(rows) < _MISSING
    return pd.Series(pa.array(labels).take(pa.array(codes, mask=missing)), dtype="str")


def generate(
    rows: int, *, numeric: int = 20, categorical: int = 5, seed: int = 0, drift: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Training and serving frames of ``rows`` rows each, ``numeric`` float64 columns then
    ``categorical`` str columns; drifted as described in the module docstring when ``drift``."""
    for name, value, low in (
        ("rows", rows, 1),
        ("numeric", numeric, 0),
        ("categorical", categorical, 0),
    ):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
            raise ParameterError(
                f"{name} must be a whole number of at least {low}", found=repr(value)
            )
    frames = []
    for side in (0, 1):
        # One (columns, rows) block filled in place: the frame wraps it without copying.
        block = np.empty((numeric, rows))
        for i in range(numeric):
            rng = np.random.default_rng([seed, side, i])
            kind = i if side == 1 and drift and i < 3 else None
            block[i] = _numeric(rng, i, rows, drift=kind)
        frame = pd.DataFrame(block.T, columns=numeric_names(numeric), copy=False)
        for j, name in enumerate(categorical_names(categorical)):
            rng = np.random.default_rng([seed, side, 1000 + j])
            kind = j if side == 1 and drift and j < 2 else None
            frame[name] = _categorical(rng, j, rows, drift=kind)
        frames.append(frame)
    return frames[0], frames[1]
