"""The monthly limit review (额度动态调整) on the fakes: the domain's rule (within the band
applies itself, beyond it is proposed, a raise above the approved limit and a decline always go
to a person) and the use case (applied on the business date, proposed through four eyes, one
review per line and month)."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.world import USCC, World

from loomcredit.domain.approval import ApprovalKind, LimitReviewOrder
from loomcredit.domain.credit_line import CreditLine, LineKind, LineStatus, LineTerms
from loomcredit.domain.decision.limits import LimitBuildUp, LimitComponent
from loomcredit.domain.errors import CreditLineError, FourEyesViolation
from loomcredit.domain.identity import generate_uscc
from loomcredit.domain.limit_review import (
    LimitReviewPolicy,
    ReviewBasis,
    ReviewOutcome,
    review_limit,
    review_month,
)
from loomcredit.domain.money import Money
from loomcredit.service_layer import approvals, limit_review
from loomcredit.service_layer.errors import InvalidRequestError
from loomcredit.service_layer.users import AccessDeniedError, User

POLICY = LimitReviewPolicy()
AS_OF = date(2026, 2, 28)  # the World's today is 2026-03-02: the review sets March's limit
OTHER = generate_uscc("330603", random.Random(11))


def _line(limit: str = "500000", approved: str | None = None) -> CreditLine:
    line = CreditLine.open(
        LineTerms(1, USCC, LineKind.REVOLVING, Money.parse(approved or limit),
                  date(2026, 1, 5), date(2027, 1, 5), "D1", "6222000011112222")
    )  # fmt: skip
    line.line_id = 1
    if approved is not None:
        line.limit = Money.parse(limit)
    return line


def _basis(target: str, *, declined: bool = False) -> ReviewBasis:
    t = Money.parse(target)
    return ReviewBasis(Decimal("0.02"), t, t, Decimal("1.0"), "own", "sales_multiple", (),
                       declined=declined)  # fmt: skip


class TestTheRule:
    @pytest.mark.parametrize(
        ("target", "outcome"),
        [
            ("500000", ReviewOutcome.UNCHANGED),
            ("500500", ReviewOutcome.UNCHANGED),  # below the ¥1,000 step
            ("450000", ReviewOutcome.APPLIED),  # −10 %: on the band's edge
            ("449000", ReviewOutcome.PROPOSED),  # −10.2 %
            ("100000", ReviewOutcome.PROPOSED),
        ],
    )
    def test_a_change_within_the_band_applies_itself_a_larger_one_is_proposed(
        self, target: str, outcome: ReviewOutcome
    ) -> None:
        r = review_limit(_line(), _basis(target), as_of=AS_OF, policy=POLICY)
        assert r.outcome is outcome
        assert r.month == date(2026, 3, 1)

    def test_a_raise_above_the_approved_limit_goes_to_a_person_however_small(self) -> None:
        """Seasonal peaks may lift the month's limit above what was approved: that is a new
        credit decision, proposed even at +2 %."""
        r = review_limit(_line(), _basis("510000"), as_of=AS_OF, policy=POLICY)
        assert (r.outcome, r.target) == (ReviewOutcome.PROPOSED, Money.parse("510000"))
        assert "批准额度" in r.reason_zh
        lifted = review_limit(_line("460000", approved="500000"), _basis("500000"),
                              as_of=AS_OF, policy=POLICY)  # fmt: skip
        assert lifted.outcome is ReviewOutcome.APPLIED  # back up to the approved limit: +8.7 %

    def test_a_raise_on_a_frozen_line_is_proposed_a_cut_applies(self) -> None:
        frozen = _line("460000", approved="500000")
        frozen.freeze("预警", AS_OF)
        up = review_limit(frozen, _basis("480000"), as_of=AS_OF, policy=POLICY)
        down = review_limit(frozen, _basis("440000"), as_of=AS_OF, policy=POLICY)
        assert (up.outcome, down.outcome) == (ReviewOutcome.PROPOSED, ReviewOutcome.APPLIED)

    def test_a_decline_proposes_zero_and_no_basis_is_not_reviewed(self) -> None:
        declined = review_limit(_line(), _basis("0", declined=True), as_of=AS_OF, policy=POLICY)
        assert (declined.outcome, declined.target) == (ReviewOutcome.PROPOSED, Money.zero())
        none = review_limit(_line(), None, as_of=AS_OF, policy=POLICY)
        assert (none.outcome, none.target) == (ReviewOutcome.NOT_REVIEWED, Money.parse("500000"))

    @given(
        current=st.integers(1, 10**9),
        approved=st.integers(1, 10**9),
        ratio=st.decimals("0", "2", places=3),
        band=st.decimals("0", "0.5", places=2),
        frozen=st.booleans(),
    )
    def test_what_applies_itself_stays_within_the_band_and_the_approved_limit(
        self, current: int, approved: int, ratio: Decimal, band: Decimal, frozen: bool
    ) -> None:
        target = int(current * ratio)
        line = _line()
        line.terms = LineTerms(1, USCC, LineKind.REVOLVING, Money(approved), date(2026, 1, 5),
                               date(2027, 1, 5), "D1", "6222000011112222")  # fmt: skip
        line.limit = Money(current)
        if frozen:
            line.freeze("预警", AS_OF)
        t = Money(target)
        basis = ReviewBasis(Decimal("0.02"), t, t, None, "", "sales_multiple", ())
        r = review_limit(line, basis, as_of=AS_OF, policy=LimitReviewPolicy(band=band))
        change = target - current
        if r.outcome is ReviewOutcome.APPLIED:
            assert abs(change) * 1 <= band * current + Decimal("0.00005") * current
            assert change < 0 or target <= approved
            assert change < 0 or not frozen
            assert abs(change) >= POLICY.step.minor
        if abs(change) >= POLICY.step.minor:
            assert r.outcome in {ReviewOutcome.APPLIED, ReviewOutcome.PROPOSED}

    def test_the_review_is_for_the_month_after_the_date(self) -> None:
        assert review_month(date(2026, 12, 31)) == date(2027, 1, 1)
        assert review_month(date(2026, 1, 15)) == date(2026, 2, 1)

    def test_adjust_changes_the_limit_either_way_but_never_to_the_same_or_below_zero(self) -> None:
        line = _line()
        line.adjust(Money.parse("550000"), "季节上调", AS_OF)
        assert line.limit == Money.parse("550000")
        with pytest.raises(CreditLineError):
            line.adjust(Money.parse("550000"), "again", AS_OF)
        with pytest.raises(CreditLineError):
            line.adjust(Money(-1), "below zero", AS_OF)


def _build(base: str, march: str | None = None) -> LimitBuildUp:
    """A revolving build-up whose March limit is ``march`` (other months the base)."""
    b = Money.parse(base)
    monthly = tuple(Money.parse(march) if m == 3 and march else b for m in range(1, 13))
    factors = tuple(Decimal("1.0") for _ in range(12))
    comp = (LimitComponent("sales_multiple", b, "0.30 × 12m sales"),)
    return LimitBuildUp(comp, "sales_multiple", b, "own", factors, monthly, Money.zero(),
                        Decimal("0.1"))  # fmt: skip


def _run(w: World, as_of: date = AS_OF, user: User | None = None) -> limit_review.ReviewRun:
    with w.uow() as uow:
        out = limit_review.review_limits(uow, user or w.ops, w.decider, POLICY, as_of=as_of,
                                         now=w.now)  # fmt: skip
        uow.commit()
    return out


def _limit(w: World, line_id: int) -> Money:
    with w.uow() as uow:
        line = uow.lines.get(line_id)
        assert line is not None
        return line.limit


class TestTheMonthlyRun:
    def test_small_change_applies_large_one_waits_for_a_risk_manager(self) -> None:
        """Two lines: one drifts −6 % and is applied on the business date; the other's March
        limit (a seasonal trough) is −40 %, proposed with its build-up; another risk manager
        approves it and the line is lowered; the one who ran the review cannot."""
        w = World()
        small = w.open_line("500000")
        large = w.open_line("500000", uscc=OTHER)
        w.decider.build_ups = {USCC: _build("470000"), OTHER: _build("500000", march="300000")}
        run = _run(w, user=w.risk)
        by_line = {r.line_id: r for r in run.reviews}
        assert by_line[small].outcome is ReviewOutcome.APPLIED
        assert _limit(w, small) == Money.parse("470000")
        proposed = by_line[large]
        assert proposed.outcome is ReviewOutcome.PROPOSED
        assert _limit(w, large) == Money.parse("500000")
        asked_for = {req.amount for req, _ in w.decider.asked[-2:]}
        assert asked_for == {Money.parse("500000")}  # decided for the approved amount
        with w.uow() as uow:
            (req,) = uow.approvals.pending(kinds=[ApprovalKind.LIMIT_REVIEW])
        assert req.order == LimitReviewOrder(large, Money.parse("300000"), proposed.review_id)
        assert "sales_multiple" in req.reason
        assert "2026-03" in req.reason
        with w.uow() as uow, pytest.raises(FourEyesViolation):
            approvals.approve(uow, w.risk, req.request_id, now=w.now)
        with w.uow() as uow, pytest.raises(AccessDeniedError):
            approvals.approve(uow, w.ops, req.request_id, now=w.now)
        with w.uow() as uow:
            approvals.approve(uow, w.risk2, req.request_id, now=w.now, comment="淡季压降")
            uow.commit()
        assert _limit(w, large) == Money.parse("300000")
        with w.uow() as uow:
            actions = [r.action for r in uow.audit.records()]
        assert actions.count("line.adjusted") == 2
        assert "limit_review.run" in actions

    def test_the_month_is_reviewed_once_and_the_next_month_again(self) -> None:
        w = World()
        line = w.open_line("500000")
        w.decider.build_ups = {USCC: _build("470000")}
        assert len(_run(w).reviews) == 1
        again = _run(w)
        assert (again.reviews, again.already_reviewed) == ((), 1)
        assert _limit(w, line) == Money.parse("470000")  # not applied twice
        w.today = date(2026, 4, 1)
        w.decider.build_ups = {USCC: _build("450000")}
        (april,) = _run(w, date(2026, 3, 31)).reviews
        assert (april.month, april.current, april.outcome) == (
            date(2026, 4, 1), Money.parse("470000"), ReviewOutcome.APPLIED,
        )  # fmt: skip

    def test_a_proposal_still_waiting_is_pointed_at_not_asked_twice(self) -> None:
        w = World()
        w.open_line("500000")
        w.decider.build_ups = {USCC: _build("200000")}
        (first,) = _run(w).reviews
        w.today = date(2026, 4, 1)
        (second,) = _run(w, date(2026, 3, 31)).reviews
        assert second.approval_id == first.approval_id != 0
        with w.uow() as uow:
            assert len(uow.approvals.pending(kinds=[ApprovalKind.LIMIT_REVIEW])) == 1

    def test_no_features_leaves_the_limit_and_a_closed_line_is_not_reviewed(self) -> None:
        w = World()
        line = w.open_line("500000")
        closed = w.open_line("500000", uscc=OTHER)
        with w.uow() as uow:
            c = uow.lines.get(closed, lock=True)
            assert c is not None
            c.close(AS_OF, "test")
            uow.lines.save(c)
            uow.commit()
        w.decider.unknown = {USCC}
        (r,) = _run(w).reviews
        assert (r.line_id, r.outcome) == (line, ReviewOutcome.NOT_REVIEWED)
        assert _limit(w, line) == Money.parse("500000")

    def test_a_review_cannot_run_for_a_day_after_today_nor_by_an_officer(self) -> None:
        w = World()
        w.open_line()
        with w.uow() as uow, pytest.raises(InvalidRequestError):
            limit_review.review_limits(uow, w.ops, w.decider, POLICY,
                                       as_of=date(2026, 3, 31), now=w.now)  # fmt: skip
        with w.uow() as uow, pytest.raises(AccessDeniedError):
            limit_review.review_limits(uow, w.officer, w.decider, POLICY, as_of=AS_OF, now=w.now)

    def test_an_approved_adjustment_the_line_already_has_is_refused_when_asked(self) -> None:
        w = World()
        line = w.open_line("500000")
        order = LimitReviewOrder(line, Money.parse("500000"), 0)
        with w.uow() as uow, pytest.raises(InvalidRequestError):
            approvals.request_approval(uow, w.ops, order, reason="same", now=w.now)
        with w.uow() as uow:
            stored = uow.lines.get(line)
            assert stored is not None
            assert stored.status is LineStatus.ACTIVE


def test_end_of_day_on_a_month_end_reviews_limits_after_monitoring() -> None:
    """`loom eod --monitor` on the last day of a month closes the book, monitors, then reviews
    every line for the coming month; on another day it reviews nothing."""
    from tests.fakes import FakeFeatures, FakeWarningRules

    from loomcredit.service_layer import monitoring

    w = World(today=date(2026, 3, 31))
    line = w.open_line("500000")
    w.decider.build_ups = {USCC: _build("470000")}
    w.today = date(2026, 4, 1)
    feats = FakeFeatures({USCC: {}})
    with w.uow() as uow:
        _, _, none = monitoring.close_and_monitor(
            uow, w.ops, feats, FakeWarningRules(), date(2026, 3, 30), now=w.now,
            review=(w.decider, POLICY),
        )  # fmt: skip
        _, _, run = monitoring.close_and_monitor(
            uow, w.ops, feats, FakeWarningRules(), date(2026, 3, 31), now=w.now,
            review=(w.decider, POLICY),
        )  # fmt: skip
    assert none is None
    assert run is not None
    assert [(r.line_id, r.month, r.outcome) for r in run.reviews] == [
        (line, date(2026, 4, 1), ReviewOutcome.APPLIED)
    ]
    assert _limit(w, line) == Money.parse("470000")
