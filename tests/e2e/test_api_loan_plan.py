"""Over HTTP, on SQLite and PostgreSQL: a seasonal firm's contract shows the decision's plan
(label and reason in 中文 and English) and a drawdown books exactly the schedule shown for it.

The decider is the typed fake (``FakeDecider(seasonal=True)``): its CreditDecision carries
``SuggestedPlan(plan_shape(...), as_of)`` built by the real plan engine on the Keqiao cluster's
factors. The expected due dates below are worked out by hand from those factors and the plan
rules (DOMAIN.md §7, §11), not read back from the engine."""

from __future__ import annotations

import random
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's TestClient prefers httpx2; httpx works
    from fastapi.testclient import TestClient

from tests.fakes import FakeBankCore, FakeDecider
from tests.lending_fixtures import FixedClock, database_url, fixed

from loomcredit.adapters.security import hash_password
from loomcredit.bootstrap.service import build_service
from loomcredit.config import Settings
from loomcredit.domain.identity import generate_uscc

pytestmark = pytest.mark.e2e
PW = "secret-pass-1"
USCC = generate_uscc("330603", random.Random(21))
ACCOUNT = "6222000011112222"
# Started 2026-01-05, twelve months: due on the 20th from February. Principal follows a month
# whose factor is at least 1.0 (March-June, September-November), never in August nor in the
# Chinese New Year window (2026-02-03 to 2026-03-03); the last due date repays the rest.
DUE_DATES = [f"2026-{m:02d}-20" for m in range(2, 13)] + ["2027-01-20"]
PRINCIPAL_DUE = [
    "2026-04-20",
    "2026-05-20",
    "2026-06-20",
    "2026-07-20",
    "2026-10-20",
    "2026-11-20",
    "2026-12-20",
    "2027-01-20",
]


@dataclass
class Api:
    client: TestClient

    def login(self, name: str) -> dict[str, str]:
        r = self.client.post("/api/v1/auth/token", json={"username": name, "password": PW})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.fixture(params=["sqlite", "postgresql"])
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    """A client on a fresh service whose decider suggests the seasonal plan, on 2026-01-05."""
    for url in database_url(request.param, tmp_path):
        from loomcredit.entrypoints.api.app import create_app
        from loomcredit.service_layer.user_admin import create_user

        svc = build_service(
            Settings(home=tmp_path),
            url=url,
            decider=FakeDecider(seasonal=True),
            bank=FakeBankCore(),
        )
        svc.clock = FixedClock(fixed(2026, 1, 5))
        digest = hash_password(PW)
        with svc.uow() as uow:
            for name, role, uscc in (
                ("officer", "officer", None),
                ("operations", "operations", None),
                ("firm", "applicant", USCC),
            ):
                create_user(
                    uow,
                    actor="test",
                    name=name,
                    role=role,
                    password_hash=digest,
                    enterprise=uscc,
                    now=svc.clock(),
                )
            uow.commit()
        with TestClient(create_app(service=svc), raise_server_exceptions=False) as c:
            yield Api(c)
        svc.engine.dispose()


def money(text: str) -> dict[str, str]:
    """API money."""
    return {"amount": text, "currency": "CNY"}


def _signed(a: Api) -> tuple[dict[str, Any], int]:
    """An auto-approved ¥300,000 annuity application signed by the firm: (contract, line id)."""
    c = a.client
    body = {"uscc": USCC, "amount": money("300000.00"), "term_months": 12, "method": "annuity"}
    app = c.post("/api/v1/applications", json=body, headers=a.login("officer")).json()
    assert app["status"] == "approved", app
    firm = a.login("firm")
    contract = c.get(f"/api/v1/applications/{app['id']}/contract", headers=firm).json()
    r = c.post(
        f"/api/v1/applications/{app['id']}/accept",
        json={"settlement_account": ACCOUNT},
        headers=firm,
    )
    assert r.status_code == 201, r.text
    return contract, r.json()["id"]


def _drawn(a: Api, line_id: int, amount: str, key: str) -> dict[str, Any]:
    """A drawdown asked by the firm and approved by operations: the loan as the firm sees it."""
    c, firm = a.client, a.login("firm")
    r = c.post(
        f"/api/v1/lines/{line_id}/drawdowns",
        json={"amount": money(amount)},
        headers={**firm, "Idempotency-Key": key},
    )
    assert r.status_code == 202, r.text
    ok = c.post(
        f"/api/v1/approvals/{r.json()['id']}/approve", json={}, headers=a.login("operations")
    )
    assert ok.status_code == 200, ok.text
    loan: dict[str, Any] = c.get(
        f"/api/v1/loans/{ok.json()['result'].removeprefix('loan:')}", headers=firm
    ).json()
    return loan


def _rows(schedule: list[dict[str, Any]]) -> list[tuple[str, Any, Any]]:
    return [(i["due_on"], i["principal"], i["interest"]) for i in schedule]


def _principal_dates(schedule: list[dict[str, Any]]) -> list[str]:
    return [i["due_on"] for i in schedule if Decimal(i["principal"]["amount"]) > 0]


def test_the_contract_shows_the_seasonal_plan_of_the_cluster(api: Api) -> None:
    """The contract offers the seasonal plan: principal only after the cluster's good months."""
    contract, _ = _signed(api)
    assert (contract["method"], contract["method_zh"]) == ("custom", "自定义本金计划")
    assert contract["method_asked"] == "annuity"
    assert (contract["plan"]["seasonal"], contract["plan"]["from_decision"]) == (True, True)
    assert contract["plan"]["reason_zh"].startswith("季节性经营")
    assert contract["plan"]["reason_en"].startswith("seasonal firm")
    assert contract["start_date"] == "2026-01-05"
    schedule = contract["schedule"]
    assert [i["due_on"] for i in schedule] == DUE_DATES
    assert _principal_dates(schedule) == PRINCIPAL_DUE
    by_date = {i["due_on"]: Decimal(i["principal"]["amount"]) for i in schedule}
    assert by_date["2026-10-20"] > by_date["2026-04-20"]  # after September (1.2) vs March (1.0)
    assert sum(by_date.values()) == Decimal("300000.00")


def test_a_drawdown_of_the_whole_line_books_the_contracts_schedule(api: Api) -> None:
    """A drawdown of the whole line books the contract's instalments to the fen."""
    contract, line_id = _signed(api)
    preview = api.client.get(
        f"/api/v1/lines/{line_id}/plan?amount=300000.00", headers=api.login("firm")
    ).json()
    assert _rows(preview["schedule"]) == _rows(contract["schedule"])
    loan = _drawn(api, line_id, "300000.00", "plan-1")
    assert (loan["method"], loan["start_date"]) == ("custom", "2026-01-05")
    assert _rows(loan["installments"]) == _rows(contract["schedule"])


def test_a_partial_drawdown_books_its_preview_on_the_same_seasons(api: Api) -> None:
    """A partial drawdown books its preview, principal on the contract's due dates."""
    _, line_id = _signed(api)
    preview = api.client.get(
        f"/api/v1/lines/{line_id}/plan?amount=100000.00", headers=api.login("firm")
    ).json()
    assert _principal_dates(preview["schedule"]) == PRINCIPAL_DUE
    loan = _drawn(api, line_id, "100000.00", "plan-2")
    assert _rows(loan["installments"]) == _rows(preview["schedule"])
    principal = sum(Decimal(i["principal"]["amount"]) for i in loan["installments"])
    assert principal == Decimal("100000.00")
