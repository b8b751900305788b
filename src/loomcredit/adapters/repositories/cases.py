"""Collection cases on SQLAlchemy (``collection_cases`` with ``case_bucket_moves``,
``case_activities`` and ``case_promises``: one aggregate), and the set-based reads end of day
needs to update them.

The database keeps one open case per borrower (a partial unique index). End of day loads the open
cases with their children in four statements, writes new cases and children as bulk inserts and
the changed cases as one executemany UPDATE; on PostgreSQL it loads them ``FOR UPDATE`` so a
contact recorded meanwhile waits for it instead of being overwritten.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, select, update

from loomcredit.adapters import orm
from loomcredit.adapters.repositories._base import (
    Tx,
    among,
    aware,
    insert_many,
    insert_one,
    locked,
)
from loomcredit.domain.collection_policy import CaseBucket
from loomcredit.domain.collections import (
    Activity,
    BucketMove,
    CaseStatus,
    CloseReason,
    CollectionCase,
    LoanArrears,
    Outcome,
    Promise,
    PromiseStatus,
)
from loomcredit.domain.conduct import ActivityKind
from loomcredit.domain.end_of_day import e8_to_fen
from loomcredit.domain.money import Money
from loomcredit.service_layer.unit_of_work import (
    BorrowerProfile,
    CaseRepository,
    Settlement,
    StaleAggregate,
)

_C, _M, _A, _P = orm.collection_cases, orm.case_bucket_moves, orm.case_activities, orm.case_promises
_STATE = (
    "status",
    "close_reason",
    "closed_on",
    "last_seen_on",
    "bucket",
    "dpd",
    "principal_fen",
    "interest_fen",
    "penalty_fen",
    "compound_fen",
    "exposure_fen",
    "loan_ids",
    "collector",
    "next_action_on",
    "priority_fen",
    "dispute_open",
    "escalation",
    "escalation_ids",
)


def _ints(values: Iterable[int]) -> str:
    return ",".join(str(v) for v in values)


def _parse_ints(text: str) -> tuple[int, ...]:
    return tuple(int(v) for v in text.split(",") if v)


def _state(case: CollectionCase) -> dict[str, Any]:
    return {
        "status": case.status.value,
        "close_reason": None if case.close_reason is None else case.close_reason.value,
        "closed_on": case.closed_on,
        "last_seen_on": case.last_seen_on,
        "bucket": case.bucket.value,
        "dpd": case.dpd,
        "principal_fen": case.principal.minor,
        "interest_fen": case.interest.minor,
        "penalty_fen": case.penalty.minor,
        "compound_fen": case.compound.minor,
        "exposure_fen": case.exposure.minor,
        "loan_ids": _ints(case.loan_ids),
        "collector": case.collector,
        "next_action_on": case.next_action_on,
        "priority_fen": case.priority_fen,
        "dispute_open": case.dispute_open,
        "escalation": case.escalation,
        "escalation_ids": _ints(case.escalation_ids),
    }


def _new_row(case: CollectionCase) -> dict[str, Any]:
    factors = case.season_factors
    return {
        **_state(case),
        "uscc": case.uscc,
        "region": case.region,
        "opened_on": case.opened_on,
        "currency": case.exposure.currency,
        "pd": None if case.pd is None else str(case.pd),
        "season_factors": None if factors is None else ",".join(str(f) for f in factors),
        "version": case.version,
    }


class SqlCaseRepository(CaseRepository):
    """The collection case tables, and reads of ``loans``, ``loan_days``, ``credit_lines``,
    ``applications`` and ``repayments`` for end of day."""

    def __init__(self, tx: Tx) -> None:
        self._tx = tx

    # -- writes ---------------------------------------------------------------------------------
    def add(self, case: CollectionCase) -> int:
        """Insert (a second open case for the borrower is :class:`DuplicateKey`); sets the id."""
        case.case_id = insert_one(self._tx, _C, _new_row(case))
        self._children([case])
        return case.case_id

    def add_many(self, cases: Sequence[CollectionCase]) -> None:
        """Insert new cases in bulk, then their children; sets the ids."""
        if not cases:
            return
        ids = insert_many(self._tx, _C, [_new_row(c) for c in cases], ids=True)
        for case, case_id in zip(cases, ids, strict=True):
            case.case_id = case_id
        self._children(cases)

    def save(self, case: CollectionCase) -> None:
        """Update if unchanged since loaded (else :class:`StaleAggregate`), then the children."""
        stmt = (
            update(_C)
            .where(_C.c.id == case.case_id, _C.c.version == case.version)
            .values(**_state(case), version=case.version + 1)
        )
        if self._tx.conn.execute(stmt).rowcount != 1:
            raise StaleAggregate(f"collection case {case.case_id} changed since it was read")
        case.version += 1
        self._children([case])

    def save_many(self, cases: Sequence[CollectionCase]) -> None:
        """One executemany UPDATE (the cases were loaded locked by :meth:`open_cases`)."""
        if not cases:
            return
        stmt = (
            update(_C)
            .where(_C.c.id == bindparam("b_id"))
            .values({k: bindparam(f"b_{k}") for k in (*_STATE, "version")})
        )
        rows = []
        for case in cases:
            case.version += 1
            state = _state(case)
            rows.append(
                {
                    "b_id": case.case_id,
                    "b_version": case.version,
                    **{f"b_{k}": state[k] for k in _STATE},
                }
            )
        self._tx.conn.execute(stmt, rows)
        self._children(cases)

    def _children(self, cases: Sequence[CollectionCase]) -> None:
        """Insert the new moves, activities and promises; update the judged promises."""
        moves = [(c, k, m) for c in cases for k, m in enumerate(c.moves) if not m.move_id]
        ids = insert_many(
            self._tx,
            _M,
            [
                {
                    "case_id": c.case_id,
                    "moved_on": m.on,
                    "from_bucket": _bucket_text(m.from_bucket),
                    "to_bucket": m.to_bucket.value,
                    "dpd": m.dpd,
                }
                for c, _, m in moves
            ],
            ids=True,
        )
        for (c, k, m), move_id in zip(moves, ids, strict=True):
            c.moves[k] = replace(m, move_id=move_id)
        acts = [(c, k, a) for c in cases for k, a in enumerate(c.activities) if not a.activity_id]
        ids = insert_many(
            self._tx,
            _A,
            [
                {
                    "case_id": c.case_id,
                    "kind": a.kind.value,
                    "outcome": a.outcome.value,
                    "contact_id": a.contact_id,
                    "actor": a.by,
                    "at": aware(a.at),
                    "note": a.note,
                }
                for c, _, a in acts
            ],
            ids=True,
        )
        for (c, k, a), act_id in zip(acts, ids, strict=True):
            c.activities[k] = replace(a, activity_id=act_id)
        new = [(c, p) for c in cases for p in c.promises if not p.promise_id]
        fresh = {id(p) for _, p in new}
        ids = insert_many(
            self._tx,
            _P,
            [
                {
                    "case_id": c.case_id,
                    "made_on": p.made_on,
                    "due_on": p.due_on,
                    "amount_fen": p.amount.minor,
                    "currency": p.amount.currency,
                    "actor": p.by,
                    "status": p.status.value,
                    "settled_fen": _fen(p.settled),
                    "evaluated_on": p.evaluated_on,
                }
                for c, p in new
            ],
            ids=True,
        )
        for (_, p), promise_id in zip(new, ids, strict=True):
            p.promise_id = promise_id
        judged = [
            p
            for c in cases
            for p in c.promises
            if p.status is not PromiseStatus.PENDING and id(p) not in fresh
        ]
        if judged:
            stmt = (
                update(_P)
                .where(_P.c.id == bindparam("b_id"))
                .values(
                    status=bindparam("b_status"),
                    settled_fen=bindparam("b_settled"),
                    evaluated_on=bindparam("b_on"),
                )
            )
            self._tx.conn.execute(
                stmt,
                [
                    {
                        "b_id": p.promise_id,
                        "b_status": p.status.value,
                        "b_settled": _fen(p.settled),
                        "b_on": p.evaluated_on,
                    }
                    for p in judged
                ],
            )

    # -- reads ----------------------------------------------------------------------------------
    def get(self, case_id: int, *, lock: bool = False) -> CollectionCase | None:
        """One case with its children."""
        stmt = locked(self._tx, select(_C).where(_C.c.id == case_id), lock)
        found = self._load(list(self._tx.conn.execute(stmt)))
        return found[0] if found else None

    def open_cases(self) -> dict[str, CollectionCase]:
        """Every open case by borrower, locked on PostgreSQL."""
        stmt = locked(self._tx, select(_C).where(_C.c.status == CaseStatus.OPEN.value), True)
        return {c.uscc: c for c in self._load(list(self._tx.conn.execute(stmt)))}

    def find(
        self, *, open_only: bool = True, collector: str | None = None, uscc: str | None = None
    ) -> list[CollectionCase]:
        """Highest priority first, then by id."""
        stmt = select(_C).order_by(_C.c.priority_fen.desc(), _C.c.id)
        if open_only:
            stmt = stmt.where(_C.c.status == CaseStatus.OPEN.value)
        if collector is not None:
            stmt = stmt.where(_C.c.collector == collector)
        if uscc is not None:
            stmt = stmt.where(_C.c.uscc == uscc)
        return self._load(list(self._tx.conn.execute(stmt)))

    def _load(self, rows: list[Any]) -> list[CollectionCase]:
        if not rows:
            return []
        ids = [r.id for r in rows]
        moves: dict[int, list[BucketMove]] = defaultdict(list)
        for m in self._tx.conn.execute(
            select(_M).where(among(self._tx, _M.c.case_id, ids)).order_by(_M.c.id)
        ):
            moves[m.case_id].append(
                BucketMove(m.id, m.moved_on, _bucket(m.from_bucket), CaseBucket(m.to_bucket), m.dpd)
            )
        acts: dict[int, list[Activity]] = defaultdict(list)
        for a in self._tx.conn.execute(
            select(_A).where(among(self._tx, _A.c.case_id, ids)).order_by(_A.c.id)
        ):
            acts[a.case_id].append(
                Activity(
                    a.id,
                    ActivityKind(a.kind),
                    Outcome(a.outcome),
                    a.contact_id,
                    a.actor,
                    aware(a.at),
                    a.note,
                )
            )
        proms: dict[int, list[Promise]] = defaultdict(list)
        for p in self._tx.conn.execute(
            select(_P).where(among(self._tx, _P.c.case_id, ids)).order_by(_P.c.id)
        ):
            proms[p.case_id].append(
                Promise(
                    p.id,
                    p.made_on,
                    p.due_on,
                    Money(p.amount_fen, p.currency),
                    p.actor,
                    PromiseStatus(p.status),
                    None if p.settled_fen is None else Money(p.settled_fen, p.currency),
                    p.evaluated_on,
                )
            )
        return [_case(r, moves[r.id], acts[r.id], proms[r.id]) for r in rows]

    def arrears(self, as_of: date) -> list[LoanArrears]:
        """Loans whose DPD is above zero (a scan of ``loans``), with their loan-day of the date
        (by primary key)."""
        ln, d = orm.loans, orm.loan_days
        stmt = (
            select(
                d.c.loan_id,
                ln.c.uscc,
                d.c.dpd,
                d.c.overdue_principal_fen,
                d.c.overdue_interest_fen,
                ln.c.accrued_penalty_e8,
                ln.c.penalty_paid_fen,
                ln.c.outstanding_fen,
                ln.c.currency,
            )
            .select_from(ln.join(d, (d.c.loan_id == ln.c.id) & (d.c.as_of == as_of)))
            .where(ln.c.dpd > 0, d.c.dpd > 0)
            .order_by(d.c.loan_id)
        )
        out = []
        for r in self._tx.conn.execute(stmt):
            cur = r.currency
            penalty = max(0, e8_to_fen(int(r.accrued_penalty_e8)) - int(r.penalty_paid_fen))
            out.append(
                LoanArrears(
                    r.loan_id,
                    r.uscc,
                    r.dpd,
                    Money(r.overdue_principal_fen, cur),
                    Money(r.overdue_interest_fen, cur),
                    Money(penalty, cur),
                    Money(r.outstanding_fen, cur),
                )
            )
        return out

    def profiles(self, usccs: Iterable[str]) -> dict[str, BorrowerProfile]:
        """PD and seasonal factors of each borrower's latest line's decision."""
        wanted = list(usccs)
        if not wanted:
            return {}
        li, ap = orm.credit_lines, orm.applications
        stmt = (
            select(li.c.uscc, ap.c.decision_json)
            .select_from(li.join(ap, ap.c.id == li.c.application_id))
            .where(among(self._tx, li.c.uscc, wanted))
            .order_by(li.c.id)
        )
        return {r.uscc: _profile(r.decision_json) for r in self._tx.conn.execute(stmt)}

    def settlements(
        self, usccs: Iterable[str], since: date, until: date
    ) -> dict[str, list[Settlement]]:
        """Receipts on the borrowers' loans with a value date in the window, less suspense."""
        wanted = list(usccs)
        if not wanted:
            return {}
        rp, ln = orm.repayments, orm.loans
        stmt = (
            select(ln.c.uscc, rp.c.value_date, rp.c.amount_fen, rp.c.suspense_fen, rp.c.currency)
            .select_from(rp.join(ln, ln.c.id == rp.c.loan_id))
            .where(
                among(self._tx, ln.c.uscc, wanted),
                rp.c.value_date >= since,
                rp.c.value_date <= until,
            )
            .order_by(rp.c.id)
        )
        out: dict[str, list[Settlement]] = defaultdict(list)
        for r in self._tx.conn.execute(stmt):
            amount = Money(int(r.amount_fen) - int(r.suspense_fen), r.currency)
            out[r.uscc].append(Settlement(r.value_date, amount))
        return dict(out)

    def handed_to_legal(self, usccs: Iterable[str]) -> set[str]:
        """Borrowers with a case closed as handed to legal."""
        wanted = list(usccs)
        if not wanted:
            return set()
        stmt = select(_C.c.uscc).where(
            _C.c.close_reason == CloseReason.LEGAL.value, among(self._tx, _C.c.uscc, wanted)
        )
        return {r.uscc for r in self._tx.conn.execute(stmt)}


