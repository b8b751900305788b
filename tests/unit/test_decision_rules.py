"""Screening rules (准入规则) against crafted enterprises, with the shipped Keqiao policy."""

from __future__ import annotations

import pytest

from loomcredit.adapters.policy_file import load_policy
from loomcredit.domain.decision.policy import Outcome
from loomcredit.domain.decision.rules import Applicant, Status, screen

GOOD_USCC = "91330604609674830U"  # DOMAIN.md §1 verified Shaoxing example
LEGACY_USCC = "91350211M0000XUF46"  # DOMAIN.md §1 legacy code, fails mod-31 but genuine
SCOPES = frozenset({"bureau", "tax", "invoices", "utilities"})
GOOD = {
    "registry_status": "存续",
    "firm_age_months": 60,
    "industry_code": "C1752",
    "region_code": "330603",
    "judicial_dishonest": 0,
    "judicial_enforcement_open": 0,
    "judicial_enforcement_24m": 0,
    "tax_credit_grade": "B",
    "bureau_nonperforming_accounts": 0,
    "bureau_max_dpd_24m": 0,
    "months_of_history": 30,
    "sales_12m_fen": 300_000_000,
}
POLICY = load_policy().screening


def verdicts(features: dict[str, object], uscc: str = GOOD_USCC, scopes=SCOPES) -> dict:
    return {r.rule_id: r for r in screen(Applicant(uscc, scopes, features), POLICY)}


def test_clean_enterprise_passes_every_rule():
    """A registered, old enough, clean textile firm in Shaoxing passes all fifteen rules."""
    results = verdicts(GOOD)
    assert len(results) == 15
    assert all(r.status is Status.PASS and r.outcome is None for r in results.values())


@pytest.mark.parametrize(
    ("rule_id", "change", "outcome"),
    [
        ("registry_status", {"registry_status": "吊销"}, Outcome.DECLINE),
        ("registry_status", {"registry_status": "注销"}, Outcome.DECLINE),
        ("firm_age", {"firm_age_months": 23}, Outcome.DECLINE),
        ("industry", {"industry_code": "I6511"}, Outcome.DECLINE),
        ("region", {"region_code": "330106"}, Outcome.REFER),
        ("judicial_dishonest", {"judicial_dishonest": 1}, Outcome.DECLINE),
        ("enforcement_open", {"judicial_enforcement_open": 1}, Outcome.DECLINE),
        ("enforcement_24m", {"judicial_enforcement_24m": 2}, Outcome.REFER),
        ("tax_grade", {"tax_credit_grade": "D"}, Outcome.DECLINE),
        ("bureau_nonperforming", {"bureau_nonperforming_accounts": 1}, Outcome.DECLINE),
        ("bureau_max_dpd", {"bureau_max_dpd_24m": 31}, Outcome.DECLINE),
        ("sales_history", {"months_of_history": 11}, Outcome.DECLINE),
        ("min_sales", {"sales_12m_fen": 49_999_999}, Outcome.DECLINE),
    ],
)
def test_each_rule_fails_alone_with_its_policy_outcome(rule_id, change, outcome):
    """Breaking one condition fails exactly that rule, with the outcome the policy gives it."""
    results = verdicts({**GOOD, **change})
    failed = {k: r for k, r in results.items() if r.status is not Status.PASS}
    assert list(failed) == [rule_id]
    assert failed[rule_id].outcome is outcome
    assert failed[rule_id].reason_zh
    assert failed[rule_id].reason_en


@pytest.mark.parametrize(
    "change",
    [
        {"firm_age_months": 24},
        {"bureau_max_dpd_24m": 30},
        {"months_of_history": 12},
        {"sales_12m_fen": 50_000_000},
        {"tax_credit_grade": None},
        {"tax_credit_grade": "M"},
        {"industry_code": "c1752"},
        {"industry_code": "F5131"},
    ],
)
def test_boundaries_and_ungraded_tax_pass(change):
    """Values exactly at a threshold pass; a firm with no tax grade yet is not refused for it."""
    assert all(r.passed for r in verdicts({**GOOD, **change}).values())


def test_invalid_uscc_declines():
    """A code failing the GB 32100 check character is declined."""
    result = verdicts(GOOD, uscc="91330604609674830A")["uscc_valid"]
    assert (result.status, result.outcome) == (Status.FAIL, Outcome.DECLINE)


def test_legacy_uscc_is_referred_not_declined():
    """A verified legacy code passes validity but is referred to a person (DOMAIN.md §1)."""
    results = verdicts(GOOD, uscc=LEGACY_USCC)
    assert results["uscc_valid"].passed
    assert results["uscc_legacy"].outcome is Outcome.REFER


def test_missing_consent_scope_declines():
    """Without a live pre-loan consent for the credit bureau the application is declined."""
    result = verdicts(GOOD, scopes=frozenset({"tax", "invoices"}))["consents"]
    assert (result.status, result.outcome) == (Status.FAIL, Outcome.DECLINE)


def test_missing_feature_refers_instead_of_guessing():
    """A rule whose input is missing or NaN refers the application to a person."""
    features = {**GOOD, "bureau_max_dpd_24m": float("nan")}
    del features["firm_age_months"]
    results = verdicts(features)
    assert results["bureau_max_dpd"].status is Status.MISSING
    assert results["bureau_max_dpd"].outcome is Outcome.REFER
    assert results["firm_age"].outcome is Outcome.REFER
