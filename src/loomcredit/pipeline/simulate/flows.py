"""Bank flows and court cases of one chunk.

Bank flows name their counterparties the way bank statements do: the full registered name most of
the time, otherwise an abbreviation or a variant; the counterparty's USCC is filled only sometimes.
Court cases of every type come more often to distressed and defaulted firms: labour disputes and
enforcement (被执行) first, the dishonest list (失信) and equity freezes later.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from loomcredit.pipeline.schemas import RECORD_SCHEMAS
from loomcredit.pipeline.simulate.config import BURN_IN, Timeline
from loomcredit.pipeline.simulate.firms import Firms, Outsiders
from loomcredit.pipeline.simulate.invoices import Chunk
from loomcredit.pipeline.simulate.monthly import ChunkView
from loomcredit.pipeline.simulate.network import Network

TAX_ACCOUNT = "国家金库绍兴市柯桥区支库"
PAYROLL = "代发工资"
LENDERS = (
    "绍兴银行股份有限公司柯桥支行",
    "浙江绍兴瑞丰农村商业银行股份有限公司",
    "中国工商银行股份有限公司绍兴柯桥支行",
    "浙江网商银行股份有限公司",
)
OTHER_CUSTOMERS = (
    "个人客户",
    "零售客户",
    "支付宝（中国）网络技术有限公司",
    "财付通支付科技有限公司",
)


def main_partners(firms: Firms, net: Network) -> tuple[np.ndarray, np.ndarray]:
    """Each firm's main customer and main supplier as codes into all names (-1: none)."""
    n = len(firms)
    cust = np.full(n, -1, dtype=np.int64)
    best = np.zeros(n)
    # outside customers (business only)
    v = np.where(net.out_buyer >= 0, net.out_share, 0.0)
    order = np.argsort(v, kind="stable")
    cust[net.out_seller[order]] = np.where(net.out_buyer[order] >= 0, net.out_buyer[order] + n, -1)
    np.maximum.at(best, net.out_seller, v * 0.5)
    # in-cluster customers win when big enough
    v_in = net.weight * firms.size[net.buyer] / np.maximum(firms.size[net.seller], 1.0)
    order = np.argsort(v_in, kind="stable")
    s, b, vv = net.seller[order], net.buyer[order], v_in[order]
    win = vv > best[s]
    cust[s[win]] = b[win]
    supp = np.full(n, -1, dtype=np.int64)
    order = np.argsort(net.weight, kind="stable")
    supp[net.buyer[order]] = net.seller[order]
    order = np.argsort(net.in_share, kind="stable")
    no_in = supp[net.in_buyer[order]] < 0
    supp[net.in_buyer[order][no_in]] = net.in_seller[order][no_in] + n
    return cust, supp


@dataclass
class NameBook:
    """Every name a counterparty can go by, as one Arrow array, for vectorised look-ups.

    Layout: firm names (``0…n-1``), outsider names (``n…``), then every firm's aliases, then the
    special accounts (other customers, payroll, tax).
    """

    names: pa.Array
    alias_start: np.ndarray  # per firm, position of its first alias in ``names``
    alias_count: np.ndarray
    special: int  # position of the first special account

    @classmethod
    def build(cls, firms: Firms, outsiders: Outsiders) -> NameBook:
        """Collect the names."""
        counts = np.array([len(a) for a in firms.aliases], dtype=np.int64)
        base = len(firms) + len(outsiders.name)
        starts = base + np.r_[0, np.cumsum(counts)[:-1]]
        flat = [a for aliases in firms.aliases for a in aliases]
        specials = [*OTHER_CUSTOMERS, PAYROLL, TAX_ACCOUNT, *LENDERS]
        names = firms.name + outsiders.name + flat + specials
        return cls(pa.array(names, pa.string()), starts, counts, base + len(flat))

    def pick(self, code: np.ndarray, n: int, rng: np.random.Generator, p_alias: float) -> pa.Array:
        """Names for counterparty codes (firm/outsider index; -2 other, -3 payroll, -4 tax,
        -10 - k lender k)."""
        pos = code.copy()
        firm = (code >= 0) & (code < n)
        cnt = np.where(firm, self.alias_count[np.clip(code, 0, n - 1)], 0)
        use = firm & (cnt > 0) & (rng.random(code.size) < p_alias)
        offs = (rng.random(code.size) * np.maximum(cnt, 1)).astype(np.int64)
        pos = np.where(use, self.alias_start[np.clip(code, 0, n - 1)] + offs, pos)
        other = self.special + rng.integers(0, len(OTHER_CUSTOMERS), code.size)
        pos = np.where(code == -2, other, pos)
        pos = np.where(code == -3, self.special + len(OTHER_CUSTOMERS), pos)
        pos = np.where(code == -4, self.special + len(OTHER_CUSTOMERS) + 1, pos)
        lender = self.special + len(OTHER_CUSTOMERS) + 2 + (-code - 10)
        pos = np.where(code <= -10, lender, pos)
        return self.names.take(pa.array(pos))


