"""Money in from the bank (资金来账): auto-debits, statement lines, matching and reconciliation.

A borrower never books its own payment. Money reaches a loan two ways, both from the bank's side:

* **Auto-debit (代扣)**: on a due date the bank debits the borrower's settlement account for what
  is due (:class:`DebitInstruction`); the bank core returns a settlement file whose lines
  (:class:`SettlementLine`) say paid (possibly less than asked) or failed, with the reason.
* **Bank statement (对账单)**: credit lines of the loan-collection account (:class:`StatementLine`)
  are matched to loans by the payer's account and the reference (附言) — :func:`match_line`.
  What does not match, or matches more than one loan, waits for a person (挂账: the exceptions
  queue), booked meanwhile to 待查款项 so the ledger still equals the bank.

Each bank reference is booked once, whichever way it arrives. Reconciliation per value date:
statement total = booked + unmatched, to the fen (:class:`Reconciliation`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from loomcredit.domain.errors import InvalidCode
from loomcredit.domain.money import Money

__all__ = [
    "DebitInstruction",
    "DebitStatus",
    "LoanAccount",
    "Match",
    "MatchOutcome",
    "Reconciliation",
    "SettlementLine",
    "StatementLine",
    "loan_reference",
    "match_line",
    "referenced_loans",
]

_REFERENCE = re.compile(r"LN(\d{8})")


def loan_reference(loan_id: int) -> str:
    """The repayment reference (还款附言) printed on the contract: ``LN`` and eight digits.

    >>> loan_reference(42)
    'LN00000042'
    """
    return f"LN{loan_id:08d}"


def referenced_loans(memo: str) -> frozenset[int]:
    """Loan ids a payer's memo names (``LN00000042`` → 42), however it is surrounded.

    >>> sorted(referenced_loans("还款 LN00000042/ln00000007"))
    [7, 42]
    """
    return frozenset(int(m) for m in _REFERENCE.findall(memo.upper()))


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One credit line of the bank statement (对账单明细).

    Attributes:
        bank_ref: the bank's unique reference for the transaction (流水号).
        value_date: the value date (起息日).
        account: the payer's account number.
        counterparty: the payer's name as the bank shows it.
        amount: the amount credited (positive; debits are not repayments).
        memo: the payer's memo (附言), which may carry a loan reference.
    """

    bank_ref: str
    value_date: date
    account: str
    counterparty: str
    amount: Money
    memo: str = ""


class MatchOutcome(StrEnum):
    """What matching found for a statement line."""

    MATCHED = "matched"
    UNMATCHED = "unmatched"
    AMBIGUOUS = "ambiguous"
    BACK_VALUED = "back_valued"
    FUTURE = "future"
    NOT_A_CREDIT = "not_a_credit"

    @property
    def label_zh(self) -> str:
        """Chinese label."""
        return {
            "matched": "已匹配",
            "unmatched": "未匹配",
            "ambiguous": "多笔可匹配",
            "back_valued": "起息日早于营业日",
            "future": "起息日晚于营业日",
            "not_a_credit": "非来账",
        }[self.value]


@dataclass(frozen=True, slots=True)
class LoanAccount:
    """A loan as matching sees it: its id, whether it takes repayments, and its line's
    settlement account."""

    loan_id: int
    active: bool
    account: str


@dataclass(frozen=True, slots=True)
class Match:
    """The loan a line pays, or why none: ``reason`` is for the person who resolves it."""

    outcome: MatchOutcome
    loan_id: int | None
    reason: str


