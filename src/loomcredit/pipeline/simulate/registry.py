"""Registry change history, consents and the market series.

The registry has one row per registration or change; each row is the full state after the change,
so the state on any date is the latest row with ``changed_on`` on or before it. Old firms of the
former 绍兴县 (330621) carry that code until the 2013 reorganisation shows up as a change.
"""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa

from loomcredit.domain.identity import generate_resident_id
from loomcredit.pipeline.schemas import RECORD_SCHEMAS
from loomcredit.pipeline.simulate.config import BURN_IN, EPOCH, Timeline
from loomcredit.pipeline.simulate.dynamics import Panel
from loomcredit.pipeline.simulate.firms import HISTORIC_CUTOFF, Firms, _person_name
from loomcredit.pipeline.simulate.invoices import Chunk

SCOPES = ("tax", "invoices", "utilities", "social_insurance", "bank_flows", "bureau")
PURPOSES = ("pre_loan", "post_loan", "collection")
CONSENT_TEXTS = (
    "本企业授权贵行查询、使用本企业涉税、发票、用电、社保、银行流水及征信信息，用于授信审批与贷后管理。v1",
    "本企业同意贵行依据《个人信息保护法》《征信业管理条例》收集、使用上述信息，用途限于贷前审批、贷后管理及催收。v2",
)
_REORG_DAY = (HISTORIC_CUTOFF - EPOCH).days


def _events(
    g: int, firms: Firms, panel: Panel, timeline: Timeline, prng: random.Random
) -> list[tuple[int, str, dict[str, object]]]:
    """Dated changes of one enterprise (registration first)."""
    est, end = int(firms.established[g]), timeline.end_day
    events: list[tuple[int, str, dict[str, object]]] = [(est, "registration", {})]
    if firms.old_name[g] is not None:
        events.append(
            (int(firms.renamed_on[g]), "name", {"name": firms.name[g], "region_code": "330603"})
        )
    elif firms.region[g] == "330621":
        events.append((_REORG_DAY + prng.randrange(90, 800), "address", {"region_code": "330603"}))
    span = max(end - est, 1)
    if prng.random() < 0.3:
        new_cap = int(firms.capital_fen[g]) * prng.choice((2, 3, 5))
        events.append((est + prng.randrange(span), "capital", {"registered_capital_fen": new_cap}))
    if prng.random() < 0.15:
        events.append((est + prng.randrange(span), "address", {}))
    dist_months = np.flatnonzero(panel.distress[g] >= 0)
    if dist_months.size and prng.random() < 0.35:  # a change of legal rep is a warning sign
        w = int(dist_months[prng.randrange(dist_months.size)])
        day = int(timeline.first_day[w + BURN_IN]) + prng.randrange(28)
        events.append((day, "legal_rep", _new_rep(prng)))
    elif prng.random() < 0.08:
        events.append((est + prng.randrange(span), "legal_rep", _new_rep(prng)))
    if panel.ceased_t[g] >= 0 and panel.default_day[g] >= 0:
        day = int(panel.default_day[g]) + prng.randrange(180, 420)
        events.append((day, "status", {"status": "吊销"}))
    elif panel.closed[g] and panel.ceased_t[g] >= 0:
        day = int(timeline.first_day[panel.ceased_t[g] + BURN_IN]) + prng.randrange(30, 120)
        events.append((day, "status", {"status": "注销"}))
    events.sort(key=lambda e: (e[0], e[1] != "registration"))
    kept = []
    for event in events:
        if est <= event[0] <= end:
            kept.append(event)
        if event[1] == "status":
            break  # a revoked licence (吊销) or a deregistration (注销) is the last change
    return kept


def build_registry(
    chunk: Chunk, firms: Firms, panel: Panel, timeline: Timeline, rng: np.random.Generator
) -> pa.Table:
    """Registration and change rows of a chunk (full state after each change)."""
    prng = random.Random(int(rng.integers(0, 2**62)))
    cols: dict[str, list[object]] = {f.name: [] for f in RECORD_SCHEMAS["registry"]}
    for g in range(chunk.lo, chunk.hi):
        if int(firms.established[g]) > timeline.end_day:
            continue
        state: dict[str, object] = {
            "uscc": firms.uscc[g],
            "name": firms.old_name[g] or firms.name[g],
            "legal_rep_name": firms.rep_name[g],
            "legal_rep_id": firms.rep_id[g],
            "established_on": int(firms.established[g]),
            "registered_capital_fen": int(firms.capital_fen[g]),
            "industry_code": firms.industry_code(g),
            "region_code": firms.region[g],
            "status": "存续",
        }
        for day, change, updates in _events(g, firms, panel, timeline, prng):
            state.update(updates)
            for key, value in state.items():
                cols[key].append(value)
            cols["change_type"].append(change)
            cols["changed_on"].append(day)
    arrays = []
    for field in RECORD_SCHEMAS["registry"]:
        values = cols[field.name]
        if field.type == pa.date32():
            arrays.append(pa.array(np.array(values, dtype=np.int32), pa.date32()))
        else:
            arrays.append(pa.array(values, field.type))
    return pa.Table.from_arrays(arrays, schema=RECORD_SCHEMAS["registry"])


