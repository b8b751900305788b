"""Post-loan monitoring on the fakes: the warning rules raise one alert per borrower and rule,
re-running refreshes it, people work it open → acknowledged → actioned → closed, and an alert
nobody acknowledges in time is escalated."""

from __future__ import annotations

import json
import random
from datetime import date, timedelta

import pytest
from tests.fakes import FakeFeatures as Features
from tests.fakes import FakeWarningRules as Rules
from tests.world import USCC, World

from loomcredit.adapters.policy_file import load_warning_policy, parse_warning_policy
from loomcredit.adapters.warning_history import SequentialWarningRules
from loomcredit.adapters.warning_rules import ProfileWarningRules
from loomcredit.domain.alerts import Alert, AlertLevel, AlertStatus
from loomcredit.domain.credit_line import CreditLine, LineStatus
from loomcredit.domain.errors import (
    AlertInputError,
    AlertStateError,
    FourEyesViolation,
    LineNotAvailable,
    PolicyViolation,
)
from loomcredit.domain.identity import generate_uscc
from loomcredit.domain.money import Money
from loomcredit.domain.warning_policy import WarningAction
from loomcredit.service_layer import approvals, monitoring
from loomcredit.service_layer.errors import InvalidRequestError
from loomcredit.service_layer.users import AccessDeniedError, Role, User

OTHER = generate_uscc("330603", random.Random(11))
AS_OF = date(2026, 1, 31)  # the World's today is 2026-03-02; AS_OF + 30 days is not after it


def run(w: World, feats: Features, as_of: date = AS_OF) -> monitoring.MonitorRun:
    with w.uow() as uow:
        out = monitoring.monitor(uow, w.risk, feats, Rules(), as_of=as_of, now=w.now)
        uow.commit()
    return out


def queue(w: World, user: User | None = None, **kw: object) -> list[Alert]:
    with w.uow() as uow:
        return monitoring.alerts(uow, user or w.risk, **kw)  # type: ignore[arg-type]


