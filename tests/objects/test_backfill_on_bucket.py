"""Migration 0002's digest backfill reads the blobs from a bucket: a store taken back to 0001 and upgraded again
with its objects in a bucket gets every blob's SHA-512 and SHA-1 from the bucket's bytes."""

from __future__ import annotations

import hashlib
from dataclasses import replace

from alembic import command
from sqlalchemy import text

from dist.persistence.store import StoreLocation, alembic_config, open_store, upgrade_to_head
from dist.services import blobs, releases
from dist.services.releases import ArtifactSpec


def test_the_0002_backfill_hashes_blobs_in_the_bucket(location: StoreLocation, objects_url: str) -> None:
    on_bucket = replace(location, objects_url=objects_url)
    data = b"bytes kept in the bucket" * 1000
    store = open_store(on_bucket)
    try:
        blob, _ = blobs.upload(store.uow(), [data])
        spec = ArtifactSpec("demo.bin", blob.sha256, "any")
        releases.publish(store.uow(), app="demo", version="1.0.0", artifacts=[spec], actor="cli:test")
    finally:
        store.close()
    engine = on_bucket.engine()
    try:
        config = alembic_config()
        with engine.execution_options(dist_write=True).begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0001")
        upgrade_to_head(engine, on_bucket.objects())
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT sha256, size, sha512, sha1 FROM blobs")).all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in rows] == [
        (blob.sha256, len(data), hashlib.sha512(data).hexdigest(), hashlib.sha1(data).hexdigest())
    ]
