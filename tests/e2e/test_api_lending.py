"""End to end through HTTP, on SQLite and PostgreSQL: application → review (maker-checker) →
contract → signing (the credit line) → a drawdown approved by a second person → money from the
bank (auto-debit, a statement) → early repayment → a closed loan and a balanced ledger; and the
rules a bank's users meet on the way (roles, four eyes, business dates, users and the audit)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests.api_world import (
    ACCOUNT,
    PW,
    USCC,
    Api,
    money,
    running_api,
)
from tests.api_world import apply as _apply
from tests.api_world import problem as _problem
from tests.api_world import signed_line as _line
from tests.fakes import FakeDecider
from tests.lending_fixtures import fixed

from loomcredit.domain.decision.bands import Band
from loomcredit.domain.decision.outcome import CreditDecision
from loomcredit.domain.money import Money
from loomcredit.service_layer.decisioning import DecisionRequest

pytestmark = pytest.mark.e2e
STRANGER = "9999888877776666"


@pytest.fixture(params=["sqlite", "postgresql"])
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    """A client on a fresh, migrated database with users of every role, on 2026-01-05."""
    yield from running_api(request.param, tmp_path)


def _sum(*amounts: str) -> str:
    return str(sum((Decimal(a) for a in amounts), Decimal("0.00")))


def _ask(a: Api, line_id: int, amount: str, key: str, *, by: str = "firm") -> int:
    """A drawdown request: its approval id."""
    r = a.client.post(
        f"/api/v1/lines/{line_id}/drawdowns",
        json={"amount": money(amount)},
        headers={**a.login(by), "Idempotency-Key": key},
    )
    assert r.status_code == 202, r.text
    return int(r.json()["id"])


def _draw(a: Api, line_id: int, amount: str, key: str) -> int:
    """A drawdown asked by the firm and approved by operations: the loan id."""
    req = _ask(a, line_id, amount, key)
    r = a.client.post(f"/api/v1/approvals/{req}/approve", json={}, headers=a.login("operations"))
    assert r.status_code == 200, r.text
    return int(r.json()["result"].removeprefix("loan:"))


def _eod(a: Api, day: str) -> dict[str, Any]:
    """End of day up to ``day`` (catching up), run on that day."""
    y, m, d = map(int, day.split("-"))
    a.clock.at = fixed(y, m, d)
    r = a.client.post("/api/v1/admin/eod", json={"as_of": day}, headers=a.login("operations"))
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def _csv(*rows: tuple[str, ...]) -> bytes:
    """A statement: rows of (bank_ref, value_date, account, amount[, memo])."""
    lines = ["bank_ref,value_date,account,counterparty,amount,memo"]
    for ref, day, account, amount, *memo in rows:
        lines.append(f"{ref},{day},{account},绍兴某纺织有限公司,{amount},{''.join(memo)}")
    return ("\n".join(lines) + "\n").encode()


def _import(a: Api, csv: bytes, name: str = "s.csv") -> Any:
    return a.client.post(
        f"/api/v1/payments/statements?file_name={name}",
        content=csv,
        headers={**a.login("operations"), "Content-Type": "text/csv"},
    )


def _grant(a: Api, name: str, role: str) -> None:
    """A role change asked by one admin and approved by the other."""
    c = a.client
    r = c.post(
        f"/api/v1/users/{name}/role",
        json={"role": role, "reason": "moved department"},
        headers=a.login("admin"),
    )
    assert r.status_code == 202, r.text
    ok = c.post(f"/api/v1/approvals/{r.json()['id']}/approve", json={}, headers=a.login("admin2"))
    assert ok.status_code == 200, ok.text


def _audit(a: Api) -> list[tuple[str, str]]:
    with a.svc.uow() as uow:
        return [(r.actor, r.action) for r in uow.audit.records()]


# -- the whole chain ----------------------------------------------------------------------------
def test_application_to_closed_loan(api: Api) -> None:
    """The chain over HTTP: four eyes on the review and the payout, every yuan from the bank."""
    c = api.client
    officer, reviewer, firm, ops = (
        api.login(n) for n in ("officer", "reviewer", "firm", "operations")
    )
    # application → review (the officer who made it cannot check it)
    body = {"uscc": USCC, "amount": money("600000.00"), "term_months": 12, "method": "annuity"}
    app = c.post("/api/v1/applications", json=body, headers=officer).json()
    assert (app["status"], app["decision"]["band"]) == ("in_review", "review")
    url = f"/api/v1/applications/{app['id']}/review"
    _problem(c.post(url, json={"verdict": "approve"}, headers=officer), 403)
    assert [a["id"] for a in c.get("/api/v1/review-queue", headers=reviewer).json()] == [app["id"]]
    verdict = c.post(url, json={"verdict": "approve", "comment": "ok"}, headers=reviewer).json()
    assert (verdict["status"], verdict["approved"]) == ("approved", money("600000.00"))
    # contract → signing opens the line
    contract = c.get(f"/api/v1/applications/{app['id']}/contract", headers=firm).json()
    assert (contract["annual_rate_percent"], contract["penalty_rate_percent"]) == ("4.50%", "6.75%")
    assert (contract["amount"], contract["start_date"]) == (money("600000.00"), "2026-01-05")
    assert [i["due_on"] for i in contract["schedule"]][:2] == ["2026-02-05", "2026-03-05"]
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
    assert line["settlement_account"] == ACCOUNT
    # drawdown → pending approval; the same key twice is one request
    drawdown = {"amount": money("600000.00")}
    key = {**firm, "Idempotency-Key": "d-1"}
    r1 = c.post(f"/api/v1/lines/{line['id']}/drawdowns", json=drawdown, headers=key)
    r2 = c.post(f"/api/v1/lines/{line['id']}/drawdowns", json=drawdown, headers=key)
    assert r1.status_code == r2.status_code == 202
    assert (r1.json()["id"], r1.json()["status"]) == (r2.json()["id"], "pending")
    req = r1.json()["id"]
    assert c.get("/api/v1/loans", headers=firm).json() == []  # nothing paid out before approval
    reserved = c.get(f"/api/v1/lines/{line['id']}", headers=firm).json()
    assert (reserved["reserved"], reserved["available"]) == (money("600000.00"), money("0.00"))
    _problem(c.post(f"/api/v1/approvals/{req}/approve", json={}, headers=firm), 403)
    ok = c.post(f"/api/v1/approvals/{req}/approve", json={"comment": "放款审核"}, headers=ops)
    assert ok.status_code == 200, ok.text
    assert (ok.json()["status"], ok.json()["decided_by"]) == ("approved", "operations")
    _problem(c.post(f"/api/v1/approvals/{req}/approve", json={}, headers=ops), 409)
    again = c.post(f"/api/v1/lines/{line['id']}/drawdowns", json=drawdown, headers=key)
    assert (again.status_code, again.json()["id"], again.json()["status"]) == (202, req, "approved")
    loan_id = int(ok.json()["result"].removeprefix("loan:"))
    assert [x["id"] for x in c.get("/api/v1/loans", headers=firm).json()] == [loan_id]
    drawn = c.get(f"/api/v1/lines/{line['id']}", headers=firm).json()
    assert (drawn["utilised"], drawn["reserved"]) == (money("600000.00"), money("0.00"))
    loan = c.get(f"/api/v1/loans/{loan_id}", headers=firm).json()
    first = loan["installments"][0]
    assert (loan["start_date"], loan["principal"]) == ("2026-01-05", money("600000.00"))
    assert first["due_on"] == "2026-02-05"
    # the first instalment, taken by the auto-debit of its due date
    _eod(api, "2026-02-04")
    ops = api.login("operations")
    run = c.post("/api/v1/payments/auto-debit", headers=ops).json()
    assert [(i["loan_id"], i["account"], i["early"]) for i in run["instructions"]] == [
        (loan_id, ACCOUNT, False)
    ]
    assert run["total"] == money(_sum(first["principal"]["amount"], first["interest"]["amount"]))
    api.bank.pay_all(run["batch_id"])
    settled = c.post(f"/api/v1/payments/auto-debit/{run['batch_id']}/settle", headers=ops).json()
    assert [(p["loan_id"], p["amount"], p["source"]) for p in settled["paid"]] == [
        (loan_id, run["total"], "auto_debit")
    ]
    twice = c.post(f"/api/v1/payments/auto-debit/{run['batch_id']}/settle", headers=ops).json()
    assert (twice["paid"], twice["skipped"]) == ([], 1)
    loan = c.get(f"/api/v1/loans/{loan_id}", headers=api.login("firm")).json()
    assert (loan["dpd"], loan["installments"][0]["principal_paid"]) == (0, first["principal"])
    outstanding = loan["outstanding"]["amount"]
    assert outstanding == _sum("600000.00", "-" + first["principal"]["amount"])
    # a statement: the borrower's transfer is matched (nothing due: held), a stranger's waits
    csv = _csv(
        ("BANK-1", "2026-02-05", ACCOUNT, "1000.00", f"LN{loan_id:08d}"),
        ("BANK-9", "2026-02-05", STRANGER, "88.00", "货款"),
    )
    imp = _import(api, csv, "s1.csv").json()
    assert (imp["lines"], imp["booked"], imp["unmatched"]) == (2, 1, 1)
    assert imp["booked_total"] == money("1000.00")
    assert imp["reconciliation"] == {
        "value_date": "2026-02-05",
        "lines": 2,
        "statement_total": money("1088.00"),
        "booked": money("1000.00"),
        "unmatched": money("88.00"),
        "returned": money("0.00"),
        "balanced": True,
    }
    before = c.get("/api/v1/ledger/trial-balance", headers=ops).json()
    dup = _import(api, csv, "s1.csv").json()
    assert (dup["booked"], dup["unmatched"], dup["duplicates"]) == (0, 0, 2)
    assert c.get("/api/v1/ledger/trial-balance", headers=ops).json() == before
    queue = c.get("/api/v1/payments/exceptions", headers=ops).json()
    assert [(e["bank_ref"], e["outcome"], e["amount"]) for e in queue] == [
        ("BANK-9", "unmatched", money("88.00"))
    ]
    assert c.get("/api/v1/payments/reconciliation", headers=ops).json()["balanced"]
    receipts = c.get(f"/api/v1/loans/{loan_id}/receipts", headers=ops).json()
    assert [(r["bank_ref"], r["suspense"]) for r in receipts][1:] == [("BANK-1", money("1000.00"))]
    # early repayment of everything on 2026-02-20: asked by the borrower, debited by the bank
    _eod(api, "2026-02-19")
    api.clock.at = fixed(2026, 2, 20)
    firm, ops = api.login("firm"), api.login("operations")
    to_date = (Decimal(outstanding) * Decimal("0.045") * 15 / 360).quantize(Decimal("0.01"))
    payoff = _sum(outstanding, str(to_date), "-1000.00")
    ask = c.post(f"/api/v1/loans/{loan_id}/prepayment-requests", json={}, headers=firm).json()
    assert (ask["on"], ask["status"]) == ("2026-02-20", "open")
    assert ask["quote"]["interest_to_date"] == money(str(to_date))
    assert ask["quote"]["held_in_suspense"] == money("1000.00")
    assert ask["quote"]["payoff"] == money(payoff)
    run = c.post("/api/v1/payments/auto-debit", headers=ops).json()
    assert [(i["early"], i["amount"]) for i in run["instructions"]] == [(True, money(payoff))]
    api.bank.pay_all(run["batch_id"])
    c.post(f"/api/v1/payments/auto-debit/{run['batch_id']}/settle", headers=ops)
    loan = c.get(f"/api/v1/loans/{loan_id}", headers=firm).json()
    assert (loan["status"], loan["outstanding"], loan["suspense"]) == (
        "closed",
        money("0.00"),
        money("0.00"),
    )
    tb = c.get("/api/v1/ledger/trial-balance", headers=ops).json()
    assert tb["balanced"]
    for account in ("LOAN_PRINCIPAL", "INTEREST_RECEIVABLE", "SUSPENSE"):
        assert tb["accounts"].get(account, money("0.00")) == money("0.00"), account
    assert tb["accounts"]["UNIDENTIFIED"] == money("-88.00")
    audit = c.get("/api/v1/audit/verify", headers=api.login("auditor")).json()
    assert audit["ok"], audit


def test_neither_the_requester_nor_a_maker_of_the_application_approves_its_drawdown(
    api: Api,
) -> None:
    """The drawdown's requester and the application's maker are refused (403 four-eyes)."""
    c = api.client
    _, line_id = _line(api, "300000.00", by="officer")
    req = _ask(api, line_id, "50000.00", "d-1", by="officer2")
    _grant(api, "officer", "operations")
    _grant(api, "officer2", "operations")
    url = f"/api/v1/approvals/{req}/approve"
    maker = c.post(url, json={}, headers=api.login("officer"))
    assert "made or changed the case" in _problem(maker, 403, "four-eyes")
    asker = c.post(url, json={}, headers=api.login("officer2"))
    assert "asked for it" in _problem(asker, 403, "four-eyes")
    assert c.get("/api/v1/approvals", headers=api.login("officer")).json() == []
    assert c.post(url, json={}, headers=api.login("operations")).status_code == 200


def test_nobody_can_post_a_repayment(api: Api) -> None:
    """The old repayment endpoint is gone and a borrower cannot import a statement."""
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
        content=_csv(("B-1", "2026-01-05", ACCOUNT, "10.00")),
        headers={**api.login("firm"), "Content-Type": "text/csv"},
    )
    _problem(r, 403)
    assert (
        api.client.get(f"/api/v1/loans/{loan_id}/receipts", headers=api.login("firm")).json() == []
    )


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
    assert "available" in _problem(big, 409)
    officer = api.login("officer")
    _problem(c.post(f"/api/v1/lines/{line_id}/freeze", json={"reason": "x"}, headers=officer), 403)
    frozen = c.post(
        f"/api/v1/lines/{line_id}/freeze", json={"reason": "新增被执行人"}, headers=risk
    )
    assert (frozen.json()["status"], frozen.json()["reason"]) == ("frozen", "新增被执行人")
    r = c.post(
        f"/api/v1/lines/{line_id}/drawdowns",
        json={"amount": money("1.00")},
        headers={**firm, "Idempotency-Key": "x2"},
    )
    assert "frozen" in _problem(r, 409)


# -- bad requests -------------------------------------------------------------------------------
def test_bad_requests_are_4xx_problem_json(api: Api) -> None:
    """Bad money, codes, ids, tokens, keys and files are 4xx problem+json that say what is wrong."""
    c = api.client
    officer, ops, firm = api.login("officer"), api.login("operations"), api.login("firm")
    _, line_id = _line(api, "100000.00")
    apply = "/api/v1/applications"
    draw = f"/api/v1/lines/{line_id}/drawdowns"
    cases = [
        (c.post(apply, json={"uscc": USCC, "amount": money("1.001"), "term_months": 12}), 401),
        (
            c.post(
                apply,
                json={"uscc": USCC, "amount": money("1.001"), "term_months": 12},
                headers=officer,
            ),
            422,
        ),
        (
            c.post(
                apply,
                json={
                    "uscc": USCC,
                    "amount": {"amount": "1.00", "currency": "USD"},
                    "term_months": 3,
                },
                headers=officer,
            ),
            422,
        ),
        (
            c.post(
                apply,
                json={"uscc": "91330603XXXXXXXXXX", "amount": money("100.00"), "term_months": 12},
                headers=officer,
            ),
            422,
        ),
        (c.get("/api/v1/applications/999999", headers=officer), 404),
        (c.get("/api/v1/applications/0", headers=officer), 422),
        (c.get(f"/api/v1/applications/{2**40}", headers=officer), 422),
        (c.get("/api/v1/loans", headers={"Authorization": "Bearer nonsense"}), 401),
        (c.get("/api/v1/loans"), 401),
        (c.post(draw, json={"amount": money("1.00")}, headers=firm), 422),  # no Idempotency-Key
        (
            c.post(
                "/api/v1/lines/999999/drawdowns",
                json={"amount": money("1.00")},
                headers={**firm, "Idempotency-Key": "k"},
            ),
            404,
        ),  # a line that does not exist
        (c.get(f"/api/v1/lines/{line_id}/plan?amount=-5", headers=firm), 422),
        (
            c.post(
                "/api/v1/payments/statements",
                content=b"bank_ref,value_date\nX,2026-13-01\n",
                headers={**ops, "Content-Type": "text/csv"},
            ),
            422,
        ),
        (c.post("/api/v1/payments/auto-debit/nonsense/settle", headers=ops), 422),
        (c.post("/api/v1/approvals/999999/approve", json={}, headers=ops), 404),
        (c.post("/api/v1/admin/eod", json={"as_of": 0}, headers=ops), 422),
        (c.delete("/api/v1/loans", headers=ops), 405),
    ]
    for r, status in cases:
        _problem(r, status)
    assert cases[0][0].headers["www-authenticate"] == "Bearer"


def test_malformed_json_is_a_422_saying_it_is_not_json(api: Api) -> None:
    """A body that is not JSON is refused before anything runs, naming where it broke."""
    c = api.client
    _, line_id = _line(api, "100000.00")
    hdr = {**api.login("firm"), "Content-Type": "application/json"}
    for path in (
        "/api/v1/applications",
        f"/api/v1/lines/{line_id}/drawdowns",
        "/api/v1/auth/token",
    ):
        r = c.post(path, content=b'{"amount": ', headers={**hdr, "Idempotency-Key": "j"})
        assert "not valid JSON" in _problem(r, 422, "invalid-request"), path
    assert c.get(f"/api/v1/lines/{line_id}", headers=hdr).json()["reserved"] == money("0.00")


# -- who sees what ------------------------------------------------------------------------------
def test_applicant_sees_only_its_enterprise(api: Api) -> None:
    """Another enterprise cannot read or sign the application, nor see the line or the loan."""
    c = api.client
    app_id, line_id = _line(api, "100000.00")
    loan_id = _draw(api, line_id, "50000.00", "d")
    other = api.login("otherfirm")
    for path in (
        f"/api/v1/applications/{app_id}",
        f"/api/v1/applications/{app_id}/contract",
        f"/api/v1/lines/{line_id}",
        f"/api/v1/lines/{line_id}/plan?amount=100.00",
        f"/api/v1/loans/{loan_id}",
        f"/api/v1/loans/{loan_id}/receipts",
        f"/api/v1/loans/{loan_id}/payoff",
    ):
        _problem(c.get(path, headers=other), 403)
    r = c.post(
        f"/api/v1/applications/{app_id}/accept",
        json={"settlement_account": ACCOUNT},
        headers=other,
    )
    _problem(r, 403)
    r = c.post(
        f"/api/v1/lines/{line_id}/drawdowns",
        json={"amount": money("1.00")},
        headers={**other, "Idempotency-Key": "o"},
    )
    _problem(r, 403)
    _problem(c.post(f"/api/v1/loans/{loan_id}/prepayment-requests", json={}, headers=other), 403)
    for path in ("/api/v1/lines", "/api/v1/loans", "/api/v1/applications"):
        assert c.get(path, headers=other).json() == [], path
    firm = api.login("firm")
    assert [x["id"] for x in c.get("/api/v1/lines", headers=firm).json()] == [line_id]
    assert [x["id"] for x in c.get("/api/v1/loans", headers=firm).json()] == [loan_id]
    assert [x["id"] for x in c.get("/api/v1/applications", headers=firm).json()] == [app_id]


# (method, path, body, roles allowed, status when allowed). Paths with 999999 name nothing: an
# allowed role gets past the role check to the lookup (404), any other role is refused first.
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
EVERYONE = set(ROLES)
READ_APPLICATION = {"officer", "reviewer", "risk_manager", "operations", "auditor", "firm"}
READ_LOAN = {"officer", "reviewer", "risk_manager", "operations", "collector", "auditor", "firm"}
READ_BOOK = {"officer", "risk_manager", "operations", "collector", "auditor"}
NOTHING = 999999


def _matrix(line: int, approve: int, reject: int, cancel: int) -> list[tuple[Any, ...]]:
    apply = {"uscc": USCC, "amount": money("1000.00"), "term_months": 3}
    reason = {"reason": "matrix"}
    back = {"amount": money("1.00"), "value_date": "2026-01-04", "bank_ref": "BV-1", **reason}
    user = {"name": "matrixuser", "role": "auditor", "password": "long-enough-1", **reason}
    return [
        ("POST", "/api/v1/applications", apply, {"officer", "firm"}, 201),
        ("GET", "/api/v1/applications", None, READ_APPLICATION, 200),
        ("GET", f"/api/v1/applications/{NOTHING}", None, READ_APPLICATION, 404),
        ("GET", f"/api/v1/applications/{NOTHING}/contract", None, READ_APPLICATION, 404),
        ("POST", f"/api/v1/applications/{NOTHING}/accept", {"settlement_account": ACCOUNT},
         {"firm"}, 404),
        ("POST", f"/api/v1/applications/{NOTHING}/human-review", {}, {"firm"}, 404),
        ("POST", f"/api/v1/applications/{NOTHING}/review", {"verdict": "approve"},
         {"reviewer", "risk_manager"}, 404),
        ("POST", f"/api/v1/applications/{NOTHING}/resubmit", {}, {"officer", "firm"}, 404),
        ("GET", "/api/v1/review-queue", None, {"reviewer", "risk_manager"}, 200),
        ("GET", "/api/v1/lines", None, READ_LOAN, 200),
        ("GET", f"/api/v1/lines/{line}", None, READ_LOAN, 200),
        ("GET", f"/api/v1/lines/{line}/plan?amount=1000.00", None, READ_LOAN, 200),
        ("POST", f"/api/v1/lines/{NOTHING}/drawdowns", {"amount": money("1.00")},
         {"officer", "firm"}, 404),
        ("POST", f"/api/v1/lines/{NOTHING}/freeze", reason, {"risk_manager"}, 404),
        ("POST", f"/api/v1/lines/{NOTHING}/unfreeze", reason, {"risk_manager"}, 404),
        ("POST", f"/api/v1/lines/{NOTHING}/reduce", {"limit": money("1.00"), **reason},
         {"risk_manager"}, 404),
        ("GET", "/api/v1/approvals", None, EVERYONE, 200),
        ("GET", f"/api/v1/approvals/{approve}", None, READ_BOOK | {"firm"}, 200),
        ("POST", f"/api/v1/approvals/{approve}/approve", {}, {"operations"}, 200),
        ("POST", f"/api/v1/approvals/{reject}/reject", {"comment": "no"}, {"operations"}, 200),
        ("POST", f"/api/v1/approvals/{cancel}/cancel", None, {"firm"}, 200),
        ("GET", "/api/v1/loans", None, READ_LOAN, 200),
        ("GET", f"/api/v1/loans/{NOTHING}", None, READ_LOAN, 404),
        ("GET", f"/api/v1/loans/{NOTHING}/receipts", None, READ_LOAN, 404),
        ("GET", f"/api/v1/loans/{NOTHING}/payoff", None, READ_LOAN, 404),
        ("POST", f"/api/v1/loans/{NOTHING}/prepayment-requests", {}, {"officer", "firm"}, 404),
        ("POST", f"/api/v1/loans/{NOTHING}/write-off", reason, {"risk_manager", "collector"}, 404),
        ("POST", f"/api/v1/loans/{NOTHING}/reversals", {"entry_id": "wo-1", **reason},
         {"risk_manager", "operations"}, 404),
        ("POST", f"/api/v1/loans/{NOTHING}/back-valued-receipts", back, {"risk_manager"}, 404),
        ("POST", "/api/v1/payments/statements", _csv(("M-1", "2026-01-05", STRANGER, "5.00")),
         {"operations"}, 201),
        ("POST", "/api/v1/payments/auto-debit", None, {"operations"}, 201),
        ("POST", "/api/v1/payments/auto-debit/AD20260105/settle", None, {"operations"}, 200),
        ("GET", "/api/v1/payments/exceptions", None, READ_BOOK, 200),
        ("GET", "/api/v1/payments/reconciliation", None, READ_BOOK, 200),
        ("POST", f"/api/v1/payments/exceptions/{NOTHING}/assign", {"loan_id": 1},
         {"operations"}, 404),
        ("POST", f"/api/v1/payments/exceptions/{NOTHING}/return", {"comment": "x"},
         {"operations"}, 404),
        ("GET", "/api/v1/ledger/trial-balance", None, READ_BOOK, 200),
        ("GET", "/api/v1/outbox", None, {"operations", "collector", "auditor"}, 200),
        ("GET", "/api/v1/audit/verify", None, {"auditor", "admin"}, 200),
        ("GET", "/api/v1/users", None, {"admin"}, 200),
        ("POST", "/api/v1/users", user, {"admin"}, 202),
        ("POST", "/api/v1/users/nobody/role", {"role": "officer", **reason}, {"admin"}, 422),
        ("POST", "/api/v1/users/nobody/disable", reason, {"admin"}, 404),
        ("GET", "/api/v1/admin/business-date", None, EVERYONE, 200),
        ("POST", "/api/v1/admin/eod", {"as_of": "2026-01-05"}, {"operations"}, 200),
    ]  # fmt: skip


def test_role_matrix_over_http(api: Api) -> None:
    """Allowed roles get the status the call earns; every other role a 403 before any lookup."""
    _, line_id = _line(api, "300000.00")
    approve, reject, cancel = (_ask(api, line_id, "1000.00", k) for k in ("m1", "m2", "m3"))
    for name in ROLES:
        headers = {**api.login(name), "Idempotency-Key": f"matrix-{name}"}
        for method, path, body, allowed, status in _matrix(line_id, approve, reject, cancel):
            if isinstance(body, bytes):
                r = api.client.request(
                    method, path, content=body, headers={**headers, "Content-Type": "text/csv"}
                )
            else:
                r = api.client.request(method, path, json=body, headers=headers)
            if name in allowed:
                assert r.status_code == status, (name, method, path, r.status_code, r.text)
            else:
                _problem(r, 403)


# -- review, authority, return and resubmit -----------------------------------------------------
@dataclass
class CappedDecider(FakeDecider):
    """Sends every application to review with the engine's limit at ``cap``."""

    cap: Money = field(default_factory=lambda: Money.parse("400000"))

    def decide(self, request: DecisionRequest, as_of: date) -> CreditDecision:
        out = super().decide(request, as_of)
        return replace(out, band=Band.REVIEW, limit=self.cap)


