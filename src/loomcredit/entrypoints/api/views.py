"""Aggregates and typed results to JSON, at the edge only: money as ``{"amount", "currency"}``,
dates ISO, enums by value. The shapes are what the API documents and the console reads."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from loomcredit.domain.alerts import Alert
from loomcredit.domain.application import Application
from loomcredit.domain.approval import (
    ApprovalRequest,
    BackValuedReceiptOrder,
    CallInOrder,
    DrawdownOrder,
    LegalActionOrder,
    LimitReviewOrder,
    LineReductionOrder,
    RestructureOrder,
    ReversalOrder,
    RoleGrantOrder,
    WriteOffOrder,
)
from loomcredit.domain.contacts import Contact
from loomcredit.domain.credit_line import CreditLine
from loomcredit.domain.decision.outcome import CreditDecision
from loomcredit.domain.end_of_day import e8_to_fen
from loomcredit.domain.limit_review import LimitReview, ReviewOutcome
from loomcredit.domain.loan import Loan, PayoffQuote
from loomcredit.domain.money import Money, Rate
from loomcredit.domain.payments import (
    PrepaymentRequest,
    Receipt,
    Reconciliation,
    StatementEntry,
    StatementImport,
    loan_reference,
)
from loomcredit.domain.restructuring import Restructured
from loomcredit.domain.waterfall import DEFAULT_ORDER
from loomcredit.service_layer.eod import EodRun
from loomcredit.service_layer.follow_up import TaskView
from loomcredit.service_layer.intake import Received
from loomcredit.service_layer.limit_review import ReviewRun
from loomcredit.service_layer.lines import LineView
from loomcredit.service_layer.loan_plan import LoanPlan
from loomcredit.service_layer.monitoring import MonitorRun
from loomcredit.service_layer.origination import ApplicationView, Contract
from loomcredit.service_layer.payments import AutoDebitRun, ImportResult, SettlementResult
from loomcredit.service_layer.users import UserAccount

Json = dict[str, Any]


def money(m: Money | None) -> Json | None:
    """Money as the API shows it."""
    return None if m is None else {"amount": m.amount_str(), "currency": m.currency}


def _d(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def decision(d: CreditDecision) -> Json:
    """The decision as stored (the full record parsed back for display)."""
    build = d.rate_build_up
    return {
        "band": d.band.value,
        "annual_rate": str(d.annual_rate),
        "limit": money(d.limit),
        "pd": None if d.pd is None else str(d.pd),
        "engine": d.engine,
        "decision_id": d.decision_id,
        "referral": d.is_referral,
        "reasons": list(d.reasons),
        "band_reasons": list(d.band_reasons),
        "product_kind": d.product_kind.value,
        "rate_build_up": None
        if build is None
        else {
            "lpr_1y": None if build.lpr_1y is None else str(build.lpr_1y),
            "spread": None if build.spread is None else str(build.spread),
            "all_in_rate": None if build.all_in_rate is None else str(build.all_in_rate),
            "bound": build.bound,
        },
        "record": json.loads(d.record_json) if d.record_json else None,
    }


def application(app: Application, legal_rep_shown: str | None = None, *, full: bool = True) -> Json:
    """An application (``full`` adds the decision)."""
    out: Json = {
        "id": app.app_id,
        "uscc": app.uscc,
        "amount": money(app.amount),
        "approved": money(app.approved),
        "term_months": app.term_months,
        "method": app.method,
        "status": app.status.value,
        "status_zh": app.status.label_zh,
        "band": app.decision.band.value,
        "annual_rate": str(app.decision.annual_rate),
        "as_of": _d(app.as_of),
        "created_by": app.created_by,
        "updated_by": app.updated_by,
        "reviewed_by": app.reviewed_by,
        "review_comment": app.review_comment,
        "settlement_account": app.settlement_account,
        "created_at": _d(app.created_at),
        "updated_at": _d(app.updated_at),
    }
    if full:
        out["legal_rep_id"] = legal_rep_shown
        out["decision"] = decision(app.decision)
    return out


def application_view(view: ApplicationView) -> Json:
    """An application as the user may see it."""
    return application(view.app, view.legal_rep_shown)


def plan(p: LoanPlan) -> Json:
    """A drawdown's plan and schedule."""
    s = p.schedule
    return {
        "method": p.method.value,
        "label_zh": p.label_zh,
        "seasonal": p.seasonal,
        "reason_zh": p.reason_zh,
        "reason_en": p.reason_en,
        "from_decision": p.from_decision,
        "total_interest": money(s.total_interest),
        "schedule": [
            {
                "number": i.number,
                "due_on": _d(i.due_on),
                "principal": money(i.principal),
                "interest": money(i.interest),
                "payment": money(i.payment),
                "balance_after": money(i.balance_after),
            }
            for i in s.installments
        ],
    }


