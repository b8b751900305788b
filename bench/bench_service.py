"""Benchmark the lending service (the servicing core of issue 11).

1. End of day for N active loans (default 100,000; ¥100,000 over 12 monthly instalments at
   4.5 %, one in ten missed its first two instalments), each under a revolving credit line, with
   its original schedule and its disbursement entry, seeded with bulk INSERT … SELECT statements
   that pass the database's ledger guards. Timed on SQLite and PostgreSQL:
   * Loom: ``eod.run_eod`` for one day (day lock, suspense step, the set-based
     ``BookRepository.close_day``, the day's counts, the audit record, commit);
   * ``eod.close_day_by_domain`` (the same day loan by loan through the domain and the
     repositories) on a slice, scaled to N;
   * a hand-written loan-by-loan loop (the previous bench's, adapted to the new schema) on a
     slice, scaled to N;
   the slices run on the same day in transactions that are rolled back (PostgreSQL's deferred
   ledger checks are run before the clock stops), and their figures are compared with Loom's.
   Then a catch-up of 7 missed days in one request (each day committed).
2. Statement import on the book end of day leaves (the business date is the instalment's due
   date): a CSV written with ``write_statement`` with one credit per loan of the instalment due
   that day and 1 % unmatched lines (N lines in all: the loans of the line-by-line slice have no
   line in it). Loom = ``read_statement`` + ``payments.import_statement`` in one transaction
   (lines/s); the same file again must book nothing (the counts are printed); booking line by line
   (``servicing.book_receipt`` per line, one transaction each) on the slice's own file, scaled.
3. p50/p99 latency of creating an application over HTTP (uvicorn on loopback, the client in a
   second process) with the real decision engine (``EngineDecider``) on a small cluster built by
   ``loom demo --no-serve``, for 1 and 8 concurrent clients, against the figures recorded before.

Usage: python bench/bench_service.py [--quick] [--loans N] [--no-pg] [--eod-only | --api-only]
                                     [--api-pg] [--profile DIR]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Date,
    Engine,
    Integer,
    MetaData,
    Table,
    bindparam,
    func,
    insert,
    select,
    text,
    update,
)

from loomcredit.adapters import orm
from loomcredit.adapters.bank_files import read_statement, write_statement
from loomcredit.adapters.migrations import upgrade_database
from loomcredit.adapters.notice_policy_file import load_notice_policy
from loomcredit.adapters.repositories.loan_rows import STATE_COLUMNS, new_loan_row, state
from loomcredit.adapters.sqlalchemy_uow import SqlAlchemyUnitOfWork, make_engine
from loomcredit.domain.delinquency import bucket, floor_grade
from loomcredit.domain.end_of_day import (
    ACCRUAL_BASIS_DAYS,
    E8,
    NON_ACCRUAL_AFTER_DAYS,
    REMINDER_OFFSETS,
    accrual_entry_id,
)
from loomcredit.domain.loan import Loan, LoanRef
from loomcredit.domain.money import Money, Rate
from loomcredit.domain.payments import (
    LoanAccount,
    MatchOutcome,
    ReceiptSource,
    StatementLine,
    loan_reference,
    match_line,
)
from loomcredit.domain.schedule import Method, build_schedule
from loomcredit.service_layer import eod, payments, servicing
from loomcredit.service_layer.eod import ACCRUAL_DESCRIPTION
from loomcredit.service_layer.lines import DISBURSEMENT_DESCRIPTION
from loomcredit.service_layer.users import Role, User

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
START = date(2026, 1, 5)  # every loan is disbursed that day: instalments fall due on the 5th
EOD_DAY = date(2026, 3, 28)  # the day timed: the seeded book's first end of day
CATCH_UP = 7  # then 03-29 … 04-04 are caught up in one request (T-7/T-3/T-1 reminders among them)
PAY_DAY = EOD_DAY + timedelta(days=CATCH_UP + 1)  # the business date after: instalment 3 is due
NOW = datetime(2026, 4, 5, 9, tzinfo=UTC)
PRINCIPAL = Money(10_000_000)  # ¥100,000
RATE = "0.045"
UPLIFT = Decimal("0.5")
LATE_MOD = 5  # loans whose id ends in 5 (one in ten) missed instalments 1 and 2
OPS = User("bench-ops", Role.OPERATIONS)
NOTICES = load_notice_policy()  # end of day queues the day's notices (issue 13)
PII_KEY = b"bench-pii-key-bench-pii-key-0001"
AUDIT_KEY = b"bench-audit-key-bench-audit-key!"
EOD_TARGET_S = 60.0
IMPORT_TARGET = 5_000  # lines/s

UowFactory = Callable[[], SqlAlchemyUnitOfWork]


# -- the seeded book ----------------------------------------------------------------------------
def account_of(loan_id: int) -> str:
    """The settlement account of loan ``loan_id``'s line (16 digits; one line per loan)."""
    return f"6222{100_000_000_000 + loan_id}"


def uscc_of(loan_id: int) -> str:
    """The borrower's code (18 characters; a bench value, not checked by servicing)."""
    return f"9133060300{10_000_000 + loan_id}"


def _twins() -> tuple[Loan, Loan]:
    """One loan that paid on time and one that missed instalments 1 and 2, taken through the
    domain from disbursement to the night before the timed day (close_day every day, repaid on
    each due date before it closes): every seeded loan copies one of these two states."""
    sched = build_schedule(PRINCIPAL, Rate(RATE), 12, START, Method.ANNUITY)
    twins = []
    for pays in (True, False):
        loan = Loan.open(sched, LoanRef(1, 1, 1, uscc_of(1), "twin"), UPLIFT)
        day = START
        while day < EOD_DAY:
            if pays and any(i.due_on == day for i in loan.instalments):
                loan.repay(loan.amount_due(day), day)
            loan.close_day(day)
            day += timedelta(days=1)
        twins.append(loan)
    return twins[0], twins[1]