def _capped(api: Api, asked: str) -> str:
    """An application for ``asked`` in review under a ¥400,000 engine limit: its review URL."""
    api.svc.decider = CappedDecider()
    app = _apply(api, asked)
    assert (app["status"], app["decision"]["limit"]) == ("in_review", money("400000.00"))
    return f"/api/v1/applications/{app['id']}/review"


def test_a_reviewer_approves_at_most_the_limit_and_that_is_the_line(api: Api) -> None:
    """A reviewer approves at most the engine's limit; what is approved is the line's limit."""
    c = api.client
    url = _capped(api, "600000.00")
    reviewer = api.login("reviewer")
    refused = c.post(url, json={"verdict": "approve", "comment": "ok"}, headers=reviewer)
    assert "400,000.00" in _problem(refused, 422)
    above = c.post(
        url, json={"verdict": "approve", "approved_amount": money("400000.01")}, headers=reviewer
    )
    _problem(above, 422)
    ok = c.post(
        url, json={"verdict": "approve", "approved_amount": money("400000.00")}, headers=reviewer
    )
    assert (ok.json()["approved"], ok.json()["amount"]) == (money("400000.00"), money("600000.00"))
    app_id = ok.json()["id"]
    firm = api.login("firm")
    line = c.post(
        f"/api/v1/applications/{app_id}/accept", json={"settlement_account": ACCOUNT}, headers=firm
    ).json()
    assert line["limit"] == money("400000.00")
    plan = c.get(f"/api/v1/lines/{line['id']}/plan?amount=400000.00", headers=firm).json()
    assert sum(Decimal(i["principal"]["amount"]) for i in plan["schedule"]) == Decimal("400000")


