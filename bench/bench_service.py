"""Benchmark the lending service.

1. End of day for N active loans (default 100,000; 12 instalments each, one in ten in arrears) on
   SQLite and PostgreSQL: Loom's set-based EOD (DPD, bucket, grade, normal and penalty accrual,
   income recognised, one accrual entry per loan, reminders) vs the loan-by-loan loop a user
   would otherwise write (same rows, same figures and entries; the loop runs on a slice and its
   rate is compared).
2. Repayments per second through the HTTP API (uvicorn on loopback, client in a second process),
   vs. direct service calls in-process.
3. p50/p99 latency of creating an application (decision included) under concurrent load from a
   second process on loopback.

Usage: python bench/bench_service.py [--quick] [--loans N] [--no-pg] [--eod-only]
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert, select, text, update

from loomcredit.adapters import orm
from loomcredit.adapters.repositories import eod_sql
from loomcredit.adapters.sqlalchemy_uow import SqlAlchemyUnitOfWork, make_engine
from loomcredit.bootstrap.service import upgrade_database
from loomcredit.service_layer import eod
from loomcredit.service_layer.users import Role, User

E8 = 100_000_000
CATCH_UP = 7  # days of end of day missed and caught up in one request
PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
AS_OF = date(2026, 3, 10)
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def seed(engine, n: int) -> None:
    """N active loans, 12 monthly instalments; one in ten missed its first two instalments."""
    rng = random.Random(1)
    start = date(2026, 1, 5)
    with engine.begin() as conn:
        conn.execute(
            insert(orm.applications),
            [
                {
                    "id": i,
                    "uscc": f"9133060300000{i:05d}"[:18],
                    "amount_fen": 10_000_000,
                    "currency": "CNY",
                    "term_months": 12,
                    "method": "annuity",
                    "status": "disbursed",
                    "band": "auto_approve",
                    "annual_rate": "0.045",
                    "penalty_uplift": "0.5",
                    "decision_json": "{}",
                    "created_by": "b",
                    "updated_by": "b",
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for i in range(1, n + 1)
            ],
        )
        conn.execute(
            insert(orm.loans),
            [
                {
                    "id": i,
                    "application_id": i,
                    "disbursement_key": f"k{i}",
                    "uscc": f"9133060300000{i:05d}"[:18],
                    "principal_fen": 10_000_000,
                    "currency": "CNY",
                    "annual_rate": "0.045",
                    "rate_ppm": 45_000,
                    "penalty_uplift": "0.5",
                    "uplift_pct": 50,
                    "method": "annuity",
                    "start_date": start,
                    "status": "active",
                    "outstanding_fen": 10_000_000,
                    "disbursed_at": NOW,
                }
                for i in range(1, n + 1)
            ],
        )
        batch = []
        for i in range(1, n + 1):
            late = rng.random() < 0.1
            for k in range(1, 13):
                due = _month(start, k)
                paid = due < AS_OF and not (late and k <= 2)
                batch.append(
                    {
                        "loan_id": i,
                        "number": k,
                        "due_on": due,
                        "principal_fen": 833_333,
                        "interest_fen": 37_500,
                        "principal_paid_fen": 833_333 if paid else 0,
                        "interest_paid_fen": 37_500 if paid else 0,
                    }
                )
            if len(batch) >= 60_000:
                conn.execute(insert(orm.installments), batch)
                batch = []
        if batch:
            conn.execute(insert(orm.installments), batch)


def _month(d: date, k: int) -> date:
    m = d.month - 1 + k
    return date(d.year + m // 12, m % 12 + 1, d.day)


def naive_eod(engine, as_of: date, limit: int) -> int:
    """What a user would write: loop over loans, read instalments, compute, update one by one."""
    done = 0
    with engine.begin() as conn:
        ids = [
            r[0]
            for r in conn.execute(
                select(orm.loans.c.id).where(orm.loans.c.status == "active").limit(limit)
            )
        ]
        for loan_id in ids:
            loan = conn.execute(select(orm.loans).where(orm.loans.c.id == loan_id)).mappings().one()
            insts = (
                conn.execute(select(orm.installments).where(orm.installments.c.loan_id == loan_id))
                .mappings()
                .all()
            )
            unpaid = [
                i
                for i in insts
                if i["due_on"] < as_of
                and (
                    i["principal_paid_fen"] < i["principal_fen"]
                    or i["interest_paid_fen"] < i["interest_fen"]
                )
            ]
            dpd = (as_of - min(i["due_on"] for i in unpaid)).days if unpaid else 0
            owed = sum(
                i["principal_fen"]
                - i["principal_paid_fen"]
                + i["interest_fen"]
                - i["interest_paid_fen"]
                for i in unpaid
            )
            acc = owed * loan["rate_ppm"] * (100 + loan["uplift_pct"]) // 360
            due = [i for i in insts if i["due_on"] <= as_of]
            not_due = loan["outstanding_fen"] - sum(
                i["principal_fen"] - i["principal_paid_fen"] for i in due
            )
            normal = not_due * loan["rate_ppm"] * 100 // 360
            period = normal + (
                0 if any(i["due_on"] == as_of for i in due) else loan["accrued_interest_e8"]
            )
            recognised = sum(i["interest_fen"] for i in due) + (period + E8 // 2) // E8
            interest = recognised - loan["interest_recognised_fen"]
            pen_total = loan["accrued_penalty_e8"] + acc
            penalty = (pen_total + E8 // 2) // E8 - loan["penalty_recognised_fen"]
            if dpd > 90:  # non-accrual: unpaid income reversed, nothing new recognised
                interest = loan["interest_received_fen"] - loan["interest_recognised_fen"]
                recognised = loan["interest_received_fen"]
                penalty = loan["penalty_paid_fen"] - loan["penalty_recognised_fen"]
            conn.execute(
                update(orm.loans)
                .where(orm.loans.c.id == loan_id)
                .values(
                    dpd=dpd,
                    accrued_penalty_e8=pen_total,
                    accrued_interest_e8=period,
                    interest_recognised_fen=recognised,
                    penalty_recognised_fen=loan["penalty_recognised_fen"] + penalty,
                )
            )
            if interest or penalty:
                entry = f"naive-{loan_id}-{as_of.isoformat()}"
                conn.execute(
                    insert(orm.journal_entries).values(
                        id=entry, loan_id=loan_id, booked_on=as_of, description="accrual"
                    )
                )
                legs = [
                    ("INTEREST_RECEIVABLE", interest),
                    ("INTEREST_INCOME", -interest),
                    ("PENALTY_RECEIVABLE", penalty),
                    ("PENALTY_INCOME", -penalty),
                ]
                conn.execute(
                    insert(orm.postings),
                    [
                        {"entry_id": entry, "account": a, "amount_fen": f, "currency": "CNY"}
                        for a, f in legs
                        if f
                    ],
                )
            done += 1
    return done


def bench_eod(url: str, label: str, n: int) -> None:
    """Seed, then time set-based EOD on all N and the naive loop on a slice."""
    upgrade_database(url)
    engine = make_engine(url)
    t0 = time.perf_counter()
    seed(engine, n)
    seeded = time.perf_counter() - t0
    t0 = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(insert(orm.eod_runs).values(as_of=AS_OF, loans=0, finished_at=NOW))
        counts = eod_sql(conn, AS_OF)
    loom = time.perf_counter() - t0
    with engine.connect() as conn:
        late = conn.execute(text("SELECT COUNT(*) FROM loans WHERE dpd > 0")).scalar_one()
    t0 = time.perf_counter()
    with SqlAlchemyUnitOfWork(engine) as uow:
        caught = eod.run_eod(uow, User("bench", Role.ADMIN), AS_OF + timedelta(CATCH_UP), now=NOW)
    catch_up = time.perf_counter() - t0
    slice_n = min(n, 5_000)
    t0 = time.perf_counter()
    naive_eod(engine, AS_OF + timedelta(days=CATCH_UP + 1), slice_n)
    naive = (time.perf_counter() - t0) / slice_n * n
    engine.dispose()
    print(
        f"{label:10s} EOD {n:,} loans (seeded in {seeded:.1f} s): Loom set-based {loom:.2f} s "
        f"({counts['loans']:,} loan-days, {late:,} in arrears); loan-by-loan loop ≈ {naive:.1f} s "
        f"(timed on {slice_n:,}) → {naive / loom:.1f}x; catch-up of {caught['days_run']} skipped "
        f"days {catch_up:.1f} s ({catch_up / caught['days_run']:.2f} s a day, each committed)",
        flush=True,
    )


def free_port() -> int:
    """An unused loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


