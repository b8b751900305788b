"""Early-warning alerts on SQLAlchemy (``alerts``, ``alert_steps``).

Evidence is stored as a JSON list (dates as ISO text). The database keeps one open alert per
borrower and rule (a partial unique index), so two monitoring runs at once cannot both raise it.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import case, func, select, update

from loomcredit.adapters import orm
from loomcredit.adapters.repositories._base import (
    Tx,
    among,
    aware,
    aware_or_none,
    insert_many,
    insert_one,
    locked,
)
from loomcredit.domain.alerts import Alert, AlertLevel, AlertStatus, AlertStep, Evidence
from loomcredit.service_layer.unit_of_work import AlertRepository, StaleAggregate

_A, _S = orm.alerts, orm.alert_steps


def evidence_json(evidence: Iterable[Evidence]) -> str:
    """The evidence as a JSON list."""
    return json.dumps(
        [
            {
                "feature": e.feature,
                "value": e.value,
                "baseline": e.baseline,
                "as_of": e.as_of.isoformat(),
                "message_zh": e.message_zh,
                "message_en": e.message_en,
            }
            for e in evidence
        ],
        ensure_ascii=False,
    )


def parse_evidence(text: str) -> tuple[Evidence, ...]:
    """The evidence a stored JSON list holds."""
    return tuple(
        Evidence(
            d["feature"],
            d["value"],
            d["baseline"],
            date.fromisoformat(d["as_of"]),
            d["message_zh"],
            d["message_en"],
        )
        for d in json.loads(text)
    )


def _values(alert: Alert) -> dict[str, Any]:
    return {
        "level": alert.level.value,
        "status": alert.status.value,
        "evidence_json": evidence_json(alert.evidence),
        "first_seen": alert.first_seen,
        "last_seen": alert.last_seen,
        "assignee": alert.assignee,
        "escalated_at": aware_or_none(alert.escalated_at),
        "froze_line": alert.froze_line,
    }


class SqlAlertRepository(AlertRepository):
    """The ``alerts`` and ``alert_steps`` tables."""

    def __init__(self, tx: Tx) -> None:
        self._tx = tx

    def add(self, alert: Alert) -> int:
        """Insert with its steps (a second open alert for the borrower and rule is
        :class:`DuplicateKey`); sets the id."""
        alert.alert_id = insert_one(
            self._tx,
            _A,
            {
                **_values(alert),
                "uscc": alert.uscc,
                "line_id": alert.line_id,
                "rule": alert.rule,
                "raised_at": aware(alert.raised_at),
                "version": alert.version,
            },
        )
        self._write_steps(alert, stored=0)
        return alert.alert_id

    def _write_steps(self, alert: Alert, stored: int | None = None) -> None:
        """The steps not stored yet (steps are only ever appended; ``stored``: how many are)."""
        if stored is None:
            count = select(func.count()).select_from(_S).where(_S.c.alert_id == alert.alert_id)
            stored = int(self._tx.conn.execute(count).scalar_one())
        new = alert.steps[stored:]
        if not new:
            return
        insert_many(
            self._tx,
            _S,
            [
                {
                    "alert_id": alert.alert_id,
                    "status": s.status.value,
                    "actor": s.by,
                    "at": aware(s.at),
                    "comment": s.comment,
                }
                for s in new
            ],
        )

    def _load(self, rows: list[Any]) -> list[Alert]:
        if not rows:
            return []
        steps: dict[int, list[AlertStep]] = defaultdict(list)
        stmt = (
            select(_S)
            .where(among(self._tx, _S.c.alert_id, [r.id for r in rows]))
            .order_by(_S.c.alert_id, _S.c.id)
        )
        for s in self._tx.conn.execute(stmt):
            steps[s.alert_id].append(
                AlertStep(AlertStatus(s.status), s.actor, aware(s.at), s.comment)
            )
        out = []
        for r in rows:
            alert = Alert(
                alert_id=r.id,
                uscc=r.uscc,
                line_id=r.line_id,
                rule=r.rule,
                level=AlertLevel(r.level),
                evidence=parse_evidence(r.evidence_json),
                first_seen=r.first_seen,
                last_seen=r.last_seen,
                assignee=r.assignee,
                raised_at=aware(r.raised_at),
                status=AlertStatus(r.status),
                steps=steps.get(r.id, []),
                escalated_at=aware_or_none(r.escalated_at),
                froze_line=bool(r.froze_line),
                version=r.version,
            )
            out.append(alert)
        return out

    def get(self, alert_id: int, *, lock: bool = False) -> Alert | None:
        """One alert with its steps."""
        stmt = locked(self._tx, select(_A).where(_A.c.id == alert_id), lock)
        found = self._load(list(self._tx.conn.execute(stmt)))
        return found[0] if found else None

    def save(self, alert: Alert) -> None:
        """Update if unchanged since loaded (else :class:`StaleAggregate`), then new steps."""
        stmt = (
            update(_A)
            .where(_A.c.id == alert.alert_id, _A.c.version == alert.version)
            .values(**_values(alert), version=alert.version + 1)
        )
        if self._tx.conn.execute(stmt).rowcount != 1:
            raise StaleAggregate(f"alert {alert.alert_id} changed since it was read")
        alert.version += 1
        self._write_steps(alert)

    def find(
        self,
        *,
        statuses: Iterable[AlertStatus] | None = None,
        assignee: str | None = None,
        uscc: str | None = None,
    ) -> list[Alert]:
        """Most serious first (red, amber, watch), then oldest raised first."""
        rank = case({"red": 0, "amber": 1}, value=_A.c.level, else_=2)
        stmt = select(_A).order_by(rank, _A.c.raised_at, _A.c.id)
        if statuses is not None:
            stmt = stmt.where(_A.c.status.in_([s.value for s in statuses]))
        if assignee is not None:
            stmt = stmt.where(_A.c.assignee == assignee)
        if uscc is not None:
            stmt = stmt.where(_A.c.uscc == uscc)
        return self._load(list(self._tx.conn.execute(stmt)))
