"""Use cases: money in from the bank — auto-debit (代扣), statement import (对账单导入), the
exceptions queue (挂账处理) and reconciliation (对账).

* :func:`run_auto_debit` sends, for the business date, one debit instruction per active loan with
  something due (or a prepayment asked for that day) to the bank core; :func:`apply_settlement`
  books what the settlement file says was paid and records what failed, with the reason.
* :func:`import_statement` matches each credit line of a statement to a loan by account and
  reference (``domain/payments.match_line``) and books it; anything else is booked to 待查款项 and
  waits in the exceptions queue for a person, who assigns it to a loan or returns it. A bank
  reference is booked once, however often it arrives (a file imported twice books nothing twice).
  The import is set-based: loans are read and written in bulk, each still through its aggregate.
* :func:`reconcile`: per value date, statement total = booked + unmatched + returned, to the fen.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from loomcredit.domain.errors import LoanStateError, NotFound
from loomcredit.domain.ledger import Account, JournalEntry, entry_of
from loomcredit.domain.loan import Loan, LoanStatus, PlainRepayment, plain_repayment
from loomcredit.domain.money import Money
from loomcredit.domain.payments import (
    DebitInstruction,
    DebitStatus,
    MatchOutcome,
    PrepaymentStatus,
    Receipt,
    ReceiptSource,
    Reconciliation,
    StatementEntry,
    StatementImport,
    StatementLine,
    StatementLineStatus,
    match_line,
)
from loomcredit.service_layer.eod import business_date, money_day
from loomcredit.service_layer.errors import InvalidRequestError
from loomcredit.service_layer.service_ports import BankCore
from loomcredit.service_layer.servicing import (
    REPAYMENT_DESCRIPTION,
    book_receipt,
    prepayment_amount,
    settle_prepayments,
)
from loomcredit.service_layer.unit_of_work import UnitOfWork
from loomcredit.service_layer.users import Action, User, require

UNIDENTIFIED_DESCRIPTION = "unidentified receipt 待查款项"


# -- auto-debit ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class AutoDebitRun:
    """A day's auto-debit batch: its id and the instructions sent (new and resent)."""

    batch_id: str
    on: date
    instructions: tuple[DebitInstruction, ...]

    @property
    def total(self) -> Money:
        """Everything asked for."""
        return Money(sum(i.amount.minor for i in self.instructions))


def run_auto_debit(uow: UnitOfWork, bank: BankCore, user: User, *, now: datetime) -> AutoDebitRun:
    """代扣 for the business date: one instruction per active loan with something due (or a
    prepayment asked for the day), against its line's settlement account; committed, then sent.
    A rerun sends the day's unsettled instructions again (the core knows them by id)."""
    require(user, Action.RUN_AUTO_DEBIT)
    on = money_day(uow, now)
    batch_id = f"AD{on:%Y%m%d}"
    sent = {i.instruction_id: (i, s) for i, s in uow.payments.instructions(on=on)}
    loans = uow.loans.get_many(uow.loans.active_ids())
    lines = {line.line_id: line for line in uow.lines.find()}
    prepay = {r.loan_id: r for r in uow.payments.prepayments(on=on)}
    out: list[DebitInstruction] = []
    for loan_id in sorted(loans):
        iid = DebitInstruction.id_for(loan_id, on)
        if iid in sent:
            instruction, status = sent[iid]
            if status is DebitStatus.SENT:
                out.append(instruction)
            continue
        loan = loans[loan_id]
        request = prepay.get(loan_id)
        amount = prepayment_amount(loan, request) if request else loan.amount_due(on)
        line = lines.get(loan.ref.line_id)
        if not amount.is_positive() or line is None:
            continue
        instruction = DebitInstruction(
            iid, loan_id, line.terms.settlement_account, amount, on, early=request is not None
        )
        uow.payments.add_instruction(instruction, batch_id)
        out.append(instruction)
    uow.audit.append(
        user.name,
        "auto_debit.sent",
        f"batch:{batch_id}",
        {"instructions": len(out), "total_fen": sum(i.amount.minor for i in out)},
        now,
    )
    uow.commit()
    bank.submit(batch_id, out)
    return AutoDebitRun(batch_id, on, tuple(out))


