"""Test builders: ``M("1000.00 CNY")`` money mini-parser (beancount ``A("10 USD")`` style)."""

from __future__ import annotations

from datetime import date

from loomcredit.domain.money import CNY, Money


def M(text: str) -> Money:
    """Money from ``"1000.00 CNY"``, ``"1000.00"`` (CNY) or ``"-0.01 USD"``."""
    parts = text.split()
    if len(parts) == 1:
        return Money.parse(parts[0], CNY)
    if len(parts) == 2:
        return Money.parse(parts[0], parts[1])
    raise ValueError(f"M() takes 'AMOUNT [CURRENCY]', not {text!r}")


def D(text: str) -> date:
    """A date from ISO text: ``D("2026-01-20")``."""
    return date.fromisoformat(text)
