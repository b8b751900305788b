"""Benchmark: the enterprise profile (企业画像) — Loom's snapshot vs what a user would write.

On a synthetic integrated zone of N enterprises × 36 months (same files for every contender, same
run), it measures wall time and peak memory (max RSS, each contender in its own process) of:

- Loom, full snapshot (all ~100 features, every family) on DuckDB;
- Loom, the *subset* families (scale, invoice quality, cash) on DuckDB;
- (a) the same subset hand-written in pandas;
- (b) the same subset as one hand-written DuckDB SQL query (the engine's own limit);
- Loom, full snapshot on PySpark local mode (``--spark``; slow on one machine by design);

then the single-enterprise lookup latency (median, p99) from a snapshot and on demand for a
date after it (the per-family SQLite fast path against the old single DuckDB statement, same 200
firms, every value checked against a full snapshot of that date), and checks that the subset
values agree across Loom, pandas and SQL.

    python bench/bench_features.py            # 100,000 enterprises × 36 months
    python bench/bench_features.py --quick    # 5,000 enterprises
    python bench/bench_features.py --spark    # add the Spark run
"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

AS_OF = date(2025, 6, 30)
MONTHS = 36
FIRST_MONTH = date(2022, 6, 1)
SUBSET = [
    "sales_3m_fen", "sales_6m_fen", "sales_12m_fen", "sales_yoy_3m", "purchases_12m_fen",
    "invoices_issued_12m", "void_share_12m", "red_share_12m",
    "inflow_12m_fen", "outflow_12m_fen", "net_inflow_12m_fen", "inflow_3m_fen",
]  # fmt: skip


# -- data ------------------------------------------------------------------------------------
def _month_starts(n: int) -> np.ndarray:
    y, m = FIRST_MONTH.year, FIRST_MONTH.month
    out = []
    for _ in range(n):
        out.append(np.datetime64(f"{y:04d}-{m:02d}-01"))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return np.array(out, dtype="datetime64[D]")


def generate(home: Path, n: int, seed: int = 7) -> dict[str, int]:
    """Write an integrated-like zone for ``n`` enterprises; return row counts."""
    from loomcredit.pipeline.features.tables import ARRIVAL_COLUMNS, schema_of

    rng = np.random.default_rng(seed)
    ids = np.array([f"91330603MA{i:08d}" for i in range(n)], dtype=object)
    months = _month_starts(MONTHS + 3)
    counts: dict[str, int] = {}

    def write(name: str, cols: dict[str, object]) -> None:
        folder = home / "lake" / "integrated" / name
        folder.mkdir(parents=True, exist_ok=True)
        table = pa.table(cols)
        # the generator dates rows by their lags only: the arrival days are NULL (known under
        # the lags), so the hand-written contenders below compute the same thing
        schema = schema_of(name)
        for field in schema:
            if field.name in ARRIVAL_COLUMNS and field.name not in table.column_names:
                table = table.append_column(field, pa.nulls(len(table), field.type))
        if name != "enterprise":
            table = table.cast(schema)
        pq.write_table(table, folder / "part-00000.parquet", row_group_size=1_000_000)
        counts[name] = table.num_rows

    est = np.datetime64("2012-01-01") + rng.integers(0, 4500, n).astype("timedelta64[D]")
    industries = np.array(["C1752", "C1751", "C1761", "F5131", "C1811", "C2822"], dtype=object)
    write("enterprise", {
        "uscc": ids, "name": ids, "established_on": est.astype("datetime64[D]"),
        "industry_code": industries[rng.integers(0, len(industries), n)],
        "region_code": np.where(rng.random(n) < 0.2, "330621", "330603").astype(object),
        "status": np.full(n, "存续", dtype=object),
    })  # fmt: skip
    write("registry", {
        "uscc": ids, "industry_code": industries[rng.integers(0, len(industries), n)],
        "region_code": np.full(n, "330603", dtype=object),
        "status": np.full(n, "存续", dtype=object),
        "change_type": np.full(n, "registration", dtype=object), "changed_on": est,
    })  # fmt: skip

    firm = np.repeat(np.arange(n), len(months))
    month = np.tile(months, n)
    moy = month.astype("datetime64[M]").astype(int) % 12
    season = np.array([0.7, 0.7, 1.0, 1.0, 1.0, 1.1, 0.9, 0.9, 1.2, 1.2, 1.0, 0.8])[moy]
    scale = rng.lognormal(13.5, 1.0, n)[firm]
    sales = (scale * season * rng.lognormal(0, 0.3, len(firm))).astype(np.int64)
    sales[rng.random(len(firm)) < 0.03] = 0
    issued = rng.integers(0, 60, len(firm))
    write("monthly_activity", {
        "uscc": ids[firm], "month": month, "sales_fen": sales, "purchases_fen": sales // 2,
        "invoices_issued": issued, "invoices_void": rng.binomial(issued, 0.02),
        "invoices_red": rng.binomial(issued, 0.01),
        "kwh": (scale / 100 * season).astype(np.int64),
        "steam_t": np.where(industries[firm % len(industries)] == "C1752", scale / 1e5, np.nan),
        "headcount": (scale / 3e4).astype(np.int64) + 3,
    })  # fmt: skip

    k = 2  # buyers per seller-month
    seller = np.repeat(firm, k)
    buyer = (seller + rng.integers(1, 500, len(seller))) % n
    write("supply_edges", {
        "seller_uscc": ids[seller], "buyer_uscc": ids[buyer], "month": np.repeat(month, k),
        "amount_fen": np.repeat(sales // k, k),
        "seller_consented": np.ones(len(seller), dtype=bool),
        "buyer_consented": np.ones(len(seller), dtype=bool),
    })  # fmt: skip

    flows_per_firm = 24  # two a month over the last year
    ff = np.repeat(np.arange(n), flows_per_firm)
    day = np.datetime64("2024-06-01") + rng.integers(0, 420, len(ff)).astype("timedelta64[D]")
    payers = np.array([f"客户{i}" for i in range(200)], dtype=object)
    write("bank_flows", {
        "uscc": ids[ff], "booked_on": day,
        "direction": np.where(rng.random(len(ff)) < 0.55, "in", "out").astype(object),
        "amount_fen": rng.lognormal(12.5, 1.0, len(ff)).astype(np.int64),
        "counterparty_name": payers[rng.integers(0, len(payers), len(ff))],
        "counterparty_uscc": np.full(len(ff), None, dtype=object),
    })  # fmt: skip

    tf = np.repeat(np.arange(n), 24)
    periods = np.tile(
        np.array([f"{d.astype(object):%Y-%m}" for d in months[-24:]], dtype=object), n
    )
    due = rng.integers(1_000, 500_000, len(tf))
    paid_on = np.tile(months[-24:], n) + np.timedelta64(45, "D")
    unpaid = rng.random(len(tf)) < 0.02
    write("tax", {
        "uscc": ids[tf], "period": periods, "tax_type": np.full(len(tf), "vat", dtype=object),
        "due_fen": due, "paid_fen": np.where(unpaid, 0, due),
        "paid_on": np.where(unpaid, np.datetime64("NaT"), paid_on),
        "credit_grade": np.array(["A", "B", "M", "C", "D"], dtype=object)[
            rng.choice(5, len(tf), p=[0.4, 0.35, 0.15, 0.07, 0.03])],
    })  # fmt: skip

    bf = np.repeat(np.arange(n), 8)
    write("bureau", {
        "uscc": ids[bf], "reported_on": np.tile(months[::4][:8], n) + np.timedelta64(9, "D"),
        "loans_outstanding_fen": rng.integers(0, 5_000_000_00, len(bf)),
        "overdue_accounts": rng.poisson(0.05, len(bf)), "max_dpd_24m": rng.poisson(2, len(bf)),
        "guarantees_fen": rng.integers(0, 1_000_000_00, len(bf)),
        "inquiries_3m": rng.poisson(1.5, len(bf)),
        "nonperforming_accounts": rng.poisson(0.01, len(bf)),
    })  # fmt: skip

    jn = n // 5
    jf = rng.integers(0, n, jn)
    kinds = np.array(["contract_dispute", "labour", "enforcement", "dishonest", "equity_freeze"],
                     dtype=object)  # fmt: skip
    filed = np.datetime64("2022-06-01") + rng.integers(0, 1150, jn).astype("timedelta64[D]")
    write("judicial", {
        "uscc": ids[jf], "case_id": np.array([f"J{i}" for i in range(jn)], dtype=object),
        "filed_on": filed, "case_type": kinds[rng.integers(0, 5, jn)],
        "role": np.full(jn, "defendant", dtype=object),
        "amount_fen": rng.integers(10_000, 10_000_000, jn),
        "closed_on": np.where(rng.random(jn) < 0.5, filed + np.timedelta64(200, "D"),
                              np.datetime64("NaT")),
    })  # fmt: skip
    rn = n // 4
    write("risk_events", {
        "uscc": ids[rng.integers(0, n, rn)],
        "occurred_on": np.datetime64("2023-06-01") + rng.integers(0, 800, rn).astype(
            "timedelta64[D]"),
        "kind": np.array(["pollution", "closure", "wage_arrears"], dtype=object)[
            rng.integers(0, 3, rn)],
        "severity": rng.integers(1, 4, rn),
        "source": np.where(rng.random(rn) < 0.7, "news", "judicial").astype(object),
    })  # fmt: skip
    write("market", {
        "month": months, "series": np.full(len(months), "keqiao_prosperity_index", dtype=object),
        "value": 1000 + 100 * rng.random(len(months)),
    })  # fmt: skip
    return counts


# -- contenders (each in its own process) ----------------------------------------------------
def _bank_window() -> tuple[np.datetime64, np.datetime64, np.datetime64]:
    last = np.datetime64(AS_OF) - np.timedelta64(1, "D")
    return last, last - np.timedelta64(365, "D"), last - np.timedelta64(91, "D")


def loom_full(home: Path, out: Path) -> None:
    """Loom: every feature, DuckDB."""
    from loomcredit.pipeline.features.snapshot import build_snapshot
    from loomcredit.pipeline.schemas import LakePaths

    build_snapshot(LakePaths(home), AS_OF, out=out)


def loom_spark(home: Path, out: Path) -> None:
    """Loom: every feature, PySpark local[2]."""
    from loomcredit.pipeline.features.snapshot import build_snapshot
    from loomcredit.pipeline.schemas import LakePaths

    build_snapshot(LakePaths(home), AS_OF, engine="spark", out=out)


def loom_subset(home: Path, out: Path) -> None:
    """Loom: the subset families (scale, invoices, cash) on DuckDB."""
    import ibis

    from loomcredit.pipeline.features import cash, context, invoices, scale
    from loomcredit.pipeline.features.tables import load_tables
    from loomcredit.pipeline.schemas import LakePaths

    con = ibis.duckdb.connect()
    t = load_tables(con, LakePaths(home))
    e = t.enterprise
    expr = e.filter(e.established_on <= AS_OF).select("uscc")
    for fam in (scale, invoices, cash):
        expr = expr.left_join(fam.compute(t, as_of=AS_OF), "uscc").drop("uscc_right")
    table = con.to_pyarrow(expr.select("uscc", *SUBSET))
    _ = context
    pq.write_table(_fill(table), out)


def _fill(table: pa.Table) -> pa.Table:
    import pyarrow.compute as pc

    cols = {"uscc": table.column("uscc")}
    for name in SUBSET:
        col = table.column(name)
        if pa.types.is_integer(col.type) or name.endswith("_fen") or name == "invoices_issued_12m":
            col = pc.fill_null(col.cast(pa.int64()), 0)
        cols[name] = col.cast(pa.float64()) if name.endswith(("_share_12m", "yoy_3m")) else col
    return pa.table(cols).sort_by("uscc")


def pandas_subset(home: Path, out: Path) -> None:
    """(a) The same subset hand-written in pandas."""
    import pandas as pd

    root = home / "lake" / "integrated"
    ent = pd.read_parquet(root / "enterprise", columns=["uscc", "established_on"])
    ent = ent[pd.to_datetime(ent.established_on) <= pd.Timestamp(AS_OF)][["uscc"]]
    m = pd.read_parquet(root / "monthly_activity", columns=[
        "uscc", "month", "sales_fen", "purchases_fen", "invoices_issued", "invoices_void",
        "invoices_red"])  # fmt: skip
    m["month"] = pd.to_datetime(m["month"])
    last = pd.Timestamp(2025, 5, 1)

    def window(count: int, skip: int = 0) -> pd.Series:
        end = last - pd.DateOffset(months=skip)
        return (m.month >= end - pd.DateOffset(months=count - 1)) & (m.month <= end)

    w3, w6, w12, b3 = window(3), window(6), window(12), window(3, 12)
    agg = pd.DataFrame({
        "uscc": m.uscc, "s3": m.sales_fen.where(w3, 0), "s6": m.sales_fen.where(w6, 0),
        "s12": m.sales_fen.where(w12, 0), "b3": m.sales_fen.where(b3, 0),
        "p12": m.purchases_fen.where(w12, 0), "i12": m.invoices_issued.where(w12, 0),
        "v12": m.invoices_void.where(w12, 0), "r12": m.invoices_red.where(w12, 0),
    }).groupby("uscc", sort=False).sum()  # fmt: skip
    res = pd.DataFrame(index=agg.index)
    res["sales_3m_fen"], res["sales_6m_fen"], res["sales_12m_fen"] = agg.s3, agg.s6, agg.s12
    res["sales_yoy_3m"] = (agg.s3 / agg.b3.where(agg.b3 > 0) - 1.0).astype("float64")
    res["purchases_12m_fen"] = agg.p12
    res["invoices_issued_12m"] = agg.i12
    docs = agg.i12 + agg.v12 + agg.r12
    issued = docs.where(docs > 0)
    res["void_share_12m"], res["red_share_12m"] = agg.v12 / issued, agg.r12 / issued
    f = pd.read_parquet(root / "bank_flows", columns=["uscc", "booked_on", "direction",
                                                     "amount_fen"])  # fmt: skip
    f["booked_on"] = pd.to_datetime(f["booked_on"])
    bl, b365, b91 = (pd.Timestamp(x) for x in _bank_window())
    f = f[(f.booked_on <= bl) & (f.booked_on > b365)]
    inflow = f.direction == "in"
    cash = pd.DataFrame({
        "uscc": f.uscc, "i": f.amount_fen.where(inflow, 0),
        "o": f.amount_fen.where(f.direction == "out", 0),
        "i3": f.amount_fen.where(inflow & (f.booked_on > b91), 0),
    }).groupby("uscc", sort=False).sum()  # fmt: skip
    res = res.join(cash, how="outer")
    out_df = ent.merge(res, left_on="uscc", right_index=True, how="left")
    out_df["inflow_12m_fen"] = out_df.pop("i")
    out_df["outflow_12m_fen"] = out_df.pop("o")
    out_df["inflow_3m_fen"] = out_df.pop("i3")
    ints = [c for c in SUBSET if c.endswith("_fen") and c != "net_inflow_12m_fen"]
    ints.append("invoices_issued_12m")
    out_df[ints] = out_df[ints].fillna(0).astype("int64")
    out_df["net_inflow_12m_fen"] = out_df.inflow_12m_fen - out_df.outflow_12m_fen
    table = pa.Table.from_pandas(out_df[["uscc", *SUBSET]], preserve_index=False)
    pq.write_table(_fill(table), out)


SQL = """
WITH pop AS (SELECT uscc FROM read_parquet($ent) WHERE established_on <= DATE '{as_of}'),
m AS (
  SELECT uscc,
    SUM(sales_fen) FILTER (WHERE month BETWEEN DATE '2025-03-01' AND DATE '2025-05-01') AS s3,
    SUM(sales_fen) FILTER (WHERE month BETWEEN DATE '2024-12-01' AND DATE '2025-05-01') AS s6,
    SUM(sales_fen) FILTER (WHERE month BETWEEN {w12}) AS s12,
    SUM(sales_fen) FILTER (WHERE month BETWEEN DATE '2024-03-01' AND DATE '2024-05-01') AS b3,
    SUM(purchases_fen) FILTER (WHERE month BETWEEN {w12}) AS p12,
    SUM(invoices_issued) FILTER (WHERE month BETWEEN {w12}) AS i12,
    SUM(invoices_void) FILTER (WHERE month BETWEEN {w12}) AS v12,
    SUM(invoices_red) FILTER (WHERE month BETWEEN {w12}) AS r12
  FROM read_parquet($ma) WHERE month <= DATE '2025-05-01' GROUP BY uscc),
