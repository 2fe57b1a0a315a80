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
from test_engine_duckdb import _edge_case_table, assert_same_profile, assert_same_profile_sets

from prodready.data.validation import category_text
from prodready.engine import layouts_for, numeric_layout, profile_frame
from prodready.engine.arrow_engine import layouts_from_parquet, profile_parquet, reference_column
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
