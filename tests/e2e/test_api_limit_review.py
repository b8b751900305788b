"""Over HTTP, on SQLite and PostgreSQL: the monthly limit review (额度动态调整). Two borrowers'
lines are reviewed at a month end: one drifts within the band and is lowered at once, the other
falls into its seasonal trough and is proposed for approval with its build-up; a second risk
manager approves it; re-running the month changes nothing; an officer cannot run it and a date
after today is refused. The decider is the typed fake of its port, deciding on a given limit
build-up per borrower."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests.api_world import ACCOUNT, OTHER, USCC, Api, apply, problem, running_api, signed_line
from tests.lending_fixtures import fixed

from loomcredit.domain.decision.limits import LimitBuildUp, LimitComponent
from loomcredit.domain.money import Money

pytestmark = pytest.mark.e2e


def _build(base: str, february: str | None = None) -> LimitBuildUp:
    b = Money.parse(base)
    monthly = tuple(Money.parse(february) if m == 2 and february else b for m in range(1, 13))
    factors = tuple(Decimal("0.6") if m == 2 and february else Decimal("1.0")
                    for m in range(1, 13))  # fmt: skip
    comp = (
        LimitComponent("asked", Money.parse("300000"), "amount asked 申请金额"),
        LimitComponent("sales_multiple", b, "0.30 × 12m sales (PD ≤ 0.02)"),
    )
    return LimitBuildUp(comp, "sales_multiple", b, "own", factors, monthly, Money.zero(),
                        Decimal("0.1"))  # fmt: skip


@pytest.fixture(params=["sqlite", "postgresql"])
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    """Two signed lines of ¥300,000 (the firm's and another's) on 2026-01-05; the review runs
    on 2026-02-01 as of 2026-01-31 for February."""
    for a in running_api(request.param, tmp_path):
        signed_line(a)
        other = apply(a, "300000.00", uscc=OTHER)
        r = a.client.post(f"/api/v1/applications/{other['id']}/accept",
                          json={"settlement_account": ACCOUNT}, headers=a.login("otherfirm"))
        assert r.status_code == 201, r.text  # fmt: skip
        a.decider.build_ups = {
            USCC: _build("285000"),  # −5 %: within the ±10 % band
            OTHER: _build("300000", february="180000"),  # the New Year trough: −40 %
        }
        a.clock.at = fixed(2026, 2, 1)
        yield a


def _review(a: Api, by: str = "risk_manager", **body: Any) -> Any:
    return a.client.post("/api/v1/admin/limit-review", json=body, headers=a.login(by))


def _limits(a: Api) -> dict[str, str]:
    got = a.client.get("/api/v1/lines", headers=a.login("risk_manager")).json()
    return {ln["uscc"]: ln["limit"]["amount"] for ln in got}


def test_small_changes_apply_large_ones_wait_for_a_second_risk_manager(api: Api) -> None:
    r = _review(api, as_of="2026-01-31")
    assert r.status_code == 200, r.text
    run = r.json()
    assert run["month"] == "2026-02"
    assert (run["counts"]["applied"], run["counts"]["proposed"]) == (1, 1)
    by_firm = {x["uscc"]: x for x in run["reviews"]}
    assert by_firm[USCC]["outcome"] == "applied"
    proposed = by_firm[OTHER]
    assert (proposed["outcome"], proposed["target"]["amount"], proposed["change_share"]) == (
        "proposed", "180000.00", "-0.4000",
    )  # fmt: skip
    assert proposed["basis"]["season_factor"] == "0.6"
    assert [c["name"] for c in proposed["basis"]["components"]] == ["asked", "sales_multiple"]
    assert _limits(api) == {USCC: "285000.00", OTHER: "300000.00"}
    req = proposed["approval_id"]
    waiting = api.client.get("/api/v1/approvals", headers=api.login("risk_manager2")).json()
    (mine,) = [w for w in waiting if w["id"] == req]
    assert (mine["kind"], mine["kind_zh"]) == ("limit_review", "额度动态调整审批")
    assert mine["order"]["new_limit"]["amount"] == "180000.00"
    assert "季节系数 0.6" in mine["reason"]
    same = api.client.post(f"/api/v1/approvals/{req}/approve", json={},
                           headers=api.login("risk_manager"))  # fmt: skip
    assert problem(same, 403)
    ok = api.client.post(f"/api/v1/approvals/{req}/approve", json={"comment": "淡季"},
                         headers=api.login("risk_manager2"))  # fmt: skip
    assert ok.status_code == 200, ok.text
    assert _limits(api) == {USCC: "285000.00", OTHER: "180000.00"}
    again = _review(api, as_of="2026-01-31").json()
    assert (again["reviews"], again["already_reviewed"]) == ([], 2)
    listed = api.client.get("/api/v1/limit-reviews?month=2026-02",
                            headers=api.login("auditor")).json()  # fmt: skip
    assert {x["uscc"] for x in listed} == {USCC, OTHER}
    assert "approved by risk_manager2" in {x["uscc"]: x for x in listed}[OTHER]["reason_en"]


def test_the_wrong_role_and_a_date_after_today_are_refused(api: Api) -> None:
    assert "run_limit_review" in problem(_review(api, by="officer", as_of="2026-01-31"), 403)
    assert "after today" in problem(_review(api, as_of=str(date(2026, 2, 2))), 422)
    bad = api.client.get("/api/v1/limit-reviews?month=2026-13", headers=api.login("auditor"))
    assert bad.status_code == 422
    assert _limits(api) == {USCC: "300000.00", OTHER: "300000.00"}
