"""The keyed, hash-chained audit log on SQLAlchemy: appends are serialised on the head row
(``SELECT … FOR UPDATE`` on PostgreSQL; SQLite writers serialise already)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from loomcredit.adapters import orm
from loomcredit.adapters.repositories._base import Tx, aware, locked
from loomcredit.service_layer.audit import AuditDetail, AuditHead, AuditRecord, next_record
from loomcredit.service_layer.unit_of_work import AuditLog

_LOG, _HEAD = orm.audit_log, orm.audit_head


def _head(row: Any) -> AuditHead | None:
    if row is None or row.last_seq == 0:
        return None
    return AuditHead(row.last_seq, row.last_hash, row.mac)


class SqlAuditLog(AuditLog):
    """``audit_log`` and its one-row ``audit_head``."""

    def __init__(self, tx: Tx) -> None:
        self._tx = tx

    def append(
        self, actor: str, action: str, subject: str, detail: AuditDetail, at: datetime
    ) -> None:
        """Lock the head, chain the record to it under the audit key, store both."""
        conn = self._tx.conn
        stmt = locked(self._tx, select(_HEAD).where(_HEAD.c.id == 1), True)
        row = conn.execute(stmt).first()
        if row is None:  # a schema made without migration 0001's head row
            conn.execute(insert(_HEAD).values(id=1, last_seq=0, last_hash="0" * 64))
            row = conn.execute(stmt).first()
        record, head = next_record(
            self._tx.audit_key,
            _head(row),
            actor=actor,
            action=action,
            subject=subject,
            detail=detail,
            at=aware(at),  # stored and chained in UTC, as it is read back
        )
        conn.execute(
            insert(_LOG).values(
                seq=record.seq,
                at=record.at,
                actor=record.actor,
                action=record.action,
                subject=record.subject,
                detail=record.detail,
                prev_hash=record.prev_hash,
                hash=record.hash,
                keyed=record.keyed,
            )
        )
        conn.execute(
            update(_HEAD)
            .where(_HEAD.c.id == 1)
            .values(last_seq=head.seq, last_hash=head.hash, mac=head.mac)
        )

    def records(self) -> Iterator[AuditRecord]:
        """The log in sequence order."""
        rows = self._tx.conn.execute(select(_LOG).order_by(_LOG.c.seq)).all()
        for r in rows:
            yield AuditRecord(
                r.seq,
                aware(r.at),
                r.actor,
                r.action,
                r.subject,
                r.detail,
                r.prev_hash,
                r.hash,
                bool(r.keyed),
            )

    def head(self) -> AuditHead | None:
        """The stored head (None before the first record)."""
        return _head(self._tx.conn.execute(select(_HEAD).where(_HEAD.c.id == 1)).first())
