"""Request dependencies: the service, a unit of work, the signed-in user (Annotated aliases)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from loomcredit.adapters.security import read_token
from loomcredit.adapters.sqlalchemy_uow import SqlAlchemyUnitOfWork
from loomcredit.bootstrap.service import Service
from loomcredit.entrypoints.api.schemas import Text
from loomcredit.service_layer.user_admin import token_user
from loomcredit.service_layer.users import UnauthenticatedError, User

_bearer = HTTPBearer(auto_error=False)


def get_service(request: Request) -> Service:
    """The service wired at start-up."""
    svc: Service = request.app.state.service
    return svc


Svc = Annotated[Service, Depends(get_service)]


def get_uow(svc: Svc) -> Iterator[SqlAlchemyUnitOfWork]:
    """A unit of work for the request (rolled back unless the route commits)."""
    with svc.uow() as uow:
        yield uow


Uow = Annotated[SqlAlchemyUnitOfWork, Depends(get_uow)]


def current_user(
    request: Request,
    svc: Svc,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    """The user named by a valid bearer token, if still enabled and in its token epoch."""
    if creds is None or creds.scheme.lower() != "bearer":
        raise UnauthenticatedError(
            "sign in at /api/v1/auth/token and send 'Authorization: Bearer <token>'"
        )
    claims = read_token(creds.credentials, svc.secret, now=svc.clock())
    with svc.uow() as uow:
        user = token_user(uow, claims["sub"], int(claims.get("epoch", "0")))
    request.state.user_name = user.name
    return user


CurrentUser = Annotated[User, Depends(current_user)]
#: A record id in a path: a positive 32-bit integer (larger values are a 422, not a crash).
Id = Annotated[int, Path(ge=1, le=2_147_483_647)]
IdempotencyKey = Annotated[
    Text,
    Header(alias="Idempotency-Key", min_length=1, max_length=100, description="unique per request"),
]
