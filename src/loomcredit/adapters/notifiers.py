"""Notifiers (the ``Notifier`` port): e-mail over SMTP, SMS through an HTTP gateway, and the
borrower's console inbox (站内信).

Each message carries its idempotency key — the delivery's id — as the e-mail's ``Message-ID``
and the SMS request's ``Idempotency-Key`` header, so a receiver that keeps keys drops a repeat
(a run that crashed after sending and before recording its outcome sends again when its lease
expires). The inbox is written with the key as its primary key: a repeat changes nothing.
"""

from __future__ import annotations

import base64
import smtplib
import ssl
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from email.header import Header
from email.utils import formataddr, formatdate

import httpx
from sqlalchemy import Engine
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from loomcredit.adapters import orm
from loomcredit.domain.contacts import Channel
from loomcredit.domain.notices import OutboundMessage, SendResult

__all__ = ["ConsoleInbox", "HttpSmsNotifier", "SmtpNotifier", "message_id"]

#: Temporary SMTP failures (4xx) are retried; these 5xx codes are permanent.
_PERMANENT_SMTP = range(500, 600)
_RETRY_HTTP = frozenset({408, 425, 429})


def message_id(key: str, domain: str = "loom.local") -> str:
    """The e-mail ``Message-ID`` of an idempotency key."""
    return f"<{key}@{domain}>"


class SmtpNotifier:
    """E-mail over SMTP (stdlib ``smtplib``): one connection reused for a whole batch (or the
    batch split over ``connections`` connections side by side), STARTTLS and login optional. A
    recipient the server refuses with 5xx fails for good; 4xx, a dropped connection or a timeout
    is retried by the outbox."""

    channel = Channel.EMAIL

    def __init__(
        self,
        host: str,
        port: int = 25,
        *,
        sender: str,
        sender_name: str = "织信贷款通知 Loom notices",
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout_s: float = 10.0,
        connections: int = 1,
    ) -> None:
        self.host, self.port, self.sender, self.sender_name = host, port, sender, sender_name
        self.connections = max(1, connections)
        self._from = formataddr((sender_name, sender), charset="utf-8")
        self.starttls, self.username, self.password = starttls, username, password
        self.timeout_s = timeout_s

    def _connect(self) -> smtplib.SMTP:
        conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout_s)
        if self.starttls:
            conn.starttls(context=ssl.create_default_context())
        if self.username:
            conn.login(self.username, self.password or "")
        return conn

    def _email(self, m: OutboundMessage) -> bytes:
        """The message as RFC 5322 bytes: UTF-8 text in base64, the subject RFC 2047-encoded
        (built by hand: ``EmailMessage`` costs ~0.8 ms of CPU a message, a tenth of a
        loopback round trip budget)."""
        body = base64.encodebytes(m.body.encode()).decode("ascii")
        headers = (
            f"From: {self._from}\r\n"
            f"To: {m.address}\r\n"
            f"Subject: {Header(m.subject, 'utf-8').encode()}\r\n"
            f"Date: {formatdate(usegmt=True)}\r\n"
            f"Message-ID: {message_id(m.key)}\r\n"
            f"Content-Language: {m.language}\r\n"
            "MIME-Version: 1.0\r\n"
            'Content-Type: text/plain; charset="utf-8"\r\n'
            "Content-Transfer-Encoding: base64\r\n\r\n"
        )
        return (headers + body.replace("\n", "\r\n")).encode("ascii")

    def send(self, messages: Sequence[OutboundMessage]) -> list[SendResult]:
        """Send a batch (results in the messages' order)."""
        k = min(self.connections, len(messages))
        if k <= 1:
            return self._send_on_one(messages)
        chunks = [messages[i::k] for i in range(k)]
        with ThreadPoolExecutor(k) as pool:
            answered = list(pool.map(self._send_on_one, chunks))
        by_key = {r.key: r for rs in answered for r in rs}
        return [by_key[m.key] for m in messages]

    def _send_on_one(self, messages: Sequence[OutboundMessage]) -> list[SendResult]:
        """Send messages on one connection (reconnecting once if the server drops it)."""
        results: list[SendResult] = []
        conn: smtplib.SMTP | None = None
        try:
            for m in messages:
                if conn is None:
                    try:
                        conn = self._connect()
                    except (OSError, smtplib.SMTPException) as exc:
                        reason = f"SMTP {self.host}:{self.port} unreachable: {exc}"
                        results.extend(SendResult(x.key, False, reason)
                                       for x in messages[len(results):])  # fmt: skip
                        return results
                result = self._send_one(conn, m)
                if result is None:  # the connection broke: once more on a new one
                    conn = None
                    try:
                        conn = self._connect()
                        result = self._send_one(conn, m)
                    except (OSError, smtplib.SMTPException) as exc:
                        result = SendResult(m.key, False, f"SMTP connection lost: {exc}")
                    if result is None:
                        result = SendResult(m.key, False, "SMTP connection lost twice")
                        conn = None
                results.append(result)
        finally:
            if conn is not None:
                try:
                    conn.quit()
                except (OSError, smtplib.SMTPException):
                    conn.close()
        return results

    def _send_one(self, conn: smtplib.SMTP, m: OutboundMessage) -> SendResult | None:
        """One message; None when the connection is gone (the caller reconnects)."""
        try:
            refused = conn.sendmail(self.sender, [m.address], self._email(m))
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            return SendResult(m.key, False, f"SMTP {code} {text.decode(errors='replace')}",
                              permanent=code in _PERMANENT_SMTP)  # fmt: skip
        except smtplib.SMTPServerDisconnected:
            return None
        except smtplib.SMTPResponseException as exc:
            text = exc.smtp_error.decode(errors="replace")
            return SendResult(m.key, False, f"SMTP {exc.smtp_code} {text}",
                              permanent=exc.smtp_code in _PERMANENT_SMTP)  # fmt: skip
        except (OSError, smtplib.SMTPException):
            return None
        if refused:
            code, text = next(iter(refused.values()))
            return SendResult(m.key, False, f"SMTP {code} {text.decode(errors='replace')}",
                              permanent=code in _PERMANENT_SMTP)  # fmt: skip
        return SendResult(m.key, True)


