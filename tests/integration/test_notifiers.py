"""Delivery to real receivers on loopback — an SMTP server (aiosmtpd) and an HTTP SMS gateway
started by the test — through the outbox on SQLite and PostgreSQL: delivered once, retried with
back-off, failed with the reason, never twice, also with two runs at once (counted at the
receivers)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from tests.integration.test_db_servicing_stories import Worlds
from tests.receivers import Gateway, MailBox, http_gateway, smtp_server
from tests.world import USCC, World

from loomcredit.adapters.notice_policy_file import load_notice_policy
from loomcredit.adapters.notifiers import ConsoleInbox, HttpSmsNotifier, SmtpNotifier
from loomcredit.adapters.sqlalchemy_uow import SqlAlchemyUnitOfWork
from loomcredit.domain.contacts import Channel, ContactRole
from loomcredit.domain.notices import DeliveryStatus
from loomcredit.service_layer import contacts, notifications
from loomcredit.service_layer.ports import Notifier
from loomcredit.service_layer.unit_of_work import Delivery

pytestmark = pytest.mark.integration
POLICY = load_notice_policy()
T0 = datetime(2026, 3, 27, 9, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def worlds(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Worlds]:
    w = Worlds(request.param, tmp_path)
    yield w
    w.close()


@pytest.fixture
def mail() -> Iterator[tuple[MailBox, int]]:
    with smtp_server() as served:
        yield served


class Clock:
    def __init__(self) -> None:
        self.at = T0

    def __call__(self) -> datetime:
        return self.at


def queued(worlds: Worlds, *, email: str = "wang@example.com", phone: str = "13800138000") -> World:
    """A loan whose borrower has one contact, its T−7 reminder queued (inbox, e-mail, SMS)."""
    w = worlds()
    w.notice_policy = POLICY
    w.draw(w.open_line("300000"), "120000")
    with w.uow() as uow:
        contacts.register_contact(uow, w.officer, uscc=USCC, name="王芳", role=ContactRole.FINANCE,
                                  phone=phone, email=email, now=w.now)  # fmt: skip
        uow.commit()
    w.close_days_until(date(2026, 3, 27))
    return w


def notifiers(w: World, port: int, url: str, clock: Clock) -> dict[Channel, Notifier]:
    uow = w.uow()
    assert isinstance(uow, SqlAlchemyUnitOfWork)
    return {
        Channel.EMAIL: SmtpNotifier("127.0.0.1", port, sender="notices@bank.example"),
        Channel.SMS: HttpSmsNotifier(url, token="t0k", timeout_s=2.0),
        Channel.INBOX: ConsoleInbox(uow.engine, clock),
    }


def rows(w: World) -> dict[Channel, Delivery]:
    with w.uow() as uow:
        return {d.channel: d for d in uow.notices.find()}


def test_each_channel_delivers_once_with_its_idempotency_key(
    worlds: Worlds, mail: tuple[MailBox, int]
) -> None:
    """One run: the e-mail arrives with Message-ID <loom-notice-N@loom.local> and the zh-CN
    subject, the SMS request carries the token and Idempotency-Key, the inbox holds the
    notice; a second run sends nothing."""
    box, port = mail
    gw = Gateway()
    w = queued(worlds)
    clock = Clock()
    with http_gateway(gw) as url:
        run = notifications.deliver(w.uow, notifiers(w, port, url, clock), clock, policy=POLICY)
        again = notifications.deliver(w.uow, notifiers(w, port, url, clock), clock, policy=POLICY)
    assert (run.delivered, run.retrying, run.failed, again.claimed) == (3, 0, 0, 0)
    by = rows(w)
    (msg,) = box.messages
    assert isinstance(msg, EmailMessage)
    assert msg["Message-ID"] == f"<loom-notice-{by[Channel.EMAIL].delivery_id}@loom.local>"
    assert msg["To"] == "wang@example.com"
    assert msg["Subject"] == "【还款提醒】贷款LN00000001第1期将于2026-04-02到期"
    assert POLICY.bank_account in msg.get_content()
    (req,) = gw.requests
    assert req["headers"]["idempotency-key"] == by[Channel.SMS].key
    assert req["headers"]["authorization"] == "Bearer t0k"
    assert req["body"]["to"] == "13800138000"
    with w.uow() as uow:
        (inbox,) = uow.notices.inbox(USCC)
    assert inbox.key == by[Channel.INBOX].key
    assert {d.status for d in by.values()} == {DeliveryStatus.DELIVERED}


def test_a_failing_gateway_is_retried_with_back_off_and_delivered_once(
    worlds: Worlds, mail: tuple[MailBox, int]
) -> None:
    """The gateway answers 503 twice: the SMS waits 60 s, then 120 s, is delivered at the third
    attempt, and the gateway accepted it once (three requests in all)."""
    _, port = mail
    gw = Gateway(fail_first=2)
    w = queued(worlds)
    clock = Clock()
    with http_gateway(gw) as url:
        ns = notifiers(w, port, url, clock)
        notifications.deliver(w.uow, ns, clock, policy=POLICY)
        sms = rows(w)[Channel.SMS]
        assert (sms.status, sms.next_attempt_at) == (
            DeliveryStatus.QUEUED, T0 + timedelta(seconds=60)
        )  # fmt: skip
        assert sms.last_error.startswith("SMS gateway HTTP 503")
        clock.at += timedelta(seconds=59)
        assert notifications.deliver(w.uow, ns, clock, policy=POLICY).claimed == 0
        clock.at += timedelta(seconds=1)
        notifications.deliver(w.uow, ns, clock, policy=POLICY)
        assert rows(w)[Channel.SMS].next_attempt_at == clock.at + timedelta(seconds=120)
        clock.at += timedelta(seconds=120)
        third = notifications.deliver(w.uow, ns, clock, policy=POLICY)
    sms = rows(w)[Channel.SMS]
    assert third.delivered == 1
    assert (sms.status, sms.attempts) == (DeliveryStatus.DELIVERED, 3)
    assert len(gw.requests) == 3
    assert gw.accepted == {sms.key: 1}


def test_permanent_refusals_fail_at_once_with_the_reason(
    worlds: Worlds, mail: tuple[MailBox, int]
) -> None:
    """The SMTP server refuses the mailbox (550) and the gateway the number (400): both fail at
    the first attempt with the receiver's reason; nothing arrives."""
    box, port = mail
    gw = Gateway()
    w = queued(worlds, email="refuse@example.com", phone="19900000000")
    clock = Clock()
    with http_gateway(gw) as url:
        run = notifications.deliver(w.uow, notifiers(w, port, url, clock), clock, policy=POLICY)
    by = rows(w)
    assert (run.delivered, run.failed) == (1, 2)
    assert by[Channel.EMAIL].status is DeliveryStatus.FAILED
    assert by[Channel.EMAIL].last_error == "SMTP 550 5.1.1 no such mailbox"
    assert by[Channel.SMS].status is DeliveryStatus.FAILED
    assert by[Channel.SMS].last_error.startswith("SMS gateway HTTP 400")
    assert box.messages == []
    assert gw.accepted == {}


