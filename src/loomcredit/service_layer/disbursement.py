"""Use cases: disbursement exactly once (Idempotency-Key), write-off and its reversal."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from loomcredit.domain.errors import LoanStateError, LoomError, NotFound
from loomcredit.domain.ledger import Account, JournalEntry, Posting, reversal_of
from loomcredit.domain.money import Money
from loomcredit.domain.schedule import Schedule
from loomcredit.service_layer.loan_plan import approved_amount, loan_plan
from loomcredit.service_layer.unit_of_work import DuplicateKey, Row, UnitOfWork
from loomcredit.service_layer.users import Action, User, require, require_enterprise

# Accounts of the domain chart used here; the book stores each posting under ``Account.name``.
SETTLEMENT = Account.SETTLEMENT
LOAN_PRINCIPAL = Account.LOAN_PRINCIPAL
INTEREST_INCOME = Account.INTEREST_INCOME
PENALTY_INCOME = Account.PENALTY_INCOME
INTEREST_RECEIVABLE = Account.INTEREST_RECEIVABLE
PENALTY_RECEIVABLE = Account.PENALTY_RECEIVABLE
SUSPENSE = Account.SUSPENSE
WRITE_OFF = Account.WRITE_OFF


class IdempotencyConflictError(LoomError):
    """An Idempotency-Key reused for a different request, or a second key for a done action."""


def post(
    uow: UnitOfWork,
    entry_id: str,
    loan_id: int | None,
    booked_on: date,
    description: str,
    lines: list[tuple[Account, Money]],
    reverses: str | None = None,
) -> JournalEntry:
    """Post a journal entry; zero lines are dropped, then the domain ledger validates it
    (≥ 2 postings, balanced per currency, no zero posting)."""
    postings = tuple(Posting(acct, m) for acct, m in lines if not m.is_zero())
    entry = JournalEntry(entry_id, booked_on, description, postings, reverses)
    uow.post_entry(
        entry_id,
        loan_id,
        booked_on,
        description,
        [(p.account.name, p.amount.minor, p.amount.currency) for p in entry.postings],
        reverses,
    )
    return entry


def schedule_rows(sched: Schedule) -> list[Row]:
    """Instalment rows for storage."""
    return [
        {
            "number": i.number,
            "due_on": i.due_on,
            "principal_fen": i.principal.minor,
            "interest_fen": i.interest.minor,
            "principal_paid_fen": 0,
            "interest_paid_fen": 0,
        }
        for i in sched.installments
    ]


def disburse(
    uow: UnitOfWork, user: User, app_id: int, *, key: str, as_of: date, now: datetime
) -> Row:
    """Disburse an accepted application once; the same key returns the same loan.

    The application row is locked (``SELECT … FOR UPDATE`` on PostgreSQL) and the loan table has
    unique constraints on both the application and the key, so concurrent duplicates cannot both
    succeed.
    """
    require(user, Action.DISBURSE)
    if not key or len(key) > 100:
        raise IdempotencyConflictError("an Idempotency-Key of 1-100 characters is required")
    app = uow.get_application(app_id, lock=True)
    if app is None:
        raise NotFound(f"application {app_id} does not exist")
    require_enterprise(user, app["uscc"])
    existing = uow.find_loan(key=key)
    if existing is not None:
        if existing["application_id"] != app_id:
            raise IdempotencyConflictError("this Idempotency-Key was used for another application")
        return existing
    if app["status"] == "disbursed":
        raise IdempotencyConflictError(
            f"application {app_id} was already disbursed under another key"
        )
    if app["status"] != "accepted":
        raise LoanStateError(
            f"application {app_id} is {app['status']}; the contract must be accepted first"
        )
    amount = approved_amount(app)
    plan = loan_plan(app, as_of)  # the contract's plan and schedule for this start date
    row = {
        "application_id": app_id,
        "disbursement_key": key,
        "uscc": app["uscc"],
        "principal_fen": amount.minor,
        "currency": amount.currency,
        "annual_rate": app["annual_rate"],
        "rate_ppm": int(Decimal(app["annual_rate"]) * 1_000_000),
        "penalty_uplift": app["penalty_uplift"],
        "uplift_pct": int(Decimal(app["penalty_uplift"]) * 100),
        "method": plan.method.value,
        "start_date": as_of,
        "status": "active",
        "outstanding_fen": amount.minor,
        "disbursed_at": now,
    }
    try:
        loan_id = uow.add_loan(row)
    except DuplicateKey:
        raise IdempotencyConflictError(
            "a concurrent request disbursed this application; retry to read it"
        ) from None
    uow.put_installments(loan_id, schedule_rows(plan.schedule))
    post(
        uow,
        f"disb-{loan_id}",
        loan_id,
        as_of,
        "disbursement 放款",
        [(LOAN_PRINCIPAL, amount), (SETTLEMENT, -amount)],
    )
    uow.update_application(app_id, status="disbursed", updated_at=now)
    uow.audit(
        user.name,
        "loan.disbursed",
        f"loan:{loan_id}",
        {"amount_fen": amount.minor, "key": key},
        now,
    )
    loan = uow.get_loan(loan_id)
    if loan is None:  # pragma: no cover - inserted just above
        raise NotFound(f"loan {loan_id} vanished")
    return loan


def write_off(uow: UnitOfWork, user: User, loan_id: int, *, as_of: date, now: datetime) -> Row:
    """Write off (核销) the outstanding principal and the interest and penalty recognised but not
    received, as one entry; the loan leaves the active book (the claim itself remains)."""
    require(user, Action.WRITE_OFF)
    loan = uow.get_loan(loan_id, lock=True)
    if loan is None:
        raise NotFound(f"loan {loan_id} does not exist")
    if loan["status"] != "active" or loan["outstanding_fen"] <= 0:
        raise LoanStateError(
            f"loan {loan_id} is {loan['status']}; only active loans with principal"
        )
    cur = loan["currency"]
    amount = Money(loan["outstanding_fen"], cur)
    interest = Money(max(0, loan["interest_recognised_fen"] - loan["interest_received_fen"]), cur)
    penalty = Money(max(0, loan["penalty_recognised_fen"] - loan["penalty_paid_fen"]), cur)
    entry = f"wo-{loan_id}-{as_of.isoformat()}"
    post(
        uow,
        entry,
        loan_id,
        as_of,
        "write-off 核销",
        [
            (WRITE_OFF, amount + interest + penalty),
            (LOAN_PRINCIPAL, -amount),
            (INTEREST_RECEIVABLE, -interest),
            (PENALTY_RECEIVABLE, -penalty),
        ],
    )
    uow.update_loan(
        loan_id,
        status="written_off",
        outstanding_fen=0,
        interest_recognised_fen=loan["interest_recognised_fen"] - interest.minor,
        penalty_recognised_fen=loan["penalty_recognised_fen"] - penalty.minor,
    )
    uow.audit(
        user.name,
        "loan.written_off",
        f"loan:{loan_id}",
        {
            "amount_fen": amount.minor,
            "interest_fen": interest.minor,
            "penalty_fen": penalty.minor,
            "entry": entry,
        },
        now,
    )
    return {"loan_id": loan_id, "entry_id": entry, "amount": amount}


def reverse_write_off(
    uow: UnitOfWork, user: User, loan_id: int, entry_id: str, *, as_of: date, now: datetime
) -> Row:
    """Reverse a write-off with a mirror entry (never an edit); the loan is active again."""
    require(user, Action.WRITE_OFF)
    loan = uow.get_loan(loan_id, lock=True)
    lines = uow.entry_lines(entry_id)
    if loan is None or not lines or not entry_id.startswith(f"wo-{loan_id}-"):
        raise NotFound(f"no write-off {entry_id} on loan {loan_id}")
    if uow.entry_reversed(entry_id) or loan["status"] != "written_off":
        raise LoanStateError(f"write-off {entry_id} has already been reversed")
    original = JournalEntry(
        entry_id, as_of, "write-off", tuple(Posting(Account[a], Money(f, c)) for a, f, c in lines)
    )
    rev_id = f"rev-{entry_id}"
    mirror = reversal_of(original, rev_id, as_of)
    post(
        uow,
        rev_id,
        loan_id,
        as_of,
        "reversal 冲正",
        [(p.account, p.amount) for p in mirror.postings],
        reverses=entry_id,
    )
    cur = loan["currency"]
    uow.update_loan(
        loan_id,
        status="active",
        outstanding_fen=-original.amount_on(LOAN_PRINCIPAL, cur).minor,
        interest_recognised_fen=loan["interest_recognised_fen"]
        - original.amount_on(INTEREST_RECEIVABLE, cur).minor,
        penalty_recognised_fen=loan["penalty_recognised_fen"]
        - original.amount_on(PENALTY_RECEIVABLE, cur).minor,
    )
    uow.audit(user.name, "entry.reversed", f"loan:{loan_id}", {"entry": entry_id}, now)
    return {"loan_id": loan_id, "entry_id": rev_id, "reverses": entry_id}