def contract(c: Contract) -> Json:
    """合同要素."""
    app = c.app
    rate = Rate(app.decision.annual_rate)
    laid = plan(c.plan)
    return {
        "application_id": app.app_id,
        "amount": money(app.approved_amount),
        "amount_asked": money(app.amount),
        "annual_rate": str(app.decision.annual_rate),
        "annual_rate_percent": rate.percent(2),
        "rate_build_up": decision(app.decision)["rate_build_up"],
        "method": laid["method"],
        "method_zh": laid["label_zh"],
        "plan": {k: v for k, v in laid.items() if k not in ("schedule", "total_interest")},
        "method_asked": app.method,
        "start_date": _d(c.start_date),
        "term_months": app.term_months,
        "penalty_uplift": str(app.penalty_uplift),
        "penalty_rate_percent": rate.uplift(app.penalty_uplift).percent(2),
        "allocation_order": {
            "version": DEFAULT_ORDER.version,
            "components": [x.value for x in DEFAULT_ORDER.components],
            "clause": DEFAULT_ORDER.clause,
        },
        "line_kind": "revolving" if app.decision.product_kind.value == "revolving" else "one_off",
        "total_interest": laid["total_interest"],
        "schedule": laid["schedule"],
        "status": app.status.value,
    }


def line(view: LineView) -> Json:
    """A credit line with what is available on the business date (and its loans)."""
    ln = view.line
    return {
        "id": ln.line_id,
        "application_id": ln.terms.application_id,
        "uscc": ln.terms.uscc,
        "kind": ln.terms.kind.value,
        "kind_zh": ln.terms.kind.label_zh,
        "status": ln.status.value,
        "status_zh": ln.status.label_zh,
        "reason": ln.reason,
        "limit": money(ln.limit),
        "original_limit": money(ln.terms.limit),
        "utilised": money(ln.utilised),
        "reserved": money(ln.reserved),
        "available": money(view.available),
        "as_of": _d(view.on),
        "opened_on": _d(ln.terms.opened_on),
        "expires_on": _d(ln.terms.expires_on),
        "decision_id": ln.terms.decision_id,
        "settlement_account": ln.terms.settlement_account,
        "loans": [loan(x, schedule=False) for x in view.loans],
    }


def bare_line(ln: CreditLine, on: date) -> Json:
    """A line without its loans."""
    return line(LineView(ln, ln.available(on), on, ()))


def loan(x: Loan, *, schedule: bool = True) -> Json:
    """A loan: terms, balances, accruals, delinquency (and the schedule)."""
    a, cur = x.accrual, x.currency
    out: Json = {
        "id": x.loan_id,
        "reference": loan_reference(x.loan_id),
        "line_id": x.ref.line_id,
        "application_id": x.ref.application_id,
        "uscc": x.ref.uscc,
        "disbursement_key": x.ref.disbursement_key,
        "principal": money(x.terms.principal),
        "annual_rate": str(x.terms.annual_rate.annual),
        "penalty_uplift": str(x.terms.penalty_uplift),
        "method": x.terms.method.value,
        "start_date": _d(x.terms.start_date),
        "status": x.status.value,
        "status_zh": x.status.label_zh,
        "outstanding": money(x.outstanding),
        "suspense": money(x.suspense),
        "dpd": x.dpd,
        "bucket": x.bucket.label,
        "grade": int(x.grade),
        "grade_zh": x.grade.label_zh,
        "restructured_on": _d(x.restructured_on),
        "watch_until": _d(x.watch_until),
        "accrued_interest": money(Money(e8_to_fen(a.interest_e8), cur)),
        "accrued_penalty": money(Money(e8_to_fen(a.penalty_e8), cur)),
        "interest_recognised": money(a.interest_recognised),
        "interest_received": money(a.interest_received),
        "penalty_recognised": money(a.penalty_recognised),
        "penalty_paid": money(a.penalty_paid),
    }
    if schedule:
        out["installments"] = [
            {
                "number": i.number,
                "due_on": _d(i.due_on),
                "principal": money(i.principal),
                "interest": money(i.interest),
                "principal_paid": money(i.principal_paid),
                "interest_paid": money(i.interest_paid),
            }
            for i in x.instalments
        ]
    return out


