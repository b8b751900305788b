"""In-memory fakes of every port of the lending service (one per repository, the unit of work,
the decider, the bank core): the use cases run on them in milliseconds.

The fake store behaves like a database where the use cases can tell: a unit of work sees a copy
of the committed state, ``commit`` makes it the committed state, leaving without commit throws
it away; aggregates are copied in and out, so a change not saved is not stored; unique keys
raise :class:`DuplicateKey`; a line saved at a stale version raises :class:`StaleAggregate`.
End of day runs loan by loan through the domain (``close_day_by_domain``).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from loomcredit.domain.alerts import DEFAULT_POLICY, Alert, AlertLevel, AlertStatus, Evidence
from loomcredit.domain.application import Application, ApplicationStatus
from loomcredit.domain.approval import ApprovalKind, ApprovalRequest, ApprovalStatus
from loomcredit.domain.behaviour import (
    BehaviourPolicy,
    BehaviourScore,
    LoanDay,
    RepaymentFacts,
    behaviour_score,
    pd_jumped,
    repayment_history,
)
from loomcredit.domain.collection_figures import MonthEndState
from loomcredit.domain.collections import (
    CaseStatus,
    CloseReason,
    CollectionCase,
    LoanArrears,
)
from loomcredit.domain.contacts import Channel, Contact
from loomcredit.domain.credit_line import CreditLine
from loomcredit.domain.decision.bands import Band
from loomcredit.domain.decision.limits import LimitBuildUp
from loomcredit.domain.decision.outcome import CreditDecision, SuggestedPlan
from loomcredit.domain.decision.policy import ProductKind
from loomcredit.domain.end_of_day import DayClose, Reminder
from loomcredit.domain.errors import NotFound
from loomcredit.domain.follow_up import FollowUpPolicy, FollowUpTask, TaskStatus
from loomcredit.domain.ledger import Account, JournalEntry
from loomcredit.domain.limit_review import LimitReview
from loomcredit.domain.loan import DueSummary, Loan, LoanStatus, PlainRepayment
from loomcredit.domain.money import Money
from loomcredit.domain.notices import (
    DeliveryStatus,
    DueLine,
    NoticeFacts,
    OutboundMessage,
    SendResult,
)
from loomcredit.domain.payments import (
    DebitInstruction,
    DebitStatus,
    LineTotal,
    LoanAccount,
    PrepaymentRequest,
    PrepaymentStatus,
    Receipt,
    SettlementLine,
    StatementEntry,
    StatementImport,
    StatementLineStatus,
    credit_totals,
)
from loomcredit.domain.warning_policy import WarningAction
from loomcredit.service_layer import audit as audit_chain
from loomcredit.service_layer.audit import AuditDetail, AuditHead, AuditRecord
from loomcredit.service_layer.decisioning import DecisionRequest
from loomcredit.service_layer.intake import Batch, Taken
from loomcredit.service_layer.monitoring import WarningHit
from loomcredit.service_layer.unit_of_work import (
    AlertRepository,
    ApplicationRepository,
    ApprovalRepository,
    AuditLog,
    BookRepository,
    BorrowerProfile,
    CaseRepository,
    ContactRepository,
    CreditLineRepository,
    Delivery,
    DeliveryOutcome,
    DuplicateKey,
    EodCounts,
    FollowUpRepository,
    InboxMessage,
    LedgerRepository,
    LimitReviewRepository,
    LoanRepository,
    NoticeRepository,
    PaymentRepository,
    QueuedReminder,
    ReceiptInBucket,
    ReceiptRepository,
    Settlement,
    StaleAggregate,
    UnitOfWork,
    UserRepository,
)
from loomcredit.service_layer.users import UserAccount

AUDIT_KEY = b"k" * 32
#: The Keqiao cluster's month-of-year factors, January first (DOMAIN.md §11).
CLUSTER_FACTORS = (
    "0.7", "0.7", "1.0", "1.0", "1.0", "1.1", "0.9", "0.9", "1.2", "1.2", "1.0", "0.8"
)  # fmt: skip


@dataclass
class State:
    """Everything the fake store holds."""

    users: dict[str, UserAccount] = field(default_factory=dict)
    apps: dict[int, Application] = field(default_factory=dict)
    lines: dict[int, CreditLine] = field(default_factory=dict)
    loans: dict[int, Loan] = field(default_factory=dict)
    originals: dict[int, Loan] = field(default_factory=dict)
    receipts: dict[int, Receipt] = field(default_factory=dict)
    approvals: dict[int, ApprovalRequest] = field(default_factory=dict)
    alerts: dict[int, Alert] = field(default_factory=dict)
    reviews: dict[int, LimitReview] = field(default_factory=dict)
    contacts: dict[int, Contact] = field(default_factory=dict)
    tasks: dict[int, FollowUpTask] = field(default_factory=dict)
    notices: dict[int, Delivery] = field(default_factory=dict)
    leases: dict[int, tuple[str, datetime]] = field(default_factory=dict)
    inbox: dict[str, InboxMessage] = field(default_factory=dict)
    cases: dict[int, CollectionCase] = field(default_factory=dict)
    imports: dict[int, StatementImport] = field(default_factory=dict)
    statement: dict[int, StatementEntry] = field(default_factory=dict)
    instructions: dict[str, tuple[DebitInstruction, DebitStatus, str]] = field(default_factory=dict)
    prepayments: dict[int, PrepaymentRequest] = field(default_factory=dict)
    entries: dict[str, tuple[JournalEntry, int | None]] = field(default_factory=dict)
    eod_runs: dict[date, EodCounts | None] = field(default_factory=dict)
    loan_days: dict[tuple[int, date], DayClose] = field(default_factory=dict)
    outbox: dict[tuple[int, int, str], QueuedReminder] = field(default_factory=dict)
    audit: list[AuditRecord] = field(default_factory=list)
    head: AuditHead | None = None
    seq: dict[str, int] = field(default_factory=dict)

    def next_id(self, kind: str) -> int:
        self.seq[kind] = self.seq.get(kind, 0) + 1
        return self.seq[kind]


def _copy_state(state: State) -> State:
    """A deep copy of the state that shares the values that cannot change (frozen loan-days,
    reminders, audit records, journal entries, receipts, contacts): copying them again on every
    unit of work made long scripted books slow."""
    memo: dict[int, object] = {}
    frozen = (state.loan_days.values(), state.outbox.values(), state.audit,
              state.entries.values(), state.receipts.values(), state.contacts.values())  # fmt: skip
    for values in frozen:
        for value in values:
            memo[id(value)] = value
    return copy.deepcopy(state, memo)


class FakeStore:
    """The committed state, shared by the units of work made on it."""

    def __init__(self) -> None:
        self.state = State()

    def uow(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self)


T = TypeVar("T")


def _c(value: T) -> T:
    return copy.deepcopy(value)


class _Repo:
    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.uow = uow

    @property
    def s(self) -> State:
        return self.uow.state


class FakeUsers(_Repo, UserRepository):
    def add(self, user: UserAccount) -> None:
        if user.name in self.s.users:
            raise DuplicateKey(user.name)
        self.s.users[user.name] = _c(user)

    def get(self, name: str) -> UserAccount | None:
        return _c(self.s.users.get(name))

    def save(self, user: UserAccount) -> None:
        self.s.users[user.name] = _c(user)

    def find(self) -> list[UserAccount]:
        return [_c(u) for _, u in sorted(self.s.users.items())]


class FakeApplications(_Repo, ApplicationRepository):
    def add(self, app: Application) -> int:
        app.app_id = self.s.next_id("app")
        self.s.apps[app.app_id] = _c(app)
        return app.app_id

    def get(self, app_id: int, *, lock: bool = False) -> Application | None:
        return _c(self.s.apps.get(app_id))

    def save(self, app: Application) -> None:
        self.s.apps[app.app_id] = _c(app)

    def find(
        self, *, status: ApplicationStatus | None = None, uscc: str | None = None
    ) -> list[Application]:
        return [
            _c(a)
            for _, a in sorted(self.s.apps.items(), reverse=True)
            if (status is None or a.status is status) and (uscc is None or a.uscc == uscc)
        ]


class FakeLines(_Repo, CreditLineRepository):
    def add(self, line: CreditLine) -> int:
        if any(x.terms.application_id == line.terms.application_id for x in self.s.lines.values()):
            raise DuplicateKey(f"application {line.terms.application_id}")
        line.line_id = self.s.next_id("line")
        line.terms = replace(line.terms)
        self.s.lines[line.line_id] = _c(line)
        return line.line_id

    def get(self, line_id: int, *, lock: bool = False) -> CreditLine | None:
        return _c(self.s.lines.get(line_id))

    def get_many(self, line_ids: Iterable[int], *, lock: bool = False) -> dict[int, CreditLine]:
        return {i: _c(self.s.lines[i]) for i in sorted(set(line_ids)) if i in self.s.lines}

    def save(self, line: CreditLine) -> None:
        stored = self.s.lines[line.line_id]
        if stored.version != line.version:
            raise StaleAggregate(f"line {line.line_id}")
        line.version += 1
        line.events = []
        self.s.lines[line.line_id] = _c(line)

    def save_many(self, lines: Iterable[CreditLine]) -> None:
        for line in lines:
            self.save(line)

    def restore_many(self, principal_by_line: Mapping[int, Money], on: date) -> None:
        for line_id, principal in sorted(principal_by_line.items()):
            line = self.s.lines[line_id]
            before = line.utilised
            line.restore(principal, on)
            line.events = []
            if line.utilised != before:
                line.version += 1

    def for_application(self, app_id: int) -> CreditLine | None:
        return next(
            (_c(x) for x in self.s.lines.values() if x.terms.application_id == app_id), None
        )

    def find(self, *, uscc: str | None = None) -> list[CreditLine]:
        return [
            _c(x) for _, x in sorted(self.s.lines.items()) if uscc is None or x.terms.uscc == uscc
        ]


class FakeLoans(_Repo, LoanRepository):
    def add(self, loan: Loan, *, at: datetime | None = None) -> int:
        if any(x.ref.disbursement_key == loan.ref.disbursement_key for x in self.s.loans.values()):
            raise DuplicateKey(loan.ref.disbursement_key)
        loan.ref = replace(loan.ref, loan_id=self.s.next_id("loan"))
        loan.events = []
        self.s.loans[loan.loan_id] = _c(loan)
        self.s.originals[loan.loan_id] = _c(loan)
        return loan.loan_id

    def get(self, loan_id: int, *, lock: bool = False) -> Loan | None:
        return _c(self.s.loans.get(loan_id))

    def get_many(self, loan_ids: Iterable[int], *, lock: bool = False) -> dict[int, Loan]:
        return {i: _c(self.s.loans[i]) for i in sorted(set(loan_ids)) if i in self.s.loans}

    def save(self, loan: Loan) -> None:
        loan.version += 1
        loan.events = []
        self.s.loans[loan.loan_id] = _c(loan)

    def save_many(self, loans: Iterable[Loan]) -> None:
        for loan in loans:
            self.save(loan)

    def due_summaries(
        self, loan_ids: Iterable[int], on: date, *, lock: bool = False
    ) -> dict[int, DueSummary]:
        return {i: DueSummary.of(self.s.loans[i], on) for i in sorted(set(loan_ids))}

    def apply_plain(self, booked: Sequence[tuple[int, PlainRepayment]], on: date) -> None:
        for loan_id, plain in booked:
            loan = self.s.loans[loan_id]
            for i in loan.instalments:
                if i.due_on <= on:
                    i.principal_paid, i.interest_paid = i.principal, i.interest
            loan.outstanding = plain.outstanding
            loan.accrual.interest_recognised = plain.interest_recognised
            loan.accrual.interest_received = plain.interest_received
            loan.version += 1

    def by_key(self, key: str) -> Loan | None:
        return next((_c(x) for x in self.s.loans.values() if x.ref.disbursement_key == key), None)

    def find(
        self,
        *,
        uscc: str | None = None,
        status: LoanStatus | None = None,
        line_id: int | None = None,
    ) -> list[Loan]:
        return [
            _c(x)
            for _, x in sorted(self.s.loans.items())
            if (uscc is None or x.ref.uscc == uscc)
            and (status is None or x.status is status)
            and (line_id is None or x.ref.line_id == line_id)
        ]

    def active_ids(self) -> list[int]:
        return sorted(i for i, x in self.s.loans.items() if x.status is LoanStatus.ACTIVE)

    def with_suspense_due(self, on: date) -> list[int]:
        return sorted(
            i
            for i, x in self.s.loans.items()
            if x.status is LoanStatus.ACTIVE
            and x.suspense.is_positive()
            and any(n.due_on <= on and not n.is_settled for n in x.instalments)
        )

    def original(self, loan_id: int) -> Loan | None:
        return _c(self.s.originals.get(loan_id))

    def accounts(self) -> dict[str, list[LoanAccount]]:
        out: dict[str, list[LoanAccount]] = {}
        for i, x in sorted(self.s.loans.items()):
            account = self.s.lines[x.ref.line_id].terms.settlement_account
            out.setdefault(account, []).append(
                LoanAccount(i, x.status is LoanStatus.ACTIVE, account)
            )
        return out


class FakeReceipts(_Repo, ReceiptRepository):
    def add(self, receipt: Receipt) -> int:
        if self.by_bank_ref(receipt.bank_ref) is not None:
            raise DuplicateKey(receipt.bank_ref)
        rid = self.s.next_id("receipt")
        self.s.receipts[rid] = replace(receipt, receipt_id=rid)
        return rid

    def add_many(self, receipts: Sequence[Receipt]) -> list[int]:
        return [self.add(r) for r in receipts]

    def by_bank_ref(self, bank_ref: str) -> Receipt | None:
        return next((r for r in self.s.receipts.values() if r.bank_ref == bank_ref), None)

    def known_refs(self, bank_refs: Iterable[str]) -> set[str]:
        have = {r.bank_ref for r in self.s.receipts.values()}
        return {r for r in bank_refs if r in have}

    def for_loan(self, loan_id: int) -> list[Receipt]:
        return [r for _, r in sorted(self.s.receipts.items()) if r.loan_id == loan_id]


class FakeApprovals(_Repo, ApprovalRepository):
    def add(self, request: ApprovalRequest) -> int:
        if request.key is not None and self.by_key(request.key) is not None:
            raise DuplicateKey(request.key)
        request.request_id = self.s.next_id("approval")
        self.s.approvals[request.request_id] = _c(request)
        return request.request_id

    def get(self, request_id: int, *, lock: bool = False) -> ApprovalRequest | None:
        return _c(self.s.approvals.get(request_id))

    def by_key(self, key: str) -> ApprovalRequest | None:
        return next((_c(r) for r in self.s.approvals.values() if r.key == key), None)

    def save(self, request: ApprovalRequest) -> None:
        self.s.approvals[request.request_id] = _c(request)

    def pending(
        self, *, kinds: Iterable[ApprovalKind] | None = None, subject: str | None = None
    ) -> list[ApprovalRequest]:
        wanted = None if kinds is None else set(kinds)
        return [
            _c(r)
            for _, r in sorted(self.s.approvals.items())
            if r.status is ApprovalStatus.PENDING
            and (wanted is None or r.kind in wanted)
            and (subject is None or r.subject == subject)
        ]


class FakeReviews(_Repo, LimitReviewRepository):
    def add(self, review: LimitReview) -> int:
        if any(r.line_id == review.line_id and r.month == review.month
               for r in self.s.reviews.values()):  # fmt: skip
            raise DuplicateKey(f"line {review.line_id} {review.month}")
        review.review_id = self.s.next_id("review")
        self.s.reviews[review.review_id] = _c(review)
        return review.review_id

    def get(self, review_id: int) -> LimitReview | None:
        return _c(self.s.reviews.get(review_id))

    def save(self, review: LimitReview) -> None:
        self.s.reviews[review.review_id] = _c(review)

    def find(self, *, month: date | None = None, line_id: int | None = None) -> list[LimitReview]:
        found = [r for r in self.s.reviews.values()
                 if (month is None or r.month == month)
                 and (line_id is None or r.line_id == line_id)]  # fmt: skip
        return [_c(r) for r in sorted(found, key=lambda r: (-r.month.toordinal(), r.line_id))]


class FakeContacts(_Repo, ContactRepository):
    def add(self, contact: Contact) -> int:
        channels = {contact.phone, contact.email} - {None}
        if any(c.uscc == contact.uscc and c.active and channels & {c.phone, c.email}
               for c in self.s.contacts.values()):  # fmt: skip
            raise DuplicateKey(f"{contact.uscc} already has that channel")
        cid = self.s.next_id("contact")
        self.s.contacts[cid] = replace(contact, contact_id=cid)
        return cid

    def get(self, contact_id: int) -> Contact | None:
        return self.s.contacts.get(contact_id)

    def save(self, contact: Contact) -> None:
        self.s.contacts[contact.contact_id] = contact

    def for_borrowers(self, usccs: Iterable[str]) -> dict[str, list[Contact]]:
        wanted, found = set(usccs), {}
        for cid in sorted(self.s.contacts):
            c = self.s.contacts[cid]
            if c.uscc in wanted:
                found.setdefault(c.uscc, []).append(c)
        return found


class FakeNotices(_Repo, NoticeRepository):
    """The notice outbox on the fake state: facts from the loans themselves (every instalment
    unpaid, which ``notices_due`` must treat as the store's narrower read)."""

    def facts(self, on: date, due_dates: Sequence[date]) -> list[NoticeFacts]:
        out = []
        for loan_id in sorted(self.s.loans):
            loan = self.s.loans[loan_id]
            if loan.status is not LoanStatus.ACTIVE:
                continue
            unpaid = tuple(DueLine(i.number, i.due_on, i.principal_unpaid, i.interest_unpaid)
                           for i in loan.instalments if not i.is_settled)  # fmt: skip
            overdue = [i for i in unpaid if i.due_on < on]
            line = self.s.lines[loan.ref.line_id]
            cur = loan.currency
            out.append(NoticeFacts(
                loan_id, loan.ref.uscc, loan.dpd, unpaid,
                Money(sum(i.principal.minor for i in overdue), cur),
                Money(sum(i.interest.minor for i in overdue), cur),
                loan.accrual.penalty_due, line.terms.settlement_account))  # fmt: skip
        return out

    def queued_keys(self, loan_ids: Iterable[int]) -> set[tuple[int, int, str]]:
        ids = set(loan_ids)
        return {(d.loan_id, d.installment, d.kind) for d in self.s.notices.values()
                if d.loan_id in ids}  # fmt: skip

    def add_many(self, deliveries: Sequence[Delivery]) -> int:
        keys = {(d.loan_id, d.installment, d.kind, d.channel, d.contact_id)
                for d in self.s.notices.values()}  # fmt: skip
        for d in deliveries:
            k = (d.loan_id, d.installment, d.kind, d.channel, d.contact_id)
            if k in keys:
                raise DuplicateKey(f"notice {k} is queued already")
            keys.add(k)
            nid = self.s.next_id("notice")
            self.s.notices[nid] = replace(d, delivery_id=nid)
        return len(deliveries)

    def claim(self, now: datetime, lease_until: datetime, run: str, limit: int) -> list[Delivery]:
        def due(d: Delivery) -> bool:
            if d.status is DeliveryStatus.QUEUED:
                return d.next_attempt_at <= now
            return d.status is DeliveryStatus.SENDING and self.s.leases[d.delivery_id][1] <= now

        picked = sorted((d for d in self.s.notices.values() if due(d)),
                        key=lambda d: (d.next_attempt_at, d.delivery_id))[:limit]  # fmt: skip
        out = []
        for d in picked:
            claimed = replace(d, status=DeliveryStatus.SENDING, attempts=d.attempts + 1)
            self.s.notices[d.delivery_id] = claimed
            self.s.leases[d.delivery_id] = (run, lease_until)
            out.append(claimed)
        return out

    def finish(self, outcomes: Sequence[DeliveryOutcome], run: str) -> int:
        n = 0
        for o in outcomes:
            d = self.s.notices[o.delivery_id]
            if d.status is not DeliveryStatus.SENDING or self.s.leases[d.delivery_id][0] != run:
                continue
            self.s.notices[d.delivery_id] = replace(
                d, status=o.status, last_error=o.last_error, delivered_at=o.delivered_at,
                next_attempt_at=o.next_attempt_at or d.next_attempt_at)  # fmt: skip
            n += 1
        return n

    def find(
        self,
        *,
        status: DeliveryStatus | None = None,
        loan_id: int | None = None,
        uscc: str | None = None,
        limit: int = 500,
    ) -> list[Delivery]:
        found = [d for _, d in sorted(self.s.notices.items(), reverse=True)
                 if (status is None or d.status is status)
                 and (loan_id is None or d.loan_id == loan_id)
                 and (uscc is None or d.uscc == uscc)]  # fmt: skip
        return found[:limit]

    def prenotice_delivered_on(self, loan_id: int, kind: str) -> datetime | None:
        mine = [d for d in self.s.notices.values() if d.loan_id == loan_id and d.kind == kind]
        if not mine:
            return None
        latest = max(d.created_for for d in mine)
        times = [d.delivered_at for d in mine
                 if d.created_for == latest and d.delivered_at is not None]  # fmt: skip
        return min(times, default=None)

    def inbox(self, uscc: str, *, limit: int = 200) -> list[InboxMessage]:
        found = [m for m in self.s.inbox.values() if m.uscc == uscc]
        return sorted(found, key=lambda m: (m.delivered_at, m.key), reverse=True)[:limit]


@dataclass
class FakeNotifier:
    """A notifier that records what it sent; ``fail`` says which keys fail (and why)."""

    channel: Channel
    sent: list[OutboundMessage] = field(default_factory=list)
    fail: Callable[[OutboundMessage], str | None] = lambda _m: None
    permanent: bool = False

    def send(self, messages: Sequence[OutboundMessage]) -> list[SendResult]:
        out = []
        for m in messages:
            reason = self.fail(m)
            if reason is None:
                self.sent.append(m)
                out.append(SendResult(m.key, True))
            else:
                out.append(SendResult(m.key, False, reason, permanent=self.permanent))
        return out


@dataclass
class FakeInbox:
    """The console inbox on a fake store (written at once into its committed state)."""

    store: FakeStore
    at: Callable[[], datetime]
    channel: Channel = Channel.INBOX

    def send(self, messages: Sequence[OutboundMessage]) -> list[SendResult]:
        for m in messages:
            self.store.state.inbox.setdefault(
                m.key, InboxMessage(m.key, m.address, m.subject, m.body, self.at()))
        return [SendResult(m.key, True) for m in messages]


class FakeTasks(_Repo, FollowUpRepository):
    def add(self, task: FollowUpTask) -> int:
        if any(t.alert_id == task.alert_id and t.kind is task.kind and t.is_open
               for t in self.s.tasks.values()):  # fmt: skip
            raise DuplicateKey(f"alert {task.alert_id} has an open {task.kind} task")
        task.task_id = self.s.next_id("task")
        self.s.tasks[task.task_id] = _c(task)
        return task.task_id

    def get(self, task_id: int, *, lock: bool = False) -> FollowUpTask | None:
        return _c(self.s.tasks.get(task_id))

    def save(self, task: FollowUpTask) -> None:
        self.s.tasks[task.task_id] = _c(task)

    def find(
        self,
        *,
        statuses: Iterable[TaskStatus] | None = None,
        assignee: str | None = None,
        alert_id: int | None = None,
    ) -> list[FollowUpTask]:
        wanted = None if statuses is None else set(statuses)
        found = [t for t in self.s.tasks.values()
                 if (wanted is None or t.status in wanted)
                 and (assignee is None or t.assignee == assignee)
                 and (alert_id is None or t.alert_id == alert_id)]  # fmt: skip
        return [_c(t) for t in sorted(found, key=lambda t: (t.due_on, t.task_id))]


class FakeAlerts(_Repo, AlertRepository):
    def add(self, alert: Alert) -> int:
        if any(a.uscc == alert.uscc and a.rule == alert.rule and a.is_open
               for a in self.s.alerts.values()):  # fmt: skip
            raise DuplicateKey(f"{alert.uscc} {alert.rule}")
        alert.alert_id = self.s.next_id("alert")
        self.s.alerts[alert.alert_id] = _c(alert)
        return alert.alert_id

    def get(self, alert_id: int, *, lock: bool = False) -> Alert | None:
        return _c(self.s.alerts.get(alert_id))

    def save(self, alert: Alert) -> None:
        stored = self.s.alerts[alert.alert_id]
        if stored.version != alert.version:
            raise StaleAggregate(f"alert {alert.alert_id}")
        alert.version += 1
        self.s.alerts[alert.alert_id] = _c(alert)

    def find(
        self,
        *,
        statuses: Iterable[AlertStatus] | None = None,
        assignee: str | None = None,
        uscc: str | None = None,
    ) -> list[Alert]:
        wanted = None if statuses is None else set(statuses)
        found = [
            _c(a)
            for a in self.s.alerts.values()
            if (wanted is None or a.status in wanted)
            and (assignee is None or a.assignee == assignee)
            and (uscc is None or a.uscc == uscc)
        ]
        return sorted(found, key=lambda a: (a.level.rank, a.raised_at, a.alert_id))


class FakeCases(_Repo, CaseRepository):
    def _ids(self, case: CollectionCase) -> None:
        case.moves[:] = [m if m.move_id else replace(m, move_id=self.s.next_id("move"))
                         for m in case.moves]  # fmt: skip
        case.activities[:] = [a if a.activity_id else replace(a, activity_id=self.s.next_id("act"))
                              for a in case.activities]  # fmt: skip
        for p in case.promises:
            if not p.promise_id:
                p.promise_id = self.s.next_id("promise")

    def add(self, case: CollectionCase) -> int:
        if any(c.uscc == case.uscc and c.is_open for c in self.s.cases.values()):
            raise DuplicateKey(f"{case.uscc} has an open case")
        case.case_id = self.s.next_id("case")
        self._ids(case)
        self.s.cases[case.case_id] = _c(case)
        return case.case_id

    def add_many(self, cases: Sequence[CollectionCase]) -> None:
        for case in cases:
            self.add(case)

    def get(self, case_id: int, *, lock: bool = False) -> CollectionCase | None:
        return _c(self.s.cases.get(case_id))

    def save(self, case: CollectionCase) -> None:
        stored = self.s.cases[case.case_id]
        if stored.version != case.version:
            raise StaleAggregate(f"case {case.case_id}")
        case.version += 1
        self._ids(case)
        self.s.cases[case.case_id] = _c(case)

    def save_many(self, cases: Sequence[CollectionCase]) -> None:
        for case in cases:
            self.save(case)

    def open_cases(self) -> dict[str, CollectionCase]:
        return {c.uscc: _c(c) for c in self.s.cases.values() if c.status is CaseStatus.OPEN}

    def find(
        self, *, open_only: bool = True, collector: str | None = None, uscc: str | None = None
    ) -> list[CollectionCase]:
        found = [_c(c) for c in self.s.cases.values()
                 if (not open_only or c.is_open) and (collector is None or c.collector == collector)
                 and (uscc is None or c.uscc == uscc)]  # fmt: skip
        return sorted(found, key=lambda c: (-c.priority_fen, c.case_id))

    def arrears(self, as_of: date) -> list[LoanArrears]:
        out = []
        for (loan_id, on), d in sorted(self.s.loan_days.items()):
            if on != as_of or d.dpd <= 0:
                continue
            loan = self.s.loans[loan_id]
            out.append(
                LoanArrears(
                    loan_id,
                    loan.ref.uscc,
                    d.dpd,
                    d.overdue_principal,
                    d.overdue_interest,
                    loan.accrual.penalty_due,
                    loan.outstanding,
                )
            )
        return out

    def profiles(self, usccs: Iterable[str]) -> dict[str, BorrowerProfile]:
        wanted, out = set(usccs), {}
        for line_id in sorted(self.s.lines):
            line = self.s.lines[line_id]
            if line.terms.uscc not in wanted:
                continue
            app = self.s.apps.get(line.terms.application_id)
            if app is None:
                continue
            factors = None
            if app.decision.record_json:
                raw = json.loads(app.decision.record_json).get("limit", {}).get("season_factors")
                factors = tuple(Decimal(f) for f in raw) if raw else None
            out[line.terms.uscc] = BorrowerProfile(app.decision.pd, factors)
        return out

    def settlements(
        self, usccs: Iterable[str], since: date, until: date
    ) -> dict[str, list[Settlement]]:
        wanted, out = set(usccs), {}
        for _, r in sorted(self.s.receipts.items()):
            uscc = self.s.loans[r.loan_id].ref.uscc
            if uscc in wanted and since <= r.value_date <= until:
                out.setdefault(uscc, []).append(Settlement(r.value_date, r.amount - r.suspense))
        return out

    def handed_to_legal(self, usccs: Iterable[str]) -> set[str]:
        wanted = set(usccs)
        return {c.uscc for c in self.s.cases.values()
                if c.uscc in wanted and c.close_reason is CloseReason.LEGAL}  # fmt: skip


class FakePayments(_Repo, PaymentRepository):
    def add_import(self, record: StatementImport) -> int:
        iid = self.s.next_id("import")
        self.s.imports[iid] = replace(record, import_id=iid)
        return iid

    def add_lines(self, entries: Sequence[StatementEntry]) -> list[int]:
        ids = []
        for e in entries:
            if e.line.bank_ref in self.known_lines([e.line.bank_ref]):
                raise DuplicateKey(e.line.bank_ref)
            e.line_id = self.s.next_id("line_item")
            self.s.statement[e.line_id] = _c(e)
            ids.append(e.line_id)
        return ids

    def known_lines(self, bank_refs: Iterable[str]) -> set[str]:
        have = {e.line.bank_ref for e in self.s.statement.values()}
        return {r for r in bank_refs if r in have}

    def line(self, line_id: int, *, lock: bool = False) -> StatementEntry | None:
        return _c(self.s.statement.get(line_id))

    def save_line(self, entry: StatementEntry) -> None:
        self.s.statement[entry.line_id] = _c(entry)

    def lines(
        self, *, value_date: date | None = None, unmatched_only: bool = False
    ) -> list[StatementEntry]:
        return [
            _c(e)
            for _, e in sorted(self.s.statement.items())
            if (value_date is None or e.line.value_date == value_date)
            and (not unmatched_only or e.status is StatementLineStatus.UNMATCHED)
        ]

    def credit_totals(self, value_date: date) -> list[LineTotal]:
        return credit_totals(self.lines(value_date=value_date))

    def add_instruction(self, instruction: DebitInstruction, batch_id: str) -> None:
        if instruction.instruction_id in self.s.instructions:
            raise DuplicateKey(instruction.instruction_id)
        self.s.instructions[instruction.instruction_id] = (instruction, DebitStatus.SENT, batch_id)

    def instruction(self, instruction_id: str) -> tuple[DebitInstruction, DebitStatus] | None:
        found = self.s.instructions.get(instruction_id)
        return None if found is None else (found[0], found[1])

    def set_instruction(
        self, instruction_id: str, status: DebitStatus, *, reason: str, bank_ref: str
    ) -> None:
        instruction, _, batch = self.s.instructions[instruction_id]
        self.s.instructions[instruction_id] = (instruction, status, batch)

    def instructions(self, *, on: date) -> list[tuple[DebitInstruction, DebitStatus]]:
        return [(i, s) for i, s, _ in self.s.instructions.values() if i.on == on]

    def add_prepayment(self, request: PrepaymentRequest) -> int:
        request.request_id = self.s.next_id("prepayment")
        self.s.prepayments[request.request_id] = _c(request)
        return request.request_id

    def prepayments(
        self, *, loan_id: int | None = None, on: date | None = None, open_only: bool = True
    ) -> list[PrepaymentRequest]:
        return [
            _c(r)
            for _, r in sorted(self.s.prepayments.items())
            if (loan_id is None or r.loan_id == loan_id)
            and (on is None or r.on == on)
            and (not open_only or r.status is PrepaymentStatus.OPEN)
        ]

    def save_prepayment(self, request: PrepaymentRequest) -> None:
        self.s.prepayments[request.request_id] = _c(request)


class FakeLedger(_Repo, LedgerRepository):
    def post(self, entry: JournalEntry, loan_id: int | None) -> None:
        if entry.entry_id in self.s.entries:
            raise DuplicateKey(entry.entry_id)
        self.s.entries[entry.entry_id] = (entry, loan_id)

    def post_many(self, entries: Sequence[tuple[JournalEntry, int | None]]) -> None:
        for entry, loan_id in entries:
            self.post(entry, loan_id)

    def entry(self, entry_id: str) -> JournalEntry | None:
        found = self.s.entries.get(entry_id)
        return None if found is None else found[0]

    def is_reversed(self, entry_id: str) -> bool:
        return any(e.reverses == entry_id for e, _ in self.s.entries.values())

    def _balances(self, entries: Iterable[JournalEntry]) -> dict[Account, Money]:
        out: dict[Account, Money] = {}
        for e in entries:
            for p in e.postings:
                out[p.account] = out.get(p.account, Money.zero()) + p.amount
        return out

    def trial_balance(self) -> dict[Account, Money]:
        return self._balances(e for e, _ in self.s.entries.values())

    def loan_balances(self, loan_id: int) -> dict[Account, Money]:
        return self._balances(e for e, i in self.s.entries.values() if i == loan_id)

    def entries_for(self, loan_id: int) -> list[JournalEntry]:
        return [e for e, i in self.s.entries.values() if i == loan_id]


class FakeBook(_Repo, BookRepository):
    def hold_day(self, *, exclusive: bool) -> None:
        self.uow.day_holds.append(exclusive)

    def last_eod_date(self) -> date | None:
        return max(self.s.eod_runs, default=None)

    def first_eod_date(self) -> date | None:
        return min(self.s.eod_runs, default=None)

    def start_day(self, as_of: date, at: datetime) -> bool:
        if as_of in self.s.eod_runs:
            return False
        self.s.eod_runs[as_of] = None
        return True

    def close_day(self, as_of: date) -> EodCounts:
        from loomcredit.service_layer.eod import close_day_by_domain

        return close_day_by_domain(self.uow, as_of)

    def record_day(self, loan_id: int, day: DayClose) -> None:
        self.s.loan_days[(loan_id, day.on)] = day

    def finish_day(self, counts: EodCounts) -> None:
        self.s.eod_runs[counts.as_of] = counts

    def queue_reminders(self, reminders: Iterable[Reminder], created_for: date) -> int:
        n = 0
        for r in reminders:
            k = (r.loan_id, r.installment, r.kind)
            if k not in self.s.outbox:
                self.s.outbox[k] = QueuedReminder(r, created_for)
                n += 1
        return n

    def reminders(self, *, created_for: date | None = None) -> list[QueuedReminder]:
        return [
            q for q in self.s.outbox.values() if created_for is None or q.created_for == created_for
        ]

    def loan_day(self, loan_id: int, as_of: date) -> DayClose | None:
        return self.s.loan_days.get((loan_id, as_of))

    def repayment_history(self, as_of: date) -> dict[int, RepaymentFacts]:
        days = [LoanDay(loan_id, self.s.loans[loan_id].ref.line_id, on, d.dpd)
                for (loan_id, on), d in self.s.loan_days.items()]  # fmt: skip
        return repayment_history(days, as_of)

    def month_end_states(self, ends: Sequence[date]) -> list[MonthEndState]:
        out = []
        for (loan_id, on), d in sorted(self.s.loan_days.items(), key=lambda kv: kv[0][::-1]):
            if on not in ends:
                continue
            loan = self.s.loans[loan_id]
            received = sum(r.principal.minor for r in self.s.receipts.values()
                           if r.loan_id == loan_id and r.booked_on <= on)  # fmt: skip
            left = Money(loan.terms.principal.minor - received, loan.currency)
            overdue = d.overdue_principal + d.overdue_interest
            out.append(MonthEndState(loan_id, on, d.bucket, d.dpd, overdue, left))
        return out

    def receipts_by_bucket(self, first: date, last: date) -> list[ReceiptInBucket]:
        out = []
        for _, r in sorted(self.s.receipts.items(), key=lambda kv: (kv[1].booked_on, kv[0])):
            if first <= r.booked_on <= last:
                day = self.s.loan_days.get((r.loan_id, r.booked_on - timedelta(days=1)))
                out.append((r.booked_on, None if day is None else day.bucket, r.amount))
        return out


class FakeAudit(_Repo, AuditLog):
    def append(
        self, actor: str, action: str, subject: str, detail: AuditDetail, at: datetime
    ) -> None:
        record, head = audit_chain.next_record(
            AUDIT_KEY,
            self.s.head,
            actor=actor,
            action=action,
            subject=subject,
            detail=detail,
            at=at,
        )
        self.s.audit.append(record)
        self.s.head = head

    def records(self) -> Iterator[AuditRecord]:
        return iter(list(self.s.audit))

    def head(self) -> AuditHead | None:
        return self.s.head


class FakeUnitOfWork(UnitOfWork):
    """A unit of work on a :class:`FakeStore`."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self.state = _copy_state(store.state)
        self.commits = 0
        self.day_holds: list[bool] = []
        self.users = FakeUsers(self)
        self.applications = FakeApplications(self)
        self.lines = FakeLines(self)
        self.loans = FakeLoans(self)
        self.receipts = FakeReceipts(self)
        self.approvals = FakeApprovals(self)
        self.payments = FakePayments(self)
        self.alerts = FakeAlerts(self)
        self.reviews = FakeReviews(self)
        self.contacts = FakeContacts(self)
        self.tasks = FakeTasks(self)
        self.notices = FakeNotices(self)
        self.cases = FakeCases(self)
        self.ledger = FakeLedger(self)
        self.book = FakeBook(self)
        self.audit = FakeAudit(self)

    def __enter__(self) -> FakeUnitOfWork:
        self.state = _copy_state(self.store.state)
        return self

    def commit(self) -> None:
        balance = sum(m.minor for m in self.ledger.trial_balance().values())
        if balance != 0:
            raise AssertionError(f"the fake ledger is off by {balance} fen")
        self.store.state = _copy_state(self.state)
        self.commits += 1

    def rollback(self) -> None:
        self.state = _copy_state(self.store.state)


@dataclass
class FakeDecider:
    """Decides by amount: auto-approve up to ``auto_max`` at ``rate``, review up to
    ``review_max``, decline above; the limit is the amount asked. Records each request."""

    rate: Decimal = Decimal("0.045")
    auto_max: Money = field(default_factory=lambda: Money.parse("500000"))
    review_max: Money = field(default_factory=lambda: Money.parse("3000000"))
    product_kind: ProductKind = ProductKind.TERM
    seasonal: bool = False
    asked: list[tuple[DecisionRequest, date]] = field(default_factory=list)
    #: A limit build-up to decide with, by borrower (what a limit review reads); a borrower in
    #: ``unknown`` gets a referral (no features).
    build_ups: dict[str, LimitBuildUp] = field(default_factory=dict)
    unknown: set[str] = field(default_factory=set)

    def decide(self, request: DecisionRequest, as_of: date) -> CreditDecision:
        self.asked.append((request, as_of))
        if request.uscc in self.unknown:
            return CreditDecision.referral(
                code="NO_FEATURES", text_zh="无画像", text_en="no features",
                annual_rate=self.rate, rate_build_up=None, engine="fake-decider",
                currency=request.amount.currency, product_kind=self.product_kind,
            )  # fmt: skip
        build = self.build_ups.get(request.uscc)
        if build is not None:
            return CreditDecision(
                band=Band.DECLINE if build.limit.is_zero() else Band.AUTO_APPROVE,
                annual_rate=self.rate,
                limit=build.limit,
                pd=Decimal("0.02"),
                engine="fake-decider",
                decision_id=f"D-{request.uscc}-{as_of}",
                product_kind=self.product_kind,
                build_up=build,
            )
        if request.amount <= self.auto_max:
            band = Band.AUTO_APPROVE
        elif request.amount <= self.review_max:
            band = Band.REVIEW
        else:
            band = Band.DECLINE
        return CreditDecision(
            band=band,
            annual_rate=self.rate,
            limit=request.amount if band is not Band.DECLINE else Money.zero(),
            pd=Decimal("0.02"),
            engine="fake-decider",
            decision_id=f"D-{request.uscc}-{as_of}",
            reasons=("R1: fake",),
            product_kind=self.product_kind,
            plan=self._plan(request, as_of) if self.seasonal else None,
        )

    def _plan(self, request: DecisionRequest, as_of: date) -> SuggestedPlan:
        """The real plan engine's suggestion for a Keqiao textile firm's seasons."""
        from loomcredit.adapters.policy_file import load_policy
        from loomcredit.domain.decision.plan import plan_shape

        factors = tuple(Decimal(f) for f in CLUSTER_FACTORS)
        shape = plan_shape(request.method, request.term_months, as_of, factors, load_policy().plan)
        return SuggestedPlan(shape, as_of)


@dataclass
class FakeBankCore:
    """A bank core that records batches and returns the settlement lines a test sets."""

    sent: dict[str, list[DebitInstruction]] = field(default_factory=dict)
    settled: dict[str, list[SettlementLine]] = field(default_factory=dict)

    def submit(self, batch_id: str, instructions: Sequence[DebitInstruction]) -> None:
        self.sent.setdefault(batch_id, [])
        known = {i.instruction_id for i in self.sent[batch_id]}
        self.sent[batch_id].extend(i for i in instructions if i.instruction_id not in known)

    def settlement(self, batch_id: str) -> Sequence[SettlementLine] | None:
        return self.settled.get(batch_id)

    def pay_all(self, batch_id: str, *, failing: frozenset[str] = frozenset()) -> None:
        """Settle a batch: every instruction paid in full, except accounts in ``failing``."""
        lines = []
        for n, i in enumerate(self.sent.get(batch_id, []), start=1):
            failed = i.account in failing
            lines.append(
                SettlementLine(
                    i.instruction_id,
                    i.account,
                    Money.zero() if failed else i.amount,
                    DebitStatus.FAILED if failed else DebitStatus.PAID,
                    "余额不足 insufficient funds" if failed else "",
                    f"CORE-{batch_id}-{n:05d}",
                    i.on,
                )
            )
        self.settled[batch_id] = lines


@dataclass
class FakeFeatures:
    """The feature-source port: what each firm looks like, whatever the date."""

    by_firm: dict[str, dict[str, object]] = field(default_factory=dict)

    def get(self, uscc: str, as_of: date) -> Mapping[str, object]:
        if uscc not in self.by_firm:
            raise NotFound(f"no features for {uscc}")
        return self.by_firm[uscc]

    def get_many(self, usccs: Iterable[str], as_of: date) -> Mapping[str, Mapping[str, object]]:
        return {u: self.by_firm[u] for u in usccs if u in self.by_firm}


def warning_hit(
    rule: str, level: AlertLevel, feature: str, value: object, as_of: date
) -> WarningHit:
    """A hit whose evidence is the feature's value against last year's same months."""
    ev = Evidence(
        feature, str(value), "去年同期", as_of, f"{feature} {value}", f"{feature} {value}"
    )
    return WarningHit(rule, level, ev)


class FakeWarningRules:
    """The warning-rules port: court enforcement (``court`` > 0: red, freeze the line) and a
    sales drop (``drop`` over 30 %: amber; over 50 %: red); a feature ``pd`` is the model's PD,
    moved by the repayment facts with the default behaviour policy, and a PD jump is amber."""

    version = "test-1"
    escalation = DEFAULT_POLICY
    follow_up = FollowUpPolicy()

    def model_pds(self, vectors: Sequence[Mapping[str, object]]) -> Sequence[Decimal | None]:
        return [Decimal(str(v["pd"])) if "pd" in v else None for v in vectors]

    def behaviour(
        self,
        model_pd: Decimal,
        facts: RepaymentFacts,
        approved_pd: Callable[[], Decimal | None],
        as_of: date,
    ) -> tuple[BehaviourScore, Sequence[WarningHit]]:
        policy = BehaviourPolicy()
        score = behaviour_score(model_pd, facts, policy)
        if not pd_jumped(score, approved_pd(), policy):
            return score, ()
        return score, (warning_hit("PD_JUMP", AlertLevel.AMBER, "behaviour_pd", score.pd, as_of),)

    def warnings(self, features: Mapping[str, object], as_of: date) -> Sequence[WarningHit]:
        hits = []
        if int(features.get("court", 0)) > 0:  # type: ignore[call-overload]
            court = warning_hit("COURT", AlertLevel.RED, "court", features["court"], as_of)
            hits.append(replace(court, action=WarningAction.FREEZE))
        drop = float(features.get("drop", 0.0))  # type: ignore[arg-type]
        if drop > 0.3:
            level = AlertLevel.RED if drop > 0.5 else AlertLevel.AMBER
            hits.append(warning_hit("SALES_DROP", level, "drop", drop, as_of))
        return hits


@dataclass
class FakeIntake:
    """The data-intake port: each batch's payload is a JSON object of feature changes per firm
    (``{"<uscc>": {"drop": 0.6}}``) applied to ``features`` when taken; a payload ``"refuse"`` is
    refused whole. Records what it took."""

    features: FakeFeatures
    took: list[str] = field(default_factory=list)

    def take(self, batch: Batch, now: datetime) -> Taken:
        import hashlib
        import json

        from loomcredit.service_layer.errors import InvalidRequestError

        if batch.payload == b"refuse":
            raise InvalidRequestError(f"{batch.name}: no live consent for post_loan")
        changes = json.loads(batch.payload)
        for firm, values in changes.items():
            self.features.by_firm.setdefault(firm, {}).update(values)
        self.took.append(batch.name)
        digest = hashlib.sha256(batch.payload).hexdigest()
        n = len(changes)
        return Taken(batch.source, digest, n, n, 0, (), False, tuple(sorted(changes)))

    def take_inbox(self, now: datetime) -> Sequence[Taken]:
        return []
