"""The demo's lending run (`loom demo`, stage 6): months of a branch's work on a simulated clock.

Staff of every role are made on the server (two of the roles that approve, so four eyes hold);
the cluster's offers are taken up as applications and decided by the real engine; reviewers
check what the engine referred; borrowers sign, naming their settlement accounts, which opens
their credit lines; drawdowns are asked for and approved by operations (one borrower draws
twice); then every business day: the auto-debit of what falls due goes to the (simulated) bank
core and its settlement file is booked (one borrower in five has no money on its account), two
borrowers ask to repay early (a third of the principal, then everything), a bank statement is
imported with a transfer from a borrower and one line nobody can match, which waits in the
exceptions queue — and end of day closes the day.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from loomcredit.adapters.bank_files import SimulatedBankCore, write_statement
from loomcredit.adapters.security import hash_password
from loomcredit.bootstrap.service import Service
from loomcredit.domain.collections import ActivityKind, Outcome
from loomcredit.domain.contacts import ContactRole
from loomcredit.domain.identity import generate_uscc
from loomcredit.domain.ledger import Account
from loomcredit.domain.loan import LoanStatus
from loomcredit.domain.money import Money
from loomcredit.domain.payments import StatementEntry, StatementLine, loan_reference
from loomcredit.service_layer import (
    approvals,
    case_work,
    contacts,
    eod,
    lines,
    notifications,
    origination,
    payments,
    servicing,
)
from loomcredit.service_layer.user_admin import create_user
from loomcredit.service_layer.users import Role, User

DEMO_PASSWORD = "loom-demo-2026"  # noqa: S105 - the demo users' documented password
STAFF = (
    ("demo_officer", Role.OFFICER),
    ("demo_reviewer", Role.REVIEWER),
    ("demo_reviewer2", Role.REVIEWER),
    ("demo_risk_manager", Role.RISK_MANAGER),
    ("demo_risk_manager2", Role.RISK_MANAGER),
    ("demo_operations", Role.OPERATIONS),
    ("demo_collector", Role.COLLECTOR),
    # the collectors the collection policy's queues name (keqiao_collections.yaml)
    ("collector1", Role.COLLECTOR),
    ("collector2", Role.COLLECTOR),
    ("collector3", Role.COLLECTOR),
    ("collector4", Role.COLLECTOR),
    ("collector5", Role.COLLECTOR),
    ("demo_auditor", Role.AUDITOR),
    ("demo_admin", Role.ADMIN),
    ("demo_admin2", Role.ADMIN),
)


@dataclass(frozen=True, slots=True)
class Offer:
    """An offer taken up as an application: who, how much, how long."""

    uscc: str
    amount: Money
    term: int = 12


@dataclass
class DemoBook:
    """What the demo's lending run left in the book."""

    applications: int = 0
    auto_approved: int = 0
    reviewed: int = 0
    declined: int = 0
    lines: int = 0
    loans: int = 0
    drawn: Money = field(default_factory=Money.zero)
    closed: int = 0
    outstanding: Money = field(default_factory=Money.zero)
    debits_paid: int = 0
    debits_failed: int = 0
    statement_booked: int = 0
    prepayments: int = 0
    eod_days: int = 0
    by_grade: dict[int, int] = field(default_factory=dict)
    by_method: dict[str, int] = field(default_factory=dict)
    trial_balance: dict[Account, Money] = field(default_factory=dict)
    exceptions: list[StatementEntry] = field(default_factory=list)
    reconciled: bool = True
    last_day: date | None = None
    late_payer: str | None = None  # the borrower whose first instalment is paid days late
    late_paid_on: date | None = None  # the day its auto-debit first succeeds
    short_payers: tuple[str, ...] = ()  # borrowers whose debits always fail (余额不足)
    defaulter: str | None = None  # a borrower whose account is empty from the start, for good
    promise_case: int | None = None  # the defaulter's case, whose collector took a promise
    notices_delivered: int = 0
    notices_failed: int = 0


