"""The web console in headless Chromium, role by role (zh-CN first, English alongside).

The real app runs under uvicorn on a free loopback port with the fake decider and a fixed clock;
the world before each story (users, an application, a line, a loan, a bank statement) is made
through the use cases, and everything the story is about is done in the browser. A screenshot of
each page is written to the test's tmp_path.
"""

from __future__ import annotations

import random
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from tests.fakes import FakeDecider
from tests.lending_fixtures import FixedClock, fixed

from loomcredit.adapters.security import hash_password
from loomcredit.bootstrap.service import Service, build_service
from loomcredit.config import Settings
from loomcredit.domain.approval import RoleGrantOrder
from loomcredit.domain.decision.outcome import CreditDecision, RateBuildUp
from loomcredit.domain.identity import generate_uscc
from loomcredit.domain.money import Money
from loomcredit.domain.payments import StatementLine
from loomcredit.service_layer import approvals, lines, origination, payments, user_admin
from loomcredit.service_layer.decisioning import DecisionRequest
from loomcredit.service_layer.users import Role, User

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="chromium is not installed at /usr/bin/chromium"
    ),
]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PW = "secret-pass-1"
USCC = generate_uscc("330603", random.Random(7))
ACCOUNT = "6222000011112222"
NOW = fixed(2026, 3, 2)
TODAY = NOW.date()
STAFF = {
    "off": "officer",
    "rev": "reviewer",
    "rm": "risk_manager",
    "rm2": "risk_manager",
    "ops": "operations",
    "adm": "admin",
    "adm2": "admin",
}
OFFICER, FIRM, OPS = (
    User("off", Role.OFFICER),
    User("firm", Role.APPLICANT, USCC),
    User("ops", Role.OPERATIONS),
)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Service]]:
    """The app under uvicorn on a free loopback port in a thread, with one user per role."""
    import uvicorn

    from loomcredit.entrypoints.api.app import create_app

    svc = build_service(Settings(home=tmp_path), decider=FakeDecider())
    svc.clock = FixedClock(NOW)
    hashed = hash_password(PW)
    with svc.uow() as uow:
        for name, role in [*STAFF.items(), ("firm", "applicant")]:
            user_admin.create_user(
                uow, actor="test", name=name, role=role, password_hash=hashed,
                enterprise=USCC if role == "applicant" else None, now=NOW,
            )  # fmt: skip
        uow.commit()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(
        uvicorn.Config(create_app(service=svc), host="127.0.0.1", port=port, log_level="error")
    )
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert thread.is_alive(), "uvicorn stopped while starting"
        assert time.monotonic() < deadline, "uvicorn did not start in 20 s"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", svc
    srv.should_exit = True
    thread.join(10)
    svc.engine.dispose()


@pytest.fixture
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium (no downloads, no background traffic)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@dataclass
class Console:
    """One browser tab on the console, with what went wrong in its scripts."""

    base: str
    page: Page
    shots: Path
    errors: list[str] = field(default_factory=list)

    def goto(self, path: str) -> None:
        self.page.goto(self.base + path)
        self.wait()

    def wait(self) -> None:
        """Until every section of the page has answered."""
        self.page.wait_for_selector("body[data-loaded]", state="attached")

    def sign_in(self, name: str, path: str = "/console") -> None:
        """Sign out whoever is in, sign ``name`` in with the keyboard, open ``path``."""
        page = self.page
        if not page.url.startswith(self.base):
            self.goto("/console")
        if page.is_visible("#signout"):
            page.click("#signout")
        page.wait_for_selector("#login:not([hidden])")
        page.fill("#user", name)
        page.fill("#pass", PW)
        page.press("#pass", "Enter")
        self.wait()
        if path != "/console":
            self.goto(path)

    def shot(self, name: str) -> None:
        """A screenshot of the page, after checking both languages are on it."""
        text = self.page.inner_text("body")
        assert any("\u4e00" <= ch <= "\u9fff" for ch in text), "no Chinese on the page"
        assert "Loom lending console" in text
        self.page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)


