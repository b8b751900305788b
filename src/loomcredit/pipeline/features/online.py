"""Online features (在线特征): one enterprise's vector for a live decision.

:class:`OnlineFeatures` answers ``get(uscc, as_of)``:

1. from the snapshot of that date when one has been built (held in memory after the first call);
2. otherwise from the integrated zone, so everything that arrived after the latest snapshot is
   used, in a few milliseconds. The zone is read into memory on the first such call (again after
   ingest changes a table's folder), each table sorted by enterprise with each enterprise's row
   range. A call copies that enterprise's rows (plus the risk events of its trading partners,
   which contagion reads) into an in-memory SQLite database and runs there every family's Ibis
   expression — the very definitions the snapshot runs on DuckDB and Spark, compiled to SQL once
   per date and family. PageRank needs the whole network: it comes from the latest snapshot on or
   before the date (null if there is none). Vectors are cached until the zone changes.

Why SQLite and not DuckDB for this step: DuckDB binds and optimises the ~290-operator feature plan
again on every ``EXECUTE`` (0.1 s), and even unoptimised it spends ~30 ms setting up operators for
a few dozen rows; SQLite prepares each family's statement once and runs it on those rows in well
under a millisecond. The engines agree on every feature (tests and ``bench/bench_features.py``
compare each value with the DuckDB snapshot), with two caveats kept in mind when writing
features: SQLite has no NaN (it stores NULL; the integrated zone holds nulls, never NaN), and
Ibis turns ``greatest``/``least`` into SQLite's ``max``/``min``, which return NULL if any argument
is NULL where DuckDB ignores it (every current use has non-null arguments).

:meth:`OnlineFeatures.get_many` answers many enterprises at once (post-loan monitoring of the
borrowers a batch touched). From ``batch_from`` (100) not cached, or from two when the zone is not
in memory, :mod:`.many` reads their rows from the Parquet (DuckDB, a semi-join on them; no load of
the zone) and runs the whole feature plan, compiled once per date, once over all of them: the
plan's fixed cost is shared, where SQLite would first need every row copied in (about 1.3 ms an
enterprise). Values equal :meth:`~OnlineFeatures.get`'s, floats to the last bits (DuckDB may add
in another order). :meth:`OnlineFeatures.warm` computes a whole date in one DuckDB batch when many
decisions on a date without a snapshot are expected.

A snapshot read into memory is kept while its folder is the one it was read from (one ``stat`` a
call): a batch of rows obtained on or before its date removes it (``docs/arrival-time.md``), and
the date is then computed on demand. On-demand calls are serialised by a lock.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from loomcredit.pipeline.features.tables import (
    ARRIVAL_COLUMNS,
    NEEDED,
    Tables,
    parquet_files,
    schema_of,
)
from loomcredit.pipeline.schemas import LakePaths

log = logging.getLogger(__name__)

# Tables cut down to the requested enterprise before each on-demand query (by ``uscc``);
# ``supply_edges`` keeps both directions of its trade, ``risk_events`` also its partners' events.
_PER_ENTERPRISE = (
    "enterprise",
    "monthly_activity",
    "supply_edges",
    "registry",
    "tax",
    "bank_flows",
    "judicial",
    "bureau",
    "risk_events",
)
_SNAPSHOT_DIR = "snapshots"
_Row = tuple[object, ...]


class _Sorted:
    """A table's rows grouped by one key column: each key's positions, found without a scan.

    Args:
        table: The rows.
        key: The column to look rows up by.
    """

    def __init__(self, table: pa.Table, key: str) -> None:
        import numpy as np

        encoded = pc.dictionary_encode(table.column(key).combine_chunks())
        size = len(encoded.dictionary)
        codes = pc.fill_null(encoded.indices, size).to_numpy()  # null keys last, never looked up
        counts = np.bincount(codes, minlength=size + 1)[:size]
        ends = np.cumsum(counts)
        self.table = table
        self.order = pa.array(np.argsort(codes, kind="stable"))
        self.ranges: dict[object, tuple[int, int]] = dict(
            zip(
                encoded.dictionary.to_pylist(),
                zip((ends - counts).tolist(), ends.tolist(), strict=True),
                strict=True,
            )
        )

    def rows(self, keys: Iterable[object]) -> pa.Table:
        """Every row whose key is one of ``keys``."""
        spans = [self.ranges[k] for k in keys if k in self.ranges]
        if not spans:
            return self.table.slice(0, 0)
        if len(spans) == 1:
            positions = self.order.slice(spans[0][0], spans[0][1] - spans[0][0])
        else:
            positions = pa.concat_arrays([self.order.slice(a, b - a) for a, b in spans])
        return self.table.take(positions)


def _tuples(table: pa.Table) -> list[_Row]:
    """Rows as tuples SQLite accepts (dates as ISO text, as Ibis's SQLite dialect expects)."""
    columns = []
    for field, column in zip(table.schema, table.columns, strict=True):
        if pa.types.is_date(field.type):
            column = pc.cast(column, pa.string())
        columns.append(column.to_pylist())
    return list(zip(*columns, strict=True))


class _Scratch:
    """The integrated zone in memory plus a SQLite scratch database for one enterprise's rows."""

    def __init__(self, lake: LakePaths) -> None:
        import ibis

        self.stamp = _zone_stamp(lake)
        self.zone: dict[str, _Sorted] = {}
        self.db = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        # Ibis compiles startswith() to LIKE, which must be case-sensitive as on DuckDB.
        self.db.execute("PRAGMA case_sensitive_like = ON")
        _ensure_math(self.db)
        opened: dict[str, Any] = {}
        for name in NEEDED:
            target = "market" if name == "market" else f"cur_{name}"
            self.db.execute(f"CREATE TABLE {target} ({_columns(name)})")
            opened[name] = ibis.table(ibis.schema(schema_of(name)), name=target)
        self.db.executemany(_insert("market", "market"), _tuples(_read(lake, "market")))
        # Reading and sorting release the GIL: two tables at a time.
        with ThreadPoolExecutor(max_workers=2) as pool:
            for part in pool.map(lambda name: _sorted(lake, name), _PER_ENTERPRISE):
                self.zone.update(part)
        self.tables = Tables(**opened)
        self.sql: dict[date, dict[str, str]] = {}

    def statements(self, as_of: date) -> dict[str, str]:
        """Every family's SQLite statement for ``as_of`` (compiled on first use)."""
        if as_of not in self.sql:
            import ibis

            from loomcredit.pipeline.features.families import FAMILIES

            self.sql[as_of] = {
                family.__name__: str(
                    ibis.to_sql(family.compute(self.tables, as_of=as_of), dialect="sqlite")
                )
                for family in FAMILIES
            }
        return self.sql[as_of]

    def load(self, uscc: str) -> None:
        """Replace the scratch tables' rows with the enterprise's own."""
        sold = self.zone["edges_by_seller"].rows([uscc])
        bought = self.zone["edges_by_buyer"].rows([uscc])
        bought = bought.filter(pc.not_equal(bought.column("seller_uscc"), uscc))
        partners = {uscc}
        partners.update(sold.column("buyer_uscc").to_pylist())
        partners.update(bought.column("seller_uscc").to_pylist())
        partners.discard(None)
        rows = {
            "supply_edges": _tuples(sold) + _tuples(bought),
            "risk_events": _tuples(self.zone["risk_events"].rows(sorted(partners))),
        }
        for name in _PER_ENTERPRISE:
            if name not in rows:
                rows[name] = _tuples(self.zone[name].rows([uscc]))
        self.db.execute("BEGIN")
        for name, values in rows.items():
            self.db.execute(f"DELETE FROM cur_{name}")
            self.db.executemany(_insert(name, f"cur_{name}"), values)
        self.db.execute("COMMIT")

    def query(self, sql: str) -> dict[object, dict[str, object]]:
        """One family's statement over the loaded rows: each enterprise's row, by USCC."""
        cursor = self.db.execute(sql)
        names = [d[0] for d in cursor.description]
        key = names.index("uscc")
        return {row[key]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}

    def close(self) -> None:
        self.db.close()


def _zone_stamp(lake: LakePaths) -> tuple[int, ...]:
    """When each integrated table's folder last changed (ingest adds and replaces files)."""
    out = []
    for name in NEEDED:
        try:
            out.append(lake.table(name).stat().st_mtime_ns)
        except FileNotFoundError:
            out.append(0)
    return tuple(out)


def _sorted(lake: LakePaths, name: str) -> dict[str, _Sorted]:
    """One per-enterprise table of the zone, sorted for lookups (edges both ways)."""
    table = _read(lake, name)
    if name == "supply_edges":
        return {
            "edges_by_seller": _Sorted(table, "seller_uscc"),
            "edges_by_buyer": _Sorted(table, "buyer_uscc"),
        }
    return {name: _Sorted(table, "uscc")}


def _read(lake: LakePaths, name: str) -> pa.Table:
    schema = schema_of(name)
    files = parquet_files(lake.table(name))
    if not files:
        return schema.empty_table()
    parts = [_with_arrival(pq.read_table(f, columns=_present(f, name)), schema) for f in files]
    # One chunk: take() on a table of many chunks would copy them all on every lookup.
    return pa.concat_tables([p.cast(schema) for p in parts]).combine_chunks()


def _present(path: str, name: str) -> list[str]:
    """The needed columns a file has (an older file may lack the arrival columns)."""
    have = set(pq.read_schema(path).names)
    return [c for c in NEEDED[name] if c in have or c not in ARRIVAL_COLUMNS]


def _with_arrival(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` in ``schema``'s columns, a missing arrival column as NULLs (known by the lags)."""
    for field in schema:
        if field.name not in table.column_names:
            table = table.append_column(field.name, pa.nulls(len(table), field.type))
    return table.select(schema.names)


def _columns(name: str) -> str:
    """Column definitions with the declared types Ibis gives SQLite tables (same affinities)."""
    out = []
    for field in schema_of(name):
        kind = field.type
        if pa.types.is_date(kind):
            declared = "DATE"
        elif pa.types.is_boolean(kind):
            declared = "BOOLEAN"
        elif pa.types.is_integer(kind):
            declared = "INTEGER"
        elif pa.types.is_floating(kind):
            declared = "REAL"
        else:
            declared = "TEXT"
        out.append(f'"{field.name}" {declared}')
    return ", ".join(out)


def _insert(name: str, target: str) -> str:
    return f"INSERT INTO {target} VALUES ({', '.join('?' * len(NEEDED[name]))})"


def _ensure_math(db: sqlite3.Connection) -> None:
    """SQLite builds without the math extension get ``sqrt`` / ``floor`` from Python."""
    import math

    try:
        db.execute("SELECT sqrt(4.0), floor(1.5)")
    except sqlite3.OperationalError:
        db.create_function("sqrt", 1, lambda x: None if x is None or x < 0 else math.sqrt(x))
        db.create_function("floor", 1, lambda x: None if x is None else math.floor(x))


def _merge(parts: Sequence[dict[str, object] | None]) -> dict[str, object]:
    """The families' rows joined like :func:`~.snapshot.feature_expression` (left joins onto the
    first family, the population)."""
    population = parts[0]
    if population is None:
        return {}
    out = dict(population)
    for part in parts[1:]:
        if part is not None:
            out.update(part)
    return out


def _finish(row: dict[str, object], pagerank: object, as_of: date) -> dict[str, object]:
    """One row finished like :func:`~.snapshot.finish`: catalogue order, defaults and types.

    The snapshot does this with Arrow over whole columns; for one row plain Python is 100 times
    quicker. A fractional value for an integer feature raises, as Arrow's safe cast does.
    """
    from loomcredit.pipeline.features.catalogue import catalogue

    out: dict[str, object] = {"uscc": row["uscc"], "as_of": as_of}
    for f in catalogue():
        value = pagerank if f.name == "network_pagerank" else row.get(f.name)
        if value is None:
            value = f.fill
        out[f.name] = None if value is None else _typed(value, f.dtype, f.name)
    return out


def _typed(value: object, dtype: str, name: str) -> object:
    if dtype == "string":
        return str(value)
    if not isinstance(value, int | float):
        raise TypeError(f"feature {name}: {value!r} is not a number")
    if dtype == "float64":
        return float(value)
    if isinstance(value, float) and not value.is_integer():
        raise ValueError(f"feature {name}: {value!r} is not a whole number")
    return int(value)


def _folder_stamp(folder: Path) -> tuple[int, int] | None:
    """Which copy of a folder is on disk (``None``: none): a removed and rebuilt snapshot gets a
    new one. One ``stat``, about a microsecond."""
    try:
        st = folder.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns)


class OnlineFeatures:
    """Feature vectors of single enterprises, fast on repeated calls.

    Args:
        lake: The lake (integrated zone and feature snapshots).
        cache_size: How many computed ``(uscc, as_of)`` vectors to keep.
        batch_from: From how many enterprises not cached :meth:`get_many` computes them in one
            DuckDB pass instead of one by one on SQLite (from two when the zone is not in
            memory; see ``docs/benchmarks.md``).
    """

    def __init__(self, lake: LakePaths, *, cache_size: int = 4096, batch_from: int = 100) -> None:
        self.lake = lake
        self.cache_size = cache_size
        self.batch_from = batch_from
        # date → (the snapshot folder's stamp, its rows); forgotten when the folder has gone
        self._snapshots: dict[date, tuple[tuple[int, int], dict[str, dict[str, object]]]] = {}
        # date → (the zone's stamp, every enterprise computed by warm())
        self._warmed: dict[date, tuple[tuple[int, ...], dict[str, dict[str, object]]]] = {}
        self._scratch: _Scratch | None = None
        self._many: Any = None  # features.many.ManyFeatures, made on the first batch
        self._dates: tuple[int, list[date]] | None = None
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[str, date], dict[str, object]] = OrderedDict()
        self._cache_stamp: tuple[int, ...] | None = None  # the zone the cached vectors are of

    # -- snapshots ---------------------------------------------------------------------------
    def snapshot_dates(self) -> list[date]:
        """Dates with a built snapshot, oldest first (listed again when the folder changes)."""
        root = self.lake.features / _SNAPSHOT_DIR
        try:
            stamp = root.stat().st_mtime_ns
        except FileNotFoundError:
            return []
        if self._dates is None or self._dates[0] != stamp:
            out = []
            for folder in root.glob("as_of=*"):
                try:
                    out.append(date.fromisoformat(folder.name.removeprefix("as_of=")))
                except ValueError:
                    continue
            self._dates = (stamp, sorted(out))
        return list(self._dates[1])

    def _snapshot(self, as_of: date) -> dict[str, dict[str, object]] | None:
        """The snapshot's rows for the date, or ``None``: the copy in memory while its folder is
        the one it was read from (a batch removes out-of-date snapshots), else read again."""
        folder = self.lake.features / _SNAPSHOT_DIR / f"as_of={as_of.isoformat()}"
        stamp = _folder_stamp(folder)
        held = self._snapshots.get(as_of)
        if held is not None and held[0] == stamp:
            return held[1]
        self._snapshots.pop(as_of, None)
        files = parquet_files(folder) if stamp is not None else []
        if stamp is None or not files:
            warmed = self._warmed.get(as_of)
            if warmed is not None and warmed[0] == _zone_stamp(self.lake):
                return warmed[1]
            return None
        table = pa.concat_tables(pq.read_table(f) for f in files)
        rows = {r["uscc"]: r for r in table.to_pylist()}
        self._snapshots[as_of] = (stamp, rows)
        log.info("loaded feature snapshot %s (%d enterprises)", as_of, len(rows))
        return rows

    # -- on-demand computation ---------------------------------------------------------------
    def _pagerank(self, uscc: str, as_of: date) -> object:
        earlier = [d for d in self.snapshot_dates() if d <= as_of]
        if not earlier:
            return None
        row = (self._snapshot(earlier[-1]) or {}).get(uscc)
        return None if row is None else row.get("network_pagerank")

    def compute(self, uscc: str, as_of: date) -> dict[str, object]:
        """Compute one enterprise's features from the integrated zone (no snapshot used).

        Args:
            uscc: The enterprise.
            as_of: The decision date.

        Returns:
            ``uscc``, ``as_of`` and every feature; empty if the enterprise is unknown on that date.
        """
        with self._lock:
            self._forget_if_zone_changed()
            return self._compute([uscc], as_of)[uscc]

    def _compute(self, usccs: Sequence[str], as_of: date) -> dict[str, dict[str, object]]:
        """Every enterprise of ``usccs`` (distinct): one at a time on SQLite over the zone in
        memory; in one DuckDB pass (:mod:`.many`) from ``batch_from`` of them, or from two when
        the zone is not in memory (after a batch changed it)."""
        # Loading the zone for SQLite costs seconds in a large lake: not for a few firms.
        if len(usccs) >= self.batch_from or (self._scratch is None and len(usccs) > 1):
            if self._many is None:
                from loomcredit.pipeline.features.many import ManyFeatures

                self._many = ManyFeatures(self.lake)
            rows = self._many.rows(usccs, as_of)
            found = {u: rows.get(u) or {} for u in usccs}
        else:
            if self._scratch is None:
                self._scratch = _Scratch(self.lake)
            scratch = self._scratch
            statements = scratch.statements(as_of)
            found = {}
            for uscc in usccs:
                scratch.load(uscc)
                found[uscc] = _merge([scratch.query(sql).get(uscc) for sql in statements.values()])
        return {
            uscc: _finish(row, self._pagerank(uscc, as_of), as_of) if row else {}
            for uscc, row in found.items()
        }

    def _forget_if_zone_changed(self) -> None:
        """Drop the in-memory zone and computed vectors once an integrated table has changed."""
        stamp = _zone_stamp(self.lake)
        if self._scratch is not None and self._scratch.stamp != stamp:
            log.info("integrated zone changed since it was loaded: reloading on demand")
            self._scratch.close()
            self._scratch = None
        if self._cache_stamp != stamp:
            self._cache.clear()
            self._cache_stamp = stamp

    def get(self, uscc: str, as_of: date) -> dict[str, object]:
        """One enterprise's feature vector as of ``as_of``.

        Args:
            uscc: The enterprise.
            as_of: The decision date.

        Returns:
            ``uscc``, ``as_of`` and every catalogue feature (empty if unknown on that date).
        """
        return self.get_many([uscc], as_of)[uscc]

    def get_many(self, usccs: Iterable[str], as_of: date) -> dict[str, dict[str, object]]:
        """Many enterprises' vectors as of ``as_of``, equal to :meth:`get` one by one.

        The ones not cached are computed together (:meth:`_compute`): from ``batch_from`` of
        them, one DuckDB query over all their rows, so post-loan monitoring of a thousand
        borrowers costs one cut of the zone and one run of the feature plan.

        Args:
            usccs: The enterprises (repeats are answered once).
            as_of: The decision date.

        Returns:
            Each asked USCC → ``uscc``, ``as_of`` and every catalogue feature (empty if unknown
            on that date); fresh copies the caller may change.
        """
        wanted = list(dict.fromkeys(usccs))
        snap = self._snapshot(as_of)
        if snap is not None:
            return {u: dict(snap.get(u, {})) for u in wanted}
        found: dict[str, dict[str, object]] = {}
        with self._lock:
            self._forget_if_zone_changed()
            for uscc in wanted:
                row = self._cache.get((uscc, as_of))
                if row is not None:
                    self._cache.move_to_end((uscc, as_of))
                    found[uscc] = row
            todo = [u for u in wanted if u not in found]
            if todo:
                found.update(self._compute(todo, as_of))
                for uscc in todo:
                    self._cache[(uscc, as_of)] = found[uscc]
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        return {u: dict(found[u]) for u in wanted}

    def warm(self, as_of: date) -> int:
        """Compute every enterprise as of ``as_of`` in one DuckDB batch and keep it in memory.

        After this, ``get(…, as_of)`` is a dictionary lookup until the integrated zone changes.
        Use it when many decisions on a date without a built snapshot are expected.

        Returns:
            The number of enterprises held for the date.
        """
        import ibis

        from loomcredit.pipeline.features.snapshot import compute_snapshot
        from loomcredit.pipeline.features.tables import load_tables

        stamp = _zone_stamp(self.lake)
        con = ibis.duckdb.connect()
        try:
            table = compute_snapshot(con, load_tables(con, self.lake), as_of=as_of)
        finally:
            con.disconnect()
        self._warmed[as_of] = (stamp, {r["uscc"]: r for r in table.to_pylist()})
        return int(table.num_rows)

    def close(self) -> None:
        """Release the in-memory copy of the integrated zone."""
        with self._lock:
            if self._scratch is not None:
                self._scratch.close()
            self._scratch = None


def snapshot_folder(lake: LakePaths) -> Path:
    """Where snapshots live."""
    return lake.features / _SNAPSHOT_DIR


# The name the decision engine's adapter may know it by.
FeatureStore = OnlineFeatures
