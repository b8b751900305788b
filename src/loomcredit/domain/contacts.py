"""A borrower's registered contacts (登记联系人): who the bank may send notices to and, in
collections, who it may contact at all.

Collection conduct rules (DOMAIN.md §8, §12) allow contact with the borrower and the people it
registered — its legal representative (法定代表人), finance lead (财务负责人), a guarantor
(担保人) — and no one else: no relatives, no business partners, no colleagues. A contact is
registered by a customer manager from what the borrower gave in the contract, with at least one
channel (mobile or e-mail), and can be retired (it stays on record; nothing is sent to it).

Phone numbers and e-mail addresses are personal information (PIPL); the store keeps them
encrypted and the views mask them.

>>> c = Contact.register(uscc="91330621MA2BXXXX0X", name="王芳", role=ContactRole.FINANCE,
...                      phone="138 0013 8000", email=None, on=date(2025, 3, 1), by="cm1")
>>> c.phone, c.masked_phone
('13800138000', '138****8000')
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from loomcredit.domain.errors import LoomError

__all__ = ["Channel", "Contact", "ContactError", "ContactRole", "mask_email", "mask_phone"]

_MOBILE = re.compile(r"1[3-9]\d{9}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")


class ContactError(LoomError, ValueError):
    """A contact that cannot be registered as given (what to fix is in the message)."""


class ContactRole(StrEnum):
    """Who the contact is to the borrower."""

    LEGAL_REP = "legal_rep"
    FINANCE = "finance"
    GUARANTOR = "guarantor"
    OTHER = "other"  # another person the borrower named in the contract

    @property
    def label_zh(self) -> str:
        """Chinese label."""
        return {"legal_rep": "法定代表人", "finance": "财务负责人", "guarantor": "担保人",
                "other": "其他登记联系人"}[self.value]  # fmt: skip


class Channel(StrEnum):
    """How a notice reaches a person: e-mail, SMS, or the borrower's inbox in the console."""

    EMAIL = "email"
    SMS = "sms"
    INBOX = "inbox"

    @property
    def label_zh(self) -> str:
        """Chinese label."""
        return {"email": "电子邮件", "sms": "短信", "inbox": "站内信"}[self.value]


def mask_phone(phone: str) -> str:
    """``138****8000``."""
    return phone[:3] + "****" + phone[-4:]


def mask_email(email: str) -> str:
    """``w***@example.com``."""
    user, _, host = email.partition("@")
    return f"{user[:1]}***@{host}"


def _phone(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    digits = re.sub(r"[\s\-]", "", raw.strip())
    digits = digits.removeprefix("+86").removeprefix("0086")
    if not _MOBILE.fullmatch(digits):
        raise ContactError(f"not a mainland mobile number (11 digits, 1[3-9]…): {raw!r}")
    return digits


def _email(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    if not _EMAIL.fullmatch(text):
        raise ContactError(f"not an e-mail address: {raw!r}")
    return text.lower()


@dataclass(frozen=True, slots=True)
class Contact:
    """One registered contact of a borrower (by USCC), with its channels.

    Attributes:
        contact_id: the store's id (0 until stored).
        uscc: the borrower.
        name: the person's name.
        role: legal representative, finance lead, guarantor, other.
        phone: mainland mobile (digits only), or None.
        email: lower-cased e-mail, or None.
        registered_on / registered_by: when and by whom it was registered.
        retired_on: when it stopped being a contact (None while it is one).
    """

    contact_id: int
    uscc: str
    name: str
    role: ContactRole
    phone: str | None
    email: str | None
    registered_on: date
    registered_by: str
    retired_on: date | None = None

    @classmethod
    def register(
        cls,
        *,
        uscc: str,
        name: str,
        role: ContactRole,
        phone: str | None,
        email: str | None,
        on: date,
        by: str,
    ) -> Contact:
        """A new contact, validated: a name and at least one channel."""
        if not name.strip():
            raise ContactError("a contact needs a name")
        ph, em = _phone(phone), _email(email)
        if ph is None and em is None:
            raise ContactError("a contact needs a mobile number or an e-mail address")
        return cls(0, uscc, name.strip(), role, ph, em, on, by)

    @property
    def active(self) -> bool:
        """Still a contact (not retired)."""
        return self.retired_on is None

    def active_on(self, day: date) -> bool:
        """Registered by ``day`` and not retired by then."""
        return self.registered_on <= day and (self.retired_on is None or day < self.retired_on)

    def address(self, channel: Channel) -> str | None:
        """Where a notice on ``channel`` goes (the borrower's USCC for the console inbox)."""
        if channel is Channel.EMAIL:
            return self.email
        if channel is Channel.SMS:
            return self.phone
        return self.uscc

    @property
    def masked_phone(self) -> str | None:
        """The mobile as views show it."""
        return None if self.phone is None else mask_phone(self.phone)

    @property
    def masked_email(self) -> str | None:
        """The e-mail as views show it."""
        return None if self.email is None else mask_email(self.email)

    def retire(self, on: date) -> Contact:
        """This contact retired on ``on`` (kept on record)."""
        if self.retired_on is not None:
            raise ContactError(f"contact {self.contact_id} was retired on {self.retired_on}")
        if on < self.registered_on:
            raise ContactError("a contact cannot be retired before it was registered")
        return replace(self, retired_on=on)
