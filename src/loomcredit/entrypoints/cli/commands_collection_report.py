"""`loom collections report`: the collection figures (催收指标) from the book.

Roll rates by month, cure rate and amount recovered by bucket, as a table, as JSON
(``--json``) or as a self-contained HTML page with charts (``--html FILE``), read as a risk
manager at the server's terminal.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from loomcredit.domain.collection_figures import CollectionFigures
from loomcredit.entrypoints.cli.commands_collections import collections_app
from loomcredit.entrypoints.cli.commands_service import CliInputError, operator, service

console = Console()


@collections_app.command("report")
def report_cmd(
    as_of: Annotated[str | None, typer.Option(help="Report date YYYY-MM-DD 报告日")] = None,
    months: Annotated[int, typer.Option(help="Month ends to look back over", min=1)] = 12,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    html_file: Annotated[
        Path | None, typer.Option("--html", help="Write an HTML page with charts")
    ] = None,
) -> None:
    """Roll rates (current→M1→M2→M3→M3+, cure), cure rate, amount recovered by bucket."""
    from loomcredit.entrypoints.collection_report import figures_html, figures_json
    from loomcredit.service_layer.collection_report import collection_report
    from loomcredit.service_layer.eod import business_date

    svc = service()
    with svc.uow() as uow:
        try:
            day = date.fromisoformat(as_of) if as_of else business_date(uow, svc.clock())
        except ValueError:
            raise CliInputError(f"--as-of {as_of!r} is not a date YYYY-MM-DD") from None
        figures = collection_report(uow, operator("risk_manager"), as_of=day, months=months)
    if html_file is not None:
        html_file.write_text(figures_html(figures), encoding="utf-8")
        console.print(f"写入 written: {html_file}")
    if as_json:
        typer.echo(json.dumps(figures_json(figures), ensure_ascii=False, indent=2))
        return
    print_figures(figures, day)


def print_figures(figures: CollectionFigures, day: date) -> None:
    """The roll-rate table, cure rate, recoveries by bucket and the case figures."""
    from loomcredit.domain.collection_figures import OPEN_BUCKETS
    from loomcredit.entrypoints.collection_report import share

    table = Table(title=f"迁徙率 Roll rates by loans · as of {day.isoformat()}")
    table.add_column("月末 Month end")
    targets = [("current", "M1"), ("M1", "M2"), ("M2", "M3"), ("M3", "M3+"), ("M1", "current")]
    for a, b in targets:
        table.add_column(f"{a}→{b}", justify="right")
    table.add_column("回正 Cure", justify="right")
    by = {x.value: x for x in OPEN_BUCKETS}
    for m, c in zip(figures.roll_rates, figures.cure_rates, strict=True):
        cells = [share(m.rate(by[a], by[b])) or "—" for a, b in targets]
        table.add_row(f"{m.start.isoformat()}→{m.end.isoformat()}", *cells, share(c.rate) or "—")
    console.print(table)
    console.print(f"回正率 cure rate over the period: {share(figures.cure_rate) or '—'}")
    per = ", ".join(f"{c or '未分派'}: {n}" for c, n in figures.cases_per_collector) or "—"
    console.print(f"承诺履约率 promise kept rate: {share(figures.promise_kept_rate) or '—'} · "
                  f"每案催收次数 contacts per case: {share(figures.contacts_per_case) or '—'} · "
                  f"案件/催收员 cases per collector: {per}")  # fmt: skip
    for b in OPEN_BUCKETS:
        got = figures.recovered_in(b)
        if got is not None:
            console.print(f"回收 recovered while {b.label_zh}: {got.format()}")


def register(app: typer.Typer) -> None:
    """``loom collections report`` joins the collections group (``commands_collections``)."""
