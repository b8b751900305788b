"""Over HTTP, on SQLite and PostgreSQL: post-loan monitoring raises alerts on the borrowers with a
line, the customer manager who made the application finds them in their queue and works them
open → acknowledged → actioned → closed; the wrong person, a step out of order, a closing without
a comment and a date after today are refused with a problem that says what to fix.

The monitor's inputs are the typed fakes of its two ports (features per firm, and two rules:
court enforcement → red, a sales drop over 30 % → amber)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.api_world import USCC, Api, money, problem, running_api, signed_line
from tests.fakes import FakeFeatures, FakeWarningRules

pytestmark = pytest.mark.e2e


@pytest.fixture(params=["sqlite", "postgresql"])
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    """The service with a line for the firm, made by ``officer``; the firm has an enforcement
    case and its sales are 40 % under last year's."""
    for a in running_api(request.param, tmp_path):
        a.svc.monitor_inputs = (
            FakeFeatures({USCC: {"court": 1, "drop": 0.4}}),
            FakeWarningRules(),
        )
        signed_line(a)
        yield a


def _monitor(a: Api, **body: Any) -> dict[str, Any]:
    r = a.client.post("/api/v1/admin/monitor", json=body, headers=a.login("risk_manager"))
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def _step(a: Api, alert_id: int, step: str, by: str, comment: str = "") -> Any:
    return a.client.post(
        f"/api/v1/alerts/{alert_id}/{step}", json={"comment": comment}, headers=a.login(by)
    )


def test_the_officer_works_their_alert_to_closed(api: Api) -> None:
    """The run raises the firm's two alerts with evidence, assigned to the officer, red first;
    a second run raises none; each step is kept with its person and comment, and audited."""
    run = _monitor(api, as_of="2026-01-05")
    assert (run["borrowers"], run["rules_version"], run["without_data"]) == (1, "test-1", [])
    assert [(a["rule"], a["level"], a["assignee"]) for a in run["raised"]] == [
        ("COURT", "red", "officer"),
        ("SALES_DROP", "amber", "officer"),
    ]
    again = _monitor(api, as_of="2026-01-05")
    assert (again["raised"], again["refreshed"]) == ([], [])

    mine = api.client.get("/api/v1/alerts?mine=true", headers=api.login("officer")).json()
    assert [a["rule"] for a in mine] == ["COURT", "SALES_DROP"]
    court = mine[0]
    assert court["level_zh"] == "红色预警"
    assert court["evidence"][0]["value"] == "1"
    assert court["evidence"][0]["as_of"] == "2026-01-05"
    assert api.client.get("/api/v1/alerts?mine=true", headers=api.login("officer2")).json() == []

    for step, comment in (("acknowledge", ""), ("action", "visited 已走访"), ("close", "lifted")):
        r = _step(api, court["id"], step, "officer", comment)
        assert r.status_code == 200, r.text
    closed = r.json()
    assert [(s["status"], s["by"], s["comment"]) for s in closed["steps"]] == [
        ("acknowledged", "officer", ""),
        ("actioned", "officer", "visited 已走访"),
        ("closed", "officer", "lifted"),
    ]
    queue = api.client.get("/api/v1/alerts", headers=api.login("collector")).json()
    assert [a["rule"] for a in queue] == ["SALES_DROP"]
    everything = api.client.get("/api/v1/alerts?status=closed", headers=api.login("auditor")).json()
    assert [a["id"] for a in everything] == [court["id"]]
    with api.svc.uow() as uow:
        audit = [
            (r.actor, r.action) for r in uow.audit.records() if r.subject == f"alert:{court['id']}"
        ]
    assert audit == [
        ("officer", "alert.acknowledged"),
        ("officer", "alert.actioned"),
        ("officer", "alert.closed"),
    ]


def test_the_wrong_person_a_wrong_step_and_a_future_date_are_refused(api: Api) -> None:
    """Another officer: 403; actioned before acknowledged: 409; closing without a comment: 422;
    a reviewer cannot run the monitor (403), nor can anyone as of a date after today (422)."""
    (court, drop) = _monitor(api)["raised"]
    assert "assigned to officer" in problem(_step(api, court["id"], "acknowledge", "officer2"), 403)
    assert "cannot become actioned" in problem(
        _step(api, court["id"], "action", "officer", "x"), 409, "alert-state"
    )
    assert "needs a comment" in problem(_step(api, drop["id"], "close", "officer", " "), 422)
    r = _step(api, drop["id"], "close", "risk_manager", "sales back in line 销售已恢复")
    assert r.status_code == 200, r.text
    assert problem(_step(api, 999999, "acknowledge", "risk_manager"), 404)

    r = api.client.post("/api/v1/admin/monitor", json={}, headers=api.login("reviewer"))
    problem(r, 403)
    r = api.client.post(
        "/api/v1/admin/monitor", json={"as_of": "2026-01-06"}, headers=api.login("operations")
    )
    assert "after today" in problem(r, 422)


