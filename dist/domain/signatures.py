"""Artifact signatures and app public keys: minisign's file formats, read exactly, and raw Ed25519.

minisign (Tauri's updater): a public key is base64 of "Ed" + an 8-byte key id + the 32-byte Ed25519 key, on the
second line of a `.pub` file. A signature file has four lines: an untrusted comment, base64 of the algorithm
("Ed": the signature covers the file itself; "ED": it covers the file's BLAKE2b-512), the key id and the
64-byte signature, then a trusted comment and base64 of a global signature over signature + trusted comment.
Tauri passes both around as base64 of the whole file's text. Ed25519 (Sparkle): base64 of a raw 64-byte
signature over the file, and of the 32-byte public key.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from dist.domain.errors import Invalid

UNTRUSTED_PREFIX = "untrusted comment: "
TRUSTED_PREFIX = "trusted comment: "
KEY_ALGORITHM = b"Ed"
LEGACY_ALGORITHM = b"Ed"
PREHASHED_ALGORITHM = b"ED"
KEY_ID_LENGTH = 8
ED25519_KEY_LENGTH = 32
ED25519_SIGNATURE_LENGTH = 64
# Comments are a line each; a longer one is no signature minisign wrote.
MAX_COMMENT_LENGTH = 1024
MAX_SIGNATURE_TEXT = 4096
# What publish and app settings take: a signature file or key, as text or as base64 of the text.
MAX_SIGNATURE_INPUT = 4 * MAX_SIGNATURE_TEXT


@dataclass(frozen=True, slots=True)
class Signatures:
    """The signatures an artifact carries, each in its stored form: `minisign` the signature file's text,
    `ed25519` base64 of the raw signature. None: not signed that way."""

    minisign: str | None = None
    ed25519: str | None = None


@dataclass(frozen=True, slots=True)
class MinisignPublicKey:
    key_id: bytes
    key: bytes

    def text(self) -> str:
        """The `RW…` line of a `.pub` file: the stored form of the key."""
        return base64.b64encode(KEY_ALGORITHM + self.key_id + self.key).decode("ascii")


@dataclass(frozen=True, slots=True)
class MinisignSignature:
    algorithm: bytes
    key_id: bytes
    signature: bytes
    untrusted_comment: str
    trusted_comment: str
    global_signature: bytes

    @property
    def prehashed(self) -> bool:
        """Whether the signature covers the file's BLAKE2b-512 rather than the file itself."""
        return self.algorithm == PREHASHED_ALGORITHM

    def text(self) -> str:
        """The signature file as `minisign -S` writes it: the stored form of the signature."""
        line = base64.b64encode(self.algorithm + self.key_id + self.signature).decode("ascii")
        global_line = base64.b64encode(self.global_signature).decode("ascii")
        return (
            f"{UNTRUSTED_PREFIX}{self.untrusted_comment}\n{line}\n"
            f"{TRUSTED_PREFIX}{self.trusted_comment}\n{global_line}\n"
        )


def bad_key(what: str, reason: str) -> Invalid:
    return Invalid("app.invalid_public_key", f"the {what} public key {reason}")


def bad_signature(filename: str, kind: str, reason: str) -> Invalid:
    return Invalid("artifact.bad_signature", f"the {kind} signature of {filename!r} {reason}")


def _b64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text.strip().encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None


def _decoded_text(text: str) -> str | None:
    """The text of which `text` is the base64 (as Tauri passes keys and signatures around), or None."""
    raw = _b64(text) if len(text) <= MAX_SIGNATURE_INPUT else None
    if raw is None:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def parse_minisign_public_key(text: str) -> MinisignPublicKey:
    """A minisign public key given as the `RW…` line, the whole `.pub` file, or base64 of that file."""
    if not isinstance(text, str):
        raise bad_key("minisign", "is not text")
    candidate = text.strip()
    if not candidate.startswith(UNTRUSTED_PREFIX) and not candidate.startswith("RW"):
        candidate = (_decoded_text(candidate) or "").strip()
    if candidate.startswith(UNTRUSTED_PREFIX):
        lines = candidate.splitlines()
        candidate = lines[1].strip() if len(lines) >= 2 else ""
    raw = _b64(candidate)
    if raw is None or len(raw) != 2 + KEY_ID_LENGTH + ED25519_KEY_LENGTH or raw[:2] != KEY_ALGORITHM:
        raise bad_key(
            "minisign",
            "is not one: give the RW… line of the .pub file that `minisign -G` wrote, the whole file, "
            "or its base64 (Tauri's form)",
        )
    return MinisignPublicKey(key_id=raw[2 : 2 + KEY_ID_LENGTH], key=raw[2 + KEY_ID_LENGTH :])


def parse_ed25519_public_key(text: str) -> bytes:
    """An Ed25519 public key: base64 of its raw 32 bytes (Sparkle's SUPublicEDKey)."""
    raw = _b64(text) if isinstance(text, str) else None
    if raw is None or len(raw) != ED25519_KEY_LENGTH:
        raise bad_key("ed25519", "is not base64 of 32 bytes, as Sparkle's generate_keys prints it")
    return raw


