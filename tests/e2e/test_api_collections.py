"""Over HTTP, on SQLite and PostgreSQL: the collector finds an M3+ case in the queue, a contact at
21:05 China time is refused with a 422 naming the rule (and audited), one at 10:00 is recorded
with a promise, the collector escalates to legal action, the collector cannot approve it, a risk
manager does and the case closes as handed to legal.

The case is seeded through the repository (end of day's opening of cases is tested in
``tests/unit/test_collections.py`` and ``tests/integration/test_db_collections.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from tests.api_world import USCC, Api, money, problem, running_api
from tests.collections_book import china

from loomcredit.adapters.collections_policy_file import load_collections_policy
from loomcredit.domain.collections import Arrears, CollectionCase, LoanArrears
from loomcredit.domain.contacts import Contact, ContactRole
from loomcredit.domain.money import Money

pytestmark = pytest.mark.e2e
M = Money.parse
DAY = date(2026, 1, 5)


@pytest.fixture(params=["sqlite", "postgresql"])
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    """The service with one M3+ case for the firm assigned to ``collector`` and one contact."""
    for a in running_api(request.param, tmp_path):
        with a.svc.uow() as uow:
            contact_id = uow.contacts.add(
                Contact.register(
                    uscc=USCC,
                    name="王芳",
                    role=ContactRole.FINANCE,
                    phone="13800138000",
                    email=None,
                    on=DAY,
                    by="officer",
                )
            )
            arrears = Arrears.of(
                [LoanArrears(1, USCC, 95, M("30000"), M("1200"), M("300"), M("200000"))]
            )
            case = CollectionCase.open(
                uscc=USCC,
                region="330603",
                arrears=arrears,
                on=DAY,
                pd=Decimal("0.05"),
                season_factors=None,
                collector="collector",
                policy=load_collections_policy(),
            )
            uow.cases.add(case)
            uow.commit()
        a.contact_id = contact_id  # type: ignore[attr-defined]
        a.case_id = case.case_id  # type: ignore[attr-defined]
        yield a


def _at(a: Api, at: datetime) -> None:
    a.clock.at = at


def test_the_collector_works_an_m3_plus_case_to_legal(api: Api) -> None:
    """Queue → refused contact (conduct-contact-hours) → contact with a promise → escalation →
    four eyes → closed as legal."""
    col, rm = api.login("collector"), api.login("risk_manager")
    queue = api.client.get("/api/v1/collections/queue?bucket=M3%2B", headers=col).json()
    assert [(c["id"], c["bucket"], c["collector"]) for c in queue] == [
        (api.case_id, "M3+", "collector")
    ]  # type: ignore[attr-defined]
    # priority = 0.05 × (200,000 + 1,200 + 300) × 0.45 = ¥4,533.75 (January: February is no
    # cash-in month)
    assert queue[0]["priority"] == money("4533.75")
    url = f"/api/v1/collections/cases/{api.case_id}"  # type: ignore[attr-defined]
    body = {"kind": "call", "outcome": "no_answer", "contact_id": api.contact_id}  # type: ignore[attr-defined]
    _at(api, china(DAY, 21, 5))
    col = api.login("collector")
    detail = problem(
        api.client.post(f"{url}/contacts", json=body, headers=col), 422, "conduct-contact-hours"
    )
    assert "21:05" in detail
    _at(api, china(date(2026, 1, 6), 10))
    col, rm = api.login("collector"), api.login("risk_manager")
    promised = {
        **body,
        "outcome": "promise",
        "promise_amount": money("5000.00"),
        "promise_on": "2026-01-15",
    }
    r = api.client.post(f"{url}/contacts", json=promised, headers=col)
    assert r.status_code == 201, r.text
    case = api.client.get(url, headers=col).json()
    assert [(a["outcome"], a["by"]) for a in case["activities"]] == [("promise", "collector")]
    assert [(p["amount"], p["due_on"], p["status"]) for p in case["promises"]] == [
        (money("5000.00"), "2026-01-15", "pending")
    ]
    r = api.client.post(
        f"{url}/escalate", json={"to": "legal", "reason": "M3+, 95 天"}, headers=col
    )
    assert r.status_code == 202, r.text
    (req,) = r.json()
    problem(
        api.client.post(
            f"/api/v1/approvals/{req['id']}/approve", json={"comment": ""}, headers=col
        ),
        403,
    )
    r = api.client.post(
        f"/api/v1/approvals/{req['id']}/approve", json={"comment": "同意起诉"}, headers=rm
    )
    assert r.status_code == 200, r.text
    done = api.client.get(url, headers=col).json()
    assert (done["status"], done["close_reason"]) == ("closed", "legal")
    with api.svc.uow() as uow:
        actions = [r.action for r in uow.audit.records()]
    assert "collections.contact_refused" in actions
    assert "collections.legal_action" in actions
