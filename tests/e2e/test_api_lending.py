"""End to end through HTTP, on SQLite and PostgreSQL: application → review → signing (credit line)
→ drawdown approved by a second person → money from the bank (auto-debit, statement) → early
repayment → closed loan, balanced; and the rules a bank's users meet on the way."""

from __future__ import annotations

import random
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

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
from loomcredit.service_layer.user_admin import create_user

pytestmark = pytest.mark.e2e
PW = "secret-pass-1"
USCC = generate_uscc("330603", random.Random(7))
OTHER = generate_uscc("330603", random.Random(8))
ACCOUNT = "6222000011112222"
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

    def login(self, name: str) -> dict[str, str]:
        r = self.client.post("/api/v1/auth/token", json={"username": name, "password": PW})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.fixture(params=["sqlite", "postgresql"])
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    """A client on a fresh, migrated database with users of every role."""
    for url in database_url(request.param, tmp_path):
        from loomcredit.entrypoints.api.app import create_app

        bank = FakeBankCore()
        svc = build_service(Settings(home=tmp_path), url=url, decider=FakeDecider(), bank=bank)
        clock = FixedClock(fixed(2026, 1, 5))
        svc.clock = clock
        digest = hash_password(PW)
        with svc.uow() as uow:
            for name in STAFF:
                role = name.rstrip("2")
                create_user(
                    uow,
                    actor="test",
                    name=name,
                    role=role,
                    password_hash=digest,
                    enterprise=None,
                    now=clock(),
                )
            for name, uscc in (("firm", USCC), ("otherfirm", OTHER)):
                create_user(
                    uow,
                    actor="test",
                    name=name,
                    role="applicant",
                    password_hash=digest,
                    enterprise=uscc,
                    now=clock(),
                )
            uow.commit()
        with TestClient(create_app(service=svc), raise_server_exceptions=False) as client:
            yield Api(client, clock, svc, bank)
        svc.engine.dispose()


def money(text: str) -> dict[str, str]:
    """API money."""
    return {"amount": text, "currency": "CNY"}


def _sum(*amounts: str) -> str:
    return str(sum((Decimal(a) for a in amounts), Decimal("0.00")))


def _line(a: Api, amount: str = "300000.00", *, by: str = "officer") -> tuple[int, int]:
    """An approved, signed application: (application id, line id)."""
    c, firm = a.client, a.login("firm")
    body = {"uscc": USCC, "amount": money(amount), "term_months": 12}
    app = c.post("/api/v1/applications", json=body, headers=a.login(by)).json()
    r = c.post(
        f"/api/v1/applications/{app['id']}/accept",
        json={"settlement_account": ACCOUNT},
        headers=firm,
    )
    assert r.status_code == 201, r.text
    return app["id"], r.json()["id"]


def _draw(a: Api, line_id: int, amount: str, key: str) -> int:
    c = a.client
    r = c.post(
        f"/api/v1/lines/{line_id}/drawdowns",
        json={"amount": money(amount)},
        headers={**a.login("firm"), "Idempotency-Key": key},
    )
    assert r.status_code == 202, r.text
    r = c.post(
        f"/api/v1/approvals/{r.json()['id']}/approve", json={}, headers=a.login("operations")
    )
    assert r.status_code == 200, r.text
    return int(r.json()["result"].removeprefix("loan:"))


def _eod(a: Api, day: str) -> None:
    y, m, d = map(int, day.split("-"))
    a.clock.at = fixed(y, m, d)
    r = a.client.post("/api/v1/admin/eod", json={"as_of": day}, headers=a.login("operations"))
    assert r.status_code == 200, r.text


def _csv(*rows: tuple[str, str, str, str]) -> bytes:
    lines = ["bank_ref,value_date,account,counterparty,amount,memo"]
    lines += [
        f"{ref},{day},{account},绍兴某纺织有限公司,{amount},{memo}"
        for ref, day, account, amount, memo in [(*r[:4], r[4] if len(r) > 4 else "") for r in rows]
    ]
    return ("\n".join(lines) + "\n").encode()