def test_only_a_risk_manager_approves_above_the_limit_and_only_with_a_comment(api: Api) -> None:
    """Above the limit only a risk manager approves, with a comment; never more than was asked."""
    c = api.client
    url = _capped(api, "600000.00")
    risk = api.login("risk_manager")
    more = {"verdict": "approve", "approved_amount": money("600000.01"), "comment": "x"}
    assert "no larger than" in _problem(c.post(url, json=more, headers=risk), 422)
    _problem(c.post(url, json={"verdict": "approve"}, headers=risk), 422)
    ok = c.post(url, json={"verdict": "approve", "comment": "订单已核实"}, headers=risk)
    assert (ok.json()["status"], ok.json()["approved"]) == ("approved", money("600000.00"))


def test_a_reviewer_approves_up_to_their_authority(api: Api) -> None:
    """¥1,500,000 is beyond a reviewer's ¥1,000,000 authority (403); a risk manager approves it."""
    c = api.client
    app = _apply(api, "1500000.00")
    url = f"/api/v1/applications/{app['id']}/review"
    _problem(c.post(url, json={"verdict": "approve"}, headers=api.login("reviewer")), 403)
    ok = c.post(url, json={"verdict": "approve"}, headers=api.login("risk_manager"))
    assert ok.json()["approved"] == money("1500000.00")


