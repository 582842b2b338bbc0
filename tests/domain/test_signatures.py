"""minisign's formats read exactly, and signatures checked, against files made by the real minisign and a real
Ed25519 key: good ones verify, tampered bytes, comments, keys and encodings are refused."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from dist.domain.errors import DistError
from dist.domain.signatures import (
    parse_ed25519_public_key,
    parse_ed25519_signature,
    parse_minisign_public_key,
    parse_minisign_signature,
    stored_ed25519_key,
    stored_minisign_key,
    stored_signatures,
    verify_ed25519,
    verify_minisign,
)
from tests.signing import make_ed25519_key, make_minisign_key

DATA = b"the bytes of a release\n" * 100


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def message(signature_text: str, data: bytes) -> bytes:
    """What the signature covers: the file, or its BLAKE2b-512 for minisign's prehashed algorithm."""
    signature = parse_minisign_signature(signature_text, "f")
    return hashlib.blake2b(data, digest_size=64).digest() if signature.prehashed else data


@pytest.mark.parametrize("legacy", [False, True], ids=["prehashed", "legacy"])
def test_minisign_signatures_verify_in_every_form_they_come_in(tmp_path: Path, legacy: bool) -> None:
    key = make_minisign_key(tmp_path / "key")
    (tmp_path / "f").write_bytes(DATA)
    text = key.sign(tmp_path / "f", legacy=legacy)
    signature = parse_minisign_signature(text, "f")
    assert signature.prehashed is not legacy
    # Stored as minisign wrote it, whether given as its text or as Tauri's base64 of it.
    assert signature.text() == text
    assert parse_minisign_signature(b64(text), "f") == signature
    for given in (key.public_line, key.public_file, b64(key.public_file)):
        public = parse_minisign_public_key(given)
        assert public.text() == key.public_line == stored_minisign_key(given)
        verify_minisign(public, signature, message(text, DATA), "f")


@pytest.mark.parametrize("legacy", [False, True], ids=["prehashed", "legacy"])
def test_tampered_minisign_signatures_are_refused(tmp_path: Path, legacy: bool) -> None:
    key = make_minisign_key(tmp_path / "key")
    other = make_minisign_key(tmp_path / "other")
    (tmp_path / "f").write_bytes(DATA)
    text = key.sign(tmp_path / "f", legacy=legacy)
    public = parse_minisign_public_key(key.public_line)

    def refusal(signature_text: str, data: bytes = DATA, signer: str = key.public_line) -> str:
        with pytest.raises(DistError) as refused:
            verify_minisign(
                parse_minisign_public_key(signer),
                parse_minisign_signature(signature_text, "f"),
                message(signature_text, data),
                "f",
            )
        assert refused.value.code == "artifact.bad_signature"
        return refused.value.message

    assert "does not match the file's bytes" in refusal(text, DATA + b"!")
    lines = text.splitlines()
    assert "trusted comment" in refusal("\n".join([*lines[:2], lines[2] + " (edited)", lines[3]]) + "\n")
    assert "not by the app's key" in refusal(text, signer=other.public_line)
    # The same key id with another key: the signature itself fails.
    forged = parse_minisign_public_key(other.public_line)
    with pytest.raises(DistError, match="does not match"):
        verify_minisign(
            type(public)(public.key_id, forged.key), parse_minisign_signature(text, "f"), message(text, DATA), "f"
        )
    raw = bytearray(base64.b64decode(lines[1]))
    raw[-1] ^= 1
    flipped = "\n".join([lines[0], base64.b64encode(bytes(raw)).decode(), *lines[2:]]) + "\n"
    assert "does not match" in refusal(flipped)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not a signature",
        "untrusted comment: x\nRWQ=\ntrusted comment: y\nAAAA\n",
        "untrusted comment: x\n"
        + base64.b64encode(b"Xx" + bytes(72)).decode()
        + "\ntrusted comment: y\n"
        + base64.b64encode(bytes(64)).decode(),
        "untrusted comment: x\n"
        + base64.b64encode(b"ED" + bytes(72)).decode()
        + "\nno trusted comment\n"
        + base64.b64encode(bytes(64)).decode(),
        "untrusted comment: x\n" + base64.b64encode(b"ED" + bytes(72)).decode() + "\ntrusted comment: y\nAAAA",
        b64("untrusted comment: only one line"),
    ],
)
def test_malformed_minisign_signatures_are_bad_signatures(text: str) -> None:
    with pytest.raises(DistError) as refused:
        stored_signatures("f", text, None)
    assert refused.value.code == "artifact.bad_signature" and "'f'" in refused.value.message


@pytest.mark.parametrize("text", ["", "RWQ=", "untrusted comment: x", b64("RWQ"), "RW" + "A" * 54, "x" * 5000])
def test_malformed_public_keys_are_refused(text: str) -> None:
    with pytest.raises(DistError) as refused:
        stored_minisign_key(text)
    assert refused.value.code == "app.invalid_public_key"
    with pytest.raises(DistError):
        stored_ed25519_key(text)


def test_ed25519_signatures_verify_and_tampering_is_refused() -> None:
    key, other = make_ed25519_key(), make_ed25519_key()
    signature = key.sign(DATA)
    public = parse_ed25519_public_key(key.public)
    assert stored_ed25519_key(key.public) == key.public
    assert stored_signatures("f", None, signature).ed25519 == signature
    verify_ed25519(public, parse_ed25519_signature(signature, "f"), DATA, "f")
    for signer, data in ((public, DATA + b"!"), (parse_ed25519_public_key(other.public), DATA)):
        with pytest.raises(DistError) as refused:
            verify_ed25519(signer, parse_ed25519_signature(signature, "f"), data, "f")
        assert refused.value.code == "artifact.bad_signature"
    for malformed in ("", "abc", base64.b64encode(bytes(63)).decode(), "!" * 88):
        with pytest.raises(DistError) as refused:
            stored_signatures("f", None, malformed)
        assert refused.value.code == "artifact.bad_signature"
