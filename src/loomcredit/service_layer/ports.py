"""Ports (protocols) the use cases depend on; adapters implement them, tests fake them.

Decisioning needs a feature source (the lake's point-in-time profile), a scorer (PD and reason
codes) and a consent source (which pre-loan scopes are on file). Other use cases add their ports
here (unit of work, clock, notifier).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Protocol, runtime_checkable

from loomcredit.domain.contacts import Channel
from loomcredit.domain.notices import OutboundMessage, SendResult


class FeatureSource(Protocol):
    """Point-in-time features of one enterprise as of a date."""

    def get(self, uscc: str, as_of: date) -> Mapping[str, object]:
        """The feature vector (names as in the agreed catalogue); NotFound if unknown."""
        ...


@runtime_checkable
class BatchFeatureSource(FeatureSource, Protocol):
    """A feature source that also answers for many enterprises in one pass."""

    def get_many(self, usccs: Iterable[str], as_of: date) -> Mapping[str, Mapping[str, object]]:
        """Each enterprise's vector as :meth:`get` gives it; one it knows nothing of is left
        out."""
        ...


class ReasonLike(Protocol):
    """A model reason code."""

    @property
    def feature(self) -> str: ...
    @property
    def code(self) -> str: ...
    @property
    def text_zh(self) -> str: ...
    @property
    def text_en(self) -> str: ...
    @property
    def impact(self) -> float: ...


class ScoreLike(Protocol):
    """What a scorer returns for one enterprise."""

    @property
    def score(self) -> float: ...
    @property
    def pd(self) -> float: ...
    @property
    def reasons(self) -> Sequence[ReasonLike]: ...


class Scorer(Protocol):
    """A trained model that scores one feature vector."""

    @property
    def version(self) -> str:
        """Model version (kept on every decision)."""
        ...

    def score_one(self, features: Mapping[str, object]) -> ScoreLike:
        """Score, PD and reason codes for one enterprise."""
        ...


class ConsentSource(Protocol):
    """Consent registry (授权书): live scopes for pre-loan decisions."""

    def scopes_on(self, uscc: str, as_of: date) -> Iterable[str]:
        """Scopes covered by live pre-loan consents of the enterprise on ``as_of``."""
        ...


class Notifier(Protocol):
    """Sends messages of one channel (e-mail, SMS, the console inbox).

    A batch may share one connection. Every message carries its idempotency key (the delivery's
    id) where the channel can (SMTP ``Message-ID``, HTTP ``Idempotency-Key``), so a receiver
    that sees a message again after a crash between sending and recording can drop it.
    """

    @property
    def channel(self) -> Channel:
        """The channel it sends on."""
        ...

    def send(self, messages: Sequence[OutboundMessage]) -> list[SendResult]:
        """Send each message; one result per message, in order (never raises for one
        message's failure)."""
        ...
