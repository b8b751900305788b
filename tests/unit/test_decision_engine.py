"""The decision use case end to end with fakes: bands, record, re-run identity, explain, batch."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import pytest

from loomcredit.adapters.policy_file import load_lpr, load_policy
from loomcredit.domain.decision.bands import Band
from loomcredit.domain.errors import NotFound
from loomcredit.domain.money import Money
from loomcredit.service_layer.decisioning import (
    DecisionRequest,
    InvalidApplicationError,
    decide_all,
    make_decision,
)

POLICY = load_policy()
LPR = load_lpr()
AS_OF = date(2026, 3, 2)
USCC = "91330604609674830U"
OTHER = "91330681307582121Y"
Y = Money.parse
GOOD = {
    "registry_status": "存续", "firm_age_months": 60, "industry_code": "C1752",
    "region_code": "330603", "judicial_dishonest": 0, "judicial_enforcement_open": 0,
    "judicial_enforcement_24m": 0, "tax_credit_grade": "A", "bureau_nonperforming_accounts": 0,
    "bureau_max_dpd_24m": 0, "months_of_history": 40, "sales_12m_fen": Y("6000000").minor,
    "bureau_loans_outstanding_fen": 0,
}  # fmt: skip


@dataclass(frozen=True)
class FakeReason:
    feature: str
    code: str
    text_zh: str
    text_en: str
    impact: float


@dataclass(frozen=True)
class FakeScore:
    score: float
    pd: float
    reasons: tuple[FakeReason, ...] = ()


@dataclass
class FakeScorer:
    """PD per USCC (default 1.5 %), with one reason code."""

    pds: dict[str, float] = field(default_factory=dict)
    version: str = "fake-model-1"
    calls: int = 0

    def score_one(self, features):
        self.calls += 1
        pd = self.pds.get(str(features.get("_uscc")), 0.015)
        return FakeScore(
            650.0, pd, (FakeReason("sales_yoy_3m", "R01", "销售下滑", "sales down", -0.2),)
        )


@dataclass
class FakeFeatureSource:
    rows: dict[str, dict[str, object]]

    def get(self, uscc, as_of):
        if uscc not in self.rows:
            raise NotFound(uscc)
        return {**self.rows[uscc], "_uscc": uscc}


@dataclass
class FakeConsents:
    scopes: frozenset[str] = frozenset({"bureau", "tax", "invoices"})

    def scopes_on(self, uscc, as_of):
        return self.scopes


def decide(request, rows=None, pds=None, explain=False, consents=None):
    return make_decision(
        request,
        policy=POLICY,
        features=FakeFeatureSource(rows if rows is not None else {USCC: GOOD}),
        scorer=FakeScorer(pds or {}),
        lpr=LPR,
        consents=consents or FakeConsents(),
        as_of=AS_OF,
        explain=explain,
    )


def ask(amount="500000", term=12, method="annuity", person=False, uscc=USCC):
    return DecisionRequest(uscc, Y(amount), term, method, person)


def test_clean_small_application_is_auto_approved_with_price_and_plan():
    """A clean firm, PD 1.5 %, 500k: auto-approved at LPR 3.00 % + 238 bp with a full schedule."""
    record = decide(ask())
    assert record.band is Band.AUTO_APPROVE
    assert record.price.annual_rate == Decimal("0.0538")
    assert record.offer_amount == Y("500000")
    assert sum(line.principal.minor for line in record.schedule) == Y("500000").minor
    assert record.plan.method == "custom"  # cluster-seasonal fallback profile
    assert [r.code for r in record.reason_codes] == ["R01"]


def test_same_inputs_give_an_identical_record():
    """Re-running a decision gives byte-identical JSON and the same decision id."""
    first, second = decide(ask("700000")), decide(ask("700000"))
    assert first.to_json() == second.to_json()
    assert first.decision_id == second.decision_id


def test_record_is_json_safe_with_money_as_strings():
    """to_dict() survives json.dumps; money is {"amount": "500000.00", "currency": "CNY"}."""
    data = json.loads(json.dumps(decide(ask()).to_dict()))
    assert data["application"]["amount"] == {"amount": "500000.00", "currency": "CNY"}
    assert data["price"]["annual_rate"] == "0.0538"
    assert data["policy_version"] == POLICY.version
    assert data["model_version"] == "fake-model-1"
    assert data["features"]["industry_code"] == "C1752"
    assert {r["rule_id"] for r in data["rules"]} >= {"firm_age", "consents", "tax_grade"}


def test_hard_rule_failure_declines_with_no_offer():
    """A 失信 listing declines, and a declined application gets no offer or schedule amount."""
    record = decide(ask(), rows={USCC: {**GOOD, "judicial_dishonest": 1}})
    assert record.band is Band.DECLINE
    assert record.offer_amount == Money.zero()
    assert record.schedule == ()


def test_high_pd_declines_and_middle_pd_is_reviewed():
    """PD ≥ 10 % declines; 2 % < PD < 10 % goes to a person."""
    assert decide(ask(), pds={USCC: 0.12}).band is Band.DECLINE
    assert decide(ask(), pds={USCC: 0.05}).band is Band.REVIEW


def test_unknown_enterprise_is_referred_not_crashed():
    """No features for the firm: every data rule is missing, so a person decides."""
    record = decide(ask(), rows={})
    assert record.band in (Band.REVIEW, Band.DECLINE)
    assert any(r.status.value == "missing" for r in record.rules)


def test_missing_consent_declines():
    """Without the bureau consent the application cannot be decided automatically."""
    record = decide(ask(), consents=FakeConsents(frozenset({"tax", "invoices"})))
    assert record.band is Band.DECLINE


def test_applicant_asking_for_a_person_is_reviewed():
    """An auto-approvable application goes to review when the applicant asks for a person."""
    assert decide(ask(person=True)).band is Band.REVIEW


@pytest.mark.parametrize(
    "request_",
    [ask(term=7), ask(method="balloon"), DecisionRequest(USCC, Money.zero(), 12, "annuity")],
)
def test_application_outside_the_product_is_refused(request_):
    """A term, method or amount the product does not offer is an input error."""
    with pytest.raises(InvalidApplicationError):
        decide(request_)


def test_explain_gives_an_amount_that_really_is_auto_approved():
    """For an ask above DSCR capacity, --explain names an amount that auto-approves, and one step
    (1,000 yuan) more does not."""
    record = decide(ask("800000"), explain=True)
    assert record.band is Band.REVIEW
    by_code = {s.code: s for s in record.explanation}
    amount = Money.parse(by_code["amount"].value)
    assert decide(ask(amount.amount_str())).band is Band.AUTO_APPROVE
    assert decide(ask((amount + Y("1000")).amount_str())).band is not Band.AUTO_APPROVE


def test_explain_gives_a_term_that_really_is_auto_approved():
    """The suggested longer term spreads debt service enough to auto-approve the full amount."""
    record = decide(ask("800000"), explain=True)
    term = int({s.code: s for s in record.explanation}["term"].value)
    assert term > 12
    assert decide(ask("800000", term=term)).band is Band.AUTO_APPROVE


def test_explain_names_failed_rules():
    """A declined firm's explanation lists the failed rule with what it needs."""
    record = decide(ask(), rows={USCC: {**GOOD, "firm_age_months": 10}}, explain=True)
    codes = [s.code for s in record.explanation]
    assert "rule:firm_age" in codes


