"""The database itself guards the journal (SQLite and PostgreSQL): an entry that does not balance,
or has fewer than two postings, cannot be committed; a zero posting is refused; entries and
postings can be neither updated nor deleted. Rows are written with plain SQL, past the domain."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from tests.lending_fixtures import database_url

from loomcredit.adapters import orm
from loomcredit.adapters.ledger_guard import install_ledger_guards
from loomcredit.adapters.sqlalchemy_uow import SqlAlchemyUnitOfWork, make_engine
from loomcredit.domain.errors import UnbalancedEntry
from loomcredit.domain.ledger import Account, entry_of
from loomcredit.domain.money import Money

pytestmark = pytest.mark.integration
DAY = date(2026, 3, 1)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A fresh database with the head schema and the ledger guards."""
    for url in database_url(request.param, tmp_path):
        eng = make_engine(url)
        orm.metadata.create_all(eng)
        with eng.begin() as conn:
            install_ledger_guards(conn)
            install_ledger_guards(conn)  # idempotent
        yield eng
        eng.dispose()


def write(
    conn: Connection, entry_id: str, *legs: tuple[int, str], declared: int | None = None
) -> None:
    """An entry declaring ``declared`` postings (default: as many as ``legs``) and its postings
    (fen, currency), by plain SQL."""
    conn.execute(
        text(
            "INSERT INTO journal_entries (id, booked_on, value_date, description, n_postings) "
            "VALUES (:id, :d, :d, 'test', :n)"
        ),
        {"id": entry_id, "d": DAY, "n": len(legs) if declared is None else declared},
    )
    for fen, cur in legs:
        post(conn, entry_id, fen, cur)


def post(conn: Connection, entry_id: str, fen: int, cur: str = "CNY") -> None:
    """One posting by plain SQL."""
    conn.execute(
        text(
            "INSERT INTO postings (entry_id, account, amount_fen, currency) "
            "VALUES (:id, 'SETTLEMENT', :fen, :cur)"
        ),
        {"id": entry_id, "fen": fen, "cur": cur},
    )


def counts(engine: Engine) -> tuple[int, int]:
    """Entries and postings stored."""
    with engine.connect() as conn:
        entries = conn.execute(select(func.count()).select_from(orm.journal_entries)).scalar()
        postings = conn.execute(select(func.count()).select_from(orm.postings)).scalar()
    return int(entries or 0), int(postings or 0)


UNBALANCED = {
    "off by one fen": ((10_000, "CNY"), (-9_999, "CNY")),
    "one posting": ((10_000, "CNY"),),
    "no posting": (),
    "balanced in total, not per currency": ((500, "CNY"), (-500, "USD")),
}


@pytest.mark.parametrize("legs", UNBALANCED.values(), ids=UNBALANCED.keys())
def test_an_unbalanced_entry_cannot_be_committed(
    engine: Engine, legs: tuple[tuple[int, str], ...]
) -> None:
    """The statements succeed; COMMIT fails and leaves nothing behind."""
    with pytest.raises(IntegrityError), engine.begin() as conn:
        write(conn, "bad-1", *legs)
    assert counts(engine) == (0, 0)


def test_the_unit_of_work_reports_unbalanced_entry_and_stays_usable(engine: Engine) -> None:
    """Through the unit of work the refusal is the domain's UnbalancedEntry; the work is rolled
    back and the next commit on the same unit of work goes through."""
    with SqlAlchemyUnitOfWork(engine, None, b"k") as uow:
        write(uow.conn, "bad-2", (100, "CNY"), (-1, "CNY"))
        uow.ledger.post(
            entry_of("good-in-same-txn", DAY, "ok", ((Account.SETTLEMENT, Money(5)),
                                                       (Account.SUSPENSE, Money(-5)))),
            None,
        )  # fmt: skip
        with pytest.raises(UnbalancedEntry):
            uow.commit()
        write(uow.conn, "good-after", (7, "CNY"), (-7, "CNY"))
        uow.commit()
    assert counts(engine) == (1, 2)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT id FROM journal_entries")).scalars().all() == [
            "good-after"
        ]


def test_balanced_entries_commit(engine: Engine) -> None:
    """Two legs, three legs, and two currencies each balanced."""
    with engine.begin() as conn:
        write(conn, "two", (10_000, "CNY"), (-10_000, "CNY"))
        write(conn, "three", (10_000, "CNY"), (-9_000, "CNY"), (-1_000, "CNY"))
        write(conn, "fx", (300, "CNY"), (-300, "CNY"), (20, "USD"), (-20, "USD"))
    assert counts(engine) == (3, 9)


