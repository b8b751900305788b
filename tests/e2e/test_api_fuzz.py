"""An independent fuzzer (schemathesis) against the OpenAPI schema: a bad request is a 4xx
problem+json saying what to fix, never a 500.

Every operation is called in process (ASGI) with a bearer token for a role that may use it, so
requests get past authentication and their bodies and parameters are really validated. Both
schema-valid (positive) and schema-invalid (negative) data are generated, from a fixed seed with a
bounded number of examples, on SQLite and on PostgreSQL (NUL in text was a 500 only there). The
database is seeded with applications and a loan in several states so that small ids reach real
records, and generated strings are salted with values known to break things.

Checks: schemathesis's defaults (``not_a_server_error``, status code, content type and response
schema conformance, ``Allow`` on 405, ignored auth, positive data accepted and negative data
rejected) plus this file's: an error is ``application/problem+json`` with a title and a detail;
after the run the ledger still balances and the audit chain still verifies. Response bodies are
declared as free-form objects, so conformance checks their status and content type, not fields.
``LOOM_FUZZ_EXAMPLES`` (default 50 per operation and phase) and ``LOOM_FUZZ_SEED`` (random,
not derandomized, generation from that seed) let a longer exploratory run use the same test.
"""

from __future__ import annotations

import os
import random
import warnings
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from schemathesis import AuthContext, Case

with warnings.catch_warnings():
    # starlette 1.x warns that its TestClient prefers httpx2 (not in the stack); httpx works.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from tests.fakes import FakeBankCore, FakeDecider
from tests.lending_fixtures import FixedClock, database_url, fixed

from loomcredit.adapters.security import hash_password, issue_token
from loomcredit.bootstrap.service import Service, build_service
from loomcredit.config import Settings
from loomcredit.domain.identity import generate_uscc
from loomcredit.service_layer import audit_admin

pytestmark = pytest.mark.e2e
PW = "secret-pass-1"
USCC = generate_uscc("330603", random.Random(7))
PROBLEM = "application/problem+json"

#: The user whose role may call each operation (the rest use the officer).
ROLE_FOR: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/review-queue"): "risk",
    ("POST", "/api/v1/applications/{app_id}/review"): "risk",
    ("POST", "/api/v1/applications/{app_id}/human-review"): "firm",
    ("POST", "/api/v1/applications/{app_id}/accept"): "firm",
    ("POST", "/api/v1/lines/{line_id}/drawdowns"): "firm",
    ("POST", "/api/v1/lines/{line_id}/freeze"): "risk",
    ("POST", "/api/v1/lines/{line_id}/unfreeze"): "risk",
    ("POST", "/api/v1/lines/{line_id}/reduce"): "risk",
    ("GET", "/api/v1/approvals"): "ops",
    ("POST", "/api/v1/approvals/{request_id}/approve"): "ops",
    ("POST", "/api/v1/approvals/{request_id}/reject"): "ops",
    ("POST", "/api/v1/approvals/{request_id}/cancel"): "firm",
    ("POST", "/api/v1/loans/{loan_id}/write-off"): "risk",
    ("POST", "/api/v1/loans/{loan_id}/reversals"): "risk",
    ("POST", "/api/v1/loans/{loan_id}/back-valued-receipts"): "risk",
    ("POST", "/api/v1/loans/{loan_id}/prepayment-requests"): "firm",
    ("POST", "/api/v1/admin/eod"): "ops",
    ("POST", "/api/v1/payments/statements"): "ops",
    ("POST", "/api/v1/payments/auto-debit"): "ops",
    ("POST", "/api/v1/payments/auto-debit/{batch_id}/settle"): "ops",
    ("POST", "/api/v1/payments/exceptions/{line_id}/assign"): "ops",
    ("POST", "/api/v1/payments/exceptions/{line_id}/return"): "ops",
    ("GET", "/api/v1/users"): "admin",
    ("POST", "/api/v1/users"): "admin",
    ("POST", "/api/v1/users/{name}/role"): "admin",
    ("POST", "/api/v1/users/{name}/disable"): "admin",
    ("GET", "/api/v1/outbox"): "collector",
    ("GET", "/api/v1/audit/verify"): "auditor",
}
USERS = {
    "officer": ("officer", None),
    "risk": ("risk_manager", None),
    "ops": ("operations", None),
    "firm": ("applicant", USCC),
    "admin": ("admin", None),
    "collector": ("collector", None),
    "auditor": ("auditor", None),
}

