"""The unit of work on SQLAlchemy 2 Core (SQLite file or PostgreSQL)."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from loomcredit.adapters import orm
from loomcredit.adapters.repositories import eod_sql
from loomcredit.pipeline.ingest.pii import decrypt, encrypt, join_hash
from loomcredit.service_layer.audit import GENESIS, AuditRecord, record_hash
from loomcredit.service_layer.unit_of_work import DuplicateKey, Row, UnitOfWork

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


def _aware(value: datetime) -> datetime:
    """UTC, timezone-aware (SQLite hands back naive UTC values)."""
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


class SqlAlchemyUnitOfWork(UnitOfWork):
    """One connection and one transaction per ``with`` block."""

    def __init__(self, engine: Engine, pii_key: bytes | None = None) -> None:
        self.engine = engine
        self.pii_key = pii_key
        self._conn: Connection | None = None

    def __enter__(self) -> SqlAlchemyUnitOfWork:
        self._conn = self.engine.connect()
        self._conn.begin()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.rollback()
        finally:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    @property
    def conn(self) -> Connection:
        """The open connection."""
        if self._conn is None:
            raise RuntimeError("use the unit of work in a with block")
        return self._conn

    def commit(self) -> None:
        """Commit and start a new transaction on the same connection."""
        self.conn.commit()
        self.conn.begin()

    def rollback(self) -> None:
        """Roll back the open transaction."""
        if self._conn is not None and self._conn.in_transaction():
            self._conn.rollback()

    # -- helpers ----------
    def _one(self, stmt: Any) -> Row | None:
        row = self.conn.execute(stmt).mappings().first()
        return dict(row) if row is not None else None

    def _insert(self, table: Any, row: Row) -> int:
        try:
            with self.conn.begin_nested():
                result = self.conn.execute(insert(table).values(**row))
        except IntegrityError as exc:
            raise DuplicateKey(str(exc.orig)) from exc
        key = result.inserted_primary_key[0] if result.inserted_primary_key else 0
        return key if isinstance(key, int) else 0

    def _lock(self, stmt: Any, lock: bool) -> Any:
        return stmt.with_for_update() if lock and self.conn.dialect.name != "sqlite" else stmt

    # -- users ----------
    def add_user(self, row: Row) -> int:
        """Insert a user."""
        return self._insert(orm.users, row)

    def get_user(self, name: str) -> Row | None:
        """A user by name."""
        return self._one(select(orm.users).where(orm.users.c.name == name))

    # -- applications ----------
    def add_application(self, row: Row) -> int:
        """Insert an application; the legal representative's ID is stored encrypted."""
        row = dict(row)
        rid = row.pop("legal_rep_id", None)
        if rid:
            if self.pii_key is None:
                raise RuntimeError("a PII key is needed to store a resident ID")
            row["legal_rep_enc"] = base64.b64encode(encrypt(rid, self.pii_key)).decode("ascii")
            row["legal_rep_hash"] = join_hash(rid, self.pii_key)
        return self._insert(orm.applications, row)

    def _decrypted(self, row: Row | None) -> Row | None:
        if row is None:
            return None
        enc = row.pop("legal_rep_enc", None)
        row.pop("legal_rep_hash", None)
        row["legal_rep_id"] = (
            decrypt(base64.b64decode(enc), self.pii_key) if enc and self.pii_key else None
        )
        return row

    def get_application(self, app_id: int, *, lock: bool = False) -> Row | None:
        """An application, optionally row-locked (resident ID decrypted for the service)."""
        return self._decrypted(
            self._one(
                self._lock(select(orm.applications).where(orm.applications.c.id == app_id), lock)
            )
        )

    def update_application(self, app_id: int, **fields: Any) -> None:
        """Update columns."""
        self.conn.execute(
            update(orm.applications).where(orm.applications.c.id == app_id).values(**fields)
        )

    def list_applications(self, *, status: str | None = None, uscc: str | None = None) -> list[Row]:
        """Applications newest first."""
        stmt = select(orm.applications).order_by(orm.applications.c.id.desc())
        if status:
            stmt = stmt.where(orm.applications.c.status == status)
        if uscc:
            stmt = stmt.where(orm.applications.c.uscc == uscc)
        rows = [dict(r) for r in self.conn.execute(stmt).mappings()]
        for r in rows:
            for k in ("legal_rep_enc", "legal_rep_hash", "legal_rep_id"):
                r.pop(k, None)
        return rows

    # -- loans ----------
    def add_loan(self, row: Row) -> int:
        """Insert a loan (unique application and key)."""
        return self._insert(orm.loans, row)

    def get_loan(self, loan_id: int, *, lock: bool = False) -> Row | None:
        """A loan, optionally row-locked."""
        return self._one(self._lock(select(orm.loans).where(orm.loans.c.id == loan_id), lock))

    def find_loan(self, *, application_id: int | None = None, key: str | None = None) -> Row | None:
        """A loan by application or key."""
        stmt = select(orm.loans)
        if application_id is not None:
            stmt = stmt.where(orm.loans.c.application_id == application_id)
        if key is not None:
            stmt = stmt.where(orm.loans.c.disbursement_key == key)
        return self._one(stmt)

    def update_loan(self, loan_id: int, **fields: Any) -> None:
        """Update columns."""
        self.conn.execute(update(orm.loans).where(orm.loans.c.id == loan_id).values(**fields))

    def list_loans(self, *, uscc: str | None = None, status: str | None = None) -> list[Row]:
        """Loans by id."""
        stmt = select(orm.loans).order_by(orm.loans.c.id)
        if uscc:
            stmt = stmt.where(orm.loans.c.uscc == uscc)
        if status:
            stmt = stmt.where(orm.loans.c.status == status)
        return [dict(r) for r in self.conn.execute(stmt).mappings()]

    def installments(self, loan_id: int) -> list[Row]:
        """Instalments in order."""
        t = orm.installments
        stmt = select(t).where(t.c.loan_id == loan_id).order_by(t.c.number)
        return [dict(r) for r in self.conn.execute(stmt).mappings()]

    def put_installments(self, loan_id: int, rows: Sequence[Row]) -> None:
        """Upsert by number (delete then insert)."""
        if not rows:
            return
        t = orm.installments
        numbers = [r["number"] for r in rows]
        self.conn.execute(delete(t).where(t.c.loan_id == loan_id, t.c.number.in_(numbers)))
        self.conn.execute(
            insert(t),
            [
                {
                    **{
                        k: r[k]
                        for k in (
                            "number",
                            "due_on",
                            "principal_fen",
                            "interest_fen",
                            "principal_paid_fen",
                            "interest_paid_fen",
                        )
                    },
                    "loan_id": loan_id,
                }
                for r in rows
            ],
        )

    def delete_installments(self, loan_id: int, numbers: Sequence[int]) -> None:
        """Remove instalments."""
        t = orm.installments
        self.conn.execute(delete(t).where(t.c.loan_id == loan_id, t.c.number.in_(list(numbers))))

    # -- money ----------
    def post_entry(
        self,
        entry_id: str,
        loan_id: int | None,
        booked_on: date,
        description: str,
        lines: Sequence[tuple[str, int, str]],
        reverses: str | None = None,
    ) -> None:
        """Store an entry and its postings."""
        self._insert(
            orm.journal_entries,
            {
                "id": entry_id,
                "loan_id": loan_id,
                "booked_on": booked_on,
                "description": description,
                "reverses": reverses,
            },
        )
        self.conn.execute(
            insert(orm.postings),
            [
                {"entry_id": entry_id, "account": a, "amount_fen": f, "currency": c}
                for a, f, c in lines
            ],
        )

    def entry_lines(self, entry_id: str) -> list[tuple[str, int, str]]:
        """An entry's postings."""
        p = orm.postings
        rows = self.conn.execute(
            select(p.c.account, p.c.amount_fen, p.c.currency).where(p.c.entry_id == entry_id)
        )
        return [(r[0], int(r[1]), r[2]) for r in rows]

    def entry_reversed(self, entry_id: str) -> bool:
        """Whether a reversal exists."""
        j = orm.journal_entries
        return self._one(select(j.c.id).where(j.c.reverses == entry_id)) is not None

    def trial_balance(self) -> dict[str, int]:
        """Balance per account."""
        p = orm.postings
        rows = self.conn.execute(
            select(p.c.account, func.sum(p.c.amount_fen)).group_by(p.c.account)
        )
        return {r[0]: int(r[1]) for r in rows}

    def get_repayment(self, key: str) -> Row | None:
        """A repayment by key."""
        return self._one(select(orm.repayments).where(orm.repayments.c.idempotency_key == key))

    def add_repayment(self, row: Row) -> int:
        """Insert a repayment."""
        return self._insert(orm.repayments, row)

    # -- end of day ----------
    def loans_with_suspense_due(self, as_of: date) -> list[int]:
        """Ids of active loans with suspense and an unpaid instalment due by ``as_of``."""
        lo, i = orm.loans, orm.installments
        due = (
            select(i.c.loan_id)
            .where(
                i.c.loan_id == lo.c.id,
                i.c.due_on <= as_of,
                (i.c.principal_paid_fen < i.c.principal_fen)
                | (i.c.interest_paid_fen < i.c.interest_fen),
            )
            .exists()
        )
        stmt = (
            select(lo.c.id)
            .where(lo.c.status == "active", lo.c.suspense_fen > 0, due)
            .order_by(lo.c.id)
        )
        return [int(r[0]) for r in self.conn.execute(stmt)]

    def last_eod_date(self) -> date | None:
        """The latest ``eod_runs`` date (a crashed run leaves no row, see ``run_eod``)."""
        return self._eod_date(func.max(orm.eod_runs.c.as_of))

    def first_eod_date(self) -> date | None:
        """The earliest ``eod_runs`` date."""
        return self._eod_date(func.min(orm.eod_runs.c.as_of))

    def _eod_date(self, column: Any) -> date | None:
        value = self.conn.execute(select(column)).scalar()
        if isinstance(value, str):  # SQLite returns MIN()/MAX() of a DATE column as text
            return date.fromisoformat(value)
        return value

    def run_eod(self, as_of: date, finished_at: datetime) -> Row:
        """Set-based EOD guarded by the ``eod_runs`` row for the date."""
        if self._one(select(orm.eod_runs).where(orm.eod_runs.c.as_of == as_of)) is not None:
            return {"already": True}
        try:
            self._insert(
                orm.eod_runs, {"as_of": as_of, "loans": 0, "finished_at": _aware(finished_at)}
            )
        except DuplicateKey:
            return {"already": True}
        counts = eod_sql(self.conn, as_of)
        self.conn.execute(
            update(orm.eod_runs).where(orm.eod_runs.c.as_of == as_of).values(loans=counts["loans"])
        )
        return {"as_of": as_of.isoformat(), **counts}

    def outbox(self, *, created_for: date | None = None) -> list[Row]:
        """Reminders."""
        stmt = select(orm.outbox).order_by(orm.outbox.c.id)
        if created_for is not None:
            stmt = stmt.where(orm.outbox.c.created_for == created_for)
        return [dict(r) for r in self.conn.execute(stmt).mappings()]

    # -- audit ----------
    def audit(
        self, actor: str, action: str, subject: str, detail: dict[str, Any], at: datetime
    ) -> None:
        """Append to the chain; the head row is locked so concurrent writers queue."""
        from loomcredit.service_layer.audit import canonical_detail

        h = orm.audit_head
        head = self._one(self._lock(select(h).where(h.c.id == 1), True))
        if head is None:
            self._insert(h, {"id": 1, "last_seq": 0, "last_hash": GENESIS})
            head = {"last_seq": 0, "last_hash": GENESIS}
        seq = int(head["last_seq"]) + 1
        at = _aware(at)
        body = canonical_detail(detail)
        digest = record_hash(seq, at, actor, action, subject, body, head["last_hash"])
        self.conn.execute(
            insert(orm.audit_log).values(
                seq=seq,
                at=at,
                actor=actor,
                action=action,
                subject=subject,
                detail=body,
                prev_hash=head["last_hash"],
                hash=digest,
            )
        )
        self.conn.execute(update(h).where(h.c.id == 1).values(last_seq=seq, last_hash=digest))

    def audit_records(self) -> Iterator[AuditRecord]:
        """The chain in order."""
        t = orm.audit_log
        for r in self.conn.execute(select(t).order_by(t.c.seq)).mappings():
            yield AuditRecord(
                r["seq"],
                _aware(r["at"]),
                r["actor"],
                r["action"],
                r["subject"],
                r["detail"],
                r["prev_hash"],
                r["hash"],
            )


UowFactory = Callable[[], SqlAlchemyUnitOfWork]
