"""Repayment schedules against DOMAIN.md §7 golden values and hand-calculated small cases."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext

import pytest

from loomcredit.domain.daycount import DayCount, Frequency
from loomcredit.domain.errors import ScheduleError
from loomcredit.domain.money import Money, Rate
from loomcredit.domain.schedule import (
    Method,
    annuity_payment,
    build_schedule,
    reschedule,
    revolving_interest,
)

START = date(2026, 1, 20)


def M(text: str) -> Money:
    return Money.parse(text)


def column(schedule, name):
    return [getattr(inst, name).amount_str() for inst in schedule.installments]


class TestAnnuity:
    @pytest.mark.parametrize(
        ("principal", "rate", "months", "expected"),
        [
            ("400000", "0.0325", 360, "1740.83"),
            ("100000", "0.06", 120, "1110.21"),
            ("1000000", "0.03", 240, "5545.98"),
        ],
    )
    def test_level_instalment_golden(self, principal, rate, months, expected):
        """等额本息 instalments match the DOMAIN.md §7 computed values (not the wrong web ones)."""
        schedule = build_schedule(M(principal), Rate(rate), months, START, Method.ANNUITY)
        assert schedule.first_payment == M(expected)
        assert annuity_payment(M(principal), Rate(rate), months) == M(expected)

    def test_small_annuity_by_hand(self):
        """1,000.00 at 12 % over 3 months: A = 340.02, interest 10.00/6.70/3.37, last 340.03."""
        schedule = build_schedule(M("1000"), Rate("0.12"), 3, START, Method.ANNUITY)
        assert column(schedule, "interest") == ["10.00", "6.70", "3.37"]
        assert column(schedule, "principal") == ["330.02", "333.32", "336.66"]
        assert [i.payment.amount_str() for i in schedule.installments] == [
            "340.02",
            "340.02",
            "340.03",
        ]
        assert column(schedule, "balance_after") == ["669.98", "336.66", "0.00"]

    def test_totals(self):
        """Totals add the lines: 20.07 interest and 1,020.07 paid on the hand case."""
        schedule = build_schedule(M("1000"), Rate("0.12"), 3, START, Method.ANNUITY)
        assert schedule.total_interest == M("20.07")
        assert schedule.total_payment == M("1020.07")
        assert schedule.total_principal == M("1000")

    def test_final_installment_absorbs_rounding_residual(self):
        """The last payment differs from the level one: 400k @3.25 % ends with 1,737.90 (hand)."""
        schedule = build_schedule(M("400000"), Rate("0.0325"), 360, START, Method.ANNUITY)
        assert schedule.installments[-1].balance_after.is_zero()
        assert {i.payment for i in schedule.installments[:-1]} == {M("1740.83")}
        assert schedule.installments[-1].payment != M("1740.83")

    def test_zero_rate_splits_the_principal(self):
        """At 0 % the level instalment is P/n and the last line takes the odd fen."""
        schedule = build_schedule(M("1000"), Rate("0"), 3, START, Method.ANNUITY)
        assert column(schedule, "principal") == ["333.33", "333.33", "333.34"]
        assert schedule.total_interest.is_zero()

    def test_due_dates_monthly_from_start(self):
        """Without a first due date, instalments fall one, two, ... months after the start."""
        schedule = build_schedule(M("1000"), Rate("0.12"), 3, date(2026, 1, 31), Method.ANNUITY)
        assert [i.due_on for i in schedule.installments] == [
            date(2026, 2, 28),
            date(2026, 3, 31),
            date(2026, 4, 30),
        ]

    def test_first_due_anchors_the_grid(self):
        """A first due date sets the day of the month of every instalment."""
        schedule = build_schedule(
            M("1000"),
            Rate("0.12"),
            3,
            date(2026, 1, 5),
            Method.ANNUITY,
            first_due=date(2026, 2, 20),
        )
        assert [i.due_on for i in schedule.installments] == [
            date(2026, 2, 20),
            date(2026, 3, 20),
            date(2026, 4, 20),
        ]

    def test_act_360_interest_by_days(self):
        """With ACT/360 the first line's interest is 100,000 × 6 % × 31/360 = 516.67 (hand)."""
        schedule = build_schedule(
            M("100000"), Rate("0.06"), 120, START, Method.ANNUITY, day_count=DayCount.ACT_360
        )
        first = schedule.installments[0]
        assert first.interest == M("516.67")
        assert first.payment == M("1110.21")
        assert first.principal == M("593.54")


def decimal_oracle(principal: str, rate: str, n: int) -> list[tuple[str, str, str]]:
    """DOMAIN.md §7 written out again in Decimal: (principal, interest, balance) per line."""
    cent = Decimal("0.01")
    with localcontext() as ctx:
        ctx.prec = 60
        p, i = Decimal(principal), Decimal(rate) / 12
        growth = (1 + i) ** n
        level = (p * i * growth / (growth - 1)).quantize(cent, ROUND_HALF_UP)
        balance, lines = p, []
        for k in range(n):
            interest = (balance * i).quantize(cent, ROUND_HALF_UP)
            paid = balance if k == n - 1 else level - interest
            balance -= paid
            lines.append((str(paid), str(interest), str(balance.quantize(cent))))
    return lines


