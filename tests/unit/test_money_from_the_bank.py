"""Money comes in only from the bank: auto-debit settlement, statement lines matched by account
and reference, the exceptions queue, reconciliation; each bank reference booked once."""

from __future__ import annotations

from datetime import date

import pytest
from tests.world import ACCOUNT, World

from loomcredit.domain.ledger import Account
from loomcredit.domain.loan import LoanStatus
from loomcredit.domain.money import Money
from loomcredit.domain.payments import (
    DebitStatus,
    MatchOutcome,
    StatementLine,
    StatementLineStatus,
    loan_reference,
)
from loomcredit.service_layer import payments, servicing
from loomcredit.service_layer.users import PERMISSIONS, AccessDeniedError, Action, Role

M = Money.parse
FIRST_DUE = date(2026, 4, 2)


def _world_with_loan(amount: str = "120000") -> tuple[World, int, int]:
    w = World()
    line_id = w.open_line("300000")
    return w, line_id, w.draw(line_id, amount)


class TestNobodyPostsTheirOwnMoney:
    def test_no_role_can_post_a_repayment(self) -> None:
        """There is no 'repay' right: applicants and staff ask, the bank's files book."""
        assert all(a.value not in ("repay", "post_repayment") for r in Role for a in PERMISSIONS[r])
        assert Action.REQUEST_PREPAYMENT in PERMISSIONS[Role.APPLICANT]
        assert Action.IMPORT_STATEMENT not in PERMISSIONS[Role.APPLICANT]

    def test_an_applicant_cannot_import_a_statement(self) -> None:
        """Only operations imports bank files."""
        w, _, _ = _world_with_loan()
        with w.uow() as uow, pytest.raises(AccessDeniedError):
            payments.import_statement(
                uow, w.firm, [w.credit("B1", "10")], file_name="f", sha256="x", now=w.now
            )


class TestAutoDebit:
    def test_a_due_instalment_is_debited_and_booked(self) -> None:
        """On the due date the instalment is asked for and, once settled, paid: no DPD."""
        w, _, loan_id = _world_with_loan()
        w.close_days_until(FIRST_DUE)
        due = w.loan(loan_id).amount_due(FIRST_DUE)
        out = w.auto_debit()
        assert [r.amount for r in out.paid] == [due]
        inst = w.loan(loan_id).instalments[0]
        assert inst.is_settled
        w.close_days_until(date(2026, 4, 4))
        assert w.loan(loan_id).dpd == 0

    def test_a_failed_debit_keeps_the_reason_and_the_loan_goes_overdue(self) -> None:
        """余额不足: nothing booked, the reason kept, DPD counts from the due date."""
        w, _, loan_id = _world_with_loan()
        w.close_days_until(FIRST_DUE)
        out = w.auto_debit(failing=frozenset({ACCOUNT}))
        assert out.paid == ()
        assert out.failed[0][1].startswith("余额不足")
        with w.uow() as uow:
            found = uow.payments.instruction(out.failed[0][0])
        assert found is not None
        assert found[1] is DebitStatus.FAILED
        w.close_days_until(date(2026, 4, 6))
        assert w.loan(loan_id).dpd == 3  # EOD of 2026-04-05: due 04-02, unpaid

    def test_nothing_due_means_no_instruction(self) -> None:
        """Between due dates no debit is sent."""
        w, _, _ = _world_with_loan()
        w.close_days_until(date(2026, 3, 10))
        with w.uow() as uow:
            run = payments.run_auto_debit(uow, w.bank, w.ops, now=w.now)
        assert run.instructions == ()

    def test_settling_the_same_file_twice_books_once(self) -> None:
        """A settlement file applied again changes nothing."""
        w, _, loan_id = _world_with_loan()
        w.close_days_until(FIRST_DUE)
        first = w.auto_debit()
        with w.uow() as uow:
            again = payments.apply_settlement(uow, w.bank, w.ops, first.batch_id, now=w.now)
            uow.commit()
        assert again.paid == ()
        assert again.skipped == 1
        with w.uow() as uow:
            assert len(uow.receipts.for_loan(loan_id)) == 1

    def test_a_prepayment_asked_for_is_debited_and_closes_the_loan(self) -> None:
        """The borrower asks to repay everything on a day; that day's debit takes the payoff."""
        w, _, loan_id = _world_with_loan()
        w.close_days_until(date(2026, 3, 20))
        with w.uow() as uow:
            _, quote = servicing.request_prepayment(uow, w.firm, loan_id, now=w.now)
            uow.commit()
        out = w.auto_debit()
        assert [r.amount for r in out.paid] == [quote.payoff]
        assert out.paid[0].early
        assert w.loan(loan_id).status is LoanStatus.CLOSED
        # interest to date: 18 nights on 120,000.00 at 4.5 %, ACT/360 = 270.00
        assert quote.interest_to_date == M("270.00")