def _line(a: Api) -> dict[str, Any]:
    """The firm's one credit line as it sees it."""
    (line,) = a.client.get("/api/v1/lines", headers=a.login("firm")).json()
    out: dict[str, Any] = line
    return out


def _drawdown(a: Api, key: str) -> Any:
    return a.client.post(
        f"/api/v1/lines/{_line(a)['id']}/drawdowns",
        json={"amount": money("10000.00")},
        headers={**a.login("firm"), "Idempotency-Key": key},
    )


def test_a_court_alert_freezes_the_line_until_a_risk_manager_lifts_it(api: Api) -> None:
    """The red court alert froze the line at once (the firm cannot draw); the officer may not
    lift it, the risk manager does, with a reason, and the firm draws again."""
    run = _monitor(api)
    assert run["lines_frozen"] == [_line(api)["id"]]
    court = run["raised"][0]
    assert (court["rule"], court["froze_line"], court["freeze_pending"]) == ("COURT", True, True)
    assert _line(api)["status"] == "frozen"
    problem(_drawdown(api, "d-1"), 409, "credit-line")

    url = f"/api/v1/alerts/{court['id']}/freeze"
    lift = {"decision": "lift", "comment": "enforcement withdrawn 已撤案"}
    problem(api.client.post(url, json=lift, headers=api.login("officer")), 403)
    problem(
        api.client.post(
            url, json={"decision": "lift", "comment": ""}, headers=api.login("risk_manager")
        ),
        422,
    )
    r = api.client.post(url, json=lift, headers=api.login("risk_manager"))
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["freeze_pending"]) == ("actioned", False)
    assert _line(api)["status"] == "active"
    assert _drawdown(api, "d-2").status_code == 202
    problem(api.client.post(url, json=lift, headers=api.login("risk_manager")), 409, "alert-state")


def test_a_reduction_asked_on_an_alert_is_made_when_a_risk_manager_approves(api: Api) -> None:
    """The officer asks to lower the line to ¥200,000 on the sales alert (202, an approval);
    the line keeps its limit until a risk manager approves, then the alert shows the action."""
    drop = _monitor(api)["raised"][1]
    body = {"limit": money("200000.00"), "reason": "sales 40 % under last year 销售同比降四成"}
    r = api.client.post(
        f"/api/v1/alerts/{drop['id']}/reduce-line", json=body, headers=api.login("officer")
    )
    assert r.status_code == 202, r.text
    req = r.json()
    assert (req["kind"], req["kind_zh"], req["status"]) == (
        "line_reduction",
        "额度压降审批",
        "pending",
    )
    assert req["order"]["new_limit"]["amount"] == "200000.00"
    assert _line(api)["limit"]["amount"] == "300000.00"
    waiting = api.client.get("/api/v1/approvals", headers=api.login("risk_manager")).json()
    assert [a["id"] for a in waiting if a["kind"] == "line_reduction"] == [req["id"]]
    ok = api.client.post(
        f"/api/v1/approvals/{req['id']}/approve", json={}, headers=api.login("risk_manager")
    )
    assert ok.status_code == 200, ok.text
    assert _line(api)["limit"]["amount"] == "200000.00"
    (alert,) = [
        a
        for a in api.client.get("/api/v1/alerts", headers=api.login("officer")).json()
        if a["id"] == drop["id"]
    ]
    assert alert["status"] == "actioned"
    assert alert["steps"][-1]["by"] == "risk_manager"
    r = api.client.post(
        f"/api/v1/alerts/{drop['id']}/reduce-line", json=body, headers=api.login("officer")
    )
    assert "must lower the limit" in problem(r, 422)


def test_end_of_day_can_monitor_once_the_book_is_closed(api: Api) -> None:
    """Operations runs end of day with ``monitor``: the day closes and the alerts come with it;
    without it end of day monitors nothing."""
    ops = api.login("operations")
    r = api.client.post("/api/v1/admin/eod", json={"as_of": "2026-01-05", "monitor": True},
                        headers=ops)  # fmt: skip
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["as_of"], body["days_run"]) == ("2026-01-05", 1)
    assert [a["rule"] for a in body["monitor"]["raised"]] == ["COURT", "SALES_DROP"]
    again = api.client.post("/api/v1/admin/eod", json={"as_of": "2026-01-05"}, headers=ops)
    assert again.json()["already"] is True
    assert "monitor" not in again.json()


def test_an_alert_nobody_acknowledged_in_time_is_escalated(api: Api) -> None:
    """A red alert still open a day and a minute later is escalated, once; amber waits."""
    (court, _) = _monitor(api)["raised"]
    api.clock.at = api.clock.at.replace(day=6, minute=1)
    ops = api.login("operations")
    done = api.client.post("/api/v1/admin/alerts/escalate", headers=ops).json()
    assert [(a["id"], a["escalated_at"] is not None) for a in done] == [(court["id"], True)]
    assert api.client.post("/api/v1/admin/alerts/escalate", headers=ops).json() == []
