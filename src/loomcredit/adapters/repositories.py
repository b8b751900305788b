"""Set-based SQL for end of day, portable between SQLite and PostgreSQL.

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


def eod_sql(conn: Connection, as_of: date) -> dict[str, int]:
    """Run the three set-based steps for one date inside the caller's transaction."""
    dialect = conn.dialect.name
    day = ":d" if dialect == "sqlite" else "CAST(:d AS DATE)"  # SQLite's CAST AS DATE gives 2026
    day_rows = conn.execute(
        text(f"""
        INSERT INTO loan_days (loan_id, as_of, dpd, bucket, grade, overdue_principal_fen,
                               overdue_interest_fen, penalty_accrual_e8)
        SELECT id, {day}, dpd, {_BUCKET}, {_FLOOR}, op, oi,
               (op + oi) * rate_ppm * (100 + uplift_pct) / 360
        FROM (
            SELECT l.id, l.rate_ppm, l.uplift_pct,
                   COALESCE({_days(dialect)}, 0) AS dpd,
                   CAST(COALESCE(o.op, 0) AS BIGINT) AS op,
                   CAST(COALESCE(o.oi, 0) AS BIGINT) AS oi
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
            WHERE l.status = 'active'
        ) s
        """),
        {"d": as_of},
    ).rowcount
    conn.execute(
        text("""
        UPDATE loans SET
            dpd = ld.dpd,
            bucket = ld.bucket,
            grade = CASE WHEN ld.grade > loans.grade THEN ld.grade ELSE loans.grade END,
            accrued_penalty_e8 = loans.accrued_penalty_e8 + ld.penalty_accrual_e8
        FROM loan_days ld
        WHERE ld.loan_id = loans.id AND ld.as_of = :d
        """),
        {"d": as_of},
    )
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
    return {"loans": int(day_rows), "reminders": int(queued)}
