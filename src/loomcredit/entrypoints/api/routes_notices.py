"""Routes: notices (还款提醒与逾期通知) — the outbox, a delivery run, the borrower's inbox."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from loomcredit.domain.contacts import Channel, mask_email, mask_phone
from loomcredit.domain.notices import DeliveryStatus
from loomcredit.entrypoints.api.deps import CurrentUser, Svc, Uow
from loomcredit.entrypoints.api.errors import ERRORS
from loomcredit.service_layer import notifications
from loomcredit.service_layer.unit_of_work import Delivery, InboxMessage

router = APIRouter(prefix="/api/v1", responses=ERRORS)


def _address(d: Delivery) -> str:
    """The recipient as views show it (PIPL: masked)."""
    if d.channel is Channel.EMAIL:
        return mask_email(d.address)
    if d.channel is Channel.SMS:
        return mask_phone(d.address)
    return d.address


def delivery_view(d: Delivery) -> dict[str, Any]:
    """One notice delivery."""
    return {
        "id": d.delivery_id,
        "key": d.key,
        "loan_id": d.loan_id,
        "uscc": d.uscc,
        "installment": d.installment,
        "kind": d.kind,
        "created_for": d.created_for.isoformat(),
        "due_on": d.due_on.isoformat(),
        "amount": {"amount": d.amount.amount_str(), "currency": d.amount.currency},
        "dpd": d.dpd,
        "channel": d.channel.value,
        "to": _address(d),
        "language": d.language,
        "subject": d.subject,
        "status": d.status.value,
        "status_zh": d.status.label_zh,
        "attempts": d.attempts,
        "next_attempt_at": d.next_attempt_at.isoformat(),
        "last_error": d.last_error,
        "delivered_at": None if d.delivered_at is None else d.delivered_at.isoformat(),
        "policy_version": d.policy_version,
    }


def inbox_view(m: InboxMessage) -> dict[str, Any]:
    """One inbox message."""
    return {"key": m.key, "subject": m.subject, "body": m.body,
            "delivered_at": m.delivered_at.isoformat()}  # fmt: skip


@router.get("/notices", tags=["notices"], summary="Notice outbox 通知发送记录")
def list_notices(
    user: CurrentUser,
    uow: Uow,
    status: Annotated[
        Literal["queued", "sending", "delivered", "failed"] | None, Query(description="Only this")
    ] = None,
    loan_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[dict[str, Any]]:
    """Notice deliveries, newest first (operations, collectors, auditors); addresses masked."""
    wanted = None if status is None else DeliveryStatus(status)
    found = notifications.list_notices(uow, user, status=wanted, loan_id=loan_id, limit=limit)
    return [delivery_view(d) for d in found]


@router.post("/admin/notices/send", tags=["notices"], summary="Deliver due notices 发送通知")
def send_notices(user: CurrentUser, svc: Svc) -> dict[str, Any]:
    """One delivery run over the due deliveries (operations): delivered, retrying, failed."""
    run = notifications.deliver_as(user, svc.uow, svc.notifiers(), svc.clock,
                                   policy=svc.notice_policy())  # fmt: skip
    return {"run": run.run, "delivered": run.delivered, "retrying": run.retrying,
            "failed": run.failed, "channels": svc.notifier_notes}  # fmt: skip


@router.get("/inbox", tags=["notices"], summary="My inbox 站内信")
def my_inbox(user: CurrentUser, uow: Uow) -> list[dict[str, Any]]:
    """The signed-in applicant's own notices, newest first."""
    return [inbox_view(m) for m in notifications.inbox(uow, user)]
