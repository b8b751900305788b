"""Post-loan monitoring (贷后监控): the warning rules over the book, alerts raised and worked.

:func:`monitor` runs, for one as-of date, the warning rules on the point-in-time features of every
borrower with a line that is not closed, and raises or refreshes one alert per borrower and rule
(``domain/alerts.py``). :func:`move_alert` is a person acknowledging, recording an action on or
closing an alert; :func:`escalate_overdue` escalates the ones nobody acknowledged in time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Protocol

from loomcredit.domain.alerts import (
    DEFAULT_POLICY,
    Alert,
    AlertLevel,
    AlertPolicy,
    AlertStatus,
    Evidence,
)
from loomcredit.domain.approval import ApprovalRequest, CallInOrder, LineReductionOrder
from loomcredit.domain.behaviour import BehaviourScore, RepaymentFacts
from loomcredit.domain.collection_policy import DEFAULT_POLICY as DEFAULT_CASES_POLICY
from loomcredit.domain.collection_policy import CollectionsPolicy
from loomcredit.domain.credit_line import CreditLine, LineStatus
from loomcredit.domain.errors import AlertStateError, NotFound
from loomcredit.domain.follow_up import FollowUpPolicy, FollowUpTask, TaskKind, TaskStatus
from loomcredit.domain.limit_review import LimitReviewPolicy
from loomcredit.domain.money import Money
from loomcredit.domain.notices import NoticePolicy
from loomcredit.domain.warning_policy import WarningAction
from loomcredit.service_layer import approvals
from loomcredit.service_layer.eod import EodRun, business_date, run_eod
from loomcredit.service_layer.errors import InvalidRequestError
from loomcredit.service_layer.limit_review import ReviewRun, review_limits
from loomcredit.service_layer.ports import BatchFeatureSource, FeatureSource
from loomcredit.service_layer.service_ports import Decider
from loomcredit.service_layer.unit_of_work import DuplicateKey, UnitOfWork
from loomcredit.service_layer.users import AccessDeniedError, Action, Role, User, require


@dataclass(frozen=True, slots=True)
class WarningHit:
    """A warning rule that fired on one borrower's features: rule, level and evidence."""

    rule: str
    level: AlertLevel
    evidence: Evidence
    action: WarningAction = WarningAction.WATCH


class WarningRules(Protocol):
    """The early-warning rules (DOMAIN.md §9) over one borrower's features as of a date."""

    @property
    def version(self) -> str:
        """The rules' version, recorded with each run."""

    @property
    def escalation(self) -> AlertPolicy:
        """How long an alert of each level may wait for acknowledgement."""

    @property
    def follow_up(self) -> FollowUpPolicy:
        """The days a visit or a documents request may take, by alert level."""

    def warnings(self, features: Mapping[str, object], as_of: date) -> Sequence[WarningHit]:
        """The rules that fire, most serious first."""

    def model_pds(self, vectors: Sequence[Mapping[str, object]]) -> Sequence[Decimal | None]:
        """The promoted model's PD on each feature vector, in one batch (None where it cannot
        score one; all None without a model)."""

    def behaviour(
        self,
        model_pd: Decimal,
        facts: RepaymentFacts,
        approved_pd: Callable[[], Decimal | None],
        as_of: date,
    ) -> tuple[BehaviourScore, Sequence[WarningHit]]:
        """The behaviour score (the model's PD moved by the repayment facts) and the rules it
        raises (a PD jump against ``approved_pd()``, asked only when a jump is possible)."""


@dataclass(frozen=True, slots=True)
class MonitorRun:
    """What one monitoring run did."""

    as_of: date
    rules_version: str
    borrowers: int
    without_data: tuple[str, ...]
    raised: tuple[Alert, ...]
    refreshed: tuple[Alert, ...]
    lines_frozen: tuple[int, ...] = ()
    scored: int = 0


def _borrowers(lines: Iterable[CreditLine]) -> dict[str, CreditLine]:
    """Each borrower's line to monitor (not closed; the newest when it has several)."""
    out: dict[str, CreditLine] = {}
    for line in sorted(lines, key=lambda ln: ln.line_id):
        if line.status is not LineStatus.CLOSED:
            out[line.terms.uscc] = line
    return out


