"""End to end through HTTP: application to closed loan, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

with warnings.catch_warnings():
    # starlette 1.x warns that its TestClient prefers httpx2 (not in the stack); httpx works.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from tests.lending_fixtures import FixedClock, database_url, fixed

from loomcredit.bootstrap.service import add_user, build_service
from loomcredit.config import Settings
from loomcredit.domain.identity import generate_uscc

pytestmark = pytest.mark.e2e
PW = "secret-pass-1"
USCC = generate_uscc("330603", random.Random(7))
OTHER = generate_uscc("330603", random.Random(8))


@pytest.fixture(params=["sqlite", "postgresql"])
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[TestClient, FixedClock]]:
    """A client on a fresh, migrated database with one user per role."""
    for url in database_url(request.param, tmp_path):
        from loomcredit.entrypoints.api.app import create_app

        svc = build_service(Settings(home=tmp_path), url=url)
        clock = FixedClock(fixed(2026, 1, 5))
        svc.clock = clock
        for role in ("officer", "reviewer", "risk_manager", "collector", "auditor", "admin"):
            add_user(svc, role, role, PW)
        add_user(svc, "officer2", "officer", PW)
        add_user(svc, "firm", "applicant", PW, USCC)
        add_user(svc, "otherfirm", "applicant", PW, OTHER)
        with TestClient(create_app(service=svc), raise_server_exceptions=False) as client:
            yield client, clock
        svc.engine.dispose()


def login(client: TestClient, name: str) -> dict[str, str]:
    """Bearer header for a user."""
    r = client.post("/api/v1/auth/token", json={"username": name, "password": PW})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def money(text: str) -> dict[str, str]:
    """API money."""
    return {"amount": text, "currency": "CNY"}


def test_application_to_closed_loan(api: tuple[TestClient, FixedClock]) -> None:
    """A reviewed application is accepted, disbursed once, repaid early in full, closes balanced."""
    client, _clock = api
    officer, reviewer, firm = (
        login(client, "officer"),
        login(client, "reviewer"),
        login(client, "firm"),
    )
    body = {"uscc": USCC, "amount": money("600000.00"), "term_months": 12, "method": "annuity"}
    r = client.post("/api/v1/applications", json=body, headers=officer)
    assert r.status_code == 201, r.text
    app = r.json()
    assert app["status"] == "in_review"
    assert app["amount"] == money("600000.00")
    assert app["decision"]["band"] == "review"
    # maker-checker: the officer who created it cannot approve (and has no review right)
    assert (
        client.post(
            f"/api/v1/applications/{app['id']}/review", json={"verdict": "approve"}, headers=officer
        ).status_code
        == 403
    )
    queue = client.get("/api/v1/review-queue", headers=reviewer).json()
    assert [a["id"] for a in queue] == [app["id"]]
    r = client.post(
        f"/api/v1/applications/{app['id']}/review",
        json={"verdict": "approve", "comment": "ok"},
        headers=reviewer,
    )
    assert r.status_code == 200
    assert r.json()["status"] == "approved"
    c = client.get(f"/api/v1/applications/{app['id']}/contract", headers=firm).json()
    assert c["annual_rate_percent"] == "4.50%"
    assert c["penalty_rate_percent"] == "6.75%"
    assert len(c["schedule"]) == 12
    assert c["allocation_order"]["components"][-1] == "principal"
    assert (
        client.post(f"/api/v1/applications/{app['id']}/accept", json={}, headers=firm).status_code
        == 200
    )
    r1 = client.post(
        f"/api/v1/applications/{app['id']}/disburse",
        json={"as_of": "2026-01-05"},
        headers={**officer, "Idempotency-Key": "d-1"},
    )
    r2 = client.post(
        f"/api/v1/applications/{app['id']}/disburse",
        json={"as_of": "2026-01-05"},
        headers={**officer, "Idempotency-Key": "d-1"},
    )
    assert r1.status_code == 201
    assert r2.status_code == 201
    assert r1.json()["id"] == r2.json()["id"]
    loan_id = r1.json()["id"]
    loan = client.get(f"/api/v1/loans/{loan_id}", headers=firm).json()
    first = loan["installments"][0]
    assert first["due_on"] == "2026-02-05"
    # pay the first instalment on time, twice with the same key: applied once
    pay = {
        "amount": money(_sum(first["principal"]["amount"], first["interest"]["amount"])),
        "received_on": "2026-02-05",
    }
    for _ in range(2):
        r = client.post(
            f"/api/v1/loans/{loan_id}/repayments",
            json=pay,
            headers={**firm, "Idempotency-Key": "p-1"},
        )
        assert r.status_code == 201, r.text
    loan = client.get(f"/api/v1/loans/{loan_id}", headers=firm).json()
    outstanding = loan["outstanding"]["amount"]
    assert outstanding == _sum("600000.00", "-" + first["principal"]["amount"])
    # early repayment of everything, the interest on it from the last due date (15 days at 4.5 %,
    # ACT/360, rounded half up) and 10 yuan more: loan closes, 10.00 held in suspense
    from decimal import ROUND_HALF_UP, Decimal

    to_date = (Decimal(outstanding) * Decimal("0.045") * 15 / 360).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )
    quote = client.get(f"/api/v1/loans/{loan_id}/payoff?on=2026-02-20", headers=firm).json()
    assert quote["interest_to_date"] == money(str(to_date))
    assert quote["principal_not_due"] == money(outstanding)
    assert quote["payoff"] == money(_sum(outstanding, str(to_date)))
    other = login(client, "otherfirm")
    assert client.get(f"/api/v1/loans/{loan_id}/payoff", headers=other).status_code == 403
    r = client.post(
        f"/api/v1/loans/{loan_id}/repayments",
        json={
            "amount": money(_sum(quote["payoff"]["amount"], "10.00")),
            "received_on": "2026-02-20",
            "early": True,
        },
        headers={**firm, "Idempotency-Key": "p-2"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["loan_status"] == "closed"
    assert r.json()["interest"] == money(str(to_date))
    assert r.json()["suspense"] == money("10.00")
    tb = client.get("/api/v1/ledger/trial-balance", headers=officer).json()
    assert tb["balanced"]
    assert tb["accounts"]["LOAN_PRINCIPAL"] == money("0.00")
    assert tb["accounts"]["SUSPENSE"] == money("-10.00")
    audit = client.get("/api/v1/audit/verify", headers=login(client, "auditor")).json()
    assert audit["ok"]
    assert audit["records"] >= 8


def _sum(a: str, b: str) -> str:
    """Add two decimal strings exactly."""
    from decimal import Decimal

    return str(Decimal(a) + Decimal(b))


def test_bad_requests_are_4xx_problem_json(api: tuple[TestClient, FixedClock]) -> None:
    """Malformed bodies, unknown ids, bad tokens and bad money are 4xx problem+json, never 500."""
    client, _ = api
    officer = login(client, "officer")
    cases = [
        client.post(
            "/api/v1/applications",
            content=b"{not json",
            headers={**officer, "Content-Type": "application/json"},
        ),
        client.post(
            "/api/v1/applications",
            json={"uscc": USCC, "amount": money("1.001"), "term_months": 12},
            headers=officer,
        ),
        client.post(
            "/api/v1/applications",
            json={"uscc": "91330603XXXXXXXXXX", "amount": money("100.00"), "term_months": 12},
            headers=officer,
        ),
        client.get("/api/v1/applications/999999", headers=officer),
        client.get("/api/v1/loans", headers={"Authorization": "Bearer nonsense"}),
        client.get("/api/v1/loans"),
        client.post("/api/v1/applications/1/disburse", json={}, headers=officer),
    ]
    for r in cases:
        assert 400 <= r.status_code < 500, (r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["detail"]


def test_applicant_sees_only_its_enterprise(api: tuple[TestClient, FixedClock]) -> None:
    """An applicant cannot apply for, read or accept another enterprise's application."""
    client, _ = api
    firm, other = login(client, "firm"), login(client, "otherfirm")
    body = {"uscc": USCC, "amount": money("100000.00"), "term_months": 6, "legal_rep_id": None}
    r = client.post("/api/v1/applications", json=body, headers=firm)
    assert r.status_code == 201
    assert r.json()["status"] == "approved"
    app_id = r.json()["id"]
    assert client.get(f"/api/v1/applications/{app_id}", headers=other).status_code == 403
    assert (
        client.post(f"/api/v1/applications/{app_id}/accept", json={}, headers=other).status_code
        == 403
    )
    assert client.post("/api/v1/applications", json=body, headers=other).status_code == 403
    assert [a["id"] for a in client.get("/api/v1/applications", headers=other).json()] == []