def _fen(money: Money | None) -> int | None:
    return None if money is None else money.minor


def _bucket(text: str | None) -> CaseBucket | None:
    return None if text is None else CaseBucket(text)


def _bucket_text(bucket: CaseBucket | None) -> str | None:
    return None if bucket is None else bucket.value


def _profile(decision_json: str) -> BorrowerProfile:
    """PD and ``record.limit.season_factors`` of a stored decision (absent: None)."""
    try:
        doc = json.loads(decision_json or "{}")
    except ValueError:
        return BorrowerProfile(None, None)
    pd = doc.get("pd")
    raw = ((doc.get("record") or {}).get("limit") or {}).get("season_factors")
    factors = tuple(Decimal(str(f)) for f in raw) if raw and len(raw) == 12 else None
    return BorrowerProfile(None if pd in (None, "") else Decimal(str(pd)), factors)


def _case(
    r: Any, moves: list[BucketMove], acts: list[Activity], proms: list[Promise]
) -> CollectionCase:
    cur = r.currency
    return CollectionCase(
        case_id=r.id,
        uscc=r.uscc,
        region=r.region,
        opened_on=r.opened_on,
        bucket=CaseBucket(r.bucket),
        dpd=r.dpd,
        principal=Money(r.principal_fen, cur),
        interest=Money(r.interest_fen, cur),
        penalty=Money(r.penalty_fen, cur),
        compound=Money(r.compound_fen, cur),
        exposure=Money(r.exposure_fen, cur),
        pd=None if r.pd is None else Decimal(r.pd),
        season_factors=(
            None
            if r.season_factors is None
            else tuple(Decimal(f) for f in r.season_factors.split(","))
        ),
        collector=r.collector,
        next_action_on=r.next_action_on,
        priority_fen=int(r.priority_fen),
        last_seen_on=r.last_seen_on,
        loan_ids=_parse_ints(r.loan_ids),
        status=CaseStatus(r.status),
        close_reason=None if r.close_reason is None else CloseReason(r.close_reason),
        closed_on=r.closed_on,
        dispute_open=bool(r.dispute_open),
        escalation=r.escalation,
        escalation_ids=_parse_ints(r.escalation_ids),
        moves=moves,
        activities=acts,
        promises=proms,
        version=r.version,
    )
