"""`loom ingest`: a feed of raw files into the lake's integrated zone, with a quality report.

Reads ``--from PATH`` (a folder with ``raw/`` inside, or the raw folder itself; Parquet, CSV or JSON
Lines per the data contract), writes ``$LOOM_HOME/lake/integrated/<table>/`` and the data-quality
report ``$LOOM_HOME/reports/ingest_quality.{html,json}``. The PII key comes from ``LOOM_PII_KEY``
(base64) or ``LOOM_PII_KEY_FILE``; without either, ``$LOOM_HOME/keys/pii.key`` is created once
(mode 0600) and reused.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from loomcredit.pipeline.ingest import IngestSummary

console = Console()
err_console = Console(stderr=True)


def _fail(message: str) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}", soft_wrap=True, highlight=False)
    return typer.Exit(2)


def _parse_day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise _fail(f"--as-of must be a date YYYY-MM-DD, got {text!r}") from exc


def _print_summary(summary: IngestSummary) -> None:
    title = (
        f"导入 Ingest run {summary.run_id} · as of {summary.as_of}"
        if summary.changed
        else f"无新文件 Nothing new (as of {summary.as_of}): the lake is unchanged"
    )
    table = Table(
        "来源 source",
        "文件 files",
        "跳过 skipped",
        "读入 in",
        "接收 accepted",
        "隔离 quarantined",
        title=title,
    )
    for s in summary.sources.values():
        table.add_row(
            s.source,
            str(s.files),
            str(s.files_skipped),
            f"{s.rows_in:,}",
            f"{s.accepted:,}",
            f"{s.quarantined:,}",
        )
    table.add_row(
        "[bold]合计 total[/]",
        "",
        "",
        f"{summary.rows_in:,}",
        f"{summary.accepted:,}",
        f"{summary.quarantined:,}",
    )
    console.print(table)
    if summary.quarantine_reasons:
        reasons = Table("隔离原因 reason", "行 rows", title="隔离原因 Quarantine reasons")
        for reason, n in summary.quarantine_reasons.items():
            reasons.add_row(reason, f"{n:,}")
        console.print(reasons)
    if summary.metrics:
        metrics = Table("指标 metric", "值 value", title="对照真值 Against truth")
        for name, value in summary.metrics.items():
            shown = f"{value:,.0f}" if name.endswith(("labelled", "linked")) else f"{value:.3f}"
            metrics.add_row(name, shown)
        console.print(metrics)
    console.print(
        f"质量报告 Quality report: [link]{summary.report_html}[/] (+ {summary.report_json})"
    )


def ingest(
    source: Annotated[
        Path | None,
        typer.Option(
            "--from",
            help="Feed folder: raw/<source>/ files, or raw/ itself. Default: $LOOM_HOME/lake "
            "(where `loom simulate` writes).",
        ),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            help="Check date YYYY-MM-DD: rows describing a later day are quarantined and consents "
            "must be granted by then. Default: the feed's own date (end of the second month after "
            "its newest market month; newest row date without market data)."
        ),
    ] = None,
    evaluate: Annotated[
        Path | None,
        typer.Option(
            help="Simulator truth folder: report entity-resolution and news-extraction metrics."
        ),
    ] = None,
    today: Annotated[bool, typer.Option(help="Use today's date as --as-of (real feeds).")] = False,
) -> None:
    """导入数据 Ingest raw feeds into the lake (validate, quarantine, consent, resolve, report)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from loomcredit.bootstrap.keys import pii_key
    from loomcredit.config import get_settings
    from loomcredit.pipeline.ingest import LakePaths
    from loomcredit.pipeline.ingest import ingest as run_ingest

    settings = get_settings()
    when = _parse_day(as_of)
    if today:
        when = datetime.now(UTC).date()
    if evaluate is not None and not evaluate.is_dir():
        raise _fail(f"--evaluate: no such folder {evaluate}")
    key = pii_key(settings)
    lake = LakePaths(settings.home)
    if source is None:
        source = settings.lake
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task("导入 ingest", total=None)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, description=stage, completed=done, total=total)

        summary = run_ingest(
            source,
            lake,
            pii_key=key,
            as_of=when,
            progress=progress,
            truth=evaluate,
            clock=lambda: datetime.now(UTC),
        )
    _print_summary(summary)
    if summary.earliest_obtained is not None:
        from loomcredit.pipeline.features.snapshot import drop_snapshots_from

        dropped = drop_snapshots_from(lake, summary.earliest_obtained)
        if dropped:
            console.print(
                f"特征快照已失效 {len(dropped)} feature snapshot(s) as of "
                f"{dropped[0]}..{dropped[-1]} removed: rows obtained by then have just arrived "
                "(rebuild with `loom features --as-of D`)"
            )


def register(app: typer.Typer) -> None:
    """Add ``loom ingest`` to the CLI."""
    app.command("ingest")(ingest)
