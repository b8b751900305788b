"""Day count conventions and the 20th-of-the-month settlement calendar (DOMAIN.md §7)."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest

from loomcredit.domain.daycount import (
    DayCount,
    Frequency,
    add_months,
    days_in_month,
    settlement_dates,
)
from loomcredit.domain.errors import ScheduleError


class TestDayCount:
    def test_act_360_counts_calendar_days(self):
        """ACT/360 counts the actual days: 20 Jan to 20 Feb is 31 days."""
        assert DayCount.ACT_360.days(date(2026, 1, 20), date(2026, 2, 20)) == 31

    def test_act_counts_leap_day(self):
        """ACT conventions see 29 February in a leap year."""
        assert DayCount.ACT_365.days(date(2028, 2, 20), date(2028, 3, 20)) == 29

    def test_act_360_year_is_360_days(self):
        """ACT/360 divides by 360: 31 days is 31/360 of a year."""
        fraction = DayCount.ACT_360.year_fraction(date(2026, 1, 20), date(2026, 2, 20))
        assert fraction == Fraction(31, 360)

    def test_act_365_year_is_365_days(self):
        """ACT/365 divides by 365."""
        assert DayCount.ACT_365.days_in_year == 365
        fraction = DayCount.ACT_365.year_fraction(date(2026, 1, 1), date(2027, 1, 1))
        assert fraction == 1

    def test_thirty_360_whole_month_is_a_twelfth(self):
        """Under 30/360 a whole month is 30 days, exactly 1/12 of a year, even in February."""
        assert DayCount.THIRTY_360.days(date(2026, 2, 20), date(2026, 3, 20)) == 30
        fraction = DayCount.THIRTY_360.year_fraction(date(2026, 1, 20), date(2026, 2, 20))
        assert fraction == Fraction(1, 12)

    def test_thirty_360_bond_basis_day_31(self):
        """Bond basis: the 31st counts as the 30th only when the start is already the 30th/31st."""
        assert DayCount.THIRTY_360.days(date(2026, 1, 30), date(2026, 3, 31)) == 60
        assert DayCount.THIRTY_360.days(date(2026, 2, 28), date(2026, 3, 31)) == 33
        assert DayCount.THIRTY_360.days(date(2026, 1, 31), date(2026, 2, 28)) == 28

    def test_thirty_360_across_years(self):
        """30/360 counts 360 days per year difference."""
        assert DayCount.THIRTY_360.days(date(2025, 12, 20), date(2027, 1, 20)) == 390

    def test_same_day_is_zero_days(self):
        """A period that ends where it starts has no days."""
        assert DayCount.ACT_360.days(date(2026, 5, 1), date(2026, 5, 1)) == 0

    def test_end_before_start_is_refused(self):
        """A period cannot end before it starts."""
        with pytest.raises(ScheduleError, match="before"):
            DayCount.ACT_360.days(date(2026, 5, 2), date(2026, 5, 1))

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("act360", DayCount.ACT_360),
            ("ACT/360", DayCount.ACT_360),
            ("30360", DayCount.THIRTY_360),
            ("30/360", DayCount.THIRTY_360),
            ("act_365", DayCount.ACT_365),
        ],
    )
    def test_parse_names(self, text, expected):
        """Convention names are read in their usual spellings."""
        assert DayCount.parse(text) is expected

    def test_parse_unknown_is_refused(self):
        """An unknown convention name is a clear error."""
        with pytest.raises(ScheduleError, match="Unknown day count"):
            DayCount.parse("act/366")


class TestCalendar:
    def test_add_months_clamps_to_month_end(self):
        """31 January plus one month is the last day of February."""
        assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
        assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)

    def test_add_months_rolls_the_year(self):
        """Months carry into the next and the previous year."""
        assert add_months(date(2026, 12, 20), 1) == date(2027, 1, 20)
        assert add_months(date(2026, 1, 20), -1) == date(2025, 12, 20)
        assert add_months(date(2026, 3, 31), -13) == date(2025, 2, 28)

    def test_days_in_month(self):
        """February has 28 days, 29 in a leap year."""
        assert days_in_month(2026, 2) == 28
        assert days_in_month(2028, 2) == 29
        assert days_in_month(2026, 12) == 31

    def test_monthly_settlement_on_the_20th(self):
        """Monthly interest settles on the 20th; the start day is excluded, the end included."""
        assert settlement_dates(date(2026, 1, 20), date(2026, 4, 20), Frequency.MONTHLY) == [
            date(2026, 2, 20),
            date(2026, 3, 20),
            date(2026, 4, 20),
        ]

    def test_monthly_settlement_from_mid_month(self):
        """A loan starting on the 5th settles its first interest on the 20th of the same month."""
        assert settlement_dates(date(2026, 1, 5), date(2026, 2, 19)) == [date(2026, 1, 20)]

    def test_quarterly_settlement_in_quarter_end_months(self):
        """Quarterly interest settles on Mar/Jun/Sep/Dec 20 (人民币利率管理规定 Art. 20)."""
        assert settlement_dates(date(2026, 1, 5), date(2026, 12, 31), Frequency.QUARTERLY) == [
            date(2026, 3, 20),
            date(2026, 6, 20),
            date(2026, 9, 20),
            date(2026, 12, 20),
        ]

    def test_quarterly_settlement_excludes_the_start_day(self):
        """A loan drawn on 20 March settles its first quarterly interest on 20 June."""
        dates = settlement_dates(date(2026, 3, 20), date(2026, 9, 1), Frequency.QUARTERLY)
        assert dates == [date(2026, 6, 20)]

    def test_settlement_day_must_exist_every_month(self):
        """A settlement day of 31 would not exist in every month."""
        with pytest.raises(ScheduleError, match="1–28"):
            settlement_dates(date(2026, 1, 1), date(2026, 6, 1), day=31)

    def test_frequency_parse(self):
        """Frequencies are read from their English or Chinese names."""
        assert Frequency.parse("quarterly") is Frequency.QUARTERLY
        assert Frequency.parse("按月") is Frequency.MONTHLY
        assert Frequency.QUARTERLY.months == 3
        with pytest.raises(ScheduleError):
            Frequency.parse("weekly")
