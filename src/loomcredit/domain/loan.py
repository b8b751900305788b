"""The loan aggregate (贷款 / 用信): one drawdown under a credit line, from disbursement to close.

A :class:`Loan` holds its terms, its schedule as :class:`Instalment` states, its balances as
:class:`~loomcredit.domain.money.Money`, its accrual state (:class:`Accrual`) and its
delinquency (DPD, bucket, grade). Every change goes through a method that checks the status
(:class:`LoanStatus`, with the transitions :data:`TRANSITIONS` allows) and records a domain event
in :attr:`Loan.events`; a method that moves money returns the balanced ledger legs it implies, so
the caller only adds an entry id and the booking date.

Money rules, once:

* **Repayment** (:meth:`Loan.repay`): the waterfall settles what is due on the value date; with
  ``early`` the rest pays the interest on the principal not yet due since the last due date, then
  that principal (提前还款), and the remaining schedule is recomputed by the loan's method.
  Anything beyond waits in suspense (挂账) until something falls due (:meth:`Loan.apply_suspense`).
* **Income** (accrual accounting): interest and penalty received settle the receivables end of
  day recognised; what end of day had not yet recognised is income at once; a loan that closes
  keeps no interest receivable.
* **End of day** (:meth:`Loan.close_day`) is :func:`loomcredit.domain.end_of_day.assess_day`
  applied: DPD, bucket, grade floor, non-accrual, normal, penalty and compound accrual.
* **Write-off** (核销) takes principal and both receivables in one entry; its reversal restores
  them.

>>> from loomcredit.domain.schedule import build_schedule
>>> sched = build_schedule(Money.parse("12000"), Rate("0.06"), 12, date(2026, 1, 5), Method.ANNUITY)
>>> loan = Loan.open(sched, LoanRef(1, 1, 1, "91330603MA2B00000X", "k"), Decimal("0.5"))
>>> loan.status, loan.outstanding.format(), loan.instalments[0].due_on
(<LoanStatus.ACTIVE: 'active'>, '¥12,000.00', datetime.date(2026, 2, 5))
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from loomcredit.domain.accrual import accrue
from loomcredit.domain.delinquency import Bucket, Grade
from loomcredit.domain.end_of_day import DayClose, assess_day
from loomcredit.domain.errors import CurrencyMismatch, InvalidAmount, LoanStateError
from loomcredit.domain.ledger import Account
from loomcredit.domain.money import Money, Rate, Round, round_fraction
from loomcredit.domain.restructuring import (
    NotRestructurable,
    Restructured,
    RestructurePlan,
    restructure_schedule,
)
from loomcredit.domain.schedule import Method, Schedule, reschedule
from loomcredit.domain.waterfall import DEFAULT_ORDER, Allocation, Component, DueItem, allocate

__all__ = [
    "ACCRUAL_UNITS_PER_FEN",
    "TRANSITIONS",
    "Accrual",
    "Instalment",
    "Legs",
    "Loan",
    "LoanEvent",
    "LoanRef",
    "LoanStatus",
    "LoanTerms",
    "PayoffQuote",
    "Repayment",
    "WriteOff",
]

ACCRUAL_UNITS_PER_FEN = 100_000_000
"""Accruals are kept in integer 1e-8 fen (exact on SQLite and PostgreSQL alike)."""

Legs = tuple[tuple[Account, Money], ...]
"""Ledger legs of one event (debit positive), before an entry id and dates make an entry."""


class LoanStatus(StrEnum):
    """Where a loan is in its life."""

    ACTIVE = "active"
    CLOSED = "closed"
    WRITTEN_OFF = "written_off"

    @property
    def label_zh(self) -> str:
        """Chinese label: 正常还款中, 已结清, 已核销."""
        return {"active": "还款中", "closed": "已结清", "written_off": "已核销"}[self.value]


TRANSITIONS: dict[LoanStatus, frozenset[LoanStatus]] = {
    LoanStatus.ACTIVE: frozenset({LoanStatus.CLOSED, LoanStatus.WRITTEN_OFF}),
    LoanStatus.CLOSED: frozenset(),
    LoanStatus.WRITTEN_OFF: frozenset({LoanStatus.ACTIVE}),  # the write-off reversed
}
"""The status changes a loan allows; anything else is a :class:`LoanStateError`."""


@dataclass(frozen=True, slots=True)
class LoanEvent:
    """Something that happened to a loan (past tense ``kind``: ``disbursed``, ``repaid``,
    ``rescheduled``, ``closed``, ``written_off``, ``write_off_reversed``, ``became_overdue``,
    ``bucket_changed``, ``non_accrual``, ``called_in``, ``restructured``), with its date and
    amount where one applies."""

    kind: str
    on: date
    amount: Money | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class LoanRef:
    """Who and what the loan belongs to: its id (0 until stored), line, application, borrower
    and the disbursement's idempotency key."""

    loan_id: int
    line_id: int
    application_id: int
    uscc: str
    disbursement_key: str


