"""Repayment schedules (还款计划): one engine for every repayment method of DOMAIN.md §7.

Methods: level instalment 等额本息 (:attr:`Method.ANNUITY`), equal principal 等额本金
(:attr:`Method.EQUAL_PRINCIPAL`), interest-only with the principal at maturity 先息后本
(:attr:`Method.INTEREST_ONLY`, interest settled monthly or quarterly on the 20th, 利随本清), and a
caller-supplied principal vector for seasonal plans (:attr:`Method.CUSTOM`). A revolving line's
interest by the balance-product method 积数法 is :func:`revolving_interest`.

Every amount is integer fen. Each line's interest is computed exactly from the balance and rounded
once, with the schedule's named :class:`~loomcredit.domain.money.Round` mode (HALF_UP to the fen by
default). The last instalment's principal is the remaining balance, so the principal column sums to
the loan exactly and the final balance is zero: the rounding residual is assigned by design.

>>> s = build_schedule(Money.parse("100000"), Rate("0.06"), 120, date(2026, 1, 20), Method.ANNUITY)
>>> s.first_payment.format(), s.installments[0].due_on.isoformat(), s.installments[-1].balance_after
('¥1,110.21', '2026-02-20', Money(minor=0, currency='CNY'))
>>> revolving_interest([(10, Money.parse("300000")), (20, Money.parse("200000"))], Rate("0.036"))
Money(minor=70000, currency='CNY')
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from enum import Enum
from fractions import Fraction

from loomcredit.domain.daycount import DayCount, Frequency, add_months, settlement_dates
from loomcredit.domain.errors import ScheduleError
from loomcredit.domain.money import Money, Rate, Round, round_fraction

__all__ = [
    "Installment",
    "Method",
    "Schedule",
    "annuity_payment",
    "build_schedule",
    "reschedule",
    "revolving_interest",
]

_MAX_PERIODS = 600  # 50 years of monthly instalments; anything longer is a typo


class Method(Enum):
    """Repayment method (还款方式)."""

    ANNUITY = "annuity"
    EQUAL_PRINCIPAL = "equal_principal"
    INTEREST_ONLY = "interest_only"
    CUSTOM = "custom"

    @property
    def label_zh(self) -> str:
        """Chinese name of the method."""
        return {
            Method.ANNUITY: "等额本息",
            Method.EQUAL_PRINCIPAL: "等额本金",
            Method.INTEREST_ONLY: "先息后本",
            Method.CUSTOM: "自定义本金计划",
        }[self]

    @property
    def is_amortising(self) -> bool:
        """True when principal is repaid on a monthly grid of instalments (not a bullet)."""
        return self is not Method.INTEREST_ONLY

    @classmethod
    def parse(cls, text: str) -> Method:
        """Read a method name: ``annuity``, ``equal-principal``, ``interest-only``, ``custom``.

        Raises:
            ScheduleError: the name is not a known method.
        """
        key = text.strip().lower().replace("-", "_").replace(" ", "_")
        for method in cls:
            if key in {method.value, method.label_zh}:
                return method
        names = ", ".join(m.value.replace("_", "-") for m in cls)
        raise ScheduleError(f"Unknown repayment method {text!r}; use one of {names}.")


@dataclass(frozen=True, slots=True)
class Installment:
    """One scheduled payment (期供) of a repayment schedule (还款计划)."""

    number: int
    due_on: date
    principal: Money
    interest: Money
    balance_after: Money

    @property
    def payment(self) -> Money:
        """Amount due on ``due_on``: principal plus interest (应还金额)."""
        return self.principal + self.interest


@dataclass(frozen=True, slots=True)
class Schedule:
    """A repayment schedule and the terms it was built from."""

    installments: tuple[Installment, ...]
    principal: Money
    annual_rate: Rate
    method: Method
    start: date
    day_count: DayCount | None = None
    interest_frequency: Frequency = Frequency.MONTHLY
    rounding: Round = Round.HALF_UP

    def _sum(self, pick: Callable[[Installment], Money]) -> Money:
        total = Money.zero(self.principal.currency)
        for inst in self.installments:
            total = total + pick(inst)
        return total

    @property
    def total_interest(self) -> Money:
        """Interest over the whole schedule (总利息)."""
        return self._sum(lambda inst: inst.interest)

    @property
    def total_principal(self) -> Money:
        """Principal over the whole schedule; equals :attr:`principal` by construction."""
        return self._sum(lambda inst: inst.principal)

    @property
    def total_payment(self) -> Money:
        """Everything the borrower pays: principal plus interest (还款总额)."""
        return self._sum(lambda inst: inst.payment)

    @property
    def first_payment(self) -> Money:
        """The first instalment's payment (首期月供)."""
        return self.installments[0].payment

    @property
    def maturity(self) -> date:
        """Due date of the last instalment (到期日)."""
        return self.installments[-1].due_on

    def __len__(self) -> int:
        return len(self.installments)


