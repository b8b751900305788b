"""End of day as set-based SQL, portable between SQLite and PostgreSQL.

It is :func:`loomcredit.domain.end_of_day.assess_day` applied to every active loan at once, with
every constant taken from the domain (the reminder offsets, the non-accrual threshold, 1e-8 fen,
ACT/360, the buckets and the grade floor of ``domain/delinquency.py``), the accrual entry's id,
legs and description from ``end_of_day.accrual_entry_id``, ``DayClose.legs`` and
``service_layer.eod.ACCRUAL_DESCRIPTION``. A property test runs random books through this and
through :func:`loomcredit.service_layer.eod.close_day_by_domain` and finds them equal to the fen.

1. One ``loan_days`` row per active loan: DPD (from the earliest instalment due before the day
   with something unpaid), bucket, grade floor, what is overdue, the night's penalty and compound
   accrual on it and the night's normal accrual on principal not yet due (each truncated to
   1e-8 fen), and the income recognised that day: interest billed by instalments due so far plus
   the period's accrual rounded half up, less what was recognised (so on a due date the ACT/360
   accrual is trued up to the contractual interest), or past the non-accrual threshold what was
   received less what was recognised (the unpaid income reversed).
2. The loans take the day's figures (grade only ever pushed down); a loan the day changed goes
   up one version, as ``LoanRepository.save_many`` counts a stored change.
3. One accrual entry per loan that recognised something, its postings in ``DayClose.legs``'
   order.
4. Reminders into the outbox, each (loan, instalment, kind) once, in the domain's order.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import Connection, Date, TextClause, bindparam, text

from loomcredit.domain.delinquency import (
    BUCKET_DAYS,
    DOUBTFUL_AFTER_DAYS,
    LOSS_AFTER_DAYS,
    SUBSTANDARD_AFTER_DAYS,
    Bucket,
    Grade,
)
from loomcredit.domain.end_of_day import (
    ACCRUAL_BASIS_DAYS,
    E8,
    NON_ACCRUAL_AFTER_DAYS,
    REMINDER_OFFSETS,
    DayClose,
    accrual_entry_id,
)
from loomcredit.domain.money import Money
from loomcredit.service_layer.eod import ACCRUAL_DESCRIPTION
from loomcredit.service_layer.unit_of_work import EodCounts

PERCENT = 100
"""``day_accrual_e8``'s scale: fen × rate ppm × (100 + uplift %) / 360 is 1e-8 fen."""


def bucket_case(col: str = "dpd") -> str:
    """SQL CASE giving :func:`loomcredit.domain.delinquency.bucket` (``M0``…``M7``) of a DPD."""
    arms = " ".join(
        f"WHEN {col} <= {k * BUCKET_DAYS} THEN '{Bucket(k).name}'"
        for k in range(Bucket.M1, Bucket.M7)
    )
    return f"CASE WHEN {col} <= 0 THEN '{Bucket.M0.name}' {arms} ELSE '{Bucket.M7.name}' END"


def floor_case(col: str = "dpd") -> str:
    """SQL CASE giving :func:`loomcredit.domain.delinquency.floor_grade` of a DPD (no
    technical-delay, misuse or refinancing flags are recorded on loans)."""
    return (
        f"CASE WHEN {col} > {LOSS_AFTER_DAYS} THEN {int(Grade.LOSS)} "
        f"WHEN {col} > {DOUBTFUL_AFTER_DAYS} THEN {int(Grade.DOUBTFUL)} "
        f"WHEN {col} > {SUBSTANDARD_AFTER_DAYS} THEN {int(Grade.SUBSTANDARD)} "
        f"WHEN {col} > 0 THEN {int(Grade.SPECIAL_MENTION)} ELSE {int(Grade.NORMAL)} END"
    )


def _fen(e8: str) -> str:
    """``e8_to_fen``: a non-negative 1e-8-fen amount half up to whole fen."""
    return f"(({e8}) + {E8 // 2}) / {E8}"


def _entry_id_parts(as_of: date) -> tuple[str, str]:
    """``accrual_entry_id`` as text around the loan id (checked against the function)."""
    marker = 918_273_645
    prefix, _, suffix = accrual_entry_id(marker, as_of).partition(str(marker))
    for loan_id in (1, 42, 10**7):
        if f"{prefix}{loan_id}{suffix}" != accrual_entry_id(loan_id, as_of):
            raise RuntimeError("accrual_entry_id is not <prefix><loan id><suffix>")
    return prefix, suffix


