"""Registers every command and sub-app on the `dist` App."""

from __future__ import annotations

from dist.cli import app
from dist.cli.apps import app_app, init
from dist.cli.audit import audit
from dist.cli.channels import channel_app, promote, rollback
from dist.cli.db import db_app
from dist.cli.login import login, logout
from dist.cli.releases import publish, release_app
from dist.cli.serve import serve
from dist.cli.stats import stats
from dist.cli.store import store_app
from dist.cli.tokens import token_app
from dist.cli.webhooks import webhook_app

app.command(init)
app.command(app_app)
app.command(publish)
app.command(release_app)
app.command(promote)
app.command(rollback)
app.command(channel_app)
app.command(token_app)
app.command(webhook_app)
app.command(audit)
app.command(stats)
app.command(login)
app.command(logout)
app.command(serve)
app.command(store_app)
app.command(db_app)