class TestMonitor:
    def test_rules_that_fire_raise_alerts_assigned_to_the_lines_officer(self) -> None:
        """Each borrower with a line is checked; each rule that fires is one open alert with
        its evidence, assigned to the customer manager who made the application."""
        w = World()
        w.open_line()
        w.open_line(uscc=OTHER)
        out = run(w, Features({USCC: {"court": 1, "drop": 0.4}, OTHER: {"drop": 0.1}}))
        assert (out.borrowers, out.without_data, len(out.refreshed)) == (2, (), 0)
        alerts = queue(w)
        assert [(a.uscc, a.rule, a.level) for a in alerts] == [
            (USCC, "COURT", AlertLevel.RED),
            (USCC, "SALES_DROP", AlertLevel.AMBER),
        ]
        assert {a.assignee for a in alerts} == {w.officer.name}
        assert all(a.status is AlertStatus.OPEN and a.first_seen == AS_OF for a in alerts)
        assert alerts[1].evidence[0].value == "0.4"
        assert alerts[1].evidence[0].baseline == "去年同期"

    def test_running_again_refreshes_and_never_duplicates(self) -> None:
        """A second run keeps one alert per borrower and rule, with the later date and the
        latest level; a run for the same date with the same findings changes nothing."""
        w = World()
        w.open_line()
        feats = Features({USCC: {"drop": 0.4}})
        run(w, feats)
        again = run(w, feats)
        assert (len(again.raised), len(again.refreshed)) == (0, 0)
        feats.by_firm[USCC] = {"drop": 0.6}
        later = run(w, feats, AS_OF + timedelta(days=30))
        assert (len(later.raised), len(later.refreshed)) == (0, 1)
        (alert,) = queue(w)
        assert (alert.level, alert.first_seen, alert.last_seen) == (
            AlertLevel.RED,
            AS_OF,
            AS_OF + timedelta(days=30),
        )
        older = run(w, Features({USCC: {"drop": 0.35}}), AS_OF - timedelta(days=30))
        assert older.refreshed == ()
        assert queue(w)[0].level is AlertLevel.RED

    def test_an_alert_a_run_beside_this_one_raised_first_is_left_to_it(self) -> None:
        """Two runs at once: this one read the open alerts before the other committed its red
        court alert. Adding the same alert is refused by the store (one open alert per borrower
        and rule); this run goes on without it, raising nothing twice and freezing nothing."""
        w = World()
        w.open_line()
        feats = Features({USCC: {"court": 1, "drop": 0.4}})
        first = run(w, feats)
        assert len(first.raised) == 2
        with w.uow() as uow:
            line = uow.lines.get(first.lines_frozen[0], lock=True)
            assert line is not None
            line.unfreeze("lifted by hand", w.today)
            uow.lines.save(line)
            uow.commit()
        with w.uow() as uow:
            uow.alerts.find = lambda **_: []  # type: ignore[method-assign]  # read too early
            second = monitoring.monitor(uow, w.risk, feats, Rules(), as_of=AS_OF, now=w.now)
            uow.commit()
        assert (second.raised, second.lines_frozen) == ((), ())
        assert len(queue(w)) == 2
        with w.uow() as uow:
            line = uow.lines.get(first.lines_frozen[0])
        assert line is not None
        assert line.status is LineStatus.ACTIVE

    def test_a_closed_alert_is_not_reopened_a_new_one_is_raised(self) -> None:
        """After an alert is closed, the rule firing again raises a new alert."""
        w = World()
        w.open_line()
        feats = Features({USCC: {"court": 1}})
        (first,) = run(w, feats).raised
        with w.uow() as uow:
            monitoring.move_alert(uow, w.risk, first.alert_id, AlertStatus.CLOSED,
                                  comment="case settled 已和解", now=w.now)  # fmt: skip
            uow.commit()
        (second,) = run(w, feats, AS_OF + timedelta(days=1)).raised
        assert second.alert_id != first.alert_id
        assert [(a.alert_id, a.status) for a in queue(w)] == [
            (first.alert_id, AlertStatus.CLOSED),
            (second.alert_id, AlertStatus.OPEN),
        ]

    def test_firms_without_features_are_reported_and_closed_lines_skipped(self) -> None:
        """A borrower the lake cannot describe is listed, not silently passed; a closed line is
        not monitored."""
        w = World()
        w.open_line()
        other_line = w.open_line(uscc=OTHER)
        with w.uow() as uow:
            line = uow.lines.get(other_line)
            assert line is not None
            line.close(w.today, "repaid")
            uow.lines.save(line)
            uow.commit()
        out = run(w, Features({}))
        assert (out.borrowers, out.without_data) == (1, (USCC,))

    def test_a_source_answering_one_firm_at_a_time_gives_the_same_run(self) -> None:
        """The monitor asks a batch source for every borrower at once; a source that only
        answers one firm at a time gives the same alerts and the same firms without data."""

        class OneByOne:
            def __init__(self, inner: Features) -> None:
                self.inner = inner

            def get(self, uscc: str, as_of: date) -> object:
                return self.inner.get(uscc, as_of)

        feats = {USCC: {"court": 1, "drop": 0.4}}
        runs = []
        for source in (Features(dict(feats)), OneByOne(Features(dict(feats)))):
            w = World()
            w.open_line()
            w.open_line(uscc=OTHER)
            with w.uow() as uow:
                runs.append(monitoring.monitor(uow, w.risk, source, Rules(),  # type: ignore[arg-type]
                                               as_of=AS_OF, now=w.now))  # fmt: skip
        batch, single = runs
        assert [(a.uscc, a.rule) for a in batch.raised] == [(a.uscc, a.rule) for a in single.raised]
        assert batch.without_data == single.without_data == (OTHER,)
        assert len(batch.raised) == 2

    def test_only_operations_and_risk_managers_run_it(self) -> None:
        """An officer may not run the monitor."""
        w = World()
        with w.uow() as uow, pytest.raises(AccessDeniedError):
            monitoring.monitor(uow, w.officer, Features(), Rules(), as_of=AS_OF, now=w.now)

    def test_a_date_after_today_is_refused(self) -> None:
        """The bank holds no data of a day that has not happened: a later as-of is refused."""
        w = World()
        w.open_line()
        with w.uow() as uow, pytest.raises(InvalidRequestError, match="after today"):
            monitoring.monitor(uow, w.risk, Features({USCC: {"court": 1}}), Rules(),
                               as_of=w.today + timedelta(days=1), now=w.now)  # fmt: skip
        assert queue(w) == []

    def test_end_of_day_then_monitoring_as_of_the_closed_day(self) -> None:
        """Operations closes the book up to yesterday and the monitor runs as of that day: the
        day is closed before the alert is raised, and the alert is seen on that day."""
        w = World()
        w.open_line()
        yesterday = w.today - timedelta(days=1)
        with w.uow() as uow:
            feats = Features({USCC: {"drop": 0.4}})
            closed, out, reviewed = monitoring.close_and_monitor(uow, w.ops, feats, Rules(),
                                                                 yesterday, now=w.now)  # fmt: skip
        assert (closed.as_of, closed.days_run, reviewed) == (yesterday, 1, None)
        (alert,) = out.raised
        assert alert.first_seen == yesterday
        with w.uow() as uow:
            assert uow.book.last_eod_date() == yesterday
            actions = [r.action for r in uow.audit.records()]
        assert actions.index("monitor.run") > max(
            i for i, a in enumerate(actions) if a.startswith("eod")
        )

    def test_the_run_is_audited(self) -> None:
        """One audit record per run, with the rules' version and the counts."""
        w = World()
        w.open_line()
        run(w, Features({USCC: {"court": 2}}))
        with w.uow() as uow:
            rec = [r for r in uow.audit.records() if r.action == "monitor.run"]
        assert len(rec) == 1
        detail = json.loads(rec[0].detail)
        assert (detail["rules"], detail["raised"], detail["borrowers"]) == ("test-1", 1, 1)


