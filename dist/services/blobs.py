"""Blobs: uploading bytes into the store with all their digests, and the digests of blobs that lack them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from dist.domain.entities import Artifact, Blob
from dist.domain.errors import Invalid
from dist.persistence.uow import UnitOfWork


def upload(
    uow: UnitOfWork, chunks: Iterable[bytes], *, max_size: int | None = None, expected_sha256: str | None = None
) -> tuple[Blob, bool]:
    """Stream `chunks` into the object store, computing SHA-256, SHA-512 and SHA-1 on the way, and record the
    blob's row; returns the blob and whether the store did not hold it before.

    Never holds the bytes whole in memory. Over `max_size` bytes is `upload.too_large`; a body that does not
    hash to `expected_sha256` is `upload.digest_mismatch`; either way nothing is kept. Uploading bytes the store
    holds already restarts their grace period before `dist store gc` may remove them unpublished.
    """
    stored = uow.objects.put_stream(chunks, max_size=max_size, expected_sha256=expected_sha256)
    digests = stored.digests
    with uow.write():
        blob = uow.blobs.record(
            Blob(
                sha256=digests.sha256,
                size=digests.size,
                sha512=digests.sha512,
                sha1=digests.sha1,
                created_at=uow.clock(),
            )
        )
        uow.commit()
    return blob, stored.created


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
    found: dict[str, Blob] = {}
    with uow.write():
        for sha256 in sorted(lacking):
            found[sha256] = require(uow, sha256, filename=next(a.filename for a in artifacts if a.sha256 == sha256))
        uow.commit()
    for artifact in artifacts:
        blob = found.get(artifact.sha256)
        if blob is not None:
            artifact.sha512, artifact.sha1 = blob.sha512, blob.sha1
