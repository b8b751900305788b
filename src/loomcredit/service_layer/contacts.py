"""Use cases on borrowers' registered contacts (登记联系人): register, retire, list.

Only a customer manager or a risk manager registers a contact (from the contract the borrower
signed); collectors read them and may contact no one else (the conduct rules check it). Each
change is audited with the real user; the audit holds the masked channels, never the full ones.
"""

from __future__ import annotations

from datetime import datetime

from loomcredit.domain.contacts import Contact, ContactRole
from loomcredit.domain.errors import NotFound
from loomcredit.service_layer.eod import money_day
from loomcredit.service_layer.errors import ConcurrentChangeError
from loomcredit.service_layer.unit_of_work import DuplicateKey, UnitOfWork
from loomcredit.service_layer.users import Action, User, require

__all__ = ["contacts_of", "register_contact", "retire_contact"]


def register_contact(
    uow: UnitOfWork,
    user: User,
    *,
    uscc: str,
    name: str,
    role: ContactRole,
    phone: str | None,
    email: str | None,
    now: datetime,
) -> Contact:
    """Register a contact of a borrower (dated the business day); refused (a conflict) when the
    borrower already has an active contact on that mobile or e-mail. The caller commits."""
    require(user, Action.MANAGE_CONTACTS)
    on = money_day(uow, now)
    contact = Contact.register(uscc=uscc, name=name, role=role, phone=phone, email=email,
                               on=on, by=user.name)  # fmt: skip
    try:
        cid = uow.contacts.add(contact)
    except DuplicateKey as exc:
        raise ConcurrentChangeError(
            f"{uscc} already has an active contact on that mobile or e-mail: retire it first "
            f"({exc})"
        ) from exc
    uow.audit.append(user.name, "contact.registered", f"contact:{cid}",
                     {"uscc": uscc, "role": role.value, "phone": contact.masked_phone,
                      "email": contact.masked_email}, now)  # fmt: skip
    stored = uow.contacts.get(cid)
    if stored is None:
        raise NotFound(f"contact {cid} was not stored")
    return stored


def retire_contact(uow: UnitOfWork, user: User, contact_id: int, now: datetime) -> Contact:
    """Retire a contact on the business day (kept on record; nothing is sent to it after). The
    caller commits."""
    require(user, Action.MANAGE_CONTACTS)
    contact = uow.contacts.get(contact_id)
    if contact is None:
        raise NotFound(f"no contact {contact_id}")
    retired = contact.retire(money_day(uow, now))
    uow.contacts.save(retired)
    uow.audit.append(user.name, "contact.retired", f"contact:{contact_id}",
                     {"uscc": contact.uscc}, now)  # fmt: skip
    return retired


def contacts_of(uow: UnitOfWork, user: User, uscc: str) -> list[Contact]:
    """A borrower's contacts, active and retired, oldest first."""
    require(user, Action.READ_CONTACTS)
    return uow.contacts.for_borrowers([uscc]).get(uscc, [])
