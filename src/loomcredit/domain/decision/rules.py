"""Screening rules (准入规则): each rule reads the feature vector and returns pass / fail / missing.

Every rule has an id; the policy gives it an outcome on failure (decline 拒绝 or refer 转人工) and
reason texts in Chinese and English. A rule whose input is missing refers the application to a
person rather than guessing. Rules return values and never raise on a finding (STYLE.md §2.5).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from loomcredit.domain.decision.policy import Outcome, ScreeningPolicy
from loomcredit.domain.errors import InvalidCode, PolicyViolation
from loomcredit.domain.identity import parse_uscc


class Status(StrEnum):
    """The result of one rule."""

    PASS = "pass"  # noqa: S105 - a verdict, not a password
    FAIL = "fail"
    MISSING = "missing"


@dataclass(frozen=True, slots=True)
class RuleResult:
    """One rule's verdict with the value seen and the threshold applied."""

    rule_id: str
    status: Status
    outcome: Outcome | None
    reason_zh: str
    reason_en: str
    observed: str
    threshold: str

    @property
    def passed(self) -> bool:
        """True when the rule passed."""
        return self.status is Status.PASS


@dataclass(frozen=True, slots=True)
class Applicant:
    """What the rules see: the USCC, the consent scopes on file and the feature vector."""

    uscc: str
    consent_scopes: frozenset[str]
    features: Mapping[str, object]


_Check = tuple[Status, str, str]  # status, observed, threshold


def feature_number(features: Mapping[str, object], name: str) -> float | None:
    """A numeric feature, or None when it is absent, null or NaN."""
    value = features.get(name)
    if value is None or isinstance(value, bool | str):
        return None if not isinstance(value, bool) else float(value)
    if isinstance(value, int | float):
        return None if isinstance(value, float) and math.isnan(value) else float(value)
    try:
        number = float(value)  # type: ignore[arg-type]  # Decimal, numpy scalars
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def feature_text(features: Mapping[str, object], name: str) -> str | None:
    """A text feature, or None when absent, null or blank."""
    value = features.get(name)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def _at_most(features: Mapping[str, object], name: str, limit: float) -> _Check:
    value = feature_number(features, name)
    if value is None:
        return Status.MISSING, "null", f"<= {limit:g}"
    return (Status.PASS if value <= limit else Status.FAIL), f"{value:g}", f"<= {limit:g}"


def _at_least(features: Mapping[str, object], name: str, floor: float) -> _Check:
    value = feature_number(features, name)
    if value is None:
        return Status.MISSING, "null", f">= {floor:g}"
    return (Status.PASS if value >= floor else Status.FAIL), f"{value:g}", f">= {floor:g}"


def check_uscc(a: Applicant, p: ScreeningPolicy) -> _Check:
    """Valid USCC (a known legacy code passes here and is referred by ``uscc_legacy``)."""
    del p
    try:
        parse_uscc(a.uscc)
    except InvalidCode as exc:
        return Status.FAIL, a.uscc, f"valid GB 32100 code ({exc.reason})"
    return Status.PASS, a.uscc, "valid GB 32100 code"


def check_legacy_uscc(a: Applicant, p: ScreeningPolicy) -> _Check:
    """A code on the legacy allow-list is genuine but must be seen by a person."""
    del p
    try:
        info = parse_uscc(a.uscc)
    except InvalidCode:
        return Status.PASS, a.uscc, "not a legacy code"
    return (Status.FAIL if info.legacy else Status.PASS), a.uscc, "not a legacy code"


def check_registry_status(a: Applicant, p: ScreeningPolicy) -> _Check:
    """The registry status must be 存续 (in business)."""
    del p
    status = feature_text(a.features, "registry_status")
    if status is None:
        return Status.MISSING, "null", "存续"
    return (Status.PASS if status == "存续" else Status.FAIL), status, "存续"


def check_consents(a: Applicant, p: ScreeningPolicy) -> _Check:
    """Live consents must cover every pre-loan scope (DOMAIN.md §12)."""
    missing = sorted(set(p.required_consent_scopes) - a.consent_scopes)
    observed = ";".join(sorted(a.consent_scopes)) or "none"
    threshold = ";".join(p.required_consent_scopes)
    return (Status.FAIL if missing else Status.PASS), observed, threshold


def check_firm_age(a: Applicant, p: ScreeningPolicy) -> _Check:
    """Firm age in months at least the policy minimum (default 24)."""
    return _at_least(a.features, "firm_age_months", p.min_firm_age_months)


def check_industry(a: Applicant, p: ScreeningPolicy) -> _Check:
    """Industry (GB/T 4754) inside the allow prefixes and outside the deny prefixes."""
    code = feature_text(a.features, "industry_code")
    threshold = f"allow {','.join(p.industry_allow_prefixes) or '*'}"
    threshold += f"; deny {','.join(p.industry_deny_prefixes) or '-'}"
    if code is None:
        return Status.MISSING, "null", threshold
    code = code.upper()
    allowed = not p.industry_allow_prefixes or code.startswith(p.industry_allow_prefixes)
    denied = bool(p.industry_deny_prefixes) and code.startswith(p.industry_deny_prefixes)
    return (Status.PASS if allowed and not denied else Status.FAIL), code, threshold