f AS (
  SELECT uscc,
    SUM(amount_fen) FILTER (WHERE direction = 'in') AS i,
    SUM(amount_fen) FILTER (WHERE direction = 'out') AS o,
    SUM(amount_fen) FILTER (WHERE direction = 'in' AND booked_on > DATE '{b91}') AS i3
  FROM read_parquet($bf) WHERE booked_on <= DATE '{bl}' AND booked_on > DATE '{b365}'
  GROUP BY uscc)
SELECT pop.uscc,
  CAST(COALESCE(s3, 0) AS BIGINT) AS sales_3m_fen, CAST(COALESCE(s6, 0) AS BIGINT) AS sales_6m_fen,
  CAST(COALESCE(s12, 0) AS BIGINT) AS sales_12m_fen,
  CASE WHEN b3 > 0 THEN COALESCE(s3, 0) / b3 - 1 END AS sales_yoy_3m,
  CAST(COALESCE(p12, 0) AS BIGINT) AS purchases_12m_fen,
  CAST(COALESCE(i12, 0) AS BIGINT) AS invoices_issued_12m,
  CASE WHEN i12 + v12 + r12 > 0 THEN v12 / (i12 + v12 + r12) END AS void_share_12m,
  CASE WHEN i12 + v12 + r12 > 0 THEN r12 / (i12 + v12 + r12) END AS red_share_12m,
  CAST(COALESCE(i, 0) AS BIGINT) AS inflow_12m_fen,
  CAST(COALESCE(o, 0) AS BIGINT) AS outflow_12m_fen,
  CAST(COALESCE(i, 0) - COALESCE(o, 0) AS BIGINT) AS net_inflow_12m_fen,
  CAST(COALESCE(i3, 0) AS BIGINT) AS inflow_3m_fen
