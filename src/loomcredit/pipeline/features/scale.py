"""Scale and growth (规模与增长): invoiced sales over 3/6/12 months and year-on-year growth.

Growth is always year on year (the same months a year earlier), never month on month: the Keqiao
cluster is seasonal (DOMAIN.md §11). Sales come from ``monthly_activity.sales_fen`` (normal
invoices minus red-letter, voids excluded), known on the 15th of the following month.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import ibis

from loomcredit.pipeline.features.catalogue import feature
from loomcredit.pipeline.features.pit import Cutoffs, add_months, month_index, monthly_known
from loomcredit.pipeline.features.tables import Tables

SRC = "monthly_activity.sales"
FEATURES = (
    feature(
        "sales_3m_fen",
        "近3个月开票销售额",
        "Invoiced sales, last 3 available months",
        source=SRC,
        window="3m",
        unit="fen",
    ),
    feature(
        "sales_6m_fen",
        "近6个月开票销售额",
        "Invoiced sales, last 6 available months",
        source=SRC,
        window="6m",
        unit="fen",
    ),
    feature(
        "sales_12m_fen",
        "近12个月开票销售额",
        "Invoiced sales, last 12 available months",
        source=SRC,
        window="12m",
        unit="fen",
    ),
    feature(
        "sales_yoy_3m",
        "近3个月销售同比",
        "3-month sales vs the same 3 months a year earlier (−1..+inf; null if no base)",
        source=SRC,
        window="3m vs 3m a year earlier",
        unit="ratio",
        dtype="float64",
        fill=None,
    ),
    feature(
        "sales_yoy_12m",
        "近12个月销售同比",
        "12-month sales vs the 12 months before",
        source=SRC,
        window="12m vs prior 12m",
        unit="ratio",
        dtype="float64",
        fill=None,
    ),
    feature(
        "purchases_12m_fen",
        "近12个月进项采购额",
        "Invoiced purchases, last 12 months",
        source=SRC,
        window="12m",
        unit="fen",
    ),
    feature(
        "months_of_history",
        "开票经营月数",
        "Months from the first invoiced sale to the last available month (inclusive; 0 if none)",
        source=SRC,
        window="all",
        unit="months",
    ),
)


def in_months(month: Any, last: date, count: int, *, skip: int = 0) -> Any:
    """``month`` within the ``count`` months ending ``skip`` months before ``last``."""
    end = add_months(last, -skip)
    return (month >= add_months(end, -(count - 1))) & (month <= end)


def safe_div(num: Any, den: Any) -> Any:
    """``num / den`` as a float, null where ``den`` is missing or not positive.

    The divisor is guarded inside the expression too: Spark's ANSI mode raises on a zero divisor
    even in a branch that is not taken, DuckDB does not.
    """
    den_f = den.cast("float64")
    return ibis.ifelse(den > 0, num.cast("float64") / ibis.ifelse(den > 0, den_f, 1.0), None)


def growth(current: Any, base: Any) -> Any:
    """``current / base − 1`` as a float, null where the base is missing or not positive."""
    return safe_div(current, base) - 1.0


def compute(tables: Tables, *, as_of: date) -> Any:
    """Scale and growth features per enterprise, as of ``as_of``.

    Args:
        tables: The integrated tables.
        as_of: The decision date.

    Returns:
        One row per enterprise with any monthly activity known by ``as_of``.
    """
    last = Cutoffs.at(as_of).sales_month
    m = monthly_known(tables.monthly_activity, as_of)
    m = m.filter(m.month <= last)
    sales = m.sales_fen
    ym = m.month.year() * 12 + m.month.month() - 1
    agg = m.group_by("uscc").aggregate(
        sales_3m_fen=sales.sum(where=in_months(m.month, last, 3)),
        sales_6m_fen=sales.sum(where=in_months(m.month, last, 6)),
        sales_12m_fen=sales.sum(where=in_months(m.month, last, 12)),
        base_3m=sales.sum(where=in_months(m.month, last, 3, skip=12)),
        base_12m=sales.sum(where=in_months(m.month, last, 12, skip=12)),
        purchases_12m_fen=m.purchases_fen.sum(where=in_months(m.month, last, 12)),
        first_sale_ym=ym.min(where=sales > 0),
    )
    last_ym = month_index(last)
    return agg.select(
        "uscc",
        sales_3m_fen=agg.sales_3m_fen.fill_null(0).cast("int64"),
        sales_6m_fen=agg.sales_6m_fen.fill_null(0).cast("int64"),
        sales_12m_fen=agg.sales_12m_fen.fill_null(0).cast("int64"),
        sales_yoy_3m=growth(agg.sales_3m_fen.fill_null(0), agg.base_3m),
        sales_yoy_12m=growth(agg.sales_12m_fen.fill_null(0), agg.base_12m),
        purchases_12m_fen=agg.purchases_12m_fen.fill_null(0).cast("int64"),
        months_of_history=(last_ym - agg.first_sale_ym + 1).fill_null(0).cast("int64"),
    )