SERVER = """
import sys, uvicorn
from loomcredit.bootstrap.service import build_service, add_user
from loomcredit.config import Settings
from loomcredit.entrypoints.api.app import create_app
svc = build_service(Settings(home=sys.argv[1]), secret="bench-secret-bench-secret-bench!",
                    real_decider=sys.argv[4] == "engine")
print("decider:", getattr(svc.decider, "__name__", type(svc.decider).__name__), flush=True)
for name, role in (("off", "officer"), ("rev", "reviewer")):
    add_user(svc, name, role, "bench-pass-1")
add_user(svc, "firm", "applicant", "bench-pass-1", sys.argv[3])
uvicorn.run(create_app(service=svc), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""

#: Enterprises and months of the cluster the decision engine is trained on for the API bench.
ENGINE_CLUSTER = ("300", "24")

CLIENT = """
import json, sys, time, random, statistics
from concurrent.futures import ThreadPoolExecutor
import httpx
from loomcredit.domain.identity import generate_uscc
base, n_apps, n_rep, workers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
cluster = sys.argv[5].split(",") if len(sys.argv) > 5 and sys.argv[5] else []
as_of = sys.argv[6] if len(sys.argv) > 6 else ""
rng = random.Random(5)
with httpx.Client(base_url=base, timeout=60) as c:
    cred = {"username": "off", "password": "bench-pass-1"}
    tok = c.post("/api/v1/auth/token", json=cred).json()["access_token"]
