"""Use case: repayments (还款) with an Idempotency-Key — waterfall allocation, partial and early
repayment (interest to date, then principal; rest of the schedule recomputed from the
outstanding balance), overpayment held in suspense. Interest and penalty received settle the
receivables end of day recognised (accrual accounting), the rest is income at once."""

from __future__ import annotations

from datetime import date, datetime

from loomcredit.domain.accrual import accrue
from loomcredit.domain.errors import LoanStateError, NotFound
from loomcredit.domain.ledger import Account
from loomcredit.domain.money import Money, Rate, Round, round_fraction
from loomcredit.domain.schedule import Method, reschedule
from loomcredit.domain.waterfall import Allocation, Component, DueItem, allocate
from loomcredit.service_layer.disbursement import (
    INTEREST_INCOME,
    INTEREST_RECEIVABLE,
    LOAN_PRINCIPAL,
    PENALTY_INCOME,
    PENALTY_RECEIVABLE,
    SETTLEMENT,
    SUSPENSE,
    IdempotencyConflictError,
    post,
    schedule_rows,
)
from loomcredit.service_layer.origination import InvalidRequestError
from loomcredit.service_layer.unit_of_work import Row, UnitOfWork
from loomcredit.service_layer.users import Action, User, require, require_enterprise

E8 = 100_000_000


def penalty_due_fen(loan: Row) -> int:
    """Penalty and compound interest accrued and unpaid, rounded once (half up) to the fen."""
    from fractions import Fraction

    return max(
        0,
        round_fraction(Fraction(int(loan["accrued_penalty_e8"]), E8), Round.HALF_UP)
        - loan["penalty_paid_fen"],
    )


def due_items(loan: Row, insts: list[Row], on: date) -> list[DueItem]:
    """What is owed on ``on``: unpaid interest and principal of instalments due, plus penalty."""
    cur = loan["currency"]
    items: list[DueItem] = []
    for i in insts:
        if i["due_on"] > on:
            continue
        interest = i["interest_fen"] - i["interest_paid_fen"]
        principal = i["principal_fen"] - i["principal_paid_fen"]
        if interest:
            items.append(
                DueItem(i["number"], i["due_on"], Component.INTEREST, Money(interest, cur))
            )
        if principal:
            items.append(
                DueItem(i["number"], i["due_on"], Component.PRINCIPAL, Money(principal, cur))
            )
    pen = penalty_due_fen(loan)
    if pen:
        first = min((it for it in items), key=lambda it: it.due_on, default=None)
        number, due_on = (first.installment, first.due_on) if first else (0, on)
        items.append(DueItem(number, due_on, Component.PENALTY, Money(pen, cur)))
    return items


def repay(
    uow: UnitOfWork,
    user: User,
    loan_id: int,
    amount: Money,
    *,
    key: str,
    received_on: date,
    now: datetime,
    early: bool = False,
) -> Row:
    """Apply a repayment once per key.

    What is due is settled by the waterfall; with ``early`` the rest repays principal not yet
    due (提前还款): first the interest accrued on it since the last due date, then principal, and
    the remaining schedule is recomputed from the balance left. Anything beyond waits in suspense.
    """
    require(user, Action.REPAY)
    if not key or len(key) > 100:
        raise IdempotencyConflictError("an Idempotency-Key of 1-100 characters is required")
    if not amount.is_positive():
        raise InvalidRequestError("a repayment must be a positive amount")
    loan = uow.get_loan(loan_id, lock=True)
    if loan is None:
        raise NotFound(f"loan {loan_id} does not exist")
    require_enterprise(user, loan["uscc"])
    done = uow.get_repayment(key)
    if done is not None:
        if done["loan_id"] != loan_id or done["amount_fen"] != amount.minor:
            raise IdempotencyConflictError(
                "this Idempotency-Key was used for a different repayment"
            )
        return done
    if loan["status"] != "active":
        raise LoanStateError(f"loan {loan_id} is {loan['status']}; it takes no repayments")
    if amount.currency != loan["currency"]:
        raise InvalidRequestError(f"the loan is in {loan['currency']}")
    insts = uow.installments(loan_id)
    alloc = allocate(amount, due_items(loan, insts, received_on))
    principal, interest, penalty = _apply(alloc, insts)
    suspense = alloc.suspense.minor
    outstanding = loan["outstanding_fen"] - principal
    updates: Row = {}
    changed = [i for i in insts if i["due_on"] <= received_on]
    undue = undue_principal_after(insts, received_on, outstanding)
    to_date = interest_to_date(loan, insts, received_on, undue) if early and undue else 0
    if early and undue and suspense > to_date:
        prepaid = min(suspense - to_date, undue)
        suspense -= to_date + prepaid
        outstanding -= prepaid
        principal += prepaid
        interest += to_date
        uow.delete_installments(loan_id, [i["number"] for i in insts if i["due_on"] > received_on])
        changed += prepaid_schedule(loan, insts, received_on, to_date, prepaid)
        insts = changed
        updates["accrued_interest_e8"] = 0  # the period's interest is settled to this day
    uow.put_installments(loan_id, changed)
    closed = _closes(loan, insts, outstanding, penalty)
    legs, paid_fields = income_legs(loan, interest, penalty, closed=closed)
    uow.update_loan(
        loan_id,
        **updates,
        **paid_fields,
        outstanding_fen=outstanding,
        suspense_fen=loan["suspense_fen"] + suspense,
        status="closed" if closed else "active",
    )
    row = {
        "loan_id": loan_id,
        "idempotency_key": key,
        "amount_fen": amount.minor,
        "received_on": received_on,
        "early": int(early),
        "principal_fen": principal,
        "interest_fen": interest,
        "penalty_fen": penalty,
        "suspense_fen": suspense,
    }
    rep_id = uow.add_repayment(row)
    cur = loan["currency"]
    post(
        uow,
        f"rep-{rep_id}",
        loan_id,
        received_on,
        "repayment 还款",
        [
            (SETTLEMENT, amount),
            (LOAN_PRINCIPAL, Money(-principal, cur)),
            *((acct, Money(fen, cur)) for acct, fen in legs),
            (SUSPENSE, Money(-suspense, cur)),
        ],
    )
    uow.audit(
        user.name,
        "loan.repaid",
        f"loan:{loan_id}",
        {**row, "received_on": received_on.isoformat()},
        now,
    )
    if closed:
        uow.audit(user.name, "loan.closed", f"loan:{loan_id}", {}, now)
    return {**row, "id": rep_id, "loan_status": "closed" if closed else "active"}


