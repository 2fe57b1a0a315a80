"""The cost-growth figure draws exactly the benchmark's table: values, panels, axis types."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from prodready import charts
from prodready.errors import ParameterError

ROWS = pd.DataFrame(
    {
        "serving_rows": [10_000_000, 1_000_000, 100_000_000],  # out of order on purpose
        "seconds": [40.5, 5.25, 390.0],
        "peak_mib": [1800.0, 900.0, 3500.0],
    }
)
FEATURES = pd.DataFrame(
    {
        "features": [25, 100, 250, 500, 25, 100, 250, 500],
        "series": ["whole skew audit"] * 4 + ["distribution part"] * 4,
        "seconds": [3.0, 9.0, 21.0, 44.0, 1.0, 3.5, 8.0, 16.0],
        "peak_mib": [500.0, 900.0, 1700.0, 3100.0, 450.0, 700.0, 1300.0, 2400.0],
    }
)


def _panel(trace) -> int:
    """1 for the top (seconds) panel, 2 for the bottom (peak memory) one."""
    return 1 if trace.yaxis == "y" else 2


def test_rows_sweep_plots_the_table_sorted_on_a_log_axis():
    fig = charts.cost_growth(ROWS, x="serving_rows", title="Cost against rows")
    assert len(fig.data) == 2
    ordered = ROWS.sort_values("serving_rows")
    top, bottom = sorted(fig.data, key=_panel)
    assert _panel(top) == 1 and _panel(bottom) == 2
    for trace in (top, bottom):
        np.testing.assert_array_equal(trace.x, ordered["serving_rows"].to_numpy())
    np.testing.assert_array_equal(top.y, ordered["seconds"].to_numpy())
    np.testing.assert_array_equal(bottom.y, ordered["peak_mib"].to_numpy())
    assert fig.layout.xaxis.type == "log" and fig.layout.xaxis2.type == "log"  # 100x spread
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis.title.text == "wall seconds (log)"
    assert fig.layout.yaxis2.title.text == "peak MiB" and fig.layout.yaxis2.type != "log"
    assert fig.layout.xaxis2.title.text == "serving rows"
    subtitle = fig.layout.title.text
    assert "Cost against rows" in subtitle
    assert (
        "From 1,000,000 to 100,000,000 serving rows (x100), time x74.3 and peak memory x3.89"
        in subtitle
    )


def test_features_sweep_draws_one_line_per_series_on_a_linear_axis():
    fig = charts.cost_growth(FEATURES, x="features", title="Cost against features")
    assert fig.layout.xaxis.type == "linear"  # 25 to 500 is a 20x spread: linear by default
    assert [t.name for t in fig.data] == ["whole skew audit"] * 2 + ["distribution part"] * 2
    assert [t.showlegend for t in fig.data] == [True, False, True, False]
    for name, part in FEATURES.groupby("series", sort=False):
        drawn = {_panel(t): t for t in fig.data if t.name == name}
        np.testing.assert_array_equal(drawn[1].x, part["features"].to_numpy())
        np.testing.assert_array_equal(drawn[1].y, part["seconds"].to_numpy())
        np.testing.assert_array_equal(drawn[2].y, part["peak_mib"].to_numpy())
        assert drawn[1].line.color == drawn[2].line.color  # one colour per series
    assert fig.data[0].line.color != fig.data[2].line.color
    assert fig.layout.yaxis.title.text == "wall seconds"
    assert "Whole skew audit: from 25 to 500 features (x20), time x14.7" in fig.layout.title.text


def test_log_axis_can_be_forced_and_a_memory_target_drawn():
    fig = charts.cost_growth(
        FEATURES, x="features", title="t", log_x=True, memory_limit_mib=4 * 1024
    )
    assert fig.layout.xaxis.type == "log"
    lines = [s for s in fig.layout.shapes if s.type == "line"]
    assert len(lines) == 1 and lines[0].y0 == lines[0].y1 == 4096
    assert lines[0].yref == "y2"  # on the memory panel
    linear = charts.cost_growth(ROWS, x="serving_rows", title="t", log_x=False)
    assert linear.layout.xaxis.type == "linear" and linear.layout.yaxis.type != "log"


def test_one_point_says_there_is_nothing_to_compare():
    fig = charts.cost_growth(ROWS.head(1), x="serving_rows", title="t")
    assert fig.data[0].y[0] == 40.5
    assert "One size measured" in fig.layout.title.text


def test_a_table_without_the_measures_is_refused_by_name():
    with pytest.raises(ParameterError, match="peak_mib"):
        charts.cost_growth(ROWS.drop(columns="peak_mib"), x="serving_rows", title="t")
    with pytest.raises(ParameterError, match="rows"):
        charts.cost_growth(ROWS, x="rows", title="t")
