"""The demo lending run: every role seeded, some auto-approved, some reviewed, a balanced book."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

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
    with svc.uow() as uow:
        roles = {uow.get_user(f"demo_{r.value}")["role"] for r in Role if r is not Role.APPLICANT}
        assert roles == {r.value for r in Role if r is not Role.APPLICANT}
        assert verify_chain(uow.audit_records()).ok
    svc.engine.dispose()
