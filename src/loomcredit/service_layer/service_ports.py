"""Ports the lending use cases depend on (implemented in adapters and wired in bootstrap)."""

from __future__ import annotations

from datetime import date
from typing import Any, Protocol

from loomcredit.domain.money import Money

#: Bands a decision can take.
BANDS = ("auto_approve", "review", "decline")


class Decider(Protocol):
    """Runs the credit decision for one application.

    Returns a mapping with at least ``band`` (one of :data:`BANDS`), ``annual_rate`` (decimal
    string, e.g. ``"0.0435"``), ``limit`` (fen, int), ``pd`` (decimal string) and ``reasons``
    (list of str). Extra keys (rate build-up, decision id, ...) are stored as given.
    """

    def __call__(
        self, uscc: str, amount: Money, term: int, method: str, as_of: date
    ) -> dict[str, Any]:  # pragma: no cover - protocol
        """Decide."""
        ...
