"""Runs of array items decoded in one call give exactly the items, and the errors, that one by one would."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dist.domain.errors import DistError
from dist.persistence.legacy import jsonstream
from dist.persistence.legacy.jsonstream import LegacyDocument

# Strings that look like the end of an item, so that a run may be cut inside one.
TRICKY = st.sampled_from(["}, {", "},", '"}, {"id": 9', "]}", "\\", "ü🚀", "x" * 40, ""])
SCALARS = st.one_of(st.integers(-(10**12), 10**12), st.booleans(), st.none(), TRICKY, st.text(max_size=8))
VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TRICKY, inner, max_size=3), max_leaves=8
)
RECORDS = st.lists(st.dictionaries(TRICKY | st.text(max_size=4), VALUES, max_size=4), max_size=30)


def items_of(data: bytes) -> list[Any]:
    document = LegacyDocument(io.BytesIO(data), "db.json")
    return [list(items) for _, items in document.members() if items is not None]


def error_of(data: bytes) -> str:
    with pytest.raises(DistError) as refused:
        items_of(data)
    return refused.value.message


@settings(max_examples=200, deadline=None)
@given(RECORDS, st.integers(8, 64), st.sampled_from([", ", ",\n  ", ","]))
def test_runs_hold_exactly_the_items(records: list[Any], batch: int, separator: str) -> None:
    array = "[" + separator.join(json.dumps(r, ensure_ascii=False) for r in records) + "]"
    # A second member after the first: a run must not reach past the end of its array.
    data = f'{{"releases": {array}, "audit": [{{"id": 1}}, {{"id": 2}}], "apps": {array}}}'.encode()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jsonstream, "BATCH_CHARS", batch)
        patch.setattr(jsonstream, "CHUNK_SIZE", 97)
        assert items_of(data) == [records, [{"id": 1}, {"id": 2}], records]


@pytest.mark.parametrize("defect", ["NaN", "1e999", '{"a": }', '"\\x"', "[1,]", "tru"])
def test_a_defect_inside_a_run_is_refused_where_it_is(defect: str, monkeypatch: pytest.MonkeyPatch) -> None:
    good = ", ".join(json.dumps({"id": n, "s": "}, {"}) for n in range(50))
    data = f'{{"audit": [{good},\n {{"id": 51, "x": {defect}}}, {good}]}}'.encode()
    monkeypatch.setattr(jsonstream, "BATCH_CHARS", 0)
    one_by_one = error_of(data)
    monkeypatch.setattr(jsonstream, "BATCH_CHARS", 10**6)

    error = error_of(data)

    assert "line 2" in error
    # The same reason and place as when items are decoded one by one.
    assert error == one_by_one
