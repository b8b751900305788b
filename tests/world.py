"""A small lending world on the in-memory fakes: staff of every role, one borrower, a clock,
and steps a test reads like a story (open a line, draw, close days, settle an auto-debit)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from tests.fakes import FakeBankCore, FakeDecider, FakeStore

from loomcredit.domain.identity import generate_uscc
from loomcredit.domain.loan import Loan
from loomcredit.domain.money import Money
from loomcredit.domain.notices import NoticePolicy
from loomcredit.domain.payments import StatementLine
from loomcredit.service_layer import approvals, eod, lines, origination, payments
from loomcredit.service_layer.unit_of_work import UnitOfWork
from loomcredit.service_layer.users import Role, User

USCC = generate_uscc("330603", random.Random(7))
ACCOUNT = "6222000011112222"


@dataclass
class World:
    """Staff, a borrower, a store (the fakes unless a unit-of-work factory is given: the same
    stories run on SQLite and PostgreSQL) and a clock at noon of ``today``."""

    today: date = date(2026, 3, 2)
    make_uow: Callable[[], UnitOfWork] = field(default_factory=lambda: FakeStore().uow)
    decider: FakeDecider = field(default_factory=FakeDecider)
    bank: FakeBankCore = field(default_factory=FakeBankCore)
    officer: User = field(default_factory=lambda: User("off", Role.OFFICER))
    reviewer: User = field(default_factory=lambda: User("rev", Role.REVIEWER))
    risk: User = field(default_factory=lambda: User("rm", Role.RISK_MANAGER))
    risk2: User = field(default_factory=lambda: User("rm2", Role.RISK_MANAGER))
    ops: User = field(default_factory=lambda: User("ops", Role.OPERATIONS))
    firm: User = field(default_factory=lambda: User("firm", Role.APPLICANT, USCC))
    keys: int = 0
    #: With a notice policy, end of day queues the day's notices (``service_layer/notifications``).
    notice_policy: NoticePolicy | None = None

    @property
    def now(self) -> datetime:
        return datetime.combine(self.today, time(12), tzinfo=UTC)

    def uow(self) -> UnitOfWork:
        return self.make_uow()

    def key(self) -> str:
        self.keys += 1
        return f"k{self.keys}"

    def open_line(
        self, amount: str = "300000", term: int = 12, method: str = "annuity", uscc: str = USCC
    ) -> int:
        """An auto-approved application for ``uscc``, accepted: its line's id."""
        firm = self.firm if uscc == USCC else User(f"firm-{uscc[-4:]}", Role.APPLICANT, uscc)
        with self.uow() as uow:
            view = origination.create_application(
                uow,
                self.decider,
                self.officer,
                uscc=uscc,
                amount=Money.parse(amount),
                term=term,
                method=method,
                now=self.now,
            )
            line = origination.accept_contract(
                uow, firm, view.app.app_id, settlement_account=ACCOUNT, now=self.now
            )
            uow.commit()
        return line.line_id

    def draw(self, line_id: int, amount: str) -> int:
        """The borrower asks, operations approves: the new loan's id."""
        with self.uow() as uow:
            req = lines.request_drawdown(
                uow, self.firm, line_id, Money.parse(amount), key=self.key(), now=self.now
            )
            out = approvals.approve(uow, self.ops, req.request_id, now=self.now)
            uow.commit()
        return int(out.result.removeprefix("loan:"))

    def close_days_until(self, day: date) -> None:
        """Run end of day for every business date before ``day``, then it is ``day``."""
        while self.business_date() < day:
            d = self.business_date()
            self.today = d
            with self.uow() as uow:
                eod.run_eod(
                    uow,
                    self.ops,
                    d,
                    now=datetime.combine(d, time(20), tzinfo=UTC),
                    notices=self.notice_policy,
                )
            self.today = d + timedelta(days=1)
        self.today = day

    def business_date(self) -> date:
        with self.uow() as uow:
            return eod.business_date(uow, self.now)

    def loan(self, loan_id: int) -> Loan:
        with self.uow() as uow:
            loan = uow.loans.get(loan_id)
        assert loan is not None
        return loan

    def auto_debit(self, *, failing: frozenset[str] = frozenset()) -> payments.SettlementResult:
        """Send today's auto-debits and settle them (all paid unless the account fails)."""
        with self.uow() as uow:
            run = payments.run_auto_debit(uow, self.bank, self.ops, now=self.now)
        self.bank.pay_all(run.batch_id, failing=failing)
        with self.uow() as uow:
            out = payments.apply_settlement(uow, self.bank, self.ops, run.batch_id, now=self.now)
            uow.commit()
        return out

    def statement(self, *lines_: StatementLine) -> payments.ImportResult:
        with self.uow() as uow:
            out = payments.import_statement(
                uow, self.ops, list(lines_), file_name="s.csv", sha256="0" * 64, now=self.now
            )
            uow.commit()
        return out

    def credit(
        self, ref: str, amount: str, *, account: str = ACCOUNT, memo: str = ""
    ) -> StatementLine:
        """A statement credit valued today."""
        return StatementLine(
            ref, self.today, account, "绍兴某纺织有限公司", Money.parse(amount), memo
        )
