"""End of day and accrual on SQLite and PostgreSQL, figures from Decimal arithmetic: nightly
interest trued up on the due date, penalty on what is overdue, DPD / bucket / grade, reminders,
suspense applied before DPD, the waterfall, early repayment with interest to date, non-accrual
past 90 days, reruns and crashes that post nothing twice, catch-up equal to running each day."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from sqlalchemy import text
from tests.lending_fixtures import database_url
from tests.world import ACCOUNT, World

from loomcredit.adapters.migrations import upgrade_database
from loomcredit.adapters.repositories.eod_sql import bucket_case, floor_case
from loomcredit.adapters.sqlalchemy_uow import SqlAlchemyUnitOfWork, make_engine
from loomcredit.domain.delinquency import bucket, floor_grade
from loomcredit.domain.ledger import Account
from loomcredit.domain.loan import LoanStatus
from loomcredit.domain.money import Money
from loomcredit.service_layer import eod, servicing

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


def nights(fen: int, n: int, rate: str = "0.045") -> int:
    """Interest of ``n`` nights on ``fen`` at ``rate``, ACT/360, rounded half up once."""
    exact = Decimal(fen) * Decimal(rate) * n / 360
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _loan(w: World) -> int:
    return w.draw(w.open_line("120000"), "120000")


def _books(w: World) -> dict[Account, int]:
    with w.uow() as uow:
        return {a: m.minor for a, m in uow.ledger.trial_balance().items()}


def test_interest_accrues_nightly_and_is_trued_up_on_the_due_date(world: World) -> None:
    """31 nights to the day before the first due date: 12,000,000 fen × 4.5 % × 31/360 as
    receivable income; on the due date income becomes the instalment's interest (i = r/12) plus
    that night on the balance after the instalment's principal."""
    loan_id = _loan(world)
    world.close_days_until(DUE)
    tb = _books(world)
    assert tb[Account.INTEREST_RECEIVABLE] == nights(12_000_000, 31) == 46_500
    exact = Decimal(12_000_000) * Decimal("0.045") * 31 / 360 * 100_000_000
    assert world.loan(loan_id).accrual.interest_e8 == int(exact)
    world.close_days_until(DUE + timedelta(days=1))
    first = world.loan(loan_id).instalments[0]
    assert first.interest.minor == 12_000_000 * 45 // 12_000
    after = 12_000_000 - first.principal.minor
    assert _books(world)[Account.INTEREST_RECEIVABLE] == first.interest.minor + nights(after, 1)


def test_end_of_day_twice_posts_nothing_twice(world: World) -> None:
    """Running a date again is 'already' and changes neither ledger nor loans."""
    _loan(world)
    world.close_days_until(START + timedelta(days=4))
    before = _books(world)
    with world.uow() as uow:
        again = eod.run_eod(uow, world.ops, START + timedelta(days=3), now=world.now)
    assert again.already
    assert _books(world) == before


def test_a_missed_instalment_is_overdue_with_penalty_bucket_and_grade(world: World) -> None:
    """Due Feb 5, unpaid: on the EOD of Feb 8 the loan is 3 DPD, M1, 关注, and the penalty is
    what is overdue × 4.5 % × 1.5 / 360 per night (three nights: Feb 6, 7, 8)."""
    loan_id = _loan(world)
    world.close_days_until(DUE)
    world.auto_debit(failing=NO_MONEY)
    world.close_days_until(date(2026, 2, 9))
    loan = world.loan(loan_id)
    first = loan.instalments[0]
    overdue = first.principal.minor + first.interest.minor
    per_night = Decimal(overdue) * Decimal("0.045") * Decimal("1.5") / 360 * 100_000_000
    assert (loan.dpd, loan.bucket.name, int(loan.grade)) == (3, "M1", 2)
    # each night truncated to 1e-8 fen, overdue interest compounding at the penalty rate
    assert loan.accrual.penalty_e8 == 3 * int(per_night)


