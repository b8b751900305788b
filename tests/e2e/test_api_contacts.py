"""Over HTTP, on SQLite and PostgreSQL: a customer manager registers the contacts a borrower gave
in its contract, everyone allowed sees them masked, a collector may not add one, a bad mobile or a
second contact on one mobile is refused with what to fix, and a retired contact stays on record."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.api_world import USCC, Api, problem, running_api

pytestmark = pytest.mark.e2e


@pytest.fixture(params=["sqlite", "postgresql"])
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    yield from running_api(request.param, tmp_path)


URL = f"/api/v1/borrowers/{USCC}/contacts"
WANG = {"name": "王芳", "role": "finance", "phone": "138 0013 8000", "email": "Wang@Example.com"}


def test_registered_listed_masked_and_retired(api: Api) -> None:
    r = api.client.post(URL, json=WANG, headers=api.login("officer"))
    assert r.status_code == 201, r.text
    made = r.json()
    assert (made["phone"], made["email"], made["role_zh"]) == (
        "138****8000", "w***@example.com", "财务负责人")  # fmt: skip
    assert made["registered_by"] == "officer"
    listed = api.client.get(URL, headers=api.login("collector")).json()
    assert [c["id"] for c in listed] == [made["id"]]
    assert "13800138000" not in str(listed)
    r = api.client.post(f"/api/v1/contacts/{made['id']}/retire", headers=api.login("officer"))
    assert r.json()["active"] is False
    again = api.client.get(URL, headers=api.login("officer")).json()
    assert [(c["id"], c["retired_on"]) for c in again] == [(made["id"], "2026-01-05")]


def test_what_is_refused_says_what_to_fix(api: Api) -> None:
    officer = api.login("officer")
    problem(api.client.post(URL, json=WANG, headers=api.login("collector")), 403)
    bad = {**WANG, "phone": "1380013800", "email": None}
    assert "mobile" in problem(api.client.post(URL, json=bad, headers=officer), 422)
    none = {"name": "王芳", "role": "finance"}
    assert "mobile number or an e-mail" in problem(
        api.client.post(URL, json=none, headers=officer), 422)  # fmt: skip
    problem(api.client.post(URL, json={**WANG, "role": "cousin"}, headers=officer), 422)
    assert api.client.post(URL, json=WANG, headers=officer).status_code == 201
    twice = {**WANG, "name": "王芳二", "email": None}
    assert "retire it first" in problem(api.client.post(URL, json=twice, headers=officer), 409)
    problem(api.client.get("/api/v1/borrowers/NOTAUSCC/contacts", headers=officer), 422)