SECRET = "fuzz-only-secret-32-bytes-or-longer"
NOW = fixed(2026, 1, 5)

#: Request body strings that get the hostile values below (schemathesis binds them by name).
STRING_FIELDS = [
    "username",
    "password",
    "comment",
    "reason",
    "entry_id",
    "as_of",
    "value_date",
    "bank_ref",
    "settlement_account",
    "uscc",
    "legal_rep_id",
    "name",
    "enterprise_uscc",
    "amount.amount",
    "approved_amount.amount",
    "limit.amount",
    "principal.amount",
]
EXPLORE_SEED = os.environ.get("LOOM_FUZZ_SEED")
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": int(EXPLORE_SEED or 20260105),
        "generation": {
            "mode": "all",  # positive (schema-valid) and negative (schema-invalid) data
            "max-examples": int(os.environ.get("LOOM_FUZZ_EXAMPLES", "50")),
            "deterministic": EXPLORE_SEED is None,  # the same cases on every run
            "database": "none",  # no .hypothesis directory, nothing replayed between runs
            "dictionaries": {
                "string": {"dictionary": "hostile-strings", "probability": 0.2},
                "integer": {"dictionary": "hostile-integers", "probability": 0.2},
            },
        },
        # Values fuzzers know break things, mixed into generated strings and integers: NUL (which
        # PostgreSQL text refuses), impossible dates, numbers past 64 bits, a lone minus sign.
        "dictionaries": {
            "hostile-strings": {
                "values": ["\x00", "a\x00b", "2026-02-30", "0000-00-00", "-", "9" * 40, "💥"]
            },
            "hostile-integers": {"values": [0, -1, 2**31, 2**63, -(2**63) - 1, 10**40]},
        },
        "parameters": {
            f"body.{field}": {"dictionary": "hostile-strings", "probability": 0.2}
            for field in STRING_FIELDS
        },
        "checks": {
            # Schema-valid is not always business-valid (a USCC check character, a term the
            # product does not offer): those are 422 problems; a 400 or 5xx would still fail.
            "positive_data_acceptance": {"expected-statuses": ["2XX", 401, 403, 404, 409, 422]}
        },
    }
)


def _openapi() -> dict[str, Any]:
    """The app's OpenAPI document; building it touches no database."""
    from sqlalchemy import create_engine

    from loomcredit.entrypoints.api.app import create_app

    idle = Service(
        settings=Settings(home=Path("unused")),
        engine=create_engine("sqlite://"),
        decider=FakeDecider(),
        bank=FakeBankCore(),
        pii_key=b"p" * 32,
        audit_key=b"a" * 32,
    )
    return create_app(service=idle).openapi()


class Target:
    """An ASGI app that forwards to the app the running fixture built (set per database)."""

    app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Forward one ASGI call."""
        await self.app(scope, receive, send)


# Loaded at import: schemathesis.pytest.from_fixture (lazy loading) reads ``Function._nodeid``,
# which pytest 9 removed, so the schema is built eagerly from an app with no database, and the
# requests go through TARGET to the fixture's app on a real, seeded database.
TARGET = Target()
schema = schemathesis.openapi.from_dict(_openapi(), config=CONFIG)
schema.app = TARGET

#: Status codes seen per operation, checked when the module's database is torn down.
Seen = defaultdict[str, Counter[int]]


def token(name: str) -> str:
    """A bearer token for one of :data:`USERS`, valid on the service's fixed clock."""
    return issue_token(name, USERS[name][0], SECRET, now=NOW, ttl=timedelta(hours=8))


@schema.auth(refresh_interval=None)
class RoleToken:
    """Schemathesis auth provider: ``Authorization: Bearer`` for a role allowed the operation."""

    def get(self, case: Case, ctx: AuthContext) -> str:
        """A token signed with the fuzzed service's secret, valid on its fixed clock."""
        return token(ROLE_FOR.get((ctx.operation.method.upper(), ctx.operation.path), "officer"))

    def set(self, case: Case, data: str, ctx: AuthContext) -> None:
        """Send it as a header."""
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


