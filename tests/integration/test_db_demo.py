"""The demo lending run: every role seeded, some auto-approved, some reviewed, a balanced book."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from tests.lending_fixtures import seasonal_decider

from loomcredit.bootstrap.service import build_service, run_demo_lending
from loomcredit.config import Settings
from loomcredit.service_layer.audit import verify_chain
from loomcredit.service_layer.users import Role

pytestmark = pytest.mark.integration


def test_demo_lending_leaves_a_consistent_book(tmp_path: Path) -> None:
    """Two months of demo lending: every role seeded, both paths used, ledger and audit intact."""
    settings = Settings(home=tmp_path)
    svc = build_service(settings)
    out = run_demo_lending(settings, months=2, start=date(2026, 1, 5), service=svc)
    assert out.auto_approved > 0
    assert out.reviewed > 0
    assert out.loans == out.auto_approved + out.reviewed
    assert sum(out.trial_balance.values()) == 0
    assert out.trial_balance["LOAN_PRINCIPAL"] == out.outstanding_fen
    assert out.by_grade.get(2, 0) >= 1  # the borrower who misses payments is at least 关注
    assert out.by_method == {"annuity": out.loans}  # the fallback rules suggest no plan
    assert out.prepayments == 2
    assert out.closed >= 1  # the borrower who repaid in full on day 60
    assert out.trial_balance["INTEREST_INCOME"] < 0  # accrued nightly and billed
    assert out.trial_balance["INTEREST_RECEIVABLE"] > 0  # accrued since the last due dates
    with svc.uow() as uow:
        roles = {uow.get_user(f"demo_{r.value}")["role"] for r in Role if r is not Role.APPLICANT}
        assert roles == {r.value for r in Role if r is not Role.APPLICANT}
        assert verify_chain(uow.audit_records()).ok
    svc.engine.dispose()


def test_demo_loans_carry_the_decision_plan(tmp_path: Path) -> None:
    """With a decider that suggests seasonal plans, every demo loan is booked on the custom plan
    (no principal due on 20 August), and the summary counts loans by method."""
    settings = Settings(home=tmp_path)
    svc = build_service(settings)
    svc.decider = seasonal_decider
    out = run_demo_lending(settings, months=1, start=date(2026, 1, 5), service=svc)
    assert out.by_method == {"custom": out.loans}
    with svc.uow() as uow:
        for loan in uow.list_loans():
            august = [i for i in uow.installments(loan["id"]) if i["due_on"].month == 8]
            assert [i["principal_fen"] for i in august] == [0]
    svc.engine.dispose()
