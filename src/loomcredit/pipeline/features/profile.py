"""A readable enterprise profile (企业画像) with its strongest warning signs.

:func:`profile` gathers one enterprise's features as of a date (from its snapshot, or computed on
demand) and applies the early-warning triggers of DOMAIN.md §9 — court enforcement and 失信, tax
arrears and grade, year-on-year drops in sales and electricity, headcount falls, credit-bureau
overdues, registry changes, negative news, risky or concentrated buyers. Thresholds are parameters
(not regulation); red signals come first.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from loomcredit.domain.errors import NotFound
from loomcredit.domain.money import Money
from loomcredit.domain.seasonality import calendar_adjusted_change
from loomcredit.pipeline.features.catalogue import FeatureDef, catalogue
from loomcredit.pipeline.features.pit import Cutoffs
from loomcredit.pipeline.schemas import LakePaths

Level = Literal["red", "amber", "review"]
LEVEL_ORDER: dict[str, int] = {"red": 0, "amber": 1, "review": 2}
LOW_UTILISATION = 0.4  # DOMAIN.md §9: utilisation < 40 % outside the Spring Festival → amber
CNY_MONTHS = (1, 2)  # utilisation is not compared in the Spring Festival months


@dataclass(frozen=True)
class Signal:
    """One early-warning sign (预警信号) found in the profile."""

    code: str
    level: Level
    feature: str
    value: object
    message_zh: str
    message_en: str


@dataclass(frozen=True)
class Profile:
    """One enterprise's features as of a date, with its warning signs (strongest first)."""

    uscc: str
    name: str | None
    as_of: date
    features: Mapping[str, object]
    signals: tuple[Signal, ...] = field(default=())

    def sections(self) -> list[tuple[str, list[tuple[FeatureDef, object]]]]:
        """Features grouped by family, in catalogue order, for display."""
        from loomcredit.pipeline.features import families

        out = []
        for family in families.FAMILIES:
            first = (family.__doc__ or family.__name__).split("\n", 1)[0]
            title = first.split(":", 1)[0].strip().rstrip(".")
            rows = [(f, self.features.get(f.name)) for f in family.FEATURES]
            out.append((title, rows))
        return out


def fmt_value(f: FeatureDef, value: object) -> str:
    """A feature value as people read it: money in yuan, ratios in percent."""
    if value is None:
        return "—"
    if f.unit == "fen" and isinstance(value, int):
        return Money.of_fen(value).format()
    if f.unit == "ratio" and isinstance(value, float):
        return (
            f"{value:.1%}"
            if not f.name.startswith(("season_factor", "network_pagerank"))
            else (f"{value:.2f}")
        )
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _num(features: Mapping[str, object], name: str) -> float | None:
    value = features.get(name)
    return float(value) if isinstance(value, int | float) else None


