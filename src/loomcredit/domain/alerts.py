"""Early-warning alerts (预警) on borrowers, and what people do with them.

Post-loan monitoring (贷后监控) runs the warning rules over every borrower with an open line; a
rule that fires raises an :class:`Alert` for that borrower and rule, or refreshes the one already
open (one open alert per borrower and rule: re-running never duplicates it). An alert carries its
evidence (the values, what they were compared with, the date they describe), is assigned to the
customer manager of the borrower's line, and moves open → acknowledged → actioned → closed, each
step with who, when and a comment. An alert nobody acknowledged within its level's time limit is
escalated (to the risk managers' queue).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from loomcredit.domain.errors import AlertInputError, AlertStateError


class AlertLevel(StrEnum):
    """How serious: red 红色 (act now), amber 橙色 (act soon), watch 关注 (look at it)."""

    RED = "red"
    AMBER = "amber"
    WATCH = "watch"

    @property
    def label_zh(self) -> str:
        """Chinese label."""
        return {"red": "红色预警", "amber": "橙色预警", "watch": "关注"}[self.value]

    @property
    def rank(self) -> int:
        """0 for red, the most serious."""
        return ("red", "amber", "watch").index(self.value)


class AlertStatus(StrEnum):
    """Where an alert is in its handling."""

    OPEN = "open"  # raised, nobody has looked yet
    ACKNOWLEDGED = "acknowledged"  # the responsible person has seen it
    ACTIONED = "actioned"  # something was done (visit, documents, line frozen …)
    CLOSED = "closed"  # handled; a rule firing again raises a new alert

    @property
    def label_zh(self) -> str:
        """Chinese label."""
        return {
            "open": "待处理",
            "acknowledged": "已确认",
            "actioned": "已处置",
            "closed": "已关闭",
        }[self.value]


#: The steps an alert may take; closing needs a comment, as does recording an action.
ALLOWED: dict[AlertStatus, frozenset[AlertStatus]] = {
    AlertStatus.OPEN: frozenset({AlertStatus.ACKNOWLEDGED, AlertStatus.CLOSED}),
    AlertStatus.ACKNOWLEDGED: frozenset({AlertStatus.ACTIONED, AlertStatus.CLOSED}),
    AlertStatus.ACTIONED: frozenset({AlertStatus.ACTIONED, AlertStatus.CLOSED}),
    AlertStatus.CLOSED: frozenset(),
}
NEEDS_COMMENT = frozenset({AlertStatus.ACTIONED, AlertStatus.CLOSED})


@dataclass(frozen=True, slots=True)
class AlertPolicy:
    """How long an alert of each level may wait for acknowledgement before it is escalated."""

    version: str
    red: timedelta
    amber: timedelta
    watch: timedelta

    def time_limit(self, level: AlertLevel) -> timedelta:
        """The level's time limit."""
        return {AlertLevel.RED: self.red, AlertLevel.AMBER: self.amber}.get(level, self.watch)


