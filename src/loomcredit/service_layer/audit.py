"""The append-only, keyed hash chain of the audit log (审计日志).

Each record carries the MAC of the one before: HMAC-SHA256 under a key held outside the database
(``LOOM_AUDIT_KEY`` / a key file), so nobody who can only write the database can recompute the
chain after an edit. The chain head (last sequence number and hash) is stored with its own MAC, so
deleting the tail is detected as well. :func:`verify_chain` reports the first bad sequence number.

Records written before the chain was keyed (plain SHA-256) stay verifiable as a prefix: the first
keyed record links to the last of them, so changing one would break that link; an unkeyed record
after a keyed one is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

GENESIS = "0" * 64

AuditDetail = Mapping[str, str | int | bool | None]
"""What an audit record says beyond who, what and on which subject (flat, JSON-safe values)."""


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One audit record as stored; ``keyed`` records carry an HMAC, older ones a SHA-256."""

    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    detail: str
    prev_hash: str
    hash: str
    keyed: bool = True


@dataclass(frozen=True, slots=True)
class AuditHead:
    """The chain head: last sequence number, its hash, and the head's MAC (None before the chain
    was keyed)."""

    seq: int
    hash: str
    mac: str | None


def _payload(
    seq: int, at: datetime, actor: str, action: str, subject: str, detail: str, prev_hash: str
) -> bytes:
    return json.dumps(
        [seq, at.isoformat(timespec="microseconds"), actor, action, subject, detail, prev_hash],
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode("utf-8")


def record_hash(
    seq: int, at: datetime, actor: str, action: str, subject: str, detail: str, prev_hash: str
) -> str:
    """Unkeyed SHA-256 of a record (the scheme before the chain was keyed)."""
    return hashlib.sha256(_payload(seq, at, actor, action, subject, detail, prev_hash)).hexdigest()


def record_mac(
    key: bytes,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    subject: str,
    detail: str,
    prev_hash: str,
) -> str:
    """HMAC-SHA256 of a record's content and its predecessor's hash under the audit key."""
    payload = _payload(seq, at, actor, action, subject, detail, prev_hash)
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def head_mac(key: bytes, seq: int, last_hash: str) -> str:
    """The MAC that seals the chain head."""
    return hmac.new(key, f"head:{seq}:{last_hash}".encode(), hashlib.sha256).hexdigest()


def canonical_detail(detail: AuditDetail) -> str:
    """The detail as sorted, compact JSON (what the MAC covers)."""
    return json.dumps(dict(detail), ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def next_record(
    key: bytes,
    head: AuditHead | None,
    *,
    actor: str,
    action: str,
    subject: str,
    detail: AuditDetail,
    at: datetime,
) -> tuple[AuditRecord, AuditHead]:
    """The record to append after ``head`` and the new head (both keyed)."""
    seq = (head.seq if head else 0) + 1
    prev = head.hash if head else GENESIS
    body = canonical_detail(detail)
    digest = record_mac(key, seq, at, actor, action, subject, body, prev)
    record = AuditRecord(seq, at, actor, action, subject, body, prev, digest, True)
    return record, AuditHead(seq, digest, head_mac(key, seq, digest))


@dataclass(frozen=True, slots=True)
class ChainReport:
    """Outcome of a verification: ``ok`` and, if not, the first bad sequence number and why."""

    ok: bool
    records: int
    first_bad: int | None = None
    reason: str = ""


def verify_chain(records: Iterable[AuditRecord], head: AuditHead | None, key: bytes) -> ChainReport:
    """Check continuity, each link, each record's MAC (or legacy hash) and the sealed head.

    Args:
        records: the log in sequence order.
        head: the stored chain head.
        key: the audit key.

    Returns:
        A report; ``ok`` is False at the first record edited, removed, reordered or forged, or
        at the first missing one when the tail was cut.
    """
    prev, expected, count, keyed_seen = GENESIS, 1, 0, False
    first_unkeyed: int | None = None
    for rec in records:
        count += 1
        if not rec.keyed and first_unkeyed is None:
            first_unkeyed = rec.seq
        if rec.seq != expected:
            return ChainReport(False, count, expected, f"record {expected} is missing")
        if rec.prev_hash != prev:
            return ChainReport(False, count, rec.seq, "link to the previous record is broken")
        args = (rec.seq, rec.at, rec.actor, rec.action, rec.subject, rec.detail, rec.prev_hash)
        if rec.keyed:
            keyed_seen = True
            own = record_mac(key, *args)
        elif keyed_seen:
            return ChainReport(False, count, rec.seq, "an unkeyed record follows keyed ones")
        else:
            own = record_hash(*args)
        if not hmac.compare_digest(own, rec.hash):
            return ChainReport(False, count, rec.seq, "content does not match its MAC (edited)")
        prev, expected = rec.hash, expected + 1
    if head is None:
        if count:
            return ChainReport(False, count, expected, "the chain head is missing")
        return ChainReport(True, 0)
    if head.seq != count or head.hash != prev:
        return ChainReport(
            False,
            count,
            expected,
            f"the chain ends at record {count} but its head says {head.seq}: records were removed",
        )
    if head.mac is None or not hmac.compare_digest(head.mac, head_mac(key, head.seq, head.hash)):
        # Nothing the key protects vouches for the chain: the first record only its hash links
        # protect is the first that could have been forged.
        bad = first_unkeyed if first_unkeyed is not None else head.seq
        return ChainReport(False, count, bad, "the chain head is not sealed by the audit key")
    return ChainReport(True, count)
