"""Benchmark `loom simulate`: rows per second and peak memory as the cluster grows.

Each run is a child process whose resident memory is sampled with psutil every 50 ms. Loom writes
in chunks of enterprises; the comparison is the straightforward way, generating every row in
memory first and writing at the end (the same generator with one chunk of all enterprises), which
is what a user writing a simulator with pandas/numpy would get. Peak memory of the chunked run
should stay nearly flat as N grows; the all-at-once run grows with N.

    python bench/bench_simulate.py            # 1k, 10k, 100k × 36 months (all-at-once up to 10k)
    python bench/bench_simulate.py --quick    # 500, 2k × 12 months, chunks of 250
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

CHILD = """
import json, sys
from pathlib import Path
from loomcredit.pipeline.simulate import SimulationConfig, simulate
n, months, chunk, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
s = simulate(SimulationConfig(enterprises=n, months=months, seed=7, chunk_size=chunk), out)
print(json.dumps({"rows": s.total_rows, "invoices": s.rows["invoices"], "seconds": s.seconds,
                  "defaults": s.defaults}))
"""


def run_child(n: int, months: int, chunk: int, out: Path) -> dict[str, float]:
    """Run one simulation in a child process; return its figures and peak RSS in MiB."""
    began = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(n), str(months), str(chunk), str(out)],
        stdout=subprocess.PIPE,
        text=True,
    )
    watched = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            peak = max(peak, watched.memory_info().rss)
        except psutil.NoSuchProcess:
            break
        time.sleep(0.05)
    stdout, _ = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"child failed for n={n}, chunk={chunk}")
    result = json.loads(stdout.strip().splitlines()[-1])
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    result.update(peak_mib=peak / 2**20, wall=time.perf_counter() - began, mib_on_disk=size / 2**20)
    return result


def main() -> int:
    """Run the benchmark and print a table with ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, a few seconds")
    parser.add_argument("--sizes", type=int, nargs="*", help="enterprise counts")
    parser.add_argument("--months", type=int, help="months per run")
    parser.add_argument("--naive-max", type=int, help="largest N for the all-at-once run")
    args = parser.parse_args()
    sizes = args.sizes or ([500, 2000] if args.quick else [1000, 10_000, 100_000])
    months = args.months or (12 if args.quick else 36)
    naive_max = args.naive_max if args.naive_max is not None else (2000 if args.quick else 10_000)
    chunk = 250 if args.quick else 1000

    print(f"loom simulate · {months} months · chunk {chunk} enterprises · seed 7")
    header = (
        f"{'N':>8} {'mode':<13} {'rows':>12} {'invoices':>11} {'seconds':>8} "
        f"{'rows/s':>10} {'peak MiB':>9} {'disk MiB':>9}"
    )
    print(header)
    results: dict[tuple[int, str], dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench_sim_") as tmp:
        for n in sizes:
            modes = [("chunked", chunk)]
            if n <= naive_max:
                modes.append(("all-at-once", n))
            for mode, size in modes:
                out = Path(tmp) / f"{n}_{mode}"
                r = run_child(n, months, size, out)
                shutil.rmtree(out, ignore_errors=True)
                results[n, mode] = r
                print(
                    f"{n:>8} {mode:<13} {int(r['rows']):>12,} {int(r['invoices']):>11,} "
                    f"{r['seconds']:>8.1f} {r['rows'] / r['seconds']:>10,.0f} "
                    f"{r['peak_mib']:>9.0f} {r['mib_on_disk']:>9.0f}",
                    flush=True,
                )
    print()
    smallest = results[sizes[0], "chunked"]
    for n in sizes[1:]:
        r = results[n, "chunked"]
        print(
            f"chunked N={n:,} vs N={sizes[0]:,}: {n / sizes[0]:.0f}x enterprises, "
            f"{r['rows'] / smallest['rows']:.1f}x rows, "
            f"peak memory {r['peak_mib'] / smallest['peak_mib']:.2f}x"
        )
    for n in sizes:
        if (n, "all-at-once") in results:
            naive, loom = results[n, "all-at-once"], results[n, "chunked"]
            ratio = naive["peak_mib"] / loom["peak_mib"]
            print(
                f"N={n:,}: all-at-once / chunked peak memory {ratio:.2f}x, "
                f"time {naive['seconds'] / loom['seconds']:.2f}x"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
