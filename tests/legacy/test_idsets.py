"""The importer's compact id and hash sets answer as a set and a dict would, whatever order ids come in."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dist.persistence.legacy.idsets import HashSet, IdMap


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 3000), st.integers(0, 50))), st.lists(st.integers(0, 3100)))
def test_id_map_holds_what_a_dict_holds(pairs: list[tuple[int, int]], probes: list[int]) -> None:
    ids, expected = IdMap(), {}
    for key, value in pairs:
        assert ids.add(key, value) == (key not in expected)
        expected.setdefault(key, value)
    for key in [*expected, *probes]:
        assert ids.get(key) == expected.get(key)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-(2**63), 2**63 - 1) | st.integers(-3, 3), max_size=3000))
def test_hash_set_reports_each_hash_seen_before(digests: list[int]) -> None:
    table, seen = HashSet(), set()
    for digest in digests:
        # 0 is kept as 1: the one collision a caller must confirm.
        key = digest or 1
        assert table.add(digest) == (key not in seen)
        seen.add(key)


def test_hash_set_keeps_every_hash_as_it_grows() -> None:
    table = HashSet()
    digests = [hash(("app", n)) for n in range(20_000)]
    assert all(table.add(digest) for digest in digests)
    assert not any(table.add(digest) for digest in digests)
