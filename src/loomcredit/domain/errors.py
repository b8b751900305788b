"""The domain's error tree (one documented hierarchy, httpx style).

    LoomError
    ├── InvalidAmount (ValueError)          money that cannot be represented exactly
    │   └── CurrencyMismatch                 arithmetic across two currencies
    ├── InvalidCode (ValueError)             an identity code (USCC, resident ID) failing checks
    ├── UnknownCode (KeyError)               a region or industry code that is not in the tables
    ├── ScheduleError (ValueError)           a repayment schedule that cannot be built as asked
    ├── LedgerError (ValueError)
    │   ├── UnbalancedEntry                  postings do not sum to zero per currency
    │   ├── TooFewPostings                   an entry needs at least two postings
    │   └── ZeroPosting                      a posting of zero carries no meaning
    ├── LoanStateError                       an action the loan's state does not allow
    │   └── NotRestructurable                a loan or a plan that cannot be restructured
    ├── CreditLineError                      a drawdown or line action the line does not allow
    │   ├── LimitExceeded                    a drawdown above what is available
    │   └── LineNotAvailable                 the line is frozen, expired or closed
    ├── ApprovalError                        a request for approval that cannot proceed
    │   ├── FourEyesViolation                the approver is the requester or made the case
    │   └── ApprovalStateError               the request was already decided
    ├── PolicyViolation                      a policy file or value that breaks its own rules
    └── NotFound (LookupError)

Errors carry structured context as attributes and a plain-English message; Chinese user-facing text
belongs in the console's translations, not here.
"""

from __future__ import annotations


class LoomError(Exception):
    """Root of every error Loom raises on purpose."""


class InvalidAmount(LoomError, ValueError):
    """An amount not exactly representable in integer fen, or a float where money is due."""


class CurrencyMismatch(InvalidAmount):
    """Two amounts in different currencies were combined."""

    def __init__(self, left: str, right: str) -> None:
        super().__init__(f"Cannot combine amounts in {left} and {right}; convert one first.")
        self.left = left
        self.right = right


class InvalidCode(LoomError, ValueError):
    """An identity code failed validation; ``reason`` says exactly why."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code!r} is not valid: {reason}")
        self.code = code
        self.reason = reason


class UnknownCode(LoomError, KeyError):
    """A code (region, industry) that is not in Loom's code tables."""

    def __init__(self, table: str, code: str) -> None:
        super().__init__(f"{code!r} is not a known {table} code.")
        self.table = table
        self.code = code

    def __str__(self) -> str:
        return str(self.args[0])


class ScheduleError(LoomError, ValueError):
    """A repayment schedule cannot be built from the given terms."""


class LedgerError(LoomError, ValueError):
    """A journal entry breaks double-entry rules."""


class UnbalancedEntry(LedgerError):
    """The postings of an entry do not sum to zero in some currency."""


class TooFewPostings(LedgerError):
    """A journal entry needs at least two postings."""


class ZeroPosting(LedgerError):
    """A posting of zero amount is not allowed."""


class LoanStateError(LoomError):
    """The loan's current state does not allow the requested action."""


class NotRestructurable(LoanStateError):
    """The loan cannot be restructured (closed, written off, nothing owed) or the plan cannot
    be applied to it; ``loan_id`` says which loan."""

    def __init__(self, message: str, *, loan_id: int = 0) -> None:
        super().__init__(message)
        self.loan_id = loan_id


class CreditLineError(LoomError):
    """A drawdown or a line action the credit line does not allow."""

    def __init__(self, message: str, *, line_id: int | None = None) -> None:
        super().__init__(message)
        self.line_id = line_id


class LimitExceeded(CreditLineError):
    """A drawdown asks for more than the line has available."""


class LineNotAvailable(CreditLineError):
    """The line is frozen, expired or closed, so nothing can be drawn."""


class ApprovalError(LoomError):
    """A request for approval (four eyes, 双人复核) that cannot proceed."""


class FourEyesViolation(ApprovalError):
    """The approver is the requester, or made or changed the case being approved."""


class ApprovalStateError(ApprovalError):
    """The request was already approved, rejected or cancelled."""


class AlertStateError(LoomError):
    """An early-warning alert cannot move that way (closed, or a step its status forbids)."""


class AlertInputError(LoomError, ValueError):
    """An alert or a step on it lacks what it needs (evidence, a comment, a person)."""


class PolicyViolation(LoomError, ValueError):
    """A policy file or value breaks its own rules."""


class NotFound(LoomError, LookupError):
    """The requested record does not exist."""


class DateOutOfRange(NotFound, ValueError):
    """A date the reference data does not cover (e.g. before the first LPR release)."""
