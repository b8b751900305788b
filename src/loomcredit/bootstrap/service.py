"""Wiring of the lending service: engine, unit of work, decider, migrations, users, demo."""

from __future__ import annotations

import logging
import random
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from loomcredit.adapters.security import hash_password
from loomcredit.adapters.sqlalchemy_uow import SqlAlchemyUnitOfWork, make_engine
from loomcredit.config import Settings
from loomcredit.domain.identity import generate_uscc
from loomcredit.domain.money import Money
from loomcredit.service_layer import disbursement, eod, origination, repayment
from loomcredit.service_layer.users import Role, User, parse_role, validate_new_user

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parents[3] / "migrations"


def rule_based_decider(
    uscc: str, amount: Money, term: int, method: str, as_of: date
) -> dict[str, Any]:
    """FALLBACK decider (规则兜底, not the credit model): used when the real engine is not wired.

    Bands by amount only: ≤ 500k auto-approve, ≤ 3m review, above decline; LPR 1Y 3.00 % + 150 bp.
    """
    lpr, spread = Decimal("0.0300"), Decimal("0.0150")
    if amount.minor <= 50_000_000:
        band = "auto_approve"
    elif amount.minor <= 300_000_000:
        band = "review"
    else:
        band = "decline"
    return {
        "band": band,
        "annual_rate": str(lpr + spread),
        "limit": min(amount.minor, 300_000_000),
        "pd": "0.020000",
        "reasons": ["FALLBACK_RULES: amount-based bands; the credit model is not wired"],
        "band_reasons": [f"按金额分层（兜底规则）/ amount-based band: {band}"],
        "rate_build_up": {"lpr_1y": str(lpr), "spread": str(spread)},
        "engine": "fallback-rules-v1",
    }


def engine_decider(settings: Settings) -> Callable[..., dict[str, Any]] | None:
    """The real decision engine (H7's ``make_decision``) if its model and lake are present."""
    from loomcredit.bootstrap.decision import build_decision_service
    from loomcredit.service_layer.decisioning import DecisionRequest

    try:
        ds = build_decision_service(settings)
    except (OSError, LookupError, ValueError) as exc:
        log.warning("decision engine unavailable (%s); using the FALLBACK rules", exc)
        return None

    def decide(uscc: str, amount: Money, term: int, method: str, as_of: date) -> dict[str, Any]:
        rec = ds.decide(
            DecisionRequest(uscc, amount, term_months=term, method=method), as_of, explain=True
        )
        return {
            "band": rec.band.value,
            "annual_rate": str(rec.price.annual_rate),
            "limit": rec.limit.limit.minor,
            "pd": str(rec.pd),
            "reasons": [f"{r.code}: {r.text_zh} / {r.text_en}" for r in rec.reason_codes],
            "rate_build_up": {
                "lpr_1y": str(rec.price.lpr_1y),
                "spread": str(rec.price.spread),
                "all_in_rate": str(rec.price.all_in_rate),
                "bound": rec.price.bound,
            },
            "band_reasons": [f"{r.text_zh} / {r.text_en}" for r in rec.band_reasons],
            "decision_id": rec.decision_id,
            "engine": f"loom-decision {rec.policy_version} / {rec.model_version}",
            # The whole record (DESIGN.md §4): rules, features, price and limit build-ups, plan,
            # versions and what would change the outcome, so a reviewer sees every step.
            "record": rec.to_dict(),
        }

    return decide


@dataclass
class Service:
    """The wired service: engine, a unit-of-work factory, the decider, the token secret."""

    settings: Settings
    engine: Engine
    decider: Callable[..., dict[str, Any]] = rule_based_decider
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    token_ttl: timedelta = timedelta(hours=8)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    pii_key: bytes | None = None

    def uow(self) -> SqlAlchemyUnitOfWork:
        """A fresh unit of work."""
        return SqlAlchemyUnitOfWork(self.engine, self.pii_key)


