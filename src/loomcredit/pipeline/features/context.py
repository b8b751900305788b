"""Context (企业背景): firm age, industry segment, region, registry status and changes, market.

Registry facts come from the registry history as known 3 days after each change, so the status
and codes are those in force on the decision date; a historic region code (绍兴县 330621 …) is
mapped to its current successor. The cluster market index of month M is known on the 5th of M+1
and is compared year on year.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import ibis

from loomcredit.pipeline.features.catalogue import feature
from loomcredit.pipeline.features.pit import Cutoffs, add_months, known_by, shift_months
from loomcredit.pipeline.features.scale import growth
from loomcredit.pipeline.features.tables import Tables

# DOMAIN.md §3: abolished codes and their successors.
HISTORIC_REGIONS = {"330621": "330603", "330682": "330604", "330623": "330683"}
# DOMAIN.md §4: textile-cluster segments by GB/T 4754 class prefix (longest prefix wins).
SEGMENTS = (
    ("C1713", "dyeing"),
    ("C1723", "dyeing"),
    ("C1733", "dyeing"),
    ("C1743", "dyeing"),
    ("C1752", "dyeing"),
    ("C1762", "dyeing"),
    ("C176", "knitting"),
    ("C177", "home_textiles"),
    ("C178", "technical_textiles"),
    ("C17", "weaving"),
    ("C18", "apparel"),
    ("C28", "fibre"),
    ("F5131", "textile_wholesale"),
    ("F5132", "apparel_wholesale"),
    ("C3551", "textile_machinery"),
)
MARKET_SERIES = {
    "market_prosperity_yoy": "keqiao_prosperity_index",
    "market_price_yoy": "keqiao_price_index",
}

FEATURES = (
    feature(
        "firm_age_months",
        "成立月数",
        "Whole months since establishment",
        source="registry",
        window="all",
        unit="months",
        fill=None,
    ),
    feature(
        "industry_code",
        "行业代码",
        "GB/T 4754-2017 class in force",
        source="registry",
        window="latest",
        unit="code",
        dtype="string",
        fill=None,
    ),
    feature(
        "segment",
        "行业细分",
        "Textile-cluster segment (dyeing, weaving, knitting, apparel, fibre, wholesale …; other)",
        source="registry",
        window="latest",
        unit="code",
        dtype="string",
        fill=None,
    ),
    feature(
        "is_dyer",
        "是否印染企业",
        "1 if the firm is a dyeing / finishing mill",
        source="registry",
        window="latest",
        unit="flag",
    ),
    feature(
        "region_code",
        "行政区划代码（现行）",
        "GB/T 2260 region, current code",
        source="registry",
        window="latest",
        unit="code",
        dtype="string",
        fill=None,
    ),
    feature(
        "registry_status",
        "登记状态",
        "存续 / 吊销 / 注销 in force",
        source="registry",
        window="latest",
        unit="code",
        dtype="string",
        fill=None,
    ),
    feature(
        "legal_rep_changes_12m",
        "近12个月法定代表人变更",
        "Changes of legal representative, 12 months",
        source="registry",
        window="12m",
        unit="count",
    ),
    feature(
        "registry_changes_12m",
        "近12个月工商变更次数",
        "Registry changes of any kind, 12 months",
        source="registry",
        window="12m",
        unit="count",
    ),
    *(
        feature(
            name,
            f"柯桥指数同比（{series}）",
            f"Cluster market series {series}, latest month vs 12 months earlier",
            source="market",
            window="12m",
            unit="ratio",
            dtype="float64",
            fill=None,
        )
        for name, series in MARKET_SERIES.items()
    ),
)


def _segment(code: Any) -> Any:
    ordered = sorted(SEGMENTS, key=lambda s: -len(s[0]))
    return ibis.cases(*[(code.startswith(p), seg) for p, seg in ordered], else_="other")


def _current_region(code: Any) -> Any:
    return ibis.cases(*[(code == old, new) for old, new in HISTORIC_REGIONS.items()], else_=code)


def _registry(tables: Tables, as_of: date) -> Any:
    r = tables.registry
    r = r.filter((r.changed_on <= Cutoffs.at(as_of).registry_day) & known_by(r.obtained_on, as_of))
    w = ibis.window(group_by="uscc", order_by=[ibis.desc("changed_on"), ibis.desc("change_type")])
    latest = r.mutate(rank=ibis.row_number().over(w))
    latest = latest.filter(latest.rank == 0).select(
        "uscc",
        reg_industry=latest.industry_code,
        reg_region=latest.region_code,
        reg_status=latest.status,
    )
    recent = r.filter((r.changed_on > shift_months(as_of, -12)) & (r.change_type != "registration"))
    changes = recent.group_by("uscc").aggregate(
        legal_rep_changes_12m=recent.count(where=recent.change_type == "legal_rep"),
        registry_changes_12m=recent.count(),
    )
    return latest.left_join(changes, "uscc").drop("uscc_right")


def _market(tables: Tables, as_of: date) -> Any:
    last = Cutoffs.at(as_of).market_month
    base = add_months(last, -12)
    mk = tables.market
    mk = mk.filter(mk.month.isin([last, base]) & known_by(mk.obtained_on, as_of))
    cols = {}
    for name, series in MARKET_SERIES.items():
        now = mk.value.max(where=(mk.series == series) & (mk.month == last))
        then = mk.value.max(where=(mk.series == series) & (mk.month == base))
        cols[name] = growth(now, then)
    return mk.aggregate(**cols)


def compute(tables: Tables, *, as_of: date) -> Any:
    """The population (enterprises established by ``as_of`` and registered in the lake by then:
    a registration is known 3 days late) with its context features.

    Args:
        tables: The integrated tables.
        as_of: The decision date.

    Returns:
        One row per enterprise established and known on or before ``as_of``.
    """
    e = tables.enterprise
    e = e.filter(
        (e.established_on.isnull() | (e.established_on <= as_of)) & known_by(e.known_on, as_of)
    )
    age = (as_of.year * 12 + as_of.month) - (
        e.established_on.year() * 12 + e.established_on.month()
    )
    age = age - ibis.ifelse(e.established_on.day() > as_of.day, 1, 0)
    pop = e.select("uscc", "industry_code", "region_code", "status", firm_age_months=age)
    j = pop.left_join(_registry(tables, as_of), "uscc").drop("uscc_right")
    j = j.mutate(industry=j.reg_industry.fill_null(j.industry_code))
    j = j.mutate(seg=_segment(j.industry.fill_null("")))
    industry = j.industry
    out = j.select(
        "uscc",
        firm_age_months=j.firm_age_months.cast("int64"),
        industry_code=industry,
        segment=j.seg,
        is_dyer=(j.seg == "dyeing").cast("int64"),
        region_code=_current_region(j.reg_region.fill_null(j.region_code)),
        registry_status=j.reg_status,
        legal_rep_changes_12m=j.legal_rep_changes_12m.fill_null(0).cast("int64"),
        registry_changes_12m=j.registry_changes_12m.fill_null(0).cast("int64"),
    )
    return out.cross_join(_market(tables, as_of))
