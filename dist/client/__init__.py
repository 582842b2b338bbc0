"""The client side of distd's API: the typed HTTP client and the saved login. Imports neither SQLAlchemy nor
Alembic, so that `dist --server URL ...` starts quickly on a machine that has no store."""
