"""Collection cases: the domain rules with hand-made numbers, the conduct rules, and the scripted
three-borrower book (``tests/collections_book.py``) through end of day on the fakes."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from tests.collections_book import RM, RM2, Book, build, china
from tests.world import World

from loomcredit.adapters.collections_policy_file import load_collections_policy
from loomcredit.domain.approval import ApprovalStatus, LegalActionOrder
from loomcredit.domain.collection_policy import DEFAULT_POLICY, CaseBucket
from loomcredit.domain.collections import (
    Arrears,
    CaseError,
    CaseStatus,
    CloseReason,
    LoanArrears,
    Outcome,
    Promise,
    PromiseStatus,
)
from loomcredit.domain.conduct import ActivityKind, ContactAttempt, check_contact
from loomcredit.domain.contacts import Contact, ContactRole
from loomcredit.domain.errors import FourEyesViolation
from loomcredit.domain.money import Money
from loomcredit.service_layer import approvals, case_work, collections
from loomcredit.service_layer.users import AccessDeniedError, Role, User

M = Money.parse
USCC = "91330603MA2B000000"  # only its region (330603) matters to these rules
CONDUCT = DEFAULT_POLICY.conduct


def _half_up(value: Fraction) -> int:
    return int(value + Fraction(1, 2)) if value >= 0 else -int(-value + Fraction(1, 2))


class TestPolicy:
    def test_the_shipped_file_is_the_default_policy(self) -> None:
        """keqiao_collections.yaml parses to exactly DEFAULT_POLICY (the two never drift)."""
        assert load_collections_policy() == DEFAULT_POLICY

    def test_a_bad_policy_file_is_refused_naming_the_field(self) -> None:
        """A daily limit of 0 and an end before the start are refused with the field named."""
        from loomcredit.adapters.collections_policy_file import SHIPPED, parse_collections_policy
        from loomcredit.adapters.policy_file import DATA
        from loomcredit.domain.errors import PolicyViolation

        text = (DATA / SHIPPED).read_text("utf-8")
        with pytest.raises(PolicyViolation, match=r"conduct\.daily_limit"):
            parse_collections_policy(text.replace("daily_limit: 3", "daily_limit: 0"))
        with pytest.raises(PolicyViolation, match="not before end"):
            parse_collections_policy(text.replace('end: "21:00"', 'end: "07:00"'))

    def test_buckets_follow_dpd(self) -> None:
        """M1 1–30, M2 31–60, M3 61–90, M3+ over 90."""
        got = [CaseBucket.of_dpd(d) for d in (1, 30, 31, 60, 61, 90, 91, 400)]
        assert [b.value for b in got] == ["M1", "M1", "M2", "M2", "M3", "M3", "M3+", "M3+"]

    def test_cluster_cash_in_months_are_march_june_september_october(self) -> None:
        """Busy (≥ 1.1) or recovering (+0.2 on the month before) months."""
        assert DEFAULT_POLICY.cash_in(None) == frozenset({3, 6, 9, 10})


class TestArrears:
    def test_penalty_is_apportioned_to_compound_by_overdue_interest(self) -> None:
        """¥900 principal and ¥100 interest overdue with ¥10.01 unpaid penalty: compound is
        10.01 × 100/1000 = 1.001 → ¥1.00 (down), penalty ¥9.01; two loans sum, worst DPD."""
        one = LoanArrears(1, USCC, 12, M("900"), M("100"), M("10.01"), M("50000"))
        two = LoanArrears(2, USCC, 40, M("0"), M("0"), M("0"), M("20000"))
        a = Arrears.of([one, two])
        assert (a.dpd, a.bucket) == (40, CaseBucket.M2)
        assert (a.principal, a.interest, a.penalty, a.compound) == (
            M("900"),
            M("100"),
            M("9.01"),
            M("1.00"),
        )
        assert a.exposure == M("70000") + M("100") + M("10.01")
        assert a.loan_ids == (1, 2)


class TestPromise:
    @pytest.mark.parametrize(
        ("settled", "status"),
        [
            ("5000", PromiseStatus.KEPT),
            ("6000", PromiseStatus.KEPT),
            ("4999.99", PromiseStatus.PARTLY_KEPT),
            ("0", PromiseStatus.BROKEN),
        ],
    )
    def test_a_promise_is_judged_on_the_money_settled(
        self, settled: str, status: PromiseStatus
    ) -> None:
        """All of it kept, some of it partly kept, none broken."""
        p = Promise(1, date(2026, 4, 6), date(2026, 4, 10), M("5000"), "c1")
        p.evaluate(M(settled), date(2026, 4, 10))
        assert (p.status, p.settled, p.evaluated_on) == (status, M(settled), date(2026, 4, 10))


def _contact(cid: int, *, retired: date | None = None, uscc: str = USCC) -> Contact:
    c = Contact(
        cid,
        uscc,
        "王芳",
        ContactRole.FINANCE,
        "13800138000",
        None,
        date(2026, 1, 1),
        "off",
        retired,
    )
    return c


def _check(
    at: datetime,
    *,
    contact_id: int | None = 1,
    kind: ActivityKind = ActivityKind.CALL,
    earlier: tuple[datetime, ...] = (),
    dispute: bool = False,
    contacts: tuple[Contact, ...] | None = None,
) -> str | None:
    refusal = check_contact(
        CONDUCT,
        ContactAttempt(USCC, kind, contact_id, at),
        contacts=contacts if contacts is not None else (_contact(1),),
        earlier=earlier,
        dispute_open=dispute,
    )
    return None if refusal is None else refusal.rule


DAY = date(2026, 4, 6)


class TestConductRules:
    def test_contact_hours_are_judged_in_china_time(self) -> None:
        """08:00 and 20:59 China time allowed; 07:59 and 21:05 refused (contact_hours), even
        when the UTC clock says 23:59 or 13:05 of a daytime."""
        assert _check(china(DAY, 8, 0)) is None
        assert _check(china(DAY, 20, 59)) is None
        assert _check(china(DAY, 7, 59)) == "contact_hours"
        assert _check(china(DAY, 21, 5)) == "contact_hours"
        assert _check(datetime(2026, 4, 6, 13, 5, tzinfo=UTC)) == "contact_hours"  # 21:05 CST

    def test_the_n_plus_first_contact_of_a_china_day_is_refused(self) -> None:
        """Three contacts on 6 April (China time) allow no fourth that day; one the evening
        before does not count."""
        three = (china(DAY, 9), china(DAY, 11), china(DAY, 15))
        assert _check(china(DAY, 16), earlier=three[:2]) is None
        assert _check(china(DAY, 16), earlier=three) == "daily_limit"
        before = (china(DAY - timedelta(days=1), 20), *three[:2])
        assert _check(china(DAY, 16), earlier=before) is None

    def test_only_registered_active_contacts_may_be_called(self) -> None:
        """Another borrower's contact, an unknown id, a retired contact and a contact
        registered later are refused; a visit to the borrower itself is allowed, a call with no
        contact is not."""
        other = _contact(2, uscc="91330603MA2B111111")
        retired = _contact(3, retired=DAY)
        later = Contact(
            4,
            USCC,
            "李",
            ContactRole.LEGAL_REP,
            "13900139000",
            None,
            DAY + timedelta(days=1),
            "off",
        )
        contacts = (_contact(1), other, retired, later)
        at = china(DAY, 10)
        assert _check(at, contact_id=1, contacts=contacts) is None
        for cid in (2, 3, 4, 99):
            assert _check(at, contact_id=cid, contacts=contacts) == "registered_contact"
        assert _check(at, contact_id=None, kind=ActivityKind.VISIT, contacts=contacts) is None
        assert _check(at, contact_id=None, kind=ActivityKind.CALL) == "registered_contact"

    def test_no_contact_while_a_dispute_is_open(self) -> None:
        """An open dispute refuses every attempt, within hours and to a registered contact."""
        assert _check(china(DAY, 10), dispute=True) == "open_dispute"

    def test_a_refusal_carries_chinese_and_english(self) -> None:
        """The refusal names the rule and says why in both languages."""
        refusal = check_contact(
            CONDUCT,
            ContactAttempt(USCC, ActivityKind.CALL, 1, china(DAY, 21, 5)),
            contacts=(_contact(1),),
            earlier=(),
            dispute_open=False,
        )
        assert refusal is not None
        assert "21:05" in refusal.message_zh
        assert "21:05" in refusal.message_en


# -- the scripted book --------------------------------------------------------------------------
NIGHT = 45_000 * 150  # 4.5 % contract rate × (1 + 50 % penalty uplift), ppm × percent


def _penalty_fen(nights: list[int]) -> int:
    """Penalty + compound interest in fen for nights with these overdue bases (fen): each
    night base × rate × 1.5 / 360 in 1e-8 fen truncated, the sum rounded half up once."""
    e8 = sum(base * NIGHT // 360 for base in nights)
    return _half_up(Fraction(e8, 100_000_000))


def _priority(exposure_fen: int, *weights: str) -> int:
    """PD 0.02 (the fake decider's) × exposure × LGD 0.45 × weights, half up."""
    value = Fraction(2, 100) * exposure_fen * Fraction(45, 100)
    for w in weights:
        value *= Fraction(w)
    return _half_up(value)


@pytest.fixture(scope="module")
def book() -> Book:
    """The book run to 2026-07-03 (end of day up to 07-02), with the work of the story."""
    b = build(World())
    w = b.w
    b.promises_of_april_6()
    w.close_days_until(date(2026, 4, 9))
    b.paid_a = b.pay_due("a")  # type: ignore[attr-defined]
    w.close_days_until(date(2026, 4, 11))
    with w.uow() as uow:
        b.c_on_0410 = uow.cases.find(uscc=b.usccs["c"])[0]  # type: ignore[attr-defined]
    w.close_days_until(date(2026, 4, 20))
    b.pay_due("c")
    w.close_days_until(date(2026, 5, 2))
    b.pay_due("a"), b.pay_due("c")  # a and c pay the next instalments on their due dates
    w.close_days_until(date(2026, 5, 4))
    with w.uow() as uow:
        b.b_on_0503 = uow.cases.find(uscc=b.usccs["b"])[0]  # type: ignore[attr-defined]
    for due in (date(2026, 6, 2), date(2026, 7, 2)):
        w.close_days_until(due)
        b.pay_due("a"), b.pay_due("c")
    w.close_days_until(date(2026, 7, 3))
    return b


@pytest.fixture(scope="module")
def rolled_book() -> Book:
    """The three borrowers, nobody paying, after end of day up to 07-02 (b and the others at
    M3+)."""
    b = build(World())
    b.w.close_days_until(date(2026, 7, 3))
    return b


@pytest.fixture
def rolled(rolled_book: Book) -> Book:
    """A copy of the rolled book of its own (the fake store copied)."""
    return copy.deepcopy(rolled_book)


class TestScriptedBook:
    def test_each_borrower_has_exactly_one_case(self, book: Book) -> None:
        """Three cases, opened on 04-03 (DPD 1); a and c cured on the day they paid (04-09,
        04-20); b still open at M3+ with DPD 91 after end of day on 07-02."""
        a, b, c = (book.case(x) for x in "abc")
        assert {x.opened_on for x in (a, b, c)} == {date(2026, 4, 3)}
        assert (a.status, a.close_reason, a.closed_on) == (
            CaseStatus.CLOSED,
            CloseReason.CURED,
            date(2026, 4, 9),
        )
        assert (c.status, c.close_reason, c.closed_on) == (
            CaseStatus.CLOSED,
            CloseReason.CURED,
            date(2026, 4, 20),
        )
        assert (b.status, b.bucket, b.dpd) == (CaseStatus.OPEN, CaseBucket.M3_PLUS, 91)

    def test_bucket_moves_of_the_roller(self, book: Book) -> None:
        """b: opened M1 on 04-03, M2 on 05-03 (DPD 31), M3 on 06-02 (61), M3+ on 07-02 (91)."""
        moves = [(m.on, m.from_bucket, m.to_bucket, m.dpd) for m in book.case("b").moves]
        assert moves == [
            (date(2026, 4, 3), None, CaseBucket.M1, 1),
            (date(2026, 5, 3), CaseBucket.M1, CaseBucket.M2, 31),
            (date(2026, 6, 2), CaseBucket.M2, CaseBucket.M3, 61),
            (date(2026, 7, 2), CaseBucket.M3, CaseBucket.M3_PLUS, 91),
        ]
        assert [m.to_bucket for m in book.case("a").moves] == [CaseBucket.M1]

    def test_assignment_by_queue_and_load(self, book: Book) -> None:
        """Keqiao M1 cases go to keqiao-early's collector1 / collector2, least-loaded first in
        USCC order (1, 2, then 1 again on a tie); b's move to M3 puts it in the late queue with
        collector4 (both late collectors idle, by name)."""
        order = sorted("abc", key=lambda x: book.usccs[x])
        first = dict(zip(order, ("collector1", "collector2", "collector1"), strict=True))
        assert book.case("a").collector == first["a"]
        assert book.case("c").collector == first["c"]
        assert book.b_on_0503.collector == first["b"]  # type: ignore[attr-defined]
        assert book.case("b").collector == "collector4"

    def test_promises_kept_and_broken(self, book: Book) -> None:
        """a promised ¥10,000 by 04-10 and paid everything due on 04-09 (more than promised):
        kept, judged when its case closed that day; c promised ¥5,000 and paid nothing by
        04-10: broken, judged at end of day on 04-10."""
        (pa,), (pc,) = book.case("a").promises, book.case("c").promises
        assert (pa.status, pa.settled, pa.evaluated_on) == (
            PromiseStatus.KEPT,
            book.paid_a,
            date(2026, 4, 9),
        )  # type: ignore[attr-defined]
        assert (pc.status, pc.settled, pc.evaluated_on) == (
            PromiseStatus.BROKEN,
            M("0"),
            date(2026, 4, 10),
        )

    def test_a_broken_promise_doubles_the_priority(self, book: Book) -> None:
        """c on 04-10: 8 nights of penalty on instalment 1, exposure = ¥120,000 principal +
        instalment 1's interest + penalty; priority = 0.02 × exposure × 0.45 × 2 (broken; May
        is not a cash-in month); the queue shows it."""
        first = book.w.loan(book.loans["c"]).instalments[0]
        base = first.principal.minor + first.interest.minor
        exposure = 12_000_000 + first.interest.minor + _penalty_fen([base] * 8)
        c = book.c_on_0410  # type: ignore[attr-defined]
        assert c.exposure.minor == exposure
        assert c.broken_promise
        assert c.priority_fen == _priority(exposure, "2")

    def test_the_coming_cash_in_month_weights_the_priority(self, book: Book) -> None:
        """b on 05-03 (M2): June is a cash-in month, so × 1.5; overdue principal and interest
        are instalments 1–2, penalty 30 nights on instalment 1 (04-03…05-02) and 1 night on
        both (05-03), split to compound by the interest share."""
        i1, i2 = book.w.loan(book.loans["b"]).instalments[:2]
        p, i = i1.principal.minor + i2.principal.minor, i1.interest.minor + i2.interest.minor
        penalty = _penalty_fen([i1.principal.minor + i1.interest.minor] * 30 + [p + i])
        compound = penalty * i // (p + i)
        b = book.b_on_0503  # type: ignore[attr-defined]
        assert (b.principal.minor, b.interest.minor) == (p, i)
        assert (b.penalty.minor, b.compound.minor) == (penalty - compound, compound)
        exposure = 12_000_000 + i + penalty
        assert b.exposure.minor == exposure
        assert b.priority_fen == _priority(exposure, "1.5")

    def test_the_queue_is_by_priority_and_shows_only_open_cases(self, book: Book) -> None:
        """Only b is open; filtering by another bucket or collector leaves nothing."""
        with book.w.uow() as uow:
            assert [c.uscc for c in collections.queue(uow, RM)] == [book.usccs["b"]]
            assert collections.queue(uow, RM, bucket=CaseBucket.M1) == []
            assert collections.queue(uow, RM, collector="collector1") == []

    def test_rerunning_a_day_changes_nothing(self, book: Book) -> None:
        """update_cases for 07-02 again leaves every case as it was."""
        with book.w.uow() as uow:
            before = uow.cases.find(open_only=False)
            out = collections.update_cases(uow, date(2026, 7, 2))
            after = uow.cases.find(open_only=False)
        assert (out.opened, out.moved, out.closed, out.promises_judged) == (0, 0, 0, 0)
        assert [(c.case_id, c.dpd, c.priority_fen, c.moves, c.promises) for c in after] == [
            (c.case_id, c.dpd, c.priority_fen, c.moves, c.promises) for c in before
        ]

    def test_figures_of_april(self, book: Book) -> None:
        """April: promises a (kept) and c (broken) → kept rate 0.5; 3 cases, 2 contacts → 0.6667
        contacts per case; cases per collector as assigned now."""
        with book.w.uow() as uow:
            f = collections.case_figures(uow, RM, date(2026, 4, 1), date(2026, 4, 1))
        assert (f.promises_judged, f.promises_kept, f.promises_broken) == (2, 1, 1)
        assert f.promise_kept_rate == Decimal("0.5000")
        assert (f.cases, f.contacts, f.contacts_per_case) == (3, 2, Decimal("0.6667"))
        assert sum(n for _, n in f.cases_per_collector) == 3

    def test_the_collection_report_carries_them(self, book: Book) -> None:
        """The report as of the end of April carries April's case figures beside the roll rates
        (its months start at the book's first day, in March: no promise fell due then)."""
        from fractions import Fraction

        from loomcredit.service_layer.collection_report import collection_report

        with book.w.uow() as uow:
            report = collection_report(uow, RM, as_of=date(2026, 4, 30), months=1)
            april = collections.case_figures(uow, RM, date(2026, 3, 1), date(2026, 4, 1))
        assert report.promise_kept_rate == Fraction(1, 2)
        assert report.contacts_per_case == Fraction(april.contacts, april.cases)
        assert report.cases_per_collector == april.cases_per_collector


class TestEscalation:
    def test_legal_action_needs_four_eyes_and_closes_the_case(self, rolled: Book) -> None:
        """From b's M3+ case the collector asks for legal action; neither the collector (no
        right) nor the requester may approve; another risk manager does: the case closes as
        legal on the business date and end of day opens no new case for b."""
        b = rolled
        case = b.case("b")
        collector = User(case.collector, Role.COLLECTOR)
        with b.w.uow() as uow:
            (req,) = case_work.escalate(
                uow,
                collector,
                case.case_id,
                to="legal",
                reason="M3+, no contact for 60 days",
                now=b.w.now,
            )
            uow.commit()
        assert req.order == LegalActionOrder(case.case_id, b.usccs["b"])
        assert b.case("b").escalation == "legal"
        with b.w.uow() as uow, pytest.raises(AccessDeniedError):
            approvals.approve(uow, collector, req.request_id, now=b.w.now)
        with b.w.uow() as uow:
            approvals.approve(uow, RM, req.request_id, now=b.w.now)
            uow.commit()
        done = b.case("b")
        assert (done.status, done.close_reason, done.closed_on) == (
            CaseStatus.CLOSED,
            CloseReason.LEGAL,
            date(2026, 7, 3),
        )
        with b.w.uow() as uow:
            assert uow.approvals.get(req.request_id).status is ApprovalStatus.APPROVED  # type: ignore[union-attr]
        b.w.close_days_until(date(2026, 7, 5))
        with b.w.uow() as uow:
            assert len(uow.cases.find(open_only=False, uscc=b.usccs["b"])) == 1

    def test_the_requester_cannot_approve_legal_action(self, rolled: Book) -> None:
        """A risk manager who asked is refused as approver (four eyes)."""
        b = rolled
        case = b.case("b")
        with b.w.uow() as uow:
            (req,) = case_work.escalate(
                uow, RM, case.case_id, to="legal", reason="M3+", now=b.w.now
            )
            with pytest.raises(FourEyesViolation):
                approvals.approve(uow, RM, req.request_id, now=b.w.now)
            approvals.approve(uow, RM2, req.request_id, now=b.w.now)

    def test_write_off_proposal_closes_the_case_as_written_off(self, rolled: Book) -> None:
        """A write-off proposal from the case is the write-off approval of its loan; approving
        it writes the loan off and closes the case as written off."""
        b = rolled
        case = b.case("b")
        with b.w.uow() as uow:
            (req,) = case_work.escalate(
                uow, RM, case.case_id, to="write_off", reason="M3+", now=b.w.now
            )
            approvals.approve(uow, RM2, req.request_id, now=b.w.now)
            uow.commit()
        done = b.case("b")
        assert (done.close_reason, done.closed_on) == (CloseReason.WRITTEN_OFF, date(2026, 7, 3))

    def test_an_m2_case_is_not_escalated(self) -> None:
        """Escalation is for M3+ cases only."""
        b = build(World())
        b.w.close_days_until(date(2026, 5, 4))
        case = b.case("b")
        with b.w.uow() as uow, pytest.raises(CaseError):
            case_work.escalate(uow, RM, case.case_id, to="legal", reason="x", now=b.w.now)


class TestContactService:
    def _open(self) -> Book:
        b = build(World())
        b.w.close_days_until(date(2026, 4, 6))
        return b

    def test_a_refused_attempt_is_refused_with_its_rule_and_audited(self) -> None:
        """A call at 21:05 China time raises with rule contact_hours; the case records no
        activity, the audit records the refusal with the real user."""
        b = self._open()
        with pytest.raises(case_work.ContactRefusedError) as err:
            b.contact("b", outcome=Outcome.NO_ANSWER, at=china(date(2026, 4, 6), 21, 5))
        assert err.value.refusal.rule == "contact_hours"
        assert b.case("b").activities == []
        with b.w.uow() as uow:
            last = list(uow.audit.records())[-1]
        assert (last.actor, last.action, last.subject) == (
            "rm",
            "collections.contact_refused",
            f"case:{b.case('b').case_id}",
        )

    def test_a_dispute_stops_contact_until_a_risk_manager_resolves_it(self) -> None:
        """A dispute outcome opens a dispute: the next call is refused (open_dispute); after a
        risk manager resolves it the call is allowed."""
        b = self._open()
        day = date(2026, 4, 6)
        b.contact("b", outcome=Outcome.DISPUTE, at=china(day, 9))
        with pytest.raises(case_work.ContactRefusedError) as err:
            b.contact("b", outcome=Outcome.REACHED, at=china(day, 10))
        assert err.value.refusal.rule == "open_dispute"
        with b.w.uow() as uow:
            case_work.resolve_dispute(
                uow, RM, b.case("b").case_id, note="账目已核对", now=china(day, 11)
            )
            uow.commit()
        b.contact("b", outcome=Outcome.REACHED, at=china(day, 12))
        assert [a.outcome for a in b.case("b").activities] == [Outcome.DISPUTE, Outcome.REACHED]

    def test_the_fourth_call_of_a_day_is_refused(self) -> None:
        """Three calls on one day are recorded; the fourth is refused (daily_limit)."""
        b = self._open()
        day = date(2026, 4, 6)
        for hh in (9, 10, 11):
            b.contact("b", outcome=Outcome.NO_ANSWER, at=china(day, hh))
        with pytest.raises(case_work.ContactRefusedError) as err:
            b.contact("b", outcome=Outcome.NO_ANSWER, at=china(day, 12))
        assert err.value.refusal.rule == "daily_limit"
        assert len(b.case("b").activities) == 3

    def test_only_the_assigned_collector_or_a_risk_manager_works_a_case(self) -> None:
        """Another collector is refused."""
        b = self._open()
        case = b.case("b")
        other = User("collector9", Role.COLLECTOR)
        with b.w.uow() as uow, pytest.raises(AccessDeniedError):
            case_work.record_contact(
                uow,
                other,
                case.case_id,
                kind=ActivityKind.CALL,
                outcome=Outcome.REACHED,
                contact_id=b.contacts["b"],
                now=china(date(2026, 4, 6), 10),
            )


class TestAssignment:
    def test_a_risk_manager_reassigns_to_an_active_collector_only(self, rolled: Book) -> None:
        """改派: to a stored collector it is done and audited; to a reviewer, an unknown name, or
        by a collector it is refused."""
        from loomcredit.service_layer.errors import InvalidRequestError
        from loomcredit.service_layer.users import UserAccount

        b = rolled
        case = b.case("b")
        with b.w.uow() as uow:
            for name, role in (("collector9", Role.COLLECTOR), ("rev9", Role.REVIEWER)):
                uow.users.add(UserAccount(name, role, None, "x", b.w.now))
            uow.commit()
        with b.w.uow() as uow:
            for to in ("rev9", "nobody"):
                with pytest.raises(InvalidRequestError):
                    case_work.assign(uow, RM, case.case_id, to=to, now=b.w.now)
            with pytest.raises(AccessDeniedError):
                case_work.assign(
                    uow,
                    User("collector4", Role.COLLECTOR),
                    case.case_id,
                    to="collector9",
                    now=b.w.now,
                )
            case_work.assign(uow, RM, case.case_id, to="collector9", now=b.w.now)
            uow.commit()
        assert b.case("b").collector == "collector9"
        with b.w.uow() as uow:
            last = list(uow.audit.records())[-1]
        assert last.action == "collections.assigned"
        assert "collector9" in str(last.detail)