def test_eod_is_idempotent_over_http(api: tuple[TestClient, FixedClock]) -> None:
    """A second end of day for the same date changes nothing."""
    client, _ = api
    admin = login(client, "admin")
    first = client.post("/api/v1/admin/eod", json={"as_of": "2026-01-06"}, headers=admin).json()
    again = client.post("/api/v1/admin/eod", json={"as_of": "2026-01-06"}, headers=admin).json()
    assert "loans" in first
    assert again == {"already": True}
    assert (
        client.post(
            "/api/v1/admin/eod", json={"as_of": "2026-01-07"}, headers=login(client, "officer")
        ).status_code
        == 403
    )


# (method, path, body, role names allowed) — the role matrix over HTTP, from DESIGN.md §5.
ENDPOINTS = [
    ("POST", "/api/v1/applications", "apply", {"officer", "firm"}),
    (
        "GET",
        "/api/v1/applications",
        None,
        {"officer", "reviewer", "risk_manager", "auditor", "firm"},
    ),
    ("GET", "/api/v1/review-queue", None, {"reviewer", "risk_manager"}),
    (
        "GET",
        "/api/v1/loans",
        None,
        {"officer", "reviewer", "risk_manager", "collector", "auditor", "firm"},
    ),
    ("GET", "/api/v1/outbox", None, {"collector", "auditor"}),
    ("GET", "/api/v1/audit/verify", None, {"auditor", "admin"}),
    (
        "GET",
        "/api/v1/ledger/trial-balance",
        None,
        {"officer", "risk_manager", "collector", "auditor", "admin"},
    ),
    ("POST", "/api/v1/admin/eod", {"as_of": "2026-01-06"}, {"admin"}),
]
ROLES = ["officer", "reviewer", "risk_manager", "collector", "auditor", "admin", "firm"]