def test_past_ninety_days_the_floor_is_substandard_and_income_is_reversed(world: World) -> None:
    """非应计: at 90 DPD receivables stand; at 91 (M4, 次级) what was recognised and not received
    leaves income and receivables; accrual goes on off the books; a cure pays it as income."""
    loan_id = _loan(world)
    world.close_days_until(DUE)
    world.auto_debit(failing=NO_MONEY)
    world.close_days_until(DUE + timedelta(days=91))  # EOD of day 90 done
    tb = _books(world)
    assert world.loan(loan_id).dpd == 90
    assert tb[Account.INTEREST_RECEIVABLE] > 0
    assert tb[Account.PENALTY_RECEIVABLE] > 0
    world.close_days_until(DUE + timedelta(days=92))
    loan = world.loan(loan_id)
    assert (loan.dpd, loan.bucket.name, int(loan.grade)) == (91, "M4", 3)
    tb = _books(world)
    for account in (
        Account.INTEREST_RECEIVABLE,
        Account.PENALTY_RECEIVABLE,
        Account.INTEREST_INCOME,
        Account.PENALTY_INCOME,
    ):
        assert tb.get(account, 0) == 0, account
    before = loan.accrual.penalty_e8
    world.close_days_until(DUE + timedelta(days=93))
    assert world.loan(loan_id).accrual.penalty_e8 > before
    due = world.loan(loan_id).amount_due(world.today)
    paid = world.statement(world.credit("CURE", due.amount_str()))
    assert paid.summary.booked == 1
    tb = _books(world)
    assert tb[Account.PENALTY_INCOME] < 0
    assert tb.get(Account.PENALTY_RECEIVABLE, 0) == 0


def test_reminders_t7_t3_t1_once_each(world: World) -> None:
    """Queued 7, 3 and 1 days before a due date, once each."""
    loan_id = _loan(world)
    world.close_days_until(DUE)
    with world.uow() as uow:
        box = [q for q in uow.book.reminders() if q.reminder.loan_id == loan_id]
    assert sorted((q.reminder.kind, q.created_for) for q in box) == [
        ("T-1", date(2026, 2, 4)),
        ("T-3", date(2026, 2, 2)),
        ("T-7", date(2026, 1, 29)),
    ]


def test_a_partial_payment_settles_penalty_then_interest_then_principal(world: World) -> None:
    """Late and short: the waterfall pays penalty, then interest, then principal."""
    loan_id = _loan(world)
    world.close_days_until(DUE)
    world.auto_debit(failing=NO_MONEY)
    world.close_days_until(date(2026, 2, 15))
    loan = world.loan(loan_id)
    penalty = loan.accrual.penalty_due
    interest = loan.instalments[0].interest
    out = world.statement(world.credit("PART", (penalty + interest + Money(100_00)).amount_str()))
    assert out.summary.booked == 1
    with world.uow() as uow:
        receipt = uow.receipts.by_bank_ref("PART")
    assert receipt is not None
    assert (receipt.penalty, receipt.interest, receipt.principal) == (
        penalty,
        interest,
        Money(100_00),
    )


def test_paid_before_the_due_date_is_not_overdue(world: World) -> None:
    """Two days early the money waits in suspense and settles the instalment when it falls due:
    no DPD, no penalty; suspense emptied; income = the instalment's interest + later nights."""
    loan_id = _loan(world)
    world.close_days_until(DUE - timedelta(days=2))
    first = world.loan(loan_id).instalments[0]
    world.statement(world.credit("EARLY", (first.principal + first.interest).amount_str()))
    world.close_days_until(date(2026, 2, 11))
    loan = world.loan(loan_id)
    assert (loan.dpd, int(loan.grade), loan.accrual.penalty_e8, loan.suspense) == (
        0,
        1,
        0,
        Money.zero(),
    )
    tb = _books(world)
    assert tb.get(Account.SUSPENSE, 0) == 0
    later = nights(loan.outstanding.minor, 6)  # Feb 5 … Feb 10 on what is not yet due
    assert tb[Account.INTEREST_INCOME] == -(first.interest.minor + later)