Rule = tuple[str, Level, str, Callable[[float], bool], str, str]
# (code, level, feature, trigger, Chinese text, English text); {v} is the formatted value.
RULES: tuple[Rule, ...] = (
    (
        "DISHONEST",
        "red",
        "judicial_dishonest",
        lambda v: v > 0,
        "列入失信被执行人",
        "On the 失信 list",
    ),
    (
        "ENFORCEMENT",
        "red",
        "judicial_enforcement_open",
        lambda v: v > 0,
        "存在未结被执行案件 {v} 件",
        "{v} open court enforcement case(s)",
    ),
    (
        "EQUITY_FROZEN",
        "red",
        "judicial_equity_freeze_12m",
        lambda v: v > 0,
        "近12个月股权冻结 {v} 次",
        "Equity frozen {v} time(s) in 12 months",
    ),
    (
        "BUREAU_OVERDUE",
        "red",
        "bureau_overdue_accounts",
        lambda v: v > 0,
        "征信显示他行逾期账户 {v} 个",
        "{v} overdue account(s) at other lenders",
    ),
    (
        "BUREAU_NPL",
        "red",
        "bureau_nonperforming_accounts",
        lambda v: v > 0,
        "征信显示不良账户 {v} 个",
        "{v} non-performing account(s)",
    ),
    (
        "SALES_DROP_50",
        "red",
        "sales_yoy_3m",
        lambda v: v < -0.5,
        "近3个月开票销售同比下降 {v}",
        "3-month sales down {v} year on year",
    ),
    (
        "SALES_DROP_30",
        "amber",
        "sales_yoy_3m",
        lambda v: -0.5 <= v < -0.3,
        "近3个月开票销售同比下降 {v}",
        "3-month sales down {v} year on year",
    ),
    ("TAX_ARREARS", "amber", "tax_arrears_fen", lambda v: v > 0, "欠税 {v}", "Tax arrears {v}"),
    (
        "NO_INVOICES",
        "amber",
        "months_no_invoices_12m",
        lambda v: v >= 2,
        "近12个月有 {v} 个月未开票",
        "{v} month(s) without invoices in 12",
    ),
    (
        "POWER_DROP",
        "amber",
        "kwh_yoy_3m",
        lambda v: v < -0.3,
        "近3个月用电同比下降 {v}",
        "Electricity down {v} year on year",
    ),
    (
        "STEAM_DROP",
        "amber",
        "steam_yoy_3m",
        lambda v: v < -0.3,
        "近3个月用汽同比下降 {v}",
        "Steam down {v} year on year",
    ),
    (
        "HEADCOUNT_DROP",
        "amber",
        "headcount_yoy",
        lambda v: v < -0.2,
        "参保人数同比下降 {v}",
        "Insured headcount down {v} year on year",
    ),
    (
        "SEVERE_NEWS",
        "amber",
        "news_severe_12m",
        lambda v: v > 0,
        "近12个月高危负面舆情 {v} 条",
        "{v} severe negative news item(s)",
    ),
    (
        "RISKY_BUYERS",
        "amber",
        "contagion_share_12m",
        lambda v: v > 0.3,
        "对风险客户销售占比 {v}",
        "{v} of sales go to buyers with risk events",
    ),
    (
        "RISKY_SUPPLIERS",
        "amber",
        "supplier_contagion_share_12m",
        lambda v: v > 0.3,
        "自风险供应商采购占比 {v}",
        "{v} of purchases come from suppliers with risk events",
    ),
    (
        "BUYER_CHURN",
        "amber",
        "buyer_churn_top5",
        lambda v: v >= 0.6,
        "主要客户流失 {v}",
        "{v} of last year's main buyers lost",
    ),
    (
        "CASH_OUTFLOW",
        "amber",
        "net_inflow_12m_fen",
        lambda v: v < 0,
        "近12个月资金净流出 {v}",
        "Net cash outflow {v} over 12 months",
    ),
    (
        "LEGAL_REP_CHANGE",
        "review",
        "legal_rep_changes_12m",
        lambda v: v > 0,
        "近12个月法定代表人变更 {v} 次",
        "Legal representative changed {v} time(s)",
    ),
    (
        "NEGATIVE_NEWS",
        "review",
        "news_negative_3m",
        lambda v: v > 0,
        "近3个月负面舆情 {v} 条",
        "{v} negative news item(s) in 3 months",
    ),
    (
        "BUYER_CONCENTRATION",
        "review",
        "buyer_top1_share_12m",
        lambda v: v > 0.6,
        "第一大客户占销售 {v}",
        "Largest buyer takes {v} of sales",
    ),
    (
        "MANY_INQUIRIES",
        "review",
        "bureau_inquiries_3m",
        lambda v: v >= 6,
        "近3个月征信查询 {v} 次",
        "{v} credit inquiries in 3 months",
    ),
)


#: Every code :func:`warning_signs` can raise (a warning policy names each of them).
SIGN_CODES: frozenset[str] = frozenset(r[0] for r in RULES) | {
    "DEREGISTERED",
    "TAX_GRADE",
    "LOW_UTILISATION",
}


@functools.cache
def _definitions() -> dict[str, FeatureDef]:
    return {f.name: f for f in catalogue()}


#: The year-on-year 3-month changes of flows the Spring Festival moves, and the cut-off of each.
CALENDAR_ADJUSTED = {"sales_yoy_3m": "sales_month", "kwh_yoy_3m": "utilities_month",
                     "steam_yoy_3m": "utilities_month"}  # fmt: skip


