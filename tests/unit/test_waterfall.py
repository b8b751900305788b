"""Repayment waterfall: allocation order, oldest first, suspense (DOMAIN.md §8)."""

from __future__ import annotations

from datetime import date

import pytest

from loomcredit.domain.errors import CurrencyMismatch, InvalidAmount, PolicyViolation
from loomcredit.domain.money import Money
from loomcredit.domain.waterfall import (
    CIVIL_CODE_561,
    DEFAULT_ORDER,
    AllocationOrder,
    Component,
    DueItem,
    allocate,
)

JAN, FEB = date(2026, 1, 20), date(2026, 2, 20)


def M(text: str) -> Money:
    return Money.parse(text)


def two_overdue_installments() -> list[DueItem]:
    """Instalment 1 (Jan): penalty 10, interest 100, principal 1,000; 2 (Feb): 5, 90, 1,000."""
    return [
        DueItem(2, FEB, Component.PRINCIPAL, M("1000")),
        DueItem(1, JAN, Component.PRINCIPAL, M("1000")),
        DueItem(2, FEB, Component.INTEREST, M("90")),
        DueItem(1, JAN, Component.INTEREST, M("100")),
        DueItem(2, FEB, Component.PENALTY, M("5")),
        DueItem(1, JAN, Component.PENALTY, M("10")),
    ]


def paid_map(allocation) -> dict[tuple[int, str], str]:
    return {
        (line.item.installment, line.item.component.value): line.paid.amount_str()
        for line in allocation.lines
    }


class TestDefaultOrder:
    def test_penalty_then_interest_then_principal_oldest_first(self):
        """300 pays both penalties (15), both interests (190), then 95 of the oldest principal."""
        result = allocate(M("300"), two_overdue_installments())
        assert paid_map(result) == {
            (1, "penalty"): "10.00",
            (2, "penalty"): "5.00",
            (1, "interest"): "100.00",
            (2, "interest"): "90.00",
            (1, "principal"): "95.00",
            (2, "principal"): "0.00",
        }
        assert result.suspense.is_zero()

    def test_fees_come_first(self):
        """A fee is settled before any penalty or interest."""
        items = [*two_overdue_installments(), DueItem(2, FEB, Component.FEE, M("20"))]
        result = allocate(M("25"), items)
        assert paid_map(result)[(2, "fee")] == "20.00"
        assert paid_map(result)[(1, "penalty")] == "5.00"

    def test_compound_after_penalty_before_interest(self):
        """Compound interest sits with penalty interest, ahead of normal interest."""
        items = [
            DueItem(1, JAN, Component.INTEREST, M("100")),
            DueItem(1, JAN, Component.COMPOUND, M("3")),
            DueItem(1, JAN, Component.PENALTY, M("10")),
        ]
        result = allocate(M("12"), items)
        assert paid_map(result) == {
            (1, "penalty"): "10.00",
            (1, "compound"): "2.00",
            (1, "interest"): "0.00",
        }

    def test_overpayment_held_in_suspense(self):
        """Paying more than is due leaves the excess in suspense (挂账): 2,300 - 2,205 = 95."""
        result = allocate(M("2300"), two_overdue_installments())
        assert result.suspense == M("95")
        assert result.paid == M("2205")
        assert result.unpaid() == ()

    def test_zero_payment_pays_nothing(self):
        """A zero payment changes nothing and holds nothing."""
        result = allocate(Money.zero(), two_overdue_installments())
        assert result.paid.is_zero()
        assert result.suspense.is_zero()
        assert len(result.unpaid()) == 6

    def test_by_component_and_unpaid(self):
        """The summary per component and the remaining items follow the allocation."""
        result = allocate(M("300"), two_overdue_installments())
        assert result.by_component() == {
            Component.PENALTY: M("15"),
            Component.INTEREST: M("190"),
            Component.PRINCIPAL: M("95"),
        }
        assert result.unpaid() == (
            DueItem(1, JAN, Component.PRINCIPAL, M("905")),
            DueItem(2, FEB, Component.PRINCIPAL, M("1000")),
        )

    def test_version_is_recorded(self):
        """The allocation records the order's version for audit."""
        assert allocate(M("1"), two_overdue_installments()).order_version == "loom-default-v1"


class TestOtherOrders:
    def test_civil_code_561_interest_before_penalty(self):
        """民法典 Art. 561: costs, then interest, then principal; penalty after normal interest."""
        result = allocate(M("195"), two_overdue_installments(), CIVIL_CODE_561)
        assert paid_map(result)[(1, "interest")] == "100.00"
        assert paid_map(result)[(2, "interest")] == "90.00"
        assert paid_map(result)[(1, "penalty")] == "5.00"
        assert paid_map(result)[(2, "penalty")] == "0.00"
        assert "第五百六十一条" in CIVIL_CODE_561.clause
        assert result.order_version == "civil-code-561-v1"

    def test_per_installment_clears_the_oldest_instalment_first(self):
        """Per instalment: 300 clears instalment 1's penalty and interest, then 190 principal."""
        order = AllocationOrder(
            "per-installment-v1", DEFAULT_ORDER.components, per_installment=True, clause="test"
        )
        result = allocate(M("300"), two_overdue_installments(), order)
        assert paid_map(result)[(1, "principal")] == "190.00"
        assert paid_map(result)[(2, "penalty")] == "0.00"

    def test_newest_first(self):
        """With oldest_first off, the February penalty is paid before the January one."""
        order = AllocationOrder("newest-v1", DEFAULT_ORDER.components, oldest_first=False)
        result = allocate(M("7"), two_overdue_installments(), order)
        assert paid_map(result)[(2, "penalty")] == "5.00"
        assert paid_map(result)[(1, "penalty")] == "2.00"

    def test_order_must_rank_every_component(self):
        """An order that leaves out a component is refused."""
        with pytest.raises(PolicyViolation, match="every component"):
            AllocationOrder("bad", (Component.INTEREST, Component.PRINCIPAL))


class TestRefusals:
    def test_negative_payment(self):
        """A negative payment is refused."""
        with pytest.raises(InvalidAmount):
            allocate(M("-1"), two_overdue_installments())

    def test_negative_due_item(self):
        """A due item cannot owe a negative amount."""
        with pytest.raises(InvalidAmount):
            DueItem(1, JAN, Component.INTEREST, M("-1"))

    def test_currency_mismatch(self):
        """A payment in one currency cannot settle items in another."""
        with pytest.raises(CurrencyMismatch):
            allocate(Money.parse("10", "USD"), two_overdue_installments())
