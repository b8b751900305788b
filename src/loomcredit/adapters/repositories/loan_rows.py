"""Rows of ``loans`` and ``installments`` to :class:`~loomcredit.domain.loan.Loan` and back.

Loans are read and written in bulk with driver-level statements (a statement import reads a
hundred thousand loans and their 1.2 million instalments at once), so rows here are plain tuples
in the column orders below. A loan's *state* (what servicing changes: status, balances, accrual,
delinquency) and its schedule are flattened to tuples too, so the repository can remember what it
loaded and write only what changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from loomcredit.adapters import orm
from loomcredit.adapters.repositories._base import Dates, Monies
from loomcredit.domain.delinquency import Bucket, Grade
from loomcredit.domain.loan import Accrual, Instalment, Loan, LoanRef, LoanStatus, LoanTerms
from loomcredit.domain.money import Rate
from loomcredit.domain.schedule import Method

#: Loan columns servicing changes, in the order of :func:`state`.
STATE_COLUMNS = (
    "status",
    "outstanding_fen",
    "accrued_interest_e8",
    "accrued_penalty_e8",
    "interest_recognised_fen",
    "interest_received_fen",
    "penalty_recognised_fen",
    "penalty_paid_fen",
    "suspense_fen",
    "dpd",
    "bucket",
    "grade",
    "restructured_on",
    "watch_until",
)
#: The columns a loan is read from (``LOAN_COLUMNS[12:]`` is its state).
LOAN_COLUMNS = (
    "id",
    "version",
    "application_id",
    "line_id",
    "disbursement_key",
    "uscc",
    "principal_fen",
    "currency",
    "annual_rate",
    "penalty_uplift",
    "method",
    "start_date",
    *STATE_COLUMNS,
)
_STATE_AT = LOAN_COLUMNS.index(STATE_COLUMNS[0])
#: Instalment columns after ``(loan_id, number)``, in the order of :func:`schedule`'s items.
INSTALMENT_COLUMNS = (
    "due_on",
    "principal_fen",
    "interest_fen",
    "principal_paid_fen",
    "interest_paid_fen",
)

State = tuple[Any, ...]
Schedule = tuple[tuple[Any, ...], ...]  # (number, due_on, principal, interest, paid, paid)
Instalments = dict[int, tuple[Any, ...]]  # number -> (due_on, principal, interest, paid, paid)

L = orm.loans
I = orm.installments  # noqa: E741 - the installments table
#: ``(id, version, *state)``: what a save compares with.
LOAN_SELECT = (L.c.id, L.c.version, *(L.c[name] for name in STATE_COLUMNS))
#: ``(loan_id, number, *INSTALMENT_COLUMNS)``.
INSTALMENT_SELECT = (I.c.loan_id, I.c.number, *(I.c[name] for name in INSTALMENT_COLUMNS))


def instalments_of(loan: Loan) -> Instalments:
    """The schedule keyed by number, values in :data:`INSTALMENT_COLUMNS` order."""
    return {
        i.number: (
            i.due_on,
            i.principal.minor,
            i.interest.minor,
            i.principal_paid.minor,
            i.interest_paid.minor,
        )
        for i in loan.instalments
    }


def state(loan: Loan) -> State:
    """What servicing changes on the loan row."""
    a = loan.accrual
    return (
        loan.status.value,
        loan.outstanding.minor,
        a.interest_e8,
        a.penalty_e8,
        a.interest_recognised.minor,
        a.interest_received.minor,
        a.penalty_recognised.minor,
        a.penalty_paid.minor,
        loan.suspense.minor,
        loan.dpd,
        loan.bucket.name,
        int(loan.grade),
        loan.restructured_on,
        loan.watch_until,
    )


def schedule(loan: Loan) -> Schedule:
    """The schedule as ``(number, due_on, principal, interest, principal paid, interest paid)``."""
    return tuple(
        (
            i.number,
            i.due_on,
            i.principal.minor,
            i.interest.minor,
            i.principal_paid.minor,
            i.interest_paid.minor,
        )
        for i in loan.instalments
    )


def new_loan_row(loan: Loan, at: datetime | None = None) -> dict[str, Any]:
    """Every column of a new loan (its id left to the store), disbursed ``at`` (the service's
    clock; without one, midnight UTC of its start date — never the wall clock)."""
    t, ref = loan.terms, loan.ref
    return {
        **dict(zip(STATE_COLUMNS, state(loan), strict=True)),
        "application_id": ref.application_id,
        "line_id": ref.line_id,
        "disbursement_key": ref.disbursement_key,
        "uscc": ref.uscc,
        "principal_fen": t.principal.minor,
        "currency": loan.currency,
        "annual_rate": str(t.annual_rate.annual),
        "penalty_uplift": str(t.penalty_uplift),
        "method": t.method.value,
        "start_date": t.start_date,
        "rate_ppm": t.rate_ppm,
        "uplift_pct": t.uplift_pct,
        "disbursed_at": at or datetime.combine(t.start_date, time(0), tzinfo=UTC),
        "version": loan.version,
    }


class LoanBuilder:
    """Builds loans from rows, parsing each date, rate and uplift once and sharing equal Money
    values (they are immutable)."""

    def __init__(self) -> None:
        self.dates = Dates()
        self._monies: dict[str, Monies] = {}
        self._rates: dict[str, Rate] = {}
        self._uplifts: dict[str, Decimal] = {}

    def monies(self, cur: str) -> Monies:
        """Shared Money of a currency."""
        found = self._monies.get(cur)
        if found is None:
            found = self._monies[cur] = Monies(cur)
        return found

    def schedule(self, rows: Iterable[Sequence[Any]]) -> Schedule:
        """Instalment rows ``(loan_id, number, due_on, …)`` as a :data:`Schedule`."""
        d = self.dates
        return tuple((r[1], d[r[2]], r[3], r[4], r[5], r[6]) for r in rows)

    def instalments(self, sched: Iterable[Sequence[Any]], cur: str) -> list[Instalment]:
        """The instalments of ``(number, due_on, principal, interest, paid, paid)`` rows."""
        m, d = self.monies(cur), self.dates
        return [Instalment(n, d[due], m[p], m[i], m[pp], m[ip]) for n, due, p, i, pp, ip in sched]

    def loan(self, row: Any, instalments: list[Instalment]) -> Loan:
        """A loan from a row of ``select(loans)`` (read by column name)."""
        r = row._mapping
        cur = r["currency"]
        m = self.monies(cur)
        rate, uplift = r["annual_rate"], r["penalty_uplift"]
        annual = self._rates.get(rate) or self._rates.setdefault(rate, Rate(rate))
        pct = self._uplifts.get(uplift)
        if pct is None:
            pct = self._uplifts[uplift] = Decimal(uplift)
        return Loan(
            ref=LoanRef(
                r["id"], r["line_id"] or 0, r["application_id"], r["uscc"], r["disbursement_key"]
            ),
            terms=LoanTerms(
                m[r["principal_fen"]], annual, pct, Method(r["method"]), self.dates[r["start_date"]]
            ),
            status=LoanStatus(r["status"]),
            outstanding=m[r["outstanding_fen"]],
            instalments=instalments,
            accrual=Accrual(
                int(r["accrued_interest_e8"]),
                int(r["accrued_penalty_e8"]),
                m[r["interest_recognised_fen"]],
                m[r["interest_received_fen"]],
                m[r["penalty_recognised_fen"]],
                m[r["penalty_paid_fen"]],
            ),
            suspense=m[r["suspense_fen"]],
            dpd=r["dpd"],
            bucket=Bucket[r["bucket"]],
            grade=Grade(r["grade"]),
            version=r["version"],
            restructured_on=self._day(r["restructured_on"]),
            watch_until=self._day(r["watch_until"]),
        )

    def _day(self, value: Any) -> date | None:
        return None if value is None else self.dates[value]

    def as_disbursed(self, row: Any, original: Iterable[Sequence[Any]]) -> Loan:
        """The loan as disbursed: ``original`` rows ``(number, due_on, principal, interest)``,
        nothing paid or accrued, active."""
        cur = row._mapping["currency"]
        sched = tuple((n, self.dates[d], p, i, 0, 0) for n, d, p, i in original)
        loan = self.loan(row, self.instalments(sched, cur))
        loan.status, loan.outstanding = LoanStatus.ACTIVE, loan.terms.principal
        loan.accrual, loan.suspense = Accrual.zero(cur), self.monies(cur)[0]
        loan.dpd, loan.bucket, loan.grade, loan.version = 0, Bucket.M0, Grade.NORMAL, 0
        loan.restructured_on = loan.watch_until = None
        return loan