class HttpSmsNotifier:
    """SMS through an HTTP gateway: a JSON ``POST {to, text, key}`` with a bearer token and an
    ``Idempotency-Key`` header, on one keep-alive client per batch, ``concurrency`` requests in
    flight. 2xx is sent; 408/425/429, 5xx, a timeout or a refused connection is retried; any
    other status fails for good. The reason names the status and the gateway's answer."""

    channel = Channel.SMS

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        timeout_s: float = 5.0,
        concurrency: int = 8,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url, self.token, self.timeout_s = url, token, timeout_s
        self.concurrency, self.transport = max(1, concurrency), transport

    def _one(self, client: httpx.Client, m: OutboundMessage) -> SendResult:
        headers = {"Idempotency-Key": m.key}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        payload = {"to": m.address, "text": f"{m.subject}\n{m.body}", "key": m.key,
                   "language": m.language}  # fmt: skip
        try:
            resp = client.post(self.url, json=payload, headers=headers)
        except httpx.TimeoutException:
            return SendResult(m.key, False, f"SMS gateway timed out after {self.timeout_s} s")
        except httpx.HTTPError as exc:
            return SendResult(m.key, False, f"SMS gateway unreachable: {exc}")
        if resp.is_success:
            return SendResult(m.key, True)
        text = resp.text[:200]
        permanent = resp.status_code < 500 and resp.status_code not in _RETRY_HTTP
        return SendResult(m.key, False, f"SMS gateway HTTP {resp.status_code}: {text}",
                          permanent=permanent)  # fmt: skip

    def send(self, messages: Sequence[OutboundMessage]) -> list[SendResult]:
        """Send a batch (results in the messages' order)."""
        if not messages:
            return []
        limits = httpx.Limits(max_connections=self.concurrency,
                              max_keepalive_connections=self.concurrency)  # fmt: skip
        with httpx.Client(timeout=self.timeout_s, limits=limits, transport=self.transport) as c:
            if self.concurrency == 1 or len(messages) == 1:
                return [self._one(c, m) for m in messages]
            with ThreadPoolExecutor(self.concurrency) as pool:
                return list(pool.map(lambda m: self._one(c, m), messages))


class ConsoleInbox:
    """The borrower's console inbox: delivered at once into ``inbox_messages`` (the key is the
    primary key, so a repeat is dropped), which ``GET /inbox`` reads."""

    channel = Channel.INBOX

    def __init__(self, engine: Engine, clock: Callable[[], datetime]) -> None:
        self.engine, self.clock = engine, clock

    def send(self, messages: Sequence[OutboundMessage]) -> list[SendResult]:
        """Write the batch in one transaction."""
        if not messages:
            return []
        at = self.clock()
        rows = [{"key": m.key, "uscc": m.address, "subject": m.subject[:200], "body": m.body,
                 "delivered_at": at} for m in messages]  # fmt: skip
        insert = pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
        stmt = insert(orm.inbox_messages).on_conflict_do_nothing(index_elements=["key"])
        try:
            with self.engine.begin() as conn:
                conn.execute(stmt, rows)
        except SQLAlchemyError as exc:
            reason = f"inbox not written: {type(exc).__name__}: {str(exc)[:200]}"
            return [SendResult(m.key, False, reason) for m in messages]
        return [SendResult(m.key, True) for m in messages]
