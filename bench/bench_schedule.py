"""Repayment schedules and daily accrual: Loom's exact engine vs the float code users write instead.

Same seeded loan book for every side (principal 10,000–5,000,000 yuan, 2.5–15 % p.a., 6–120
months, annuity or equal principal), in the same run:

- **loom**: :func:`build_schedule` (integer fen, exact fractions, one HALF_UP rounding per line,
  the last line absorbs the residual) and 30 days of :class:`DailyAccrual` per loan, rounded once.
- **float loop**: the usual plain-Python loop on floats with ``round(x, 2)`` per line, the EMI from
  the float formula, and the last line's balance patched to zero (anti-pattern 1 in STYLE.md).
- **numpy**: the same float arithmetic vectorised across all loans at once (per period), which
  is how an analyst would do it in a notebook.

Prints time per schedule, and how many schedules of each float side disagree with Loom by at least
one fen on some line, or whose principal column does not sum to the loan.

    python bench/bench_schedule.py            # 20,000 loans
    python bench/bench_schedule.py --quick    # 2,000 loans
"""

from __future__ import annotations

import argparse
import random
import time
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from loomcredit.domain.accrual import DailyAccrual, accrue_days
from loomcredit.domain.money import Money, Rate
from loomcredit.domain.schedule import Method, build_schedule

START = date(2026, 1, 20)


@dataclass(frozen=True)
class Loan:
    """One loan of the bench book."""

    principal_fen: int
    rate_bp: int
    months: int
    method: Method


def book(n: int, seed: int = 20261128) -> list[Loan]:
    """A seeded mix of SME loans."""
    rng = random.Random(seed)
    return [
        Loan(
            principal_fen=rng.randrange(1_000_000, 500_000_001, 100),
            rate_bp=rng.randrange(250, 1501),
            months=rng.choice((6, 12, 12, 24, 36, 36, 60, 120)),
            method=rng.choice((Method.ANNUITY, Method.EQUAL_PRINCIPAL)),
        )
        for _ in range(n)
    ]


def loom_schedules(loans: list[Loan]) -> list[list[tuple[int, int]]]:
    """(principal, interest) in fen per line, from Loom."""
    out = []
    for loan in loans:
        schedule = build_schedule(
            Money.of_fen(loan.principal_fen),
            Rate.from_bp(loan.rate_bp),
            loan.months,
            START,
            loan.method,
        )
        out.append([(i.principal.minor, i.interest.minor) for i in schedule.installments])
    return out


def float_schedule(loan: Loan) -> list[tuple[float, float]]:
    """What a user writes: floats, round(x, 2) per line, last balance patched to zero."""
    p = loan.principal_fen / 100
    i = loan.rate_bp / 10_000 / 12
    n = loan.months
    emi = round(p * i * (1 + i) ** n / ((1 + i) ** n - 1), 2)
    balance, lines = p, []
    for k in range(n):
        interest = round(balance * i, 2)
        principal = round(emi - interest, 2) if loan.method is Method.ANNUITY else round(p / n, 2)
        if k == n - 1 or principal > balance:
            principal = round(balance, 2)
        balance = round(balance - principal, 2)
        lines.append((principal, interest))
    return lines


def numpy_schedules(loans: list[Loan]) -> list[list[tuple[float, float]]]:
    """Vectorised float amortisation across loans, period by period (np.round per line)."""
    p = np.array([ln.principal_fen / 100 for ln in loans])
    i = np.array([ln.rate_bp / 10_000 / 12 for ln in loans])
    n = np.array([ln.months for ln in loans])
    annuity = np.array([ln.method is Method.ANNUITY for ln in loans])
    growth = (1 + i) ** n
    emi = np.round(p * i * growth / (growth - 1), 2)
    share = np.round(p / n, 2)
    balance = p.copy()
    principal_cols, interest_cols = [], []
    for k in range(int(n.max())):
        interest = np.round(balance * i, 2)
        principal = np.where(annuity, np.round(emi - interest, 2), share)
        principal = np.where((k == n - 1) | (principal > balance), np.round(balance, 2), principal)
        principal = np.where(k < n, principal, 0.0)
        interest = np.where(k < n, interest, 0.0)
        balance = np.round(balance - principal, 2)
        principal_cols.append(principal)
        interest_cols.append(interest)
    pc, ic = np.stack(principal_cols, axis=1), np.stack(interest_cols, axis=1)
    return [list(zip(pc[j, : n[j]], ic[j, : n[j]], strict=True)) for j in range(len(loans))]