def _new_rep(prng: random.Random) -> dict[str, object]:
    born = EPOCH.replace(year=1960) + timedelta(days=prng.randrange(35 * 365))
    return {
        "legal_rep_name": _person_name(prng),
        "legal_rep_id": generate_resident_id("330603", born, prng),
    }


def _ts(day: float) -> datetime:
    """A UTC timestamp, whole seconds, from fractional days since the epoch."""
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=round(float(day) * 86400))


def _grant_chain(
    granted: float, end: int, revoke: bool, rng: np.random.Generator
) -> list[tuple[float, float, float | None]]:
    """One consent and its renewals: most are renewed shortly before they expire (some after a
    gap); about one in ten lapses; a revoked consent ends the chain."""
    chain: list[tuple[float, float, float | None]] = []
    while granted <= end:
        expires = granted + 365 * (1 if rng.random() < 0.3 else 3)
        revoked = granted + rng.uniform(30, 700) if revoke else None
        if revoked is not None and revoked > min(end, expires):
            revoked = None
        chain.append((granted, expires, revoked))
        if revoked is not None or expires > end or rng.random() < 0.1:
            break
        early = rng.random() < 0.85
        granted = expires - rng.uniform(1, 30) if early else expires + rng.uniform(1, 45)
    return chain


def build_consents(
    chunk: Chunk, firms: Firms, timeline: Timeline, rng: np.random.Generator
) -> pa.Table:
    """Consents: most firms all scopes and purposes, some a subset, a few none; consents are
    renewed as they expire, some lapse or are revoked. Legal reps consent to bureau queries."""
    start, end = timeline.start_day, timeline.end_day
    rows: list[tuple[object, ...]] = []
    hashes = [hashlib.sha256(t.encode()).hexdigest() for t in CONSENT_TEXTS]
    seq = 0
    for g in range(chunk.lo, chunk.hi):
        r = rng.random()
        if r < 0.05:
            continue  # no consent at all
        est = int(firms.established[g])
        granted = max(est + 1, start - int(rng.integers(0, 400))) + rng.random()
        scopes, purposes = list(SCOPES), list(PURPOSES)
        if r < 0.15:
            scopes = [s for s in SCOPES if rng.random() < 0.5] or ["tax"]
            purposes = ["pre_loan"] + [p for p in PURPOSES[1:] if rng.random() < 0.5]
        text = hashes[int(rng.integers(0, 2))]
        chain = _grant_chain(granted, end, 0.15 <= r < 0.19, rng)
        subjects = [("enterprise", ";".join(scopes), ";".join(purposes))]
        if rng.random() < 0.6 and "bureau" in scopes:
            subjects.append(("legal_rep", "bureau", "pre_loan;post_loan"))
        for subject, scope_text, purpose_text in subjects:
            for gr, ex, rv in chain:
                seq += 1
                rows.append(
                    (
                        f"C{chunk.index:05d}{seq:06d}",
                        firms.uscc[g],
                        subject,
                        scope_text,
                        purpose_text,
                        _ts(gr),
                        _ts(ex),
                        None if rv is None else _ts(rv),
                        text,
                    )
                )
    schema = RECORD_SCHEMAS["consents"]
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in schema]
    return pa.Table.from_arrays(
        [pa.array(list(c), f.type) for c, f in zip(columns, schema, strict=True)], schema=schema
    )


def build_market(panel: Panel, timeline: Timeline, seed: int) -> pa.Table:
    """Monthly cluster series that move with the cluster cycle and its shocks."""
    rng = np.random.default_rng([seed, 9])
    months = timeline.months
    season = timeline.season[BURN_IN:]
    c = panel.cycle
    series = {
        "keqiao_price_index": 105 * np.exp(0.4 * c + rng.normal(0, 0.005, months)),
        "keqiao_prosperity_index": 1150
        * np.exp(c + 0.3 * (season - 1) + rng.normal(0, 0.01, months)),
        "polyester_price": 7200 * np.exp(0.8 * c + np.cumsum(rng.normal(0, 0.02, months))),
        "regional_pmi": 50 + 25 * c + 2 * (season - 1) + rng.normal(0, 0.4, months),
    }
    month_col, name_col, value_col = [], [], []
    for w in range(months):
        for name, values in series.items():
            month_col.append(int(timeline.first_day[BURN_IN + w]))
            name_col.append(name)
            value_col.append(round(float(values[w]), 2))
    return pa.Table.from_arrays(
        [
            pa.array(np.array(month_col, np.int32), pa.date32()),
            pa.array(name_col),
            pa.array(value_col),
        ],
        schema=RECORD_SCHEMAS["market"],
    )
