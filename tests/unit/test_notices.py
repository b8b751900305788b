"""Notices (还款提醒与逾期通知) on the fakes: a scripted loan gets exactly the expected notices,
re-running end of day queues nothing twice, delivery retries with back-off and never twice, and
the credit-bureau pre-notice gates negative reporting (征信业管理条例 第十五条)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from tests.fakes import FakeInbox, FakeNotifier, FakeStore
from tests.world import USCC, World

from loomcredit.adapters.notice_policy_file import load_notice_policy, parse_notice_policy
from loomcredit.domain.contacts import Channel, ContactRole
from loomcredit.domain.errors import PolicyViolation
from loomcredit.domain.money import Money
from loomcredit.domain.notices import (
    DeliveryStatus,
    DueLine,
    Notice,
    NoticeFacts,
    may_report_negative,
    notices_due,
    render,
    yuan,
)
from loomcredit.domain.payments import loan_reference
from loomcredit.service_layer import contacts, notifications
from loomcredit.service_layer.users import AccessDeniedError, Role, User

POLICY = load_notice_policy()
START = date(2026, 3, 2)  # the world's first day: instalments fall due on the 2nd
D = date.fromisoformat


def world() -> tuple[World, FakeStore]:
    store = FakeStore()
    return World(make_uow=store.uow, notice_policy=POLICY), store


def kinds(store: FakeStore, channel: Channel = Channel.INBOX) -> list[tuple[int, str, date]]:
    """(instalment, kind, date queued for) of one channel's rows, in queueing order."""
    rows = sorted(store.state.notices.values(), key=lambda d: d.delivery_id)
    return [(d.installment, d.kind, d.created_for) for d in rows if d.channel is channel]


class TestScriptedLoan:
    def test_never_paid_gets_every_notice_on_its_day(self) -> None:
        """Unpaid from the first due date (2026-04-02): T−7, T−3, T−1, due day, D1, D3, D7,
        then every 7 days, the second instalment's reminders, and the bureau pre-notice at DPD
        30 (2026-05-02), each on its own day and once."""
        w, store = world()
        w.draw(w.open_line("300000"), "120000")
        w.close_days_until(D("2026-05-03"))
        assert kinds(store) == [
            (1, "T-7", D("2026-03-26")),
            (1, "T-3", D("2026-03-30")),
            (1, "T-1", D("2026-04-01")),
            (1, "DUE", D("2026-04-02")),
            (1, "D1", D("2026-04-03")),
            (1, "D3", D("2026-04-05")),
            (1, "D7", D("2026-04-09")),
            (1, "D14", D("2026-04-16")),
            (1, "D21", D("2026-04-23")),
            (2, "T-7", D("2026-04-25")),
            (2, "T-3", D("2026-04-29")),
            (1, "D28", D("2026-04-30")),
            (2, "T-1", D("2026-05-01")),
            (2, "DUE", D("2026-05-02")),
            (1, "BUREAU", D("2026-05-02")),
        ]

    def test_paid_on_the_due_date_gets_no_due_day_or_overdue_notice(self) -> None:
        """Auto-debit paid on the due date: only the three pre-due reminders."""
        w, store = world()
        w.draw(w.open_line("300000"), "120000")
        w.close_days_until(D("2026-04-02"))
        assert len(w.auto_debit().paid) == 1
        w.close_days_until(D("2026-04-20"))
        assert [k for _, k, _ in kinds(store)] == ["T-7", "T-3", "T-1"]

    def test_paid_after_d3_gets_no_d7(self) -> None:
        """Paid in full on 2026-04-06, the day after D3 (the last close left DPD 3): D1 and D3
        went, D7 never does."""
        w, store = world()
        loan_id = w.draw(w.open_line("300000"), "120000")
        w.close_days_until(D("2026-04-06"))
        due = w.loan(loan_id).amount_due(w.today)
        w.statement(w.credit("B-LATE", due.amount_str(), memo=loan_reference(loan_id)))
        assert w.loan(loan_id).dpd == 3
        w.close_days_until(D("2026-04-20"))
        assert w.loan(loan_id).instalments[0].is_settled
        assert [k for _, k, _ in kinds(store)] == ["T-7", "T-3", "T-1", "DUE", "D1", "D3"]

    def test_each_contact_channel_and_the_inbox_get_a_row(self) -> None:
        """A contact with mobile and e-mail: each notice goes to the inbox, the e-mail and the
        mobile; a retired contact gets nothing."""
        w, store = world()
        w.draw(w.open_line("300000"), "120000")
        with w.uow() as uow:
            contacts.register_contact(uow, w.officer, uscc=USCC, name="王芳",
                                      role=ContactRole.FINANCE, phone="13800138000",
                                      email="wang@example.com", now=w.now)  # fmt: skip
            old = contacts.register_contact(uow, w.officer, uscc=USCC, name="李强",
                                            role=ContactRole.LEGAL_REP, phone="13900139000",
                                            email=None, now=w.now)  # fmt: skip
            contacts.retire_contact(uow, w.officer, old.contact_id, w.now)
            uow.commit()
        w.close_days_until(D("2026-03-27"))
        rows = sorted(store.state.notices.values(), key=lambda d: d.delivery_id)
        assert [(d.kind, d.channel, d.address) for d in rows] == [
            ("T-7", Channel.INBOX, USCC),
            ("T-7", Channel.EMAIL, "wang@example.com"),
            ("T-7", Channel.SMS, "13800138000"),
        ]

    def test_rerunning_end_of_day_queues_nothing_twice(self) -> None:
        """End of day for a date that ran, and the queueing step again for that date, add
        nothing."""
        w, store = world()
        w.draw(w.open_line("300000"), "120000")
        w.close_days_until(D("2026-04-04"))
        before = dict(store.state.notices)
        with w.uow() as uow:
            again = notifications.queue_notices(uow, D("2026-04-03"), policy=POLICY, now=w.now)
            rerun = notifications.queue_notices(uow, D("2026-03-26"), policy=POLICY, now=w.now)
            uow.commit()
        assert (again, rerun) == (0, 0)
        assert store.state.notices == before


