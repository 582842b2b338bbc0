"""Idempotency-Key on the publish route: a repeat gets the first answer again, one release and one audit event;
another request under the same key is 422 and writes nothing; keys belong to their token and live 24 hours."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from starlette.testclient import TestClient

from dist.persistence.store import Store
from tests.conftest import Clock
from tests.http.conftest import assert_error, bearer, make_token, upload

URL = "/api/apps/demo/releases"


def counts(store: Store) -> dict[str, int]:
    with store.engine.connect() as connection:
        return {
            table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("releases", "audit_events", "idempotency_keys")
        }


def body_of(client: TestClient, headers: dict[str, str], version: str, data: bytes = b"bytes") -> bytes:
    sha = upload(client, headers, data)
    document: dict[str, Any] = {"version": version, "artifacts": [{"filename": "a.bin", "sha256": sha}]}
    return json.dumps(document).encode()


def post(client: TestClient, headers: dict[str, str], body: bytes, key: str) -> Any:
    return client.post(URL, content=body, headers={**headers, "Idempotency-Key": key})


def test_a_repeat_gets_the_first_answer_and_publishes_once(
    client: TestClient, store: Store, publisher: dict[str, str], clock: Clock
) -> None:
    body = body_of(client, publisher, "1.0.0")
    before = counts(store)
    first = post(client, publisher, body, "key-1")
    assert first.status_code == 201, first.text
    clock.advance(hours=23)
    again = post(client, publisher, body, "key-1")
    assert (again.status_code, again.content) == (201, first.content)
    assert again.json()["version"] == "1.0.0"
    after = counts(store)
    # One release, and one audit event for it (the app's creation is the other).
    assert after["releases"] - before["releases"] == 1
    events = client.get("/api/audit", headers=bearer(make_token(store, "admin")[1])).json()
    assert [e["action"] for e in events["events"]].count("release_published") == 1
    assert after["idempotency_keys"] == 1

    # Without a key, the same request is what it always was: the version exists.
    assert_error(client.post(URL, content=body, headers=publisher), 409, "release.exists")


def test_another_request_under_the_key_is_refused_and_writes_nothing(
    client: TestClient, store: Store, publisher: dict[str, str]
) -> None:
    assert post(client, publisher, body_of(client, publisher, "1.0.0"), "key-1").status_code == 201
    other = body_of(client, publisher, "1.1.0", b"other bytes")
    before = counts(store)
    assert_error(post(client, publisher, other, "key-1"), 422, "idempotency.mismatch")
    assert counts(store) == before
    # The other request goes through under a key of its own.
    assert post(client, publisher, other, "key-2").json()["version"] == "1.1.0"


def test_a_key_belongs_to_the_token_that_sent_it(client: TestClient, store: Store, publisher: dict[str, str]) -> None:
    body = body_of(client, publisher, "1.0.0")
    assert post(client, publisher, body, "shared").status_code == 201
    other = bearer(make_token(store, "publish")[1])
    # Another token sending the same key and body does not read the first one's answer.
    assert_error(post(client, other, body, "shared"), 409, "release.exists")


def test_a_key_expires_after_24_hours_and_is_swept(
    client: TestClient, store: Store, publisher: dict[str, str], clock: Clock
) -> None:
    assert post(client, publisher, body_of(client, publisher, "1.0.0"), "old").status_code == 201
    assert post(client, publisher, body_of(client, publisher, "1.0.1", b"1.0.1"), "older").status_code == 201
    clock.advance(hours=24, seconds=1)
    # Expired, the key is free for a new request (no mismatch), and the other expired key is swept.
    reused = post(client, publisher, body_of(client, publisher, "2.0.0", b"two"), "old")
    assert reused.status_code == 201 and reused.json()["version"] == "2.0.0"
    with store.engine.connect() as connection:
        keys = connection.execute(text("SELECT key FROM idempotency_keys")).scalars().all()
    assert keys == ["old"]


def test_a_malformed_key_is_refused(client: TestClient, store: Store, publisher: dict[str, str]) -> None:
    body = body_of(client, publisher, "1.0.0")
    before = counts(store)
    keys: list[str | bytes] = ["", "x" * 256, "tab\there", "é".encode()]
    for key in keys:
        headers: dict[str, str | bytes] = {**publisher, "Idempotency-Key": key}
        assert_error(client.post(URL, content=body, headers=headers), 400, "idempotency.invalid_key")
    assert counts(store) == before
    assert post(client, publisher, body, "x" * 255).status_code == 201


def test_the_header_is_in_the_openapi_document(client: TestClient) -> None:
    document = client.get("/api/openapi.json").json()
    parameters = document["paths"]["/api/apps/{slug}/releases"]["post"]["parameters"]
    (header,) = [p for p in parameters if p["in"] == "header"]
    assert header["name"] == "Idempotency-Key" and not header["required"]
    assert header["schema"]["maxLength"] == 255 and header["schema"]["minLength"] == 1
    assert "idempotency.mismatch" in header["description"]