def match_line(
    line: StatementLine,
    *,
    business_date: date,
    loans_by_account: Mapping[str, Sequence[LoanAccount]],
) -> Match:
    """Match a statement line to one active loan.

    The value date must be the business date (an earlier one is back-valued and needs a risk
    manager; a later one is not yet real). The payer's account must be a borrower's settlement
    account. If the memo names loans of that account, exactly one active one must be named;
    otherwise the account must have exactly one active loan.

    Args:
        line: the statement line.
        business_date: the day the book is on.
        loans_by_account: loans per settlement account.

    Returns:
        The match; anything but :attr:`MatchOutcome.MATCHED` goes to the exceptions queue.
    """
    if not line.amount.is_positive():
        return Match(MatchOutcome.NOT_A_CREDIT, None, "not a credit: only money received repays")
    if line.value_date < business_date:
        return Match(
            MatchOutcome.BACK_VALUED,
            None,
            f"value date {line.value_date} is before the business date {business_date}: "
            "a risk manager books it back-valued",
        )
    if line.value_date > business_date:
        return Match(
            MatchOutcome.FUTURE,
            None,
            f"value date {line.value_date} is after the business date {business_date}",
        )
    loans = list(loans_by_account.get(line.account, ()))
    if not loans:
        return Match(
            MatchOutcome.UNMATCHED, None, f"account {line.account} is no borrower's account"
        )
    active = [loan for loan in loans if loan.active]
    named = referenced_loans(line.memo)
    if named:
        hits = [loan for loan in active if loan.loan_id in named]
        if len(hits) == 1:
            return Match(MatchOutcome.MATCHED, hits[0].loan_id, "account and reference")
        if not hits:
            return Match(
                MatchOutcome.UNMATCHED,
                None,
                f"the reference names no active loan of account {line.account}",
            )
        return Match(MatchOutcome.AMBIGUOUS, None, "the reference names several active loans")
    if len(active) == 1:
        return Match(MatchOutcome.MATCHED, active[0].loan_id, "account (one active loan)")
    if not active:
        return Match(MatchOutcome.UNMATCHED, None, f"account {line.account} has no active loan")
    return Match(
        MatchOutcome.AMBIGUOUS,
        None,
        f"account {line.account} has {len(active)} active loans and the memo names none",
    )


class DebitStatus(StrEnum):
    """An auto-debit instruction's state."""

    SENT = "sent"
    PAID = "paid"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class DebitInstruction:
    """代扣指令: debit ``amount`` from ``account`` for loan ``loan_id`` on ``on``.

    ``instruction_id`` is unique per loan and day (a rerun sends nothing twice); ``early`` marks
    a prepayment the borrower asked for (the money repays principal not yet due)."""

    instruction_id: str
    loan_id: int
    account: str
    amount: Money
    on: date
    early: bool = False

    @staticmethod
    def id_for(loan_id: int, on: date) -> str:
        """The instruction id of a loan's auto-debit on a day."""
        return f"ad-{loan_id}-{on.isoformat()}"


@dataclass(frozen=True, slots=True)
class SettlementLine:
    """One line of the bank core's settlement file (代扣结果): paid (``debited`` may be less than
    asked) or failed with the core's reason, under the bank's reference."""

    instruction_id: str
    account: str
    debited: Money
    status: DebitStatus
    reason: str
    bank_ref: str
    value_date: date


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """对账 for one value date: every statement credit is booked to a loan or waiting as
    unmatched; ``balanced`` when the statement total equals booked + unmatched to the fen."""

    value_date: date
    lines: int
    statement_total: Money
    booked: Money
    unmatched: Money
    returned: Money

    @property
    def balanced(self) -> bool:
        """Statement total = booked + unmatched + returned."""
        return self.statement_total == self.booked + self.unmatched + self.returned

    @classmethod
    def of(cls, value_date: date, totals: Iterable[LineTotal]) -> Reconciliation:
        """The report from the credit totals by status (:func:`credit_totals`)."""
        by = {t.status: t for t in totals}

        def total(status: StatementLineStatus) -> Money:
            found = by.get(status)
            return found.amount if found is not None else Money.zero()

        return cls(
            value_date,
            sum(t.lines for t in by.values()),
            Money(sum(t.amount.minor for t in by.values())),
            total(StatementLineStatus.BOOKED),
            total(StatementLineStatus.UNMATCHED),
            total(StatementLineStatus.RETURNED),
        )


@dataclass(frozen=True, slots=True)
class LineTotal:
    """The credit lines (amount above zero) of one status on a value date: how many, and
    their sum. Debits are not reconciled."""

    status: StatementLineStatus
    lines: int
    amount: Money


