"""Use case: end of day (日终) — money held in suspense applied to what falls due, accrual of
penalty and compound interest, DPD and bucket, five-grade floor, reminders T−7/T−3/T−1 into the
outbox.

The work is done set-based by the store (INSERT … SELECT / UPDATE … FROM), in one transaction
guarded by a row per date in ``eod_runs``: running a date twice changes nothing, and a crash
half-way rolls back so the date can simply be run again.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from loomcredit.service_layer.origination import InvalidRequestError
from loomcredit.service_layer.repayment import apply_suspense
from loomcredit.service_layer.unit_of_work import Row, UnitOfWork
from loomcredit.service_layer.users import Action, User, require

#: The most days one end-of-day request catches up (a typo in the year would run for ever).
MAX_CATCH_UP = timedelta(days=366)

#: Days before a due date on which a reminder is queued.
REMINDER_DAYS = (7, 3, 1)


def business_date(uow: UnitOfWork, now: datetime) -> date:
    """营业日期 The business date new work is booked on when a request names none.

    As in a core banking system, the business date follows end of day: the day after the last
    date EOD completed for. It never runs ahead of the calendar (EOD for today, run tonight,
    does not move new applications to tomorrow), and before the first EOD it is today.
    """
    today = now.date()
    last = uow.last_eod_date()
    if last is None:
        return today
    return min(last + timedelta(days=1), today)


def run_eod(uow: UnitOfWork, user: User, as_of: date, *, now: datetime) -> Row:
    """Run end of day for ``as_of`` and commit; returns counts (``already`` if it had run).

    End of day runs each calendar day in order: if the last completed date is earlier than
    ``as_of − 1``, the missing days run first (catch-up), each in its own transaction guarded
    by its ``eod_runs`` row, so a crash half-way is simply rerun and no day posts twice.
    Before the first end of day ever, only ``as_of`` runs; a date before the first one is
    refused (a day the book did not exist on), and so is catching up more than
    :data:`MAX_CATCH_UP` in one call. ``days_run`` counts the days done.
    """
    require(user, Action.RUN_EOD)
    first = uow.first_eod_date()
    if first is not None and as_of < first:
        raise InvalidRequestError(
            f"end of day first ran for {first}; {as_of} is before the book's first business "
            "date and cannot run now"
        )
    last = uow.last_eod_date()
    if last is not None and as_of - last > MAX_CATCH_UP:
        raise InvalidRequestError(
            f"end of day last ran for {last}; catching up to {as_of} is more than "
            f"{MAX_CATCH_UP.days} days in one request: run it for {last + MAX_CATCH_UP} first"
        )
    day = as_of if last is None or last >= as_of else last + timedelta(days=1)
    days_run = 0
    while day < as_of:
        if not _run_one_day(uow, user, day, now=now).get("already"):
            days_run += 1
        day += timedelta(days=1)
    result = _run_one_day(uow, user, as_of, now=now)
    if result.get("already"):
        return result
    return {**result, "days_run": days_run + 1}


def _run_one_day(uow: UnitOfWork, user: User, as_of: date, *, now: datetime) -> Row:
    """One date of end of day in one transaction (suspense, accrual, DPD, reminders)."""
    # A borrower who paid before the due date is not overdue: apply suspense first (few loans).
    for loan_id in uow.loans_with_suspense_due(as_of):
        apply_suspense(uow, loan_id, as_of, now=now)
    result = uow.run_eod(as_of, now)
    if not result.get("already"):
        uow.audit(user.name, "eod.run", f"eod:{as_of.isoformat()}", dict(result), now)
    uow.commit()
    return result
