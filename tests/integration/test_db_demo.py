"""The demo lending run on the real database: every role seeded, lines drawn (one twice) through
four eyes, auto-debits and a statement booked, one line left in the exceptions queue, the book
balanced and the audit chain intact."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from tests.fakes import FakeDecider

from loomcredit.bootstrap.service import Service, build_service
from loomcredit.config import Settings
from loomcredit.domain.ledger import Account
from loomcredit.domain.money import Money
from loomcredit.entrypoints.cli.demo_lending import (
    STAFF,
    DemoBook,
    run_demo_lending,
    synthetic_offers,
)
from loomcredit.service_layer.audit import verify_chain

pytestmark = pytest.mark.integration


def test_demo_lending_leaves_a_consistent_book(tmp_path: Path) -> None:
    """Two months: auto-approved and reviewed lines, one drawn twice, money only from the bank,
    the unmatched statement line waiting, ledger and audit intact."""
    svc = build_service(Settings(home=tmp_path), decider=FakeDecider())
    book = run_demo_lending(
        svc, offers=synthetic_offers(), start=date(2026, 1, 5), months=2, bank_root=tmp_path / "b"
    )
    assert book.auto_approved == 4  # ¥200k, 300k, 450k, 250k: ≤ ¥500,000 (FakeDecider)
    assert book.reviewed == 3  # ¥800k, 600k by a reviewer, ¥1.2m by a risk manager
    assert book.declined == 1  # ¥5,000,000
    assert book.lines == 4 + 3
    assert book.loans == book.lines + 1  # the first line is drawn twice
    tb = book.trial_balance
    assert sum(m.minor for m in tb.values()) == 0
    assert tb[Account.LOAN_PRINCIPAL] == book.outstanding
    assert book.debits_paid > 0
    assert book.debits_failed > 0  # the borrower whose account is empty
    assert book.statement_booked == 1  # that borrower pays by transfer with its reference
    assert [e.line.amount for e in book.exceptions] == [Money.parse("8800.00")]
    assert tb[Account.UNIDENTIFIED] == -Money.parse("8800.00")
    assert book.reconciled
    assert book.prepayments == 2
    assert book.closed >= 1  # the borrower who asked to repay everything on day 60
    assert book.by_grade.get(2, 0) >= 1  # the borrower who missed a debit stays at least 关注
    with svc.uow() as uow:
        names = {name for name, _ in STAFF}
        assert all(uow.users.get(n) is not None for n in names)
        assert verify_chain(uow.audit.records(), uow.audit.head(), svc.audit_key).ok
        disbursed = [r for r in uow.audit.records() if r.action == "loan.disbursed"]
    assert {r.actor for r in disbursed} == {"demo_operations"}
    _late_payer_is_cured_and_contacts_registered(svc, book)
    _reminded_then_collected(svc, book)
    svc.engine.dispose()


def _reminded_then_collected(svc: Service, book: DemoBook) -> None:
    """The late payer got its pre-due reminders, the due-day notice and the day-1 and day-3
    overdue notices in its console inbox, no day-7 one (it paid on day 5), and its collection
    case closed as cured; the defaulter's collector took a promise that end of day found
    broken, and the case's priority rose with it."""
    from loomcredit.domain.collections import CloseReason, PromiseStatus
    from loomcredit.domain.contacts import Channel
    from loomcredit.domain.notices import DeliveryStatus

    assert book.late_payer is not None
    with svc.uow() as uow:
        (loan,) = uow.loans.find(uscc=book.late_payer)
        sent = uow.notices.find(loan_id=loan.loan_id, status=DeliveryStatus.DELIVERED)
        inbox = [(d.installment, d.kind) for d in sorted(sent, key=lambda d: d.delivery_id)
                 if d.channel is Channel.INBOX]  # fmt: skip
        (cured,) = uow.cases.find(uscc=book.late_payer, open_only=False)
        assert book.promise_case is not None
        promised = uow.cases.get(book.promise_case)
    assert inbox[:6] == [(1, "T-7"), (1, "T-3"), (1, "T-1"), (1, "DUE"), (1, "D1"), (1, "D3")]
    assert (1, "D7") not in inbox
    assert (cured.close_reason, cured.closed_on) == (CloseReason.CURED, book.late_paid_on)
    assert promised is not None
    (promise,) = promised.promises
    assert promise.status is PromiseStatus.BROKEN
    assert book.notices_delivered > 0


def _late_payer_is_cured_and_contacts_registered(svc: Service, book: DemoBook) -> None:
    """The late payer's first instalment is 4 days overdue the night before its account has
    money again, and current once the morning's debit took it; every borrower has its finance
    contact on record."""
    from datetime import timedelta

    assert book.late_payer is not None
    paid_on = book.late_paid_on
    assert paid_on is not None
    with svc.uow() as uow:
        (loan,) = uow.loans.find(uscc=book.late_payer)
        before = uow.book.loan_day(loan.loan_id, paid_on - timedelta(days=1))
        after = uow.book.loan_day(loan.loan_id, paid_on)
        assert before is not None
        assert after is not None
        lines = uow.lines.find()
        registered = uow.contacts.for_borrowers(ln.terms.uscc for ln in lines)
    assert (before.dpd, after.dpd) == (4, 0)
    assert paid_on - loan.instalments[0].due_on == timedelta(days=5)
    assert {ln.terms.uscc for ln in lines} == set(registered)
    assert all(c.phone and c.email for cs in registered.values() for c in cs)


def test_demo_loans_carry_the_decision_plan(tmp_path: Path) -> None:
    """With seasonal decisions every demo drawdown is booked on the custom plan (no principal
    due in August)."""
    svc = build_service(Settings(home=tmp_path), decider=FakeDecider(seasonal=True))
    book = run_demo_lending(
        svc, offers=synthetic_offers(), start=date(2026, 1, 5), months=1, bank_root=tmp_path / "b"
    )
    assert book.by_method == {"custom": book.loans}
    with svc.uow() as uow:
        for loan in uow.loans.find():
            august = [i for i in loan.instalments if i.due_on.month == 8]
            assert [i.principal for i in august] == [Money.zero()]
    svc.engine.dispose()
