"""Cash (资金流水): inflow, outflow, net inflow, inflow concentration, months of outflow covered.

Bank flows are known the day after booking, and only once obtained (a consent's lapse: on its
renewal). Counterparties are keyed by resolved USCC, else by
name. "Months of outflow covered" is the 12-month net inflow divided by the average monthly
outflow: how many months of spending the year's cash build-up would pay for.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from loomcredit.pipeline.features.catalogue import feature
from loomcredit.pipeline.features.pit import Cutoffs, known_by
from loomcredit.pipeline.features.scale import safe_div
from loomcredit.pipeline.features.tables import Tables

SRC = "bank_flows"
FEATURES = (
    feature(
        "inflow_12m_fen",
        "近12个月流入",
        "Bank inflows, last 365 days",
        source=SRC,
        window="12m",
        unit="fen",
    ),
    feature(
        "outflow_12m_fen",
        "近12个月流出",
        "Bank outflows, last 365 days",
        source=SRC,
        window="12m",
        unit="fen",
    ),
    feature(
        "net_inflow_12m_fen",
        "近12个月净流入",
        "Inflows minus outflows, last 365 days",
        source=SRC,
        window="12m",
        unit="fen",
    ),
    feature(
        "inflow_3m_fen",
        "近3个月流入",
        "Bank inflows, last 91 days",
        source=SRC,
        window="3m",
        unit="fen",
    ),
    feature(
        "inflow_counterparties_12m",
        "近12个月来款方数",
        "Distinct paying counterparties",
        source=SRC,
        window="12m",
        unit="count",
    ),
    feature(
        "inflow_top1_share_12m",
        "最大来款方占比",
        "Share of inflows from the largest payer",
        source=SRC,
        window="12m",
        unit="ratio",
        dtype="float64",
        fill=None,
    ),
    feature(
        "inflow_hhi_12m",
        "来款集中度HHI",
        "Herfindahl index of inflows by payer",
        source=SRC,
        window="12m",
        unit="ratio",
        dtype="float64",
        fill=None,
    ),
    feature(
        "months_outflow_covered",
        "净流入覆盖月支出数",
        "Net inflow over 12 months / average monthly outflow",
        source=SRC,
        window="12m",
        unit="months",
        dtype="float64",
        fill=None,
    ),
)


def compute(tables: Tables, *, as_of: date) -> Any:
    """Cash-flow features over the 365 days known by ``as_of``.

    Args:
        tables: The integrated tables.
        as_of: The decision date.

    Returns:
        One row per enterprise with bank flows in the window.
    """
    last = Cutoffs.at(as_of).bank_day
    f = tables.bank_flows
    f = f.filter(
        (f.booked_on <= last)
        & (f.booked_on > last - timedelta(days=365))
        & known_by(f.obtained_on, as_of)
    )
    inflow = f.direction == "in"
    agg = f.group_by("uscc").aggregate(
        inflow=f.amount_fen.sum(where=inflow),
        outflow=f.amount_fen.sum(where=f.direction == "out"),
        inflow_3m=f.amount_fen.sum(where=inflow & (f.booked_on > last - timedelta(days=91))),
    )
    ins = f.filter(inflow)
    ins = ins.mutate(payer=ins.counterparty_uscc.fill_null(ins.counterparty_name).fill_null("?"))
    payers = ins.group_by(["uscc", "payer"]).aggregate(amount=ins.amount_fen.sum())
    totals = payers.group_by("uscc").aggregate(total=payers.amount.sum())
    p = payers.inner_join(totals, "uscc")
    p = p.filter(p.total > 0)
    p = p.mutate(share=safe_div(p.amount, p.total))
    conc = p.group_by("uscc").aggregate(
        inflow_counterparties_12m=p.payer.nunique().cast("int64"),
        inflow_top1_share_12m=p.share.max(),
        inflow_hhi_12m=(p.share * p.share).sum(),
    )
    inflow_fen = agg.inflow.fill_null(0).cast("int64")
    outflow_fen = agg.outflow.fill_null(0).cast("int64")
    net = inflow_fen - outflow_fen
    out = agg.select(
        "uscc",
        inflow_12m_fen=inflow_fen,
        outflow_12m_fen=outflow_fen,
        net_inflow_12m_fen=net,
        inflow_3m_fen=agg.inflow_3m.fill_null(0).cast("int64"),
        months_outflow_covered=safe_div(net * 12, outflow_fen),
    )
    return out.left_join(conc, "uscc").drop("uscc_right")
