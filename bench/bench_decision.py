"""Decision latency and throughput: Loom's decision engine vs a vectorised pandas policy, same data.

Synthetic feature vectors for a Keqiao-like cluster (seeded), one simple logistic PD model used by
both sides, the shipped Keqiao policy and LPR table.

- **loom, in-process**: :func:`make_decision` with the feature vector in memory: every rule with
  reasons, score, price build-up, limit build-up with DSCR from the proposed schedule, seasonal
  plan, band and the full record. Median and p99 per decision (aim: p99 < 5 ms).
- **loom, with the lake lookup**: the same with the vector read from a feature snapshot written as
  Parquet under a temporary LOOM_HOME, (a) through ``LakeFeatureSource`` (snapshot held in memory
  after one load, load timed separately) and (b) ``DuckDbSnapshotFeatureSource``, one DuckDB point
  query per request (aim: p99 < 25 ms).
- **loom, batch**: :func:`decide_all` (pre-approved offers, re-decided at the limit) over N firms.
- **pandas**: what an analyst would write instead: boolean masks for the same rules, the same PD,
  spread formula, ceiling clip and a limit from the annuity formula, on a DataFrame. It does less
  (no schedule, no seasonal plan, no per-rule reasons, no record); its one-row latency is what
  you get when that notebook code serves single requests.

    python bench/bench_decision.py              # 5,000 single decisions, batch of 100,000
    python bench/bench_decision.py --quick      # 500 single, batch of 5,000
"""

from __future__ import annotations

import argparse
import gc
import math
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

AS_OF = date(2026, 3, 2)
ASK_FEN = 50_000_000  # 500,000 yuan


@dataclass(frozen=True)
class Score:
    """Score result of the bench model."""

    score: float
    pd: float
    reasons: tuple = ()


class LogisticScorer:
    """PD = logistic(a + b·log(sales) + c·dpd + d·inquiries + e·enforcement): both sides use it."""

    version = "bench-logit-1"

    @staticmethod
    def pd_of(sales: float, dpd: float, inquiries: float, enforcement: float) -> float:
        """The bench PD formula."""
        z = 2.2 - 0.42 * math.log(max(sales, 1e5) / 1e6 + 1) * 3 + 0.03 * dpd
        z += 0.25 * inquiries + 0.9 * enforcement
        return 1 / (1 + math.exp(-(z - 6.0)))

    def score_one(self, features: Mapping[str, object]) -> Score:
        """Score one vector."""
        pd = self.pd_of(
            float(features.get("sales_12m_fen") or 0) / 100,  # type: ignore[arg-type]
            float(features.get("bureau_max_dpd_24m") or 0),  # type: ignore[arg-type]
            float(features.get("bureau_inquiries_3m") or 0),  # type: ignore[arg-type]
            float(features.get("judicial_enforcement_24m") or 0),  # type: ignore[arg-type]
        )
        return Score(600 - 50 * math.log2(pd / (1 - pd) * 50), pd)


def synth(n: int, seed: int = 20261128) -> list[dict[str, object]]:
    """N seeded feature vectors with the agreed names (some fail rules, some are seasonal)."""
    from loomcredit.domain.identity import generate_uscc

    rng = random.Random(seed)
    industries = ["C1752", "C1751", "C1713", "C1762", "C1819", "F5131", "C2822", "I6511"]
    rows = []
    for _ in range(n):
        amp = rng.choice([0.0, 0.2, 0.4])
        season = {
            f"season_factor_{m:02d}": round(1 + amp * math.sin((m - 3) / 12 * 2 * math.pi), 3)
            for m in range(1, 13)
        }
        rows.append(
            {
                "uscc": generate_uscc("330603", rng),
                "registry_status": "存续" if rng.random() > 0.03 else "吊销",
                "firm_age_months": rng.randint(6, 300),
                "industry_code": rng.choices(industries, weights=[30, 10, 8, 8, 8, 10, 5, 2])[0],
                "region_code": "330603" if rng.random() > 0.05 else "330106",
                "judicial_dishonest": int(rng.random() < 0.02),
                "judicial_enforcement_open": int(rng.random() < 0.03),
                "judicial_enforcement_24m": int(rng.random() < 0.06),
                "tax_credit_grade": rng.choice(["A", "B", "B", "M", "C", None, "D"]),
                "bureau_nonperforming_accounts": int(rng.random() < 0.03),
                "bureau_max_dpd_24m": rng.choice([0, 0, 0, 0, 5, 15, 45, 120]),
                "bureau_inquiries_3m": rng.randint(0, 6),
                "bureau_loans_outstanding_fen": rng.randint(0, 300) * 1_000_000,
                "months_of_history": rng.randint(3, 60),
                "sales_12m_fen": int(rng.lognormvariate(math.log(4e8), 1.0)),
                **season,
            }
        )
    return rows


