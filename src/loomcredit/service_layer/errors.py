"""Errors the use cases raise besides the domain's (mapped to 4xx at the edge)."""

from __future__ import annotations

from loomcredit.domain.errors import LoomError


class InvalidRequestError(LoomError, ValueError):
    """A request whose values break a business rule; the message says what to fix."""


class IdempotencyConflictError(LoomError):
    """An Idempotency-Key reused for a different request, or a second key for a done action."""


class ConcurrentChangeError(LoomError):
    """Someone changed the same record at the same time; retrying reads the new state."""