class TestWorkingAnAlert:
    def setup(self) -> tuple[World, int]:
        w = World()
        w.open_line()
        (alert,) = run(w, Features({USCC: {"court": 1}})).raised
        return w, alert.alert_id

    def test_open_acknowledged_actioned_closed_each_step_recorded(self) -> None:
        """The assigned officer acknowledges, records an action, closes; each step keeps who,
        when and the comment, and is audited."""
        w, alert_id = self.setup()
        steps = [
            (AlertStatus.ACKNOWLEDGED, ""),
            (AlertStatus.ACTIONED, "visited the mill 已实地走访"),
            (AlertStatus.CLOSED, "enforcement lifted 执行已撤销"),
        ]
        for to, comment in steps:
            with w.uow() as uow:
                monitoring.move_alert(uow, w.officer, alert_id, to, comment=comment, now=w.now)
                uow.commit()
        with w.uow() as uow:
            alert = uow.alerts.get(alert_id)
            actions = [r.action for r in uow.audit.records() if r.subject == f"alert:{alert_id}"]
        assert alert is not None
        assert [(s.status, s.by, s.comment) for s in alert.steps] == [
            (to, w.officer.name, comment) for to, comment in steps
        ]
        assert actions == ["alert.acknowledged", "alert.actioned", "alert.closed"]

    def test_a_step_out_of_order_or_without_a_comment_is_refused(self) -> None:
        """Actioned before acknowledged: refused; closing without a comment: refused."""
        w, alert_id = self.setup()
        with w.uow() as uow:
            with pytest.raises(AlertStateError, match="cannot become actioned"):
                monitoring.move_alert(uow, w.officer, alert_id, AlertStatus.ACTIONED,
                                      comment="x", now=w.now)  # fmt: skip
            with pytest.raises(AlertInputError, match="needs a comment"):
                monitoring.move_alert(uow, w.officer, alert_id, AlertStatus.CLOSED,
                                      comment="  ", now=w.now)  # fmt: skip

    def test_only_the_assignee_or_a_risk_manager_works_it(self) -> None:
        """Another officer is refused; a risk manager may."""
        w, alert_id = self.setup()
        with w.uow() as uow:
            with pytest.raises(AccessDeniedError, match="assigned to off"):
                monitoring.move_alert(uow, User("off2", Role.OFFICER), alert_id,
                                      AlertStatus.ACKNOWLEDGED, comment="", now=w.now)  # fmt: skip
            monitoring.move_alert(uow, w.risk, alert_id, AlertStatus.ACKNOWLEDGED, comment="",
                                  now=w.now)  # fmt: skip

    def test_mine_lists_only_the_users_alerts(self) -> None:
        """The officer's queue holds what is assigned to them."""
        w, _ = self.setup()
        assert len(queue(w, w.officer, mine=True)) == 1
        assert queue(w, User("off2", Role.OFFICER), mine=True) == []


