"""Ports the lending use cases depend on besides the store (implemented in adapters, wired in
bootstrap, faked in tests): the decider and the bank core."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Protocol

from loomcredit.domain.decision.outcome import CreditDecision
from loomcredit.domain.payments import DebitInstruction, SettlementLine
from loomcredit.service_layer.decisioning import DecisionRequest


class Decider(Protocol):
    """Runs the credit decision for one application as of a date (typed: no dict crosses)."""

    def decide(self, request: DecisionRequest, as_of: date) -> CreditDecision:
        """Decide (or refer to a person with the reason)."""
        ...


class BankCore(Protocol):
    """The bank's core system as Loom sees it for auto-debits (代扣): instructions go out in a
    batch, a settlement file comes back."""

    def submit(self, batch_id: str, instructions: Sequence[DebitInstruction]) -> None:
        """Send a batch of debit instructions."""
        ...

    def settlement(self, batch_id: str) -> Sequence[SettlementLine] | None:
        """The settlement lines the core returned for a batch; None until it has."""
        ...