def _seed(client: TestClient) -> None:
    """Applications in review and returned, a signed line, a loan with a receipt, a pending
    drawdown and an unmatched statement line, so small ids reach real records."""
    hdr = {name: {"Authorization": "Bearer " + token(name)} for name in USERS}

    def ok(r: Any) -> dict[str, Any]:
        assert r.status_code < 300, r.text
        out: dict[str, Any] = r.json()
        return out

    def apply(amount: str, who: str = "officer") -> int:
        body = {"uscc": USCC, "amount": {"amount": amount, "currency": "CNY"}, "term_months": 12}
        return int(ok(client.post("/api/v1/applications", json=body, headers=hdr[who]))["id"])

    def sign(app_id: int) -> int:
        body = {"settlement_account": "6222000011112222"}
        r = client.post(f"/api/v1/applications/{app_id}/accept", json=body, headers=hdr["firm"])
        return int(ok(r)["id"])

    line = sign(apply("100000.00", "firm"))  # auto-approved
    money = {"amount": {"amount": "50000.00", "currency": "CNY"}}
    req = ok(
        client.post(
            f"/api/v1/lines/{line}/drawdowns",
            json=money,
            headers={**hdr["firm"], "Idempotency-Key": "seed-1"},
        )
    )
    ok(client.post(f"/api/v1/approvals/{req['id']}/approve", json={}, headers=hdr["ops"]))
    ok(
        client.post(
            f"/api/v1/lines/{line}/drawdowns",
            json=money,
            headers={**hdr["firm"], "Idempotency-Key": "seed-2"},
        )
    )
    csv = (
        "bank_ref,value_date,account,counterparty,amount\n"
        "SEED-1,2026-01-05,6222000011112222,x,1000.00\nSEED-2,2026-01-05,1234567890,y,5.00\n"
    )
    ok(
        client.post(
            "/api/v1/payments/statements",
            content=csv.encode(),
            headers={**hdr["ops"], "Content-Type": "text/csv"},
        )
    )
    sign(apply("200000.00", "firm"))
    apply("600000.00")  # in review
    returned = apply("700000.00")
    ok(
        client.post(
            f"/api/v1/applications/{returned}/review",
            json={"verdict": "return", "comment": "more documents"},
            headers=hdr["risk"],
        )
    )


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def fuzzed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """The app on a fresh, seeded database; at the end, whatever the fuzzer did, the ledger
    balances and the audit chain verifies, and every operation called got past auth."""
    tmp = tmp_path_factory.mktemp("fuzz")
    seen: Seen = defaultdict(Counter)
    for url in database_url(request.param, tmp):
        from loomcredit.entrypoints.api.app import create_app
        from loomcredit.service_layer.user_admin import create_user

        svc = build_service(
            Settings(home=tmp), url=url, secret=SECRET, decider=FakeDecider(), bank=FakeBankCore()
        )
        svc.clock = FixedClock(NOW)
        with svc.uow() as uow:
            for name, (role, uscc) in USERS.items():
                create_user(
                    uow,
                    actor="fuzz",
                    name=name,
                    role=role,
                    password_hash=hash_password(PW),
                    enterprise=uscc,
                    now=NOW,
                )
            uow.commit()
        app = create_app(service=svc)
        app.state.fuzz_seen = seen
        with TestClient(app, raise_server_exceptions=False) as client:
            _seed(client)
        TARGET.app = app
        yield app
        TARGET.app = None
        with svc.uow() as uow:
            off = sum(m.minor for m in uow.ledger.trial_balance().values())
            chain = audit_admin.verify(uow, None, svc.audit_key)
        svc.engine.dispose()
        assert off == 0, f"after fuzzing, the ledger is off by {off} fen"
        assert chain.ok, (
            f"after fuzzing, the audit chain fails at {chain.first_bad}: {chain.reason}"
        )
    stuck = {op: dict(codes) for op, codes in seen.items() if set(codes) <= {401, 403}}
    assert not stuck, f"never got past authentication: {stuck}"


@schema.parametrize()
def test_no_5xx_and_errors_are_problem_json(case: Case, fuzzed: Any) -> None:
    """Any request, valid or not, gets no 5xx; every error is problem+json with a detail."""
    response = case.call()
    fuzzed.state.fuzz_seen[case.operation.label][response.status_code] += 1
    case.validate_response(response)  # reports a 5xx with a curl line to reproduce it
    assert response.status_code < 500, (response.status_code, response.text[:300])
    if response.status_code >= 400:
        ctype = response.headers.get("content-type", [""])[0]
        assert ctype.startswith(PROBLEM), (response.status_code, ctype, response.text[:300])
        body = response.json()
        assert body["title"], body
        assert body["detail"], body
        assert body["status"] == response.status_code, body