@dataclass(frozen=True, slots=True)
class SettlementResult:
    """What a settlement file did: receipts booked, failures recorded, lines sent to a person."""

    batch_id: str
    paid: tuple[Receipt, ...]
    failed: tuple[tuple[str, str], ...]
    to_review: tuple[str, ...]
    skipped: int

    @property
    def pending(self) -> bool:
        """The core has not returned the file yet."""
        return not (self.paid or self.failed or self.to_review or self.skipped)


def apply_settlement(
    uow: UnitOfWork, bank: BankCore, user: User, batch_id: str, *, now: datetime
) -> SettlementResult:
    """Book a batch's settlement: paid lines repay their loans (early for a prepayment asked),
    failed lines keep the core's reason. Each line once (an applied line is skipped). A paid line
    whose value date is before the business date waits in the exceptions queue instead."""
    require(user, Action.RUN_AUTO_DEBIT)
    lines = bank.settlement(batch_id)
    if lines is None:
        return SettlementResult(batch_id, (), (), (), 0)
    on = money_day(uow, now)
    paid: list[Receipt] = []
    failed: list[tuple[str, str]] = []
    review: list[str] = []
    skipped = 0
    for s in lines:
        found = uow.payments.instruction(s.instruction_id)
        if found is None:
            raise InvalidRequestError(f"settlement line for unknown instruction {s.instruction_id}")
        instruction, status = found
        if status is not DebitStatus.SENT or uow.receipts.by_bank_ref(s.bank_ref) is not None:
            skipped += 1
            continue
        if s.status is DebitStatus.FAILED or not s.debited.is_positive():
            uow.payments.set_instruction(
                s.instruction_id, DebitStatus.FAILED, reason=s.reason, bank_ref=s.bank_ref
            )
            failed.append((s.instruction_id, s.reason))
            continue
        uow.payments.set_instruction(
            s.instruction_id, DebitStatus.PAID, reason=s.reason, bank_ref=s.bank_ref
        )
        loan = uow.loans.get(instruction.loan_id, lock=True)
        statement = StatementLine(s.bank_ref, s.value_date, s.account, "", s.debited, "")
        if s.value_date != on or loan is None or loan.status is not LoanStatus.ACTIVE:
            why = (
                f"auto-debit settled with value date {s.value_date}, the business date is {on}"
                if s.value_date != on
                else f"auto-debit settled for loan {instruction.loan_id}, which takes no repayments"
            )
            outcome = MatchOutcome.BACK_VALUED if s.value_date < on else MatchOutcome.UNMATCHED
            _hold_unmatched(uow, 0, [(statement, outcome, why)], on, instruction.loan_id)
            review.append(s.instruction_id)
            continue
        early = instruction.early and settle_prepayments(uow, loan, on)
        paid.append(
            book_receipt(
                uow,
                loan,
                s.debited,
                bank_ref=s.bank_ref,
                source=ReceiptSource.AUTO_DEBIT,
                booked_on=on,
                early=early,
            )
        )
    uow.audit.append(
        user.name,
        "auto_debit.settled",
        f"batch:{batch_id}",
        {
            "paid": len(paid),
            "paid_fen": sum(r.amount.minor for r in paid),
            "failed": len(failed),
            "to_review": len(review),
            "skipped": skipped,
        },
        now,
    )
    return SettlementResult(batch_id, tuple(paid), tuple(failed), tuple(review), skipped)


# -- statement import ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ImportResult:
    """What importing a statement did, and the lines that wait for a person."""

    summary: StatementImport
    booked_total: Money
    unmatched: tuple[StatementEntry, ...]
    reconciliation: Reconciliation


