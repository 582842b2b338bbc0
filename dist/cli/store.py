"""`dist store …`: verify, gc, import-legacy, export."""

from __future__ import annotations

from cyclopts import App

store_app = App(name="store", help="Keep a store healthy: verify, gc, import-legacy, export.")