@dataclass(frozen=True)
class Book:
    """What was seeded."""

    loans: int
    late: int
    instalment: Money  # instalment 3 (due on PAY_DAY): what each borrower's credit pays
    seconds: float


def _is_late(col: str) -> str:
    """SQL: the loan is one of the late ones (no ``%``: psycopg would read it as a placeholder)."""
    return f"({col} - ({col} / 10) * 10 = {LATE_MOD})"


def _select_list(
    table: Table,
    per_row: dict[str, str],
    same: dict[str, Any],
    by_twin: dict[str, tuple[Any, Any]],
) -> tuple[str, str, list[Any]]:
    """Column list, SELECT list and bound parameters of an INSERT … SELECT from ``bench_n n``:
    ``per_row`` columns are SQL expressions of ``n.i``, ``same`` one value for every row,
    ``by_twin`` the on-time or the late twin's value."""
    cols, exprs, params = [], [], []
    for name, expr in per_row.items():
        cols.append(name)
        exprs.append(expr)
    for name, value in same.items():
        cols.append(name)
        exprs.append(f":s_{name}")
        params.append(bindparam(f"s_{name}", value, type_=table.c[name].type))
    for name, (on_time, late) in by_twin.items():
        cols.append(name)
        if on_time == late:
            exprs.append(f":t_{name}")
            params.append(bindparam(f"t_{name}", on_time, type_=table.c[name].type))
            continue
        exprs.append(f"CASE WHEN {_is_late('n.i')} THEN :l_{name} ELSE :o_{name} END")
        params.append(bindparam(f"l_{name}", late, type_=table.c[name].type))
        params.append(bindparam(f"o_{name}", on_time, type_=table.c[name].type))
    return ", ".join(cols), ", ".join(exprs), params


def _insert_select(conn: Connection, table: Table, **parts: Any) -> None:
    cols, exprs, params = _select_list(table, **parts)
    sql = f"INSERT INTO {table.name} ({cols}) SELECT {exprs} FROM bench_n n ORDER BY n.i"
    conn.execute(text(sql).bindparams(*params))


def seed(engine: Engine, n: int) -> Book:
    """N loans on N revolving lines of N accepted applications, their schedules as disbursed and
    as they stand, and one balanced disbursement entry each, in one transaction of bulk
    INSERT … SELECT statements (the ledger guards check every entry, as for any writer)."""
    t0 = time.perf_counter()
    on_time, late = _twins()
    pg = engine.dialect.name != "sqlite"
    cast = "CAST({} AS VARCHAR(20))"
    row_uscc = "'9133060300' || " + cast.format("10000000 + n.i")
    row_account = "'6222' || " + cast.format("100000000000 + n.i")
    created = datetime.combine(START, datetime.min.time(), tzinfo=UTC)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TEMPORARY TABLE bench_n (i INTEGER PRIMARY KEY)")
        if pg:
            conn.exec_driver_sql(f"INSERT INTO bench_n SELECT generate_series(1, {n})")
        else:
            conn.exec_driver_sql(
                "INSERT INTO bench_n (i) WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL "
                f"SELECT i + 1 FROM c WHERE i < {n}) SELECT i FROM c"
            )
        _insert_select(
            conn,
            orm.applications,
            per_row={"id": "n.i", "uscc": row_uscc, "settlement_account": row_account},
            same={
                "amount_fen": PRINCIPAL.minor,
                "approved_fen": PRINCIPAL.minor,
                "currency": "CNY",
                "term_months": 12,
                "method": "annuity",
                "status": "accepted",
                "band": "auto_approve",
                "annual_rate": RATE,
                "penalty_uplift": str(UPLIFT),
                "decision_json": "{}",
                "as_of": START,
                "created_by": "bench",
                "updated_by": "bench",
                "created_at": created,
                "updated_at": created,
            },
            by_twin={},
        )
        _insert_select(
            conn,
            orm.credit_lines,
            per_row={
                "id": "n.i",
                "application_id": "n.i",
                "uscc": row_uscc,
                "settlement_account": row_account,
            },
            same={
                "kind": "revolving",
                "limit_fen": PRINCIPAL.minor,
                "original_limit_fen": PRINCIPAL.minor,
                "reserved_fen": 0,
                "currency": "CNY",
                "status": "active",
                "reason": "",
                "opened_on": START,
                "expires_on": date(START.year + 1, START.month, START.day),
                "decision_id": "bench",
                "version": 0,
            },
            by_twin={"utilised_fen": (on_time.outstanding.minor, late.outstanding.minor)},
        )
        row = new_loan_row(on_time)
        twin_state = {  # NULL columns (never restructured) are left to their default
            k: v
            for k, v in zip(STATE_COLUMNS, zip(state(on_time), state(late), strict=True),
                            strict=True)
            if v != (None, None)
        }  # fmt: skip
        _insert_select(
            conn,
            orm.loans,
            per_row={
                "id": "n.i",
                "application_id": "n.i",
                "line_id": "n.i",
                "disbursement_key": "'bench-' || " + cast.format("n.i"),
                "uscc": row_uscc,
            },
            same={
                k: v
                for k, v in row.items()
                if k not in STATE_COLUMNS
                and k not in ("application_id", "line_id", "disbursement_key", "uscc")
            },
            by_twin=twin_state,
        )
        _seed_schedules(conn, on_time, late)
        _seed_disbursements(conn, on_time)
        conn.exec_driver_sql("DROP TABLE bench_n")
        if pg:  # explicit ids leave the serial sequences behind
            for table in ("applications", "credit_lines", "loans"):
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), MAX(id)) FROM {table}"
                )
    if pg:  # as autovacuum would have done on a book loaded over time
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    n_late = sum(1 for i in range(1, n + 1) if i % 10 == LATE_MOD)
    due = on_time.instalments[2]
    return Book(n, n_late, due.principal + due.interest, time.perf_counter() - t0)


