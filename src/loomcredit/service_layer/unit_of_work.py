"""The unit of work and one repository per aggregate (ports; SQLAlchemy in adapters, in-memory
fakes in ``tests/fakes.py``).

Aggregates and typed values go in and come out; nothing here is a row. ``with uow: …;
uow.commit()`` — leaving the block without commit rolls back.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from types import TracebackType
from typing import Self

from loomcredit.domain.alerts import Alert, AlertStatus
from loomcredit.domain.application import Application, ApplicationStatus
from loomcredit.domain.approval import ApprovalKind, ApprovalRequest
from loomcredit.domain.behaviour import RepaymentFacts
from loomcredit.domain.collection_figures import MonthEndState
from loomcredit.domain.collections import CollectionCase, LoanArrears
from loomcredit.domain.contacts import Channel, Contact
from loomcredit.domain.credit_line import CreditLine
from loomcredit.domain.delinquency import Bucket
from loomcredit.domain.end_of_day import DayClose, Reminder
from loomcredit.domain.follow_up import FollowUpTask, TaskStatus
from loomcredit.domain.ledger import Account, JournalEntry
from loomcredit.domain.limit_review import LimitReview
from loomcredit.domain.loan import DueSummary, Loan, LoanStatus, PlainRepayment
from loomcredit.domain.money import Money
from loomcredit.domain.notices import DeliveryStatus, NoticeFacts
from loomcredit.domain.payments import (
    DebitInstruction,
    DebitStatus,
    LineTotal,
    LoanAccount,
    PrepaymentRequest,
    Receipt,
    StatementEntry,
    StatementImport,
)
from loomcredit.service_layer.audit import AuditDetail, AuditHead, AuditRecord
from loomcredit.service_layer.users import UserAccount


class DuplicateKey(Exception):  # noqa: N818 - mirrors the database's unique-violation
    """A unique constraint refused the row (another request got there first)."""


class StaleAggregate(Exception):  # noqa: N818 - an optimistic-concurrency conflict
    """The aggregate changed in the store since it was loaded (retry from a fresh read)."""


@dataclass(frozen=True, slots=True)
class EodCounts:
    """What one date of end of day did."""

    as_of: date
    loans: int
    accrual_entries: int
    reminders: int


@dataclass(frozen=True, slots=True)
class QueuedReminder:
    """A reminder in the outbox (T−7/T−3/T−1), queued by end of day on ``created_for``."""

    reminder: Reminder
    created_for: date


class UserRepository(abc.ABC):
    """Users (people and applicant enterprises)."""

    @abc.abstractmethod
    def add(self, user: UserAccount) -> None:
        """Store a new user; :class:`DuplicateKey` if the name is taken."""

    @abc.abstractmethod
    def get(self, name: str) -> UserAccount | None:
        """A user by name."""

    @abc.abstractmethod
    def save(self, user: UserAccount) -> None:
        """Store a changed user (role, disabled, token epoch)."""

    @abc.abstractmethod
    def find(self) -> list[UserAccount]:
        """Every user, by name."""


class ApplicationRepository(abc.ABC):
    """Credit applications."""

    @abc.abstractmethod
    def add(self, app: Application) -> int:
        """Store a new application; returns its id (also set on ``app``)."""

    @abc.abstractmethod
    def get(self, app_id: int, *, lock: bool = False) -> Application | None:
        """An application; ``lock`` takes a row lock where the store has them."""

    @abc.abstractmethod
    def save(self, app: Application) -> None:
        """Store a changed application."""

    @abc.abstractmethod
    def find(
        self, *, status: ApplicationStatus | None = None, uscc: str | None = None
    ) -> list[Application]:
        """Applications, newest first."""


class CreditLineRepository(abc.ABC):
    """Credit lines."""

    @abc.abstractmethod
    def add(self, line: CreditLine) -> int:
        """Store a new line; one line per application (:class:`DuplicateKey` for a second)."""

    @abc.abstractmethod
    def get(self, line_id: int, *, lock: bool = False) -> CreditLine | None:
        """A line (row-locked with ``lock``)."""

    @abc.abstractmethod
    def save(self, line: CreditLine) -> None:
        """Store a changed line if nobody changed it since it was loaded (its ``version``);
        :class:`StaleAggregate` otherwise. The stored version goes up by one."""

    @abc.abstractmethod
    def get_many(self, line_ids: Iterable[int], *, lock: bool = False) -> dict[int, CreditLine]:
        """Several lines at once (locked in id order with ``lock``)."""

    @abc.abstractmethod
    def save_many(self, lines: Iterable[CreditLine]) -> None:
        """Store several changed lines (each checked like :meth:`save`)."""

    @abc.abstractmethod
    def restore_many(self, principal_by_line: Mapping[int, Money], on: date) -> None:
        """Principal repaid on each line: what :meth:`CreditLine.restore` gives back, set-based
        (locked as :meth:`get_many` locks them)."""

    @abc.abstractmethod
    def for_application(self, app_id: int) -> CreditLine | None:
        """The line an application opened."""

    @abc.abstractmethod
    def find(self, *, uscc: str | None = None) -> list[CreditLine]:
        """Lines, by id."""


class LoanRepository(abc.ABC):
    """Loans (drawdowns)."""

    @abc.abstractmethod
    def add(self, loan: Loan, *, at: datetime | None = None) -> int:
        """Store a new loan and its schedule (also kept as the original schedule, for a
        recompute); :class:`DuplicateKey` if its disbursement key is taken. Returns the id and
        sets it on ``loan.ref``."""

    @abc.abstractmethod
    def get(self, loan_id: int, *, lock: bool = False) -> Loan | None:
        """A loan with its schedule (row-locked with ``lock``)."""

    @abc.abstractmethod
    def get_many(self, loan_ids: Iterable[int], *, lock: bool = False) -> dict[int, Loan]:
        """Several loans at once (locked in id order with ``lock``)."""

    @abc.abstractmethod
    def save(self, loan: Loan) -> None:
        """Store a changed loan and its schedule (instalments added, changed or removed)."""

    @abc.abstractmethod
    def save_many(self, loans: Iterable[Loan]) -> None:
        """Store several changed loans (set-based where the store can)."""

    @abc.abstractmethod
    def due_summaries(
        self, loan_ids: Iterable[int], on: date, *, lock: bool = False
    ) -> dict[int, DueSummary]:
        """What is due of each loan on ``on`` (:meth:`DueSummary.of` of each), set-based; with
        ``lock`` the loans are locked as :meth:`get_many` locks them."""

    @abc.abstractmethod
    def apply_plain(self, booked: Sequence[tuple[int, PlainRepayment]], on: date) -> None:
        """Store plain receipts booked without their aggregates: every instalment due on ``on``
        settled, the loan's outstanding and interest figures as booked, its version moved on."""

    @abc.abstractmethod
    def by_key(self, key: str) -> Loan | None:
        """The loan a disbursement key made."""

    @abc.abstractmethod
    def find(
        self,
        *,
        uscc: str | None = None,
        status: LoanStatus | None = None,
        line_id: int | None = None,
    ) -> list[Loan]:
        """Loans, by id."""

    @abc.abstractmethod
    def active_ids(self) -> list[int]:
        """Ids of the active loans, in order."""

    @abc.abstractmethod
    def with_suspense_due(self, on: date) -> list[int]:
        """Active loans holding suspense with something unpaid due on or before ``on``."""

    @abc.abstractmethod
    def original(self, loan_id: int) -> Loan | None:
        """The loan as disbursed (original schedule, nothing paid), for a recompute; None for a
        loan booked before original schedules were kept."""

    @abc.abstractmethod
    def accounts(self) -> dict[str, list[LoanAccount]]:
        """Loans per settlement account of their line (for statement matching)."""


