"""Profiles and layouts of Parquet files read batch by batch (pyarrow) and counted by numpy.

Why a fourth way in: on Parquet, reading row groups in batches and counting each batch with the
numpy engine (:func:`~prodready.engine.numpy_engine.profile_frame`), then merging the batches'
profiles (exact: ``merge(profile(a), profile(b)) == profile(a ++ b)``), is about ten times
faster on two cores than DuckDB's binning by ASOF join (which sorts every value), and its memory
is one batch. DuckDB stays the engine for CSV files and for what needs a whole-data operator
(the id join of row-level skew).

Values are made what the case loader makes them (:mod:`prodready.data.validation`): numeric
features as float64, categorical ones as the loader's text (whole-number floats read "1", not
"1.0"; decided per batch, as the streamed monitoring replay does), timestamps as UTC. So the
profiles equal those of the loaded frame.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from prodready.data.validation import category_text
from prodready.engine.layout import (
    MAX_CATEGORIES,
    CategoricalLayout,
    Layout,
    NumericLayout,
    categorical_layout_from_label_counts,
    for_column,
    numeric_layout,
)
from prodready.engine.numpy_engine import profile_frame
from prodready.engine.profile import ProfileSet
from prodready.errors import ParameterError

BATCH_ROWS = 1_000_000
"""Rows read and counted at a time: about 8 MB per numeric column."""

Progress = Callable[[float, str], None]


def batches(
    files: Sequence[str | Path], columns: Sequence[str], rows: int | None = None
) -> Iterator[pd.DataFrame]:
    """The listed columns of the files, ``rows`` (default :data:`BATCH_ROWS`) at a time, in file
    order, as the loader types them: timestamps in UTC (a zone-less timestamp is read as UTC)."""
    rows = BATCH_ROWS if rows is None else rows
    for path in files:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=rows, columns=list(columns)):
            frame = batch.to_pandas()
            for name in frame.columns:
                if isinstance(frame[name].dtype, pd.DatetimeTZDtype):
                    frame[name] = frame[name].dt.tz_convert("UTC")
                elif pd.api.types.is_datetime64_dtype(frame[name].dtype):
                    frame[name] = frame[name].dt.tz_localize("UTC")
            yield frame


def _as_loaded(frame: pd.DataFrame, layouts: Mapping[str, Layout]) -> pd.DataFrame:
    for name, layout in layouts.items():
        if isinstance(layout, CategoricalLayout):
            frame[name] = category_text(frame[name])
    return frame


def profile_parquet(
    files: Sequence[str | Path],
    layouts: Mapping[str, Layout],
    *,
    by: str | None = None,
    freq: str = "MS",
    rows: int | None = None,
    progress: Progress | None = None,
) -> ProfileSet:
    """The :class:`ProfileSet` of ``profile_frame(loaded frame, layouts, by=by, freq=freq)``
    without loading the frame: counts exactly, sums up to the order of floating additions.
    ``progress(fraction, message)`` is called before each file."""
    files = list(files)
    columns = list(dict.fromkeys([*layouts, *([by] if by else [])]))
    total: ProfileSet | None = None
    for number, path in enumerate(files):
        if progress is not None:
            progress(number / len(files), f"profiling file {number + 1} of {len(files)}")
        for frame in batches([path], columns, rows):
            found = profile_frame(_as_loaded(frame, layouts), layouts, by=by, freq=freq)
            total = found if total is None else total.merge(found)
    if total is None:  # no rows at all: the profiles of an empty frame
        empty = pd.DataFrame({c: pd.Series(dtype="float64") for c in columns})
        if by:
            empty[by] = pd.Series(dtype="datetime64[us, UTC]")
        total = profile_frame(_as_loaded(empty, layouts), layouts, by=by, freq=freq)
    return total


def layouts_from_parquet(
    files: Sequence[str | Path],
    numeric: Sequence[str] = (),
    categorical: Sequence[str] = (),
    *,
    max_categories: int = MAX_CATEGORIES,
    rows: int | None = None,
) -> dict[str, Layout]:
    """``numpy_engine.layouts_for(loaded frame, numeric, categorical)``, bit for bit, holding one
    numeric column at a time in memory (8 bytes a row, sorted once: 1.4 GB at 85M rows) and
    only the label counts of a categorical one."""
    files = list(files)
    out: dict[str, Layout] = {}
    for name in numeric:
        values = pq.read_table(files, columns=[name]).column(0)
        array = np.asarray(values.cast(pa.float64()).to_numpy(zero_copy_only=False))
        del values
        try:
            out[name] = numeric_layout(array)
        except ParameterError as err:
            raise for_column(err, name) from err
    for name in categorical:
        counts: pd.Series | None = None
        for frame in batches(files, [name], rows):
            found = category_text(frame[name]).value_counts(dropna=True, sort=False)
            counts = found if counts is None else counts.add(found, fill_value=0)
        if counts is None:
            counts = pd.Series(dtype="int64")
        try:
            out[name] = categorical_layout_from_label_counts(
                counts.astype("int64"), max_categories=max_categories
            )
        except ParameterError as err:
            raise for_column(err, name) from err
    return {n: out[n] for n in [*numeric, *categorical]}


__all__ = ["BATCH_ROWS", "NumericLayout", "batches", "layouts_from_parquet", "profile_parquet"]
