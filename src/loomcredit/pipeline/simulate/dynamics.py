"""The latent monthly process: demand, sales through the supply chain, distress and default.

Every month, vectorised over all enterprises:

* own demand = size × the firm's seasonal profile (cluster profile with lunar CNY, scaled by a
  firm amplitude) × trend × AR(1) noise × the cluster cycle (with shocks) × distress;
* purchases = a ratio of total sales; in-cluster sales of a supplier are its buyers' purchases
  (so a buyer's default cuts its suppliers' sales);
* distress starts with a monthly hazard from the firm's own stress (3-month sales down year on
  year, thin cash buffer, leverage; young and small firms are frailer), contagion (share of
  sales lost to buyers that defaulted) and the cluster cycle. A distressed firm defaults after a
  lead time: about one in nine suddenly (1–2 months, e.g. an owner who flees), the rest after
  6–24 months (about a year on average) of worsening warning signs, as SME defaults usually
  build up over several quarters, or 2–8 months when a buyer's default caused it (unpaid
  receivables); a quarter recover. Weaker firms (higher frailty) also carry
  more debt relative to their sales and pay tax late now and then even when not distressed,
  which the bureau and the tax feed show. The onset rate is scaled so that
  the annual default rate is close to the configured one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from loomcredit.pipeline.simulate.config import BURN_IN, Timeline
from loomcredit.pipeline.simulate.firms import Firms
from loomcredit.pipeline.simulate.network import Network

P_RECOVER = 0.25
P_SUDDEN = 0.12
CAUSES = ("own_stress", "contagion", "cluster_shock", "owner_flight")
# Share of onsets that end in default: sudden ones plus the non-recovering rest.
# Contagion and cluster shocks add defaults on top of the base rate; this keeps the total near it.
_ALLOWANCE = 0.97
_P_DEFAULT = P_SUDDEN + (1 - P_SUDDEN) * (1 - P_RECOVER)


@dataclass
class Panel:
    """Per enterprise × written month (``N × months``) plus per-enterprise default facts."""

    own: np.ndarray  # own (outside) demand, fen, float32
    total: np.ndarray  # total sales, fen
    purchases: np.ndarray  # total purchases, fen
    distress: np.ndarray  # months in distress (int16, -1 = not distressed)
    post: np.ndarray  # months since default (int16, -1 = not defaulted)
    active: np.ndarray  # established and still operating (bool)
    default_t: np.ndarray  # month index (written months, 0-based) of default, -1 none
    default_day: np.ndarray  # days since epoch of default, -1 none
    cause: np.ndarray  # index into CAUSES, -1 none
    ceased_t: np.ndarray  # month (written index) the firm stopped operating, -1 none
    closed: np.ndarray  # bool: wound up voluntarily (注销) rather than after a default
    cycle: np.ndarray  # cluster log-level per written month
    shock: np.ndarray  # bool per written month: a cluster shock hit
    thin_cash: np.ndarray  # bool per enterprise (at the end)
    leverage: np.ndarray  # loans / annual sales per enterprise (base)
    amplitude: np.ndarray  # firm's seasonal amplitude
    frailty: np.ndarray  # latent weakness (standard normal; higher is weaker)


def _cluster_cycle(timeline: Timeline, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    total = timeline.total
    shocks = np.zeros(total, dtype=bool)
    shocks[BURN_IN:] = rng.random(total - BURN_IN) < 1 / 30
    if timeline.months >= 12:
        shocks[BURN_IN + int(rng.integers(3, timeline.months - 3))] = True
    level = np.zeros(total)
    c = 0.0
    for t in range(total):
        c = 0.8 * c + rng.normal(0, 0.015) - (rng.uniform(0.10, 0.18) if shocks[t] else 0.0)
        level[t] = c
    return level, shocks


def simulate_panel(
    firms: Firms, net: Network, timeline: Timeline, default_rate: float, seed: int
) -> Panel:
    """Run the monthly process over the burn-in and the written months."""
    rng = np.random.default_rng([seed, 3])
    n, total, months = len(firms), timeline.total, timeline.months
    cycle, shocks = _cluster_cycle(timeline, rng)
    amplitude = rng.uniform(0.6, 1.4, size=n)
    growth = rng.normal(0.03, 0.10, size=n)
    frailty = rng.normal(0, 1, size=n)
    cash_base = rng.lognormal(np.log(1.2), 0.7, size=n)
    cash = cash_base.copy()
    # Loans / annual sales: a third of firms borrow nothing; frailer firms borrow more.
    debt = 0.3 * np.exp(0.35 * frailty + rng.normal(0, 0.5, size=n))
    leverage = np.where(rng.random(n) < 0.3, 0.0, debt)
    noise = np.zeros(n)
    small = -0.2 * np.clip(np.log(firms.size / np.median(firms.size)), -2.5, 2.5)

    own = np.zeros((n, months), dtype=np.float32)
    tot = np.zeros((n, months), dtype=np.float32)
    pur = np.zeros((n, months), dtype=np.float32)
    dist = np.full((n, months), -1, dtype=np.int16)
    post = np.full((n, months), -1, dtype=np.int16)
    act = np.zeros((n, months), dtype=bool)
    hist = np.zeros((n, 15))  # rolling total sales of the last 15 months

    onset = np.full(n, -1)
    default_t = np.full(n, -1)
    recover_t = np.full(n, -1)
    cause = np.full(n, -1)
    ceases = rng.random(n) < 0.45  # stops operating after default
    ceased_t = np.full(n, -1)
    closed = np.zeros(n, dtype=bool)  # wound up voluntarily (注销), no default
    contagion = np.zeros(n)
    q = 1 - (1 - default_rate) ** (1 / 12)
    prev_purchases = np.zeros(n)

    for t in range(total):
        active = firms.established_t <= t
        defaulted = (default_t >= 0) & (default_t <= t)
        in_dist = (onset >= 0) & ~defaulted & ((recover_t < 0) | (t < recover_t))
        k_dist = np.where(in_dist, t - onset, -1)
        k_post = np.where(defaulted, t - default_t, -1)
        if t >= BURN_IN:  # a few healthy firms wind up each year (about 0.6 %)
            closed |= active & (onset < 0) & (rng.random(n) < 0.0005)
        gone = (defaulted & ceases & (k_post >= 2)) | closed
        active &= ~gone

        noise = 0.5 * noise + rng.normal(0, 0.10, size=n)
        season = 1 + amplitude * (timeline.season[t] - 1)
        dfac = np.where(in_dist, np.exp(-0.07 * np.maximum(k_dist, 0)), 1.0)
        recovering = (recover_t >= 0) & (t >= recover_t)
        dfac = np.where(recovering, np.minimum(1.0, 0.7 + 0.05 * (t - recover_t)), dfac)
        dfac = np.where(defaulted, 0.35 * 0.85 ** np.maximum(k_post, 0), dfac)
        demand = firms.size * season * np.exp(growth * t / 12 + noise + cycle[t]) * dfac * active

        # Sales through the chain: four passes settle the tiers (edges go tier k−1 → k).
        totals = demand.copy()
        for _ in range(4):
            purchases = net.purchase_ratio * totals
            inside = np.bincount(net.seller, net.weight * purchases[net.buyer], minlength=n)
            totals = demand + inside * active

        # Contagion: sales lost to buyers that defaulted this month.
        new_default = default_t == t
        if new_default.any():
            lost_w = net.weight * prev_purchases[net.buyer] * new_default[net.buyer]
            lost = np.bincount(net.seller, lost_w, minlength=n)
            contagion += lost / np.maximum(hist[:, -1], 1.0)
        contagion *= 0.8
        prev_purchases = purchases

        hist = np.roll(hist, -1, axis=1)
        hist[:, -1] = totals
        base = hist[:, :3].sum(axis=1)
        recent = hist[:, -3:].sum(axis=1)
        yoy = np.where((t >= 14) & (base > 0), recent / np.maximum(base, 1.0) - 1, 0.0)
        cash = 0.85 * cash + 0.15 * cash_base * np.clip(1 + 2 * yoy, 0, 3)
        thin = cash < 0.5
        lev = leverage * np.where(in_dist, 1 + 0.03 * np.maximum(k_dist, 0), 1.0)

        age_months = t - firms.established_t
        z_own = (
            0.5 * frailty
            + 2.0 * np.maximum(0, -yoy)
            + 0.7 * thin
            + 0.8 * np.maximum(0, lev - 0.6)
            + 0.5 * (age_months < 24)  # young firms fail more often
            + small  # and so do the smallest
        )
        z_con = 6.0 * np.minimum(contagion, 1.0)
        z_cyc = 4.0 * max(0.0, -cycle[t])
        eligible = active & (onset < 0) & (t - firms.established_t >= 6)
        # Own stress ranks firms; its cross-sectional mean is normalised away each month so that
        # the base rate holds, while contagion and the cluster cycle raise it on top.
        norm = float(np.mean(np.exp(z_own[eligible]))) if eligible.any() else 1.0
        rate = q * _ALLOWANCE / _P_DEFAULT * np.exp(z_own + z_con + z_cyc) / norm
        start = eligible & (rng.random(n) < np.minimum(rate, 0.5))
        idx = np.flatnonzero(start)
        if idx.size:
            sudden = rng.random(idx.size) < P_SUDDEN
            recover = ~sudden & (rng.random(idx.size) < P_RECOVER)
            contrib = np.stack(
                [np.maximum(z_own[idx], 0.1), z_con[idx], np.full(idx.size, z_cyc)], axis=1
            )
            why = np.argmax(contrib, axis=1)
            lead = np.where(sudden, rng.integers(1, 3, idx.size), 6 + rng.poisson(6, idx.size))
            # A buyer's default leaves unpaid receivables: that distress runs faster (2–8 months).
            lead = np.where(~sudden & (why == 1), 2 + rng.poisson(3, idx.size), lead)
            lead = np.minimum(lead, 24)
            onset[idx] = t
            due = t + lead
            recover |= due < BURN_IN  # no default before the written window
            default_t[idx] = np.where(recover, -1, due)
            recover_t[idx] = np.where(recover, t + rng.integers(3, 9, idx.size), -1)
            cause[idx] = np.where(sudden, 3, why)
            cause[idx[recover]] = -1

        if t >= BURN_IN:
            w = t - BURN_IN
            own[:, w] = demand
            tot[:, w] = totals
            pur[:, w] = purchases
            dist[:, w] = k_dist
            post[:, w] = k_post
            act[:, w] = active
            ceased_now = gone & (ceased_t < 0)
            ceased_t[ceased_now] = w

    written_default = np.where(
        (default_t >= BURN_IN) & (default_t < total), default_t - BURN_IN, -1
    )
    day = np.full(n, -1, dtype=np.int64)
    has = written_default >= 0
    if has.any():
        day[has] = timeline.random_days(default_t[has], rng)
    cause = np.where(has, cause, -1)
    return Panel(
        own=own,
        total=tot,
        purchases=pur,
        distress=dist,
        post=post,
        active=act,
        default_t=written_default,
        default_day=day,
        cause=cause,
        ceased_t=ceased_t,
        closed=closed,
        cycle=cycle[BURN_IN:],
        shock=shocks[BURN_IN:],
        thin_cash=thin,
        leverage=leverage,
        amplitude=amplitude,
        frailty=frailty,
    )