def build_bank_flows(
    chunk: Chunk,
    view: ChunkView,
    firms: Firms,
    book: NameBook,
    partners: tuple[np.ndarray, np.ndarray],
    all_uscc: pa.Array,
    timeline: Timeline,
    rng: np.random.Generator,
    leverage: np.ndarray | None = None,
) -> pa.Table:
    """Statement lines per active firm-month: main customer, other receipts, main supplier,
    payroll, tax, and the loan instalment of indebted firms (missed late in distress)."""
    cust, supp = partners[0][chunk.lo : chunk.hi], partners[1][chunk.lo : chunk.hi]
    f, m = np.nonzero(view.active & (view.total > 0))
    sales = view.total[f, m] * 1.13
    buys = view.purchases[f, m] * 1.13
    share = rng.uniform(0.3, 0.7, f.size)
    lines = [
        ("in", cust[f], np.where(cust[f] >= 0, sales * share, 0.0)),
        ("in", np.full(f.size, -2), np.where(cust[f] >= 0, sales * (1 - share), sales)),
        ("out", supp[f], buys * rng.uniform(0.5, 0.9, f.size)),
        ("out", np.full(f.size, -3), view.total[f, m] * rng.uniform(0.08, 0.14, f.size)),
        (
            "out",
            np.full(f.size, -4),
            0.13 * np.maximum(view.total[f, m] - view.purchases[f, m], 0) * 0.9,
        ),
    ]
    if leverage is not None:  # monthly loan instalments (interest and some principal) to a lender
        lev = leverage[chunk.lo : chunk.hi]
        annual = view.total.mean(axis=1) * 12
        instalment = annual[f] * lev[f] * rng.uniform(0.01, 0.02, f.size)
        missed = (view.dist[f, m] >= 4) | (view.post[f, m] >= 0)
        lender = -10 - (chunk.lo + f) % len(LENDERS)
        lines.append(("out", lender, np.where(missed, 0.0, instalment)))
    directions, firm_idx, months, codes, amounts = [], [], [], [], []
    for direction, code, amount in lines:
        ok = (amount >= 100) & (code != -1)
        directions.append(np.full(int(ok.sum()), direction == "in"))
        firm_idx.append(f[ok])
        months.append(m[ok])
        codes.append(code[ok])
        amounts.append(np.round(amount[ok]).astype(np.int64))
    is_in = np.concatenate(directions)
    ff, mm = np.concatenate(firm_idx), np.concatenate(months)
    code, amount = np.concatenate(codes), np.concatenate(amounts)
    day = timeline.random_days(mm + BURN_IN, rng)
    names = book.pick(code, len(firms), rng, p_alias=0.45)
    known = (code >= 0) & (rng.random(code.size) < 0.3)
    cp_uscc = all_uscc.take(pa.array(np.where(known, code, 0), mask=~known))
    order = np.lexsort((day, ff))
    table = pa.Table.from_arrays(
        [
            view.uscc.take(pa.array(ff)),
            pa.array(day.astype(np.int32), pa.date32()),
            pa.array(np.where(is_in, "in", "out")),
            pa.array(amount),
            names,
            cp_uscc,
        ],
        schema=RECORD_SCHEMAS["bank_flows"],
    )
    return table.take(pa.array(order))


