"""Alerts on SQLite and PostgreSQL (migrated to head): the monitoring story of tests/unit through
the real unit of work, the database's one open alert per borrower and rule, stale saves."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from tests.integration.test_db_servicing_stories import Worlds
from tests.unit.test_monitoring import AS_OF, OTHER, Features, queue, run
from tests.world import USCC

from loomcredit.domain.alerts import Alert, AlertLevel, AlertStatus, Evidence
from loomcredit.domain.money import Money
from loomcredit.service_layer import monitoring
from loomcredit.service_layer.unit_of_work import DuplicateKey, StaleAggregate

pytestmark = pytest.mark.integration


@pytest.fixture(params=["sqlite", "postgresql"])
def worlds(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Worlds]:
    w = Worlds(request.param, tmp_path)
    yield w
    w.close()


def test_the_monitoring_story_round_trips(worlds: Worlds) -> None:
    """Raise, refresh, work every step, close, raise again, escalate: what is stored comes back
    equal, steps in order, the queue most serious first."""
    w = worlds()
    w.open_line()
    w.open_line(uscc=OTHER)
    feats = Features({USCC: {"court": 1, "drop": 0.4}, OTHER: {"drop": 0.35}})
    first = run(w, feats)
    assert len(first.raised) == 3
    feats.by_firm[USCC]["drop"] = 0.7
    second = run(w, feats, AS_OF + timedelta(days=20))
    assert {(a.uscc, a.rule, a.level) for a in second.refreshed} == {
        (OTHER, "SALES_DROP", AlertLevel.AMBER),  # seen again, same level
        (USCC, "SALES_DROP", AlertLevel.RED),  # worse now
        (USCC, "COURT", AlertLevel.RED),
    }
    stored = queue(w)
    assert [(a.uscc, a.rule, a.level) for a in stored][:2] == [
        (USCC, "COURT", AlertLevel.RED),
        (USCC, "SALES_DROP", AlertLevel.RED),
    ]
    court = stored[0]
    for to, comment in [(AlertStatus.ACKNOWLEDGED, ""), (AlertStatus.ACTIONED, "走访"),
                        (AlertStatus.CLOSED, "已撤销")]:  # fmt: skip
        with w.uow() as uow:
            monitoring.move_alert(uow, w.officer, court.alert_id, to, comment=comment, now=w.now)
            uow.commit()
    with w.uow() as uow:
        back = uow.alerts.get(court.alert_id)
    assert back is not None
    assert [s.status for s in back.steps] == [
        AlertStatus.ACKNOWLEDGED,
        AlertStatus.ACTIONED,
        AlertStatus.CLOSED,
    ]
    assert back.evidence == court.evidence
    assert (back.first_seen, back.last_seen) == (AS_OF, AS_OF + timedelta(days=20))
    again = run(w, feats, AS_OF + timedelta(days=21))
    assert [(a.uscc, a.rule) for a in again.raised] == [(USCC, "COURT")]
    with w.uow() as uow:
        escalated = monitoring.escalate_overdue(uow, w.ops, now=w.now + timedelta(days=2))
        uow.commit()
    assert {(a.uscc, a.rule) for a in escalated} == {(USCC, "COURT"), (USCC, "SALES_DROP")}
    with w.uow() as uow:
        assert all(
            a.escalated_at is not None
            for a in uow.alerts.find(statuses=[AlertStatus.OPEN], uscc=USCC)
        )


def _alert(line_id: int, at: object) -> Alert:
    ev = Evidence("court", "1", "预警阈值", AS_OF, "被执行 1 件", "1 enforcement case")
    return Alert.raise_for(uscc=USCC, line_id=line_id, rule="COURT", level=AlertLevel.RED,
                           evidence=(ev,), seen_on=AS_OF, assignee="off", at=at)  # type: ignore[arg-type]  # fmt: skip


def test_the_database_keeps_one_open_alert_per_borrower_and_rule(worlds: Worlds) -> None:
    """A second open alert for the same borrower and rule is refused by the store (two monitors
    at once cannot both raise it); once the first is closed, a new one is accepted."""
    w = worlds()
    line_id = w.open_line()
    with w.uow() as uow:
        first = _alert(line_id, w.now)
        uow.alerts.add(first)
        with pytest.raises(DuplicateKey):
            uow.alerts.add(_alert(line_id, w.now))
        first.move(AlertStatus.CLOSED, by="rm", at=w.now, comment="done")
        uow.alerts.save(first)
        uow.alerts.add(_alert(line_id, w.now))
        uow.commit()
    with w.uow() as uow:
        assert [a.status for a in uow.alerts.find(uscc=USCC)] == [
            AlertStatus.CLOSED,
            AlertStatus.OPEN,
        ]


def test_a_stale_alert_is_not_saved(worlds: Worlds) -> None:
    """Two people load the alert; the second save is refused and nothing of it is written."""
    w = worlds()
    line_id = w.open_line()
    with w.uow() as uow:
        alert = _alert(line_id, w.now)
        uow.alerts.add(alert)
        uow.commit()
    with w.uow() as uow:
        a = uow.alerts.get(alert.alert_id)
        b = uow.alerts.get(alert.alert_id)
        assert a is not None
        assert b is not None
        a.move(AlertStatus.ACKNOWLEDGED, by="off", at=w.now)
        uow.alerts.save(a)
        b.move(AlertStatus.CLOSED, by="rm", at=w.now, comment="x")
        with pytest.raises(StaleAggregate):
            uow.alerts.save(replace(b, steps=list(b.steps)))
        uow.commit()
    with w.uow() as uow:
        back = uow.alerts.get(alert.alert_id)
    assert back is not None
    assert (back.status, [s.status for s in back.steps]) == (
        AlertStatus.ACKNOWLEDGED,
        [AlertStatus.ACKNOWLEDGED],
    )


def test_a_called_in_loan_is_stored_and_end_of_day_counts_it_overdue(worlds: Worlds) -> None:
    """The call-in story on the real unit of work: approved, the loans' new schedules are stored
    (every instalment due by the business date), the line frozen; end of day the next day (the
    set-based SQL path) counts the unpaid call one day past due."""
    from tests.fakes import FakeWarningRules

    from loomcredit.domain.credit_line import LineStatus
    from loomcredit.service_layer import approvals

    w = worlds()
    line_id = w.open_line()
    w.draw(line_id, "100000")
    with w.uow() as uow:
        out = monitoring.monitor(uow, w.risk, Features({USCC: {"drop": 0.4}}), FakeWarningRules(),
                                 as_of=w.today - timedelta(days=1), now=w.now)  # fmt: skip
        uow.commit()
    (alert,) = out.raised
    with w.uow() as uow:
        req = monitoring.request_call_in(uow, w.officer, alert.alert_id, reason="合同第12条",
                                         now=w.now)  # fmt: skip
        approvals.approve(uow, w.risk, req.request_id, now=w.now)
        uow.commit()
    day = w.business_date()
    with w.uow() as uow:
        (loan,) = uow.loans.find(line_id=line_id)
        line = uow.lines.get(line_id)
    assert line is not None
    assert line.status is LineStatus.FROZEN
    assert all(i.due_on <= day for i in loan.instalments)
    assert loan.amount_due(day) == Money.parse("100000")  # drawn that day: no interest yet
    w.close_days_until(day + timedelta(days=2))
    with w.uow() as uow:
        closed = uow.book.loan_day(loan.loan_id, day + timedelta(days=1))
    assert closed is not None
    assert closed.dpd == 1


def test_contacts_are_stored_encrypted_and_come_back(worlds: Worlds) -> None:
    """A registered mobile and e-mail are not in the table as text, come back equal, and a second
    active contact on the same mobile is refused by the store."""
    from sqlalchemy import text

    from loomcredit.domain.contacts import ContactRole
    from loomcredit.service_layer import contacts
    from loomcredit.service_layer.errors import ConcurrentChangeError

    w = worlds()
    with w.uow() as uow:
        made = contacts.register_contact(uow, w.officer, uscc=USCC, name="王芳",
                                         role=ContactRole.FINANCE, phone="13800138000",
                                         email="wang@example.com", now=w.now)  # fmt: skip
        uow.commit()
    with w.uow() as uow:
        assert contacts.contacts_of(uow, w.officer, USCC) == [made]
        conn = uow._tx.conn  # type: ignore[attr-defined]
        raw = str(dict(conn.execute(text("SELECT * FROM contacts")).mappings().one()))
        assert "13800138000" not in raw
        assert "wang@" not in raw
    with w.uow() as uow, pytest.raises(ConcurrentChangeError):
        contacts.register_contact(uow, w.officer, uscc=USCC, name="又一个",
                                  role=ContactRole.OTHER, phone="13800138000", email=None,
                                  now=w.now)  # fmt: skip
