"""`loom serve`, `loom db upgrade`, `loom users add`, `loom eod`, `loom audit verify`."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.console import Console

from loomcredit.domain.errors import LoomError

db_app = typer.Typer(help="Operational database 业务数据库.", no_args_is_help=True)
users_app = typer.Typer(help="Users and roles 用户与角色.", no_args_is_help=True)
audit_app = typer.Typer(help="Audit log 审计日志.", no_args_is_help=True)


class CliInputError(LoomError):
    """A bad command-line value."""


def _settings():  # type: ignore[no-untyped-def]
    from loomcredit.config import get_settings

    return get_settings()


def serve(
    host: Annotated[str, typer.Option(help="Interface to bind 监听地址")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port 端口", min=1, max=65535)] = 8000,
) -> None:
    """Start the lending API (OpenAPI at /docs) on SQLite under LOOM_HOME or LOOM_DATABASE_URL."""
    import uvicorn

    from loomcredit.bootstrap.service import build_service
    from loomcredit.entrypoints.api.app import create_app

    settings = _settings()
    app = create_app(settings, service=build_service(settings, real_decider=True))
    uvicorn.run(app, host=host, port=port, log_level="info")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply all migrations (SQLite file under LOOM_HOME, or LOOM_DATABASE_URL)."""
    from loomcredit.bootstrap.service import upgrade_database

    settings = _settings()
    upgrade_database(settings.sqlalchemy_url)
    Console().print(
        f"[green]数据库已升级 database upgraded[/]: {settings.sqlalchemy_url.split('@')[-1]}"
    )


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="User name 用户名")],
    role: Annotated[
        str, typer.Option(help="applicant/officer/reviewer/risk_manager/collector/auditor/admin")
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
    """Add a user with a role (password hashed with argon2id)."""
    from loomcredit.bootstrap.service import add_user, build_service
    from loomcredit.service_layer.unit_of_work import DuplicateKey

    svc = build_service(_settings())
    try:
        row = add_user(svc, name, role, password, enterprise)
    except ValueError as exc:
        raise CliInputError(str(exc)) from None
    except DuplicateKey:
        raise CliInputError(f"user {name!r} already exists") from None
    Console().print(f"[green]用户已添加 user added[/]: {row['name']} ({row['role']})")


def eod_cmd(
    date_: Annotated[str, typer.Option("--date", help="Business date YYYY-MM-DD 业务日期")],
) -> None:
    """Run end of day for a date: accrual, DPD, bucket, grade floor, reminders (idempotent)."""
    from loomcredit.bootstrap.service import build_service
    from loomcredit.service_layer.eod import run_eod
    from loomcredit.service_layer.users import Role, User

    try:
        as_of = date.fromisoformat(date_)
    except ValueError:
        raise CliInputError(f"--date {date_!r} is not a date; write it like 2026-03-31") from None
    svc = build_service(_settings())
    with svc.uow() as uow:
        out = run_eod(uow, User("cli-eod", Role.ADMIN), as_of, now=svc.clock())
    if out.get("already"):
        Console().print(f"日终 {as_of} 已完成 already done; nothing changed")
    else:
        Console().print(
            f"[green]日终完成 EOD done[/] {as_of}: {out['days_run']} day(s) run 补跑天数, "
            f"{out['loans']} loans, {out['reminders']} reminders"
        )


@audit_app.command("verify")
def audit_verify() -> None:
    """Recompute the audit hash chain; exit 1 at the first edited record."""
    from loomcredit.bootstrap.service import build_service
    from loomcredit.service_layer.audit import verify_chain

    svc = build_service(_settings())
    with svc.uow() as uow:
        rep = verify_chain(uow.audit_records())
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
