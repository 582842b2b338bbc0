"""Alembic migrations of dist's schema, shipped in the package so that an installed wheel can migrate."""