class ReceiptRepository(abc.ABC):
    """Receipts booked to loans (还款记录)."""

    @abc.abstractmethod
    def add(self, receipt: Receipt) -> int:
        """Store a receipt; :class:`DuplicateKey` if its bank reference was booked already."""

    @abc.abstractmethod
    def add_many(self, receipts: Sequence[Receipt]) -> list[int]:
        """Store several receipts (set-based where the store can); ids in order."""

    @abc.abstractmethod
    def by_bank_ref(self, bank_ref: str) -> Receipt | None:
        """A receipt by the bank's reference."""

    @abc.abstractmethod
    def known_refs(self, bank_refs: Iterable[str]) -> set[str]:
        """Which of these bank references are booked already."""

    @abc.abstractmethod
    def for_loan(self, loan_id: int) -> list[Receipt]:
        """A loan's receipts in booking order."""


class ApprovalRepository(abc.ABC):
    """Requests for a second person's approval."""

    @abc.abstractmethod
    def add(self, request: ApprovalRequest) -> int:
        """Store a new request; :class:`DuplicateKey` on a reused idempotency key."""

    @abc.abstractmethod
    def get(self, request_id: int, *, lock: bool = False) -> ApprovalRequest | None:
        """A request."""

    @abc.abstractmethod
    def by_key(self, key: str) -> ApprovalRequest | None:
        """A request by its idempotency key."""

    @abc.abstractmethod
    def save(self, request: ApprovalRequest) -> None:
        """Store a decided request."""

    @abc.abstractmethod
    def pending(
        self, *, kinds: Iterable[ApprovalKind] | None = None, subject: str | None = None
    ) -> list[ApprovalRequest]:
        """Requests waiting for a decision, oldest first."""