def test_return_and_resubmit_over_http(api: Api) -> None:
    """Returned; the reviewer cannot resubmit; the officer resubmits smaller; decided again."""
    c = api.client
    officer, reviewer = api.login("officer"), api.login("reviewer")
    app = _apply(api, "900000.00")
    r = c.post(
        f"/api/v1/applications/{app['id']}/review",
        json={"verdict": "return", "comment": "金额过高"},
        headers=reviewer,
    )
    assert (r.json()["status"], r.json()["review_comment"]) == ("returned", "金额过高")
    url = f"/api/v1/applications/{app['id']}/resubmit"
    _problem(c.post(url, json={"amount": money("300000.00")}, headers=reviewer), 403)
    r = c.post(url, json={"amount": money("300000.00")}, headers=officer)
    assert (r.json()["status"], r.json()["approved"]) == ("approved", money("300000.00"))
    assert [req.amount for req, _ in api.decider.asked] == [
        Money.parse("900000"),
        Money.parse("300000"),
    ]
    _problem(c.post(url, json={}, headers=officer), 409)


# -- business dates -----------------------------------------------------------------------------
def test_end_of_day_is_idempotent_and_never_runs_ahead_of_today(api: Api) -> None:
    """A second end of day for a date changes nothing; tomorrow is refused; an officer cannot."""
    c, ops = api.client, api.login("operations")
    first = c.post("/api/v1/admin/eod", json={"as_of": "2026-01-05"}, headers=ops).json()
    again = c.post("/api/v1/admin/eod", json={"as_of": "2026-01-05"}, headers=ops).json()
    assert (first["days_run"], first["already"]) == (1, False)
    assert (again["days_run"], again["already"]) == (0, True)
    ahead = c.post("/api/v1/admin/eod", json={"as_of": "2026-01-06"}, headers=ops)
    assert "after today" in _problem(ahead, 422)
    _problem(c.post("/api/v1/admin/eod", json={}, headers=api.login("officer")), 403)
    day = c.get("/api/v1/admin/business-date", headers=ops).json()
    assert day == {"business_date": "2026-01-06", "last_eod": "2026-01-05"}


