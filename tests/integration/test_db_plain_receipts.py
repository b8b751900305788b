"""A statement booked with plain receipts set-based leaves the database exactly as booking every
line through its loan's aggregate does (SQLite and PostgreSQL): the same receipts, entries and
postings, instalments, loans, lines, statement lines and audit, row for row."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from tests.fakes import FakeDecider
from tests.lending_fixtures import database_url
from tests.world import World

from loomcredit.adapters.migrations import upgrade_database
from loomcredit.adapters.sqlalchemy_uow import SqlAlchemyUnitOfWork, make_engine
from loomcredit.domain.decision.policy import ProductKind
from loomcredit.domain.loan import DueSummary, PlainRepayment
from loomcredit.domain.money import Money
from loomcredit.domain.payments import loan_reference
from loomcredit.service_layer import payments, servicing

pytestmark = pytest.mark.integration
TABLES = (
    "repayments", "journal_entries", "postings", "installments", "loans", "credit_lines",
    "statement_lines", "statement_imports", "prepayment_requests", "audit_log",
)  # fmt: skip


def story(world: World) -> None:
    """Three revolving lines, seven loans; on the first due date a statement pays three loans
    exactly (plain; the third alone on its line), one short, one over, one twice, and one the
    borrower asked to prepay."""
    a, b = world.open_line("500000"), world.open_line("500000", method="equal_principal")
    c = world.open_line("100000")
    ids = [world.draw(a, "200000"), world.draw(a, "150000"), world.draw(b, "300000"),
           world.draw(b, "100000"), world.draw(a, "120000"), world.draw(b, "80000"),
           world.draw(c, "60000")]  # fmt: skip
    first = world.loan(ids[0]).instalments[0].due_on
    world.close_days_until(first)
    with world.uow() as uow:
        servicing.request_prepayment(uow, world.firm, ids[5], now=world.now,
                                     principal=Money(1_000_000))  # fmt: skip
        uow.commit()
    due = {i: world.loan(i).amount_due(world.today) for i in ids}
    pay = [
        (ids[0], due[ids[0]]),  # plain
        (ids[1], due[ids[1]] - Money(1)),  # short
        (ids[2], due[ids[2]]),  # plain, the other line
        (ids[3], due[ids[3]] + Money(500)),  # over: the rest waits in suspense
        (ids[4], Money(300_00)),  # twice in the file
        (ids[4], due[ids[4]] - Money(300_00)),
        (ids[5], due[ids[5]] + Money(1_000_000)),  # asked to prepay
        (ids[6], due[ids[6]]),  # plain, its line restored set-based
    ]
    world.statement(*[
        world.credit(f"B{k}", m.amount_str(), memo=loan_reference(i))
        for k, (i, m) in enumerate(pay)
    ])  # fmt: skip
    world.close_days_until(world.today + timedelta(days=3))  # end of day reads what was stored


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables compared, in a fixed order."""
    with engine.connect() as conn:
        return {
            t: sorted(tuple(map(str, r)) for r in conn.execute(text(f"SELECT * FROM {t}")))
            for t in TABLES
        }


@pytest.fixture(params=["sqlite", "postgresql"])
def books(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[[], tuple[Engine, World]]]:
    """Fresh migrated databases, one per call, each with its world."""
    made: list[Engine] = []

    gens: list[Iterator[str]] = []

    def make() -> tuple[Engine, World]:
        place = tmp_path / str(len(made))
        place.mkdir()
        gen = database_url(request.param, place)
        gens.append(gen)
        url = next(gen)
        upgrade_database(url)
        engine = make_engine(url)
        made.append(engine)
        decider = FakeDecider(product_kind=ProductKind.REVOLVING)
        world = World(
            decider=decider, make_uow=lambda e=engine: SqlAlchemyUnitOfWork(e, b"p" * 32, b"a" * 32)
        )
        return engine, world  # fmt: skip

    yield make
    for engine in made:
        engine.dispose()
    for gen in gens:
        for _ in gen:
            pass


def test_plain_receipts_set_based_equal_the_aggregate_path(
    books: Callable[[], tuple[Engine, World]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Booked set-based (three plain receipts among eight lines) and by aggregates only: the same
    database afterwards."""
    answered: list[int] = []
    real = payments.plain_repayment

    def counted(s: DueSummary, amount: Money, on: Any) -> PlainRepayment | None:
        out = real(s, amount, on)
        if out is not None:
            answered.append(s.loan_id)
        return out

    fast, fast_world = books()
    monkeypatch.setattr(payments, "plain_repayment", counted)
    story(fast_world)
    assert sorted(answered) == [1, 3, 7]  # the three plain receipts took the set-based path
    slow, slow_world = books()
    monkeypatch.setattr(payments, "plain_repayment", lambda *_: None)
    story(slow_world)
    got, want = dump(fast), dump(slow)
    for table in TABLES:
        assert got[table] == want[table], table
