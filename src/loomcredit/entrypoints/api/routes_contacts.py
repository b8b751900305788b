"""Routes: a borrower's registered contacts (登记联系人) — who notices go to, who collections may
contact. Channels are shown masked."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from loomcredit.domain.contacts import ContactRole
from loomcredit.entrypoints.api import views
from loomcredit.entrypoints.api.deps import CurrentUser, Id, Svc, Uow
from loomcredit.entrypoints.api.errors import ERRORS
from loomcredit.entrypoints.api.schemas import ContactIn
from loomcredit.service_layer import contacts

router = APIRouter(prefix="/api/v1", responses=ERRORS)
UsccPath = Annotated[str, Path(min_length=18, max_length=18, pattern=r"^[0-9A-Z]{18}$")]


@router.get("/borrowers/{uscc}/contacts", tags=["contacts"], summary="Contacts 登记联系人")
def list_contacts(uscc: UsccPath, user: CurrentUser, uow: Uow) -> list[dict[str, Any]]:
    """The borrower's contacts, active and retired, oldest first."""
    return [views.contact(c) for c in contacts.contacts_of(uow, user, uscc)]


@router.post(
    "/borrowers/{uscc}/contacts",
    status_code=201,
    tags=["contacts"],
    summary="Register a contact 登记联系人",
)
def add_contact(
    uscc: UsccPath, body: ContactIn, user: CurrentUser, svc: Svc, uow: Uow
) -> dict[str, Any]:
    """A customer manager registers a contact the borrower gave in its contract (409 when the
    borrower already has an active contact on that mobile or e-mail)."""
    made = contacts.register_contact(uow, user, uscc=uscc, name=body.name,
                                     role=ContactRole(body.role), phone=body.phone,
                                     email=body.email, now=svc.clock())  # fmt: skip
    uow.commit()
    return views.contact(made)


@router.post("/contacts/{contact_id}/retire", tags=["contacts"], summary="Retire 停用联系人")
def retire_contact(contact_id: Id, user: CurrentUser, svc: Svc, uow: Uow) -> dict[str, Any]:
    """Retire a contact (kept on record; nothing is sent to it any more)."""
    done = contacts.retire_contact(uow, user, contact_id, svc.clock())
    uow.commit()
    return views.contact(done)