@pytest.mark.parametrize(
    ("principal", "rate", "months"),
    [("100000", "0.06", 120), ("400000", "0.0325", 360), ("37521.19", "0.0435", 36)],
)
def test_every_annuity_line_matches_a_decimal_oracle(principal, rate, months):
    """Every line of an annuity equals an independent Decimal computation of DOMAIN.md §7."""
    schedule = build_schedule(M(principal), Rate(rate), months, START, Method.ANNUITY)
    got = [
        (i.principal.amount_str(), i.interest.amount_str(), i.balance_after.amount_str())
        for i in schedule.installments
    ]
    assert got == decimal_oracle(principal, rate, months)


class TestEqualPrincipal:
    def test_golden_first_and_last(self):
        """等额本金 120,000 at 3.6 % over 12 months: first 10,360.00, last 10,030.00."""
        schedule = build_schedule(M("120000"), Rate("0.036"), 12, START, Method.EQUAL_PRINCIPAL)
        assert schedule.first_payment == M("10360.00")
        assert schedule.installments[-1].payment == M("10030.00")

    def test_payment_falls_by_a_constant(self):
        """Each payment is 30.00 less than the one before (10,000 × 0.3 %)."""
        schedule = build_schedule(M("120000"), Rate("0.036"), 12, START, Method.EQUAL_PRINCIPAL)
        payments = [i.payment.minor for i in schedule.installments]
        assert {a - b for a, b in itertools.pairwise(payments)} == {3000}

    def test_last_takes_the_remainder(self):
        """100.00 over 3: 33.33, 33.33 and the last 33.34."""
        schedule = build_schedule(M("100"), Rate("0.05"), 3, START, Method.EQUAL_PRINCIPAL)
        assert column(schedule, "principal") == ["33.33", "33.33", "33.34"]


class TestInterestOnly:
    def test_monthly_interest_principal_at_maturity(self):
        """先息后本 120,000 at 3.6 %: 360.00 a month, 120,360.00 at maturity (利随本清)."""
        schedule = build_schedule(M("120000"), Rate("0.036"), 12, START, Method.INTEREST_ONLY)
        assert [i.payment.amount_str() for i in schedule.installments] == ["360.00"] * 11 + [
            "120360.00"
        ]
        assert schedule.maturity == date(2027, 1, 20)

    def test_quarterly_interest_on_the_20th_act_360(self):
        """Quarterly, ACT/360, from 15 Jan: 64, 92, 92, 91 and 26 days of 12.00 a day (hand)."""
        schedule = build_schedule(
            M("120000"),
            Rate("0.036"),
            12,
            date(2026, 1, 15),
            Method.INTEREST_ONLY,
            interest_frequency=Frequency.QUARTERLY,
            day_count=DayCount.ACT_360,
        )
        assert [i.due_on for i in schedule.installments] == [
            date(2026, 3, 20),
            date(2026, 6, 20),
            date(2026, 9, 20),
            date(2026, 12, 20),
            date(2027, 1, 15),
        ]
        assert column(schedule, "interest") == ["768.00", "1104.00", "1104.00", "1092.00", "312.00"]
        assert column(schedule, "principal") == ["0.00"] * 4 + ["120000.00"]

    def test_quarterly_default_counts_months(self):
        """Without a day count, 20 Mar to 20 Jun is exactly three months' interest."""
        schedule = build_schedule(
            M("120000"),
            Rate("0.036"),
            6,
            date(2026, 3, 20),
            Method.INTEREST_ONLY,
            interest_frequency=Frequency.QUARTERLY,
        )
        assert column(schedule, "interest") == ["1080.00", "1080.00"]

    def test_quarterly_only_for_interest_only(self):
        """Quarterly interest is refused for an amortising method."""
        with pytest.raises(ScheduleError, match="Quarterly"):
            build_schedule(
                M("1000"), Rate("0.05"), 12, START, Method.ANNUITY,
                interest_frequency=Frequency.QUARTERLY,
            )  # fmt: skip


