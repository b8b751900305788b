"""The web console in headless Chromium: sign in, see the review queue and a loan (zh-CN first)."""

from __future__ import annotations

import random
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from loomcredit.bootstrap.service import Service, add_user, build_service
from loomcredit.config import Settings
from loomcredit.domain.identity import generate_uscc
from loomcredit.domain.money import Money
from loomcredit.service_layer import disbursement, origination
from loomcredit.service_layer.users import Role, User

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="chromium is not installed at /usr/bin/chromium"
    ),
]
PW = "secret-pass-1"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Service]]:
    """uvicorn on a free loopback port in a thread."""
    import uvicorn

    from loomcredit.entrypoints.api.app import create_app

    svc = build_service(Settings(home=tmp_path))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(
        uvicorn.Config(create_app(service=svc), host="127.0.0.1", port=port, log_level="error")
    )
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    while not srv.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", svc
    srv.should_exit = True
    thread.join(10)
    svc.engine.dispose()


def test_console_shows_queue_and_loan(server: tuple[str, Service]) -> None:
    """A reviewer sees the pending application; an officer sees a loan's schedule."""
    from playwright.sync_api import sync_playwright

    base, svc = server
    add_user(svc, "rev", "reviewer", PW)
    add_user(svc, "off", "officer", PW)
    uscc = generate_uscc("330603", random.Random(11))
    now = datetime(2026, 1, 5, tzinfo=UTC)
    officer, firm = User("off", Role.OFFICER), User("f", Role.APPLICANT, uscc)
    with svc.uow() as uow:
        pending = origination.create_application(
            uow,
            svc.decider,
            officer,
            uscc=uscc,
            amount=Money.parse("800000"),
            term=12,
            method="annuity",
            as_of=date(2026, 1, 5),
            now=now,
        )
        small = origination.create_application(
            uow,
            svc.decider,
            officer,
            uscc=uscc,
            amount=Money.parse("50000"),
            term=6,
            method="annuity",
            as_of=date(2026, 1, 5),
            now=now,
        )
        origination.accept_contract(uow, firm, small["id"], now=now)
        loan = disbursement.disburse(
            uow, officer, small["id"], key="c1", as_of=date(2026, 1, 5), now=now
        )
        uow.commit()
    assert pending["status"] == "in_review"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        page = browser.new_page()
        page.goto(base + "/console")
        assert "审批队列" in page.content()
        page.fill("#user", "rev")
        page.fill("#pass", PW)
        page.click("#signin")
        page.wait_for_selector("#queue-rows tr")
        assert "¥800,000.00" in page.inner_text("#queue-rows")
        page.evaluate("sessionStorage.clear()")
        page.goto(f"{base}/console/loans/{loan['id']}")
        page.fill("#user", "off")
        page.fill("#pass", PW)
        page.click("#signin")
        page.wait_for_selector("#loan-rows tr")
        assert len(page.query_selector_all("#loan-rows tr")) == 6
        assert "¥50,000.00" in page.inner_text("#loan-facts")
        # payoff quote on the business date: principal + interest since 2026-01-05 (4.5 % ACT/360)
        payoff = page.inner_text("#loan-facts")
        assert "提前结清 Payoff on" in payoff
        assert "本期应计利息" in payoff
        assert "等额本息 Annuity" in page.inner_text("#loan-facts")
        browser.close()


def test_reviewer_decides_and_applicant_accepts_in_the_console(
    server: tuple[str, Service],
) -> None:
    """A reviewer opens an application, is refused above the limit, approves at it; the applicant
    then sees the annualised rate and accepts the contract, all in the browser."""
    from playwright.sync_api import sync_playwright

    base, svc = server
    uscc = generate_uscc("330603", random.Random(12))
    add_user(svc, "rev", "reviewer", PW)
    add_user(svc, "firm", "applicant", PW, uscc)

    def limited(u: str, amount: Money, term: int, method: str, as_of: date) -> dict[str, object]:
        return {
            "band": "review",
            "annual_rate": "0.0525",
            "limit": 30_000_000,
            "band_reasons": ["可贷额度低于申请金额 / limit below the amount asked"],
        }

    with svc.uow() as uow:
        app = origination.create_application(
            uow,
            limited,
            User("off", Role.OFFICER),
            uscc=uscc,
            amount=Money.parse("800000"),
            term=12,
            method="annuity",
            as_of=date(2026, 1, 5),
            now=datetime(2026, 1, 5, tzinfo=UTC),
        )
        uow.commit()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        page = browser.new_page()
        page.goto(base + "/console")
        page.fill("#user", "rev")
        page.fill("#pass", PW)
        page.click("#signin")
        page.click("#queue-rows tr")
        page.wait_for_selector("#review-form:not([hidden])")
        assert "limit below the amount asked" in page.inner_text("#app-reasons")
        assert page.input_value("#approved") == "300000.00"
        page.fill("#approved", "800000")
        page.click("#approve")
        page.wait_for_function("document.getElementById('error').textContent.length > 0")
        assert "¥300,000.00" in page.inner_text("#error")
        page.fill("#approved", "300000")
        page.click("#approve")
        page.wait_for_selector("#review-form", state="hidden")
        assert "已批准 Approved" in page.inner_text("#app-facts")
        page.click("#signout")
        page.fill("#user", "firm")
        page.fill("#pass", PW)
        page.click("#signin")
        page.click("#apps-rows tr")
        page.wait_for_selector("#accept:not([hidden])")
        assert page.inner_text("#contract-rate") == "5.25%"
        assert len(page.query_selector_all("#contract-rows tr")) == 12
        assert "等额本息 annuity" in page.inner_text("#contract-facts")
        assert "按申请的还款方式 / the repayment method asked for" in page.inner_text(
            "#contract-facts"
        )
        page.click("#accept")
        page.wait_for_selector("#accept", state="hidden")
        assert "已签约 Accepted" in page.inner_text("#app-facts")
        browser.close()
    with svc.uow() as uow:
        row = uow.get_application(app["id"])
    assert row is not None
    assert (row["status"], row["approved_fen"]) == ("accepted", 30_000_000)
