"""Loans follow the repayment plan the decision suggested: the contract shows it, disbursement
books the same schedule, a reviewer's lower amount scales it; records without one keep the method
asked (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from tests.lending_fixtures import database_url, fixed, seasonal_decider

from loomcredit.bootstrap.service import Service, build_service
from loomcredit.config import Settings
from loomcredit.domain.errors import LoomError
from loomcredit.domain.identity import generate_uscc
from loomcredit.domain.money import Money
from loomcredit.service_layer import disbursement, origination
from loomcredit.service_layer.users import Role, User

pytestmark = pytest.mark.integration
START = date(2026, 1, 5)  # first due date 2026-02-20 under a plan
NOW = fixed(2026, 3, 10)
OFFICER = User("officer", Role.OFFICER)
RISK = User("risk", Role.RISK_MANAGER)
# Cluster troughs are January, February, July, August and December, so a seasonal plan repays
# no principal on the 20th of the month after each: February (also the CNY window), March,
# August (also avoided outright), September and January — except at maturity.
NO_PRINCIPAL_MONTHS_FROM_JANUARY = {2, 3, 8, 9}


def plain_decider(uscc: str, amount: Money, term: int, method: str, as_of: date) -> dict[str, Any]:
    """An older record: band and rate, no plan."""
    return {"band": "auto_approve", "annual_rate": "0.045", "limit": amount.minor, "pd": "0.01"}


@pytest.fixture(params=["sqlite", "postgresql"])
def svc(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Service]:
    """A migrated database with the seasonal decider."""
    for url in database_url(request.param, tmp_path):
        s = build_service(Settings(home=tmp_path), url=url)
        s.decider = seasonal_decider
        yield s
        s.engine.dispose()


def apply(svc: Service, yuan: int, seed: int, *, term: int = 12) -> tuple[int, User]:
    """An application decided as of START; its id and the applicant."""
    uscc = generate_uscc("330603", random.Random(seed))
    with svc.uow() as uow:
        app = origination.create_application(
            uow,
            svc.decider,
            OFFICER,
            uscc=uscc,
            amount=Money.parse(yuan),
            term=term,
            method="annuity",
            as_of=START,
            now=NOW,
        )
        uow.commit()
    return int(app["id"]), User("firm", Role.APPLICANT, uscc)


def contract(svc: Service, app_id: int, firm: User, start: date) -> dict[str, Any]:
    """The contract for a loan starting on ``start``."""
    with svc.uow() as uow:
        return origination.contract(uow, firm, app_id, as_of=start, now=NOW)


def accept_and_disburse(
    svc: Service, app_id: int, firm: User, start: date
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Accept, disburse on ``start``; the loan row and its stored instalments."""
    with svc.uow() as uow:
        origination.accept_contract(uow, firm, app_id, now=NOW)
        loan = disbursement.disburse(uow, OFFICER, app_id, key=f"d{app_id}", as_of=start, now=NOW)
        uow.commit()
    with svc.uow() as uow:
        return loan, uow.installments(loan["id"])


def lines(schedule: list[dict[str, Any]]) -> list[tuple[int, date, int, int]]:
    """Contract lines as (number, due, principal fen, interest fen)."""
    return [(i["number"], i["due_on"], i["principal"].minor, i["interest"].minor) for i in schedule]


def stored(rows: list[dict[str, Any]]) -> list[tuple[int, date, int, int]]:
    """Stored instalments as (number, due, principal fen, interest fen)."""
    return [(r["number"], r["due_on"], r["principal_fen"], r["interest_fen"]) for r in rows]


def test_seasonal_contract_shows_the_plan_and_disbursement_books_it(svc: Service) -> None:
    """A seasonal firm's contract is the custom plan (自定义本金计划), due on the 20th, with no
    principal after the troughs; the loan books exactly that schedule and method."""
    app_id, firm = apply(svc, 500_000, 1)
    c = contract(svc, app_id, firm, START)
    assert (c["method"], c["method_zh"]) == ("custom", "自定义本金计划")
    assert c["method_asked"] == "annuity"
    assert c["plan"]["seasonal"] is True
    assert "淡季只付息" in c["plan"]["reason_zh"]
    assert "interest only through troughs" in c["plan"]["reason_en"]
    sched = c["schedule"]
    assert [i["due_on"] for i in sched][:2] == [date(2026, 2, 20), date(2026, 3, 20)]
    assert all(i["due_on"].day == 20 for i in sched)
    zero = {i["due_on"].month for i in sched[:-1] if i["principal"].is_zero()}
    assert zero == NO_PRINCIPAL_MONTHS_FROM_JANUARY
    assert all(i["interest"].is_positive() for i in sched)  # interest only, not a holiday
    assert sum(i["principal"].minor for i in sched) == Money.parse("500000").minor
    assert sched[-1]["balance_after"].is_zero()
    loan, rows = accept_and_disburse(svc, app_id, firm, START)
    assert loan["method"] == "custom"
    assert stored(rows) == lines(sched)


