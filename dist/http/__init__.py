"""distd, the HTTP API: Starlette routes over the same services as the CLI."""

from dist.http.app import create_app

__all__ = ["create_app"]
