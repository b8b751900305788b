"""End of day on SQLite and PostgreSQL: DPD, bucket, grade floor, penalty accrual, reminders,
idempotency per date and rerun after a crash."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from tests.lending_fixtures import database_url, fixed

from loomcredit.bootstrap.service import Service, build_service
from loomcredit.config import Settings
from loomcredit.domain.identity import generate_uscc
from loomcredit.domain.money import Money
from loomcredit.service_layer import disbursement, eod, origination
from loomcredit.service_layer.users import Role, User

pytestmark = pytest.mark.integration
START = date(2026, 1, 5)
ADMIN = User("admin", Role.ADMIN)


def fixed_decider(
    uscc: str, amount: Money, term: int, method: str, as_of: date
) -> dict[str, object]:
    """Always auto-approve at 4.5 %."""
    return {
        "band": "auto_approve",
        "annual_rate": "0.045",
        "limit": amount.minor,
        "pd": "0.01",
        "reasons": [],
    }


@pytest.fixture(params=["sqlite", "postgresql"])
def svc(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Service]:
    """A migrated database."""
    for url in database_url(request.param, tmp_path):
        s = build_service(Settings(home=tmp_path), url=url)
        s.decider = fixed_decider
        yield s
        s.engine.dispose()


def open_loan(svc: Service, yuan: int = 120_000) -> int:
    """Apply, accept and disburse one 12-month annuity loan on START; returns its id."""
    uscc = generate_uscc("330603", random.Random(yuan))
    officer, firm = User("officer", Role.OFFICER), User("firm", Role.APPLICANT, uscc)
    now = fixed(2026, 1, 5)
    with svc.uow() as uow:
        app = origination.create_application(
            uow,
            svc.decider,
            officer,
            uscc=uscc,
            amount=Money.parse(yuan),
            term=12,
            method="annuity",
            as_of=START,
            now=now,
        )
        origination.accept_contract(uow, firm, app["id"], now=now)
        loan = disbursement.disburse(uow, officer, app["id"], key=f"k{yuan}", as_of=START, now=now)
        uow.commit()
    return int(loan["id"])


def run(svc: Service, day: date) -> dict[str, object]:
    """One end of day."""
    with svc.uow() as uow:
        return eod.run_eod(uow, ADMIN, day, now=fixed(2026, 1, 5))


def loan(svc: Service, loan_id: int) -> dict[str, object]:
    """Current loan row."""
    with svc.uow() as uow:
        row = uow.get_loan(loan_id)
    assert row is not None
    return row


def test_dpd_bucket_grade_and_penalty_after_a_missed_instalment(svc: Service) -> None:
    """Five days after a missed instalment: DPD 5, M1, 关注; penalty = overdue×6.75%/360×5."""
    loan_id = open_loan(svc)
    with svc.uow() as uow:
        first = uow.installments(loan_id)[0]
    assert first["due_on"] == date(2026, 2, 5)
    for d in range(6, 11):
        run(svc, date(2026, 2, d))
    row = loan(svc, loan_id)
    assert (row["dpd"], row["bucket"], row["grade"]) == (5, "M1", 2)
    overdue = Decimal(first["principal_fen"] + first["interest_fen"])
    expected = (
        overdue * Decimal("0.045") * Decimal("1.5") / 360 * 5
    )  # DOMAIN §8: penalty rate, ACT/360
    got = Decimal(int(row["accrued_penalty_e8"])) / 100_000_000
    assert abs(got - expected) < Decimal("0.000001")


def test_grade_floor_past_90_days(svc: Service) -> None:
    """91 days past due is M4 and at least 次级 (grade 3)."""
    loan_id = open_loan(svc)
    run(svc, date(2026, 2, 5) + timedelta(days=91))
    row = loan(svc, loan_id)
    assert (row["dpd"], row["bucket"], row["grade"]) == (91, "M4", 3)


def test_eod_twice_for_a_date_changes_nothing(svc: Service) -> None:
    """A second run for the same date is refused as already done and leaves accruals unchanged."""
    loan_id = open_loan(svc)
    run(svc, date(2026, 2, 8))
    before = loan(svc, loan_id)["accrued_penalty_e8"]
    assert run(svc, date(2026, 2, 8)) == {"already": True}
    assert loan(svc, loan_id)["accrued_penalty_e8"] == before
    assert before > 0


def test_crash_half_way_can_be_rerun(svc: Service) -> None:
    """A run that dies before commit leaves nothing behind; the rerun does the whole day once."""
    loan_id = open_loan(svc)
    with svc.uow() as uow:
        uow.run_eod(date(2026, 2, 8), fixed(2026, 2, 8))
        # crash: leave without commit
    assert loan(svc, loan_id)["dpd"] == 0
    out = run(svc, date(2026, 2, 8))
    assert out["loans"] == 1
    assert loan(svc, loan_id)["dpd"] == 3


def test_reminders_t7_t3_t1_once_each(svc: Service) -> None:
    """Reminders land 7, 3 and 1 days before a due date, once each, even on reruns."""
    loan_id = open_loan(svc)
    for day in (date(2026, 1, 29), date(2026, 2, 2), date(2026, 2, 4), date(2026, 2, 4)):
        run(svc, day)
    with svc.uow() as uow:
        box = uow.outbox()
    assert sorted((r["kind"], r["created_for"]) for r in box if r["loan_id"] == loan_id) == [
        ("T-1", date(2026, 2, 4)),
        ("T-3", date(2026, 2, 2)),
        ("T-7", date(2026, 1, 29)),
    ]


def test_partial_repayment_follows_the_waterfall(svc: Service) -> None:
    """A late partial payment settles penalty first, then interest, then principal."""
    from loomcredit.service_layer import repayment

    loan_id = open_loan(svc)
    for d in range(6, 11):
        run(svc, date(2026, 2, d))
    with svc.uow() as uow:
        first = uow.installments(loan_id)[0]
    overdue = Decimal(first["principal_fen"] + first["interest_fen"])
    penalty = int(
        (overdue * Decimal("0.0675") / 360 * 5).quantize(Decimal(1), rounding="ROUND_HALF_UP")
    )
    pay = penalty + first["interest_fen"] + 10_000
    with svc.uow() as uow:
        out = repayment.repay(
            uow,
            User("firm", Role.APPLICANT, uow.get_loan(loan_id)["uscc"]),
            loan_id,
            Money(pay),
            key="late-1",
            received_on=date(2026, 2, 10),
            now=fixed(2026, 2, 10),
        )
        uow.commit()
    assert (out["penalty_fen"], out["interest_fen"], out["principal_fen"]) == (
        penalty,
        first["interest_fen"],
        10_000,
    )
    with svc.uow() as uow:
        tb = uow.trial_balance()
    assert tb["PENALTY_INCOME"] == -penalty
    assert sum(tb.values()) == 0


def test_instalment_paid_before_its_due_date_is_not_overdue(svc: Service) -> None:
    """Paid two days early, the money waits in suspense and settles the instalment when it falls
    due: no DPD, no penalty, 正常; the ledger moves it from suspense and still balances."""
    from loomcredit.service_layer import repayment

    loan_id = open_loan(svc)
    with svc.uow() as uow:
        first = uow.installments(loan_id)[0]
        firm = User("firm", Role.APPLICANT, uow.get_loan(loan_id)["uscc"])
        repayment.repay(
            uow,
            firm,
            loan_id,
            Money(first["principal_fen"] + first["interest_fen"]),
            key="early-1",
            received_on=first["due_on"] - timedelta(days=2),
            now=fixed(2026, 2, 3),
        )
        uow.commit()
    for d in range(4, 11):
        run(svc, date(2026, 2, d))
    row = loan(svc, loan_id)
    assert (row["dpd"], row["grade"], row["accrued_penalty_e8"], row["suspense_fen"]) == (
        0,
        1,
        0,
        0,
    )
    assert row["outstanding_fen"] == 12_000_000 - first["principal_fen"]
    with svc.uow() as uow:
        paid = uow.installments(loan_id)[0]
        tb = uow.trial_balance()
    assert paid["principal_paid_fen"] == paid["principal_fen"]
    assert tb.get("SUSPENSE", 0) == 0
    # income: the first instalment's interest, then the nights of Feb 5-10 accrued on what is
    # not yet due (4.5 % ACT/360 on the balance after the first principal, rounded half up once)
    accrued = (Decimal(row["outstanding_fen"]) * Decimal("0.045") / 360 * 6).quantize(
        Decimal(1), rounding="ROUND_HALF_UP"
    )
    assert tb["INTEREST_INCOME"] == -(first["interest_fen"] + int(accrued))
    assert tb["INTEREST_RECEIVABLE"] == int(accrued)
    assert sum(tb.values()) == 0


def test_sql_bucket_and_floor_agree_with_the_domain(svc: Service) -> None:
    """The set-based CASE expressions give the domain's bucket() and floor_grade() for every DPD."""
    from sqlalchemy import text

    from loomcredit.adapters.repositories import bucket_case, floor_case
    from loomcredit.domain.delinquency import bucket, floor_grade

    values = list(range(0, 400))
    union = " UNION ALL ".join(f"SELECT {v} AS dpd" for v in values)
    with svc.engine.connect() as conn:
        rows = conn.execute(
            text(f"SELECT dpd, {bucket_case()}, {floor_case()} FROM ({union}) t")
        ).all()
    got = {int(d): (b, int(g)) for d, b, g in rows}
    assert got == {v: (bucket(v).name, int(floor_grade(v))) for v in values}


