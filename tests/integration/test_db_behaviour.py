"""The repayment facts behind the behaviour score, on SQLite and PostgreSQL: one grouped query
over ``loan_days`` equals the domain's rule (``domain/behaviour.repayment_history``) on random
books — windows, days after the as-of date, several loans per line."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select
from tests.integration.test_db_servicing_stories import Worlds

from loomcredit.adapters import orm
from loomcredit.domain.behaviour import LoanDay, repayment_history

pytestmark = pytest.mark.integration


@pytest.fixture(params=["sqlite", "postgresql"])
def worlds(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Worlds]:
    w = Worlds(request.param, tmp_path)
    yield w
    w.close()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_grouped_query_equals_the_domain_rule(worlds: Worlds, seed: int) -> None:
    rnd = random.Random(seed)
    w = worlds()
    lines = [w.open_line("400000") for _ in range(3)]
    loans = [w.draw(line, "10000") for line in lines for _ in range(rnd.randint(1, 3))]
    start = date(2025, 1, 1)
    edge = start + timedelta(days=400)  # a loan of its own has rows on the windows' edges
    rows = [
        {"loan_id": w.draw(lines[0], "10000"), "as_of": edge - timedelta(days=back), "dpd": 250,
         "bucket": "M3+", "grade": 4, "overdue_principal_fen": 0, "overdue_interest_fen": 0,
         "penalty_accrual_e8": 0}
        for back in (-1, 182, 365)
    ]  # fmt: skip
    for loan in loans:
        for day in rnd.sample(range(600), 120):
            dpd = rnd.choice([0, 0, 0, rnd.randint(1, 200)])
            rows.append({
                "loan_id": loan, "as_of": start + timedelta(days=day), "dpd": dpd,
                "bucket": "M0", "grade": 1, "overdue_principal_fen": 0,
                "overdue_interest_fen": 0, "penalty_accrual_e8": 0,
            })  # fmt: skip
    with w.uow() as uow:
        conn = uow._conn  # type: ignore[attr-defined]
        conn.execute(insert(orm.loan_days), rows)
        uow.commit()
    with w.uow() as uow:
        conn = uow._conn  # type: ignore[attr-defined]
        line_of = dict(conn.execute(select(orm.loans.c.id, orm.loans.c.line_id)).all())
        days = [
            LoanDay(r.loan_id, line_of[r.loan_id], r.as_of, r.dpd)
            for r in conn.execute(select(orm.loan_days))
        ]
        for as_of in [start + timedelta(days=d) for d in (0, 100, 250, 400, 401, 599, 700, 1000)]:
            assert uow.book.repayment_history(as_of) == repayment_history(days, as_of), as_of
    assert any(d.dpd > 0 for d in days)
