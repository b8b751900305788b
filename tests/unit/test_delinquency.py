"""Days past due, buckets and the five-grade floor (DOMAIN.md §5, §8)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.strategies import unpaid_due_dates

from loomcredit.domain.delinquency import (
    Bucket,
    Grade,
    apply_floor,
    bucket,
    days_past_due,
    floor_grade,
)

AS_OF = date(2026, 11, 28)


def test_grade_labels_and_order():
    """正常 < 关注 < 次级 < 可疑 < 损失, numbered 1–5."""
    assert [g.label_zh for g in Grade] == ["正常", "关注", "次级", "可疑", "损失"]
    assert [int(g) for g in Grade] == [1, 2, 3, 4, 5]


def test_nonperforming_grades():
    """次级, 可疑 and 损失 are non-performing (不良); 正常 and 关注 are not."""
    assert [g.is_nonperforming for g in Grade] == [False, False, True, True, True]


def test_dpd_counts_from_the_earliest_unpaid_item():
    """Two unpaid items due 10-20 and 11-20: DPD on 11-28 counts from 10-20 (39 days)."""
    assert days_past_due([date(2026, 11, 20), date(2026, 10, 20)], AS_OF) == 39


@pytest.mark.parametrize(
    ("due", "dpd"),
    [(date(2026, 11, 28), 0), (date(2026, 11, 27), 1), (date(2026, 12, 20), 0)],
)
def test_dpd_due_today_is_not_overdue(due, dpd):
    """Due today is 0 days past due, due yesterday 1, due later 0."""
    assert days_past_due([due], AS_OF) == dpd


def test_dpd_of_nothing_unpaid_is_zero():
    """No unpaid items means current."""
    assert days_past_due([], AS_OF) == 0


def test_dpd_across_a_leap_day():
    """From 2028-02-20 to 2028-03-20 is 29 days (2028 is a leap year)."""
    assert days_past_due([date(2028, 2, 20)], date(2028, 3, 20)) == 29


@pytest.mark.parametrize(
    ("dpd", "expected"),
    [(0, Bucket.M0), (1, Bucket.M1), (30, Bucket.M1), (31, Bucket.M2), (60, Bucket.M2),
     (61, Bucket.M3), (90, Bucket.M3), (91, Bucket.M4), (120, Bucket.M4), (121, Bucket.M5),
     (150, Bucket.M5), (151, Bucket.M6), (180, Bucket.M6), (181, Bucket.M7), (5000, Bucket.M7)],
)  # fmt: skip
def test_bucket_edges(dpd, expected):
    """M1 = 1–30, M2 = 31–60, M3 = 61–90, … M6 = 151–180, M7 over 180."""
    assert bucket(dpd) is expected


def test_bucket_label():
    """M7 is shown as M7+."""
    assert Bucket.M7.label == "M7+"
    assert Bucket.M3.label == "M3"


@pytest.mark.parametrize(
    ("dpd", "grade"),
    [(0, Grade.NORMAL), (1, Grade.SPECIAL_MENTION), (90, Grade.SPECIAL_MENTION),
     (91, Grade.SUBSTANDARD), (95, Grade.SUBSTANDARD), (270, Grade.SUBSTANDARD),
     (271, Grade.DOUBTFUL), (360, Grade.DOUBTFUL), (361, Grade.LOSS)],
)  # fmt: skip
def test_floor_thresholds(dpd, grade):
    """Any overdue ≥ 关注; over 90 次级; over 270 可疑; over 360 损失."""
    assert floor_grade(dpd) is grade


@pytest.mark.parametrize(("dpd", "grade"), [(1, Grade.NORMAL), (7, Grade.NORMAL)])
def test_flagged_technical_delay_up_to_seven_days_is_exempt(dpd, grade):
    """A flagged technical delay of at most 7 days keeps the floor at 正常."""
    assert floor_grade(dpd, technical_delay=True) is grade


def test_technical_delay_over_seven_days_is_not_exempt():
    """An 8-day delay is 关注 even when flagged technical."""
    assert floor_grade(8, technical_delay=True) is Grade.SPECIAL_MENTION


def test_technical_delay_does_not_exempt_misuse():
    """The technical carve-out covers the overdue only, not misuse of funds."""
    assert floor_grade(3, technical_delay=True, misuse=True) is Grade.SPECIAL_MENTION


def test_misuse_is_at_least_special_mention():
    """Funds used for another purpose: at least 关注 even when current."""
    assert floor_grade(0, misuse=True) is Grade.SPECIAL_MENTION


def test_refinancing_without_qualifying_renewal_is_at_least_special_mention():
    """借新还旧 is 关注 unless it is a qualifying SME renewal (无还本续贷)."""
    assert floor_grade(0, refinanced=True) is Grade.SPECIAL_MENTION
    assert floor_grade(0, refinanced=True, qualifying_renewal=True) is Grade.NORMAL


def test_flags_never_lift_the_dpd_floor():
    """A qualifying renewal does not lift a 95-day overdue out of 次级."""
    assert floor_grade(95, refinanced=True, qualifying_renewal=True) is Grade.SUBSTANDARD


def test_negative_dpd_is_refused():
    """Days past due cannot be negative."""
    with pytest.raises(ValueError, match="negative"):
        floor_grade(-1)
    with pytest.raises(ValueError, match="negative"):
        bucket(-1)


def test_floor_pushes_down():
    """A 正常 loan 95 days overdue becomes 次级."""
    assert apply_floor(Grade.NORMAL, floor_grade(95)) is Grade.SUBSTANDARD


def test_floor_never_pushes_up():
    """A 可疑 loan stays 可疑 when the floor is only 关注."""
    assert apply_floor(Grade.DOUBTFUL, Grade.SPECIAL_MENTION) is Grade.DOUBTFUL


@given(st.sampled_from(list(Grade)), st.sampled_from(list(Grade)))
def test_apply_floor_is_the_worse_of_the_two(current, floor):
    """The result is never better than either the current grade or the floor."""
    result = apply_floor(current, floor)
    assert result >= current
    assert result >= floor
    assert result in (current, floor)


@given(st.integers(min_value=0, max_value=2000), st.booleans(), st.booleans(), st.booleans())
def test_floor_is_monotone_in_days(dpd, technical, misuse, refinanced):
    """One more day overdue never gives a better floor."""
    kwargs = {"technical_delay": technical, "misuse": misuse, "refinanced": refinanced}
    assert floor_grade(dpd + 1, **kwargs) >= floor_grade(dpd, **kwargs)


@given(unpaid_due_dates(AS_OF))
def test_dpd_matches_the_oldest_item(dues):
    """DPD is the age of the oldest item in days, or 0 if none is past due."""
    dpd = days_past_due(dues, AS_OF)
    overdue = [(AS_OF - d).days for d in dues if d < AS_OF]
    assert dpd == (max(overdue) if overdue else 0)
