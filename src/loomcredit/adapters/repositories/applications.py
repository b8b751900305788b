"""Credit applications on SQLAlchemy; the legal representative's resident ID is stored encrypted
(AES-256-GCM) with an HMAC join key, never in clear."""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update

from loomcredit.adapters import orm
from loomcredit.adapters.repositories import decision_json
from loomcredit.adapters.repositories._base import Tx, aware, insert_one, locked
from loomcredit.domain.application import Application, ApplicationStatus
from loomcredit.domain.money import Money
from loomcredit.pipeline.ingest.pii import decrypt, encrypt, join_hash
from loomcredit.service_layer.unit_of_work import ApplicationRepository

_T = orm.applications
#: Before credit lines (0006) a disbursed application had its own status; it is accepted now.
_LEGACY_STATUS = {"disbursed": ApplicationStatus.ACCEPTED}


def status_of(text: str) -> ApplicationStatus:
    """A stored status (``disbursed`` reads as accepted)."""
    return _LEGACY_STATUS.get(text) or ApplicationStatus(text)


class SqlApplicationRepository(ApplicationRepository):
    """The ``applications`` table."""

    def __init__(self, tx: Tx) -> None:
        self._tx = tx
        self._rep_ids: dict[int, str | None] = {}  # the resident ID each loaded row holds
        tx.on_reset(self._rep_ids.clear)

    def _encrypted(self, rep_id: str | None) -> dict[str, str | None]:
        if not rep_id:
            return {"legal_rep_enc": None, "legal_rep_hash": None}
        key = self._tx.pii_key
        if key is None:
            raise RuntimeError("a PII key is needed to store a resident ID")
        blob = base64.b64encode(encrypt(rep_id, key)).decode("ascii")
        return {"legal_rep_enc": blob, "legal_rep_hash": join_hash(rep_id, key)}

    def _values(self, app: Application) -> dict[str, Any]:
        d = app.decision
        return {
            "uscc": app.uscc,
            "amount_fen": app.amount.minor,
            "approved_fen": None if app.approved is None else app.approved.minor,
            "currency": app.amount.currency,
            "term_months": app.term_months,
            "method": app.method,
            "status": app.status.value,
            "band": d.band.value,
            "annual_rate": str(d.annual_rate),
            "penalty_uplift": str(app.penalty_uplift),
            "decision_json": decision_json.dump(d),
            "as_of": app.as_of,
            "created_by": app.created_by,
            "updated_by": app.updated_by,
            "reviewed_by": app.reviewed_by,
            "review_comment": app.review_comment,
            "created_at": aware(app.created_at),
            "updated_at": aware(app.updated_at),
            "settlement_account": app.settlement_account,
        }

    def _app(self, row: Any) -> Application:
        cur = row.currency
        enc, key = row.legal_rep_enc, self._tx.pii_key
        rep_id = decrypt(base64.b64decode(enc), key) if enc and key else None
        self._rep_ids[row.id] = rep_id
        created = aware(row.created_at)
        as_of = row.as_of or decision_json.record_date(row.decision_json) or created.date()
        return Application(
            app_id=row.id,
            uscc=row.uscc,
            amount=Money(row.amount_fen, cur),
            term_months=row.term_months,
            method=row.method,
            decision=decision_json.load(
                row.decision_json,
                currency=cur,
                band=row.band,
                annual_rate=row.annual_rate,
                as_of=as_of,
            ),
            as_of=as_of,
            status=status_of(row.status),
            approved=None if row.approved_fen is None else Money(row.approved_fen, cur),
            penalty_uplift=Decimal(row.penalty_uplift),
            created_by=row.created_by,
            updated_by=row.updated_by,
            created_at=created,
            updated_at=aware(row.updated_at),
            reviewed_by=row.reviewed_by,
            review_comment=row.review_comment,
            legal_rep_id=rep_id,
            settlement_account=row.settlement_account,
        )

    def add(self, app: Application) -> int:
        """Insert; sets ``app.app_id``."""
        values = {**self._values(app), **self._encrypted(app.legal_rep_id)}
        app.app_id = insert_one(self._tx, _T, values)
        self._rep_ids[app.app_id] = app.legal_rep_id
        return app.app_id

    def get(self, app_id: int, *, lock: bool = False) -> Application | None:
        """One application (``SELECT … FOR UPDATE`` with ``lock`` on PostgreSQL)."""
        stmt = locked(self._tx, select(_T).where(_T.c.id == app_id), lock)
        row = self._tx.conn.execute(stmt).first()
        return None if row is None else self._app(row)

    def save(self, app: Application) -> None:
        """Update every column; the resident ID is encrypted again only when it changed."""
        values = self._values(app)
        if app.app_id not in self._rep_ids:
            self.get(app.app_id)
        if self._rep_ids.get(app.app_id) != app.legal_rep_id:
            values |= self._encrypted(app.legal_rep_id)
            self._rep_ids[app.app_id] = app.legal_rep_id
        self._tx.conn.execute(update(_T).where(_T.c.id == app.app_id).values(**values))

    def find(
        self, *, status: ApplicationStatus | None = None, uscc: str | None = None
    ) -> list[Application]:
        """Newest first."""
        stmt = select(_T).order_by(_T.c.id.desc())
        if status is not None:
            stored = [status.value] + [k for k, v in _LEGACY_STATUS.items() if v is status]
            stmt = stmt.where(_T.c.status.in_(stored))
        if uscc:
            stmt = stmt.where(_T.c.uscc == uscc)
        return [self._app(r) for r in self._tx.conn.execute(stmt)]
