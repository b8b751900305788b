"""Benchmark one day's new invoices (issue 12, item 6): the day's VAT invoices of every consented
firm of the cluster taken into the lake as one batch and the borrowers among them re-monitored,
against what a user would do without it — re-ingest the whole feed with the day's file in it,
then monitor the book.

A cluster is simulated and ingested (default 20,000 firms × 24 months; ``--quick`` 2,000); credit
lines are opened for up to ``--borrowers`` firms with a live post-loan consent (the typed fake
decider, as in the tests). The day is the one after the feed ends: every firm with a live
post-loan consent issues 1–3 invoices that day (obtained the same day, a daily feed from the
tax system). Timed, in the same run:

* Loom: ``intake.receive`` of the day's batch (validation, consent gate, appended to the
  integrated zone with the derived tables of the month it touches) and the monitor over the
  borrowers it touched;
* instead: ``ingest`` of the whole feed with the day's file added, into a fresh lake, then
  ``monitoring.monitor`` over every borrower as of the same day.

Target: Loom in ≤ 10 % of the time of the full re-ingest. Both sides grow with the number of
firms (the batch has a few rows per firm, the feed ~24 months of them), so the ratio measured at
20,000 firms is what 100,000 would show; ``--firms 100000`` runs the issue's size (≈ an hour here).

Usage: python bench/bench_invoice_day.py [--quick] [--firms N] [--borrowers N]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from bench_watch import consented, open_lines, reingest_and_monitor

from loomcredit.bootstrap.service import build_service
from loomcredit.config import Settings
from loomcredit.pipeline.ingest import LakePaths, ingest
from loomcredit.pipeline.schemas import RAW_SCHEMAS
from loomcredit.pipeline.simulate.config import SimulationConfig
from loomcredit.pipeline.simulate.run import simulate
from loomcredit.service_layer import intake
from loomcredit.service_layer.users import Role, User

OPS = User("bench-ops", Role.OPERATIONS)
TARGET_SHARE = 0.10
PII = b"b" * 32


def day_invoices(sellers: list[str], buyers: list[str], day: datetime, seed: int = 11) -> pa.Table:
    """1–3 invoices issued and obtained on ``day`` by each seller, to random buyers."""
    rnd = random.Random(seed)
    rows = []
    for k, seller in enumerate(sellers):
        for j in range(rnd.randint(1, 3)):
            amount = rnd.randint(20_000, 2_000_000) * 100
            rows.append({
                "invoice_id": f"D{day:%Y%m%d}{k:06d}{j}", "seller_uscc": seller,
                "buyer_uscc": rnd.choice(buyers), "issued_on": day.date(),
                "amount_fen": amount, "tax_fen": amount * 13 // 100, "status": "normal",
                "obtained_on": day.date(),
            })  # fmt: skip
    return pa.Table.from_pylist(rows, schema=RAW_SCHEMAS["invoices"])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="2,000 firms × 24 months")
    p.add_argument("--firms", type=int, default=None, help="firms (default 20,000)")
    p.add_argument("--borrowers", type=int, default=1000, help="lines opened (default 1,000)")
    args = p.parse_args()
    firms = args.firms or (2000 if args.quick else 20_000)
    months, start = 24, "2024-01"
    with tempfile.TemporaryDirectory(prefix="loom-bench-invoice-day-") as tmp:
        home = Path(tmp) / "home"
        t0 = time.perf_counter()
        simulate(SimulationConfig(enterprises=firms, months=months, start=start, seed=7),
                 home / "lake")  # fmt: skip
        sim_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        summary = ingest(home / "lake", LakePaths(home), pii_key=PII)
        ingest_s = time.perf_counter() - t0
        day = datetime.fromisoformat(summary.as_of).replace(hour=20, tzinfo=UTC)
        day += timedelta(days=1)
        svc = build_service(Settings(home=home), decider=_decider())
        svc.pii_key = PII
        live = consented(home, firms, day, scope="invoices")
        borrowers = live[: args.borrowers]
        open_lines(svc, borrowers, day)
        table = day_invoices(live, live, day)
        buf = pa.BufferOutputStream()
        pq.write_table(table, buf)
        batch = intake.Batch("invoices", buf.getvalue().to_pybytes(), "invoices-day.parquet")
        features, rules = svc.monitoring()

        t0 = time.perf_counter()
        with svc.uow() as uow:
            got = intake.receive(uow, OPS, svc.intake(), batch, features, rules, now=day)
        loom_s = time.perf_counter() - t0
        t = got.taken

        feed = home / "lake"
        pq.write_table(table, feed / "raw" / "invoices" / "part-day.parquet")
        full_s, run = reingest_and_monitor(svc, feed, Path(tmp) / "fresh", day)
        svc.engine.dispose()
    share = loom_s / full_s
    ok = "ok" if share <= TARGET_SHARE and t.accepted else "MISSED"
    monitored = got.monitored.borrowers if got.monitored else 0
    print(f"cluster: {firms:,} firms × {months} months (simulated in {sim_s:.1f} s, ingested in "
          f"{ingest_s:.1f} s), {len(borrowers):,} borrowers with a line")  # fmt: skip
    print(f"  Loom: the day's {t.received:,} invoices of {len(live):,} firms → {t.accepted:,} "
          f"taken ({t.quarantined} quarantined), {len(t.touched):,} firms touched, {monitored:,} "
          f"borrowers re-monitored: {loom_s:.2f} s")  # fmt: skip
    print(f"  instead: re-ingest the whole feed with the day's file, then monitor the book: "
          f"{full_s:.2f} s ({run.borrowers:,} borrowers) → Loom takes {100 * share:.1f} % of "
          f"that time [target ≤ {100 * TARGET_SHARE:.0f} %: {ok}]")  # fmt: skip


def _decider():  # type: ignore[no-untyped-def]
    from tests.fakes import FakeDecider

    return FakeDecider()


if __name__ == "__main__":
    main()
