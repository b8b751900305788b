"""Reason codes: the factors that lowered a score, in Chinese and English.

PIPL Art. 24 gives an applicant the right to an explanation of an automated decision. For the
scorecard a factor's impact is the points it lost against that characteristic's best bin; for
the booster it is the characteristic's TreeSHAP contribution (LightGBM ``pred_contrib``) to the
log-odds of default, expressed in points. Only factors that lowered the score are reasons.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["FEATURE_LABELS", "Reason", "make_reason", "top_reasons"]

FEATURE_LABELS: dict[str, tuple[str, str]] = {
    "sales_3m_fen": ("近3个月开票销售额", "invoiced sales, last 3 months"),
    "sales_6m_fen": ("近6个月开票销售额", "invoiced sales, last 6 months"),
    "sales_12m_fen": ("近12个月开票销售额", "invoiced sales, last 12 months"),
    "sales_yoy_3m": ("近3个月销售同比", "3-month sales year on year"),
    "months_of_history": ("开票经营月数", "months of invoicing history"),
    "months_no_invoices_12m": ("近12个月无开票月数", "months without invoices, last 12"),
    "firm_age_months": ("企业成立月数", "firm age in months"),
    "industry_code": ("行业", "industry"),
    "region_code": ("地区", "region"),
    "registry_status": ("登记状态", "registration status"),
    "tax_credit_grade": ("纳税信用等级", "tax credit grade"),
    "tax_arrears_fen": ("欠税金额", "tax arrears"),
    "bureau_overdue_accounts": ("征信逾期账户数", "overdue accounts at the bureau"),
    "bureau_max_dpd_24m": ("近24个月最长逾期天数", "longest days past due, last 24 months"),
    "bureau_nonperforming_accounts": ("征信不良账户数", "non-performing accounts at the bureau"),
    "bureau_inquiries_3m": ("近3个月征信查询次数", "bureau inquiries, last 3 months"),
    "bureau_loans_outstanding_fen": ("征信贷款余额", "loans outstanding at the bureau"),
    "judicial_enforcement_open": ("未结被执行案件数", "open enforcement cases"),
    "judicial_enforcement_24m": ("近24个月被执行案件数", "enforcement cases, last 24 months"),
    "judicial_dishonest": ("失信被执行人", "listed as a dishonest debtor"),
    "inflow_12m_fen": ("近12个月银行流入", "bank inflows, last 12 months"),
    "outflow_12m_fen": ("近12个月银行流出", "bank outflows, last 12 months"),
    "news_negative_12m": ("近12个月负面舆情数", "negative news, last 12 months"),
    "kwh_yoy_3m": ("近3个月用电量同比", "3-month electricity use year on year"),
}
"""Human names of Loom's profile features; other features fall back to their column name."""


@dataclass(frozen=True)
class Reason:
    """One factor that lowered the score.

    Attributes
    ----------
    feature : str
        Column name.
    code : str
        Stable reason code (``R-`` and the feature name in capitals).
    text_zh : str
        Chinese explanation for the applicant and the reviewer.
    text_en : str
        English explanation.
    impact : float
        Points lost (positive; larger is a stronger reason).
    """

    feature: str
    code: str
    text_zh: str
    text_en: str
    impact: float


def _fmt(value: object) -> str:
    if value is None:
        return "缺失/missing"
    if isinstance(value, float):
        if value != value:  # NaN
            return "缺失/missing"
        return f"{value:,.4g}"
    return str(value)


def make_reason(feature: str, value: object, impact: float, bin_label: str | None = None) -> Reason:
    """Build the reason for one feature.

    Parameters
    ----------
    feature : str
        Column name.
    value : object
        The applicant's value (shown in the text).
    impact : float
        Points lost.
    bin_label : str, optional
        The scorecard bin the value fell in (default=None).

    Returns
    -------
    Reason
        With Chinese and English text.
    """
    zh, en = FEATURE_LABELS.get(feature, (feature, feature))
    shown = _fmt(value)
    where_zh = f"，所在区间 {bin_label}" if bin_label else ""
    where_en = f", bin {bin_label}" if bin_label else ""
    return Reason(
        feature=feature,
        code="R-" + feature.upper(),
        text_zh=f"{zh}（{shown}{where_zh}）使评分降低约 {impact:.1f} 分",
        text_en=f"{en} ({shown}{where_en}) lowered the score by about {impact:.1f} points",
        impact=float(impact),
    )


def top_reasons(
    impacts: Iterable[tuple[str, object, float, str | None]], k: int = 4, min_impact: float = 0.5
) -> list[Reason]:
    """The ``k`` largest score-lowering factors.

    Parameters
    ----------
    impacts : iterable of (feature, value, points_lost, bin_label)
        One entry per feature.
    k : int
        How many reasons to return (default=4).
    min_impact : float
        Ignore factors that cost fewer points than this (default=0.5).

    Returns
    -------
    list of Reason
        Largest impact first.
    """
    chosen = sorted((t for t in impacts if t[2] >= min_impact), key=lambda t: -t[2])[:k]
    return [make_reason(f, v, imp, label) for f, v, imp, label in chosen]