def _adjusted(features: Mapping[str, object], as_of: date) -> tuple[dict[str, object], set[str]]:
    """The features with each year-on-year flow change cleared of the Spring Festival's shift
    between the two years (DOMAIN.md §11: suppress alerts the CNY calendar causes), and the
    names the shift changed."""
    out, shifted = dict(features), set()
    cut = Cutoffs.at(as_of)
    for name, month in CALENDAR_ADJUSTED.items():
        value = _num(features, name)
        if value is not None:
            adjusted = calendar_adjusted_change(value, getattr(cut, month))
            out[name] = adjusted
            if abs(adjusted - value) > 0.005:
                shifted.add(name)
    return out, shifted


def warning_signs(
    features: Mapping[str, object], as_of: date, *, calendar: bool = True
) -> tuple[Signal, ...]:
    """The early-warning signs in a feature vector, red first.

    Args:
        features: One enterprise's features.
        as_of: The date they describe (utilisation is not judged in the Spring Festival months).
        calendar: Judge year-on-year sales, power and steam after taking out the Spring
            Festival's shift between the two years (the house rule; False only to measure what
            that is worth).

    Returns:
        The signals found, ordered by level then code.
    """
    shifted: set[str] = set()
    if calendar:
        features, shifted = _adjusted(features, as_of)
    defs = _definitions()
    found: list[Signal] = []
    status = features.get("registry_status")
    if status in ("吊销", "注销"):
        found.append(
            Signal(
                "DEREGISTERED",
                "red",
                "registry_status",
                status,
                f"登记状态为{status}",
                f"Registry status is {status}",
            )
        )
    grade = features.get("tax_credit_grade")
    if grade in ("C", "D"):
        found.append(
            Signal(
                "TAX_GRADE",
                "red",
                "tax_credit_grade",
                grade,
                f"纳税信用等级 {grade}",
                f"Tax credit grade {grade}",
            )
        )
    for code, level, name, trigger, zh, en in RULES:
        value = _num(features, name)
        if value is None or not trigger(value):
            continue
        shown = fmt_value(defs[name], features.get(name))
        if name.endswith(("yoy_3m", "_yoy", "_qoq")):
            shown = f"{-value:.1%}"
        text_zh, text_en = zh.format(v=shown), en.format(v=shown)
        if name in shifted:
            text_zh += "（已扣除春节错月影响）"
            text_en += " (Spring Festival shift taken out)"
        found.append(Signal(code, level, name, features.get(name), text_zh, text_en))
    util = _num(features, "kwh_utilisation")
    if (
        util is not None
        and util < LOW_UTILISATION
        and Cutoffs.at(as_of).utilities_month.month not in CNY_MONTHS
    ):
        zh, en = f"用电产能利用率仅 {util:.0%}", f"Electricity utilisation {util:.0%}"
        found.append(Signal("LOW_UTILISATION", "amber", "kwh_utilisation", util, zh, en))
    return tuple(sorted(found, key=lambda s: (LEVEL_ORDER[s.level], s.code)))


def _name(lake: LakePaths, uscc: str) -> str | None:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from loomcredit.pipeline.features.tables import parquet_files

    for f in parquet_files(lake.table("enterprise")):
        table = pq.read_table(f, columns=["uscc", "name"], filters=[("uscc", "=", uscc)])
        if table.num_rows:
            return str(pc.min(table.column("name")).as_py())
    return None


def profile(lake: LakePaths, uscc: str, as_of: date, *, online: object | None = None) -> Profile:
    """The profile of one enterprise as of ``as_of``.

    Args:
        lake: The lake.
        uscc: The enterprise.
        as_of: The decision date.
        online: An :class:`~loomcredit.pipeline.features.online.OnlineFeatures` to reuse.

    Returns:
        Its features and warning signs.

    Raises:
        NotFound: The enterprise is unknown (or not yet established) on that date.
    """
    from loomcredit.pipeline.features.online import OnlineFeatures

    store = online if isinstance(online, OnlineFeatures) else OnlineFeatures(lake)
    row = store.get(uscc, as_of)
    if not row:
        raise NotFound(f"{uscc} has no profile as of {as_of.isoformat()} (unknown enterprise).")
    features = {k: v for k, v in row.items() if k not in ("uscc", "as_of")}
    return Profile(uscc, _name(lake, uscc), as_of, features, warning_signs(features, as_of))
