"""Persistence: the SQL mapping, sessions, the object store and the legacy format."""
