"""prodready.engine: layouts, profiles, merging, the numpy engine, drift from profiles, files."""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prodready.engine import (
    CategoricalProfile,
    NumericProfile,
    ProfileSet,
    categorical_layout,
    layout_positions,
    layouts_for,
    load_profiles,
    merge_all,
    numeric_layout,
    numeric_layout_from_sorted_positions,
    profile_categorical,
    profile_frame,
    profile_numeric,
    save_profiles,
)
from prodready.errors import DataError, ParameterError
from prodready.stats.drift import (
    _COARSE_LEVELS,
    _FINE_LEVELS,
    NumericReference,
    _coarse_counts,
    _profile_sorted,
    categorical_drift,
    categorical_drift_from_profiles,
    numeric_drift,
    numeric_drift_from_profiles,
    unseen_share_is_upper_bound,
)

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RNG = np.random.default_rng(20261126)
REFERENCE = np.round(RNG.gamma(2.0, 10.0, size=3_000), 1)  # ties and a long right tail
LAYOUT = numeric_layout(REFERENCE)
LABELS = [f"c{i}" for i in range(8)]
CAT_LAYOUT = categorical_layout(RNG.choice(LABELS[:6], size=500))


def _distributions() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(7)
    return {
        "normal": (rng.normal(size=20_000), rng.normal(size=15_000)),
        "shifted": (rng.normal(size=20_000), rng.normal(0.4, 1.3, size=25_000)),
        "integers": (rng.poisson(3, 20_000).astype(float), rng.poisson(3.5, 9_000).astype(float)),
        "spike_at_zero": (
            np.where(rng.random(10_000) < 0.6, 0.0, rng.lognormal(size=10_000)),
            np.where(rng.random(8_000) < 0.4, 0.0, rng.lognormal(0.5, size=8_000)),
        ),
        "tiny": (np.array([1.0, 2.0]), np.array([0.0, 5.0, 2.0])),
    }


# --------------------------------------------------------------------------------------------
# Layouts


def test_numeric_layout_is_drift_fine_and_coarse_edges_and_coarse_edges_are_fine_edges() -> None:
    reference = NumericReference.from_values(REFERENCE, method="binned")
    assert np.array_equal(LAYOUT.edges, reference.fine_edges)
    assert np.array_equal(LAYOUT.coarse_edges, reference.coarse_edges)
    assert (LAYOUT.minimum, LAYOUT.maximum, LAYOUT.std) == (
        reference.minimum,
        reference.maximum,
        reference.std,
    )
    # decile levels j/10 are the fine levels 200j/2000 as doubles, so coarse edges are fine edges
    assert np.array_equal(_COARSE_LEVELS, _FINE_LEVELS[200:2000:200])
    assert np.all(np.isin(LAYOUT.coarse_edges, LAYOUT.edges))
    assert np.array_equal(LAYOUT.edges[LAYOUT.coarse_index], LAYOUT.coarse_edges)
    # and coarse counts summed from fine counts equal drift.py's second pass, on any data
    for values in (REFERENCE, np.sort(RNG.normal(20, 15, 999)), np.arange(50.0)):
        profile = profile_numeric(values, LAYOUT)
        expected = _coarse_counts(np.sort(values), LAYOUT.coarse_edges)
        assert np.array_equal(profile.coarse_counts(), expected)


@st.composite
def _finite_samples(draw, min_size: int = 2, max_size: int = 200) -> np.ndarray:
    kind = draw(st.sampled_from(["continuous", "rounded", "few_values"]))
    floats = st.floats(-1e4, 1e4, allow_nan=False, width=64)
    values = np.array(draw(st.lists(floats, min_size=min_size, max_size=max_size)))
    if kind == "rounded":
        values = np.round(values / 100)
    elif kind == "few_values":
        values = np.floor(np.abs(values)) % 3
    return values


