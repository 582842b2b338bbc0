"""The saved login of `dist login URL`: the server and its token in the user's config directory, readable by the
user alone (mode 0600, in a directory of mode 0700)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

FILE_NAME = "login.json"


def config_dir() -> Path:
    """$XDG_CONFIG_HOME/dist, else ~/.config/dist."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "dist"


@dataclass(frozen=True)
class Login:
    server: str
    token: str


def saved() -> Login | None:
    """The saved login, or None when there is none (or it is unreadable)."""
    try:
        document = json.loads((config_dir() / FILE_NAME).read_text(encoding="utf-8"))
        return Login(server=str(document["server"]), token=str(document["token"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save(login: Login) -> Path:
    """Write the login; the file is created with mode 0600 before any secret is written into it."""
    directory = config_dir()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = directory / FILE_NAME
    temporary = directory / f".{FILE_NAME}.{os.getpid()}"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        json.dump({"server": login.server, "token": login.token}, out)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)
    return path


def forget() -> bool:
    """Remove the saved login; whether there was one."""
    try:
        (config_dir() / FILE_NAME).unlink()
    except FileNotFoundError:
        return False
    return True