def test_batch_offers_every_enterprise_at_its_limit():
    """decide_all yields one record per firm; a firm whose limit is below the test amount is
    re-decided at its limit, so its offer is the pre-approved limit."""
    small = {**GOOD, "sales_12m_fen": Y("2000000").minor}  # cash 240k/1.25 → capacity < 1M
    rows = {USCC: GOOD, OTHER: small}
    scorer = FakeScorer()
    records = list(
        decide_all(
            [USCC, OTHER],
            policy=POLICY,
            features=FakeFeatureSource(rows),
            scorer=scorer,
            lpr=LPR,
            consents=FakeConsents(),
            as_of=AS_OF,
        )
    )
    assert [r.application.uscc for r in records] == [USCC, OTHER]
    offer = records[1]
    assert offer.application.amount < Y("1000000")
    assert offer.offer_amount == offer.application.amount
    assert offer.band is Band.AUTO_APPROVE


def test_revolving_line_limits_follow_the_firms_own_season():
    """Shipped revolving policy: a seasonal firm's line is 0.6× in January and 1.4× in September
    of the base limit, month by month, and no custom plan is forced on a 随借随还 line."""
    from loomcredit.adapters.policy_file import load_policy as load

    revolving = load("keqiao_revolving")
    own = [0.6, 0.5, 1.0, 1.1, 1.0, 1.2, 0.8, 0.7, 1.4, 1.4, 1.2, 1.1]
    seasonal = {**GOOD, **{f"season_factor_{m:02d}": f for m, f in enumerate(own, start=1)}}
    record = make_decision(
        ask("400000", method="interest_only"),
        policy=revolving,
        features=FakeFeatureSource({USCC: seasonal}),
        scorer=FakeScorer(),
        lpr=LPR,
        consents=FakeConsents(),
        as_of=AS_OF,
    )
    assert record.limit.limit == Y("400000")
    monthly = [m.amount_str() for m in record.limit.monthly_limits]
    assert monthly[0] == "240000.00"  # January 0.6 × 400k
    assert monthly[8] == "560000.00"  # September 1.4 × 400k
    assert len(set(monthly)) > 5  # visibly different across the year
    assert record.plan.method == "interest_only"
