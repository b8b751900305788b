"""Double-entry ledger: a lender's chart of accounts, balanced journal entries and reversals.

Amounts follow one sign rule: a **debit is positive, a credit is negative**, so every entry sums to
zero per currency. :class:`JournalEntry` enforces that in ``__post_init__`` (at least two postings,
no zero posting, zero sum per currency) and the database checks it again at commit (STYLE.md §2.4).
Entries are never edited: a correction is a :func:`reversal_of` the wrong entry plus a new one.

Builders turn business events into entries:

* :func:`disbursement_entry`: Dr 贷款本金 / Cr 结算.
* :func:`accrual_entry`: Dr 应收利息 / Cr 利息收入 and Dr 应收罚息 / Cr 罚息收入.
* :func:`repayment_entry`: Dr 结算 / Cr each receivable as a waterfall
  :class:`~loomcredit.domain.waterfall.Allocation` settled it, overpayment to 挂账.
* :func:`write_off_entry`: Dr 贷款损失准备 (and 核销 for any shortfall) / Cr the receivables.

>>> from loomcredit.domain.money import Money
>>> e = disbursement_entry("d-1", date(2026, 1, 20), Money.parse("500000"))
>>> trial_balance([e])[Account.LOAN_PRINCIPAL].format()
'¥500,000.00'
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

from loomcredit.domain.errors import (
    LedgerError,
    TooFewPostings,
    UnbalancedEntry,
    ZeroPosting,
)
from loomcredit.domain.money import CNY, Money
from loomcredit.domain.waterfall import Component

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from loomcredit.domain.waterfall import Allocation


class Account(StrEnum):
    """The lender's chart of accounts for loans (one set per book)."""

    SETTLEMENT = "settlement"  # 结算/现金 (asset)
    LOAN_PRINCIPAL = "loan_principal"  # 贷款本金 (asset)
    INTEREST_RECEIVABLE = "interest_receivable"  # 应收利息 (asset)
    PENALTY_RECEIVABLE = "penalty_receivable"  # 应收罚息: penalty and compound (asset)
    FEE_RECEIVABLE = "fee_receivable"  # 应收费用 (asset)
    INTEREST_INCOME = "interest_income"  # 利息收入 (income)
    PENALTY_INCOME = "penalty_income"  # 罚息收入 (income)
    FEE_INCOME = "fee_income"  # 手续费收入 (income)
    SUSPENSE = "suspense"  # 挂账/暂收款: overpayments (liability)
    UNIDENTIFIED = "unidentified"  # 待查款项: money received not yet matched to a loan (liability)
    LOSS_ALLOWANCE = "loss_allowance"  # 贷款损失准备 (contra-asset)
    WRITE_OFF = "write_off"  # 核销: losses beyond the allowance (expense)

    @property
    def label_zh(self) -> str:
        """Chinese account name."""
        return _LABELS_ZH[self]

    @property
    def normal_debit(self) -> bool:
        """True for accounts whose balance is normally a debit (assets, expenses)."""
        return self in _DEBIT_NORMAL


_LABELS_ZH = {
    Account.SETTLEMENT: "结算/现金",
    Account.LOAN_PRINCIPAL: "贷款本金",
    Account.INTEREST_RECEIVABLE: "应收利息",
    Account.PENALTY_RECEIVABLE: "应收罚息",
    Account.FEE_RECEIVABLE: "应收费用",
    Account.INTEREST_INCOME: "利息收入",
    Account.PENALTY_INCOME: "罚息收入",
    Account.FEE_INCOME: "手续费收入",
    Account.SUSPENSE: "挂账/暂收款",
    Account.UNIDENTIFIED: "待查款项",
    Account.LOSS_ALLOWANCE: "贷款损失准备",
    Account.WRITE_OFF: "核销",
}
_DEBIT_NORMAL = frozenset(
    {
        Account.SETTLEMENT,
        Account.LOAN_PRINCIPAL,
        Account.INTEREST_RECEIVABLE,
        Account.PENALTY_RECEIVABLE,
        Account.FEE_RECEIVABLE,
        Account.WRITE_OFF,
    }
)