class DemoClock:
    """The demo's clock: a business day at 09:00, its end of day at 20:00."""

    def __init__(self, day: date) -> None:
        self.at = datetime.combine(day, time(9), tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.at

    def morning(self, day: date) -> None:
        self.at = datetime.combine(day, time(9), tzinfo=UTC)

    def evening(self, day: date) -> None:
        self.at = datetime.combine(day, time(20), tzinfo=UTC)


def synthetic_offers(n: int = 8) -> list[Offer]:
    """Eight synthetic Keqiao firms when no decisions are given."""
    rng = random.Random(2026)
    amounts = ("200000", "300000", "450000", "800000", "1200000", "250000", "600000", "5000000")
    return [Offer(generate_uscc("330603", rng), Money.parse(a)) for a in amounts[:n]]


def account_of(uscc: str) -> str:
    """A settlement account number for a demo firm (19 digits, stable)."""
    digits = int(hashlib.sha256(uscc.encode()).hexdigest(), 16) % 10**15
    return f"6222{digits:015d}"


def contact_of(uscc: str) -> tuple[str, str]:
    """A demo firm's finance contact: a mobile (in the 170 range, not a live one) and an
    e-mail under the reserved ``example.com`` (stable)."""
    digits = int(hashlib.sha256(f"tel:{uscc}".encode()).hexdigest(), 16) % 10**8
    return f"170{digits:08d}", f"finance-{uscc[-6:].lower()}@example.com"


def _days(start: date, end: date) -> Iterator[date]:
    d = start
    while d <= end:
        yield d
        d += timedelta(days=1)


def _staff(svc: Service, now: datetime) -> dict[Role, User]:
    digest = hash_password(DEMO_PASSWORD)
    with svc.uow() as uow:
        for name, role in STAFF:
            if uow.users.get(name) is None:
                create_user(
                    uow,
                    actor="cli:demo",
                    name=name,
                    role=role.value,
                    password_hash=digest,
                    enterprise=None,
                    now=now,
                )
        uow.commit()
    firsts: dict[Role, User] = {}
    for name, role in STAFF:
        firsts.setdefault(role, User(name, role))
    firsts[Role.RISK_MANAGER] = User("demo_risk_manager", Role.RISK_MANAGER)
    return firsts


def _applicant(svc: Service, uscc: str, now: datetime) -> User:
    user = User(f"demo_app_{uscc}", Role.APPLICANT, uscc)
    with svc.uow() as uow:
        if uow.users.get(user.name) is None:
            create_user(
                uow,
                actor="cli:demo",
                name=user.name,
                role="applicant",
                password_hash=hash_password(DEMO_PASSWORD),
                enterprise=uscc,
                now=now,
            )
            uow.commit()
    return user


@dataclass
class _Borrower:
    applicant: User
    line_id: int
    loan_ids: list[int]
    short: bool


def _originate(
    svc: Service, offers: Iterable[Offer], staff: dict[Role, User], book: DemoBook
) -> list[_Borrower]:
    """Applications → decisions → review → signing (lines) → drawdowns approved."""
    now = svc.clock()
    officer, ops = staff[Role.OFFICER], staff[Role.OPERATIONS]
    borrowers: list[_Borrower] = []
    for n, offer in enumerate(offers):
        applicant = _applicant(svc, offer.uscc, now)
        with svc.uow() as uow:
            view = origination.create_application(
                uow,
                svc.decider,
                officer,
                uscc=offer.uscc,
                amount=offer.amount,
                term=offer.term,
                method="annuity",
                now=now,
            )
            app = view.app
            book.applications += 1
            if app.status.value == "in_review":
                checker = (
                    staff[Role.REVIEWER]
                    if app.amount.minor <= 100_000_000
                    else staff[Role.RISK_MANAGER]
                )
                limit = app.decision.limit
                amount = min(app.amount, limit) if limit.is_positive() else app.amount
                comment = "demo review" if limit.is_positive() else "demo: visited the firm"
                view = origination.review(
                    uow,
                    checker,
                    app.app_id,
                    "approve",
                    comment=comment,
                    now=now,
                    approved=amount if limit.is_positive() else None,
                )
                app = view.app
                book.reviewed += 1
            elif app.status.value == "approved":
                book.auto_approved += 1
            if app.status.value != "approved":
                book.declined += 1
                uow.commit()
                continue
            line = origination.accept_contract(
                uow, applicant, app.app_id, settlement_account=account_of(offer.uscc), now=now
            )
            book.lines += 1
            phone, email = contact_of(offer.uscc)
            contacts.register_contact(uow, officer, uscc=offer.uscc, name="财务负责人",
                                      role=ContactRole.FINANCE, phone=phone, email=email,
                                      now=now)  # fmt: skip
            limit = line.limit
            draws = [limit] if n else [Money(limit.minor * 3 // 5 // 100 * 100), None]
            loan_ids = []
            for k, amount in enumerate(draws):
                if amount is None:
                    continue
                req = lines.request_drawdown(
                    uow,
                    applicant,
                    line.line_id,
                    amount,
                    key=f"demo-draw-{app.app_id}-{k}",
                    now=now,
                )
                out = approvals.approve(uow, ops, req.request_id, now=now, comment="demo 放款审核")
                loan_ids.append(int(out.result.removeprefix("loan:")))
                book.drawn = book.drawn + amount
            uow.commit()
        borrowers.append(_Borrower(applicant, line.line_id, loan_ids, short=n % 5 == 3))
    return borrowers


def run_demo_lending(
    svc: Service,
    *,
    offers: Iterable[Offer] | None = None,
    start: date,
    months: int = 3,
    bank_root: Path,
) -> DemoBook:
    """Run the branch from ``start`` for ``months`` on a simulated clock; returns the book."""
    clock = DemoClock(start)
    svc.clock = clock
    book = DemoBook()
    staff = _staff(svc, clock())
    borrowers = _originate(svc, list(offers or synthetic_offers()), staff, book)
    failing = frozenset(account_of(b.applicant.enterprise_uscc or "") for b in borrowers if b.short)
    book.short_payers = tuple(b.applicant.enterprise_uscc or "" for b in borrowers if b.short)
    ops = staff[Role.OPERATIONS]
    end = start + timedelta(days=31 * months)
    payers = [b for b in borrowers if not b.short]
    late = _late_payer(svc, payers[3:4], book)
    if payers[4:5]:  # never pays: its case rolls to M3+ and goes to legal (demo stage 10)
        book.defaulter = payers[4].applicant.enterprise_uscc
        failing |= {account_of(book.defaulter or "")}
    svc.bank = SimulatedBankCore(bank_root, failing_accounts=failing | late)
    second_draw = start + timedelta(days=10)
    prepay = {start + timedelta(days=45): payers[1:2], start + timedelta(days=60): payers[2:3]}
    statement_day = start + timedelta(days=50)
    for day in _days(start, end):
        clock.morning(day)
        if late and day == book.late_paid_on:  # money on the account again: the debit goes
            svc.bank = SimulatedBankCore(bank_root, failing_accounts=failing)
        if day == second_draw and borrowers:
            _second_drawdown(svc, borrowers[0], ops, book)
        for b in prepay.get(day, []):
            _ask_prepayment(svc, b, day, full=day - start == timedelta(days=60))
            book.prepayments += 1
        _auto_debit(svc, ops, book)
        if day == statement_day:
            _statement(svc, ops, borrowers, bank_root, day, book)
        _collect(svc, day, book)
        clock.evening(day)
        _close_day(svc, ops, day, book)
    _summarise(svc, ops, book)
    return book


def _close_day(svc: Service, ops: User, day: date, book: DemoBook) -> None:
    """End of day with the day's notices and collection cases, then a delivery run."""
    with svc.uow() as uow:
        eod.run_eod(uow, ops, day, now=svc.clock(), notices=svc.notice_policy(),
                    cases_policy=svc.collections_policy())  # fmt: skip
    run = notifications.deliver(svc.uow, svc.notifiers(), svc.clock, policy=svc.notice_policy())
    book.notices_delivered += run.delivered
    book.notices_failed += run.failed
    book.eod_days += 1
    book.last_day = day


def _collect(svc: Service, day: date, book: DemoBook) -> None:
    """The defaulter's collector calls its finance contact once the case is eight days old, and
    takes a promise to pay what is overdue within five days (the account stays empty: end of
    day on that date finds it broken)."""
    if book.promise_case is not None or book.defaulter is None:
        return
    firm = book.defaulter
    with svc.uow() as uow:
        found = uow.cases.find(uscc=firm)
        if not found or found[0].dpd < 8:
            return
        case = found[0]
        contact = uow.contacts.for_borrowers([firm])[firm][0]
        owed = case.principal + case.interest
        case_work.record_contact(
            uow, User(case.collector, Role.COLLECTOR), case.case_id, kind=ActivityKind.CALL,
            outcome=Outcome.PROMISE, contact_id=contact.contact_id, now=svc.clock(),
            note="财务负责人承诺五日内归还逾期本息", promise_amount=owed,
            promise_on=day + timedelta(days=5), policy=svc.collections_policy(),
        )  # fmt: skip
        uow.commit()
    book.promise_case = case.case_id


def serve_on(svc: Service, *, days: int, bank_root: Path, book: DemoBook) -> DemoBook:
    """Carry on servicing the demo book for ``days`` days after its last end of day: auto-debits
    each morning (the short payers' accounts stay empty), end of day with notices and cases."""
    if book.last_day is None:
        return book
    clock = DemoClock(book.last_day + timedelta(days=1))
    svc.clock = clock
    failing = frozenset(account_of(u) for u in (*book.short_payers, book.defaulter) if u)
    svc.bank = SimulatedBankCore(bank_root, failing_accounts=failing)
    ops = User("demo_operations", Role.OPERATIONS)
    first = book.last_day + timedelta(days=1)
    for day in _days(first, first + timedelta(days=days - 1)):
        clock.morning(day)
        _auto_debit(svc, ops, book)
        clock.evening(day)
        _close_day(svc, ops, day, book)
    return book


def _late_payer(svc: Service, chosen: list[_Borrower], book: DemoBook) -> frozenset[str]:
    """One payer pays its first instalment late: its account is short from the start until
    five days after that due date (overdue notices on days 1 and 3, then paid and cured)."""
    if not chosen or not chosen[0].loan_ids:
        return frozenset()
    b = chosen[0]
    with svc.uow() as uow:
        loan = uow.loans.get(b.loan_ids[0])
    if loan is None:
        return frozenset()
    book.late_payer = b.applicant.enterprise_uscc
    book.late_paid_on = loan.instalments[0].due_on + timedelta(days=5)
    return frozenset({account_of(book.late_payer or "")})


def _second_drawdown(svc: Service, b: _Borrower, ops: User, book: DemoBook) -> None:
    """The first borrower draws what is left on its line (用信 twice)."""
    now = svc.clock()
    with svc.uow() as uow:
        view = lines.get_line(uow, b.applicant, b.line_id, now=now)
        amount = view.available
        if not amount.is_positive():
            return
        req = lines.request_drawdown(
            uow, b.applicant, b.line_id, amount, key=f"demo-draw-{b.line_id}-second", now=now
        )
        out = approvals.approve(uow, ops, req.request_id, now=now, comment="demo 放款审核")
        uow.commit()
    b.loan_ids.append(int(out.result.removeprefix("loan:")))
    book.drawn = book.drawn + amount


def _ask_prepayment(svc: Service, b: _Borrower, day: date, *, full: bool) -> None:
    """提前还款: a third of the principal not yet due, or everything; the auto-debit takes it."""
    loan_id = b.loan_ids[0]
    with svc.uow() as uow:
        if uow.loans.get(loan_id) is None or uow.loans.get(loan_id).status is not LoanStatus.ACTIVE:  # type: ignore[union-attr]
            return
        quote = servicing.payoff_quote(uow, b.applicant, loan_id, now=svc.clock())
        part = Money(quote.principal_not_due.minor // 3 // 10_000 * 10_000)
        servicing.request_prepayment(
            uow, b.applicant, loan_id, now=svc.clock(), principal=None if full else part
        )
        uow.commit()


def _auto_debit(svc: Service, ops: User, book: DemoBook) -> None:
    with svc.uow() as uow:
        run = payments.run_auto_debit(uow, svc.bank, ops, now=svc.clock())
    if not run.instructions:
        return
    with svc.uow() as uow:
        out = payments.apply_settlement(uow, svc.bank, ops, run.batch_id, now=svc.clock())
        uow.commit()
    book.debits_paid += len(out.paid)
    book.debits_failed += len(out.failed)


def _statement(
    svc: Service, ops: User, borrowers: list[_Borrower], root: Path, day: date, book: DemoBook
) -> None:
    """The day's bank statement: a borrower whose auto-debits failed pays what is due by
    transfer (with its loan reference); one transfer nobody can match."""
    items: list[StatementLine] = []
    with svc.uow() as uow:
        for b in borrowers:
            if not b.short:
                continue
            loan = uow.loans.get(b.loan_ids[0])
            if loan is None or loan.status is not LoanStatus.ACTIVE:
                continue
            due = loan.amount_due(day)
            if due.is_positive():
                items.append(
                    StatementLine(
                        f"STMT{day:%Y%m%d}{len(items) + 1:04d}",
                        day,
                        account_of(loan.ref.uscc),
                        "绍兴柯桥某纺织有限公司",
                        due,
                        f"还款 {loan_reference(loan.loan_id)}",
                    )
                )
    items.append(
        StatementLine(
            f"STMT{day:%Y%m%d}9999",
            day,
            "6228480011112222333",
            "张三",
            Money.parse("8800.00"),
            "货款",
        )
    )
    path = root / "statements" / f"statement-{day:%Y%m%d}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_statement(path, items)
    with svc.uow() as uow:
        out = payments.import_statement(
            uow,
            ops,
            items,
            file_name=path.name,
            sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
            now=svc.clock(),
        )
        uow.commit()
    book.statement_booked += out.summary.booked
    book.reconciled = book.reconciled and out.reconciliation.balanced


def _summarise(svc: Service, ops: User, book: DemoBook) -> None:
    with svc.uow() as uow:
        loans = uow.loans.find()
        book.loans = len(loans)
        book.closed = sum(1 for x in loans if x.status is LoanStatus.CLOSED)
        book.outstanding = Money(sum(x.outstanding.minor for x in loans))
        for x in loans:
            book.by_grade[int(x.grade)] = book.by_grade.get(int(x.grade), 0) + 1
            book.by_method[x.terms.method.value] = book.by_method.get(x.terms.method.value, 0) + 1
        book.trial_balance = uow.ledger.trial_balance()
        book.exceptions = payments.exceptions(uow, ops)