def test_a_zero_posting_is_refused_at_once(engine: Engine) -> None:
    """CHECK (amount_fen <> 0)."""
    with pytest.raises(IntegrityError), engine.begin() as conn:
        write(conn, "zero", (0, "CNY"), (0, "CNY"))
    assert counts(engine) == (0, 0)


def test_a_posting_added_later_must_keep_the_entry_balanced(engine: Engine) -> None:
    """A committed entry cannot be unbalanced by a posting added in a later transaction."""
    with engine.begin() as conn:
        write(conn, "e1", (50, "CNY"), (-50, "CNY"))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO postings (entry_id, account, amount_fen, currency) "
                "VALUES ('e1', 'SUSPENSE', 1, 'CNY')"
            )
        )
    assert counts(engine) == (1, 2)


def test_a_balanced_pair_added_to_a_committed_entry_is_refused_at_once(engine: Engine) -> None:
    """Adding legs to a posted entry is an edit of it, even when they balance each other: the
    first posting beyond the entry's own is refused when it is written."""
    with engine.begin() as conn:
        write(conn, "e2", (50, "CNY"), (-50, "CNY"))
    with pytest.raises(DBAPIError, match="complete"), engine.begin() as conn:
        post(conn, "e2", 1_000)
    with pytest.raises(DBAPIError, match="complete"), engine.begin() as conn:
        post(conn, "e2", -1_000)
    assert counts(engine) == (1, 2)


def test_an_entry_short_of_the_postings_it_declares_cannot_be_committed(engine: Engine) -> None:
    """Balanced but one posting short of what it declares: refused at commit (so the missing
    posting could not be added later either)."""
    with pytest.raises(IntegrityError), engine.begin() as conn:
        write(conn, "short", (70, "CNY"), (-70, "CNY"), declared=3)
    assert counts(engine) == (0, 0)


def test_a_posting_beyond_the_declared_number_is_refused_in_the_same_transaction(
    engine: Engine,
) -> None:
    """An entry declaring two postings takes no third, in its own transaction either."""
    with pytest.raises(DBAPIError, match="complete"), engine.begin() as conn:
        write(conn, "over", (10, "CNY"), (-10, "CNY"), (5, "CNY"), declared=2)
    assert counts(engine) == (0, 0)


EDITS = {
    "update posting": "UPDATE postings SET amount_fen = amount_fen + 1",
    "update posting account": "UPDATE postings SET account = 'SUSPENSE'",
    "delete posting": "DELETE FROM postings",
    "update entry": "UPDATE journal_entries SET description = 'changed'",
    "update entry date": "UPDATE journal_entries SET booked_on = value_date",
    "delete entry": "DELETE FROM journal_entries",
}


@pytest.mark.parametrize("sql", EDITS.values(), ids=EDITS.keys())
def test_entries_and_postings_cannot_be_changed_or_deleted(engine: Engine, sql: str) -> None:
    """Append-only: every UPDATE and DELETE is refused and the book is unchanged."""
    with engine.begin() as conn:
        write(conn, "kept", (10_000, "CNY"), (-10_000, "CNY"))
    with pytest.raises(DBAPIError), engine.begin() as conn:
        conn.execute(text(sql))
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT j.description, j.booked_on, p.account, p.amount_fen FROM postings p "
                "JOIN journal_entries j ON j.id = p.entry_id ORDER BY p.id"
            )
        ).all()
    assert [tuple(r)[2:] for r in rows] == [("SETTLEMENT", 10_000), ("SETTLEMENT", -10_000)]
    assert {r[0] for r in rows} == {"test"}


def test_balanced_entries_cannot_be_faked(engine: Engine) -> None:
    """On SQLite the commit check is the balanced_entries table: a row put there by hand for an
    unbalanced entry does not make it committable (on PostgreSQL the table is unused)."""

    def fake(conn: Connection) -> None:
        write(conn, "faked", (10, "CNY"))
        conn.execute(text("INSERT INTO balanced_entries (id) VALUES ('faked')"))

    with pytest.raises(IntegrityError), engine.begin() as conn:
        fake(conn)
    assert counts(engine) == (0, 0)
