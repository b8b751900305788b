"""Users on SQLAlchemy."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from loomcredit.adapters import orm
from loomcredit.adapters.repositories._base import Tx, aware, aware_or_none
from loomcredit.service_layer.unit_of_work import DuplicateKey, UserRepository
from loomcredit.service_layer.users import Role, UserAccount

_T = orm.users


def _account(row: Any) -> UserAccount:
    return UserAccount(
        name=row.name,
        role=Role(row.role),
        enterprise_uscc=row.enterprise_uscc,
        password_hash=row.password_hash,
        created_at=aware(row.created_at),
        disabled_at=aware_or_none(row.disabled_at),
        token_epoch=int(row.token_epoch),
    )


def _values(user: UserAccount) -> dict[str, Any]:
    return {
        "role": user.role.value,
        "enterprise_uscc": user.enterprise_uscc,
        "password_hash": user.password_hash,
        "disabled_at": aware_or_none(user.disabled_at),
        "token_epoch": user.token_epoch,
    }


class SqlUserRepository(UserRepository):
    """The ``users`` table."""

    def __init__(self, tx: Tx) -> None:
        self._tx = tx

    def add(self, user: UserAccount) -> None:
        """Insert; a taken name is :class:`DuplicateKey`."""
        values = {**_values(user), "name": user.name, "created_at": aware(user.created_at)}
        try:
            with self._tx.conn.begin_nested():
                self._tx.conn.execute(insert(_T).values(**values))
        except IntegrityError as exc:
            raise DuplicateKey(f"user {user.name} exists") from exc

    def get(self, name: str) -> UserAccount | None:
        """By name."""
        row = self._tx.conn.execute(select(_T).where(_T.c.name == name)).first()
        return None if row is None else _account(row)

    def save(self, user: UserAccount) -> None:
        """Role, enterprise, password hash, disabled, token epoch."""
        self._tx.conn.execute(update(_T).where(_T.c.name == user.name).values(**_values(user)))

    def find(self) -> list[UserAccount]:
        """Everyone, by name."""
        return [_account(r) for r in self._tx.conn.execute(select(_T).order_by(_T.c.name))]
