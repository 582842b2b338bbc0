"""Signatures at publish: stored as given, verified against the app's keys, required where the updaters need them;
every refusal writes nothing. Keys and signatures come from the real minisign and a real Ed25519 key."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from dist.persistence.store import Store
from dist.persistence.uow import UnitOfWork
from dist.services import apps, audit, blobs, releases
from dist.services.releases import ArtifactSpec
from tests.services.conftest import ACTOR, refused, row_counts
from tests.signing import MinisignKey, make_ed25519_key, make_minisign_key


@pytest.fixture
def minisign_key(tmp_path: Path) -> MinisignKey:
    return make_minisign_key(tmp_path / "minisign")


def upload(uow: UnitOfWork, data: bytes) -> str:
    blob, _ = blobs.upload(uow, [data])
    return blob.sha256


def signed(minisign_key: MinisignKey, tmp_path: Path, data: bytes, *, legacy: bool = False) -> str:
    path = tmp_path / hashlib.sha256(data).hexdigest()
    path.write_bytes(data)
    return minisign_key.sign(path, legacy=legacy)


def test_signatures_are_stored_and_read_back_in_their_stored_forms(
    uow: UnitOfWork, minisign_key: MinisignKey, tmp_path: Path
) -> None:
    data = b"tauri bundle"
    text = signed(minisign_key, tmp_path, data)
    ed25519 = make_ed25519_key().sign(data)
    spec = ArtifactSpec(
        "app.tar.gz",
        upload(uow, data),
        "linux-x86_64",
        minisign_signature=base64.b64encode(text.encode()).decode(),
        ed25519_signature=ed25519,
    )
    # No key set: nothing to verify against, but the forms are checked and normalised.
    releases.publish(uow, app="demo", version="1.0.0", artifacts=[spec], actor=ACTOR)
    artifact = releases.get_release(uow, "demo", "1.0.0").artifacts[0]
    assert (artifact.signatures.minisign, artifact.signatures.ed25519) == (text, ed25519)
    assert artifact.sha512 == hashlib.sha512(data).hexdigest() and artifact.sha1 == hashlib.sha1(data).hexdigest()


@pytest.mark.parametrize("legacy", [False, True], ids=["prehashed", "legacy"])
def test_with_keys_set_good_signatures_publish_and_bad_ones_write_nothing(
    store: Store, uow: UnitOfWork, minisign_key: MinisignKey, tmp_path: Path, legacy: bool
) -> None:
    ed_key = make_ed25519_key()
    apps.create_app(uow, slug="demo", actor=ACTOR)
    updated = apps.update_app(
        uow, slug="demo", minisign_public_key=minisign_key.public_file, ed25519_public_key=ed_key.public, actor=ACTOR
    )
    assert updated.minisign_public_key == minisign_key.public_line
    good, other = b"the real bundle" * 5000, b"another bundle"
    mac = ArtifactSpec(
        "app.dmg",
        upload(uow, good),
        "darwin-aarch64",
        minisign_signature=signed(minisign_key, tmp_path, good, legacy=legacy),
        ed25519_signature=ed_key.sign(good),
    )
    before = row_counts(store)
    cases = {
        "minisign of other bytes": (
            ArtifactSpec(
                "app.dmg",
                mac.sha256,
                "darwin-aarch64",
                minisign_signature=signed(minisign_key, tmp_path, other, legacy=legacy),
                ed25519_signature=mac.ed25519_signature,
            ),
            "artifact.bad_signature",
        ),
        "ed25519 of other bytes": (
            ArtifactSpec(
                "app.dmg",
                mac.sha256,
                "darwin-aarch64",
                minisign_signature=mac.minisign_signature,
                ed25519_signature=ed_key.sign(other),
            ),
            "artifact.bad_signature",
        ),
        "no ed25519 on darwin": (
            ArtifactSpec("app.dmg", mac.sha256, "darwin-aarch64", minisign_signature=mac.minisign_signature),
            "artifact.unsigned",
        ),
        "no minisign on windows": (ArtifactSpec("app.exe", upload(uow, other), "windows-x86_64"), "artifact.unsigned"),
        "malformed": (
            ArtifactSpec("app.dmg", mac.sha256, "darwin-aarch64", minisign_signature="garbage", ed25519_signature="x"),
            "artifact.bad_signature",
        ),
    }
    for name, (spec, code) in cases.items():
        error = refused(
            lambda spec=spec: releases.publish(uow, app="demo", version="1.0.0", artifacts=[spec], actor=ACTOR)
        )
        assert error.code == code, name
        assert error.kind == "invalid"
    after_uploads = row_counts(store)
    assert {k: v for k, v in after_uploads.items() if k != "blobs"} == {k: v for k, v in before.items() if k != "blobs"}
    # An artifact of no updater's platform needs no signature; the signed one publishes.
    plain = ArtifactSpec("notes.txt", upload(uow, b"plain"), "any")
    release = releases.publish(uow, app="demo", version="1.0.0", artifacts=[mac, plain], actor=ACTOR)
    assert [a.filename for a in release.artifacts] == ["app.dmg", "notes.txt"]


def test_app_settings_are_validated_audited_and_removable(uow: UnitOfWork, minisign_key: MinisignKey) -> None:
    apps.create_app(uow, slug="demo", actor=ACTOR)
    assert refused(lambda: apps.update_app(uow, slug="nope", name="x", actor=ACTOR)).code == "app.not_found"
    bad_key = refused(lambda: apps.update_app(uow, slug="demo", minisign_public_key="RWnope", actor=ACTOR))
    assert bad_key.code == "app.invalid_public_key"
    bad_channel = refused(lambda: apps.update_app(uow, slug="demo", default_channel="Not OK", actor=ACTOR))
    assert bad_channel.code == "channel.invalid_name"
    tauri_form = base64.b64encode(minisign_key.public_file.encode()).decode()
    app = apps.update_app(
        uow, slug="demo", name="Demo", default_channel="beta", minisign_public_key=tauri_form, actor=ACTOR
    )
    assert (app.name, app.default_channel, app.minisign_public_key) == ("Demo", "beta", minisign_key.public_line)
    again, _ = apps.show_app(uow, "demo")
    assert again == app
    cleared = apps.update_app(uow, slug="demo", minisign_public_key="", actor=ACTOR)
    assert cleared.minisign_public_key is None and cleared.default_channel == "beta"
    updates = [e for e in audit.list_events(uow) if e.action == "app_updated"]
    assert [(e.detail["before"]["default_channel"], e.detail["after"]["default_channel"]) for e in updates] == [
        ("stable", "beta"),
        ("beta", "beta"),
    ]
    assert updates[-1].detail["after"]["minisign_public_key"] is None