def facts(dpd: int, unpaid: tuple[DueLine, ...]) -> NoticeFacts:
    return NoticeFacts(7, USCC, dpd, unpaid, Money(100_000), Money(2_345), Money(67),
                       "6222000011112222")  # fmt: skip


class TestDomain:
    def test_overdue_kinds_follow_the_policy(self) -> None:
        """D1, D3, D7, then every 7 days; nothing in between."""
        got = {dpd: POLICY.overdue_kind(dpd) for dpd in range(0, 30)}
        assert {k: v for k, v in got.items() if v} == {
            1: "D1", 3: "D3", 7: "D7", 14: "D14", 21: "D21", 28: "D28"
        }  # fmt: skip

    def test_overdue_notice_asks_for_everything_overdue(self) -> None:
        """The D3 notice names the earliest unpaid instalment and sums principal 1,000.00,
        interest 23.45 and penalty 0.67 = 1,024.12 元."""
        on = D("2026-04-05")
        line = DueLine(1, D("2026-04-02"), Money(100_000), Money(2_345))
        (n,) = notices_due(facts(3, (line,)), on, POLICY)
        assert (n.kind, n.installment, n.amount) == ("D3", 1, Money(102_412))
        subject, body = render(n, POLICY, language="zh-CN")
        assert "逾期3天" in subject
        assert "1,024.12元" in body
        assert "本金1,000.00元" in body
        assert "罚息及复利0.67元" in body
        assert POLICY.bank_account in body
        assert "****2222" in body

    def test_english_is_available(self) -> None:
        """The same notice in English."""
        n = Notice(7, USCC, 2, "T-3", D("2026-04-29"), D("2026-05-02"), Money(990_001),
                   Money(45_000), Money(0), 0, "6222000011112222", POLICY.version)  # fmt: skip
        subject, body = render(n, POLICY, language="en")
        assert subject == "Repayment reminder: loan LN00000007 instalment 2 due 2026-05-02"
        assert "CNY 10,350.01" in body
        assert "(in 3 days)" in body

    def test_yuan_is_exact_from_fen(self) -> None:
        """Fen to 元 with two decimals, no float on the way."""
        assert [yuan(Money(m)) for m in (0, 5, 100, 123_456_789_012)] == [
            "0.00", "0.05", "1.00", "1,234,567,890.12"
        ]  # fmt: skip

    def test_bureau_pre_notice_from_the_policy_dpd(self) -> None:
        """No pre-notice at DPD 29, one at 30 (and on later days; the store keeps it once)."""
        line = DueLine(1, D("2026-04-02"), Money(100_000), Money(0))
        at = {dpd: [n.kind for n in notices_due(facts(dpd, (line,)), D("2026-04-02")
                                                + timedelta(days=dpd), POLICY)]
              for dpd in (29, 30, 31, 35)}  # fmt: skip
        assert at == {29: [], 30: ["BUREAU"], 31: ["BUREAU"], 35: ["D35", "BUREAU"]}

    def test_may_report_only_after_the_wait(self) -> None:
        """Never without a delivered pre-notice; 15 days after its delivery, not 14."""
        sent = D("2026-05-02")
        assert not may_report_negative(None, D("2026-12-31"), POLICY)
        assert not may_report_negative(sent, sent + timedelta(days=14), POLICY)
        assert may_report_negative(sent, sent + timedelta(days=15), POLICY)

    def test_a_template_with_an_unknown_field_is_refused(self) -> None:
        """A misspelt placeholder is refused when the file loads, naming the template."""
        from loomcredit.adapters.policy_file import DATA

        text = (DATA / "keqiao_notices.yaml").read_text("utf-8")
        bad = text.replace("{days_left}天后", "{days_to_go}天后")
        with pytest.raises(PolicyViolation, match=r"templates\.pre_due\.zh-CN"):
            parse_notice_policy(bad)


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 4, 3, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.at


