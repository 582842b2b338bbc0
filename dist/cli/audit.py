"""`dist audit`."""

from __future__ import annotations

from typing import Annotated

from cyclopts import Parameter

from dist.cli import views
from dist.cli.backend import backend
from dist.cli.context import JsonFlag, print_json
from dist.domain.render import render_audit_event


def audit(
    *,
    app: Annotated[str | None, Parameter(help="Only the events of this app.")] = None,
    limit: Annotated[int | None, Parameter(help="Only the newest N events.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Show the audit log, oldest first: who did what, and when."""
    with backend() as store:
        events = store.audit(app=app, limit=limit)
    if as_json:
        print_json({"events": [render_audit_event(e) for e in events]})
    else:
        views.audit_table(events)
