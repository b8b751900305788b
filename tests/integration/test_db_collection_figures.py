"""The collection figures of a scripted book, on the fakes, SQLite and PostgreSQL: four loans
drawn on 2026-03-02 with known payment behaviour, end of day run to 2026-06-30, and the roll
rates, cure rates and amounts recovered by bucket the test derives by hand.

    loan  principal   04-02   05-02   06-02      at 03-31  04-30  05-31  06-30
    A     100,000     paid    paid    paid       current   cur    cur    cur
    B      50,000     -       -       -          current   M1     M2     M3   (dpd 28, 59, 89)
    C      30,000     -       all due paid       current   M1     cur    cur  (cured in May)
    D      20,000     paid    -       -          current   cur    M1     M2   (dpd 29, 59)
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from fractions import Fraction as Q

import pytest
from tests.integration.test_db_servicing_stories import Worlds
from tests.world import World

from loomcredit.domain.collection_figures import CollectionFigures, RollBucket
from loomcredit.domain.money import Money
from loomcredit.domain.payments import loan_reference
from loomcredit.service_layer.collection_report import collection_report
from loomcredit.service_layer.users import AccessDeniedError, Role, User

CUR, M1, M2, M3 = RollBucket.CURRENT, RollBucket.M1, RollBucket.M2, RollBucket.M3
AS_OF = date(2026, 6, 30)


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("fakes", marks=pytest.mark.slow),  # the fakes copy their state per uow
        pytest.param("sqlite", marks=pytest.mark.integration),
        pytest.param("postgresql", marks=pytest.mark.integration),
    ],
)
def scripted(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[World, Book]]:
    """One world per store with the book scripted into it once (four months of end of day):
    the tests only read it."""
    if request.param == "fakes":
        w = World()
        yield w, Book(w)
        return
    worlds = Worlds(request.param, tmp_path_factory.mktemp(request.param))
    w = worlds()
    yield w, Book(w)
    worlds.close()


class Book:
    """The scripted book run through end of day, and what was paid (the amounts due asked)."""

    def __init__(self, w: World) -> None:
        line = w.open_line("300000")
        self.a, self.b, self.c, self.d = (w.draw(line, x) for x in
                                          ("100000", "50000", "30000", "20000"))  # fmt: skip
        self.paid: dict[tuple[int, date], Money] = {}
        for day, payers in (
            (date(2026, 4, 2), (self.a, self.d)),
            (date(2026, 5, 2), (self.a, self.c)),
            (date(2026, 6, 2), (self.a, self.c)),
        ):
            w.close_days_until(day)
            credits = []
            for loan_id in payers:
                due = w.loan(loan_id).amount_due(day)
                self.paid[(loan_id, day)] = due
                credits.append(w.credit(f"R{loan_id}-{day:%m}", due.amount_str(),
                                        memo=loan_reference(loan_id)))  # fmt: skip
            assert w.statement(*credits).summary.booked == len(payers)
        w.close_days_until(date(2026, 7, 1))  # end of day has run for 06-30
        self.first_principal = {x: w.loan(x).instalments[0].principal.minor
                                for x in (self.a, self.d)}  # fmt: skip
        with w.uow() as uow:
            self.figures = collection_report(uow, User("col", Role.COLLECTOR), as_of=AS_OF)


def test_roll_rates_by_loans_and_by_balance(scripted: tuple[World, Book]) -> None:
    """Each month's matrix as derived by hand in the module docstring."""
    _, book = scripted
    f: CollectionFigures = book.figures
    assert f.month_ends == (date(2026, 3, 31), date(2026, 4, 30), date(2026, 5, 31), AS_OF)
    march, april, may = f.roll_rates
    # 03-31 → 04-30: all four current; A, D stay, B, C roll to M1. By balance (nothing repaid by
    # 03-31): 120,000 / 200,000 and 80,000 / 200,000.
    assert (march.rate(CUR, CUR), march.rate(CUR, M1)) == (Q(1, 2), Q(1, 2))
    assert (march.balance_rate(CUR, CUR), march.balance_rate(CUR, M1)) == (Q(3, 5), Q(2, 5))
    assert march.rate(M1, M2) is None  # nobody in M1 at 03-31
    # 04-30 → 05-31: current {A, D}: D rolls; M1 {B, C}: B to M2, C cured.
    assert (april.rate(CUR, CUR), april.rate(CUR, M1)) == (Q(1, 2), Q(1, 2))
    a1, d1 = book.first_principal[book.a], book.first_principal[book.d]
    assert april.balance_rate(CUR, M1) == Q(20_000_00 - d1, 120_000_00 - a1 - d1)
    assert (april.rate(M1, M2), april.rate(M1, CUR)) == (Q(1, 2), Q(1, 2))
    assert (april.balance_rate(M1, M2), april.balance_rate(M1, CUR)) == (Q(5, 8), Q(3, 8))
    # 05-31 → 06-30: A, C current; D M1 → M2; B M2 → M3.
    assert may.rate(CUR, CUR) == 1
    assert (may.rate(M1, M2), may.rate(M2, M3)) == (1, 1)
    assert may.rate(M2, RollBucket.CLOSED) == 0


def test_cure_rates_and_recovered_by_bucket(scripted: tuple[World, Book]) -> None:
    """Cured: C in May (1 of 2 overdue), nobody in June (0 of 2): 1/4 over the period. The May
    receipt of C came while it was M1; every other receipt while current."""
    _, book = scripted
    f = book.figures
    assert [c.rate for c in f.cure_rates] == [None, Q(1, 2), Q(0)]
    assert f.cure_rate == Q(1, 4)
    paid = book.paid
    april, may, june = date(2026, 4, 1), date(2026, 5, 1), date(2026, 6, 1)
    got = {(r.month, r.bucket): (r.amount, r.receipts) for r in f.recovered}
    assert got == {
        (april, CUR): (paid[(book.a, date(2026, 4, 2))] + paid[(book.d, date(2026, 4, 2))], 2),
        (may, CUR): (paid[(book.a, date(2026, 5, 2))], 1),
        (may, M1): (paid[(book.c, date(2026, 5, 2))], 1),
        (june, CUR): (paid[(book.a, date(2026, 6, 2))] + paid[(book.c, date(2026, 6, 2))], 2),
    }
    assert f.recovered_in(M1) == paid[(book.c, date(2026, 5, 2))]
    assert f.recovered_in(M2) is None
    # The four loans are one borrower's: one collection case since B and C went M1 in April,
    # still open (B is M3 at 06-30: the policy's late queue, collector4 or collector5); nobody
    # was contacted and nothing promised.
    assert (f.promise_kept_rate, f.contacts_per_case) == (None, Q(0))
    ((collector, cases),) = f.cases_per_collector
    assert (collector in {"collector4", "collector5"}, cases) == (True, 1)


def test_only_collection_readers_see_the_figures(scripted: tuple[World, Book]) -> None:
    """Operations or a borrower may not read them (a customer manager may: it follows its
    borrowers' cases); an auditor may, and before the first month end there is nothing to show."""
    world, _ = scripted
    with world.uow() as uow:
        for role in (Role.APPLICANT, Role.OPERATIONS, Role.REVIEWER):
            with pytest.raises(AccessDeniedError):
                collection_report(uow, User("x", role), as_of=AS_OF)
        empty = collection_report(uow, User("aud", Role.AUDITOR), as_of=date(2026, 3, 30))
    assert (empty.month_ends, empty.roll_rates) == ((), ())
