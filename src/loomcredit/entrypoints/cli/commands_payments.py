"""`loom payments import|auto-debit|settle|exceptions|reconcile`: money from the bank.

Run on the server by operations (audited under ``cli:<OS user>``), on the business date.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from loomcredit.entrypoints.cli.commands_service import CliInputError, operator, service

payments_app = typer.Typer(
    help="Money from the bank 银行来账: 对账单、代扣、挂账、对账.", no_args_is_help=True
)
console = Console()


def _reconciliation_row(table: Table, rec) -> None:  # type: ignore[no-untyped-def]
    table.add_row(
        rec.value_date.isoformat(),
        str(rec.lines),
        rec.statement_total.format(),
        rec.booked.format(),
        rec.unmatched.format(),
        rec.returned.format(),
        "[green]平 balanced[/]" if rec.balanced else "[red]不平 OFF[/]",
    )


def _reconciliation_table() -> Table:
    return Table(
        "value date 起息日",
        "lines",
        "statement 对账单",
        "booked 已入账",
        "unmatched 挂账",
        "returned 退回",
        "",
        title="对账 Reconciliation",
    )


@payments_app.command("import")
def import_cmd(
    file: Annotated[
        Path, typer.Argument(help="Bank statement CSV 对账单", exists=True, dir_okay=False)
    ],
) -> None:
    """Import a bank statement: match each credit to a loan by account and reference, book it;
    the rest waits in the exceptions queue. The same file twice books nothing twice."""
    import hashlib

    from loomcredit.adapters.bank_files import read_statement
    from loomcredit.service_layer.payments import import_statement

    statement = read_statement(file)
    svc = service()
    with svc.uow() as uow:
        out = import_statement(
            uow,
            operator(),
            list(statement.lines),
            file_name=file.name,
            sha256=hashlib.sha256(file.read_bytes()).hexdigest(),
            now=svc.clock(),
        )
        uow.commit()
    s = out.summary
    console.print(
        f"[green]对账单已导入 statement imported[/] {file.name} on {s.business_date}: "
        f"{s.lines} lines · booked 入账 {s.booked} ({out.booked_total.format()}) · "
        f"unmatched 挂账 {s.unmatched} · duplicates 重复 {s.duplicates} · not credits {s.ignored}"
    )
    if out.unmatched:
        _print_exceptions(out.unmatched)
    table = _reconciliation_table()
    _reconciliation_row(table, out.reconciliation)
    console.print(table)


def _print_exceptions(entries) -> None:  # type: ignore[no-untyped-def]
    table = Table(
        "#",
        "bank ref",
        "value date",
        "account",
        "payer",
        "amount",
        "why 原因",
        title="挂账待处理 Exceptions queue",
    )
    for e in entries:
        table.add_row(
            str(e.line_id),
            e.line.bank_ref,
            e.line.value_date.isoformat(),
            e.line.account,
            e.line.counterparty,
            e.line.amount.format(),
            f"{e.outcome.label_zh}: {e.reason}",
        )
    console.print(table)


@payments_app.command("auto-debit")
def auto_debit_cmd() -> None:
    """Send the business date's auto-debit instructions to the bank core (代扣), then book the
    settlement file if the core has returned it."""
    from loomcredit.service_layer.payments import apply_settlement, run_auto_debit

    svc = service()
    with svc.uow() as uow:
        run = run_auto_debit(uow, svc.bank, operator(), now=svc.clock())
    console.print(
        f"[green]代扣已发送 auto-debit sent[/] batch {run.batch_id}: {len(run.instructions)} "
        f"instructions, {run.total.format()}"
    )
    with svc.uow() as uow:
        out = apply_settlement(uow, svc.bank, operator(), run.batch_id, now=svc.clock())
        uow.commit()
    if out.pending:
        console.print(
            f"结果未返回 settlement file not back yet: `loom payments settle {run.batch_id}`"
        )
    else:
        _print_settlement(out)


def _print_settlement(out) -> None:  # type: ignore[no-untyped-def]
    paid = sum(r.amount.minor for r in out.paid)
    from loomcredit.domain.money import Money

    console.print(
        f"代扣结果 settlement {out.batch_id}: paid 成功 {len(out.paid)} ({Money(paid).format()}) · "
        f"failed 失败 {len(out.failed)} · to review 待人工 {len(out.to_review)} · "
        f"already booked {out.skipped}"
    )
    for instruction, why in out.failed:
        console.print(f"  [yellow]{instruction}[/]: {why}")


@payments_app.command("settle")
def settle_cmd(batch: Annotated[str, typer.Argument(help="Batch id, e.g. AD20260420")]) -> None:
    """Book a settlement file the bank core returned for a batch."""
    from loomcredit.service_layer.payments import apply_settlement

    svc = service()
    with svc.uow() as uow:
        out = apply_settlement(uow, svc.bank, operator(), batch, now=svc.clock())
        uow.commit()
    if out.pending:
        raise CliInputError(f"no settlement file for {batch} under {svc.settings.home}/bank/inbox")
    _print_settlement(out)


@payments_app.command("exceptions")
def exceptions_cmd() -> None:
    """The statement lines waiting for a person (挂账)."""
    from loomcredit.service_layer.payments import exceptions

    svc = service()
    with svc.uow() as uow:
        entries = exceptions(uow, operator())
    if not entries:
        console.print("挂账为空 the exceptions queue is empty")
        return
    _print_exceptions(entries)


@payments_app.command("reconcile")
def reconcile_cmd(
    date_: Annotated[
        str | None, typer.Option("--date", help="Value date (default: business date)")
    ] = None,
) -> None:
    """Reconciliation of a value date: statement total = booked + unmatched + returned."""
    from loomcredit.service_layer.payments import reconcile

    try:
        on = date.fromisoformat(date_) if date_ else None
    except ValueError:
        raise CliInputError(f"--date {date_!r} is not a date; write it like 2026-03-31") from None
    svc = service()
    with svc.uow() as uow:
        rec = reconcile(uow, operator(), now=svc.clock(), value_date=on)
    table = _reconciliation_table()
    _reconciliation_row(table, rec)
    console.print(table)
    if not rec.balanced:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add `loom payments` to the CLI."""
    app.add_typer(payments_app, name="payments")
