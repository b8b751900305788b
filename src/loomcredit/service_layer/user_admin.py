"""Use cases: users — signing in, granting roles (four eyes), disabling.

The first users of a new installation are made on the server with ``loom users add`` (the
operator, audited under their OS account name); after that a role is granted only when one admin
asks and another approves (``approvals.py``), so no single admin can stand up users of every
role and lend alone. Disabling is immediate: the user's tokens stop working at once (the token
epoch goes up). Sign-ins, failed sign-ins and refusals are audited.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from loomcredit.domain.approval import ApprovalRequest, RoleGrantOrder
from loomcredit.domain.errors import NotFound
from loomcredit.service_layer.errors import InvalidRequestError
from loomcredit.service_layer.unit_of_work import DuplicateKey, UnitOfWork
from loomcredit.service_layer.users import (
    Action,
    Role,
    UnauthenticatedError,
    User,
    UserAccount,
    parse_role,
    require,
    validate_new_user,
)


class PasswordCheck(Protocol):
    """Checks a password against a stored hash (argon2 in adapters)."""

    def __call__(self, stored_hash: str, password: str) -> bool:
        """Whether they match."""
        ...


def create_user(
    uow: UnitOfWork,
    *,
    actor: str,
    name: str,
    role: str,
    password_hash: str,
    enterprise: str | None,
    now: datetime,
) -> UserAccount:
    """Make a user directly — the server operator's bootstrap path (``loom users add``), and how
    an approved grant creates one. ``actor`` is the real person recorded in the audit."""
    parsed = parse_role(role)
    uscc = validate_new_user(name, parsed, enterprise)
    account = UserAccount(name, parsed, uscc, password_hash, now)
    try:
        uow.users.add(account)
    except DuplicateKey:
        raise InvalidRequestError(f"user {name!r} already exists") from None
    uow.audit.append(
        actor, "user.added", f"user:{name}", {"role": parsed.value, "enterprise": uscc}, now
    )
    return account


def check_grant(uow: UnitOfWork, order: RoleGrantOrder) -> None:
    """A grant that can be carried out: a valid role and name; a new user needs a password, an
    existing one a different role."""
    role = parse_role(order.role)
    validate_new_user(order.user_name, role, order.enterprise_uscc)
    existing = uow.users.get(order.user_name)
    if existing is None and order.password_hash is None:
        raise InvalidRequestError(f"user {order.user_name!r} does not exist; give a password")
    if existing is not None and order.password_hash is not None:
        raise InvalidRequestError(f"user {order.user_name!r} already exists")
    if existing is not None and existing.role is role:
        raise InvalidRequestError(f"user {order.user_name!r} already has the role {role.value}")


def grant(
    uow: UnitOfWork, approver: User, request: ApprovalRequest, order: RoleGrantOrder, now: datetime
) -> UserAccount:
    """Carry out an approved grant: create the user, or change its role (its old tokens stop)."""
    check_grant(uow, order)
    actor = f"{approver.name} (approving {request.requested_by})"
    if order.password_hash is not None:
        return create_user(
            uow,
            actor=actor,
            name=order.user_name,
            role=order.role,
            password_hash=order.password_hash,
            enterprise=order.enterprise_uscc,
            now=now,
        )
    account = uow.users.get(order.user_name)
    if account is None:  # pragma: no cover - checked above
        raise NotFound(f"user {order.user_name} does not exist")
    before = account.role
    account.role = parse_role(order.role)
    account.enterprise_uscc = validate_new_user(account.name, account.role, order.enterprise_uscc)
    account.token_epoch += 1
    uow.users.save(account)
    uow.audit.append(
        actor,
        "user.role_changed",
        f"user:{account.name}",
        {"from": before.value, "to": account.role.value},
        now,
    )
    return account


def disable_user(
    uow: UnitOfWork, admin: User, name: str, *, reason: str, now: datetime
) -> UserAccount:
    """Disable a user now: every token it holds stops working at once."""
    require(admin, Action.MANAGE_USERS)
    if name == admin.name:
        raise InvalidRequestError("an admin cannot disable themself")
    if not reason.strip():
        raise InvalidRequestError("disabling a user needs a reason")
    account = uow.users.get(name)
    if account is None:
        raise NotFound(f"user {name} does not exist")
    account.disabled_at = now
    account.token_epoch += 1
    uow.users.save(account)
    uow.audit.append(admin.name, "user.disabled", f"user:{name}", {"reason": reason}, now)
    return account


def list_users(uow: UnitOfWork, admin: User) -> list[UserAccount]:
    """Every user (admins)."""
    require(admin, Action.MANAGE_USERS)
    return uow.users.find()


def sign_in(
    uow: UnitOfWork, name: str, password: str, check: PasswordCheck, *, now: datetime
) -> UserAccount:
    """Check a name and password; both outcomes are audited (the password never is).

    The caller commits either way, so a failed sign-in leaves its record."""
    account = uow.users.get(name)
    if account is None or not check(account.password_hash, password):
        uow.audit.append(name[:64], "auth.failed", f"user:{name[:60]}", {"why": "credentials"}, now)
        raise UnauthenticatedError("wrong user name or password")
    if not account.is_enabled:
        uow.audit.append(name, "auth.failed", f"user:{name}", {"why": "disabled"}, now)
        raise UnauthenticatedError("this user is disabled")
    uow.audit.append(name, "auth.signed_in", f"user:{name}", {"role": account.role.value}, now)
    return account


def token_user(uow: UnitOfWork, name: str, epoch: int) -> User:
    """The user a token names, if it may still act: it exists, is enabled, and the token was
    issued in its current epoch (disabling or a role change ends older tokens)."""
    account = uow.users.get(name)
    if account is None:
        raise UnauthenticatedError("the user of this token no longer exists")
    if not account.is_enabled:
        raise UnauthenticatedError("this user is disabled; the token no longer works")
    if epoch != account.token_epoch:
        raise UnauthenticatedError("this token was revoked; sign in again")
    return account.user


def record_refusal(
    uow: UnitOfWork, user: str, action: str, subject: str, reason: str, now: datetime
) -> None:
    """Audit a refused request (the request's own work is rolled back; this is kept)."""
    uow.audit.append(
        user or "anonymous",
        "access.refused",
        subject[:80],
        {"action": action, "reason": reason[:200]},
        now,
    )


def is_applicant(user: User) -> bool:
    """Whether the user acts for an enterprise."""
    return user.role is Role.APPLICANT
