"""SQLite writers queue on an in-process lock held by the connection, not the thread."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from loomcredit.adapters import orm
from loomcredit.adapters.sqlalchemy_uow import SqlAlchemyUnitOfWork, make_engine

pytestmark = pytest.mark.integration
NOW = datetime(2026, 1, 5, tzinfo=UTC)


def _user(name: str) -> dict[str, object]:
    return {"name": name, "role": "officer", "password_hash": "x", "created_at": NOW}


def test_a_unit_of_work_ended_on_another_thread_lets_the_next_writer_in(tmp_path: Path) -> None:
    """FastAPI may open a request's unit of work on one worker thread and close it on another;
    the next writer must not wait for a lock nobody will give back."""
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    orm.metadata.create_all(engine)
    uow = SqlAlchemyUnitOfWork(engine)
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
        with SqlAlchemyUnitOfWork(engine) as w:
            w.add_user(_user("after"))
            w.commit()

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    writer.join(timeout=20)
    done.set()
    assert not writer.is_alive(), "the writer is stuck behind a lock that was never released"
    with SqlAlchemyUnitOfWork(engine) as r:
        assert r.get_user("after") is not None
    engine.dispose()


def test_concurrent_writers_all_commit(tmp_path: Path) -> None:
    """Sixteen threads writing at once: every write lands, none times out."""
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    orm.metadata.create_all(engine)
    errors: list[BaseException] = []

    def write(k: int) -> None:
        try:
            with SqlAlchemyUnitOfWork(engine) as w:
                w.add_user(_user(f"u{k}"))
                w.commit()
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(k,)) for k in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    with SqlAlchemyUnitOfWork(engine) as r:
        assert all(r.get_user(f"u{k}") is not None for k in range(16))
    engine.dispose()
