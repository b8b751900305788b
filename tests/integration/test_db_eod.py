"""End of day on SQLite and PostgreSQL through the real unit of work: DPD, bucket, grade floor and
penalty after a missed instalment, the waterfall of a short payment, money held in suspense until
it falls due, reminders, one run per date, catch-up of skipped dates, and a crash half-way that
rolls back so the date can simply be run again."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from tests.fakes import FakeDecider
from tests.lending_fixtures import database_url
from tests.world import World

from loomcredit.adapters.migrations import upgrade_database
from loomcredit.adapters.repositories.book import SqlBookRepository
from loomcredit.adapters.repositories.eod_sql import bucket_case, floor_case
from loomcredit.adapters.sqlalchemy_uow import SqlAlchemyUnitOfWork, make_engine
from loomcredit.domain.delinquency import Bucket, Grade, bucket, floor_grade
from loomcredit.domain.end_of_day import accrual_entry_id
from loomcredit.domain.ledger import Account
from loomcredit.domain.loan import Loan
from loomcredit.domain.money import Money
from loomcredit.service_layer import eod
from loomcredit.service_layer.errors import InvalidRequestError
from loomcredit.service_layer.unit_of_work import EodCounts

pytestmark = pytest.mark.integration
M = Money.parse
START = date(2026, 1, 5)  # open_loan: ¥120,000.00 at 4.5 %, 12-month annuity due on the 5th
FIRST_DUE = date(2026, 2, 5)
PRINCIPAL_FEN = 12_000_000
AUDIT_KEY = b"a" * 32


class Books:
    """Worlds on fresh migrated databases of one kind, each starting on :data:`START`."""

    def __init__(self, kind: str, tmp: Path) -> None:
        self.kind, self.tmp = kind, tmp
        self.engines: dict[int, Engine] = {}
        self.gens: list[Iterator[str]] = []

    def __call__(self, decider: FakeDecider | None = None) -> World:
        where = self.tmp / f"db{len(self.gens)}"
        where.mkdir()
        gen = database_url(self.kind, where)
        url = next(gen)
        self.gens.append(gen)
        upgrade_database(url)
        engine = make_engine(url)
        world = World(
            today=START,
            make_uow=lambda: SqlAlchemyUnitOfWork(engine, b"p" * 32, AUDIT_KEY),
            decider=decider or FakeDecider(),
        )
        self.engines[id(world)] = engine
        return world

    def engine(self, world: World) -> Engine:
        """The engine a world's database is on."""
        return self.engines[id(world)]

    def close(self) -> None:
        for engine in self.engines.values():
            engine.dispose()
        for gen in self.gens:
            for _ in gen:  # drops a PostgreSQL database
                pass


@pytest.fixture(params=["sqlite", "postgresql"])
def books(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Books]:
    """Makes worlds on fresh SQLite or PostgreSQL databases."""
    b = Books(request.param, tmp_path)
    yield b
    b.close()


def open_loan(w: World, amount: str = "120000") -> int:
    """A line of ``amount`` drawn in full on the business date; the loan's id."""
    return w.draw(w.open_line(amount), amount)


def run(w: World, day: date) -> eod.EodRun:
    """End of day up to ``day`` in the evening of that day; the business date is then the next."""
    at = datetime.combine(day, time(20), tzinfo=UTC)
    with w.uow() as uow:
        out = eod.run_eod(uow, w.ops, day, now=at)
    w.today = max(w.today, day + timedelta(days=1))
    return out


def balances(w: World) -> dict[Account, int]:
    """The trial balance in fen, accounts with a balance only."""
    with w.uow() as uow:
        tb = uow.ledger.trial_balance()
    return {a: m.minor for a, m in tb.items() if not m.is_zero()}


def entry_ids(w: World, loan_id: int) -> list[str]:
    """The ids of a loan's journal entries in booking order."""
    with w.uow() as uow:
        return [e.entry_id for e in uow.ledger.entries_for(loan_id)]


