"""New data as it happens (数据实时接入): a batch of one source's rows from an upstream system,
taken into the lake through the same validation, quarantine and consent gate as a full ingest,
then the borrowers it touched monitored at once.

A batch is opaque here (the adapter reads it); taking the same batch twice changes nothing (it is
known by its content). A batch with a row no live post-loan consent covers is refused whole and
nothing is stored; a bad row goes to quarantine with its reason and the rest is taken.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from loomcredit.service_layer.errors import InvalidRequestError
from loomcredit.service_layer.monitoring import MonitorRun, WarningRules, monitor
from loomcredit.service_layer.ports import FeatureSource
from loomcredit.service_layer.unit_of_work import UnitOfWork
from loomcredit.service_layer.users import Action, User, require

#: What an upstream batch may be used for: post-loan management (贷后管理).
POST_LOAN = "post_loan"


@dataclass(frozen=True, slots=True)
class Batch:
    """One source's rows as sent, and the file name it came as (its extension says the format:
    ``.jsonl`` one JSON object a row, ``.csv`` with a header, ``.parquet``)."""

    source: str
    payload: bytes
    name: str = "batch.jsonl"


@dataclass(frozen=True, slots=True)
class Taken:
    """What the lake did with a batch."""

    source: str
    batch_id: str  # the content's hash: the same batch again is known by it
    received: int
    accepted: int
    quarantined: int
    reasons: tuple[tuple[str, int], ...]  # quarantine reason → rows
    duplicate: bool  # taken before: nothing changed
    touched: tuple[str, ...]  # enterprises whose own rows were accepted
    refused: str = ""  # why the whole batch was refused (drop folder; nothing stored)


class DataIntake(Protocol):
    """The lake's door for batches (validation, quarantine, consent, integration)."""

    def take(self, batch: Batch, now: datetime) -> Taken:
        """Take a batch as of ``now``'s date (no row may describe a later day); refuse it whole
        (:class:`~loomcredit.service_layer.errors.InvalidRequestError`) when a row has no live
        post-loan consent or the file cannot be read."""

    def take_inbox(self, now: datetime) -> Sequence[Taken]:
        """Take every file waiting in the drop folder, one batch each, in name order; a refused
        file is set aside with its reason (``refused``)."""


@dataclass(frozen=True, slots=True)
class Received:
    """Batches taken, and the monitoring of the borrowers they touched (None: none touched)."""

    batches: tuple[Taken, ...]
    monitored: MonitorRun | None

    @property
    def taken(self) -> Taken:
        """The (first) batch taken."""
        return self.batches[0]


def _audit_taken(uow: UnitOfWork, user: User, taken: Taken, now: datetime) -> None:
    uow.audit.append(
        user.name,
        "data.taken",
        f"batch:{taken.batch_id[:16]}",
        {
            "source": taken.source,
            "received": taken.received,
            "accepted": taken.accepted,
            "quarantined": taken.quarantined,
            "duplicate": taken.duplicate,
            "touched": len(taken.touched),
            "refused": taken.refused,
        },
        now,
    )


def after_taking(
    uow: UnitOfWork,
    user: User,
    taken: Sequence[Taken],
    features: FeatureSource,
    rules: WarningRules,
    *,
    now: datetime,
) -> Received:
    """Audit the batches taken, then monitor, as of today and once, the borrowers among the
    enterprises they touched (a day's files of several sources are judged together, so a firm
    is never judged on one source's new month while another's is still on its way)."""
    for t in taken:
        _audit_taken(uow, user, t, now)
    touched = sorted({u for t in taken if not t.duplicate for u in t.touched})
    run = None
    if touched:
        run = monitor(uow, user, features, rules, as_of=now.date(), now=now, uscc=touched)
    uow.commit()
    return Received(tuple(taken), run if run is not None and run.borrowers else None)


def receive(
    uow: UnitOfWork,
    user: User,
    intake: DataIntake,
    batch: Batch,
    features: FeatureSource,
    rules: WarningRules,
    *,
    now: datetime,
) -> Received:
    """Take one batch as of today, then monitor the borrowers it touched (a refused batch is
    :class:`InvalidRequestError`, nothing stored)."""
    require(user, Action.SUBMIT_DATA)
    taken = intake.take(batch, now)
    return after_taking(uow, user, [taken], features, rules, now=now)


def receive_all(
    uow: UnitOfWork,
    user: User,
    intake: DataIntake,
    batches: Sequence[Batch],
    features: FeatureSource,
    rules: WarningRules,
    *,
    now: datetime,
) -> Received:
    """Take a day's batches as of today, each on its own (a refused one is said in its
    ``refused`` and stores nothing; the others are taken), then monitor the borrowers they
    touched, once."""
    require(user, Action.SUBMIT_DATA)
    if not batches:
        raise InvalidRequestError("no batch to take")
    taken: list[Taken] = []
    for batch in batches:
        try:
            taken.append(intake.take(batch, now))
        except InvalidRequestError as exc:
            digest = hashlib.sha256(batch.payload).hexdigest()
            taken.append(Taken(batch.source, digest, 0, 0, 0, (), False, (), refused=str(exc)))
    return after_taking(uow, user, taken, features, rules, now=now)


def watch_once(
    uow: UnitOfWork,
    user: User,
    intake: DataIntake,
    features: FeatureSource,
    rules: WarningRules,
    *,
    now: datetime,
) -> Received | None:
    """One pass over the drop folder: every waiting file taken, then the borrowers they touched
    monitored once (None when no file was waiting)."""
    require(user, Action.SUBMIT_DATA)
    taken = list(intake.take_inbox(now))
    return after_taking(uow, user, taken, features, rules, now=now) if taken else None
