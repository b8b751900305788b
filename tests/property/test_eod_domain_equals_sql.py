"""The set-based end of day (``BookRepository.close_day``) equals the loan-by-loan domain rule
(``service_layer.eod.close_day_by_domain``) to the fen: random books are written identically into
two databases, a few consecutive days are closed one way in one and the other way in the other,
and every loan, instalment, loan-day, journal entry, posting and reminder must be the same."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, insert, select
from tests.lending_fixtures import drop_pg_database, make_pg_database, pg_available

from loomcredit.adapters import orm
from loomcredit.adapters.ledger_guard import install_ledger_guards
from loomcredit.adapters.sqlalchemy_uow import SqlAlchemyUnitOfWork, make_engine
from loomcredit.domain.daycount import add_months
from loomcredit.domain.end_of_day import E8
from loomcredit.domain.errors import NotRestructurable
from loomcredit.domain.loan import LoanStatus
from loomcredit.domain.money import Money, Rate
from loomcredit.domain.restructuring import RestructureKind, RestructurePlan
from loomcredit.domain.schedule import Method, build_schedule
from loomcredit.service_layer import eod
from loomcredit.service_layer.unit_of_work import EodCounts

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)
USCC = "91330603MA2B00000X"
METHODS = (Method.ANNUITY, Method.EQUAL_PRINCIPAL, Method.INTEREST_ONLY)
TABLES = (
    orm.loans,
    orm.installments,
    orm.loan_days,
    orm.journal_entries,
    orm.postings,
    orm.outbox,
    orm.eod_runs,
    orm.credit_lines,
)


@dataclass(frozen=True)
class Book:
    """What both databases start from: loan rows, instalment rows, the first day and how many
    days to close."""

    loans: list[dict[str, Any]]
    instalments: list[dict[str, Any]]
    first_day: date
    days: int


#: Accrued 1e-8 fen: anything, or exactly half a fen over whole fen (rounding ties).
accrued_e8 = st.one_of(
    st.integers(0, 10**13), st.integers(0, 10**5).map(lambda fen: fen * E8 + E8 // 2)
)


@st.composite
def loans(draw: st.DrawFn, loan_id: int, first_day: date) -> tuple[dict[str, Any], list[Any]]:
    """One loan: a real schedule, random payments on what fell due, random accrual state."""
    term = draw(st.integers(1, 12))
    if draw(st.booleans()):  # anywhere up to 14 months back
        start = first_day - timedelta(days=draw(st.integers(0, 420)))
    else:  # an instalment falls due in the days closed, or a few days after (reminders)
        near = first_day + timedelta(days=draw(st.integers(-2, 8)))
        start = add_months(near, -draw(st.integers(1, term)))
        start = min(start, first_day)
    principal = draw(st.integers(10_000, 500_000_000))
    ppm = draw(st.integers(1_000, 240_000))
    pct = draw(st.sampled_from([0, 30, 50, 100]))
    method = draw(st.sampled_from(METHODS))
    sched = build_schedule(
        Money(principal), Rate(Decimal(ppm) / Decimal(1_000_000)), term, start, method
    )
    rows, paid_principal, paid_interest = [], 0, 0
    for i in sched.installments:
        pp = ip = 0
        if i.due_on <= first_day:
            how = draw(st.sampled_from(["none", "part", "full", "full"]))
            if how == "full":
                pp, ip = i.principal.minor, i.interest.minor
            elif how == "part":
                pp = draw(st.integers(0, i.principal.minor))
                ip = draw(st.integers(0, i.interest.minor))
        paid_principal, paid_interest = paid_principal + pp, paid_interest + ip
        rows.append(
            {
                "loan_id": loan_id,
                "number": i.number,
                "due_on": i.due_on,
                "principal_fen": i.principal.minor,
                "interest_fen": i.interest.minor,
                "principal_paid_fen": pp,
                "interest_paid_fen": ip,
            }
        )
    recognised = paid_interest + draw(st.integers(0, 2_000_000))
    penalty_paid = draw(st.integers(0, 100_000))
    loan = {
        "id": loan_id,
        "application_id": 1,
        "line_id": 1,
        "disbursement_key": f"k{loan_id}",
        "uscc": USCC,
        "principal_fen": principal,
        "currency": "CNY",
        "annual_rate": str(Decimal(ppm) / Decimal(1_000_000)),
        "penalty_uplift": str(Decimal(pct) / 100),
        "method": method.value,
        "start_date": start,
        "status": draw(st.sampled_from(["active"] * 5 + ["closed"])),
        "outstanding_fen": principal - paid_principal,
        "rate_ppm": ppm,
        "uplift_pct": pct,
        "accrued_penalty_e8": draw(accrued_e8),
        "accrued_interest_e8": draw(accrued_e8),
        "interest_recognised_fen": recognised,
        "interest_received_fen": paid_interest,
        "penalty_recognised_fen": penalty_paid + draw(st.integers(0, 100_000)),
        "penalty_paid_fen": penalty_paid,
        "suspense_fen": draw(st.sampled_from([0, 0, 0, 1, 50_000, 10**8])),
        "dpd": 0,
        "bucket": "M0",
        "grade": draw(st.integers(1, 5)),
        "disbursed_at": NOW,
        "version": draw(st.integers(0, 3)),
    }
    return loan, rows


@st.composite
def books(draw: st.DrawFn) -> Book:
    """Up to six loans, some current, some far overdue, closed for one to four days."""
    first_day = draw(st.dates(date(2025, 6, 1), date(2026, 9, 30)))
    all_loans, all_rows = [], []
    for loan_id in range(1, draw(st.integers(1, 6)) + 1):
        loan, rows = draw(loans(loan_id, first_day))
        all_loans.append(loan)
        all_rows += rows
    return Book(all_loans, all_rows, first_day, draw(st.integers(1, 4)))


def fill(engine: Engine, book: Book) -> None:
    """The same rows into a fresh schema (with the ledger guards)."""
    orm.metadata.drop_all(engine)
    orm.metadata.create_all(engine)
    with engine.begin() as conn:
        install_ledger_guards(conn)
        conn.execute(
            insert(orm.applications).values(
                id=1,
                uscc=USCC,
                amount_fen=10**10,
                currency="CNY",
                term_months=12,
                method="annuity",
                status="accepted",
                band="auto_approve",
                annual_rate="0.05",
                decision_json="{}",
                created_by="o",
                updated_by="o",
                created_at=NOW,
                updated_at=NOW,
            )
        )
        conn.execute(
            insert(orm.credit_lines).values(
                id=1,
                application_id=1,
                uscc=USCC,
                kind="revolving",
                limit_fen=10**11,
                original_limit_fen=10**11,
                utilised_fen=10**10,
                currency="CNY",
                status="active",
                opened_on=date(2024, 1, 1),
                expires_on=date(2030, 1, 1),
                settlement_account="6222000011112222",
            )
        )
        conn.execute(insert(orm.loans), book.loans)
        conn.execute(insert(orm.installments), book.instalments)


def close(engine: Engine, day: date, *, set_based: bool) -> EodCounts:
    """One day as ``eod._run_one_day`` runs it: suspense first, then the day's close."""
    with SqlAlchemyUnitOfWork(engine, None, b"k") as uow:
        uow.book.hold_day(exclusive=True)
        assert uow.book.start_day(day, NOW)
        for loan_id in uow.loans.with_suspense_due(day):
            eod.apply_suspense(uow, loan_id, day)
        counts = uow.book.close_day(day) if set_based else eod.close_day_by_domain(uow, day)
        uow.book.finish_day(counts)
        uow.commit()
    return counts


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables end of day writes, in key order."""
    with engine.connect() as conn:
        return {
            t.name: [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key.columns))]
            for t in TABLES
        }


def restructure_all(engine: Engine, on: date, plan: RestructurePlan) -> int:
    """Restructure every active loan of the book by ``plan`` on ``on`` (those it fits), as an
    approval does (``Loan.restructure``, then the repository): how many were restructured."""
    done = 0
    with SqlAlchemyUnitOfWork(engine, None, b"k") as uow:
        for loan in uow.loans.find(status=LoanStatus.ACTIVE):
            try:
                loan.restructure(plan, on, "property test")
            except NotRestructurable:
                continue
            uow.loans.save(loan)
            done += 1
        uow.commit()
    return done


def check_equal(
    set_based: Engine, by_domain: Engine, book: Book, plan: RestructurePlan | None = None
) -> None:
    """Fill both (restructuring every loan by ``plan`` on the first day, if given), close the
    days both ways, compare everything."""
    fill(set_based, book)
    fill(by_domain, book)
    if plan is not None:
        n = restructure_all(set_based, book.first_day, plan)
        assert restructure_all(by_domain, book.first_day, plan) == n
        event(f"restructured {min(n, 2)}+")
    for k in range(book.days):
        day = book.first_day + timedelta(days=k)
        assert close(set_based, day, set_based=True) == close(by_domain, day, set_based=False)
    left, right = dump(set_based), dump(by_domain)
    for table in left:
        assert left[table] == right[table], table


@settings(max_examples=25, deadline=None)
@given(book=books())
def test_set_based_end_of_day_equals_the_domain_on_sqlite(book: Book) -> None:
    """Two SQLite files, one closed by SQL, one loan by loan."""
    with tempfile.TemporaryDirectory() as tmp:
        a = make_engine(f"sqlite:///{Path(tmp) / 'sql.db'}")
        b = make_engine(f"sqlite:///{Path(tmp) / 'domain.db'}")
        try:
            check_equal(a, b, book)
        finally:
            a.dispose()
            b.dispose()


plans = st.builds(
    RestructurePlan,
    st.sampled_from(list(RestructureKind)),
    st.integers(1, 18),
    st.none(),
    st.sampled_from([None, *METHODS]),
)


@settings(max_examples=25, deadline=None)
@given(book=books(), plan=plans)
def test_set_based_end_of_day_equals_the_domain_after_a_restructuring(
    book: Book, plan: RestructurePlan
) -> None:
    """Every loan restructured on the first day (overdue ones included: DPD restarts from the
    new schedule), then closed both ways on SQLite: still equal to the fen."""
    with tempfile.TemporaryDirectory() as tmp:
        a = make_engine(f"sqlite:///{Path(tmp) / 'sql.db'}")
        b = make_engine(f"sqlite:///{Path(tmp) / 'domain.db'}")
        try:
            check_equal(a, b, book, plan)
        finally:
            a.dispose()
            b.dispose()


@pytest.fixture
def pg_pair() -> Iterator[tuple[Engine, Engine]]:
    """Two PostgreSQL databases (schemas rebuilt per example)."""
    if not pg_available():
        pytest.skip("PostgreSQL on 127.0.0.1:5432 is not reachable")
    urls = [make_pg_database(), make_pg_database()]
    engines = [make_engine(u) for u in urls]
    try:
        yield engines[0], engines[1]
    finally:
        for engine, url in zip(engines, urls, strict=True):
            engine.dispose()
            drop_pg_database(url)


@pytest.mark.integration
@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(book=books())
def test_set_based_end_of_day_equals_the_domain_on_postgresql(
    pg_pair: tuple[Engine, Engine], book: Book
) -> None:
    """The same on PostgreSQL (fewer examples: each rebuilds two schemas)."""
    check_equal(*pg_pair, book)


@pytest.mark.integration
@settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(book=books(), plan=plans)
def test_set_based_end_of_day_equals_the_domain_after_a_restructuring_on_postgresql(
    pg_pair: tuple[Engine, Engine], book: Book, plan: RestructurePlan
) -> None:
    """Restructured books on PostgreSQL."""
    check_equal(*pg_pair, book, plan)


def test_the_comparison_can_fail() -> None:
    """A book where the set-based path is tampered with (a posting's amount off by one fen in
    the domain database) is reported unequal: the check compares what it claims to."""
    book = Book(
        loans=[],
        instalments=[],
        first_day=date(2026, 3, 1),
        days=1,
    )
    sched = build_schedule(Money(1_200_000), Rate("0.06"), 12, date(2026, 1, 1), Method.ANNUITY)
    book.loans.append(
        {
            "id": 1, "application_id": 1, "line_id": 1, "disbursement_key": "k1", "uscc": USCC,
            "principal_fen": 1_200_000, "currency": "CNY", "annual_rate": "0.06",
            "penalty_uplift": "0.5", "method": "annuity", "start_date": date(2026, 1, 1),
            "status": "active", "outstanding_fen": 1_200_000, "rate_ppm": 60_000,
            "uplift_pct": 50, "disbursed_at": NOW,
        }
    )  # fmt: skip
    book.instalments.extend(
        {
            "loan_id": 1,
            "number": i.number,
            "due_on": i.due_on,
            "principal_fen": i.principal.minor,
            "interest_fen": i.interest.minor,
        }
        for i in sched.installments
    )
    with tempfile.TemporaryDirectory() as tmp:
        a = make_engine(f"sqlite:///{Path(tmp) / 'sql.db'}")
        b = make_engine(f"sqlite:///{Path(tmp) / 'domain.db'}")
        try:
            fill(a, book)
            fill(b, book)
            close(a, book.first_day, set_based=True)
            with b.begin() as conn:  # the "domain" side accrues one more fen of interest
                conn.execute(
                    orm.loans.update().values(
                        interest_recognised_fen=orm.loans.c.interest_recognised_fen - 1
                    )
                )
            close(b, book.first_day, set_based=False)
            left, right = dump(a), dump(b)
        finally:
            a.dispose()
            b.dispose()
    assert left["loan_days"] != right["loan_days"]
    assert [r[3] for r in left["postings"]] != [r[3] for r in right["postings"]]
    # ¥12,000 at 6 % from 2026-01-01: instalment 1 (due 2026-02-01, 31 nights) billed
    # 12,000.00 × 6 % / 12 = ¥60.00; on 2026-03-01 the new period's first night accrues on the
    # ¥11,000-odd principal not yet due (instalment 2 due that day is not paid).
    loan_day = left["loan_days"][0]
    first = sched.installments[0]
    second = sched.installments[1]
    assert first.interest.minor == 6_000
    assert second.due_on == date(2026, 3, 1)
    undue = 1_200_000 - first.principal.minor - second.principal.minor
    assert loan_day[2] == 28  # dpd: instalment 1 unpaid since 2026-02-01
    assert loan_day[8] == undue * 60_000 * 100 // 360  # interest_accrual_e8, one night
