"""Credit lines on SQLAlchemy, saved optimistically: ``UPDATE … WHERE id = ? AND version = ?``;
no row updated means someone changed the line since it was read (:class:`StaleAggregate`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import bindparam, select, update

from loomcredit.adapters import orm
from loomcredit.adapters.repositories._base import Tx, among, insert_one, locked
from loomcredit.domain.credit_line import CreditLine, LineKind, LineStatus, LineTerms, restored
from loomcredit.domain.money import Money
from loomcredit.service_layer.unit_of_work import CreditLineRepository, StaleAggregate

_T = orm.credit_lines
_RESTORE = (
    update(_T)
    .where(_T.c.id == bindparam("b_id"))
    .values(utilised_fen=bindparam("b_used"), version=_T.c.version + 1)
)
_SAVE = (
    update(_T)
    .where(_T.c.id == bindparam("b_id"), _T.c.version == bindparam("b_version"))
    .values(version=_T.c.version + 1)
)


def _line(row: Any) -> CreditLine:
    cur = row.currency
    terms = LineTerms(
        application_id=row.application_id,
        uscc=row.uscc,
        kind=LineKind(row.kind),
        limit=Money(row.original_limit_fen, cur),
        opened_on=row.opened_on,
        expires_on=row.expires_on,
        decision_id=row.decision_id,
        settlement_account=row.settlement_account,
    )
    return CreditLine(
        line_id=row.id,
        terms=terms,
        limit=Money(row.limit_fen, cur),
        utilised=Money(row.utilised_fen, cur),
        reserved=Money(row.reserved_fen, cur),
        status=LineStatus(row.status),
        reason=row.reason,
        version=row.version,
    )


def _changes(line: CreditLine) -> dict[str, Any]:
    return {
        "limit_fen": line.limit.minor,
        "utilised_fen": line.utilised.minor,
        "reserved_fen": line.reserved.minor,
        "status": line.status.value,
        "reason": line.reason,
    }


class SqlCreditLineRepository(CreditLineRepository):
    """The ``credit_lines`` table."""

    def __init__(self, tx: Tx) -> None:
        self._tx = tx

    def add(self, line: CreditLine) -> int:
        """Insert (one per application: :class:`DuplicateKey`); sets ``line.line_id``."""
        t = line.terms
        line.line_id = insert_one(
            self._tx,
            _T,
            {
                **_changes(line),
                "application_id": t.application_id,
                "uscc": t.uscc,
                "kind": t.kind.value,
                "original_limit_fen": t.limit.minor,
                "currency": line.currency,
                "opened_on": t.opened_on,
                "expires_on": t.expires_on,
                "decision_id": t.decision_id,
                "settlement_account": t.settlement_account,
                "version": line.version,
            },
        )
        return line.line_id

    def get(self, line_id: int, *, lock: bool = False) -> CreditLine | None:
        """One line."""
        stmt = locked(self._tx, select(_T).where(_T.c.id == line_id), lock)
        row = self._tx.conn.execute(stmt).first()
        return None if row is None else _line(row)

    def save(self, line: CreditLine) -> None:
        """Optimistic update; the line's version goes up by one."""
        self.save_many([line])

    def get_many(self, line_ids: Iterable[int], *, lock: bool = False) -> dict[int, CreditLine]:
        """Several lines, one SELECT (locked in id order with ``lock``)."""
        ids = sorted(set(line_ids))
        if not ids:
            return {}
        stmt = select(_T).where(among(self._tx, _T.c.id, ids)).order_by(_T.c.id)
        return {r.id: _line(r) for r in self._tx.conn.execute(locked(self._tx, stmt, lock))}

    def save_many(self, lines: Iterable[CreditLine]) -> None:
        """One executemany; :class:`StaleAggregate` unless every line was still at its version."""
        todo = sorted(lines, key=lambda ln: ln.line_id)
        if not todo:
            return
        params = [{**_changes(ln), "b_id": ln.line_id, "b_version": ln.version} for ln in todo]
        updated = self._tx.conn.execute(_SAVE, params).rowcount
        if updated != len(todo):
            stale = ", ".join(str(ln.line_id) for ln in todo[:5])
            raise StaleAggregate(
                f"credit line(s) {stale} changed since they were read ({updated} of {len(todo)} "
                "still at the version read)"
            )
        for ln in todo:
            ln.version += 1

    def for_application(self, app_id: int) -> CreditLine | None:
        """The line an application opened."""
        row = self._tx.conn.execute(select(_T).where(_T.c.application_id == app_id)).first()
        return None if row is None else _line(row)

    def find(self, *, uscc: str | None = None) -> list[CreditLine]:
        """By id."""
        stmt = select(_T).order_by(_T.c.id)
        if uscc:
            stmt = stmt.where(_T.c.uscc == uscc)
        return [_line(r) for r in self._tx.conn.execute(stmt)]

    def restore_many(self, principal_by_line: Mapping[int, Money], on: date) -> None:
        """One SELECT of kind and utilisation (locked in id order), one executemany of what
        :func:`restored` gives back; a line that gives nothing back is left as it is."""
        ids = sorted(principal_by_line)
        if not ids:
            return
        stmt = (
            select(_T.c.id, _T.c.kind, _T.c.utilised_fen, _T.c.currency)
            .where(among(self._tx, _T.c.id, ids))
            .order_by(_T.c.id)
        )
        params = []
        for line_id, kind, utilised, cur in self._tx.conn.execute(locked(self._tx, stmt, True)):
            used = Money(int(utilised), cur)
            back = restored(LineKind(kind), used, principal_by_line[line_id])
            if back.is_positive():
                params.append({"b_id": line_id, "b_used": (used - back).minor})
        if params and self._tx.is_pg:  # one statement over arrays, not a round trip a line
            self._tx.conn.exec_driver_sql(
                "UPDATE credit_lines SET utilised_fen = v.u, version = credit_lines.version + 1 "
                "FROM unnest(%(i)s::bigint[], %(u)s::bigint[]) AS v(i, u) "
                "WHERE credit_lines.id = v.i",
                {"i": [p["b_id"] for p in params], "u": [p["b_used"] for p in params]},
            )
        elif params:
            self._tx.conn.execute(_RESTORE, params)