@dataclass(frozen=True, slots=True)
class Posting:
    """One leg of an entry: debit positive, credit negative."""

    account: Account
    amount: Money

    def __post_init__(self) -> None:
        if not isinstance(self.account, Account):
            raise LedgerError(f"{self.account!r} is not an account of the chart.")
        if not isinstance(self.amount, Money):
            raise TypeError(f"A posting amount must be Money, not {type(self.amount).__name__}.")

    @property
    def is_debit(self) -> bool:
        """True for a debit (positive amount)."""
        return self.amount.is_positive()


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """A balanced, immutable journal entry; ``reverses`` names the entry it cancels, if any.

    ``booked_on`` is the business date the entry is booked on (记账日); ``value_date`` the date
    its money counts from (起息日), the booking date unless the event is back-valued (倒起息).
    """

    entry_id: str
    booked_on: date
    description: str
    postings: tuple[Posting, ...]
    reverses: str | None = None
    value_date: date | None = None

    def __post_init__(self) -> None:
        if not self.entry_id:
            raise LedgerError("A journal entry needs an id.")
        if not isinstance(self.postings, tuple):
            object.__setattr__(self, "postings", tuple(self.postings))
        if self.value_date is None:
            object.__setattr__(self, "value_date", self.booked_on)
        elif self.value_date > self.booked_on:
            raise LedgerError(
                f"Entry {self.entry_id} has value date {self.value_date} after its booking date "
                f"{self.booked_on}; money cannot count from a day not yet reached."
            )
        if len(self.postings) < 2:
            raise TooFewPostings(
                f"Entry {self.entry_id} has {len(self.postings)} posting(s); at least 2 needed."
            )
        sums: dict[str, int] = defaultdict(int)
        for posting in self.postings:
            if posting.amount.is_zero():
                raise ZeroPosting(f"Entry {self.entry_id} posts zero to {posting.account.value}.")
            sums[posting.amount.currency] += posting.amount.minor
        off = {cur: fen for cur, fen in sums.items() if fen != 0}
        if off:
            detail = ", ".join(f"{Money(fen, cur).format()}" for cur, fen in sorted(off.items()))
            raise UnbalancedEntry(f"Entry {self.entry_id} does not balance: off by {detail}.")

    @property
    def currencies(self) -> frozenset[str]:
        """The currencies the entry posts in."""
        return frozenset(p.amount.currency for p in self.postings)

    def amount_on(self, account: Account, currency: str = CNY) -> Money:
        """Net amount the entry posts to one account (debit positive)."""
        fen = sum(
            p.amount.minor
            for p in self.postings
            if p.account is account and p.amount.currency == currency
        )
        return Money(fen, currency)


def reversal_of(entry: JournalEntry, entry_id: str, booked_on: date) -> JournalEntry:
    """An entry that cancels ``entry`` exactly (every posting negated); the original stays."""
    return JournalEntry(
        entry_id=entry_id,
        booked_on=booked_on,
        description=f"Reversal of {entry.entry_id}: {entry.description}",
        postings=tuple(Posting(p.account, -p.amount) for p in entry.postings),
        reverses=entry.entry_id,
    )


def entry_of(
    entry_id: str,
    booked_on: date,
    description: str,
    legs: Iterable[tuple[Account, Money]],
    *,
    value_date: date | None = None,
    reverses: str | None = None,
) -> JournalEntry:
    """An entry from (account, amount) legs, zero legs left out, checked as every entry is."""
    postings = tuple(Posting(account, amount) for account, amount in legs if not amount.is_zero())
    return JournalEntry(entry_id, booked_on, description, postings, reverses, value_date)


def _legs(*pairs: tuple[Account, Money]) -> tuple[Posting, ...]:
    return tuple(Posting(account, amount) for account, amount in pairs if not amount.is_zero())


def _require_positive(amount: Money, what: str) -> None:
    if not amount.is_positive():
        raise LedgerError(f"{what} must be positive, got {amount}.")


def disbursement_entry(
    entry_id: str, booked_on: date, amount: Money, *, loan_id: str = ""
) -> JournalEntry:
    """Disbursement 放款: Dr 贷款本金, Cr 结算."""
    _require_positive(amount, "A disbursement")
    return JournalEntry(
        entry_id,
        booked_on,
        f"Disbursement {loan_id}".strip(),
        _legs((Account.LOAN_PRINCIPAL, amount), (Account.SETTLEMENT, -amount)),
    )


def accrual_entry(
    entry_id: str,
    booked_on: date,
    *,
    interest: Money | None = None,
    penalty: Money | None = None,
    compound: Money | None = None,
    loan_id: str = "",
) -> JournalEntry:
    """Accrual 计提 of rounded interest: Dr 应收利息 / Cr 利息收入; Dr 应收罚息 / Cr 罚息收入.

    Penalty 罚息 and compound 复利 interest share the penalty receivable and income accounts.
    Zero components are left out; an accrual of nothing raises :class:`TooFewPostings`.
    """
    amounts = [a for a in (interest, penalty, compound) if a is not None]
    currency = amounts[0].currency if amounts else CNY
    zero = Money.zero(currency)
    normal = interest if interest is not None else zero
    extra = (penalty if penalty is not None else zero) + (
        compound if compound is not None else zero
    )
    for amount, what in ((normal, "Accrued interest"), (extra, "Accrued penalty")):
        if amount.is_negative():
            raise LedgerError(f"{what} cannot be negative ({amount}); reverse instead.")
    return JournalEntry(
        entry_id,
        booked_on,
        f"Accrual {loan_id}".strip(),
        _legs(
            (Account.INTEREST_RECEIVABLE, normal),
            (Account.INTEREST_INCOME, -normal),
            (Account.PENALTY_RECEIVABLE, extra),
            (Account.PENALTY_INCOME, -extra),
        ),
    )


_RECEIVABLE_OF = {
    Component.FEE: Account.FEE_RECEIVABLE,
    Component.PENALTY: Account.PENALTY_RECEIVABLE,
    Component.COMPOUND: Account.PENALTY_RECEIVABLE,
    Component.INTEREST: Account.INTEREST_RECEIVABLE,
    Component.PRINCIPAL: Account.LOAN_PRINCIPAL,
}


