"""`loom notices`: the notice outbox (还款提醒与逾期通知) and a delivery run.

``loom notices list [--status failed] [--loan 42]`` shows deliveries (addresses masked);
``loom notices send`` runs one delivery over what is due and prints delivered / retrying /
failed. End of day (``loom eod``) queues the day's notices.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from loomcredit.entrypoints.cli.commands_service import CliInputError, operator, service

notices_app = typer.Typer(
    help="Notices 还款提醒与逾期通知: the outbox and its delivery.", no_args_is_help=True
)
console = Console()
_STATUSES = ("queued", "sending", "delivered", "failed")


@notices_app.command("list")
def list_cmd(
    status: Annotated[
        str | None, typer.Option(help="Only this status: queued, sending, delivered, failed")
    ] = None,
    loan: Annotated[int | None, typer.Option(help="Only this loan's notices", min=1)] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first", min=1)] = 200,
) -> None:
    """The notice outbox, newest first."""
    from loomcredit.domain.notices import DeliveryStatus
    from loomcredit.entrypoints.api.routes_notices import delivery_view
    from loomcredit.service_layer.notifications import list_notices

    if status is not None and status not in _STATUSES:
        raise CliInputError(f"--status {status!r}: one of {', '.join(_STATUSES)}")
    svc = service()
    with svc.uow() as uow:
        found = list_notices(uow, operator(), loan_id=loan, limit=limit,
                             status=None if status is None else DeliveryStatus(status))  # fmt: skip
    table = Table("id", "loan", "inst.", "kind 类型", "for 日期", "channel 渠道", "to 收件人",
                  "amount 金额", "status 状态", "tries", "last error 原因",
                  title="通知发送记录 Notice outbox")  # fmt: skip
    for d in found:
        v = delivery_view(d)
        colour = {"delivered": "green", "failed": "red", "queued": "yellow"}.get(v["status"], "")
        table.add_row(str(d.delivery_id), str(d.loan_id), str(d.installment), d.kind,
                      v["created_for"], d.channel.label_zh + " " + d.channel.value, v["to"],
                      d.amount.format(), f"[{colour}]{d.status.label_zh} {d.status.value}[/]",
                      str(d.attempts), d.last_error[:60])  # fmt: skip
    console.print(table)


@notices_app.command("send")
def send_cmd(
    batch: Annotated[int, typer.Option(help="Deliveries claimed at a time", min=1)] = 500,
) -> None:
    """One delivery run: send every due notice, retry later what failed for now."""
    from loomcredit.service_layer.notifications import deliver_as

    svc = service()
    notifiers = svc.notifiers()
    for note in svc.notifier_notes:
        console.print(f"  {note}")
    run = deliver_as(operator(), svc.uow, notifiers, svc.clock, policy=svc.notice_policy(),
                     batch=batch)  # fmt: skip
    console.print(
        f"[green]通知发送完成 notices sent[/]: 已送达 delivered {run.delivered} · "
        f"待重试 retrying {run.retrying} · 失败 failed {run.failed}"
    )


def register(app: typer.Typer) -> None:
    """Add `loom notices` to the CLI."""
    app.add_typer(notices_app, name="notices")