def _hold_unmatched(
    uow: UnitOfWork,
    import_id: int,
    items: Sequence[tuple[StatementLine, MatchOutcome, str]],
    on: date,
    loan_hint: int | None = None,
) -> list[StatementEntry]:
    """Book unmatched credits to 待查款项 (the ledger still equals the bank) and queue them."""
    entries: list[tuple[JournalEntry, int | None]] = []
    queued: list[StatementEntry] = []
    for line, outcome, reason in items:
        entries.append(
            (
                entry_of(
                    f"unid-{line.bank_ref}",
                    on,
                    UNIDENTIFIED_DESCRIPTION,
                    ((Account.SETTLEMENT, line.amount), (Account.UNIDENTIFIED, -line.amount)),
                    value_date=min(line.value_date, on),
                ),
                None,
            )
        )
        queued.append(
            StatementEntry(
                0, import_id, line, StatementLineStatus.UNMATCHED, outcome, reason, loan_hint
            )
        )
    uow.ledger.post_many(entries)
    ids = uow.payments.add_lines(queued)
    for entry, line_id in zip(queued, ids, strict=True):
        entry.line_id = line_id
    return queued


def import_statement(
    uow: UnitOfWork,
    user: User,
    lines: Sequence[StatementLine],
    *,
    file_name: str,
    sha256: str,
    now: datetime,
) -> ImportResult:
    """Import a bank statement's lines on the business date.

    Each new bank reference is matched: a match repays its loan (early when the borrower asked
    to prepay that day); anything else goes to 待查款项 and the exceptions queue with the reason.
    Debits (not credits) are recorded and ignored. A reference seen before counts as a duplicate
    and books nothing.
    """
    require(user, Action.IMPORT_STATEMENT)
    on = money_day(uow, now)
    refs = [line.bank_ref for line in lines]
    if len(set(refs)) != len(refs):
        seen: set[str] = set()
        dup = next(r for r in refs if r in seen or seen.add(r))  # type: ignore[func-returns-value]
        raise InvalidRequestError(f"bank reference {dup} appears twice in the file")
    imported = uow.payments.known_lines(refs)
    fresh = [line for line in lines if line.bank_ref not in imported]
    already = uow.receipts.known_refs(line.bank_ref for line in fresh)
    accounts = uow.loans.accounts()
    matched: list[tuple[StatementLine, int]] = []
    others: list[tuple[StatementLine, MatchOutcome, str]] = []
    ignored: list[StatementEntry] = []
    for line in fresh:
        if line.bank_ref in already:  # booked before, by its auto-debit settlement
            receipt = uow.receipts.by_bank_ref(line.bank_ref)
            ignored.append(
                StatementEntry(
                    0,
                    0,
                    line,
                    StatementLineStatus.BOOKED,
                    MatchOutcome.MATCHED,
                    "booked already (auto-debit settlement)",
                    receipt.loan_id if receipt else None,
                    receipt.receipt_id if receipt else None,
                )
            )
            continue
        m = match_line(line, business_date=on, loans_by_account=accounts)
        if m.outcome is MatchOutcome.MATCHED and m.loan_id is not None:
            matched.append((line, m.loan_id))
        elif m.outcome is MatchOutcome.NOT_A_CREDIT:
            ignored.append(
                StatementEntry(0, 0, line, StatementLineStatus.IGNORED, m.outcome, m.reason)
            )
        else:
            others.append((line, m.outcome, m.reason))
    not_credit = sum(1 for e in ignored if e.status is StatementLineStatus.IGNORED)
    summary = StatementImport(
        0,
        file_name,
        sha256,
        user.name,
        on,
        len(lines),
        len(matched),
        len(others),
        len(lines) - len(fresh) + len(ignored) - not_credit,
        not_credit,
    )
    import_id = uow.payments.add_import(summary)
    booked = _book_matched(uow, import_id, matched, on)
    queued = _hold_unmatched(uow, import_id, others, on)
    for entry in ignored:
        entry.import_id = import_id
    uow.payments.add_lines(ignored)
    from dataclasses import replace

    summary = replace(summary, import_id=import_id)
    uow.audit.append(
        user.name,
        "statement.imported",
        f"import:{import_id}",
        {
            "file": file_name,
            "sha256": sha256,
            "lines": summary.lines,
            "booked": summary.booked,
            "booked_fen": booked.minor,
            "unmatched": summary.unmatched,
            "duplicates": summary.duplicates,
        },
        now,
    )
    return ImportResult(summary, booked, tuple(queued), reconcile_on(uow, on))