def test_write_off_and_reversal_are_entries(svc: Service) -> None:
    """A write-off moves principal to WRITE_OFF; its reversal mirrors it once; nothing is edited."""
    from loomcredit.domain.errors import LoanStateError

    loan_id = open_loan(svc, 50_000)
    risk = User("risk", Role.RISK_MANAGER)
    with svc.uow() as uow:
        wo = disbursement.write_off(
            uow, risk, loan_id, as_of=date(2026, 6, 1), now=fixed(2026, 6, 1)
        )
        uow.commit()
        assert uow.trial_balance()["WRITE_OFF"] == 5_000_000
        assert uow.trial_balance()["LOAN_PRINCIPAL"] == 0
        disbursement.reverse_write_off(
            uow, risk, loan_id, wo["entry_id"], as_of=date(2026, 6, 2), now=fixed(2026, 6, 2)
        )
        uow.commit()
        tb = uow.trial_balance()
        assert (tb["WRITE_OFF"], tb["LOAN_PRINCIPAL"]) == (0, 5_000_000)
        assert uow.entry_lines(wo["entry_id"])  # the original entry is still there
        with pytest.raises(LoanStateError):
            disbursement.reverse_write_off(
                uow, risk, loan_id, wo["entry_id"], as_of=date(2026, 6, 3), now=fixed(2026, 6, 3)
            )
    assert loan(svc, loan_id)["status"] == "active"


