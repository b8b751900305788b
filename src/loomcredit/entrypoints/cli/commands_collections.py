"""`loom collections`: the collection case queue 催收队列 and the work on a case.

``queue`` lists open cases by priority; ``case`` shows one; ``contact`` records a contact after
the conduct rules allow it (a refused attempt exits non-zero naming the rule); ``promise``
records a promise to pay; ``escalate`` asks for legal action or a write-off (approved by another
risk manager under ``loom approvals``); ``assign`` moves a case; ``resolve`` closes a dispute.
The terminal's operator acts as a risk manager, and the audit names them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from loomcredit.domain.collections import CollectionCase
from loomcredit.entrypoints.cli.commands_service import CliInputError, operator, service

collections_app = typer.Typer(
    help="Collections 催收: case queue, contacts, promises, escalation, figures.",
    no_args_is_help=True,
)
console = Console()


def _day(text: str, flag: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CliInputError(f"{flag} {text!r} is not a date like 2026-04-10") from None


def _money(text: str):  # type: ignore[no-untyped-def]
    from loomcredit.domain.errors import InvalidAmount
    from loomcredit.domain.money import Money

    try:
        return Money.parse(text)
    except (InvalidAmount, ValueError):
        raise CliInputError(f"--amount {text!r} is not an amount like 1234.56") from None


def print_cases(cases: Sequence[CollectionCase], title: str) -> None:
    """Cases as a table, highest priority first."""
    table = Table(
        "id",
        "borrower 企业",
        "bucket 账龄",
        "DPD",
        "overdue 逾期金额",
        "priority 优先级",
        "collector 催收员",
        "next 下次行动",
        "flags 标记",
        title=title,
    )
    for c in cases:
        flags = " ".join(
            f
            for f, on in (
                ("[red]承诺未履行 broken promise[/]", c.broken_promise),
                ("[yellow]异议 dispute[/]", c.dispute_open),
                (f"待审批 {c.escalation}", bool(c.escalation)),
            )
            if on
        )
        table.add_row(
            str(c.case_id),
            c.uscc,
            c.bucket.value,
            str(c.dpd),
            c.overdue.format(),
            f"{c.priority_fen / 100:,.2f}",
            c.collector or "—",
            c.next_action_on.isoformat(),
            flags,
        )
    console.print(table)


def print_case(c: CollectionCase) -> None:
    """One case in full."""
    state = (
        c.status.value
        if c.close_reason is None
        else (f"{c.status.value} ({c.close_reason.label_zh} {c.close_reason.value}, {c.closed_on})")
    )
    console.print(
        f"[bold]案件 case {c.case_id}[/] {c.uscc} · region {c.region} · {state}\n"
        f"  {c.bucket.value} DPD {c.dpd} · 本金 principal {c.principal.format()} · 利息 interest "
        f"{c.interest.format()} · 罚息 penalty {c.penalty.format()} · 复利 compound "
        f"{c.compound.format()}\n"
        f"  exposure 敞口 {c.exposure.format()} · PD {c.pd if c.pd is not None else 'default'} · "
        f"priority 优先级 {c.priority_fen / 100:,.2f} · collector {c.collector or '—'} · next "
        f"action {c.next_action_on}"
    )
    for m in c.moves:
        console.print(
            f"  {m.on} {m.from_bucket.value if m.from_bucket else '—'} → "
            f"{m.to_bucket.value} (DPD {m.dpd})"
        )
    for a in c.activities:
        console.print(
            f"  {a.at:%Y-%m-%d %H:%M}Z {a.kind.label_zh} {a.kind.value} → "
            f"{a.outcome.label_zh} {a.outcome.value} by {a.by} (contact "
            f"{a.contact_id or 'borrower'}) {a.note}"
        )
    for p in c.promises:
        settled = "" if p.settled is None else f", settled {p.settled.format()}"
        console.print(
            f"  承诺 promise {p.amount.format()} by {p.due_on} (made {p.made_on}): "
            f"{p.status.label_zh} {p.status.value}{settled}"
        )


@collections_app.command("queue")
def queue_cmd(
    collector: Annotated[str | None, typer.Option(help="Only this collector's cases")] = None,
    bucket: Annotated[str | None, typer.Option(help="Only this bucket: M1, M2, M3, M3+")] = None,
) -> None:
    """Open cases, highest priority first."""
    from loomcredit.domain.collection_policy import CaseBucket
    from loomcredit.service_layer.collections import queue

    try:
        wanted = None if bucket is None else CaseBucket(bucket.upper())
    except ValueError:
        raise CliInputError(f"--bucket {bucket!r} is not one of M1, M2, M3, M3+") from None
    svc = service()
    with svc.uow() as uow:
        found = queue(uow, operator("risk_manager"), collector=collector, bucket=wanted)
    print_cases(found, "催收队列 Collection queue")


@collections_app.command("case")
def case_cmd(case_id: Annotated[int, typer.Argument(help="Case id")]) -> None:
    """One case with its bucket moves, contacts and promises."""
    from loomcredit.service_layer.collections import get_case

    svc = service()
    with svc.uow() as uow:
        found = get_case(uow, operator("risk_manager"), case_id)
    print_case(found)


@collections_app.command("contact")
def contact_cmd(
    case_id: Annotated[int, typer.Argument(help="Case id")],
    kind: Annotated[str, typer.Option(help="call, sms, visit, letter, legal_notice")] = "call",
    outcome: Annotated[
        str, typer.Option(help="reached, no_answer, promise, dispute, refused, paid")
    ] = "reached",
    contact: Annotated[
        int | None, typer.Option("--contact", help="Registered contact id (none: the borrower)")
    ] = None,
    amount: Annotated[str | None, typer.Option(help="With --outcome promise: amount")] = None,
    on: Annotated[str | None, typer.Option(help="With --outcome promise: by date")] = None,
    note: Annotated[str, typer.Option(help="What was said")] = "",
) -> None:
    """Record a contact made now (refused, naming the rule, when the conduct rules forbid it)."""
    from loomcredit.domain.collections import Outcome
    from loomcredit.domain.conduct import ActivityKind
    from loomcredit.service_layer.case_work import record_contact

    try:
        k, o = ActivityKind(kind), Outcome(outcome)
    except ValueError as exc:
        raise CliInputError(str(exc)) from None
    svc = service()
    with svc.uow() as uow:
        made = record_contact(
            uow,
            operator("risk_manager"),
            case_id,
            kind=k,
            outcome=o,
            contact_id=contact,
            now=svc.clock(),
            note=note,
            promise_amount=None if amount is None else _money(amount),
            promise_on=None if on is None else _day(on, "--on"),
            policy=svc.collections_policy(),
        )
        uow.commit()
    console.print(
        f"[green]已记录 recorded[/] contact {made.activity_id} on case {case_id}: "
        f"{made.kind.label_zh} → {made.outcome.label_zh}"
    )


@collections_app.command("promise")
def promise_cmd(
    case_id: Annotated[int, typer.Argument(help="Case id")],
    on: Annotated[str, typer.Option("--on", help="Promised by date 承诺日期 (YYYY-MM-DD)")],
    amount: Annotated[str, typer.Option(help="Amount 承诺金额, e.g. 1234.56")],
) -> None:
    """Record a promise to pay (judged at end of day on its date)."""
    from loomcredit.service_layer.case_work import promise

    svc = service()
    with svc.uow() as uow:
        made = promise(
            uow,
            operator("risk_manager"),
            case_id,
            amount=_money(amount),
            due_on=_day(on, "--on"),
            now=svc.clock(),
            policy=svc.collections_policy(),
        )
        uow.commit()
    console.print(f"[green]承诺已记录 promise recorded[/] {made.amount.format()} by {made.due_on}")


@collections_app.command("escalate")
def escalate_cmd(
    case_id: Annotated[int, typer.Argument(help="Case id (M3+)")],
    to: Annotated[str, typer.Option("--to", help="legal or write-off")],
    reason: Annotated[str, typer.Option(help="Why 理由")],
) -> None:
    """Ask for legal action 诉讼 or a write-off 核销 (another risk manager approves)."""
    from loomcredit.service_layer.case_work import escalate

    target = to.replace("-", "_")
    svc = service()
    with svc.uow() as uow:
        made = escalate(
            uow, operator("risk_manager"), case_id, to=target, reason=reason, now=svc.clock()
        )
        uow.commit()
    ids = ", ".join(str(r.request_id) for r in made)
    console.print(f"[green]已提交审批 sent for approval[/] ({target}): request(s) {ids}")


@collections_app.command("assign")
def assign_cmd(
    case_id: Annotated[int, typer.Argument(help="Case id")],
    to: Annotated[str, typer.Option("--to", help="The collector's user name")],
) -> None:
    """Move a case to another collector 改派."""
    from loomcredit.service_layer.case_work import assign

    svc = service()
    with svc.uow() as uow:
        case = assign(uow, operator("risk_manager"), case_id, to=to, now=svc.clock())
        uow.commit()
    console.print(f"[green]已改派 reassigned[/] case {case.case_id} to {case.collector}")


@collections_app.command("resolve")
def resolve_cmd(
    case_id: Annotated[int, typer.Argument(help="Case id")],
    note: Annotated[str, typer.Option(help="How the dispute was resolved")],
) -> None:
    """Resolve the borrower's dispute 异议处理 (contact may resume)."""
    from loomcredit.service_layer.case_work import resolve_dispute

    svc = service()
    with svc.uow() as uow:
        resolve_dispute(uow, operator("risk_manager"), case_id, note=note, now=svc.clock())
        uow.commit()
    console.print(f"[green]异议已解决 dispute resolved[/] on case {case_id}")


def register(app: typer.Typer) -> None:
    """Add `loom collections`."""
    app.add_typer(collections_app, name="collections")
