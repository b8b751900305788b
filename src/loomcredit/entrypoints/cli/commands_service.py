"""`loom serve`, `loom db upgrade`, `loom users add|disable|list`, `loom eod`,
`loom audit verify`.

Commands run on the server by the operator act under ``cli:<OS user>`` (the real person in the
audit log): they make the first users of an installation and run end of day; later role grants
go through the API, asked by one admin and approved by another.
"""

from __future__ import annotations

import getpass
from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from loomcredit.domain.errors import LoomError

db_app = typer.Typer(help="Operational database 业务数据库.", no_args_is_help=True)
users_app = typer.Typer(help="Users and roles 用户与角色.", no_args_is_help=True)
audit_app = typer.Typer(help="Audit log 审计日志.", no_args_is_help=True)


class CliInputError(LoomError):
    """A bad command-line value."""


def _settings():  # type: ignore[no-untyped-def]
    from loomcredit.config import get_settings

    return get_settings()


def operator_name() -> str:
    """The person at the server's terminal, as the audit names them."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def operator(role: str = "operations"):  # type: ignore[no-untyped-def]
    """The operator as a user of the given role."""
    from loomcredit.service_layer.users import Role, User

    return User(operator_name(), Role(role))


def service():  # type: ignore[no-untyped-def]
    """The wired service on the configured database."""
    from loomcredit.bootstrap.service import build_service

    return build_service(_settings())


def serve(
    host: Annotated[str, typer.Option(help="Interface to bind 监听地址")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port 端口", min=1, max=65535)] = 8000,
) -> None:
    """Start the lending API (OpenAPI at /docs) and console on SQLite under LOOM_HOME or
    LOOM_DATABASE_URL; with no promoted model every application goes to a person."""
    import uvicorn

    from loomcredit.entrypoints.api.app import create_app

    app = create_app(service=service())
    uvicorn.run(app, host=host, port=port, log_level="info")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply all migrations (SQLite file under LOOM_HOME, or LOOM_DATABASE_URL) and seal the
    audit chain with the audit key."""
    settings = _settings()
    service()
    Console().print(
        f"[green]数据库已升级 database upgraded[/]: {settings.sqlalchemy_url.split('@')[-1]}"
    )


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="User name 用户名")],
    role: Annotated[
        str,
        typer.Option(
            help="applicant/officer/reviewer/risk_manager/operations/collector/auditor/admin"
        ),
    ],
    enterprise: Annotated[
        str | None, typer.Option(help="USCC of the enterprise (applicants)")
    ] = None,
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="LOOM_NEW_PASSWORD",
            help="Password (≥ 8 characters); prompted if omitted",
        ),
    ] = "",
) -> None:
    """Add a user on the server (the operator's bootstrap; audited under cli:<OS user>)."""
    from loomcredit.adapters.security import hash_password
    from loomcredit.service_layer.user_admin import create_user

    svc = service()
    try:
        digest = hash_password(password)
        with svc.uow() as uow:
            account = create_user(
                uow,
                actor=operator_name(),
                name=name,
                role=role,
                password_hash=digest,
                enterprise=enterprise,
                now=svc.clock(),
            )
            uow.commit()
    except ValueError as exc:
        raise CliInputError(str(exc)) from None
    Console().print(f"[green]用户已添加 user added[/]: {account.name} ({account.role.value})")


@users_app.command("disable")
def users_disable(
    name: Annotated[str, typer.Argument(help="User name 用户名")],
    reason: Annotated[str, typer.Option(help="Why 原因")],
) -> None:
    """Disable a user at once (its tokens stop working)."""
    from loomcredit.service_layer.user_admin import disable_user

    svc = service()
    with svc.uow() as uow:
        disable_user(uow, operator("admin"), name, reason=reason, now=svc.clock())
        uow.commit()
    Console().print(f"[yellow]用户已停用 user disabled[/]: {name}")


@users_app.command("list")
def users_list() -> None:
    """Every user and role."""
    from loomcredit.service_layer.user_admin import list_users

    svc = service()
    with svc.uow() as uow:
        accounts = list_users(uow, operator("admin"))
    table = Table("name", "role", "enterprise", "disabled")
    for a in accounts:
        table.add_row(
            a.name,
            f"{a.role.label_zh} {a.role.value}",
            a.enterprise_uscc or "",
            a.disabled_at.isoformat() if a.disabled_at else "",
        )
    Console().print(table)


def eod_cmd(
    date_: Annotated[str, typer.Option("--date", help="Business date YYYY-MM-DD 业务日期")],
    monitor: Annotated[
        bool,
        typer.Option(
            "--monitor",
            help="Then monitor as of the date 贷后监控 (and on a month end review limits 额度复核)",
        ),
    ] = False,
) -> None:
    """Run end of day up to a date: suspense, accrual, DPD, bucket, grade floor, reminders
    (idempotent; never a date after today); with --monitor, then the warning rules as of it and,
    on a month end, the monthly limit review for the coming month."""
    from loomcredit.service_layer.eod import run_eod
    from loomcredit.service_layer.monitoring import close_and_monitor

    try:
        as_of = date.fromisoformat(date_)
    except ValueError:
        raise CliInputError(f"--date {date_!r} is not a date; write it like 2026-03-31") from None
    svc = service()
    run = reviewed = None
    with svc.uow() as uow:
        if monitor:
            features, rules = svc.monitoring()
            out, run, reviewed = close_and_monitor(
                uow, operator(), features, rules, as_of, now=svc.clock(),
                review=(svc.decider, svc.review_policy()), notices=svc.notice_policy(),
                cases_policy=svc.collections_policy(),
            )  # fmt: skip
        else:
            out = run_eod(uow, operator(), as_of, now=svc.clock(), notices=svc.notice_policy(),
                          cases_policy=svc.collections_policy())  # fmt: skip
    if out.already:
        Console().print(f"日终 {as_of} 已完成 already done; nothing changed")
    else:
        c = out.counts
        Console().print(
            f"[green]日终完成 EOD done[/] {as_of}: {out.days_run} day(s) run 补跑天数, "
            f"{c.loans if c else 0} loans, {c.reminders if c else 0} reminders"
        )
    if run is not None:
        from loomcredit.entrypoints.cli.commands_lines import print_review
        from loomcredit.entrypoints.cli.commands_monitor import print_run

        print_run(run)
        if reviewed is not None:
            print_review(reviewed)


@audit_app.command("verify")
def audit_verify() -> None:
    """Verify the keyed audit chain and its sealed head; exit 1 at the first bad record."""
    from loomcredit.service_layer.audit_admin import verify

    svc = service()
    with svc.uow() as uow:
        rep = verify(uow, None, svc.audit_key)
    if rep.ok:
        Console().print(f"[green]审计链完好 audit chain intact[/]: {rep.records} records")
        return
    Console(stderr=True).print(
        f"[bold red]审计链被改动 audit chain broken[/] at record {rep.first_bad}: {rep.reason}"
    )
    raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the service commands to `loom`."""
    app.command("serve")(serve)
    app.command("eod")(eod_cmd)
    app.add_typer(db_app, name="db")
    app.add_typer(users_app, name="users")
    app.add_typer(audit_app, name="audit")