@dataclass(frozen=True, slots=True)
class LoanTerms:
    """The contract terms servicing needs: principal, rate, penalty uplift, method, start."""

    principal: Money
    annual_rate: Rate
    penalty_uplift: Decimal
    method: Method
    start_date: date

    @property
    def rate_ppm(self) -> int:
        """The annual rate in millionths (the contract rate has at most six decimals)."""
        ppm = self.annual_rate.annual * 1_000_000
        if ppm != ppm.to_integral_value():
            raise InvalidAmount(f"contract rate {self.annual_rate} has more than six decimals")
        return int(ppm)

    @property
    def uplift_pct(self) -> int:
        """The penalty uplift in whole percent (``0.5`` is 50)."""
        pct = self.penalty_uplift * 100
        if pct != pct.to_integral_value():
            raise InvalidAmount(f"penalty uplift {self.penalty_uplift} is not a whole percent")
        return int(pct)


@dataclass(slots=True)
class Instalment:
    """One scheduled payment (期供) and what has been paid of it."""

    number: int
    due_on: date
    principal: Money
    interest: Money
    principal_paid: Money
    interest_paid: Money

    @property
    def principal_unpaid(self) -> Money:
        """Principal still owed on this instalment."""
        return self.principal - self.principal_paid

    @property
    def interest_unpaid(self) -> Money:
        """Interest still owed on this instalment."""
        return self.interest - self.interest_paid

    @property
    def is_settled(self) -> bool:
        """Nothing left to pay on it."""
        return self.principal_paid >= self.principal and self.interest_paid >= self.interest


@dataclass(slots=True)
class Accrual:
    """Accrual state (计提): exact accruals in 1e-8 fen, and income recognised and received.

    Attributes:
        interest_e8: normal interest accrued in the current period, not yet due.
        penalty_e8: penalty and compound interest accrued to date.
        interest_recognised: interest income recognised (accrued or billed) to date.
        interest_received: interest received to date.
        penalty_recognised: penalty and compound income recognised to date.
        penalty_paid: penalty and compound interest received to date.
    """

    interest_e8: int
    penalty_e8: int
    interest_recognised: Money
    interest_received: Money
    penalty_recognised: Money
    penalty_paid: Money

    @classmethod
    def zero(cls, currency: str) -> Accrual:
        """Nothing accrued."""
        nil = Money.zero(currency)
        return cls(0, 0, nil, nil, nil, nil)

    @property
    def penalty_due(self) -> Money:
        """Penalty and compound accrued and unpaid, rounded once (half up) to the fen."""
        accrued = round_fraction(Fraction(self.penalty_e8, ACCRUAL_UNITS_PER_FEN), Round.HALF_UP)
        return Money(max(0, accrued - self.penalty_paid.minor), self.penalty_paid.currency)

    @property
    def interest_receivable(self) -> Money:
        """Interest recognised and not yet received (应收利息)."""
        return self.interest_recognised - self.interest_received

    @property
    def penalty_receivable(self) -> Money:
        """Penalty recognised and not yet received (应收罚息)."""
        return self.penalty_recognised - self.penalty_paid


