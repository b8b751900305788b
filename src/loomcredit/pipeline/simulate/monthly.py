"""Monthly and quarterly sources of one chunk: utilities (power, steam), social insurance, tax and
the credit bureau.

Warning signs are built in: a distressed firm's power use falls faster than its sales, its
headcount shrinks, it falls into tax arrears, its credit grade drops, its bureau record shows
overdue accounts and a burst of credit inquiries; after default its accounts turn non-performing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from loomcredit.pipeline.schemas import RECORD_SCHEMAS
from loomcredit.pipeline.simulate.config import BURN_IN, Timeline
from loomcredit.pipeline.simulate.dynamics import Panel
from loomcredit.pipeline.simulate.firms import Firms
from loomcredit.pipeline.simulate.invoices import Chunk


@dataclass
class ChunkView:
    """The panel rows of one chunk (views, no copies)."""

    total: np.ndarray
    purchases: np.ndarray
    dist: np.ndarray
    post: np.ndarray
    active: np.ndarray
    uscc: pa.Array
    frailty: np.ndarray

    @classmethod
    def of(cls, chunk: Chunk, panel: Panel, firms: Firms) -> ChunkView:
        """Slice the panel for a chunk."""
        s = slice(chunk.lo, chunk.hi)
        return cls(
            total=panel.total[s].astype(np.float64),
            purchases=panel.purchases[s].astype(np.float64),
            dist=panel.distress[s],
            post=panel.post[s],
            active=panel.active[s],
            uscc=pa.array(firms.uscc[chunk.lo : chunk.hi]),
            frailty=panel.frailty[s],
        )


def _dates(days: np.ndarray) -> pa.Array:
    return pa.array(days.astype(np.int32), pa.date32())


def _month_days(timeline: Timeline, month: np.ndarray) -> pa.Array:
    return _dates(timeline.first_day[month + BURN_IN])


def build_utilities(
    chunk: Chunk, view: ChunkView, firms: Firms, timeline: Timeline, rng: np.random.Generator
) -> pa.Table:
    """Monthly kWh (and steam tonnes for dyers) following output; power drops early in distress."""
    s = slice(chunk.lo, chunk.hi)
    k = np.maximum(view.dist, 0)
    drop = np.where(view.dist >= 0, np.exp(-0.10 * k), 1.0)
    drop = np.where(view.post >= 0, 0.3 * drop, drop)
    mean_sales = view.total.mean(axis=1, keepdims=True)
    load = 0.85 * view.total + 0.15 * mean_sales * view.active
    kwh = load * firms.kwh_per_fen[s, None] * drop * rng.lognormal(0, 0.06, view.total.shape)
    steam = load * firms.steam_per_fen[s, None] * drop * rng.lognormal(0, 0.08, view.total.shape)
    f, m = np.nonzero(view.active)
    steam_v = np.round(steam[f, m], 1)
    return pa.Table.from_arrays(
        [
            view.uscc.take(pa.array(f)),
            _month_days(timeline, m),
            pa.array(np.round(kwh[f, m]).astype(np.int64)),
            pa.array(steam_v, mask=firms.steam_per_fen[s][f] <= 0),
        ],
        schema=RECORD_SCHEMAS["utilities"],
    )


def build_social(
    chunk: Chunk, view: ChunkView, firms: Firms, timeline: Timeline, rng: np.random.Generator
) -> pa.Table:
    """Insured headcount: scales slowly with sales, shrinks in distress and after default."""
    s = slice(chunk.lo, chunk.hi)
    base = np.maximum(2.0, firms.size[s] / 6e6)[:, None]
    ratio = view.total / np.maximum(firms.size[s, None], 1.0)
    smooth = np.clip(ratio, 0.05, 20) ** 0.3
    shrink = np.where(view.dist >= 0, np.exp(-0.04 * np.maximum(view.dist, 0)), 1.0)
    shrink = np.where(view.post >= 0, shrink * 0.85 ** np.maximum(view.post, 0), shrink)
    jitter = rng.normal(0, 0.03, view.total.shape)
    head = np.maximum(1, np.round(base * smooth * shrink * (1 + jitter))).astype(np.int64)
    f, m = np.nonzero(view.active)
    return pa.Table.from_arrays(
        [view.uscc.take(pa.array(f)), _month_days(timeline, m), pa.array(head[f, m])],
        schema=RECORD_SCHEMAS["social_insurance"],
    )


def _grades(
    chunk: Chunk,
    arrears: np.ndarray,
    firms: Firms,
    view: ChunkView,
    timeline: Timeline,
    rng: np.random.Generator,
) -> np.ndarray:
    """Annual credit grade in force per firm-month (index into 'ABMCD')."""
    n_c, months = arrears.shape
    years = np.array([timeline.year_month(BURN_IN + w)[0] for w in range(months)])
    good = rng.random(n_c) < 0.4  # A-grade candidates
    grade = np.zeros((n_c, months), dtype=np.int8)
    est = firms.established[chunk.lo : chunk.hi]
    for year in np.unique(years):
        cols = years == year
        prev = years == year - 1
        if prev.any():
            count = arrears[:, prev].sum(axis=1)
            bad = view.post[:, prev].max(axis=1) >= 0
        else:  # first year: the state at the start stands in for last year's record
            count = (view.dist[:, cols][:, 0] >= 3).astype(np.int64) * 2
            bad = np.zeros(n_c, dtype=bool)
        g = np.where(good, 0, 1)
        young = est > timeline.first_day[BURN_IN + int(np.argmax(cols))] - 365
        g = np.where(young, 2, g)
        g = np.where(count >= 1, 3, g)
        g = np.where((count >= 3) | bad, 4, g)
        grade[:, cols] = g[:, None]
    return grade


def build_tax(
    chunk: Chunk, view: ChunkView, firms: Firms, timeline: Timeline, rng: np.random.Generator
) -> pa.Table:
    """Monthly VAT and quarterly CIT, due and paid, with arrears in distress; annual grades."""
    shape = view.total.shape
    vat_due = np.round(
        0.13 * np.maximum(view.total - view.purchases, 0) * rng.uniform(0.7, 1.0, shape)
    )
    # Healthy firms are rarely late (0.4 % of months on average), the frailer ones more often.
    healthy = np.minimum(0.05, 0.0025 * np.exp(0.9 * view.frailty))[:, None]
    p_arrear = np.where(
        view.dist >= 0, np.minimum(0.8, 0.12 + 0.08 * np.maximum(view.dist, 0)), healthy
    )
    p_arrear = np.where(view.post >= 0, 0.9, p_arrear)
    arrear = (rng.random(shape) < p_arrear) & view.active & (vat_due > 0)
    grade = _grades(chunk, arrear, firms, view, timeline, rng)

    f, m = np.nonzero(view.active)
    months = m + BURN_IN
    quarter_end = np.array([timeline.year_month(t)[1] % 3 == 0 for t in months])
    kinds = [("vat", f, m, vat_due[f, m], arrear[f, m])]
    cit_due = np.round(0.25 * 0.05 * 3 * view.total[f, m] * 0.2)
    kinds.append(
        ("cit", f[quarter_end], m[quarter_end], cit_due[quarter_end], arrear[f, m][quarter_end])
    )
    parts = []
    for name, ff, mm, due, arr in kinds:
        due = due.astype(np.int64)
        unpaid_all = arr & (rng.random(due.size) < 0.35)
        paid = np.where(arr, np.floor(due * rng.uniform(0, 0.6, due.size)), due).astype(np.int64)
        paid = np.where(unpaid_all, 0, paid)
        pay_day = timeline.first_day[mm + BURN_IN + 1] + rng.integers(0, 20, due.size)
        pay_day = np.where(arr, pay_day + rng.integers(5, 40, due.size), pay_day)
        # The feed is cut about a month after the last simulated month: later payments are unknown.
        late = pay_day > timeline.end_day + 28
        paid = np.where(late, 0, paid)
        no_pay = ((paid == 0) & (due > 0)) | late
        periods = [f"{y:04d}-{mo:02d}" for y, mo in (timeline.year_month(t) for t in mm + BURN_IN)]
        parts.append(
            pa.Table.from_arrays(
                [
                    view.uscc.take(pa.array(ff)),
                    pa.array(periods, pa.string()),
                    pa.array([name] * due.size, pa.string()),
                    pa.array(due),
                    pa.array(paid),
                    pa.array(pay_day.astype(np.int32), pa.date32(), mask=no_pay),
                    pa.array(list("ABMCD")).take(pa.array(grade[ff, mm])),
                ],
                schema=RECORD_SCHEMAS["tax"],
            )
        )
    return pa.concat_tables(parts)


def build_bureau(
    chunk: Chunk,
    view: ChunkView,
    firms: Firms,
    panel: Panel,
    timeline: Timeline,
    rng: np.random.Generator,
) -> pa.Table:
    """Quarterly credit-bureau snapshots (reported on each quarter's last day)."""
    s = slice(chunk.lo, chunk.hi)
    months = view.total.shape[1]
    q_cols = np.array(
        [w for w in range(months) if timeline.year_month(BURN_IN + w)[1] % 3 == 0], dtype=np.int64
    )
    if q_cols.size == 0:
        return RECORD_SCHEMAS["bureau"].empty_table()
    annual = view.total.mean(axis=1) * 12
    lev = panel.leverage[s]
    d, p = view.dist[:, q_cols], view.post[:, q_cols]
    act = view.active[:, q_cols] | (view.post[:, q_cols] >= 0)  # defaulted firms stay on file
    has_credit = (lev > 0)[:, None] | (d >= 0) | (p >= 0)
    f, qi = np.nonzero(act & has_credit)
    dd, pp = d[f, qi], p[f, qi]
    loans = (
        annual[f] * lev[f] * np.where(dd >= 0, 1 + 0.03 * dd, 1.0) * rng.uniform(0.9, 1.1, f.size)
    )
    loans = np.where(lev[f] <= 0, annual[f] * 0.15 * (dd >= 0), loans)
    overdue = np.where(dd >= 3, rng.binomial(2, 0.5, f.size), 0)
    overdue = np.where(pp >= 0, 1 + rng.binomial(2, 0.5, f.size), overdue)
    dpd = np.where(overdue > 0, rng.choice([30, 60, 90], f.size), 0)
    dpd = np.where(pp >= 0, np.where(pp >= 3, 180, 90), dpd)
    npl = np.where(pp >= 1, overdue, 0)
    base = 0.35 * np.exp(0.3 * view.frailty[f])  # frailer firms shop for credit more often
    inquiries = rng.poisson(np.where(dd >= 0, 1.5 + 0.3 * np.minimum(dd, 6), base))
    guarantee = (rng.random(chunk.size) < 0.25)[f] * loans * rng.uniform(0.2, 1.0, f.size)
    reported = timeline.first_day[q_cols[qi] + BURN_IN + 1] - 1
    return pa.Table.from_arrays(
        [
            view.uscc.take(pa.array(f)),
            _dates(reported),
            pa.array(np.round(loans / 1e6).astype(np.int64) * 1_000_000),
            pa.array(overdue.astype(np.int64)),
            pa.array(dpd.astype(np.int64)),
            pa.array(np.round(guarantee / 1e6).astype(np.int64) * 1_000_000),
            pa.array(inquiries.astype(np.int64)),
            pa.array(npl.astype(np.int64)),
        ],
        schema=RECORD_SCHEMAS["bureau"],
    )
