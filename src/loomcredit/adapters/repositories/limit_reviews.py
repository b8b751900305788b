"""Monthly limit reviews on SQLAlchemy (``limit_reviews``).

The review's basis (PD, base limit, the month's limit and seasonal factor, every candidate limit
of the build-up) is stored as JSON: amounts in fen, PD and factors as text. A unique index on
(line_id, month) keeps one review per line and month.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update

from loomcredit.adapters import orm
from loomcredit.adapters.repositories._base import Tx, insert_one, required_date
from loomcredit.domain.decision.limits import LimitComponent
from loomcredit.domain.limit_review import LimitReview, ReviewBasis, ReviewOutcome
from loomcredit.domain.money import Money
from loomcredit.service_layer.unit_of_work import LimitReviewRepository

_T = orm.limit_reviews


def basis_json(basis: ReviewBasis | None) -> str | None:
    """The basis as JSON (None when there is none)."""
    if basis is None:
        return None
    doc = {
        "pd": None if basis.pd is None else str(basis.pd),
        "base_limit_fen": basis.base_limit.minor,
        "month_limit_fen": basis.month_limit.minor,
        "season_factor": None if basis.season_factor is None else str(basis.season_factor),
        "season_source": basis.season_source,
        "binding": basis.binding,
        "components": [
            {"name": c.name, "fen": c.amount.minor, "basis": c.basis} for c in basis.components
        ],
        "declined": basis.declined,
        "note": basis.note,
    }
    return json.dumps(doc, ensure_ascii=False, sort_keys=True)


def parse_basis(text: str | None, currency: str) -> ReviewBasis | None:
    """The basis a stored JSON text holds."""
    if not text:
        return None
    d = json.loads(text)
    return ReviewBasis(
        pd=None if d["pd"] is None else Decimal(d["pd"]),
        base_limit=Money(int(d["base_limit_fen"]), currency),
        month_limit=Money(int(d["month_limit_fen"]), currency),
        season_factor=None if d["season_factor"] is None else Decimal(d["season_factor"]),
        season_source=d["season_source"],
        binding=d["binding"],
        components=tuple(
            LimitComponent(c["name"], Money(int(c["fen"]), currency), c["basis"])
            for c in d["components"]
        ),
        declined=bool(d["declined"]),
        note=d["note"],
    )



def _review(row: Any) -> LimitReview:
    cur = row.currency
    month, as_of = required_date(row.month), required_date(row.as_of)
    return LimitReview(
        review_id=row.id,
        line_id=row.line_id,
        uscc=row.uscc,
        month=month,
        as_of=as_of,
        current=Money(int(row.current_fen), cur),
        approved=Money(int(row.approved_fen), cur),
        target=Money(int(row.target_fen), cur),
        basis=parse_basis(row.basis_json, cur),
        outcome=ReviewOutcome(row.outcome),
        reason_zh=row.reason_zh,
        reason_en=row.reason_en,
        approval_id=int(row.approval_id),
    )


class SqlLimitReviewRepository(LimitReviewRepository):
    """The ``limit_reviews`` table."""

    def __init__(self, tx: Tx) -> None:
        self._tx = tx

    def add(self, review: LimitReview) -> int:
        """Insert (a second review of the line for the month is :class:`DuplicateKey`)."""
        review.review_id = insert_one(
            self._tx,
            _T,
            {
                "line_id": review.line_id,
                "uscc": review.uscc,
                "month": review.month,
                "as_of": review.as_of,
                "current_fen": review.current.minor,
                "approved_fen": review.approved.minor,
                "target_fen": review.target.minor,
                "currency": review.current.currency,
                "outcome": review.outcome.value,
                "basis_json": basis_json(review.basis),
                "reason_zh": review.reason_zh,
                "reason_en": review.reason_en,
                "approval_id": review.approval_id,
            },
        )
        return review.review_id

    def get(self, review_id: int) -> LimitReview | None:
        """One review."""
        row = self._tx.conn.execute(select(_T).where(_T.c.id == review_id)).first()
        return None if row is None else _review(row)

    def save(self, review: LimitReview) -> None:
        """Store the outcome, reasons and approval id."""
        self._tx.conn.execute(
            update(_T)
            .where(_T.c.id == review.review_id)
            .values(
                outcome=review.outcome.value,
                reason_zh=review.reason_zh,
                reason_en=review.reason_en,
                approval_id=review.approval_id,
            )
        )

    def find(self, *, month: date | None = None, line_id: int | None = None) -> list[LimitReview]:
        """Reviews, newest month first, then by line."""
        stmt = select(_T).order_by(_T.c.month.desc(), _T.c.line_id)
        if month is not None:
            stmt = stmt.where(_T.c.month == month)
        if line_id is not None:
            stmt = stmt.where(_T.c.line_id == line_id)
        return [_review(r) for r in self._tx.conn.execute(stmt)]
