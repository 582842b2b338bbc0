"""`dist login URL` and `dist logout`: keep a server and its token for later commands."""

from __future__ import annotations

import getpass
import sys
from typing import Annotated

from cyclopts import Parameter

from dist.cli import views
from dist.cli.context import JsonFlag, print_json
from dist.cli.errors import UsageError
from dist.domain.render import render_token


def _read_token() -> str:
    text = getpass.getpass("Token (dist_...): ") if sys.stdin.isatty() else sys.stdin.readline()
    token = text.strip()
    if not token:
        raise UsageError("login.no_token", "give the token on stdin or at the prompt")
    return token


def login(url: Annotated[str, Parameter(name="URL")], /, *, as_json: JsonFlag = False) -> None:
    """Check a token against the distd at URL and keep both, so that later commands work on that server.

    The token is read from stdin (or asked for on a terminal), never from the command line, and kept in the
    user's config directory ($XDG_CONFIG_HOME/dist or ~/.config/dist) readable by the user alone."""
    from dist.client.login import Login, save
    from dist.client.remote import Remote, now

    if not url.startswith(("http://", "https://")):
        raise UsageError("login.invalid_url", f"{url!r} is not an http:// or https:// URL")
    secret = _read_token()
    client = Remote(url, secret)
    try:
        token = client.current_token()
    finally:
        client.close()
    path = save(Login(server=url.rstrip("/"), token=secret))
    if as_json:
        print_json({"server": url.rstrip("/"), "token": render_token(token, now()), "saved": str(path)})
        return
    scopes = ", ".join(s.value for s in token.scopes)
    views.line(f"Logged in to {url.rstrip('/')} as token {token.id} ({token.name}), scopes {scopes}")
    views.line(f"saved in {path}")


def logout(*, as_json: JsonFlag = False) -> None:
    """Forget the server and token that `dist login` kept."""
    from dist.client.login import forget, saved

    login = saved()
    removed = forget()
    if as_json:
        print_json({"logged_out": removed, "server": login.server if login else None})
    elif removed:
        views.line(f"Logged out of {login.server if login else 'the saved server'}")
    else:
        views.line("Not logged in.")
