"""A running service over HTTP for the end-to-end tests: a fresh, migrated database (SQLite or
PostgreSQL) with users of every role, a fixed clock, the typed fakes for the decider and the bank
core, and the small helpers the tests share (login, money, problem+json, a signed line)."""

from __future__ import annotations

import random
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

with warnings.catch_warnings():
    # starlette 1.x warns that its TestClient prefers httpx2 (not in the stack); httpx works.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from tests.fakes import FakeBankCore, FakeDecider
from tests.lending_fixtures import FixedClock, database_url, fixed

from loomcredit.adapters.security import hash_password
from loomcredit.bootstrap.service import Service, build_service
from loomcredit.config import Settings
from loomcredit.domain.identity import generate_uscc

PW = "secret-pass-1"
USCC = generate_uscc("330603", random.Random(7))
OTHER = generate_uscc("330603", random.Random(8))
ACCOUNT = "6222000011112222"
PROBLEM = "application/problem+json"
STAFF = (
    "officer",
    "officer2",
    "reviewer",
    "risk_manager",
    "risk_manager2",
    "operations",
    "collector",
    "auditor",
    "admin",
    "admin2",
)


@dataclass
class Api:
    client: TestClient
    clock: FixedClock
    svc: Service
    bank: FakeBankCore
    decider: FakeDecider

    def login(self, name: str) -> dict[str, str]:
        r = self.client.post("/api/v1/auth/token", json={"username": name, "password": PW})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}


def running_api(kind: str, tmp_path: Path) -> Iterator[Api]:
    """A client on a fresh database of ``kind`` with users of every role, on 2026-01-05
    (skips when PostgreSQL is asked and not reachable)."""
    for url in database_url(kind, tmp_path):
        from loomcredit.entrypoints.api.app import create_app
        from loomcredit.service_layer.user_admin import create_user

        bank, decider = FakeBankCore(), FakeDecider()
        svc = build_service(Settings(home=tmp_path), url=url, decider=decider, bank=bank)
        clock = FixedClock(fixed(2026, 1, 5))
        svc.clock = clock
        digest = hash_password(PW)
        users = [(name, name.rstrip("2"), None) for name in STAFF]
        users += [("firm", "applicant", USCC), ("otherfirm", "applicant", OTHER)]
        with svc.uow() as uow:
            for name, role, uscc in users:
                create_user(
                    uow,
                    actor="test",
                    name=name,
                    role=role,
                    password_hash=digest,
                    enterprise=uscc,
                    now=clock(),
                )
            uow.commit()
        with TestClient(create_app(service=svc), raise_server_exceptions=False) as client:
            yield Api(client, clock, svc, bank, decider)
        svc.engine.dispose()


def money(text: str) -> dict[str, str]:
    """API money."""
    return {"amount": text, "currency": "CNY"}


def problem(r: Any, status: int, kind: str | None = None) -> str:
    """The detail of a problem+json response with that status (and problem type)."""
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"].startswith(PROBLEM), r.headers["content-type"]
    body = r.json()
    assert body["status"] == status
    if kind is not None:
        assert body["type"].endswith(f"/{kind}"), body
    detail: str = body["detail"]
    assert detail
    return detail


def apply(
    a: Api, amount: str, *, by: str = "officer", term: int = 12, uscc: str = USCC
) -> dict[str, Any]:
    """An application for the firm (or ``uscc``), made by ``by``."""
    body = {"uscc": uscc, "amount": money(amount), "term_months": term}
    r = a.client.post("/api/v1/applications", json=body, headers=a.login(by))
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


def signed_line(a: Api, amount: str = "300000.00", *, by: str = "officer") -> tuple[int, int]:
    """An auto-approved application, signed by the firm: (application id, line id)."""
    app = apply(a, amount, by=by)
    r = a.client.post(
        f"/api/v1/applications/{app['id']}/accept",
        json={"settlement_account": ACCOUNT},
        headers=a.login("firm"),
    )
    assert r.status_code == 201, r.text
    return app["id"], r.json()["id"]