def _apply(alloc: Allocation, insts: list[Row]) -> tuple[int, int, int]:
    """Mark what an allocation paid on the instalments; returns principal, interest, penalty."""
    by_line: dict[tuple[int, Component], int] = {}
    for line in alloc.lines:
        k = (line.item.installment, line.item.component)
        by_line[k] = by_line.get(k, 0) + line.paid.minor
    for i in insts:
        i["principal_paid_fen"] += by_line.get((i["number"], Component.PRINCIPAL), 0)
        i["interest_paid_fen"] += by_line.get((i["number"], Component.INTEREST), 0)
    by = {c: m.minor for c, m in alloc.by_component().items()}
    penalty = by.get(Component.PENALTY, 0) + by.get(Component.COMPOUND, 0)
    return by.get(Component.PRINCIPAL, 0), by.get(Component.INTEREST, 0), penalty


def _closes(loan: Row, insts: list[Row], outstanding: int, penalty: int) -> bool:
    """Nothing left: no principal, every instalment settled, no penalty unpaid."""
    return (
        outstanding == 0
        and all(
            i["principal_paid_fen"] >= i["principal_fen"]
            and i["interest_paid_fen"] >= i["interest_fen"]
            for i in insts
        )
        and penalty_due_fen({**loan, "penalty_paid_fen": loan["penalty_paid_fen"] + penalty}) == 0
    )


def income_legs(
    loan: Row, interest: int, penalty: int, *, closed: bool
) -> tuple[list[tuple[Account, int]], Row]:
    """Ledger credits for interest and penalty received, and the loan fields they change.

    Income already recognised by end of day is collected from its receivable (应收利息 /
    应收罚息); any part not yet recognised (paid before the day's accrual ran) is income at
    once. A loan that closes keeps no interest receivable: what the daily accrual recognised
    beyond the interest finally charged is reversed out of income.
    """
    received = loan["interest_received_fen"] + interest
    from_receivable = min(
        interest, max(0, loan["interest_recognised_fen"] - loan["interest_received_fen"])
    )
    direct = interest - from_receivable
    recognised = loan["interest_recognised_fen"] + direct
    excess = recognised - received if closed else 0
    pen_from_receivable = min(
        penalty, max(0, loan["penalty_recognised_fen"] - loan["penalty_paid_fen"])
    )
    legs = [
        (INTEREST_RECEIVABLE, -(from_receivable + excess)),
        (INTEREST_INCOME, -(direct - excess)),
        (PENALTY_RECEIVABLE, -pen_from_receivable),
        (PENALTY_INCOME, -(penalty - pen_from_receivable)),
    ]
    fields = {
        "interest_received_fen": received,
        "interest_recognised_fen": recognised - excess,
        "penalty_paid_fen": loan["penalty_paid_fen"] + penalty,
        "penalty_recognised_fen": loan["penalty_recognised_fen"] + penalty - pen_from_receivable,
    }
    return legs, fields


def interest_to_date(loan: Row, insts: list[Row], on: date, undue: int) -> int:
    """Interest on principal not yet due from the last due date (or the start) to ``on``.

    ACT/360 at the contract rate, rounded half up once. The balance not yet due is constant
    within a period (only a prepayment changes it, and a prepayment starts a new period), so
    this equals the daily accrual end of day books for the same days, to the fen.
    """
    last = max((i["due_on"] for i in insts if i["due_on"] <= on), default=loan["start_date"])
    last = max(last, loan["start_date"])
    if on <= last:
        return 0
    return accrue(Money(undue, loan["currency"]), Rate(loan["annual_rate"]), last, on).round().minor


