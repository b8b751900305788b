"""Use case: end of day (日终) and the business date (营业日期).

End of day applies money held in suspense to what falls due, then closes the day for every active
loan by the domain's rule (``domain/end_of_day.py``): DPD, bucket, grade floor, non-accrual,
normal, penalty and compound accrual with one balanced accrual entry per loan, reminders into the
outbox; then the collection cases move with the day's arrears (``collections.update_cases``).
The store does it set-based (``BookRepository.close_day``); :func:`close_day_by_domain`
is the same loan by loan, and a property test finds the two equal to the fen.

Each date runs in one transaction guarded by its ``eod_runs`` row, holding the book's day lock
exclusively: a money event (which holds it shared) lands wholly before or after it, running a
date twice changes nothing, and a crash half-way rolls back so the date can simply be run again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from loomcredit.domain.collection_policy import DEFAULT_POLICY, CollectionsPolicy
from loomcredit.domain.end_of_day import Reminder, accrual_entry_id
from loomcredit.domain.ledger import JournalEntry, entry_of
from loomcredit.domain.loan import Loan, Repayment
from loomcredit.domain.notices import NoticePolicy
from loomcredit.service_layer.collections import update_cases
from loomcredit.service_layer.errors import InvalidRequestError
from loomcredit.service_layer.notifications import queue_notices
from loomcredit.service_layer.unit_of_work import EodCounts, UnitOfWork
from loomcredit.service_layer.users import Action, User, require

#: The most days one end-of-day request catches up (a typo in the year would run for ever).
MAX_CATCH_UP = timedelta(days=366)
ACCRUAL_DESCRIPTION = "accrual 计提"
SUSPENSE_DESCRIPTION = "suspense applied 暂收款冲抵到期款"


def business_date(uow: UnitOfWork, now: datetime) -> date:
    """营业日期 The date new work is booked on: the day after the last end of day (after tonight's
    end of day, tomorrow: nothing is booked into a closed day); before the first end of day,
    today. End of day never runs ahead of the calendar, so neither does this by more than a day."""
    last = uow.book.last_eod_date()
    if last is None:
        return now.date()
    return last + timedelta(days=1)


def money_day(uow: UnitOfWork, now: datetime) -> date:
    """The business date for a money event, read under the book's shared day lock, so the event
    cannot land in a day an end of day is closing or has closed."""
    uow.book.hold_day(exclusive=False)
    return business_date(uow, now)


@dataclass(frozen=True, slots=True)
class EodRun:
    """What an end-of-day request did: the last date's counts, and how many days ran (0 when the
    date had run already)."""

    as_of: date
    days_run: int
    counts: EodCounts | None

    @property
    def already(self) -> bool:
        """The date had run before; nothing changed."""
        return self.days_run == 0


def run_eod(
    uow: UnitOfWork,
    user: User,
    as_of: date,
    *,
    now: datetime,
    notices: NoticePolicy | None = None,
    cases_policy: CollectionsPolicy = DEFAULT_POLICY,
) -> EodRun:
    """Run end of day up to ``as_of``, committing each day; with a notice policy each day's
    notices are queued after its close (``service_layer/notifications.py``), and the collection
    cases follow the day's buckets (``service_layer/collections.py``).

    Days run in calendar order: missing days before ``as_of`` run first (catch-up). A date after
    today is refused (a day that has not happened), so is a date before the book's first end of
    day, and so is catching up more than :data:`MAX_CATCH_UP` in one request.
    """
    require(user, Action.RUN_EOD)
    if as_of > now.date():
        raise InvalidRequestError(
            f"end of day cannot run for {as_of}: it is after today ({now.date()})"
        )
    if uow.book.last_eod_date() is None and now.date() - as_of > MAX_CATCH_UP:
        raise InvalidRequestError(
            f"as_of {as_of} is more than {MAX_CATCH_UP.days} days before today ({now.date()}) "
            "for a book's first end of day; check the year"
        )
    first = uow.book.first_eod_date()
    if first is not None and as_of < first:
        raise InvalidRequestError(
            f"end of day first ran for {first}; {as_of} is before the book's first business "
            "date and cannot run now"
        )
    last = uow.book.last_eod_date()
    if last is not None and as_of - last > MAX_CATCH_UP:
        raise InvalidRequestError(
            f"end of day last ran for {last}; catching up to {as_of} is more than "
            f"{MAX_CATCH_UP.days} days in one request: run it for {last + MAX_CATCH_UP} first"
        )
    day = as_of if last is None or last >= as_of else last + timedelta(days=1)
    days_run, counts = 0, None
    while day <= as_of:
        done = _run_one_day(uow, user, day, now=now, notices=notices, cases_policy=cases_policy)
        if done is not None:
            days_run, counts = days_run + 1, done
        day += timedelta(days=1)
    return EodRun(as_of, days_run, counts)


def _run_one_day(
    uow: UnitOfWork,
    user: User,
    day: date,
    *,
    now: datetime,
    notices: NoticePolicy | None = None,
    cases_policy: CollectionsPolicy = DEFAULT_POLICY,
) -> EodCounts | None:
    """One date of end of day in one transaction (suspense, the day's close, its notices, the
    collection cases)."""
    uow.book.hold_day(exclusive=True)
    if not uow.book.start_day(day, now):
        uow.rollback()
        return None
    # A borrower who paid before the due date is not overdue: apply suspense first (few loans).
    for loan_id in uow.loans.with_suspense_due(day):
        apply_suspense(uow, loan_id, day)
    counts = uow.book.close_day(day)
    queued = 0 if notices is None else queue_notices(uow, day, policy=notices, now=now)
    uow.book.finish_day(counts)
    update_cases(uow, day, cases_policy)
    uow.audit.append(
        user.name,
        "eod.run",
        f"eod:{day.isoformat()}",
        {
            "loans": counts.loans,
            "accrual_entries": counts.accrual_entries,
            "reminders": counts.reminders,
            **({} if notices is None else {"notices": queued, "notice_policy": notices.version}),
        },
        now,
    )
    uow.commit()
    return counts


def book_repayment(
    uow: UnitOfWork, loan: Loan, rep: Repayment, entry_id: str, booked_on: date, description: str
) -> JournalEntry:
    """Post a repayment's entry and give a revolving line back the principal repaid."""
    entry = entry_of(entry_id, booked_on, description, rep.legs, value_date=rep.value_date)
    uow.ledger.post(entry, loan.loan_id)
    if rep.principal.is_positive():
        line = uow.lines.get(loan.ref.line_id, lock=True)
        if line is not None:
            line.restore(rep.principal, rep.value_date)
            uow.lines.save(line)
    return entry


