"""Request dependencies: the service, a unit of work, the signed-in user (Annotated aliases)."""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from typing import Annotated, Any

from fastapi import Depends, Header, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from loomcredit.adapters.security import read_token
from loomcredit.adapters.sqlalchemy_uow import SqlAlchemyUnitOfWork
from loomcredit.bootstrap.service import Service
from loomcredit.domain.money import Money, round_fraction
from loomcredit.entrypoints.api.schemas import Text
from loomcredit.service_layer.users import Role, UnauthenticatedError, User

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
    svc: Svc, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> User:
    """The user named by a valid bearer token."""
    if creds is None or creds.scheme.lower() != "bearer":
        raise UnauthenticatedError(
            "sign in at /api/v1/auth/token and send 'Authorization: Bearer <token>'"
        )
    claims = read_token(creds.credentials, svc.secret, now=svc.clock())
    with svc.uow() as uow:
        row = uow.get_user(claims["sub"])
    if row is None:
        raise UnauthenticatedError("the user of this token no longer exists")
    return User(row["name"], Role(row["role"]), row["enterprise_uscc"])


CurrentUser = Annotated[User, Depends(current_user)]
#: A record id in a path: a positive 32-bit integer (larger values are a 422, not a crash).
Id = Annotated[int, Path(ge=1, le=2_147_483_647)]
IdempotencyKey = Annotated[
    Text,
    Header(alias="Idempotency-Key", min_length=1, max_length=100, description="unique per request"),
]


def money_out(fen: int, currency: str = "CNY") -> dict[str, str]:
    """Money as the API shows it: a decimal string and a currency."""
    return {"amount": Money(int(fen), currency).amount_str(), "currency": currency}


def to_json(value: Any) -> Any:
    """Rows to JSON: ``*_fen`` columns become money objects, dates ISO strings."""
    from datetime import date, datetime

    if isinstance(value, Money):
        return money_out(value.minor, value.currency)
    if isinstance(value, dict):
        cur = value.get("currency", "CNY")
        out: dict[str, Any] = {}
        for k, v in value.items():
            if k.endswith("_fen") and isinstance(v, int):
                out[k.removesuffix("_fen")] = money_out(v, cur)
            elif k.endswith("_fen") and v is None:
                out[k.removesuffix("_fen")] = None
            elif k in ("accrued_penalty_e8", "accrued_interest_e8"):
                out[k.removesuffix("_e8")] = money_out(
                    round_fraction(Fraction(int(v), 100_000_000)), cur
                )
            elif k == "password_hash":
                continue
            else:
                out[k] = to_json(v)
        return out
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
