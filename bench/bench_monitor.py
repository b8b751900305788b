"""Benchmark post-loan monitoring (issue 12, item 6): ``loom monitor --as-of D`` over N borrowers.

The book is bench_service's seeded one (N accepted applications, N revolving lines, N loans); the
features are a point-in-time snapshot of N enterprises written as Parquet where ``loom features``
puts it and read through the same ``SnapshotFeatureSource`` the monitor uses (its load is timed
with the run). One in 20 firms has tax arrears (amber), one in 50 sales 40 % under last year's
(amber), one in 500 an open enforcement case (red: the line is frozen at once). Timed, on SQLite
and PostgreSQL:

* Loom: ``monitoring.monitor`` for one date (every open line, the house warning rules with their
  calendar adjustment, alerts raised, lines frozen, audit, commit); then the same date again (every
  alert refreshed or left as it is, none raised);
* a hand-written loop a user might write instead (per borrower: its features, the same rules,
  a SELECT for its open alerts, an INSERT per new alert, one transaction), on a slice scaled to N.

With ``--model DIR`` (default: the promoted model under ``$LOOM_HOME/models`` when there is one,
e.g. after ``make demo``) Loom's run also computes the behaviour score of every borrower (the
model's PD in batches of 10,000, the repayment facts from ``loan_days``, the PD-jump rule), as
the wired service does; without a model it says so and runs the rules alone.

Usage: python bench/bench_monitor.py [--quick] [--n N] [--no-pg] [--model DIR]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from bench_service import AUDIT_KEY, PII_KEY, pg_database, seed, uscc_of
from sqlalchemy import Engine, insert, select

from loomcredit.adapters import orm
from loomcredit.adapters.feature_source import SnapshotFeatureSource, snapshot_dir
from loomcredit.adapters.migrations import upgrade_database
from loomcredit.adapters.repositories.alerts import evidence_json
from loomcredit.adapters.scoring_model import ModelScorer
from loomcredit.adapters.sqlalchemy_uow import SqlAlchemyUnitOfWork, make_engine
from loomcredit.adapters.warning_rules import ProfileWarningRules
from loomcredit.service_layer import monitoring
from loomcredit.service_layer.users import Role, User

AS_OF = date(2026, 3, 31)
NOW = datetime(2026, 4, 5, 9, tzinfo=UTC)
RM = User("bench-rm", Role.RISK_MANAGER)
TARGET_S = 60.0
SLICE = 5_000


def write_snapshot(home: Path, n: int) -> None:
    """N enterprises' features as of AS_OF, as ``loom features`` writes them."""
    rows = []
    for i in range(1, n + 1):
        rows.append(
            {
                "uscc": uscc_of(i),
                "as_of": AS_OF,
                "sales_yoy_3m": -0.4 if i % 50 == 0 else 0.05,
                "kwh_yoy_3m": 0.02,
                "headcount_yoy": 0.0,
                "tax_arrears_fen": 500_000 if i % 20 == 0 else 0,
                "judicial_enforcement_open": 1 if i % 500 == 0 else 0,
                "registry_status": "存续",
            }
        )
    folder = snapshot_dir(home, AS_OF)
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), folder / "part-0.parquet")


def run_loom(
    engine: Engine, home: Path, model: ModelScorer | None
) -> tuple[float, float, monitoring.MonitorRun]:
    """Loom's monitor twice for the date: (first s, again s, first run)."""
    times, runs = [], []
    for _ in range(2):
        t0 = time.perf_counter()
        features = SnapshotFeatureSource(home)
        rules = ProfileWarningRules(scorer=model)
        with SqlAlchemyUnitOfWork(engine, PII_KEY, AUDIT_KEY) as uow:
            runs.append(monitoring.monitor(uow, RM, features, rules, as_of=AS_OF, now=NOW))
            uow.commit()
        times.append(time.perf_counter() - t0)
    return times[0], times[1], runs[0]


