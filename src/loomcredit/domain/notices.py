"""Notices to borrowers (还款提醒与逾期通知), defined once: which a loan gets on a day, what
they say, and when negative information may be reported to the credit bureau.

Kinds (each (loan, instalment, kind) is queued once, so a notice is never queued twice):

* ``T-7``, ``T-3``, ``T-1`` — pre-due reminders (还款提醒) of an unpaid instalment;
* ``DUE`` — the due-day notice (到期提醒), the instalment still unpaid at the day's close;
* ``D1``, ``D3``, ``D7``, then every ``overdue_every_days`` (``D14``, ``D21`` …) while the loan
  stays overdue — overdue notices (逾期通知) about the earliest unpaid instalment, on the day its
  DPD is exactly that many days;
* ``BUREAU`` — the negative-information pre-notice (不良信息报送事先告知, 征信业管理条例 第十五条)
  from ``bureau_notice_dpd`` days overdue. Negative information about the loan may be reported
  on a date only if this pre-notice was delivered at least ``bureau_wait_days`` earlier
  (:func:`may_report_negative`).

:func:`notices_due` is a pure function of the day's facts; :func:`render` fills the policy's
templates (zh-CN first, English available) with the amount in 元 exact from fen, the due date
and the repayment account.

>>> yuan(Money(1234567))
'12,345.67'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from loomcredit.domain.contacts import Channel
from loomcredit.domain.money import Money

__all__ = [
    "BUREAU",
    "DUE",
    "LANGUAGES",
    "DeliveryStatus",
    "DueLine",
    "Notice",
    "NoticeFacts",
    "NoticePolicy",
    "NoticeTemplate",
    "OutboundMessage",
    "SendResult",
    "category",
    "may_report_negative",
    "next_attempt_at",
    "notices_due",
    "render",
    "yuan",
]

DUE = "DUE"
BUREAU = "BUREAU"
LANGUAGES = ("zh-CN", "en")
#: Template placeholders a notice fills (a policy file's template may use any of them).
FIELDS = ("borrower", "loan_ref", "installment", "due_on", "amount", "principal", "interest",
          "penalty", "dpd", "days_left", "settlement_account", "bank_account", "bank_name",
          "account_name", "bank_phone", "report_after_days")  # fmt: skip


class DeliveryStatus(StrEnum):
    """Where one delivery of a notice stands: queued → sending → delivered / failed."""

    QUEUED = "queued"
    SENDING = "sending"
    DELIVERED = "delivered"
    FAILED = "failed"

    @property
    def label_zh(self) -> str:
        """Chinese label."""
        return {"queued": "待发送", "sending": "发送中", "delivered": "已送达",
                "failed": "发送失败"}[self.value]  # fmt: skip


@dataclass(frozen=True, slots=True)
class NoticeTemplate:
    """Subject and body of one category in one language (``str.format`` fields:
    :data:`FIELDS`)."""

    subject: str
    body: str


@dataclass(frozen=True, slots=True)
class NoticePolicy:
    """The notice policy (versioned file): when notices go, how delivery retries, what they say.

    Attributes:
        version: recorded on every notice.
        pre_due_days: days before a due date for the pre-due reminders (7, 3, 1).
        overdue_days: DPDs of the first overdue notices (1, 3, 7).
        overdue_every_days: after the last of those, a notice every this many days while overdue.
        bureau_notice_dpd: DPD from which the negative-information pre-notice is sent.
        bureau_wait_days: days between the pre-notice's delivery and the earliest report.
        max_attempts: delivery attempts before a delivery is failed.
        backoff_first_s / backoff_max_s: the first retry's delay, doubling up to the max.
        lease_s: how long a delivery run holds a claimed delivery before another may retry it.
        bank_name / account_name / bank_account / bank_phone: the bank's repayment (collection)
            account and service number the notices name.
        templates: per category (``pre_due``, ``due``, ``overdue``, ``bureau``) and language.
    """

    version: str
    pre_due_days: tuple[int, ...]
    overdue_days: tuple[int, ...]
    overdue_every_days: int
    bureau_notice_dpd: int
    bureau_wait_days: int
    max_attempts: int
    backoff_first_s: int
    backoff_max_s: int
    lease_s: int
    bank_name: str
    account_name: str
    bank_account: str
    bank_phone: str
    templates: Mapping[str, Mapping[str, NoticeTemplate]]
    default_language: str = "zh-CN"

    def due_dates(self, on: date) -> list[date]:
        """The due dates an unpaid instalment may have to get a pre-due or due-day notice on
        ``on`` (what a store reads set-based)."""
        return sorted({on} | {on + timedelta(days=n) for n in self.pre_due_days})

    def overdue_kind(self, dpd: int) -> str | None:
        """The overdue notice kind for a loan at ``dpd`` that day, if any."""
        if dpd in self.overdue_days:
            return f"D{dpd}"
        last = max(self.overdue_days)
        if dpd > last and (dpd - last) % self.overdue_every_days == 0:
            return f"D{dpd}"
        return None


@dataclass(frozen=True, slots=True)
class DueLine:
    """An unpaid instalment (期供) as the day's close leaves it."""

    number: int
    due_on: date
    principal: Money
    interest: Money

    @property
    def amount(self) -> Money:
        """Principal and interest still owed on it."""
        return self.principal + self.interest


@dataclass(frozen=True, slots=True)
class NoticeFacts:
    """What the day's close says of one loan, as notices need it.

    Attributes:
        loan_id / uscc: the loan and its borrower.
        dpd: days past due after the close.
        unpaid: its unpaid instalments (a store may give only those due on
            :meth:`NoticePolicy.due_dates` and the earliest overdue one).
        overdue_principal / overdue_interest / penalty: what is overdue, by component.
        settlement_account: the borrower's settlement account (auto-debit is taken from it).
    """

    loan_id: int
    uscc: str
    dpd: int
    unpaid: tuple[DueLine, ...]
    overdue_principal: Money
    overdue_interest: Money
    penalty: Money
    settlement_account: str

    @property
    def overdue(self) -> Money:
        """Everything overdue (principal, interest, penalty and compound)."""
        return self.overdue_principal + self.overdue_interest + self.penalty


