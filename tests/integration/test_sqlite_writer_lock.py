"""SQLite writers queue on an in-process lock held by the connection, not the thread."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from loomcredit.adapters import orm
from loomcredit.adapters.ledger_guard import install_ledger_guards
from loomcredit.adapters.sqlalchemy_uow import SqlAlchemyUnitOfWork, make_engine
from loomcredit.service_layer.users import Role, UserAccount

pytestmark = pytest.mark.integration
NOW = datetime(2026, 1, 5, tzinfo=UTC)
PII_KEY, AUDIT_KEY = b"p" * 32, b"a" * 32


def _user(name: str) -> UserAccount:
    return UserAccount(name, Role.OFFICER, None, "x", NOW)


def _uow(engine: Engine) -> SqlAlchemyUnitOfWork:
    return SqlAlchemyUnitOfWork(engine, PII_KEY, AUDIT_KEY)


def _schema(engine: Engine) -> None:
    orm.metadata.create_all(engine)
    with engine.begin() as conn:
        install_ledger_guards(conn)


def test_a_unit_of_work_ended_on_another_thread_lets_the_next_writer_in(tmp_path: Path) -> None:
    """FastAPI may open a request's unit of work on one worker thread and close it on another;
    the next writer must not wait for a lock nobody will give back."""
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    _schema(engine)
    uow = _uow(engine)
    opened, done = threading.Event(), threading.Event()

    def open_and_stay() -> None:  # the opening thread lives on, as a pool's worker would
        uow.__enter__()
        opened.set()
        done.wait(60)

    opener = threading.Thread(target=open_and_stay, daemon=True)
    opener.start()
    opened.wait(20)
    closer = threading.Thread(target=uow.__exit__, args=(None, None, None))
    closer.start()
    closer.join()

    def write() -> None:
        with _uow(engine) as w:
            w.users.add(_user("after"))
            w.commit()

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    writer.join(timeout=20)
    done.set()
    assert not writer.is_alive(), "the writer is stuck behind a lock that was never released"
    with _uow(engine) as r:
        assert r.users.get("after") is not None
    engine.dispose()


def test_concurrent_writers_all_commit(tmp_path: Path) -> None:
    """Sixteen threads writing at once: every write lands, none times out."""
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    _schema(engine)
    errors: list[BaseException] = []

    def write(k: int) -> None:
        try:
            with _uow(engine) as w:
                w.users.add(_user(f"u{k}"))
                w.commit()
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(k,)) for k in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    with _uow(engine) as r:
        assert all(r.users.get(f"u{k}") is not None for k in range(16))
    engine.dispose()