def test_role_matrix_over_http(api: tuple[TestClient, FixedClock]) -> None:
    """Every role reaches exactly the endpoints it may; the rest answer 403."""
    client, _ = api
    apply_body = {"uscc": USCC, "amount": money("1000.00"), "term_months": 3}
    for name in ROLES:
        headers = login(client, name)
        for method, path, body, allowed in ENDPOINTS:
            payload = apply_body if body == "apply" else body
            r = client.request(method, path, json=payload, headers=headers)
            if name in allowed:
                assert r.status_code < 400, (name, path, r.status_code, r.text)
            else:
                assert r.status_code == 403, (name, path, r.status_code)


def test_reviewer_approves_at_most_the_limit_and_that_is_lent(
    api: tuple[TestClient, FixedClock],
) -> None:
    """Asked ¥2.5m (review): approving more than asked is refused; an approved ¥400k is lent."""
    client, _ = api
    officer, risk, firm = (
        login(client, "officer"),
        login(client, "risk_manager"),
        login(client, "firm"),
    )
    body = {"uscc": USCC, "amount": money("2500000.00"), "term_months": 12}
    app = client.post("/api/v1/applications", json=body, headers=officer).json()
    assert app["status"] == "in_review"
    assert app["approved"] is None
    url = f"/api/v1/applications/{app['id']}/review"
    too_much = client.post(
        url, json={"verdict": "approve", "approved_amount": money("3000000.00")}, headers=risk
    )
    assert too_much.status_code == 422
    assert "no larger than" in too_much.json()["detail"]
    ok = client.post(
        url, json={"verdict": "approve", "approved_amount": money("400000.00")}, headers=risk
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["approved"] == money("400000.00")
    contract = client.get(f"/api/v1/applications/{app['id']}/contract", headers=firm).json()
    assert (contract["amount"], contract["amount_asked"]) == (
        money("400000.00"),
        money("2500000.00"),
    )
    client.post(f"/api/v1/applications/{app['id']}/accept", json={}, headers=firm)
    loan = client.post(
        f"/api/v1/applications/{app['id']}/disburse",
        json={"as_of": "2026-01-05"},
        headers={**officer, "Idempotency-Key": "lim-1"},
    ).json()
    assert loan["principal"] == money("400000.00")


def test_malformed_json_says_it_is_not_json(api: tuple[TestClient, FixedClock]) -> None:
    """A body that is not JSON gets a 422 saying so and where, not a bare parser code."""
    client, _ = api
    r = client.post(
        "/api/v1/applications",
        content=b'{"uscc": ',
        headers={**login(client, "officer"), "Content-Type": "application/json"},
    )
    assert r.status_code == 422
    assert "not valid JSON" in r.json()["detail"]


def test_return_and_resubmit_over_http(api: tuple[TestClient, FixedClock]) -> None:
    """A reviewer returns an application; the officer resubmits a smaller amount; it is decided
    again (auto-approved under the fallback's ¥500k line)."""
    client, _ = api
    officer, reviewer = login(client, "officer"), login(client, "reviewer")
    body = {"uscc": USCC, "amount": money("900000.00"), "term_months": 12}
    app = client.post("/api/v1/applications", json=body, headers=officer).json()
    r = client.post(
        f"/api/v1/applications/{app['id']}/review",
        json={"verdict": "return", "comment": "金额过高 amount too high"},
        headers=reviewer,
    )
    assert r.json()["status"] == "returned"
    r = client.post(
        f"/api/v1/applications/{app['id']}/resubmit",
        json={"amount": money("300000.00")},
        headers=reviewer,
    )
    assert r.status_code == 403
    r = client.post(
        f"/api/v1/applications/{app['id']}/resubmit",
        json={"amount": money("300000.00")},
        headers=officer,
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["approved"]) == ("approved", money("300000.00"))


def test_work_is_booked_on_the_business_date_that_follows_end_of_day(
    api: tuple[TestClient, FixedClock],
) -> None:
    """营业日期: without an as_of, an application is decided on the day after the last EOD, as in a
    core banking system; before any EOD, and never later than, the calendar day."""
    client, clock = api
    officer, admin = login(client, "officer"), login(client, "admin")
    body = {"uscc": USCC, "amount": money("200000.00"), "term_months": 12, "method": "annuity"}
    first = client.post("/api/v1/applications", json=body, headers=officer)
    assert first.status_code == 201, first.text
    assert first.json()["as_of"] == "2026-01-05"  # no EOD yet: the clock's day
    clock.at = fixed(2026, 11, 29)
    officer, admin = login(client, "officer"), login(client, "admin")  # tokens expire in 8 h
    for day in ("2026-01-05", "2026-01-06"):
        assert client.post("/api/v1/admin/eod", json={"as_of": day}, headers=admin).is_success
    later = client.post("/api/v1/applications", json=body, headers=officer)
    assert later.status_code == 201, later.text
    assert later.json()["as_of"] == "2026-01-07"
    clock.at = fixed(2026, 1, 6)  # EOD for today already ran: the business date stays today
    officer = login(client, "officer")
    again = client.post("/api/v1/applications", json=body, headers=officer)
    assert again.json()["as_of"] == "2026-01-06"


def test_a_book_behind_by_more_than_a_year_still_catches_up(
    api: tuple[TestClient, FixedClock],
) -> None:
    """The year-typo guard applies to a first end of day, not to a book whose end of day has
    fallen behind; a date before the book's first business date is refused."""
    client, clock = api
    admin = login(client, "admin")
    assert client.post("/api/v1/admin/eod", json={"as_of": "2026-01-05"}, headers=admin).is_success
    clock.at = fixed(2027, 2, 1)
    admin = login(client, "admin")
    r = client.post("/api/v1/admin/eod", json={"as_of": "2026-01-08"}, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["days_run"] == 3
    r = client.post("/api/v1/admin/eod", json={"as_of": "2026-01-01"}, headers=admin)
    assert r.status_code == 422
    assert "first ran for 2026-01-05" in r.json()["detail"]
