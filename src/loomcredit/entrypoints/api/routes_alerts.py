"""Routes: early-warning alerts (预警) — the queue and the steps people take on an alert."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from loomcredit.domain.alerts import AlertStatus
from loomcredit.domain.follow_up import TaskKind
from loomcredit.entrypoints.api import views
from loomcredit.entrypoints.api.deps import CurrentUser, Id, Svc, Uow
from loomcredit.entrypoints.api.errors import ERRORS
from loomcredit.entrypoints.api.schemas import (
    AlertStepIn,
    FreezeDecisionIn,
    MonitorIn,
    ReasonIn,
    ReduceIn,
    TaskEndIn,
    TaskIn,
)
from loomcredit.service_layer import eod, follow_up, monitoring

router = APIRouter(prefix="/api/v1", responses=ERRORS)

_STEPS = {
    "acknowledge": AlertStatus.ACKNOWLEDGED,
    "action": AlertStatus.ACTIONED,
    "close": AlertStatus.CLOSED,
}


@router.get("/alerts", tags=["alerts"], summary="Alert queue 预警队列")
def list_alerts(
    user: CurrentUser,
    uow: Uow,
    status: Annotated[
        list[Literal["open", "acknowledged", "actioned", "closed"]] | None,
        Query(description="Only these statuses (default: all but closed)"),
    ] = None,
    mine: Annotated[bool, Query(description="Only alerts assigned to me")] = False,
    uscc: Annotated[str | None, Query(max_length=18, pattern=r"^[0-9A-Z]{18}$")] = None,
) -> list[dict[str, Any]]:
    """Alerts, most serious first, then oldest first."""
    wanted = (
        [AlertStatus(s) for s in status]
        if status
        else [s for s in AlertStatus if s is not AlertStatus.CLOSED]
    )
    found = monitoring.alerts(uow, user, statuses=wanted, mine=mine, uscc=uscc)
    return [views.alert(a) for a in found]


@router.post(
    "/alerts/{alert_id}/freeze",
    tags=["alerts"],
    summary="Confirm 确认冻结 or lift 解除冻结 the freeze the monitor made",
)
def freeze_decision(
    alert_id: Id, body: FreezeDecisionIn, user: CurrentUser, svc: Svc, uow: Uow
) -> dict[str, Any]:
    """The monitor froze the borrower's undrawn line when it raised this alert: confirm it (the
    assignee or a risk manager) or lift it (a risk manager); a comment says why."""
    alert = monitoring.settle_freeze(
        uow, user, alert_id, lift=body.decision == "lift", comment=body.comment, now=svc.clock()
    )
    uow.commit()
    return views.alert(alert)


@router.post(
    "/alerts/{alert_id}/reduce-line",
    status_code=202,
    tags=["alerts"],
    summary="Ask for the alert's line to be reduced 申请额度压降",
)
def reduce_line(
    alert_id: Id, body: ReduceIn, user: CurrentUser, svc: Svc, uow: Uow
) -> dict[str, Any]:
    """The alert's assignee or a risk manager asks; another risk manager approves it under
    ``/approvals`` and the line is reduced, the alert recording the action."""
    req = monitoring.request_reduction(
        uow, user, alert_id, body.limit.money(), reason=body.reason, now=svc.clock()
    )
    uow.commit()
    return views.approval(req)


@router.post(
    "/alerts/{alert_id}/call-in",
    status_code=202,
    tags=["alerts"],
    summary="Ask for the alert's loans to be called in early 申请宣布提前到期",
)
def call_in(alert_id: Id, body: ReasonIn, user: CurrentUser, svc: Svc, uow: Uow) -> dict[str, Any]:
    """The alert's assignee or a risk manager asks; another risk manager approves it under
    ``/approvals``: every active loan on the line falls due on the business date (principal not
    yet due and its interest to date), the line is frozen, the alert records the action."""
    req = monitoring.request_call_in(uow, user, alert_id, reason=body.reason, now=svc.clock())
    uow.commit()
    return views.approval(req)


@router.post("/alerts/{alert_id}/tasks", status_code=201, tags=["alerts"],
             summary="Ask for a visit 实地走访 or documents 补充材料")  # fmt: skip
def ask_task(alert_id: Id, body: TaskIn, user: CurrentUser, svc: Svc, uow: Uow) -> dict[str, Any]:
    """The alert's assignee or a risk manager asks; the task goes to the alert's assignee, due
    by ``due_on`` or within the policy's days for the alert's level (409 when one of the kind is
    open already)."""
    now = svc.clock()
    task = follow_up.request_task(uow, user, alert_id, TaskKind(body.kind),
                                  policy=svc.follow_up_policy(), now=now, due_on=body.due_on,
                                  documents=body.documents, note=body.note)  # fmt: skip
    uow.commit()
    return views.task(follow_up.TaskView(task, False, 0))


@router.post(
    "/alerts/{alert_id}/{step}",
    tags=["alerts"],
    summary="Acknowledge 确认, record an action 处置, or close 关闭 an alert",
)
def step(
    alert_id: Id,
    step: Literal["acknowledge", "action", "close"],
    body: AlertStepIn,
    user: CurrentUser,
    svc: Svc,
    uow: Uow,
) -> dict[str, Any]:
    """Move the alert (its assignee or a risk manager); an action or closing needs a comment."""
    alert = monitoring.move_alert(
        uow, user, alert_id, _STEPS[step], comment=body.comment, now=svc.clock()
    )
    uow.commit()
    return views.alert(alert)


@router.post("/admin/monitor", tags=["alerts"], summary="Run post-loan monitoring 贷后监控")
def run_monitor(body: MonitorIn, user: CurrentUser, svc: Svc, uow: Uow) -> dict[str, Any]:
    """Run the warning rules as of a date (default: the business date) over every borrower with
    an open line, or only ``uscc``; raises or refreshes one alert per borrower and rule."""
    now = svc.clock()
    features, rules = svc.monitoring()
    run = monitoring.monitor(
        uow,
        user,
        features,
        rules,
        as_of=body.as_of or eod.business_date(uow, now),
        now=now,
        uscc=body.uscc,
    )
    uow.commit()
    return views.monitor_run(run)


@router.post("/admin/alerts/escalate", tags=["alerts"], summary="Escalate overdue alerts 升级")
def escalate(user: CurrentUser, svc: Svc, uow: Uow) -> list[dict[str, Any]]:
    """Escalate every open alert nobody acknowledged within its level's time limit."""
    _, rules = svc.monitoring()
    done = monitoring.escalate_overdue(uow, user, now=svc.clock(), policy=rules.escalation)
    uow.commit()
    return [views.alert(a) for a in done]


