"""Digests left for after an upload: an upload that hashes SHA-256 alone records the blob without SHA-512 and
SHA-1; publish computes them before the release is recorded, a re-upload never empties them, and two threads
that fill the same blob hash its bytes once."""

from __future__ import annotations

import hashlib
import os
import threading
from typing import Any

from dist.persistence.store import Store
from dist.persistence.uow import UnitOfWork
from dist.services import blobs, feeds, releases
from dist.services.releases import ArtifactSpec
from tests.services.conftest import ACTOR


def row(uow: UnitOfWork, sha256: str) -> tuple[str | None, str | None]:
    with uow.read():
        blob = uow.blobs.get(sha256)
    assert blob is not None
    return blob.sha512, blob.sha1


def test_an_upload_may_leave_sha512_and_sha1_for_later(store: Store, uow: UnitOfWork) -> None:
    data = os.urandom(3 * 1024 * 1024 + 7)
    blob, created = blobs.upload(uow, [data[:1000], data[1000:]], digests_later=True)
    assert created and blob.sha256 == hashlib.sha256(data).hexdigest() and blob.size == len(data)
    assert row(uow, blob.sha256) == (None, None)
    assert blobs.fill_digests(store.uow(), [blob.sha256]) == 1
    assert row(uow, blob.sha256) == (hashlib.sha512(data).hexdigest(), hashlib.sha1(data).hexdigest())
    # Nothing left to do the second time.
    assert blobs.fill_digests(store.uow(), [blob.sha256]) == 0


def test_publish_computes_what_the_upload_left_and_the_feed_carries_it(store: Store, uow: UnitOfWork) -> None:
    data = b"an installer" * 1000
    blob, _ = blobs.upload(uow, [data], digests_later=True)
    spec = ArtifactSpec("app-setup.exe", blob.sha256, "windows-x86_64")
    releases.publish(uow, app="demo", version="1.0.0", artifacts=[spec], channel="stable", actor=ACTOR)
    expected = (hashlib.sha512(data).hexdigest(), hashlib.sha1(data).hexdigest())
    assert row(uow, blob.sha256) == expected
    (artifact,) = releases.get_release(uow, "demo", "1.0.0").artifacts
    assert (artifact.sha512, artifact.sha1, artifact.size) == (*expected, len(data))
    served = feeds.served(uow, "demo", "stable")
    assert [(a.sha512, a.sha1) for a in served.release.artifacts] == [expected]


def test_uploading_again_without_digests_keeps_those_the_row_has(store: Store, uow: UnitOfWork) -> None:
    data = b"same bytes twice"
    first, created = blobs.upload(uow, [data])
    assert created and row(uow, first.sha256) == (hashlib.sha512(data).hexdigest(), hashlib.sha1(data).hexdigest())
    again, created = blobs.upload(store.uow(), [data], digests_later=True)
    assert not created and again.sha256 == first.sha256
    assert row(uow, first.sha256) == (hashlib.sha512(data).hexdigest(), hashlib.sha1(data).hexdigest())


def test_two_threads_filling_one_blob_hash_it_once(store: Store, uow: UnitOfWork) -> None:
    data = os.urandom(8 * 1024 * 1024)
    blob, _ = blobs.upload(uow, [data], digests_later=True)
    hashed: list[str] = []
    real = store.objects.digests

    def counted(sha256: str) -> Any:
        hashed.append(sha256)
        return real(sha256)

    store.objects.digests = counted  # type: ignore[method-assign]
    start = threading.Barrier(2)
    results: list[int] = []

    def fill() -> None:
        start.wait()
        results.append(blobs.fill_digests(store.uow(), [blob.sha256]))

    threads = [threading.Thread(target=fill) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert hashed == [blob.sha256] and sorted(results) == [0, 1]
    assert row(uow, blob.sha256) == (hashlib.sha512(data).hexdigest(), hashlib.sha1(data).hexdigest())


def test_a_blob_whose_file_went_is_left_for_publish_to_report(store: Store, uow: UnitOfWork) -> None:
    blob, _ = blobs.upload(uow, [b"gone soon"], digests_later=True)
    assert store.objects.remove(blob.sha256) is not None
    assert blobs.fill_digests(store.uow(), [blob.sha256]) == 0
    assert row(uow, blob.sha256) == (None, None)