class TestFreeze:
    """A red court alert freezes the undrawn line at once; a person confirms or lifts it."""

    def setup(self) -> tuple[World, int, int]:
        w = World()
        line_id = w.open_line()
        out = run(w, Features({USCC: {"court": 1, "drop": 0.4}}))
        assert out.lines_frozen == (line_id,)
        court = next(a for a in out.raised if a.rule == "COURT")
        return w, line_id, court.alert_id

    def line(self, w: World, line_id: int) -> CreditLine:
        with w.uow() as uow:
            line = uow.lines.get(line_id)
        assert line is not None
        return line

    def test_the_line_is_frozen_at_once_and_takes_no_drawdown(self) -> None:
        """Frozen with the rule and its evidence as the reason, audited as automatic; the
        amber alert froze nothing; a drawdown is refused."""
        w, line_id, _ = self.setup()
        line = self.line(w, line_id)
        assert line.status is LineStatus.FROZEN
        assert "COURT" in line.reason
        assert "court 1" in line.reason
        pending = [(a.rule, a.froze_line, a.freeze_pending) for a in queue(w)]
        assert pending == [("COURT", True, True), ("SALES_DROP", False, False)]
        with w.uow() as uow:
            frozen = [r for r in uow.audit.records() if r.action == "line.frozen"]
        assert [(r.subject, json.loads(r.detail)["automatic"]) for r in frozen] == [
            (f"line:{line_id}", True)
        ]
        with pytest.raises(LineNotAvailable):
            w.draw(line_id, "10000")

    def test_confirming_keeps_it_frozen_and_lifting_needs_a_risk_manager(self) -> None:
        """The officer confirms: acknowledged then actioned, line still frozen. Lifting: not the
        officer; the risk manager lifts and the line takes drawdowns again; a second decision on
        the same freeze is refused, and so is one without a comment."""
        w, line_id, court_id = self.setup()
        with w.uow() as uow:
            with pytest.raises(AlertInputError, match="needs a comment"):
                monitoring.settle_freeze(uow, w.officer, court_id, lift=False, comment=" ",
                                         now=w.now)  # fmt: skip
            with pytest.raises(AccessDeniedError):
                monitoring.settle_freeze(uow, w.officer, court_id, lift=True, comment="paid",
                                         now=w.now)  # fmt: skip
            alert = monitoring.settle_freeze(uow, w.officer, court_id, lift=False,
                                             comment="执行属实", now=w.now)  # fmt: skip
            uow.commit()
        assert [s.status for s in alert.steps] == [AlertStatus.ACKNOWLEDGED, AlertStatus.ACTIONED]
        assert "确认冻结" in alert.steps[-1].comment
        assert self.line(w, line_id).status is LineStatus.FROZEN
        with w.uow() as uow, pytest.raises(AlertStateError, match="no freeze waiting"):
            monitoring.settle_freeze(uow, w.risk, court_id, lift=True, comment="x", now=w.now)

    def test_a_lifted_freeze_stays_lifted_when_the_rule_fires_again(self) -> None:
        """The risk manager lifts it; the next run refreshes the alert but does not freeze the
        line again (a person decided); a drawdown goes through."""
        w, line_id, court_id = self.setup()
        with w.uow() as uow:
            monitoring.settle_freeze(uow, w.risk, court_id, lift=True,
                                     comment="enforcement withdrawn 已撤案", now=w.now)  # fmt: skip
            uow.commit()
        assert self.line(w, line_id).status is LineStatus.ACTIVE
        again = run(w, Features({USCC: {"court": 2, "drop": 0.4}}), AS_OF + timedelta(days=1))
        assert (again.lines_frozen, len(again.raised), len(again.refreshed)) == ((), 0, 2)
        assert self.line(w, line_id).status is LineStatus.ACTIVE
        assert w.draw(line_id, "10000") > 0

    def test_an_alert_that_froze_nothing_has_no_freeze_to_settle(self) -> None:
        """The amber sales alert: confirming or lifting a freeze is refused."""
        w, _, _ = self.setup()
        drop = next(a for a in queue(w) if a.rule == "SALES_DROP")
        with w.uow() as uow, pytest.raises(AlertStateError, match="froze no line"):
            monitoring.settle_freeze(uow, w.risk, drop.alert_id, lift=False, comment="x",
                                     now=w.now)  # fmt: skip