@dataclass(frozen=True, slots=True)
class Repayment:
    """What one payment did: its split by component, what went to suspense, whether it closed the
    loan, and the ledger legs (the money's source account debited)."""

    amount: Money
    value_date: date
    early: bool
    principal: Money
    interest: Money
    penalty: Money
    suspense: Money
    closed: bool
    legs: Legs


@dataclass(frozen=True, slots=True)
class WriteOff:
    """A write-off (核销): principal and receivables taken off the books, and the legs."""

    principal: Money
    interest: Money
    penalty: Money
    legs: Legs


@dataclass(frozen=True, slots=True)
class PayoffQuote:
    """提前还款试算: what repaying the whole loan on a day costs."""

    on: date
    due: Money
    interest_to_date: Money
    principal_not_due: Money
    held: Money

    @property
    def payoff(self) -> Money:
        """The total that closes the loan when paid as an early repayment that day (money the
        loan already holds in suspense counts towards it)."""
        owed = self.due + self.interest_to_date + self.principal_not_due
        return max(Money.zero(owed.currency), owed - self.held)


@dataclass(slots=True)
class Loan:
    """A loan drawn under a credit line (用信), serviced until closed or written off."""

    ref: LoanRef
    terms: LoanTerms
    status: LoanStatus
    outstanding: Money
    instalments: list[Instalment]
    accrual: Accrual
    suspense: Money
    dpd: int = 0
    bucket: Bucket = Bucket.M0
    grade: Grade = Grade.NORMAL
    version: int = 0
    events: list[LoanEvent] = field(default_factory=list)
    restructured_on: date | None = None
    watch_until: date | None = None

    # -- construction ----------------------------------------------------------------------------
    @classmethod
    def open(cls, schedule: Schedule, ref: LoanRef, penalty_uplift: Decimal) -> Loan:
        """A newly disbursed loan on ``schedule`` (its start is the disbursement date)."""
        if not schedule.principal.is_positive():
            raise InvalidAmount("a loan's principal must be positive")
        cur = schedule.principal.currency
        nil = Money.zero(cur)
        loan = cls(
            ref=ref,
            terms=LoanTerms(
                schedule.principal,
                schedule.annual_rate,
                Decimal(penalty_uplift),
                schedule.method,
                schedule.start,
            ),
            status=LoanStatus.ACTIVE,
            outstanding=schedule.principal,
            instalments=[
                Instalment(i.number, i.due_on, i.principal, i.interest, nil, nil)
                for i in schedule.installments
            ],
            accrual=Accrual.zero(cur),
            suspense=nil,
        )
        loan.terms.rate_ppm  # noqa: B018 - refuse a rate the accrual cannot carry exactly
        loan.terms.uplift_pct  # noqa: B018
        loan.events.append(LoanEvent("disbursed", schedule.start, schedule.principal))
        return loan

    @property
    def currency(self) -> str:
        """The loan's currency."""
        return self.terms.principal.currency

    @property
    def loan_id(self) -> int:
        """The stored id (0 before the loan is stored)."""
        return self.ref.loan_id

    def disbursement_legs(self) -> Legs:
        """Dr 贷款本金 / Cr 结算 for the principal."""
        p = self.terms.principal
        return ((Account.LOAN_PRINCIPAL, p), (Account.SETTLEMENT, -p))

    # -- status ----------------------------------------------------------------------------------
    def transition(self, to: LoanStatus) -> None:
        """Move to ``to`` if :data:`TRANSITIONS` allows it."""
        if to is self.status:
            return
        if to not in TRANSITIONS[self.status]:
            raise LoanStateError(
                f"loan {self.loan_id} is {self.status.value}; it cannot become {to.value}"
            )
        self.status = to

    def _require_active(self, what: str) -> None:
        if self.status is not LoanStatus.ACTIVE:
            raise LoanStateError(f"loan {self.loan_id} is {self.status.value}; {what}")

    # -- what is owed ----------------------------------------------------------------------------
    def due_items(self, on: date) -> list[DueItem]:
        """What is owed on ``on``: unpaid interest and principal of instalments due, and penalty
        (on the earliest of them)."""
        items: list[DueItem] = []
        for i in self.instalments:
            if i.due_on > on:
                continue
            if not i.interest_unpaid.is_zero():
                items.append(DueItem(i.number, i.due_on, Component.INTEREST, i.interest_unpaid))
            if not i.principal_unpaid.is_zero():
                items.append(DueItem(i.number, i.due_on, Component.PRINCIPAL, i.principal_unpaid))
        pen = self.accrual.penalty_due
        if not pen.is_zero():
            first = min(items, key=lambda it: it.due_on, default=None)
            number, due_on = (first.installment, first.due_on) if first else (0, on)
            items.append(DueItem(number, due_on, Component.PENALTY, pen))
        return items

    def amount_due(self, on: date) -> Money:
        """Everything due on ``on`` (overdue included), what an auto-debit asks for."""
        total = Money.zero(self.currency)
        for item in self.due_items(on):
            total = total + item.amount
        return total

    def undue_principal(self, on: date) -> Money:
        """Principal still owed beyond what is already due on ``on``."""
        due = Money.zero(self.currency)
        for i in self.instalments:
            if i.due_on <= on:
                due = due + i.principal_unpaid
        return self.outstanding - due

    def interest_to_date(self, on: date, undue: Money) -> Money:
        """Interest on ``undue`` from the last due date (or the start) to ``on``, ACT/360 at the
        contract rate, rounded half up once: what end of day accrues for the same nights."""
        start = self.terms.start_date
        last = max((i.due_on for i in self.instalments if i.due_on <= on), default=start)
        last = max(last, start)
        if on <= last or undue.is_zero():
            return Money.zero(self.currency)
        return accrue(undue, self.terms.annual_rate, last, on).round()

    def payoff_quote(self, on: date) -> PayoffQuote:
        """提前还款试算 on ``on``: paying :attr:`PayoffQuote.payoff` early that day closes it."""
        self._require_active("there is nothing to repay")
        undue = self.undue_principal(on)
        return PayoffQuote(
            on, self.amount_due(on), self.interest_to_date(on, undue), undue, self.suspense
        )

    # -- money in --------------------------------------------------------------------------------
    def repay(
        self, amount: Money, on: date, *, early: bool = False, source: Account = Account.SETTLEMENT
    ) -> Repayment:
        """Apply a payment received with value date ``on`` (from ``source``: the bank's
        settlement account, or 待查款项 when an unidentified receipt is assigned)."""
        self._require_active("it takes no repayments")
        if amount.currency != self.currency:
            raise CurrencyMismatch(self.currency, amount.currency)
        if not amount.is_positive():
            raise InvalidAmount("a repayment must be a positive amount")
        alloc = allocate(amount, self.due_items(on), DEFAULT_ORDER)
        principal, interest, penalty = self._settle(alloc)
        held = self.suspense
        suspense = alloc.suspense + held  # an early repayment also uses money already held
        self.outstanding = self.outstanding - principal
        undue = self.undue_principal(on)
        to_date = self.interest_to_date(on, undue) if early and undue.is_positive() else None
        if to_date is not None and suspense > to_date:
            prepaid = min(suspense - to_date, undue)
            suspense = suspense - to_date - prepaid
            self.outstanding = self.outstanding - prepaid
            principal, interest = principal + prepaid, interest + to_date
            self._reschedule_after_prepayment(on, to_date, prepaid)
            self.accrual.interest_e8 = 0  # the period's interest is settled to this day
            self.events.append(LoanEvent("rescheduled", on, prepaid, "prepayment 提前还款"))
        closed = self._closes(penalty)
        legs = self._income_legs(interest, penalty, closed=closed)
        self.suspense = suspense
        self.events.append(LoanEvent("repaid", on, amount))
        if closed:
            self._close(on)
        return Repayment(
            amount,
            on,
            early,
            principal,
            interest,
            penalty,
            suspense - held,
            closed,
            (
                (source, amount),
                (Account.LOAN_PRINCIPAL, -principal),
                *legs,
                (Account.SUSPENSE, -(suspense - held)),
            ),
        )

    def apply_suspense(self, on: date) -> Repayment | None:
        """Apply money held in suspense to what has fallen due on ``on`` (end of day does this
        first); None when nothing moves, so running it twice for a day changes nothing."""
        if self.status is not LoanStatus.ACTIVE or not self.suspense.is_positive():
            return None
        if not any(i.due_on <= on and not i.is_settled for i in self.instalments):
            return None
        items = self.due_items(on)
        if not items:
            return None
        alloc = allocate(self.suspense, items, DEFAULT_ORDER)
        principal, interest, penalty = self._settle(alloc)
        applied = principal + interest + penalty
        if applied.is_zero():
            return None
        self.outstanding = self.outstanding - principal
        closed = self._closes(penalty)
        legs = self._income_legs(interest, penalty, closed=closed)
        self.suspense = self.suspense - applied
        self.events.append(LoanEvent("suspense_applied", on, applied))
        if closed:
            self._close(on)
        nil = Money.zero(self.currency)
        return Repayment(
            applied,
            on,
            False,
            principal,
            interest,
            penalty,
            nil,
            closed,
            ((Account.SUSPENSE, applied), (Account.LOAN_PRINCIPAL, -principal), *legs),
        )

    def _settle(self, alloc: Allocation) -> tuple[Money, Money, Money]:
        """Mark what an allocation paid on the instalments: principal, interest, penalty."""
        by_line: dict[tuple[int, Component], int] = {}
        for line in alloc.lines:
            k = (line.item.installment, line.item.component)
            by_line[k] = by_line.get(k, 0) + line.paid.minor
        cur = self.currency
        for i in self.instalments:
            p = by_line.get((i.number, Component.PRINCIPAL), 0)
            n = by_line.get((i.number, Component.INTEREST), 0)
            if p:
                i.principal_paid = i.principal_paid + Money(p, cur)
            if n:
                i.interest_paid = i.interest_paid + Money(n, cur)
        by = alloc.by_component()
        nil = Money.zero(cur)
        penalty = by.get(Component.PENALTY, nil) + by.get(Component.COMPOUND, nil)
        return by.get(Component.PRINCIPAL, nil), by.get(Component.INTEREST, nil), penalty

    def _closes(self, penalty_paid_now: Money) -> bool:
        """Nothing left: no principal, every instalment settled, no penalty unpaid."""
        if not self.outstanding.is_zero() or not all(i.is_settled for i in self.instalments):
            return False
        after = replace(self.accrual, penalty_paid=self.accrual.penalty_paid + penalty_paid_now)
        return after.penalty_due.is_zero()

    def _close(self, on: date) -> None:
        self.transition(LoanStatus.CLOSED)
        self.events.append(LoanEvent("closed", on))

    def _income_legs(self, interest: Money, penalty: Money, *, closed: bool) -> Legs:
        """Credits for interest and penalty received, updating the accrual state.

        Income end of day recognised is collected from its receivable; the part not yet
        recognised is income at once; a loan that closes keeps no interest receivable (what the
        daily accrual recognised beyond the interest finally charged is reversed out of income).
        """
        a, nil = self.accrual, Money.zero(self.currency)
        received = a.interest_received + interest
        from_receivable = min(interest, max(nil, a.interest_recognised - a.interest_received))
        direct = interest - from_receivable
        recognised = a.interest_recognised + direct
        excess = recognised - received if closed else nil
        pen_from_receivable = min(penalty, max(nil, a.penalty_recognised - a.penalty_paid))
        a.interest_received = received
        a.interest_recognised = recognised - excess
        a.penalty_recognised = a.penalty_recognised + penalty - pen_from_receivable
        a.penalty_paid = a.penalty_paid + penalty
        return (
            (Account.INTEREST_RECEIVABLE, -(from_receivable + excess)),
            (Account.INTEREST_INCOME, -(direct - excess)),
            (Account.PENALTY_RECEIVABLE, -pen_from_receivable),
            (Account.PENALTY_INCOME, -(penalty - pen_from_receivable)),
        )

    def _reschedule_after_prepayment(self, on: date, to_date: Money, prepaid: Money) -> None:
        """Replace the instalments not yet due after a prepayment on ``on``.

        One settled line dated ``on`` records the interest to date and the principal prepaid;
        the principal left is rescheduled over the same remaining due dates by the loan's method
        (a custom plan keeps its shape), numbered after it; the first new line charges interest
        only from ``on``.
        """
        cur, rate = self.currency, self.terms.annual_rate
        kept = [i for i in self.instalments if i.due_on <= on]
        undue = [i for i in self.instalments if i.due_on > on]
        first = undue[0].number
        settled = Instalment(first, on, prepaid, to_date, prepaid, to_date)
        left = Money(sum(i.principal_unpaid.minor for i in undue), cur) - prepaid
        if left.is_zero():
            self.instalments = [*kept, settled]
            return
        plan = None
        if self.terms.method is Method.CUSTOM:
            plan = left.allocate_by([i.principal_unpaid.minor for i in undue])
        sched = reschedule(
            left,
            rate,
            len(undue),
            undue[0].due_on,
            self.terms.method,
            first_number=first + 1,
            principal_plan=plan,
        )
        nil = Money.zero(cur)
        fresh = [
            Instalment(i.number, i.due_on, i.principal, i.interest, nil, nil)
            for i in sched.installments
        ]
        fresh[0].interest = accrue(left, rate, on, fresh[0].due_on).round()
        self.instalments = [*kept, settled, *fresh]

    # -- call-in ---------------------------------------------------------------------------------
    def call_in(self, on: date, reason: str) -> Money:
        """宣布贷款提前到期 Call the loan in early under the contract (a post-loan action after a
        serious warning): every instalment not yet due on ``on`` is replaced by one line due on
        ``on`` — the principal not yet due and the interest on it to ``on``, what a payoff that
        day would charge — so normal interest stops, and the call unpaid is overdue from the next
        day (penalty interest runs on it). Returns everything now due."""
        self._require_active("it cannot be called in")
        if not reason.strip():
            raise LoanStateError(f"calling loan {self.loan_id} in needs a reason")
        undue = [i for i in self.instalments if i.due_on > on]
        if not undue or on < self.terms.start_date:
            raise LoanStateError(f"loan {self.loan_id} has nothing falling due after {on}")
        principal = self.undue_principal(on)
        interest = self.interest_to_date(on, principal)
        nil = Money.zero(self.currency)
        called = Instalment(undue[0].number, on, principal, interest, nil, nil)
        self.instalments = [*(i for i in self.instalments if i.due_on <= on), called]
        due = self.amount_due(on)
        self.events.append(LoanEvent("called_in", on, due, reason.strip()))
        return due

    # -- restructuring ---------------------------------------------------------------------------
    def restructure(self, plan: RestructurePlan, on: date, reason: str) -> Restructured:
        """重组 Restructure on ``on`` (展期 or 调整还款计划) by the rule of
        ``domain/restructuring.py``: paid instalments kept, the principal owed scheduled again to
        the fen, overdue interest deferred to the first new due date (not capitalised), a watch
        period, and the grade at least 关注 (可疑 when restructured again while under watch).
        Moves no money.

        Raises:
            NotRestructurable: a closed or written-off loan, no reason, or a plan that cannot
                apply.
        """
        if not reason.strip():
            raise NotRestructurable(
                f"restructuring loan {self.loan_id} needs a reason", loan_id=self.loan_id
            )
        again = self.is_under_watch(on)
        lines, done, carried_e8 = restructure_schedule(self, plan, on)
        self.instalments = lines
        self.accrual.interest_e8 += carried_e8
        floor = Grade.DOUBTFUL if again else Grade.SPECIAL_MENTION
        self.grade = Grade(max(self.grade, floor))
        self.restructured_on, self.watch_until = on, done.watch_until
        detail = f"{plan.label}; watch until {done.watch_until.isoformat()}; {reason.strip()}"
        self.events.append(LoanEvent("restructured", on, done.principal, detail))
        return done

    def is_under_watch(self, on: date) -> bool:
        """In a restructuring's watch period on ``on`` (no upgrade of the grade before its end)."""
        return self.watch_until is not None and on <= self.watch_until

    # -- end of day ------------------------------------------------------------------------------
    def close_day(self, on: date) -> DayClose:
        """End of day for ``on`` (日终): :func:`~loomcredit.domain.end_of_day.assess_day`,
        applied to the loan; the returned :class:`DayClose` carries the accrual legs."""
        self._require_active("end of day only services active loans")
        day = assess_day(self, on)
        if day.dpd > 0 and self.dpd == 0:
            self.events.append(LoanEvent("became_overdue", on, detail=f"dpd {day.dpd}"))
        if day.bucket is not self.bucket:
            self.events.append(LoanEvent("bucket_changed", on, detail=day.bucket.name))
        if day.non_accrual and self.dpd <= day.non_accrual_after:
            self.events.append(LoanEvent("non_accrual", on, detail="非应计"))
        self.dpd, self.bucket = day.dpd, day.bucket
        self.grade = Grade(max(self.grade, day.floor))
        a, cur = self.accrual, self.currency
        a.penalty_e8 += day.penalty_accrual_e8
        a.penalty_recognised = a.penalty_recognised + Money(day.penalty_fen, cur)
        a.interest_e8 = (
            day.interest_accrual_e8 if day.due_today else a.interest_e8 + day.interest_accrual_e8
        )
        a.interest_recognised = a.interest_recognised + Money(day.interest_fen, cur)
        return day

    # -- write-off -------------------------------------------------------------------------------
    def write_off(self, on: date) -> WriteOff:
        """Write off (核销) principal and the receivables as one entry; the claim remains."""
        self._require_active("only active loans are written off")
        if not self.outstanding.is_positive():
            raise LoanStateError(f"loan {self.loan_id} has no principal to write off")
        a, nil = self.accrual, Money.zero(self.currency)
        principal = self.outstanding
        interest = max(nil, a.interest_receivable)
        penalty = max(nil, a.penalty_receivable)
        self.transition(LoanStatus.WRITTEN_OFF)
        self.outstanding = nil
        a.interest_recognised = a.interest_recognised - interest
        a.penalty_recognised = a.penalty_recognised - penalty
        self.events.append(LoanEvent("written_off", on, principal + interest + penalty))
        return WriteOff(
            principal,
            interest,
            penalty,
            (
                (Account.WRITE_OFF, principal + interest + penalty),
                (Account.LOAN_PRINCIPAL, -principal),
                (Account.INTEREST_RECEIVABLE, -interest),
                (Account.PENALTY_RECEIVABLE, -penalty),
            ),
        )

    def reverse_write_off(self, original: WriteOff, on: date) -> Legs:
        """Reverse a write-off exactly (a mirror entry, never an edit); the loan is active."""
        self.transition(LoanStatus.ACTIVE)
        a = self.accrual
        self.outstanding = self.outstanding + original.principal
        a.interest_recognised = a.interest_recognised + original.interest
        a.penalty_recognised = a.penalty_recognised + original.penalty
        self.events.append(LoanEvent("write_off_reversed", on, original.principal))
        return tuple((account, -amount) for account, amount in original.legs)

    # -- the book as this loan sees it -----------------------------------------------------------
    def account_balances(self, disbursed: Money, received: Money) -> dict[Account, Money]:
        """What the ledger must hold for this loan (debit positive), given the principal disbursed
        and the cash received: the identities end of day and every repayment keep. A recompute
        (back-valued event) posts the difference between these and the booked balances."""
        a = self.accrual
        return {
            Account.SETTLEMENT: received - disbursed,
            Account.LOAN_PRINCIPAL: self.outstanding,
            Account.INTEREST_RECEIVABLE: a.interest_receivable,
            Account.INTEREST_INCOME: -a.interest_recognised,
            Account.PENALTY_RECEIVABLE: a.penalty_receivable,
            Account.PENALTY_INCOME: -a.penalty_recognised,
            Account.SUSPENSE: -self.suspense,
        }