def quote(q: PayoffQuote, loan_id: int) -> Json:
    """提前还款试算."""
    return {
        "loan_id": loan_id,
        "on": _d(q.on),
        "due": money(q.due),
        "interest_to_date": money(q.interest_to_date),
        "principal_not_due": money(q.principal_not_due),
        "held_in_suspense": money(q.held),
        "payoff": money(q.payoff),
    }


def prepayment(r: PrepaymentRequest, q: PayoffQuote) -> Json:
    """A prepayment request and its quote."""
    return {
        "id": r.request_id,
        "loan_id": r.loan_id,
        "on": _d(r.on),
        "principal": money(r.principal),
        "status": r.status.value,
        "quote": quote(q, r.loan_id),
        "note": "the money is taken by the auto-debit of that day or arrives by bank transfer "
        f"with the reference {loan_reference(r.loan_id)}",
    }


def receipt(r: Receipt) -> Json:
    """A booked receipt."""
    return {
        "id": r.receipt_id,
        "loan_id": r.loan_id,
        "bank_ref": r.bank_ref,
        "amount": money(r.amount),
        "value_date": _d(r.value_date),
        "booked_on": _d(r.booked_on),
        "early": r.early,
        "principal": money(r.principal),
        "interest": money(r.interest),
        "penalty": money(r.penalty),
        "suspense": money(r.suspense),
        "source": r.source.value,
        "entry_id": r.entry_id,
    }


def _order(req: ApprovalRequest) -> Json:
    o = req.order
    if isinstance(o, DrawdownOrder):
        return {"line_id": o.line_id, "amount": money(o.amount), "key": o.key}
    if isinstance(o, WriteOffOrder):
        return {"loan_id": o.loan_id, "case_id": o.case_id or None}
    if isinstance(o, LegalActionOrder):
        return {"case_id": o.case_id, "uscc": o.uscc}
    if isinstance(o, ReversalOrder):
        return {"loan_id": o.loan_id, "entry_id": o.entry_id}
    if isinstance(o, BackValuedReceiptOrder):
        return {
            "loan_id": o.loan_id,
            "amount": money(o.amount),
            "value_date": _d(o.value_date),
            "bank_ref": o.bank_ref,
            "statement_line_id": o.statement_line_id or None,
        }
    if isinstance(o, RoleGrantOrder):
        return {"user": o.user_name, "role": o.role, "enterprise_uscc": o.enterprise_uscc}
    if isinstance(o, LineReductionOrder):
        return {
            "line_id": o.line_id,
            "new_limit": money(o.new_limit),
            "alert_id": o.alert_id or None,
        }
    if isinstance(o, CallInOrder):
        return {"line_id": o.line_id, "alert_id": o.alert_id or None}
    if isinstance(o, LimitReviewOrder):
        return {"line_id": o.line_id, "new_limit": money(o.new_limit), "review_id": o.review_id}
    if isinstance(o, RestructureOrder):
        p = o.plan
        return {
            "loan_id": o.loan_id,
            "kind": p.kind.value,
            "kind_zh": p.kind.label_zh,
            "months": p.months,
            "first_due": _d(p.first_due),
            "method": p.method.value if p.method else None,
        }
    return {}  # pragma: no cover - the union is exhausted above


def restructured(r: Restructured) -> Json:
    """What a restructuring does (or would do): principal, deferred interest, dates."""
    return {
        "on": _d(r.on),
        "principal": money(r.principal),
        "deferred_interest": money(r.deferred_interest),
        "penalty_owed": money(r.penalty_owed),
        "first_due": _d(r.first_due),
        "maturity": _d(r.maturity),
        "periods": r.periods,
        "watch_until": _d(r.watch_until),
    }