def test_application_to_closed_loan(api: Api) -> None:
    """The whole chain over HTTP, every money move from the bank, four eyes on the payout."""
    c = api.client
    officer, reviewer, firm, ops = (
        api.login(n) for n in ("officer", "reviewer", "firm", "operations")
    )
    body = {"uscc": USCC, "amount": money("600000.00"), "term_months": 12, "method": "annuity"}
    app = c.post("/api/v1/applications", json=body, headers=officer).json()
    assert (app["status"], app["decision"]["band"]) == ("in_review", "review")
    url = f"/api/v1/applications/{app['id']}/review"
    assert c.post(url, json={"verdict": "approve"}, headers=officer).status_code == 403
    assert [a["id"] for a in c.get("/api/v1/review-queue", headers=reviewer).json()] == [app["id"]]
    assert (
        c.post(url, json={"verdict": "approve", "comment": "ok"}, headers=reviewer).json()["status"]
        == "approved"
    )
    contract = c.get(f"/api/v1/applications/{app['id']}/contract", headers=firm).json()
    assert (contract["annual_rate_percent"], contract["penalty_rate_percent"]) == ("4.50%", "6.75%")
    assert len(contract["schedule"]) == 12
    line = c.post(
        f"/api/v1/applications/{app['id']}/accept",
        json={"settlement_account": "6222 0000 1111 2222"},
        headers=firm,
    ).json()
    assert (line["limit"], line["available"], line["kind"]) == (
        money("600000.00"),
        money("600000.00"),
        "one_off",
    )
    drawdown = {"amount": money("600000.00")}
    r1 = c.post(
        f"/api/v1/lines/{line['id']}/drawdowns",
        json=drawdown,
        headers={**firm, "Idempotency-Key": "d-1"},
    )
    r2 = c.post(
        f"/api/v1/lines/{line['id']}/drawdowns",
        json=drawdown,
        headers={**firm, "Idempotency-Key": "d-1"},
    )
    assert r1.status_code == r2.status_code == 202
    assert r1.json()["id"] == r2.json()["id"]
    req = r1.json()["id"]
    assert c.get("/api/v1/loans", headers=firm).json() == []  # nothing paid out before approval
    assert c.post(f"/api/v1/approvals/{req}/approve", json={}, headers=firm).status_code == 403
    ok = c.post(f"/api/v1/approvals/{req}/approve", json={"comment": "放款审核"}, headers=ops)
    assert ok.status_code == 200, ok.text
    assert c.post(f"/api/v1/approvals/{req}/approve", json={}, headers=ops).status_code == 409
    loan_id = int(ok.json()["result"].removeprefix("loan:"))
    loan = c.get(f"/api/v1/loans/{loan_id}", headers=firm).json()
    first = loan["installments"][0]
    assert (loan["start_date"], first["due_on"]) == ("2026-01-05", "2026-02-05")
    # the first instalment by auto-debit on its due date
    for day in range(5, 32):
        _eod(api, f"2026-01-{day:02d}")
    for day in range(1, 5):
        _eod(api, f"2026-02-{day:02d}")
    api.clock.at = fixed(2026, 2, 5)
    ops = api.login("operations")
    run = c.post("/api/v1/payments/auto-debit", headers=ops).json()
    assert run["total"] == money(_sum(first["principal"]["amount"], first["interest"]["amount"]))
    api.bank.pay_all(run["batch_id"])
    settled = c.post(f"/api/v1/payments/auto-debit/{run['batch_id']}/settle", headers=ops).json()
    assert len(settled["paid"]) == 1
    again = c.post(f"/api/v1/payments/auto-debit/{run['batch_id']}/settle", headers=ops).json()
    assert (again["paid"], again["skipped"]) == ([], 1)
    loan = c.get(f"/api/v1/loans/{loan_id}", headers=api.login("firm")).json()
    outstanding = loan["outstanding"]["amount"]
    assert outstanding == _sum("600000.00", "-" + first["principal"]["amount"])
    # a statement: a transfer nobody can match waits for a person; the same file twice: nothing
    csv = _csv(("BANK-9", "2026-02-05", "9999888877776666", "88.00", "货款"))
    hdr = {**ops, "Content-Type": "text/csv"}
    imp = c.post("/api/v1/payments/statements?file_name=s1.csv", content=csv, headers=hdr).json()
    assert (imp["booked"], imp["unmatched"], imp["reconciliation"]["balanced"]) == (0, 1, True)
    dup = c.post("/api/v1/payments/statements?file_name=s1.csv", content=csv, headers=hdr).json()
    assert (dup["unmatched"], dup["duplicates"]) == (0, 1)
    queue = c.get("/api/v1/payments/exceptions", headers=ops).json()
    assert [(e["bank_ref"], e["outcome"]) for e in queue] == [("BANK-9", "unmatched")]
    # early repayment of everything on 2026-02-20, asked by the borrower, debited by the bank
    for day in range(5, 20):
        _eod(api, f"2026-02-{day:02d}")
    api.clock.at = fixed(2026, 2, 20)
    firm, ops = api.login("firm"), api.login("operations")
    to_date = (Decimal(outstanding) * Decimal("0.045") * 15 / 360).quantize(Decimal("0.01"))
    ask = c.post(f"/api/v1/loans/{loan_id}/prepayment-requests", json={}, headers=firm).json()
    assert ask["quote"]["interest_to_date"] == money(str(to_date))
    assert ask["quote"]["payoff"] == money(_sum(outstanding, str(to_date)))
    run = c.post("/api/v1/payments/auto-debit", headers=ops).json()
    assert [i["early"] for i in run["instructions"]] == [True]
    api.bank.pay_all(run["batch_id"])
    c.post(f"/api/v1/payments/auto-debit/{run['batch_id']}/settle", headers=ops)
    loan = c.get(f"/api/v1/loans/{loan_id}", headers=firm).json()
    assert loan["status"] == "closed"
    tb = c.get("/api/v1/ledger/trial-balance", headers=ops).json()
    assert tb["balanced"]
    assert tb["accounts"]["LOAN_PRINCIPAL"] == money("0.00")
    assert tb["accounts"]["UNIDENTIFIED"] == money("-88.00")
    audit = c.get("/api/v1/audit/verify", headers=api.login("auditor")).json()
    assert audit["ok"], audit


