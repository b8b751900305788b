"""Registered contacts (登记联系人) on the fakes: what a contact must have, who may register one,
one active contact per channel and borrower, retiring keeps the record."""

from __future__ import annotations

from datetime import date

import pytest
from tests.world import USCC, World

from loomcredit.domain.contacts import Channel, Contact, ContactError, ContactRole
from loomcredit.service_layer import contacts
from loomcredit.service_layer.errors import ConcurrentChangeError
from loomcredit.service_layer.users import AccessDeniedError, Role, User

COLLECTOR = User("col", Role.COLLECTOR)


@pytest.mark.parametrize(
    ("phone", "email", "problem"),
    [
        ("1380013800", None, "mobile"),  # 10 digits
        ("12800138000", None, "mobile"),  # 12… is no mobile prefix
        ("057185551234", None, "mobile"),  # a landline
        (None, "wang@", "e-mail"),
        (None, None, "a mobile number or an e-mail"),
        ("  ", "", "a mobile number or an e-mail"),
    ],
)
def test_a_contact_without_a_usable_channel_is_refused_with_what_to_fix(
    phone: str | None, email: str | None, problem: str
) -> None:
    with pytest.raises(ContactError, match=problem):
        Contact.register(uscc=USCC, name="王芳", role=ContactRole.FINANCE, phone=phone,
                         email=email, on=date(2026, 3, 2), by="off")  # fmt: skip


def test_channels_are_normalised_and_addressed() -> None:
    c = Contact.register(uscc=USCC, name=" 李强 ", role=ContactRole.LEGAL_REP,
                         phone="+86 139-0571-0000", email="Li.Qiang@Example.COM",
                         on=date(2026, 3, 2), by="off")  # fmt: skip
    assert (c.name, c.phone, c.email) == ("李强", "13905710000", "li.qiang@example.com")
    assert c.address(Channel.SMS) == "13905710000"
    assert c.address(Channel.EMAIL) == "li.qiang@example.com"
    assert c.address(Channel.INBOX) == USCC
    assert (c.masked_phone, c.masked_email) == ("139****0000", "l***@example.com")


def test_an_officer_registers_a_collector_reads_and_may_not_add() -> None:
    w = World()
    with w.uow() as uow:
        made = contacts.register_contact(uow, w.officer, uscc=USCC, name="王芳",
                                         role=ContactRole.FINANCE, phone="13800138000",
                                         email=None, now=w.now)  # fmt: skip
        uow.commit()
    assert made.contact_id > 0
    assert (made.registered_on, made.registered_by) == (w.today, "off")
    with w.uow() as uow:
        assert [c.name for c in contacts.contacts_of(uow, COLLECTOR, USCC)] == ["王芳"]
        with pytest.raises(AccessDeniedError):
            contacts.register_contact(uow, COLLECTOR, uscc=USCC, name="亲戚",
                                      role=ContactRole.OTHER, phone="13900000000",
                                      email=None, now=w.now)  # fmt: skip
        records = list(uow.audit.records())
    assert ("off", "contact.registered") in [(r.actor, r.action) for r in records]
    assert not any("13800138000" in str(r.detail) for r in records)  # masked in the audit


def test_one_active_contact_per_channel_and_retiring_frees_it() -> None:
    w = World()
    with w.uow() as uow:
        first = contacts.register_contact(uow, w.officer, uscc=USCC, name="王芳",
                                          role=ContactRole.FINANCE, phone="13800138000",
                                          email=None, now=w.now)  # fmt: skip
        uow.commit()
    with w.uow() as uow, pytest.raises(ConcurrentChangeError):
        contacts.register_contact(uow, w.officer, uscc=USCC, name="王芳2",
                                  role=ContactRole.OTHER, phone="138 0013 8000", email=None,
                                  now=w.now)  # fmt: skip
    with w.uow() as uow:
        retired = contacts.retire_contact(uow, w.officer, first.contact_id, w.now)
        uow.commit()
    assert retired.retired_on == w.today
    assert not retired.active
    with w.uow() as uow:
        contacts.register_contact(uow, w.officer, uscc=USCC, name="王芳", role=ContactRole.FINANCE,
                                  phone="13800138000", email=None, now=w.now)  # fmt: skip
        uow.commit()
        listed = contacts.contacts_of(uow, w.officer, USCC)
    assert [c.active for c in listed] == [False, True]
    with pytest.raises(ContactError, match="retired"):
        listed[0].retire(w.today)
