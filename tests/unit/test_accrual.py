"""Daily accrual of normal, penalty and compound interest (DOMAIN.md §8), exact until rounded."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from loomcredit.domain.accrual import (
    AccrualTotals,
    DailyAccrual,
    accrue,
    accrue_days,
    penalty_rate,
)
from loomcredit.domain.daycount import DayCount
from loomcredit.domain.errors import CurrencyMismatch, PolicyViolation, ScheduleError
from loomcredit.domain.money import Money, Rate, Round


def M(text: str) -> Money:
    return Money.parse(text)


class TestPenaltyRate:
    def test_golden_half_uplift(self):
        """3.50 % contract rate with a 50 % uplift gives a 5.25 % penalty rate."""
        assert penalty_rate(Rate("0.035"), Decimal("0.5")) == Rate("0.0525")

    @pytest.mark.parametrize(("uplift", "expected"), [("0.3", "0.0455"), ("0.4", "0.049")])
    def test_overdue_range_accepted(self, uplift, expected):
        """Uplifts from 30 % to 50 % are accepted for overdue loans (3.5 % × 1.3 = 4.55 %)."""
        assert penalty_rate(Rate("0.035"), uplift) == Rate(expected)

    @pytest.mark.parametrize("uplift", ["0.29", "0.51", "0", "1.0"])
    def test_overdue_range_enforced(self, uplift):
        """Uplifts outside 30–50 % are refused for overdue loans."""
        with pytest.raises(PolicyViolation, match="30%–50%"):
            penalty_rate(Rate("0.035"), uplift)

    def test_misuse_range(self):
        """Misused funds take 50–100 %: +100 % doubles the rate; 40 % or 110 % is refused."""
        assert penalty_rate(Rate("0.035"), "1.0", misuse=True) == Rate("0.07")
        assert penalty_rate(Rate("0.035"), "0.5", misuse=True) == Rate("0.0525")
        for bad in ("0.4", "1.1"):
            with pytest.raises(PolicyViolation, match="50%–100%"):
                penalty_rate(Rate("0.035"), bad, misuse=True)

    def test_float_uplift_refused(self):
        """A float uplift is refused; shares are exact."""
        with pytest.raises(TypeError):
            penalty_rate(Rate("0.035"), 0.5)  # type: ignore[arg-type]


class TestAccrue:
    def test_act_360_ten_days(self):
        """300,000 at 3.6 % for 10 days on ACT/360 is 300.00."""
        result = accrue(M("300000"), Rate("0.036"), date(2026, 3, 1), date(2026, 3, 11))
        assert result.round() == M("300.00")

    def test_stays_exact(self):
        """1,000.00 at 5 % for one day is exactly 125/9 fen, not a rounded number."""
        result = accrue(M("1000"), Rate("0.05"), date(2026, 3, 1), date(2026, 3, 2))
        assert result.fen == Fraction(125, 9)
        assert result.round(Round.HALF_UP) == Money.of_fen(14)
        assert result.round(Round.DOWN) == Money.of_fen(13)

    def test_act_365(self):
        """365,000 at 3.65 % for one day on ACT/365 is 36.50."""
        result = accrue(
            M("365000"), Rate("0.0365"), date(2026, 3, 1), date(2026, 3, 2), DayCount.ACT_365
        )
        assert result.round() == M("36.50")

    def test_thirty_360_month(self):
        """30/360: a whole month of 120,000 at 3.6 % is 360.00, even across February."""
        result = accrue(
            M("120000"), Rate("0.036"), date(2026, 2, 20), date(2026, 3, 20), DayCount.THIRTY_360
        )
        assert result.round() == M("360.00")


def _loan_day(on: date) -> DailyAccrual:
    return DailyAccrual.compute(
        on,
        performing_principal=M("100000"),
        overdue_principal=M("10000"),
        overdue_interest=M("500"),
        annual_rate=Rate("0.036"),
        penalty=penalty_rate(Rate("0.036"), "0.5"),
    )


class TestDailyAccrual:
    def test_one_loan_day(self):
        """Normal 100,000 × 3.6 %/360 = 10.00; penalty 10,000 × 5.4 %/360 = 1.50;
        compound 500 × 5.4 %/360 = 0.075 (kept exact)."""
        day = _loan_day(date(2026, 4, 1))
        assert day.normal.fen == 1000
        assert day.penalty.fen == 150
        assert day.compound.fen == Fraction(15, 2)
        assert day.total.fen == Fraction(2315, 2)

    def test_thirty_days_round_once(self):
        """Thirty such days: 300.00 normal, 45.00 penalty and 2.25 compound (not 30 × 0.08)."""
        start = date(2026, 4, 1)
        totals = accrue_days(_loan_day(start + timedelta(days=k)) for k in range(30))
        rounded = totals.round()
        assert rounded.normal == M("300.00")
        assert rounded.penalty == M("45.00")
        assert rounded.compound == M("2.25")
        assert rounded.total == M("347.25")

    def test_overdue_principal_bears_penalty_instead_of_normal(self):
        """An all-overdue loan accrues no normal interest, only penalty interest."""
        day = DailyAccrual.compute(
            date(2026, 4, 1),
            performing_principal=Money.zero(),
            overdue_principal=M("36000"),
            overdue_interest=Money.zero(),
            annual_rate=Rate("0.04"),
            penalty=Rate("0.05"),
        )
        assert day.normal.fen == 0
        assert day.penalty.round() == M("5.00")

    def test_negative_balance_refused(self):
        """Balances that bear interest cannot be negative."""
        with pytest.raises(ScheduleError, match="overdue interest"):
            DailyAccrual.compute(
                date(2026, 4, 1),
                performing_principal=M("1"),
                overdue_principal=M("0"),
                overdue_interest=M("-1"),
                annual_rate=Rate("0.04"),
                penalty=Rate("0.05"),
            )

    def test_empty_sum_is_zero(self):
        """Nothing accrued sums to zero."""
        assert accrue_days([]) == AccrualTotals.zero()
        assert accrue_days([]).round().total.is_zero()


def test_mixed_currencies_refused():
    """The balances of one loan-day must share a currency."""
    with pytest.raises(CurrencyMismatch):
        DailyAccrual.compute(
            date(2026, 4, 1),
            performing_principal=M("1"),
            overdue_principal=Money.parse("1", "USD"),
            overdue_interest=M("0"),
            annual_rate=Rate("0.04"),
            penalty=Rate("0.05"),
        )