def _findings(
    uow: UnitOfWork,
    features: FeatureSource,
    rules: WarningRules,
    lines: Mapping[str, CreditLine],
    wanted: set[str] | None,
    as_of: date,
) -> tuple[list[tuple[str, CreditLine, list[WarningHit]]], list[str], int]:
    """The rules that fire for each borrower (the behaviour score's among them, its model PDs
    in one batch), the borrowers without features, and how many had a behaviour score."""
    todo: list[tuple[str, CreditLine, Mapping[str, object]]] = []
    missing: list[str] = []
    chosen = [(f, ln) for f, ln in sorted(lines.items()) if wanted is None or f in wanted]
    if isinstance(features, BatchFeatureSource):
        got = features.get_many([f for f, _ in chosen], as_of)
        todo = [(f, ln, got[f]) for f, ln in chosen if f in got]
        missing = [f for f, _ in chosen if f not in got]
    else:
        for firm, line in chosen:
            try:
                todo.append((firm, line, features.get(firm, as_of)))
            except NotFound:
                missing.append(firm)
    history = uow.book.repayment_history(as_of)
    pds = rules.model_pds([vector for _, _, vector in todo])
    out, scored = [], 0
    for (firm, line, vector), model_pd in zip(todo, pds, strict=True):
        found = list(rules.warnings(vector, as_of))
        if model_pd is not None:
            facts = replace(history.get(line.line_id, RepaymentFacts()),
                            utilisation=line.utilisation())  # fmt: skip
            _, more = rules.behaviour(model_pd, facts, partial(_approved_pd, uow, line), as_of)
            scored += 1
            found.extend(more)
        out.append((firm, line, found))
    return out, missing, scored


def monitor(
    uow: UnitOfWork,
    user: User,
    features: FeatureSource,
    rules: WarningRules,
    *,
    as_of: date,
    now: datetime,
    uscc: Iterable[str] | None = None,
) -> MonitorRun:
    """Run the warning rules as of ``as_of`` over the borrowers with an open line (or only
    ``uscc``); raise an alert for each rule that fires, or refresh the one already open for the
    borrower and rule. Audited as one run. The caller commits."""
    require(user, Action.RUN_MONITOR)
    if as_of > now.date():
        raise InvalidRequestError(
            f"monitoring cannot run as of {as_of}: it is after today ({now.date()}), and the "
            "bank holds no data of days that have not happened"
        )
    lines = _borrowers(uow.lines.find())
    wanted = set(uscc) if uscc is not None else None
    raised: list[Alert] = []
    refreshed: list[Alert] = []
    frozen: list[int] = []
    open_alerts: dict[str, dict[str, Alert]] = {}
    for a in uow.alerts.find(statuses=[s for s in AlertStatus if s is not AlertStatus.CLOSED]):
        open_alerts.setdefault(a.uscc, {})[a.rule] = a
    findings, missing, scored = _findings(uow, features, rules, lines, wanted, as_of)
    for firm, line, found in findings:
        if not found:
            continue
        open_now = open_alerts.setdefault(firm, {})
        assignee = _assignee(uow, line)
        for w in found:
            alert = open_now.get(w.rule)
            if alert is not None:
                if alert.refresh(w.level, (w.evidence,), as_of):
                    uow.alerts.save(alert)
                    refreshed.append(alert)
                continue
            alert = Alert.raise_for(
                uscc=firm,
                line_id=line.line_id,
                rule=w.rule,
                level=w.level,
                evidence=(w.evidence,),
                seen_on=as_of,
                assignee=assignee,
                at=now,
            )
            freeze = w.action is WarningAction.FREEZE and line.status is LineStatus.ACTIVE
            alert.froze_line = freeze
            try:
                uow.alerts.add(alert)
            except DuplicateKey:
                continue  # a run beside this one raised it first: it acts on it, not this one
            if freeze:
                _freeze(uow, user, line, alert, now)
                frozen.append(line.line_id)
            _follow_up(uow, user, rules.follow_up, alert, w.action, as_of)
            open_now[w.rule] = alert
            raised.append(alert)
    run = MonitorRun(
        as_of,
        rules.version,
        len(lines) if wanted is None else len(wanted & set(lines)),
        tuple(missing),
        tuple(raised),
        tuple(refreshed),
        tuple(frozen),
        scored,
    )
    uow.audit.append(
        user.name,
        "monitor.run",
        f"monitor:{as_of.isoformat()}",
        {
            "as_of": as_of.isoformat(),
            "rules": rules.version,
            "borrowers": run.borrowers,
            "without_data": len(missing),
            "raised": len(raised),
            "refreshed": len(refreshed),
            "lines_frozen": ",".join(str(i) for i in frozen),
            "behaviour_scored": scored,
        },
        now,
    )
    return run