def queued_world() -> tuple[World, FakeStore]:
    """A loan with one contact (mobile and e-mail) and its T−7 reminder queued."""
    w, store = world()
    w.draw(w.open_line("300000"), "120000")
    with w.uow() as uow:
        contacts.register_contact(uow, w.officer, uscc=USCC, name="王芳", role=ContactRole.FINANCE,
                                  phone="13800138000", email="wang@example.com",
                                  now=w.now)  # fmt: skip
        uow.commit()
    w.close_days_until(D("2026-03-27"))
    return w, store


class TestDelivery:
    def test_failures_are_retried_with_back_off_and_delivered_once(self) -> None:
        """SMS fails twice: retried 60 s then 120 s later, delivered on the third attempt, and
        sent once; e-mail and inbox are delivered at the first."""
        _, store = queued_world()
        clock = Clock()
        calls = {"n": 0}

        def flaky(_m: object) -> str | None:
            calls["n"] += 1
            return "gateway 503" if calls["n"] <= 2 else None

        sms = FakeNotifier(Channel.SMS, fail=flaky)
        email = FakeNotifier(Channel.EMAIL)
        notifiers = {Channel.SMS: sms, Channel.EMAIL: email,
                     Channel.INBOX: FakeInbox(store, clock)}  # fmt: skip
        first = notifications.deliver(store.uow, notifiers, clock, policy=POLICY)
        assert (first.delivered, first.retrying, first.failed) == (2, 1, 0)
        (row,) = [d for d in store.state.notices.values() if d.channel is Channel.SMS]
        assert row.next_attempt_at == clock.at + timedelta(seconds=60)
        assert row.last_error == "gateway 503"
        assert notifications.deliver(store.uow, notifiers, clock, policy=POLICY).claimed == 0
        clock.at += timedelta(seconds=60)
        second = notifications.deliver(store.uow, notifiers, clock, policy=POLICY)
        assert (second.delivered, second.retrying) == (0, 1)
        (row,) = [d for d in store.state.notices.values() if d.channel is Channel.SMS]
        assert row.next_attempt_at == clock.at + timedelta(seconds=120)
        clock.at += timedelta(seconds=120)
        third = notifications.deliver(store.uow, notifiers, clock, policy=POLICY)
        assert third.delivered == 1
        (row,) = [d for d in store.state.notices.values() if d.channel is Channel.SMS]
        assert (row.status, row.attempts, row.delivered_at) == (
            DeliveryStatus.DELIVERED, 3, clock.at
        )  # fmt: skip
        assert [m.key for m in sms.sent] == [row.key]
        assert len(email.sent) == 1
        assert notifications.deliver(store.uow, notifiers, clock, policy=POLICY).claimed == 0

    def test_failed_after_the_last_attempt_with_the_reason(self) -> None:
        """A gateway that always fails: failed after max_attempts (5), the reason kept."""
        _, store = queued_world()
        clock = Clock()
        sms = FakeNotifier(Channel.SMS, fail=lambda _m: "HTTP 500")
        notifiers = {Channel.SMS: sms, Channel.EMAIL: FakeNotifier(Channel.EMAIL),
                     Channel.INBOX: FakeInbox(store, clock)}  # fmt: skip
        for _ in range(POLICY.max_attempts):
            notifications.deliver(store.uow, notifiers, clock, policy=POLICY)
            clock.at += timedelta(seconds=POLICY.backoff_max_s)
        (row,) = [d for d in store.state.notices.values() if d.channel is Channel.SMS]
        assert (row.status, row.attempts, row.last_error) == (
            DeliveryStatus.FAILED, 5, "HTTP 500"
        )  # fmt: skip
        assert notifications.deliver(store.uow, notifiers, clock, policy=POLICY).claimed == 0

    def test_a_channel_without_a_notifier_fails_at_once_and_says_why(self) -> None:
        """Only the inbox configured (the embedded default): e-mail and SMS fail with the
        reason, the inbox is delivered."""
        _, store = queued_world()
        clock = Clock()
        run = notifications.deliver(store.uow, {Channel.INBOX: FakeInbox(store, clock)}, clock,
                                    policy=POLICY)  # fmt: skip
        assert (run.delivered, run.failed) == (1, 2)
        assert run.channels_missing == {Channel.EMAIL, Channel.SMS}
        reasons = sorted(d.last_error for d in store.state.notices.values() if d.last_error)
        assert reasons == ["no email notifier configured", "no sms notifier configured"]

    def test_an_expired_lease_is_retried_with_the_same_key(self) -> None:
        """A run that claimed and died: after the lease another run sends it again, with the
        same idempotency key (what a receiver drops a repeat by)."""
        _, store = queued_world()
        clock = Clock()
        with store.uow() as uow:
            (dead,) = [d for d in uow.notices.claim(clock.at, clock.at + timedelta(seconds=300),
                                                    "dead-run", 10)
                       if d.channel is Channel.SMS]  # fmt: skip
            uow.commit()
        sms = FakeNotifier(Channel.SMS)
        notifiers = {Channel.SMS: sms, Channel.EMAIL: FakeNotifier(Channel.EMAIL),
                     Channel.INBOX: FakeInbox(store, clock)}  # fmt: skip
        assert notifications.deliver(store.uow, notifiers, clock, policy=POLICY).claimed == 0
        clock.at += timedelta(seconds=300)
        run = notifications.deliver(store.uow, notifiers, clock, policy=POLICY)
        assert run.delivered == 3
        assert [m.key for m in sms.sent] == [dead.key]

    def test_the_bureau_rule_reads_the_pre_notice_delivery(self) -> None:
        """The loan may be reported 15 days after its pre-notice was delivered, not before,
        and never while it is undelivered."""
        w, store = world()
        loan_id = w.draw(w.open_line("300000"), "120000")
        w.close_days_until(D("2026-05-03"))
        with store.uow() as uow:
            assert not notifications.may_report(uow, loan_id, D("2026-06-30"), POLICY)
        clock = Clock()
        clock.at = datetime(2026, 5, 3, 9, 0, tzinfo=UTC)
        notifications.deliver(store.uow, {Channel.INBOX: FakeInbox(store, clock)}, clock,
                              policy=POLICY)  # fmt: skip
        with store.uow() as uow:
            assert not notifications.may_report(uow, loan_id, D("2026-05-17"), POLICY)
            assert notifications.may_report(uow, loan_id, D("2026-05-18"), POLICY)


class TestAccess:
    def test_an_applicant_reads_only_its_own_inbox(self) -> None:
        """The borrower sees its inbox; another enterprise is refused."""
        _, store = queued_world()
        clock = Clock()
        notifications.deliver(store.uow, {Channel.INBOX: FakeInbox(store, clock)}, clock,
                              policy=POLICY)  # fmt: skip
        with store.uow() as uow:
            mine = notifications.inbox(uow, User("firm", Role.APPLICANT, USCC))
            assert [m.subject for m in mine] == [
                "【还款提醒】贷款LN00000001第1期将于2026-04-02到期"
            ]
            with pytest.raises(AccessDeniedError):
                notifications.inbox(uow, User("firm", Role.APPLICANT, USCC), "X" * 18)

    def test_only_operations_may_send(self) -> None:
        """A collector may read the outbox but not run delivery."""
        _, store = queued_world()
        with pytest.raises(AccessDeniedError):
            notifications.deliver_as(User("c", Role.COLLECTOR), store.uow, {}, Clock(),
                                     policy=POLICY)  # fmt: skip
        with store.uow() as uow:
            assert len(notifications.list_notices(uow, User("c", Role.COLLECTOR))) == 3
