"""Over HTTP, on SQLite and PostgreSQL: end of day queues a loan's T−7 reminder, operations
reads the outbox and runs a delivery (the embedded default: the console inbox only, said in the
answer), a collector may read but not send, and each applicant reads only its own inbox."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.api_world import Api, money, problem, running_api, signed_line
from tests.lending_fixtures import fixed

pytestmark = pytest.mark.e2e


@pytest.fixture(params=["sqlite", "postgresql"])
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    """A loan drawn on 2026-01-05 (first due 2026-02-05) and end of day run for 2026-01-29."""
    for a in running_api(request.param, tmp_path):
        _, line_id = signed_line(a)
        r = a.client.post(f"/api/v1/lines/{line_id}/drawdowns", json={"amount": money("120000.00")},
                          headers={**a.login("firm"), "Idempotency-Key": "d1"})  # fmt: skip
        assert r.status_code == 202, r.text
        ok = a.client.post(f"/api/v1/approvals/{r.json()['id']}/approve", json={},
                           headers=a.login("operations"))  # fmt: skip
        assert ok.status_code == 200, ok.text
        a.clock.at = fixed(2026, 1, 29)
        eod = a.client.post("/api/v1/admin/eod", json={"as_of": "2026-01-29"},
                            headers=a.login("operations"))  # fmt: skip
        assert eod.status_code == 200, eod.text
        yield a


def test_the_reminder_is_queued_sent_and_read_by_its_borrower(api: Api) -> None:
    """T−7 queued for the inbox; one delivery run delivers it; the firm reads it, another firm
    sees nothing."""
    c, ops = api.client, api.login("operations")
    (row,) = c.get("/api/v1/notices", headers=ops).json()
    assert (row["kind"], row["channel"], row["status"]) == ("T-7", "inbox", "queued")
    assert row["due_on"] == "2026-02-05"
    assert row["policy_version"] == "keqiao-notices-2026-12"
    sent = c.post("/api/v1/admin/notices/send", headers=ops)
    assert sent.status_code == 200, sent.text
    assert (sent.json()["delivered"], sent.json()["failed"]) == (1, 0)
    assert any("not configured" in note for note in sent.json()["channels"])
    (done,) = c.get("/api/v1/notices?status=delivered", headers=ops).json()
    assert done["id"] == row["id"]
    (msg,) = c.get("/api/v1/inbox", headers=api.login("firm")).json()
    assert msg["key"] == row["key"]
    assert msg["subject"].startswith("【还款提醒】")
    assert "2026-02-05" in msg["body"]
    assert c.get("/api/v1/inbox", headers=api.login("otherfirm")).json() == []


def test_a_collector_reads_the_outbox_but_may_not_send(api: Api) -> None:
    """Reading is the collector's right, sending is operations'; an applicant reads neither."""
    col = api.login("collector")
    assert len(api.client.get("/api/v1/notices", headers=col).json()) == 1
    problem(api.client.post("/api/v1/admin/notices/send", headers=col), 403)
    problem(api.client.get("/api/v1/notices", headers=api.login("firm")), 403)