class AlertRepository(abc.ABC):
    """Early-warning alerts and their steps."""

    @abc.abstractmethod
    def add(self, alert: Alert) -> int:
        """Store a new alert (sets its id); :class:`DuplicateKey` when the borrower already has
        an open alert for the rule."""

    @abc.abstractmethod
    def get(self, alert_id: int, *, lock: bool = False) -> Alert | None:
        """An alert with its steps."""

    @abc.abstractmethod
    def save(self, alert: Alert) -> None:
        """Store a changed alert and its new steps (:class:`StaleAggregate` if it changed in
        the store since it was loaded)."""

    @abc.abstractmethod
    def find(
        self,
        *,
        statuses: Iterable[AlertStatus] | None = None,
        assignee: str | None = None,
        uscc: str | None = None,
    ) -> list[Alert]:
        """Alerts, most serious first, then oldest first."""


class LimitReviewRepository(abc.ABC):
    """Monthly limit reviews (额度动态调整), one per line and month."""

    @abc.abstractmethod
    def add(self, review: LimitReview) -> int:
        """Store a new review (sets its id); :class:`DuplicateKey` when the line already has one
        for the month."""

    @abc.abstractmethod
    def get(self, review_id: int) -> LimitReview | None:
        """A review."""

    @abc.abstractmethod
    def save(self, review: LimitReview) -> None:
        """Store a review's changed outcome or approval."""

    @abc.abstractmethod
    def find(self, *, month: date | None = None, line_id: int | None = None) -> list[LimitReview]:
        """Reviews, newest month first, then by line."""


class ContactRepository(abc.ABC):
    """Borrowers' registered contacts (登记联系人)."""

    @abc.abstractmethod
    def add(self, contact: Contact) -> int:
        """Store a new contact; returns its id. :class:`DuplicateKey` when the borrower has an
        active contact with the same mobile or e-mail."""

    @abc.abstractmethod
    def get(self, contact_id: int) -> Contact | None:
        """A contact."""

    @abc.abstractmethod
    def save(self, contact: Contact) -> None:
        """Store a changed contact (retired)."""

    @abc.abstractmethod
    def for_borrowers(self, usccs: Iterable[str]) -> dict[str, list[Contact]]:
        """Every contact (active and retired) of these borrowers, by USCC, oldest first."""


@dataclass(frozen=True, slots=True)
class BorrowerProfile:
    """What a new collection case takes from the borrower's latest credit decision: the PD its
    line was approved on and its month-of-year seasonal factors (None: not on the record)."""

    pd: Decimal | None
    season_factors: tuple[Decimal, ...] | None


@dataclass(frozen=True, slots=True)
class Settlement:
    """Money settled on a borrower's loans (a receipt less what went to suspense)."""

    value_date: date
    amount: Money


