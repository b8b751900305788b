"""`loom loans restructure`: propose a restructuring (展期 / 调整还款计划) of a loan.

The proposal is made as a collector at the server's terminal (audited under ``cli:<OS user>``)
and previewed at once; a risk manager approves it under /approvals (``POST
/api/v1/approvals/{id}/approve``), which applies it on that business date.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from loomcredit.entrypoints.cli.commands_service import CliInputError, operator, service

loans_app = typer.Typer(help="Loans 贷款: restructuring 重组.", no_args_is_help=True)
console = Console()


def _day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CliInputError(f"--first-due {text!r} is not a date YYYY-MM-DD") from None


@loans_app.command("restructure")
def restructure_cmd(
    loan_id: Annotated[int, typer.Argument(help="Loan id 贷款编号")],
    kind: Annotated[str, typer.Option(help="extension 展期 | reschedule 调整还款计划")],
    months: Annotated[int, typer.Option(help="Months of extension, or new periods 期数")],
    reason: Annotated[str, typer.Option(help="Why 理由")],
    first_due: Annotated[
        str | None, typer.Option(help="First new due date 首个还款日 YYYY-MM-DD")
    ] = None,
    method: Annotated[
        str | None, typer.Option(help="annuity | equal-principal | interest-only (default: as is)")
    ] = None,
) -> None:
    """Propose a restructuring; a risk manager approves it under /approvals."""
    from loomcredit.domain.restructuring import RestructureKind, RestructurePlan
    from loomcredit.domain.schedule import Method
    from loomcredit.service_layer.restructuring import propose_restructure

    try:
        what = RestructureKind(kind.strip().lower())
    except ValueError:
        raise CliInputError(f"--kind {kind!r}: use extension or reschedule") from None
    plan = RestructurePlan(what, months, _day(first_due), Method.parse(method) if method else None)
    svc = service()
    with svc.uow() as uow:
        prop = propose_restructure(uow, operator("collector"), loan_id, plan, reason=reason,
                                   now=svc.clock())  # fmt: skip
        uow.commit()
    p = prop.preview
    table = Table(title=f"重组预览 Restructuring preview · loan {loan_id} · {plan.label}")
    table.add_column("项目 Item")
    table.add_column("值 Value", justify="right")
    for label, value in (
        ("本金 Principal rescheduled", p.principal.format()),
        ("递延利息 Overdue interest deferred (not capitalised)", p.deferred_interest.format()),
        ("罚息复利 Penalty still owed", p.penalty_owed.format()),
        ("首个还款日 First due", p.first_due.isoformat()),
        ("到期日 Maturity", p.maturity.isoformat()),
        ("期数 Periods", str(p.periods)),
        ("观察期至 Watch period until", p.watch_until.isoformat()),
    ):
        table.add_row(label, value)
    console.print(table)
    console.print(
        f"重组申请 restructuring asked: approval {prop.request.request_id} "
        f"({prop.request.subject}); a risk manager approves it under /approvals"
    )


def register(app: typer.Typer) -> None:
    """Add ``loom loans``."""
    app.add_typer(loans_app, name="loans")
