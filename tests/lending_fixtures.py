"""Shared fixtures for the lending-service tests: a migrated database on SQLite or PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_BASE = "postgresql+psycopg://postgres@127.0.0.1:5432/"


def pg_available() -> bool:
    """Whether the PostgreSQL server answers."""
    try:
        import psycopg

        with psycopg.connect(
            "host=127.0.0.1 port=5432 user=postgres dbname=postgres", connect_timeout=3
        ):
            return True
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        return False


def make_pg_database() -> str:
    """Create a uniquely named database and return its URL."""
    import psycopg

    name = f"loom_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(
        "host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True
    ) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    return PG_BASE + name


def drop_pg_database(url: str) -> None:
    """Drop a database made by :func:`make_pg_database`."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(
        "host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True
    ) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_url(kind: str, tmp: Path) -> Iterator[str]:
    """A fresh database URL of the given kind, dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'loom.db'}"
        return
    if not pg_available():
        pytest.skip("PostgreSQL on 127.0.0.1:5432 is not reachable")
    url = make_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(url)


class FixedClock:
    """A settable clock for the service."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def fixed(y: int, m: int, d: int) -> datetime:
    """Noon UTC on a date."""
    return datetime(y, m, d, 12, tzinfo=UTC)
