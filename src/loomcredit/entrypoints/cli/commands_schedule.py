"""`loom schedule`: print a repayment schedule (还款计划) as a table, CSV or JSON.

Example: ``loom schedule --principal 100000 --rate 0.06 --months 120 --method annuity
--start 2026-01-20`` (first instalment ¥1,110.21). Money in CSV and JSON is a decimal string.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from loomcredit.domain.errors import LoomError, ScheduleError

if TYPE_CHECKING:
    from loomcredit.domain.money import Money, Rate
    from loomcredit.domain.schedule import Schedule

_COLUMNS = ("number", "due_on", "payment", "principal", "interest", "balance_after")


class OutputFormat(StrEnum):
    """Output formats of `loom schedule`."""

    TABLE = "table"
    CSV = "csv"
    JSON = "json"


def _fail(message: str) -> typer.Exit:
    Console(stderr=True).print(f"[bold red]error:[/] {message}", soft_wrap=True, highlight=False)
    return typer.Exit(2)


def _parse_rate(text: str) -> Rate:
    """An annual rate as a fraction (``0.06``) or a percentage (``6%``)."""
    from decimal import Decimal, InvalidOperation

    from loomcredit.domain.money import Rate

    raw = text.strip()
    try:
        rate = Rate.from_percent(Decimal(raw[:-1])) if raw.endswith("%") else Rate(raw)
    except (InvalidOperation, ValueError) as exc:
        raise ScheduleError(f"--rate {text!r} is not a rate; write 0.06 or 6%.") from exc
    if not 0 <= rate.annual < 1:
        raise ScheduleError(f"--rate {text!r} must be an annual fraction from 0 to 1 (0.06 = 6%).")
    return rate


def _parse_money(text: str, what: str) -> Money:
    from loomcredit.domain.money import Money

    try:
        return Money.parse(text)
    except ValueError as exc:
        raise ScheduleError(
            f"{what} {text!r} is not an amount in yuan (e.g. 100000 or 1234.56)."
        ) from exc


def _parse_date(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError as exc:
        raise ScheduleError(f"{what} {text!r} is not a date; write YYYY-MM-DD.") from exc


def _parse_plan(text: str) -> list[Money]:
    parts = [p for p in text.replace("，", ",").split(",") if p.strip()]
    if not parts:
        raise ScheduleError("--principal-plan is empty; give one amount per month, e.g. 0,0,50000.")
    return [_parse_money(p, "--principal-plan entry") for p in parts]


def _rows(schedule: Schedule) -> list[dict[str, str | int]]:
    return [
        {
            "number": inst.number,
            "due_on": inst.due_on.isoformat(),
            "payment": inst.payment.amount_str(),
            "principal": inst.principal.amount_str(),
            "interest": inst.interest.amount_str(),
            "balance_after": inst.balance_after.amount_str(),
        }
        for inst in schedule.installments
    ]


def _as_csv(schedule: Schedule) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(_rows(schedule))
    return buffer.getvalue()


def _as_json(schedule: Schedule) -> str:
    document = {
        "method": schedule.method.value,
        "principal": schedule.principal.amount_str(),
        "currency": schedule.principal.currency,
        "annual_rate": str(schedule.annual_rate.annual),
        "start": schedule.start.isoformat(),
        "day_count": schedule.day_count.value if schedule.day_count else "monthly (annual/12)",
        "interest_frequency": schedule.interest_frequency.name.lower(),
        "total_interest": schedule.total_interest.amount_str(),
        "total_payment": schedule.total_payment.amount_str(),
        "installments": _rows(schedule),
    }
    return json.dumps(document, ensure_ascii=False, indent=2)


def _as_table(schedule: Schedule) -> Table:
    basis = schedule.day_count.label_zh if schedule.day_count else "月利率=年利率/12"
    table = Table(
        "期次 No.",
        "到期日 Due",
        "应还 Payment",
        "本金 Principal",
        "利息 Interest",
        "剩余本金 Balance",
        title=(
            f"{schedule.principal.format()} · {schedule.annual_rate.percent()} · "
            f"{schedule.method.label_zh} {schedule.method.value} · {basis}"
        ),
        show_footer=False,
    )
    for inst in schedule.installments:
        table.add_row(
            str(inst.number),
            inst.due_on.isoformat(),
            inst.payment.format(symbol=False),
            inst.principal.format(symbol=False),
            inst.interest.format(symbol=False),
            inst.balance_after.format(symbol=False),
        )
    table.add_section()
    table.add_row(
        "合计 Total",
        "",
        schedule.total_payment.format(symbol=False),
        schedule.total_principal.format(symbol=False),
        schedule.total_interest.format(symbol=False),
        "",
        style="bold",
    )
    for column in table.columns[2:]:
        column.justify = "right"
    return table


def schedule(
    principal: Annotated[str, typer.Option(help="Amount lent in yuan, e.g. 100000. 本金(元)")],
    rate: Annotated[str, typer.Option(help="Annual rate: 0.06 or 6%. 年利率")],
    start: Annotated[str, typer.Option(help="Value date YYYY-MM-DD. 起息日")],
    months: Annotated[
        int | None,
        typer.Option(help="Instalments (interest-only: term in months). Default: plan length."),
    ] = None,
    method: Annotated[
        str, typer.Option(help="annuity | equal-principal | interest-only | custom. 还款方式")
    ] = "annuity",
    first_due: Annotated[
        str | None, typer.Option(help="First due date YYYY-MM-DD (default: a month after start).")
    ] = None,
    interest_frequency: Annotated[
        str, typer.Option(help="Interest-only: monthly | quarterly (settled on the 20th).")
    ] = "monthly",
    principal_plan: Annotated[
        str | None,
        typer.Option(help='Custom: principal per month in yuan, e.g. "0,0,50000,50000".'),
    ] = None,
    day_count: Annotated[
        str | None,
        typer.Option(help="act360 | 30360 | act365: interest by days (default: annual/12)."),
    ] = None,
    output: Annotated[
        OutputFormat, typer.Option("--format", help="table | csv | json. 输出格式")
    ] = OutputFormat.TABLE,
) -> None:
    """Print a repayment schedule. 打印还款计划 (等额本息、等额本金、先息后本、自定义)."""
    from loomcredit.domain.daycount import DayCount, Frequency
    from loomcredit.domain.schedule import Method, build_schedule

    try:
        loan_method = Method.parse(method)
        plan = _parse_plan(principal_plan) if principal_plan is not None else None
        periods = months if months is not None else (len(plan) if plan else None)
        if periods is None:
            raise ScheduleError("--months is required (or give a --principal-plan).")
        built = build_schedule(
            _parse_money(principal, "--principal"),
            _parse_rate(rate),
            periods,
            _parse_date(start, "--start"),
            loan_method,
            first_due=_parse_date(first_due, "--first-due") if first_due else None,
            interest_frequency=Frequency.parse(interest_frequency),
            day_count=DayCount.parse(day_count) if day_count else None,
            principal_plan=plan,
        )
    except LoomError as exc:
        raise _fail(str(exc)) from exc
    if output is OutputFormat.CSV:
        typer.echo(_as_csv(built), nl=False)
    elif output is OutputFormat.JSON:
        typer.echo(_as_json(built))
    else:
        Console().print(_as_table(built))


def register(app: typer.Typer) -> None:
    """Add `loom schedule` to the CLI."""
    app.command("schedule")(schedule)