def test_nobody_can_post_a_repayment(api: Api) -> None:
    """The old repayment endpoint is gone: a borrower's word never books money."""
    _, line_id = _line(api)
    loan_id = _draw(api, line_id, "10000.00", "d")
    r = api.client.post(
        f"/api/v1/loans/{loan_id}/repayments",
        json={"amount": money("10.00")},
        headers=api.login("firm"),
    )
    assert r.status_code in (404, 405)
    r = api.client.post(
        "/api/v1/payments/statements",
        content=_csv(),
        headers={**api.login("firm"), "Content-Type": "text/csv"},
    )
    assert r.status_code == 403


def test_a_drawdown_beyond_the_line_is_refused_and_a_frozen_line_takes_none(api: Api) -> None:
    """409 beyond what is available; after a freeze (risk manager, with a reason) none at all."""
    c = api.client
    _, line_id = _line(api, "100000.00")
    firm, risk = api.login("firm"), api.login("risk_manager")
    big = c.post(
        f"/api/v1/lines/{line_id}/drawdowns",
        json={"amount": money("100000.01")},
        headers={**firm, "Idempotency-Key": "x1"},
    )
    assert big.status_code == 409
    assert "available" in big.json()["detail"]
    assert (
        c.post(
            f"/api/v1/lines/{line_id}/freeze", json={"reason": "x"}, headers=api.login("officer")
        ).status_code
        == 403
    )
    frozen = c.post(
        f"/api/v1/lines/{line_id}/freeze", json={"reason": "新增被执行人"}, headers=risk
    )
    assert frozen.json()["status"] == "frozen"
    r = c.post(
        f"/api/v1/lines/{line_id}/drawdowns",
        json={"amount": money("1.00")},
        headers={**firm, "Idempotency-Key": "x2"},
    )
    assert r.status_code == 409
    assert "frozen" in r.json()["detail"]


