"""Requests for a second person's approval on SQLAlchemy (``approval_requests``).

The order is stored as JSON tagged with its kind: ``{"type": "write_off", "loan_id": 7}``;
Money as ``{"fen": …, "currency": …}``, dates as ISO text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import fields
from datetime import date
from functools import cache
from typing import Any, get_type_hints

from sqlalchemy import select, update

from loomcredit.adapters import orm
from loomcredit.adapters.repositories._base import Tx, aware, aware_or_none, insert_one, locked
from loomcredit.domain.approval import (
    ApprovalKind,
    ApprovalRequest,
    ApprovalStatus,
    BackValuedReceiptOrder,
    CallInOrder,
    DrawdownOrder,
    LegalActionOrder,
    LimitReviewOrder,
    LineReductionOrder,
    Order,
    ReversalOrder,
    RoleGrantOrder,
    WriteOffOrder,
)
from loomcredit.domain.money import Money
from loomcredit.service_layer.unit_of_work import ApprovalRepository

_T = orm.approval_requests
_ORDERS: dict[str, type[Any]] = {
    o.kind.value: o
    for o in (
        DrawdownOrder,
        WriteOffOrder,
        ReversalOrder,
        BackValuedReceiptOrder,
        RoleGrantOrder,
        LineReductionOrder,
        LimitReviewOrder,
        CallInOrder,
        LegalActionOrder,
    )
}


def order_json(order: Order) -> str:
    """The order as tagged JSON."""
    doc: dict[str, Any] = {"type": order.kind.value}
    for f in fields(order):
        value = getattr(order, f.name)
        if isinstance(value, Money):
            value = {"fen": value.minor, "currency": value.currency}
        elif isinstance(value, date):
            value = value.isoformat()
        doc[f.name] = value
    return json.dumps(doc, ensure_ascii=False, sort_keys=True)


@cache
def _hints(cls: type[Any]) -> dict[str, Any]:
    return get_type_hints(cls)


def parse_order(text: str) -> Order:
    """The order a stored JSON text holds."""
    doc = json.loads(text)
    cls = _ORDERS[doc.pop("type")]
    hints = _hints(cls)
    args: dict[str, Any] = {}
    for f in fields(cls):
        if f.name not in doc:
            continue
        value, hint = doc[f.name], hints[f.name]
        if hint is Money:
            value = Money(int(value["fen"]), value["currency"])
        elif hint is date:
            value = date.fromisoformat(value)
        args[f.name] = value
    order: Order = cls(**args)
    return order


def _request(row: Any) -> ApprovalRequest:
    return ApprovalRequest(
        request_id=row.id,
        order=parse_order(row.order_json),
        requested_by=row.requested_by,
        requested_at=aware(row.requested_at),
        reason=row.reason,
        excluded=frozenset(json.loads(row.excluded or "[]")),
        status=ApprovalStatus(row.status),
        decided_by=row.decided_by,
        decided_at=aware_or_none(row.decided_at),
        comment=row.comment,
        key=row.idempotency_key,
    )


def _decision(request: ApprovalRequest) -> dict[str, Any]:
    return {
        "status": request.status.value,
        "decided_by": request.decided_by,
        "decided_at": aware_or_none(request.decided_at),
        "comment": request.comment,
        "excluded": json.dumps(sorted(request.excluded), ensure_ascii=False),
    }


class SqlApprovalRepository(ApprovalRepository):
    """The ``approval_requests`` table."""

    def __init__(self, tx: Tx) -> None:
        self._tx = tx

    def add(self, request: ApprovalRequest) -> int:
        """Insert (a reused idempotency key is :class:`DuplicateKey`); sets the id."""
        request.request_id = insert_one(
            self._tx,
            _T,
            {
                **_decision(request),
                "kind": request.kind.value,
                "subject": request.subject,
                "order_json": order_json(request.order),
                "requested_by": request.requested_by,
                "requested_at": aware(request.requested_at),
                "reason": request.reason,
                "idempotency_key": request.key,
            },
        )
        return request.request_id

    def get(self, request_id: int, *, lock: bool = False) -> ApprovalRequest | None:
        """One request."""
        stmt = locked(self._tx, select(_T).where(_T.c.id == request_id), lock)
        row = self._tx.conn.execute(stmt).first()
        return None if row is None else _request(row)

    def by_key(self, key: str) -> ApprovalRequest | None:
        """By idempotency key."""
        row = self._tx.conn.execute(select(_T).where(_T.c.idempotency_key == key)).first()
        return None if row is None else _request(row)

    def save(self, request: ApprovalRequest) -> None:
        """Store the decision."""
        stmt = update(_T).where(_T.c.id == request.request_id).values(**_decision(request))
        self._tx.conn.execute(stmt)

    def pending(
        self, *, kinds: Iterable[ApprovalKind] | None = None, subject: str | None = None
    ) -> list[ApprovalRequest]:
        """Waiting ones, oldest first."""
        stmt = select(_T).where(_T.c.status == ApprovalStatus.PENDING.value)
        if kinds is not None:
            stmt = stmt.where(_T.c.kind.in_([k.value for k in kinds]))
        if subject is not None:
            stmt = stmt.where(_T.c.subject == subject)
        stmt = stmt.order_by(_T.c.requested_at, _T.c.id)
        return [_request(r) for r in self._tx.conn.execute(stmt)]