h = {"Authorization": f"Bearer {tok}"}
usccs = ([rng.choice(cluster) for _ in range(n_apps)] if cluster
         else [generate_uscc("330603", rng) for _ in range(n_apps)])
def create(u):
    with httpx.Client(base_url=base, timeout=60) as c:
        t = time.perf_counter()
        amount = {"amount": "200000.00", "currency": "CNY"}
        body = {"uscc": u, "amount": amount, "term_months": 12}
        if as_of:
            body["as_of"] = as_of
        r = c.post("/api/v1/applications", headers=h, json=body)
        assert r.status_code == 201, r.text
        return time.perf_counter() - t
first = create(usccs[0])  # warm-up: the service loads the model and the feature zone once
t0 = time.perf_counter()
with ThreadPoolExecutor(workers) as pool:
    lat = sorted(pool.map(create, usccs))
wall = time.perf_counter() - t0
p99 = lat[int(0.99 * (len(lat) - 1))]
print(json.dumps({"first": first, "p50": statistics.median(lat), "p99": p99,
                  "rate": len(lat) / wall}))
"""


def bench_api(quick: bool, engine: bool = True, db_url: str | None = None) -> None:
    """Start uvicorn on loopback; drive it from a second process.

    With ``engine`` (the default) the service decides with the real decision engine: a small
    cluster is simulated, ingested, profiled and a model trained by ``loom demo --no-serve``
    first, and the applications come from that cluster's enterprises (features, score, price
    and limit on every request); without it, the fallback rules decide. ``db_url`` runs the
    service on that database (PostgreSQL) instead of the SQLite file in the bench's home.
    """
    home = Path(tempfile.mkdtemp(prefix="loom-bench-api-"))
    port = free_port()
    env = {**os.environ, "LOOM_DATABASE_URL": ""}
    env.pop("LOOM_DATABASE_URL")
    from loomcredit.domain.identity import generate_uscc

    firm_uscc = generate_uscc("330603", random.Random(99))
    cluster: list[str] = []
    as_of = ""
    if engine:
        t0 = time.perf_counter()
        firms, months = ENGINE_CLUSTER
        subprocess.run(
            [
                str(Path(sys.executable).with_name("loom")),
                "demo",
                "--enterprises",
                firms,
                "--months",
                months,
                "--no-serve",
            ],
            env={**env, "LOOM_HOME": str(home)},
            check=True,
            capture_output=True,
        )
        import duckdb

        snapshots = sorted((home / "lake" / "features" / "snapshots").glob("as_of=*"))
        subprocess.run(
            [
                str(Path(sys.executable).with_name("loom")),
                "decide",
                "--all",
                "--as-of",
                snapshots[-1].name.removeprefix("as_of="),
            ],
            env={**env, "LOOM_HOME": str(home)},
            check=True,
            capture_output=True,
        )
        folder = home / "lake" / "decisions"
        rows = duckdb.sql(
            f"SELECT uscc, band FROM read_parquet('{folder}/**/*.parquet')"
        ).fetchall()
        cluster = [r[0] for r in rows]
        firm_uscc = next(r[0] for r in rows if r[1] == "auto_approve")
        print(f"(engine: {firms} × {months} cluster built in {time.perf_counter() - t0:.0f} s)")
        if db_url:  # decide as of the demo book's business date, as the SQLite run does
            import sqlite3

            with sqlite3.connect(home / "loom.db") as demo_db:
                last = demo_db.execute("SELECT MAX(as_of) FROM eod_runs").fetchone()[0]
            as_of = (date.fromisoformat(last) + timedelta(days=1)).isoformat()
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            SERVER,
            str(home),
            str(port),
            firm_uscc,
            "engine" if engine else "rules",
        ],
        env={**env, "LOOM_DATABASE_URL": db_url} if db_url else env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(base + "/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        import json

        runs = ((50, 1), (100, 4)) if quick else ((300, 1), (1000, 8))
        for n_apps, workers in runs:
            out = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    CLIENT,
                    base,
                    str(n_apps),
                    "0",
                    str(workers),
                    ",".join(cluster),
                    as_of,
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            res = json.loads(out.stdout.strip().splitlines()[-1])
            print(
                f"API create application ({'decision engine' if engine else 'fallback rules'} "
                f"incl., {'PostgreSQL' if db_url else 'SQLite'}), {n_apps} from a 2nd process, "
                f"{workers} concurrent: "
                f"p50 {res['p50'] * 1000:.1f} ms, p99 {res['p99'] * 1000:.1f} ms, "
                f"{res['rate']:.0f}/s (after one warm-up request of {res['first'] * 1000:.0f} ms)",
                flush=True,
            )
        bench_repayments(
            base, firm_uscc, 200 if quick else 2000, "PostgreSQL" if db_url else "SQLite", as_of
        )
    finally:
        server.terminate()
        server.wait(10)


def bench_repayments(base: str, uscc: str, n: int, db: str = "SQLite", as_of: str = "") -> None:
    """One loan; n repayments of ¥1.00 through the API (distinct Idempotency-Keys), serially."""
    with httpx.Client(base_url=base, timeout=60) as c:

        def tok(u: str) -> dict[str, str]:
            t = c.post(
                "/api/v1/auth/token", json={"username": u, "password": "bench-pass-1"}
            ).json()
            return {"Authorization": f"Bearer {t['access_token']}"}

        off, firm, rev = tok("off"), tok("firm"), tok("rev")
        body = {
            "uscc": uscc,
            "amount": {"amount": "300000.00", "currency": "CNY"},
            "term_months": 12,
            **({"as_of": as_of} if as_of else {}),
        }
        app = c.post("/api/v1/applications", headers=off, json=body).json()
        if app["status"] == "in_review":
            verdict = {"verdict": "approve", "comment": "bench"}
            c.post(f"/api/v1/applications/{app['id']}/review", headers=rev, json=verdict)
        c.post(f"/api/v1/applications/{app['id']}/accept", headers=firm, json={}).raise_for_status()
        loan = c.post(
            f"/api/v1/applications/{app['id']}/disburse",
            json={},
            headers={**off, "Idempotency-Key": "bench-disb"},
        ).json()
        pay = {"amount": {"amount": "1.00", "currency": "CNY"}}
        t0 = time.perf_counter()
        for k in range(n):
            r = c.post(
                f"/api/v1/loans/{loan['id']}/repayments",
                json=pay,
                headers={**off, "Idempotency-Key": f"bench-rep-{k}"},
            )
            r.raise_for_status()
        rate = n / (time.perf_counter() - t0)
    print(
        f"API repayments: {n} serial from a 2nd process on loopback: {rate:.0f}/s "
        f"({1000 / rate:.1f} ms each, {db}, each one committed and audited)",
        flush=True,
    )


def main() -> None:
    """Parse options and run."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small sizes")
    ap.add_argument(
        "--loans", type=int, default=None, help="loans for the EOD benchmark (default 100000)"
    )
    ap.add_argument("--no-pg", action="store_true", help="skip PostgreSQL")
    ap.add_argument("--eod-only", action="store_true", help="only the end-of-day benchmark")
    ap.add_argument("--api-only", action="store_true", help="only the API benchmarks")
    ap.add_argument(
        "--api-pg", action="store_true", help="also run the API benchmarks on PostgreSQL"
    )
    ap.add_argument(
        "--rules", action="store_true", help="decide with the fallback rules, not the engine"
    )
    args = ap.parse_args()
    if not args.api_only:
        n = args.loans or (5_000 if args.quick else 100_000)
        with tempfile.TemporaryDirectory() as tmp:
            bench_eod(f"sqlite:///{Path(tmp) / 'eod.db'}", "SQLite", n)
        if not args.no_pg:
            import psycopg

            name = f"loom_bench_{os.getpid()}"
            with psycopg.connect(PG_ADMIN, autocommit=True) as c:
                c.execute(f'CREATE DATABASE "{name}"')
            try:
                bench_eod(f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", "PostgreSQL", n)
            finally:
                with psycopg.connect(PG_ADMIN, autocommit=True) as c:
                    c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if not args.eod_only:
        bench_api(args.quick, engine=not args.rules)
        if args.api_pg:
            import psycopg

            name = f"loom_bench_api_{os.getpid()}"
            with psycopg.connect(PG_ADMIN, autocommit=True) as c:
                c.execute(f'CREATE DATABASE "{name}"')
            try:
                url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
                bench_api(args.quick, engine=not args.rules, db_url=url)
            finally:
                with psycopg.connect(PG_ADMIN, autocommit=True) as c:
                    c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
