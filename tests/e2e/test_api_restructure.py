"""Over HTTP, on SQLite and PostgreSQL: a collector proposes a restructuring of a loan
(``POST /loans/{id}/restructure``), the answer previews it, the collector and the requester are
refused as approvers, another risk manager approves it under /approvals, and the loan shows its
new schedule and watch period."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.api_world import Api, money, problem, running_api, signed_line

pytestmark = pytest.mark.e2e


@pytest.fixture(params=["sqlite", "postgresql"])
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    """The service on 2026-01-05 with a loan of ¥100,000 drawn on a signed line."""
    for a in running_api(request.param, tmp_path):
        line_id, _ = signed_line(a)
        r = a.client.post(
            f"/api/v1/lines/{line_id}/drawdowns",
            json={"amount": money("100000.00")},
            headers={**a.login("firm"), "Idempotency-Key": "d1"},
        )
        assert r.status_code == 202, r.text
        ok = a.client.post(
            f"/api/v1/approvals/{r.json()['id']}/approve", json={}, headers=a.login("operations")
        )
        assert ok.status_code == 200, ok.text
        yield a


def test_proposed_by_a_collector_approved_by_a_risk_manager(api: Api) -> None:
    """202 with the preview; only a risk manager other than the requester approves."""
    c = api.client
    body = {"kind": "extension", "months": 6, "reason": "淡季回款慢 slow season"}
    r = c.post("/api/v1/loans/1/restructure", json=body, headers=api.login("collector"))
    assert r.status_code == 202, r.text
    out = r.json()
    assert (out["kind"], out["kind_zh"]) == ("restructure", "展期/重组审批")
    assert out["subject"] == "loan:1"
    assert out["order"]["months"] == 6
    assert out["preview"]["principal"] == money("100000.00")
    assert out["preview"]["first_due"] == "2026-02-05"
    req = out["id"]
    refused = c.post(f"/api/v1/approvals/{req}/approve", json={}, headers=api.login("collector"))
    problem(refused, 403)
    ok = c.post(f"/api/v1/approvals/{req}/approve", json={}, headers=api.login("risk_manager"))
    assert ok.status_code == 200, ok.text
    loan = c.get("/api/v1/loans/1", headers=api.login("auditor")).json()
    assert loan["restructured_on"] == "2026-01-05"
    assert loan["watch_until"] == out["preview"]["watch_until"] == "2027-02-05"


def test_the_requester_cannot_approve_and_a_bad_plan_is_refused(api: Api) -> None:
    """Four eyes, and a plan checked when asked."""
    c = api.client
    rm = api.login("risk_manager")
    r = c.post("/api/v1/loans/1/restructure", headers=rm,
               json={"kind": "reschedule", "months": 12, "reason": "r"})  # fmt: skip
    assert r.status_code == 202, r.text
    own = c.post(f"/api/v1/approvals/{r.json()['id']}/approve", json={}, headers=rm)
    problem(own, 403)
    bad = c.post("/api/v1/loans/1/restructure", headers=api.login("collector"),
                 json={"kind": "reschedule", "months": 0, "reason": "r"})  # fmt: skip
    problem(bad, 422)
    firm = c.post("/api/v1/loans/1/restructure", headers=api.login("firm"),
                  json={"kind": "extension", "months": 3, "reason": "r"})  # fmt: skip
    problem(firm, 403)
