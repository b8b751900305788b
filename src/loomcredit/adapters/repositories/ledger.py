"""The journal on SQLAlchemy: entries and postings, append-only (the database refuses edits and,
at commit, unbalanced entries: ``adapters/ledger_guard.py``). Postings store ``Account.name``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select

from loomcredit.adapters import orm
from loomcredit.adapters.repositories._base import Tx, insert_many
from loomcredit.domain.ledger import Account, JournalEntry, Posting
from loomcredit.domain.money import CNY, Money
from loomcredit.service_layer.unit_of_work import LedgerRepository

_J, _P = orm.journal_entries, orm.postings


def entry_row(entry: JournalEntry, loan_id: int | None) -> dict[str, Any]:
    """The ``journal_entries`` row of an entry."""
    return {
        "id": entry.entry_id,
        "loan_id": loan_id,
        "booked_on": entry.booked_on,
        "value_date": entry.value_date,
        "description": entry.description,
        "reverses": entry.reverses,
        "n_postings": len(entry.postings),
    }


def posting_rows(entry: JournalEntry) -> list[dict[str, Any]]:
    """Its ``postings`` rows, in the entry's order."""
    return [
        {
            "entry_id": entry.entry_id,
            "account": p.account.name,
            "amount_fen": p.amount.minor,
            "currency": p.amount.currency,
        }
        for p in entry.postings
    ]


def _balances(rows: Any) -> dict[Account, Money]:
    return {Account[name]: Money(int(total), cur) for name, cur, total in rows}


class SqlLedgerRepository(LedgerRepository):
    """``journal_entries`` and ``postings``."""

    def __init__(self, tx: Tx) -> None:
        self._tx = tx

    def post(self, entry: JournalEntry, loan_id: int | None) -> None:
        """Insert an entry and its postings (:class:`DuplicateKey` if its id exists)."""
        self.post_many([(entry, loan_id)])

    def post_many(self, entries: Sequence[tuple[JournalEntry, int | None]]) -> None:
        """Two executemanys: the entries, then every posting."""
        if not entries:
            return
        insert_many(self._tx, _J, [entry_row(e, loan_id) for e, loan_id in entries])
        insert_many(self._tx, _P, [p for e, _ in entries for p in posting_rows(e)])

    def entry(self, entry_id: str) -> JournalEntry | None:
        """An entry with its postings in the order posted."""
        conn = self._tx.conn
        row = conn.execute(select(_J).where(_J.c.id == entry_id)).first()
        if row is None:
            return None
        postings = conn.execute(
            select(_P.c.account, _P.c.amount_fen, _P.c.currency)
            .where(_P.c.entry_id == entry_id)
            .order_by(_P.c.id)
        )
        return self._entry(row, postings)

    @staticmethod
    def _entry(row: Any, postings: Any) -> JournalEntry:
        return JournalEntry(
            entry_id=row.id,
            booked_on=row.booked_on,
            description=row.description,
            postings=tuple(Posting(Account[a], Money(int(f), c)) for a, f, c in postings),
            reverses=row.reverses,
            value_date=row.value_date,
        )

    def is_reversed(self, entry_id: str) -> bool:
        """Whether an entry reverses it."""
        stmt = select(_J.c.id).where(_J.c.reverses == entry_id)
        return self._tx.conn.execute(stmt).first() is not None

    def trial_balance(self) -> dict[Account, Money]:
        """Per account (debit positive), CNY."""
        stmt = (
            select(_P.c.account, _P.c.currency, func.sum(_P.c.amount_fen))
            .where(_P.c.currency == CNY)
            .group_by(_P.c.account, _P.c.currency)
        )
        return _balances(self._tx.conn.execute(stmt))

    def loan_balances(self, loan_id: int) -> dict[Account, Money]:
        """Per account over one loan's entries (in the loan's currency)."""
        stmt = (
            select(_P.c.account, _P.c.currency, func.sum(_P.c.amount_fen))
            .join(_J, _J.c.id == _P.c.entry_id)
            .where(_J.c.loan_id == loan_id)
            .group_by(_P.c.account, _P.c.currency)
        )
        return _balances(self._tx.conn.execute(stmt))

    def entries_for(self, loan_id: int) -> list[JournalEntry]:
        """A loan's entries in booking order (date, then the order they were posted)."""
        conn = self._tx.conn
        postings = conn.execute(
            select(_P.c.entry_id, _P.c.account, _P.c.amount_fen, _P.c.currency)
            .join(_J, _J.c.id == _P.c.entry_id)
            .where(_J.c.loan_id == loan_id)
            .order_by(_P.c.id)
        ).all()
        first: dict[str, int] = {}
        legs: dict[str, list[tuple[str, int, str]]] = {}
        for k, (eid, a, f, c) in enumerate(postings):
            first.setdefault(eid, k)
            legs.setdefault(eid, []).append((a, f, c))
        rows = conn.execute(select(_J).where(_J.c.loan_id == loan_id)).all()
        rows.sort(key=lambda r: (r.booked_on, first.get(r.id, len(postings))))
        return [self._entry(r, legs.get(r.id, [])) for r in rows]