def _seed_schedules(conn: Connection, on_time: Loan, late: Loan) -> None:
    """Each loan's 12 instalments (paid as its twin paid) and its original schedule."""
    meta = MetaData()
    t = Table(
        "bench_sched",
        meta,
        Column("number", Integer, primary_key=True),
        Column("due_on", Date),
        *(
            Column(c, BigInteger)
            for c in ("principal_fen", "interest_fen", "pp_ok", "ip_ok", "pp_late", "ip_late")
        ),
        prefixes=["TEMPORARY"],
    )
    t.create(conn)
    conn.execute(
        insert(t),
        [
            {
                "number": a.number,
                "due_on": a.due_on,
                "principal_fen": a.principal.minor,
                "interest_fen": a.interest.minor,
                "pp_ok": a.principal_paid.minor,
                "ip_ok": a.interest_paid.minor,
                "pp_late": b.principal_paid.minor,
                "ip_late": b.interest_paid.minor,
            }
            for a, b in zip(on_time.instalments, late.instalments, strict=True)
        ],
    )
    late_row = _is_late("n.i")
    conn.exec_driver_sql(
        f"""
        INSERT INTO installments (loan_id, number, due_on, principal_fen, interest_fen,
                                  principal_paid_fen, interest_paid_fen)
        SELECT n.i, t.number, t.due_on, t.principal_fen, t.interest_fen,
               CASE WHEN {late_row} THEN t.pp_late ELSE t.pp_ok END,
               CASE WHEN {late_row} THEN t.ip_late ELSE t.ip_ok END
        FROM bench_n n CROSS JOIN bench_sched t ORDER BY n.i, t.number
        """
    )
    conn.exec_driver_sql(
        """
        INSERT INTO original_installments (loan_id, number, due_on, principal_fen, interest_fen)
        SELECT n.i, t.number, t.due_on, t.principal_fen, t.interest_fen
        FROM bench_n n CROSS JOIN bench_sched t ORDER BY n.i, t.number
        """
    )
    t.drop(conn)


def _seed_disbursements(conn: Connection, loan: Loan) -> None:
    """``disb-<id>``: Dr 贷款本金 / Cr 结算 for every loan, as ``lines.disburse_drawdown`` posts."""
    entry = "('disb-' || CAST(n.i AS VARCHAR(20)))"
    conn.execute(
        text(
            f"""
            INSERT INTO journal_entries (id, loan_id, booked_on, value_date, description,
                                         n_postings)
            SELECT {entry}, n.i, :d, :d, :desc, :n FROM bench_n n ORDER BY n.i
            """
        ).bindparams(bindparam("d", START, type_=Date)),
        {"desc": DISBURSEMENT_DESCRIPTION, "n": len(loan.disbursement_legs())},
    )
    legs = " UNION ALL ".join(
        f"SELECT {k} AS k, '{account.name}' AS account, {amount.minor} AS amount"
        for k, (account, amount) in enumerate(loan.disbursement_legs())
    )
    conn.exec_driver_sql(
        f"""
        INSERT INTO postings (entry_id, account, amount_fen, currency)
        SELECT {entry}, legs.account, legs.amount, 'CNY'
        FROM bench_n n CROSS JOIN ({legs}) legs ORDER BY n.i, legs.k
        """
    )


# -- end of day ---------------------------------------------------------------------------------
class _FirstLoans:
    """The loan repository with ``active_ids`` cut to the first ``k`` (runs the domain loop of
    ``close_day_by_domain`` on a slice of the book)."""

    def __init__(self, repo: Any, k: int) -> None:
        self._repo, self._k = repo, k

    def active_ids(self) -> list[int]:
        return list(self._repo.active_ids()[: self._k])

    def __getattr__(self, name: str) -> Any:
        return getattr(self._repo, name)


def _deferred_checks(conn: Connection) -> None:
    """PostgreSQL: run the deferred ledger checks now (they would run at COMMIT); SQLite's run
    as each posting is inserted."""
    if conn.dialect.name != "sqlite":
        conn.exec_driver_sql("SET CONSTRAINTS ALL IMMEDIATE")