@PROPERTY
@given(values=_finite_samples())
def test_layout_from_sorted_positions_equals_numpy_layout(values: np.ndarray) -> None:
    layout = numeric_layout(values)
    ordered = np.sort(values)
    positions = layout_positions(values.size)
    assert positions.dtype == np.int64 and positions.size <= 2 * 2001
    rebuilt = numeric_layout_from_sorted_positions(
        values.size, positions, ordered[positions], ordered[0], ordered[-1], float(np.std(ordered))
    )
    assert rebuilt == layout
    assert rebuilt.edges.tobytes() == layout.edges.tobytes()


@pytest.mark.parametrize("values", [[3.0, -1.0], [2.0, 2.0, 7.0], [5.0, 1.0, 3.0]])
def test_layout_from_positions_on_two_and_three_values(values: list[float]) -> None:
    ordered = np.sort(values)
    positions = layout_positions(len(values))
    assert set(positions.tolist()) == set(range(len(values)))
    rebuilt = numeric_layout_from_sorted_positions(
        len(values), positions, ordered[positions], ordered[0], ordered[-1], float(np.std(ordered))
    )
    assert rebuilt == numeric_layout(values)


def test_layout_from_positions_rejects_wrong_positions() -> None:
    ordered = np.sort(REFERENCE)
    positions = layout_positions(ordered.size)
    with pytest.raises(ParameterError, match="positions"):
        numeric_layout_from_sorted_positions(
            ordered.size, positions[:-1], ordered[positions[:-1]], ordered[0], ordered[-1], 1.0
        )


def test_numeric_layout_drops_missing_and_infinite_and_needs_two_values() -> None:
    values = pd.Series([1.0, None, np.inf, 3.0, -np.inf, np.nan, 2.0])
    assert numeric_layout(values) == numeric_layout([1.0, 2.0, 3.0])
    with pytest.raises(ParameterError, match="fewer than 2"):
        numeric_layout([1.0, np.nan, np.inf])
    with pytest.raises(ParameterError, match="not numbers"):
        numeric_layout(["a", "b"])


def test_categorical_layout_orders_by_count_then_label_as_text_and_caps() -> None:
    values = ["b", "a", "b", 1, "1", None, np.nan, "c", "a", "z"]
    layout = categorical_layout(values)
    assert layout.categories == ("1", "a", "b", "c", "z")  # 1 and "1" are one category
    assert layout.complete and layout.n == 8
    capped = categorical_layout(values, max_categories=2)
    assert capped.categories == ("1", "a") and not capped.complete
    assert capped.key != layout.key
    with pytest.raises(ParameterError, match="fewer than 2"):
        categorical_layout([None, "a"])


# --------------------------------------------------------------------------------------------
# Profiles


def test_numeric_profile_fields_match_drift_profile_and_count_missing_apart() -> None:
    values = np.concatenate((REFERENCE[:500], [np.nan, np.inf, -np.inf, np.nan]))
    profile = profile_numeric(pd.Series(values), LAYOUT)
    fine = _profile_sorted(np.sort(REFERENCE[:500]), LAYOUT.edges)
    assert np.array_equal(profile.counts, fine.counts)
    assert np.array_equal(profile.interior, fine.interior)
    assert np.array_equal(profile.offsets, fine.offsets)
    assert (profile.n, profile.missing, profile.nonfinite, profile.total) == (500, 2, 2, 504)
    finite = REFERENCE[:500]
    assert (profile.minimum, profile.maximum) == (finite.min(), finite.max())
    assert profile.mean == pytest.approx(finite.mean(), rel=1e-12)
    assert profile.std() == pytest.approx(finite.std(), rel=1e-12)
    assert profile.std(ddof=1) == pytest.approx(finite.std(ddof=1), rel=1e-12)
    empty = profile_numeric([np.nan, None], LAYOUT)
    assert empty.n == 0 and empty.missing == 2 and math.isnan(empty.minimum)
    assert math.isnan(empty.std())