FROM pop LEFT JOIN m USING (uscc) LEFT JOIN f USING (uscc)
"""


def sql_subset(home: Path, out: Path) -> None:
    """(b) The same subset as one hand-written DuckDB SQL query."""
    import duckdb

    root = home / "lake" / "integrated"
    bl, b365, b91 = (str(x) for x in _bank_window())
    w12 = "DATE '2024-06-01' AND DATE '2025-05-01'"
    query = SQL.format(as_of=AS_OF, bl=bl, b365=b365, b91=b91, w12=w12)
    params = {
        "ent": str(root / "enterprise" / "*.parquet"),
        "ma": str(root / "monthly_activity" / "*.parquet"),
        "bf": str(root / "bank_flows" / "*.parquet"),
    }
    table = duckdb.connect().sql(query, params=params).to_arrow_table()
    pq.write_table(_fill(table), out)


def _child(fn_name: str, home: str, out: str, queue: mp.Queue) -> None:
    # Library imports are not timed (each contender imports only what it uses).
    import duckdb  # noqa: F401

    if fn_name.startswith("loom"):
        import ibis  # noqa: F401

        import loomcredit.pipeline.features.snapshot  # noqa: F401
    if fn_name.startswith("pandas"):
        import pandas  # noqa: F401
    started = time.perf_counter()
    globals()[fn_name](Path(home), Path(out))
    seconds = time.perf_counter() - started
    queue.put((seconds, _peak_rss_mib()))


def _peak_rss_mib() -> float:
    # VmHWM is this process's own high-water mark (ru_maxrss survives fork+exec on Linux and
    # would report the parent's peak).
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_isolated(fn_name: str, home: Path, out: Path) -> tuple[float, float]:
    """Run one contender in a fresh process: (seconds, peak RSS MiB)."""
    ctx = mp.get_context("spawn")
    queue: mp.Queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(fn_name, str(home), str(out), queue))
    proc.start()
    while True:
        try:
            result = queue.get(timeout=1.0)
            break
        except Exception:  # noqa: BLE001 - queue.Empty: keep waiting while the child lives
            if not proc.is_alive():
                return float("nan"), float("nan")
    proc.join()
    return result


# -- checks and lookups ----------------------------------------------------------------------
def agree(a: Path, b: Path) -> str:
    """Compare two subset outputs: exact integers, floats to 1e-9."""
    ta, tb = pq.read_table(a), pq.read_table(b)
    if ta.column("uscc").to_pylist() != tb.column("uscc").to_pylist():
        return "DIFFERENT enterprises"
    for name in SUBSET:
        x = ta.column(name).to_numpy(zero_copy_only=False).astype(float)
        y = tb.column(name).to_numpy(zero_copy_only=False).astype(float)
        if not np.allclose(x, y, rtol=1e-9, atol=1e-9, equal_nan=True):
            return f"DIFFERENT in {name}"
    return "identical"


NEWER = date(2025, 7, 20)  # a decision date after the built snapshot (AS_OF)
LOOKUP_FIRMS = 200


class OldFullStatement:
    """The on-demand path before issue 4, kept here as the baseline: the whole feature expression
    as one prepared DuckDB statement over one enterprise's rows copied into ``cur_*`` tables."""

    PER_ENTERPRISE = ("enterprise", "monthly_activity", "supply_edges", "registry", "tax",
                      "bank_flows", "judicial", "bureau")  # fmt: skip

    def __init__(self, home: Path, as_of: date) -> None:
        import ibis

        from loomcredit.pipeline.features.snapshot import feature_expression
        from loomcredit.pipeline.features.tables import NEEDED, Tables, schema_of
        from loomcredit.pipeline.schemas import LakePaths

        lake = LakePaths(home)
        self.con = ibis.duckdb.connect()
        raw = self.con.con
        opened = {}
        for name, cols in NEEDED.items():
            key = "seller_uscc" if name == "supply_edges" else "uscc"
            order = f" ORDER BY {key}" if key in cols else ""
            select = ", ".join(f'"{c}"' for c in cols)
            files = sorted(str(f) for f in lake.table(name).rglob("*.parquet"))
            raw.execute(f"CREATE TABLE online_{name} AS SELECT {select} FROM read_parquet(?)"
                        f"{order}", [files])  # fmt: skip
            used = f"online_{name}"
            if name == "supply_edges":
                raw.execute("CREATE TABLE online_supply_edges_b AS SELECT * FROM "
                            "online_supply_edges ORDER BY buyer_uscc")  # fmt: skip
                raw.execute("CREATE INDEX edges_b_key ON online_supply_edges_b (buyer_uscc)")
            if name in self.PER_ENTERPRISE:
                raw.execute(f"CREATE INDEX {name}_key ON online_{name} ({key})")
                used = f"cur_{name}"
                raw.execute(f"CREATE TABLE {used} AS SELECT * FROM online_{name} LIMIT 0")
            t = self.con.table(used)
            types = [ibis.dtype(schema_of(name).field(c).type) for c in cols]
            opened[name] = t.select(*[t[c].cast(ty) for c, ty in zip(cols, types, strict=True)])
        sql = str(self.con.compile(feature_expression(Tables(**opened), as_of=as_of)))
        raw.execute(f"PREPARE old_features AS {sql}")
        self.as_of = as_of

    def compute(self, uscc: str) -> dict[str, object]:
        """One enterprise's vector (PageRank left null: not part of the timing)."""
        from loomcredit.pipeline.features.snapshot import finish

        raw = self.con.con
        for name in self.PER_ENTERPRISE:
            raw.execute(f"DELETE FROM cur_{name}")
            key = "seller_uscc" if name == "supply_edges" else "uscc"
            raw.execute(f"INSERT INTO cur_{name} SELECT * FROM online_{name} WHERE {key} = $1",
                        [uscc])  # fmt: skip
        raw.execute("INSERT INTO cur_supply_edges SELECT * FROM online_supply_edges_b "
                    "WHERE buyer_uscc = $1 AND seller_uscc <> $1", [uscc])  # fmt: skip
        out = raw.sql("EXECUTE old_features").to_arrow_table()
        empty = pa.table({"uscc": pa.array([], pa.string()),
                          "network_pagerank": pa.array([], pa.float64())})  # fmt: skip
        return finish(out, empty, as_of=self.as_of).to_pylist()[0] if out.num_rows else {}


