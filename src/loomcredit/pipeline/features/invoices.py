"""Invoice quality (发票质量): the share of void (作废) and red-letter (红冲) invoices.

Frequent voids and red-letter corrections are a known sign of invoice padding or disputes. The
share is over every document the enterprise issued in the window: ``invoices_issued`` (normal
invoices, as ingest counts them) plus void plus red-letter ones.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from loomcredit.pipeline.features.catalogue import feature
from loomcredit.pipeline.features.pit import Cutoffs, monthly_known
from loomcredit.pipeline.features.scale import in_months, safe_div
from loomcredit.pipeline.features.tables import Tables

SRC = "monthly_activity.sales"
FEATURES = (
    feature(
        "invoices_issued_12m",
        "近12个月开票张数",
        "Normal invoices issued, last 12 months",
        source=SRC,
        window="12m",
        unit="count",
    ),
    feature(
        "void_share_12m",
        "近12个月作废发票占比",
        "Void invoices / all documents issued, last 12 months",
        source=SRC,
        window="12m",
        unit="ratio",
        dtype="float64",
        fill=None,
    ),
    feature(
        "red_share_12m",
        "近12个月红字发票占比",
        "Red-letter invoices / all documents issued, last 12 months",
        source=SRC,
        window="12m",
        unit="ratio",
        dtype="float64",
        fill=None,
    ),
)


def compute(tables: Tables, *, as_of: date) -> Any:
    """Invoice counts and void / red-letter shares over the last 12 available months.

    Args:
        tables: The integrated tables.
        as_of: The decision date.

    Returns:
        One row per enterprise with monthly activity in the window.
    """
    last = Cutoffs.at(as_of).sales_month
    m = monthly_known(tables.monthly_activity, as_of)
    m = m.filter(in_months(m.month, last, 12))
    agg = m.group_by("uscc").aggregate(
        issued=m.invoices_issued.sum(), void=m.invoices_void.sum(), red=m.invoices_red.sum()
    )
    issued = agg.issued.fill_null(0)
    documents = issued + agg.void.fill_null(0) + agg.red.fill_null(0)

    def share(part: Any) -> Any:
        return safe_div(part.fill_null(0), documents)

    return agg.select(
        "uscc",
        invoices_issued_12m=issued.cast("int64"),
        void_share_12m=share(agg.void),
        red_share_12m=share(agg.red),
    )
