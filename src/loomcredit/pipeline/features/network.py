"""Customers, suppliers and the supply network (客户集中度与供应链网络).

From ``supply_edges`` (seller → buyer monthly amounts, known like invoices on the 15th of the next
month): buyer concentration (HHI, top-1 and top-5 share), counterparties, churn of the main buyers,
the share of sales to buyers that already show risk events as of the date (contagion; the supplier
side is ``suppliers.py``), degree, and
PageRank. PageRank is computed in Python (scipy sparse power iteration, as networkx does) on the
edge list as of the date, identically for both engines; everything else is an Ibis expression.

Consent (DOMAIN.md §12): an edge is used for its seller only where ``seller_consented`` (the
seller's invoices consent covered it) and for its buyer only where ``buyer_consented``. So the
buyer-side figures (concentration, churn, contagion) come from the seller's consented sales, the
supplier count from the buyer's consented purchases, and an enterprise that never consented gets
no network figures, PageRank included, from its partners' invoices. Arrival: an end counts as of
a date only once its consent had brought it (``seller_known_on`` / ``buyer_known_on``), and the
network PageRank runs on only the edges obtained by the date (``known_on``).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import ibis
import pyarrow as pa

from loomcredit.pipeline.features.catalogue import feature
from loomcredit.pipeline.features.pit import Cutoffs, known_by
from loomcredit.pipeline.features.scale import in_months, safe_div
from loomcredit.pipeline.features.tables import Tables

SRC = "supply_edges"
CONTAGION_MIN_SEVERITY = 2
FEATURES = (
    feature(
        "buyers_12m",
        "近12个月下游客户数",
        "Distinct buyers, last 12 months",
        source=SRC,
        window="12m",
        unit="count",
    ),
    feature(
        "suppliers_12m",
        "近12个月上游供应商数",
        "Distinct suppliers, last 12 months",
        source=SRC,
        window="12m",
        unit="count",
    ),
    feature(
        "buyer_hhi_12m",
        "客户集中度HHI",
        "Herfindahl index of sales by buyer (0..1)",
        source=SRC,
        window="12m",
        unit="ratio",
        dtype="float64",
        fill=None,
    ),
    feature(
        "buyer_top1_share_12m",
        "第一大客户销售占比",
        "Share of sales to the largest buyer",
        source=SRC,
        window="12m",
        unit="ratio",
        dtype="float64",
        fill=None,
    ),
    feature(
        "buyer_top5_share_12m",
        "前五大客户销售占比",
        "Share of sales to the five largest buyers",
        source=SRC,
        window="12m",
        unit="ratio",
        dtype="float64",
        fill=None,
    ),
    feature(
        "buyer_churn_top5",
        "主要客户流失率",
        "Share of the previous year's top-5 buyers that bought nothing in the last 12 months",
        source=SRC,
        window="24m",
        unit="ratio",
        dtype="float64",
        fill=None,
    ),
    feature(
        "contagion_share_12m",
        "风险客户销售占比（传染）",
        "Share of sales to buyers with a risk event (severity ≥ 2) in the 12 months to the date",
        source="supply_edges, risk_events",
        window="12m",
        unit="ratio",
        dtype="float64",
        fill=None,
    ),
    feature(
        "network_degree_12m",
        "供应链网络度数",
        "Buyers plus suppliers, last 12 months",
        source=SRC,
        window="12m",
        unit="count",
    ),
    feature(
        "network_pagerank",
        "供应链网络PageRank",
        "PageRank in the buyer→seller trade "
        "network of the last 12 months, scaled so the mean node is 1.0",
        source=SRC,
        window="12m",
        unit="ratio",
        dtype="float64",
        fill=None,
    ),
)


def _end_known(known_on: Any, consented: Any, as_of: date) -> Any:
    """An end of an edge is usable by ``as_of`` when its consent had brought it by then (no
    arrival day recorded: when it consented at all)."""
    return ibis.ifelse(known_on.isnull(), consented.fill_null(False), known_on <= as_of)


def _side(e: Any, side: str | None, as_of: date) -> Any:
    """Edges usable for the seller (``side="seller"``), the buyer, or either (``None``), as
    obtained by ``as_of``."""
    if side == "seller":
        return e.filter(_end_known(e.seller_known_on, e.seller_consented, as_of))
    if side == "buyer":
        return e.filter(_end_known(e.buyer_known_on, e.buyer_consented, as_of))
    return e.filter(known_by(e.known_on, as_of))


def recent_edges(tables: Tables, *, as_of: date, side: str | None = None) -> Any:
    """Seller–buyer amounts over the last 12 available months (known by ``as_of``).

    ``side`` keeps only the edges usable for that end (see the module note); with ``None`` every
    edge obtained by ``as_of`` is kept and ``seller_ok`` / ``buyer_ok`` say whether each end was
    usable in the window.
    """
    last = Cutoffs.at(as_of).sales_month
    e = _side(tables.supply_edges, side, as_of)
    e = e.filter(in_months(e.month, last, 12) & e.buyer_uscc.notnull())
    return e.group_by(["seller_uscc", "buyer_uscc"]).aggregate(
        amount=e.amount_fen.sum(),
        seller_ok=_end_known(e.seller_known_on, e.seller_consented, as_of).any(),
        buyer_ok=_end_known(e.buyer_known_on, e.buyer_consented, as_of).any(),
    )


def _concentration(pairs: Any) -> Any:
    w = ibis.window(group_by="seller_uscc", order_by=[ibis.desc("amount"), "buyer_uscc"])
    ranked = pairs.mutate(rank=ibis.row_number().over(w))
    totals = pairs.group_by("seller_uscc").aggregate(total=pairs.amount.sum())
    j = ranked.inner_join(totals, "seller_uscc")
    j = j.mutate(share=safe_div(j.amount, j.total))
    return j.group_by(j.seller_uscc.name("uscc")).aggregate(
        buyers_12m=j.buyer_uscc.nunique().cast("int64"),
        buyer_hhi_12m=(j.share * j.share).sum(),
        buyer_top1_share_12m=j.share.sum(where=j.rank == 0),
        buyer_top5_share_12m=j.share.sum(where=j.rank < 5),
    )


def _churn(tables: Tables, as_of: date, pairs: Any) -> Any:
    last = Cutoffs.at(as_of).sales_month
    e = _side(tables.supply_edges, "seller", as_of)
    e = e.filter(in_months(e.month, last, 12, skip=12) & e.buyer_uscc.notnull())
    prev = e.group_by(["seller_uscc", "buyer_uscc"]).aggregate(amount=e.amount_fen.sum())
    w = ibis.window(group_by="seller_uscc", order_by=[ibis.desc("amount"), "buyer_uscc"])
    top = prev.mutate(rank=ibis.row_number().over(w))
    top = top.filter(top.rank < 5)
    now = pairs.select("seller_uscc", "buyer_uscc", still=ibis.literal(1))
    j = top.left_join(now, ["seller_uscc", "buyer_uscc"])
    return j.group_by(j.seller_uscc.name("uscc")).aggregate(
        buyer_churn_top5=(j.still.isnull().cast("int64").sum().cast("float64") / j.count()),
    )


def risky_enterprises(tables: Tables, as_of: date) -> Any:
    """Enterprises with a risk event of severity ≥ 2 in the 12 months to ``as_of``, as known by
    then (each source's lag, and obtained by the date)."""
    cut = Cutoffs.at(as_of)
    ev = tables.risk_events
    known = ibis.cases(
        *[
            (ev.source == s, ibis.literal(cut.event_day(s)))
            for s in ("judicial", "registry", "bureau", "tax")
        ],
        else_=ibis.literal(cut.news_day),
    )
    ev = ev.filter(
        (ev.occurred_on <= known)
        & known_by(ev.known_on, as_of)
        & (ev.occurred_on > as_of - timedelta(days=365))
        & (ev.severity >= CONTAGION_MIN_SEVERITY)
    )
    return ev.select(risky_uscc=ev.uscc).distinct()


def _contagion(tables: Tables, as_of: date, pairs: Any) -> Any:
    """Share of each seller's sales to risky buyers (its consented sales)."""
    risky = risky_enterprises(tables, as_of)
    j = pairs.left_join(risky, pairs.buyer_uscc == risky.risky_uscc)
    agg = j.group_by(j.seller_uscc.name("uscc")).aggregate(
        risky=j.amount.sum(where=j.risky_uscc.notnull()), total=j.amount.sum()
    )
    return agg.select(
        "uscc",
        contagion_share_12m=safe_div(agg.risky.fill_null(0), agg.total),
    )


def compute(tables: Tables, *, as_of: date) -> Any:
    """Concentration, churn, contagion and degree per enterprise (PageRank: :func:`pagerank`).

    Args:
        tables: The integrated tables.
        as_of: The decision date.

    Returns:
        One row per enterprise that sold or bought in the window.
    """
    pairs = recent_edges(tables, as_of=as_of, side="seller")
    bought = recent_edges(tables, as_of=as_of, side="buyer")
    sup = bought.group_by(bought.buyer_uscc.name("uscc")).aggregate(
        suppliers_12m=bought.seller_uscc.nunique().cast("int64")
    )
    conc = _concentration(pairs)
    nodes = (
        pairs.select(uscc=pairs.seller_uscc).union(bought.select(uscc=bought.buyer_uscc)).distinct()
    )
    out = nodes.left_join(conc, "uscc").drop("uscc_right")
    out = out.left_join(sup, "uscc").drop("uscc_right")
    out = out.left_join(_churn(tables, as_of, pairs), "uscc").drop("uscc_right")
    out = out.left_join(_contagion(tables, as_of, pairs), "uscc").drop("uscc_right")
    return out.mutate(
        buyers_12m=out.buyers_12m.fill_null(0),
        suppliers_12m=out.suppliers_12m.fill_null(0),
        network_degree_12m=(out.buyers_12m.fill_null(0) + out.suppliers_12m.fill_null(0)).cast(
            "int64"
        ),
    )


def pagerank(edges: pa.Table, *, alpha: float = 0.85, tol: float = 1e-10) -> pa.Table:
    """PageRank of every node of the trade network (buyer → seller, weighted by amount).

    The power iteration of networkx's ``pagerank`` (dangling nodes spread uniformly), on a
    scipy sparse matrix so 100,000 enterprises take about a second; nodes are ordered by USCC, so
    the result does not depend on the engine's row order.

    Args:
        edges: Columns ``seller_uscc``, ``buyer_uscc``, ``amount`` (from :func:`recent_edges`).
        alpha: Damping factor.
        tol: Convergence tolerance per node (L1).

    Returns:
        Columns ``uscc`` and ``network_pagerank`` (scaled so the mean node scores 1.0). When the
        edges carry ``seller_ok`` / ``buyer_ok``, only enterprises that consented at one of their
        ends are returned (the rank is computed on the whole network).
    """
    import numpy as np
    import pyarrow.compute as pc
    from scipy import sparse

    amount = pc.fill_null(edges.column("amount"), 0).to_numpy(zero_copy_only=False)
    keep = amount > 0
    buyers = np.asarray(edges.column("buyer_uscc").to_pylist(), dtype=object)[keep]
    sellers = np.asarray(edges.column("seller_uscc").to_pylist(), dtype=object)[keep]
    weights = amount[keep].astype(np.float64)
    if len(weights) == 0:
        return pa.table(
            {"uscc": pa.array([], pa.string()), "network_pagerank": pa.array([], pa.float64())}
        )
    nodes, index = np.unique(np.concatenate([buyers, sellers]).astype(str), return_inverse=True)
    n = len(nodes)
    src, dst = index[: len(weights)], index[len(weights) :]
    matrix = sparse.csr_matrix((weights, (src, dst)), shape=(n, n))
    out_weight = np.asarray(matrix.sum(axis=1)).ravel()
    dangling = out_weight == 0
    inverse = np.where(dangling, 0.0, 1.0 / np.where(dangling, 1.0, out_weight))
    transition = sparse.diags(inverse) @ matrix
    rank = np.full(n, 1.0 / n)
    for _ in range(1000):
        previous = rank
        rank = alpha * (rank @ transition + rank[dangling].sum() / n) + (1.0 - alpha) / n
        if np.abs(rank - previous).sum() < n * tol:
            break
    ranked = pa.table(
        {
            "uscc": pa.array(nodes.tolist(), pa.string()),
            "network_pagerank": pa.array(rank * n, pa.float64()),
        }
    )
    if "seller_ok" not in edges.column_names or "buyer_ok" not in edges.column_names:
        return ranked
    seller_ok = pc.fill_null(edges.column("seller_ok"), False)
    buyer_ok = pc.fill_null(edges.column("buyer_ok"), False)
    consenting = pa.concat_arrays(
        [
            pc.filter(edges.column("seller_uscc"), seller_ok).combine_chunks(),
            pc.filter(edges.column("buyer_uscc"), buyer_ok).combine_chunks(),
        ]
    )
    return ranked.filter(pc.is_in(ranked.column("uscc"), value_set=pc.unique(consenting)))
