"""Set-based SQL for end of day, portable between SQLite and PostgreSQL.

Normal interest accrues daily on principal not yet due at the contract rate, ACT/360
(DOMAIN.md §8), and is recognised as income against the interest receivable (应收利息); on a
due date the recognised total is trued up to the instalment's contractual interest. Beyond
90 days past due a loan is non-accrual: income recognised but unpaid is reversed, and accrual
goes on off the books (in the loan's accrued fields) until the loan is paid or cured.

DPD counts from the earliest unpaid instalment due before the day; buckets and the grade floor are
the domain's (``loomcredit.domain.delinquency``) written as SQL CASE expressions from its
constants, and the floor only ever pushes a grade down (``apply_floor``). Penalty on
overdue principal and compound interest on overdue interest both accrue at the penalty rate
(contract rate × (1 + uplift)), ACT/360, in exact integers of 1e-8 fen, truncated once per day.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Connection, text

from loomcredit.domain.delinquency import (
    BUCKET_DAYS,
    DOUBTFUL_AFTER_DAYS,
    LOSS_AFTER_DAYS,
    SUBSTANDARD_AFTER_DAYS,
    Bucket,
    Grade,
)
from loomcredit.domain.ledger import Account

REMINDERS = (("T-7", 7), ("T-3", 3), ("T-1", 1))


def bucket_case(col: str = "dpd") -> str:
    """SQL CASE giving :func:`loomcredit.domain.delinquency.bucket` (M0…M7) of a DPD column."""
    arms = " ".join(
        f"WHEN {col} <= {k * BUCKET_DAYS} THEN 'M{k}'" for k in range(1, Bucket.M7.value)
    )
    return f"CASE WHEN {col} <= 0 THEN 'M0' {arms} ELSE 'M7' END"


def floor_case(col: str = "dpd") -> str:
    """SQL CASE giving :func:`loomcredit.domain.delinquency.floor_grade` of a DPD column (no
    technical-delay, misuse or refinancing flags are recorded on loans yet)."""
    return (
        f"CASE WHEN {col} > {LOSS_AFTER_DAYS} THEN {int(Grade.LOSS)} "
        f"WHEN {col} > {DOUBTFUL_AFTER_DAYS} THEN {int(Grade.DOUBTFUL)} "
        f"WHEN {col} > {SUBSTANDARD_AFTER_DAYS} THEN {int(Grade.SUBSTANDARD)} "
        f"WHEN {col} > 0 THEN {int(Grade.SPECIAL_MENTION)} ELSE {int(Grade.NORMAL)} END"
    )


_BUCKET = bucket_case()
_FLOOR = floor_case()


def _days(dialect: str) -> str:
    if dialect == "sqlite":
        return "CAST(julianday(:d) - julianday(o.first_unpaid) AS INTEGER)"
    return "(CAST(:d AS DATE) - o.first_unpaid)"


NON_ACCRUAL_AFTER_DAYS = SUBSTANDARD_AFTER_DAYS
"""Past this many days overdue (the 次级 floor) interest and penalty still accrue on the loan, but
no longer as income: what was recognised and not received is reversed out of income and the rest
is income only when it is paid (非应计: 表外核算)."""

_E8 = 100_000_000
_HALF = _E8 // 2


def _fen(e8: str) -> str:
    """SQL rounding a non-negative 1e-8-fen column half up to whole fen (integer division)."""
    return f"(({e8}) + {_HALF}) / {_E8}"


def eod_sql(conn: Connection, as_of: date) -> dict[str, int]:
    """Run the set-based steps for one date inside the caller's transaction.

    1. One ``loan_days`` row per active loan: DPD, bucket, grade floor, the day's penalty and
       compound accrual on what is overdue, the day's normal accrual on principal not yet due
       (due after the day), and the income recognised that day (fen). Normal interest
       recognised is the interest billed by instalments due so far plus the current period's
       accrual rounded half up, so the ACT/360 accrual is trued up to the contractual interest
       when an instalment falls due. Days count as nights (算头不算尾): a period runs from a due
       date to the day before the next, so on a due date the period restarts with that night.
    2. The loans take the day's figures.
    3. One accrual entry per loan with a change: receivable against income (计提).
    4. Reminders into the outbox.
    """
    dialect = conn.dialect.name
    day = ":d" if dialect == "sqlite" else "CAST(:d AS DATE)"  # SQLite's CAST AS DATE gives 2026
    day_rows = conn.execute(
        text(f"""
        INSERT INTO loan_days (loan_id, as_of, dpd, bucket, grade, overdue_principal_fen,
                               overdue_interest_fen, penalty_accrual_e8, interest_accrual_e8,
                               interest_fen, penalty_fen)
        SELECT id, {day}, dpd, {_BUCKET}, {_FLOOR}, op, oi, pen, acc,
               CASE WHEN dpd > {NON_ACCRUAL_AFTER_DAYS} THEN received - recognised
                    ELSE billed
                         + {_fen("CASE WHEN due_today = 1 THEN acc ELSE accrued + acc END")}
                         - recognised END,
               CASE WHEN dpd > {NON_ACCRUAL_AFTER_DAYS} THEN pen_paid - pen_recognised
                    ELSE {_fen("accrued_pen + pen")} - pen_recognised END
        FROM (
            SELECT id, dpd, op, oi, billed, due_today, accrued, recognised, accrued_pen,
                   pen_recognised, received, pen_paid,
                   (op + oi) * rate_ppm * (100 + uplift_pct) / 360 AS pen,
                   (outstanding - due_principal) * rate_ppm * 100 / 360 AS acc
            FROM (
                SELECT l.id, l.rate_ppm, l.uplift_pct, l.outstanding_fen AS outstanding,
                       l.accrued_interest_e8 AS accrued,
                       l.interest_recognised_fen AS recognised,
                       l.accrued_penalty_e8 AS accrued_pen,
                       l.penalty_recognised_fen AS pen_recognised,
                       l.interest_received_fen AS received,
                       l.penalty_paid_fen AS pen_paid,
                       COALESCE({_days(dialect)}, 0) AS dpd,
                       CAST(COALESCE(o.op, 0) AS BIGINT) AS op,
                       CAST(COALESCE(o.oi, 0) AS BIGINT) AS oi,
                       CAST(COALESCE(b.billed, 0) AS BIGINT) AS billed,
                       CAST(COALESCE(b.due_principal, 0) AS BIGINT) AS due_principal,
                       COALESCE(b.due_today, 0) AS due_today
                FROM loans l
                LEFT JOIN (
                    SELECT loan_id, MIN(due_on) AS first_unpaid,
                           SUM(principal_fen - principal_paid_fen) AS op,
                           SUM(interest_fen - interest_paid_fen) AS oi
                    FROM installments
                    WHERE due_on < :d
                      AND (principal_paid_fen < principal_fen OR interest_paid_fen < interest_fen)
                    GROUP BY loan_id
                ) o ON o.loan_id = l.id
                LEFT JOIN (
                    SELECT loan_id, SUM(interest_fen) AS billed,
                           SUM(principal_fen - principal_paid_fen) AS due_principal,
                           MAX(CASE WHEN due_on = :d THEN 1 ELSE 0 END) AS due_today
                    FROM installments
                    WHERE due_on <= :d
                    GROUP BY loan_id
                ) b ON b.loan_id = l.id
                WHERE l.status = 'active'
            ) base
        ) s
        """),
        {"d": as_of},
    ).rowcount
    conn.execute(
        text(f"""
        UPDATE loans SET
            dpd = ld.dpd,
            bucket = ld.bucket,
            grade = CASE WHEN ld.grade > loans.grade THEN ld.grade ELSE loans.grade END,
            accrued_penalty_e8 = loans.accrued_penalty_e8 + ld.penalty_accrual_e8,
            penalty_recognised_fen = loans.penalty_recognised_fen + ld.penalty_fen,
            accrued_interest_e8 = CASE
                WHEN EXISTS (SELECT 1 FROM installments i
                             WHERE i.loan_id = loans.id AND i.due_on = {day})
                THEN ld.interest_accrual_e8
                ELSE loans.accrued_interest_e8 + ld.interest_accrual_e8 END,
            interest_recognised_fen = loans.interest_recognised_fen + ld.interest_fen
        FROM loan_days ld
        WHERE ld.loan_id = loans.id AND ld.as_of = :d
        """),
        {"d": as_of},
    )
    entries = _post_accruals(conn, as_of)
    queued = 0
    for kind, days in REMINDERS:
        queued += conn.execute(
            text(f"""
            INSERT INTO outbox (loan_id, installment, kind, due_on, created_for)
            SELECT i.loan_id, i.number, CAST(:kind AS VARCHAR(10)), i.due_on, {day}
            FROM installments i JOIN loans l ON l.id = i.loan_id
            WHERE l.status = 'active' AND i.due_on = :due
              AND (i.principal_paid_fen < i.principal_fen OR i.interest_paid_fen < i.interest_fen)
              AND NOT EXISTS (SELECT 1 FROM outbox x WHERE x.loan_id = i.loan_id
                              AND x.installment = i.number
                              AND x.kind = CAST(:kind AS VARCHAR(10)))
            """),
            {"kind": kind, "d": as_of, "due": as_of + timedelta(days=days)},
        ).rowcount
    return {"loans": int(day_rows), "accrual_entries": entries, "reminders": int(queued)}


def _post_accruals(conn: Connection, as_of: date) -> int:
    """Post the day's recognised income, one balanced entry per loan with a change."""
    day = ":d" if conn.dialect.name == "sqlite" else "CAST(:d AS DATE)"
    entry = "'acr-' || CAST(ld.loan_id AS VARCHAR(20)) || '-' || :ds"
    changed = "ld.as_of = :d AND (ld.interest_fen <> 0 OR ld.penalty_fen <> 0)"
    params = {"d": as_of, "ds": as_of.isoformat()}
    posted = conn.execute(
        text(f"""
        INSERT INTO journal_entries (id, loan_id, booked_on, description, reverses)
        SELECT {entry}, ld.loan_id, {day}, :desc, NULL FROM loan_days ld WHERE {changed}
        """),
        {**params, "desc": "accrual 计提"},
    ).rowcount
    legs = " UNION ALL ".join(
        f"SELECT {k} AS k, '{account.name}' AS account"
        for k, account in enumerate(
            (
                Account.INTEREST_RECEIVABLE,
                Account.INTEREST_INCOME,
                Account.PENALTY_RECEIVABLE,
                Account.PENALTY_INCOME,
            )
        )
    )
    amount = (
        "CASE legs.k WHEN 0 THEN ld.interest_fen WHEN 1 THEN -ld.interest_fen "
        "WHEN 2 THEN ld.penalty_fen ELSE -ld.penalty_fen END"
    )
    conn.execute(
        text(f"""
        INSERT INTO postings (entry_id, account, amount_fen, currency)
        SELECT {entry}, legs.account, {amount}, l.currency
        FROM loan_days ld JOIN loans l ON l.id = ld.loan_id CROSS JOIN ({legs}) legs
        WHERE {changed} AND {amount} <> 0
        """),
        params,
    )
    return int(posted)