def upgrade_database(url: str) -> None:
    """Apply all Alembic migrations to the database at ``url``."""
    from alembic import command
    from alembic.config import Config

    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    cfg = Config(str(MIGRATIONS / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(cfg, "head")


def build_service(
    settings: Settings,
    *,
    url: str | None = None,
    upgrade: bool = True,
    secret: str | None = None,
    real_decider: bool = False,
) -> Service:
    """Wire the service on the configured database (migrated first unless ``upgrade`` is False).

    ``real_decider`` wires the decision engine when its model is in LOOM_HOME (else the clearly
    labelled fallback rules); `loom serve` asks for it, tests use the fallback or a fake.
    """
    db = url or settings.sqlalchemy_url
    if upgrade:
        upgrade_database(db)
    from loomcredit.bootstrap.keys import pii_key

    key = pii_key(settings)
    svc = Service(settings=settings, engine=make_engine(db), pii_key=key)
    if real_decider:
        svc.decider = engine_decider(settings) or rule_based_decider
    if secret:
        svc.secret = secret
    return svc


def add_user(
    svc: Service, name: str, role: str, password: str, enterprise: str | None = None
) -> dict[str, Any]:
    """Create a user with a hashed password; audited."""
    r = parse_role(role)
    uscc = validate_new_user(name, r, enterprise)
    now = svc.clock()
    with svc.uow() as uow:
        uow.add_user(
            {
                "name": name,
                "role": r.value,
                "enterprise_uscc": uscc,
                "password_hash": hash_password(password),
                "created_at": now,
            }
        )
        uow.audit("admin", "user.added", f"user:{name}", {"role": r.value, "enterprise": uscc}, now)
        uow.commit()
    return {"name": name, "role": r.value, "enterprise_uscc": uscc}


@dataclass
class DemoSummary:
    """What the demo lending run left in the book."""

    applications: int = 0
    auto_approved: int = 0
    reviewed: int = 0
    declined: int = 0
    loans: int = 0
    closed: int = 0
    disbursed_fen: int = 0
    outstanding_fen: int = 0
    repayments: int = 0
    prepayments: int = 0  # early repayments (提前还款): one partial, one in full
    eod_days: int = 0
    by_grade: dict[int, int] = field(default_factory=dict)
    by_method: dict[str, int] = field(default_factory=dict)  # repayment method booked (custom…)
    trial_balance: dict[str, int] = field(default_factory=dict)


def _days(start: date, end: date) -> Iterator[date]:
    d = start
    while d <= end:
        yield d
        d += timedelta(days=1)


def run_demo_lending(  # noqa: C901 - a linear script
    settings: Settings,
    *,
    decisions: Iterable[dict[str, Any]] | None = None,
    months: int = 3,
    start: date = date(2026, 1, 5),
    console: Any = None,
    service: Service | None = None,
) -> DemoSummary:
    """Seed demo users for every role, put applications through the workflow, disburse, run
    ``months`` of end of day with repayments (one borrower in five misses; one prepays a third
    of its principal on day 45 and another repays in full on day 60), return the book.

    ``decisions``: optional dicts with ``uscc``, ``amount_fen``, ``term`` and a ``band`` /
    ``annual_rate`` to replay real decisions; by default eight synthetic applications.
    """
    svc = service or build_service(settings)
    demo_pw = "loom-demo-2026"
    staff = {r: f"demo_{r.value}" for r in Role if r is not Role.APPLICANT}
    with svc.uow() as uow:
        existing = uow.get_user("demo_officer")
    if existing is None:
        for role, name in staff.items():
            add_user(svc, name, role.value, demo_pw)
        add_user(svc, "demo_reviewer2", "reviewer", demo_pw)
    rng = random.Random(2026)
    items = (
        list(decisions)
        if decisions is not None
        else [
            {"uscc": generate_uscc("330603", rng), "amount_fen": amt, "term": 12}
            for i, amt in enumerate(
                [
                    20_000_000,
                    30_000_000,
                    45_000_000,
                    80_000_000,
                    120_000_000,
                    25_000_000,
                    60_000_000,
                    500_000_000,
                ]
            )
        ]
    )
    by_uscc = {d["uscc"]: d for d in items if "band" in d}
    real = svc.decider

    def replay(uscc: str, amount: Money, term: int, method: str, as_of: date) -> dict[str, Any]:
        return dict(by_uscc[uscc]) if uscc in by_uscc else real(uscc, amount, term, method, as_of)

    summary = DemoSummary()
    officer = User(staff[Role.OFFICER], Role.OFFICER)
    reviewer = User(staff[Role.REVIEWER], Role.REVIEWER)
    risk = User(staff[Role.RISK_MANAGER], Role.RISK_MANAGER)
    admin = User(staff[Role.ADMIN], Role.ADMIN)
    loans: list[tuple[int, User, bool]] = []
    now = svc.clock()
    for n, item in enumerate(items):
        applicant = User(f"demo_app_{item['uscc']}", Role.APPLICANT, item["uscc"])
        with svc.uow() as uow:
            if uow.get_user(applicant.name) is None:
                uow.add_user(
                    {
                        "name": applicant.name,
                        "role": "applicant",
                        "enterprise_uscc": item["uscc"],
                        "password_hash": hash_password(demo_pw),
                        "created_at": now,
                    }
                )
            app = origination.create_application(
                uow,
                replay,
                officer,
                uscc=item["uscc"],
                amount=Money(int(item["amount_fen"])),
                term=int(item.get("term", 12)),
                method=str(item.get("method", "annuity")),
                as_of=start,
                now=now,
            )
            summary.applications += 1
            if app["status"] == "in_review":
                checker = reviewer if app["amount_fen"] <= 100_000_000 else risk
                app = origination.review(
                    uow, checker, app["id"], "approve", comment="demo review", now=now
                )
                summary.reviewed += 1
            elif app["status"] == "approved":
                summary.auto_approved += 1
            if app["status"] != "approved":
                summary.declined += 1
                uow.commit()
                continue
            origination.accept_contract(uow, applicant, app["id"], now=now)
            loan = disbursement.disburse(
                uow, officer, app["id"], key=f"demo-disb-{app['id']}", as_of=start, now=now
            )
            uow.commit()
            loans.append((loan["id"], applicant, n % 5 == 3))
            summary.loans += 1
            summary.disbursed_fen += loan["principal_fen"]
    end = start + timedelta(days=31 * months)
    payers = [(loan_id, applicant) for loan_id, applicant, misses in loans if not misses]
    early = {start + timedelta(days=45): payers[:1], start + timedelta(days=60): payers[1:2]}
    for day in _days(start, end):
        for k, (loan_id, applicant) in enumerate(early.get(day, [])):
            with svc.uow() as uow:
                # 提前还款: a third of the principal not yet due on day 45, all of it on day 60
                quote = repayment.payoff_quote(uow, applicant, loan_id, day)
                part = quote["principal_not_due_fen"] // 3 // 10_000 * 10_000
                pay = (
                    quote["payoff_fen"]
                    if day - start == timedelta(days=60)
                    else (quote["due_fen"] + quote["interest_to_date_fen"] + part)
                )
                repayment.repay(
                    uow,
                    applicant,
                    loan_id,
                    Money(pay),
                    key=f"demo-early-{loan_id}-{day}-{k}",
                    received_on=day,
                    now=now,
                    early=True,
                )
                uow.commit()
                summary.prepayments += 1
        for loan_id, applicant, misses in loans:
            if misses:
                continue
            with svc.uow() as uow:
                due = [i for i in uow.installments(loan_id) if i["due_on"] == day]
                loan = uow.get_loan(loan_id)
                amt = sum(
                    i["principal_fen"]
                    - i["principal_paid_fen"]
                    + i["interest_fen"]
                    - i["interest_paid_fen"]
                    for i in due
                )
                if amt and loan and loan["status"] == "active":
                    repayment.repay(
                        uow,
                        applicant,
                        loan_id,
                        Money(amt),
                        key=f"demo-rep-{loan_id}-{day}",
                        received_on=day,
                        now=now,
                    )
                    uow.commit()
                    summary.repayments += 1
        with svc.uow() as uow:
            eod.run_eod(uow, admin, day, now=now)
        summary.eod_days += 1
    with svc.uow() as uow:
        book = uow.list_loans()
        summary.closed = sum(1 for b in book if b["status"] == "closed")
        summary.outstanding_fen = sum(b["outstanding_fen"] for b in book)
        for b in book:
            summary.by_grade[b["grade"]] = summary.by_grade.get(b["grade"], 0) + 1
            summary.by_method[b["method"]] = summary.by_method.get(b["method"], 0) + 1
        summary.trial_balance = uow.trial_balance()
    if console is not None:
        console.print(
            f"[bold]贷款账簿 Loan book[/]: {summary.loans} loans, outstanding "
            f"{Money(summary.outstanding_fen).format()}, grades {summary.by_grade}"
        )
    return summary