def test_work_after_end_of_day_is_booked_on_the_next_business_date(api: Api) -> None:
    """After end of day, new work is booked on the next business date, never in the closed day."""
    c = api.client
    _, line_id = _line(api, "300000.00")
    _eod(api, "2026-01-05")
    assert c.get(f"/api/v1/lines/{line_id}", headers=api.login("firm")).json()["as_of"] == (
        "2026-01-06"
    )
    loan_id = _draw(api, line_id, "100000.00", "late")
    loan = c.get(f"/api/v1/loans/{loan_id}", headers=api.login("firm")).json()
    assert (loan["start_date"], loan["installments"][0]["due_on"]) == ("2026-01-06", "2026-02-06")
    quote = c.get(f"/api/v1/loans/{loan_id}/payoff", headers=api.login("firm")).json()
    assert quote["on"] == "2026-01-06"
    imp = _import(
        api,
        _csv(
            ("T-1", "2026-01-05", ACCOUNT, "10.00"),
            ("T-2", "2026-01-06", ACCOUNT, "20.00"),
        ),
    ).json()
    assert (imp["business_date"], imp["booked"], imp["unmatched"]) == ("2026-01-06", 1, 1)
    assert [(e["bank_ref"], e["outcome"]) for e in imp["exceptions"]] == [("T-1", "back_valued")]
    receipts = c.get(f"/api/v1/loans/{loan_id}/receipts", headers=api.login("operations")).json()
    assert [(r["bank_ref"], r["booked_on"], r["value_date"]) for r in receipts] == [
        ("T-2", "2026-01-06", "2026-01-06")
    ]


