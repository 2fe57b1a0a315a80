"""The Parquet batch engine (pyarrow batches counted by numpy) against the loaded frame.

Profiles and layouts of files read batch by batch equal those of the frame the case loader
builds (counts exactly, sums to 1e-9; layouts bit for bit), whatever the batch size, with the
loader's conversions: whole-number float categories as "1", zone-less timestamps as UTC.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import scipy.stats
from test_engine_duckdb import _edge_case_table, assert_same_profile, assert_same_profile_sets

from prodready.data.validation import category_text
from prodready.engine import layouts_for, numeric_layout, profile_frame
from prodready.engine.arrow_engine import (
    _as_loaded,
    batches,
    layouts_from_parquet,
    profile_parquet,
    reference_column,
)
from prodready.errors import ParameterError


@pytest.mark.parametrize("rows", [37, 1_000_000])
def test_profiles_equal_the_frames_whatever_the_batch(tmp_path, rows):
    table = _edge_case_table()
    half = table.num_rows // 2
    pq.write_table(table.slice(0, half), tmp_path / "a.parquet", row_group_size=50)
    pq.write_table(table.slice(half), tmp_path / "b.parquet")
    files = [tmp_path / "a.parquet", tmp_path / "b.parquet"]
    frame = table.to_pandas()
    layouts = {
        "x": numeric_layout([0.0, 1.0, 1.0, 2.0, 2.5, 3.0, 10.0, -4.0]),
        "all_null": numeric_layout([1.0, 2.0, 3.0]),
        "ties": numeric_layout([1.0, 1.0, 2.0, 3.0]),
        "label": layouts_for(frame, categorical=["label"])["label"],
    }
    assert_same_profile_sets(
        profile_parquet(files, layouts, by="t", rows=rows), profile_frame(frame, layouts, by="t")
    )
    assert_same_profile_sets(
        profile_parquet(files, layouts, rows=rows), profile_frame(frame, layouts)
    )
    found = layouts_from_parquet(files, ["x", "ties"], ["label"], rows=rows)
    assert found == layouts_for(frame, ["x", "ties"], ["label"])
    with pytest.raises(ParameterError, match="all_null"):
        layouts_from_parquet(files, ["all_null"])
    # one read of a column: its layout and the whole data's profile on it
    for name, kind in (("x", "numeric"), ("ties", "numeric"), ("label", "categorical")):
        layout, profile = reference_column(files, name, kind, rows=rows)
        assert layout == found[name]
        assert_same_profile(profile, profile_frame(frame, {name: layout}).column(name), name)
    with pytest.raises(ParameterError, match="all_null"):
        reference_column(files, "all_null", "numeric")


def test_the_loaders_conversions(tmp_path):
    n = 300
    stamps = pd.date_range("2025-01-20", periods=n, freq="6h")  # no time zone: read as UTC
    codes = np.where(np.arange(n) % 7 == 0, np.nan, np.arange(n) % 3 + 1.0)  # 1.0, 2.0, NaN
    frame = pd.DataFrame({"t": stamps, "code": codes, "flag": np.arange(n) % 2 == 0})
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp_path / "f.parquet")
    loaded = frame.assign(
        t=frame["t"].dt.tz_localize("UTC"),
        code=category_text(frame["code"]),
        flag=category_text(frame["flag"]),
    )
    layouts = layouts_from_parquet([tmp_path / "f.parquet"], [], ["code", "flag"], rows=64)
    assert set(layouts["code"].categories) == {"1", "2", "3"}
    assert layouts == layouts_for(loaded, [], ["code", "flag"])
    ours = profile_parquet([tmp_path / "f.parquet"], layouts, by="t", rows=64)
    assert_same_profile_sets(ours, profile_frame(loaded, layouts, by="t"))
    assert len(ours.groups) == 4  # 75 days from 20 January: January to April 2025 in UTC


def test_pieces_split_row_groups_for_the_threads_and_merge_in_file_order(tmp_path):
    from prodready.engine.arrow_engine import _pieces, _row_groups

    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"x": rng.normal(size=1_000), "t": pd.Timestamp("2025-01-01", tz="UTC")})
    pq.write_table(pa.Table.from_pandas(frame), tmp_path / "a.parquet", row_group_size=100)
    pq.write_table(pa.Table.from_pandas(frame.iloc[:0]), tmp_path / "empty.parquet")
    files = [tmp_path / "a.parquet", tmp_path / "empty.parquet"]
    sizes = _row_groups(files)
    assert sizes == [[100] * 10, [0]]
    groups = list(range(10))
    # two threads: two halves of the 1,000 rows; the rows limit still holds; an empty file: one
    # empty piece (nothing to read)
    assert _pieces(sizes, 1_000_000, 2) == [(0, groups[:5]), (0, groups[5:]), (1, [0])]
    assert _pieces(sizes, 250, 2) == [(0, [0, 1]), (0, [2, 3]), (0, [4, 5]), (0, [6, 7]),
                                      (0, [8, 9]), (1, [0])]  # fmt: skip
    assert _pieces(sizes, 1_000_000, 1) == [(0, groups), (1, [0])]
    layouts = {"x": numeric_layout(frame["x"].to_numpy())}
    told: list[str] = []
    threads = profile_parquet(files, layouts, by="t", progress=lambda f, m: told.append(m))
    assert threads == profile_parquet(files, layouts, by="t")  # the same sums at every run
    assert_same_profile_sets(threads, profile_parquet(files, layouts, by="t", workers=1))
    assert_same_profile_sets(threads, profile_frame(frame, layouts, by="t"))
    assert told[0] == "profiling file 1 of 2" and told[-1] == "profiling file 2 of 2"


# --------------------------------------------------------------------------------------------
# Batches counted from Arrow columns (no pandas frame) against the loaded frame


def _typed_table(n: int = 600) -> pa.Table:
    """A log with every column type the Arrow path counts itself, nulls in each."""
    rng = np.random.default_rng(11)
    nulls = np.arange(n) % 13 == 4
    stamps = pd.Timestamp("1969-11-20", tz="UTC") + pd.to_timedelta(
        rng.integers(0, 120 * 24, n), unit="h"
    )  # across 1970 (negative instants) and out of time order
    wide_days = rng.choice([0, 40, 70], n) + np.where(np.arange(n) % 100 == 7, 100_000, 0)
    return pa.table(
        {
            "t": pa.array(
                stamps.as_unit("ms").asi8,
                type=pa.timestamp("ms", tz="UTC"),
                mask=np.arange(n) % 97 == 5,
            ),
            "naive": pa.array(stamps.tz_localize(None).as_unit("ns")),  # read as UTC
            "paris": pa.array(stamps.tz_convert("Europe/Paris").as_unit("us")),  # months in UTC
            "wide": pa.array(  # three centuries: periods found by sorting, not by a day table
                (pd.Timestamp("1750-01-01") + pd.to_timedelta(wide_days, "D"))
                .as_unit("s")
                .tz_localize("UTC")
            ),
            "text": pa.array(rng.choice(["a", "b", "", "d"], n), pa.large_string(), mask=nulls),
            "code": pa.array(rng.integers(-3, 4, n), mask=nulls),  # integers with nulls: "1"
            "flag": pa.array(rng.integers(0, 2, n) == 1, mask=nulls),
            "small": pa.array(rng.integers(0, 50, n).astype(np.int16), mask=nulls),
            "single": pa.array(rng.normal(size=n).astype(np.float32), mask=nulls),
            "x": pa.array(rng.normal(size=n), mask=nulls),
        }
    )


def _loaded(table: pa.Table, categorical: list[str]) -> pd.DataFrame:
    frame = table.to_pandas()
    frame["t"] = frame["t"].dt.tz_convert("UTC")
    frame["naive"] = frame["naive"].dt.tz_localize("UTC")
    frame["paris"] = frame["paris"].dt.tz_convert("UTC")
    for name in categorical:
        frame[name] = category_text(frame[name])
    return frame


@pytest.mark.parametrize(
    ("by", "freq"), [("t", "MS"), ("naive", "MS"), ("paris", "MS"), ("wide", "MS"), ("t", "D")]
)
def test_arrow_counted_batches_equal_the_loaded_frame(tmp_path, by, freq):
    from prodready.engine.arrow_engine import _frame, _profile_window, _undictionary

    table = _typed_table()
    categorical = ["text", "code", "flag"]
    frame = _loaded(table, categorical)
    layouts = layouts_for(frame, ["small", "single", "x"], categorical)
    layouts["text"] = type(layouts["text"])(categories=("a", "b"), complete=False, n=10)  # other
    pq.write_table(table, tmp_path / "log.parquet", row_group_size=150)
    read = pq.ParquetFile(tmp_path / "log.parquet", read_dictionary=categorical).read()
    schema = pq.read_schema(tmp_path / "log.parquet")
    for batch in read.to_batches():  # counted from Arrow: bit for bit what the frame gives
        ours = _profile_window([batch], layouts, by, freq)
        loaded = _as_loaded(_frame(_undictionary(batch, schema)), layouts)
        assert ours is not None and ours == profile_frame(loaded, layouts, by=by, freq=freq)
    ours = profile_parquet([tmp_path / "log.parquet"], layouts, by=by, freq=freq, rows=200)
    theirs = profile_frame(frame, layouts, by=by, freq=freq)
    assert_same_profile_sets(ours, theirs)
    assert [(g.unit, g.tz) for g in ours.groups] == [(g.unit, g.tz) for g in theirs.groups]
    assert ours.source["rows_without_time"] == (7 if by == "t" else 0)  # null times
    # the whole log in time order (the rows of a group contiguous): the same profiles
    ordered = table.sort_by("naive")
    pq.write_table(ordered, tmp_path / "ordered.parquet")
    found = profile_parquet([tmp_path / "ordered.parquet"], layouts, by=by, freq=freq)
    assert_same_profile_sets(
        found, profile_frame(_loaded(ordered, categorical), layouts, by=by, freq=freq)
    )


@pytest.mark.parametrize("float_codes", [False, True])
def test_the_profiles_are_those_of_plain_batches_bit_for_bit(tmp_path, float_codes):
    """A read by dictionary cuts batches at row-group ends; the profiles are still those of the
    plain read's batches (``rows`` rows across row groups), every sum to the last bit, also
    where a batch goes through pandas (float categories, whole numbers decided per batch)."""
    from prodready.engine.arrow_engine import _pieces, _row_groups

    table = _typed_table(1_000)
    categorical = ["text", "code", "flag"]
    if float_codes:  # every batch through pandas
        codes = np.arange(1_000) % 3 + 1.0
        codes[700] = 1.5  # the batch holding row 700 reads "1.0", "2.0", "1.5"; others "1"
        table = table.append_column("code_float", pa.array(codes))
        categorical.append("code_float")
    pq.write_table(table.slice(0, 640), tmp_path / "a.parquet", row_group_size=150)
    pq.write_table(table.slice(640), tmp_path / "b.parquet", row_group_size=90)
    files = [tmp_path / "a.parquet", tmp_path / "b.parquet"]
    layouts = layouts_for(_loaded(table, categorical), ["small", "single", "x"], categorical)
    columns = [*layouts, "t"]
    for rows in (37, 200, 1_000_000):
        plain = None  # each piece read plainly, batch by batch; the pieces merged in order
        for number, groups in _pieces(_row_groups(files), rows, 2):
            piece = None
            for frame in batches([files[number]], columns, rows, row_groups=groups):
                one = profile_frame(_as_loaded(frame, layouts), layouts, by="t")
                piece = one if piece is None else piece.merge(one)
            plain = piece if plain is None else plain.merge(piece)
        assert profile_parquet(files, layouts, by="t", rows=rows) == plain, rows


def test_columns_pandas_converts_its_own_way_go_through_the_frame(tmp_path):
    from prodready.engine.arrow_engine import _profile_window

    n = 200
    big = 2**60 + np.arange(n) % 3  # integers with nulls: pandas reads them through float64
    table = pa.table(
        {
            "t": pa.array(np.full(n, 1_750_000_000_000_000), type=pa.timestamp("us")),
            "big": pa.array(big, mask=np.arange(n) % 5 == 0),
            "whole": pa.array(np.arange(n) % 4 + 1.0),  # float categories: "1", "2", ...
            "text_numbers": pa.array([str(i % 9) for i in range(n)]),  # text in a numeric column
            "label": pa.array(np.array(["x", "y"])[np.arange(n) % 2], mask=np.arange(n) % 7 == 0),
        }
    )  # "label" alone is counted from Arrow; with the others its dictionary is decoded
    pq.write_table(table, tmp_path / "f.parquet")
    frame = table.to_pandas()
    frame["t"] = frame["t"].dt.tz_localize("UTC")
    frame["big"], frame["whole"] = category_text(frame["big"]), category_text(frame["whole"])
    layouts = layouts_for(frame, [], ["big", "whole", "label"])
    layouts["text_numbers"] = numeric_layout(np.arange(9.0))
    batch = pq.ParquetFile(tmp_path / "f.parquet", read_dictionary=["big", "whole", "label"]).read()
    assert pa.types.is_dictionary(batch.schema.field("label").type)
    for name in ("big", "whole", "text_numbers"):
        alone = batch.select(["t", name]).to_batches()[0]
        assert _profile_window([alone], {name: layouts[name]}, "t", "MS") is None
    assert set(layouts["whole"].categories) == {"1", "2", "3", "4"}
    ours = profile_parquet([tmp_path / "f.parquet"], layouts, by="t")
    assert_same_profile_sets(ours, profile_frame(frame, layouts, by="t"))
    assert ours.column("text_numbers", ours.groups[0]).n == n  # the text read as numbers


def test_reference_labels_are_counted_by_dictionary_codes(tmp_path):
    table = _typed_table()
    pq.write_table(table, tmp_path / "train.parquet", row_group_size=128)
    frame = _loaded(table, ["text", "code", "flag"])
    files = [tmp_path / "train.parquet"]
    for name in ("text", "code", "flag"):
        layout, profile = reference_column(files, name, "categorical", rows=100)
        assert layout == layouts_for(frame, [], [name])[name]
        assert_same_profile(profile, profile_frame(frame, {name: layout}).column(name), name)
    assert set(reference_column(files, "code", "categorical")[0].categories) == {
        str(i) for i in range(-3, 4)
    }


def test_a_dictionary_repeating_or_not_using_labels_counts_each_label_once():
    from prodready.engine.arrow_engine import _labels, _tally
    from prodready.engine.numpy_engine import profile_groups

    dictionary = pa.array(["a", "b", "a", None, "unused"])
    codes = pa.array([0, 1, 2, 2, None, 3, 0], type=pa.int32())
    labels = _labels(pa.DictionaryArray.from_arrays(codes, dictionary), through_floats=True)
    text, tally, missing = _tally(labels)
    counts = pd.Series(tally, index=text).groupby(level=0).sum()
    assert counts.to_dict() == {"a": 4, "b": 1} and missing == 2
    layout = layouts_for(pd.DataFrame({"c": ["a", "b", "b"]}), [], ["c"])["c"]
    found = profile_groups({"c": labels}, {"c": layout}, np.zeros(7, dtype=np.int64), [None])
    profile = found.column("c", None)
    assert (profile.counts.tolist(), profile.other, profile.missing, profile.n) == ([1, 4], 0, 2, 5)


def test_file_labels_equal_duckdbs_distinct_labels(tmp_path):
    from prodready.engine.arrow_engine import file_labels
    from prodready.engine.rows_sql import serving_labels

    table = _typed_table()
    pq.write_table(table.slice(0, 250), tmp_path / "a.parquet", row_group_size=100)
    pq.write_table(table.slice(250), tmp_path / "b.parquet")
    files = [tmp_path / "a.parquet", tmp_path / "b.parquet"]
    columns = ["text", "code", "flag", "small"]
    ours = file_labels(files, columns)
    theirs = serving_labels(files, columns)
    assert ours == {name: sorted(found) for name, found in theirs.items()}
    assert ours["flag"] == ["False", "True"] and "" in ours["text"] and "-3" in ours["code"]
    assert None not in ours["text"]  # missing values are no label
    # a CSV log goes through DuckDB
    _loaded(table, []).to_csv(tmp_path / "log.csv", index=False)
    assert file_labels([tmp_path / "log.csv"], ["text"]) == {
        "text": sorted(serving_labels([tmp_path / "log.csv"], ["text"])["text"])
    }


def test_file_columns_are_duckdbs_without_a_connection(tmp_path):
    from prodready.engine.arrow_engine import file_columns
    from prodready.engine.rows_sql import serving_schema

    table = _typed_table(50)
    pq.write_table(table, tmp_path / "a.parquet")
    pq.write_table(table, tmp_path / "b.parquet")
    files = [tmp_path / "a.parquet", tmp_path / "b.parquet"]
    assert file_columns(files) == frozenset(serving_schema(files)) == frozenset(table.column_names)
    _loaded(table, []).to_csv(tmp_path / "log.csv", index=False)
    csv = [tmp_path / "log.csv"]
    assert file_columns(csv) == frozenset(serving_schema(csv)) == frozenset(table.column_names)


# --------------------------------------------------------------------------------------------
# The comparison of the profiles these batches make: its chi-square p-value (stats/drift.py)


def test_the_chi_square_p_value_is_scipys_to_the_last_digit():
    from prodready.stats.drift import _chi2_pvalue

    rng = np.random.default_rng(3)
    tables = [(np.array([3, 0]), np.array([0, 5])), (np.array([10**7, 1]), np.array([1, 10**7]))]
    for _ in range(1_000):  # 2 x k tables of every size and scale, some cells empty
        k, scale = int(rng.integers(2, 10)), int(10 ** rng.integers(0, 7))
        r, c = rng.integers(0, scale + 1, k), rng.integers(0, scale + 1, k)
        r[rng.random(k) < 0.15] = 0
        keep = (r + c) > 0  # each category counted on some side, as the callers pass them
        if keep.sum() >= 2 and r[keep].sum() and c[keep].sum():
            tables.append((r[keep], c[keep]))
    assert sum(len(r) == 2 for r, _ in tables) > 50  # Yates' correction is exercised
    for r, c in tables:
        assert _chi2_pvalue(r, c) == float(scipy.stats.chi2_contingency(np.vstack((r, c))).pvalue)