class CaseRepository(abc.ABC):
    """Collection cases with their bucket moves, activities and promises (one aggregate), and
    the set-based reads end of day needs to update them."""

    @abc.abstractmethod
    def add(self, case: CollectionCase) -> int:
        """Store a new case (sets its id); :class:`DuplicateKey` when the borrower already has
        an open case."""

    @abc.abstractmethod
    def add_many(self, cases: Sequence[CollectionCase]) -> None:
        """Store new cases (set-based where the store can; sets their ids)."""

    @abc.abstractmethod
    def get(self, case_id: int, *, lock: bool = False) -> CollectionCase | None:
        """A case with its moves, activities and promises."""

    @abc.abstractmethod
    def save(self, case: CollectionCase) -> None:
        """Store a changed case and what was added to it (:class:`StaleAggregate` if it changed
        in the store since it was loaded)."""

    @abc.abstractmethod
    def save_many(self, cases: Sequence[CollectionCase]) -> None:
        """Store changed cases (end of day, set-based where the store can; each checked like
        :meth:`save`)."""

    @abc.abstractmethod
    def open_cases(self) -> dict[str, CollectionCase]:
        """Every open case, by borrower (USCC)."""

    @abc.abstractmethod
    def find(
        self,
        *,
        open_only: bool = True,
        collector: str | None = None,
        uscc: str | None = None,
    ) -> list[CollectionCase]:
        """Cases, highest priority first, then by id."""

    @abc.abstractmethod
    def arrears(self, as_of: date) -> list[LoanArrears]:
        """Every loan end of day recorded in arrears (DPD > 0) on ``as_of``, set-based."""

    @abc.abstractmethod
    def profiles(self, usccs: Iterable[str]) -> dict[str, BorrowerProfile]:
        """The profile of each borrower's latest credit line's decision."""

    @abc.abstractmethod
    def settlements(
        self, usccs: Iterable[str], since: date, until: date
    ) -> dict[str, list[Settlement]]:
        """Money settled on each borrower's loans with a value date from ``since`` to ``until``."""

    @abc.abstractmethod
    def handed_to_legal(self, usccs: Iterable[str]) -> set[str]:
        """Which of these borrowers have a case closed as handed to legal."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """One notice to one recipient channel (a row of the notice outbox): the notice (loan,
    instalment, kind, the date it was queued for, the amount it asks for), where it goes, what it
    says (rendered at queueing, under ``policy_version``) and how its delivery stands."""

    delivery_id: int
    loan_id: int
    uscc: str
    installment: int
    kind: str
    created_for: date
    due_on: date
    amount: Money
    dpd: int
    channel: Channel
    contact_id: int  # 0: the borrower's console inbox
    address: str
    language: str
    subject: str
    body: str
    policy_version: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str = ""
    delivered_at: datetime | None = None

    @property
    def key(self) -> str:
        """The idempotency key every attempt carries (SMTP ``Message-ID``, HTTP
        ``Idempotency-Key``), so a receiver can drop a repeat."""
        return f"loom-notice-{self.delivery_id}"


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    """What a delivery run records of one claimed delivery."""

    delivery_id: int
    status: DeliveryStatus
    next_attempt_at: datetime | None = None
    last_error: str = ""
    delivered_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class InboxMessage:
    """A notice in the borrower's console inbox (站内信)."""

    key: str
    uscc: str
    subject: str
    body: str
    delivered_at: datetime


class NoticeRepository(abc.ABC):
    """The notice outbox (one row per notice and recipient channel) and the console inbox."""

    @abc.abstractmethod
    def facts(self, on: date, due_dates: Sequence[date]) -> list[NoticeFacts]:
        """Set-based, after the day's close: every active loan overdue or with an unpaid
        instalment due on one of ``due_dates``, with those instalments and its overdue unpaid ones
        (``domain.notices.notices_due`` gives the same notices as on all its instalments)."""

    @abc.abstractmethod
    def queued_keys(self, loan_ids: Iterable[int]) -> set[tuple[int, int, str]]:
        """(loan, instalment, kind) of the notices queued before for these loans."""

    @abc.abstractmethod
    def add_many(self, deliveries: Sequence[Delivery]) -> int:
        """Queue deliveries (ids assigned by the store; set-based); :class:`DuplicateKey` when
        a (loan, instalment, kind, channel, contact) is queued already."""

    @abc.abstractmethod
    def claim(self, now: datetime, lease_until: datetime, run: str, limit: int) -> list[Delivery]:
        """Claim up to ``limit`` deliveries due at ``now`` (queued and due, or sending with an
        expired lease): each becomes ``sending`` under ``run`` until ``lease_until``, one more
        attempt counted. Two runs never claim one delivery while its lease holds."""

    @abc.abstractmethod
    def finish(self, outcomes: Sequence[DeliveryOutcome], run: str) -> int:
        """Record outcomes of deliveries ``run`` still holds (a lease lost to another run is
        left alone); how many were recorded."""

    @abc.abstractmethod
    def find(
        self,
        *,
        status: DeliveryStatus | None = None,
        loan_id: int | None = None,
        uscc: str | None = None,
        limit: int = 500,
    ) -> list[Delivery]:
        """Deliveries, newest first."""

    @abc.abstractmethod
    def prenotice_delivered_on(self, loan_id: int, kind: str) -> datetime | None:
        """When the loan's latest notice of ``kind`` was first delivered on any channel (None:
        not delivered)."""

    @abc.abstractmethod
    def inbox(self, uscc: str, *, limit: int = 200) -> list[InboxMessage]:
        """A borrower's console inbox, newest first."""


