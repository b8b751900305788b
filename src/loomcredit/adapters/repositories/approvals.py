"""Requests for a second person's approval on SQLAlchemy (``approval_requests``).

The order is stored as JSON tagged with its kind: ``{"type": "write_off", "loan_id": 7}``;
Money as ``{"fen": …, "currency": …}``, dates as ISO text, enums by value, a restructuring's
plan as a nested object.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import fields, is_dataclass
from datetime import date
from enum import Enum
from functools import cache
from types import UnionType
from typing import Any, get_args, get_type_hints

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
    RestructureOrder,
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
        RestructureOrder,
        LegalActionOrder,
    )
}


def _encode(value: Any) -> Any:
    """A field's value as JSON: Money, dates, enums and nested orders' parts (a plan)."""
    if isinstance(value, Money):
        return {"fen": value.minor, "currency": value.currency}
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in fields(value)}
    return value


def order_json(order: Order) -> str:
    """The order as tagged JSON."""
    doc: dict[str, Any] = {"type": order.kind.value}
    for f in fields(order):
        doc[f.name] = _encode(getattr(order, f.name))
    return json.dumps(doc, ensure_ascii=False, sort_keys=True)


@cache
def _hints(cls: type[Any]) -> dict[str, Any]:
    return get_type_hints(cls)


def _decode(value: Any, hint: Any) -> Any:
    """The inverse of :func:`_encode` for a field of type ``hint`` (``X | None`` included)."""
    if value is None:
        return None
    if isinstance(hint, UnionType):
        (hint,) = (a for a in get_args(hint) if a is not type(None))
    if hint is Money:
        return Money(int(value["fen"]), value["currency"])
    if hint is date:
        return date.fromisoformat(value)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint(value)
    if isinstance(hint, type) and is_dataclass(hint):
        return _build(hint, value)
    return value


def _build(cls: type[Any], doc: dict[str, Any]) -> Any:
    hints = _hints(cls)
    args = {f.name: _decode(doc[f.name], hints[f.name]) for f in fields(cls) if f.name in doc}
    return cls(**args)


def parse_order(text: str) -> Order:
    """The order a stored JSON text holds."""
    doc = json.loads(text)
    order: Order = _build(_ORDERS[doc.pop("type")], doc)
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
