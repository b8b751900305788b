"""Supplier contagion (供应商风险传染): the share of a firm's purchases that come from suppliers
with a risk event (severity ≥ 2) in the 12 months to the date — a dyeing mill whose grey-cloth
weaver is under enforcement may be short of supply next.

The mirror of the buyer side in ``network.py``: edges usable for their buyer (``buyer_consented``,
obtained by the date), risk events as known by the date. Its own family, so the online path's
statement for the network stays within SQLite's parser depth.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from loomcredit.pipeline.features.catalogue import feature
from loomcredit.pipeline.features.network import recent_edges, risky_enterprises
from loomcredit.pipeline.features.scale import safe_div
from loomcredit.pipeline.features.tables import Tables

FEATURES = (
    feature(
        "supplier_contagion_share_12m",
        "风险供应商采购占比（传染）",
        "Share of purchases from suppliers with a risk event (severity ≥ 2) in the 12 months to "
        "the date",
        source="supply_edges, risk_events",
        window="12m",
        unit="ratio",
        dtype="float64",
        fill=None,
    ),
)


def compute(tables: Tables, *, as_of: date) -> Any:
    """One row per enterprise that bought in the window (its consented purchases)."""
    bought = recent_edges(tables, as_of=as_of, side="buyer")
    risky = risky_enterprises(tables, as_of)
    j = bought.left_join(risky, bought.seller_uscc == risky.risky_uscc)
    agg = j.group_by(j.buyer_uscc.name("uscc")).aggregate(
        risky=j.amount.sum(where=j.risky_uscc.notnull()), total=j.amount.sum()
    )
    return agg.select(
        "uscc",
        supplier_contagion_share_12m=safe_div(agg.risky.fill_null(0), agg.total),
    )
