"""`loom lines`: the monthly limit review (额度动态调整) and its record.

``loom lines review --as-of D`` recomputes every open line's limit for the month after D from the
latest score and the firm's seasonal factor: a change within the policy's band applies itself, a
larger one waits under /approvals for a risk manager. ``loom lines reviews`` lists what was done.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from loomcredit.domain.limit_review import LimitReview, ReviewOutcome
from loomcredit.entrypoints.cli.commands_service import CliInputError, operator, service
from loomcredit.service_layer.limit_review import ReviewRun

lines_app = typer.Typer(
    help="Credit lines 授信额度: the monthly limit review 额度动态调整.", no_args_is_help=True
)
console = Console()


@lines_app.command("review")
def review_cmd(
    as_of: Annotated[
        str, typer.Option("--as-of", help="Review date 复核基准日 (YYYY-MM-DD), e.g. a month end")
    ],
) -> None:
    """Review every open line's limit for the month after --as-of (each line once a month)."""
    from loomcredit.service_layer.limit_review import review_limits

    try:
        day = date.fromisoformat(as_of)
    except ValueError:
        raise CliInputError(f"--as-of {as_of!r} is not a date like 2026-03-31") from None
    svc = service()
    with svc.uow() as uow:
        run = review_limits(uow, operator("risk_manager"), svc.decider, svc.review_policy(),
                            as_of=day, now=svc.clock())  # fmt: skip
        uow.commit()
    print_review(run)


@lines_app.command("reviews")
def reviews_cmd(
    month: Annotated[str | None, typer.Option(help="Only this month, YYYY-MM")] = None,
) -> None:
    """The limit reviews made, newest month first."""
    from loomcredit.service_layer.limit_review import reviews

    first = None
    if month is not None:
        try:
            first = date.fromisoformat(f"{month}-01")
        except ValueError:
            raise CliInputError(f"--month {month!r} is not a month like 2026-04") from None
    svc = service()
    with svc.uow() as uow:
        found = reviews(uow, operator("risk_manager"), month=first)
    print_reviews(found, "额度复核记录 Limit reviews")


def print_review(run: ReviewRun) -> None:
    """What a review run did, and the reviews that changed or proposed something."""
    counts = " · ".join(f"{o.label_zh} {o.value} {run.count(o)}" for o in ReviewOutcome)
    console.print(
        f"[green]额度动态调整完成 limit review done[/] for {run.month:%Y-%m} (as of {run.as_of}): "
        f"{counts} · already reviewed 已复核 {run.already_reviewed}"
    )
    moved = [r for r in run.reviews if r.outcome in (ReviewOutcome.APPLIED, ReviewOutcome.PROPOSED)]
    if moved:
        print_reviews(moved, f"{run.month:%Y-%m} 额度调整 Limit changes")


def print_reviews(found: Sequence[LimitReview], title: str) -> None:
    """Reviews as a table."""
    table = Table("line", "borrower 企业", "month", "limit 现额度", "target 测算额度", "change",
                  "PD", "season 季节系数", "outcome 结果", "approval", title=title)  # fmt: skip
    for r in found:
        b = r.basis
        season = "—" if b is None or b.season_factor is None else f"{b.season_factor}"
        if b is not None and b.season_source:
            season += f" ({b.season_source})"
        colour = {"applied": "green", "proposed": "yellow"}.get(r.outcome.value, "white")
        table.add_row(
            str(r.line_id),
            r.uscc,
            f"{r.month:%Y-%m}",
            r.current.format(),
            r.target.format(),
            f"{r.change_share * 100:+.1f}%",
            "—" if b is None or b.pd is None else f"{b.pd:.4f}",
            season,
            f"[{colour}]{r.outcome.label_zh}[/] {r.reason_zh}",
            str(r.approval_id or ""),
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add `loom lines` to the CLI."""
    app.add_typer(lines_app, name="lines")
