"""Ledger: chart of accounts, balanced entries, reversals and the event builders."""

from __future__ import annotations

from datetime import date

import pytest
from tests.factories import M

from loomcredit.domain.errors import LedgerError, TooFewPostings, UnbalancedEntry, ZeroPosting
from loomcredit.domain.ledger import (
    Account,
    Journal,
    JournalEntry,
    Posting,
    accrual_entry,
    disbursement_entry,
    repayment_entry,
    reversal_of,
    trial_balance,
    write_off_entry,
)
from loomcredit.domain.waterfall import Component, DueItem, allocate

DAY = date(2026, 1, 20)


def entry(*legs: tuple[Account, str], entry_id: str = "e-1") -> JournalEntry:
    return JournalEntry(entry_id, DAY, "test", tuple(Posting(a, M(x)) for a, x in legs))


def test_chart_has_the_lenders_accounts_with_chinese_names():
    """The chart covers settlement, receivables, income, suspense, allowance and write-off."""
    assert Account.LOAN_PRINCIPAL.label_zh == "贷款本金"
    assert Account.SUSPENSE.label_zh == "挂账/暂收款"
    assert Account.LOSS_ALLOWANCE.label_zh == "贷款损失准备"
    assert {a.label_zh for a in Account} >= {
        "结算/现金",
        "应收利息",
        "应收罚息",
        "利息收入",
        "核销",
    }


def test_balanced_entry_is_accepted():
    """Dr 100 / Cr 100 balances."""
    e = entry((Account.LOAN_PRINCIPAL, "100.00"), (Account.SETTLEMENT, "-100.00"))
    assert len(e.postings) == 2


def test_unbalanced_entry_is_refused():
    """Dr 100.00 / Cr 99.99 is off by one fen and refused."""
    with pytest.raises(UnbalancedEntry, match=r"0\.01"):
        entry((Account.LOAN_PRINCIPAL, "100.00"), (Account.SETTLEMENT, "-99.99"))


def test_entry_must_balance_per_currency():
    """CNY +1 and USD −1 do not balance each other."""
    with pytest.raises(UnbalancedEntry):
        entry((Account.SETTLEMENT, "1.00 CNY"), (Account.SETTLEMENT, "-1.00 USD"))


def test_single_posting_is_refused():
    """An entry needs at least two postings."""
    with pytest.raises(TooFewPostings):
        entry((Account.SETTLEMENT, "0.00"))


def test_zero_posting_is_refused():
    """A zero posting carries no meaning and is refused."""
    with pytest.raises(ZeroPosting):
        entry(
            (Account.LOAN_PRINCIPAL, "1.00"),
            (Account.SETTLEMENT, "-1.00"),
            (Account.SUSPENSE, "0.00"),
        )


def test_entry_is_immutable():
    """Journal entries cannot be edited."""
    e = entry((Account.LOAN_PRINCIPAL, "1.00"), (Account.SETTLEMENT, "-1.00"))
    with pytest.raises(AttributeError):
        e.description = "changed"  # type: ignore[misc]


def test_reversal_negates_every_posting_and_names_the_original():
    """A reversal posts the opposite amounts and refers to the reversed entry."""
    e = entry((Account.LOAN_PRINCIPAL, "100.00"), (Account.SETTLEMENT, "-100.00"))
    r = reversal_of(e, "e-2", date(2026, 1, 21))
    assert r.reverses == "e-1"
    assert r.amount_on(Account.LOAN_PRINCIPAL) == M("-100.00")
    assert all(v.is_zero() for v in trial_balance([e, r]).values())


def test_disbursement_entry():
    """Disbursing ¥500,000: Dr 贷款本金 500,000, Cr 结算 500,000."""
    e = disbursement_entry("d-1", DAY, M("500000"))
    assert e.amount_on(Account.LOAN_PRINCIPAL) == M("500000")
    assert e.amount_on(Account.SETTLEMENT) == M("-500000")


def test_disbursement_must_be_positive():
    """A zero or negative disbursement is refused."""
    with pytest.raises(LedgerError):
        disbursement_entry("d-1", DAY, M("0"))


def test_accrual_entry_books_interest_and_penalty():
    """Interest 10.00 and penalty 1.50 + compound 0.25: receivables up, income credited."""
    e = accrual_entry("a-1", DAY, interest=M("10.00"), penalty=M("1.50"), compound=M("0.25"))
    assert e.amount_on(Account.INTEREST_RECEIVABLE) == M("10.00")
    assert e.amount_on(Account.INTEREST_INCOME) == M("-10.00")
    assert e.amount_on(Account.PENALTY_RECEIVABLE) == M("1.75")
    assert e.amount_on(Account.PENALTY_INCOME) == M("-1.75")


def test_accrual_of_nothing_is_refused():
    """An accrual with every component zero is not an entry."""
    with pytest.raises(TooFewPostings):
        accrual_entry("a-1", DAY, interest=M("0.00"))


