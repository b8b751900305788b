"""End of day on SQLite and PostgreSQL against the in-memory store: a catch-up run set-based on
the database equals a twin whose end of day ran every day loan by loan through the domain (the
figures themselves are checked in test_db_eod.py and test_db_accrual.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from tests.lending_fixtures import database_url
from tests.world import ACCOUNT, World

from loomcredit.adapters.migrations import upgrade_database
from loomcredit.adapters.sqlalchemy_uow import SqlAlchemyUnitOfWork, make_engine
from loomcredit.service_layer import eod

pytestmark = pytest.mark.integration
START, DUE = date(2026, 1, 5), date(2026, 2, 5)
NO_MONEY = frozenset({ACCOUNT})


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    for url in database_url(request.param, tmp_path):
        upgrade_database(url)
        engine = make_engine(url)
        yield World(
            today=START, make_uow=lambda e=engine: SqlAlchemyUnitOfWork(e, b"p" * 32, b"a" * 32)
        )
        engine.dispose()


def _loan(w: World) -> int:
    return w.draw(w.open_line("120000"), "120000")


def test_skipped_days_are_caught_up_like_running_each_day(world: World) -> None:
    """One request for Feb 12 after Feb 4 runs each day; the loan equals a twin on the in-memory
    store whose end of day ran every day loan by loan."""
    twin = World(today=START)
    for w in (world, twin):
        _loan(w)
        w.close_days_until(DUE)
        w.auto_debit(failing=NO_MONEY)
    world.today = date(2026, 2, 12)
    with world.uow() as uow:
        out = eod.run_eod(uow, world.ops, date(2026, 2, 12), now=world.now)
    assert out.days_run == 8
    twin.close_days_until(date(2026, 2, 13))
    a, b = world.loan(1), twin.loan(1)
    assert a.dpd == 7
    assert (a.accrual, a.instalments, a.dpd, a.bucket) == (
        b.accrual,
        b.instalments,
        b.dpd,
        b.bucket,
    )