def _half_up(e8: int) -> int:
    return (e8 + E8 // 2) // E8


def naive_eod(conn: Connection, as_of: date, ids: Sequence[int]) -> int:
    """What a user would write: loop over loans, read each loan and its instalments, compute,
    record the day, update the loan, post its accrual entry, queue its reminders."""
    lt, it, dt = orm.loans, orm.installments, orm.loan_days
    for loan_id in ids:
        loan = conn.execute(select(lt).where(lt.c.id == loan_id)).mappings().one()
        insts = conn.execute(select(it).where(it.c.loan_id == loan_id)).mappings().all()
        unpaid = [
            i
            for i in insts
            if i["due_on"] < as_of
            and (
                i["principal_paid_fen"] < i["principal_fen"]
                or i["interest_paid_fen"] < i["interest_fen"]
            )
        ]
        dpd = (as_of - min(i["due_on"] for i in unpaid)).days if unpaid else 0
        op = sum(i["principal_fen"] - i["principal_paid_fen"] for i in unpaid)
        oi = sum(i["interest_fen"] - i["interest_paid_fen"] for i in unpaid)
        ppm, pct = loan["rate_ppm"], loan["uplift_pct"]
        pen = (op + oi) * ppm * (100 + pct) // ACCRUAL_BASIS_DAYS
        due = [i for i in insts if i["due_on"] <= as_of]
        due_today = any(i["due_on"] == as_of for i in due)
        not_due = loan["outstanding_fen"] - sum(
            i["principal_fen"] - i["principal_paid_fen"] for i in due
        )
        acc = not_due * ppm * 100 // ACCRUAL_BASIS_DAYS
        period = acc if due_today else loan["accrued_interest_e8"] + acc
        non_accrual = dpd > NON_ACCRUAL_AFTER_DAYS
        if non_accrual:  # unpaid income reversed, nothing new recognised
            interest = loan["interest_received_fen"] - loan["interest_recognised_fen"]
            penalty = loan["penalty_paid_fen"] - loan["penalty_recognised_fen"]
        else:
            billed = sum(i["interest_fen"] for i in due)
            interest = billed + _half_up(period) - loan["interest_recognised_fen"]
            penalty = _half_up(loan["accrued_penalty_e8"] + pen) - loan["penalty_recognised_fen"]
        grade = int(floor_grade(dpd))
        conn.execute(
            insert(dt).values(
                loan_id=loan_id,
                as_of=as_of,
                dpd=dpd,
                bucket=bucket(dpd).name,
                grade=grade,
                overdue_principal_fen=op,
                overdue_interest_fen=oi,
                penalty_accrual_e8=pen,
                interest_accrual_e8=acc,
                interest_fen=interest,
                penalty_fen=penalty,
                due_today=due_today,
                non_accrual=non_accrual,
                non_accrual_after=NON_ACCRUAL_AFTER_DAYS,
            )
        )
        conn.execute(
            update(lt)
            .where(lt.c.id == loan_id)
            .values(
                dpd=dpd,
                bucket=bucket(dpd).name,
                grade=max(grade, loan["grade"]),
                accrued_penalty_e8=loan["accrued_penalty_e8"] + pen,
                accrued_interest_e8=period,
                interest_recognised_fen=loan["interest_recognised_fen"] + interest,
                penalty_recognised_fen=loan["penalty_recognised_fen"] + penalty,
                version=loan["version"] + 1,
            )
        )
        if interest or penalty:
            entry = accrual_entry_id(loan_id, as_of)
            conn.execute(
                insert(orm.journal_entries).values(
                    id=entry,
                    loan_id=loan_id,
                    booked_on=as_of,
                    value_date=as_of,
                    description=ACCRUAL_DESCRIPTION,
                    n_postings=2 * (bool(interest) + bool(penalty)),
                )
            )
            legs = [
                ("INTEREST_RECEIVABLE", interest),
                ("INTEREST_INCOME", -interest),
                ("PENALTY_RECEIVABLE", penalty),
                ("PENALTY_INCOME", -penalty),
            ]
            conn.execute(
                insert(orm.postings),
                [
                    {"entry_id": entry, "account": a, "amount_fen": f, "currency": loan["currency"]}
                    for a, f in legs
                    if f
                ],
            )
        for kind, days in REMINDER_OFFSETS:
            for i in insts:
                settled = (
                    i["principal_paid_fen"] >= i["principal_fen"]
                    and i["interest_paid_fen"] >= i["interest_fen"]
                )
                if i["due_on"] == as_of + timedelta(days=days) and not settled:
                    conn.execute(
                        insert(orm.outbox).values(
                            loan_id=loan_id,
                            installment=i["number"],
                            kind=kind,
                            due_on=i["due_on"],
                            created_for=as_of,
                        )
                    )
    return len(ids)


def _figures(conn: Connection, day: date, ids: Sequence[int]) -> dict[int, tuple[Any, ...]]:
    """Per loan: its ``loan_days`` row, the loan's accrual state after, its accrual postings."""
    d, lt, je, po = orm.loan_days, orm.loans, orm.journal_entries, orm.postings
    rows = conn.execute(
        select(
            d.c.loan_id,
            d.c.dpd,
            d.c.bucket,
            d.c.grade,
            d.c.overdue_principal_fen,
            d.c.overdue_interest_fen,
            d.c.penalty_accrual_e8,
            d.c.interest_accrual_e8,
            d.c.interest_fen,
            d.c.penalty_fen,
            d.c.due_today,
            d.c.non_accrual,
            lt.c.grade,
            lt.c.accrued_interest_e8,
            lt.c.accrued_penalty_e8,
            lt.c.interest_recognised_fen,
            lt.c.penalty_recognised_fen,
        )
        .join(lt, lt.c.id == d.c.loan_id)
        .where(d.c.as_of == day, d.c.loan_id.in_(list(ids)))
    ).all()
    legs: dict[int, list[tuple[str, int]]] = {}
    for loan_id, account, amount in conn.execute(
        select(je.c.loan_id, po.c.account, po.c.amount_fen)
        .join(je, je.c.id == po.c.entry_id)
        .where(
            je.c.booked_on == day,
            je.c.description == ACCRUAL_DESCRIPTION,
            je.c.loan_id.in_(list(ids)),
        )
        .order_by(po.c.id)
    ):
        legs.setdefault(loan_id, []).append((account, int(amount)))
    return {
        r[0]: (*(int(v) if isinstance(v, bool) else v for v in r[1:]), tuple(legs.get(r[0], ())))
        for r in rows
    }


@contextmanager
def _profiled(profile_dir: Path | None, name: str) -> Iterator[None]:
    """cProfile the block into ``profile_dir/name.prof`` when asked (the timing then includes
    the profiler's overhead)."""
    if profile_dir is None:
        yield
        return
    prof = cProfile.Profile()
    prof.enable()
    try:
        yield
    finally:
        prof.disable()
        profile_dir.mkdir(parents=True, exist_ok=True)
        prof.dump_stats(str(profile_dir / f"{name}.prof"))


#: Seconds each end of day spent in ``collections.update_cases`` (the case step, timed apart).
CASE_SECONDS: list[float] = []
_update_cases = eod.update_cases


def _timed_update_cases(*args: Any, **kwargs: Any) -> Any:
    t0 = time.perf_counter()
    out = _update_cases(*args, **kwargs)
    CASE_SECONDS.append(time.perf_counter() - t0)
    return out


eod.update_cases = _timed_update_cases  # type: ignore[assignment]


def bench_eod(engine: Engine, make_uow: UowFactory, label: str, book: Book, k: int,
              profile: Path | None) -> None:  # fmt: skip
    """The domain loop and the hand-written loop on the first ``k`` loans (rolled back), then
    Loom's end of day for the whole book, then the catch-up."""
    n = book.loans
    ids = list(range(1, k + 1))
    with make_uow() as uow:
        uow.loans = _FirstLoans(uow.loans, k)  # type: ignore[assignment]
        t0 = time.perf_counter()
        dom_counts = eod.close_day_by_domain(uow, EOD_DAY)
        _deferred_checks(uow.conn)
        domain = time.perf_counter() - t0
        dom_rows = _figures(uow.conn, EOD_DAY, ids)
        uow.rollback()
    with engine.connect() as conn:
        tx = conn.begin()
        t0 = time.perf_counter()
        naive_eod(conn, EOD_DAY, ids)
        _deferred_checks(conn)
        naive = time.perf_counter() - t0
        naive_rows = _figures(conn, EOD_DAY, ids)
        tx.rollback()
    CASE_SECONDS.clear()
    with make_uow() as uow, _profiled(profile, f"eod-{label}"):
        t0 = time.perf_counter()
        run = eod.run_eod(uow, OPS, EOD_DAY, now=NOW, notices=NOTICES)
        loom = time.perf_counter() - t0
    first_cases = sum(CASE_SECONDS)
    counts = run.counts
    assert counts is not None  # the day had not run
    with engine.connect() as conn:
        loom_rows = _figures(conn, EOD_DAY, ids)
        late = conn.execute(
            select(func.count()).select_from(orm.loans).where(orm.loans.c.dpd > 0)
        ).scalar_one()
    same_dom = sum(1 for i in ids if dom_rows.get(i) == loom_rows.get(i))
    same_naive = sum(1 for i in ids if naive_rows.get(i) == loom_rows.get(i))
    with make_uow() as uow:
        t0 = time.perf_counter()
        caught = eod.run_eod(uow, OPS, EOD_DAY + timedelta(days=CATCH_UP), now=NOW,
                             notices=NOTICES)
        catch_up = time.perf_counter() - t0
    moved_cases = CASE_SECONDS[1:]
    with engine.connect() as conn:
        reminders = conn.execute(select(func.count()).select_from(orm.outbox)).scalar_one()
        notices = conn.execute(select(func.count()).select_from(orm.notices)).scalar_one()

        cases = conn.execute(
            select(func.count()).select_from(orm.collection_cases)
            .where(orm.collection_cases.c.status == "open")
        ).scalar_one()  # fmt: skip
    dom_scaled, naive_scaled = domain / k * n, naive / k * n
    worst_day = max(loom, catch_up / max(1, caught.days_run))
    print(
        f"{label:10s} EOD {n:,} loans ({book.late:,} with instalments 1–2 unpaid; seeded in "
        f"{book.seconds:.1f} s), {EOD_DAY}:\n"
        f"  Loom eod.run_eod, one day (set-based close_day): {loom:.2f} s, of which opening the "
        f"collection cases {first_cases:.2f} s — "
        f"{counts.loans:,} loan-days, {late:,} in arrears, {counts.accrual_entries:,} accrual "
        f"entries\n"
        f"  close_day_by_domain ≈ {dom_scaled:.1f} s (timed {domain:.2f} s on {k:,}: "
        f"{dom_counts.loans:,} loan-days, {dom_counts.accrual_entries:,} entries) → "
        f"{dom_scaled / loom:.1f}x Loom; same figures as Loom: {same_dom:,}/{k:,} loans\n"
        f"  hand-written loop ≈ {naive_scaled:.1f} s (timed {naive:.2f} s on {k:,}) → "
        f"{naive_scaled / loom:.1f}x Loom; same figures as Loom: {same_naive:,}/{k:,} loans\n"
        f"  catch-up of {caught.days_run} missed days in one request: {catch_up:.1f} s "
        f"({catch_up / max(1, caught.days_run):.2f} s a day, each committed; {reminders:,} "
        f"reminders queued; {notices:,} notice deliveries queued in all, policy "
        f"{NOTICES.version}; {cases:,} collection cases open, updated every day in "
        f"{min(moved_cases, default=0):.2f}–{max(moved_cases, default=0):.2f} s)\n"
        f"  target ≤ {EOD_TARGET_S:.0f} s a day for {n:,} loans: "
        f"{'met' if worst_day <= EOD_TARGET_S * n / 100_000 else 'MISSED'} "
        f"(slowest day {worst_day:.2f} s)",
        flush=True,
    )


# -- statement import ---------------------------------------------------------------------------
def statement_lines(book: Book, first: int) -> list[StatementLine]:
    """One credit per loan ``first``..N of the instalment due on PAY_DAY, its reference in the
    memo, and one unmatched credit (an account nobody has) after every 99 (1 % of N)."""
    out: list[StatementLine] = []
    unmatched = 0
    for loan_id in range(first, book.loans + 1):
        out.append(_credit(loan_id, book.instalment))
        if len(out) % 99 == 0 and unmatched < book.loans // 100:
            unmatched += 1
            out.append(_unmatched(unmatched))
    while unmatched < book.loans // 100:
        unmatched += 1
        out.append(_unmatched(unmatched))
    return out


def _credit(loan_id: int, amount: Money) -> StatementLine:
    return StatementLine(
        f"BK{PAY_DAY:%Y%m%d}{loan_id:08d}",
        PAY_DAY,
        account_of(loan_id),
        f"绍兴柯桥纺织{loan_id}有限公司",
        amount,
        f"还款 {loan_reference(loan_id)}",
    )


def _unmatched(j: int) -> StatementLine:
    return StatementLine(
        f"BX{PAY_DAY:%Y%m%d}{j:08d}",
        PAY_DAY,
        f"9999{j:012d}",
        "不明来款",
        Money(12_345 + j),
        "货款",
    )


def _import(make_uow: UowFactory, path: Path) -> tuple[payments.ImportResult, float, float]:
    """``read_statement`` + ``import_statement`` + commit: the result, read and total seconds."""
    t0 = time.perf_counter()
    stmt = read_statement(path)
    read = time.perf_counter() - t0
    with make_uow() as uow:
        out = payments.import_statement(
            uow, OPS, stmt.lines, file_name=stmt.file_name, sha256=stmt.sha256, now=NOW
        )
        uow.commit()
    return out, read, time.perf_counter() - t0


def book_line_by_line(make_uow: UowFactory, path: Path) -> tuple[int, int, float]:
    """What a user would write: read the file, then per line one transaction — the business
    date under the day lock, skip a reference booked before, find the loan by the payer's
    account, match, ``book_receipt``, commit. Lines, booked, seconds."""
    c, lt = orm.credit_lines, orm.loans
    t0 = time.perf_counter()
    lines = read_statement(path).lines
    booked = 0
    for line in lines:
        with make_uow() as uow:
            on = eod.money_day(uow, NOW)
            if uow.receipts.by_bank_ref(line.bank_ref) is not None:
                continue
            found = uow.conn.execute(
                select(lt.c.id, lt.c.status)
                .join(c, c.c.id == lt.c.line_id)
                .where(c.c.settlement_account == line.account)
            ).all()
            accounts = {
                line.account: [LoanAccount(i, s == "active", line.account) for i, s in found]
            }
            m = match_line(line, business_date=on, loans_by_account=accounts)
            if m.outcome is not MatchOutcome.MATCHED or m.loan_id is None:
                continue
            loan = uow.loans.get(m.loan_id, lock=True)
            assert loan is not None
            servicing.book_receipt(
                uow,
                loan,
                line.amount,
                bank_ref=line.bank_ref,
                source=ReceiptSource.STATEMENT,
                booked_on=on,
            )
            uow.commit()
            booked += 1
    return len(lines), booked, time.perf_counter() - t0


def bench_import(engine: Engine, make_uow: UowFactory, label: str, book: Book, k: int,
                 tmp: Path, profile: Path | None) -> None:  # fmt: skip
    """Loom's import of the whole statement, the same file again, and line by line on the
    slice's loans (which the statement leaves out)."""
    path = tmp / f"statement-{label}.csv"
    lines = statement_lines(book, k + 1)
    write_statement(path, lines)
    credits = sum(1 for ln in lines if ln.bank_ref.startswith("BK"))
    with _profiled(profile, f"import-{label}"):
        out, read, total = _import(make_uow, path)
    s = out.summary
    rate = s.lines / total
    again, _, total2 = _import(make_uow, path)
    a = again.summary
    slice_path = tmp / f"slice-{label}.csv"
    write_statement(slice_path, [_credit(i, book.instalment) for i in range(1, k + 1)])
    n_slice, booked_slice, by_line = book_line_by_line(make_uow, slice_path)
    line_rate = n_slice / by_line
    with engine.connect() as conn:
        off = conn.execute(
            select(func.count()).select_from(
                select(orm.postings.c.entry_id)
                .group_by(orm.postings.c.entry_id, orm.postings.c.currency)
                .having(func.sum(orm.postings.c.amount_fen) != 0)
                .subquery()
            )
        ).scalar_one()
    print(
        f"{label:10s} statement import, {s.lines:,} lines ({credits:,} credits of the instalment "
        f"due {PAY_DAY}, {s.lines - credits:,} from unknown accounts), "
        f"{path.stat().st_size / 2**20:.1f} MiB CSV:\n"
        f"  Loom read_statement + import_statement, one transaction: {total:.1f} s "
        f"(read {read:.1f} s) = {rate:,.0f} lines/s (target ≥ {IMPORT_TARGET:,}: "
        f"{'met' if rate >= IMPORT_TARGET else 'MISSED'}); booked {s.booked:,} "
        f"({out.booked_total.format()}), unmatched {s.unmatched:,}, duplicates {s.duplicates:,}; "
        f"reconciliation balanced: {out.reconciliation.balanced}\n"
        f"  same file again: booked {a.booked:,}, unmatched {a.unmatched:,}, duplicates "
        f"{a.duplicates:,} ({total2:.1f} s){'' if a.booked == 0 else '  <-- BOOKED TWICE'}\n"
        f"  line by line (book_receipt, one transaction each) ≈ {s.lines / line_rate:.1f} s for "
        f"{s.lines:,} lines (timed {by_line:.1f} s on {n_slice:,}, {booked_slice:,} booked: "
        f"{line_rate:,.0f} lines/s) → Loom {rate / line_rate:.1f}x\n"
        f"  entries that do not balance: {off}",
        flush=True,
    )


def bench_book(url: str, label: str, n: int, quick: bool, tmp: Path, profile: Path | None,
               do_import: bool) -> None:  # fmt: skip
    """Migrate, seed, end of day, statement import."""
    upgrade_database(url)
    engine = make_engine(url)
    try:
        book = seed(engine, n)

        def make_uow() -> SqlAlchemyUnitOfWork:
            return SqlAlchemyUnitOfWork(engine, PII_KEY, AUDIT_KEY)

        bench_eod(engine, make_uow, label, book, min(n, 500 if quick else 5_000), profile)
        if do_import:
            bench_import(engine, make_uow, label, book, max(1, n // 100), tmp, profile)
    finally:
        engine.dispose()


@contextmanager
def pg_database(prefix: str) -> Iterator[str]:
    """A fresh PostgreSQL database for the run, dropped afterwards."""
    import psycopg

    name = f"{prefix}_{os.getpid()}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- HTTP: application latency ------------------------------------------------------------------
def free_port() -> int:
    """An unused loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


SERVER = """
import sys, uvicorn
from loomcredit.adapters.security import hash_password
from loomcredit.bootstrap.service import build_service
from loomcredit.config import Settings
from loomcredit.entrypoints.api.app import create_app
from loomcredit.service_layer.user_admin import create_user
svc = build_service(Settings(home=sys.argv[1]), secret="bench-secret-bench-secret-bench!")
print("decider:", type(svc.decider).__name__, flush=True)
with svc.uow() as uow:
    if uow.users.get("bench_off") is None:
        create_user(uow, actor="cli:bench", name="bench_off", role="officer",
                    password_hash=hash_password("bench-pass-1"), enterprise=None, now=svc.clock())
    uow.commit()
uvicorn.run(create_app(service=svc), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""

#: Enterprises and months of the cluster the decision engine is trained on for the API bench.
ENGINE_CLUSTER = ("300", "24")

CLIENT = """
import json, sys, time, random, statistics
from concurrent.futures import ThreadPoolExecutor
import httpx
base, n_apps, workers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
cluster = sys.argv[4].split(",")
rng = random.Random(5)
with httpx.Client(base_url=base, timeout=60) as c:
    cred = {"username": "bench_off", "password": "bench-pass-1"}
    tok = c.post("/api/v1/auth/token", json=cred).json()["access_token"]
h = {"Authorization": f"Bearer {tok}"}
usccs = [rng.choice(cluster) for _ in range(n_apps)]
def create(u):
    with httpx.Client(base_url=base, timeout=60) as c:
        t = time.perf_counter()
        body = {"uscc": u, "amount": {"amount": "200000.00", "currency": "CNY"}, "term_months": 12}
        r = c.post("/api/v1/applications", headers=h, json=body)
        assert r.status_code == 201, r.text
        return time.perf_counter() - t, r.json().get("status", "")
first = create(usccs[0])[0]  # warm-up: the service loads the model and the feature zone once
t0 = time.perf_counter()
with ThreadPoolExecutor(workers) as pool:
    done = list(pool.map(create, usccs))
wall = time.perf_counter() - t0
lat = sorted(d for d, _ in done)
statuses = {}
for _, s in done:
    statuses[s] = statuses.get(s, 0) + 1
p99 = lat[int(0.99 * (len(lat) - 1))]
print(json.dumps({"first": first, "p50": statistics.median(lat), "p99": p99,
                  "rate": len(lat) / wall, "statuses": statuses}))
"""

#: Recorded in docs/benchmarks.md (2026-11-29, decision engine, 300 × 24 cluster):
#: (database, clients) -> (p50 ms, p99 ms, requests/s) as ranges (low, high) over the runs.
Span = tuple[float, float]
API_BEFORE: dict[tuple[str, int], tuple[Span, Span, Span]] = {
    ("SQLite", 1): ((22.8, 22.8), (54.5, 54.5), (20, 20)),
    ("SQLite", 8): ((152.5, 152.5), (300.5, 300.5), (38, 38)),
    ("PostgreSQL", 1): ((24.9, 30.3), (55.5, 70.2), (16, 20)),
    ("PostgreSQL", 8): ((143.7, 199.7), (318.0, 413.0), (29, 38)),
}  # fmt: skip


def _span(lo: float, hi: float, fmt: str = ".1f") -> str:
    return f"{lo:{fmt}}" if lo == hi else f"{lo:{fmt}}–{hi:{fmt}}"


def bench_api(quick: bool, db_url: str | None = None) -> None:
    """Start uvicorn on loopback with the real decision engine; drive it from a second process.

    A small cluster is simulated, ingested, profiled and a model trained by ``loom demo
    --no-serve`` first (which also leaves a book whose business date is the day after its last
    end of day); the applications come from that cluster's enterprises. ``db_url`` runs the
    service on that (empty) PostgreSQL database instead, after one end of day on the demo
    book's last date so applications are decided as of the same business date.
    """
    home = Path(tempfile.mkdtemp(prefix="loom-bench-api-"))
    port = free_port()
    env = dict(os.environ)
    env.pop("LOOM_DATABASE_URL", None)
    t0 = time.perf_counter()
    firms, months = ENGINE_CLUSTER
    subprocess.run(
        [
            str(Path(sys.executable).with_name("loom")),
            "demo",
            "--enterprises",
            firms,
            "--months",
            months,
            "--no-serve",
        ],
        env={**env, "LOOM_HOME": str(home)},
        check=True,
        capture_output=True,
    )
    import duckdb

    snapshot = sorted((home / "lake" / "features" / "snapshots").glob("as_of=*"))[-1]
    cluster = [
        r[0]
        for r in duckdb.sql(f"SELECT uscc FROM read_parquet('{snapshot}/*.parquet')").fetchall()
    ]
    import sqlite3

    with sqlite3.connect(home / "loom.db") as demo_db:
        last = date.fromisoformat(demo_db.execute("SELECT MAX(as_of) FROM eod_runs").fetchone()[0])
    db = "PostgreSQL" if db_url else "SQLite"
    print(
        f"(engine: {firms} × {months} cluster built in {time.perf_counter() - t0:.0f} s; "
        f"{len(cluster)} firms in the {snapshot.name} snapshot; business date "
        f"{last + timedelta(days=1)})"
    )
    if db_url:
        from loomcredit.bootstrap.service import build_service
        from loomcredit.config import Settings

        svc = build_service(Settings(home=home), url=db_url)
        with svc.uow() as uow:
            evening = datetime(last.year, last.month, last.day, 20, tzinfo=UTC)
            eod.run_eod(uow, User("cli:bench", Role.OPERATIONS), last, now=evening)
        svc.engine.dispose()
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(home), str(port)],
        env={**env, "LOOM_DATABASE_URL": db_url} if db_url else env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                if httpx.get(base + "/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        runs = ((50, 1), (100, 4)) if quick else ((300, 1), (1000, 8))
        for n_apps, workers in runs:
            out = subprocess.run(
                [sys.executable, "-c", CLIENT, base, str(n_apps), str(workers), ",".join(cluster)],
                capture_output=True,
                text=True,
                check=True,
            )
            res = json.loads(out.stdout.strip().splitlines()[-1])
            p50, p99 = res["p50"] * 1000, res["p99"] * 1000
            line = (
                f"API create application (decision engine, {db}), {n_apps} from a 2nd process, "
                f"{workers} concurrent: p50 {p50:.1f} ms, p99 {p99:.1f} ms, {res['rate']:.0f}/s "
                f"(after one warm-up request of {res['first'] * 1000:.0f} ms; outcomes "
                f"{res['statuses']})"
            )
            before = API_BEFORE.get((db, workers))
            if before:
                (b50, c50), (b99, c99), (br, cr) = before
                line += (
                    f"\n  before (docs/benchmarks.md, 2026-11-29): p50 {_span(b50, c50)} ms, "
                    f"p99 {_span(b99, c99)} ms, {_span(br, cr, '.0f')}/s → after/before p50 "
                    f"{p50 / ((b50 + c50) / 2):.2f}x, p99 {p99 / ((b99 + c99) / 2):.2f}x"
                )
            print(line, flush=True)
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    """Parse options and run."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes")
    ap.add_argument(
        "--loans", type=int, default=None, help="loans in the book (default 100000; quick 5000)"
    )
    ap.add_argument("--no-pg", action="store_true", help="skip PostgreSQL")
    ap.add_argument(
        "--eod-only",
        action="store_true",
        help="only the book benchmarks (end of day, then the statement import), no API",
    )
    ap.add_argument("--no-import", action="store_true", help="end of day without the import")
    ap.add_argument("--api-only", action="store_true", help="only the API benchmark")
    ap.add_argument("--api-pg", action="store_true", help="also run the API on PostgreSQL")
    ap.add_argument(
        "--profile", type=Path, default=None, help="write cProfile files of the timed EOD day "
        "and import into this folder (times then include the profiler)"
    )  # fmt: skip
    args = ap.parse_args()
    print(f"(load average {os.getloadavg()[0]:.1f} at start, {os.cpu_count()} cores)", flush=True)
    if not args.api_only:
        n = args.loans or (5_000 if args.quick else 100_000)
        with tempfile.TemporaryDirectory() as tmp:
            bench_book(
                f"sqlite:///{Path(tmp) / 'book.db'}", "SQLite", n, args.quick, Path(tmp),
                args.profile, not args.no_import,
            )  # fmt: skip
            if not args.no_pg:
                with pg_database("loom_bench") as url:
                    bench_book(url, "PostgreSQL", n, args.quick, Path(tmp), args.profile,
                               not args.no_import)  # fmt: skip
    if not args.eod_only:
        bench_api(args.quick)
        if args.api_pg:
            with pg_database("loom_bench_api") as url:
                bench_api(args.quick, db_url=url)
    print(f"(load average {os.getloadavg()[0]:.1f} at the end)", flush=True)


if __name__ == "__main__":
    main()
