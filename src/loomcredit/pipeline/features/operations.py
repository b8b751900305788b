"""Operations (经营与用能): electricity, steam for dyers, insured headcount.

Utilities and social insurance of month M are known on the 10th of M+2. Electricity follows the
Zhejiang 「电E贷」 measures (DOMAIN.md §9): level, year on year, and utilisation = the latest
month's kWh ÷ the peak of the previous 12 months. Headcount is compared quarter on quarter and
year on year (a > 20 % quarterly drop is an amber signal).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import ibis

from loomcredit.pipeline.features.catalogue import feature
from loomcredit.pipeline.features.pit import Cutoffs, add_months, monthly_known
from loomcredit.pipeline.features.scale import growth, in_months, safe_div
from loomcredit.pipeline.features.tables import Tables

SRC = "utilities"
FEATURES = (
    feature(
        "kwh_3m",
        "近3个月用电量",
        "Electricity, last 3 available months",
        source=SRC,
        window="3m",
        unit="kWh",
    ),
    feature(
        "kwh_12m",
        "近12个月用电量",
        "Electricity, last 12 available months",
        source=SRC,
        window="12m",
        unit="kWh",
    ),
    feature(
        "kwh_yoy_3m",
        "近3个月用电同比",
        "3-month kWh vs the same months a year earlier",
        source=SRC,
        window="3m vs 3m a year earlier",
        unit="ratio",
        dtype="float64",
        fill=None,
    ),
    feature(
        "kwh_utilisation",
        "用电产能利用率",
        "Latest month's kWh / peak of the previous 12 months",
        source=SRC,
        window="13m",
        unit="ratio",
        dtype="float64",
        fill=None,
    ),
    feature(
        "kwh_capacity_score",
        "电E贷产能分",
        "(INT(avg monthly kWh over 12 months / 1000) + 1) × 10",
        source=SRC,
        window="12m",
        unit="points",
        fill=None,
    ),
    feature(
        "steam_3m_t",
        "近3个月用汽量（印染）",
        "Steam, last 3 months (dyers)",
        source=SRC,
        window="3m",
        unit="t",
        dtype="float64",
        fill=None,
    ),
    feature(
        "steam_yoy_3m",
        "近3个月用汽同比",
        "3-month steam vs a year earlier",
        source=SRC,
        window="3m vs 3m a year earlier",
        unit="ratio",
        dtype="float64",
        fill=None,
    ),
    feature(
        "headcount_latest",
        "最新参保人数",
        "Insured headcount, latest available month",
        source="social_insurance",
        window="latest",
        unit="persons",
        fill=None,
    ),
    feature(
        "headcount_qoq",
        "参保人数环季变化",
        "Headcount vs 3 months earlier, −1..+inf",
        source="social_insurance",
        window="3m",
        unit="ratio",
        dtype="float64",
        fill=None,
    ),
    feature(
        "headcount_yoy",
        "参保人数同比",
        "Headcount vs 12 months earlier",
        source="social_insurance",
        window="12m",
        unit="ratio",
        dtype="float64",
        fill=None,
    ),
)


def compute(tables: Tables, *, as_of: date) -> Any:
    """Electricity, steam and headcount features as of ``as_of``.

    Args:
        tables: The integrated tables.
        as_of: The decision date.

    Returns:
        One row per enterprise with utility or headcount months in the window.
    """
    last = Cutoffs.at(as_of).utilities_month
    m = monthly_known(tables.monthly_activity, as_of)
    m = m.filter(in_months(m.month, last, 24))
    at = {k: m.month == add_months(last, -k) for k in (0, 3, 12)}
    agg = m.group_by("uscc").aggregate(
        kwh_3m=m.kwh.sum(where=in_months(m.month, last, 3)),
        kwh_12m=m.kwh.sum(where=in_months(m.month, last, 12)),
        kwh_base_3m=m.kwh.sum(where=in_months(m.month, last, 3, skip=12)),
        kwh_now=m.kwh.max(where=at[0]),
        kwh_peak=m.kwh.max(where=in_months(m.month, last, 12, skip=1)),
        steam_3m_t=m.steam_t.sum(where=in_months(m.month, last, 3)),
        steam_base=m.steam_t.sum(where=in_months(m.month, last, 3, skip=12)),
        hc_now=m.headcount.max(where=at[0]),
        hc_3=m.headcount.max(where=at[3]),
        hc_12=m.headcount.max(where=at[12]),
    )
    kwh_12m = agg.kwh_12m.fill_null(0)
    return agg.select(
        "uscc",
        kwh_3m=agg.kwh_3m.fill_null(0).cast("int64"),
        kwh_12m=kwh_12m.cast("int64"),
        kwh_yoy_3m=growth(agg.kwh_3m.fill_null(0), agg.kwh_base_3m),
        kwh_utilisation=safe_div(agg.kwh_now.fill_null(0), agg.kwh_peak),
        # NULL when no kWh is known (a month holding only other sources' figures is no zero)
        kwh_capacity_score=ibis.ifelse(
            agg.kwh_12m.isnull(), None, ((kwh_12m // 12) // 1000 + 1).cast("int64") * 10
        ),
        steam_3m_t=agg.steam_3m_t,
        steam_yoy_3m=growth(agg.steam_3m_t.fill_null(0.0), agg.steam_base),
        headcount_latest=agg.hc_now.cast("int64"),
        headcount_qoq=growth(agg.hc_now.fill_null(0), agg.hc_3),
        headcount_yoy=growth(agg.hc_now.fill_null(0), agg.hc_12),
    )
