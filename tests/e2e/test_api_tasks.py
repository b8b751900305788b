"""Over HTTP, on SQLite and PostgreSQL: the officer asks for a visit and for documents on an alert,
finds them in their task queue (overdue once past due), records the findings — the alert shows
the action — and what is refused says what to fix."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.api_world import USCC, Api, problem, running_api, signed_line
from tests.fakes import FakeFeatures, FakeWarningRules

pytestmark = pytest.mark.e2e


@pytest.fixture(params=["sqlite", "postgresql"])
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    """A line for the firm (officer's), its sales 40 % under last year's: one amber alert."""
    for a in running_api(request.param, tmp_path):
        a.svc.monitor_inputs = (FakeFeatures({USCC: {"drop": 0.4}}), FakeWarningRules())
        signed_line(a)
        r = a.client.post("/api/v1/admin/monitor", json={"as_of": "2026-01-05"},
                          headers=a.login("risk_manager"))  # fmt: skip
        assert r.status_code == 200, r.text
        yield a


def _alert(a: Api) -> int:
    (alert,) = a.client.get("/api/v1/alerts", headers=a.login("officer")).json()
    found: int = alert["id"]
    return found


def _ask(a: Api, alert_id: int, by: str = "officer", **body: Any) -> Any:
    return a.client.post(f"/api/v1/alerts/{alert_id}/tasks", json=body, headers=a.login(by))


def test_visit_and_documents_through_to_the_findings(api: Api) -> None:
    alert_id = _alert(api)
    r = _ask(api, alert_id, kind="visit", note="核实订单下滑原因")
    assert r.status_code == 201, r.text
    visit = r.json()
    # amber: a visit within 7 days of the business date 2026-01-05
    assert (visit["assignee"], visit["due_on"]) == ("officer", "2026-01-12")
    assert visit["overdue"] is False
    docs = _ask(api, alert_id, kind="documents", documents=["近三个月银行流水"],
                due_on="2026-01-08").json()  # fmt: skip
    assert docs["documents"] == ["近三个月银行流水"]
    mine = api.client.get("/api/v1/tasks?mine=true", headers=api.login("officer")).json()
    assert [t["id"] for t in mine] == [docs["id"], visit["id"]]  # earliest due first
    api.clock.at += timedelta(days=5)  # 2026-01-10: the documents are 2 days late
    late = api.client.get("/api/v1/tasks", headers=api.login("risk_manager")).json()
    assert [(t["id"], t["overdue"], t["days_late"]) for t in late] == [
        (docs["id"], True, 2), (visit["id"], False, 0)]  # fmt: skip
    r = api.client.post(f"/api/v1/tasks/{visit['id']}/done", json={"text": "两条产线停工"},
                        headers=api.login("officer"))  # fmt: skip
    assert r.json()["status"] == "done", r.text
    alert = api.client.get("/api/v1/alerts", headers=api.login("officer")).json()[0]
    assert alert["status"] == "actioned"
    assert "两条产线停工" in str(alert["steps"])
    left = api.client.get("/api/v1/tasks", headers=api.login("officer")).json()
    assert [t["id"] for t in left] == [docs["id"]]
    every = api.client.get("/api/v1/tasks?all=true", headers=api.login("officer")).json()
    assert {t["id"] for t in every} == {docs["id"], visit["id"]}


def test_what_is_refused(api: Api) -> None:
    alert_id = _alert(api)
    problem(_ask(api, alert_id, by="collector", kind="visit"), 403)
    problem(_ask(api, alert_id, by="officer2", kind="visit"), 403)
    problem(_ask(api, alert_id, kind="call"), 422)
    assert "before the day" in problem(_ask(api, alert_id, kind="visit", due_on="2026-01-01"), 422)
    assert _ask(api, alert_id, kind="visit").status_code == 201
    assert "open visit" in problem(_ask(api, alert_id, kind="visit"), 409)
    problem(_ask(api, 999, kind="visit"), 404)
    (task,) = api.client.get("/api/v1/tasks", headers=api.login("officer")).json()
    url = f"/api/v1/tasks/{task['id']}"
    problem(api.client.post(f"{url}/done", json={"text": ""}, headers=api.login("officer")), 422)
    ok = api.client.post(f"{url}/cancel", json={"text": "企业已停产"}, headers=api.login("officer"))
    assert ok.json()["status"] == "cancelled"
    again = api.client.post(f"{url}/done", json={"text": "x"}, headers=api.login("officer"))
    problem(again, 409, "task-state")
