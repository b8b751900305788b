"""VAT invoices as individual documents, for the sellers (and outside purchases of the buyers) of
one chunk of enterprises.

Every (edge, month) with trade becomes 1–26 invoices whose amounts split the month's trade;
about 1.5 % are voided and about 0.8 % are followed by a red-letter invoice (红字发票) that reverses
part or all of them a few days to weeks later. Amounts are integer fen excluding VAT (13 %); a
red-letter invoice carries a positive amount and ``status = red`` (it is subtracted downstream).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from loomcredit.pipeline.schemas import RECORD_SCHEMAS
from loomcredit.pipeline.simulate.config import BURN_IN, Timeline
from loomcredit.pipeline.simulate.dynamics import Panel
from loomcredit.pipeline.simulate.network import Network

VAT = 0.13
P_VOID = 0.015
P_RED = 0.008
UNIT_FEN = 3e7  # a typical business invoice: 30万元
CONSUMER_UNIT_FEN = 5e5


@dataclass
class Chunk:
    """A contiguous range of enterprises generated together."""

    index: int
    lo: int
    hi: int

    @property
    def size(self) -> int:
        """Enterprises in the chunk."""
        return self.hi - self.lo


def _trade_groups(
    chunk: Chunk, net: Network, panel: Panel, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(seller, buyer, month, amount) per edge-month; codes index all_uscc, -1 = consumer."""
    lo, hi = chunk.lo, chunk.hi
    sellers, buyers, amounts = [], [], []
    # In-cluster sales of the chunk's sellers.
    a, b = np.searchsorted(net.seller, [lo, hi])
    s, by, wt = net.seller[a:b], net.buyer[a:b], net.weight[a:b]
    amt = wt[:, None] * panel.purchases[by] * panel.active[s]
    sellers.append(s)
    buyers.append(by)
    amounts.append(amt)
    # Outside customers (and consumers).
    a, b = np.searchsorted(net.out_seller, [lo, hi])
    s, ob, sh = net.out_seller[a:b], net.out_buyer[a:b], net.out_share[a:b]
    amounts.append(sh[:, None] * panel.own[s])
    sellers.append(s)
    buyers.append(np.where(ob >= 0, ob + n, -1))
    # Purchases of the chunk's enterprises from outside suppliers.
    a, b = np.searchsorted(net.in_buyer, [lo, hi])
    os_, by, sh = net.in_seller[a:b], net.in_buyer[a:b], net.in_share[a:b]
    amounts.append(sh[:, None] * panel.purchases[by] * panel.active[by])
    sellers.append(os_ + n)
    buyers.append(by)

    seller = np.concatenate(sellers)
    buyer = np.concatenate(buyers)
    amount = np.concatenate(amounts, axis=0)
    edge, month = np.nonzero(amount >= 1e4)  # at least 100元 of trade in the month
    return seller[edge], buyer[edge], month, amount[edge, month].astype(np.float64)


def build_invoices(
    chunk: Chunk,
    net: Network,
    panel: Panel,
    timeline: Timeline,
    all_uscc: pa.Array,
    n: int,
    rng: np.random.Generator,
) -> pa.Table:
    """Invoices of one chunk as a table with the ``invoices`` raw schema."""
    seller, buyer, month, amount = _trade_groups(chunk, net, panel, n)
    consumer = buyer < 0
    unit = np.where(consumer, CONSUMER_UNIT_FEN, UNIT_FEN)
    count = 1 + np.minimum(rng.poisson(np.minimum(amount / unit, 40)), 25)
    group = np.repeat(np.arange(amount.size), count)
    weights = rng.exponential(size=group.size) + 0.05
    weights /= np.bincount(group, weights)[group]
    inv_amount = np.floor(amount[group] * weights).astype(np.int64)
    keep = inv_amount > 0
    group, inv_amount = group[keep], inv_amount[keep]
    inv_seller, inv_buyer, inv_month = seller[group], buyer[group], month[group]
    issued = timeline.random_days(inv_month + BURN_IN, rng)
    status = np.where(rng.random(group.size) < P_VOID, 1, 0)

    # Red-letter invoices reversing part or all of some normal ones.
    red_src = np.flatnonzero((status == 0) & (rng.random(group.size) < P_RED))
    red_amount = np.where(
        rng.random(red_src.size) < 0.4,
        inv_amount[red_src],
        np.floor(inv_amount[red_src] * rng.uniform(0.1, 0.9, red_src.size)).astype(np.int64),
    )
    red_day = issued[red_src] + rng.integers(3, 41, red_src.size)
    ok = (red_day <= timeline.end_day) & (red_amount > 0)
    red_src, red_amount, red_day = red_src[ok], red_amount[ok], red_day[ok]

    seller_all = np.concatenate([inv_seller, inv_seller[red_src]])
    buyer_all = np.concatenate([inv_buyer, inv_buyer[red_src]])
    amount_all = np.concatenate([inv_amount, red_amount])
    day_all = np.concatenate([issued, red_day])
    status_all = np.concatenate([status, np.full(red_src.size, 2)])
    order = np.lexsort((day_all, seller_all))
    seller_all, buyer_all = seller_all[order], buyer_all[order]
    amount_all, day_all, status_all = amount_all[order], day_all[order], status_all[order]

    rows = amount_all.size
    year = (day_all.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970) % 100
    code = year * 10**16 + chunk.index * 10**11 + np.arange(rows, dtype=np.int64)
    digits = pc.utf8_lpad(pc.cast(pa.array(code), pa.string()), width=18, padding="0")
    invoice_id = pc.binary_join_element_wise("33", digits, "")
    buyer_idx = pa.array(buyer_all, mask=buyer_all < 0)
    tax = np.round(amount_all * VAT).astype(np.int64)
    status_names = pa.array(["normal", "void", "red"]).take(pa.array(status_all))
    return pa.Table.from_arrays(
        [
            invoice_id,
            all_uscc.take(pa.array(seller_all)),
            all_uscc.take(buyer_idx),
            pa.array(day_all.astype(np.int32), pa.date32()),
            pa.array(amount_all),
            pa.array(tax),
            status_names,
        ],
        schema=RECORD_SCHEMAS["invoices"],
    )
