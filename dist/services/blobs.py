"""Blobs: uploading bytes into the store with all their digests, and the digests of blobs that lack them."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

from dist.domain.entities import Artifact, Blob
from dist.domain.errors import Invalid
from dist.persistence.uow import UnitOfWork


def upload(
    uow: UnitOfWork,
    chunks: Iterable[bytes],
    *,
    max_size: int | None = None,
    expected_sha256: str | None = None,
    digests_later: bool = False,
) -> tuple[Blob, bool]:
    """Stream `chunks` into the object store, computing SHA-256, SHA-512 and SHA-1 on the way, and record the
    blob's row; returns the blob and whether the store did not hold it before.

    With `digests_later`, only SHA-256 is computed on the way and the row's SHA-512 and SHA-1 stay empty until
    `fill_digests` (which the server runs right after the upload, and publish runs for whatever is still
    missing): the upload then costs one hash instead of three.

    Never holds the bytes whole in memory. Over `max_size` bytes is `upload.too_large`; a body that does not
    hash to `expected_sha256` is `upload.digest_mismatch`; either way nothing is kept. Uploading bytes the store
    holds already restarts their grace period before `dist store gc` may remove them unpublished.
    """
    stored = uow.objects.put_stream(
        chunks, max_size=max_size, expected_sha256=expected_sha256, sha256_only=digests_later
    )
    digests = stored.digests
    with uow.write():
        blob = uow.blobs.record(
            Blob(
                sha256=stored.sha256,
                size=stored.size,
                sha512=digests.sha512 if digests is not None else None,
                sha1=digests.sha1 if digests is not None else None,
                created_at=uow.clock(),
            )
        )
        uow.commit()
    return blob, stored.created


_filling: dict[str, tuple[threading.Lock, int]] = {}
_filling_guard = threading.Lock()


@contextmanager
def _one_at_a_time(sha256: str) -> Iterator[None]:
    """Held while this process hashes the blob `sha256`: the bytes of a blob are never hashed twice at once."""
    with _filling_guard:
        lock, users = _filling.get(sha256, (threading.Lock(), 0))
        _filling[sha256] = (lock, users + 1)
    try:
        with lock:
            yield
    finally:
        with _filling_guard:
            lock, users = _filling[sha256]
            if users == 1:
                del _filling[sha256]
            else:
                _filling[sha256] = (lock, users - 1)


def fill_digests(uow: UnitOfWork, sha256s: Iterable[str]) -> int:
    """Compute the SHA-512 and SHA-1 that the rows of blobs `sha256s` lack, from their bytes, outside any
    transaction (hashing a large blob takes seconds), and store them; returns how many rows were filled. A blob
    without a row or a file, or whose bytes hash otherwise, is left alone: publish reports it."""
    with uow.read():
        found = [uow.blobs.get(sha256) for sha256 in dict.fromkeys(sha256s)]
    lacking = [b.sha256 for b in found if b is not None and (b.sha512 is None or b.sha1 is None)]
    filled = 0
    for sha256 in lacking:
        with _one_at_a_time(sha256):
            # Another thread may have filled it while this one waited.
            with uow.read():
                blob = uow.blobs.get(sha256)
            if blob is None or (blob.sha512 is not None and blob.sha1 is not None):
                continue
            try:
                digests = uow.objects.digests(sha256)
            except FileNotFoundError:
                continue
            if digests.sha256 != sha256:
                continue
            with uow.write():
                uow.blobs.set_digests(sha256, digests.sha512, digests.sha1)
                uow.commit()
            filled += 1
    return filled


def require(uow: UnitOfWork, sha256: str, *, filename: str) -> Blob:
    """The blob `sha256`, inside the caller's write transaction. A blob whose file is there without a row (put
    there before this schema, or by an upload cut short between the two) gets its row now, from its bytes.
    Neither file nor row: `object.missing`."""
    size = uow.objects.size(sha256)
    if size is None:
        raise Invalid("object.missing", f"no uploaded blob has the sha256 {sha256} (for {filename!r}); upload it first")
    blob = uow.blobs.get(sha256)
    if blob is not None and blob.sha512 is not None and blob.sha1 is not None:
        return blob
    digests = uow.objects.digests(sha256)
    if digests.sha256 != sha256:
        raise Invalid("object.corrupt", f"the blob {sha256} (for {filename!r}) is damaged: its bytes hash otherwise")
    filled = Blob(
        sha256=sha256,
        size=digests.size,
        sha512=digests.sha512,
        sha1=digests.sha1,
        created_at=blob.created_at if blob is not None else uow.clock(),
    )
    if blob is None:
        uow.blobs.record(filled)
    else:
        uow.blobs.set_digests(sha256, digests.sha512, digests.sha1)
    return filled


def ensure_digests(uow: UnitOfWork, artifacts: Sequence[Artifact]) -> None:
    """Give each of `artifacts` its SHA-512 and SHA-1: those not computed yet (a blob the migration to this
    schema could not read) are computed from the bytes now and stored. A feed calls this before it goes out."""
    lacking = {a.sha256 for a in artifacts if a.sha512 is None or a.sha1 is None}
    if not lacking:
        return
    # Hashed outside the write transaction, as publish does: a large blob takes seconds.
    fill_digests(uow, sorted(lacking))
    found: dict[str, Blob] = {}
    with uow.write():
        for sha256 in sorted(lacking):
            found[sha256] = require(uow, sha256, filename=next(a.filename for a in artifacts if a.sha256 == sha256))
        uow.commit()
    for artifact in artifacts:
        blob = found.get(artifact.sha256)
        if blob is not None:
            artifact.sha512, artifact.sha1 = blob.sha512, blob.sha1