class MemoryFeatures:
    """Feature vectors held in a dict (the in-process case)."""

    def __init__(self, rows: list[dict[str, object]]) -> None:
        self.rows = {str(r["uscc"]): r for r in rows}

    def get(self, uscc: str, as_of: date) -> Mapping[str, object]:
        """Vector of one firm."""
        return self.rows[uscc]


class AllConsents:
    """Every firm has the pre-loan consents on file."""

    def scopes_on(self, uscc: str, as_of: date) -> frozenset[str]:
        """Scopes on file."""
        return frozenset({"bureau", "tax", "invoices"})


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]
    return statistics.median(ordered) * 1000, p99 * 1000


def time_each(fn: Callable[[str], object], usccs: list[str]) -> tuple[float, float]:
    """Median and p99 latency (ms) of fn over the firms."""
    samples = []
    for uscc in usccs:
        began = time.perf_counter()
        fn(uscc)
        samples.append(time.perf_counter() - began)
    return _percentiles(samples)


def loom_decider(features: object) -> Callable[[str], object]:
    """One Loom decision per call with the given feature source."""
    from loomcredit.adapters.policy_file import load_lpr, load_policy
    from loomcredit.domain.money import Money
    from loomcredit.service_layer.decisioning import DecisionRequest, make_decision

    policy, lpr, scorer, consents = load_policy(), load_lpr(), LogisticScorer(), AllConsents()

    def decide(uscc: str) -> object:
        request = DecisionRequest(uscc, Money(ASK_FEN), 12, "annuity")
        return make_decision(
            request,
            policy=policy,
            features=features,
            scorer=scorer,
            lpr=lpr,  # type: ignore[arg-type]
            consents=consents,
            as_of=AS_OF,
        )

    return decide


def write_snapshot(rows: list[dict[str, object]], home: Path) -> None:
    """The vectors as a feature snapshot Parquet file under LOOM_HOME."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = home / "lake" / "features" / "snapshots" / f"as_of={AS_OF.isoformat()}"
    folder.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist([{**r, "as_of": AS_OF} for r in rows]).sort_by("uscc")
    pq.write_table(table, folder / "part-0.parquet", row_group_size=8192)


def pandas_policy(df: object) -> object:
    """The analyst's vectorised version of the same policy (rules, PD, price, limit, band)."""
    import numpy as np

    d = df  # a pandas DataFrame
    grade = d["tax_credit_grade"].fillna("")
    ok = (
        (d["registry_status"] == "存续")
        & (d["firm_age_months"] >= 24)
        & d["industry_code"].str.match(r"^(C17|C18|C28|F5131|F5132|C3551)")
        & (d["judicial_dishonest"] == 0)
        & (d["judicial_enforcement_open"] == 0)
        & (grade != "D")
        & (d["bureau_nonperforming_accounts"] == 0)
        & (d["bureau_max_dpd_24m"] <= 30)
        & (d["months_of_history"] >= 12)
        & (d["sales_12m_fen"] >= 50_000_000)
    )
    refer = (~d["region_code"].str.startswith("3306")) | (d["judicial_enforcement_24m"] > 0)
    sales = d["sales_12m_fen"] / 100
    z = 2.2 - 0.42 * np.log(np.maximum(sales, 1e5) / 1e6 + 1) * 3 + 0.03 * d["bureau_max_dpd_24m"]
    z = z + 0.25 * d["bureau_inquiries_3m"] + 0.9 * d["judicial_enforcement_24m"]
    pd_ = 1 / (1 + np.exp(-(z - 6.0)))
    spread = np.round(pd_ * 0.45 + 0.017, 4)
    rate = np.clip(0.03 + spread, 0.03, 0.12)
    i = rate / 12
    annuity_per_yuan = 12 * i * (1 + i) ** 12 / ((1 + i) ** 12 - 1)
    cash = sales * 0.12 - d["bureau_loans_outstanding_fen"] / 100 * 0.10
    capacity = np.maximum(cash, 0) / 1.25 / annuity_per_yuan
    multiple = np.select(
        [pd_ <= 0.01, pd_ <= 0.02, pd_ <= 0.05, pd_ <= 0.10], [0.4, 0.3, 0.2, 0.1], 0
    )
    # pre-approved offer: ask the auto limit (1M), offer the smaller of it and the limit
    limit = (
        np.floor(
            np.minimum.reduce(
                [np.full(len(d), 1e6), np.full(len(d), 3e6), multiple * sales, capacity]
            )
            / 1000
        )
        * 1000
    )
    band = np.where(
        ~ok | (pd_ >= 0.10) | (limit < 10_000),
        "decline",
        np.where(refer | (pd_ > 0.02), "review", "auto_approve"),
    )
    return d.assign(pd=pd_, annual_rate=rate, limit=limit, band=band)


