"""Keqiao seasonality: lunar New Year dates, the CNY window and the cluster month profile."""

from __future__ import annotations

from datetime import date

import pytest

from loomcredit.domain.seasonality import (
    CLUSTER_MONTH_FACTORS,
    cny_date,
    cny_trough_weight,
    is_cny_window,
    lantern_date,
    seasonal_factor,
)


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (2020, date(2020, 1, 25)),
        (2023, date(2023, 1, 22)),
        (2024, date(2024, 2, 10)),
        (2025, date(2025, 1, 29)),
        (2026, date(2026, 2, 17)),
    ],
)
def test_cny_date_matches_published_spring_festival(year: int, expected: date) -> None:
    """正月初一 falls on the published Spring Festival date of each year."""
    assert cny_date(year) == expected


def test_cny_date_outside_lunar_tables_is_refused() -> None:
    """Years outside the lunar tables raise ValueError instead of guessing."""
    with pytest.raises(ValueError, match="1901"):
        cny_date(2150)


def test_lantern_festival_is_the_fifteenth_day() -> None:
    """正月十五 of 2025 is 12 February 2025."""
    assert lantern_date(2025) == date(2025, 2, 12)


@pytest.mark.parametrize(
    ("day", "inside"),
    [
        (date(2025, 1, 14), False),  # CNY − 15
        (date(2025, 1, 15), True),  # CNY − 14
        (date(2025, 1, 29), True),  # 正月初一
        (date(2025, 2, 12), True),  # 正月十五
        (date(2025, 2, 13), False),
        (date(2024, 1, 27), True),  # 2024: CNY 10 Feb, window opens 27 Jan
        (date(2024, 1, 26), False),
        (date(2024, 12, 31), False),
    ],
)
def test_cny_window_runs_from_two_weeks_before_to_lantern_festival(day: date, inside: bool) -> None:
    """The window is CNY−14 days through 正月十五, both ends included (DOMAIN §11)."""
    assert is_cny_window(day) is inside


def test_cluster_month_factors_are_the_domain_values() -> None:
    """Jan–Feb 0.7, Mar–May 1.0, Jun 1.1, Jul–Aug 0.9, Sep–Oct 1.2, Nov 1.0, Dec 0.8 (§11)."""
    expected = [0.7, 0.7, 1.0, 1.0, 1.0, 1.1, 0.9, 0.9, 1.2, 1.2, 1.0, 0.8]
    assert [CLUSTER_MONTH_FACTORS[m] for m in range(1, 13)] == expected


def test_trough_weight_is_full_at_new_year_and_zero_in_summer() -> None:
    """The trough is complete on 正月初一 and absent in June."""
    assert cny_trough_weight(date(2024, 2, 10)) == 1.0
    assert cny_trough_weight(date(2024, 6, 15)) == 0.0
    assert 0.0 < cny_trough_weight(date(2024, 1, 25)) < 1.0  # ramping down before closure


def test_trough_follows_the_lunar_date_between_years() -> None:
    """The trough month is January when CNY is early (2023) and February when late (2024)."""
    assert seasonal_factor(2023, 1) < seasonal_factor(2023, 2)
    assert seasonal_factor(2024, 2) < seasonal_factor(2024, 1)


@pytest.mark.parametrize("year", [2022, 2023, 2024, 2025, 2026, 2027])
def test_january_february_average_stays_near_suggested_factor(year: int) -> None:
    """Over January and February the lunar-aware factor averages about 0.7 (±0.06)."""
    average = (seasonal_factor(year, 1) + seasonal_factor(year, 2)) / 2
    assert average == pytest.approx(0.7, abs=0.06)


def test_autumn_peak_above_summer_trough() -> None:
    """金九银十: September and October are above July and August."""
    assert min(seasonal_factor(2024, 9), seasonal_factor(2024, 10)) > max(
        seasonal_factor(2024, 7), seasonal_factor(2024, 8)
    )


def test_bad_month_is_refused() -> None:
    """A month outside 1–12 raises ValueError."""
    with pytest.raises(ValueError, match="1–12"):
        seasonal_factor(2024, 13)