def parse_minisign_signature(text: str, filename: str) -> MinisignSignature:
    """A minisign signature file, given as its text or base64 of it (the `.sig` file `tauri signer sign` writes)."""
    if not isinstance(text, str) or len(text) > MAX_SIGNATURE_INPUT:
        raise bad_signature(filename, "minisign", "is not a minisign signature file")
    if not text.lstrip().startswith(UNTRUSTED_PREFIX):
        text = _decoded_text(text) or ""
    lines = text.strip().splitlines()
    if (
        len(lines) != 4
        or not lines[0].startswith(UNTRUSTED_PREFIX)
        or not lines[2].startswith(TRUSTED_PREFIX)
        or any(len(line) > MAX_COMMENT_LENGTH for line in lines)
    ):
        raise bad_signature(
            filename,
            "minisign",
            "is not a minisign signature file: four lines, an untrusted comment, the signature, a trusted comment "
            "and the global signature",
        )
    raw = _b64(lines[1])
    if raw is None or len(raw) != 2 + KEY_ID_LENGTH + ED25519_SIGNATURE_LENGTH:
        raise bad_signature(filename, "minisign", "has no signature line of 74 bytes in base64")
    if raw[:2] not in (LEGACY_ALGORITHM, PREHASHED_ALGORITHM):
        raise bad_signature(filename, "minisign", f"uses the algorithm {raw[:2]!r}, neither Ed nor ED")
    global_signature = _b64(lines[3])
    if global_signature is None or len(global_signature) != ED25519_SIGNATURE_LENGTH:
        raise bad_signature(filename, "minisign", "has no global signature of 64 bytes in base64")
    return MinisignSignature(
        algorithm=raw[:2],
        key_id=raw[2 : 2 + KEY_ID_LENGTH],
        signature=raw[2 + KEY_ID_LENGTH :],
        untrusted_comment=lines[0][len(UNTRUSTED_PREFIX) :].rstrip("\r"),
        trusted_comment=lines[2][len(TRUSTED_PREFIX) :].rstrip("\r"),
        global_signature=global_signature,
    )


def parse_ed25519_signature(text: str, filename: str) -> bytes:
    """A raw Ed25519 signature in base64, as Sparkle's sign_update prints it."""
    raw = _b64(text) if isinstance(text, str) and len(text) <= 256 else None
    if raw is None or len(raw) != ED25519_SIGNATURE_LENGTH:
        raise bad_signature(filename, "ed25519", "is not base64 of a 64-byte signature")
    return raw


def _valid(key: bytes, signature: bytes, message: bytes | memoryview) -> bool:
    # Imported on first use: OpenSSL's bindings cost a server some megabytes it needs only to verify a publish.
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        Ed25519PublicKey.from_public_bytes(key).verify(signature, message)
    except InvalidSignature:
        return False
    return True


def verify_minisign(
    key: MinisignPublicKey, signature: MinisignSignature, message: bytes | memoryview, filename: str
) -> None:
    """Check a minisign signature over `message`: the file's bytes, or their BLAKE2b-512 when `prehashed`.
    The global signature vouches for the trusted comment, as `minisign -V` checks it."""
    if signature.key_id != key.key_id:
        raise bad_signature(
            filename,
            "minisign",
            f"was made by key {signature.key_id[::-1].hex().upper()}, not by the app's key "
            f"{key.key_id[::-1].hex().upper()}",
        )
    if not _valid(key.key, signature.signature, message):
        raise bad_signature(filename, "minisign", "does not match the file's bytes")
    trusted = signature.signature + signature.trusted_comment.encode("utf-8")
    if not _valid(key.key, signature.global_signature, trusted):
        raise bad_signature(filename, "minisign", "has a trusted comment its global signature does not cover")


def verify_ed25519(key: bytes, signature: bytes, message: bytes | memoryview, filename: str) -> None:
    if not _valid(key, signature, message):
        raise bad_signature(filename, "ed25519", "does not match the file's bytes")


def needs_minisign(platform: str) -> bool:
    """Tauri's platforms: with a minisign key set, their artifacts must carry a minisign signature."""
    return platform.startswith(("linux-", "darwin-", "windows-"))


def needs_ed25519(platform: str) -> bool:
    """Sparkle's platforms: with an ed25519 key set, their artifacts must carry an ed25519 signature."""
    return platform.startswith("darwin-")


def stored_signatures(filename: str, minisign: str | None, ed25519: str | None) -> Signatures:
    """Signatures in their stored forms: minisign's signature file text, base64 of the raw Ed25519 signature.
    A malformed one is `artifact.bad_signature`, whether or not there is a key to check it against."""
    return Signatures(
        minisign=None if minisign is None else parse_minisign_signature(minisign, filename).text(),
        ed25519=None
        if ed25519 is None
        else base64.b64encode(parse_ed25519_signature(ed25519, filename)).decode("ascii"),
    )


def stored_minisign_key(text: str) -> str:
    """A minisign public key in its stored form, the `RW…` line."""
    return parse_minisign_public_key(text).text()


def stored_ed25519_key(text: str) -> str:
    """An Ed25519 public key in its stored form, base64 of the raw 32 bytes."""
    return base64.b64encode(parse_ed25519_public_key(text)).decode("ascii")