def _legs() -> list[tuple[int, str, str]]:
    """``DayClose.legs`` as (order, account name, amount expression): probed with interest 1
    and penalty 2 fen, so the SQL posts the same accounts, signs and order as the domain."""
    field = {1: "ld.interest_fen", 2: "ld.penalty_fen"}
    probe = DayClose(
        date.min,
        0,
        Bucket.M0,
        Grade.NORMAL,
        Money(0),
        Money(0),
        0,
        0,
        1,
        2,
        False,
        False,
        0,
        (),
        "CNY",
    )
    return [
        (k, account.name, ("" if amount.minor > 0 else "-") + field[abs(amount.minor)])
        for k, (account, amount) in enumerate(probe.legs)
    ]


def _sql(statement: str, *dates: str) -> TextClause:
    return text(statement).bindparams(*(bindparam(d, type_=Date) for d in dates))


def close_day_sql(conn: Connection, as_of: date) -> EodCounts:
    """Close ``as_of`` for every active loan inside the caller's transaction."""
    pg = conn.dialect.name != "sqlite"
    day = "CAST(:d AS DATE)" if pg else ":d"  # SQLite's CAST AS DATE would give the year
    dpd = (
        "(CAST(:d AS DATE) - o.first_unpaid)"
        if pg
        else "CAST(julianday(:d) - julianday(o.first_unpaid) AS INTEGER)"
    )
    unpaid = "(principal_paid_fen < principal_fen OR interest_paid_fen < interest_fen)"
    loans = conn.execute(
        _sql(
            f"""
            INSERT INTO loan_days (loan_id, as_of, dpd, bucket, grade, overdue_principal_fen,
                                   overdue_interest_fen, penalty_accrual_e8, interest_accrual_e8,
                                   interest_fen, penalty_fen, due_today, non_accrual,
                                   non_accrual_after)
            SELECT id, {day}, dpd, {bucket_case()}, {floor_case()}, op, oi, pen, acc,
                   CASE WHEN dpd > {NON_ACCRUAL_AFTER_DAYS} THEN received - recognised
                        ELSE billed
                             + {_fen("CASE WHEN due_today = 1 THEN acc ELSE accrued + acc END")}
                             - recognised END,
                   CASE WHEN dpd > {NON_ACCRUAL_AFTER_DAYS} THEN pen_paid - pen_recognised
                        ELSE {_fen("accrued_pen + pen")} - pen_recognised END,
                   due_today = 1, dpd > {NON_ACCRUAL_AFTER_DAYS}, {NON_ACCRUAL_AFTER_DAYS}
            FROM (
                SELECT id, dpd, op, oi, billed, due_today, accrued, recognised, accrued_pen,
                       pen_recognised, received, pen_paid,
                       (op + oi) * rate_ppm * ({PERCENT} + uplift_pct) / {ACCRUAL_BASIS_DAYS}
                           AS pen,
                       (outstanding - due_principal) * rate_ppm * {PERCENT} / {ACCRUAL_BASIS_DAYS}
                           AS acc
                FROM (
                    SELECT l.id, l.rate_ppm, l.uplift_pct, l.outstanding_fen AS outstanding,
                           l.accrued_interest_e8 AS accrued,
                           l.interest_recognised_fen AS recognised,
                           l.accrued_penalty_e8 AS accrued_pen,
                           l.penalty_recognised_fen AS pen_recognised,
                           l.interest_received_fen AS received,
                           l.penalty_paid_fen AS pen_paid,
                           COALESCE({dpd}, 0) AS dpd,
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
                        FROM installments WHERE due_on < :d AND {unpaid}
                        GROUP BY loan_id
                    ) o ON o.loan_id = l.id
                    LEFT JOIN (
                        SELECT loan_id, SUM(interest_fen) AS billed,
                               SUM(principal_fen - principal_paid_fen) AS due_principal,
                               MAX(CASE WHEN due_on = :d THEN 1 ELSE 0 END) AS due_today
                        FROM installments WHERE due_on <= :d
                        GROUP BY loan_id
                    ) b ON b.loan_id = l.id
                    WHERE l.status = 'active'
                ) base
            ) s
            """,
            "d",
        ),
        {"d": as_of},
    ).rowcount
    conn.execute(
        _sql(
            """
            UPDATE loans SET
                dpd = ld.dpd,
                bucket = ld.bucket,
                grade = CASE WHEN ld.grade > loans.grade THEN ld.grade ELSE loans.grade END,
                accrued_penalty_e8 = loans.accrued_penalty_e8 + ld.penalty_accrual_e8,
                penalty_recognised_fen = loans.penalty_recognised_fen + ld.penalty_fen,
                accrued_interest_e8 = CASE WHEN ld.due_today THEN ld.interest_accrual_e8
                                           ELSE loans.accrued_interest_e8 + ld.interest_accrual_e8
                                      END,
                interest_recognised_fen = loans.interest_recognised_fen + ld.interest_fen,
                version = loans.version + CASE
                    WHEN ld.dpd <> loans.dpd OR ld.bucket <> loans.bucket
                         OR ld.grade > loans.grade OR ld.penalty_accrual_e8 <> 0
                         OR ld.penalty_fen <> 0 OR ld.interest_fen <> 0
                         OR (CASE WHEN ld.due_today THEN ld.interest_accrual_e8
                                  ELSE loans.accrued_interest_e8 + ld.interest_accrual_e8 END)
                            <> loans.accrued_interest_e8
                    THEN 1 ELSE 0 END
            FROM loan_days ld
            WHERE ld.loan_id = loans.id AND ld.as_of = :d
            """,
            "d",
        ),
        {"d": as_of},
    )
    entries = _post_accruals(conn, as_of, day)
    reminders = _queue_reminders(conn, as_of, day, pg)
    return EodCounts(as_of, int(loans), entries, reminders)