def test_categorical_profile_counts_other_and_missing() -> None:
    values = pd.Series(["c0", "c1", "c1", "new", None, "c7", "c0"], dtype="str")
    profile = profile_categorical(values, CAT_LAYOUT)
    got = dict(zip(CAT_LAYOUT.categories, profile.counts.tolist(), strict=True))
    assert got["c0"] == 2 and got["c1"] == 2 and sum(got.values()) == 4
    assert (profile.other, profile.missing, profile.n, profile.total) == (2, 1, 6, 7)


def _assert_same_numeric(merged: NumericProfile, whole: NumericProfile, scale: float) -> None:
    for name in ("counts", "interior"):
        assert np.array_equal(getattr(merged, name), getattr(whole, name)), name
    assert (merged.n, merged.missing, merged.nonfinite) == (whole.n, whole.missing, whole.nonfinite)
    for name in ("minimum", "maximum"):
        a, b = getattr(merged, name), getattr(whole, name)
        assert a == b or (math.isnan(a) and math.isnan(b)), name
    # Floating sums in another order: rtol 1e-9, with an absolute floor at the rounding error
    # of sums of values of this magnitude (offsets are sums minus anchor * count, see drift.py).
    n = max(whole.n, 1)
    np.testing.assert_allclose(merged.offsets, whole.offsets, rtol=1e-9, atol=1e-12 * n * scale)
    if whole.n == 0:
        assert math.isnan(merged.mean) and math.isnan(whole.mean)
        return
    assert merged.mean == pytest.approx(whole.mean, rel=1e-9, abs=1e-12 * scale)
    assert merged.m2 == pytest.approx(whole.m2, rel=1e-9, abs=1e-12 * n * scale * scale)


_specials = st.sampled_from([np.nan, np.inf, -np.inf, *LAYOUT.edges[::97].tolist()])
_values = st.lists(
    st.one_of(st.floats(-50, 400, allow_nan=False, width=64), _specials), max_size=120
)


@PROPERTY
@given(a=_values, b=_values, rounded=st.booleans())
def test_numeric_merge_equals_profile_of_concatenation(a, b, rounded: bool) -> None:
    a, b = np.array(a, dtype=float), np.array(b, dtype=float)
    if rounded:  # ties
        a, b = np.round(a), np.round(b)
    whole = profile_numeric(np.concatenate((a, b)), LAYOUT)
    merged = profile_numeric(a, LAYOUT).merge(profile_numeric(b, LAYOUT))
    _assert_same_numeric(merged, whole, scale=400.0)
    halves = merge_all([profile_numeric(a[:5], LAYOUT), profile_numeric(a[5:], LAYOUT)])
    _assert_same_numeric(halves, profile_numeric(a, LAYOUT), scale=400.0)


_labels = st.lists(st.sampled_from([*LABELS, "unseen", None, np.nan, 3]), max_size=80)


@PROPERTY
@given(a=_labels, b=_labels)
def test_categorical_merge_equals_profile_of_concatenation(a, b) -> None:
    whole = profile_categorical(a + b, CAT_LAYOUT)
    merged = profile_categorical(a, CAT_LAYOUT).merge(profile_categorical(b, CAT_LAYOUT))
    assert merged == whole
    assert merged.total == len(a) + len(b)


def test_merge_refuses_other_layouts() -> None:
    other = numeric_layout(REFERENCE + 1)
    with pytest.raises(ParameterError, match="different layouts"):
        profile_numeric(REFERENCE, LAYOUT).merge(profile_numeric(REFERENCE, other))
    with pytest.raises(ParameterError, match="different layouts"):
        profile_numeric(REFERENCE, LAYOUT).merge(profile_categorical(["c0"], CAT_LAYOUT))
    with pytest.raises(ParameterError, match="different layouts"):
        numeric_drift_from_profiles(
            profile_numeric(REFERENCE, LAYOUT), profile_numeric(REFERENCE, other)
        )


# --------------------------------------------------------------------------------------------
# Drift from profiles


