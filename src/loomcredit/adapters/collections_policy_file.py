"""The collections policy file → :class:`~loomcredit.domain.collection_policy.CollectionsPolicy`.

``load_collections_policy(path)`` reads the YAML (default: the shipped
``domain/decision/data/keqiao_collections.yaml``), validates every field with pydantic the way
``policy_file.py`` does for the credit and warning policies, and builds the domain values; a bad
file raises :class:`PolicyViolation` with one line naming the field.
"""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field

from loomcredit.adapters.policy_file import DATA, Share, _Strict, _validated
from loomcredit.domain.collection_policy import CaseBucket, CollectionsPolicy, Queue
from loomcredit.domain.conduct import ConductPolicy
from loomcredit.domain.errors import PolicyViolation

SHIPPED = "keqiao_collections.yaml"
_HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"
Weight = Annotated[Decimal, Field(ge=1, le=10)]
Factor = Annotated[Decimal, Field(gt=0, le=3)]


class _Conduct(_Strict):
    zone: str = Field(min_length=1)
    start: str = Field(pattern=_HHMM)
    end: str = Field(pattern=_HHMM)
    daily_limit: int = Field(ge=1, le=20)


class _Queue(_Strict):
    id: str = Field(min_length=1, max_length=40)
    buckets: list[CaseBucket] = Field(min_length=1)
    regions: list[str] = Field(min_length=1)
    collectors: list[str] = Field(min_length=1)


class _CollectionsFile(_Strict):
    version: str = Field(min_length=1, max_length=60)
    conduct: _Conduct
    lgd: Share
    default_pd: Share
    season_weight: Weight
    cash_in_factor: Factor
    cash_in_rise: Annotated[Decimal, Field(gt=0, le=3)]
    broken_promise_factor: Weight
    next_action_days: dict[CaseBucket, Annotated[int, Field(ge=1, le=30)]]
    promise_max_days: int = Field(ge=1, le=90)
    cluster_season_factors: list[Factor] = Field(min_length=12, max_length=12)
    queues: list[_Queue] = Field(min_length=1)


def _hhmm(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def parse_collections_policy(
    text: str, *, source: str = "<collections policy>"
) -> CollectionsPolicy:
    """Validate collections-policy YAML text and build the domain policy."""
    doc = _validated(text, source, _CollectionsFile)
    c = doc.conduct
    try:
        ZoneInfo(c.zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise PolicyViolation(f"{source}: field conduct.zone: unknown time zone {c.zone}") from exc
    start, end = _hhmm(c.start), _hhmm(c.end)
    if not start < end:
        raise PolicyViolation(f"{source}: field conduct: start {c.start} is not before end {c.end}")
    ids = [q.id for q in doc.queues]
    if len(set(ids)) != len(ids):
        raise PolicyViolation(f"{source}: field queues: a queue id is given more than once")
    return CollectionsPolicy(
        version=doc.version,
        conduct=ConductPolicy(doc.version, c.zone, start, end, c.daily_limit),
        queues=tuple(
            Queue(q.id, frozenset(q.buckets), tuple(q.regions), tuple(q.collectors))
            for q in doc.queues
        ),
        lgd=doc.lgd,
        default_pd=doc.default_pd,
        season_weight=doc.season_weight,
        cash_in_factor=doc.cash_in_factor,
        cash_in_rise=doc.cash_in_rise,
        broken_promise_factor=doc.broken_promise_factor,
        next_action_days=dict(doc.next_action_days),
        promise_max_days=doc.promise_max_days,
        cluster_season_factors=tuple(doc.cluster_season_factors),
    )


def load_collections_policy(path: Path | str | None = None) -> CollectionsPolicy:
    """Load a collections policy file (default: the shipped ``keqiao_collections.yaml``)."""
    if path is None:
        shipped = DATA / SHIPPED
        return parse_collections_policy(shipped.read_text("utf-8"), source=SHIPPED)
    file = Path(path)
    if not file.is_file():
        raise PolicyViolation(f"collections policy file {file} does not exist")
    return parse_collections_policy(file.read_text("utf-8"), source=str(file))
