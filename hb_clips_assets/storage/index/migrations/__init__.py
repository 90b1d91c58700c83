"""Alembic migrations of the media schema (a package so that built wheels ship them)."""
