"""Follow-up tasks on SQLAlchemy (``follow_up_tasks``): one open task of a kind per alert, kept
by a partial unique index, so two requests at once cannot both open it."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select, update

from loomcredit.adapters import orm
from loomcredit.adapters.repositories._base import (
    Tx,
    as_date,
    aware_or_none,
    insert_one,
    locked,
    required_date,
)
from loomcredit.domain.follow_up import FollowUpTask, TaskKind, TaskStatus
from loomcredit.service_layer.unit_of_work import FollowUpRepository

_T = orm.follow_up_tasks



def _task(row: Any) -> FollowUpTask:
    return FollowUpTask(
        task_id=row.id, kind=TaskKind(row.kind), alert_id=row.alert_id, uscc=row.uscc,
        line_id=row.line_id, assignee=row.assignee, requested_by=row.requested_by,
        requested_on=required_date(row.requested_on), due_on=required_date(row.due_on),
        documents=tuple(json.loads(row.documents_json)), note=row.note,
        status=TaskStatus(row.status), closed_by=row.closed_by, closed_on=as_date(row.closed_on),
        findings=row.findings, closed_at=aware_or_none(row.closed_at),
    )  # fmt: skip


class SqlFollowUpRepository(FollowUpRepository):
    """The ``follow_up_tasks`` table."""

    def __init__(self, tx: Tx) -> None:
        self._tx = tx

    def add(self, task: FollowUpTask) -> int:
        values = {"kind": task.kind.value, "alert_id": task.alert_id, "uscc": task.uscc,
                  "line_id": task.line_id, "assignee": task.assignee,
                  "requested_by": task.requested_by, "requested_on": task.requested_on,
                  "due_on": task.due_on, "note": task.note, "status": task.status.value,
                  "documents_json": json.dumps(list(task.documents),
                                               ensure_ascii=False)}  # fmt: skip
        task.task_id = insert_one(self._tx, _T, values)
        return task.task_id

    def get(self, task_id: int, *, lock: bool = False) -> FollowUpTask | None:
        stmt = select(_T).where(_T.c.id == task_id)
        row = self._tx.conn.execute(locked(self._tx, stmt, lock)).first()
        return None if row is None else _task(row)

    def save(self, task: FollowUpTask) -> None:
        self._tx.conn.execute(
            update(_T).where(_T.c.id == task.task_id).values(
                status=task.status.value, closed_by=task.closed_by, closed_on=task.closed_on,
                closed_at=task.closed_at, findings=task.findings)
        )  # fmt: skip

    def find(
        self,
        *,
        statuses: Iterable[TaskStatus] | None = None,
        assignee: str | None = None,
        alert_id: int | None = None,
    ) -> list[FollowUpTask]:
        stmt = select(_T).order_by(_T.c.due_on, _T.c.id)
        if statuses is not None:
            stmt = stmt.where(_T.c.status.in_([s.value for s in statuses]))
        if assignee is not None:
            stmt = stmt.where(_T.c.assignee == assignee)
        if alert_id is not None:
            stmt = stmt.where(_T.c.alert_id == alert_id)
        return [_task(r) for r in self._tx.conn.execute(stmt)]