def test_early_repayment_pays_interest_to_date_and_reschedules_the_rest(world: World) -> None:
    """On Feb 20 the firm asks to prepay 30,000.00 of principal; the day's auto-debit takes the
    15 nights since Feb 5 on the balance plus the principal; a settled line dated Feb 20 records
    it; the 11 lines left owe exactly the balance left, the first charging only from Feb 20."""
    loan_id = _loan(world)
    world.close_days_until(DUE)
    world.auto_debit()
    world.close_days_until(date(2026, 2, 20))
    balance = world.loan(loan_id).outstanding.minor
    with world.uow() as uow:
        _, quote = servicing.request_prepayment(
            uow, world.firm, loan_id, now=world.now, principal=Money(3_000_000)
        )
        uow.commit()
    assert quote.interest_to_date.minor == nights(balance, 15)
    paid = world.auto_debit().paid[0]
    assert (paid.interest.minor, paid.principal.minor, paid.early) == (
        nights(balance, 15),
        3_000_000,
        True,
    )
    insts = world.loan(loan_id).instalments
    settled, rest = insts[1], insts[2:]
    assert (settled.due_on, settled.principal.minor) == (date(2026, 2, 20), 3_000_000)
    left = balance - 3_000_000
    assert len(rest) == 11
    assert rest[0].due_on == date(2026, 3, 5)
    assert rest[0].interest.minor == nights(left, 13)
    assert sum(i.principal.minor for i in rest) == left == world.loan(loan_id).outstanding.minor
    world.close_days_until(date(2026, 3, 5))
    assert _books(world)[Account.INTEREST_RECEIVABLE] == rest[0].interest.minor


def test_paying_off_closes_the_loan_with_nothing_receivable(world: World) -> None:
    """The payoff debited on the day closes the loan; its receivable is zero."""
    loan_id = _loan(world)
    world.close_days_until(date(2026, 1, 25))
    with world.uow() as uow:
        servicing.request_prepayment(uow, world.firm, loan_id, now=world.now)
        uow.commit()
    world.auto_debit()
    assert world.loan(loan_id).status is LoanStatus.CLOSED
    with world.uow() as uow:
        books = uow.ledger.loan_balances(loan_id)
    assert books.get(Account.INTEREST_RECEIVABLE, Money.zero()) == Money.zero()
    assert books[Account.LOAN_PRINCIPAL] == Money.zero()


def test_a_crash_half_way_leaves_nothing_and_the_rerun_does_the_day_once(world: World) -> None:
    """A run that dies before commit rolls back; the rerun books the day exactly once."""
    loan_id = _loan(world)
    world.close_days_until(DUE)
    world.auto_debit(failing=NO_MONEY)
    world.close_days_until(date(2026, 2, 8))
    with world.uow() as uow:
        uow.book.hold_day(exclusive=True)
        assert uow.book.start_day(date(2026, 2, 8), world.now)
        uow.book.close_day(date(2026, 2, 8))
        # the process dies here: no finish, no commit
    assert world.loan(loan_id).dpd == 2
    world.close_days_until(date(2026, 2, 9))
    assert world.loan(loan_id).dpd == 3
    with world.uow() as uow:
        entries = [e.entry_id for e in uow.ledger.entries_for(loan_id)]
    assert entries.count("acr-1-2026-02-08") == 1


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


def test_sql_bucket_and_floor_agree_with_the_domain(world: World) -> None:
    """The set-based CASE expressions give bucket() and floor_grade() for every DPD 0..400."""
    with world.uow() as uow:
        conn = uow.conn  # type: ignore[attr-defined]
        for dpd in range(401):
            got = conn.execute(
                text(f"SELECT {bucket_case(str(dpd))}, {floor_case(str(dpd))}")
            ).one()
            assert (got[0], got[1]) == (bucket(dpd).name, int(floor_grade(dpd))), dpd