def main() -> None:
    """Run the benchmark and print the figures side by side."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small run (500 single, 5,000 batch)")
    parser.add_argument("--single", type=int, default=5000, help="single decisions to time")
    parser.add_argument("--batch", type=int, default=100_000, help="enterprises in the batch")
    args = parser.parse_args()
    single, batch = (500, 5000) if args.quick else (args.single, args.batch)
    import pandas as pd

    from loomcredit.adapters.feature_source import DuckDbSnapshotFeatureSource, LakeFeatureSource

    rows = synth(max(single, batch))
    # A service holds its static data for its lifetime: move it out of the cyclic GC's way, as a
    # long-running process would (without this, gen-2 collections over 100k vectors set the p99).
    gc.collect()
    gc.freeze()
    usccs = [str(r["uscc"]) for r in rows[:single]]
    print(f"data: {len(rows):,} synthetic enterprises, {single:,} timed single decisions")

    decide = loom_decider(MemoryFeatures(rows))
    decide(usccs[0])  # warm imports and caches
    med, p99 = time_each(decide, usccs)
    frame = pd.DataFrame(rows)
    one_row = {u: frame.iloc[[k]] for k, u in enumerate(usccs[:500])}
    pandas_policy(frame.iloc[[0]])
    pmed, pp99 = time_each(lambda u: pandas_policy(one_row[u]), list(one_row))
    print(
        f"single, vector in memory : loom median {med:.3f} ms  p99 {p99:.3f} ms   "
        f"| pandas 1-row median {pmed:.3f} ms p99 {pp99:.3f} ms  (loom {pmed / med:.1f}× faster)"
    )

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        write_snapshot(rows, home)
        lake = LakeFeatureSource(home)
        began = time.perf_counter()
        lake.get(usccs[0], AS_OF)
        load_s = time.perf_counter() - began
        gc.freeze()  # the loaded snapshot is static for the service's lifetime
        lmed, lp99 = time_each(loom_decider(lake), usccs)
        duck = loom_decider(DuckDbSnapshotFeatureSource(home))
        duck(usccs[0])
        dmed, dp99 = time_each(duck, usccs[: min(single, 1000)])
    print(
        f"single, snapshot in memory: median {lmed:.3f} ms  p99 {lp99:.3f} ms "
        f"(one-off snapshot load {load_s:.2f} s for {len(rows):,} firms)"
    )
    print(f"single, DuckDB point query: median {dmed:.3f} ms  p99 {dp99:.3f} ms per request")

    from loomcredit.adapters.policy_file import load_lpr, load_policy
    from loomcredit.service_layer.decisioning import decide_all

    firms = [str(r["uscc"]) for r in rows[:batch]]
    source = MemoryFeatures(rows)
    began = time.perf_counter()
    by_firm = {
        r.application.uscc: r.band.value
        for r in decide_all(
            firms,
            policy=load_policy(),
            features=source,
            scorer=LogisticScorer(),
            lpr=load_lpr(),
            consents=AllConsents(),
            as_of=AS_OF,
        )
    }
    loom_s = time.perf_counter() - began
    bands: dict[str, int] = {}
    for value in by_firm.values():
        bands[value] = bands.get(value, 0) + 1
    big = frame.iloc[:batch]
    began = time.perf_counter()
    out = pandas_policy(big)
    pandas_s = time.perf_counter() - began
    pbands = out["band"].value_counts().to_dict()  # type: ignore[attr-defined]
    same = sum(by_firm[u] == b for u, b in zip(firms, out["band"], strict=True))  # type: ignore[index]
    print(
        f"batch {batch:,}: loom {loom_s:.1f} s = {batch / loom_s:,.0f} decisions/s  bands {bands}"
    )
    print(
        f"batch {batch:,}: pandas {pandas_s:.2f} s = {batch / pandas_s:,.0f} rows/s  bands {pbands}"
        f"  (pandas {loom_s / pandas_s:.0f}× faster, without schedules, plans or records)"
    )
    print(f"same band for {same / batch:.1%} of firms (differences: seasonal plans change DSCR)")


if __name__ == "__main__":
    main()