def repayment_entry(
    entry_id: str, booked_on: date, allocation: Allocation, *, loan_id: str = ""
) -> JournalEntry:
    """Repayment 还款 from a waterfall allocation: Dr 结算 the whole payment; Cr each receivable
    by what the allocation settled; any overpayment Cr 挂账 (suspense).

    Receivables are those booked by :func:`accrual_entry` (and fees billed to 应收费用).
    """
    currency = allocation.suspense.currency
    credits: dict[Account, Money] = {}
    for line in allocation.lines:
        account = _RECEIVABLE_OF[line.item.component]
        credits[account] = credits.get(account, Money.zero(currency)) + line.paid
    received = allocation.paid + allocation.suspense
    pairs = [(Account.SETTLEMENT, received)]
    pairs += [(account, -amount) for account, amount in credits.items()]
    pairs.append((Account.SUSPENSE, -allocation.suspense))
    return JournalEntry(entry_id, booked_on, f"Repayment {loan_id}".strip(), _legs(*pairs))


def write_off_entry(
    entry_id: str,
    booked_on: date,
    *,
    principal: Money,
    interest: Money | None = None,
    penalty: Money | None = None,
    allowance_used: Money | None = None,
    loan_id: str = "",
) -> JournalEntry:
    """Write-off 核销: Cr the receivables; Dr 贷款损失准备 by ``allowance_used`` (default: the
    principal) and Dr 核销 for the rest."""
    zero = Money.zero(principal.currency)
    interest = interest if interest is not None else zero
    penalty = penalty if penalty is not None else zero
    written = principal + interest + penalty
    used = allowance_used if allowance_used is not None else principal
    for amount, what in ((principal, "principal"), (interest, "interest"), (penalty, "penalty")):
        if amount.is_negative():
            raise LedgerError(f"Written-off {what} cannot be negative ({amount}).")
    if used.is_negative() or used > written:
        raise LedgerError(f"Allowance used ({used}) must be between zero and the loss ({written}).")
    return JournalEntry(
        entry_id,
        booked_on,
        f"Write-off {loan_id}".strip(),
        _legs(
            (Account.LOSS_ALLOWANCE, used),
            (Account.WRITE_OFF, written - used),
            (Account.LOAN_PRINCIPAL, -principal),
            (Account.INTEREST_RECEIVABLE, -interest),
            (Account.PENALTY_RECEIVABLE, -penalty),
        ),
    )


def trial_balance(entries: Iterable[JournalEntry], currency: str = CNY) -> dict[Account, Money]:
    """Net balance (debit positive) per account over ``entries``, in one currency.

    Only accounts that were posted to appear; postings in other currencies are left out (call once
    per currency). The balances always sum to zero.
    """
    fen: dict[Account, int] = {}
    for entry in entries:
        for posting in entry.postings:
            if posting.amount.currency == currency:
                fen[posting.account] = fen.get(posting.account, 0) + posting.amount.minor
    return {account: Money(value, currency) for account, value in fen.items()}


@dataclass
class Journal:
    """An append-only journal: entries can be added and reversed, never changed or removed."""

    _entries: list[JournalEntry] = field(default_factory=list)
    _ids: set[str] = field(default_factory=set)
    _reversed: set[str] = field(default_factory=set)

    def append(self, entry: JournalEntry) -> None:
        """Add an entry; refuses a duplicate id and a reversal of an unknown or reversed entry."""
        if entry.entry_id in self._ids:
            raise LedgerError(f"Entry {entry.entry_id} is already in the journal.")
        if entry.reverses is not None:
            if entry.reverses not in self._ids:
                raise LedgerError(f"Entry {entry.reverses} to reverse is not in the journal.")
            if entry.reverses in self._reversed:
                raise LedgerError(f"Entry {entry.reverses} has already been reversed.")
            self._reversed.add(entry.reverses)
        self._entries.append(entry)
        self._ids.add(entry.entry_id)

    def reverse(self, entry_id: str, reversal_id: str, booked_on: date) -> JournalEntry:
        """Append and return the reversal of an entry already in the journal."""
        original = next((e for e in self._entries if e.entry_id == entry_id), None)
        if original is None:
            raise LedgerError(f"Entry {entry_id} to reverse is not in the journal.")
        reversal = reversal_of(original, reversal_id, booked_on)
        self.append(reversal)
        return reversal

    def __iter__(self) -> Iterator[JournalEntry]:
        return iter(tuple(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def balance(self, account: Account, currency: str = CNY) -> Money:
        """Net balance of one account (debit positive)."""
        return trial_balance(self._entries, currency).get(account, Money.zero(currency))


__all__ = [
    "Account",
    "Journal",
    "JournalEntry",
    "Posting",
    "accrual_entry",
    "disbursement_entry",
    "entry_of",
    "repayment_entry",
    "reversal_of",
    "trial_balance",
    "write_off_entry",
]