#: The default: red within a working day, amber within three days, watch within ten.
DEFAULT_POLICY = AlertPolicy("2026-12", timedelta(days=1), timedelta(days=3), timedelta(days=10))


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why a rule fired: the feature, its value (as shown to people), what it was compared with,
    and the date the data describes."""

    feature: str
    value: str
    baseline: str
    as_of: date
    message_zh: str
    message_en: str


@dataclass(frozen=True, slots=True)
class AlertStep:
    """One move of an alert: to which status, by whom, when, with what comment."""

    status: AlertStatus
    by: str
    at: datetime
    comment: str


@dataclass(slots=True)
class Alert:
    """One borrower's alert for one rule.

    Attributes:
        alert_id: stored id (0 until stored).
        uscc: the borrower.
        line_id: the credit line it was raised on.
        rule: the warning rule's code (e.g. ``COURT_ENFORCEMENT``).
        level: the level the rule gave, last time it fired.
        evidence: what it found, last time it fired.
        first_seen / last_seen: the first and latest dates (as of) the rule fired.
        assignee: who must handle it (the line's customer manager).
        raised_at: when it was raised (escalation counts from here).
        status: where it is in its handling.
        steps: every move, oldest first.
        escalated_at: when it was escalated for want of acknowledgement (None: not escalated).
        froze_line: the monitor froze the borrower's undrawn line when it raised this alert; a
            person confirms the freeze or lifts it (:meth:`settle_freeze`).
        version: optimistic-concurrency counter.
    """

    alert_id: int
    uscc: str
    line_id: int
    rule: str
    level: AlertLevel
    evidence: tuple[Evidence, ...]
    first_seen: date
    last_seen: date
    assignee: str
    raised_at: datetime
    status: AlertStatus = AlertStatus.OPEN
    steps: list[AlertStep] = field(default_factory=list)
    escalated_at: datetime | None = None
    froze_line: bool = False
    version: int = 0

    @classmethod
    def raise_for(
        cls,
        *,
        uscc: str,
        line_id: int,
        rule: str,
        level: AlertLevel,
        evidence: tuple[Evidence, ...],
        seen_on: date,
        assignee: str,
        at: datetime,
    ) -> Alert:
        """A new open alert."""
        if not evidence:
            raise AlertInputError(f"an alert for rule {rule} needs its evidence")
        return cls(0, uscc, line_id, rule, level, evidence, seen_on, seen_on, assignee, at)

    @property
    def is_open(self) -> bool:
        """Not closed (the one a rule firing again refreshes)."""
        return self.status is not AlertStatus.CLOSED

    def refresh(self, level: AlertLevel, evidence: tuple[Evidence, ...], seen_on: date) -> bool:
        """The rule fired again: keep the latest level and evidence (a run for an earlier date
        changes nothing). Returns whether anything changed."""
        if not self.is_open:
            raise AlertStateError(f"alert {self.alert_id} is closed; a new one is raised instead")
        if seen_on < self.last_seen or (
            seen_on == self.last_seen and (level, evidence) == (self.level, self.evidence)
        ):
            return False
        self.level, self.evidence = level, evidence
        self.last_seen = max(self.last_seen, seen_on)
        return True

    def move(self, to: AlertStatus, *, by: str, at: datetime, comment: str = "") -> None:
        """Acknowledge, record an action, or close (with a comment for the last two)."""
        if to not in ALLOWED[self.status]:
            raise AlertStateError(
                f"alert {self.alert_id} is {self.status.value}; it cannot become {to.value}"
            )
        if to in NEEDS_COMMENT and not comment.strip():
            raise AlertInputError(f"making an alert {to.value} needs a comment saying what")
        if not by:
            raise AlertInputError("an alert's step needs the person who takes it")
        self.status = to
        self.steps.append(AlertStep(to, by, at, comment.strip()))

    @property
    def freeze_pending(self) -> bool:
        """The monitor froze the line for this alert and nobody has confirmed or lifted it."""
        return self.froze_line and self.status in (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)

    def settle_freeze(self, *, lift: bool, by: str, at: datetime, comment: str) -> None:
        """A person confirms the freeze the monitor made (确认冻结) or lifts it (解除冻结): the
        alert is acknowledged if it was not, then actioned with what was decided and why."""
        if not self.freeze_pending:
            raise AlertStateError(
                f"alert {self.alert_id} holds no freeze waiting for a decision"
                + ("" if self.froze_line else " (the monitor froze no line for it)")
            )
        if not comment.strip():
            raise AlertInputError("confirming or lifting a freeze needs a comment saying why")
        what = "解除冻结 freeze lifted" if lift else "确认冻结 freeze confirmed"
        self.record_action(by=by, at=at, comment=f"{what}: {comment.strip()}")

    def record_action(self, *, by: str, at: datetime, comment: str) -> None:
        """Something was done about the alert (a freeze decided, a line reduced): acknowledged
        first if nobody had, then actioned with what was done."""
        if self.status is AlertStatus.OPEN:
            self.move(AlertStatus.ACKNOWLEDGED, by=by, at=at)
        self.move(AlertStatus.ACTIONED, by=by, at=at, comment=comment)

    def escalation_due(self, now: datetime, policy: AlertPolicy = DEFAULT_POLICY) -> bool:
        """Still open and unacknowledged after its level's time limit, and not yet escalated."""
        return (
            self.status is AlertStatus.OPEN
            and self.escalated_at is None
            and now - self.raised_at > policy.time_limit(self.level)
        )

    def escalate(self, now: datetime, policy: AlertPolicy = DEFAULT_POLICY) -> bool:
        """Escalate when due; returns whether it was."""
        if not self.escalation_due(now, policy):
            return False
        self.escalated_at = now
        return True
