"""Upload records every digest; publish over HTTP carries signatures, verified against the app's keys (422 and
nothing written when they do not hold)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from starlette.testclient import TestClient

from dist.http.app import create_app
from dist.persistence.store import Store
from dist.services import apps
from tests.http.conftest import assert_error, sha256
from tests.signing import make_ed25519_key, make_minisign_key

# Over the size at which SHA-512 and SHA-1 move to threads of their own.
LARGE = 5 * 1024 * 1024 + 256


def test_an_upload_records_its_digests_computed_from_the_bytes(store: Store, publisher: dict[str, str]) -> None:
    with TestClient(create_app(store, max_upload=LARGE), raise_server_exceptions=False) as client:
        responses = [
            (data, client.post("/api/upload", content=data, headers=publisher))
            for data in (b"small", bytes(range(256)) * (LARGE // 256))
        ]
    for data, response in responses:
        assert response.status_code == 201
        with store.uow().read() as uow:
            blob = uow.blobs.get(sha256(data))
        assert blob is not None
        assert (blob.size, blob.sha512, blob.sha1) == (
            len(data),
            hashlib.sha512(data).hexdigest(),
            hashlib.sha1(data).hexdigest(),
        )


def test_publish_with_signatures_verified_against_the_app_keys(
    client: TestClient, store: Store, admin: dict[str, str], tmp_path: Path
) -> None:
    minisign_key, ed_key = make_minisign_key(tmp_path / "key"), make_ed25519_key()
    apps.create_app(store.uow(), slug="demo", actor="cli:test")
    apps.update_app(
        store.uow(),
        slug="demo",
        minisign_public_key=minisign_key.public_line,
        ed25519_public_key=ed_key.public,
        actor="cli:test",
    )
    data = b"a mac build"
    (tmp_path / "app.zip").write_bytes(data)
    minisign = minisign_key.sign(tmp_path / "app.zip")
    assert client.post("/api/upload", content=data, headers=admin).status_code == 201

    def body(signatures: dict[str, str]) -> dict[str, object]:
        artifact = {"filename": "app.zip", "sha256": sha256(data), "platform": "darwin-aarch64"}
        return {"version": "1.0.0", "artifacts": [{**artifact, "signatures": signatures}]}

    tampered = make_ed25519_key().sign(data)
    refused = client.post(
        "/api/apps/demo/releases", json=body({"minisign": minisign, "ed25519": tampered}), headers=admin
    )
    assert_error(refused, 422, "artifact.bad_signature")
    unsigned = client.post("/api/apps/demo/releases", json=body({"minisign": minisign}), headers=admin)
    assert_error(unsigned, 422, "artifact.unsigned")
    unknown = client.post("/api/apps/demo/releases", json=body({"gpg": "x"}), headers=admin)
    assert_error(unknown, 422, "request.unknown_field")
    assert client.get("/api/apps/demo/releases").json()["releases"] == []

    signed = body({"minisign": minisign, "ed25519": ed_key.sign(data)})
    created = client.post("/api/apps/demo/releases", json=signed, headers=admin)
    assert created.status_code == 201, created.text
    artifact = created.json()["artifacts"][0]
    assert artifact["signatures"] == {"minisign": minisign, "ed25519": ed_key.sign(data)}
    assert (artifact["sha512"], artifact["sha1"]) == (hashlib.sha512(data).hexdigest(), hashlib.sha1(data).hexdigest())
    app = client.get("/api/apps/demo").json()
    assert (app["minisign_public_key"], app["ed25519_public_key"]) == (minisign_key.public_line, ed_key.public)
    assert app["default_channel"] == "stable"