def _book_matched(
    uow: UnitOfWork, import_id: int, matched: Sequence[tuple[StatementLine, int]], on: date
) -> Money:
    """Book matched lines in bulk, writes set-based. A plain receipt (exactly what is due, see
    :func:`plain_repayment`) is booked from its loan's :class:`DueSummary`; any other goes
    through its loan's aggregate; receipts, entries and lines keep the file's order."""
    if not matched:
        return Money.zero()
    prepay = {r.loan_id: r for r in uow.payments.prepayments(on=on)}
    times = Counter(loan_id for _, loan_id in matched)
    candidates = {i for _, i in matched if times[i] == 1 and i not in prepay}
    summaries = uow.loans.due_summaries(candidates, on, lock=True)
    plain: dict[int, PlainRepayment] = {}
    for line, loan_id in matched:
        found = summaries.get(loan_id)
        booked = plain_repayment(found, line.amount, on) if found is not None else None
        if booked is not None:
            plain[loan_id] = booked
    loans = uow.loans.get_many({i for _, i in matched if i not in plain}, lock=True)
    credit_lines = uow.lines.get_many({loan.ref.line_id for loan in loans.values()}, lock=True)
    restored: dict[int, Money] = {}
    receipts: list[Receipt] = []
    reps = []
    for line, loan_id in matched:
        request = prepay.pop(loan_id, None) if loan_id not in plain else None
        if loan_id in plain:
            rep = plain[loan_id].repayment
            line_id = summaries[loan_id].line_id
            loaded = credit_lines.get(line_id)  # loaded for another loan: restored on it
            if loaded is not None:
                loaded.restore(rep.principal, on)
            else:
                restored[line_id] = restored.get(line_id, Money.zero()) + rep.principal
        else:
            loan = loans[loan_id]
            if request is not None:
                request.status = PrepaymentStatus.SETTLED
                uow.payments.save_prepayment(request)
            rep = loan.repay(line.amount, on, early=request is not None)
            credit = credit_lines.get(loan.ref.line_id)
            if credit is not None and rep.principal.is_positive():
                credit.restore(rep.principal, on)
        reps.append(rep)
        receipts.append(
            Receipt(
                0,
                loan_id,
                line.bank_ref,
                line.amount,
                on,
                on,
                request is not None,
                rep.principal,
                rep.interest,
                rep.penalty,
                rep.suspense,
                ReceiptSource.STATEMENT,
                "",
            )
        )
    ids = uow.receipts.add_many(receipts)
    entries = [
        (
            entry_of(f"rep-{rid}", on, REPAYMENT_DESCRIPTION, rep.legs, value_date=on),
            receipt.loan_id,
        )
        for rid, rep, receipt in zip(ids, reps, receipts, strict=True)
    ]
    uow.ledger.post_many(entries)
    uow.loans.save_many(loans.values())
    uow.loans.apply_plain(sorted(plain.items()), on)
    uow.lines.save_many(credit_lines.values())
    uow.lines.restore_many(restored, on)
    uow.payments.add_lines(
        [
            StatementEntry(
                0,
                import_id,
                line,
                StatementLineStatus.BOOKED,
                MatchOutcome.MATCHED,
                "matched",
                loan_id,
                rid,
            )
            for (line, loan_id), rid in zip(matched, ids, strict=True)
        ]
    )
    return Money(sum(r.amount.minor for r in receipts))


# -- the exceptions queue -----------------------------------------------------------------------
def exceptions(uow: UnitOfWork, user: User) -> list[StatementEntry]:
    """Lines waiting for a person (挂账)."""
    require(user, Action.READ_BOOK)
    return uow.payments.lines(unmatched_only=True)


