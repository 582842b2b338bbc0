"""distd, the HTTP API: Starlette routes over the same services as the CLI (`dist.http.app.create_app`)."""