def _timed(fn: Callable[[str], object], items: list[str]) -> tuple[list[float], list[object]]:
    lat, out = [], []
    for item in items:
        t0 = time.perf_counter()
        out.append(fn(item))
        lat.append(time.perf_counter() - t0)
    return lat, out


def _cells_differ(want: object, got: object) -> str | None:
    """``None`` if equal (floats to 1e-9); ``"nan"`` for NaN vs null; else ``"value"``."""
    if isinstance(want, float) and math.isnan(want):
        return None if isinstance(got, float) and math.isnan(got) else "nan"
    if isinstance(want, float) and isinstance(got, float):
        return None if math.isclose(want, got, rel_tol=1e-9, abs_tol=1e-9) else "value"
    return None if want == got else "value"


def lookups(home: Path, n: int) -> dict[str, float]:
    """Single-enterprise latency: from the built snapshot, and on demand for a newer date (the
    fast path against the old full statement, same firms), with every value checked against a
    full DuckDB snapshot of the newer date."""
    from loomcredit.pipeline.features.online import OnlineFeatures
    from loomcredit.pipeline.features.snapshot import build_snapshot
    from loomcredit.pipeline.schemas import LakePaths

    rng = np.random.default_rng(3)
    ids = [f"91330603MA{i:08d}" for i in rng.integers(0, n, 2000)]
    store = OnlineFeatures(LakePaths(home))
    started = time.perf_counter()
    store.get(ids[0], AS_OF)
    load_s = time.perf_counter() - started
    snap_lat, _ = _timed(lambda u: store.get(u, AS_OF), ids)
    firms = [f"91330603MA{i:08d}" for i in rng.choice(n, min(n, LOOKUP_FIRMS + 1), replace=False)]
    t0 = time.perf_counter()
    store.compute(firms[0], NEWER)
    first_s = time.perf_counter() - t0
    loadavg = os.getloadavg()[0]
    fast, vectors = _timed(lambda u: store.compute(u, NEWER), firms[1:])
    store.close()
    t0 = time.perf_counter()
    old = OldFullStatement(home, NEWER)
    old.compute(firms[0])
    old_first_s = time.perf_counter() - t0
    slow, _ = _timed(old.compute, firms[1:])
    old.con.disconnect()
    reference = home / "snapshot_newer.parquet"
    build_snapshot(LakePaths(home), NEWER, out=reference)
    full = {r["uscc"]: r for r in pq.read_table(reference).to_pylist()}
    cells = {"value": 0, "nan": 0, "checked": 0}
    for uscc, got in zip(firms[1:], vectors, strict=True):
        want = full.get(uscc, {})
        if want.keys() != got.keys():
            cells["value"] += 1
            continue
        for name in want:
            if name != "network_pagerank":
                cells["checked"] += 1
                kind = _cells_differ(want[name], got[name])
                if kind:
                    cells[kind] += 1
    return {
        "snapshot_load_s": load_s,
        "snapshot_median_us": statistics.median(snap_lat) * 1e6,
        "snapshot_p99_us": float(np.percentile(snap_lat, 99)) * 1e6,
        "firms": len(fast),
        "loadavg": loadavg,
        "demand_first_s": first_s,
        "demand_median_ms": statistics.median(fast) * 1e3,
        "demand_p99_ms": float(np.percentile(fast, 99)) * 1e3,
        "old_first_s": old_first_s,
        "old_median_ms": statistics.median(slow) * 1e3,
        "old_p99_ms": float(np.percentile(slow, 99)) * 1e3,
        "cells_checked": cells["checked"],
        "cells_differ": cells["value"],
        "cells_nan": cells["nan"],
    }


