"""Compact sets of the ids and key hashes an import must remember, so that its memory hardly grows with the store.

A Python set or dict spends some 60-100 bytes on each integer it holds; at a few hundred thousand records that
is most of an import's memory. db.json lists each kind in the order of creation, so ids mostly come in
increasing order: those are appended to an array (8 bytes each) and found by bisection. The few that come out
of order go to an ordinary set or dict. Key hashes have no order; they live in an open-addressing table of
64-bit integers (16 to 32 bytes each).
"""

from __future__ import annotations

from array import array
from bisect import bisect_left


class IdMap:
    """Ids, each with an integer value (a release's app id); `IdMap.get` gives the value, None for an unknown id."""

    def __init__(self) -> None:
        self._ids = array("q")
        self._values = array("q")
        self._others: dict[int, int] = {}

    def get(self, key: int) -> int | None:
        ids = self._ids
        if ids and key <= ids[-1]:
            at = bisect_left(ids, key)
            if ids[at] == key:
                return self._values[at]
        return self._others.get(key)

    def add(self, key: int, value: int = 0) -> bool:
        """Record `key` with `value`, unless it is there already: False then."""
        ids = self._ids
        if not ids or key > ids[-1]:
            ids.append(key)
            self._values.append(value)
            return True
        if self.get(key) is not None:
            return False
        self._others[key] = value
        return True


class IdSet(IdMap):
    """Ids without values."""


class HashSet:
    """64-bit hashes of unique keys. `add` says whether a hash was there already; as hashes of distinct keys may
    collide, a caller confirms such a hit against the keys themselves."""

    def __init__(self) -> None:
        self._table = array("q", bytes(8 * 1024))
        self._used = 0

    def add(self, digest: int) -> bool:
        """Add `digest`; False when it was there already."""
        # 0 marks a free slot, so a digest of 0 is kept as 1: at worst one more hit for the caller to confirm.
        digest = digest or 1
        table = self._table
        mask = len(table) - 1
        slot = digest & mask
        while True:
            found = table[slot]
            if found == 0:
                break
            if found == digest:
                return False
            slot = (slot + 1) & mask
        table[slot] = digest
        self._used += 1
        # At most half full, so that a probe rarely goes beyond a slot or two.
        if self._used * 2 > len(table):
            self._grow()
        return True

    def _grow(self) -> None:
        old = self._table
        table = array("q", bytes(16 * len(old)))
        mask = len(table) - 1
        for digest in old:
            if digest:
                slot = digest & mask
                while table[slot]:
                    slot = (slot + 1) & mask
                table[slot] = digest
        self._table = table