def disagreements(
    loans: list[Loan], exact: list[list[tuple[int, int]]], other: list[list[tuple[float, float]]]
) -> tuple[int, int]:
    """(schedules with a line off by ≥ 1 fen, schedules whose principal does not sum to P)."""
    off = unsummed = 0
    for loan, good, bad in zip(loans, exact, other, strict=True):
        fen = [(round(a * 100), round(b * 100)) for a, b in bad]
        if fen != good:
            off += 1
        if round(sum(a for a, _ in bad) * 100) != loan.principal_fen:
            unsummed += 1
    return off, unsummed


def loom_accrual(loans: list[Loan]) -> int:
    """30 days of normal + penalty + compound accrual per loan, rounded once; total in fen."""
    total = 0
    for loan in loans:
        rate = Rate.from_bp(loan.rate_bp)
        penalty = Rate.from_bp(loan.rate_bp * 3 // 2)
        days = (
            DailyAccrual.compute(
                START + timedelta(days=d),
                performing_principal=Money.of_fen(loan.principal_fen * 9 // 10),
                overdue_principal=Money.of_fen(loan.principal_fen // 10),
                overdue_interest=Money.of_fen(loan.principal_fen // 200),
                annual_rate=rate,
                penalty=penalty,
            )
            for d in range(1, 31)
        )
        total += accrue_days(days).round().total.minor
    return total


def float_accrual(loans: list[Loan]) -> int:
    """The same with floats, rounding each day to the fen (a common shortcut)."""
    total = 0.0
    for loan in loans:
        p = loan.principal_fen / 100
        r, pr = loan.rate_bp / 10_000, loan.rate_bp * 1.5 / 10_000
        for _ in range(30):
            total += round(p * 0.9 * r / 360, 2) + round(p * 0.1 * pr / 360, 2)
            total += round(p * 0.005 * pr / 360, 2)
    return round(total * 100)


def timed(label: str, fn, *args):
    """Run and print the time."""
    began = time.perf_counter()
    result = fn(*args)
    elapsed = time.perf_counter() - began
    return result, elapsed, label


def main() -> None:
    """Run the comparison and print ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 loans instead of 20,000")
    parser.add_argument("--loans", type=int, default=None)
    args = parser.parse_args()
    n = args.loans or (2_000 if args.quick else 20_000)
    loans = book(n)
    lines = sum(ln.months for ln in loans)
    print(f"loans: {n:,}   schedule lines: {lines:,}")

    exact, t_loom, _ = timed("loom", loom_schedules, loans)
    floats, t_float, _ = timed("float", lambda ls: [float_schedule(x) for x in ls], loans)
    vector, t_numpy, _ = timed("numpy", numpy_schedules, loans)
    print(
        f"{'side':<12}{'total s':>10}{'µs/schedule':>14}{'vs loom':>10}{'off≥1 fen':>12}"
        f"{'Σprincipal≠P':>14}"
    )
    print(f"{'loom':<12}{t_loom:>10.2f}{t_loom / n * 1e6:>14.1f}{1:>10.2f}{0:>12}{0:>14}")
    for label, result, t in (("float loop", floats, t_float), ("numpy", vector, t_numpy)):
        off, unsummed = disagreements(loans, exact, result)
        print(
            f"{label:<12}{t:>10.2f}{t / n * 1e6:>14.1f}{t / t_loom:>10.2f}{off:>12,}{unsummed:>14,}"
        )

    accrual_loans = loans[: max(n // 10, 1)]
    exact_fen, t_acc, _ = timed("loom accrual", loom_accrual, accrual_loans)
    float_fen, t_facc, _ = timed("float accrual", float_accrual, accrual_loans)
    days = len(accrual_loans) * 30
    print(f"\naccrual: {len(accrual_loans):,} loans × 30 days = {days:,} loan-days")
    print(
        f"loom exact   {t_acc:.2f} s  {t_acc / days * 1e6:.1f} µs/loan-day  total {exact_fen:,} fen"
    )
    print(
        f"float daily  {t_facc:.2f} s  {t_facc / days * 1e6:.1f} µs/loan-day  total "
        f"{float_fen:,} fen  (diff {float_fen - exact_fen:+,} fen; speed ratio "
        f"{t_facc / t_acc:.2f})"
    )


if __name__ == "__main__":
    main()
