"""The servicing stories of tests/unit, on SQLite and PostgreSQL through the real unit of work:
a line drawn twice, auto-debit and statement, the exceptions queue, a back-valued receipt that
equals booking on the day, write-off and reversal — each leaving a balanced ledger."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from tests.lending_fixtures import database_url
from tests.world import ACCOUNT, World

from loomcredit.adapters.migrations import upgrade_database
from loomcredit.adapters.sqlalchemy_uow import SqlAlchemyUnitOfWork, make_engine
from loomcredit.domain.approval import BackValuedReceiptOrder, ReversalOrder, WriteOffOrder
from loomcredit.domain.ledger import Account
from loomcredit.domain.loan import LoanStatus
from loomcredit.domain.money import Money
from loomcredit.service_layer import approvals, payments
from loomcredit.service_layer.audit import verify_chain

pytestmark = pytest.mark.integration
M = Money.parse
DUE = date(2026, 4, 2)
KEY = b"a" * 32


class Worlds:
    """Makes worlds on fresh databases of one kind."""

    def __init__(self, kind: str, tmp: Path) -> None:
        self.kind, self.tmp, self.engines, self.gens = kind, tmp, [], []

    def __call__(self) -> World:
        gen = database_url(self.kind, self.tmp / str(len(self.gens)))
        (self.tmp / str(len(self.gens))).mkdir()
        url = next(gen)
        self.gens.append(gen)
        upgrade_database(url)
        engine = make_engine(url)
        self.engines.append(engine)
        return World(make_uow=lambda: SqlAlchemyUnitOfWork(engine, b"p" * 32, KEY))

    def close(self) -> None:
        for engine in self.engines:
            engine.dispose()
        for gen in self.gens:
            for _ in gen:
                pass


@pytest.fixture(params=["sqlite", "postgresql"])
def worlds(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Worlds]:
    w = Worlds(request.param, tmp_path)
    yield w
    w.close()


def _balanced(w: World) -> None:
    with w.uow() as uow:
        tb = uow.ledger.trial_balance()
        report = verify_chain(uow.audit.records(), uow.audit.head(), KEY)
    assert sum(m.minor for m in tb.values()) == 0
    assert report.ok, report


def test_a_line_drawn_twice_repaid_by_debit_and_statement(worlds: Worlds) -> None:
    """Two drawdowns, one auto-debit paid, one statement line matched by reference, one line
    unmatched: loans, line, queue and reconciliation as expected; the ledger balances."""
    w = worlds()
    line_id = w.open_line("300000")
    first, second = w.draw(line_id, "120000"), w.draw(line_id, "100000")
    w.close_days_until(DUE)
    due_second = w.loan(second).amount_due(DUE)
    debit = w.auto_debit(failing=frozenset())
    assert len(debit.paid) == 2
    w.close_days_until(date(2026, 5, 2))
    from loomcredit.domain.payments import loan_reference

    out = w.statement(
        w.credit(
            "B-REF",
            w.loan(second).amount_due(date(2026, 5, 2)).amount_str(),
            memo=loan_reference(second),
        ),
        w.credit("B-ODD", "12.34", account="9999000011112222"),
    )
    assert (out.summary.booked, out.summary.unmatched) == (1, 1)
    assert out.reconciliation.balanced
    assert w.loan(second).instalments[1].is_settled
    assert not w.loan(first).instalments[1].is_settled
    with w.uow() as uow:
        line = uow.lines.get(line_id)
        queue = payments.exceptions(uow, w.ops)
    assert line is not None
    assert line.utilised == M("220000")
    assert [e.line.bank_ref for e in queue] == ["B-ODD"]
    assert due_second.is_positive()
    _balanced(w)


def test_back_valued_receipt_equals_booking_on_the_day(worlds: Worlds) -> None:
    """A failed debit later confirmed paid on the due date: after the recompute the loan and
    its books equal a twin paid on time."""
    late = worlds()
    loan_id = late.draw(late.open_line("300000"), "120000")
    late.close_days_until(DUE)
    due = late.loan(loan_id).amount_due(DUE)
    late.auto_debit(failing=frozenset({ACCOUNT}))
    late.close_days_until(date(2026, 4, 15))
    on_time = worlds()
    twin = on_time.draw(on_time.open_line("300000"), "120000")
    on_time.close_days_until(DUE)
    on_time.statement(on_time.credit("ON-TIME", due.amount_str()))
    on_time.close_days_until(date(2026, 4, 15))
    with late.uow() as uow:
        req = approvals.request_approval(
            uow,
            late.risk,
            BackValuedReceiptOrder(loan_id, due, DUE, "CONFIRMED"),
            reason="core confirms the debit",
            now=late.now,
        )
        approvals.approve(uow, late.risk2, req.request_id, now=late.now)
        uow.commit()
    a, b = late.loan(loan_id), on_time.loan(twin)
    assert (a.outstanding, a.dpd, a.accrual, a.instalments) == (
        b.outstanding,
        b.dpd,
        b.accrual,
        b.instalments,
    )
    with late.uow() as u1, on_time.uow() as u2:
        nz = lambda d: {k: v for k, v in d.items() if not v.is_zero()}  # noqa: E731
        assert nz(u1.ledger.loan_balances(loan_id)) == nz(u2.ledger.loan_balances(twin))
    _balanced(late)


def test_write_off_and_reversal_through_four_eyes(worlds: Worlds) -> None:
    """核销 and 冲正 on the database: the books return to where they were."""
    w = worlds()
    loan_id = w.draw(w.open_line("300000"), "120000")
    w.close_days_until(DUE)
    w.auto_debit(failing=frozenset({ACCOUNT}))
    w.close_days_until(date(2026, 5, 20))
    with w.uow() as uow:
        before = uow.ledger.loan_balances(loan_id)
        req = approvals.request_approval(uow, w.risk, WriteOffOrder(loan_id), reason="x", now=w.now)
        entry = approvals.approve(uow, w.risk2, req.request_id, now=w.now).result
        uow.commit()
    assert w.loan(loan_id).status is LoanStatus.WRITTEN_OFF
    with w.uow() as uow:
        assert uow.ledger.loan_balances(loan_id)[Account.LOAN_PRINCIPAL].is_zero()
        rev = approvals.request_approval(
            uow, w.ops, ReversalOrder(loan_id, entry), reason="in error", now=w.now
        )
        approvals.approve(uow, w.risk, rev.request_id, now=w.now)
        uow.commit()
    with w.uow() as uow:
        after = uow.ledger.loan_balances(loan_id)
    nz = lambda d: {k: v for k, v in d.items() if not v.is_zero()}  # noqa: E731
    assert nz(after) == nz(before)
    assert w.loan(loan_id).status is LoanStatus.ACTIVE
    _balanced(w)


def test_importing_the_same_statement_twice_books_nothing_twice(worlds: Worlds) -> None:
    """Every bank reference once, on the database's unique keys."""
    w = worlds()
    loan_id = w.draw(w.open_line("300000"), "120000")
    lines = (w.credit("S1", "500.00"), w.credit("S2", "7.00", account="1234567890"))
    w.statement(*lines)
    again = w.statement(*lines)
    assert (again.summary.booked, again.summary.unmatched, again.summary.duplicates) == (0, 0, 2)
    with w.uow() as uow:
        assert len(uow.receipts.for_loan(loan_id)) == 1
    _balanced(w)
