"""The content-addressed object store: one blob per content, written through tmp/, nothing left behind."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from dist.domain.errors import DistError
from dist.persistence.file_objects import FileObjects as ObjectStore


def files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file()) if directory.exists() else []


@pytest.fixture
def objects(tmp_path: Path) -> ObjectStore:
    return ObjectStore(tmp_path / "objects")


def test_identical_bytes_are_stored_once(objects: ObjectStore, tmp_path: Path) -> None:
    data = b"release bytes" * 1000
    sha = hashlib.sha256(data).hexdigest()
    first = objects.put_stream([data])
    second = objects.put_stream([data[:7], data[7:]])
    assert (first.sha256, first.size, first.created) == (sha, len(data), True)
    assert (second.sha256, second.size, second.created) == (sha, len(data), False)
    assert files(tmp_path / "objects") == [tmp_path / "objects" / sha[:2] / sha]
    assert (tmp_path / "objects" / sha[:2] / sha).read_bytes() == data
    assert files(tmp_path / "tmp") == []
    assert objects.exists(sha) and objects.size(sha) == len(data) and objects.hash_file(sha) == sha


def test_a_blob_is_written_in_tmp_until_committed(objects: ObjectStore, tmp_path: Path) -> None:
    with objects.writer() as writer:
        writer.write(b"half")
        assert len(files(tmp_path / "tmp")) == 1
        assert files(tmp_path / "objects") == []
        writer.write(b" and half")
        blob = writer.commit()
    assert files(tmp_path / "tmp") == []
    assert (tmp_path / "objects" / blob.sha256[:2] / blob.sha256).read_bytes() == b"half and half"


def test_a_digest_mismatch_keeps_nothing(objects: ObjectStore, tmp_path: Path) -> None:
    with pytest.raises(DistError) as refused:
        objects.put_stream([b"abc"], expected_sha256="0" * 64)
    assert refused.value.code == "upload.digest_mismatch"
    assert files(tmp_path) == []
    assert objects.put_stream([b"abc"], expected_sha256=hashlib.sha256(b"abc").hexdigest()).created


def test_an_upload_over_the_cap_keeps_nothing(objects: ObjectStore, tmp_path: Path) -> None:
    with pytest.raises(DistError) as refused:
        objects.put_stream([b"12345", b"6"], max_size=5)
    assert (refused.value.code, refused.value.kind) == ("upload.too_large", "too_large")
    assert files(tmp_path) == []


def test_an_interrupted_stream_keeps_nothing(objects: ObjectStore, tmp_path: Path) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"partial"
        raise ConnectionResetError

    with pytest.raises(ConnectionResetError):
        objects.put_stream(chunks())
    assert files(tmp_path) == []


def test_put_file_and_empty_blobs(objects: ObjectStore, tmp_path: Path) -> None:
    source = tmp_path / "a.bin"
    source.write_bytes(b"\x00" * 3_000_000)
    assert objects.put_file(source).sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
    empty = objects.put_stream([])
    assert (empty.sha256, empty.size) == (hashlib.sha256(b"").hexdigest(), 0)


@pytest.mark.parametrize("name", ["../" + "a" * 61, "A" * 64, "a" * 63, "", "%2e%2e"])
def test_paths_only_for_digests(objects: ObjectStore, name: str) -> None:
    with pytest.raises(DistError) as refused:
        objects.path(name)
    assert refused.value.code == "object.invalid_sha256"