def test_a_book_behind_by_more_than_a_year_catches_up_366_days_a_request(api: Api) -> None:
    """A book a year behind catches up at most 366 days a request, never before its first day."""
    c = api.client
    _eod(api, "2026-01-05")
    api.clock.at = fixed(2027, 3, 1)
    ops = api.login("operations")
    r = c.post("/api/v1/admin/eod", json={"as_of": "2027-02-28"}, headers=ops)
    assert "run it for 2027-01-06 first" in _problem(r, 422)
    r = c.post("/api/v1/admin/eod", json={"as_of": "2027-01-06"}, headers=ops)
    assert (r.status_code, r.json()["days_run"]) == (200, 366)
    r = c.post("/api/v1/admin/eod", json={"as_of": "2027-02-28"}, headers=ops)
    assert (r.status_code, r.json()["days_run"]) == (200, 53)
    day = c.get("/api/v1/admin/business-date", headers=ops).json()
    assert day == {"business_date": "2027-03-01", "last_eod": "2027-02-28"}
    r = c.post("/api/v1/admin/eod", json={"as_of": "2026-01-01"}, headers=ops)
    assert "first ran for 2026-01-05" in _problem(r, 422)


def test_decisions_are_as_of_the_business_date(api: Api) -> None:
    """The decider is asked as of the business date; an officer's other date is refused (403)."""
    c = api.client
    first = _apply(api, "200000.00")
    assert first["as_of"] == "2026-01-05"
    _eod(api, "2026-01-05")
    later = _apply(api, "200000.00")
    assert later["as_of"] == "2026-01-06"  # after tonight's end of day: tomorrow
    body = {"uscc": USCC, "amount": money("200000.00"), "term_months": 12, "as_of": "2025-12-31"}
    r = c.post("/api/v1/applications", json=body, headers=api.login("officer"))
    assert "risk manager" in _problem(r, 403)
    assert [d for _, d in api.decider.asked] == [date(2026, 1, 5), date(2026, 1, 6)]


