"""The `dist` command line: one cyclopts App with a sub-app per noun. Commands parse, call a service,
print. Only this package prints."""

from __future__ import annotations

import sys
from typing import Annotated

from cyclopts import App, Parameter

from dist.cli.context import GLOBALS
from dist.cli.errors import run_guarded, run_meta

app = App(name="dist", help="Publish, promote and serve releases of your apps.", version_flags=[])


@app.meta.default
def launcher(
    *tokens: Annotated[str, Parameter(show=False, allow_leading_hyphen=True)],
    store: Annotated[
        str | None, Parameter(env_var="DIST_STORE", help="The store directory (default ./dist-store).")
    ] = None,
    database_url: Annotated[
        str | None, Parameter(env_var="DIST_DATABASE_URL", help="A database URL to use instead of STORE/dist.db.")
    ] = None,
    objects: Annotated[
        str | None,
        Parameter(
            env_var="DIST_OBJECTS",
            help="Where blobs are kept: file://DIR or s3://BUCKET/PREFIX (with AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, "
            "AWS_SECRET_ACCESS_KEY, AWS_REGION); default the store's objects/.",
        ),
    ] = None,
    server: Annotated[
        str | None,
        Parameter(
            env_var="DIST_SERVER",
            help="Work on the distd at this URL instead of a local store, with the token in DIST_TOKEN "
            "or saved by `dist login`.",
        ),
    ] = None,
) -> int:
    GLOBALS.store = store
    GLOBALS.database_url = database_url
    GLOBALS.objects = objects
    GLOBALS.server = server
    return run_guarded(app, tokens)


GLOBAL_OPTIONS = ("--store", "--database-url", "--objects", "--server")
HELP_FLAGS = ("--help", "-h")


def _for_help(tokens: list[str]) -> list[str]:
    # Help is printed for the command named in the tokens; global options in front would hide it.
    if not any(token in HELP_FLAGS for token in tokens):
        return tokens
    kept: list[str] = []
    skip = False
    for token in tokens:
        if skip:
            skip = False
        elif token in GLOBAL_OPTIONS:
            skip = True
        elif not token.startswith(tuple(f"{option}=" for option in GLOBAL_OPTIONS)):
            kept.append(token)
    return kept


def _command(tokens: list[str]) -> str | None:
    """The command a command line names: its first word after the global options (None when there is none)."""
    skip = False
    for token in tokens:
        if skip:
            skip = False
        elif token in GLOBAL_OPTIONS:
            skip = True
        elif not token.startswith("-"):
            return token
        elif not token.startswith(tuple(f"{option}=" for option in GLOBAL_OPTIONS)):
            return None
    return None


def _register(tokens: list[str]) -> None:
    from dist.cli import commands

    commands.register(_command(tokens))


def main() -> None:
    tokens = _for_help(sys.argv[1:])
    _register(tokens)
    sys.exit(run_meta(app.meta, tokens))


def serve_main() -> None:
    """`distd`: the same as `dist serve`."""
    tokens = _for_help(["serve", *sys.argv[1:]])
    _register(tokens)
    sys.exit(run_meta(app.meta, tokens))
