"""Use cases on follow-up tasks (贷后跟进任务): ask for a visit or documents on an alert, record
what was found, cancel, and the task queue with what is overdue.

The monitor opens the policy's task with a new alert (``monitoring.monitor``); a person may ask
for one on any alert that is not closed. Whoever may work the alert (its customer manager, or a
risk manager) may ask, finish or cancel its tasks. Finishing records the action on the alert with
the findings. Every step is audited with the real user.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from loomcredit.domain.errors import AlertStateError, NotFound
from loomcredit.domain.follow_up import FollowUpPolicy, FollowUpTask, TaskKind, TaskStatus
from loomcredit.service_layer.eod import business_date
from loomcredit.service_layer.errors import ConcurrentChangeError
from loomcredit.service_layer.monitoring import workable_alert
from loomcredit.service_layer.unit_of_work import DuplicateKey, UnitOfWork
from loomcredit.service_layer.users import AccessDeniedError, Action, Role, User, require

__all__ = ["TaskView", "cancel_task", "complete_task", "request_task", "task_queue"]


@dataclass(frozen=True, slots=True)
class TaskView:
    """A task as a queue shows it on a day: overdue or not, and by how many days."""

    task: FollowUpTask
    overdue: bool
    days_late: int


def request_task(
    uow: UnitOfWork,
    user: User,
    alert_id: int,
    kind: TaskKind,
    *,
    policy: FollowUpPolicy,
    now: datetime,
    due_on: date | None = None,
    documents: Sequence[str] = (),
    note: str = "",
) -> FollowUpTask:
    """Ask for a visit or documents on an alert that is not closed, for the alert's assignee;
    due by ``due_on`` or, without one, within the policy's days for the alert's level. A second
    open task of the same kind on the alert is refused. The caller commits."""
    alert = workable_alert(uow, user, alert_id)
    if not alert.is_open:
        raise AlertStateError(f"alert {alert_id} is closed; a closed alert gets no new tasks")
    on = business_date(uow, now)
    due = due_on if due_on is not None else policy.due_on(kind, alert.level, on)
    docs = documents if documents or kind is TaskKind.VISIT else policy.documents
    task = FollowUpTask.ask(kind=kind, alert_id=alert_id, uscc=alert.uscc, line_id=alert.line_id,
                            assignee=alert.assignee, by=user.name, on=on, due_on=due,
                            documents=docs, note=note)  # fmt: skip
    try:
        uow.tasks.add(task)
    except DuplicateKey as exc:
        raise ConcurrentChangeError(
            f"alert {alert_id} already has an open {kind.value} task; finish or cancel it first"
        ) from exc
    uow.audit.append(user.name, "task.requested", f"task:{task.task_id}",
                     {"alert": alert_id, "kind": kind.value, "due_on": due.isoformat(),
                      "documents": "; ".join(task.documents)}, now)  # fmt: skip
    return task


def _task(uow: UnitOfWork, user: User, task_id: int) -> FollowUpTask:
    task = uow.tasks.get(task_id, lock=True)
    if task is None:
        raise NotFound(f"task {task_id} does not exist")
    require(user, Action.WORK_ALERT)
    if user.role is not Role.RISK_MANAGER and task.assignee != user.name:
        raise AccessDeniedError(
            f"task {task_id} is assigned to {task.assignee or 'nobody'}; only they or a risk "
            "manager may finish it",
            user=user.name,
            action=Action.WORK_ALERT.value,
        )
    return task


def complete_task(
    uow: UnitOfWork, user: User, task_id: int, *, findings: str, now: datetime
) -> FollowUpTask:
    """Record what the visit found or which documents came in; the alert, if not closed, records
    it as an action. The caller commits."""
    task = _task(uow, user, task_id)
    task.complete(by=user.name, on=business_date(uow, now), at=now, findings=findings)
    uow.tasks.save(task)
    alert = uow.alerts.get(task.alert_id, lock=True)
    if alert is not None and alert.is_open:
        what = f"{task.kind.label_zh} {task.kind.value}: {task.findings}"
        alert.record_action(by=user.name, at=now, comment=what)
        uow.alerts.save(alert)
    uow.audit.append(user.name, "task.done", f"task:{task_id}",
                     {"alert": task.alert_id, "kind": task.kind.value,
                      "findings": task.findings}, now)  # fmt: skip
    return task


def cancel_task(
    uow: UnitOfWork, user: User, task_id: int, *, reason: str, now: datetime
) -> FollowUpTask:
    """Cancel a task no longer needed, with the reason. The caller commits."""
    task = _task(uow, user, task_id)
    task.cancel(by=user.name, on=business_date(uow, now), at=now, reason=reason)
    uow.tasks.save(task)
    uow.audit.append(user.name, "task.cancelled", f"task:{task_id}",
                     {"alert": task.alert_id, "reason": task.findings}, now)  # fmt: skip
    return task


def task_queue(
    uow: UnitOfWork,
    user: User,
    *,
    on: date,
    mine: bool = False,
    open_only: bool = True,
    alert_id: int | None = None,
) -> list[TaskView]:
    """Tasks, earliest due first, each marked overdue (open past its due date on ``on``)."""
    require(user, Action.READ_ALERTS)
    statuses = [TaskStatus.OPEN] if open_only else None
    found = uow.tasks.find(statuses=statuses, assignee=user.name if mine else None,
                           alert_id=alert_id)  # fmt: skip
    return [TaskView(t, t.overdue(on), t.days_late(on)) for t in found]
