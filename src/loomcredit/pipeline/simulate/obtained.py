"""Stamp every simulated row with the day the bank obtained it (``obtained_on``).

The rule is :mod:`loomcredit.pipeline.arrival`'s: the agreed lag after the row's day, and for a
consented source not before the grant of the earliest consent covering the row. A consent renewed
after a lapse therefore brings the lapse's rows on the renewal day. A row no consent covers gets
NULL (it is never obtained; ingest holds it back).

Vectorised: per (enterprise, scope) the consents are sorted by grant and carry the running maximum
of their ends; the first covering consent of a row is a ``searchsorted`` of the row's day in that
running maximum, and its grant is the earliest one because grants are sorted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from loomcredit.pipeline.arrival import LAGS, OBTAINED
from loomcredit.pipeline.ingest.consent import DEFAULT_PURPOSES, SECOND_PARTY, subject_column
from loomcredit.pipeline.schemas import CONSENTED_SOURCES, ROW_DATE

_US = 1_000_000
_SECONDS_PER_DAY = 86_400
_GROUP = np.int64(1) << 33  # more seconds than any consent end holds (after 2200)


@dataclass(frozen=True)
class ConsentIndex:
    """Consent spans of every enterprise, per scope, ready for :func:`first_grant`."""

    usccs: pa.Array  # the enterprises that hold a consent (value set of the index)
    spans: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]  # scope → keys, ends, grants

    @classmethod
    def of(cls, consents: pa.Table) -> ConsentIndex:
        """The index over a consents table (any number of chunks)."""
        purposes = consents.column("purposes").to_pylist()
        usable = np.array([_usable(p) for p in purposes], dtype=bool)
        table = consents.filter(pa.array(usable))
        usccs = pc.unique(table.column("uscc"))
        keys = pc.index_in(table.column("uscc"), value_set=usccs).to_numpy(zero_copy_only=False)
        granted = _micros(table.column("granted_at")) // _US
        expires = _micros(table.column("expires_at"))
        revoked = _micros(pc.coalesce(table.column("revoked_at"), table.column("expires_at")))
        # a row whose day starts before the end is covered; whole seconds, rounded up
        ends = -(-np.minimum(expires, revoked) // _US)
        by_scope: dict[str, list[int]] = {}
        for i, scopes in enumerate(table.column("scopes").to_pylist()):
            for scope in str(scopes).split(";"):
                by_scope.setdefault(scope, []).append(i)
        spans = {}
        for scope, rows in by_scope.items():
            idx = np.asarray(rows)
            order = np.lexsort((granted[idx], keys[idx]))
            k, e = keys[idx][order], ends[idx][order]
            g = granted[idx][order] // _SECONDS_PER_DAY
            running = np.maximum.accumulate(k.astype(np.int64) * _GROUP + e)
            spans[scope] = (k, running, g)
        return cls(usccs, spans)

    def first_grant(self, source: str, uscc: pa.ChunkedArray, day: np.ndarray) -> np.ndarray:
        """Day number of the earliest grant covering each row (``-1`` where none does).

        Args:
            source: The consent scope (the source).
            uscc: The enterprise each row needs the consent of.
            day: Days since the epoch the rows describe.
        """
        out = np.full(len(day), -1, dtype=np.int64)
        if source not in self.spans:
            return out
        keys, running, grants = self.spans[source]
        key = pc.index_in(uscc, value_set=self.usccs).to_numpy(zero_copy_only=False)
        has = ~np.isnan(key) if key.dtype.kind == "f" else np.ones(len(day), dtype=bool)
        key = np.where(has, key, 0).astype(np.int64)
        target = key * _GROUP + day.astype(np.int64) * _SECONDS_PER_DAY
        pos = np.searchsorted(running, target, side="right")
        inside = pos < len(running)
        pos = np.where(inside, pos, 0)
        hit = has & inside & (keys[pos] == key)
        out[hit] = grants[pos][hit]
        return out


def _usable(purposes: object) -> bool:
    return bool(set(str(purposes).split(";")) & set(DEFAULT_PURPOSES))


def _micros(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return np.asarray(pc.cast(col, pa.int64()).to_numpy(zero_copy_only=False), np.int64)


def _days(col: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pc.cast(col, pa.int32()).to_numpy(zero_copy_only=False), np.int64)


def row_days(source: str, table: pa.Table) -> np.ndarray:
    """Days since the epoch that each row describes (a tax period's first day)."""
    col = table.column(ROW_DATE[source])
    if source == "tax":
        col = pc.cast(pc.binary_join_element_wise(col, "-01", ""), pa.date32())
    return _days(col)


def available(source: str, day: np.ndarray) -> np.ndarray:
    """The agreed publication day of rows describing ``day`` (days since the epoch)."""
    lag = LAGS[source]
    if lag.publish_day is None:
        return day + lag.days
    months = day.astype("datetime64[D]").astype("datetime64[M]") + lag.months_after
    return months.astype("datetime64[D]").astype(np.int64) + lag.publish_day - 1


def stamp(source: str, table: pa.Table, consents: ConsentIndex) -> pa.Table:
    """``table`` with ``obtained_on`` appended (the raw contract's last column)."""
    day = row_days(source, table)
    known = available(source, day)
    column = subject_column(source)
    if source not in CONSENTED_SOURCES or column is None:
        obtained = pa.array(known.astype(np.int32), pa.date32())
        return table.append_column(OBTAINED, obtained)
    parties = [column] + ([SECOND_PARTY[source][0]] if source in SECOND_PARTY else [])
    best = np.full(len(day), np.iinfo(np.int64).max, dtype=np.int64)
    for party in parties:
        grant = consents.first_grant(source, table.column(party), day)
        side = np.where(grant >= 0, np.maximum(known, grant), np.iinfo(np.int64).max)
        best = np.minimum(best, side)
    never = best == np.iinfo(np.int64).max
    obtained = pa.array(np.where(never, 0, best).astype(np.int32), pa.date32(), mask=never)
    return table.append_column(OBTAINED, obtained)