def annuity_payment(
    principal: Money, annual_rate: Rate, periods: int, rounding: Round = Round.HALF_UP
) -> Money:
    """Level instalment A = P·i·(1+i)^n / ((1+i)^n − 1) with i = annual / 12, rounded once.

    >>> annuity_payment(Money.parse("400000"), Rate("0.0325"), 360).format()
    '¥1,740.83'
    """
    i = annual_rate.monthly
    if i == 0:
        return Money(
            round_fraction(Fraction(principal.minor, periods), rounding), principal.currency
        )
    growth = (1 + i) ** periods
    exact = principal.minor * i * growth / (growth - 1)
    return Money(round_fraction(exact, rounding), principal.currency)


def _validate_terms(principal: Money, annual_rate: Rate, periods: int) -> None:
    if not isinstance(principal, Money) or not principal.is_positive():
        raise ScheduleError(f"The principal must be a positive amount, not {principal}.")
    if (
        isinstance(periods, bool)
        or not isinstance(periods, int)
        or not 1 <= periods <= _MAX_PERIODS
    ):
        raise ScheduleError(f"The number of periods must be 1–{_MAX_PERIODS}, not {periods!r}.")
    if annual_rate.annual < 0:
        raise ScheduleError(f"The annual rate cannot be negative ({annual_rate.percent()}).")


def _validate_plan(principal: Money, periods: int, plan: Sequence[Money]) -> list[int]:
    if len(plan) != periods:
        raise ScheduleError(
            f"The principal plan has {len(plan)} entries but the loan has {periods} periods."
        )
    fen: list[int] = []
    for k, amount in enumerate(plan, start=1):
        if not isinstance(amount, Money) or amount.currency != principal.currency:
            raise ScheduleError(f"Principal plan entry {k} must be money in {principal.currency}.")
        if amount.is_negative():
            raise ScheduleError(f"Principal plan entry {k} is negative ({amount}).")
        fen.append(amount.minor)
    planned = Money(sum(fen), principal.currency)
    if planned != principal:
        raise ScheduleError(
            f"The principal plan sums to {planned} but the principal is {principal}; "
            f"the difference is {principal - planned}."
        )
    return fen


def _amortising_dates(start: date, periods: int, first_due: date | None) -> list[date]:
    if first_due is None:
        return [add_months(start, k) for k in range(1, periods + 1)]
    return [add_months(first_due, k) for k in range(periods)]


def _bullet_dates(
    start: date, periods: int, first_due: date | None, frequency: Frequency
) -> list[date]:
    maturity = add_months(start, periods)
    if first_due is not None and first_due > maturity:
        raise ScheduleError(f"The first due date {first_due} is after maturity {maturity}.")
    after = start if first_due is None else first_due
    dates = [d for d in settlement_dates(after, maturity, frequency) if d < maturity]
    if first_due is not None and first_due < maturity:
        dates.insert(0, first_due)
    return [*dates, maturity]