def print_lookups(lat: dict[str, float]) -> None:
    """Print the lookup section."""
    print(f"lookup from snapshot: load {lat['snapshot_load_s']:.2f} s once, then median "
          f"{lat['snapshot_median_us']:.1f} µs, p99 {lat['snapshot_p99_us']:.1f} µs")  # fmt: skip
    print(f"lookup on demand as of {NEWER} (after the snapshot), {lat['firms']:.0f} random firms, "
          f"load average {lat['loadavg']:.1f}:")  # fmt: skip
    print(f"  fast path (per-family SQLite): first {lat['demand_first_s']:.2f} s (load zone + "
          f"compile), then median {lat['demand_median_ms']:.1f} ms, p99 "
          f"{lat['demand_p99_ms']:.1f} ms")  # fmt: skip
    print(f"  old full statement (DuckDB):   first {lat['old_first_s']:.2f} s, then median "
          f"{lat['old_median_ms']:.1f} ms, p99 {lat['old_p99_ms']:.1f} ms")  # fmt: skip
    print(f"  ratio old / fast: median {lat['old_median_ms'] / lat['demand_median_ms']:.1f}×, "
          f"p99 {lat['old_p99_ms'] / lat['demand_p99_ms']:.1f}×")  # fmt: skip
    print(f"  values vs the full DuckDB snapshot as of {NEWER}: {lat['cells_checked']:.0f} cells, "
          f"{lat['cells_differ']:.0f} different, {lat['cells_nan']:.0f} NaN in the snapshot vs "
          "null online (the generator writes NaN steam; SQLite has no NaN)")  # fmt: skip


