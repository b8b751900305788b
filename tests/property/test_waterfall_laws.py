"""Laws of the repayment waterfall: conservation, order respected, oldest first (hypothesis)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import example, given
from hypothesis import strategies as st

from loomcredit.domain.money import Money
from loomcredit.domain.waterfall import (
    CIVIL_CODE_561,
    DEFAULT_ORDER,
    AllocationOrder,
    Component,
    DueItem,
    allocate,
)

BASE = date(2026, 1, 20)

# The priorities written out independently of the code under test.
DEFAULT_RANK = {"fee": 0, "penalty": 1, "compound": 2, "interest": 3, "principal": 4}
CIVIL_RANK = {"fee": 0, "interest": 1, "penalty": 2, "compound": 3, "principal": 4}
PER_INSTALLMENT = AllocationOrder(
    "per-installment-test", DEFAULT_ORDER.components, per_installment=True
)

due_items = st.lists(
    st.builds(
        lambda n, component, fen: DueItem(n, BASE + timedelta(days=30 * n), component, Money(fen)),
        st.integers(1, 12),
        st.sampled_from(list(Component)),
        st.integers(0, 5_000_000),
    ),
    max_size=30,
)
payments = st.integers(0, 30_000_000).map(Money.of_fen)
orders = st.sampled_from([DEFAULT_ORDER, CIVIL_CODE_561, PER_INSTALLMENT])


def priority(order: AllocationOrder, item: DueItem) -> tuple[int, int]:
    rank = (CIVIL_RANK if order is CIVIL_CODE_561 else DEFAULT_RANK)[item.component.value]
    age = item.due_on.toordinal()
    return (age, rank) if order.per_installment else (rank, age)


@given(payments, due_items, orders)
@example(Money.of_fen(1), [], DEFAULT_ORDER)
@example(Money.of_fen(0), [DueItem(1, BASE, Component.FEE, Money(0))], DEFAULT_ORDER)
def test_every_fen_lands_somewhere(payment, items, order):
    """Σ paid + suspense equals the payment exactly; nothing paid beyond what is due."""
    result = allocate(payment, items, order)
    assert sum(line.paid.minor for line in result.lines) + result.suspense.minor == payment.minor
    assert all(0 <= line.paid.minor <= line.item.amount.minor for line in result.lines)
    assert sorted(map(id, (line.item for line in result.lines))) == sorted(map(id, items))


@given(payments, due_items, orders)
def test_suspense_only_when_everything_is_paid(payment, items, order):
    """An overpayment goes to suspense only once every due item is fully paid."""
    result = allocate(payment, items, order)
    owed = sum(item.amount.minor for item in items)
    assert result.suspense.minor == max(payment.minor - owed, 0)


@given(payments, due_items, orders)
def test_order_respected(payment, items, order):
    """No item receives a fen while an item of higher priority is left unpaid."""
    result = allocate(payment, items, order)
    for a in result.lines:
        if a.paid.is_zero():
            continue
        for b in result.lines:
            if priority(order, b.item) < priority(order, a.item):
                assert b.paid == b.item.amount


@given(payments, due_items)
def test_oldest_first_within_a_component(payment, items):
    """Within a component, a later-due item is paid only after earlier-due ones are cleared."""
    result = allocate(payment, items)
    for a in result.lines:
        for b in result.lines:
            same = a.item.component is b.item.component
            if same and a.paid.is_positive() and b.item.due_on < a.item.due_on:
                assert b.paid == b.item.amount


@given(payments, payments, due_items)
def test_two_payments_equal_one(first, second, items):
    """Paying in two parts settles the same amounts as paying the sum at once."""
    once = allocate(first + second, items)
    part = allocate(first, items)
    rest = allocate(second, part.unpaid())
    remaining_once = sorted(
        (i.installment, i.component.value, i.amount.minor) for i in once.unpaid()
    )
    remaining_twice = sorted(
        (i.installment, i.component.value, i.amount.minor) for i in rest.unpaid()
    )
    assert remaining_once == remaining_twice
    assert once.suspense.minor == part.suspense.minor + rest.suspense.minor