@dataclass(frozen=True, slots=True)
class Notice:
    """One notice to queue: loan, instalment and kind (unique together), for a date."""

    loan_id: int
    uscc: str
    installment: int
    kind: str
    on: date
    due_on: date
    principal: Money
    interest: Money
    penalty: Money
    dpd: int
    settlement_account: str
    policy_version: str

    @property
    def amount(self) -> Money:
        """The amount the notice asks for."""
        return self.principal + self.interest + self.penalty

    @property
    def key(self) -> tuple[int, int, str]:
        """(loan, instalment, kind): queued once."""
        return (self.loan_id, self.installment, self.kind)


def category(kind: str) -> str:
    """``pre_due``, ``due``, ``overdue`` or ``bureau`` of a notice kind."""
    if kind.startswith("T-"):
        return "pre_due"
    if kind == DUE:
        return "due"
    if kind == BUREAU:
        return "bureau"
    return "overdue"


def notices_due(facts: NoticeFacts, on: date, policy: NoticePolicy) -> list[Notice]:
    """The notices a loan gets on ``on`` (pre-due, due-day, overdue, bureau pre-notice), in
    that order; the store keeps each (loan, instalment, kind) once."""
    zero = Money.zero(facts.overdue_principal.currency)
    out: list[Notice] = []

    def notice(line: DueLine, kind: str, principal: Money, interest: Money, pen: Money) -> Notice:
        return Notice(facts.loan_id, facts.uscc, line.number, kind, on, line.due_on,
                      principal, interest, pen, facts.dpd, facts.settlement_account,
                      policy.version)  # fmt: skip

    for days in sorted(policy.pre_due_days, reverse=True):
        for line in facts.unpaid:
            if line.due_on == on + timedelta(days=days):
                out.append(notice(line, f"T-{days}", line.principal, line.interest, zero))
    out.extend(notice(line, DUE, line.principal, line.interest, zero)
               for line in facts.unpaid if line.due_on == on)  # fmt: skip
    overdue = [line for line in facts.unpaid if line.due_on < on]
    if facts.dpd > 0 and overdue:
        first = min(overdue, key=lambda line: (line.due_on, line.number))
        kind = policy.overdue_kind(facts.dpd)
        parts = (facts.overdue_principal, facts.overdue_interest, facts.penalty)
        if kind is not None:
            out.append(notice(first, kind, *parts))
        if facts.dpd >= policy.bureau_notice_dpd:
            out.append(notice(first, BUREAU, *parts))
    return out


def may_report_negative(
    prenotice_delivered_on: date | None, on: date, policy: NoticePolicy
) -> bool:
    """Whether negative information about a loan may be reported to the credit bureau on ``on``
    (征信业管理条例 第十五条): only once its pre-notice was delivered, at least
    ``policy.bureau_wait_days`` days before."""
    if prenotice_delivered_on is None:
        return False
    return (on - prenotice_delivered_on).days >= policy.bureau_wait_days


def yuan(amount: Money) -> str:
    """An amount in 元 with thousands separators and two decimals, exact from fen."""
    sign = "-" if amount.minor < 0 else ""
    whole, fen = divmod(abs(amount.minor), 100)
    return f"{sign}{whole:,}.{fen:02d}"


def _masked_account(account: str) -> str:
    return f"****{account[-4:]}" if len(account) > 4 else account


def render(
    notice: Notice, policy: NoticePolicy, *, language: str, borrower: str = ""
) -> tuple[str, str]:
    """The notice's subject and body in ``language`` (zh-CN unless ``en``)."""
    lang = language if language in LANGUAGES else policy.default_language
    template = policy.templates[category(notice.kind)][lang]
    values = {
        "borrower": borrower or notice.uscc,
        "loan_ref": f"LN{notice.loan_id:08d}",
        "installment": notice.installment,
        "due_on": notice.due_on.isoformat(),
        "amount": yuan(notice.amount),
        "principal": yuan(notice.principal),
        "interest": yuan(notice.interest),
        "penalty": yuan(notice.penalty),
        "dpd": notice.dpd,
        "days_left": (notice.due_on - notice.on).days,
        "settlement_account": _masked_account(notice.settlement_account),
        "bank_account": policy.bank_account,
        "bank_name": policy.bank_name,
        "account_name": policy.account_name,
        "bank_phone": policy.bank_phone,
        "report_after_days": policy.bureau_wait_days,
    }
    return template.subject.format(**values), template.body.format(**values)


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """One message a notifier sends: its idempotency key (the delivery's id, as ``Message-ID``
    or ``Idempotency-Key``), where to, and what."""

    key: str
    channel: Channel
    address: str
    subject: str
    body: str
    language: str


@dataclass(frozen=True, slots=True)
class SendResult:
    """What a notifier reports of one message: sent, or why not (``permanent``: retrying cannot
    help, e.g. a recipient the server refuses)."""

    key: str
    ok: bool
    reason: str = ""
    permanent: bool = False


def next_attempt_at(attempts: int, now: datetime, policy: NoticePolicy) -> datetime:
    """When a delivery that failed its ``attempts``-th attempt is tried again: the first delay
    doubling per attempt, at most ``backoff_max_s``."""
    delay = min(policy.backoff_first_s * 2 ** max(0, attempts - 1), policy.backoff_max_s)
    return now + timedelta(seconds=delay)