class TestReduction:
    """压降 through four eyes: the assignee asks, a risk manager approves, the alert records it."""

    def setup(self) -> tuple[World, int, int]:
        w = World()
        line_id = w.open_line("300000")
        (drop,) = run(w, Features({USCC: {"drop": 0.4}})).raised
        return w, line_id, drop.alert_id

    def test_the_officer_asks_a_risk_manager_approves_and_the_alert_records_it(self) -> None:
        """The line is reduced only on approval; the alert is acknowledged and actioned by the
        approver with the amounts and the approval; both steps are audited."""
        w, line_id, alert_id = self.setup()
        with w.uow() as uow:
            req = monitoring.request_reduction(uow, w.officer, alert_id, Money.parse("200000"),
                                               reason="sales down 40 %", now=w.now)  # fmt: skip
            uow.commit()
        with w.uow() as uow:
            line = uow.lines.get(line_id)
            assert line is not None
            assert line.limit == Money.parse("300000")
            with pytest.raises(AccessDeniedError):
                approvals.approve(uow, w.officer, req.request_id, now=w.now)
            out = approvals.approve(uow, w.risk, req.request_id, now=w.now)
            uow.commit()
        assert out.result == f"line:{line_id}"
        with w.uow() as uow:
            line = uow.lines.get(line_id)
            alert = uow.alerts.get(alert_id)
            actions = [r.action for r in uow.audit.records()]
        assert line is not None
        assert alert is not None
        assert line.limit == Money.parse("200000")
        assert [(s.status, s.by) for s in alert.steps] == [
            (AlertStatus.ACKNOWLEDGED, w.risk.name),
            (AlertStatus.ACTIONED, w.risk.name),
        ]
        assert "¥300,000.00 → ¥200,000.00" in alert.steps[-1].comment
        assert f"approval {req.request_id}" in alert.steps[-1].comment
        assert [a for a in actions if a.startswith(("line_reduction", "line.reduced"))] == [
            "line_reduction.requested",
            "line.reduced",
            "line_reduction.approved",
        ]

    def test_refused_requests(self) -> None:
        """Not the assignee; not a reduction; a second request while one waits; the requester
        approving their own."""
        w, _, alert_id = self.setup()
        with w.uow() as uow:
            with pytest.raises(AccessDeniedError, match="assigned to off"):
                monitoring.request_reduction(uow, User("off2", Role.OFFICER), alert_id,
                                             Money.parse("1"), reason="x", now=w.now)  # fmt: skip
            with pytest.raises(InvalidRequestError, match="must lower the limit"):
                monitoring.request_reduction(uow, w.officer, alert_id, Money.parse("300000"),
                                             reason="x", now=w.now)  # fmt: skip
            req = monitoring.request_reduction(uow, w.risk, alert_id, Money.parse("100000"),
                                               reason="x", now=w.now)  # fmt: skip
            with pytest.raises(InvalidRequestError, match="already waiting"):
                monitoring.request_reduction(uow, w.officer, alert_id, Money.parse("50000"),
                                             reason="y", now=w.now)  # fmt: skip
            with pytest.raises(FourEyesViolation):
                approvals.approve(uow, w.risk, req.request_id, now=w.now)
            approvals.approve(uow, w.risk2, req.request_id, now=w.now)


