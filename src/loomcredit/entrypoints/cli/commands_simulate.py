"""`loom simulate`: write a simulated Keqiao textile cluster into the lake (raw zone and truth)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

console = Console()
err_console = Console(stderr=True)


def simulate(
    enterprises: Annotated[
        int, typer.Option("--enterprises", "-n", help="企业数 Enterprises in the cluster.")
    ] = 2000,
    months: Annotated[int, typer.Option(help="月数 Months of data to write.")] = 36,
    start: Annotated[str, typer.Option(help="起始月份 First month, YYYY-MM.")] = "2023-01",
    seed: Annotated[int, typer.Option(help="随机种子 Seed: same seed, same files.")] = 7,
    out: Annotated[
        Path | None,
        typer.Option(
            help="输出目录 Output folder (default $LOOM_HOME/lake); raw/ and truth/ go inside."
        ),
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="文件格式 File format: parquet, csv or jsonl.")
    ] = "parquet",
    default_rate: Annotated[float, typer.Option(help="年违约率 Base annual default rate.")] = 0.03,
    fault_rate: Annotated[
        float, typer.Option(help="故障率 Share of rows given a deliberate data fault.")
    ] = 0.01,
    chunk_size: Annotated[
        int, typer.Option(help="分块 Enterprises generated and written together.")
    ] = 1000,
    arrival_months: Annotated[
        int,
        typer.Option(
            help="后续到达 Months simulated after the feed; their rows (and every row obtained "
            "after the feed's last day) go to arrivals/ to be sent later as new data."
        ),
    ] = 0,
) -> None:
    """模拟柯桥纺织产业集群并写入数据湖 Simulate the Keqiao textile cluster into the lake."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from loomcredit.pipeline.simulate import SimulationConfig
    from loomcredit.pipeline.simulate import simulate as run_simulation

    try:
        config = SimulationConfig(
            enterprises=enterprises,
            months=months,
            start=start,
            seed=seed,
            default_rate=default_rate,
            fault_rate=fault_rate,
            fmt=fmt.lower(),
            chunk_size=chunk_size,
            arrival_months=arrival_months,
        )
    except ValueError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", soft_wrap=True, highlight=False)
        raise typer.Exit(2) from exc
    if out is None:
        from loomcredit.config import get_settings

        out = get_settings().lake
    if out.exists() and not out.is_dir():
        err_console.print(
            f"[bold red]error:[/] {out} exists and is not a folder.",
            soft_wrap=True,
            highlight=False,
        )
        raise typer.Exit(2)
    with Progress(
        TextColumn("[bold]模拟 simulating"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} 企业"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("simulate", total=enterprises)

        def on_progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            summary = run_simulation(config, out, progress=on_progress)
        except OSError as exc:
            err_console.print(
                f"[bold red]error:[/] cannot write to {out}: {exc.strerror or exc}",
                soft_wrap=True,
                highlight=False,
            )
            raise typer.Exit(2) from exc
    table = Table(title=f"模拟完成 simulated {summary.enterprises} 企业 × {summary.months} 月")
    table.add_column("数据源 source")
    table.add_column("行数 rows", justify="right")
    for name, rows in summary.rows.items():
        table.add_row(name, f"{rows:,}")
    for name, rows in summary.truth_rows.items():
        table.add_row(f"truth/{name}", f"{rows:,}", style="dim")
    console.print(table)
    console.print(
        f"违约 defaults: {summary.defaults:,} · 用时 {summary.seconds:.1f} s · "
        f"{summary.total_rows / max(summary.seconds, 1e-9):,.0f} rows/s · {out.resolve()}"
    )


def register(app: typer.Typer) -> None:
    """Add `loom simulate` to the CLI."""
    app.command("simulate")(simulate)
