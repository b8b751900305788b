"""Notices through the real unit of work on SQLite and PostgreSQL: the scripted loan's notices
exactly as on the fakes, nothing queued twice, addresses stored encrypted, and concurrent
delivery runs that deliver each notice exactly once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from tests.integration.test_db_servicing_stories import Worlds
from tests.world import USCC, World

from loomcredit.adapters import orm
from loomcredit.adapters.notice_policy_file import load_notice_policy
from loomcredit.adapters.sqlalchemy_uow import SqlAlchemyUnitOfWork
from loomcredit.domain.contacts import Channel, ContactRole
from loomcredit.domain.notices import DeliveryStatus, OutboundMessage, SendResult
from loomcredit.service_layer import contacts, notifications

pytestmark = pytest.mark.integration
POLICY = load_notice_policy()
D = date.fromisoformat


@pytest.fixture(params=["sqlite", "postgresql"])
def worlds(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Worlds]:
    w = Worlds(request.param, tmp_path)
    yield w
    w.close()


def notice_world(worlds: Worlds) -> World:
    w = worlds()
    w.notice_policy = POLICY
    return w


def engine_of(w: World) -> object:
    uow = w.uow()
    assert isinstance(uow, SqlAlchemyUnitOfWork)
    return uow.engine


class Recorder:
    """A notifier that counts what it was given (thread-safe)."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.keys: list[str] = []
        self._lock = threading.Lock()

    def send(self, messages: list[OutboundMessage]) -> list[SendResult]:
        with self._lock:
            self.keys.extend(m.key for m in messages)
        return [SendResult(m.key, True) for m in messages]


def test_the_scripted_loan_gets_its_notices_once(worlds: Worlds) -> None:
    """Never paid: the same notices on the same days as the fake store gives (T−7 … BUREAU),
    and the day's rerun queues nothing."""
    w = notice_world(worlds)
    w.draw(w.open_line("300000"), "120000")
    w.close_days_until(D("2026-05-03"))
    with w.uow() as uow:
        rows = sorted(uow.notices.find(limit=1000), key=lambda d: d.delivery_id)
        again = notifications.queue_notices(uow, D("2026-05-02"), policy=POLICY, now=w.now)
    assert again == 0
    assert [(d.installment, d.kind, d.created_for.isoformat()) for d in rows] == [
        (1, "T-7", "2026-03-26"),
        (1, "T-3", "2026-03-30"),
        (1, "T-1", "2026-04-01"),
        (1, "DUE", "2026-04-02"),
        (1, "D1", "2026-04-03"),
        (1, "D3", "2026-04-05"),
        (1, "D7", "2026-04-09"),
        (1, "D14", "2026-04-16"),
        (1, "D21", "2026-04-23"),
        (2, "T-7", "2026-04-25"),
        (2, "T-3", "2026-04-29"),
        (1, "D28", "2026-04-30"),
        (2, "T-1", "2026-05-01"),
        (2, "DUE", "2026-05-02"),
        (1, "BUREAU", "2026-05-02"),
    ]
    assert {d.policy_version for d in rows} == {POLICY.version}
    assert all(d.status is DeliveryStatus.QUEUED for d in rows)


def test_addresses_are_stored_encrypted(worlds: Worlds) -> None:
    """The contact's e-mail and mobile reach the delivery, but not the table in clear."""
    w = notice_world(worlds)
    w.draw(w.open_line("300000"), "120000")
    with w.uow() as uow:
        contacts.register_contact(uow, w.officer, uscc=USCC, name="王芳", role=ContactRole.FINANCE,
                                  phone="13800138000", email="wang@example.com",
                                  now=w.now)  # fmt: skip
        uow.commit()
    w.close_days_until(D("2026-03-27"))
    with w.uow() as uow:
        found = {d.channel: d.address for d in uow.notices.find()}
        assert isinstance(uow, SqlAlchemyUnitOfWork)
        raw = " ".join(r[0] for r in uow.conn.execute(select(orm.notices.c.address_enc)))
    assert found == {Channel.INBOX: USCC, Channel.EMAIL: "wang@example.com",
                     Channel.SMS: "13800138000"}  # fmt: skip
    assert "wang@" not in raw
    assert "13800138000" not in raw


def test_two_concurrent_runs_deliver_each_notice_once(worlds: Worlds) -> None:
    """Four runs at once, batches of 3, over 60 deliveries: each delivered once, every row
    delivered."""
    w = notice_world(worlds)
    w.draw(w.open_line("300000"), "120000")
    w.close_days_until(D("2026-03-27"))
    at = datetime(2026, 3, 27, 9, tzinfo=UTC)
    with w.uow() as uow:
        (seed,) = uow.notices.find()
        from dataclasses import replace

        uow.notices.add_many([replace(seed, installment=100 + k) for k in range(59)])
        uow.commit()
    inbox = Recorder(Channel.INBOX)
    runs: list[notifications.DeliveryRun] = []

    def one() -> None:
        runs.append(notifications.deliver(w.uow, {Channel.INBOX: inbox}, lambda: at,
                                          policy=POLICY, batch=3))  # fmt: skip

    threads = [threading.Thread(target=one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(inbox.keys) == 60
    assert len(set(inbox.keys)) == 60
    assert sum(r.delivered for r in runs) == 60
    with w.uow() as uow:
        assert {d.status for d in uow.notices.find(limit=100)} == {DeliveryStatus.DELIVERED}
        assert isinstance(uow, SqlAlchemyUnitOfWork)
        attempts = uow.conn.execute(text("SELECT MAX(attempts) FROM notices")).scalar()
    assert attempts == 1


def test_the_pre_notice_gates_reporting(worlds: Worlds) -> None:
    """Delivered on 2026-05-03 (UTC): reportable from 2026-05-18, not on 2026-05-17."""
    w = notice_world(worlds)
    loan_id = w.draw(w.open_line("300000"), "120000")
    w.close_days_until(D("2026-05-03"))
    at = datetime(2026, 5, 3, 9, tzinfo=UTC)
    with w.uow() as uow:
        assert not notifications.may_report(uow, loan_id, D("2026-06-30"), POLICY)
    notifications.deliver(w.uow, {Channel.INBOX: Recorder(Channel.INBOX)}, lambda: at,
                          policy=POLICY)  # fmt: skip
    with w.uow() as uow:
        assert not notifications.may_report(uow, loan_id, at.date() + timedelta(days=14), POLICY)
        assert notifications.may_report(uow, loan_id, D("2026-05-18"), POLICY)
