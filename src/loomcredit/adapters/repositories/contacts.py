"""Registered contacts on SQLAlchemy (``contacts``): mobile and e-mail stored encrypted
(AES-256-GCM, base64) with a keyed hash beside each, so a duplicate is found without decrypting."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select, update

from loomcredit.adapters import orm
from loomcredit.adapters.repositories._base import Tx, as_date, insert_one, required_date
from loomcredit.domain.contacts import Contact, ContactRole
from loomcredit.pipeline.ingest.pii import decrypt, encrypt_text, join_hash
from loomcredit.service_layer.unit_of_work import ContactRepository, DuplicateKey

_T = orm.contacts


class SqlContactRepository(ContactRepository):
    """The ``contacts`` table."""

    def __init__(self, tx: Tx) -> None:
        self._tx = tx

    def _key(self) -> bytes:
        if self._tx.pii_key is None:
            raise RuntimeError("a PII key is needed to store or read contacts")
        return self._tx.pii_key

    def _sealed(self, value: str | None) -> tuple[str | None, str | None]:
        if value is None:
            return None, None
        key = self._key()
        return base64.b64encode(encrypt_text(value, key)).decode("ascii"), join_hash(value, key)

    def _opened(self, blob: str | None) -> str | None:
        return None if blob is None else decrypt(base64.b64decode(blob), self._key())

    def _contact(self, row: Any) -> Contact:
        return Contact(row.id, row.uscc, row.name, ContactRole(row.role),
                       self._opened(row.phone_enc), self._opened(row.email_enc),
                       required_date(row.registered_on), row.registered_by,
                       as_date(row.retired_on))  # fmt: skip

    def add(self, contact: Contact) -> int:
        phone_enc, phone_hash = self._sealed(contact.phone)
        email_enc, email_hash = self._sealed(contact.email)
        hashes = [h for h in (phone_hash, email_hash) if h is not None]
        clash = self._tx.conn.execute(
            select(_T.c.id).where(_T.c.uscc == contact.uscc, _T.c.retired_on.is_(None),
                                  _T.c.phone_hash.in_(hashes) | _T.c.email_hash.in_(hashes))
        ).first()  # fmt: skip
        if clash is not None:
            raise DuplicateKey(f"{contact.uscc} already has contact {clash.id} with that channel")
        values = {"uscc": contact.uscc, "name": contact.name, "role": contact.role.value,
                  "phone_enc": phone_enc, "phone_hash": phone_hash, "email_enc": email_enc,
                  "email_hash": email_hash, "registered_on": contact.registered_on,
                  "registered_by": contact.registered_by,
                  "retired_on": contact.retired_on}  # fmt: skip
        return insert_one(self._tx, _T, values)

    def get(self, contact_id: int) -> Contact | None:
        row = self._tx.conn.execute(select(_T).where(_T.c.id == contact_id)).first()
        return None if row is None else self._contact(row)

    def save(self, contact: Contact) -> None:
        self._tx.conn.execute(
            update(_T).where(_T.c.id == contact.contact_id).values(retired_on=contact.retired_on)
        )

    def for_borrowers(self, usccs: Iterable[str]) -> dict[str, list[Contact]]:
        wanted = sorted(set(usccs))
        found: dict[str, list[Contact]] = {}
        for start in range(0, len(wanted), 5000):
            stmt = select(_T).where(_T.c.uscc.in_(wanted[start : start + 5000])).order_by(_T.c.id)
            for row in self._tx.conn.execute(stmt):
                found.setdefault(row.uscc, []).append(self._contact(row))
        return found
