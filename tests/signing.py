"""Real signing keys for tests: minisign's own binary (as Tauri's signer makes the same files) and an Ed25519 key
(as Sparkle's generate_keys makes)."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def require_tool(name: str, how: str) -> str:
    """The path of a command-line tool; a skip saying how to get it when it is absent, a failure under CI."""
    found = shutil.which(name)
    if found is None:
        message = f"{name} is not installed ({how})"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


@dataclass
class MinisignKey:
    """A key pair made by `minisign -G`, without a password."""

    binary: str
    directory: Path

    @property
    def public_file(self) -> str:
        """The whole .pub file."""
        return (self.directory / "key.pub").read_text()

    @property
    def public_line(self) -> str:
        """The RW… line."""
        return self.public_file.splitlines()[1]

    def sign(self, path: Path, *, legacy: bool = False, out: Path | None = None) -> str:
        """Sign `path` (prehashed, minisign's default; `legacy` for the Ed algorithm); the signature file's text."""
        target = out or path.with_name(path.name + ".minisig")
        command = [self.binary, "-S", "-s", str(self.directory / "key.sec"), "-m", str(path), "-x", str(target)]
        subprocess.run([*command, *(["-l"] if legacy else [])], check=True, capture_output=True, timeout=60)
        return target.read_text()


def make_minisign_key(directory: Path) -> MinisignKey:
    binary = require_tool("minisign", "apt-get install -y minisign")
    directory.mkdir(parents=True, exist_ok=True)
    command = [binary, "-G", "-W", "-p", str(directory / "key.pub"), "-s", str(directory / "key.sec")]
    subprocess.run(command, check=True, capture_output=True, timeout=60)
    return MinisignKey(binary, directory)


@dataclass
class Ed25519Key:
    private: Ed25519PrivateKey

    @property
    def public(self) -> str:
        """Base64 of the raw 32-byte key, as Sparkle's SUPublicEDKey holds it."""
        raw = self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return base64.b64encode(raw).decode()

    def sign(self, data: bytes) -> str:
        """Base64 of the raw signature over `data`, as Sparkle's sign_update prints it."""
        return base64.b64encode(self.private.sign(data)).decode()


def make_ed25519_key() -> Ed25519Key:
    return Ed25519Key(Ed25519PrivateKey.generate())
