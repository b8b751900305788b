"""Routes: collections 催收 — the case queue, a case, contacts under the conduct rules, promises
to pay, assignment, disputes, escalation to legal action or write-off (four eyes), figures.

A contact the conduct rules forbid is a 422 problem whose type names the rule
(``…/conduct/contact_hours``) and whose detail gives it in Chinese and English.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from loomcredit.domain.collection_policy import CaseBucket
from loomcredit.domain.collections import Outcome
from loomcredit.domain.conduct import ActivityKind
from loomcredit.entrypoints.api import views, views_collections
from loomcredit.entrypoints.api.deps import CurrentUser, Id, Svc, Uow
from loomcredit.entrypoints.api.errors import ERRORS
from loomcredit.entrypoints.api.schemas import MoneyIn, Text
from loomcredit.service_layer import case_work, collections
from loomcredit.service_layer.errors import InvalidRequestError

router = APIRouter(prefix="/api/v1/collections", tags=["collections"], responses=ERRORS)


class ContactIn(BaseModel):
    """A contact made now: how, with which registered contact (none: a visit or letter to the
    borrower's registered address), its outcome, and for a promise its amount and date."""

    model_config = ConfigDict(extra="forbid")
    kind: ActivityKind
    outcome: Outcome
    contact_id: int | None = Field(default=None, ge=1)
    note: Text = Field(default="", max_length=2000)
    promise_amount: MoneyIn | None = None
    promise_on: date | None = None


class PromiseIn(BaseModel):
    """承诺还款: how much by when."""

    model_config = ConfigDict(extra="forbid")
    amount: MoneyIn
    on: date


class EscalateIn(BaseModel):
    """Escalate an M3+ case (legal action or a write-off proposal), and why."""

    model_config = ConfigDict(extra="forbid")
    to: Literal["legal", "write_off"]
    reason: Text = Field(min_length=1, max_length=2000)


class AssignIn(BaseModel):
    """The collector to take the case."""

    model_config = ConfigDict(extra="forbid")
    to: str = Field(min_length=1, max_length=64)


class NoteIn(BaseModel):
    """How a dispute was resolved."""

    model_config = ConfigDict(extra="forbid")
    note: Text = Field(min_length=1, max_length=2000)


@router.get("/queue", summary="Case queue 催收队列")
def queue(
    user: CurrentUser,
    uow: Uow,
    collector: Annotated[str | None, Query(max_length=64)] = None,
    bucket: Annotated[Literal["M1", "M2", "M3", "M3+"] | None, Query()] = None,
) -> list[dict[str, Any]]:
    """Open cases, highest priority first (a broken promise shows as ``broken_promise``)."""
    found = collections.queue(
        uow, user, collector=collector, bucket=None if bucket is None else CaseBucket(bucket)
    )
    return [views_collections.case(c) for c in found]


@router.get("/cases/{case_id}", summary="A case 案件详情")
def get_case(case_id: Id, user: CurrentUser, uow: Uow) -> dict[str, Any]:
    """The case with its bucket moves, contacts and promises."""
    return views_collections.case(collections.get_case(uow, user, case_id), full=True)


@router.post("/cases/{case_id}/contacts", status_code=201, summary="Record a contact 催收记录")
def contact(case_id: Id, body: ContactIn, user: CurrentUser, svc: Svc, uow: Uow) -> dict[str, Any]:
    """Checked against the conduct rules first (422 naming the rule when refused; every attempt
    is audited)."""
    made = case_work.record_contact(
        uow,
        user,
        case_id,
        kind=body.kind,
        outcome=body.outcome,
        contact_id=body.contact_id,
        now=svc.clock(),
        note=body.note,
        promise_amount=None if body.promise_amount is None else body.promise_amount.money(),
        promise_on=body.promise_on,
        policy=svc.collections_policy(),
    )
    uow.commit()
    return views_collections.activity(made)


@router.post("/cases/{case_id}/promises", status_code=201, summary="Promise to pay 承诺还款")
def promise(case_id: Id, body: PromiseIn, user: CurrentUser, svc: Svc, uow: Uow) -> dict[str, Any]:
    """Judged at end of day on its date from the money settled by then."""
    made = case_work.promise(
        uow,
        user,
        case_id,
        amount=body.amount.money(),
        due_on=body.on,
        now=svc.clock(),
        policy=svc.collections_policy(),
    )
    uow.commit()
    return views_collections.promise(made)


@router.post("/cases/{case_id}/escalate", status_code=202, summary="Escalate 升级处置")
def escalate(
    case_id: Id, body: EscalateIn, user: CurrentUser, svc: Svc, uow: Uow
) -> list[dict[str, Any]]:
    """Requests for approval under ``/approvals`` (legal action; or one write-off per loan)."""
    made = case_work.escalate(uow, user, case_id, to=body.to, reason=body.reason, now=svc.clock())
    uow.commit()
    return [views.approval(r) for r in made]


@router.post("/cases/{case_id}/assign", summary="Reassign 改派")
def assign(case_id: Id, body: AssignIn, user: CurrentUser, svc: Svc, uow: Uow) -> dict[str, Any]:
    """A risk manager moves the case to another collector."""
    case = case_work.assign(uow, user, case_id, to=body.to, now=svc.clock())
    uow.commit()
    return views_collections.case(case)


@router.post("/cases/{case_id}/resolve-dispute", summary="Resolve a dispute 异议处理")
def resolve(case_id: Id, body: NoteIn, user: CurrentUser, svc: Svc, uow: Uow) -> dict[str, Any]:
    """A risk manager resolves the borrower's dispute; contact may resume."""
    case = case_work.resolve_dispute(uow, user, case_id, note=body.note, now=svc.clock())
    uow.commit()
    return views_collections.case(case)


def _month(text: str, name: str) -> date:
    try:
        return date.fromisoformat(f"{text}-01")
    except ValueError:
        raise InvalidRequestError(f"{name}={text!r} is not a month like 2026-04") from None


@router.get("/figures", summary="Case figures 催收指标")
def figures(
    user: CurrentUser,
    uow: Uow,
    svc: Svc,
    from_month: Annotated[str, Query(alias="from", pattern=r"^\d{4}-\d{2}$")],
    to_month: Annotated[str, Query(alias="to", pattern=r"^\d{4}-\d{2}$")],
) -> dict[str, Any]:
    """Promise kept rate, contacts per case, cases per collector over whole months."""
    f = collections.case_figures(
        uow, user, _month(from_month, "from"), _month(to_month, "to"), svc.collections_policy()
    )
    return views_collections.figures(f)