class TestStatement:
    def test_a_line_from_the_borrowers_account_repays_its_only_loan(self) -> None:
        """Matched by account: booked on the business date, the statement reconciles."""
        w, _, loan_id = _world_with_loan()
        w.close_days_until(FIRST_DUE)
        due = w.loan(loan_id).amount_due(FIRST_DUE)
        out = w.statement(w.credit("BANK0001", due.amount_str()))
        assert out.summary.booked == 1
        assert out.unmatched == ()
        assert w.loan(loan_id).instalments[0].is_settled
        rec = out.reconciliation
        assert rec.balanced
        assert rec.statement_total == due == rec.booked

    def test_unknown_and_ambiguous_lines_wait_in_the_queue_and_the_ledger_still_equals_the_bank(
        self,
    ) -> None:
        """An unknown account, or two loans and no reference: 待查款项, reasons kept."""
        w, line_id, _ = _world_with_loan("100000")
        w.draw(line_id, "50000")
        out = w.statement(
            w.credit("B-UNKNOWN", "500.00", account="9999888877776666"),
            w.credit("B-AMBIG", "800.00"),
        )
        outcomes = {e.line.bank_ref: e.outcome for e in out.unmatched}
        assert outcomes == {"B-UNKNOWN": MatchOutcome.UNMATCHED, "B-AMBIG": MatchOutcome.AMBIGUOUS}
        with w.uow() as uow:
            tb = uow.ledger.trial_balance()
            queue = payments.exceptions(uow, w.ops)
        assert tb[Account.UNIDENTIFIED] == -M("1300.00")
        assert {e.line.bank_ref for e in queue} == {"B-UNKNOWN", "B-AMBIG"}
        rec = out.reconciliation
        assert rec.unmatched == M("1300.00")
        assert rec.balanced

    def test_a_reference_picks_the_loan_among_several(self) -> None:
        """The memo's loan reference decides which loan a line repays."""
        w, line_id, first = _world_with_loan("100000")
        second = w.draw(line_id, "50000")
        w.close_days_until(FIRST_DUE)
        due = w.loan(second).amount_due(FIRST_DUE)
        out = w.statement(w.credit("B2", due.amount_str(), memo=f"还款 {loan_reference(second)}"))
        assert out.summary.booked == 1
        assert w.loan(second).instalments[0].is_settled
        assert not w.loan(first).instalments[0].is_settled

    def test_importing_the_same_file_twice_books_nothing_twice(self) -> None:
        """Every bank reference once: the second import counts duplicates only."""
        w, _, loan_id = _world_with_loan()
        lines = (w.credit("B1", "1000.00"), w.credit("B2", "9.99", account="1234567890"))
        w.statement(*lines)
        again = w.statement(*lines)
        assert (again.summary.booked, again.summary.unmatched, again.summary.duplicates) == (
            0,
            0,
            2,
        )
        with w.uow() as uow:
            assert len(uow.receipts.for_loan(loan_id)) == 1
            assert uow.ledger.trial_balance()[Account.UNIDENTIFIED] == -M("9.99")

    def test_a_back_valued_or_future_line_is_not_booked_on_import(self) -> None:
        """A value date other than the business date goes to a person."""
        w, _, _ = _world_with_loan()
        w.close_days_until(date(2026, 3, 10))
        old = StatementLine("OLD", date(2026, 3, 5), ACCOUNT, "x", M("100"), "")
        new = StatementLine("NEW", date(2026, 3, 11), ACCOUNT, "x", M("100"), "")
        out = w.statement(old, new)
        assert {e.outcome for e in out.unmatched} == {MatchOutcome.BACK_VALUED, MatchOutcome.FUTURE}

    def test_a_line_already_booked_by_auto_debit_is_not_booked_again(self) -> None:
        """The statement shows the auto-debit too: same bank reference, booked once."""
        w, _, loan_id = _world_with_loan()
        w.close_days_until(FIRST_DUE)
        paid = w.auto_debit().paid[0]
        out = w.statement(w.credit(paid.bank_ref, paid.amount.amount_str()))
        assert out.summary.booked == 0
        assert out.unmatched == ()
        assert out.reconciliation.balanced
        with w.uow() as uow:
            assert len(uow.receipts.for_loan(loan_id)) == 1


class TestExceptionsQueue:
    def test_assigning_a_line_repays_the_loan_from_unidentified(self) -> None:
        """A person assigns the line: 待查款项 is emptied into the loan."""
        w, _, loan_id = _world_with_loan()
        out = w.statement(w.credit("B9", "300.00", account="5555666677778888"))
        line_id = out.unmatched[0].line_id
        with w.uow() as uow:
            payments.assign_line(uow, w.ops, line_id, loan_id, comment="owner's account", now=w.now)
            uow.commit()
        with w.uow() as uow:
            tb = uow.ledger.trial_balance()
            entry = uow.payments.line(line_id)
        assert Account.UNIDENTIFIED not in tb or tb[Account.UNIDENTIFIED].is_zero()
        assert entry is not None
        assert entry.status is StatementLineStatus.BOOKED
        assert w.loan(loan_id).suspense == M("300.00")  # nothing due yet: held in suspense

    def test_returning_a_line_pays_it_back_out(self) -> None:
        """退回 with a reason: settlement credited, the queue emptied, still reconciled."""
        w, _, _ = _world_with_loan()
        out = w.statement(w.credit("B9", "300.00", account="5555666677778888"))
        with w.uow() as uow:
            payments.return_line(
                uow, w.ops, out.unmatched[0].line_id, comment="不是我行借款人", now=w.now
            )
            rec = payments.reconcile_on(uow, w.today)
            uow.commit()
        assert rec.returned == M("300.00")
        assert rec.unmatched == Money.zero()
        assert rec.balanced
