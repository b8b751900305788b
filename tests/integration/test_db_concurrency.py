"""Concurrency on the real databases: 50 drawdowns at once never exceed a line's limit; a receipt
during end of day lands wholly before or after it, and the book stays balanced with accruals
exact (equal to recomputing each loan from its history)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest
from tests.lending_fixtures import database_url
from tests.world import World

from loomcredit.adapters.migrations import upgrade_database
from loomcredit.adapters.sqlalchemy_uow import SqlAlchemyUnitOfWork, make_engine
from loomcredit.domain.errors import CreditLineError
from loomcredit.domain.money import Money
from loomcredit.domain.payments import MatchOutcome
from loomcredit.domain.replay import MoneyEvent, replay
from loomcredit.service_layer import eod, lines, payments
from loomcredit.service_layer.errors import ConcurrentChangeError

pytestmark = pytest.mark.integration
M = Money.parse


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    for url in database_url(request.param, tmp_path):
        upgrade_database(url)
        engine = make_engine(url)
        yield World(make_uow=lambda e=engine: SqlAlchemyUnitOfWork(e, b"p" * 32, b"a" * 32))
        engine.dispose()


def test_fifty_concurrent_drawdowns_never_exceed_the_limit(world: World) -> None:
    """50 requests of ¥10,000 at once on a ¥235,000 line: 23 are reserved, none beyond."""
    line_id = world.open_line("235000")
    go = threading.Barrier(50)

    def ask(n: int) -> str:
        go.wait()
        with world.uow() as uow:
            try:
                lines.request_drawdown(
                    uow, world.firm, line_id, M("10000"), key=f"c{n}", now=world.now
                )
                uow.commit()
            except CreditLineError:
                return "refused"
            except ConcurrentChangeError:
                return "retry"
        return "ok"

    with ThreadPoolExecutor(50) as pool:
        outcomes = list(pool.map(ask, range(50)))
    with world.uow() as uow:
        line = uow.lines.get(line_id)
        pending = uow.approvals.pending()
    assert line is not None
    assert outcomes.count("ok") == len(pending) == line.reserved.minor // 1_000_000
    assert line.reserved <= line.limit
    assert (outcomes.count("ok"), outcomes.count("refused")) == (23, 27)


def _book(world: World, n: int) -> list[int]:
    line_id = world.open_line("500000")
    return [world.draw(line_id, "15000") for _ in range(n)]


def _exact(world: World, loan_ids: list[int]) -> None:
    """Balanced, and every loan equals its recompute from its receipts."""
    with world.uow() as uow:
        tb = uow.ledger.trial_balance()
        last = uow.book.last_eod_date()
        for loan_id in loan_ids:
            loan, original = uow.loans.get(loan_id), uow.loans.original(loan_id)
            assert loan is not None
            assert original is not None
            events = [
                MoneyEvent(r.value_date, r.amount, r.early, r.bank_ref)
                for r in uow.receipts.for_loan(loan_id)
            ]
            again = replay(original, events, closed_through=last).loan
            assert (again.accrual, again.instalments, again.dpd) == (
                loan.accrual,
                loan.instalments,
                loan.dpd,
            )
    assert sum(m.minor for m in tb.values()) == 0


def test_a_receipt_waits_for_an_end_of_day_in_progress_and_lands_after_it(world: World) -> None:
    """Import during end of day: it waits for the day to close, then finds the day closed (the
    line goes to the queue as back-valued) — never booked into the closed day."""
    loans = _book(world, 30)
    day = world.today
    held, done = threading.Event(), threading.Event()
    order: list[str] = []

    def close() -> None:
        with world.uow() as uow:
            uow.book.hold_day(exclusive=True)
            assert uow.book.start_day(day, world.now)
            counts = uow.book.close_day(day)
            uow.book.finish_day(counts)
            held.set()
            time.sleep(0.8)
            order.append("eod")
            uow.commit()
        done.set()

    def receive() -> None:
        held.wait()
        with world.uow() as uow:
            out = payments.import_statement(
                uow,
                world.ops,
                [world.credit("DURING", "300.00")],
                file_name="f",
                sha256="s",
                now=world.now,
            )
            order.append("import")
            uow.commit()
        assert out.unmatched[0].outcome is MatchOutcome.BACK_VALUED

    threads = [threading.Thread(target=close), threading.Thread(target=receive)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert order == ["eod", "import"]
    _exact(world, loans)


def test_end_of_day_waits_for_a_receipt_in_progress_and_includes_it(world: World) -> None:
    """End of day during a repayment waits for it and then accrues on what it left."""
    loans = _book(world, 5)
    world.close_days_until(date(2026, 4, 2))
    held = threading.Event()
    order: list[str] = []
    from loomcredit.domain.payments import loan_reference

    target = loans[0]
    due = world.loan(target).amount_due(world.today)

    def receive() -> None:
        with world.uow() as uow:
            payments.import_statement(
                uow,
                world.ops,
                [world.credit("PAY", due.amount_str(), memo=loan_reference(target))],
                file_name="f",
                sha256="s",
                now=world.now,
            )
            held.set()
            time.sleep(0.8)
            order.append("import")
            uow.commit()

    def close() -> None:
        held.wait()
        with world.uow() as uow:
            eod.run_eod(uow, world.ops, world.today, now=world.now)
        order.append("eod")

    threads = [threading.Thread(target=receive), threading.Thread(target=close)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert order == ["import", "eod"]
    assert world.loan(target).instalments[0].is_settled
    with world.uow() as uow:
        day = uow.book.loan_day(target, date(2026, 4, 2))
    assert day is not None
    assert day.dpd == 0
    _exact(world, loans)
