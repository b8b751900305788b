"""Recomputing a loan from its history (重算): the basis of back-valued events (倒起息).

A back-valued receipt never changes a closed day in place. It is booked on the business date
with its value date, and the loan is recomputed: :func:`replay` starts from the loan as disbursed
and runs every day again — the day's receipts in booking order, suspense applied to what falls
due, end of day — up to the last closed day, then the receipts booked on the business date. The
difference between the recomputed loan and the booked one is posted as one entry on the business
date (:func:`recompute_legs`). Replaying the same history gives back the same loan, to the fen.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from loomcredit.domain.errors import LoanStateError
from loomcredit.domain.ledger import Account
from loomcredit.domain.loan import Legs, Loan, LoanStatus, Repayment
from loomcredit.domain.money import Money

__all__ = ["MoneyEvent", "Replayed", "recompute_legs", "replay"]

_NON_CASH = (
    Account.LOAN_PRINCIPAL,
    Account.INTEREST_RECEIVABLE,
    Account.INTEREST_INCOME,
    Account.PENALTY_RECEIVABLE,
    Account.PENALTY_INCOME,
    Account.SUSPENSE,
)


@dataclass(frozen=True, slots=True)
class MoneyEvent:
    """A receipt in a loan's history: value date, amount, early or not, and a tag to find its
    recomputed split (the receipt's bank reference)."""

    value_date: date
    amount: Money
    early: bool
    tag: str


@dataclass(frozen=True, slots=True)
class Replayed:
    """The recomputed loan and what each receipt did in the recompute (by tag)."""

    loan: Loan
    repayments: dict[str, Repayment]


def replay(
    original: Loan, events: Sequence[MoneyEvent], *, closed_through: date | None
) -> Replayed:
    """Run a loan's history again from disbursement.

    Args:
        original: the loan as disbursed (nothing paid, nothing accrued).
        events: its receipts in booking order (a back-valued one placed where it belongs).
        closed_through: the last day end of day closed (None: none yet).

    Returns:
        The loan as the history makes it, and each receipt's split.
    """
    loan = copy.deepcopy(original)
    loan.events = []
    start = loan.terms.start_date
    done: dict[str, Repayment] = {}
    by_day: dict[date, list[MoneyEvent]] = {}
    for ev in events:
        if ev.value_date < start:
            raise LoanStateError(f"a receipt valued {ev.value_date} is before the loan started")
        by_day.setdefault(ev.value_date, []).append(ev)
    day = start
    while closed_through is not None and day <= closed_through:
        _receive(loan, by_day.pop(day, []), day, done)
        if loan.status is LoanStatus.ACTIVE:
            loan.apply_suspense(day)
        if loan.status is LoanStatus.ACTIVE:
            loan.close_day(day)
        day += timedelta(days=1)
    for value_date in sorted(by_day):
        _receive(loan, by_day[value_date], value_date, done)
    return Replayed(loan, done)


def _receive(loan: Loan, events: list[MoneyEvent], day: date, done: dict[str, Repayment]) -> None:
    for ev in events:
        if loan.status is not LoanStatus.ACTIVE:
            raise LoanStateError(
                f"loan {loan.loan_id} was {loan.status.value} by {day}; the receipt {ev.tag} "
                "cannot be applied in the recompute"
            )
        done[ev.tag] = loan.repay(ev.amount, day, early=ev.early)


def recompute_legs(
    recomputed: Loan, booked: dict[Account, Money], receipt: Money, source: Account
) -> Legs:
    """The entry that takes the books from ``booked`` (the loan's balances per account) to what
    the recomputed loan says, for a new receipt of ``receipt`` debited to ``source``.

    Raises:
        LoanStateError: the loan's books hold accounts a recompute does not cover.
    """
    cur = recomputed.currency
    target = recomputed.account_balances(Money.zero(cur), Money.zero(cur))
    legs: list[tuple[Account, Money]] = [(source, receipt)]
    for account in _NON_CASH:
        delta = target[account] - booked.get(account, Money.zero(cur))
        if not delta.is_zero():
            legs.append((account, delta))
    others = set(booked) - set(_NON_CASH) - {Account.SETTLEMENT, Account.UNIDENTIFIED}
    if any(not booked[a].is_zero() for a in others):
        raise LoanStateError(
            "the loan's books hold write-off or fee entries; it cannot be recomputed"
        )
    return tuple(legs)
