"""Over HTTP: a seasonal firm's contract shows the decision's plan (label and reason in 中文 and
English) and the loan a drawdown of the whole line books carries exactly that schedule."""

from __future__ import annotations

import random
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's TestClient prefers httpx2; httpx works
    from fastapi.testclient import TestClient

from tests.fakes import FakeDecider
from tests.lending_fixtures import FixedClock, database_url, fixed

from loomcredit.adapters.security import hash_password
from loomcredit.bootstrap.service import build_service
from loomcredit.config import Settings
from loomcredit.domain.identity import generate_uscc

pytestmark = pytest.mark.e2e
PW = "secret-pass-1"
USCC = generate_uscc("330603", random.Random(21))


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    """A client on a fresh SQLite service whose decider suggests the seasonal plan."""
    for url in database_url("sqlite", tmp_path):
        from loomcredit.entrypoints.api.app import create_app
        from loomcredit.service_layer.user_admin import create_user

        svc = build_service(Settings(home=tmp_path), url=url, decider=FakeDecider(seasonal=True))
        svc.clock = FixedClock(fixed(2026, 1, 5))
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
                    password_hash=hash_password(PW),
                    enterprise=uscc,
                    now=svc.clock(),
                )
            uow.commit()
        with TestClient(create_app(service=svc), raise_server_exceptions=False) as c:
            yield c
        svc.engine.dispose()


def login(client: TestClient, name: str) -> dict[str, str]:
    """Bearer header for a user."""
    r = client.post("/api/v1/auth/token", json={"username": name, "password": PW})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_contract_shows_the_seasonal_plan_and_the_loan_books_it(client: TestClient) -> None:
    """Contract: 自定义本金计划 with the seasonal reason, dues on the 20th, nothing in August;
    the loan drawn on the contract's date has the same instalments and method."""
    officer, firm = login(client, "officer"), login(client, "firm")
    body = {
        "uscc": USCC,
        "amount": {"amount": "300000.00", "currency": "CNY"},
        "term_months": 12,
        "method": "annuity",
    }
    app = client.post("/api/v1/applications", json=body, headers=officer).json()
    assert app["status"] == "approved", app
    c = client.get(f"/api/v1/applications/{app['id']}/contract", headers=firm).json()
    assert (c["method"], c["method_zh"]) == ("custom", "自定义本金计划")
    assert c["plan"]["seasonal"] is True
    assert c["plan"]["reason_zh"].startswith("季节性经营")
    assert c["plan"]["reason_en"].startswith("seasonal firm")
    assert c["start_date"] == "2026-01-05"
    assert all(i["due_on"].endswith("-20") for i in c["schedule"])
    august = [i for i in c["schedule"] if i["due_on"][5:7] == "08"]
    assert [i["principal"]["amount"] for i in august] == ["0.00"]
    line = client.post(
        f"/api/v1/applications/{app['id']}/accept",
        json={"settlement_account": "6222000011112222"},
        headers=firm,
    ).json()
    preview = client.get(f"/api/v1/lines/{line['id']}/plan?amount=300000.00", headers=firm).json()
    assert preview["schedule"] == c["schedule"]
    r = client.post(
        f"/api/v1/lines/{line['id']}/drawdowns",
        json={"amount": body["amount"]},
        headers={**firm, "Idempotency-Key": "plan-1"},
    )
    assert r.status_code == 202, r.text
    ops = login(client, "operations")
    r = client.post(f"/api/v1/approvals/{r.json()['id']}/approve", json={}, headers=ops)
    assert r.status_code == 200, r.text
    r = client.get(f"/api/v1/loans/{r.json()['result'].removeprefix('loan:')}", headers=firm)
    loan = r.json()
    assert loan["method"] == "custom"
    booked = [(i["due_on"], i["principal"], i["interest"]) for i in loan["installments"]]
    offered = [(i["due_on"], i["principal"], i["interest"]) for i in c["schedule"]]
    assert booked == offered