def approval(req: ApprovalRequest, result: str | None = None) -> Json:
    """An approval request."""
    out: Json = {
        "id": req.request_id,
        "kind": req.kind.value,
        "kind_zh": req.kind.label_zh,
        "subject": req.subject,
        "order": _order(req),
        "requested_by": req.requested_by,
        "requested_at": _d(req.requested_at),
        "reason": req.reason,
        "status": req.status.value,
        "decided_by": req.decided_by,
        "decided_at": _d(req.decided_at),
        "comment": req.comment,
    }
    if result is not None:
        out["result"] = result
    return out


def statement_entry(e: StatementEntry) -> Json:
    """An imported statement line and what became of it."""
    ln = e.line
    return {
        "id": e.line_id,
        "import_id": e.import_id or None,
        "bank_ref": ln.bank_ref,
        "value_date": _d(ln.value_date),
        "account": ln.account,
        "counterparty": ln.counterparty,
        "amount": money(ln.amount),
        "memo": ln.memo,
        "status": e.status.value,
        "status_zh": e.status.label_zh,
        "outcome": e.outcome.value,
        "outcome_zh": e.outcome.label_zh,
        "reason": e.reason,
        "loan_id": e.loan_id,
        "receipt_id": e.receipt_id,
        "resolved_by": e.resolved_by,
        "resolution": e.resolution,
    }


def reconciliation(r: Reconciliation) -> Json:
    """对账 of a value date."""
    return {
        "value_date": _d(r.value_date),
        "lines": r.lines,
        "statement_total": money(r.statement_total),
        "booked": money(r.booked),
        "unmatched": money(r.unmatched),
        "returned": money(r.returned),
        "balanced": r.balanced,
    }


def statement_import(s: StatementImport) -> Json:
    """An import's counts."""
    return {
        "id": s.import_id,
        "file_name": s.file_name,
        "sha256": s.sha256,
        "imported_by": s.imported_by,
        "business_date": _d(s.business_date),
        "lines": s.lines,
        "booked": s.booked,
        "unmatched": s.unmatched,
        "duplicates": s.duplicates,
        "ignored": s.ignored,
    }


def import_result(r: ImportResult) -> Json:
    """What an import did."""
    return {
        **statement_import(r.summary),
        "booked_total": money(r.booked_total),
        "exceptions": [statement_entry(e) for e in r.unmatched],
        "reconciliation": reconciliation(r.reconciliation),
    }


def auto_debit(run: AutoDebitRun) -> Json:
    """A day's auto-debit batch."""
    return {
        "batch_id": run.batch_id,
        "on": _d(run.on),
        "instructions": [
            {
                "id": i.instruction_id,
                "loan_id": i.loan_id,
                "account": i.account,
                "amount": money(i.amount),
                "early": i.early,
            }
            for i in run.instructions
        ],
        "total": money(run.total),
    }


def settlement(s: SettlementResult) -> Json:
    """What a settlement file did."""
    return {
        "batch_id": s.batch_id,
        "pending": s.pending,
        "paid": [receipt(r) for r in s.paid],
        "failed": [{"instruction_id": i, "reason": why} for i, why in s.failed],
        "to_review": list(s.to_review),
        "skipped": s.skipped,
    }


def eod_run(run: EodRun) -> Json:
    """An end-of-day request's outcome."""
    c = run.counts
    return {
        "as_of": _d(run.as_of),
        "already": run.already,
        "days_run": run.days_run,
        "loans": None if c is None else c.loans,
        "accrual_entries": None if c is None else c.accrual_entries,
        "reminders": None if c is None else c.reminders,
    }


def user(u: UserAccount) -> Json:
    """A user (never its password hash)."""
    return {
        "name": u.name,
        "role": u.role.value,
        "role_zh": u.role.label_zh,
        "enterprise_uscc": u.enterprise_uscc,
        "created_at": _d(u.created_at),
        "disabled_at": _d(u.disabled_at),
    }


def received(r: Received) -> Json:
    """A batch taken into the lake, and the monitoring of the borrowers it touched."""
    t = r.taken
    return {
        "source": t.source,
        "batch_id": t.batch_id,
        "duplicate": t.duplicate,
        "received": t.received,
        "accepted": t.accepted,
        "quarantined": t.quarantined,
        "quarantine_reasons": dict(t.reasons),
        "touched": list(t.touched),
        "refused": t.refused or None,
        "monitor": None if r.monitored is None else monitor_run(r.monitored),
    }


