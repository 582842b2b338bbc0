"""What every command shares: the store it works on, who is acting, and how it prints."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from cyclopts import Parameter
from rich.console import Console

if TYPE_CHECKING:
    from dist.persistence.store import Store, StoreLocation


@dataclass
class Globals:
    """The options given before the command: `dist [--store DIR] [--database-url URL] [--objects URL]
    [--server URL] COMMAND`.

    The persistence layer is imported only when a local store is used: remote mode never loads it."""

    store: str | None = None
    database_url: str | None = None
    objects: str | None = None
    server: str | None = None

    def location(self) -> StoreLocation:
        from dist.persistence.store import StoreLocation

        return StoreLocation.resolve(self.store, self.database_url, self.objects)


GLOBALS = Globals()
# Off a terminal rich would wrap tables at 80 columns; a pipe or a file gets whole lines instead.
stdout = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 1000)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)


JsonFlag = Annotated[
    bool,
    Parameter(
        name="--json", negative=(), show_default=False, help="Print one JSON document on stdout instead of text."
    ),
]


def actor() -> str:
    """The audit actor of a CLI command: `cli:<os user>`."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"cli:{user}"


@contextmanager
def opened_store() -> Iterator[Store]:
    from dist.persistence.store import open_store

    store = open_store(GLOBALS.location())
    try:
        yield store
    finally:
        store.close()


def print_json(document: Any) -> None:
    sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def progress_on_terminal() -> bool:
    """Progress bars go to stderr, and only when a human watches it."""
    return stderr.is_terminal