def close_and_monitor(
    uow: UnitOfWork,
    user: User,
    features: FeatureSource,
    rules: WarningRules,
    as_of: date,
    *,
    now: datetime,
    review: tuple[Decider, LimitReviewPolicy] | None = None,
    notices: NoticePolicy | None = None,
    cases_policy: CollectionsPolicy = DEFAULT_CASES_POLICY,
) -> tuple[EodRun, MonitorRun, ReviewRun | None]:
    """End of day up to ``as_of`` (each day committed), then, once the book is closed, the
    warning rules as of that day over every borrower with an open line (committed); on a month
    end, with ``review``, then the monthly limit review for the coming month (committed)."""
    closed = run_eod(uow, user, as_of, now=now, notices=notices, cases_policy=cases_policy)
    run = monitor(uow, user, features, rules, as_of=as_of, now=now)
    uow.commit()
    reviewed = None
    if review is not None and (as_of + timedelta(days=1)).day == 1:
        decider, policy = review
        reviewed = review_limits(uow, user, decider, policy, as_of=as_of, now=now)
        uow.commit()
    return closed, run, reviewed


_TASK_OF = {WarningAction.VISIT: TaskKind.VISIT, WarningAction.DOCUMENTS: TaskKind.DOCUMENTS}


def _follow_up(
    uow: UnitOfWork, user: User, policy: FollowUpPolicy, alert: Alert, action: WarningAction,
    on: date,
) -> None:
    """The policy's visit or documents request on a new alert, for the alert's assignee, due
    within the policy's days for the alert's level."""
    kind = _TASK_OF.get(action)
    if kind is None:
        return
    docs = policy.documents if kind is TaskKind.DOCUMENTS else ()
    task = FollowUpTask.ask(kind=kind, alert_id=alert.alert_id, uscc=alert.uscc,
                            line_id=alert.line_id, assignee=alert.assignee, by=user.name, on=on,
                            due_on=policy.due_on(kind, alert.level, on), documents=docs,
                            note=f"{alert.rule} {alert.level.label_zh}")  # fmt: skip
    uow.tasks.add(task)


def _freeze(uow: UnitOfWork, user: User, line: CreditLine, alert: Alert, now: datetime) -> None:
    """The policy's immediate action: freeze the undrawn line (冻结), for a person to confirm or
    lift. The line is read again under lock (a drawdown may be under way). Audited as the
    monitor's, under the user who ran it."""
    ev = alert.evidence[0]
    reason = f"预警自动冻结 {alert.rule}: {ev.message_zh} (as of {ev.as_of.isoformat()})"
    fresh = uow.lines.get(line.line_id, lock=True) or line
    fresh.freeze(reason, business_date(uow, now))
    uow.lines.save(fresh)
    line.status = fresh.status
    alert.froze_line = True
    uow.audit.append(
        user.name,
        "line.frozen",
        f"line:{line.line_id}",
        {"reason": reason, "by_rule": alert.rule, "automatic": True},
        now,
    )


def settle_freeze(
    uow: UnitOfWork,
    user: User,
    alert_id: int,
    *,
    lift: bool,
    comment: str,
    now: datetime,
) -> Alert:
    """Confirm (确认冻结) or lift (解除冻结) the freeze the monitor made for an alert. Confirming
    is the alert's assignee's or a risk manager's; lifting gives the line back and needs the right
    to manage lines (a risk manager). Audited."""
    alert = workable_alert(uow, user, alert_id)
    if lift:
        require(user, Action.MANAGE_LINE)
    alert.settle_freeze(lift=lift, by=user.name, at=now, comment=comment)
    if lift:
        line = uow.lines.get(alert.line_id, lock=True)
        if line is not None and line.status is LineStatus.FROZEN:
            line.unfreeze(f"解除预警冻结 alert {alert_id}: {comment.strip()}",
                          business_date(uow, now))  # fmt: skip
            uow.lines.save(line)
            uow.audit.append(user.name, "line.unfrozen", f"line:{line.line_id}",
                             {"reason": comment.strip(), "alert": alert_id}, now)  # fmt: skip
    uow.alerts.save(alert)
    uow.audit.append(
        user.name,
        "alert.freeze_lifted" if lift else "alert.freeze_confirmed",
        f"alert:{alert_id}",
        {"uscc": alert.uscc, "rule": alert.rule, "line": alert.line_id, "comment": comment},
        now,
    )
    return alert


