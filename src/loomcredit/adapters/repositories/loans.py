"""Loans on SQLAlchemy: one SELECT for the loans and one for their instalments however many are
read, and writes of only what changed (executemany), checked against the version read.

The repository remembers the state and schedule of every loan it read or stored in the current
transaction; :meth:`SqlLoanRepository.save_many` compares each loan with that and sends one
``UPDATE loans … WHERE id = ? AND version = ?`` executemany, then the instalments deleted,
changed and added (a prepayment replaces the undue instalments with renumbered ones). No row
updated for a loan means someone changed it since it was read (:class:`StaleAggregate`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    true,
    update,
)

from loomcredit.adapters import orm
from loomcredit.adapters.repositories._base import Tx, among, insert_one, locked
from loomcredit.adapters.repositories.loan_rows import (
    INSTALMENT_COLUMNS,
    INSTALMENT_SELECT,
    LOAN_SELECT,
    STATE_COLUMNS,
    I,
    Instalments,
    L,
    LoanBuilder,
    State,
    instalments_of,
    new_loan_row,
    state,
)
from loomcredit.domain.loan import DueSummary, Loan, LoanStatus, PlainRepayment
from loomcredit.domain.money import Money
from loomcredit.domain.payments import LoanAccount
from loomcredit.service_layer.unit_of_work import LoanRepository, StaleAggregate

_O = orm.original_installments
_SAVE_LOAN = (
    update(L)
    .where(L.c.id == bindparam("b_id"), L.c.version == bindparam("b_version"))
    .values(version=L.c.version + 1)
)
_KEY = (I.c.loan_id == bindparam("b_loan"), I.c.number == bindparam("b_number"))
_UPDATE_INST = update(I).where(*_KEY)
_DELETE_INST = delete(I).where(*_KEY)
_ACTIVE = LoanStatus.ACTIVE.value
_PLAIN_LOAN = (
    update(L)
    .where(L.c.id == bindparam("b_id"))
    .values(
        outstanding_fen=bindparam("b_out"),
        interest_recognised_fen=bindparam("b_rec"),
        interest_received_fen=bindparam("b_got"),
        version=L.c.version + 1,
    )
)

Seen = tuple[int, State, Instalments]


def _schedule_diff(
    loan_id: int,
    old: Instalments,
    new: Instalments,
    gone: list[dict[str, Any]],
    edits: list[dict[str, Any]],
    added: list[dict[str, Any]],
) -> None:
    """Append the instalment rows to delete, update and insert to turn ``old`` into ``new``."""
    for number, inst in new.items():
        values = dict(zip(INSTALMENT_COLUMNS, inst, strict=True))
        if number not in old:
            added.append({**values, "loan_id": loan_id, "number": number})
        elif old[number] != inst:
            edits.append({**values, "b_loan": loan_id, "b_number": number})
    gone += [{"b_loan": loan_id, "b_number": n} for n in old if n not in new]


class SqlLoanRepository(LoanRepository):
    """The ``loans``, ``installments`` and ``original_installments`` tables."""

    def __init__(self, tx: Tx) -> None:
        self._tx = tx
        self._seen: dict[int, Seen] = {}  # loan id -> (version, state, instalments) as stored
        tx.on_reset(self._seen.clear)

    # -- reading ---------------------------------------------------------------------------------
    def _load(self, where: ColumnElement[bool], *, lock: bool = False) -> dict[int, Loan]:
        conn = self._tx.conn
        stmt = locked(self._tx, select(L).where(where).order_by(L.c.id), lock)
        rows = conn.execute(stmt).all()
        if not rows:
            return {}
        # Few loans: their ids; many: the same filter again (one statement either way).
        if len(rows) <= 1_000:
            of_loans = among(self._tx, I.c.loan_id, [r.id for r in rows])
        else:
            of_loans = I.c.loan_id.in_(select(L.c.id).where(where))
        inst = conn.execute(
            select(*INSTALMENT_SELECT).where(of_loans).order_by(I.c.loan_id, I.c.number)
        ).all()
        by_loan: dict[int, list[tuple[Any, ...]]] = {}
        for r in inst:
            by_loan.setdefault(r[0], []).append(tuple(r[1:]))
        build = LoanBuilder()
        out: dict[int, Loan] = {}
        for row in rows:
            sched = by_loan.get(row.id, [])
            loan = build.loan(row, build.instalments(sched, row.currency))
            self._seen[row.id] = (row.version, state(loan), {s[0]: tuple(s[1:]) for s in sched})
            out[row.id] = loan
        return out

    def get(self, loan_id: int, *, lock: bool = False) -> Loan | None:
        """A loan and its schedule."""
        return self._load(L.c.id == loan_id, lock=lock).get(loan_id)

    def get_many(self, loan_ids: Iterable[int], *, lock: bool = False) -> dict[int, Loan]:
        """Several loans: one SELECT for the loans (locked in id order with ``lock``), one for
        their instalments."""
        ids = sorted(set(loan_ids))
        if not ids:
            return {}
        return self._load(among(self._tx, L.c.id, ids), lock=lock)

    def by_key(self, key: str) -> Loan | None:
        """The loan a disbursement key made."""
        found = self._load(L.c.disbursement_key == key)
        return next(iter(found.values()), None)

    def find(
        self,
        *,
        uscc: str | None = None,
        status: LoanStatus | None = None,
        line_id: int | None = None,
    ) -> list[Loan]:
        """By id."""
        where: ColumnElement[bool] = true()
        if uscc:
            where = where & (L.c.uscc == uscc)
        if status is not None:
            where = where & (L.c.status == status.value)
        if line_id is not None:
            where = where & (L.c.line_id == line_id)
        return list(self._load(where).values())

    def active_ids(self) -> list[int]:
        """Active loans' ids, in order."""
        stmt = select(L.c.id).where(L.c.status == _ACTIVE).order_by(L.c.id)
        return list(self._tx.conn.execute(stmt).scalars())

    def with_suspense_due(self, on: date) -> list[int]:
        """Active loans holding suspense with something unpaid due on or before ``on``."""
        due = (
            select(I.c.loan_id)
            .where(
                I.c.loan_id == L.c.id,
                I.c.due_on <= on,
                (I.c.principal_paid_fen < I.c.principal_fen)
                | (I.c.interest_paid_fen < I.c.interest_fen),
            )
            .exists()
        )
        stmt = (
            select(L.c.id).where(L.c.status == _ACTIVE, L.c.suspense_fen > 0, due).order_by(L.c.id)
        )
        return list(self._tx.conn.execute(stmt).scalars())

    def original(self, loan_id: int) -> Loan | None:
        """The loan as disbursed; None for loans booked before 0006 kept original schedules."""
        conn = self._tx.conn
        row = conn.execute(select(L).where(L.c.id == loan_id)).first()
        if row is None:
            return None
        sched = conn.execute(
            select(_O.c.number, _O.c.due_on, _O.c.principal_fen, _O.c.interest_fen)
            .where(_O.c.loan_id == loan_id)
            .order_by(_O.c.number)
        ).all()
        if not sched:
            return None
        return LoanBuilder().as_disbursed(row, [tuple(r) for r in sched])

    def accounts(self) -> dict[str, list[LoanAccount]]:
        """Loans by their line's settlement account (one join)."""
        c = orm.credit_lines
        stmt = (
            select(L.c.id, L.c.status, c.c.settlement_account)
            .join(c, c.c.id == L.c.line_id)
            .order_by(L.c.id)
        )
        out: dict[str, list[LoanAccount]] = {}
        for loan_id, status, account in self._tx.conn.execute(stmt):
            out.setdefault(account, []).append(LoanAccount(loan_id, status == _ACTIVE, account))
        return out

    # -- writing ---------------------------------------------------------------------------------
    def add(self, loan: Loan, *, at: datetime | None = None) -> int:
        """Insert the loan, its schedule and the schedule as the original; sets ``loan.ref``."""
        loan_id = insert_one(self._tx, L, new_loan_row(loan, at))
        loan.ref = replace(loan.ref, loan_id=loan_id)
        sched = instalments_of(loan)
        rows = [
            {"loan_id": loan_id, "number": n, **dict(zip(INSTALMENT_COLUMNS, s, strict=True))}
            for n, s in sched.items()
        ]
        if rows:
            self._tx.conn.execute(insert(I), rows)
            originals = [{k: r[k] for k in _O.c.keys()} for r in rows]  # noqa: SIM118
            self._tx.conn.execute(insert(_O), originals)
        self._seen[loan_id] = (loan.version, state(loan), sched)
        return loan_id

    def save(self, loan: Loan) -> None:
        """Store a changed loan and its schedule."""
        self.save_many([loan])

    def _remember(self, loan_ids: list[int]) -> None:
        """Read the stored state of loans saved without being read in this transaction."""
        conn, where = self._tx.conn, among(self._tx, L.c.id, loan_ids)
        rows = conn.execute(select(*LOAN_SELECT).where(where)).all()
        inst = conn.execute(
            select(*INSTALMENT_SELECT).where(among(self._tx, I.c.loan_id, loan_ids))
        ).all()
        sched: dict[int, Instalments] = {}
        for r in inst:
            sched.setdefault(r[0], {})[r[1]] = tuple(r[2:])
        for r in rows:
            self._seen[r[0]] = (r[1], tuple(r[2:]), sched.get(r[0], {}))

    def save_many(self, loans: Iterable[Loan]) -> None:
        """Store changed loans: one executemany per kind of write, in a savepoint;
        :class:`StaleAggregate` (and nothing written) if a loan changed since it was read."""
        todo = sorted(loans, key=lambda ln: ln.loan_id)
        missing = [ln.loan_id for ln in todo if ln.loan_id not in self._seen]
        if missing:
            self._remember(missing)
        changed: list[tuple[Loan, State, Instalments]] = []
        loan_rows: list[dict[str, Any]] = []
        gone: list[dict[str, Any]] = []
        edits: list[dict[str, Any]] = []
        added: list[dict[str, Any]] = []
        for loan in todo:
            seen = self._seen.get(loan.loan_id)
            if seen is None:
                raise StaleAggregate(f"loan {loan.loan_id} is not in the store")
            new_state, new_sched = state(loan), instalments_of(loan)
            if new_state == seen[1] and new_sched == seen[2]:
                continue
            changed.append((loan, new_state, new_sched))
            row = dict(zip(STATE_COLUMNS, new_state, strict=True))
            loan_rows.append({**row, "b_id": loan.loan_id, "b_version": loan.version})
            _schedule_diff(loan.loan_id, seen[2], new_sched, gone, edits, added)
        if not changed:
            return
        conn = self._tx.conn
        with conn.begin_nested():
            updated = conn.execute(_SAVE_LOAN, loan_rows).rowcount
            if updated != len(loan_rows):
                ids = ", ".join(str(ln.loan_id) for ln, _, _ in changed[:5])
                raise StaleAggregate(
                    f"loan(s) {ids}: {len(loan_rows) - updated} changed since they were read"
                )
            for stmt, params in ((_DELETE_INST, gone), (_UPDATE_INST, edits), (insert(I), added)):
                if params:
                    conn.execute(stmt, params)
        for loan, new_state, new_sched in changed:
            loan.version += 1
            self._seen[loan.loan_id] = (loan.version, new_state, new_sched)

    # -- set-based booking of plain receipts ------------------------------------------------------
    def due_summaries(
        self, loan_ids: Iterable[int], on: date, *, lock: bool = False
    ) -> dict[int, DueSummary]:
        """One SELECT grouping each loan's instalments (locked first, in id order, with
        ``lock`` on PostgreSQL)."""
        ids = sorted(set(loan_ids))
        if not ids:
            return {}
        conn = self._tx.conn
        if lock and self._tx.is_pg:
            conn.execute(select(L.c.id).where(among(self._tx, L.c.id, ids)).order_by(L.c.id)
                         .with_for_update())  # fmt: skip
        due = I.c.due_on <= on
        unsettled = or_(
            I.c.principal_paid_fen < I.c.principal_fen, I.c.interest_paid_fen < I.c.interest_fen
        )
        stmt = (
            select(
                L.c.id,
                L.c.line_id,
                L.c.status,
                L.c.currency,
                L.c.outstanding_fen,
                L.c.suspense_fen,
                L.c.accrued_penalty_e8,
                L.c.penalty_paid_fen,
                L.c.interest_recognised_fen,
                L.c.interest_received_fen,
                func.coalesce(
                    func.sum(case((due, I.c.principal_fen - I.c.principal_paid_fen), else_=0)), 0
                ),
                func.coalesce(
                    func.sum(case((due, I.c.interest_fen - I.c.interest_paid_fen), else_=0)), 0
                ),
                func.coalesce(func.max(case((and_(~due, unsettled), 1), else_=0)), 0),
            )
            .select_from(L.outerjoin(I, I.c.loan_id == L.c.id))
            .where(among(self._tx, L.c.id, ids))
            .group_by(L.c.id)
        )
        out: dict[int, DueSummary] = {}
        for r in conn.execute(stmt):
            cur = r[3]
            out[r[0]] = DueSummary(
                r[0], r[1] or 0, LoanStatus(r[2]), Money(int(r[4]), cur), Money(int(r[5]), cur),
                int(r[6]), Money(int(r[7]), cur), Money(int(r[8]), cur), Money(int(r[9]), cur),
                Money(int(r[10]), cur), Money(int(r[11]), cur), bool(r[12]),
            )  # fmt: skip
        return out

    def apply_plain(self, booked: Sequence[tuple[int, PlainRepayment]], on: date) -> None:
        """One UPDATE settling the instalments due, one executemany for the loans."""
        if not booked:
            return
        ids = [loan_id for loan_id, _ in booked]
        conn = self._tx.conn
        conn.execute(
            update(I)
            .where(
                among(self._tx, I.c.loan_id, ids),
                I.c.due_on <= on,
                or_(  # settled ones are left alone: rewriting them costs a row version each
                    I.c.principal_paid_fen < I.c.principal_fen,
                    I.c.interest_paid_fen < I.c.interest_fen,
                ),
            )
            .values(principal_paid_fen=I.c.principal_fen, interest_paid_fen=I.c.interest_fen)
        )
        if self._tx.is_pg:  # one statement over arrays (an executemany is a round trip a row)
            conn.exec_driver_sql(
                "UPDATE loans SET outstanding_fen = v.o, interest_recognised_fen = v.r, "
                "interest_received_fen = v.g, version = loans.version + 1 "
                "FROM unnest(%(i)s::bigint[], %(o)s::bigint[], %(r)s::bigint[], %(g)s::bigint[])"
                " AS v(i, o, r, g) WHERE loans.id = v.i",
                {
                    "i": ids,
                    "o": [p.outstanding.minor for _, p in booked],
                    "r": [p.interest_recognised.minor for _, p in booked],
                    "g": [p.interest_received.minor for _, p in booked],
                },
            )
        else:
            conn.execute(
                _PLAIN_LOAN,
                [
                    {
                        "b_id": loan_id,
                        "b_out": p.outstanding.minor,
                        "b_rec": p.interest_recognised.minor,
                        "b_got": p.interest_received.minor,
                    }
                    for loan_id, p in booked
                ],
            )
        for loan_id in ids:
            self._seen.pop(loan_id, None)
