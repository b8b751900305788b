"""The supply chain: who buys from whom, inside the cluster and outside it.

Each enterprise of tier k ≥ 1 buys from a few enterprises of tier k − 1 (chosen in proportion to
size, so big mills gather many buyers); the weights are Dirichlet draws, so customer and supplier
concentration varies from one dominant partner to many small ones. Every enterprise also sells to
outside buyers (garment makers and wholesalers also to consumers) and buys the rest of its inputs
from outside suppliers (fibre makers buy all of theirs: PTA, MEG).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from loomcredit.pipeline.simulate.firms import Firms, Outsiders

MAX_SUPPLIERS = 6


@dataclass
class Network:
    """Edges as parallel arrays.

    In-cluster edges ``seller → buyer`` carry ``weight``: the share of the buyer's purchases bought
    from that seller. Outside sales edges carry the share of the seller's own demand sold to an
    outsider (``-1`` = consumers). Outside purchase edges carry the share of the buyer's purchases.
    """

    seller: np.ndarray
    buyer: np.ndarray
    weight: np.ndarray
    out_seller: np.ndarray
    out_buyer: np.ndarray  # index into Outsiders, -1 for consumers
    out_share: np.ndarray
    in_seller: np.ndarray  # index into Outsiders
    in_buyer: np.ndarray
    in_share: np.ndarray
    purchase_ratio: np.ndarray  # purchases / total sales, per enterprise


def _group_normalise(groups: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    total = np.bincount(groups, weights=values, minlength=n)
    return values / np.where(total > 0, total, 1.0)[groups]


def build_network(firms: Firms, outsiders: Outsiders, seed: int) -> Network:
    """Draw the supply network (deterministic in ``seed``)."""
    rng = np.random.default_rng([seed, 2])
    n = len(firms)
    n_out = len(outsiders.uscc)
    sellers, buyers = [], []
    for tier in (1, 2, 3):
        cand = np.flatnonzero(firms.tier == tier - 1)
        members = np.flatnonzero(firms.tier == tier)
        if cand.size == 0 or members.size == 0:
            continue
        p = firms.size[cand] ** 0.8
        draws = rng.choice(cand, size=(members.size, MAX_SUPPLIERS), p=p / p.sum())
        k = np.minimum(1 + rng.poisson(1.5, size=members.size), MAX_SUPPLIERS)
        keep = np.arange(MAX_SUPPLIERS)[None, :] < k[:, None]
        sellers.append(draws[keep])
        buyers.append(np.repeat(members, k))
    seller = np.concatenate(sellers) if sellers else np.empty(0, np.int64)
    buyer = np.concatenate(buyers) if buyers else np.empty(0, np.int64)
    pair = np.unique(buyer.astype(np.int64) * n + seller)
    buyer, seller = pair // n, pair % n
    alpha = rng.uniform(0.3, 2.0, size=n)
    raw = rng.gamma(alpha[buyer]) + 1e-6
    in_cluster_share = np.where(firms.tier == 0, 0.0, rng.uniform(0.4, 0.9, size=n))
    weight = _group_normalise(buyer, raw, n) * in_cluster_share[buyer]
    order = np.lexsort((buyer, seller))
    seller, buyer, weight = seller[order], buyer[order], weight[order]

    # Outside customers (and consumers for tier 3).
    k_out = 1 + rng.poisson(2.0, size=n)
    out_seller = np.repeat(np.arange(n), k_out)
    out_buyer = rng.integers(0, n_out, size=out_seller.size)
    first = np.r_[0, np.cumsum(k_out)[:-1]]
    consumer = (firms.tier[out_seller] == 3) & (rng.random(out_seller.size) < 0.35)
    consumer[first] = False  # every firm keeps at least one business customer
    out_buyer[consumer] = -1
    out_share = _group_normalise(out_seller, rng.gamma(alpha[out_seller]) + 1e-6, n)

    # Outside suppliers for the part of purchases not bought inside the cluster.
    k_in = 1 + rng.poisson(1.0, size=n)
    in_buyer = np.repeat(np.arange(n), k_in)
    in_seller = rng.integers(0, n_out, size=in_buyer.size)
    in_share = _group_normalise(in_buyer, rng.gamma(2.0, size=in_buyer.size), n)
    in_share *= (1.0 - in_cluster_share)[in_buyer]

    ratio_by_tier = np.array([0.70, 0.62, 0.55, 0.75])
    ratio = ratio_by_tier[firms.tier] * rng.uniform(0.9, 1.1, size=n)
    wholesale = np.array([firms.industry_code(i).startswith("F") for i in range(n)])
    ratio[wholesale] = rng.uniform(0.82, 0.9, size=int(wholesale.sum()))
    return Network(
        seller=seller,
        buyer=buyer,
        weight=weight,
        out_seller=out_seller,
        out_buyer=out_buyer,
        out_share=out_share,
        in_seller=in_seller,
        in_buyer=in_buyer,
        in_share=in_share,
        purchase_ratio=ratio,
    )