def request_reduction(
    uow: UnitOfWork,
    user: User,
    alert_id: int,
    new_limit: Money,
    *,
    reason: str,
    now: datetime,
) -> ApprovalRequest:
    """Ask for the alert's line to be reduced (压降) to ``new_limit``: the alert's assignee or a
    risk manager asks, another risk manager approves, and approving reduces the line and records
    the action on the alert."""
    alert = workable_alert(uow, user, alert_id)
    if not alert.is_open:
        raise AlertStateError(f"alert {alert_id} is closed")
    order = LineReductionOrder(alert.line_id, new_limit, alert_id)
    return approvals.request_approval(uow, user, order, reason=reason, now=now)


def _approved_pd(uow: UnitOfWork, line: CreditLine) -> Decimal | None:
    """The PD the line's decision was made on (None for a referral a person approved)."""
    app = uow.applications.get(line.terms.application_id)
    return None if app is None else app.decision.pd


def request_call_in(
    uow: UnitOfWork, user: User, alert_id: int, *, reason: str, now: datetime
) -> ApprovalRequest:
    """Ask for the alert's line to be called in early (宣布提前到期: every active loan on it falls
    due at once, the line is frozen): the alert's assignee or a risk manager asks, another risk
    manager approves, and approving records the action on the alert."""
    alert = workable_alert(uow, user, alert_id)
    if not alert.is_open:
        raise AlertStateError(f"alert {alert_id} is closed")
    order = CallInOrder(alert.line_id, alert_id)
    return approvals.request_approval(uow, user, order, reason=reason, now=now)


def _assignee(uow: UnitOfWork, line: CreditLine) -> str:
    """The customer manager (客户经理) who made the line's application."""
    app = uow.applications.get(line.terms.application_id)
    return app.created_by if app is not None else ""


def alerts(
    uow: UnitOfWork,
    user: User,
    *,
    statuses: Iterable[AlertStatus] | None = None,
    mine: bool = False,
    uscc: str | None = None,
) -> list[Alert]:
    """The alert queue, most serious first (``mine``: assigned to the user)."""
    require(user, Action.READ_ALERTS)
    return uow.alerts.find(statuses=statuses, assignee=user.name if mine else None, uscc=uscc)


def workable_alert(uow: UnitOfWork, user: User, alert_id: int) -> Alert:
    """The alert, locked, if the user may work it: its assignee, or a risk manager."""
    require(user, Action.WORK_ALERT)
    alert = uow.alerts.get(alert_id, lock=True)
    if alert is None:
        raise NotFound(f"alert {alert_id} does not exist")
    if user.role is not Role.RISK_MANAGER and alert.assignee != user.name:
        raise AccessDeniedError(
            f"alert {alert_id} is assigned to {alert.assignee or 'nobody'}; only they or a risk "
            "manager may work it",
            user=user.name,
            action=Action.WORK_ALERT.value,
        )
    return alert


def move_alert(
    uow: UnitOfWork,
    user: User,
    alert_id: int,
    to: AlertStatus,
    *,
    comment: str,
    now: datetime,
) -> Alert:
    """Acknowledge, record an action on, or close an alert. A customer manager works the alerts
    assigned to them; a risk manager any (the escalated ones among them). Closing cancels the
    alert's open follow-up tasks. Audited."""
    alert = workable_alert(uow, user, alert_id)
    was = alert.status
    alert.move(to, by=user.name, at=now, comment=comment)
    uow.alerts.save(alert)
    if to is AlertStatus.CLOSED:  # its open visits and documents requests end with it
        on = business_date(uow, now)
        for task in uow.tasks.find(statuses=[TaskStatus.OPEN], alert_id=alert_id):
            task.cancel(by=user.name, on=max(on, task.requested_on), at=now,
                        reason=f"预警已关闭 alert closed: {comment}")  # fmt: skip
            uow.tasks.save(task)
    uow.audit.append(
        user.name,
        f"alert.{to.value}",
        f"alert:{alert_id}",
        {"uscc": alert.uscc, "rule": alert.rule, "from": was.value, "comment": comment},
        now,
    )
    return alert


def escalate_overdue(
    uow: UnitOfWork, user: User, *, now: datetime, policy: AlertPolicy = DEFAULT_POLICY
) -> list[Alert]:
    """Escalate every open alert nobody acknowledged within its level's time limit."""
    require(user, Action.RUN_MONITOR)
    done = []
    for alert in uow.alerts.find(statuses=[AlertStatus.OPEN]):
        if alert.escalate(now, policy):
            uow.alerts.save(alert)
            uow.audit.append(
                user.name,
                "alert.escalated",
                f"alert:{alert.alert_id}",
                {"uscc": alert.uscc, "rule": alert.rule, "policy": policy.version},
                now,
            )
            done.append(alert)
    return done
