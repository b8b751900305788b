"""Lake → the decision engine's FeatureSource and ConsentSource ports.

``SnapshotFeatureSource`` serves features from a point-in-time snapshot
(``lake/features/snapshots/as_of=YYYY-MM-DD/part-*.parquet``), loaded once into memory per date,
which is what batch decisions use. ``LakeFeatureSource`` uses that snapshot when one exists for the
date and otherwise computes the profile on demand with
``loomcredit.pipeline.features.online.OnlineFeatures``; ``get_many`` does many enterprises in one
pass (post-loan monitoring of the borrowers a batch touched). ``LakeConsentSource`` reads the
ingested consent registry (``lake/integrated/consents``) and answers which pre-loan scopes are
live on a date.
Values are converted to plain Python (no NumPy or Arrow scalars leave this module).
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from loomcredit.domain.errors import NotFound

log = logging.getLogger(__name__)
PRE_LOAN = "pre_loan"
_Rows = dict[str, dict[str, object]]  # a snapshot in memory: USCC → features


def plain(value: Any) -> object:
    """A NumPy or Arrow scalar as plain Python (NaN as None)."""
    item = getattr(value, "item", None)
    if callable(item):
        value = item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def snapshot_dir(home: Path, as_of: date) -> Path:
    """Folder of the feature snapshot for ``as_of`` under ``LOOM_HOME``."""
    return Path(home) / "lake" / "features" / "snapshots" / f"as_of={as_of.isoformat()}"


class SnapshotFeatureSource:
    """Features from snapshot Parquet files, one in-memory dict per date.

    A date's dict is kept while its folder is the one it was read from: a batch of rows obtained
    on or before the date removes the snapshot (``LakeIntake.take``), and the next call sees the
    folder gone (one ``stat`` per call) and forgets the date.
    """

    def __init__(self, home: Path) -> None:
        """Serve snapshots under ``home/lake/features/snapshots``."""
        self.home = Path(home)
        self._cache: dict[date, tuple[tuple[int, int], _Rows]] = {}
        self._folders: dict[date, str] = {}

    def _held(self, as_of: date) -> tuple[tuple[int, int] | None, _Rows | None]:
        """The folder's stamp now, and the rows held for the date if read from that folder."""
        folder = self._folders.get(as_of)
        if folder is None:
            folder = self._folders[as_of] = str(snapshot_dir(self.home, as_of))
        try:
            st = os.stat(folder)
        except FileNotFoundError:
            self._cache.pop(as_of, None)
            return None, None
        stamp = (st.st_ino, st.st_mtime_ns)
        held = self._cache.get(as_of)
        if held is not None and held[0] == stamp:
            return stamp, held[1]
        self._cache.pop(as_of, None)
        return stamp, None

    def has(self, as_of: date) -> bool:
        """True when a snapshot exists for the date (loaded already, or on disk)."""
        stamp, rows = self._held(as_of)
        if rows is not None:
            return True
        return stamp is not None and any(snapshot_dir(self.home, as_of).glob("*.parquet"))

    def rows(self, as_of: date) -> _Rows | None:
        """The date's snapshot in memory (read on first use), ``None`` if there is none."""
        stamp, rows = self._held(as_of)
        if rows is not None:
            return rows
        if stamp is None or not any(snapshot_dir(self.home, as_of).glob("*.parquet")):
            return None
        table = pq.ParquetDataset(str(snapshot_dir(self.home, as_of))).read()
        listed = table.to_pylist()
        rows = {
            str(r["uscc"]): {k: plain(v) for k, v in r.items() if k not in ("uscc", "as_of")}
            for r in listed
        }
        self._cache[as_of] = (stamp, rows)
        log.info("loaded %d feature rows for %s", len(listed), as_of)
        return rows

    def _load(self, as_of: date) -> _Rows:
        rows = self.rows(as_of)
        if rows is None:
            raise NotFound(f"no feature snapshot for {as_of.isoformat()}; run loom features")
        return rows

    def usccs(self, as_of: date) -> list[str]:
        """Every enterprise in the snapshot, sorted."""
        return sorted(self._load(as_of))

    def get(self, uscc: str, as_of: date) -> Mapping[str, object]:
        """Features of one enterprise; :class:`NotFound` if it is not in the snapshot."""
        try:
            return self._load(as_of)[uscc]
        except KeyError:
            raise NotFound(
                f"{uscc} is not in the feature snapshot of {as_of.isoformat()}"
            ) from None

    def get_many(self, usccs: Iterable[str], as_of: date) -> dict[str, Mapping[str, object]]:
        """Features of the enterprises in the snapshot (the others are left out)."""
        rows = self._load(as_of)
        return {u: rows[u] for u in usccs if u in rows}


