"""Routes: money from the bank — statement import, auto-debit and its settlement, the exceptions
queue, reconciliation."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from loomcredit.adapters.bank_files import parse_statement
from loomcredit.entrypoints.api import views
from loomcredit.entrypoints.api.deps import CurrentUser, Id, Svc, Uow
from loomcredit.entrypoints.api.errors import ERRORS
from loomcredit.entrypoints.api.schemas import AssignIn, CommentIn, IsoDate
from loomcredit.service_layer import payments
from loomcredit.service_layer.errors import InvalidRequestError
from loomcredit.service_layer.users import Action, require

router = APIRouter(prefix="/api/v1/payments", responses=ERRORS, tags=["payments"])
MAX_STATEMENT_BYTES = 64 * 1024 * 1024


@router.post(
    "/statements",
    status_code=201,
    summary="Import a bank statement 导入对账单",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
)
async def import_statement(
    request: Request,
    user: CurrentUser,
    svc: Svc,
    file_name: Annotated[str, Query(min_length=1, max_length=200)] = "statement.csv",
) -> dict[str, Any]:
    """The CSV body (bank_ref, value_date, account, counterparty, amount[, memo]) is matched line
    by line; a bad file is refused whole, with every bad row named."""
    require(user, Action.IMPORT_STATEMENT)  # before reading a file the user may not import
    data = await request.body()
    if len(data) > MAX_STATEMENT_BYTES:
        raise InvalidRequestError(f"a statement is at most {MAX_STATEMENT_BYTES} bytes")
    statement = parse_statement(data, file_name)
    with svc.uow() as uow:
        out = payments.import_statement(
            uow,
            user,
            list(statement.lines),
            file_name=file_name,
            sha256=hashlib.sha256(data).hexdigest(),
            now=svc.clock(),
        )
        uow.commit()
    return views.import_result(out)


@router.post("/auto-debit", status_code=201, summary="Run today's auto-debit 代扣")
def auto_debit(user: CurrentUser, svc: Svc, uow: Uow) -> dict[str, Any]:
    """Send the business date's debit instructions to the bank core."""
    return views.auto_debit(payments.run_auto_debit(uow, svc.bank, user, now=svc.clock()))


@router.post("/auto-debit/{batch_id}/settle", summary="Book the core's settlement file 代扣结果")
def settle(
    batch_id: Annotated[str, Path(pattern=r"^AD\d{8}$")],
    user: CurrentUser,
    svc: Svc,
    uow: Uow,
) -> dict[str, Any]:
    """Book what the settlement file says was paid; record failures with the core's reason."""
    out = payments.apply_settlement(uow, svc.bank, user, batch_id, now=svc.clock())
    uow.commit()
    return views.settlement(out)


@router.get("/exceptions", summary="Exceptions queue 挂账待处理")
def exceptions(user: CurrentUser, uow: Uow) -> list[dict[str, Any]]:
    """Statement lines waiting for a person, with the reason."""
    return [views.statement_entry(e) for e in payments.exceptions(uow, user)]


@router.post("/exceptions/{line_id}/assign", summary="Assign to a loan 挂账认领")
def assign(line_id: Id, body: AssignIn, user: CurrentUser, svc: Svc, uow: Uow) -> dict[str, Any]:
    """Book a waiting line to a loan on the business date."""
    out = payments.assign_line(
        uow, user, line_id, body.loan_id, comment=body.comment, now=svc.clock()
    )
    uow.commit()
    return views.receipt(out)


@router.post("/exceptions/{line_id}/return", summary="Return to the payer 退回")
def return_(line_id: Id, body: CommentIn, user: CurrentUser, svc: Svc, uow: Uow) -> dict[str, Any]:
    """Send a waiting line's money back."""
    out = payments.return_line(uow, user, line_id, comment=body.comment, now=svc.clock())
    uow.commit()
    return views.statement_entry(out)


@router.get("/reconciliation", summary="Reconciliation 对账")
def reconciliation(
    user: CurrentUser,
    svc: Svc,
    uow: Uow,
    value_date: Annotated[IsoDate | None, Query(description="default: the business date")] = None,
) -> dict[str, Any]:
    """Statement total = booked + unmatched + returned, to the fen."""
    return views.reconciliation(
        payments.reconcile(uow, user, now=svc.clock(), value_date=value_date)
    )
