"""Ingest throughput: `loom ingest` vs a straightforward pandas read-validate-write, same files.

Simulates a cluster with the simulator (or takes ``--feed``), then runs each side in its own
process and reports wall time, rows per second and peak RSS side by side:

- **loom**: :func:`loomcredit.pipeline.ingest.ingest` (validation, normalisation, de-duplication,
  consent gate, entity resolution, news events, PII encryption, derived tables, quality report);
- **pandas**: per file ``read_parquet`` → per-row USCC check, required fields, ranges, future
  dates, ``duplicated`` on the natural key → write accepted and rejected rows to Parquet. It does
  less work (no consent, no entity resolution, no derived tables, no report).

    python bench/bench_ingest.py                 # 10,000 enterprises × 36 months
    python bench/bench_ingest.py --quick         # 500 × 12
    python bench/bench_ingest.py --enterprises 100000 --months 36
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_loom(feed: Path, home: Path, as_of_day: date) -> dict[str, float]:
    """One ingest of the feed into a fresh lake."""
    from loomcredit.pipeline.ingest import LakePaths, ingest

    began = time.perf_counter()
    summary = ingest(feed, LakePaths(home), pii_key=bytes(range(32)), as_of=as_of_day)
    return {
        "seconds": time.perf_counter() - began,
        "rows": summary.rows_in,
        "accepted": summary.accepted,
        "peak_mb": _peak_mb(),
    }


def run_pandas(feed: Path, home: Path, as_of_day: date) -> dict[str, float]:
    """What a user would write with pandas: read, check row by row, drop duplicates, write."""
    import pandas as pd

    from loomcredit.domain.identity import is_valid_uscc
    from loomcredit.pipeline.schemas import NATURAL_KEYS, RAW_SCHEMAS, ROW_DATE

    began = time.perf_counter()
    as_of = pd.Timestamp(as_of_day)
    rows = accepted = 0
    raw = feed / "raw" if (feed / "raw").is_dir() else feed
    for source in RAW_SCHEMAS:
        for n, path in enumerate(sorted((raw / source).glob("*.parquet"))):
            df = pd.read_parquet(path)
            rows += len(df)
            bad = pd.Series(False, index=df.index)
            for col in ("uscc", "seller_uscc"):
                if col in df:
                    bad |= ~df[col].map(lambda v: isinstance(v, str) and is_valid_uscc(v))
            for col in ("buyer_uscc", "counterparty_uscc"):
                if col in df:
                    bad |= df[col].notna() & ~df[col].map(lambda v: v is None or is_valid_uscc(v))
            for col in ("amount_fen", "due_fen", "kwh", "insured_headcount"):
                if col in df:
                    bad |= df[col].isna() | (df[col] < 0)
            text = df[ROW_DATE[source]].astype(str).str[:10]
            if source == "tax":
                text = text.str[:7] + "-01"
            bad |= pd.to_datetime(text, errors="coerce") > as_of
            bad |= df.duplicated(subset=list(NATURAL_KEYS[source]), keep="first")
            out = home / "integrated" / source
            out.mkdir(parents=True, exist_ok=True)
            df[~bad].to_parquet(out / f"part-{n:05d}.parquet", index=False)
            quarantine = home / "quarantine" / source
            quarantine.mkdir(parents=True, exist_ok=True)
            df[bad].to_parquet(quarantine / f"part-{n:05d}.parquet", index=False)
            accepted += int((~bad).sum())
    return {
        "seconds": time.perf_counter() - began,
        "rows": rows,
        "accepted": accepted,
        "peak_mb": _peak_mb(),
    }


def _side(name: str, feed: Path, home: Path, as_of: date) -> dict[str, float]:
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--side",
            name,
            "--feed",
            str(feed),
            "--home",
            str(home),
            "--as-of",
            as_of.isoformat(),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _simulate(out: Path, enterprises: int, months: int, seed: int) -> float:
    from loomcredit.pipeline.simulate import SimulationConfig, simulate

    began = time.perf_counter()
    simulate(SimulationConfig(enterprises=enterprises, months=months, seed=seed), out)
    return time.perf_counter() - began


def _feed_date(feed: Path) -> date:
    import duckdb

    from loomcredit.pipeline.ingest.readers import discover
    from loomcredit.pipeline.ingest.run import infer_as_of

    return infer_as_of(duckdb.connect(), discover(feed))


def main(argv: list[str]) -> int:
    """Parse options, build or take the feed, run both sides, print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="500 enterprises × 12 months")
    parser.add_argument("--feed", type=Path, help="ingest this feed instead of simulating one")
    parser.add_argument(
        "--sides", default="pandas,loom", help="comma-separated sides to run (pandas,loom)"
    )
    parser.add_argument("--side", choices=["loom", "pandas"], help=argparse.SUPPRESS)
    parser.add_argument("--home", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--as-of", type=date.fromisoformat, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.side:
        runner = run_loom if args.side == "loom" else run_pandas
        print(json.dumps(runner(args.feed, args.home, args.as_of)))
        return 0
    if args.quick:
        args.enterprises, args.months = 500, 12
    work = Path(tempfile.mkdtemp(prefix="bench_ingest_"))
    try:
        feed = args.feed
        if feed is None:
            feed = work / "feed"
            took = _simulate(feed, args.enterprises, args.months, args.seed)
            print(
                f"simulated {args.enterprises:,} enterprises × {args.months} months in {took:.1f} s"
            )
        size = sum(p.stat().st_size for p in feed.rglob("*.parquet") if "truth" not in p.parts)
        print(f"feed: {feed} ({size / 2**20:,.0f} MiB of Parquet)")
        as_of = _feed_date(feed)
        sides = [name for name in ("pandas", "loom") if name in args.sides.split(",")]
        results = {name: _side(name, feed, work / name, as_of) for name in sides}
        print(f"as of {as_of}")
        header = ("side", "rows", "accepted", "seconds", "rows/s", "peak MiB")
        print("{:8} {:>12} {:>12} {:>9} {:>11} {:>9}".format(*header))
        for name, r in results.items():
            print(
                f"{name:8} {int(r['rows']):>12,} {int(r['accepted']):>12,} {r['seconds']:>9.1f} "
                f"{r['rows'] / r['seconds']:>11,.0f} {r['peak_mb']:>9,.0f}"
            )
        if len(results) < 2:
            return 0
        loom, pdx = results["loom"], results["pandas"]
        print(
            f"ratio loom/pandas: time {loom['seconds'] / pdx['seconds']:.2f}×, "
            f"throughput {pdx['seconds'] / loom['seconds']:.2f}×, "
            f"peak memory {loom['peak_mb'] / pdx['peak_mb']:.2f}×"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    sys.exit(main(sys.argv[1:]))