class TestEscalation:
    def test_unacknowledged_past_the_level_limit_is_escalated_once(self) -> None:
        """A red alert unacknowledged after a day is escalated; an amber one not yet; running
        it again escalates nothing more; an acknowledged alert is never escalated."""
        w = World()
        w.open_line()
        w.open_line(uscc=OTHER)
        run(w, Features({USCC: {"court": 1, "drop": 0.4}, OTHER: {"court": 1}}))
        other = next(a for a in queue(w) if a.uscc == OTHER)
        with w.uow() as uow:
            monitoring.move_alert(uow, w.risk, other.alert_id, AlertStatus.ACKNOWLEDGED,
                                  comment="", now=w.now)  # fmt: skip
            uow.commit()
        later = w.now + timedelta(days=1, minutes=1)
        with w.uow() as uow:
            done = monitoring.escalate_overdue(uow, w.ops, now=later)
            again = monitoring.escalate_overdue(uow, w.ops, now=later)
            uow.commit()
        assert [(a.uscc, a.rule) for a in done] == [(USCC, "COURT")]
        assert again == []
        with w.uow() as uow:
            assert len(monitoring.escalate_overdue(uow, w.ops, now=w.now + timedelta(days=4))) == 1


class TestProfileRules:
    def test_a_drop_the_spring_festival_explains_raises_no_alert(self) -> None:
        """Sales 35 % under last year's in February–April 2024 (the festival on 10 February,
        against 22 January in 2023): the lunar calendar explains 13 points of it, so no sales
        alert; the same drop in April–June fires, and so does February–April when the calendar
        is switched off (the naive set)."""
        feats: dict[str, object] = {"sales_yoy_3m": -0.35}
        rules = ProfileWarningRules()
        spring = date(2024, 5, 20)  # the last month with invoices is April
        assert [h.rule for h in rules.warnings(feats, spring)] == []
        summer = rules.warnings(feats, date(2024, 7, 20))
        assert [h.rule for h in summer] == ["SALES_DROP_30"]
        assert "春节" not in summer[0].evidence.message_zh
        naive = SequentialWarningRules(rules.policy).warnings({"sales_seq_3m": -0.35}, spring)
        assert [h.rule for h in naive] == ["SALES_DROP_30"]
        deeper = rules.warnings({"sales_yoy_3m": -0.45}, spring)
        assert [h.rule for h in deeper] == ["SALES_DROP_30"]
        assert "已扣除春节错月影响" in deeper[0].evidence.message_zh

    def test_court_enforcement_and_a_yoy_sales_drop_become_hits_with_evidence(self) -> None:
        """The profile's signs as hits: levels mapped (review → watch), the feature, its value,
        what it is compared with, the date."""
        feats: dict[str, object] = {"judicial_enforcement_open": 1, "sales_yoy_3m": -0.45}
        hits = ProfileWarningRules().warnings(feats, AS_OF)
        by_rule = {h.rule: h for h in hits}
        assert by_rule, "no rule fired"
        red = [h for h in hits if h.level is AlertLevel.RED]
        assert red
        assert all(h.evidence.as_of == AS_OF for h in hits)
        sales = next(h for h in hits if h.evidence.feature == "sales_yoy_3m")
        assert "去年同期" in sales.evidence.baseline
        assert sales.level in (AlertLevel.AMBER, AlertLevel.RED)

    @pytest.mark.parametrize(
        ("buyers", "suppliers", "fired"),
        [
            (0.5, None, ["RISKY_BUYERS"]),
            (None, 0.5, ["RISKY_SUPPLIERS"]),
            (0.31, 0.31, ["RISKY_BUYERS", "RISKY_SUPPLIERS"]),
            (0.3, 0.3, []),  # over 30 %, not at it
        ],
    )
    def test_contagion_both_ways(
        self, buyers: float | None, suppliers: float | None, fired: list[str]
    ) -> None:
        """A main buyer or a main supplier in trouble: over 30 % of sales to, or purchases
        from, firms with a risk event raises an amber alert; the supplier side asks for a visit,
        the buyer side for a limit review."""
        feats: dict[str, object] = {"contagion_share_12m": buyers,
                                    "supplier_contagion_share_12m": suppliers}  # fmt: skip
        hits = ProfileWarningRules().warnings(feats, AS_OF)
        assert sorted(h.rule for h in hits) == fired
        actions = {h.rule: h.action for h in hits}
        assert actions.get("RISKY_SUPPLIERS", WarningAction.VISIT) is WarningAction.VISIT
        assert actions.get("RISKY_BUYERS", WarningAction.REVIEW_LIMIT) is WarningAction.REVIEW_LIMIT
        assert all(h.level is AlertLevel.AMBER for h in hits)


