"""The scripted collections book (``tests/collections_book.py``) on SQLite and PostgreSQL through
the real unit of work: the same cases, moves, promises and priorities as on the fakes; the
repository keeps every field of the aggregate; one open case per borrower is the database's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from tests.collections_book import RM, RM2, Book, build
from tests.fakes import FakeStore
from tests.integration.test_db_servicing_stories import Worlds
from tests.world import World

from loomcredit.domain.collection_policy import CaseBucket
from loomcredit.domain.collections import CaseStatus, CloseReason, PromiseStatus
from loomcredit.domain.money import Money
from loomcredit.service_layer import approvals, case_work, collections
from loomcredit.service_layer.unit_of_work import DuplicateKey

pytestmark = pytest.mark.integration
M = Money.parse


@pytest.fixture(params=["sqlite", "postgresql"])
def worlds(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Worlds]:
    w = Worlds(request.param, tmp_path)
    yield w
    w.close()


def _story(b: Book) -> None:
    w = b.w
    b.promises_of_april_6()
    w.close_days_until(date(2026, 4, 9))
    b.pay_due("a")
    w.close_days_until(date(2026, 4, 20))
    b.pay_due("c")
    w.close_days_until(date(2026, 5, 2))
    b.pay_due("a"), b.pay_due("c")
    for due in (date(2026, 6, 2), date(2026, 7, 2)):
        w.close_days_until(due)
        b.pay_due("a"), b.pay_due("c")
    w.close_days_until(date(2026, 7, 3))


def _summary(b: Book) -> list[tuple[object, ...]]:
    out = []
    for who in "abc":
        c = b.case(who)
        out.append(
            (
                who,
                c.status,
                c.close_reason,
                c.closed_on,
                c.bucket,
                c.dpd,
                c.collector,
                c.priority_fen,
                c.exposure,
                c.penalty,
                c.compound,
                [(m.on, m.from_bucket, m.to_bucket, m.dpd) for m in c.moves],
                [(p.status, p.settled, p.evaluated_on) for p in c.promises],
                [(a.kind, a.outcome, a.contact_id, a.at) for a in c.activities],
            )
        )
    return out


def test_the_story_gives_the_same_cases_as_on_the_fakes(worlds: Worlds) -> None:
    """Every case field, move, promise and contact equals the fakes' run of the same story
    (whose figures the unit tests check by hand); the legal escalation closes b's case."""
    db, fake = build(worlds()), build(World(make_uow=FakeStore().uow))
    for b in (db, fake):
        _story(b)
    assert _summary(db) == _summary(fake)
    a, b_, c = (db.case(x) for x in "abc")
    assert (a.close_reason, c.close_reason, b_.bucket) == (
        CloseReason.CURED,
        CloseReason.CURED,
        CaseBucket.M3_PLUS,
    )
    assert [p.status for p in a.promises + c.promises] == [PromiseStatus.KEPT, PromiseStatus.BROKEN]
    with db.w.uow() as uow:
        (req,) = case_work.escalate(uow, RM, b_.case_id, to="legal", reason="M3+", now=db.w.now)
        approvals.approve(uow, RM2, req.request_id, now=db.w.now)
        uow.commit()
    done = db.case("b")
    assert (done.status, done.close_reason) == (CaseStatus.CLOSED, CloseReason.LEGAL)


def test_rerunning_a_day_and_one_open_case_per_borrower(worlds: Worlds) -> None:
    """update_cases for a day already done changes nothing; a second open case for the same
    borrower is refused by the database."""
    b = build(worlds())
    b.w.close_days_until(date(2026, 4, 5))
    before = _summary(b)
    with b.w.uow() as uow:
        out = collections.update_cases(uow, date(2026, 4, 4))
        uow.commit()
    assert (out.opened, out.moved, out.closed) == (0, 0, 0)
    assert _summary(b) == before
    case_id = b.case("b").case_id
    with b.w.uow() as uow:
        twin = uow.cases.get(case_id)
        assert twin is not None
        twin.moves, twin.activities, twin.promises = [], [], []
        with pytest.raises(DuplicateKey):
            uow.cases.add(twin)