def main(argv: list[str]) -> int:
    """Run the benchmark and print a table of times, memory and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5,000 enterprises")
    parser.add_argument("--n", type=int, default=None, help="number of enterprises")
    parser.add_argument("--spark", action="store_true", help="also run Loom on PySpark local[2]")
    args = parser.parse_args(argv)
    n = args.n or (5_000 if args.quick else 100_000)
    with tempfile.TemporaryDirectory(prefix="loom-bench-features-") as tmp:
        home = Path(tmp)
        t0 = time.perf_counter()
        counts = generate(home, n)
        print(f"data: {n:,} enterprises × {MONTHS} months, generated in "
              f"{time.perf_counter() - t0:.1f} s: "
              + ", ".join(f"{k} {v:,}" for k, v in counts.items()), flush=True)  # fmt: skip
        runs = [("loom_full", "Loom full snapshot, DuckDB (all features)"),
                ("loom_subset", "Loom subset families, DuckDB"),
                ("pandas_subset", "(a) pandas, same subset by hand"),
                ("sql_subset", "(b) one hand-written DuckDB SQL, same subset")]  # fmt: skip
        if args.spark:
            runs.append(("loom_spark", "Loom full snapshot, PySpark local[2]"))
        results = {}
        for key, label in runs:
            seconds, rss = run_isolated(key, home, home / f"{key}.parquet")
            results[key] = (seconds, rss)
            print(f"  {label:<48} {seconds:8.2f} s  peak {rss:8.0f} MiB", flush=True)
        base = results["loom_subset"][0]
        print(f"ratios (subset): pandas / Loom = {results['pandas_subset'][0] / base:.2f}×, "
              f"hand SQL / Loom = {results['sql_subset'][0] / base:.2f}×")  # fmt: skip
        if "loom_spark" in results:
            print(f"ratio (full): Spark / DuckDB = "
                  f"{results['loom_spark'][0] / results['loom_full'][0]:.2f}×")  # fmt: skip
        sub = home / "loom_subset.parquet"
        print(f"subset values: Loom vs pandas {agree(sub, home / 'pandas_subset.parquet')}, "
              f"Loom vs SQL {agree(sub, home / 'sql_subset.parquet')}")  # fmt: skip
        snap_dir = home / "lake" / "features" / "snapshots" / f"as_of={AS_OF.isoformat()}"
        snap_dir.mkdir(parents=True, exist_ok=True)
        (home / "loom_full.parquet").rename(snap_dir / "part-0.parquet")
        print_lookups(lookups(home, n))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