# case_type, court word, role choices, monthly base probability, in distress (from month k),
# after default (first 12 months)
CASES = (
    ("contract_dispute", "民初", ("plaintiff", "defendant"), 0.0025, 0.02, 0.03),
    ("labour", "劳初", ("defendant",), 0.0008, 0.03, 0.05),
    ("enforcement", "执", ("respondent",), 0.0004, 0.05, 0.15),
    ("equity_freeze", "执保", ("respondent",), 0.0002, 0.02, 0.06),
    ("dishonest", "执", ("respondent",), 0.0, 0.025, 0.08),
)
_DIST_FROM = {
    "contract_dispute": 0,
    "labour": 2,
    "enforcement": 3,
    "equity_freeze": 3,
    "dishonest": 5,
}


def build_judicial(
    chunk: Chunk, view: ChunkView, timeline: Timeline, rng: np.random.Generator
) -> pa.Table:
    """Court cases of each type; distressed and defaulted firms collect the serious ones."""
    rows_f, rows_m, kinds, roles, amounts = [], [], [], [], []
    monthly = np.maximum(view.total.mean(axis=1), 1e5)
    for k, (kind, _word, role_choices, base, in_dist, after) in enumerate(CASES):
        p = np.where(view.dist >= _DIST_FROM[kind], in_dist, base)
        p = np.where((view.post >= 0) & (view.post < 12), after, p)
        hit = (rng.random(p.shape) < p) & ((view.active) | (view.post >= 0))
        f, m = np.nonzero(hit)
        rows_f.append(f)
        rows_m.append(m)
        kinds.append(np.full(f.size, k))
        roles.append(rng.integers(0, len(role_choices), f.size))
        scale = {"labour": 0.2, "equity_freeze": 3.0}.get(kind, 1.5)
        amounts.append(np.round(monthly[f] * scale * rng.lognormal(0, 0.6, f.size) / 100) * 100)
    f, m = np.concatenate(rows_f), np.concatenate(rows_m)
    kind_i, role_i = np.concatenate(kinds), np.concatenate(roles)
    amount = np.concatenate(amounts).astype(np.int64)
    filed = timeline.random_days(m + BURN_IN, rng)
    healthy = (view.dist[f, m] < 0) & (view.post[f, m] < 0)
    close_after = rng.integers(30, 300, f.size)
    closes = healthy | (rng.random(f.size) < 0.15)
    closed = filed + close_after
    open_ = ~closes | (closed > timeline.end_day)
    case_ids, case_types, role_names = [], [], []
    base_seq = chunk.index * 100_000
    years = filed.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    for i, (ki, ri, year) in enumerate(
        zip(kind_i.tolist(), role_i.tolist(), years.tolist(), strict=True)
    ):
        kind_name, word, role_choices = CASES[ki][0], CASES[ki][1], CASES[ki][2]
        case_ids.append(f"({year})浙0603{word}{base_seq + i + 1}号")
        case_types.append(kind_name)
        role_names.append(role_choices[ri])
    return pa.Table.from_arrays(
        [
            view.uscc.take(pa.array(f)),
            pa.array(case_ids, pa.string()),
            pa.array(filed.astype(np.int32), pa.date32()),
            pa.array(case_types, pa.string()),
            pa.array(role_names, pa.string()),
            pa.array(amount),
            pa.array(closed.astype(np.int32), pa.date32(), mask=open_),
        ],
        schema=RECORD_SCHEMAS["judicial"],
    )
