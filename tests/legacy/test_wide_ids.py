"""Legacy stores as FORMAT.md allows them: ids past 2^31 up to 2^63-1, a token with no scope, and the optional
members of signed artifacts and app settings; imported on both engines, exported back the same, usable after."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from dist.domain.enums import Scope
from dist.domain.errors import DistError
from dist.persistence.store import StoreLocation, open_store
from dist.services import blobs, releases, tokens
from tests.legacy.helpers import dist, read_document, with_defaults
from tests.signing import make_ed25519_key

BIG = 3_000_000_001
TOP = 2**63 - 1
BLOB = b"wide ids\n"
SHA = hashlib.sha256(BLOB).hexdigest()
SECRET = "dist_" + "ab" * 32


def document(ed25519_public: str, signature: str) -> dict[str, Any]:
    at = "2024-01-01T00:00:00Z"
    doc: dict[str, Any] = {
        "apps": [
            {
                "id": BIG,
                "slug": "wide",
                "created_at": at,
                "default_channel": "beta",
                "minisign_public_key": None,
                "ed25519_public_key": ed25519_public,
            }
        ],
        "releases": [
            {"id": 2**62, "app_id": BIG, "version": "1.0.0", "created_at": at, "created_by": "cli:x"},
            {"id": 2**62 + 5, "app_id": BIG, "version": "1.1.0", "created_at": at, "created_by": "cli:x"},
        ],
        "artifacts": [
            {
                "id": 2**62 + 1,
                "release_id": 2**62,
                "filename": "a.zip",
                "sha256": SHA,
                "size": len(BLOB),
                "platform": "darwin-aarch64",
                "signatures": {"ed25519": signature},
            },
            {"id": 2**40, "release_id": 2**62 + 5, "filename": "a.zip", "sha256": SHA, "size": len(BLOB)},
        ],
        "channels": [
            {
                "id": 2**62 + 9,
                "app_id": BIG,
                "name": "beta",
                "release_id": 2**62 + 5,
                "created_at": at,
                "history": [
                    {"kind": "promote", "release_id": 2**62, "at": at, "actor": "cli:x"},
                    {"kind": "promote", "release_id": 2**62 + 5, "at": at, "actor": "cli:x"},
                ],
            },
        ],
        "tokens": [
            {
                "id": TOP,
                "name": "nothing",
                "token_hash": hashlib.sha256(SECRET.encode()).hexdigest(),
                "scopes": [],
                "app": None,
                "channel": None,
                "created_at": at,
                "expires_at": None,
                "revoked_at": None,
                "last_used_at": None,
            },
        ],
        "audit": [{"id": 2**62, "at": at, "actor": "cli:x", "action": "app_created", "app": "wide", "target": "wide"}],
    }
    # In id order, as an export writes them. Tokens take the largest id: nothing below makes one.
    doc["artifacts"].sort(key=lambda artifact: artifact["id"])
    return doc


def legacy_store(root: Path, doc: dict[str, Any]) -> None:
    (root / "objects" / SHA[:2]).mkdir(parents=True)
    (root / "objects" / SHA[:2] / SHA).write_bytes(BLOB)
    (root / "db.json").write_text(json.dumps(doc))


def test_wide_ids_empty_scopes_and_new_members_import_and_export_back(location: StoreLocation, tmp_path: Path) -> None:
    key = make_ed25519_key()
    doc = document(key.public, key.sign(BLOB))
    legacy_store(location.root, doc)

    shown = dist(location, "release", "show", "wide", "1.0.0", "--json").json()

    artifact = shown["artifacts"][0]
    assert artifact["signatures"] == {"minisign": None, "ed25519": key.sign(BLOB)}
    # An import reads no blob: the other digests are computed on first need (a feed asks for them).
    assert artifact["sha512"] is None
    assert dist(location, "app", "show", "wide", "--json").json()["default_channel"] == "beta"
    assert dist(location, "store", "export", str(tmp_path / "out")).code == 0
    assert read_document(tmp_path / "out" / "db.json") == with_defaults(doc)

    store = open_store(location)
    try:
        release = releases.get_release(store.uow(), "wide", "1.0.0")
        blobs.ensure_digests(store.uow(), release.artifacts)
        assert release.artifacts[0].sha1 == hashlib.sha1(BLOB).hexdigest()
        page, cursor = releases.list_releases(store.uow(), "wide", limit=1)
        assert [r.version for r in page] == ["1.1.0"] and cursor == str(2**62 + 5)
        assert [r.version for r in releases.list_releases(store.uow(), "wide", cursor=cursor)[0]] == ["1.0.0"]
        # A token without scopes authenticates and may do nothing.
        with pytest.raises(DistError) as refused:
            tokens.authenticate(store.uow(), secret=SECRET, scope=Scope.PUBLISH, app="", channel="")
        assert refused.value.code == "auth.missing_scope"
    finally:
        store.close()
    # New records get ids past the imported ones.
    (tmp_path / "b.zip").write_bytes(b"after")
    ed = key.sign(b"after")
    published = dist(location, "publish", "wide", "2.0.0", f"{tmp_path / 'b.zip'}=darwin-x86_64", "--ed25519",
                     f"b.zip={ed}", "--channel", "beta", "--json")  # fmt: skip
    assert published.json()["artifacts"][0]["signatures"]["ed25519"] == ed


@pytest.mark.parametrize(
    ("member", "index", "change", "message"),
    [
        ("apps", 0, {"id": 2**63}, "outside 1..9223372036854775807"),
        ("artifacts", 0, {"signatures": {"ed25519": "bm90IGEgc2lnbmF0dXJl"}}, "signatures"),
        ("artifacts", 0, {"signatures": {"gpg": "x"}}, 'unknown member "gpg"'),
        ("apps", 0, {"ed25519_public_key": base64.b64encode(b"short").decode()}, "ed25519_public_key"),
        ("apps", 0, {"default_channel": "Not A Channel"}, "default_channel"),
        ("tokens", 0, {"scopes": ["root"]}, "scopes"),
    ],
)
def test_bad_new_members_are_refused_naming_the_record(
    tmp_path: Path, member: str, index: int, change: dict[str, Any], message: str
) -> None:
    key = make_ed25519_key()
    doc = document(key.public, key.sign(BLOB))
    doc[member][index].update(change)
    location = StoreLocation(tmp_path / "store")
    location.root.mkdir()
    legacy_store(location.root, doc)
    result = dist(location, "app", "list")
    assert result.code == 1 and result.err.startswith("error: legacy.invalid: ") and message in result.err
    assert (location.root / "db.json").exists()