class TestCustomPlan:
    def test_seasonal_plan(self):
        """Principal 0, 0, 50,000, 50,000 on 100,000 at 6 %: interest 500, 500, 500, 250 (hand)."""
        plan = [M("0"), M("0"), M("50000"), M("50000")]
        schedule = build_schedule(
            M("100000"), Rate("0.06"), 4, START, Method.CUSTOM, principal_plan=plan
        )
        assert column(schedule, "interest") == ["500.00", "500.00", "500.00", "250.00"]
        assert column(schedule, "balance_after") == ["100000.00", "100000.00", "50000.00", "0.00"]

    def test_plan_not_summing_is_refused(self):
        """A plan that does not add up to the principal is a clear ScheduleError."""
        with pytest.raises(ScheduleError, match=r"sums to ¥90,000\.00 but the principal is"):
            build_schedule(
                M("100000"), Rate("0.06"), 3, START, Method.CUSTOM,
                principal_plan=[M("30000"), M("30000"), M("30000")],
            )  # fmt: skip

    def test_plan_length_must_match(self):
        """One plan entry per period."""
        with pytest.raises(ScheduleError, match="3 entries"):
            build_schedule(
                M("90000"), Rate("0.06"), 4, START, Method.CUSTOM,
                principal_plan=[M("30000"), M("30000"), M("30000")],
            )  # fmt: skip

    def test_negative_plan_entry_is_refused(self):
        """Principal cannot be lent back inside a repayment plan."""
        with pytest.raises(ScheduleError, match="negative"):
            build_schedule(
                M("100"), Rate("0.06"), 2, START, Method.CUSTOM,
                principal_plan=[M("-10"), M("110")],
            )  # fmt: skip

    def test_custom_needs_a_plan(self):
        """The custom method without a plan, or a plan with another method, is refused."""
        with pytest.raises(ScheduleError, match="custom"):
            build_schedule(M("100"), Rate("0.06"), 2, START, Method.CUSTOM)
        with pytest.raises(ScheduleError, match="custom"):
            build_schedule(
                M("100"), Rate("0.06"), 2, START, Method.ANNUITY, principal_plan=[M("50"), M("50")]
            )


class TestValidation:
    @pytest.mark.parametrize("principal", ["0", "-100"])
    def test_principal_must_be_positive(self, principal):
        """Only a positive principal makes a schedule."""
        with pytest.raises(ScheduleError, match="positive"):
            build_schedule(M(principal), Rate("0.05"), 12, START, Method.ANNUITY)

    @pytest.mark.parametrize("periods", [0, -1, 601])
    def test_period_count_is_bounded(self, periods):
        """Periods run from 1 to 600."""
        with pytest.raises(ScheduleError, match="periods"):
            build_schedule(M("100"), Rate("0.05"), periods, START, Method.ANNUITY)

    def test_negative_rate_is_refused(self):
        """A negative annual rate is refused."""
        with pytest.raises(ScheduleError, match="negative"):
            build_schedule(M("100"), Rate("-0.01"), 12, START, Method.ANNUITY)

    def test_first_due_after_start(self):
        """The first due date must come after the value date."""
        with pytest.raises(ScheduleError, match="after the start"):
            build_schedule(M("100"), Rate("0.05"), 12, START, Method.ANNUITY, first_due=START)

    def test_method_names(self):
        """Methods are read from CLI spellings and Chinese names."""
        assert Method.parse("equal-principal") is Method.EQUAL_PRINCIPAL
        assert Method.parse("先息后本") is Method.INTEREST_ONLY
        assert Method["EQUAL_PRINCIPAL"] is Method.EQUAL_PRINCIPAL
        with pytest.raises(ScheduleError, match="Unknown repayment method"):
            Method.parse("balloon")


class TestReschedule:
    def test_recomputes_from_outstanding_and_continues_numbering(self):
        """After a prepayment, 1,000.00 left at 12 % over 3 months is re-amortised (340.02 ...)."""
        schedule = reschedule(
            M("1000"), Rate("0.12"), 3, date(2026, 6, 20), Method.ANNUITY, first_number=5
        )
        assert [i.number for i in schedule.installments] == [5, 6, 7]
        assert [i.due_on for i in schedule.installments] == [
            date(2026, 6, 20),
            date(2026, 7, 20),
            date(2026, 8, 20),
        ]
        assert [i.payment.amount_str() for i in schedule.installments] == [
            "340.02",
            "340.02",
            "340.03",
        ]


class TestRevolving:
    def test_balance_product_golden(self):
        """积数法: 300k for 10 days then 200k for 20 days at 3.6 % ACT/360 is 700.00."""
        interest = revolving_interest([(10, M("300000")), (20, M("200000"))], Rate("0.036"))
        assert interest == M("700.00")

    def test_dated_end_of_day_balances(self):
        """One end-of-day balance per date gives the same 700.00."""
        days = [(date(2026, 3, d), M("300000")) for d in range(1, 11)]
        days += [(date(2026, 3, d), M("200000")) for d in range(11, 31)]
        assert revolving_interest(days, Rate("0.036")) == M("700.00")

    def test_act_365_year(self):
        """ACT/365: 365,000 for 1 day at 3.65 % is 36.50."""
        interest = revolving_interest([(1, M("365000"))], Rate("0.0365"), DayCount.ACT_365)
        assert interest == M("36.50")

    def test_rounds_once(self):
        """Rounding happens once: 30 days of 125/9 fen is 416.67 fen → 4.17, not 4.20."""
        interest = revolving_interest([(1, M("1000"))] * 30, Rate("0.05"))
        assert interest == M("4.17")

    def test_duplicate_date_is_refused(self):
        """A day's balance may be given only once."""
        with pytest.raises(ScheduleError, match="twice"):
            revolving_interest([(START, M("1")), (START, M("1"))], Rate("0.036"))
