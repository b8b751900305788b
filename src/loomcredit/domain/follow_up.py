"""Follow-up tasks on an alert (贷后跟进任务): a site visit (实地走访) or documents asked of the
firm (补充材料), each with a person, a due date and what was found.

When the policy's action for a rule is ``visit`` or ``documents``, the monitor opens the task with
the alert, assigned to the alert's customer manager and due within the policy's days for the
alert's level (a red alert's visit within 3 days, an amber one's within 7 …); a person may also
ask for one on any open alert. The task is done when its assignee (or a risk manager) records the
findings — which records the action on the alert — or cancelled with a reason. An open task past
its due date is overdue and shows so in every queue. One open task per alert and kind.

>>> p = FollowUpPolicy()
>>> p.due_on(TaskKind.VISIT, AlertLevel.RED, date(2026, 3, 2))
datetime.date(2026, 3, 5)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from loomcredit.domain.alerts import AlertLevel
from loomcredit.domain.errors import LoomError

__all__ = [
    "FollowUpPolicy",
    "FollowUpTask",
    "TaskError",
    "TaskKind",
    "TaskStateError",
    "TaskStatus",
]


class TaskError(LoomError, ValueError):
    """A task step that cannot be taken as asked (what to fix is in the message)."""


class TaskStateError(TaskError):
    """The task has ended already (done or cancelled)."""


class TaskKind(StrEnum):
    """What is to be done."""

    VISIT = "visit"
    DOCUMENTS = "documents"

    @property
    def label_zh(self) -> str:
        """Chinese label."""
        return {"visit": "实地走访", "documents": "补充材料"}[self.value]


class TaskStatus(StrEnum):
    """Where a task is."""

    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"

    @property
    def label_zh(self) -> str:
        """Chinese label."""
        return {"open": "待办", "done": "已完成", "cancelled": "已取消"}[self.value]


def _days(red: int, amber: int, watch: int) -> dict[AlertLevel, int]:
    return {AlertLevel.RED: red, AlertLevel.AMBER: amber, AlertLevel.WATCH: watch}


@dataclass(frozen=True, slots=True)
class FollowUpPolicy:
    """Days from the alert to a task's due date, by task kind and alert level, and the
    documents a request the monitor opens asks for."""

    visit_days: dict[AlertLevel, int] = field(default_factory=lambda: _days(3, 7, 14))
    documents_days: dict[AlertLevel, int] = field(default_factory=lambda: _days(5, 10, 20))
    documents: tuple[str, ...] = ("近三个月银行流水 bank statements, last 3 months",
                                  "最近一期财务报表 latest financial statements",
                                  "最近一期纳税申报表 latest tax returns")  # fmt: skip

    def __post_init__(self) -> None:
        for days in (self.visit_days, self.documents_days):
            if set(days) != set(AlertLevel) or any(d < 0 or d > 90 for d in days.values()):
                raise TaskError("a follow-up policy gives 0–90 days for every alert level")
        if not self.documents:
            raise TaskError("a follow-up policy names the documents a request asks for")

    def due_on(self, kind: TaskKind, level: AlertLevel, on: date) -> date:
        """The due date of a task of ``kind`` on an alert of ``level`` opened on ``on``."""
        days = self.visit_days if kind is TaskKind.VISIT else self.documents_days
        return on + timedelta(days=days[level])


@dataclass(slots=True)
class FollowUpTask:
    """A visit or a documents request on an alert.

    Attributes:
        task_id: the store's id (0 until stored).
        kind: visit or documents.
        alert_id / uscc / line_id: what it follows up.
        assignee: who is to do it (the alert's customer manager).
        requested_by / requested_on: who asked (``monitor`` when the policy did) and when.
        due_on: by when.
        documents: what the firm is asked for (documents tasks), e.g. 近三月银行流水.
        note: what the requester said.
        status / closed_by / closed_on / findings: how it ended.
    """

    task_id: int
    kind: TaskKind
    alert_id: int
    uscc: str
    line_id: int
    assignee: str
    requested_by: str
    requested_on: date
    due_on: date
    documents: tuple[str, ...] = ()
    note: str = ""
    status: TaskStatus = TaskStatus.OPEN
    closed_by: str = ""
    closed_on: date | None = None
    findings: str = ""
    closed_at: datetime | None = None

    @classmethod
    def ask(
        cls,
        *,
        kind: TaskKind,
        alert_id: int,
        uscc: str,
        line_id: int,
        assignee: str,
        by: str,
        on: date,
        due_on: date,
        documents: Sequence[str] = (),
        note: str = "",
    ) -> FollowUpTask:
        """A new open task; a documents task names at least one document, a due date is not
        before the day it is asked."""
        docs = tuple(d.strip() for d in documents if d.strip())
        if kind is TaskKind.DOCUMENTS and not docs:
            raise TaskError("a documents request names the documents asked for (e.g. 银行流水)")
        if kind is TaskKind.VISIT and docs:
            raise TaskError("a visit names no documents; ask for documents as its own task")
        if due_on < on:
            raise TaskError(f"the due date {due_on} is before the day it is asked ({on})")
        return cls(0, kind, alert_id, uscc, line_id, assignee, by, on, due_on, docs, note.strip())

    @property
    def is_open(self) -> bool:
        """Not done or cancelled yet."""
        return self.status is TaskStatus.OPEN

    def overdue(self, on: date) -> bool:
        """Open and past its due date on ``on``."""
        return self.is_open and on > self.due_on

    def days_late(self, on: date) -> int:
        """Days past the due date (0 when not overdue)."""
        return (on - self.due_on).days if self.overdue(on) else 0

    def _close(self, status: TaskStatus, by: str, on: date, at: datetime, text: str) -> None:
        if not self.is_open:
            raise TaskStateError(f"task {self.task_id} is {self.status.value} already")
        if not text.strip():
            raise TaskError("say what was found (or why it is cancelled)")
        if on < self.requested_on:
            raise TaskError("a task cannot end before it was asked")
        self.status, self.closed_by, self.closed_on = status, by, on
        self.findings, self.closed_at = text.strip(), at

    def complete(self, *, by: str, on: date, at: datetime, findings: str) -> None:
        """Done: what the visit found or what documents came in."""
        self._close(TaskStatus.DONE, by, on, at, findings)

    def cancel(self, *, by: str, on: date, at: datetime, reason: str) -> None:
        """Not needed any more (e.g. the alert was closed)."""
        self._close(TaskStatus.CANCELLED, by, on, at, reason)
