"""Every command of `dist`, by name: registered all at once, or only the one a command line names, so that a
command's start-up imports its own module and not every other's."""

from __future__ import annotations

import importlib

from dist.cli import app

# name -> (module, attribute), in the order `dist --help` lists them.
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("dist.cli.apps", "init"),
    "app": ("dist.cli.apps", "app_app"),
    "publish": ("dist.cli.releases", "publish"),
    "release": ("dist.cli.releases", "release_app"),
    "promote": ("dist.cli.channels", "promote"),
    "rollback": ("dist.cli.channels", "rollback"),
    "channel": ("dist.cli.channels", "channel_app"),
    "rollout": ("dist.cli.channels", "rollout_app"),
    "token": ("dist.cli.tokens", "token_app"),
    "webhook": ("dist.cli.webhooks", "webhook_app"),
    "audit": ("dist.cli.audit", "audit"),
    "stats": ("dist.cli.stats", "stats"),
    "login": ("dist.cli.login", "login"),
    "logout": ("dist.cli.login", "logout"),
    "serve": ("dist.cli.serve", "serve"),
    "store": ("dist.cli.store", "store_app"),
    "db": ("dist.cli.db", "db_app"),
}


_registered: set[str] = set()


def register(only: str | None = None) -> None:
    """Register the command named `only` on `app`, or every command when `only` names none (help, a typo).
    Each is registered once, however often this runs in one process."""
    for name in [only] if only in COMMANDS else list(COMMANDS):
        if name not in _registered:
            module, attribute = COMMANDS[name]
            app.command(getattr(importlib.import_module(module), attribute))
            _registered.add(name)
