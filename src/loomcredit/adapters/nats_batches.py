"""Batches of new data from a message broker: a NATS JetStream stream (``loom watch --broker``).

Upstream systems publish one batch a message on ``loom.data.<source>`` (JSON Lines, one object a
row; a ``Nats-Msg-Id`` header lets JetStream drop a publisher's retries). Loom reads them with a
durable pull consumer and acknowledges a message only once its batch has been handled, so a crash
redelivers it (at least once); a batch delivered again is known by its content and changes
nothing. A batch the lake refuses is acknowledged after the refusal is recorded (it would be
refused again).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from loomcredit.service_layer.intake import Batch

STREAM = "LOOM_DATA"
PREFIX = "loom.data"
DURABLE = "loom-watch"


class BrokerUnavailableError(ConnectionError):
    """The broker does not answer."""


class NatsBatches:
    """The stream ``stream`` of subjects ``<prefix>.<source>`` on the NATS server at ``url``."""

    def __init__(
        self, url: str, *, stream: str = STREAM, prefix: str = PREFIX, durable: str = DURABLE
    ) -> None:
        self.url, self.stream, self.prefix, self.durable = url, stream, prefix, durable

    async def _js(self) -> tuple[Any, Any]:
        import nats

        try:
            nc = await nats.connect(self.url, connect_timeout=3, max_reconnect_attempts=0)
        except Exception as exc:
            raise BrokerUnavailableError(f"no NATS server answers at {self.url}: {exc}") from exc
        js = nc.jetstream()
        try:
            await js.stream_info(self.stream)
        except Exception:  # noqa: BLE001 - not found: create it
            await js.add_stream(name=self.stream, subjects=[f"{self.prefix}.>"])
        return nc, js

    def publish(self, batch: Batch, msg_id: str) -> None:
        """Publish a batch (what an upstream system does; used by tests and the demo)."""

        async def go() -> None:
            nc, js = await self._js()
            subject = f"{self.prefix}.{batch.source}"
            await js.publish(subject, batch.payload, headers={"Nats-Msg-Id": msg_id})
            await nc.close()

        asyncio.run(go())

    def consume(self, handle: Callable[[Batch], None], *, once: bool, wait: float = 1.0) -> int:
        """Hand every message's batch to ``handle`` and acknowledge it after; with ``once``,
        stop when none arrives for ``wait`` seconds. Returns the messages handled."""
        return asyncio.run(self._consume(handle, once, wait))

    async def _consume(self, handle: Callable[[Batch], None], once: bool, wait: float) -> int:
        from nats.errors import TimeoutError as NatsTimeout

        nc, js = await self._js()
        sub = await js.pull_subscribe(f"{self.prefix}.>", durable=self.durable, stream=self.stream)
        handled = 0
        try:
            while True:
                try:
                    msgs = await sub.fetch(batch=10, timeout=wait)
                except (NatsTimeout, TimeoutError):  # nats-py raises either when none came
                    if once:
                        return handled
                    continue
                for m in msgs:
                    source = m.subject.removeprefix(self.prefix + ".")
                    handle(Batch(source, m.data, f"nats-{source}.jsonl"))
                    await m.ack()
                    handled += 1
        finally:
            await nc.close()
