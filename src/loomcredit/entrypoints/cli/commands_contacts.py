"""`loom contacts`: a borrower's registered contacts (登记联系人) — who notices go to and the only
people collections may contact. Channels are printed masked."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from loomcredit.domain.contacts import Contact, ContactRole
from loomcredit.entrypoints.cli.commands_service import operator, service

contacts_app = typer.Typer(
    help="Registered contacts 登记联系人: register, list, retire.", no_args_is_help=True
)
console = Console()


def _table(found: list[Contact]) -> Table:
    table = Table("id", "姓名 name", "角色 role", "手机 mobile", "邮箱 e-mail", "登记 registered",
                  "状态 state")  # fmt: skip
    for c in found:
        state = "有效 active" if c.active else f"已停用 retired {c.retired_on}"
        registered = f"{c.registered_on} {c.registered_by}"
        table.add_row(str(c.contact_id), c.name, c.role.label_zh, c.masked_phone or "—",
                      c.masked_email or "—", registered, state)  # fmt: skip
    return table


@contacts_app.command("add")
def add_cmd(
    uscc: Annotated[str, typer.Argument(help="The borrower's USCC 统一社会信用代码")],
    name: Annotated[str, typer.Option(help="The person's name 姓名")],
    role: Annotated[ContactRole, typer.Option(help="legal_rep / finance / guarantor / other")],
    phone: Annotated[str | None, typer.Option(help="Mainland mobile 手机号")] = None,
    email: Annotated[str | None, typer.Option(help="E-mail 邮箱")] = None,
) -> None:
    """Register a contact the borrower gave in its contract (as a customer manager)."""
    from loomcredit.service_layer.contacts import register_contact

    svc = service()
    with svc.uow() as uow:
        made = register_contact(uow, operator("officer"), uscc=uscc, name=name, role=role,
                                phone=phone, email=email, now=svc.clock())  # fmt: skip
        uow.commit()
    console.print(_table([made]))


@contacts_app.command("list")
def list_cmd(uscc: Annotated[str, typer.Argument(help="The borrower's USCC")]) -> None:
    """The borrower's contacts, active and retired."""
    from loomcredit.service_layer.contacts import contacts_of

    svc = service()
    with svc.uow() as uow:
        found = contacts_of(uow, operator("officer"), uscc)
    console.print(_table(found) if found else f"no contacts registered for {uscc} 无登记联系人")


@contacts_app.command("retire")
def retire_cmd(contact_id: Annotated[int, typer.Argument(help="The contact's id")]) -> None:
    """Retire a contact (kept on record; nothing is sent to it after)."""
    from loomcredit.service_layer.contacts import retire_contact

    svc = service()
    with svc.uow() as uow:
        done = retire_contact(uow, operator("officer"), contact_id, svc.clock())
        uow.commit()
    console.print(_table([done]))


def register(app: typer.Typer) -> None:
    """Add ``loom contacts``."""
    app.add_typer(contacts_app, name="contacts")
