"""Follow-up tasks on alerts (贷后跟进任务) on the fakes: the policy's visit or documents request
opens with the alert, due within the level's days; a person may ask for one; the assignee or a
risk manager records the findings, which the alert keeps as its action; overdue is visible; one
open task of a kind per alert; the wrong person is refused."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, timedelta

import pytest
from tests.fakes import FakeFeatures as Features
from tests.fakes import FakeWarningRules
from tests.world import USCC, World

from loomcredit.adapters.policy_file import load_warning_policy
from loomcredit.domain.alerts import AlertLevel, AlertStatus
from loomcredit.domain.errors import AlertStateError
from loomcredit.domain.follow_up import (
    FollowUpPolicy,
    FollowUpTask,
    TaskError,
    TaskKind,
    TaskStatus,
)
from loomcredit.domain.warning_policy import WarningAction
from loomcredit.service_layer import follow_up, monitoring
from loomcredit.service_layer.errors import ConcurrentChangeError
from loomcredit.service_layer.monitoring import WarningHit
from loomcredit.service_layer.users import AccessDeniedError, Role, User

AS_OF = date(2026, 2, 27)  # the World's today is 2026-03-02


class VisitRules(FakeWarningRules):
    """The fake rules, with the sales drop asking for a visit."""

    def warnings(self, features: Mapping[str, object], as_of: date) -> Sequence[WarningHit]:
        return [replace(h, action=WarningAction.VISIT) if h.rule == "SALES_DROP" else h
                for h in super().warnings(features, as_of)]  # fmt: skip


def _monitored(w: World, drop: float = 0.4) -> list[FollowUpTask]:
    w.open_line()
    with w.uow() as uow:
        monitoring.monitor(uow, w.risk, Features({USCC: {"drop": drop, "court": 1}}),
                           VisitRules(), as_of=AS_OF, now=w.now)  # fmt: skip
        uow.commit()
    with w.uow() as uow:
        return uow.tasks.find()


def test_the_policy_opens_a_visit_with_the_alert_due_within_the_level_days() -> None:
    """An amber sales drop asks for a visit within 7 days of the data date; a red one within 3;
    the court alert (freeze) opens no task."""
    (task,) = _monitored(World())
    assert (task.kind, task.assignee, task.requested_on) == (TaskKind.VISIT, "off", AS_OF)
    assert task.due_on == date(2026, 3, 6)  # 2026-02-27 + 7
    (red,) = _monitored(World(), drop=0.6)  # the court alert beside it opens none
    assert red.due_on == date(2026, 3, 2)  # + 3


def test_the_assignee_records_findings_and_the_alert_is_actioned() -> None:
    w = World()
    (task,) = _monitored(w)
    with w.uow() as uow:
        queue = follow_up.task_queue(uow, w.officer, on=w.today, mine=True)
    assert [(v.task.task_id, v.overdue) for v in queue] == [(task.task_id, False)]
    with w.uow() as uow:
        found = "走访：订单回落，两条产线停工，库存积压"
        done = follow_up.complete_task(uow, w.officer, task.task_id, now=w.now, findings=found)
        uow.commit()
    assert (done.status, done.closed_by, done.closed_on) == (TaskStatus.DONE, "off", w.today)
    with w.uow() as uow:
        alert = uow.alerts.get(task.alert_id)
        assert follow_up.task_queue(uow, w.officer, on=w.today) == []
        events = [r.action for r in uow.audit.records()]
    assert alert is not None
    assert alert.status is AlertStatus.ACTIONED
    assert "两条产线停工" in alert.steps[-1].comment
    assert "task.done" in events
    with w.uow() as uow, pytest.raises(TaskError, match="done already"):
        follow_up.complete_task(uow, w.officer, task.task_id, findings="again", now=w.now)


def test_overdue_shows_with_the_days_late() -> None:
    w = World()
    (task,) = _monitored(w)
    with w.uow() as uow:
        (view,) = follow_up.task_queue(uow, w.risk, on=task.due_on + timedelta(days=4))
    assert (view.overdue, view.days_late) == (True, 4)
    with w.uow() as uow:
        (view,) = follow_up.task_queue(uow, w.risk, on=task.due_on)
    assert (view.overdue, view.days_late) == (False, 0)


def test_a_person_asks_for_documents_once_and_the_wrong_person_is_refused() -> None:
    w = World()
    (visit,) = _monitored(w)
    policy = FollowUpPolicy()
    with w.uow() as uow:
        docs = follow_up.request_task(uow, w.officer, visit.alert_id, TaskKind.DOCUMENTS,
                                      policy=policy, now=w.now)  # fmt: skip
        uow.commit()
    assert docs.documents == policy.documents  # the policy's list when none is named
    assert docs.due_on == w.today + timedelta(days=10)  # amber: documents within 10 days
    with w.uow() as uow, pytest.raises(ConcurrentChangeError, match="already has an open"):
        follow_up.request_task(uow, w.officer, visit.alert_id, TaskKind.DOCUMENTS,
                               policy=policy, now=w.now, documents=["银行流水"])  # fmt: skip
    other = User("off2", Role.OFFICER)
    with w.uow() as uow, pytest.raises(AccessDeniedError):
        follow_up.complete_task(uow, other, docs.task_id, findings="x", now=w.now)
    with w.uow() as uow, pytest.raises(AccessDeniedError):
        follow_up.complete_task(uow, User("col", Role.COLLECTOR), docs.task_id, findings="x",
                                now=w.now)  # fmt: skip
    with w.uow() as uow:
        gone = follow_up.cancel_task(uow, w.risk, docs.task_id, reason="企业已主动提交", now=w.now)
        uow.commit()
    assert (gone.status, gone.findings) == (TaskStatus.CANCELLED, "企业已主动提交")
    with w.uow() as uow:  # cancelled, so another may be asked
        follow_up.request_task(uow, w.officer, visit.alert_id, TaskKind.DOCUMENTS, policy=policy,
                               now=w.now, documents=["近三个月银行流水"],
                               due_on=w.today + timedelta(days=2))  # fmt: skip


def test_closing_the_alert_cancels_its_tasks_and_bad_requests_say_what_to_fix() -> None:
    w = World()
    (visit,) = _monitored(w)
    with w.uow() as uow:
        monitoring.move_alert(uow, w.officer, visit.alert_id, AlertStatus.CLOSED,
                              comment="已核实，误报", now=w.now)  # fmt: skip
        uow.commit()
    with w.uow() as uow:
        (ended,) = uow.tasks.find(alert_id=visit.alert_id)
    assert ended.status is TaskStatus.CANCELLED
    assert ended.findings == "预警已关闭 alert closed: 已核实，误报"
    with w.uow() as uow, pytest.raises(AlertStateError, match="closed"):
        follow_up.request_task(uow, w.officer, visit.alert_id, TaskKind.VISIT,
                               policy=FollowUpPolicy(), now=w.now)  # fmt: skip
    ask = {"alert_id": 1, "uscc": USCC, "line_id": 1, "assignee": "off", "by": "off",
           "on": date(2026, 3, 2)}  # fmt: skip
    with pytest.raises(TaskError, match="names the documents"):
        FollowUpTask.ask(kind=TaskKind.DOCUMENTS, due_on=date(2026, 3, 9), **ask)  # type: ignore[arg-type]
    with pytest.raises(TaskError, match="before the day"):
        FollowUpTask.ask(kind=TaskKind.VISIT, due_on=date(2026, 3, 1), **ask)  # type: ignore[arg-type]
    with pytest.raises(TaskError, match="0–90 days"):
        FollowUpPolicy(visit_days={AlertLevel.RED: 3})


def test_the_shipped_policy_gives_the_days() -> None:
    """keqiao_warning_rules.yaml: visits red 3 / amber 7 / watch 14 days, documents 5 / 10 / 20,
    and the amber sales drop asks for a visit."""
    p = load_warning_policy()
    days = [p.follow_up.due_on(k, lv, date(2026, 1, 1)).day - 1
            for k in TaskKind for lv in AlertLevel]  # fmt: skip
    assert days == [3, 7, 14, 5, 10, 20]
    assert p.spec("SALES_DROP_30").action is WarningAction.VISIT