def apply_suspense(uow: UnitOfWork, loan_id: int, on: date) -> Repayment | None:
    """Apply a loan's suspense to what is due on ``on`` (one entry, audited by the day's run)."""
    loan = uow.loans.get(loan_id, lock=True)
    if loan is None:
        return None
    rep = loan.apply_suspense(on)
    if rep is None:
        return None
    uow.loans.save(loan)
    book_repayment(uow, loan, rep, f"sus-{loan_id}-{on.isoformat()}", on, SUSPENSE_DESCRIPTION)
    return rep


def close_day_by_domain(uow: UnitOfWork, as_of: date) -> EodCounts:
    """End of day for every active loan, loan by loan through the domain (the reference the
    set-based store path must equal)."""
    loans = uow.loans.get_many(uow.loans.active_ids(), lock=True)
    entries: list[tuple[JournalEntry, int | None]] = []
    reminders: list[Reminder] = []
    for loan_id in sorted(loans):
        loan = loans[loan_id]
        day = loan.close_day(as_of)
        uow.book.record_day(loan_id, day)
        if day.legs:
            entry = entry_of(accrual_entry_id(loan_id, as_of), as_of, ACCRUAL_DESCRIPTION, day.legs)
            entries.append((entry, loan_id))
        reminders.extend(day.reminders)
    uow.loans.save_many(loans.values())
    uow.ledger.post_many(entries)
    queued = uow.book.queue_reminders(reminders, as_of)
    return EodCounts(as_of, len(loans), len(entries), queued)