SHIPPED = load_warning_policy()


def _policy_text(**change: str) -> str:
    """The shipped policy as YAML text, with some rules' lines replaced (code → new line)."""
    rules = [
        change.get(
            r.code, f"  - {{code: {r.code}, level: {r.level.value}, action: {r.action.value}}}"
        )
        for r in SHIPPED.rules.values()
    ]
    extra = [v for k, v in change.items() if k not in SHIPPED.rules]
    head = "version: t-1\nescalation: {red: 1, amber: 3, watch: 10}\nrules:\n"
    return head + "\n".join(r for r in rules + extra if r) + "\n"


class TestWarningPolicy:
    def test_the_shipped_policy_names_every_sign_and_freezes_on_court_and_dishonesty(self) -> None:
        """The profile's rules load with it; 失信 and enforcement are red and freeze."""
        rules = ProfileWarningRules()
        assert rules.version == "keqiao-warning-2026-12-07"
        for code in ("DISHONEST", "ENFORCEMENT"):
            spec = SHIPPED.spec(code)
            assert (spec.level, spec.action) == (AlertLevel.RED, WarningAction.FREEZE)
        assert rules.escalation.time_limit(AlertLevel.AMBER) == timedelta(days=3)

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"ENFORCEMENT": ""}, "no entry for ENFORCEMENT"),
            (
                {"NEW_RULE": "  - {code: NEW_RULE, level: red, action: freeze}"},
                "unknown rule NEW_RULE",
            ),
            (
                {"TAX_ARREARS": "  - {code: TAX_ARREARS, level: crimson, action: visit}"},
                r"rules\.\d+\.level: Input should be .red.",
            ),
            (
                {"TAX_ARREARS": "  - {code: TAX_ARREARS, level: red, action: shout}"},
                r"rules\.\d+\.action: Input should be .freeze.",
            ),
            (
                {"DUP": "  - {code: DISHONEST, level: red, action: freeze}"},
                "DISHONEST given more than once",
            ),
        ],
    )
    def test_a_bad_policy_file_is_refused_naming_what_is_wrong(
        self, change: dict[str, str], message: str
    ) -> None:
        """Missing, unknown, badly levelled or actioned and doubled rules: refused."""
        with pytest.raises(PolicyViolation, match=message):
            ProfileWarningRules(parse_warning_policy(_policy_text(**change)))

    def test_the_file_decides_level_and_whether_a_rule_runs(self) -> None:
        """A rule disabled in the file does not fire; a level changed in the file is the hit's."""
        text = _policy_text(
            ENFORCEMENT="  - {code: ENFORCEMENT, level: red, action: freeze, enabled: false}",
            TAX_ARREARS="  - {code: TAX_ARREARS, level: watch, action: watch}",
        )
        rules = ProfileWarningRules(parse_warning_policy(text))
        feats: dict[str, object] = {"judicial_enforcement_open": 1, "tax_arrears_fen": 500}
        hits = {h.rule: h for h in rules.warnings(feats, AS_OF)}
        assert "ENFORCEMENT" not in hits
        assert (hits["TAX_ARREARS"].level, hits["TAX_ARREARS"].action) == (
            AlertLevel.WATCH,
            WarningAction.WATCH,
        )
        shipped = {h.rule: h for h in ProfileWarningRules().warnings(feats, AS_OF)}
        assert shipped["ENFORCEMENT"].action is WarningAction.FREEZE
        assert shipped["TAX_ARREARS"].level is AlertLevel.AMBER