@dataclass(frozen=True, slots=True)
class DueSummary:
    """One loan on one day, as set-based booking reads it (summed from its instalments): enough
    to tell a plain receipt and book it without loading the aggregate.

    Attributes:
        principal_due: unpaid principal of the instalments due on or before the day.
        interest_due: unpaid interest of the instalments due on or before the day.
        open_after: an instalment due after the day is not settled (so paying what is due does
            not close the loan).
    """

    loan_id: int
    line_id: int
    status: LoanStatus
    outstanding: Money
    suspense: Money
    penalty_e8: int
    penalty_paid: Money
    interest_recognised: Money
    interest_received: Money
    principal_due: Money
    interest_due: Money
    open_after: bool

    @classmethod
    def of(cls, loan: Loan, on: date) -> DueSummary:
        """The summary of an aggregate (what the SQL must return for the same loan)."""
        cur = loan.currency
        due = [i for i in loan.instalments if i.due_on <= on]
        a = loan.accrual
        return cls(
            loan.loan_id,
            loan.ref.line_id,
            loan.status,
            loan.outstanding,
            loan.suspense,
            a.penalty_e8,
            a.penalty_paid,
            a.interest_recognised,
            a.interest_received,
            Money(sum(i.principal_unpaid.minor for i in due), cur),
            Money(sum(i.interest_unpaid.minor for i in due), cur),
            any(i.due_on > on and not i.is_settled for i in loan.instalments),
        )