class FollowUpRepository(abc.ABC):
    """Follow-up tasks on alerts (贷后跟进任务: visits, documents requests)."""

    @abc.abstractmethod
    def add(self, task: FollowUpTask) -> int:
        """Store a new task (sets its id); :class:`DuplicateKey` when the alert already has an
        open task of that kind."""

    @abc.abstractmethod
    def get(self, task_id: int, *, lock: bool = False) -> FollowUpTask | None:
        """A task."""

    @abc.abstractmethod
    def save(self, task: FollowUpTask) -> None:
        """Store a task's end (done or cancelled)."""

    @abc.abstractmethod
    def find(
        self,
        *,
        statuses: Iterable[TaskStatus] | None = None,
        assignee: str | None = None,
        alert_id: int | None = None,
    ) -> list[FollowUpTask]:
        """Tasks, earliest due first, then by id."""


class PaymentRepository(abc.ABC):
    """Statement imports and lines, the exceptions queue, auto-debit instructions and
    prepayment requests."""

    @abc.abstractmethod
    def add_import(self, record: StatementImport) -> int:
        """Store an import's summary; returns its id."""

    @abc.abstractmethod
    def add_lines(self, entries: Sequence[StatementEntry]) -> list[int]:
        """Store imported lines (set-based where the store can); ids in order. A bank reference
        is stored once (:class:`DuplicateKey`)."""

    @abc.abstractmethod
    def known_lines(self, bank_refs: Iterable[str]) -> set[str]:
        """Which of these bank references were imported already."""

    @abc.abstractmethod
    def line(self, line_id: int, *, lock: bool = False) -> StatementEntry | None:
        """One imported line."""

    @abc.abstractmethod
    def save_line(self, entry: StatementEntry) -> None:
        """Store a resolved line."""

    @abc.abstractmethod
    def lines(
        self, *, value_date: date | None = None, unmatched_only: bool = False
    ) -> list[StatementEntry]:
        """Imported lines, by id (``unmatched_only``: the exceptions queue)."""

    @abc.abstractmethod
    def credit_totals(self, value_date: date) -> list[LineTotal]:
        """:func:`~loomcredit.domain.payments.credit_totals` of the lines of a value date."""

    @abc.abstractmethod
    def add_instruction(self, instruction: DebitInstruction, batch_id: str) -> None:
        """Store an auto-debit instruction sent in a batch; :class:`DuplicateKey` if sent."""

    @abc.abstractmethod
    def instruction(self, instruction_id: str) -> tuple[DebitInstruction, DebitStatus] | None:
        """An instruction and its status."""

    @abc.abstractmethod
    def set_instruction(
        self, instruction_id: str, status: DebitStatus, *, reason: str, bank_ref: str
    ) -> None:
        """Record the settlement of an instruction."""

    @abc.abstractmethod
    def instructions(self, *, on: date) -> list[tuple[DebitInstruction, DebitStatus]]:
        """The instructions of a day."""

    @abc.abstractmethod
    def add_prepayment(self, request: PrepaymentRequest) -> int:
        """Store a prepayment request."""

    @abc.abstractmethod
    def prepayments(
        self, *, loan_id: int | None = None, on: date | None = None, open_only: bool = True
    ) -> list[PrepaymentRequest]:
        """Prepayment requests."""

    @abc.abstractmethod
    def save_prepayment(self, request: PrepaymentRequest) -> None:
        """Store a settled or cancelled request."""


class LedgerRepository(abc.ABC):
    """The journal (append-only; the store refuses unbalanced entries and edits)."""

    @abc.abstractmethod
    def post(self, entry: JournalEntry, loan_id: int | None) -> None:
        """Store a balanced entry; :class:`DuplicateKey` if its id exists."""

    @abc.abstractmethod
    def post_many(self, entries: Sequence[tuple[JournalEntry, int | None]]) -> None:
        """Store several entries (set-based where the store can)."""

    @abc.abstractmethod
    def entry(self, entry_id: str) -> JournalEntry | None:
        """An entry."""

    @abc.abstractmethod
    def is_reversed(self, entry_id: str) -> bool:
        """Whether an entry has been reversed."""

    @abc.abstractmethod
    def trial_balance(self) -> dict[Account, Money]:
        """Balance per account (debit positive), CNY."""

    @abc.abstractmethod
    def loan_balances(self, loan_id: int) -> dict[Account, Money]:
        """Balance per account of one loan's entries."""

    @abc.abstractmethod
    def entries_for(self, loan_id: int) -> list[JournalEntry]:
        """A loan's entries in booking order."""


