"""Use case: the collection figures (催收指标) as of a date, from the book alone.

Roll rates, cure rate and amount recovered by bucket (``domain/collection_figures.py``) over the
month ends of the last ``months`` months that end of day has closed, with what the collection
cases give over the same months (promises kept, contacts per case, cases per collector:
``collections.case_figures``). Readers: risk managers, customer managers, collectors, auditors.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from fractions import Fraction

from loomcredit.domain.collection_figures import CollectionFigures, collection_figures, month_ends
from loomcredit.domain.daycount import add_months
from loomcredit.service_layer.collections import case_figures
from loomcredit.service_layer.errors import InvalidRequestError
from loomcredit.service_layer.unit_of_work import UnitOfWork
from loomcredit.service_layer.users import Action, User, require

DEFAULT_MONTHS = 12
"""How far back the report looks by default (month ends)."""


def collection_report(
    uow: UnitOfWork, user: User, *, as_of: date, months: int = DEFAULT_MONTHS
) -> CollectionFigures:
    """The figures over the month ends from ``months`` months before ``as_of`` up to ``as_of``
    (never past the last day end of day closed: a month end not closed has no loan-days)."""
    require(user, Action.READ_COLLECTIONS)
    if not 1 <= months <= 120:
        raise InvalidRequestError(f"months must be 1–120, not {months}")
    first_eod, last_eod = uow.book.first_eod_date(), uow.book.last_eod_date()
    if first_eod is None or last_eod is None:
        return collection_figures(as_of, [], [], [])
    until = min(as_of, last_eod)
    if until < first_eod:  # before the book's first day: nothing recorded yet
        return collection_figures(as_of, [], [], [])
    start = max(add_months(until, -months), first_eod)
    ends = month_ends(start, until)
    states = uow.book.month_end_states(ends)
    receipts = uow.book.receipts_by_bucket(start.replace(day=1), until)
    figures = collection_figures(as_of, ends, states, receipts)
    cases = case_figures(uow, user, start.replace(day=1), until.replace(day=1))
    judged = cases.promises_judged
    return replace(
        figures,
        promise_kept_rate=Fraction(cases.promises_kept, judged) if judged else None,
        contacts_per_case=Fraction(cases.contacts, cases.cases) if cases.cases else None,
        cases_per_collector=tuple(cases.cases_per_collector),
    )