def credit_totals(entries: Iterable[StatementEntry]) -> list[LineTotal]:
    """The rule the reconciliation counts by: credits only, summed by status (in the order of
    :class:`StatementLineStatus`). A store may compute it in SQL; a test holds the two equal."""
    count: dict[StatementLineStatus, int] = {}
    fen: dict[StatementLineStatus, int] = {}
    for e in entries:
        if e.line.amount.is_positive():
            count[e.status] = count.get(e.status, 0) + 1
            fen[e.status] = fen.get(e.status, 0) + e.line.amount.minor
    return [LineTotal(s, count[s], Money(fen[s])) for s in StatementLineStatus if s in count]


class ReceiptSource(StrEnum):
    """Where the money of a booked receipt came from."""

    AUTO_DEBIT = "auto_debit"  # 代扣 settlement file
    STATEMENT = "statement"  # 对账单 line matched on import
    ASSIGNED = "assigned"  # 挂账 line a person assigned to the loan
    BACK_VALUED = "back_valued"  # 倒起息, approved by a second risk manager
    LEGACY = "legacy"  # posted through the API before money came only from the bank


@dataclass(frozen=True, slots=True)
class Receipt:
    """A repayment as booked (还款记录): the money, its value and booking dates, how the loan's
    waterfall split it, the source, and the journal entry it made.

    ``bank_ref`` is unique: the same bank transaction is never booked twice."""

    receipt_id: int
    loan_id: int
    bank_ref: str
    amount: Money
    value_date: date
    booked_on: date
    early: bool
    principal: Money
    interest: Money
    penalty: Money
    suspense: Money
    source: ReceiptSource
    entry_id: str


class StatementLineStatus(StrEnum):
    """What became of an imported statement line."""

    BOOKED = "booked"  # matched on import, or assigned by a person
    UNMATCHED = "unmatched"  # waiting in the exceptions queue (待查款项)
    RETURNED = "returned"  # sent back to the payer
    IGNORED = "ignored"  # not a credit

    @property
    def label_zh(self) -> str:
        """Chinese label."""
        return {
            "booked": "已入账",
            "unmatched": "待处理",
            "returned": "已退回",
            "ignored": "非来账",
        }[self.value]


@dataclass(slots=True)
class StatementEntry:
    """An imported statement line and what became of it (the exceptions queue holds the
    ``UNMATCHED`` ones with the reason matching gave)."""

    line_id: int
    import_id: int
    line: StatementLine
    status: StatementLineStatus
    outcome: MatchOutcome
    reason: str
    loan_id: int | None = None
    receipt_id: int | None = None
    resolved_by: str | None = None
    resolution: str = ""


@dataclass(frozen=True, slots=True)
class StatementImport:
    """One imported statement file: who imported it, its hash, and the counts."""

    import_id: int
    file_name: str
    sha256: str
    imported_by: str
    business_date: date
    lines: int
    booked: int
    unmatched: int
    duplicates: int
    ignored: int


class PrepaymentStatus(StrEnum):
    """A borrower's request to repay early."""

    OPEN = "open"
    SETTLED = "settled"
    CANCELLED = "cancelled"


@dataclass(slots=True)
class PrepaymentRequest:
    """提前还款申请: the borrower asks to repay early on ``on`` — all of it (``principal`` None) or
    that much principal — quoted at once, settled when the money arrives from the bank."""

    request_id: int
    loan_id: int
    on: date
    principal: Money | None
    requested_by: str
    status: PrepaymentStatus = PrepaymentStatus.OPEN


_ACCOUNT = re.compile(r"\d{8,32}")


def parse_account(text: str) -> str:
    """A bank account number (结算账户): 8–32 digits, spaces and hyphens dropped.

    >>> parse_account("6222 0000-1111 2222")
    '6222000011112222'
    """
    digits = re.sub(r"[\s-]", "", text or "")
    if not _ACCOUNT.fullmatch(digits):
        raise InvalidCode(text, "a bank account number is 8-32 digits")
    return digits
