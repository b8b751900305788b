"""Over HTTP, on SQLite and PostgreSQL: ``GET /collections/report`` for the readers of the
collection figures (risk manager, collector, auditor) and nobody else; JSON and the HTML page.
The figures themselves are proven on a scripted book in ``test_db_collection_figures``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.api_world import Api, problem, running_api

pytestmark = pytest.mark.e2e


@pytest.fixture(params=["sqlite", "postgresql"])
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    yield from running_api(request.param, tmp_path)


def test_readers_get_the_report_and_others_are_refused(api: Api) -> None:
    """An empty book: no month ends, no rates, the case figures null; 403 for the rest."""
    for who in ("risk_manager", "collector", "auditor"):
        r = api.client.get("/api/v1/collections/report?as_of=2026-01-05", headers=api.login(who))
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["as_of"], body["month_ends"], body["roll_rates"]) == ("2026-01-05", [], [])
        assert body["cure_rate"] is None
        assert (body["cases_per_collector"], body["promise_kept_rate"]) == ([], None)
    for who in ("reviewer", "operations", "firm"):
        problem(api.client.get("/api/v1/collections/report", headers=api.login(who)), 403)
    page = api.client.get("/api/v1/collections/report.html", headers=api.login("auditor"))
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "催收指标" in page.text
