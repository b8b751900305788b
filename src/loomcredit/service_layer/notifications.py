"""Use cases: notices to borrowers — queued by end of day, delivered by a delivery run.

**Queueing** (:func:`queue_notices`, inside end of day's transaction, after the close): the
day's facts are read set-based, ``domain.notices.notices_due`` says which notices each loan
gets, and each new (loan, instalment, kind) becomes one outbox row per recipient channel — each
active registered contact's e-mail and mobile, and the borrower's console inbox always —
rendered at once (the policy version is kept on the row) and written with one bulk insert.

**Delivery** (:func:`deliver`): a run claims due rows in a short transaction (status
``sending`` under a lease, one attempt counted), sends them outside any transaction (one
connection per channel per batch), and records each: ``delivered``, or back to ``queued`` with
an exponential back-off, or ``failed`` with the reason after the policy's last attempt (or at
once when the receiver refuses for good). Two runs never hold one row at the same time.

Residual risk, said plainly: a run that crashes after a message left and before its outcome was
recorded leaves the row ``sending``; when the lease expires another run sends it again. The
repeat carries the same idempotency key (``Message-ID`` / ``Idempotency-Key``: the delivery's
id), so a receiver that keeps keys drops it, but a plain SMTP relay or a gateway that ignores
the key would deliver it twice. Exactly once end to end needs the receiver's help.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from loomcredit.domain.contacts import Channel, Contact
from loomcredit.domain.notices import (
    BUREAU,
    DeliveryStatus,
    Notice,
    NoticePolicy,
    OutboundMessage,
    SendResult,
    may_report_negative,
    next_attempt_at,
    notices_due,
    render,
)
from loomcredit.service_layer.ports import Notifier
from loomcredit.service_layer.unit_of_work import (
    Delivery,
    DeliveryOutcome,
    InboxMessage,
    UnitOfWork,
)
from loomcredit.service_layer.users import Action, Role, User, require, require_enterprise

__all__ = [
    "DeliveryRun",
    "deliver",
    "inbox",
    "list_notices",
    "may_report",
    "queue_notices",
]

Clock = Callable[[], datetime]


def _recipients(uscc: str, contacts: Sequence[Contact], on: date) -> list[tuple[Channel, int, str]]:
    """(channel, contact id, address): the inbox, then each active contact's e-mail and SMS."""
    out = [(Channel.INBOX, 0, uscc)]
    for c in contacts:
        if not c.active_on(on):
            continue
        for channel in (Channel.EMAIL, Channel.SMS):
            address = c.address(channel)
            if address is not None:
                out.append((channel, c.contact_id, address))
    return out


def queue_notices(uow: UnitOfWork, as_of: date, *, policy: NoticePolicy, now: datetime) -> int:
    """Queue the notices of ``as_of`` (after its close, in its transaction): how many outbox
    rows were written. Running a date again queues nothing twice."""
    facts = uow.notices.facts(as_of, policy.due_dates(as_of))
    notices = [n for f in facts for n in notices_due(f, as_of, policy)]
    if not notices:
        return 0
    known = uow.notices.queued_keys({n.loan_id for n in notices})
    fresh: dict[tuple[int, int, str], Notice] = {}
    for n in notices:
        if n.key not in known:
            fresh.setdefault(n.key, n)
    contacts = uow.contacts.for_borrowers({n.uscc for n in fresh.values()})
    rows: list[Delivery] = []
    rendered: dict[tuple[tuple[int, int, str], str], tuple[str, str]] = {}
    for n in fresh.values():
        for channel, contact_id, address in _recipients(n.uscc, contacts.get(n.uscc, []), as_of):
            lang = policy.default_language
            text = rendered.get((n.key, lang))
            if text is None:
                text = rendered[(n.key, lang)] = render(n, policy, language=lang)
            rows.append(Delivery(0, n.loan_id, n.uscc, n.installment, n.kind, as_of, n.due_on,
                                 n.amount, n.dpd, channel, contact_id, address, lang, text[0],
                                 text[1], n.policy_version, DeliveryStatus.QUEUED, 0,
                                 now))  # fmt: skip
    return uow.notices.add_many(rows)


@dataclass
class DeliveryRun:
    """What one delivery run did: deliveries delivered, scheduled for a retry, failed."""

    run: str
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    lost: int = 0  # outcomes not recorded: another run took the lease over
    channels_missing: set[Channel] = field(default_factory=set)

    @property
    def claimed(self) -> int:
        """Deliveries attempted."""
        return self.delivered + self.retrying + self.failed + self.lost


def _outcome(d: Delivery, r: SendResult, now: datetime, policy: NoticePolicy) -> DeliveryOutcome:
    if r.ok:
        return DeliveryOutcome(d.delivery_id, DeliveryStatus.DELIVERED, delivered_at=now)
    if r.permanent or d.attempts >= policy.max_attempts:
        return DeliveryOutcome(d.delivery_id, DeliveryStatus.FAILED, last_error=r.reason[:500])
    return DeliveryOutcome(d.delivery_id, DeliveryStatus.QUEUED,
                           next_attempt_at=next_attempt_at(d.attempts, now, policy),
                           last_error=r.reason[:500])  # fmt: skip


