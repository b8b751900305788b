"""The notice outbox on SQLAlchemy (``notices``) and the console inbox (``inbox_messages``).

The day's facts are three set-based reads (candidate loans, their instalments due on the
policy's dates, the earliest overdue instalment of the overdue ones); deliveries are written with
one bulk insert. A claim is one ``UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING``: on
PostgreSQL the inner select takes ``FOR UPDATE SKIP LOCKED`` so concurrent runs take different
rows; on SQLite writers serialise (``BEGIN IMMEDIATE``). Addresses are personal information:
stored AES-256-GCM encrypted with the PII key (base64), never in clear.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import and_, func, or_, select, text, update

from loomcredit.adapters import orm
from loomcredit.adapters.repositories._base import (
    Tx,
    among,
    as_date,
    aware,
    aware_or_none,
    insert_many,
)
from loomcredit.domain.contacts import Channel
from loomcredit.domain.end_of_day import e8_to_fen
from loomcredit.domain.money import Money
from loomcredit.domain.notices import DeliveryStatus, DueLine, NoticeFacts
from loomcredit.service_layer.unit_of_work import (
    Delivery,
    DeliveryOutcome,
    InboxMessage,
    NoticeRepository,
)

_N = orm.notices
_I = orm.inbox_messages
_AAD = b"loom-notice-address"
_UNPAID = "(i.principal_paid_fen < i.principal_fen OR i.interest_paid_fen < i.interest_fen)"


def seal_address(aead: AESGCM, value: str) -> str:
    """An address encrypted for the table (nonce + ciphertext + tag, base64)."""
    nonce = secrets.token_bytes(12)
    return base64.b64encode(nonce + aead.encrypt(nonce, value.encode(), _AAD)).decode()


def open_address(aead: AESGCM, blob: str) -> str:
    """The address back from :func:`seal_address`."""
    raw = base64.b64decode(blob)
    return aead.decrypt(raw[:12], raw[12:], _AAD).decode()


class SqlNoticeRepository(NoticeRepository):
    """The ``notices`` and ``inbox_messages`` tables."""

    def __init__(self, tx: Tx) -> None:
        self._tx = tx

    # -- addresses ------------------------------------------------------------------------------
    def _aead(self) -> AESGCM:
        if self._tx.pii_key is None:
            raise RuntimeError("a PII key is needed to queue or send notices")
        return AESGCM(self._tx.pii_key)

    def _seal(self, aead: AESGCM, value: str) -> str:
        return seal_address(aead, value)

    def _open(self, aead: AESGCM, blob: str) -> str:
        return open_address(aead, blob)

    # -- queueing -------------------------------------------------------------------------------
    def facts(self, on: date, due_dates: Sequence[date]) -> list[NoticeFacts]:
        # Instalments due on the policy's dates, and every overdue unpaid instalment of the
        # overdue loans (the domain takes the earliest): both read by index (due_on; loan_id).
        tx, conn = self._tx, self._tx.conn
        dates = [tx.day(d) for d in due_dates]
        marks = ", ".join(f":d{k}" for k in range(len(dates)))
        params: dict[str, Any] = {f"d{k}": d for k, d in enumerate(dates)}
        params["on"] = tx.day(on)
        day = "CAST(:on AS DATE)" if tx.is_pg else ":on"
        due_in = ", ".join(f"CAST(:d{k} AS DATE)" for k in range(len(dates))) if tx.is_pg else marks
        lines: dict[int, list[DueLine]] = {}
        currency: dict[int, str] = {}
        rows = conn.execute(text(f"""
            SELECT i.loan_id, i.number, i.due_on, i.principal_fen - i.principal_paid_fen AS p,
                   i.interest_fen - i.interest_paid_fen AS it, l.currency
            FROM installments i JOIN loans l ON l.id = i.loan_id
            WHERE i.due_on IN ({due_in}) AND {_UNPAID} AND l.status = 'active'
            UNION ALL
            SELECT i.loan_id, i.number, i.due_on, i.principal_fen - i.principal_paid_fen,
                   i.interest_fen - i.interest_paid_fen, l.currency
            FROM loans l JOIN installments i ON i.loan_id = l.id
            WHERE l.status = 'active' AND l.dpd > 0 AND i.due_on < {day} AND {_UNPAID}
            """), params)  # fmt: skip
        for r in rows:
            cur = currency.setdefault(r.loan_id, r.currency)
            due = as_date(r.due_on)
            if due is None:
                raise ValueError("an instalment's due date is never empty")
            lines.setdefault(r.loan_id, []).append(
                DueLine(r.number, due, Money(int(r.p), cur), Money(int(r.it), cur))
            )
        if not lines:
            return []
        ln, cl, ld = orm.loans.c, orm.credit_lines.c, orm.loan_days.c
        stmt = (
            select(ln.id, ln.uscc, ln.currency, ln.dpd, ln.accrued_penalty_e8,
                   ln.penalty_paid_fen, cl.settlement_account,
                   func.coalesce(ld.overdue_principal_fen, 0).label("op"),
                   func.coalesce(ld.overdue_interest_fen, 0).label("oi"))
            .select_from(orm.loans.join(orm.credit_lines, cl.id == ln.line_id)
                         .outerjoin(orm.loan_days, and_(ld.loan_id == ln.id, ld.as_of == on)))
            .where(among(tx, ln.id, sorted(lines)))
            .order_by(ln.id)
        )  # fmt: skip
        loans = conn.execute(stmt)
        out = []
        for r in loans:
            cur = r.currency
            penalty = max(0, e8_to_fen(int(r.accrued_penalty_e8)) - int(r.penalty_paid_fen))
            out.append(NoticeFacts(r.id, r.uscc, int(r.dpd), tuple(lines[r.id]),
                                   Money(int(r.op), cur), Money(int(r.oi), cur),
                                   Money(penalty, cur), r.settlement_account))  # fmt: skip
        return out

    def queued_keys(self, loan_ids: Iterable[int]) -> set[tuple[int, int, str]]:
        ids = sorted(set(loan_ids))
        if not ids:
            return set()
        stmt = (
            select(_N.c.loan_id, _N.c.installment, _N.c.kind)
            .distinct()
            .where(among(self._tx, _N.c.loan_id, ids))
        )
        return {(r.loan_id, r.installment, r.kind) for r in self._tx.conn.execute(stmt)}

    def add_many(self, deliveries: Sequence[Delivery]) -> int:
        if not deliveries:
            return 0
        aead = self._aead()
        rows = [
            {
                "loan_id": d.loan_id,
                "uscc": d.uscc,
                "installment": d.installment,
                "kind": d.kind,
                "created_for": d.created_for,
                "due_on": d.due_on,
                "amount_fen": d.amount.minor,
                "currency": d.amount.currency,
                "dpd": d.dpd,
                "channel": d.channel.value,
                "contact_id": d.contact_id,
                "address_enc": self._seal(aead, d.address),
                "language": d.language,
                "subject": d.subject[:200],
                "body": d.body,
                "policy_version": d.policy_version,
                "status": d.status.value,
                "attempts": d.attempts,
                "next_attempt_at": d.next_attempt_at,
                "last_error": d.last_error,
            }
            for d in deliveries
        ]
        insert_many(self._tx, _N, rows)
        return len(rows)

    # -- delivery -------------------------------------------------------------------------------
    def claim(self, now: datetime, lease_until: datetime, run: str, limit: int) -> list[Delivery]:
        due = or_(
            and_(_N.c.status == DeliveryStatus.QUEUED.value, _N.c.next_attempt_at <= now),
            and_(_N.c.status == DeliveryStatus.SENDING.value, _N.c.lease_until <= now),
        )
        pick = select(_N.c.id).where(due).order_by(_N.c.next_attempt_at, _N.c.id).limit(limit)
        if self._tx.is_pg:
            pick = pick.with_for_update(skip_locked=True)
        stmt = (
            update(_N)
            .where(_N.c.id.in_(pick.scalar_subquery()))
            .values(
                status=DeliveryStatus.SENDING.value,
                attempts=_N.c.attempts + 1,
                lease_until=lease_until,
                claimed_by=run,
            )
            .returning(*_N.c)
        )
        rows = list(self._tx.conn.execute(stmt))
        aead = self._aead()
        return sorted((self._delivery(r, aead) for r in rows), key=lambda d: d.delivery_id)

    def finish(self, outcomes: Sequence[DeliveryOutcome], run: str) -> int:
        conn, n = self._tx.conn, 0
        mine = and_(_N.c.claimed_by == run, _N.c.status == DeliveryStatus.SENDING.value)
        delivered = [o for o in outcomes if o.status is DeliveryStatus.DELIVERED]
        by_time: dict[datetime | None, list[int]] = {}
        for o in delivered:
            by_time.setdefault(o.delivered_at, []).append(o.delivery_id)
        for at, ids in by_time.items():
            n += conn.execute(
                update(_N)
                .where(among(self._tx, _N.c.id, ids), mine)
                .values(status=DeliveryStatus.DELIVERED.value, delivered_at=at, lease_until=None)
            ).rowcount
        for o in outcomes:
            if o.status is DeliveryStatus.DELIVERED:
                continue
            values: dict[str, Any] = {"status": o.status.value, "last_error": o.last_error,
                                      "lease_until": None}  # fmt: skip
            if o.next_attempt_at is not None:
                values["next_attempt_at"] = o.next_attempt_at
            n += conn.execute(
                update(_N).where(_N.c.id == o.delivery_id, mine).values(**values)
            ).rowcount
        return int(n)

    # -- reading --------------------------------------------------------------------------------
    def _delivery(self, r: Any, aead: AESGCM) -> Delivery:
        created, due = as_date(r.created_for), as_date(r.due_on)
        if created is None or due is None:
            raise ValueError("a notice's dates are never empty")
        return Delivery(r.id, r.loan_id, r.uscc, r.installment, r.kind, created, due,
                        Money(int(r.amount_fen), r.currency), r.dpd, Channel(r.channel),
                        r.contact_id, self._open(aead, r.address_enc), r.language, r.subject,
                        r.body, r.policy_version, DeliveryStatus(r.status), r.attempts,
                        aware(r.next_attempt_at), r.last_error,
                        aware_or_none(r.delivered_at))  # fmt: skip

    def find(
        self,
        *,
        status: DeliveryStatus | None = None,
        loan_id: int | None = None,
        uscc: str | None = None,
        limit: int = 500,
    ) -> list[Delivery]:
        stmt = select(_N).order_by(_N.c.id.desc()).limit(limit)
        if status is not None:
            stmt = stmt.where(_N.c.status == status.value)
        if loan_id is not None:
            stmt = stmt.where(_N.c.loan_id == loan_id)
        if uscc is not None:
            stmt = stmt.where(_N.c.uscc == uscc)
        aead = self._aead()
        return [self._delivery(r, aead) for r in self._tx.conn.execute(stmt)]

    def prenotice_delivered_on(self, loan_id: int, kind: str) -> datetime | None:
        latest = (
            select(func.max(_N.c.created_for))
            .where(_N.c.loan_id == loan_id, _N.c.kind == kind)
            .scalar_subquery()
        )
        at = self._tx.conn.execute(
            select(func.min(_N.c.delivered_at)).where(
                _N.c.loan_id == loan_id,
                _N.c.kind == kind,
                _N.c.created_for == latest,
                _N.c.status == DeliveryStatus.DELIVERED.value,
            )
        ).scalar()
        if at is None:
            return None
        if isinstance(at, str):  # SQLite's MIN() of a DATETIME is text
            at = datetime.fromisoformat(at)
        return aware(at)

    def inbox(self, uscc: str, *, limit: int = 200) -> list[InboxMessage]:
        stmt = (
            select(_I).where(_I.c.uscc == uscc)
            .order_by(_I.c.delivered_at.desc(), _I.c.key.desc()).limit(limit)
        )  # fmt: skip
        return [InboxMessage(r.key, r.uscc, r.subject, r.body, aware(r.delivered_at))
                for r in self._tx.conn.execute(stmt)]  # fmt: skip