def _post_accruals(conn: Connection, as_of: date, day: str) -> int:
    """One balanced entry per loan that recognised income, postings in the domain's order."""
    prefix, suffix = _entry_id_parts(as_of)
    entry = "(:prefix || CAST(ld.loan_id AS VARCHAR(20)) || :suffix)"
    changed = "ld.as_of = :d AND (ld.interest_fen <> 0 OR ld.penalty_fen <> 0)"
    params = {"d": as_of, "prefix": prefix, "suffix": suffix}
    legs = _legs()
    n_postings = " + ".join(f"(CASE WHEN {expr} <> 0 THEN 1 ELSE 0 END)" for _, _, expr in legs)
    posted = conn.execute(
        _sql(
            f"""
            INSERT INTO journal_entries (id, loan_id, booked_on, value_date, description,
                                         reverses, n_postings)
            SELECT {entry}, ld.loan_id, {day}, {day}, :desc, NULL, {n_postings}
            FROM loan_days ld WHERE {changed} ORDER BY ld.loan_id
            """,
            "d",
        ),
        {**params, "desc": ACCRUAL_DESCRIPTION},
    ).rowcount
    table = " UNION ALL ".join(f"SELECT {k} AS k, '{name}' AS account" for k, name, _ in legs)
    amount = "CASE legs.k " + " ".join(f"WHEN {k} THEN {expr}" for k, _, expr in legs) + " END"
    conn.execute(
        _sql(
            f"""
            INSERT INTO postings (entry_id, account, amount_fen, currency)
            SELECT {entry}, legs.account, {amount}, l.currency
            FROM loan_days ld JOIN loans l ON l.id = ld.loan_id CROSS JOIN ({table}) legs
            WHERE {changed} AND {amount} <> 0
            ORDER BY ld.loan_id, legs.k
            """,
            "d",
        ),
        params,
    )
    return int(posted)


def _queue_reminders(conn: Connection, as_of: date, day: str, pg: bool) -> int:
    """The T−n reminders of unpaid instalments, each once, ordered as the domain lists them."""
    for kind, _ in REMINDER_OFFSETS:
        if not re.fullmatch(r"[A-Za-z0-9-]{1,10}", kind):  # inlined as a literal below
            raise ValueError(f"reminder kind {kind!r} is not a plain code")
    due = "CAST(:due{k} AS DATE)" if pg else ":due{k}"
    kinds = " UNION ALL ".join(
        f"SELECT {k} AS k, '{kind}' AS kind, {due.format(k=k)} AS due_on"
        for k, (kind, _) in enumerate(REMINDER_OFFSETS)
    )
    names = [f"due{k}" for k in range(len(REMINDER_OFFSETS))]
    dues = {f"due{k}": as_of + timedelta(days=n) for k, (_, n) in enumerate(REMINDER_OFFSETS)}
    return int(
        conn.execute(
            _sql(
                f"""
                INSERT INTO outbox (loan_id, installment, kind, due_on, created_for)
                SELECT i.loan_id, i.number, r.kind, i.due_on, {day}
                FROM installments i
                JOIN loans l ON l.id = i.loan_id
                JOIN ({kinds}) r ON i.due_on = r.due_on
                WHERE l.status = 'active'
                  AND (i.principal_paid_fen < i.principal_fen
                       OR i.interest_paid_fen < i.interest_fen)
                  AND NOT EXISTS (SELECT 1 FROM outbox x WHERE x.loan_id = i.loan_id
                                  AND x.installment = i.number AND x.kind = r.kind)
                ORDER BY i.loan_id, r.k, i.number
                """,
                "d",
                *names,
            ),
            {"d": as_of, **dues},
        ).rowcount
    )