@pytest.mark.parametrize("name", list(_distributions()))
def test_numeric_drift_from_profiles_equals_binned_drift_exactly(name: str) -> None:
    ref, cur = _distributions()[name]
    layout = numeric_layout(ref)
    got = numeric_drift_from_profiles(profile_numeric(ref, layout), profile_numeric(cur, layout))
    assert got == numeric_drift(ref, cur, method="binned")  # the same floats, field by field
    # A current side profiled in chunks and merged gives the same counts, so the same KS/PSI.
    chunks = merge_all(profile_numeric(part, layout) for part in np.array_split(cur, 3))
    again = numeric_drift_from_profiles(profile_numeric(ref, layout), chunks)
    assert (again.ks_stat, again.psi, again.out_of_range_share) == (
        got.ks_stat,
        got.psi,
        got.out_of_range_share,
    )
    assert again.wasserstein_norm == pytest.approx(got.wasserstein_norm, rel=1e-9, abs=1e-12)


def test_numeric_drift_from_profiles_needs_two_values_a_side() -> None:
    ref = profile_numeric(REFERENCE, LAYOUT)
    with pytest.raises(ParameterError, match="current"):
        numeric_drift_from_profiles(ref, profile_numeric([1.0, np.nan, np.inf], LAYOUT))
    with pytest.raises(ParameterError, match="reference"):
        numeric_drift_from_profiles(profile_numeric([3.0], LAYOUT), ref)


def test_categorical_drift_from_profiles_equals_categorical_drift_on_a_complete_layout() -> None:
    rng = np.random.default_rng(3)
    labels = np.array(list("abcdefg"))
    shares = np.arange(1, 8) / 28
    ref = pd.Series(rng.choice(labels, 4_000, p=shares), dtype="str")
    cur = pd.Series(rng.choice(labels[:6], 3_000), dtype="str")
    layout = categorical_layout(ref)
    assert layout.complete
    ref_profile = profile_categorical(ref, layout)
    got = categorical_drift_from_profiles(ref_profile, profile_categorical(cur, layout))
    # Listed in the layout's order the sums run in the same order: the same floats.
    ordered = pd.Series(np.repeat(layout.categories, ref_profile.counts), dtype="str")
    assert got == categorical_drift(ordered, cur)
    # In first-appearance order only the order of floating sums differs.
    loose = categorical_drift(ref, cur)
    for name, value in loose.__dict__.items():
        assert getattr(got, name) == pytest.approx(value, rel=1e-12, abs=1e-300), name
    assert got.unseen_share == 0.0 and not unseen_share_is_upper_bound(ref_profile)


def test_categorical_unseen_labels_are_pooled_in_one_other_bucket() -> None:
    ref = ["a"] * 50 + ["b"] * 30 + ["c"] * 20
    cur = ["a"] * 40 + ["b"] * 30 + ["x"] * 20 + ["y"] * 10
    layout = categorical_layout(ref)
    got = categorical_drift_from_profiles(
        profile_categorical(ref, layout), profile_categorical(cur, layout)
    )
    pooled = categorical_drift(ref, ["a"] * 40 + ["b"] * 30 + ["other"] * 30)
    assert got == pooled
    assert got.unseen_share == 0.3 == categorical_drift(ref, cur).unseen_share
    # An incomplete layout: "other" holds rare reference labels too, so 0.3 is an upper bound.
    capped = categorical_layout(ref, max_categories=2)
    ref_profile = profile_categorical(ref, capped)
    bound = categorical_drift_from_profiles(ref_profile, profile_categorical(cur, capped))
    assert unseen_share_is_upper_bound(ref_profile) and ref_profile.unseen_share_is_upper_bound
    assert bound.unseen_share == 0.3 >= categorical_drift(ref, cur).unseen_share


# --------------------------------------------------------------------------------------------
# Frames, groups, files


