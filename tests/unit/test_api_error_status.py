"""Invalid values are 422 over HTTP: a term the product does not offer, a date before the LPR."""

from __future__ import annotations

import warnings
from datetime import UTC, date, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from fastapi import FastAPI

with warnings.catch_warnings():
    # starlette 1.x warns that its TestClient prefers httpx2 (not in the stack); httpx works.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from loomcredit.domain.collection_policy import DEFAULT_POLICY
from loomcredit.domain.decision.pricing import LprQuote, LprTable
from loomcredit.entrypoints.api import deps, errors, routes_admin, routes_payments
from loomcredit.entrypoints.api.deps import IdempotencyKey
from loomcredit.entrypoints.api.schemas import ApplicationIn, AsOfIn, AssignIn, Login, ReviewIn
from loomcredit.service_layer.decisioning import InvalidApplicationError
from loomcredit.service_layer.users import Role, User


def client() -> TestClient:
    """A bare app with Loom's error mapping and two routes that raise."""
    app = FastAPI()
    errors.install(app)

    @app.get("/term")
    def term() -> None:
        raise InvalidApplicationError("term 7 months is not offered; choose one of (3, 6, 12)")

    @app.get("/lpr")
    def lpr() -> None:
        table = LprTable((LprQuote(date(2019, 8, 20), Decimal("0.0425"), Decimal("0.0485")),))
        table.quote_on(date(1990, 1, 1))

    return TestClient(app)


def test_term_not_offered_is_422_naming_the_terms() -> None:
    """Was 400 (LoomError fallback)."""
    r = client().get("/term")
    assert r.status_code == 422
    assert "choose one of" in r.json()["detail"]


def test_date_before_the_lpr_table_is_422_naming_the_first_date() -> None:
    """Was 404 (NotFound)."""
    r = client().get("/lpr")
    assert r.status_code == 422
    assert "starts on 2019-08-20" in r.json()["detail"]


# Found by the schemathesis fuzzer (tests/e2e/test_api_fuzz.py), issue 7.


def bodies() -> TestClient:
    """A bare app with Loom's error mapping, the request models, and GET + POST on one path."""
    app = FastAPI()
    errors.install(app)

    @app.post("/review")
    def review(body: ReviewIn, key: IdempotencyKey) -> dict[str, str]:
        return {"comment": body.comment, "key": key}

    @app.post("/login")
    def login(body: Login) -> dict[str, str]:
        return {"username": body.username}

    @app.post("/eod")
    def as_of(body: AsOfIn) -> dict[str, str | None]:
        return {"as_of": body.as_of.isoformat() if body.as_of else None}

    @app.post("/assign")
    def assign(body: AssignIn) -> dict[str, int]:
        return {"loan_id": body.loan_id}

    @app.post("/apply")
    def apply(body: ApplicationIn) -> dict[str, int]:
        return {"term_months": body.term_months}

    @app.get("/things")
    def things() -> list[str]:
        return []

    @app.post("/things")
    def add_thing() -> None:
        return None

    return TestClient(app)


def _problem(r: Any, status: int) -> str:
    """The detail of a problem+json response with the given status."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    detail: str = r.json()["detail"]
    return detail


def test_nul_in_free_text_is_422_naming_the_field() -> None:
    """Was a 500 on PostgreSQL (text cannot hold U+0000): a comment, a user name, a header."""
    c = bodies()
    r = c.post(
        "/review",
        json={"verdict": "approve", "comment": "ok\x00"},
        headers={"Idempotency-Key": "k"},
    )
    assert "comment: must not contain the NUL character" in _problem(r, 422)
    r = c.post("/login", json={"username": "a\x00", "password": "x"})
    assert "username: must not contain the NUL character" in _problem(r, 422)
    r = c.post("/review", json={"verdict": "approve"}, headers={"Idempotency-Key": "k\x00"})
    assert "Idempotency-Key: must not contain the NUL character" in _problem(r, 422)
    ok = c.post(
        "/review", json={"verdict": "approve", "comment": "好"}, headers={"Idempotency-Key": "k"}
    )
    assert ok.json() == {"comment": "好", "key": "k"}


def test_a_number_is_not_a_date() -> None:
    """``{"as_of": 0}`` was read as 1970-01-01 (and end of day ran for it): a date is YYYY-MM-DD."""
    c = bodies()
    for bad in (0, 1767571200, "1767571200", "2026-01-05T00:00:00"):
        assert "as_of" in _problem(c.post("/eod", json={"as_of": bad}), 422)
    assert c.post("/eod", json={"as_of": "2026-01-05"}).json() == {"as_of": "2026-01-05"}


def test_numbers_are_not_coerced_from_strings_or_floats() -> None:
    """The schema says integer: ``"12"`` or ``12.0`` is a 422, not silently accepted."""
    c = bodies()
    assert "loan_id" in _problem(c.post("/assign", json={"loan_id": "12"}), 422)
    assert "loan_id" in _problem(c.post("/assign", json={"loan_id": 12.0}), 422)
    assert c.post("/assign", json={"loan_id": 12}).json() == {"loan_id": 12}
    body = {"uscc": "9" * 18, "amount": {"amount": "1.00", "currency": "CNY"}}
    assert "term_months" in _problem(c.post("/apply", json={**body, "term_months": "12"}), 422)
    assert c.post("/apply", json={**body, "term_months": 12}).json() == {"term_months": 12}


def test_405_lists_every_method_of_the_path_in_allow() -> None:
    """RFC 9110: a 405 carries ``Allow``; it was dropped, and Starlette names only one route's."""
    r = bodies().delete("/things")
    _problem(r, 405)
    assert {m.strip() for m in r.headers["allow"].split(",")} >= {"GET", "POST"}