def _due() -> list[DueItem]:
    return [
        DueItem(1, date(2026, 2, 20), Component.INTEREST, M("500.00")),
        DueItem(1, date(2026, 2, 20), Component.PRINCIPAL, M("8000.00")),
        DueItem(1, date(2026, 2, 20), Component.PENALTY, M("12.00")),
        DueItem(1, date(2026, 2, 20), Component.FEE, M("30.00")),
    ]


def test_repayment_entry_from_a_waterfall_allocation():
    """¥9,000 against fee 30, penalty 12, interest 500, principal 8,000: 458 to suspense."""
    allocation = allocate(M("9000.00"), _due())
    e = repayment_entry("r-1", date(2026, 2, 21), allocation)
    assert e.amount_on(Account.SETTLEMENT) == M("9000.00")
    assert e.amount_on(Account.FEE_RECEIVABLE) == M("-30.00")
    assert e.amount_on(Account.PENALTY_RECEIVABLE) == M("-12.00")
    assert e.amount_on(Account.INTEREST_RECEIVABLE) == M("-500.00")
    assert e.amount_on(Account.LOAN_PRINCIPAL) == M("-8000.00")
    assert e.amount_on(Account.SUSPENSE) == M("-458.00")


def test_partial_repayment_settles_fees_and_penalty_first():
    """¥100 pays the fee 30 and penalty 12 then 58 of interest; principal untouched."""
    e = repayment_entry("r-1", DAY, allocate(M("100.00"), _due()))
    assert e.amount_on(Account.INTEREST_RECEIVABLE) == M("-58.00")
    assert e.amount_on(Account.LOAN_PRINCIPAL).is_zero()
    assert e.amount_on(Account.SUSPENSE).is_zero()


def test_write_off_uses_the_allowance_then_write_off():
    """Writing off principal 1,000 + interest 50 with 800 of allowance: 250 to 核销."""
    e = write_off_entry("w-1", DAY, principal=M("1000"), interest=M("50"), allowance_used=M("800"))
    assert e.amount_on(Account.LOSS_ALLOWANCE) == M("800")
    assert e.amount_on(Account.WRITE_OFF) == M("250")
    assert e.amount_on(Account.LOAN_PRINCIPAL) == M("-1000")
    assert e.amount_on(Account.INTEREST_RECEIVABLE) == M("-50")


def test_write_off_refuses_allowance_beyond_the_loss():
    """The allowance used cannot exceed what is written off."""
    with pytest.raises(LedgerError):
        write_off_entry("w-1", DAY, principal=M("10"), allowance_used=M("11"))


def test_loan_life_cycle_trial_balance():
    """Disburse 10,000, accrue 50, repay 3,050: principal 7,000, interest receivable 0."""
    entries = [
        disbursement_entry("d", DAY, M("10000")),
        accrual_entry("a", date(2026, 2, 20), interest=M("50")),
        repayment_entry(
            "r",
            date(2026, 2, 20),
            allocate(
                M("3050"),
                [
                    DueItem(1, date(2026, 2, 20), Component.INTEREST, M("50")),
                    DueItem(1, date(2026, 2, 20), Component.PRINCIPAL, M("3000")),
                ],
            ),
        ),
    ]
    tb = trial_balance(entries)
    assert tb[Account.LOAN_PRINCIPAL] == M("7000")
    assert tb[Account.INTEREST_RECEIVABLE] == M("0")
    assert tb[Account.INTEREST_INCOME] == M("-50")
    assert tb[Account.SETTLEMENT] == M("-6950")
    assert sum(m.minor for m in tb.values()) == 0


def test_trial_balance_is_per_currency():
    """USD postings are left out of a CNY trial balance."""
    e = entry(
        (Account.SETTLEMENT, "5.00 USD"), (Account.SUSPENSE, "-5.00 USD"),
        (Account.SETTLEMENT, "1.00"), (Account.SUSPENSE, "-1.00"),
    )  # fmt: skip
    assert trial_balance([e])[Account.SETTLEMENT] == M("1.00")
    assert trial_balance([e], "USD")[Account.SETTLEMENT] == M("5.00 USD")


def test_journal_is_append_only_and_reverses_once():
    """Duplicate ids and a second reversal of the same entry are refused."""
    journal = Journal()
    journal.append(disbursement_entry("d", DAY, M("100")))
    with pytest.raises(LedgerError, match="already in"):
        journal.append(disbursement_entry("d", DAY, M("100")))
    journal.reverse("d", "d-rev", DAY)
    assert journal.balance(Account.LOAN_PRINCIPAL).is_zero()
    with pytest.raises(LedgerError, match="already been reversed"):
        journal.reverse("d", "d-rev-2", DAY)
    with pytest.raises(LedgerError, match="not in the journal"):
        journal.reverse("nope", "x", DAY)
    assert len(journal) == 2
