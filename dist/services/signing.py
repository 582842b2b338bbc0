"""Artifact signatures at publish: read in the forms users hand them over, checked against the app's keys."""

from __future__ import annotations

import hashlib

from dist.domain.entities import App, Artifact
from dist.domain.errors import Invalid
from dist.domain.signatures import (
    needs_ed25519,
    needs_minisign,
    parse_ed25519_public_key,
    parse_ed25519_signature,
    parse_minisign_public_key,
    parse_minisign_signature,
    verify_ed25519,
    verify_minisign,
)
from dist.persistence.digests import CHUNK_SIZE
from dist.persistence.objects import ObjectStore


def _blake2b(objects: ObjectStore, sha256: str) -> bytes:
    digest = hashlib.blake2b(digest_size=64)
    with objects.open(sha256) as source:
        for chunk in iter(lambda: source.read(CHUNK_SIZE), b""):
            digest.update(chunk)
    return digest.digest()


def _unsigned(artifact: Artifact, kind: str, updater: str) -> Invalid:
    return Invalid(
        "artifact.unsigned",
        f"{artifact.filename!r} ({artifact.platform}) has no {kind} signature, and the app has a {kind} public key: "
        f"{updater} refuses an unsigned update",
    )


def check_signatures(objects: ObjectStore, app: App, artifact: Artifact) -> None:
    """With the app's minisign key set, every minisign signature must verify and every Tauri platform's artifact
    (linux-*, darwin-*, windows-*) must carry one; with its ed25519 key set, the same for ed25519 signatures and
    Sparkle's darwin-* artifacts. Refusals: `artifact.bad_signature`, `artifact.unsigned`."""
    signatures = artifact.signatures
    if app.minisign_public_key is not None:
        if signatures.minisign is None:
            if needs_minisign(artifact.platform):
                raise _unsigned(artifact, "minisign", "Tauri's updater")
        else:
            key = parse_minisign_public_key(app.minisign_public_key)
            signature = parse_minisign_signature(signatures.minisign, artifact.filename)
            if signature.prehashed:
                verify_minisign(key, signature, _blake2b(objects, artifact.sha256), artifact.filename)
            else:
                with objects.mapped(artifact.sha256) as message:
                    verify_minisign(key, signature, message, artifact.filename)
    if app.ed25519_public_key is not None:
        if signatures.ed25519 is None:
            if needs_ed25519(artifact.platform):
                raise _unsigned(artifact, "ed25519", "Sparkle")
        else:
            public_key = parse_ed25519_public_key(app.ed25519_public_key)
            raw = parse_ed25519_signature(signatures.ed25519, artifact.filename)
            with objects.mapped(artifact.sha256) as message:
                verify_ed25519(public_key, raw, message, artifact.filename)
