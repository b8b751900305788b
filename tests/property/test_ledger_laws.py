"""Ledger laws: random entries balance or are refused; reversals and trial balances net to zero."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.strategies import balanced_amounts, entries, monies

from loomcredit.domain.errors import LedgerError
from loomcredit.domain.ledger import (
    Account,
    JournalEntry,
    Posting,
    repayment_entry,
    reversal_of,
    trial_balance,
)
from loomcredit.domain.money import Money
from loomcredit.domain.waterfall import Component, DueItem, allocate

accounts = st.sampled_from(list(Account))
random_legs = st.lists(
    st.tuples(accounts, monies(currency=None, min_fen=-(10**6), max_fen=10**6)),
    min_size=0,
    max_size=6,
)


@st.composite
def nearly_balanced_legs(draw: st.DrawFn) -> list[tuple[Account, Money]]:
    """Balanced legs, sometimes nudged by a fen, so both outcomes are well covered."""
    amounts = draw(balanced_amounts())
    if draw(st.booleans()):
        k = draw(st.integers(min_value=0, max_value=len(amounts) - 1))
        amounts[k] = Money(amounts[k].minor + draw(st.sampled_from([-1, 1])), amounts[k].currency)
    return [(draw(accounts), m) for m in amounts]


legs = st.one_of(random_legs, nearly_balanced_legs())


@given(legs)
def test_random_postings_either_balance_or_are_refused(pairs):
    """Postings are accepted exactly when ≥2 legs, none zero, zero sum per currency."""
    sums: dict[str, int] = {}
    for _, m in pairs:
        sums[m.currency] = sums.get(m.currency, 0) + m.minor
    valid = (
        len(pairs) >= 2
        and all(not m.is_zero() for _, m in pairs)
        and all(v == 0 for v in sums.values())
    )
    postings = tuple(Posting(a, m) for a, m in pairs)
    if valid:
        JournalEntry("e", date(2026, 1, 1), "x", postings)
    else:
        with pytest.raises(LedgerError):
            JournalEntry("e", date(2026, 1, 1), "x", postings)


@given(entries())
def test_reversal_nets_to_zero(entry):
    """An entry and its reversal leave every account at zero, in every currency."""
    reversal = reversal_of(entry, "rev", date(2030, 1, 1))
    for currency in entry.currencies:
        assert all(m.is_zero() for m in trial_balance([entry, reversal], currency).values())


@given(st.lists(entries(), max_size=8))
def test_trial_balance_sums_to_zero(batch):
    """However many balanced entries are booked, the trial balance sums to zero per currency."""
    for currency in ("CNY", "USD"):
        assert sum(m.minor for m in trial_balance(batch, currency).values()) == 0


@given(
    st.integers(min_value=0, max_value=10**8),
    st.lists(
        st.tuples(st.sampled_from(list(Component)), st.integers(min_value=0, max_value=10**7)),
        min_size=1,
        max_size=8,
    ),
)
def test_repayment_entry_books_every_fen_of_the_payment(payment_fen, items):
    """Dr settlement equals the payment, and credits cover allocation plus suspense exactly."""
    due = [DueItem(1, date(2026, 2, 20), c, Money(f)) for c, f in items]
    allocation = allocate(Money(payment_fen), due)
    if payment_fen == 0:
        with pytest.raises(LedgerError):
            repayment_entry("r", date(2026, 2, 20), allocation)
        return
    entry = repayment_entry("r", date(2026, 2, 20), allocation)
    assert entry.amount_on(Account.SETTLEMENT) == Money(payment_fen)
    assert entry.amount_on(Account.SUSPENSE) == -allocation.suspense
