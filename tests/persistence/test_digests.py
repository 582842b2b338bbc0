"""All three digests of a stream, whether hashed on one thread or handed to side threads part way, match
hashlib's over the whole; a stream given up halfway stops its threads."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import pytest

from dist.persistence.digests import CHUNK_SIZE, THREADED_FROM, StreamDigests, file_digests, many_file_digests


@pytest.mark.parametrize(
    "size", [0, 1, CHUNK_SIZE - 1, THREADED_FROM - 1, THREADED_FROM, THREADED_FROM + 3 * CHUNK_SIZE + 5]
)
@pytest.mark.parametrize("announced", [True, False])
def test_stream_digests_match_hashlib(size: int, announced: bool) -> None:
    data = os.urandom(size)
    digests = StreamDigests(size if announced else None)
    for start in range(0, size, CHUNK_SIZE // 3 or 1):
        digests.update(data[start : start + CHUNK_SIZE // 3])
    result = digests.finish()
    assert (result.sha256, result.sha512, result.sha1, result.size) == (
        hashlib.sha256(data).hexdigest(),
        hashlib.sha512(data).hexdigest(),
        hashlib.sha1(data).hexdigest(),
        size,
    )


def test_a_stream_given_up_stops_its_threads() -> None:
    before = threading.active_count()
    digests = StreamDigests(THREADED_FROM)
    for _ in range(20):
        digests.update(bytes(CHUNK_SIZE))
    digests.close()
    assert threading.active_count() == before


def test_file_digests_in_order_and_missing_files(tmp_path: Path) -> None:
    # Enough files for several batches, small ones read at once and a large one hashed in chunks.
    contents = {n: bytes([n % 256]) * n * 100 for n in range(300)}
    contents[300] = b"L" * (THREADED_FROM + 5)
    paths = []
    for n, data in contents.items():
        path = tmp_path / f"f{n}"
        path.write_bytes(data)
        paths.append((n, str(path)))
    paths.insert(3, (-1, str(tmp_path / "missing")))
    paths.insert(200, (-2, str(tmp_path / "missing too")))
    found = list(many_file_digests(paths))
    assert [key for key, _ in found] == [key for key, _ in paths]
    for key, digests in found:
        if key < 0:
            assert digests is None
        else:
            assert digests == file_digests(tmp_path / f"f{key}")
            assert digests is not None and digests.size == len(contents[key])
            assert digests.sha512 == hashlib.sha512(contents[key]).hexdigest()
            assert digests.sha1 == hashlib.sha1(contents[key]).hexdigest()
