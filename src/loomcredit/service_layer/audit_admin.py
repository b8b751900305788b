"""Use cases: verifying the audit chain, and sealing a chain made before it was keyed."""

from __future__ import annotations

from datetime import datetime

from loomcredit.service_layer.audit import ChainReport, verify_chain
from loomcredit.service_layer.unit_of_work import UnitOfWork
from loomcredit.service_layer.users import Action, User, require


def seal_chain(uow: UnitOfWork, *, now: datetime) -> bool:
    """After an upgrade, append the first keyed record so the head is sealed by the audit key
    (records before it stay verifiable by their SHA-256 links); True if it did."""
    head = uow.audit.head()
    if head is not None and head.mac is not None:
        return False
    uow.audit.append(
        "system",
        "audit.chain_keyed",
        "audit",
        {"legacy_records": 0 if head is None else head.seq},
        now,
    )
    uow.commit()
    return True


def verify(uow: UnitOfWork, user: User | None, key: bytes) -> ChainReport:
    """Verify the whole chain and its sealed head (``user`` None: the operator's CLI)."""
    if user is not None:
        require(user, Action.READ_AUDIT)
    return verify_chain(uow.audit.records(), uow.audit.head(), key)