def test_bad_requests_are_4xx_problem_json(api: Api) -> None:
    """Malformed bodies, unknown ids, bad tokens, bad money and bad files are 4xx problem+json."""
    c = api.client
    officer, ops = api.login("officer"), api.login("operations")
    cases = [
        c.post(
            "/api/v1/applications",
            content=b"{not json",
            headers={**officer, "Content-Type": "application/json"},
        ),
        c.post(
            "/api/v1/applications",
            json={"uscc": USCC, "amount": money("1.001"), "term_months": 12},
            headers=officer,
        ),
        c.post(
            "/api/v1/applications",
            json={"uscc": "91330603XXXXXXXXXX", "amount": money("100.00"), "term_months": 12},
            headers=officer,
        ),
        c.get("/api/v1/applications/999999", headers=officer),
        c.get("/api/v1/loans", headers={"Authorization": "Bearer nonsense"}),
        c.get("/api/v1/loans"),
        c.post("/api/v1/lines/1/drawdowns", json={"amount": money("1.00")}, headers=officer),
        c.post(
            "/api/v1/payments/statements",
            content=b"bank_ref,value_date\nX,2026-13-01\n",
            headers={**ops, "Content-Type": "text/csv"},
        ),
        c.post("/api/v1/approvals/999/approve", json={}, headers=ops),
    ]
    for r in cases:
        assert 400 <= r.status_code < 500, (r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["detail"]


def test_applicant_sees_only_its_enterprise(api: Api) -> None:
    """An applicant cannot read or accept another's application, nor see its lines or loans."""
    c = api.client
    app_id, line_id = _line(api, "100000.00")
    _draw(api, line_id, "50000.00", "d")
    other = api.login("otherfirm")
    assert c.get(f"/api/v1/applications/{app_id}", headers=other).status_code == 403
    assert c.get(f"/api/v1/lines/{line_id}", headers=other).status_code == 403
    assert c.get("/api/v1/lines", headers=other).json() == []
    assert c.get("/api/v1/loans", headers=other).json() == []
    assert c.get("/api/v1/applications", headers=other).json() == []
    assert len(c.get("/api/v1/loans", headers=api.login("firm")).json()) == 1


def test_end_of_day_is_idempotent_and_never_runs_ahead_of_today(api: Api) -> None:
    """A second end of day for a date changes nothing; tomorrow is refused; an officer cannot."""
    c, ops = api.client, api.login("operations")
    first = c.post("/api/v1/admin/eod", json={"as_of": "2026-01-05"}, headers=ops).json()
    again = c.post("/api/v1/admin/eod", json={"as_of": "2026-01-05"}, headers=ops).json()
    assert (first["days_run"], again["already"]) == (1, True)
    ahead = c.post("/api/v1/admin/eod", json={"as_of": "2026-01-06"}, headers=ops)
    assert ahead.status_code == 422
    assert "after today" in ahead.json()["detail"]
    officer = api.login("officer")
    assert c.post("/api/v1/admin/eod", json={}, headers=officer).status_code == 403


# (method, path, body, role names allowed) — the role matrix over HTTP.
ENDPOINTS = [
    ("POST", "/api/v1/applications", "apply", {"officer", "firm"}),
    (
        "GET",
        "/api/v1/applications",
        None,
        {"officer", "reviewer", "risk_manager", "operations", "auditor", "firm"},
    ),
    ("GET", "/api/v1/review-queue", None, {"reviewer", "risk_manager"}),
    (
        "GET",
        "/api/v1/loans",
        None,
        {"officer", "reviewer", "risk_manager", "operations", "collector", "auditor", "firm"},
    ),
    ("GET", "/api/v1/outbox", None, {"operations", "collector", "auditor"}),
    ("GET", "/api/v1/audit/verify", None, {"auditor", "admin"}),
    (
        "GET",
        "/api/v1/ledger/trial-balance",
        None,
        {"officer", "risk_manager", "operations", "collector", "auditor"},
    ),
    (
        "GET",
        "/api/v1/payments/exceptions",
        None,
        {"officer", "risk_manager", "operations", "collector", "auditor"},
    ),
    ("POST", "/api/v1/payments/auto-debit", None, {"operations"}),
    ("GET", "/api/v1/users", None, {"admin"}),
    ("POST", "/api/v1/admin/eod", {"as_of": "2026-01-05"}, {"operations"}),
]
ROLES = [
    "officer",
    "reviewer",
    "risk_manager",
    "operations",
    "collector",
    "auditor",
    "admin",
    "firm",
]


def test_role_matrix_over_http(api: Api) -> None:
    """Every role reaches exactly the endpoints it may; the rest answer 403."""
    apply_body = {"uscc": USCC, "amount": money("1000.00"), "term_months": 3}
    for name in ROLES:
        headers = api.login(name)
        for method, path, body, allowed in ENDPOINTS:
            payload = apply_body if body == "apply" else body
            r = api.client.request(method, path, json=payload, headers=headers)
            if name in allowed:
                assert r.status_code < 400, (name, path, r.status_code, r.text)
            else:
                assert r.status_code == 403, (name, path, r.status_code)


def test_reviewer_approves_at_most_the_limit_and_that_is_the_line(api: Api) -> None:
    """Asked ¥2.5m: approving more than asked is refused; approved ¥400k is the line's limit and
    a drawdown schedule of it."""
    c = api.client
    officer, risk, firm = api.login("officer"), api.login("risk_manager"), api.login("firm")
    body = {"uscc": USCC, "amount": money("2500000.00"), "term_months": 12}
    app = c.post("/api/v1/applications", json=body, headers=officer).json()
    url = f"/api/v1/applications/{app['id']}/review"
    too_much = c.post(
        url, json={"verdict": "approve", "approved_amount": money("3000000.00")}, headers=risk
    )
    assert too_much.status_code == 422
    assert "no larger than" in too_much.json()["detail"]
    ok = c.post(
        url, json={"verdict": "approve", "approved_amount": money("400000.00")}, headers=risk
    )
    assert ok.json()["approved"] == money("400000.00")
    line = c.post(
        f"/api/v1/applications/{app['id']}/accept",
        json={"settlement_account": ACCOUNT},
        headers=firm,
    ).json()
    assert line["limit"] == money("400000.00")
    plan = c.get(f"/api/v1/lines/{line['id']}/plan?amount=400000.00", headers=firm).json()
    assert sum(Decimal(i["principal"]["amount"]) for i in plan["schedule"]) == Decimal("400000")


def test_return_and_resubmit_over_http(api: Api) -> None:
    """Returned; the reviewer cannot resubmit; the officer resubmits smaller; decided again."""
    c = api.client
    officer, reviewer = api.login("officer"), api.login("reviewer")
    body = {"uscc": USCC, "amount": money("900000.00"), "term_months": 12}
    app = c.post("/api/v1/applications", json=body, headers=officer).json()
    r = c.post(
        f"/api/v1/applications/{app['id']}/review",
        json={"verdict": "return", "comment": "金额过高"},
        headers=reviewer,
    )
    assert r.json()["status"] == "returned"
    url = f"/api/v1/applications/{app['id']}/resubmit"
    assert c.post(url, json={"amount": money("300000.00")}, headers=reviewer).status_code == 403
    r = c.post(url, json={"amount": money("300000.00")}, headers=officer)
    assert (r.json()["status"], r.json()["approved"]) == ("approved", money("300000.00"))


def test_decisions_are_as_of_the_business_date(api: Api) -> None:
    """Without as_of: the business date (the day after the last end of day); another date is a
    risk manager's right, never a date after today."""
    c = api.client
    body = {"uscc": USCC, "amount": money("200000.00"), "term_months": 12}
    first = c.post("/api/v1/applications", json=body, headers=api.login("officer")).json()
    assert first["as_of"] == "2026-01-05"
    _eod(api, "2026-01-05")
    api.clock.at = fixed(2026, 1, 5)
    later = c.post("/api/v1/applications", json=body, headers=api.login("officer")).json()
    assert later["as_of"] == "2026-01-06"  # after tonight's end of day: tomorrow
    back = {**body, "as_of": "2025-12-31"}
    assert (
        c.post("/api/v1/applications", json=back, headers=api.login("officer")).status_code == 403
    )
    asked = api.svc.decider.asked  # type: ignore[attr-defined]
    assert [d.isoformat() for _, d in asked] == ["2026-01-05", "2026-01-06"]


def test_a_book_behind_by_more_than_a_year_still_catches_up(api: Api) -> None:
    """The year-typo guard is for a first end of day; a date before the first is refused."""
    c = api.client
    _eod(api, "2026-01-05")
    api.clock.at = fixed(2027, 2, 1)
    ops = api.login("operations")
    r = c.post("/api/v1/admin/eod", json={"as_of": "2026-01-08"}, headers=ops)
    assert (r.status_code, r.json()["days_run"]) == (200, 3)
    r = c.post("/api/v1/admin/eod", json={"as_of": "2026-01-01"}, headers=ops)
    assert r.status_code == 422
    assert "first ran for 2026-01-05" in r.json()["detail"]


def test_one_admin_cannot_grant_a_role_alone_and_disabled_users_stop_at_once(api: Api) -> None:
    """POST /users is a request another admin approves; a disabled user's token is 401 at once;
    a failed sign-in and a refusal are in the audit log, which still verifies."""
    c = api.client
    admin, admin2 = api.login("admin"), api.login("admin2")
    body = {"name": "newbie", "role": "officer", "password": "long-enough-1", "reason": "hired"}
    req = c.post("/api/v1/users", json=body, headers=admin).json()
    assert (
        c.post(
            "/api/v1/auth/token", json={"username": "newbie", "password": "long-enough-1"}
        ).status_code
        == 401
    )
    assert (
        c.post(f"/api/v1/approvals/{req['id']}/approve", json={}, headers=admin).status_code == 403
    )
    assert c.post(f"/api/v1/approvals/{req['id']}/approve", json={}, headers=admin2).is_success
    newbie = c.post("/api/v1/auth/token", json={"username": "newbie", "password": "long-enough-1"})
    token = {"Authorization": f"Bearer {newbie.json()['access_token']}"}
    assert c.get("/api/v1/loans", headers=token).status_code == 200
    assert c.post("/api/v1/users/newbie/disable", json={"reason": "left"}, headers=admin).is_success
    assert c.get("/api/v1/loans", headers=token).status_code == 401
    assert c.get("/api/v1/users", headers=api.login("officer")).status_code == 403
    with api.svc.uow() as uow:
        actions = [(r.actor, r.action) for r in uow.audit.records()]
    assert ("newbie", "auth.failed") in actions
    assert ("admin", "access.refused") in actions
    assert ("officer", "access.refused") in actions
    assert c.get("/api/v1/audit/verify", headers=admin).json()["ok"]


def test_write_off_needs_a_second_risk_manager(api: Api) -> None:
    """A write-off is a request; the requester's own approval is 403; another's writes it off."""
    c = api.client
    _, line_id = _line(api, "100000.00")
    loan_id = _draw(api, line_id, "100000.00", "w")
    rm, rm2 = api.login("risk_manager"), api.login("risk_manager2")
    req = c.post(f"/api/v1/loans/{loan_id}/write-off", json={"reason": "owner gone"}, headers=rm)
    assert req.status_code == 202
    url = f"/api/v1/approvals/{req.json()['id']}/approve"
    assert c.post(url, json={}, headers=rm).status_code == 403
    assert c.post(url, json={}, headers=rm2).status_code == 200
    assert c.get(f"/api/v1/loans/{loan_id}", headers=rm).json()["status"] == "written_off"
