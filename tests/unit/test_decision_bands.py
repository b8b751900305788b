"""Bands: auto-approve, review, decline; the applicant may always ask for a person."""

from __future__ import annotations

from decimal import Decimal

import pytest

from loomcredit.domain.decision.bands import Band, BandInputs, assign_band
from loomcredit.domain.decision.policy import BandPolicy, Outcome
from loomcredit.domain.decision.rules import RuleResult, Status
from loomcredit.domain.money import Money

POLICY = BandPolicy(Decimal("0.02"), Decimal("0.10"), Money.parse("1000000"))
OK = RuleResult("firm_age", Status.PASS, None, "", "", "60", ">= 24")
DECLINE = RuleResult("tax_grade", Status.FAIL, Outcome.DECLINE, "纳税D", "tax D", "D", "not D")
REFER = RuleResult("region", Status.FAIL, Outcome.REFER, "区域外", "out of area", "330106", "3306")


def inputs(rules=(OK,), pd="0.01", asked="500000", limit="500000", feasible=True, person=False):
    return BandInputs(rules, Decimal(pd), Money.parse(asked), Money.parse(limit),
                      Money.parse("10000"), feasible, person)  # fmt: skip


@pytest.mark.parametrize(
    ("case", "band", "code"),
    [
        (inputs(), Band.AUTO_APPROVE, None),
        (inputs(pd="0.02"), Band.AUTO_APPROVE, None),
        (inputs(rules=(OK, DECLINE)), Band.DECLINE, "rule:tax_grade"),
        (inputs(pd="0.10"), Band.DECLINE, "pd_high"),
        (inputs(feasible=False), Band.DECLINE, "price_infeasible"),
        (inputs(limit="9000"), Band.DECLINE, "limit_below_minimum"),
        (inputs(rules=(OK, REFER)), Band.REVIEW, "rule:region"),
        (inputs(pd="0.020001"), Band.REVIEW, "pd_review"),
        (inputs(asked="1000001", limit="2000000"), Band.REVIEW, "amount_above_auto"),
        (inputs(asked="500000", limit="400000"), Band.REVIEW, "limit_below_asked"),
    ],
)
def test_band_thresholds(case, band, code):
    """Decline beats review beats auto-approve, each with the reason that put it there."""
    got, reasons = assign_band(case, POLICY)
    assert got is band
    assert (reasons[0].code if reasons else None) == code


@pytest.mark.parametrize("case", [inputs(), inputs(rules=(OK, DECLINE)), inputs(pd="0.5")])
def test_applicant_may_always_ask_for_a_person(case):
    """PIPL Art. 24: asking for a person turns an automatic approval or decline into review."""
    band, reasons = assign_band(
        BandInputs(
            case.rules,
            case.pd,
            case.asked,
            case.limit,
            case.min_amount,
            case.price_feasible,
            person_requested=True,
        ),
        POLICY,
    )
    assert band is Band.REVIEW
    assert reasons[-1].code == "person_requested"