def test_a_risk_manager_decides_an_application_in_review_again_as_of_another_date(
    api: Api,
) -> None:
    """A risk manager re-runs the decision of an application in review as of 2025-12-31, with a
    reason: the decider is asked as of that date, it stays in review, the audit keeps the reason,
    and the risk manager who re-ran it cannot review it; another can."""
    c = api.client
    app = _apply(api, "800000.00")
    assert app["status"] == "in_review"
    url = f"/api/v1/applications/{app['id']}/redecide"
    body = {"as_of": "2025-12-31", "reason": "December data complete"}
    assert "decide_other_date" in _problem(
        c.post(url, json=body, headers=api.login("officer")), 403, "forbidden"
    )
    later = c.post(url, json={**body, "as_of": "2026-02-01"}, headers=api.login("risk_manager"))
    assert "after today" in _problem(later, 422, "invalid-request")
    _problem(c.post(url, json={"as_of": "2025-12-31"}, headers=api.login("risk_manager")), 422)
    r = c.post(url, json=body, headers=api.login("risk_manager"))
    assert r.status_code == 200, r.text
    assert (r.json()["as_of"], r.json()["status"]) == ("2025-12-31", "in_review")
    assert [d for _, d in api.decider.asked] == [date(2026, 1, 5), date(2025, 12, 31)]
    review = {"verdict": "approve", "comment": "ok"}
    rv = f"/api/v1/applications/{app['id']}/review"
    _problem(c.post(rv, json=review, headers=api.login("risk_manager")), 403, "four-eyes")
    done = c.post(rv, json=review, headers=api.login("risk_manager2"))
    assert done.json()["status"] == "approved", done.text
    with api.svc.uow() as uow:
        rec = [r for r in uow.audit.records() if r.action == "application.redecided"]
    assert [(r.actor, json.loads(r.detail)["reason"]) for r in rec] == [
        ("risk_manager", "December data complete")
    ]
    approved = _apply(api, "200000.00")  # auto-approved: nothing left to decide again
    _problem(c.post(f"/api/v1/applications/{approved['id']}/redecide", json=body,
                    headers=api.login("risk_manager")), 409, "state-conflict")  # fmt: skip


# -- users, tokens, the audit -------------------------------------------------------------------
def test_a_new_user_is_a_grant_one_admin_asks_and_another_approves(api: Api) -> None:
    """A new user exists only once an admin other than the one who asked approves the grant."""
    c = api.client
    admin, admin2 = api.login("admin"), api.login("admin2")
    creds = {"username": "newbie", "password": "long-enough-1"}
    body = {"name": "newbie", "role": "officer", "password": creds["password"], "reason": "hired"}
    req = c.post("/api/v1/users", json=body, headers=admin)
    assert (req.status_code, req.json()["kind"], req.json()["status"]) == (
        202,
        "role_grant",
        "pending",
    )
    assert "password" not in str(req.json()["order"])
    _problem(c.post("/api/v1/auth/token", json=creds), 401)
    url = f"/api/v1/approvals/{req.json()['id']}/approve"
    _problem(c.post(url, json={}, headers=admin), 403, "four-eyes")
    _problem(c.post(url, json={}, headers=api.login("operations")), 403, "forbidden")
    assert c.post(url, json={}, headers=admin2).json()["result"] == "user:newbie"
    signed = c.post("/api/v1/auth/token", json=creds).json()
    assert signed["role"] == "officer"
    users = {u["name"]: u["role"] for u in c.get("/api/v1/users", headers=admin).json()}
    assert users["newbie"] == "officer"