def nights(balance_fen: int, days: int, rate: str = "0.045") -> int:
    """Interest on a balance for ``days`` nights at ``rate`` ACT/360, rounded half up (fen)."""
    exact = Decimal(balance_fen) * Decimal(rate) * days / 360
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def state(loan: Loan) -> tuple[object, ...]:
    """What end of day changes on a loan."""
    return (
        loan.status,
        loan.outstanding,
        loan.suspense,
        loan.dpd,
        loan.bucket,
        loan.grade,
        loan.accrual,
        loan.instalments,
    )


def crash_on(day: date) -> Callable[[SqlBookRepository, EodCounts], None]:
    """A ``finish_day`` that dies on ``day`` (after the day's close, before its commit)."""
    original = SqlBookRepository.finish_day

    def finish_day(self: SqlBookRepository, counts: EodCounts) -> None:
        if counts.as_of == day:
            raise RuntimeError(f"power cut while closing {day}")
        original(self, counts)

    return finish_day


def test_dpd_bucket_grade_and_penalty_after_a_missed_instalment(books: Books) -> None:
    """Five days after a missed instalment: DPD 5, M1, 关注, and five nights of penalty on the
    overdue principal and interest at 4.5 % × 1.5 = 6.75 %, ACT/360 (1e-8 fen, exact)."""
    w = books()
    loan_id = open_loan(w)
    first = w.loan(loan_id).instalments[0]
    assert first.due_on == FIRST_DUE
    w.close_days_until(date(2026, 2, 11))  # end of day Jan 5 … Feb 10
    loan = w.loan(loan_id)
    assert (loan.dpd, loan.bucket, loan.grade) == (5, Bucket.M1, Grade.SPECIAL_MENTION)
    overdue = first.principal.minor + first.interest.minor
    expected_e8 = Decimal(overdue) * Decimal("0.0675") / 360 * 5 * 100_000_000
    assert loan.accrual.penalty_e8 == int(expected_e8)
    penalty = int((expected_e8 / 100_000_000).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    assert balances(w)[Account.PENALTY_RECEIVABLE] == penalty


def test_grade_floor_past_90_days(books: Books) -> None:
    """90 days past due is M3 and 关注; 91 days is M4 and at least 次级 (grade 3)."""
    w = books()
    loan_id = open_loan(w)
    run(w, FIRST_DUE + timedelta(days=90))  # the book's first end of day: 2026-05-06
    loan = w.loan(loan_id)
    assert (loan.dpd, loan.bucket, loan.grade) == (90, Bucket.M3, Grade.SPECIAL_MENTION)
    run(w, FIRST_DUE + timedelta(days=91))
    loan = w.loan(loan_id)
    assert (loan.dpd, loan.bucket, loan.grade) == (91, Bucket.M4, Grade.SUBSTANDARD)


def test_eod_twice_for_a_date_changes_nothing(books: Books) -> None:
    """A second run for the same date is reported as already done and changes neither the loan,
    nor its entries, nor the trial balance, nor the outbox."""
    w = books()
    loan_id = open_loan(w)
    w.close_days_until(date(2026, 2, 9))  # Feb 8: three days overdue, penalty accruing
    before = (state(w.loan(loan_id)), entry_ids(w, loan_id), balances(w))
    with w.uow() as uow:
        outbox = uow.book.reminders()
    again = run(w, date(2026, 2, 8))
    assert (again.already, again.days_run, again.counts) == (True, 0, None)
    assert (state(w.loan(loan_id)), entry_ids(w, loan_id), balances(w)) == before
    with w.uow() as uow:
        assert uow.book.reminders() == outbox
    assert w.loan(loan_id).accrual.penalty_e8 > 0


def test_crash_half_way_can_be_rerun(books: Books, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run that dies after the day's close and before its commit leaves nothing of that day;
    the rerun does the whole day once, equal to a twin that never crashed."""
    w, twin = books(), books()
    loan_id, twin_id = open_loan(w), open_loan(twin)
    crash_day = date(2026, 2, 8)
    w.close_days_until(crash_day)
    before = (state(w.loan(loan_id)), entry_ids(w, loan_id), balances(w))
    with monkeypatch.context() as m:
        m.setattr(SqlBookRepository, "finish_day", crash_on(crash_day))
        with pytest.raises(RuntimeError, match="power cut"):
            run(w, crash_day)
    with w.uow() as uow:
        assert uow.book.last_eod_date() == crash_day - timedelta(days=1)
        assert uow.book.loan_day(loan_id, crash_day) is None
        assert uow.ledger.entry(accrual_entry_id(loan_id, crash_day)) is None
    assert (state(w.loan(loan_id)), entry_ids(w, loan_id), balances(w)) == before
    out = run(w, crash_day)
    assert out.days_run == 1
    assert out.counts is not None
    assert out.counts.loans == 1
    twin.close_days_until(crash_day + timedelta(days=1))
    assert w.loan(loan_id).dpd == 3
    assert state(w.loan(loan_id)) == state(twin.loan(twin_id))
    assert entry_ids(w, loan_id) == entry_ids(twin, twin_id)
    assert balances(w) == balances(twin)


def test_reminders_t7_t3_t1_once_each(books: Books) -> None:
    """Reminders land 7, 3 and 1 days before a due date, once each, even when a date is rerun."""
    w = books()
    loan_id = open_loan(w)
    w.close_days_until(FIRST_DUE)  # end of day Jan 5 … Feb 4
    run(w, date(2026, 2, 4))
    with w.uow() as uow:
        box = [q for q in uow.book.reminders() if q.reminder.loan_id == loan_id]
    assert sorted((q.reminder.kind, q.created_for) for q in box) == [
        ("T-1", date(2026, 2, 4)),
        ("T-3", date(2026, 2, 2)),
        ("T-7", date(2026, 1, 29)),
    ]
    assert {(q.reminder.installment, q.reminder.due_on) for q in box} == {(1, FIRST_DUE)}


def test_partial_repayment_follows_the_waterfall(books: Books) -> None:
    """A late statement credit smaller than what is due settles the penalty first, then the
    interest, then principal with the ¥100.00 left; the penalty received is income."""
    w = books()
    loan_id = open_loan(w)
    w.close_days_until(date(2026, 2, 11))  # five nights of penalty (Feb 6 … Feb 10)
    first = w.loan(loan_id).instalments[0]
    overdue = first.principal.minor + first.interest.minor
    penalty = nights(overdue, 5, rate="0.0675")
    pay = penalty + first.interest.minor + 10_000
    out = w.statement(w.credit("LATE-1", Money(pay).amount_str()))
    assert out.summary.booked == 1
    with w.uow() as uow:
        (receipt,) = uow.receipts.for_loan(loan_id)
    assert (receipt.penalty.minor, receipt.interest.minor, receipt.principal.minor) == (
        penalty,
        first.interest.minor,
        10_000,
    )
    assert receipt.suspense.is_zero()
    paid = w.loan(loan_id).instalments[0]
    assert (paid.interest_paid, paid.principal_paid) == (first.interest, M("100.00"))
    tb = balances(w)
    assert tb[Account.PENALTY_INCOME] == -penalty
    assert Account.PENALTY_RECEIVABLE not in tb
    assert tb[Account.LOAN_PRINCIPAL] == PRINCIPAL_FEN - 10_000
    assert sum(tb.values()) == 0


def test_instalment_paid_before_its_due_date_is_not_overdue(books: Books) -> None:
    """Paid two days early, the money waits in suspense and settles the instalment when it falls
    due: no DPD, no penalty, 正常; the ledger moves it out of suspense and still balances."""
    w = books()
    loan_id = open_loan(w)
    first = w.loan(loan_id).instalments[0]
    w.close_days_until(FIRST_DUE - timedelta(days=2))
    amount = first.principal + first.interest
    w.statement(w.credit("EARLY-1", amount.amount_str()))
    with w.uow() as uow:
        (receipt,) = uow.receipts.for_loan(loan_id)
    assert receipt.suspense == amount  # nothing was due yet
    assert balances(w)[Account.SUSPENSE] == -amount.minor
    w.close_days_until(date(2026, 2, 11))  # end of day Feb 3 … Feb 10
    loan = w.loan(loan_id)
    assert (loan.dpd, loan.grade, loan.accrual.penalty_e8, loan.suspense) == (
        0,
        Grade.NORMAL,
        0,
        Money.zero(),
    )
    after = PRINCIPAL_FEN - first.principal.minor
    assert loan.outstanding.minor == after
    assert loan.instalments[0].is_settled
    tb = balances(w)
    assert Account.SUSPENSE not in tb
    # income: the first instalment's interest, then the six nights Feb 5 … Feb 10 accrued on
    # the principal not yet due
    assert tb[Account.INTEREST_INCOME] == -(first.interest.minor + nights(after, 6))
    assert tb[Account.INTEREST_RECEIVABLE] == nights(after, 6)
    assert sum(tb.values()) == 0


def test_sql_bucket_and_floor_agree_with_the_domain(books: Books) -> None:
    """The set-based CASE expressions give the domain's bucket() and floor_grade() for every DPD
    from 0 to 400."""
    w = books()
    values = range(0, 401)
    union = " UNION ALL ".join(f"SELECT {v} AS dpd" for v in values)
    with books.engine(w).connect() as conn:
        rows = conn.execute(
            text(f"SELECT dpd, {bucket_case()}, {floor_case()} FROM ({union}) t")
        ).all()
    got = {int(d): (str(b), int(g)) for d, b, g in rows}
    assert got == {v: (bucket(v).name, int(floor_grade(v))) for v in values}


def test_skipped_dates_are_caught_up_like_running_each_day(books: Books) -> None:
    """End of day for a date after a gap runs the missing days first, one by one: the same loan,
    loan-days, entries and balances as running each day."""
    w, daily = books(), books()
    loan_id, daily_id = open_loan(w), open_loan(daily)
    w.close_days_until(date(2026, 2, 7))
    daily.close_days_until(date(2026, 2, 7))
    out = run(w, date(2026, 2, 12))  # Feb 7 … Feb 11 were skipped
    assert out.days_run == 6
    for d in range(7, 13):
        assert run(daily, date(2026, 2, d)).days_run == 1
    got, want = w.loan(loan_id), daily.loan(daily_id)
    assert state(got) == state(want)
    assert (got.dpd, got.bucket) == (7, Bucket.M1)
    assert got.accrual.penalty_e8 > 0
    with w.uow() as u1, daily.uow() as u2:
        for d in range(7, 13):
            day = date(2026, 2, d)
            assert u1.book.loan_day(loan_id, day) == u2.book.loan_day(daily_id, day)
    assert entry_ids(w, loan_id) == entry_ids(daily, daily_id)
    assert balances(w) == balances(daily)
    assert run(w, date(2026, 2, 12)).already


def test_crash_during_catch_up_reruns_without_double_posting(
    books: Books, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A catch-up that dies on its third day keeps the two days committed before it; the rerun
    runs only the two days missing and books exactly what an uninterrupted run books."""
    w, twin = books(), books()
    loan_id, twin_id = open_loan(w), open_loan(twin)
    w.close_days_until(date(2026, 2, 7))
    with monkeypatch.context() as m:
        m.setattr(SqlBookRepository, "finish_day", crash_on(date(2026, 2, 9)))
        with pytest.raises(RuntimeError, match="power cut"):
            run(w, date(2026, 2, 10))
    with w.uow() as uow:
        assert uow.book.last_eod_date() == date(2026, 2, 8)
    assert w.loan(loan_id).dpd == 3
    out = run(w, date(2026, 2, 10))
    assert out.days_run == 2
    assert w.loan(loan_id).dpd == 5
    twin.close_days_until(date(2026, 2, 11))
    assert state(w.loan(loan_id)) == state(twin.loan(twin_id))
    ids = entry_ids(w, loan_id)
    assert len(ids) == len(set(ids))
    assert ids == entry_ids(twin, twin_id)
    assert balances(w) == balances(twin)


def test_a_date_after_today_is_refused(books: Books) -> None:
    """End of day for tomorrow is refused, and nothing runs."""
    w = books()
    loan_id = open_loan(w)
    today = datetime.combine(START, time(20), tzinfo=UTC)
    with w.uow() as uow, pytest.raises(InvalidRequestError, match="after today"):
        eod.run_eod(uow, w.ops, START + timedelta(days=1), now=today)
    with w.uow() as uow:
        assert uow.book.last_eod_date() is None
        assert uow.book.loan_day(loan_id, START + timedelta(days=1)) is None
    assert w.loan(loan_id).accrual.interest_e8 == 0
