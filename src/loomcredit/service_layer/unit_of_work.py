"""The unit of work: one transaction over the lending store (ABC; SQLAlchemy in adapters).

Rows travel as plain ``dict`` objects keyed by column name; money columns end in ``_fen``.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from types import TracebackType
from typing import Any, Self

from loomcredit.service_layer.audit import AuditRecord

Row = dict[str, Any]


class UnitOfWork(abc.ABC):
    """A transaction. ``with uow: ...; uow.commit()`` — leaving without commit rolls back."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()

    @abc.abstractmethod
    def commit(self) -> None:
        """Make the work durable."""

    @abc.abstractmethod
    def rollback(self) -> None:
        """Discard uncommitted work (a no-op after commit)."""

    # -- users ----------
    @abc.abstractmethod
    def add_user(self, row: Row) -> int:
        """Insert a user."""

    @abc.abstractmethod
    def get_user(self, name: str) -> Row | None:
        """A user by name."""

    # -- applications ----------
    @abc.abstractmethod
    def add_application(self, row: Row) -> int:
        """Insert an application, returning its id."""

    @abc.abstractmethod
    def get_application(self, app_id: int, *, lock: bool = False) -> Row | None:
        """An application; ``lock`` takes a row lock (``SELECT … FOR UPDATE``) where supported."""

    @abc.abstractmethod
    def update_application(self, app_id: int, **fields: Any) -> None:
        """Update some columns."""

    @abc.abstractmethod
    def list_applications(self, *, status: str | None = None, uscc: str | None = None) -> list[Row]:
        """Applications, newest first."""

    # -- loans ----------
    @abc.abstractmethod
    def add_loan(self, row: Row) -> int:
        """Insert a loan; raises :class:`DuplicateKey` if its key or application is taken."""

    @abc.abstractmethod
    def get_loan(self, loan_id: int, *, lock: bool = False) -> Row | None:
        """A loan (optionally row-locked)."""

    @abc.abstractmethod
    def find_loan(self, *, application_id: int | None = None, key: str | None = None) -> Row | None:
        """A loan by application or disbursement key."""

    @abc.abstractmethod
    def update_loan(self, loan_id: int, **fields: Any) -> None:
        """Update some columns."""

    @abc.abstractmethod
    def list_loans(self, *, uscc: str | None = None, status: str | None = None) -> list[Row]:
        """Loans."""

    @abc.abstractmethod
    def installments(self, loan_id: int) -> list[Row]:
        """A loan's instalments in number order."""

    @abc.abstractmethod
    def put_installments(self, loan_id: int, rows: Sequence[Row]) -> None:
        """Insert or replace instalments by number."""

    @abc.abstractmethod
    def delete_installments(self, loan_id: int, numbers: Sequence[int]) -> None:
        """Remove instalments (only undue ones, after a full prepayment)."""

    # -- money ----------
    @abc.abstractmethod
    def post_entry(
        self,
        entry_id: str,
        loan_id: int | None,
        booked_on: date,
        description: str,
        lines: Sequence[tuple[str, int, str]],
        reverses: str | None = None,
    ) -> None:
        """Store a balanced journal entry: lines of (account, fen signed, currency)."""

    @abc.abstractmethod
    def entry_lines(self, entry_id: str) -> list[tuple[str, int, str]]:
        """An entry's lines (empty if there is no such entry)."""

    @abc.abstractmethod
    def entry_reversed(self, entry_id: str) -> bool:
        """Whether an entry has already been reversed."""

    @abc.abstractmethod
    def trial_balance(self) -> dict[str, int]:
        """Balance per account in fen (debit positive)."""

    @abc.abstractmethod
    def get_repayment(self, key: str) -> Row | None:
        """A repayment by idempotency key."""

    @abc.abstractmethod
    def add_repayment(self, row: Row) -> int:
        """Insert a repayment; raises :class:`DuplicateKey` on a reused key."""

    # -- end of day ----------
    @abc.abstractmethod
    def loans_with_suspense_due(self, as_of: date) -> list[int]:
        """Active loans holding money in suspense with something unpaid due on or before
        ``as_of``."""

    @abc.abstractmethod
    def run_eod(self, as_of: date, finished_at: datetime) -> Row:
        """Set-based end of day for ``as_of``; returns counts, or ``{"already": True}``."""

    @abc.abstractmethod
    def last_eod_date(self) -> date | None:
        """The latest date end of day has completed for, or None before the first run."""

    @abc.abstractmethod
    def first_eod_date(self) -> date | None:
        """The earliest date end of day has completed for, or None before the first run."""

    @abc.abstractmethod
    def outbox(self, *, created_for: date | None = None) -> list[Row]:
        """Reminders queued."""

    # -- audit ----------
    @abc.abstractmethod
    def audit(
        self, actor: str, action: str, subject: str, detail: dict[str, Any], at: datetime
    ) -> None:
        """Append a record to the hash chain (serialised by a lock on the chain head)."""

    @abc.abstractmethod
    def audit_records(self) -> Iterator[AuditRecord]:
        """All records in sequence order."""


class DuplicateKey(Exception):  # noqa: N818 - mirrors the database's unique-violation
    """A unique constraint refused the row (another request got there first)."""