def _frame(rows: int = 2_000, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    times = pd.Timestamp("2024-01-15", tz="UTC") + pd.to_timedelta(
        rng.integers(0, 90 * 24 * 3600, rows), unit="s"
    )
    amount = rng.lognormal(3, 1, rows)
    amount[rng.random(rows) < 0.05] = np.nan
    merchant = pd.Series(rng.choice(["food", "travel", "games", "fuel"], rows), dtype="str")
    merchant[rng.random(rows) < 0.03] = None
    return pd.DataFrame(
        {
            "event_time": times.tz_convert("Europe/Paris"),
            "amount": amount,
            "merchant": merchant,
        }
    )


def test_profile_frame_by_month_merges_to_the_whole_and_matches_a_plain_profile() -> None:
    frame = _frame()
    layouts = layouts_for(frame, numeric=["amount"], categorical=["merchant"])
    monthly = profile_frame(frame, layouts, by="event_time")
    utc = frame["event_time"].dt.tz_convert("UTC")
    starts = sorted({pd.Timestamp(t.year, t.month, 1, tz="UTC") for t in utc})
    assert monthly.groups == starts
    for start in starts:
        month = frame[(utc.dt.month == start.month) & (utc.dt.year == start.year)]
        for name, make in (("merchant", profile_categorical), ("amount", profile_numeric)):
            assert monthly.column(name, start) == make(month[name], layouts[name])
    # labels of mixed types per group: compared as text, the same as profile_categorical's
    mixed = frame.assign(code=np.resize(np.array([1, "1", 2.5, None, "x"], dtype=object), 2_000))
    layout = categorical_layout(mixed["code"].iloc[:3], max_categories=1)
    by_month = profile_frame(mixed, {"code": layout}, by="event_time")
    first = mixed[(utc.dt.month == 1) & (utc.dt.year == 2024)]
    assert by_month.column("code", starts[0]) == profile_categorical(first["code"], layout)
    assert by_month.column("code", starts[0]).other > 0
    whole = profile_frame(frame, layouts)
    merged = monthly.whole()
    assert merged.groups == [None]
    assert merged.column("merchant") == whole.column("merchant")
    _assert_same_numeric(merged.column("amount"), whole.column("amount"), scale=1e4)
    daily = profile_frame(frame, layouts, by="event_time", freq="D")
    assert len(daily.groups) > 80 and all(g == g.floor("D") for g in daily.groups)
    assert sum(daily.column("amount", g).total for g in daily.groups) == len(frame)
    assert monthly.source["engine"] == "numpy" and monthly.source["rows"] == len(frame)


def test_profile_set_merge_unions_groups_and_merges_shared_ones() -> None:
    frame = _frame()
    layouts = layouts_for(frame, numeric=["amount"], categorical=["merchant"])
    first, second = frame.iloc[:1_200], frame.iloc[1_200:]
    merged = profile_frame(first, layouts, by="event_time").merge(
        profile_frame(second, layouts, by="event_time")
    )
    direct = profile_frame(frame, layouts, by="event_time")
    assert merged.groups == direct.groups
    for group in direct.groups:
        assert merged.column("merchant", group) == direct.column("merchant", group)
        assert np.array_equal(
            merged.column("amount", group).counts, direct.column("amount", group).counts
        )
    assert merged.source["rows"] == len(frame)


def test_profile_frame_errors_name_the_column() -> None:
    frame = _frame()
    layouts = layouts_for(frame, numeric=["amount"], categorical=["merchant"])
    with pytest.raises(ParameterError, match="'missing'"):
        profile_frame(frame, {"missing": layouts["amount"]})
    with pytest.raises(ParameterError, match="time-zone-aware"):
        profile_frame(frame.assign(t=frame["event_time"].dt.tz_localize(None)), layouts, by="t")
    with pytest.raises(ParameterError, match="period"):
        profile_frame(frame, layouts, by="event_time", freq="W")
    with pytest.raises(ParameterError) as err:
        layouts_for(frame, numeric=["merchant"])
    assert err.value.where == "column 'merchant'"
    with pytest.raises(ParameterError, match="no profile"):
        profile_frame(frame, layouts).column("amount", pd.Timestamp("2024-01-01", tz="UTC"))


@pytest.mark.parametrize("name", ["profiles.json", "profiles.json.gz"])
def test_save_and_load_round_trip_exactly(tmp_path: Path, name: str) -> None:
    frame = _frame()
    frame.loc[frame.index[:3], "amount"] = np.inf
    layouts = layouts_for(frame, numeric=["amount"], categorical=["merchant"])
    profiles = profile_frame(frame, layouts, by="event_time", description="unit test")
    path = save_profiles(profiles, tmp_path / name)
    loaded = load_profiles(path)
    assert loaded == profiles
    assert loaded.column("amount", loaded.groups[0]).offsets.tobytes() == (
        profiles.column("amount", profiles.groups[0]).offsets.tobytes()
    )
    assert all(group.tzinfo is not None for group in loaded.groups)
    assert ProfileSet.from_dict(json.loads(json.dumps(profiles.to_dict()))) == profiles
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary file left
    save_profiles(profiles, tmp_path / "again.json.gz")
    if name.endswith(".gz"):  # deterministic bytes
        assert (tmp_path / "again.json.gz").read_bytes() == path.read_bytes()


def _saved(tmp_path: Path) -> tuple[Path, dict]:
    frame = _frame(300)
    layouts = layouts_for(frame, numeric=["amount"], categorical=["merchant"])
    path = save_profiles(profile_frame(frame, layouts), tmp_path / "p.json")
    return path, json.loads(path.read_text())


def _corrupt(document: dict, how: str) -> dict | list | str:
    numeric = next(p for p in document["profiles"] if p["kind"] == "numeric")
    categorical = next(p for p in document["profiles"] if p["kind"] == "categorical")
    if how == "format":
        document["format"] = "something-else"
    elif how == "version":
        document["version"] = 99
    elif how == "short_counts":
        numeric["counts"] = numeric["counts"][:-1]
    elif how == "negative_count":
        categorical["counts"][0] = -1
    elif how == "n_mismatch":
        numeric["n"] += 1
    elif how == "unknown_column":
        categorical["column"] = "nowhere"
    elif how == "layout_key":
        numeric["layout_key"] = "0" * 64
    elif how == "edges_unsorted":
        document["layouts"]["amount"]["edges"][0] = 1e9
    elif how == "missing_field":
        del numeric["offsets"]
    elif how == "not_an_object":
        return [1, 2, 3]
    return document


@pytest.mark.parametrize(
    "how",
    [
        "format",
        "version",
        "short_counts",
        "negative_count",
        "n_mismatch",
        "unknown_column",
        "layout_key",
        "edges_unsorted",
        "missing_field",
        "not_an_object",
    ],
)
def test_corrupt_files_give_one_plain_error_naming_the_file(tmp_path: Path, how: str) -> None:
    path, document = _saved(tmp_path)
    path.write_text(json.dumps(_corrupt(document, how)))
    with pytest.raises(DataError) as err:
        load_profiles(path)
    assert err.value.where == str(path)
    assert err.value.fix


@pytest.mark.parametrize("content", [b"not json at all", b"\x1f\x8b broken gzip", b""])
def test_unreadable_files_give_a_plain_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(DataError, match="not a prodready profile file") as err:
        load_profiles(path)
    assert err.value.where == str(path)
    with pytest.raises(DataError, match="cannot read"):
        load_profiles(tmp_path / "absent.json")
    gz = tmp_path / "gz.json.gz"
    gz.write_bytes(gzip.compress(b'{"format": "prodready-profiles", "version": 1}'))
    with pytest.raises(DataError, match="damaged"):
        load_profiles(gz)


def test_profile_classes_round_trip_alone() -> None:
    numeric = profile_numeric(np.append(REFERENCE, [np.nan, np.inf]), LAYOUT)
    assert NumericProfile.from_dict(json.loads(json.dumps(numeric.to_dict())), LAYOUT) == numeric
    categorical = profile_categorical(["c0", "zz", None], CAT_LAYOUT)
    data = json.loads(json.dumps(categorical.to_dict()))
    assert CategoricalProfile.from_dict(data, CAT_LAYOUT) == categorical