def check_region(a: Applicant, p: ScreeningPolicy) -> _Check:
    """Region (GB/T 2260, current code) inside the lending area."""
    code = feature_text(a.features, "region_code")
    threshold = ",".join(p.region_allow_prefixes) or "*"
    if code is None:
        return Status.MISSING, "null", threshold
    ok = not p.region_allow_prefixes or code.startswith(p.region_allow_prefixes)
    return (Status.PASS if ok else Status.FAIL), code, threshold


def check_dishonest(a: Applicant, p: ScreeningPolicy) -> _Check:
    """No 失信被执行人 listing."""
    del p
    return _at_most(a.features, "judicial_dishonest", 0)


def check_enforcement_open(a: Applicant, p: ScreeningPolicy) -> _Check:
    """No open enforcement case (被执行, not closed)."""
    del p
    return _at_most(a.features, "judicial_enforcement_open", 0)


def check_enforcement_24m(a: Applicant, p: ScreeningPolicy) -> _Check:
    """No enforcement case (被执行) filed in the last 24 months."""
    del p
    return _at_most(a.features, "judicial_enforcement_24m", 0)


def check_tax_grade(a: Applicant, p: ScreeningPolicy) -> _Check:
    """Tax credit grade not in the denied grades (default D); no grade yet passes."""
    grade = feature_text(a.features, "tax_credit_grade")
    threshold = "not " + ",".join(p.denied_tax_grades)
    if grade is None:
        return Status.PASS, "null", threshold
    return (Status.FAIL if grade.upper() in p.denied_tax_grades else Status.PASS), grade, threshold


def check_bureau_nonperforming(a: Applicant, p: ScreeningPolicy) -> _Check:
    """No non-performing account (次级/可疑/损失) in the credit report."""
    del p
    return _at_most(a.features, "bureau_nonperforming_accounts", 0)


def check_bureau_dpd(a: Applicant, p: ScreeningPolicy) -> _Check:
    """Worst days past due in the credit report over 24 months within the policy maximum."""
    return _at_most(a.features, "bureau_max_dpd_24m", p.max_bureau_dpd_24m)


def check_sales_history(a: Applicant, p: ScreeningPolicy) -> _Check:
    """At least the minimum months of invoiced sales history."""
    return _at_least(a.features, "months_of_history", p.min_months_of_history)


def check_min_sales(a: Applicant, p: ScreeningPolicy) -> _Check:
    """Trailing 12-month invoiced sales at least the policy minimum."""
    value = feature_number(a.features, "sales_12m_fen")
    threshold = f">= {p.min_sales_12m.amount_str()} CNY"
    if value is None:
        return Status.MISSING, "null", threshold
    observed = f"{value / 100:.2f} CNY"
    return (Status.PASS if value >= p.min_sales_12m.minor else Status.FAIL), observed, threshold


RULES: dict[str, Callable[[Applicant, ScreeningPolicy], _Check]] = {
    "uscc_valid": check_uscc,
    "uscc_legacy": check_legacy_uscc,
    "registry_status": check_registry_status,
    "consents": check_consents,
    "firm_age": check_firm_age,
    "industry": check_industry,
    "region": check_region,
    "judicial_dishonest": check_dishonest,
    "enforcement_open": check_enforcement_open,
    "enforcement_24m": check_enforcement_24m,
    "tax_grade": check_tax_grade,
    "bureau_nonperforming": check_bureau_nonperforming,
    "bureau_max_dpd": check_bureau_dpd,
    "sales_history": check_sales_history,
    "min_sales": check_min_sales,
}


def screen(applicant: Applicant, policy: ScreeningPolicy) -> tuple[RuleResult, ...]:
    """Run every enabled rule of the policy, in policy order.

    Args:
        applicant: the USCC, consent scopes and features.
        policy: the screening policy (rule specs and thresholds).

    Returns:
        One :class:`RuleResult` per enabled rule; a failed or missing rule carries its outcome
        (a missing input always refers).
    """
    results = []
    for spec in policy.rules:
        if not spec.enabled:
            continue
        if spec.rule_id not in RULES:
            raise PolicyViolation(f"unknown screening rule {spec.rule_id!r}")
        status, observed, threshold = RULES[spec.rule_id](applicant, policy)
        outcome = None
        if status is Status.FAIL:
            outcome = spec.outcome
        elif status is Status.MISSING:
            outcome = Outcome.REFER
        results.append(
            RuleResult(
                spec.rule_id, status, outcome, spec.reason_zh, spec.reason_en, observed, threshold
            )
        )
    return tuple(results)