def test_reviewer_reduced_amount_scales_the_plan(svc: Service) -> None:
    """Asked ¥800,000 (reviewed), approved ¥300,000: each month repays its weight's share of
    ¥300,000 (in hundreds of yuan), the trough months still nothing; that is what is booked."""
    app_id, firm = apply(svc, 800_000, 2)
    with svc.uow() as uow:
        origination.review(
            uow, RISK, app_id, "approve", comment="less", now=NOW, approved=Money.parse("300000")
        )
        weights = json.loads(uow.get_application(app_id)["decision_json"])["record"]["plan"]
        uow.commit()
    weights = weights["weights"]
    c = contract(svc, app_id, firm, START)
    assert c["amount"] == Money.parse("300000")
    sched = c["schedule"]
    assert sum(i["principal"].minor for i in sched) == Money.parse("300000").minor
    share = [Fraction(w, sum(weights)) * Money.parse("300000").minor for w in weights]
    for line, exact in zip(sched, share, strict=True):
        assert abs(line["principal"].minor - exact) <= 10_000  # whole hundreds of yuan
    zero = {i["due_on"].month for i in sched[:-1] if i["principal"].is_zero()}
    assert zero == NO_PRINCIPAL_MONTHS_FROM_JANUARY
    loan, rows = accept_and_disburse(svc, app_id, firm, START)
    assert loan["principal_fen"] == Money.parse("300000").minor
    assert stored(rows) == lines(sched)


def test_a_later_start_moves_the_plan_with_the_calendar(svc: Service) -> None:
    """Decided in January, lent on 10 March: dues from 20 April, still no principal in August or
    September, and the loan books the contract shown on that date."""
    app_id, firm = apply(svc, 400_000, 3)
    later = date(2026, 3, 10)
    sched = contract(svc, app_id, firm, later)["schedule"]
    assert sched[0]["due_on"] == date(2026, 4, 20)
    by_month = {i["due_on"].month: i["principal"] for i in sched}
    assert by_month[8].is_zero()
    assert by_month[9].is_zero()
    assert by_month[10].is_positive()
    assert sum(i["principal"].minor for i in sched) == Money.parse("400000").minor
    _, rows = accept_and_disburse(svc, app_id, firm, later)
    assert stored(rows) == lines(sched)


def test_a_record_without_a_plan_keeps_the_method_asked(svc: Service) -> None:
    """Older records (and the fallback rules) carry no plan: a level annuity due on the start day
    of each month, booked as ``annuity``."""
    svc.decider = plain_decider
    app_id, firm = apply(svc, 120_000, 4)
    c = contract(svc, app_id, firm, START)
    assert (c["method"], c["method_zh"]) == ("annuity", "等额本息")
    assert c["plan"]["from_decision"] is False
    sched = c["schedule"]
    assert sched[0]["due_on"] == date(2026, 2, 5)
    assert len({i["payment"] for i in sched[:-1]}) == 1  # level instalments
    loan, rows = accept_and_disburse(svc, app_id, firm, START)
    assert loan["method"] == "annuity"
    assert stored(rows) == lines(sched)


def test_a_damaged_plan_is_not_lent_on(svc: Service) -> None:
    """A record whose plan cannot be read stops the contract instead of lending on a guess."""

    def damaged(uscc: str, amount: Money, term: int, method: str, as_of: date) -> dict[str, Any]:
        out = seasonal_decider(uscc, amount, term, method, as_of)
        out["record"]["plan"]["weights"] = [100, 100]  # 2 periods for a 12-month loan
        return out

    svc.decider = damaged
    app_id, firm = apply(svc, 100_000, 5)
    with pytest.raises(LoomError, match="2 periods"):
        contract(svc, app_id, firm, START)
