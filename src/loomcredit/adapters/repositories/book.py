"""The business day and end of day on SQLAlchemy: the day lock, ``eod_runs``, ``loan_days`` and
the reminder outbox; the set-based close is in ``eod_sql.py``; the set-based reads the collection
figures need (month-end states, receipts by bucket)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Integer, and_, case, func, insert, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from loomcredit.adapters import orm
from loomcredit.adapters.repositories._base import Tx, as_date, aware, insert_one, required_date
from loomcredit.adapters.repositories.eod_sql import close_day_sql
from loomcredit.domain.behaviour import DPD_WINDOW_DAYS, LATE_WINDOW_DAYS, RepaymentFacts
from loomcredit.domain.collection_figures import MonthEndState
from loomcredit.domain.delinquency import Bucket, Grade
from loomcredit.domain.end_of_day import DayClose, Reminder
from loomcredit.domain.money import Money
from loomcredit.service_layer.unit_of_work import (
    BookRepository,
    DuplicateKey,
    EodCounts,
    QueuedReminder,
    ReceiptInBucket,
)

_RUNS, _DAYS, _OUT, _DAY = orm.eod_runs, orm.loan_days, orm.outbox, orm.book_day



def _reminder(row: Any) -> Reminder:
    return Reminder(row.loan_id, row.installment, row.kind, row.due_on)


class SqlBookRepository(BookRepository):
    """``book_day``, ``eod_runs``, ``loan_days``, ``outbox``."""

    def __init__(self, tx: Tx) -> None:
        self._tx = tx

    def _upsert(self) -> Any:
        return pg_insert if self._tx.is_pg else sqlite_insert

    def hold_day(self, *, exclusive: bool) -> None:
        """PostgreSQL: ``SELECT … FOR UPDATE`` (end of day) or ``FOR SHARE`` (a money event) on
        the one ``book_day`` row. SQLite: nothing (its writers serialise already)."""
        if not self._tx.is_pg:
            return
        conn = self._tx.conn
        stmt = select(_DAY.c.id).where(_DAY.c.id == 1).with_for_update(read=not exclusive)
        if conn.execute(stmt).first() is None:  # a schema made without migration 0006's row
            conn.execute(self._upsert()(_DAY).values(id=1).on_conflict_do_nothing())
            conn.execute(stmt)

    def _edge(self, agg: Any) -> date | None:
        return as_date(self._tx.conn.execute(select(agg(_RUNS.c.as_of))).scalar())

    def last_eod_date(self) -> date | None:
        """The latest date closed."""
        return self._edge(func.max)

    def first_eod_date(self) -> date | None:
        """The earliest date closed."""
        return self._edge(func.min)

    def start_day(self, as_of: date, at: datetime) -> bool:
        """Insert the date's ``eod_runs`` row; False if the date ran already."""
        conn = self._tx.conn
        if conn.execute(select(_RUNS.c.as_of).where(_RUNS.c.as_of == as_of)).first():
            return False
        try:
            insert_one(self._tx, _RUNS, {"as_of": as_of, "loans": 0, "finished_at": aware(at)})
        except DuplicateKey:
            return False
        return True

    def close_day(self, as_of: date) -> EodCounts:
        """The set-based end of day (equal to ``close_day_by_domain``)."""
        return close_day_sql(self._tx.conn, as_of)

    def record_day(self, loan_id: int, day: DayClose) -> None:
        """One ``loan_days`` row (the loan-by-loan path)."""
        self._tx.conn.execute(
            insert(_DAYS).values(
                loan_id=loan_id,
                as_of=day.on,
                dpd=day.dpd,
                bucket=day.bucket.name,
                grade=int(day.floor),
                overdue_principal_fen=day.overdue_principal.minor,
                overdue_interest_fen=day.overdue_interest.minor,
                penalty_accrual_e8=day.penalty_accrual_e8,
                interest_accrual_e8=day.interest_accrual_e8,
                interest_fen=day.interest_fen,
                penalty_fen=day.penalty_fen,
                due_today=day.due_today,
                non_accrual=day.non_accrual,
                non_accrual_after=day.non_accrual_after,
            )
        )

    def finish_day(self, counts: EodCounts) -> None:
        """The counts on the date's ``eod_runs`` row."""
        self._tx.conn.execute(
            update(_RUNS)
            .where(_RUNS.c.as_of == counts.as_of)
            .values(
                loans=counts.loans,
                accrual_entries=counts.accrual_entries,
                reminders=counts.reminders,
            )
        )

    def queue_reminders(self, reminders: Iterable[Reminder], created_for: date) -> int:
        """Insert those not queued before (the unique key decides), in order; how many."""
        rows = [
            {
                "loan_id": r.loan_id,
                "installment": r.installment,
                "kind": r.kind,
                "due_on": r.due_on,
                "created_for": created_for,
            }
            for r in reminders
        ]
        if not rows:
            return 0
        stmt = (
            self._upsert()(_OUT)
            .on_conflict_do_nothing(index_elements=["loan_id", "installment", "kind"])
            .returning(_OUT.c.id)
        )
        return len(self._tx.conn.execute(stmt, rows).all())

    def reminders(self, *, created_for: date | None = None) -> list[QueuedReminder]:
        """The outbox in the order queued."""
        stmt = select(_OUT).order_by(_OUT.c.id)
        if created_for is not None:
            stmt = stmt.where(_OUT.c.created_for == created_for)
        return [QueuedReminder(_reminder(r), r.created_for) for r in self._tx.conn.execute(stmt)]

    def loan_day(self, loan_id: int, as_of: date) -> DayClose | None:
        """The loan-day end of day recorded, with the reminders it queued."""
        conn = self._tx.conn
        row = conn.execute(
            select(_DAYS, orm.loans.c.currency)
            .join(orm.loans, orm.loans.c.id == _DAYS.c.loan_id)
            .where(_DAYS.c.loan_id == loan_id, _DAYS.c.as_of == as_of)
        ).first()
        if row is None:
            return None
        queued = conn.execute(
            select(_OUT)
            .where(_OUT.c.loan_id == loan_id, _OUT.c.created_for == as_of)
            .order_by(_OUT.c.id)
        )
        cur = row.currency
        return DayClose(
            on=as_of,
            dpd=row.dpd,
            bucket=Bucket[row.bucket],
            floor=Grade(row.grade),
            overdue_principal=Money(row.overdue_principal_fen, cur),
            overdue_interest=Money(row.overdue_interest_fen, cur),
            penalty_accrual_e8=int(row.penalty_accrual_e8),
            interest_accrual_e8=int(row.interest_accrual_e8),
            interest_fen=int(row.interest_fen),
            penalty_fen=int(row.penalty_fen),
            due_today=bool(row.due_today),
            non_accrual=bool(row.non_accrual),
            non_accrual_after=row.non_accrual_after,
            reminders=tuple(_reminder(r) for r in queued),
            currency=cur,
        )

    def repayment_history(self, as_of: date) -> dict[int, RepaymentFacts]:
        """One grouped query over ``loan_days`` (equal to the domain's rule, proven by a test)."""
        dpd_from = as_of - timedelta(days=DPD_WINDOW_DAYS)
        late_from = as_of - timedelta(days=LATE_WINDOW_DAYS)
        loans = orm.loans
        per_loan = (
            select(
                loans.c.line_id.label("line_id"),
                func.max(case((_DAYS.c.as_of > dpd_from, _DAYS.c.dpd), else_=0)).label("worst"),
                func.sum(case((_DAYS.c.dpd > 0, 1), else_=0)).label("late"),
            )
            .select_from(_DAYS.join(loans, loans.c.id == _DAYS.c.loan_id))
            .where(_DAYS.c.as_of <= as_of, _DAYS.c.as_of > late_from)
            .group_by(loans.c.line_id, _DAYS.c.loan_id)
            .subquery()
        )
        stmt = select(
            per_loan.c.line_id, func.max(per_loan.c.worst), func.max(per_loan.c.late)
        ).group_by(per_loan.c.line_id)
        return {
            int(line): RepaymentFacts(int(worst), int(late))
            for line, worst, late in self._tx.conn.execute(stmt)
        }

    # -- the collection figures (set-based reads) -------------------------------------------------
    def month_end_states(self, ends: Sequence[date]) -> list[MonthEndState]:
        """One SELECT over ``loan_days`` on the month ends, the principal received by each day
        summed in a correlated subquery over ``repayments``."""
        if not ends:
            return []
        loans, rep = orm.loans, orm.repayments
        received = (
            select(func.coalesce(func.sum(rep.c.principal_fen), 0))
            .where(rep.c.loan_id == _DAYS.c.loan_id, rep.c.booked_on <= _DAYS.c.as_of)
            .scalar_subquery()
        )
        stmt = (
            select(
                _DAYS.c.loan_id,
                _DAYS.c.as_of,
                _DAYS.c.bucket,
                _DAYS.c.dpd,
                _DAYS.c.overdue_principal_fen + _DAYS.c.overdue_interest_fen,
                loans.c.principal_fen - received,
                loans.c.currency,
            )
            .select_from(_DAYS.join(loans, loans.c.id == _DAYS.c.loan_id))
            .where(_DAYS.c.as_of.in_(sorted(set(ends))))
            .order_by(_DAYS.c.as_of, _DAYS.c.loan_id)
        )
        return [
            MonthEndState(int(loan_id), required_date(on), Bucket[bucket], int(dpd),
                          Money(int(overdue), cur), Money(int(outstanding), cur))
            for loan_id, on, bucket, dpd, overdue, outstanding, cur
            in self._tx.conn.execute(stmt)
        ]  # fmt: skip

    def receipts_by_bucket(self, first: date, last: date) -> list[ReceiptInBucket]:
        """One SELECT: ``repayments`` left-joined to the loan-day before each booking date."""
        rep = orm.repayments
        before = (
            func.date(rep.c.booked_on, "-1 day")
            if not self._tx.is_pg
            else rep.c.booked_on - literal(1, Integer)
        )
        stmt = (
            select(rep.c.booked_on, _DAYS.c.bucket, rep.c.amount_fen, rep.c.currency)
            .select_from(
                rep.outerjoin(
                    _DAYS, and_(_DAYS.c.loan_id == rep.c.loan_id, _DAYS.c.as_of == before)
                )
            )
            .where(rep.c.booked_on >= first, rep.c.booked_on <= last)
            .order_by(rep.c.booked_on, rep.c.id)
        )
        return [
            (required_date(on), None if bucket is None else Bucket[bucket], Money(int(fen), cur))
            for on, bucket, fen, cur in self._tx.conn.execute(stmt)
        ]