@dataclass(frozen=True, slots=True)
class PlainRepayment:
    """A plain receipt booked: what it did, and the loan's figures after it (every instalment
    due on the day is then settled)."""

    repayment: Repayment
    outstanding: Money
    interest_recognised: Money
    interest_received: Money


def plain_repayment(s: DueSummary, amount: Money, on: date) -> PlainRepayment | None:
    """A receipt (not an early repayment) that pays exactly what is due on ``on`` of an active
    loan with nothing in suspense and no penalty owed, and does not close it: what
    :meth:`Loan.repay` does then, without the aggregate. None for any other receipt, which is
    booked through the loan. ``tests/property/test_plain_repayment.py`` proves it equal to
    :meth:`Loan.repay` wherever it answers."""
    cur = s.outstanding.currency
    if s.status is not LoanStatus.ACTIVE or amount.currency != cur or not amount.is_positive():
        return None
    if not s.suspense.is_zero() or not s.open_after:
        return None
    owed = Accrual(0, s.penalty_e8, s.interest_recognised, s.interest_received, s.penalty_paid,
                   s.penalty_paid)  # fmt: skip
    if not owed.penalty_due.is_zero() or amount != s.principal_due + s.interest_due:
        return None
    nil = Money.zero(cur)
    principal, interest = s.principal_due, s.interest_due
    from_receivable = min(interest, max(nil, s.interest_recognised - s.interest_received))
    direct = interest - from_receivable
    legs: Legs = (
        (Account.SETTLEMENT, amount),
        (Account.LOAN_PRINCIPAL, -principal),
        (Account.INTEREST_RECEIVABLE, -from_receivable),
        (Account.INTEREST_INCOME, -direct),
        (Account.PENALTY_RECEIVABLE, nil),
        (Account.PENALTY_INCOME, nil),
        (Account.SUSPENSE, nil),
    )
    return PlainRepayment(
        Repayment(amount, on, False, principal, interest, nil, nil, False, legs),
        s.outstanding - principal,
        s.interest_recognised + direct,
        s.interest_received + interest,
    )