def _principal_rule(
    method: Method,
    principal: Money,
    annual_rate: Rate,
    periods: int,
    plan_fen: list[int] | None,
    rounding: Round,
) -> Callable[[int, int], int]:
    """Principal (fen) due at instalment ``k`` (0-based) given that instalment's interest."""
    if method is Method.ANNUITY:
        level = annuity_payment(principal, annual_rate, periods, rounding).minor
        return lambda _k, interest: level - interest
    if method is Method.EQUAL_PRINCIPAL:
        share = round_fraction(Fraction(principal.minor, periods), rounding)
        return lambda _k, _interest: share
    if method is Method.CUSTOM and plan_fen is not None:
        return lambda k, _interest: plan_fen[k]
    return lambda _k, _interest: 0


def build_schedule(
    principal: Money,
    annual_rate: Rate,
    periods: int,
    start: date,
    method: Method,
    *,
    first_due: date | None = None,
    interest_frequency: Frequency = Frequency.MONTHLY,
    day_count: DayCount | None = None,
    principal_plan: Sequence[Money] | None = None,
    rounding: Round = Round.HALF_UP,
) -> Schedule:
    """Build a repayment schedule.

    Due dates: amortising methods have ``periods`` monthly instalments on the same day of the
    month as ``first_due`` (default: one month after ``start``). Interest-only runs ``periods``
    months from ``start`` to maturity and settles interest on the 20th of each month (or of
    Mar/Jun/Sep/Dec when quarterly), with the last interest settled with the principal at
    maturity (利随本清); ``first_due`` then replaces the first settlement date.

    Interest per line is the balance times the rate for the period, rounded once with
    ``rounding``. With ``day_count=None`` amortising methods use the DOMAIN.md §7 monthly rate
    i = annual / 12 for every instalment, and interest-only counts whole months (30/360), so a
    full month is exactly i. With a :class:`DayCount` interest is charged for the days between
    consecutive due dates (the first period from ``start``).

    Args:
        principal: amount lent (positive).
        annual_rate: contract annual rate.
        periods: number of monthly instalments (amortising) or the term in months (interest-only).
        start: value date (起息日).
        method: repayment method.
        first_due: first due date; must be after ``start``.
        interest_frequency: monthly or quarterly interest settlement (quarterly: interest-only).
        day_count: ``None`` for the monthly formula, else interest by days under this convention.
        principal_plan: principal per period for :attr:`Method.CUSTOM`; must sum to ``principal``.
        rounding: rounding mode for each line's interest and for the level instalment.

    Returns:
        The schedule; principal sums exactly to ``principal`` and the last balance is zero.

    Raises:
        ScheduleError: terms that cannot make a schedule (non-positive principal, bad period
            count, negative rate, a plan that does not sum to the principal, ...).
    """
    _validate_terms(principal, annual_rate, periods)
    if first_due is not None and first_due <= start:
        raise ScheduleError(f"The first due date {first_due} must be after the start {start}.")
    if (principal_plan is not None) != (method is Method.CUSTOM):
        raise ScheduleError("A principal plan goes with the custom method, and only with it.")
    plan_fen = (
        None if principal_plan is None else _validate_plan(principal, periods, principal_plan)
    )
    if method.is_amortising:
        if interest_frequency is not Frequency.MONTHLY:
            raise ScheduleError("Quarterly interest applies to interest-only (先息后本) loans.")
        dates = _amortising_dates(start, periods, first_due)
    else:
        dates = _bullet_dates(start, periods, first_due, interest_frequency)
    due_principal = _principal_rule(method, principal, annual_rate, periods, plan_fen, rounding)
    rate, monthly = annual_rate.fraction, annual_rate.monthly
    balance, previous = principal.minor, start
    lines: list[Installment] = []
    for k, due_on in enumerate(dates):
        if day_count is not None:
            exact = balance * rate * day_count.year_fraction(previous, due_on)
        elif method.is_amortising:
            exact = balance * monthly
        else:
            exact = balance * rate * DayCount.THIRTY_360.year_fraction(previous, due_on)
        interest = round_fraction(exact, rounding)
        paid = balance if k == len(dates) - 1 else min(max(due_principal(k, interest), 0), balance)
        balance -= paid
        lines.append(
            Installment(
                number=k + 1,
                due_on=due_on,
                principal=Money(paid, principal.currency),
                interest=Money(interest, principal.currency),
                balance_after=Money(balance, principal.currency),
            )
        )
        previous = due_on
    return Schedule(
        installments=tuple(lines),
        principal=principal,
        annual_rate=annual_rate,
        method=method,
        start=start,
        day_count=day_count,
        interest_frequency=interest_frequency,
        rounding=rounding,
    )