class LakeFeatureSource:
    """A snapshot when there is one for the date, else the on-demand online profile."""

    def __init__(self, home: Path) -> None:
        """Read the lake under ``home`` (LOOM_HOME)."""
        self.home = Path(home)
        self.snapshots = SnapshotFeatureSource(self.home)
        self._online: Any = None

    def _online_features(self) -> Any:
        if self._online is None:
            try:
                from loomcredit.pipeline.features.online import OnlineFeatures
                from loomcredit.pipeline.schemas import LakePaths
            except ImportError as exc:
                raise NotFound("online features are not available; build a snapshot first") from exc
            self._online = OnlineFeatures(LakePaths(self.home))
        return self._online

    def get(self, uscc: str, as_of: date) -> Mapping[str, object]:
        """Features of one enterprise as of the date."""
        snapshot = self.snapshots.rows(as_of)
        if snapshot is not None:
            if uscc not in snapshot:
                raise NotFound(f"{uscc} is not in the feature snapshot of {as_of.isoformat()}")
            return snapshot[uscc]
        row = self._online_features().get(uscc, as_of)
        if not row:
            raise NotFound(f"no features for {uscc} as of {as_of.isoformat()}")
        return _served(row)

    def get_many(self, usccs: Iterable[str], as_of: date) -> dict[str, Mapping[str, object]]:
        """Features of many enterprises as of the date, in one pass: each equal to :meth:`get`.

        An enterprise :meth:`get` would answer with :class:`NotFound` (not in the snapshot, no
        features on the date) is left out of the result.
        """
        wanted = list(dict.fromkeys(usccs))
        snapshot = self.snapshots.rows(as_of)
        if snapshot is not None:
            return {u: snapshot[u] for u in wanted if u in snapshot}
        rows = self._online_features().get_many(wanted, as_of)
        return {u: _served(row) for u, row in rows.items() if row}


def _served(row: Mapping[str, object]) -> dict[str, object]:
    """An online vector as the snapshot serves it: plain values, no ``uscc`` or ``as_of``."""
    return {k: plain(v) for k, v in dict(row).items() if k not in ("uscc", "as_of")}


class DuckDbSnapshotFeatureSource:
    """One point query per request on the snapshot Parquet (no in-memory copy of the snapshot)."""

    def __init__(self, home: Path) -> None:
        """Query snapshots under ``home/lake/features/snapshots`` with an in-process DuckDB."""
        import duckdb

        self.home = Path(home)
        self._con = duckdb.connect()

    def get(self, uscc: str, as_of: date) -> Mapping[str, object]:
        """Features of one enterprise; :class:`NotFound` if absent."""
        folder = snapshot_dir(self.home, as_of)
        if not folder.is_dir():
            raise NotFound(f"no feature snapshot for {as_of.isoformat()}; run loom features")
        cursor = self._con.execute(
            "SELECT * FROM read_parquet(?) WHERE uscc = ?", [str(folder / "*.parquet"), uscc]
        )
        row = cursor.fetchone()
        if row is None:
            raise NotFound(f"{uscc} is not in the feature snapshot of {as_of.isoformat()}")
        names = [d[0] for d in cursor.description]
        return {k: plain(v) for k, v in zip(names, row, strict=True) if k not in ("uscc", "as_of")}


def _day_end(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)


def _utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.combine(value, time.min, tzinfo=UTC)


class LakeConsentSource:
    """Live pre-loan consent scopes from ``lake/integrated/consents`` (loaded once)."""

    def __init__(self, home: Path) -> None:
        """Read the consent registry under ``home`` (LOOM_HOME)."""
        self.folder = Path(home) / "lake" / "integrated" / "consents"
        self._rows: dict[str, list[dict[str, Any]]] | None = None

    def _load(self) -> dict[str, list[dict[str, Any]]]:
        if self._rows is None:
            self._rows = {}
            if self.folder.is_dir() and any(self.folder.glob("*.parquet")):
                table = pq.ParquetDataset(str(self.folder)).read()
                for row in table.to_pylist():
                    self._rows.setdefault(str(row["uscc"]), []).append(row)
            else:
                log.warning("no consent registry at %s: every consent rule will fail", self.folder)
        return self._rows

    def scopes_on(self, uscc: str, as_of: date) -> Iterable[str]:
        """Scopes of consents granted by the end of ``as_of``, not expired or revoked then."""
        end = _day_end(as_of)
        scopes: set[str] = set()
        for row in self._load().get(uscc, []):
            granted, expires, revoked = (
                _utc(row.get(k)) for k in ("granted_at", "expires_at", "revoked_at")
            )
            if granted is None or granted >= end:
                continue
            if (expires is not None and expires < end) or (revoked is not None and revoked < end):
                continue
            if PRE_LOAN not in str(row.get("purposes") or "").split(";"):
                continue
            scopes.update(s for s in str(row.get("scopes") or "").split(";") if s)
        return frozenset(scopes)
