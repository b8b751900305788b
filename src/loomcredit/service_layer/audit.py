"""Use case: the append-only, hash-chained audit log (审计日志).

Each record carries the SHA-256 of the one before; :func:`verify_chain` recomputes every hash and
reports the first record whose content or link no longer matches, so any edit is detected.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One audit record as stored."""

    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    detail: str
    prev_hash: str
    hash: str


def record_hash(
    seq: int, at: datetime, actor: str, action: str, subject: str, detail: str, prev_hash: str
) -> str:
    """SHA-256 over the canonical JSON of a record's content and its predecessor's hash."""
    payload = json.dumps(
        [seq, at.isoformat(timespec="microseconds"), actor, action, subject, detail, prev_hash],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def canonical_detail(detail: dict[str, object]) -> str:
    """The detail mapping as sorted, compact JSON (what the hash covers)."""
    return json.dumps(
        detail, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str
    )


@dataclass(frozen=True, slots=True)
class ChainReport:
    """Outcome of a verification: ``ok`` and, if not, the first bad sequence number and why."""

    ok: bool
    records: int
    first_bad: int | None = None
    reason: str = ""


def verify_chain(records: Iterable[AuditRecord]) -> ChainReport:
    """Check sequence continuity, each link to the previous hash and each record's own hash.

    Args:
        records: the log in sequence order.

    Returns:
        A report; ``ok`` is False at the first record that was edited, removed or reordered.
    """
    prev = GENESIS
    expected_seq = 1
    count = 0
    for rec in records:
        count += 1
        if rec.seq != expected_seq:
            return ChainReport(
                False, count, rec.seq, f"expected record {expected_seq}, found {rec.seq}"
            )
        if rec.prev_hash != prev:
            return ChainReport(False, count, rec.seq, "link to the previous record is broken")
        own = record_hash(
            rec.seq, rec.at, rec.actor, rec.action, rec.subject, rec.detail, rec.prev_hash
        )
        if own != rec.hash:
            return ChainReport(False, count, rec.seq, "content does not match its hash (edited)")
        prev = rec.hash
        expected_seq += 1
    return ChainReport(True, count)
