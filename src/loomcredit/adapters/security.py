"""Password hashing (argon2id, argon2-cffi) and signed access tokens with expiry (pyjwt)."""

from __future__ import annotations

from datetime import datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()
ALGORITHM = "HS256"


class BadTokenError(Exception):
    """A token that is malformed, forged or expired."""


def hash_password(password: str) -> str:
    """An argon2id hash of the password (salted, memory-hard)."""
    if len(password) < 8:
        raise ValueError("a password needs at least 8 characters")
    return _HASHER.hash(password)


def verify_password(stored: str, password: str) -> bool:
    """Whether the password matches the stored hash."""
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def issue_token(
    subject: str, role: str, secret: str, *, now: datetime, ttl: timedelta, epoch: int = 0
) -> str:
    """A signed token naming the user, role and token epoch, valid for ``ttl`` from ``now``."""
    claims = {
        "sub": subject,
        "role": role,
        "epoch": epoch,
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read_token(token: str, secret: str, *, now: datetime) -> dict[str, str]:
    """The claims of a valid token; raises :class:`BadTokenError` otherwise (expiry at ``now``)."""
    try:
        # Times are checked against the service's clock below, not the machine's.
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"verify_exp": False, "verify_iat": False},
        )
    except jwt.PyJWTError as exc:
        raise BadTokenError(str(exc)) from exc
    if int(claims.get("exp", 0)) <= int(now.timestamp()):
        raise BadTokenError("token expired")
    if int(claims.get("iat", 0)) > int(now.timestamp()):
        raise BadTokenError("token issued in the future")
    return {
        "sub": str(claims["sub"]),
        "role": str(claims["role"]),
        "epoch": str(int(claims.get("epoch", 0))),
    }