def test_a_disabled_users_token_is_refused_at_once(api: Api) -> None:
    """A disabled user's token is refused on its next request, and signing in again too."""
    c = api.client
    token = api.login("collector")
    assert c.get("/api/v1/loans", headers=token).status_code == 200
    r = c.post(
        "/api/v1/users/collector/disable", json={"reason": "left"}, headers=api.login("admin")
    )
    assert r.json()["disabled_at"] is not None
    assert "disabled" in _problem(c.get("/api/v1/loans", headers=token), 401)
    again = c.post("/api/v1/auth/token", json={"username": "collector", "password": PW})
    _problem(again, 401)


def test_a_role_change_ends_the_old_token(api: Api) -> None:
    """An approved role change ends the token issued before it; a new one acts in the new role."""
    c = api.client
    old = api.login("officer2")
    assert c.get("/api/v1/ledger/trial-balance", headers=old).status_code == 200
    _grant(api, "officer2", "collector")
    assert "sign in again" in _problem(c.get("/api/v1/loans", headers=old), 401)
    new = api.login("officer2")
    assert c.get("/api/v1/outbox", headers=new).status_code == 200
    apply = {"uscc": USCC, "amount": money("1000.00"), "term_months": 3}
    _problem(c.post("/api/v1/applications", json=apply, headers=new), 403)


def test_a_failed_sign_in_and_a_refusal_are_audited_and_the_chain_verifies(api: Api) -> None:
    """A failed sign-in and a 403 are audited though the requests failed; the chain verifies."""
    c = api.client
    wrong = c.post("/api/v1/auth/token", json={"username": "officer", "password": "wrong-pass"})
    _problem(wrong, 401)
    _problem(c.get("/api/v1/users", headers=api.login("officer")), 403)
    actions = _audit(api)
    assert ("officer", "auth.failed") in actions
    assert ("officer", "access.refused") in actions
    assert actions.index(("officer", "auth.failed")) < actions.index(("officer", "access.refused"))
    verify = c.get("/api/v1/audit/verify", headers=api.login("auditor")).json()
    assert (verify["ok"], verify["first_bad"]) == (True, None)
    assert verify["records"] == len(_audit(api))


# -- second risk manager ------------------------------------------------------------------------
def test_a_write_off_and_its_reversal_each_need_a_second_risk_manager(api: Api) -> None:
    """A write-off and its reversal are each approved only by a risk manager who did not ask."""
    c = api.client
    _, line_id = _line(api, "100000.00")
    loan_id = _draw(api, line_id, "100000.00", "w")
    rm, rm2 = api.login("risk_manager"), api.login("risk_manager2")
    req = c.post(f"/api/v1/loans/{loan_id}/write-off", json={"reason": "owner gone"}, headers=rm)
    assert req.status_code == 202
    url = f"/api/v1/approvals/{req.json()['id']}/approve"
    _problem(c.post(url, json={}, headers=rm), 403, "four-eyes")
    done = c.post(url, json={}, headers=rm2).json()
    assert c.get(f"/api/v1/loans/{loan_id}", headers=rm).json()["status"] == "written_off"
    entry = done["result"]
    rev = c.post(
        f"/api/v1/loans/{loan_id}/reversals",
        json={"entry_id": entry, "reason": "written off in error"},
        headers=rm2,
    )
    assert rev.status_code == 202
    url = f"/api/v1/approvals/{rev.json()['id']}/approve"
    _problem(c.post(url, json={}, headers=rm2), 403, "four-eyes")
    assert c.post(url, json={}, headers=rm).json()["result"] == f"rev-{entry}"
    loan = c.get(f"/api/v1/loans/{loan_id}", headers=rm).json()
    assert (loan["status"], loan["outstanding"]) == ("active", money("100000.00"))
    assert c.get("/api/v1/ledger/trial-balance", headers=rm).json()["balanced"]


def test_a_back_valued_receipt_needs_a_second_risk_manager(api: Api) -> None:
    """A back-valued receipt is booked only when a risk manager other than the asker approves."""
    c = api.client
    _, line_id = _line(api, "100000.00")
    loan_id = _draw(api, line_id, "100000.00", "bv")
    _eod(api, "2026-01-07")
    imp = _import(api, _csv(("BV-1", "2026-01-06", ACCOUNT, "500.00"))).json()
    [waiting] = imp["exceptions"]
    assert waiting["outcome"] == "back_valued"
    rm, rm2 = api.login("risk_manager"), api.login("risk_manager2")
    body = {
        "amount": money("500.00"),
        "value_date": "2026-01-06",
        "bank_ref": "BV-1",
        "reason": "bank confirmed the value date",
        "statement_line_id": waiting["id"],
    }
    req = c.post(f"/api/v1/loans/{loan_id}/back-valued-receipts", json=body, headers=rm)
    assert req.status_code == 202, req.text
    url = f"/api/v1/approvals/{req.json()['id']}/approve"
    _problem(c.post(url, json={}, headers=rm), 403, "four-eyes")
    assert c.post(url, json={}, headers=rm2).status_code == 200
    receipts = c.get(f"/api/v1/loans/{loan_id}/receipts", headers=rm).json()
    assert [(r["bank_ref"], r["value_date"], r["booked_on"], r["source"]) for r in receipts] == [
        ("BV-1", "2026-01-06", "2026-01-08", "back_valued")
    ]
    assert c.get("/api/v1/payments/exceptions", headers=rm).json() == []
    assert c.get("/api/v1/ledger/trial-balance", headers=rm).json()["balanced"]