def test_skipped_dates_are_caught_up_like_running_each_day(svc: Service, tmp_path: Path) -> None:
    """EOD for a date after a gap runs the missing days first: same penalty/DPD as day by day."""
    kind = "postgresql" if svc.engine.dialect.name == "postgresql" else "sqlite"
    loan_id = open_loan(svc)
    run(svc, date(2026, 2, 6))
    out = run(svc, date(2026, 2, 12))  # 7..11 skipped
    assert out["days_run"] == 6
    for other_url in database_url(kind, tmp_path / "daily"):
        (tmp_path / "daily").mkdir(exist_ok=True)
        daily = build_service(Settings(home=tmp_path / "daily"), url=other_url)
        daily.decider = fixed_decider
        other_id = open_loan(daily)
        for d in range(6, 13):
            assert run(daily, date(2026, 2, d))["days_run"] == 1
        want = loan(daily, other_id)
        daily.engine.dispose()
    got = loan(svc, loan_id)
    for key in ("dpd", "bucket", "grade", "accrued_penalty_e8"):
        assert got[key] == want[key], key
    assert got["accrued_penalty_e8"] > 0
    assert run(svc, date(2026, 2, 12)) == {"already": True}


def test_crash_during_catch_up_reruns_without_double_posting(svc: Service) -> None:
    """Days committed before a crash stay done; the rerun does only what is missing."""
    loan_id = open_loan(svc)
    run(svc, date(2026, 2, 6))
    run(svc, date(2026, 2, 8))  # catch-up committed 7 and 8
    with svc.uow() as uow:
        uow.run_eod(date(2026, 2, 9), fixed(2026, 2, 9))
        # crash before commit
    out = run(svc, date(2026, 2, 10))
    assert out["days_run"] == 2
    assert loan(svc, loan_id)["dpd"] == 5
