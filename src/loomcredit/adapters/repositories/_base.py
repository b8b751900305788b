"""Plumbing the SQLAlchemy repositories share: the open transaction, unique-key errors, row
locks, id sets bound as one parameter, and timestamps made aware."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from operator import itemgetter
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Select,
    String,
    Table,
    any_,
    bindparam,
    func,
    insert,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError, IntegrityError

from loomcredit.domain.money import Money
from loomcredit.service_layer.unit_of_work import DuplicateKey

Row = Mapping[str, Any]


class Tx:
    """The unit of work's connection as its repositories see it (open inside ``with uow:``).

    Repositories that remember what they loaded (to write only what changed) register a reset
    callback: what they remember is forgotten at every commit and rollback.
    """

    def __init__(self, pii_key: bytes | None, audit_key: bytes) -> None:
        self.pii_key = pii_key
        self.audit_key = audit_key
        self._conn: Connection | None = None
        self._resets: list[Callable[[], None]] = []

    @property
    def conn(self) -> Connection:
        """The open connection."""
        if self._conn is None:
            raise RuntimeError("use the unit of work in a with block")
        return self._conn

    @property
    def is_pg(self) -> bool:
        """Whether the store is PostgreSQL (row locks, arrays); otherwise SQLite."""
        return self.conn.dialect.name != "sqlite"

    @property
    def marks(self) -> Callable[[int], str]:
        """``marks(n)``: n placeholders of the driver (``?`` SQLite, ``%s`` psycopg) for
        statements sent as they are (the bulk paths: no per-row SQLAlchemy processing)."""
        mark = "%s" if self.is_pg else "?"
        return lambda n: ", ".join([mark] * n)

    def day(self, value: date) -> date | str:
        """A date as the driver takes it (SQLite stores ISO text, as SQLAlchemy's Date does)."""
        return value if self.is_pg else value.isoformat()

    def any_of(self, column: str, values: Sequence[int] | Sequence[str]) -> tuple[str, Any]:
        """``column`` is one of ``values`` for a driver-level statement: the SQL and its one
        parameter (a PostgreSQL array, or a JSON list read by SQLite's ``json_each``)."""
        if self.is_pg:
            return f"{column} = ANY(%s)", list(values)
        return f"{column} IN (SELECT value FROM json_each(?))", json.dumps(list(values))

    def bind(self, conn: Connection | None) -> None:
        """Attach (or detach) the connection."""
        self._conn = conn
        self.reset()

    def on_reset(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` whenever the transaction ends."""
        self._resets.append(callback)

    def reset(self) -> None:
        """The transaction ended: repositories forget what they loaded."""
        for callback in self._resets:
            callback()


class Dates(dict[object, date]):
    """Dates read by driver-level statements (SQLite gives ISO text), each parsed once."""

    def __missing__(self, key: object) -> date:
        value = key if isinstance(key, date) else date.fromisoformat(str(key))
        self[key] = value
        return value


class Monies(dict[int, Money]):
    """Money of one currency by fen, shared (Money is immutable): reading a hundred thousand
    loans at once makes millions of them, mostly equal."""

    def __init__(self, currency: str) -> None:
        super().__init__()
        self.currency = currency

    def __missing__(self, fen: int) -> Money:
        value = self[fen] = Money(fen, self.currency)
        return value


def next_ids(tx: Tx, table: Table, n: int) -> list[int]:
    """``n`` new ids for ``table.id``: the sequence's next values on PostgreSQL; on SQLite, whose
    writers are serialised (BEGIN IMMEDIATE), the ones after the largest stored."""
    if tx.is_pg:
        seq = tx.conn.exec_driver_sql(
            f"SELECT nextval(pg_get_serial_sequence('{table.name}', 'id')) "
            "FROM generate_series(1, %s) ORDER BY 1",
            (n,),
        )
        return [int(r[0]) for r in seq]
    first = int(tx.conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one())
    return list(range(first + 1, first + 1 + n))


def insert_one(tx: Tx, table: Table, values: Row) -> int:
    """Insert a row in a savepoint; a unique violation is :class:`DuplicateKey`. Returns the
    primary key (0 for a non-integer key)."""
    try:
        with tx.conn.begin_nested():
            result = tx.conn.execute(insert(table).values(**values))
    except IntegrityError as exc:
        raise DuplicateKey(str(exc.orig)) from exc
    key = result.inserted_primary_key[0] if result.inserted_primary_key else 0
    return key if isinstance(key, int) else 0


def insert_many(tx: Tx, table: Table, rows: Sequence[Row], *, ids: bool = False) -> list[int]:
    """Insert dict rows (SQLAlchemy-typed, all with the same columns) in one driver-level bulk
    write inside a savepoint (:class:`DuplicateKey` if a unique key is taken); with ``ids`` they
    get new ids, returned in the rows' order.

    The write skips SQLAlchemy's per-row parameter building: values pass the columns' bind
    processors (as an INSERT's would), then PostgreSQL takes them by ``COPY … FROM STDIN``
    (psycopg's executemany would pipeline one INSERT a row) and SQLite by the driver's
    executemany. A column the rows leave out takes its server default; triggers fire as for an
    INSERT; a driver error comes back as SQLAlchemy's (``IntegrityError`` …)."""
    if not rows:
        return []
    new = next_ids(tx, table, len(rows)) if ids else []
    if ids:
        rows = [{**row, "id": i} for row, i in zip(rows, new, strict=True)]
    names = list(rows[0])
    if any(len(row) != len(names) for row in rows):
        raise ValueError(f"rows for {table.name} do not all have the same columns")
    values = _bound(tx.conn, table, names, rows)
    try:
        with tx.conn.begin_nested():
            if tx.is_pg:
                _copy(tx.conn, table.name, names, values)
            else:
                sql = (
                    f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({tx.marks(len(names))})"
                )
                tx.conn.exec_driver_sql(sql, [tuple(v) for v in values])
    except IntegrityError as exc:
        raise DuplicateKey(str(exc.orig)) from exc
    return new


def _bound(conn: Connection, table: Table, names: Sequence[str], rows: Sequence[Row]) -> list[Any]:
    """Each row's values in the order of ``names``, through the columns' bind processors (None
    stays None)."""
    get = itemgetter(*names) if len(names) > 1 else (lambda row: (row[names[0]],))
    procs = [
        (k, p)
        for k, n in enumerate(names)
        if (p := table.c[n].type._cached_bind_processor(conn.dialect)) is not None
    ]
    if not procs:
        return [get(row) for row in rows]
    out = []
    for row in rows:
        values = list(get(row))
        for k, p in procs:
            if values[k] is not None:
                values[k] = p(values[k])
        out.append(values)
    return out


def _copy(
    conn: Connection, table: str, names: Sequence[str], values: Sequence[Sequence[Any]]
) -> None:
    """``COPY table (names) FROM STDIN`` of the values on the connection's psycopg connection."""
    command = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, names))
    )
    raw = conn.connection.driver_connection
    try:
        with raw.cursor() as cur, cur.copy(command) as copy:
            for row in values:
                copy.write_row(row)
    except psycopg.Error as exc:
        raise DBAPIError.instance(command.as_string(raw), None, exc, psycopg.Error) from exc


def locked(tx: Tx, stmt: Select[Any], lock: bool, *, shared: bool = False) -> Select[Any]:
    """``SELECT … FOR UPDATE`` (or ``FOR SHARE``) on PostgreSQL; SQLite writers serialise."""
    if not lock or not tx.is_pg:
        return stmt
    return stmt.with_for_update(read=shared)


def among(tx: Tx, column: Any, values: Iterable[int] | Iterable[str]) -> ColumnElement[bool]:
    """``column`` is one of ``values``, bound as one parameter however many there are: an array
    on PostgreSQL (``= ANY(:ids)``), a JSON list read by ``json_each`` on SQLite."""
    items = list(values)
    textual = bool(items) and isinstance(items[0], str)
    if tx.is_pg:
        kind = ARRAY(String if textual else BigInteger)
        return column == any_(bindparam(None, items, type_=kind))  # type: ignore[no-any-return]
    listed = func.json_each(bindparam(None, json.dumps(items), type_=String)).table_valued("value")
    return column.in_(select(listed.c.value))  # type: ignore[no-any-return]


def aware(value: datetime) -> datetime:
    """UTC, timezone-aware (SQLite hands back naive UTC values; PostgreSQL the session zone)."""
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def aware_or_none(value: datetime | None) -> datetime | None:
    """:func:`aware`, keeping None."""
    return None if value is None else aware(value)


def required_date(value: object) -> date:
    """:func:`as_date` of a NOT NULL date column."""
    day = as_date(value)
    if day is None:  # pragma: no cover - the columns are NOT NULL
        raise ValueError("a NOT NULL date column read as NULL")
    return day


def as_date(value: object) -> date | None:
    """A date from a column or an aggregate (SQLite returns MIN()/MAX() of a DATE as text)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))