def monitor_run(run: MonitorRun) -> Json:
    """What a monitoring run did."""
    return {
        "as_of": _d(run.as_of),
        "rules_version": run.rules_version,
        "borrowers": run.borrowers,
        "without_data": list(run.without_data),
        "raised": [alert(a) for a in run.raised],
        "refreshed": [alert(a) for a in run.refreshed],
        "lines_frozen": list(run.lines_frozen),
    }


def limit_review(r: LimitReview) -> Json:
    """A monthly limit review with its build-up."""
    b = r.basis
    return {
        "id": r.review_id,
        "line_id": r.line_id,
        "uscc": r.uscc,
        "month": r.month.strftime("%Y-%m"),
        "as_of": _d(r.as_of),
        "current": money(r.current),
        "approved": money(r.approved),
        "target": money(r.target),
        "change": money(r.change),
        "change_share": str(r.change_share),
        "outcome": r.outcome.value,
        "outcome_zh": r.outcome.label_zh,
        "reason_zh": r.reason_zh,
        "reason_en": r.reason_en,
        "approval_id": r.approval_id or None,
        "basis": None
        if b is None
        else {
            "pd": None if b.pd is None else str(b.pd),
            "base_limit": money(b.base_limit),
            "month_limit": money(b.month_limit),
            "season_factor": None if b.season_factor is None else str(b.season_factor),
            "season_source": b.season_source or None,
            "binding": b.binding,
            "declined": b.declined,
            "components": [
                {"name": c.name, "amount": money(c.amount), "basis": c.basis} for c in b.components
            ],
        },
    }


def review_run(run: ReviewRun) -> Json:
    """What a monthly limit review run did."""
    return {
        "as_of": _d(run.as_of),
        "month": run.month.strftime("%Y-%m"),
        "already_reviewed": run.already_reviewed,
        "counts": {o.value: run.count(o) for o in ReviewOutcome},
        "reviews": [limit_review(r) for r in run.reviews],
    }


def alert(a: Alert) -> Json:
    """An early-warning alert with its evidence and steps."""
    return {
        "id": a.alert_id,
        "uscc": a.uscc,
        "line_id": a.line_id,
        "rule": a.rule,
        "level": a.level.value,
        "level_zh": a.level.label_zh,
        "status": a.status.value,
        "status_zh": a.status.label_zh,
        "evidence": [
            {
                "feature": e.feature,
                "value": e.value,
                "baseline": e.baseline,
                "as_of": _d(e.as_of),
                "message_zh": e.message_zh,
                "message_en": e.message_en,
            }
            for e in a.evidence
        ],
        "first_seen": _d(a.first_seen),
        "last_seen": _d(a.last_seen),
        "assignee": a.assignee,
        "raised_at": _d(a.raised_at),
        "escalated_at": _d(a.escalated_at),
        "froze_line": a.froze_line,
        "freeze_pending": a.freeze_pending,
        "steps": [
            {"status": s.status.value, "by": s.by, "at": _d(s.at), "comment": s.comment}
            for s in a.steps
        ],
    }


def contact(c: Contact) -> Json:
    """A registered contact, its channels masked (PIPL)."""
    return {
        "id": c.contact_id,
        "uscc": c.uscc,
        "name": c.name,
        "role": c.role.value,
        "role_zh": c.role.label_zh,
        "phone": c.masked_phone,
        "email": c.masked_email,
        "registered_on": c.registered_on.isoformat(),
        "registered_by": c.registered_by,
        "retired_on": None if c.retired_on is None else c.retired_on.isoformat(),
        "active": c.active,
    }


def task(v: TaskView) -> Json:
    """A follow-up task as the queue shows it on a day."""
    t = v.task
    return {
        "id": t.task_id,
        "kind": t.kind.value,
        "kind_zh": t.kind.label_zh,
        "alert_id": t.alert_id,
        "uscc": t.uscc,
        "line_id": t.line_id,
        "assignee": t.assignee,
        "requested_by": t.requested_by,
        "requested_on": t.requested_on.isoformat(),
        "due_on": t.due_on.isoformat(),
        "documents": list(t.documents),
        "note": t.note,
        "status": t.status.value,
        "status_zh": t.status.label_zh,
        "overdue": v.overdue,
        "days_late": v.days_late,
        "closed_by": t.closed_by or None,
        "closed_on": None if t.closed_on is None else t.closed_on.isoformat(),
        "findings": t.findings or None,
    }