@router.get("/tasks", tags=["alerts"], summary="Follow-up tasks 跟进任务")
def list_tasks(
    user: CurrentUser,
    svc: Svc,
    uow: Uow,
    mine: Annotated[bool, Query(description="Only tasks assigned to me")] = False,
    all_: Annotated[bool, Query(alias="all", description="Done and cancelled too")] = False,
    alert_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> list[dict[str, Any]]:
    """Tasks, earliest due first, each marked overdue on the business date."""
    on = eod.business_date(uow, svc.clock())
    found = follow_up.task_queue(uow, user, on=on, mine=mine, open_only=not all_,
                                 alert_id=alert_id)  # fmt: skip
    return [views.task(v) for v in found]


@router.post("/tasks/{task_id}/{step}", tags=["alerts"], summary="Done 完成 or cancel 取消")
def end_task(
    task_id: Id,
    step: Literal["done", "cancel"],
    body: TaskEndIn,
    user: CurrentUser,
    svc: Svc,
    uow: Uow,
) -> dict[str, Any]:
    """Record the findings (the alert keeps them as its action), or cancel with the reason."""
    now = svc.clock()
    if step == "done":
        task = follow_up.complete_task(uow, user, task_id, findings=body.text, now=now)
    else:
        task = follow_up.cancel_task(uow, user, task_id, reason=body.text, now=now)
    uow.commit()
    return views.task(follow_up.TaskView(task, False, 0))