def hand_loop(engine: Engine, home: Path, k: int) -> tuple[float, int]:
    """The loop a user might write, over the first ``k`` lines; rolled back. (s, alerts)."""
    rules, a = ProfileWarningRules(), orm.alerts
    t0 = time.perf_counter()
    features = SnapshotFeatureSource(home)
    raised = 0
    with engine.connect() as conn:
        trans = conn.begin()
        lines = conn.execute(
            select(orm.credit_lines.c.id, orm.credit_lines.c.uscc)
            .where(orm.credit_lines.c.status != "closed")
            .order_by(orm.credit_lines.c.id)
            .limit(k)
        ).all()
        for line_id, uscc in lines:
            hits = rules.warnings(features.get(uscc, AS_OF), AS_OF)
            if not hits:
                continue
            have = {
                r.rule
                for r in conn.execute(
                    select(a.c.rule).where(a.c.uscc == uscc, a.c.status != "closed")
                )
            }
            for h in hits:
                if h.rule in have:
                    continue
                conn.execute(
                    insert(a).values(
                        uscc=uscc,
                        line_id=line_id,
                        rule=h.rule,
                        level=h.level.value,
                        status="open",
                        evidence_json=evidence_json([h.evidence]),
                        first_seen=AS_OF,
                        last_seen=AS_OF,
                        assignee="bench",
                        raised_at=NOW,
                    )
                )
                raised += 1
        trans.rollback()
    return time.perf_counter() - t0, raised


def bench(url: str, label: str, n: int, model: ModelScorer | None = None) -> None:
    """Seed, snapshot, the hand loop on a slice, then Loom (twice)."""
    with tempfile.TemporaryDirectory(prefix="loom-bench-monitor-") as tmp:
        home = Path(tmp)
        upgrade_database(url)
        engine = make_engine(url)
        book = seed(engine, n)
        write_snapshot(home, n)
        k = min(SLICE, n)
        loop_s, loop_raised = hand_loop(engine, home, k)
        loop_scaled = loop_s * n / k
        first, again, run = run_loom(engine, home, model)
        engine.dispose()
    ok = "ok" if first <= TARGET_S else "MISSED"
    print(f"\n{label}: {n:,} borrowers (seeded in {book.seconds:.1f} s)")
    print(
        f"  Loom monitor, first run: {first:.2f} s ({n / first:,.0f} borrowers/s) — "
        f"{len(run.raised):,} alerts raised, {len(run.lines_frozen):,} lines frozen, "
        f"{run.scored:,} behaviour scores [target ≤ {TARGET_S:.0f} s: {ok}]"
    )
    print(f"  Loom monitor, same date again: {again:.2f} s (nothing raised)")
    print(
        f"  hand loop: {loop_s:.2f} s for {k:,} borrowers ({loop_raised:,} alerts) → "
        f"{loop_scaled:.1f} s for {n:,} scaled; Loom is {loop_scaled / first:.2f}× its speed"
    )


def _model(folder: Path | None) -> ModelScorer | None:
    """The model for the behaviour score: ``folder``, else the promoted one under LOOM_HOME."""
    from loomcredit.config import Settings
    from loomcredit.domain.errors import NotFound

    try:
        model = ModelScorer.load(folder or Settings().models_dir)
    except NotFound as exc:
        print(f"no model ({exc}): the monitor runs without the behaviour score")
        return None
    print(f"behaviour score with model {model.version}")
    return model


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="20,000 borrowers")
    p.add_argument("--n", type=int, default=None, help="borrowers (default 100,000)")
    p.add_argument("--no-pg", action="store_true", help="SQLite only")
    p.add_argument("--model", type=Path, default=None, help="model dir for the behaviour score")
    args = p.parse_args()
    n = args.n or (20_000 if args.quick else 100_000)
    model = _model(args.model)
    with tempfile.TemporaryDirectory(prefix="loom-bench-monitor-db-") as tmp:
        bench(f"sqlite:///{Path(tmp) / 'bench.db'}", "SQLite", n, model)
    if not args.no_pg:
        try:
            with pg_database("loom_bench_monitor") as url:
                bench(url, "PostgreSQL", n, model)
        except Exception as exc:  # noqa: BLE001 - report and go on, as the other benches do
            print(f"\nPostgreSQL skipped: {exc}")


if __name__ == "__main__":
    main()
