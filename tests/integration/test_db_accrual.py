"""Accrual accounting on SQLite and PostgreSQL: normal interest accrued daily by end of day and
trued up to the instalment on its due date; early repayment charges interest to date and
recomputes the rest of the schedule from the balance left."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlalchemy import func, select
from tests.integration.test_db_eod import loan, open_loan, run
from tests.integration.test_db_eod import svc as svc  # the fixture, on both databases
from tests.lending_fixtures import fixed

from loomcredit.adapters import orm
from loomcredit.bootstrap.service import Service
from loomcredit.domain.money import Money
from loomcredit.service_layer import repayment
from loomcredit.service_layer.users import Role, User

pytestmark = pytest.mark.integration
START = date(2026, 1, 5)  # open_loan: 120,000.00 at 4.5 %, 12-month annuity, due on the 5th


def nights(balance_fen: int, days: int) -> int:
    """Interest on a balance for ``days`` nights at 4.5 % ACT/360, rounded half up (fen)."""
    exact = Decimal(balance_fen) * Decimal("0.045") * days / 360
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def balances(svc: Service) -> tuple[dict[str, int], int]:
    """Trial balance and the number of journal entries."""
    with svc.uow() as uow:
        tb = uow.trial_balance()
        entries = uow.conn.execute(select(func.count()).select_from(orm.journal_entries))
        return tb, int(entries.scalar_one())


def test_normal_interest_accrues_nightly_and_is_trued_up_on_the_due_date(svc: Service) -> None:
    """31 nights from disbursement to the day before the first due date accrue 12,000,000 ×
    4.5 % × 31/360 as receivable income; on the due date the income becomes the instalment's
    contractual interest (a full month, i = r/12) plus that night on the balance left."""
    loan_id = open_loan(svc)
    run(svc, START)
    run(svc, date(2026, 2, 4))  # catches up Jan 6 … Feb 4 day by day
    tb, _ = balances(svc)
    assert tb["INTEREST_RECEIVABLE"] == nights(12_000_000, 31)
    assert tb["INTEREST_INCOME"] == -nights(12_000_000, 31)
    row = loan(svc, loan_id)
    exact = Decimal(12_000_000) * Decimal("0.045") * 31 / 360 * 100_000_000
    assert row["accrued_interest_e8"] == int(exact)
    run(svc, date(2026, 2, 5))
    with svc.uow() as uow:
        first = uow.installments(loan_id)[0]
    assert first["interest_fen"] == 12_000_000 * 45 // 12_000  # i = 4.5 % / 12 on the principal
    after = 12_000_000 - first["principal_fen"]
    tb, _ = balances(svc)
    assert tb["INTEREST_RECEIVABLE"] == first["interest_fen"] + nights(after, 1)
    assert sum(tb.values()) == 0


def test_end_of_day_twice_for_a_date_posts_no_second_accrual(svc: Service) -> None:
    """Running a date again changes neither the ledger nor the number of entries."""
    open_loan(svc)
    run(svc, START)
    run(svc, START + timedelta(days=3))
    before = balances(svc)
    again = run(svc, START + timedelta(days=3))
    assert again.get("already") is True
    assert balances(svc) == before


def test_early_repayment_charges_interest_to_date_and_reschedules_the_rest(svc: Service) -> None:
    """First instalment paid on time; on Feb 20 the firm prepays 30,000.00 of principal: it pays
    the 15 nights since Feb 5 on the balance first, a settled line dated Feb 20 records it, and
    the 11 lines left owe exactly the balance left, the first charging only Feb 20 - Mar 4."""
    loan_id = open_loan(svc)
    firm = User("firm", Role.APPLICANT, str(loan(svc, loan_id)["uscc"]))
    run(svc, START)
    run(svc, date(2026, 2, 4))
    with svc.uow() as uow:
        first = uow.installments(loan_id)[0]
        repayment.repay(
            uow,
            firm,
            loan_id,
            Money(first["principal_fen"] + first["interest_fen"]),
            key="on-time",
            received_on=date(2026, 2, 5),
            now=fixed(2026, 2, 5),
        )
        uow.commit()
    run(svc, date(2026, 2, 19))
    balance = 12_000_000 - first["principal_fen"]
    to_date = nights(balance, 15)
    with svc.uow() as uow:
        out = repayment.repay(
            uow,
            firm,
            loan_id,
            Money(to_date + 3_000_000),
            key="early",
            received_on=date(2026, 2, 20),
            now=fixed(2026, 2, 20),
            early=True,
        )
        uow.commit()
        insts = uow.installments(loan_id)
    assert (out["interest_fen"], out["principal_fen"], out["suspense_fen"]) == (
        to_date,
        3_000_000,
        0,
    )
    settled = insts[1]
    assert (settled["due_on"], settled["interest_fen"], settled["principal_fen"]) == (
        date(2026, 2, 20),
        to_date,
        3_000_000,
    )
    rest = insts[2:]
    left = balance - 3_000_000
    assert len(rest) == 11
    assert [i["due_on"] for i in rest] == [i["due_on"] for i in insts[2:]]
    assert rest[0]["due_on"] == date(2026, 3, 5)
    assert rest[0]["interest_fen"] == nights(left, 13)
    assert sum(i["principal_fen"] for i in rest) == left == loan(svc, loan_id)["outstanding_fen"]
    payments = [i["principal_fen"] + i["interest_fen"] for i in rest[1:-1]]
    assert max(payments) - min(payments) <= 1  # level instalments again after the stub period
    run(svc, date(2026, 3, 4))
    tb, _ = balances(svc)
    assert tb["INTEREST_RECEIVABLE"] == rest[0]["interest_fen"]  # accrual meets the stub exactly
    assert tb["LOAN_PRINCIPAL"] == left
    assert sum(tb.values()) == 0


def test_paying_off_early_closes_the_loan_with_nothing_receivable(svc: Service) -> None:
    """Outstanding plus interest to date closes the loan; the receivable of that loan is zero."""
    loan_id = open_loan(svc)
    firm = User("firm", Role.APPLICANT, str(loan(svc, loan_id)["uscc"]))
    run(svc, START)
    run(svc, date(2026, 1, 24))
    to_date = nights(12_000_000, 20)  # nights Jan 5 … Jan 24
    with svc.uow() as uow:
        out = repayment.repay(
            uow,
            firm,
            loan_id,
            Money(12_000_000 + to_date),
            key="payoff",
            received_on=date(2026, 1, 25),
            now=fixed(2026, 1, 25),
            early=True,
        )
        uow.commit()
    assert (out["loan_status"], out["interest_fen"], out["suspense_fen"]) == ("closed", to_date, 0)
    row = loan(svc, loan_id)
    assert row["interest_recognised_fen"] == row["interest_received_fen"] == to_date
    tb, _ = balances(svc)
    assert tb.get("INTEREST_RECEIVABLE", 0) == 0
    assert tb["INTEREST_INCOME"] == -to_date
    assert sum(tb.values()) == 0


def test_a_custom_plan_keeps_its_shape_when_part_is_prepaid() -> None:
    """Interest-only months stay interest-only; the principal left follows the old plan's weights
    and sums to the balance left."""
    loan_row = {
        "currency": "CNY",
        "annual_rate": "0.045",
        "method": "custom",
        "start_date": date(2026, 1, 20),
    }
    plan = [0, 0, 3_000_000, 3_000_000, 4_000_000]
    insts = [
        {
            "number": k + 1,
            "due_on": date(2026, 2 + k, 20),
            "principal_fen": p,
            "interest_fen": 0,
            "principal_paid_fen": 0,
            "interest_paid_fen": 0,
        }
        for k, p in enumerate(plan)
    ]
    rows = repayment.prepaid_schedule(loan_row, insts, date(2026, 1, 30), 1_250, 5_000_000)
    assert rows[0]["principal_paid_fen"] == 5_000_000
    assert [r["principal_fen"] for r in rows[1:]] == [0, 0, 1_500_000, 1_500_000, 2_000_000]
    assert [r["due_on"] for r in rows[1:]] == [i["due_on"] for i in insts]
    assert rows[1]["interest_fen"] == nights(5_000_000, 21)  # Jan 30 … Feb 19


def test_write_off_takes_the_receivables_with_the_principal_and_reversal_restores_them(
    svc: Service,
) -> None:
    """After 10 nights of accrual a write-off moves principal and the interest receivable to
    WRITE_OFF in one entry; the reversal puts both back, and accrual goes on from there."""
    from loomcredit.service_layer import disbursement

    loan_id = open_loan(svc, 50_000)
    run(svc, START)
    run(svc, START + timedelta(days=9))
    accrued = nights(5_000_000, 10)
    risk = User("risk", Role.RISK_MANAGER)
    with svc.uow() as uow:
        wo = disbursement.write_off(
            uow, risk, loan_id, as_of=date(2026, 1, 15), now=fixed(2026, 1, 15)
        )
        uow.commit()
    tb, _ = balances(svc)
    assert (tb["WRITE_OFF"], tb["LOAN_PRINCIPAL"], tb["INTEREST_RECEIVABLE"]) == (
        5_000_000 + accrued,
        0,
        0,
    )
    run(svc, START + timedelta(days=10))  # a written-off loan accrues nothing
    assert balances(svc)[0]["INTEREST_RECEIVABLE"] == 0
    with svc.uow() as uow:
        disbursement.reverse_write_off(
            uow, risk, loan_id, wo["entry_id"], as_of=date(2026, 1, 16), now=fixed(2026, 1, 16)
        )
        uow.commit()
    tb, _ = balances(svc)
    assert (tb["WRITE_OFF"], tb["LOAN_PRINCIPAL"], tb["INTEREST_RECEIVABLE"]) == (
        0,
        5_000_000,
        accrued,
    )
    row = loan(svc, loan_id)
    assert row["interest_recognised_fen"] - row["interest_received_fen"] == accrued


def test_past_ninety_days_income_is_reversed_and_interest_is_income_only_when_paid(
    svc: Service,
) -> None:
    """非应计: the first instalment (due Feb 5) is never paid. On May 6 (90 days) the loan still
    carries receivables; on May 7 (91 days) what was recognised and not received leaves income
    and the receivables; accrual goes on off the books; when the firm pays what is due, that
    interest and penalty are income at once, and the cured loan accrues into income again."""
    loan_id = open_loan(svc)
    firm = User("firm", Role.APPLICANT, str(loan(svc, loan_id)["uscc"]))
    run(svc, START)
    run(svc, date(2026, 5, 6))
    tb, _ = balances(svc)
    assert loan(svc, loan_id)["dpd"] == 90
    assert tb["INTEREST_RECEIVABLE"] > 0
    assert tb["PENALTY_RECEIVABLE"] > 0
    run(svc, date(2026, 5, 7))
    tb, _ = balances(svc)
    assert loan(svc, loan_id)["dpd"] == 91
    assert (tb.get("INTEREST_RECEIVABLE", 0), tb.get("PENALTY_RECEIVABLE", 0)) == (0, 0)
    assert (tb.get("INTEREST_INCOME", 0), tb.get("PENALTY_INCOME", 0)) == (0, 0)
    before = loan(svc, loan_id)["accrued_penalty_e8"]
    run(svc, date(2026, 5, 8))
    assert loan(svc, loan_id)["accrued_penalty_e8"] > before  # still accrues, off the books
    assert balances(svc)[0].get("PENALTY_INCOME", 0) == 0
    with svc.uow() as uow:
        due = repayment.payoff_quote(uow, firm, loan_id, date(2026, 5, 9))["due_fen"]
        out = repayment.repay(
            uow,
            firm,
            loan_id,
            Money(due),
            key="cure",
            received_on=date(2026, 5, 9),
            now=fixed(2026, 5, 9),
        )
        uow.commit()
    tb, _ = balances(svc)
    assert tb["INTEREST_INCOME"] == -out["interest_fen"]
    assert tb["PENALTY_INCOME"] == -out["penalty_fen"] < 0
    assert (tb.get("INTEREST_RECEIVABLE", 0), tb.get("PENALTY_RECEIVABLE", 0)) == (0, 0)
    run(svc, date(2026, 5, 10))
    assert loan(svc, loan_id)["dpd"] == 0
    assert balances(svc)[0]["INTEREST_RECEIVABLE"] > 0  # accruing into income again
    assert sum(balances(svc)[0].values()) == 0
