"""Restructuring on SQLite and PostgreSQL through the real unit of work: an overdue loan is
proposed for extension by a collector, approved by a risk manager, and end of day then finds it
current (DPD 0 the next day, from the new schedule), the instalment rows replaced, the watch
dates stored, the ledger balanced and the loan's books equal to what the loan says."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from tests.integration.test_db_servicing_stories import KEY, Worlds
from tests.world import World

from loomcredit.domain.ledger import Account
from loomcredit.domain.restructuring import RestructureKind, RestructurePlan
from loomcredit.service_layer import approvals
from loomcredit.service_layer.audit import verify_chain
from loomcredit.service_layer.restructuring import propose_restructure
from loomcredit.service_layer.users import Role, User

pytestmark = pytest.mark.integration
DUE = date(2026, 4, 2)  # the first instalment of a loan drawn on 2026-03-02
COLLECTOR = User("col", Role.COLLECTOR)


@pytest.fixture(params=["sqlite", "postgresql"])
def worlds(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Worlds]:
    w = Worlds(request.param, tmp_path)
    yield w
    w.close()


def _restructure(w: World, loan_id: int, plan: RestructurePlan) -> None:
    with w.uow() as uow:
        prop = propose_restructure(uow, COLLECTOR, loan_id, plan, reason="淡季回款慢 slow season",
                                   now=w.now)  # fmt: skip
        uow.commit()
    with w.uow() as uow:
        approvals.approve(uow, w.risk, prop.request.request_id, now=w.now, comment="同意")
        uow.commit()


def test_an_overdue_loan_extended_is_current_the_next_day_and_the_books_balance(
    worlds: Worlds,
) -> None:
    """Unpaid since 2026-04-02 (17 days on 04-19); extended by 6 months: the day closes at DPD 0
    and so does the next, Σ new principal = the ¥120,000 owed, and the ledger balances."""
    w = worlds()
    loan_id = w.draw(w.open_line("300000"), "120000")
    w.close_days_until(date(2026, 4, 20))
    before = w.loan(loan_id)
    assert before.dpd == 17
    maturity = max(i.due_on for i in before.instalments)
    _restructure(w, loan_id, RestructurePlan(RestructureKind.EXTENSION, 6))
    w.close_days_until(date(2026, 4, 22))
    loan = w.loan(loan_id)
    with w.uow() as uow:
        days = [uow.book.loan_day(loan_id, date(2026, 4, d)) for d in (19, 20, 21)]
        books = uow.ledger.loan_balances(loan_id)
        tb = uow.ledger.trial_balance()
        report = verify_chain(uow.audit.records(), uow.audit.head(), KEY)
    assert [d.dpd for d in days if d is not None] == [17, 0, 0]  # 04-19: since 04-02
    assert loan.dpd == 0
    assert (loan.restructured_on, loan.watch_until) == (date(2026, 4, 20), date(2027, 5, 2))
    new = [i for i in loan.instalments if i.number > len(before.instalments)]
    assert sum(i.principal.minor for i in new) == 120_000_00 == loan.outstanding.minor
    assert max(i.due_on for i in new) == date(maturity.year, maturity.month + 6, maturity.day)
    assert sum(m.minor for m in tb.values()) == 0
    assert report.ok, report
    expected = loan.account_balances(before.terms.principal, before.terms.principal * 0)
    for account in (Account.LOAN_PRINCIPAL, Account.INTEREST_RECEIVABLE,
                    Account.PENALTY_RECEIVABLE):  # fmt: skip
        assert books.get(account, before.terms.principal * 0) == expected[account], account


def test_the_restructured_loan_repaid_on_its_first_new_date_is_current(worlds: Worlds) -> None:
    """Paying the first new instalment (the deferred interest with it) by auto-debit leaves
    nothing overdue the next day."""
    w = worlds()
    loan_id = w.draw(w.open_line("300000"), "120000")
    w.close_days_until(date(2026, 4, 10))
    _restructure(w, loan_id, RestructurePlan(RestructureKind.RESCHEDULE, 12))
    first = min(i.due_on for i in w.loan(loan_id).instalments if i.due_on > date(2026, 4, 10))
    w.close_days_until(first)
    assert w.loan(loan_id).amount_due(first).is_positive()
    paid = w.auto_debit()
    assert len(paid.paid) == 1
    w.close_days_until(first + timedelta(days=2))
    loan = w.loan(loan_id)
    assert loan.dpd == 0
    with w.uow() as uow:
        tb = uow.ledger.trial_balance()
    assert sum(m.minor for m in tb.values()) == 0
