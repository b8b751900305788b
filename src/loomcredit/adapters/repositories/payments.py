"""Statement imports and lines, auto-debit instructions and prepayment requests on SQLAlchemy."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, select, update

from loomcredit.adapters import orm
from loomcredit.adapters.repositories._base import Tx, among, insert_many, insert_one, locked
from loomcredit.domain.money import Money
from loomcredit.domain.payments import (
    DebitInstruction,
    DebitStatus,
    LineTotal,
    MatchOutcome,
    PrepaymentRequest,
    PrepaymentStatus,
    StatementEntry,
    StatementImport,
    StatementLine,
    StatementLineStatus,
)
from loomcredit.service_layer.unit_of_work import PaymentRepository

_I, _S = orm.statement_imports, orm.statement_lines
_D, _P = orm.debit_instructions, orm.prepayment_requests


def _resolution(e: StatementEntry) -> dict[str, Any]:
    return {
        "status": e.status.value,
        "outcome": e.outcome.value,
        "reason": e.reason,
        "loan_id": e.loan_id,
        "receipt_id": e.receipt_id,
        "resolved_by": e.resolved_by,
        "resolution": e.resolution,
    }


def _line_row(e: StatementEntry) -> dict[str, Any]:
    ln = e.line
    return {
        **_resolution(e),
        "import_id": e.import_id or None,
        "bank_ref": ln.bank_ref,
        "value_date": ln.value_date,
        "account": ln.account,
        "counterparty": ln.counterparty,
        "amount_fen": ln.amount.minor,
        "currency": ln.amount.currency,
        "memo": ln.memo,
    }


def _entry(row: Any) -> StatementEntry:
    line = StatementLine(
        row.bank_ref,
        row.value_date,
        row.account,
        row.counterparty,
        Money(row.amount_fen, row.currency),
        row.memo,
    )
    return StatementEntry(
        line_id=row.id,
        import_id=row.import_id or 0,
        line=line,
        status=StatementLineStatus(row.status),
        outcome=MatchOutcome(row.outcome),
        reason=row.reason,
        loan_id=row.loan_id,
        receipt_id=row.receipt_id,
        resolved_by=row.resolved_by,
        resolution=row.resolution,
    )


def _instruction(row: Any) -> tuple[DebitInstruction, DebitStatus]:
    return (
        DebitInstruction(
            row.instruction_id,
            row.loan_id,
            row.account,
            Money(row.amount_fen, row.currency),
            row.debit_on,
            bool(row.early),
        ),
        DebitStatus(row.status),
    )


def _prepayment(row: Any) -> PrepaymentRequest:
    principal = None if row.principal_fen is None else Money(row.principal_fen, row.currency)
    return PrepaymentRequest(
        row.id,
        row.loan_id,
        row.requested_for,
        principal,
        row.requested_by,
        PrepaymentStatus(row.status),
    )


class SqlPaymentRepository(PaymentRepository):
    """``statement_imports``, ``statement_lines``, ``debit_instructions``,
    ``prepayment_requests``."""

    def __init__(self, tx: Tx) -> None:
        self._tx = tx

    # -- statements ------------------------------------------------------------------------------
    def add_import(self, record: StatementImport) -> int:
        """Insert an import's summary."""
        values = {
            "file_name": record.file_name,
            "sha256": record.sha256,
            "imported_by": record.imported_by,
            "business_date": record.business_date,
            "lines": record.lines,
            "booked": record.booked,
            "unmatched": record.unmatched,
            "duplicates": record.duplicates,
            "ignored": record.ignored,
        }
        return insert_one(self._tx, _I, values)

    def add_lines(self, entries: Sequence[StatementEntry]) -> list[int]:
        """One executemany; ids in order (a bank reference twice is :class:`DuplicateKey`)."""
        return insert_many(self._tx, _S, [_line_row(e) for e in entries], ids=True)

    def known_lines(self, bank_refs: Iterable[str]) -> set[str]:
        """Which were imported already (one SELECT)."""
        refs = list(set(bank_refs))
        if not refs:
            return set()
        stmt = select(_S.c.bank_ref).where(among(self._tx, _S.c.bank_ref, refs))
        return set(self._tx.conn.execute(stmt).scalars())

    def line(self, line_id: int, *, lock: bool = False) -> StatementEntry | None:
        """One line."""
        stmt = locked(self._tx, select(_S).where(_S.c.id == line_id), lock)
        row = self._tx.conn.execute(stmt).first()
        return None if row is None else _entry(row)

    def save_line(self, entry: StatementEntry) -> None:
        """Store what became of a line."""
        stmt = update(_S).where(_S.c.id == entry.line_id).values(**_resolution(entry))
        self._tx.conn.execute(stmt)

    def lines(
        self, *, value_date: date | None = None, unmatched_only: bool = False
    ) -> list[StatementEntry]:
        """By id."""
        stmt = select(_S).order_by(_S.c.id)
        if value_date is not None:
            stmt = stmt.where(_S.c.value_date == value_date)
        if unmatched_only:
            stmt = stmt.where(_S.c.status == StatementLineStatus.UNMATCHED.value)
        return [_entry(r) for r in self._tx.conn.execute(stmt)]

    def credit_totals(self, value_date: date) -> list[LineTotal]:
        """One GROUP BY over the day's credits (equal to the domain's rule: a test says so)."""
        stmt = (
            select(_S.c.status, func.count(), func.sum(_S.c.amount_fen))
            .where(_S.c.value_date == value_date, _S.c.amount_fen > 0)
            .group_by(_S.c.status)
        )
        found = {
            StatementLineStatus(s): (int(n), int(f)) for s, n, f in self._tx.conn.execute(stmt)
        }
        return [
            LineTotal(s, found[s][0], Money(found[s][1])) for s in StatementLineStatus if s in found
        ]

    # -- auto-debit ------------------------------------------------------------------------------
    def add_instruction(self, instruction: DebitInstruction, batch_id: str) -> None:
        """Insert a sent instruction (:class:`DuplicateKey` if it was sent before)."""
        i = instruction
        insert_one(
            self._tx,
            _D,
            {
                "instruction_id": i.instruction_id,
                "loan_id": i.loan_id,
                "account": i.account,
                "amount_fen": i.amount.minor,
                "currency": i.amount.currency,
                "debit_on": i.on,
                "early": i.early,
                "batch_id": batch_id,
                "status": DebitStatus.SENT.value,
            },
        )

    def instruction(self, instruction_id: str) -> tuple[DebitInstruction, DebitStatus] | None:
        """An instruction and its status."""
        stmt = select(_D).where(_D.c.instruction_id == instruction_id)
        row = self._tx.conn.execute(stmt).first()
        return None if row is None else _instruction(row)

    def set_instruction(
        self, instruction_id: str, status: DebitStatus, *, reason: str, bank_ref: str
    ) -> None:
        """Record a settlement."""
        stmt = (
            update(_D)
            .where(_D.c.instruction_id == instruction_id)
            .values(status=status.value, reason=reason, bank_ref=bank_ref)
        )
        self._tx.conn.execute(stmt)

    def instructions(self, *, on: date) -> list[tuple[DebitInstruction, DebitStatus]]:
        """A day's instructions, by loan."""
        stmt = select(_D).where(_D.c.debit_on == on).order_by(_D.c.loan_id, _D.c.instruction_id)
        return [_instruction(r) for r in self._tx.conn.execute(stmt)]

    # -- prepayment requests ---------------------------------------------------------------------
    def add_prepayment(self, request: PrepaymentRequest) -> int:
        """Insert; sets the id."""
        p = request.principal
        request.request_id = insert_one(
            self._tx,
            _P,
            {
                "loan_id": request.loan_id,
                "requested_for": request.on,
                "principal_fen": None if p is None else p.minor,
                "currency": "CNY" if p is None else p.currency,
                "requested_by": request.requested_by,
                "status": request.status.value,
            },
        )
        return request.request_id

    def prepayments(
        self, *, loan_id: int | None = None, on: date | None = None, open_only: bool = True
    ) -> list[PrepaymentRequest]:
        """By id."""
        stmt = select(_P).order_by(_P.c.id)
        if loan_id is not None:
            stmt = stmt.where(_P.c.loan_id == loan_id)
        if on is not None:
            stmt = stmt.where(_P.c.requested_for == on)
        if open_only:
            stmt = stmt.where(_P.c.status == PrepaymentStatus.OPEN.value)
        return [_prepayment(r) for r in self._tx.conn.execute(stmt)]

    def save_prepayment(self, request: PrepaymentRequest) -> None:
        """Store its status."""
        stmt = update(_P).where(_P.c.id == request.request_id).values(status=request.status.value)
        self._tx.conn.execute(stmt)
