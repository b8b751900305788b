"""Use case: proposing a restructuring (展期 / 调整还款计划) for a risk manager's approval.

A collector (or a customer manager or a risk manager) proposes a :class:`RestructurePlan` for a
loan with a reason; the plan is tried on the loan at once (a closed or written-off loan, or a
plan that does not fit, is refused when asked); a risk manager who did not ask approves it
through ``approvals.approve``, which applies it on the business date of the approval
(``servicing.restructure_approved``): the new schedule, the watch period, an audit record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from loomcredit.domain.approval import ApprovalRequest, RestructureOrder
from loomcredit.domain.restructuring import Restructured, RestructurePlan
from loomcredit.service_layer import approvals, servicing
from loomcredit.service_layer.unit_of_work import UnitOfWork
from loomcredit.service_layer.users import Action, User, require


@dataclass(frozen=True, slots=True)
class Proposal:
    """A restructuring asked for: the approval request, and what it would do if approved on the
    business date it was asked on (a preview; the approval applies it on its own date)."""

    request: ApprovalRequest
    preview: Restructured


def propose_restructure(
    uow: UnitOfWork,
    user: User,
    loan_id: int,
    plan: RestructurePlan,
    *,
    reason: str,
    now: datetime,
    key: str | None = None,
) -> Proposal:
    """Ask for ``plan`` to be applied to the loan; a risk manager approves (four eyes)."""
    require(user, Action.PROPOSE_RESTRUCTURE)
    order = RestructureOrder(loan_id, plan)
    preview = servicing.check_restructure(uow, order, now)
    request = approvals.request_approval(uow, user, order, reason=reason, now=now, key=key)
    return Proposal(request, preview)