def _open_line(uow: UnitOfWork, line_id: int) -> StatementEntry:
    entry = uow.payments.line(line_id, lock=True)
    if entry is None:
        raise NotFound(f"statement line {line_id} does not exist")
    if entry.status is not StatementLineStatus.UNMATCHED:
        raise LoanStateError(f"statement line {line_id} is {entry.status.value}, not waiting")
    return entry


def assign_line(
    uow: UnitOfWork, user: User, line_id: int, loan_id: int, *, comment: str, now: datetime
) -> Receipt:
    """Assign a waiting line to a loan: it repays the loan on the business date, from 待查款项.

    A line whose value date is before the business date can also be assigned this way (money
    counts from today); to count it from its value date a risk manager books it back-valued."""
    require(user, Action.RESOLVE_PAYMENT)
    entry = _open_line(uow, line_id)
    on = money_day(uow, now)
    loan = uow.loans.get(loan_id, lock=True)
    if loan is None:
        raise NotFound(f"loan {loan_id} does not exist")
    if loan.status is not LoanStatus.ACTIVE:
        raise LoanStateError(f"loan {loan_id} is {loan.status.value}; it takes no repayments")
    receipt = book_receipt(
        uow,
        loan,
        entry.line.amount,
        bank_ref=entry.line.bank_ref,
        source=ReceiptSource.ASSIGNED,
        booked_on=on,
        early=settle_prepayments(uow, loan, on),  # the borrower asked to repay early today
        from_account=Account.UNIDENTIFIED,
    )
    entry.status, entry.loan_id, entry.receipt_id = (
        StatementLineStatus.BOOKED,
        loan_id,
        receipt.receipt_id,
    )
    entry.resolved_by, entry.resolution = user.name, comment or "assigned"
    uow.payments.save_line(entry)
    uow.audit.append(
        user.name,
        "statement_line.assigned",
        f"statement_line:{line_id}",
        {"loan": loan_id, "amount_fen": entry.line.amount.minor, "comment": comment},
        now,
    )
    return receipt


def return_line(
    uow: UnitOfWork, user: User, line_id: int, *, comment: str, now: datetime
) -> StatementEntry:
    """Return a waiting line to the payer (退回): Dr 待查款项 / Cr 结算."""
    require(user, Action.RESOLVE_PAYMENT)
    if not comment.strip():
        raise InvalidRequestError("returning money needs a comment saying why")
    entry = _open_line(uow, line_id)
    on = money_day(uow, now)
    amount = entry.line.amount
    uow.ledger.post(
        entry_of(
            f"ret-{entry.line.bank_ref}",
            on,
            "returned to payer 退回",
            ((Account.UNIDENTIFIED, amount), (Account.SETTLEMENT, -amount)),
        ),
        None,
    )
    entry.status, entry.resolved_by, entry.resolution = (
        StatementLineStatus.RETURNED,
        user.name,
        comment,
    )
    uow.payments.save_line(entry)
    uow.audit.append(
        user.name,
        "statement_line.returned",
        f"statement_line:{line_id}",
        {"amount_fen": amount.minor, "comment": comment},
        now,
    )
    return entry


# -- reconciliation -----------------------------------------------------------------------------
def reconcile_on(uow: UnitOfWork, value_date: date) -> Reconciliation:
    """对账 for a value date over the imported credit lines."""
    return Reconciliation.of(value_date, uow.payments.credit_totals(value_date))


def reconcile(
    uow: UnitOfWork, user: User, *, now: datetime, value_date: date | None = None
) -> Reconciliation:
    """The reconciliation report of a value date (default the business date)."""
    require(user, Action.READ_BOOK)
    return reconcile_on(uow, value_date or business_date(uow, now))


def loans_by_id(uow: UnitOfWork, ids: Sequence[int]) -> dict[int, Loan]:
    """Loans by id (for reports)."""
    return uow.loans.get_many(ids)
