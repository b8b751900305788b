"""The credit line aggregate (授信额度): the limit a decision granted, and what is drawn on it.

An approved and accepted application opens a :class:`CreditLine`: its limit, its kind
(:class:`LineKind`: revolving 循环额度, whose availability comes back as principal is repaid, or
one-off 一次性额度, which can be drawn until the limit is used), its expiry (额度有效期) and the
decision it came from. A drawdown (用信) first *reserves* availability when it is requested, so
two requests can never together exceed the limit, then *draws* it when the disbursement is
approved, or *releases* it when the request is rejected.

A post-loan officer can freeze the undrawn limit (冻结) or reduce it (压降) with a reason, and
unfreeze it; each change is an event, and the line keeps the current reason.

>>> line = CreditLine.open(LineTerms(7, "91330603MA2B00000X", LineKind.REVOLVING,
...     Money.parse("500000"), date(2026, 1, 5), date(2027, 1, 5), "D1", "6222000011112222"))
>>> line.reserve(Money.parse("300000"), date(2026, 1, 6))
>>> line.draw(Money.parse("300000"), date(2026, 1, 6))
>>> line.available(date(2026, 1, 6)).format()
'¥200,000.00'
>>> line.restore(Money.parse("100000"), date(2026, 2, 6))
>>> line.available(date(2026, 2, 6)).format()
'¥300,000.00'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from loomcredit.domain.errors import (
    CreditLineError,
    CurrencyMismatch,
    InvalidAmount,
    LimitExceeded,
    LineNotAvailable,
)
from loomcredit.domain.money import Money

__all__ = ["CreditLine", "LineEvent", "LineKind", "LineStatus", "LineTerms"]


class LineKind(StrEnum):
    """Revolving (循环额度, repaid principal can be drawn again) or one-off (一次性额度)."""

    REVOLVING = "revolving"
    ONE_OFF = "one_off"

    @property
    def label_zh(self) -> str:
        """Chinese label."""
        return {"revolving": "循环额度", "one_off": "一次性额度"}[self.value]


class LineStatus(StrEnum):
    """Active, frozen (冻结: nothing more can be drawn until unfrozen) or closed."""

    ACTIVE = "active"
    FROZEN = "frozen"
    CLOSED = "closed"

    @property
    def label_zh(self) -> str:
        """Chinese label."""
        return {"active": "有效", "frozen": "已冻结", "closed": "已关闭"}[self.value]


@dataclass(frozen=True, slots=True)
class LineEvent:
    """Something that happened to a line: ``opened``, ``reserved``, ``released``, ``drawn``,
    ``restored``, ``frozen``, ``unfrozen``, ``reduced``, ``adjusted``, ``closed``."""

    kind: str
    on: date
    amount: Money | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class LineTerms:
    """What opening a line needs: the application it comes from, the borrower, kind, limit,
    opening and expiry dates, the decision id and the borrower's settlement account (结算账户,
    where auto-debits are taken from and repayments are matched by)."""

    application_id: int
    uscc: str
    kind: LineKind
    limit: Money
    opened_on: date
    expires_on: date
    decision_id: str
    settlement_account: str


@dataclass(slots=True)
class CreditLine:
    """A credit line and its use.

    Attributes:
        line_id: stored id (0 until stored).
        terms: the terms it was opened on (the original limit among them).
        limit: the limit in force (the original, or lower after a reduction).
        utilised: principal drawn and counting against the limit (for a revolving line the
            principal outstanding, for a one-off line everything ever drawn).
        reserved: drawdowns requested and not yet disbursed or released.
        status: active, frozen or closed.
        reason: why it was last frozen or reduced ('' when none).
        version: optimistic-concurrency counter (each stored change adds one).
        events: what happened since it was loaded.
    """

    line_id: int
    terms: LineTerms
    limit: Money
    utilised: Money
    reserved: Money
    status: LineStatus = LineStatus.ACTIVE
    reason: str = ""
    version: int = 0
    events: list[LineEvent] = field(default_factory=list)

    @classmethod
    def open(cls, terms: LineTerms) -> CreditLine:
        """A new line from an accepted application's terms."""
        if not terms.limit.is_positive():
            raise InvalidAmount("a credit line's limit must be positive")
        if terms.expires_on <= terms.opened_on:
            raise CreditLineError("a credit line must expire after the day it opens")
        nil = Money.zero(terms.limit.currency)
        line = cls(0, terms, terms.limit, nil, nil)
        line.events.append(LineEvent("opened", terms.opened_on, terms.limit))
        return line

    @property
    def currency(self) -> str:
        """The line's currency."""
        return self.limit.currency

    def is_expired(self, on: date) -> bool:
        """Whether the line's availability period has ended by ``on``."""
        return on >= self.terms.expires_on

    def available(self, on: date) -> Money:
        """What can still be drawn on ``on``: nothing unless active and not expired."""
        nil = Money.zero(self.currency)
        if self.status is not LineStatus.ACTIVE or self.is_expired(on):
            return nil
        return max(nil, self.limit - self.utilised - self.reserved)

    def utilisation(self) -> Decimal:
        """Drawn and reserved ÷ limit (0 for a zero limit), four places."""
        if not self.limit.is_positive():
            return Decimal(0)
        used = Decimal(self.utilised.minor + self.reserved.minor)
        return (used / Decimal(self.limit.minor)).quantize(Decimal("0.0001"))

    def _check(self, amount: Money) -> None:
        if amount.currency != self.currency:
            raise CurrencyMismatch(self.currency, amount.currency)
        if not amount.is_positive():
            raise InvalidAmount("a drawdown must be a positive amount")

    def _require_drawable(self, on: date) -> None:
        if self.status is not LineStatus.ACTIVE:
            why = f" ({self.reason})" if self.reason else ""
            raise LineNotAvailable(
                f"credit line {self.line_id} is {self.status.value}{why}; nothing can be drawn",
                line_id=self.line_id,
            )
        if self.is_expired(on):
            raise LineNotAvailable(
                f"credit line {self.line_id} expired on {self.terms.expires_on}",
                line_id=self.line_id,
            )

    def reserve(self, amount: Money, on: date) -> None:
        """Hold ``amount`` for a requested drawdown; refused beyond what is available."""
        self._check(amount)
        self._require_drawable(on)
        available = self.available(on)
        if amount > available:
            raise LimitExceeded(
                f"credit line {self.line_id} has {available.format()} available; "
                f"{amount.format()} cannot be drawn",
                line_id=self.line_id,
            )
        self.reserved = self.reserved + amount
        self.events.append(LineEvent("reserved", on, amount))

    def release(self, amount: Money, on: date, reason: str = "") -> None:
        """Give back a reservation (the drawdown was rejected or cancelled)."""
        self._check(amount)
        if amount > self.reserved:
            raise CreditLineError(
                f"credit line {self.line_id} holds {self.reserved.format()} reserved; "
                f"{amount.format()} cannot be released",
                line_id=self.line_id,
            )
        self.reserved = self.reserved - amount
        self.events.append(LineEvent("released", on, amount, reason))

    def draw(self, amount: Money, on: date) -> None:
        """Turn a reservation into a drawdown when it is disbursed (the line must still be
        active and unexpired: a freeze stops disbursements already requested)."""
        self._check(amount)
        self._require_drawable(on)
        if amount > self.reserved:
            raise CreditLineError(
                f"credit line {self.line_id} has no reservation of {amount.format()} to draw",
                line_id=self.line_id,
            )
        self.reserved = self.reserved - amount
        self.utilised = self.utilised + amount
        self.events.append(LineEvent("drawn", on, amount))

    def restore(self, principal: Money, on: date) -> None:
        """Principal repaid: a revolving line's availability comes back (one-off: no change)."""
        if self.terms.kind is not LineKind.REVOLVING or principal.is_zero():
            return
        self._check(principal)
        back = restored(self.terms.kind, self.utilised, principal)
        self.utilised = self.utilised - back
        self.events.append(LineEvent("restored", on, back))

    def freeze(self, reason: str, on: date) -> None:
        """冻结 the undrawn limit: no more drawdowns (loans already drawn run on)."""
        if self.status is LineStatus.CLOSED:
            raise LineNotAvailable(f"credit line {self.line_id} is closed", line_id=self.line_id)
        if not reason.strip():
            raise CreditLineError("freezing a line needs a reason", line_id=self.line_id)
        self.status, self.reason = LineStatus.FROZEN, reason.strip()
        self.events.append(LineEvent("frozen", on, reason=self.reason))

    def unfreeze(self, reason: str, on: date) -> None:
        """Lift a freeze."""
        if self.status is not LineStatus.FROZEN:
            raise CreditLineError(
                f"credit line {self.line_id} is {self.status.value}, not frozen",
                line_id=self.line_id,
            )
        self.status, self.reason = LineStatus.ACTIVE, ""
        self.events.append(LineEvent("unfrozen", on, reason=reason.strip()))

    def check_reduction(self, new_limit: Money) -> None:
        """Refuse a new limit that does not lower this one (or is below zero)."""
        if new_limit.currency != self.currency:
            raise CurrencyMismatch(self.currency, new_limit.currency)
        if new_limit.is_negative() or new_limit >= self.limit:
            raise CreditLineError(
                f"a reduction must lower the limit of {self.limit.format()} (not to "
                f"{new_limit.format()})",
                line_id=self.line_id,
            )

    def reduce(self, new_limit: Money, reason: str, on: date) -> None:
        """压降 Lower the limit (it may fall below what is drawn: then nothing is available)."""
        self.check_reduction(new_limit)
        if not reason.strip():
            raise CreditLineError("reducing a line needs a reason", line_id=self.line_id)
        self.limit, self.reason = new_limit, reason.strip()
        self.events.append(LineEvent("reduced", on, new_limit, self.reason))

    def adjust(self, new_limit: Money, reason: str, on: date) -> None:
        """额度调整 Set the limit the monthly review arrived at (up or down; a raise is the
        review policy's or an approver's to allow, not the line's)."""
        if self.status is LineStatus.CLOSED:
            raise LineNotAvailable(f"credit line {self.line_id} is closed", line_id=self.line_id)
        if new_limit.currency != self.currency:
            raise CurrencyMismatch(self.currency, new_limit.currency)
        if new_limit.is_negative() or new_limit == self.limit:
            raise CreditLineError(
                f"an adjustment must change the limit of {self.limit.format()} (not to "
                f"{new_limit.format()})",
                line_id=self.line_id,
            )
        if not reason.strip():
            raise CreditLineError("adjusting a line needs a reason", line_id=self.line_id)
        self.limit = new_limit
        self.events.append(LineEvent("adjusted", on, new_limit, reason.strip()))

    def close(self, on: date, reason: str = "") -> None:
        """Close the line: nothing more is drawn (loans already drawn run on)."""
        self.status = LineStatus.CLOSED
        self.events.append(LineEvent("closed", on, reason=reason))


def restored(kind: LineKind, utilised: Money, principal: Money) -> Money:
    """How much of a line's utilisation ``principal`` repaid gives back: all of it, up to what is
    utilised, on a revolving line; nothing on a one-off line."""
    if kind is not LineKind.REVOLVING or not principal.is_positive():
        return Money.zero(utilised.currency)
    return min(principal, utilised)
