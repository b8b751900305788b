"""Book laws under random sequences of disbursements, repayments and end-of-day runs: after every
step the ledger balances, outstanding principal = disbursed − principal repaid, and the interest
and penalty receivables equal what was recognised and not yet received, to the fen."""

from __future__ import annotations

import random
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, insert, select

from loomcredit.adapters import orm
from loomcredit.adapters.sqlalchemy_uow import SqlAlchemyUnitOfWork, make_engine
from loomcredit.domain.identity import generate_uscc
from loomcredit.domain.money import Money
from loomcredit.service_layer import disbursement, origination, repayment
from loomcredit.service_layer.users import Role, User

NOW = datetime(2026, 1, 1, tzinfo=UTC)
OFFICER, ADMIN = User("off", Role.OFFICER), User("adm", Role.ADMIN)


def decider(uscc: str, amount: Money, term: int, method: str, as_of: date) -> dict[str, object]:
    """Auto-approve at 6 %."""
    return {
        "band": "auto_approve",
        "annual_rate": "0.06",
        "limit": amount.minor,
        "pd": "0.02",
        "reasons": [],
    }


step = st.one_of(
    st.tuples(
        st.just("disburse"),
        st.integers(1_000_00, 500_000_00),
        st.sampled_from(["annuity", "equal_principal", "interest_only"]),
    ),
    st.tuples(st.just("repay"), st.integers(1, 200_000_00), st.booleans()),
    st.tuples(st.just("eod"), st.integers(1, 45), st.just(None)),
)


def check(uow: SqlAlchemyUnitOfWork) -> None:
    """The two laws."""
    tb = uow.trial_balance()
    assert sum(tb.values()) == 0
    conn = uow.conn
    disbursed = conn.execute(
        select(func.coalesce(func.sum(orm.loans.c.principal_fen), 0))
    ).scalar_one()
    repaid = conn.execute(
        select(func.coalesce(func.sum(orm.repayments.c.principal_fen), 0))
    ).scalar_one()
    outstanding = conn.execute(
        select(func.coalesce(func.sum(orm.loans.c.outstanding_fen), 0))
    ).scalar_one()
    assert outstanding == disbursed - repaid
    assert tb.get("LOAN_PRINCIPAL", 0) == outstanding
    sched = conn.execute(
        select(
            func.coalesce(
                func.sum(orm.installments.c.principal_fen - orm.installments.c.principal_paid_fen),
                0,
            )
        )
    ).scalar_one()
    assert sched == outstanding  # the stored schedule owes exactly the outstanding principal
    # accrual accounting: the receivables are what was recognised and not yet received, loan by
    # loan; income is everything recognised; a closed loan leaves nothing receivable
    rows = conn.execute(select(orm.loans)).mappings().all()
    for r in rows:
        assert r["interest_recognised_fen"] >= r["interest_received_fen"], dict(r)
        assert r["penalty_recognised_fen"] >= r["penalty_paid_fen"], dict(r)
        if r["status"] == "closed":
            assert r["interest_recognised_fen"] == r["interest_received_fen"], dict(r)
    owed = sum(r["interest_recognised_fen"] - r["interest_received_fen"] for r in rows)
    assert tb.get("INTEREST_RECEIVABLE", 0) == owed
    assert tb.get("INTEREST_INCOME", 0) == -sum(r["interest_recognised_fen"] for r in rows)
    assert tb.get("PENALTY_RECEIVABLE", 0) == sum(
        r["penalty_recognised_fen"] - r["penalty_paid_fen"] for r in rows
    )


@settings(max_examples=25, deadline=None)
@given(st.lists(step, min_size=1, max_size=12), st.integers(0, 10_000))
def test_ledger_balances_and_principal_reconciles(
    steps: list[tuple[str, int, object]], seed: int
) -> None:
    """Random disburse/repay/EOD sequences keep the book's two laws after every step."""
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'b.db'}")
        orm.metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(insert(orm.audit_head).values(id=1, last_seq=0, last_hash="0" * 64))
        day = date(2026, 1, 5)
        loans: list[tuple[int, User]] = []
        for n, (kind, value, extra) in enumerate(steps):
            with SqlAlchemyUnitOfWork(engine) as uow:
                if kind == "disburse":
                    uscc = generate_uscc("330603", rng)
                    firm = User(f"f{n}", Role.APPLICANT, uscc)
                    app = origination.create_application(
                        uow,
                        decider,
                        OFFICER,
                        uscc=uscc,
                        amount=Money(value),
                        term=rng.randint(1, 12),
                        method=str(extra),
                        as_of=day,
                        now=datetime.combine(day, NOW.timetz()),
                    )
                    origination.accept_contract(uow, firm, app["id"], now=NOW)
                    loan = disbursement.disburse(
                        uow, OFFICER, app["id"], key=f"d{n}", as_of=day, now=NOW
                    )
                    loans.append((loan["id"], firm))
                elif kind == "repay" and loans:
                    loan_id, firm = rng.choice(loans)
                    if uow.get_loan(loan_id)["status"] == "active":
                        repayment.repay(
                            uow,
                            firm,
                            loan_id,
                            Money(value),
                            key=f"r{n}",
                            received_on=day,
                            now=NOW,
                            early=bool(extra),
                        )
                elif kind == "eod":
                    for _ in range(value):
                        day += timedelta(days=1)
                        uow.run_eod(day, NOW)
                uow.commit()
                check(uow)
        engine.dispose()
