"""Fuzzed profiles files fed to the Audit from profiles page's path (``read_case_profiles``, then
``audit_profiles``, its table, findings and chart): a profiles file comes from another team, so
every input ends in one ``ProdreadyError`` that says what is wrong, or in an audit; never in
another exception.

Inputs start from the card-fraud sample's profiles (2,000 rows) and are broken the ways a file
sent by e-mail or edited by hand is: a value of the wrong type, a huge, negative or non-finite
number, a key or list element removed, a list cut short or grown, the bytes cut, gzipped or
prefixed with a BOM, or random bytes. Hypothesis runs derandomized (the same inputs on every
run); the last test prints how many inputs were tried and how each ended.
"""

from __future__ import annotations

import copy
import gzip
import json
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prodready import charts, load_case, samples
from prodready.errors import ProdreadyError
from prodready.skew.profiles import (
    audit_profiles,
    case_profiles,
    case_profiles_bytes,
    read_case_profiles,
)

FUZZ = settings(
    deadline=None,
    derandomize=True,  # the same inputs on every run: a CI failure reproduces locally
    database=None,
    max_examples=100,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
WHERE = "fuzzed_profiles.json"
TRIED: Counter[str] = Counter()  # "valid", "error:DataError", "mutation:Replace"...

VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.just([]),
    st.just({}),
    st.lists(st.integers(-3, 3), max_size=4),
)


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The sample's profiles file as the JSON document the page reads."""
    folder = tmp_path_factory.mktemp("profiles")
    case = load_case(samples.write("card_fraud", folder, rows=2_000))
    return json.loads(case_profiles_bytes(case_profiles(case), compress=False))


def _walk(data: st.DataObject, document: Any) -> tuple[Any, Any]:
    """(container, key) of a place in the document: two levels down from the top (into a
    section, then into one of its entries), then on down three times in four."""
    parent, key, node, depth = None, None, document, 0
    while isinstance(node, dict | list) and node:
        if depth >= 2 and not data.draw(st.sampled_from([True, True, True, False])):
            break
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        parent, key = node, data.draw(st.sampled_from(keys))
        node, depth = node[key], depth + 1
    return parent, key


def _mutate(data: st.DataObject, document: dict[str, Any]) -> None:
    """One change, in place, at a random place of the document."""
    parent, key = _walk(data, document)
    value = parent[key]
    kind = data.draw(st.sampled_from(["Replace", "Remove", "Negate", "Resize"]))
    if kind == "Remove":
        del parent[key]
    elif kind == "Negate" and isinstance(value, int | float) and not isinstance(value, bool):
        parent[key] = data.draw(st.sampled_from([-value - 1, value * 1e300, value + 0.5]))
    elif kind == "Resize" and isinstance(value, list) and value:
        cut = data.draw(st.integers(0, len(value)))
        parent[key] = value[:cut] if data.draw(st.booleans()) else value + value[cut:]
    else:
        kind = "Replace"
        parent[key] = data.draw(VALUES)
    TRIED[f"mutation:{kind}"] += 1


def _as_bytes(data: st.DataObject, document: dict[str, Any]) -> bytes:
    """The document as a file: JSON (NaN and Infinity as Python writes them), maybe gzipped,
    maybe with a BOM (a Windows editor's: read as any other) or cut short."""
    raw = json.dumps(document, allow_nan=True).encode("utf-8")
    if data.draw(st.booleans()):
        raw = gzip.compress(raw, mtime=0)
    ending = data.draw(st.sampled_from(["whole", "whole", "bom", "cut"]))
    TRIED[f"bytes:{ending}"] += 1
    if ending == "bom":
        return b"\xef\xbb\xbf" + raw
    if ending == "cut":
        return raw[: data.draw(st.integers(0, len(raw) - 1))]
    return raw


def _page_path(raw: bytes) -> str:
    """What the page does with an upload; returns how it ended."""
    try:
        result = audit_profiles(read_case_profiles(raw, where=WHERE))
        frame = result.to_frame()
        result.summary()
        if len(frame):
            charts.psi_by_month(result, str(frame.index[0]))
    except ProdreadyError as err:
        said = str(err)
        assert said.strip() and "Traceback" not in said
        return f"error:{type(err).__name__}"
    return "valid"


@FUZZ
@given(data=st.data())
def test_a_fuzzed_profiles_file_is_audited_or_refused_clearly(document, data):
    changed = copy.deepcopy(document)
    for _ in range(data.draw(st.integers(1, 2))):
        _mutate(data, changed)
    TRIED[_page_path(_as_bytes(data, changed))] += 1


@settings(FUZZ, max_examples=30)
@given(raw=st.binary(max_size=2_000))
def test_random_bytes_are_refused_clearly(raw):
    ended = _page_path(raw)
    assert ended.startswith("error:")
    TRIED[ended] += 1


def test_the_unchanged_file_is_audited(document):
    assert _page_path(json.dumps(document).encode("utf-8")) == "valid"


def test_zz_how_many_profiles_files_were_tried(record_property, capsys):
    """Runs last in this file: how many fuzzed files were tried and how each ended."""
    if not TRIED:
        pytest.skip("run with the fuzz tests above to count their inputs")
    total = sum(v for k, v in TRIED.items() if k == "valid" or k.startswith("error:"))
    record_property("fuzzed_profiles", total)
    with capsys.disabled():
        print(f"\nprofiles fuzz: {total} files tried")
        for key, count in sorted(TRIED.items()):
            print(f"  {key}: {count}")
    assert total >= 120
    assert TRIED["valid"] > 0 and any(k.startswith("error:") for k in TRIED)
