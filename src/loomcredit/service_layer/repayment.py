"""Use case: repayments (还款) with an Idempotency-Key — waterfall allocation, partial and early
repayment (rest of the schedule recomputed from the outstanding balance), overpayment held
in suspense."""

from __future__ import annotations

from datetime import date, datetime

from loomcredit.domain.errors import LoanStateError, NotFound
from loomcredit.domain.money import Money, Rate, Round, round_fraction
from loomcredit.domain.schedule import Method, reschedule
from loomcredit.domain.waterfall import Component, DueItem, allocate
from loomcredit.service_layer.disbursement import (
    INTEREST_INCOME,
    LOAN_PRINCIPAL,
    PENALTY_INCOME,
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


def repay(  # noqa: C901 - one transaction, read top to bottom
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
    """Apply a repayment once per key; ``early`` puts the rest of the payment on principal."""
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
    paid: dict[tuple[int, Component], int] = {}
    for line in alloc.lines:
        k = (line.item.installment, line.item.component)
        paid[k] = paid.get(k, 0) + line.paid.minor
    by = {c: m.minor for c, m in alloc.by_component().items()}
    principal = by.get(Component.PRINCIPAL, 0)
    interest = by.get(Component.INTEREST, 0)
    penalty = by.get(Component.PENALTY, 0) + by.get(Component.COMPOUND, 0)
    suspense = alloc.suspense.minor
    for i in insts:
        p = paid.get((i["number"], Component.PRINCIPAL), 0)
        n = paid.get((i["number"], Component.INTEREST), 0)
        i["principal_paid_fen"] += p
        i["interest_paid_fen"] += n
    outstanding = loan["outstanding_fen"] - principal
    undue = [i for i in insts if i["due_on"] > received_on]
    prepaid = 0
    if early and suspense and undue:
        prepaid = min(suspense, sum(i["principal_fen"] - i["principal_paid_fen"] for i in undue))
        suspense -= prepaid
        outstanding -= prepaid
        principal += prepaid
    if prepaid:
        if outstanding == 0 or undue_principal_after(insts, received_on, outstanding) == 0:
            uow.delete_installments(loan_id, [i["number"] for i in undue])
            insts = [i for i in insts if i["due_on"] <= received_on]
        else:
            undue_outstanding = outstanding - sum(
                i["principal_fen"] - i["principal_paid_fen"]
                for i in insts
                if i["due_on"] <= received_on
            )
            sched = reschedule(
                Money(undue_outstanding, loan["currency"]),
                Rate(loan["annual_rate"]),
                len(undue),
                undue[0]["due_on"],
                Method.parse(loan["method"]),
                first_number=undue[0]["number"],
            )
            new_rows = schedule_rows(sched)
            insts = [i for i in insts if i["due_on"] <= received_on] + new_rows
    uow.put_installments(
        loan_id, [i for i in insts if i["due_on"] <= received_on] if not prepaid else insts
    )
    closed = (
        outstanding == 0
        and all(
            i["principal_paid_fen"] >= i["principal_fen"]
            and i["interest_paid_fen"] >= i["interest_fen"]
            for i in insts
        )
        and penalty_due_fen({**loan, "penalty_paid_fen": loan["penalty_paid_fen"] + penalty}) == 0
    )
    uow.update_loan(
        loan_id,
        outstanding_fen=outstanding,
        penalty_paid_fen=loan["penalty_paid_fen"] + penalty,
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
            (INTEREST_INCOME, Money(-interest, cur)),
            (PENALTY_INCOME, Money(-penalty, cur)),
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
    by = {c: m.minor for c, m in alloc.by_component().items()}
    principal = by.get(Component.PRINCIPAL, 0)
    interest = by.get(Component.INTEREST, 0)
    penalty = by.get(Component.PENALTY, 0) + by.get(Component.COMPOUND, 0)
    applied = principal + interest + penalty
    if applied == 0:
        return 0
    for line in alloc.lines:
        for i in insts:
            if i["number"] == line.item.installment:
                if line.item.component is Component.PRINCIPAL:
                    i["principal_paid_fen"] += line.paid.minor
                elif line.item.component is Component.INTEREST:
                    i["interest_paid_fen"] += line.paid.minor
    uow.put_installments(loan_id, [i for i in insts if i["due_on"] <= on])
    outstanding = loan["outstanding_fen"] - principal
    settled = all(
        i["principal_paid_fen"] >= i["principal_fen"]
        and i["interest_paid_fen"] >= i["interest_fen"]
        for i in insts
    )
    paid_penalty = loan["penalty_paid_fen"] + penalty
    closed = (
        outstanding == 0
        and settled
        and penalty_due_fen({**loan, "penalty_paid_fen": paid_penalty}) == 0
    )
    uow.update_loan(
        loan_id,
        outstanding_fen=outstanding,
        penalty_paid_fen=paid_penalty,
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
            (INTEREST_INCOME, Money(-interest, cur)),
            (PENALTY_INCOME, Money(-penalty, cur)),
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
