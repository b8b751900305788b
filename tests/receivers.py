"""Real receivers on loopback for the notifier tests and the bench: an SMTP server (aiosmtpd)
that keeps every message it accepts, and an HTTP SMS gateway (``http.server`` in a thread) that
can be told to fail its first N requests; it refuses (400) numbers starting 1990."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

_MESSAGE_ID = re.compile(rb"(?im)^Message-ID:\s*(<[^>]+>)")


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class MailBox:
    """The SMTP server's handler: every accepted message, parsed (``keep``; otherwise only its
    Message-ID is counted); refuses recipients whose address starts with ``refuse``."""

    def __init__(self, *, keep: bool = True) -> None:
        self.messages: list[EmailMessage] = []
        self.seen: Counter[str] = Counter()
        self.keep = keep
        self._lock = threading.Lock()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if address.startswith("refuse"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.keep:
            msg = message_from_bytes(envelope.content, policy=policy.default)
            key = str(msg["Message-ID"])
        else:
            found = _MESSAGE_ID.search(envelope.content)
            key = found.group(1).decode() if found else ""
        with self._lock:
            self.seen[key] += 1
            if self.keep:
                self.messages.append(msg)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def ids(self) -> Counter[str]:
        """How many times each Message-ID arrived."""
        with self._lock:
            return Counter(self.seen)


@contextmanager
def smtp_server(*, keep: bool = True, port: int | None = None) -> Iterator[tuple[MailBox, int]]:
    """A running SMTP server on 127.0.0.1 and its port (a free one unless given)."""
    box = MailBox(keep=keep)
    port = port or free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


class Gateway:
    """What the HTTP receiver saw and how it answers."""

    def __init__(
        self, *, fail_first: int = 0, status: int = 503, delay_s: float = 0.0, keep: bool = True
    ) -> None:
        self.fail_first, self.status, self.delay_s, self.keep = fail_first, status, delay_s, keep
        self.requests: list[dict[str, Any]] = []
        self.count = 0
        self.accepted: Counter[str] = Counter()
        self._lock = threading.Lock()

    def answer(self, body: dict[str, Any], headers: dict[str, str]) -> int:
        with self._lock:
            self.count += 1
            n = self.count
            if self.keep:
                self.requests.append({"body": body, "headers": headers})
            if n <= self.fail_first:
                return self.status
            if str(body.get("to", "")).startswith("1990"):
                return 400
            self.accepted[headers.get("idempotency-key", "")] += 1
            return 200


@contextmanager
def http_gateway(gateway: Gateway, *, port: int | None = None) -> Iterator[str]:
    """A running HTTP receiver on 127.0.0.1 (a free port unless given); yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out at once (no 40 ms stalls)

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if gateway.delay_s:
                time.sleep(gateway.delay_s)
            headers = {k.lower(): v for k, v in self.headers.items()}
            status = gateway.answer(json.loads(raw), headers)
            out = json.dumps({"ok": status == 200}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", port or free_port()), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/sms"
    finally:
        server.shutdown()
        server.server_close()
