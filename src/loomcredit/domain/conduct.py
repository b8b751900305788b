"""Collection conduct rules (催收行为规范) the software enforces (DOMAIN.md §8, §12).

Harassing collection is the conduct risk SME lenders are most often found at fault for, so the
rules are values from a versioned policy file (``domain/decision/data/keqiao_collections.yaml``)
and one pure check, :func:`check_contact`, that every contact attempt passes through:

* ``contact_hours``: only between the policy's hours (08:00–21:00), judged on the attempt's
  aware timestamp converted to the policy's zone (Asia/Shanghai); the end is exclusive.
* ``daily_limit``: at most N contacts with a borrower on one (China) calendar day.
* ``registered_contact``: only the borrower itself (a visit or a letter to its registered
  address) or one of its registered contacts active that day (``Contact.active_on``); calls,
  SMS and legal notices need a registered contact.
* ``open_dispute``: no contact while the borrower disputes the debt (a dispute outcome opens
  one, a risk manager resolves it).

The check returns the first rule that forbids the attempt (:class:`Refusal`: rule id and zh/en
message) or None; the service refuses with it and audits every attempt, allowed or refused.

>>> from datetime import UTC, datetime, time
>>> p = ConductPolicy("t", "Asia/Shanghai", time(8), time(21), 3)
>>> p.local_time(datetime(2026, 3, 2, 13, 5, tzinfo=UTC))  # 21:05 in Shanghai
datetime.time(21, 5)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo

from loomcredit.domain.contacts import Contact

__all__ = [
    "ActivityKind",
    "ConductPolicy",
    "ContactAttempt",
    "Refusal",
    "check_contact",
]


class ActivityKind(StrEnum):
    """How a collector reached (or tried to reach) the borrower."""

    CALL = "call"
    SMS = "sms"
    VISIT = "visit"
    LETTER = "letter"
    LEGAL_NOTICE = "legal_notice"

    @property
    def label_zh(self) -> str:
        """Chinese label."""
        return {
            "call": "电话",
            "sms": "短信",
            "visit": "上门",
            "letter": "信函",
            "legal_notice": "律师函",
        }[self.value]

    @property
    def needs_contact(self) -> bool:
        """Calls, SMS and legal notices go to a person; visits and letters may go to the
        borrower's registered address."""
        return self in (ActivityKind.CALL, ActivityKind.SMS, ActivityKind.LEGAL_NOTICE)


@dataclass(frozen=True, slots=True)
class ConductPolicy:
    """The conduct rules of one policy version.

    Attributes:
        version: the policy file's version (recorded with every audited attempt).
        zone: the IANA zone the contact hours are in (``Asia/Shanghai``).
        start: the first minute contact is allowed (08:00).
        end: contact is refused from this time on (21:00).
        daily_limit: the most contacts with one borrower on one local calendar day.
    """

    version: str
    zone: str
    start: time
    end: time
    daily_limit: int

    def local(self, at: datetime) -> datetime:
        """``at`` in the policy's zone (``at`` must be aware)."""
        if at.tzinfo is None:
            raise ValueError("a contact attempt's time must be timezone-aware")
        return at.astimezone(ZoneInfo(self.zone))

    def local_time(self, at: datetime) -> time:
        """The wall-clock time of ``at`` in the policy's zone."""
        return self.local(at).time().replace(tzinfo=None)

    def local_day(self, at: datetime) -> date:
        """The calendar day of ``at`` in the policy's zone."""
        return self.local(at).date()


@dataclass(frozen=True, slots=True)
class ContactAttempt:
    """One attempt to contact a borrower: how, whom (None: the borrower at its registered
    address), and when (aware)."""

    uscc: str
    kind: ActivityKind
    contact_id: int | None
    at: datetime


@dataclass(frozen=True, slots=True)
class Refusal:
    """The rule that forbids an attempt, with the reason in Chinese and English."""

    rule: str
    message_zh: str
    message_en: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.message_zh} / {self.message_en}"


def check_contact(
    policy: ConductPolicy,
    attempt: ContactAttempt,
    *,
    contacts: Iterable[Contact],
    earlier: Iterable[datetime],
    dispute_open: bool,
) -> Refusal | None:
    """The first rule forbidding ``attempt``, or None when every rule allows it.

    Args:
        policy: the conduct rules.
        attempt: what is about to be done.
        contacts: the borrower's registered contacts (active and retired).
        earlier: when the borrower was contacted before (every recorded contact).
        dispute_open: the borrower disputes the debt and no risk manager has resolved it.
    """
    if dispute_open:
        return Refusal(
            "open_dispute",
            "借款人对欠款提出异议且尚未解决，暂停一切催收联系",
            "the borrower disputes the debt; no contact until a risk manager resolves the dispute",
        )
    local = policy.local_time(attempt.at)
    if not policy.start <= local < policy.end:
        return Refusal(
            "contact_hours",
            f"当地时间 {local:%H:%M} 不在允许联系时段 {policy.start:%H:%M}–{policy.end:%H:%M} 内",
            f"{local:%H:%M} {policy.zone} is outside the contact hours "
            f"{policy.start:%H:%M}–{policy.end:%H:%M}",
        )
    refusal = _contact_refusal(attempt, contacts, policy.local_day(attempt.at))
    if refusal is not None:
        return refusal
    day = policy.local_day(attempt.at)
    today = sum(1 for at in earlier if policy.local_day(at) == day)
    if today >= policy.daily_limit:
        return Refusal(
            "daily_limit",
            f"当日已联系 {today} 次，已达每日上限 {policy.daily_limit} 次",
            f"already contacted {today} time(s) on {day}; the limit is {policy.daily_limit} a day",
        )
    return None


def _contact_refusal(
    attempt: ContactAttempt, contacts: Iterable[Contact], day: date
) -> Refusal | None:
    if attempt.contact_id is None:
        if attempt.kind.needs_contact:
            return Refusal(
                "registered_contact",
                f"{attempt.kind.label_zh}只能联系借款人登记的联系人",
                f"a {attempt.kind.value} must go to one of the borrower's registered contacts",
            )
        return None
    found = next((c for c in contacts if c.contact_id == attempt.contact_id), None)
    if found is None or found.uscc != attempt.uscc:
        return Refusal(
            "registered_contact",
            "该联系人不是借款人登记的联系人，不得联系",
            f"contact {attempt.contact_id} is not registered for this borrower; "
            "only the borrower and its registered contacts may be contacted",
        )
    if not found.active_on(day):
        return Refusal(
            "registered_contact",
            f"联系人 {found.contact_id} 在 {day} 不是有效登记联系人",
            f"contact {found.contact_id} is not an active registered contact on "
            f"{day} (retired or not yet registered)",
        )
    return None
