"""The unit of work on SQLAlchemy 2 Core (SQLite file or PostgreSQL): one connection and one
transaction per ``with`` block, and one repository per aggregate (``adapters/repositories/``)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import IntegrityError

from loomcredit.adapters.repositories import (
    SqlAlertRepository,
    SqlApplicationRepository,
    SqlApprovalRepository,
    SqlAuditLog,
    SqlBookRepository,
    SqlCaseRepository,
    SqlContactRepository,
    SqlCreditLineRepository,
    SqlFollowUpRepository,
    SqlLedgerRepository,
    SqlLimitReviewRepository,
    SqlLoanRepository,
    SqlNoticeRepository,
    SqlPaymentRepository,
    SqlReceiptRepository,
    SqlUserRepository,
    Tx,
)
from loomcredit.domain.errors import UnbalancedEntry
from loomcredit.service_layer.unit_of_work import UnitOfWork

BUSY_TIMEOUT_S = 60


def make_engine(url: str) -> Engine:
    """An engine; SQLite gets a busy timeout and ``BEGIN IMMEDIATE`` so writers serialise.

    Within one process, SQLite transactions also queue on a lock (taken at BEGIN, given back at
    COMMIT or ROLLBACK): a waiting request is woken as soon as the writer before it finishes,
    instead of SQLite's busy handler polling with growing sleeps, which starved unlucky requests
    for seconds under concurrent load. Other processes still meet the busy timeout.
    """
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"timeout": BUSY_TIMEOUT_S, "check_same_thread": False}
        )
        writer = threading.Lock()

        @event.listens_for(engine, "connect")
        def _connect(dbapi_conn: Any, _rec: Any) -> None:
            dbapi_conn.isolation_level = None
            dbapi_conn.execute("PRAGMA foreign_keys=ON")
            dbapi_conn.execute("PRAGMA journal_mode=WAL")

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            # The holder is the connection, not the thread (a request may end its unit of work
            # on another thread); past the busy timeout, fall back to SQLite's own waiting.
            conn.info["writer"] = writer.acquire(timeout=BUSY_TIMEOUT_S)
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                _end(conn)
                raise

        @event.listens_for(engine, "commit")
        @event.listens_for(engine, "rollback")
        def _end(conn: Connection) -> None:
            if conn.info.pop("writer", False):
                writer.release()

        return engine
    return create_engine(url, pool_size=10, max_overflow=40, pool_pre_ping=True)


class SqlAlchemyUnitOfWork(UnitOfWork):
    """One connection and one transaction per ``with`` block (re-enterable after the block).

    ``pii_key`` encrypts resident IDs (None: they can be neither stored nor read); ``audit_key``
    keys the audit chain. Leaving the block without :meth:`commit` rolls back.
    """

    def __init__(self, engine: Engine, pii_key: bytes | None, audit_key: bytes) -> None:
        self.engine = engine
        self._tx = Tx(pii_key, audit_key)
        self._conn: Connection | None = None
        self.users = SqlUserRepository(self._tx)
        self.applications = SqlApplicationRepository(self._tx)
        self.lines = SqlCreditLineRepository(self._tx)
        self.loans = SqlLoanRepository(self._tx)
        self.receipts = SqlReceiptRepository(self._tx)
        self.approvals = SqlApprovalRepository(self._tx)
        self.payments = SqlPaymentRepository(self._tx)
        self.alerts = SqlAlertRepository(self._tx)
        self.reviews = SqlLimitReviewRepository(self._tx)
        self.contacts = SqlContactRepository(self._tx)
        self.tasks = SqlFollowUpRepository(self._tx)
        self.notices = SqlNoticeRepository(self._tx)
        self.cases = SqlCaseRepository(self._tx)
        self.ledger = SqlLedgerRepository(self._tx)
        self.book = SqlBookRepository(self._tx)
        self.audit = SqlAuditLog(self._tx)

    def __enter__(self) -> SqlAlchemyUnitOfWork:
        self._conn = self.engine.connect()
        self._conn.begin()
        self._tx.bind(self._conn)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.rollback()
        finally:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
                self._tx.bind(None)

    @property
    def conn(self) -> Connection:
        """The open connection."""
        return self._tx.conn

    def commit(self) -> None:
        """Commit, then start a new transaction on the same connection.

        Raises:
            UnbalancedEntry: the database refused the commit because an entry written in the
                transaction does not balance (or has fewer than two postings); the work is rolled
                back.
        """
        conn = self.conn
        self._tx.reset()
        try:
            conn.commit()
        except IntegrityError as exc:
            _discard(conn)
            conn.begin()
            raise UnbalancedEntry(
                f"the store refused the transaction at commit (an entry does not balance or has "
                f"fewer than two postings): {exc.orig}"
            ) from exc
        conn.begin()

    def rollback(self) -> None:
        """Roll back the open transaction (what repositories remember of it is forgotten)."""
        self._tx.reset()
        if self._conn is not None and self._conn.in_transaction():
            self._conn.rollback()


def _discard(conn: Connection) -> None:
    """Roll back after a failed COMMIT: SQLAlchemy has ended its transaction, but SQLite keeps
    the database's open after a deferred constraint fails at COMMIT (PostgreSQL has ended it)."""
    conn.rollback()  # ends SQLAlchemy's (inactive) transaction object
    raw: Any = conn.connection.dbapi_connection
    if conn.dialect.name == "sqlite" and raw is not None and raw.in_transaction:
        raw.rollback()


UowFactory = Callable[[], SqlAlchemyUnitOfWork]