def reschedule(
    outstanding: Money,
    annual_rate: Rate,
    remaining_periods: int,
    next_due: date,
    method: Method,
    *,
    last_due: date | None = None,
    first_number: int = 1,
    interest_frequency: Frequency = Frequency.MONTHLY,
    day_count: DayCount | None = None,
    principal_plan: Sequence[Money] | None = None,
    rounding: Round = Round.HALF_UP,
) -> Schedule:
    """Recompute the rest of a schedule from the outstanding balance (after a prepayment 提前还款
    or a repricing): same method, new instalments from ``next_due``.

    Args:
        outstanding: principal still owed.
        annual_rate: the rate from now on.
        remaining_periods: instalments left (interest-only: months left).
        next_due: due date of the next instalment.
        method: repayment method.
        last_due: the day interest was last settled (default one month before ``next_due``).
        first_number: number of the next instalment, so numbering continues the old schedule.
        interest_frequency: as in :func:`build_schedule`.
        day_count: as in :func:`build_schedule`.
        principal_plan: remaining principal per period for the custom method.
        rounding: as in :func:`build_schedule`.

    Returns:
        The new schedule, numbered from ``first_number``.
    """
    start = last_due if last_due is not None else add_months(next_due, -1)
    fresh = build_schedule(
        outstanding,
        annual_rate,
        remaining_periods,
        start,
        method,
        first_due=next_due,
        interest_frequency=interest_frequency,
        day_count=day_count,
        principal_plan=principal_plan,
        rounding=rounding,
    )
    if first_number == 1:
        return fresh
    renumbered = tuple(
        replace(inst, number=inst.number + first_number - 1) for inst in fresh.installments
    )
    return replace(fresh, installments=renumbered)


def _balance_product(daily_balances: Iterable[tuple[date, Money] | tuple[int, Money]]) -> Money:
    """Σ days × balance (积数) in fen-days, from dated end-of-day balances or (days, balance)."""
    product: Money | None = None
    seen: set[date] = set()
    for when, balance in daily_balances:
        if balance.is_negative():
            raise ScheduleError(f"A drawn balance cannot be negative ({balance}).")
        if isinstance(when, date):
            if when in seen:
                raise ScheduleError(f"The balance for {when} is given twice.")
            seen.add(when)
            days = 1
        elif isinstance(when, int) and not isinstance(when, bool) and when >= 0:
            days = when
        else:
            raise ScheduleError(f"Expected a date or a non-negative day count, not {when!r}.")
        term = balance * days
        product = term if product is None else product + term
    return product if product is not None else Money.zero()


def revolving_interest(
    daily_balances: Iterable[tuple[date, Money] | tuple[int, Money]],
    annual_rate: Rate,
    day_count: DayCount = DayCount.ACT_360,
    *,
    rounding: Round = Round.HALF_UP,
) -> Money:
    """Interest on a revolving line by the balance-product method (积数法, 随借随还).

    Interest = Σ over days of the end-of-day drawn balance × annual / days_in_year, summed exactly
    and rounded once.

    Args:
        daily_balances: either ``(date, end-of-day balance)`` for each day (each date counts one
            day), or ``(days, balance)`` runs.
        annual_rate: the line's annual rate.
        day_count: supplies the year length (ACT/360 by default).
        rounding: the one rounding step.

    Returns:
        The interest for the period.
    """
    product = _balance_product(daily_balances)
    exact = product.minor * annual_rate.per_day(day_count.days_in_year)
    return Money(round_fraction(exact, rounding), product.currency)
