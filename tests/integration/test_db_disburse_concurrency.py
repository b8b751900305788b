"""One drawdown asked and approved 50 times at once, on SQLite and PostgreSQL: the same
Idempotency-Key makes one request and one reservation, and approving it concurrently pays out
once — one loan, one disbursement entry, the principal booked once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from tests.lending_fixtures import database_url
from tests.world import World

from loomcredit.adapters.migrations import upgrade_database
from loomcredit.adapters.sqlalchemy_uow import SqlAlchemyUnitOfWork, make_engine
from loomcredit.domain.approval import ApprovalStatus
from loomcredit.domain.errors import ApprovalStateError
from loomcredit.domain.ledger import Account
from loomcredit.domain.money import Money
from loomcredit.service_layer import approvals, lines
from loomcredit.service_layer.errors import ConcurrentChangeError, IdempotencyConflictError

pytestmark = pytest.mark.integration
M = Money.parse
N = 50


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    for url in database_url(request.param, tmp_path):
        upgrade_database(url)
        engine = make_engine(url)
        yield World(make_uow=lambda e=engine: SqlAlchemyUnitOfWork(e, b"p" * 32, b"a" * 32))
        engine.dispose()


def test_fifty_requests_with_one_key_make_one_request_and_one_reservation(world: World) -> None:
    """50 requests for the whole ¥200,000 line under the same key at once: each answer is that
    one request or 'retry' — never a second reservation, never 'limit exceeded'."""
    line_id = world.open_line("200000")
    go = threading.Barrier(N)

    def ask(_: int) -> str:
        go.wait()
        with world.uow() as uow:
            try:
                req = lines.request_drawdown(
                    uow, world.firm, line_id, M("200000"), key="same-key", now=world.now
                )
                uow.commit()
            except (IdempotencyConflictError, ConcurrentChangeError):
                return "retry"
            except Exception as exc:  # noqa: BLE001 - any other answer is the failure reported
                return f"{type(exc).__name__}: {exc}"
        return f"request {req.request_id}"

    with ThreadPoolExecutor(N) as pool:
        answers = list(pool.map(ask, range(N)))
    with world.uow() as uow:
        pending = uow.approvals.pending()
        line = uow.lines.get(line_id)
    assert line is not None
    assert len(pending) == 1
    assert set(answers) <= {f"request {pending[0].request_id}", "retry"}, set(answers)
    assert (line.reserved, line.utilised) == (M("200000"), Money.zero())


def test_fifty_approvals_of_one_drawdown_pay_out_once(world: World) -> None:
    """50 approvals of the same request at once: one loan, one disbursement entry, ¥200,000.00
    of principal booked once, the line drawn once; every other approver hears it was decided."""
    line_id = world.open_line("200000")
    with world.uow() as uow:
        req = lines.request_drawdown(
            uow, world.firm, line_id, M("200000"), key="one", now=world.now
        )
        uow.commit()
    go = threading.Barrier(N)

    def approve(_: int) -> str:
        go.wait()
        with world.uow() as uow:
            try:
                out = approvals.approve(uow, world.ops, req.request_id, now=world.now)
                uow.commit()
            except (ApprovalStateError, IdempotencyConflictError, ConcurrentChangeError):
                return "decided"
        return out.result

    with ThreadPoolExecutor(N) as pool:
        answers = list(pool.map(approve, range(N)))
    loans = [a for a in answers if a.startswith("loan:")]
    assert len(loans) == 1, answers
    assert answers.count("decided") == N - 1
    loan_id = int(loans[0].removeprefix("loan:"))
    with world.uow() as uow:
        assert [x.loan_id for x in uow.loans.find()] == [loan_id]
        entries = [e.entry_id for e in uow.ledger.entries_for(loan_id)]
        tb = uow.ledger.trial_balance()
        line = uow.lines.get(line_id)
        decided = uow.approvals.get(req.request_id)
    assert entries == [f"disb-{loan_id}"]
    assert tb[Account.LOAN_PRINCIPAL] == M("200000")
    assert tb[Account.SETTLEMENT] == -M("200000")
    assert line is not None
    assert (line.utilised, line.reserved) == (M("200000"), Money.zero())
    assert decided is not None
    assert decided.status is ApprovalStatus.APPROVED
