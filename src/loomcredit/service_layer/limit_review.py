"""Use case: the monthly limit review (额度动态调整) over every open line.

:func:`review_limits` runs, as of a date (a month end, by end of day or by hand), the credit
decision again for each line not closed — on the borrower's latest point-in-time features and the
promoted model, for the amount the line was approved for — and lets ``domain/limit_review.py``
set the coming month's limit: a change within the policy's band applies itself on the business
date; a larger one, a raise above the approved limit or a decision that now declines is proposed
with its build-up as a four-eyes request a risk manager approves under ``/approvals``. One review
per line and month: running the month again reviews only the lines not yet reviewed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from loomcredit.domain.approval import ApprovalKind, LimitReviewOrder
from loomcredit.domain.credit_line import CreditLine, LineStatus
from loomcredit.domain.errors import NotFound
from loomcredit.domain.limit_review import (
    LimitReview,
    LimitReviewPolicy,
    ReviewOutcome,
    basis_from,
    review_limit,
    review_month,
)
from loomcredit.service_layer import approvals
from loomcredit.service_layer.decisioning import DecisionRequest, InvalidApplicationError
from loomcredit.service_layer.eod import business_date
from loomcredit.service_layer.errors import InvalidRequestError
from loomcredit.service_layer.service_ports import Decider
from loomcredit.service_layer.unit_of_work import DuplicateKey, UnitOfWork
from loomcredit.service_layer.users import Action, User, require

__all__ = ["ReviewRun", "review_limits", "reviews"]


@dataclass(frozen=True, slots=True)
class ReviewRun:
    """What one review run did: the reviews it made, and how many lines it found reviewed."""

    as_of: date
    month: date
    reviews: tuple[LimitReview, ...]
    already_reviewed: int

    def count(self, outcome: ReviewOutcome) -> int:
        """How many reviews had ``outcome``."""
        return sum(1 for r in self.reviews if r.outcome is outcome)


def _build_up_text(review: LimitReview) -> str:
    b = review.basis
    if b is None:
        return review.reason_zh
    parts = [f"{c.name} {c.amount.format()}" for c in b.components]
    season = (
        f"; {review.month:%Y-%m} 季节系数 {b.season_factor} ({b.season_source})"
        if b.season_factor is not None
        else ""
    )
    return (
        f"额度动态调整 {review.month:%Y-%m}: {review.current.format()} → {review.target.format()} "
        f"({review.reason_zh}). PD {b.pd}; 基础额度 {b.base_limit.format()} (binding {b.binding}: "
        + ", ".join(parts)
        + f"){season}"
    )


def _propose(uow: UnitOfWork, user: User, review: LimitReview, now: datetime) -> None:
    """Ask for the review's change to be approved (or point at the one already waiting)."""
    subject = f"line:{review.line_id}"
    waiting = uow.approvals.pending(kinds=[ApprovalKind.LIMIT_REVIEW], subject=subject)
    if waiting:
        review.approval_id = waiting[0].request_id
        review.reason_zh += f"；上次调整申请 #{review.approval_id} 仍待审批"
        review.reason_en += f"; the earlier request #{review.approval_id} is still waiting"
        return
    order = LimitReviewOrder(review.line_id, review.target, review.review_id)
    request = approvals.request_approval(uow, user, order, reason=_build_up_text(review), now=now)
    review.approval_id = request.request_id


def _apply(uow: UnitOfWork, user: User, line: CreditLine, review: LimitReview,
           now: datetime) -> None:  # fmt: skip
    fresh = uow.lines.get(line.line_id, lock=True) or line
    before = fresh.limit
    fresh.adjust(review.target, f"额度动态调整 {review.month:%Y-%m}: {review.reason_zh}",
                 business_date(uow, now))  # fmt: skip
    uow.lines.save(fresh)
    uow.audit.append(
        user.name,
        "line.adjusted",
        f"line:{line.line_id}",
        {"from_fen": before.minor, "to_fen": review.target.minor, "month": str(review.month),
         "automatic": True, "reason": review.reason_en},
        now,
    )  # fmt: skip


def review_limits(
    uow: UnitOfWork,
    user: User,
    decider: Decider,
    policy: LimitReviewPolicy,
    *,
    as_of: date,
    now: datetime,
    line_ids: Iterable[int] | None = None,
) -> ReviewRun:
    """Review every line not closed (or only ``line_ids``) as of ``as_of`` for the next month.
    Audited as one run; the caller commits."""
    require(user, Action.RUN_LIMIT_REVIEW)
    if as_of > now.date():
        raise InvalidRequestError(
            f"a limit review cannot run as of {as_of}: it is after today ({now.date()})"
        )
    month = review_month(as_of)
    done = {r.line_id for r in uow.reviews.find(month=month)}
    wanted = set(line_ids) if line_ids is not None else None
    made: list[LimitReview] = []
    skipped = 0
    for line in sorted(uow.lines.find(), key=lambda ln: ln.line_id):
        if line.status is LineStatus.CLOSED or (wanted is not None and line.line_id not in wanted):
            continue
        if line.line_id in done:
            skipped += 1
            continue
        app = uow.applications.get(line.terms.application_id)
        if app is None:
            raise NotFound(f"credit line {line.line_id}'s application does not exist")
        request = DecisionRequest(line.terms.uscc, line.terms.limit, app.term_months, app.method)
        try:
            basis = basis_from(decider.decide(request, as_of), month)
        except InvalidApplicationError:
            basis = None  # the product no longer offers the line's term or method
        review = review_limit(line, basis, as_of=as_of, policy=policy)
        try:
            uow.reviews.add(review)
        except DuplicateKey:
            skipped += 1  # a concurrent run reviewed it first
            continue
        if review.outcome is ReviewOutcome.APPLIED:
            _apply(uow, user, line, review, now)
        elif review.outcome is ReviewOutcome.PROPOSED:
            _propose(uow, user, review, now)
            uow.reviews.save(review)
        made.append(review)
    run = ReviewRun(as_of, month, tuple(made), skipped)
    uow.audit.append(
        user.name,
        "limit_review.run",
        f"limit_review:{month:%Y-%m}",
        {"as_of": as_of.isoformat(), "month": str(month), "already_reviewed": skipped,
         **{o.value: run.count(o) for o in ReviewOutcome}},
        now,
    )  # fmt: skip
    return run


def reviews(
    uow: UnitOfWork, user: User, *, month: date | None = None, line_id: int | None = None
) -> list[LimitReview]:
    """The reviews made (of a month, or of a line)."""
    require(user, Action.READ_BOOK)
    return uow.reviews.find(month=month, line_id=line_id)