def test_a_body_that_is_not_utf8_is_400_saying_so() -> None:
    """FastAPI said only "There was an error parsing the body"."""
    r = bodies().post(
        "/eod", content=b'{"as_of": "\xff"}', headers={"Content-Type": "application/json"}
    )
    assert "not UTF-8" in _problem(r, 400)


class _Book:
    """Just what end of day reads before it runs anything."""

    def __init__(self, last: date | None) -> None:
        self.last = last

    def last_eod_date(self) -> date | None:
        return self.last

    def first_eod_date(self) -> date | None:
        return self.last


class _Uow:
    def __init__(self, last: date | None) -> None:
        self.book = _Book(last)


def eod_client(last: date | None, today: date = date(2026, 1, 5)) -> TestClient:
    """The real admin router, signed in as operations on ``today``, end of day last run for
    ``last``."""
    app = FastAPI()
    errors.install(app)
    app.include_router(routes_admin.router)
    app.dependency_overrides[deps.get_service] = lambda: SimpleNamespace(
        clock=lambda: datetime(today.year, today.month, today.day, 12, tzinfo=UTC),
        notice_policy=lambda: None,
        collections_policy=lambda: DEFAULT_POLICY,
    )
    app.dependency_overrides[deps.get_uow] = lambda: _Uow(last)
    app.dependency_overrides[deps.current_user] = lambda: User("ops", Role.OPERATIONS)
    return TestClient(app)


def test_end_of_day_far_from_today_is_422_asking_to_check_the_year() -> None:
    """A typo such as 1026 moved the business date a thousand years back; 9999 ran for ever."""
    for day in ("1026-01-05", "2024-12-31"):
        r = eod_client(None).post("/api/v1/admin/eod", json={"as_of": day})
        assert "check the year" in _problem(r, 422)
    r = eod_client(None).post("/api/v1/admin/eod", json={"as_of": "9999-12-31"})
    assert "after today" in _problem(r, 422)


def test_end_of_day_catches_up_a_year_at_most_per_request() -> None:
    """From 2025-09-01, 2026-09-03 is 367 days of catch-up: run up to 2026-09-02 first."""
    client = eod_client(date(2025, 9, 1), today=date(2026, 12, 1))
    r = client.post("/api/v1/admin/eod", json={"as_of": "2026-09-03"})
    assert "run it for 2026-09-02 first" in _problem(r, 422)


def signed_in(router: Any, user: User) -> TestClient:
    """A real router, signed in as ``user`` on 2026-01-05, on a store it must not reach."""
    app = FastAPI()
    errors.install(app)
    app.include_router(router)
    app.dependency_overrides[deps.get_service] = lambda: SimpleNamespace(
        clock=lambda: datetime(2026, 1, 5, 12, tzinfo=UTC)
    )
    app.dependency_overrides[deps.get_uow] = lambda: _Uow(None)
    app.dependency_overrides[deps.current_user] = lambda: user
    return TestClient(app)


# Found by the fuzzer on the new API (a 500 each): pinned here.


def test_a_grant_for_a_user_name_the_rules_refuse_is_422_saying_what_a_name_is() -> None:
    """``POST /users/{name}/role`` takes any path text; a name with a space was a 500."""
    c = signed_in(routes_admin.router, User("adm", Role.ADMIN))
    r = c.post("/api/v1/users/bad name/role", json={"role": "officer", "reason": "moved"})
    assert "a user name is 1-64 letters" in _problem(r, 422)


def test_a_new_applicant_user_without_an_enterprise_is_422() -> None:
    """An applicant user acts for one enterprise: a grant without its USCC was a 500."""
    c = signed_in(routes_admin.router, User("adm", Role.ADMIN))
    body = {"name": "firm2", "role": "applicant", "password": "long-enough-1", "reason": "new"}
    assert "needs" in _problem(c.post("/api/v1/users", json=body), 422)


def test_a_malformed_bank_statement_is_422_naming_every_bad_row() -> None:
    """A malformed bank statement is refused whole, each bad row named (was a 500)."""
    c = signed_in(routes_payments.router, User("ops", Role.OPERATIONS))
    csv = (
        "bank_ref,value_date,account,counterparty,amount\n"
        "B-1,2026-13-01,6222000011112222,x,1.00\n"
        "B-2,2026-01-05,6222000011112222,x,abc\n"
    )
    r = c.post(
        "/api/v1/payments/statements", content=csv.encode(), headers={"Content-Type": "text/csv"}
    )
    detail = _problem(r, 422)
    assert r.json()["type"].endswith("/invalid-file")
    assert "row 2" in detail
    assert "row 3" in detail
