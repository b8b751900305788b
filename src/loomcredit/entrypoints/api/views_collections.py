"""JSON views of collection cases and their figures (money as decimal strings)."""

from __future__ import annotations

from loomcredit.domain.collections import Activity, CollectionCase, Promise
from loomcredit.entrypoints.api.views import Json, money
from loomcredit.service_layer.collections import CaseFigures


def activity(a: Activity) -> Json:
    """One contact made."""
    return {
        "id": a.activity_id,
        "kind": a.kind.value,
        "kind_zh": a.kind.label_zh,
        "outcome": a.outcome.value,
        "outcome_zh": a.outcome.label_zh,
        "contact_id": a.contact_id,
        "by": a.by,
        "at": a.at.isoformat(),
        "note": a.note,
    }


def promise(p: Promise) -> Json:
    """One promise to pay."""
    return {
        "id": p.promise_id,
        "made_on": p.made_on.isoformat(),
        "due_on": p.due_on.isoformat(),
        "amount": money(p.amount),
        "by": p.by,
        "status": p.status.value,
        "status_zh": p.status.label_zh,
        "settled": money(p.settled),
        "evaluated_on": None if p.evaluated_on is None else p.evaluated_on.isoformat(),
    }


def case(c: CollectionCase, *, full: bool = False) -> Json:
    """A case (``full``: with its moves, activities and promises)."""
    out: Json = {
        "id": c.case_id,
        "uscc": c.uscc,
        "region": c.region,
        "status": c.status.value,
        "close_reason": None if c.close_reason is None else c.close_reason.value,
        "opened_on": c.opened_on.isoformat(),
        "closed_on": None if c.closed_on is None else c.closed_on.isoformat(),
        "bucket": c.bucket.value,
        "dpd": c.dpd,
        "overdue": {
            "principal": money(c.principal),
            "interest": money(c.interest),
            "penalty": money(c.penalty),
            "compound": money(c.compound),
            "total": money(c.overdue),
        },
        "exposure": money(c.exposure),
        "pd": None if c.pd is None else str(c.pd),
        "priority": money(type(c.exposure)(c.priority_fen, c.exposure.currency)),
        "broken_promise": c.broken_promise,
        "collector": c.collector,
        "next_action_on": c.next_action_on.isoformat(),
        "dispute_open": c.dispute_open,
        "escalation": c.escalation or None,
        "escalation_ids": list(c.escalation_ids),
        "loan_ids": list(c.loan_ids),
    }
    if full:
        out["moves"] = [
            {
                "on": m.on.isoformat(),
                "from": None if m.from_bucket is None else m.from_bucket.value,
                "to": m.to_bucket.value,
                "dpd": m.dpd,
            }
            for m in c.moves
        ]
        out["activities"] = [activity(a) for a in c.activities]
        out["promises"] = [promise(p) for p in c.promises]
    return out


def figures(f: CaseFigures) -> Json:
    """The case figures of some months."""
    return {
        "from_month": f"{f.from_month:%Y-%m}",
        "to_month": f"{f.to_month:%Y-%m}",
        "promises": {
            "judged": f.promises_judged,
            "kept": f.promises_kept,
            "partly_kept": f.promises_partly_kept,
            "broken": f.promises_broken,
        },
        "promise_kept_rate": None if f.promise_kept_rate is None else str(f.promise_kept_rate),
        "cases": f.cases,
        "contacts": f.contacts,
        "contacts_per_case": None if f.contacts_per_case is None else str(f.contacts_per_case),
        "cases_per_collector": [{"collector": c, "cases": n} for c, n in f.cases_per_collector],
    }