def test_an_unreachable_server_is_retried_until_the_last_attempt(worlds: Worlds) -> None:
    """No SMTP server on the port: retried with back-off, failed after the fifth attempt with
    the connection error."""
    from tests.receivers import free_port

    w = queued(worlds)
    clock = Clock()
    email = {Channel.EMAIL: SmtpNotifier("127.0.0.1", free_port(), sender="n@bank.example",
                                         timeout_s=2.0)}  # fmt: skip
    for _ in range(POLICY.max_attempts):
        notifications.deliver(w.uow, email, clock, policy=POLICY)
        clock.at += timedelta(seconds=POLICY.backoff_max_s)
    row = rows(w)[Channel.EMAIL]
    assert (row.status, row.attempts) == (DeliveryStatus.FAILED, POLICY.max_attempts)
    assert "unreachable" in row.last_error


def test_two_runs_at_once_deliver_each_notice_once_at_the_receivers(
    worlds: Worlds, mail: tuple[MailBox, int]
) -> None:
    """40 e-mails and 40 SMS, two runs at once in batches of 7: each Message-ID arrived once
    and the gateway accepted each key once."""
    box, port = mail
    gw = Gateway()
    w = queued(worlds)
    seed = rows(w)
    with w.uow() as uow:
        extra = [replace(seed[ch], installment=100 + k)
                 for ch in (Channel.EMAIL, Channel.SMS) for k in range(39)]  # fmt: skip
        uow.notices.add_many(extra)
        uow.commit()
    clock = Clock()
    with http_gateway(gw) as url:
        ns = notifiers(w, port, url, clock)
        runs: list[notifications.DeliveryRun] = []
        threads = [threading.Thread(target=lambda: runs.append(notifications.deliver(
            w.uow, ns, clock, policy=POLICY, batch=7))) for _ in range(2)]  # fmt: skip
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    ids = box.ids()
    assert len(ids) == 40
    assert set(ids.values()) == {1}
    assert len(gw.accepted) == 40
    assert set(gw.accepted.values()) == {1}
    assert sum(r.delivered for r in runs) == 81
    with w.uow() as uow:
        assert {d.status for d in uow.notices.find()} == {DeliveryStatus.DELIVERED}
