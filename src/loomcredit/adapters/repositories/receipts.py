"""Receipts (还款记录) on SQLAlchemy: the ``repayments`` table, one row per bank reference."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import String, cast, func, literal, select

from loomcredit.adapters import orm
from loomcredit.adapters.repositories._base import Tx, among, insert_many
from loomcredit.domain.money import Money
from loomcredit.domain.payments import Receipt, ReceiptSource
from loomcredit.service_layer.unit_of_work import ReceiptRepository

_T = orm.repayments
_J = orm.journal_entries
_ENTRY_PREFIXES = ("rep-", "bv-")


def _entry_column() -> Any:
    """The receipt's entry: as stored, or (the services give it an id made from the receipt's
    id only after storing it) the journal entry named after the receipt."""
    own = [literal(p) + cast(_T.c.id, String) for p in _ENTRY_PREFIXES]
    made = select(func.min(_J.c.id)).where(_J.c.id.in_(own)).scalar_subquery()
    return func.coalesce(func.nullif(_T.c.entry_id, ""), made, "")


def _select() -> Any:
    return select(*[c for c in _T.c if c.name != "entry_id"], _entry_column().label("entry_id"))


def _receipt(row: Any) -> Receipt:
    cur = row.currency
    return Receipt(
        receipt_id=row.id,
        loan_id=row.loan_id,
        bank_ref=row.bank_ref,
        amount=Money(row.amount_fen, cur),
        value_date=row.value_date,
        booked_on=row.booked_on,
        early=bool(row.early),
        principal=Money(row.principal_fen, cur),
        interest=Money(row.interest_fen, cur),
        penalty=Money(row.penalty_fen, cur),
        suspense=Money(row.suspense_fen, cur),
        source=ReceiptSource(row.source),
        entry_id=row.entry_id or "",
    )


def _row(r: Receipt) -> dict[str, Any]:
    return {
        "loan_id": r.loan_id,
        "idempotency_key": r.bank_ref,
        "bank_ref": r.bank_ref,
        "amount_fen": r.amount.minor,
        "currency": r.amount.currency,
        "received_on": r.value_date,
        "value_date": r.value_date,
        "booked_on": r.booked_on,
        "early": int(r.early),
        "principal_fen": r.principal.minor,
        "interest_fen": r.interest.minor,
        "penalty_fen": r.penalty.minor,
        "suspense_fen": r.suspense.minor,
        "source": r.source.value,
        "entry_id": r.entry_id,
    }


class SqlReceiptRepository(ReceiptRepository):
    """The ``repayments`` table."""

    def __init__(self, tx: Tx) -> None:
        self._tx = tx

    def add(self, receipt: Receipt) -> int:
        """Insert; a bank reference booked already is :class:`DuplicateKey`."""
        return self.add_many([receipt])[0]

    def add_many(self, receipts: Sequence[Receipt]) -> list[int]:
        """One executemany; ids in order."""
        return insert_many(self._tx, _T, [_row(r) for r in receipts], ids=True)

    def by_bank_ref(self, bank_ref: str) -> Receipt | None:
        """By the bank's reference."""
        row = self._tx.conn.execute(_select().where(_T.c.bank_ref == bank_ref)).first()
        return None if row is None else _receipt(row)

    def known_refs(self, bank_refs: Iterable[str]) -> set[str]:
        """Which of these are booked (one SELECT)."""
        refs = list(set(bank_refs))
        if not refs:
            return set()
        stmt = select(_T.c.bank_ref).where(among(self._tx, _T.c.bank_ref, refs))
        return set(self._tx.conn.execute(stmt).scalars())

    def for_loan(self, loan_id: int) -> list[Receipt]:
        """In booking order."""
        stmt = _select().where(_T.c.loan_id == loan_id).order_by(_T.c.id)
        return [_receipt(r) for r in self._tx.conn.execute(stmt)]