ReceiptInBucket = tuple[date, Bucket | None, Money]
"""A receipt for the collection figures: booked on, the loan's bucket the day before, amount."""


class BookRepository(abc.ABC):
    """The business day and end of day (日终)."""

    @abc.abstractmethod
    def hold_day(self, *, exclusive: bool) -> None:
        """Take the book's day lock for this transaction: end of day holds it exclusively, every
        money event shared, so a money event lands wholly before or after an end of day."""

    @abc.abstractmethod
    def last_eod_date(self) -> date | None:
        """The latest date end of day completed for."""

    @abc.abstractmethod
    def first_eod_date(self) -> date | None:
        """The earliest date end of day completed for."""

    @abc.abstractmethod
    def start_day(self, as_of: date, at: datetime) -> bool:
        """Claim ``as_of`` for end of day (False if it ran already)."""

    @abc.abstractmethod
    def close_day(self, as_of: date) -> EodCounts:
        """End of day for every active loan, the set-based way where the store can (the result
        equals :func:`loomcredit.service_layer.eod.close_day_by_domain`); must follow
        :meth:`start_day` in the same transaction."""

    @abc.abstractmethod
    def record_day(self, loan_id: int, day: DayClose) -> None:
        """Store one loan-day (the loan-by-loan path)."""

    @abc.abstractmethod
    def finish_day(self, counts: EodCounts) -> None:
        """Record the day's counts on its ``eod_runs`` row."""

    @abc.abstractmethod
    def queue_reminders(self, reminders: Iterable[Reminder], created_for: date) -> int:
        """Queue reminders not queued before (one per loan, instalment and kind)."""

    @abc.abstractmethod
    def reminders(self, *, created_for: date | None = None) -> list[QueuedReminder]:
        """The outbox."""

    @abc.abstractmethod
    def loan_day(self, loan_id: int, as_of: date) -> DayClose | None:
        """What end of day recorded for a loan on a date."""

    @abc.abstractmethod
    def repayment_history(self, as_of: date) -> dict[int, RepaymentFacts]:
        """Per line, its loans' worst DPD in six months and most overdue days in a year, from
        the loan-days recorded up to ``as_of`` (equal to
        :func:`loomcredit.domain.behaviour.repayment_history`)."""

    @abc.abstractmethod
    def month_end_states(self, ends: Sequence[date]) -> list[MonthEndState]:
        """Every loan-day recorded on one of ``ends`` (month ends), with the loan's principal
        outstanding after that day (disbursed less the principal of receipts booked by then),
        in one set-based read, ordered by date and loan."""

    @abc.abstractmethod
    def receipts_by_bucket(self, first: date, last: date) -> list[ReceiptInBucket]:
        """The receipts booked from ``first`` to ``last``, each with the bucket end of day
        recorded for its loan the day before it was booked (None before the first end of
        day), in one set-based read, ordered by booking date and receipt."""


class AuditLog(abc.ABC):
    """The keyed, hash-chained audit log (append-only)."""

    @abc.abstractmethod
    def append(
        self, actor: str, action: str, subject: str, detail: AuditDetail, at: datetime
    ) -> None:
        """Append a record (serialised on the chain head)."""

    @abc.abstractmethod
    def records(self) -> Iterator[AuditRecord]:
        """Every record in sequence order."""

    @abc.abstractmethod
    def head(self) -> AuditHead | None:
        """The stored chain head (last sequence number, its hash and the head's own MAC)."""


class UnitOfWork(abc.ABC):
    """A transaction over the lending store, with one repository per aggregate."""

    users: UserRepository
    applications: ApplicationRepository
    lines: CreditLineRepository
    loans: LoanRepository
    receipts: ReceiptRepository
    approvals: ApprovalRepository
    payments: PaymentRepository
    alerts: AlertRepository
    reviews: LimitReviewRepository
    contacts: ContactRepository
    tasks: FollowUpRepository
    notices: NoticeRepository
    cases: CaseRepository
    ledger: LedgerRepository
    book: BookRepository
    audit: AuditLog

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()

    @abc.abstractmethod
    def commit(self) -> None:
        """Make the work durable (the store checks every entry balances at commit)."""

    @abc.abstractmethod
    def rollback(self) -> None:
        """Discard uncommitted work (a no-op after commit)."""


def balances_by_name(balances: Mapping[Account, Money]) -> dict[str, int]:
    """Balances keyed by account name in fen (what reports print)."""
    return {account.name: money.minor for account, money in balances.items()}