@pytest.fixture
def console(server: tuple[str, Service], browser: Browser, tmp_path: Path) -> Iterator[Console]:
    """A fresh tab on the console; uncaught script errors fail the test."""
    base, _svc = server
    page = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page.set_default_timeout(10_000)
    c = Console(base, page, tmp_path)
    page.on("pageerror", lambda exc: c.errors.append(str(exc)))
    page.on(
        "console",
        lambda m: (
            c.errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )  # a refused request is a console message too; the page says those in words
    yield c
    page.close()
    assert c.errors == []


# -- the world before each story, through the use cases ----------------------------------------
def reviewed_application(svc: Service, amount: str = "800000") -> int:
    """An application the fake decider sends to review (above ¥500,000), made by the officer."""
    with svc.uow() as uow:
        view = origination.create_application(
            uow, svc.decider, OFFICER, uscc=USCC, amount=Money.parse(amount), term=12,
            method="annuity", now=NOW,
        )  # fmt: skip
        uow.commit()
    assert view.app.status.value == "in_review"
    return view.app.app_id


def open_line(svc: Service, amount: str = "300000") -> int:
    """An auto-approved application, accepted by the firm: its credit line."""
    with svc.uow() as uow:
        view = origination.create_application(
            uow, svc.decider, OFFICER, uscc=USCC, amount=Money.parse(amount), term=12,
            method="annuity", now=NOW,
        )  # fmt: skip
        line = origination.accept_contract(
            uow, FIRM, view.app.app_id, settlement_account=ACCOUNT, now=NOW
        )
        uow.commit()
    return line.line_id


def draw(svc: Service, line_id: int, amount: str) -> int:
    """The firm asks, operations approves: the loan."""
    with svc.uow() as uow:
        req = lines.request_drawdown(uow, FIRM, line_id, Money.parse(amount), key="w1", now=NOW)
        out = approvals.approve(uow, OPS, req.request_id, now=NOW)
        uow.commit()
    return int(out.result.removeprefix("loan:"))


class ReferringDecider:
    """The engine without a model: every application goes to a person, with no limit."""

    def decide(self, request: DecisionRequest, as_of: date) -> CreditDecision:
        return CreditDecision.referral(
            code="NO_MODEL", text_zh="无已发布模型，转人工",
            text_en="no promoted model; a person decides", annual_rate=Decimal("0.052"),
            rate_build_up=RateBuildUp(Decimal("0.031"), Decimal("0.021")),
            engine="loom-decision test / referral", currency="CNY",
        )  # fmt: skip


def has_all(text: str, *parts: str) -> None:
    """Every part is in the text."""
    missing = [p for p in parts if p not in text]
    assert not missing, f"{missing} not in {text!r}"


def cjk_fonts(page: Page, selector: str) -> dict[str, int]:
    """The platform fonts Chromium drew the node's text with, and how many glyphs each."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    cdp.detach()
    return {f["familyName"]: f["glyphCount"] for f in fonts}


# -- the stories --------------------------------------------------------------------------------
def test_reviewer_approves_and_the_applicant_accepts_and_sees_its_line(
    console: Console, server: tuple[str, Service]
) -> None:
    """(1) A reviewer approves a reviewed application; the applicant accepts the contract with its
    settlement account and sees the credit line it opened. The zh-CN text is drawn with a CJK
    font, with English alongside."""
    from playwright.sync_api import expect

    _base, svc = server
    app_id = reviewed_application(svc)
    page = console.page
    console.goto("/console")
    assert page.is_visible("#login")
    fonts = cjk_fonts(page, "h1")
    assert any("WenQuanYi" in f or "CJK" in f for f in fonts), fonts  # not tofu boxes
    assert sum(fonts.values()) >= len("织信贷款控制台")
    has_all(page.inner_text("#login"), "登录", "Sign in")
    console.shot("01-sign-in")

    console.sign_in("rev")
    expect(page.locator("#queue-rows tr")).to_have_count(1)
    assert "¥800,000.00" in page.inner_text("#queue-rows")
    assert "人工审批 Review" in page.inner_text("#queue-rows")
    console.shot("02-reviewer-home")
    page.click(f"#queue-rows a:text-is('#{app_id}')")
    console.wait()
    expect(page.locator("#review-form")).to_be_visible()
    assert page.input_value("#approved") == "800000.00"
    assert "¥800,000.00" in page.inner_text("#app-facts")  # the decision limit, as money
    console.shot("03-application-review")
    page.fill("#comment", "经营稳定 stable business")
    page.click("#approve")
    expect(page.locator("#review-form")).to_be_hidden()
    assert "已批准 Approved" in page.inner_text("#app-facts")

    console.sign_in("firm")
    expect(page.locator("#apps-rows tr")).to_have_count(1)
    page.click(f"#apps-rows a:text-is('#{app_id}')")
    console.wait()
    expect(page.locator("#accept-form")).to_be_visible()
    assert page.inner_text("#contract-rate") == "4.50%"
    assert len(page.query_selector_all("#contract-rows tr")) == 12
    console.shot("04-contract")
    # the API refuses an account of more than 32 digits, and says so
    page.fill("#settlement-account", "1" * 33)
    page.press("#settlement-account", "Enter")
    expect(page.locator("#error")).to_contain_text("8-32 digits")
    page.fill("#settlement-account", "6222 0000 1111 2222")
    page.press("#settlement-account", "Enter")  # the keyboard signs
    page.wait_for_url("**/console/lines/*")
    console.wait()
    expect(page.locator("#notice")).to_contain_text("Contract accepted")
    facts = page.inner_text("#line-facts")
    assert "¥800,000.00" in facts  # limit and available
    assert ACCOUNT in facts
    assert "2027-03-02" in facts  # expires after the 12-month term
    assert "有效 Active" in facts
    expect(page.locator("#drawdown-form")).to_be_visible()
    console.shot("05-line")

    console.goto("/console")
    row = page.inner_text("#lines-rows")
    has_all(row, "¥800,000.00", "2027-03-02", "有效 Active")
    assert page.is_hidden("#approvals")  # nothing of the firm's waits
    console.shot("06-applicant-home")


def test_the_applicant_draws_and_operations_approves_the_disbursement(
    console: Console, server: tuple[str, Service]
) -> None:
    """(2) The applicant previews and requests a drawdown; it cannot approve its own request;
    operations approves it; the applicant sees the loan, its payoff quote, and asks to repay
    early."""
    from playwright.sync_api import expect

    _base, svc = server
    line_id = open_line(svc, "300000")
    page = console.page
    console.sign_in("firm", f"/console/lines/{line_id}")
    page.fill("#draw-amount", "100000")
    page.press("#draw-amount", "Enter")  # Enter previews; the request is its own button
    expect(page.locator("#plan-rows tr")).to_have_count(12)
    assert "等额本息 Annuity" in page.inner_text("#plan-facts")
    console.shot("07-drawdown-preview")
    page.click("#draw")
    expect(page.locator("#notice")).to_contain_text("Drawdown request #")
    expect(page.locator("#line-requests-rows tr")).to_have_count(1)
    facts = page.inner_text("#line-facts")
    has_all(facts, "¥100,000.00", "¥200,000.00")  # reserved; available
    # the requester may only withdraw its own request
    expect(page.locator("#line-requests-rows button", has_text="批准")).to_have_count(0)
    expect(page.locator("#line-requests-rows button", has_text="撤回 Withdraw")).to_have_count(1)
    console.shot("08-drawdown-requested")
    console.goto("/console")
    expect(page.locator("#approvals-rows tr")).to_have_count(1)
    expect(page.locator("#approvals-rows button", has_text="批准")).to_have_count(0)

    console.sign_in("ops")
    expect(page.locator("#approvals-rows tr")).to_have_count(1)
    row = page.inner_text("#approvals-rows")
    has_all(row, "放款审核 Disbursement", "¥100,000.00", "firm")
    console.shot("09-operations-approvals")
    page.click("#approvals-rows button:has-text('批准 Approve')")
    expect(page.locator("#notice")).to_contain_text("Approved and paid out")
    expect(page.locator("#approvals-msg")).to_contain_text("Nothing is waiting")

    console.sign_in("firm", f"/console/lines/{line_id}")
    expect(page.locator("#line-loans tr")).to_have_count(1)
    assert "¥100,000.00" in page.inner_text("#line-loans")
    assert page.is_hidden("#line-requests")
    page.click("#line-loans a")
    console.wait()
    assert "提前结清 Payoff on 2026-03-02" in page.inner_text("#payoff-facts")
    assert "¥100,000.00" in page.inner_text("#payoff-facts")
    assert len(page.query_selector_all("#loan-rows tr")) == 12
    page.click("#prepay-all")
    note = page.locator("#prepay-note")
    expect(note).to_contain_text("LN00000001")
    expect(note).to_contain_text("代扣")
    expect(note).to_contain_text("auto-debit")
    console.shot("10-loan-applicant")


def test_operations_assigns_an_unmatched_statement_line_to_the_loan(
    console: Console, server: tuple[str, Service]
) -> None:
    """(3) A statement credit from an account no borrower has waits in the exceptions queue;
    operations assigns it to the loan, and the reconciliation of the business date balances."""
    from playwright.sync_api import expect

    _base, svc = server
    loan_id = draw(svc, open_line(svc), "100000")
    stray = StatementLine(
        "CMB20260302-0001", TODAY, "6228480000000001", "绍兴某纺织有限公司",
        Money.parse("1234.56"), "货款",
    )  # fmt: skip
    with svc.uow() as uow:
        out = payments.import_statement(
            uow, OPS, [stray], file_name="s.csv", sha256="0" * 64, now=NOW
        )
        uow.commit()
    [waiting] = out.unmatched
    page = console.page
    console.sign_in("ops")
    expect(page.locator("#exceptions-rows tr")).to_have_count(1)
    row = page.inner_text("#exceptions-rows")
    has_all(row, "CMB20260302-0001", "¥1,234.56", "no borrower's account")
    recon = page.inner_text("#recon-facts")
    has_all(recon, "2026-03-02", "¥1,234.56")
    console.shot("11-operations-exceptions")
    page.fill(f"#exc-loan-{waiting.line_id}", str(loan_id))
    page.fill(f"#exc-comment-{waiting.line_id}", "客户来电确认 the firm confirmed")
    page.click(f"#assign-{waiting.line_id}")
    expect(page.locator("#notice")).to_contain_text(f"Loan #{loan_id}")
    expect(page.locator("#exceptions-msg")).to_contain_text("Nothing is waiting")
    expect(page.locator("#recon-facts")).to_contain_text("Balanced")
    booked = page.locator("#recon-facts dt:text-is('已入账 Booked') + dd")
    expect(booked).to_have_text("¥1,234.56")
    console.shot("12-reconciliation")
    console.goto(f"/console/loans/{loan_id}")
    expect(page.locator("#receipt-rows tr")).to_have_count(1)
    assert "挂账认领 Assigned" in page.inner_text("#receipt-rows")
    console.shot("13-loan-receipts")


def test_risk_manager_manages_a_line_and_asks_for_a_write_off_admin_grants_a_role(
    console: Console, server: tuple[str, Service]
) -> None:
    """A risk manager freezes and unfreezes a line and asks for a write-off (another risk manager
    rejects it, with a comment); an admin approves another admin's role grant."""
    from playwright.sync_api import expect

    _base, svc = server
    line_id = open_line(svc)
    loan_id = draw(svc, line_id, "100000")
    with svc.uow() as uow:
        grant = approvals.request_approval(
            uow, User("adm", Role.ADMIN), RoleGrantOrder("ops2", "operations", None,
            hash_password(PW)), reason="新同事 new colleague", now=NOW,
        )  # fmt: skip
        uow.commit()
    page = console.page
    console.sign_in("rm", f"/console/lines/{line_id}")
    expect(page.locator("#manage-form")).to_be_visible()
    page.fill("#manage-reason", "行业风险上升 sector risk up")
    page.click("#freeze")
    expect(page.locator("#line-facts")).to_contain_text("已冻结 Frozen")
    expect(page.locator("#drawdown-form")).to_be_hidden()
    page.click("#unfreeze")  # a reason is needed each time
    expect(page.locator("#error")).to_contain_text("A reason is required")
    page.fill("#manage-reason", "风险解除 risk cleared")
    page.click("#unfreeze")
    expect(page.locator("#line-facts")).to_contain_text("有效 Active")
    console.shot("14-risk-line")
    console.goto(f"/console/loans/{loan_id}")
    expect(page.locator("#writeoff-form")).to_be_visible()
    assert page.is_hidden("#prepay")
    page.fill("#writeoff-reason", "企业停产 the firm stopped trading")
    page.click("#writeoff")
    expect(page.locator("#notice")).to_contain_text("Write-off request #")
    console.shot("15-risk-loan")
    console.goto("/console")
    expect(page.locator("#approvals-rows tr")).to_have_count(1)
    expect(page.locator("#approvals-rows button", has_text="批准")).to_have_count(0)

    console.sign_in("rm2")
    expect(page.locator("#approvals-rows tr")).to_have_count(1)
    assert "核销审批 Write-off" in page.inner_text("#approvals-rows")
    page.click("#approvals-rows button:has-text('拒绝 Reject')")
    expect(page.locator("#error")).to_contain_text("A rejection needs a comment")
    page.fill("#approvals-rows input", "先催收 collect first")
    page.click("#approvals-rows button:has-text('拒绝 Reject')")
    expect(page.locator("#notice")).to_contain_text("Rejected")
    expect(page.locator("#approvals-msg")).to_contain_text("Nothing is waiting")
    console.shot("16-risk-approvals")

    console.sign_in("adm2")
    expect(page.locator("#approvals-rows tr")).to_have_count(1)
    row = page.inner_text("#approvals-rows")
    has_all(row, "权限授予 Role grant", "ops2", "运营 Operations")
    console.shot("17-admin-approvals")
    page.click(f"#approve-{grant.request_id}")
    expect(page.locator("#notice")).to_contain_text("user ops2 has the role")
    with svc.uow() as uow:
        made = uow.users.get("ops2")
    assert made is not None
    assert made.role is Role.OPERATIONS


def test_a_referral_is_approved_only_by_a_risk_manager_with_a_comment(
    console: Console, server: tuple[str, Service]
) -> None:
    """A referral (no model: no PD, a zero limit) shows why; a reviewer cannot approve it; a risk
    manager approves it as an exception, and only with a comment."""
    from playwright.sync_api import expect

    _base, svc = server
    with svc.uow() as uow:
        view = origination.create_application(
            uow, ReferringDecider(), OFFICER, uscc=USCC, amount=Money.parse("200000"), term=6,
            method="annuity", now=NOW,
        )  # fmt: skip
        uow.commit()
    app_id = view.app.app_id
    page = console.page
    console.sign_in("rev", f"/console/applications/{app_id}")
    expect(page.locator("#app-referral")).to_be_visible()
    assert "转人工 Referral" in page.inner_text("#app-facts")
    assert "no promoted model" in page.inner_text("#app-reasons")
    assert "¥0.00" in page.inner_text("#app-build")  # the limit, as money
    expect(page.locator("#review-hint")).to_contain_text("only a risk manager can approve")
    expect(page.locator("#approve")).to_be_hidden()
    expect(page.locator("#decline")).to_be_visible()
    console.shot("18-referral-reviewer")

    console.sign_in("rm", f"/console/applications/{app_id}")
    expect(page.locator("#approve")).to_be_visible()
    assert page.input_value("#approved") == "200000.00"
    page.click("#approve")  # no comment: the API refuses the exception
    expect(page.locator("#error")).to_contain_text("exception with a comment")
    page.fill("#comment", "实地走访，经营正常 visited the mill, trading normally")
    page.click("#approve")
    expect(page.locator("#review-form")).to_be_hidden()
    assert "已批准 Approved" in page.inner_text("#app-facts")
    assert "¥200,000.00" in page.inner_text("#app-facts")
    console.shot("19-referral-approved")


def test_the_officer_works_its_alerts_and_a_risk_manager_lifts_the_freeze(
    console: Console, server: tuple[str, Service]
) -> None:
    """(6) Monitoring raised a red court alert (the line frozen at once) and an amber sales
    alert on the firm: the officer sees both in its queue, acknowledges and actions the sales
    alert (an action needs a comment), may confirm but not lift the freeze; the risk manager
    lifts it and the line is active again."""
    from playwright.sync_api import expect
    from tests.fakes import FakeFeatures, FakeWarningRules

    from loomcredit.service_layer import monitoring

    _base, svc = server
    line_id = open_line(svc)
    with svc.uow() as uow:
        run = monitoring.monitor(uow, User("rm", Role.RISK_MANAGER),
                                 FakeFeatures({USCC: {"court": 1, "drop": 0.4}}),
                                 FakeWarningRules(), as_of=TODAY, now=NOW)  # fmt: skip
        uow.commit()
    court, drop = (a.alert_id for a in run.raised)
    page = console.page

    console.sign_in("off")
    expect(page.locator("#alerts-rows tr")).to_have_count(2)
    queue = page.inner_text("#alerts-rows")
    has_all(queue, "红色预警 Red", "橙色预警 Amber", "额度已冻结待确认", "court 1", "off")
    console.shot("12-officer-alerts")
    expect(page.locator(f"#alert-freeze-confirm-{court}")).to_be_visible()
    assert page.locator(f"#alert-freeze-lift-{court}").count() == 0  # only a risk manager lifts
    page.click(f"#alert-acknowledge-{drop}")
    expect(page.locator("#notice")).to_contain_text("已确认")
    page.click(f"#alert-action-{drop}")
    expect(page.locator("#error")).to_contain_text("A comment is required")
    page.fill(f"#alert-comment-{drop}", "已走访，订单转移 visited: orders moved")
    page.click(f"#alert-action-{drop}")
    expect(page.locator("#notice")).to_contain_text("已处置")

    console.sign_in("rm")
    page.fill(f"#alert-comment-{court}", "执行已撤案 enforcement withdrawn")
    page.click(f"#alert-freeze-lift-{court}")
    expect(page.locator("#notice")).to_contain_text("已处置")
    console.shot("13-risk-manager-alerts")
    with svc.uow() as uow:
        line = uow.lines.get(line_id)
        alert = uow.alerts.get(court)
    assert line is not None
    assert alert is not None
    assert line.status.value == "active"
    assert "解除冻结" in alert.steps[-1].comment
    assert alert.steps[-1].by == "rm"