def _send(
    claimed: Sequence[Delivery], notifiers: Mapping[Channel, Notifier], run: DeliveryRun
) -> list[tuple[Delivery, SendResult]]:
    """Send a claimed batch, the channels side by side (each notifier on its own thread)."""
    by_channel: dict[Channel, list[Delivery]] = defaultdict(list)
    for d in claimed:
        by_channel[d.channel].append(d)
    pairs: list[tuple[Delivery, SendResult]] = []
    work: list[tuple[list[Delivery], Notifier]] = []
    for channel, ds in by_channel.items():
        notifier = notifiers.get(channel)
        if notifier is None:
            run.channels_missing.add(channel)
            reason = f"no {channel.value} notifier configured"
            pairs.extend((d, SendResult(d.key, False, reason, permanent=True)) for d in ds)
        else:
            work.append((ds, notifier))

    def one(item: tuple[list[Delivery], Notifier]) -> list[tuple[Delivery, SendResult]]:
        ds, notifier = item
        msgs = [OutboundMessage(d.key, d.channel, d.address, d.subject, d.body, d.language)
                for d in ds]  # fmt: skip
        results = notifier.send(msgs)
        if len(results) != len(msgs):
            raise RuntimeError(f"the {notifier.channel.value} notifier answered {len(results)} "
                               f"of {len(msgs)} messages")  # fmt: skip
        return list(zip(ds, results, strict=True))

    if len(work) == 1:
        pairs.extend(one(work[0]))
    elif work:
        with ThreadPoolExecutor(len(work)) as pool:
            for done in pool.map(one, work):
                pairs.extend(done)
    return pairs


def deliver(
    uow_factory: Callable[[], UnitOfWork],
    notifiers: Mapping[Channel, Notifier],
    clock: Clock,
    *,
    policy: NoticePolicy,
    batch: int = 500,
    max_batches: int | None = None,
) -> DeliveryRun:
    """One delivery run: claim due deliveries a batch at a time, send, record; until nothing is
    due (or ``max_batches``). A channel with no notifier fails its deliveries with the reason."""
    run = DeliveryRun(f"run-{uuid.uuid4().hex[:12]}")
    done = 0
    while max_batches is None or done < max_batches:
        now = clock()
        with uow_factory() as uow:
            claimed = uow.notices.claim(now, now + timedelta(seconds=policy.lease_s), run.run,
                                        batch)  # fmt: skip
            uow.commit()
        if not claimed:
            break
        done += 1
        pairs = _send(claimed, notifiers, run)
        at = clock()
        outcomes = [_outcome(d, r, at, policy) for d, r in pairs]
        with uow_factory() as uow:
            recorded = uow.notices.finish(outcomes, run.run)
            uow.commit()
        run.lost += len(outcomes) - recorded
        for o in outcomes:
            if o.status is DeliveryStatus.DELIVERED:
                run.delivered += 1
            elif o.status is DeliveryStatus.FAILED:
                run.failed += 1
            else:
                run.retrying += 1
        if len(claimed) < batch:
            break
    return run


def deliver_as(
    user: User,
    uow_factory: Callable[[], UnitOfWork],
    notifiers: Mapping[Channel, Notifier],
    clock: Clock,
    *,
    policy: NoticePolicy,
    batch: int = 500,
) -> DeliveryRun:
    """:func:`deliver` for a person with the right (operations), audited."""
    require(user, Action.SEND_NOTICES)
    run = deliver(uow_factory, notifiers, clock, policy=policy, batch=batch)
    with uow_factory() as uow:
        uow.audit.append(user.name, "notices.sent", f"notices:{run.run}",
                         {"delivered": run.delivered, "retrying": run.retrying,
                          "failed": run.failed}, clock())  # fmt: skip
        uow.commit()
    return run


def list_notices(
    uow: UnitOfWork,
    user: User,
    *,
    status: DeliveryStatus | None = None,
    loan_id: int | None = None,
    limit: int = 500,
) -> list[Delivery]:
    """The notice outbox, newest first (operations, collectors, auditors)."""
    require(user, Action.READ_OUTBOX)
    return uow.notices.find(status=status, loan_id=loan_id, limit=limit)


def inbox(uow: UnitOfWork, user: User, uscc: str | None = None) -> list[InboxMessage]:
    """An applicant's own console inbox (staff who read the outbox may name a borrower)."""
    if user.role is Role.APPLICANT:
        own = user.enterprise_uscc or ""
        require_enterprise(user, uscc or own)
        return uow.notices.inbox(own)
    require(user, Action.READ_OUTBOX)
    return [] if uscc is None else uow.notices.inbox(uscc)


def may_report(uow: UnitOfWork, loan_id: int, on: date, policy: NoticePolicy) -> bool:
    """Whether negative information about the loan may be reported to the bureau on ``on``:
    its latest pre-notice delivered at least the policy's days before."""
    at = uow.notices.prenotice_delivered_on(loan_id, BUREAU)
    return may_report_negative(None if at is None else at.date(), on, policy)

