"""50 concurrent identical disbursement requests on PostgreSQL produce one disbursement."""

from __future__ import annotations

import random
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.lending_fixtures import database_url

from loomcredit.adapters import orm
from loomcredit.bootstrap.service import Service, add_user, build_service
from loomcredit.config import Settings
from loomcredit.domain.identity import generate_uscc

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's TestClient prefers httpx2 (not in the stack)
    from fastapi.testclient import TestClient

pytestmark = [pytest.mark.integration]
PW = "secret-pass-1"


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[Service]:
    """PostgreSQL database."""
    for url in database_url("postgresql", tmp_path):
        s = build_service(Settings(home=tmp_path), url=url)
        yield s
        s.engine.dispose()


def test_fifty_concurrent_disbursements_make_one_loan(svc: Service) -> None:
    """Same application and Idempotency-Key, 50 at once: one loan, one entry, one answer."""
    from loomcredit.entrypoints.api.app import create_app

    uscc = generate_uscc("330603", random.Random(3))
    add_user(svc, "officer", "officer", PW)
    add_user(svc, "firm", "applicant", PW, uscc)
    client = TestClient(create_app(service=svc))
    off = {
        "Authorization": "Bearer "
        + client.post("/api/v1/auth/token", json={"username": "officer", "password": PW}).json()[
            "access_token"
        ]
    }
    firm = {
        "Authorization": "Bearer "
        + client.post("/api/v1/auth/token", json={"username": "firm", "password": PW}).json()[
            "access_token"
        ]
    }
    app = client.post(
        "/api/v1/applications",
        headers=off,
        json={
            "uscc": uscc,
            "amount": {"amount": "200000.00", "currency": "CNY"},
            "term_months": 12,
        },
    ).json()
    assert (
        client.post(f"/api/v1/applications/{app['id']}/accept", json={}, headers=firm).status_code
        == 200
    )

    def hit(_: int) -> tuple[int, object]:
        r = client.post(
            f"/api/v1/applications/{app['id']}/disburse",
            json={"as_of": "2026-01-05"},
            headers={**off, "Idempotency-Key": "same-key"},
        )
        return r.status_code, r.json().get("id")

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(hit, range(50)))
    assert {code for code, _ in results} == {201}
    assert len({loan_id for _, loan_id in results}) == 1
    with svc.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(orm.loans)).scalar_one() == 1
        disb = (
            select(func.count())
            .select_from(orm.journal_entries)
            .where(orm.journal_entries.c.id.like("disb-%"))
        )
        assert conn.execute(disb).scalar_one() == 1
        principal = select(func.sum(orm.postings.c.amount_fen)).where(
            orm.postings.c.account == "LOAN_PRINCIPAL"
        )
        assert conn.execute(principal).scalar_one() == 20_000_000
