"""Registers every command and sub-app on the `dist` App."""

from __future__ import annotations

from dist.cli import app
from dist.cli.serve import serve
from dist.cli.store import store_app

app.command(serve)
app.command(store_app)
