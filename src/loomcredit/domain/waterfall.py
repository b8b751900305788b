"""Repayment waterfall (还款冲抵顺序): which due items a payment settles, in which order.

DOMAIN.md §8: the legal default (民法典 Art. 561) is costs of enforcing the claim → interest →
principal, unless the contract says otherwise; bank contracts usually refine it to fees → penalty
and compound interest → normal interest → principal, oldest instalment first. The order is a
versioned policy value (:class:`AllocationOrder`) that keeps the contract clause justifying it,
so an allocation can be explained years later.

Conservation is by construction: every fen of a payment is either paid to a due item or held in
suspense (挂账) as an overpayment; ``sum(paid) + suspense == payment`` to the fen.

>>> items = [
...     DueItem(1, date(2026, 2, 20), Component.INTEREST, Money.parse("300")),
...     DueItem(1, date(2026, 2, 20), Component.PRINCIPAL, Money.parse("1000")),
...     DueItem(1, date(2026, 2, 20), Component.PENALTY, Money.parse("12.50")),
... ]
>>> result = allocate(Money.parse("500"), items)
>>> [(line.item.component.value, line.paid.amount_str()) for line in result.lines]
[('penalty', '12.50'), ('interest', '300.00'), ('principal', '187.50')]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import Enum

from loomcredit.domain.errors import CurrencyMismatch, InvalidAmount, PolicyViolation
from loomcredit.domain.money import Money

__all__ = [
    "CIVIL_CODE_561",
    "DEFAULT_ORDER",
    "Allocation",
    "AllocationLine",
    "AllocationOrder",
    "Component",
    "DueItem",
    "allocate",
]


class Component(Enum):
    """Kind of amount an instalment can owe."""

    FEE = "fee"
    PENALTY = "penalty"
    COMPOUND = "compound"
    INTEREST = "interest"
    PRINCIPAL = "principal"

    @property
    def label_zh(self) -> str:
        """Chinese name of the component."""
        return {
            Component.FEE: "费用",
            Component.PENALTY: "罚息",
            Component.COMPOUND: "复利",
            Component.INTEREST: "利息",
            Component.PRINCIPAL: "本金",
        }[self]


@dataclass(frozen=True, slots=True)
class DueItem:
    """One amount owed: a component of an instalment, due on a date (应收项)."""

    installment: int
    due_on: date
    component: Component
    amount: Money

    def __post_init__(self) -> None:
        if self.amount.is_negative():
            raise InvalidAmount(
                f"Instalment {self.installment} {self.component.value} owes a negative amount "
                f"({self.amount})."
            )


@dataclass(frozen=True, slots=True)
class AllocationOrder:
    """A versioned allocation policy and the contract clause that justifies it.

    Attributes:
        version: identifier stored with every allocation made under this order.
        components: every :class:`Component` once, highest priority first.
        oldest_first: settle the oldest due date first (else the newest first).
        clause: the contract or legal text the order comes from.
        per_installment: settle each instalment completely (in component order) before the next
            one; by default all instalments' first component is settled before any second one.
    """

    version: str
    components: tuple[Component, ...]
    oldest_first: bool = True
    clause: str = ""
    per_installment: bool = False

    def __post_init__(self) -> None:
        if sorted(c.value for c in self.components) != sorted(c.value for c in Component):
            raise PolicyViolation(
                f"Allocation order {self.version!r} must rank every component exactly once."
            )

    def rank(self, component: Component) -> int:
        """Priority of a component: 0 is settled first."""
        return self.components.index(component)

    def sort_key(self, item: DueItem) -> tuple[int, int, int]:
        """Key that sorts due items into settlement order."""
        when = item.due_on.toordinal() if self.oldest_first else -item.due_on.toordinal()
        number = item.installment if self.oldest_first else -item.installment
        rank = self.rank(item.component)
        if self.per_installment:
            return (when, number, rank)
        return (rank, when, number)


DEFAULT_ORDER = AllocationOrder(
    version="loom-default-v1",
    components=(
        Component.FEE,
        Component.PENALTY,
        Component.COMPOUND,
        Component.INTEREST,
        Component.PRINCIPAL,
    ),
    oldest_first=True,
    clause=(
        "借款人还款不足以清偿全部到期债务的，按费用、罚息和复利、利息、本金的顺序清偿，"
        "同一顺序内先到期者先清偿。 A partial payment settles fees, then penalty and compound "
        "interest, then interest, then principal; within each, the oldest due item first."
    ),
)
"""Bank practice: fees → penalty and compound interest → interest → principal, oldest first."""

CIVIL_CODE_561 = AllocationOrder(
    version="civil-code-561-v1",
    components=(
        Component.FEE,
        Component.INTEREST,
        Component.PENALTY,
        Component.COMPOUND,
        Component.PRINCIPAL,
    ),
    oldest_first=True,
    clause=(
        "《民法典》第五百六十一条：债务人在履行主债务外还应当支付利息和实现债权的有关费用，"
        "其给付不足以清偿全部债务的，除当事人另有约定外，应当按照下列顺序履行："
        "（一）实现债权的有关费用；（二）利息；（三）主债务。 Civil Code Art. 561: costs of "
        "enforcing the claim, then interest, then principal (Art. 560: the debt due first)."
    ),
)
"""The statutory default when the contract is silent; the law does not rank kinds of interest,
so normal interest precedes penalty and compound interest here."""


@dataclass(frozen=True, slots=True)
class AllocationLine:
    """How much of a payment went to one due item."""

    item: DueItem
    paid: Money

    @property
    def remaining(self) -> Money:
        """What is still owed on the item after this payment."""
        return self.item.amount - self.paid


@dataclass(frozen=True, slots=True)
class Allocation:
    """The result of allocating one payment: a line per due item (in settlement order) and the
    overpayment held in suspense."""

    lines: tuple[AllocationLine, ...]
    suspense: Money
    order_version: str = DEFAULT_ORDER.version

    @property
    def paid(self) -> Money:
        """Total applied to due items (the payment less suspense)."""
        total = Money.zero(self.suspense.currency)
        for line in self.lines:
            total = total + line.paid
        return total

    def by_component(self) -> dict[Component, Money]:
        """Total applied per component (components with nothing due are absent)."""
        totals: dict[Component, Money] = {}
        for line in self.lines:
            kind = line.item.component
            totals[kind] = totals.get(kind, Money.zero(self.suspense.currency)) + line.paid
        return totals

    def unpaid(self) -> tuple[DueItem, ...]:
        """Due items still (partly) owed after this payment, with their remaining amounts."""
        return tuple(
            DueItem(line.item.installment, line.item.due_on, line.item.component, line.remaining)
            for line in self.lines
            if line.remaining.is_positive()
        )


def allocate(
    payment: Money, due_items: Sequence[DueItem], order: AllocationOrder = DEFAULT_ORDER
) -> Allocation:
    """Allocate a payment to due items in the order's priority; the rest goes to suspense.

    Args:
        payment: amount received (zero or more).
        due_items: what is owed; any order, same currency as the payment.
        order: the allocation policy (:data:`DEFAULT_ORDER` by default).

    Returns:
        One :class:`AllocationLine` per due item in settlement order, and the suspense amount.

    Raises:
        InvalidAmount: a negative payment.
        CurrencyMismatch: a due item in another currency.
    """
    if payment.is_negative():
        raise InvalidAmount(f"A payment cannot be negative ({payment}).")
    for item in due_items:
        if item.amount.currency != payment.currency:
            raise CurrencyMismatch(payment.currency, item.amount.currency)
    indexed = sorted(enumerate(due_items), key=lambda pair: (*order.sort_key(pair[1]), pair[0]))
    left = payment
    lines: list[AllocationLine] = []
    for _, item in indexed:
        paid = item.amount if item.amount <= left else left
        left = left - paid
        lines.append(AllocationLine(item, paid))
    return Allocation(tuple(lines), left, order.version)
