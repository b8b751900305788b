"""Set-based SQL for end of day, portable between SQLite and PostgreSQL.

DPD counts from the earliest unpaid instalment due before the day; buckets follow DOMAIN.md §8
(M1 = 1–30 … M6 = 151–180, M7 beyond); the grade floor follows DOMAIN.md §5 (any overdue →
关注 2, >90 → 次级 3, >270 → 可疑 4, >360 → 损失 5) and only ever pushes a grade down. Penalty on
overdue principal and compound interest on overdue interest both accrue at the penalty rate
(contract rate × (1 + uplift)), ACT/360, in exact integers of 1e-8 fen, truncated once per day.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Connection, text

REMINDERS = (("T-7", 7), ("T-3", 3), ("T-1", 1))

_BUCKET = """CASE WHEN dpd <= 0 THEN 'M0' WHEN dpd <= 30 THEN 'M1' WHEN dpd <= 60 THEN 'M2'
 WHEN dpd <= 90 THEN 'M3' WHEN dpd <= 120 THEN 'M4' WHEN dpd <= 150 THEN 'M5'
 WHEN dpd <= 180 THEN 'M6' ELSE 'M7' END"""
_FLOOR = """CASE WHEN dpd > 360 THEN 5 WHEN dpd > 270 THEN 4 WHEN dpd > 90 THEN 3
 WHEN dpd > 0 THEN 2 ELSE 1 END"""


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