def prepaid_schedule(
    loan: Row, insts: list[Row], on: date, to_date: int, prepaid: int
) -> list[Row]:
    """The instalments not yet due after a prepayment on ``on``.

    One settled line dated ``on`` records the interest to date and the principal prepaid; the
    principal left is rescheduled over the same remaining due dates by the loan's method (a
    custom plan keeps its shape: the principal left is spread in proportion to the old plan),
    numbered after it, and the first new line charges interest only from ``on``.
    """
    cur, rate = loan["currency"], Rate(loan["annual_rate"])
    undue = [i for i in insts if i["due_on"] > on]
    first = undue[0]["number"]
    settled: Row = {
        "number": first,
        "due_on": on,
        "principal_fen": prepaid,
        "interest_fen": to_date,
        "principal_paid_fen": prepaid,
        "interest_paid_fen": to_date,
    }
    left = sum(i["principal_fen"] - i["principal_paid_fen"] for i in undue) - prepaid
    if left == 0:
        return [settled]
    method = Method.parse(loan["method"])
    plan = None
    if method is Method.CUSTOM:
        weights = [i["principal_fen"] - i["principal_paid_fen"] for i in undue]
        plan = Money(left, cur).allocate_by(weights)
    sched = reschedule(
        Money(left, cur),
        rate,
        len(undue),
        undue[0]["due_on"],
        method,
        first_number=first + 1,
        principal_plan=plan,
    )
    rows = schedule_rows(sched)
    rows[0]["interest_fen"] = accrue(Money(left, cur), rate, on, rows[0]["due_on"]).round().minor
    return [settled, *rows]


def payoff_quote(uow: UnitOfWork, user: User, loan_id: int, on: date) -> Row:
    """提前还款试算 What repaying the whole loan on ``on`` costs: what is due (overdue and due that
    day, penalty included), interest to date on the principal not yet due, and that principal.
    Paying ``payoff_fen`` with ``early`` on that day closes the loan."""
    require(user, Action.READ_LOAN)
    loan = uow.get_loan(loan_id)
    if loan is None:
        raise NotFound(f"loan {loan_id} does not exist")
    require_enterprise(user, loan["uscc"])
    if loan["status"] != "active":
        raise LoanStateError(f"loan {loan_id} is {loan['status']}; there is nothing to repay")
    insts = uow.installments(loan_id)
    due = sum(item.amount.minor for item in due_items(loan, insts, on))
    undue = undue_principal_after(insts, on, loan["outstanding_fen"])
    to_date = interest_to_date(loan, insts, on, undue) if undue else 0
    return {
        "loan_id": loan_id,
        "on": on,
        "currency": loan["currency"],
        "due_fen": due,
        "interest_to_date_fen": to_date,
        "principal_not_due_fen": undue,
        "payoff_fen": due + to_date + undue,
    }


def undue_principal_after(insts: list[Row], on: date, outstanding: int) -> int:
    """Principal still owed beyond what is already due on ``on``."""
    due = sum(i["principal_fen"] - i["principal_paid_fen"] for i in insts if i["due_on"] <= on)
    return outstanding - due


def apply_suspense(uow: UnitOfWork, loan_id: int, on: date, *, now: datetime) -> int:
    """Apply money held in suspense (a payment that came before its due date) to what has fallen
    due on ``on``, by the same waterfall; returns the fen applied. Nothing due, nothing moves, so
    running it again for the same day changes nothing."""
    loan = uow.get_loan(loan_id, lock=True)
    if loan is None or loan["status"] != "active" or loan["suspense_fen"] <= 0:
        return 0
    cur = loan["currency"]
    insts = uow.installments(loan_id)
    items = due_items(loan, insts, on)
    if not items:
        return 0
    alloc = allocate(Money(loan["suspense_fen"], cur), items)
    principal, interest, penalty = _apply(alloc, insts)
    applied = principal + interest + penalty
    if applied == 0:
        return 0
    uow.put_installments(loan_id, [i for i in insts if i["due_on"] <= on])
    outstanding = loan["outstanding_fen"] - principal
    closed = _closes(loan, insts, outstanding, penalty)
    legs, paid_fields = income_legs(loan, interest, penalty, closed=closed)
    uow.update_loan(
        loan_id,
        **paid_fields,
        outstanding_fen=outstanding,
        suspense_fen=loan["suspense_fen"] - applied,
        status="closed" if closed else "active",
    )
    post(
        uow,
        f"sus-{loan_id}-{on.isoformat()}",
        loan_id,
        on,
        "suspense applied 暂收款冲抵到期款",
        [
            (SUSPENSE, Money(applied, cur)),
            (LOAN_PRINCIPAL, Money(-principal, cur)),
            *((acct, Money(fen, cur)) for acct, fen in legs),
        ],
    )
    uow.audit(
        "eod",
        "suspense.applied",
        f"loan:{loan_id}",
        {
            "on": on.isoformat(),
            "principal_fen": principal,
            "interest_fen": interest,
            "penalty_fen": penalty,
        },
        now,
    )
    return applied
