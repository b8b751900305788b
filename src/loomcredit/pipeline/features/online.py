"""Online features (在线特征): one enterprise's vector for a live decision.

:class:`OnlineFeatures` answers ``get(uscc, as_of)``:

1. from the snapshot of that date when one has been built (held in memory after the first call);
2. otherwise by running the very same feature expressions for that one enterprise on an in-memory
   DuckDB copy of the integrated zone, so everything that arrived after the latest snapshot is
   used. The statement is compiled and prepared once per date; each call copies the
   enterprise's rows into small tables and executes it (about 0.1 s, the cost of the large
   statement itself), and the result is cached. Not thread-safe: one instance per worker.
   PageRank needs the whole network: it comes from the latest snapshot on or before the date
   (null if there is none). :meth:`OnlineFeatures.warm` computes a whole date in one batch when
   many decisions on a date without a snapshot are expected.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from loomcredit.pipeline.features.snapshot import feature_expression, finish
from loomcredit.pipeline.features.tables import NEEDED, Tables, parquet_files, schema_of
from loomcredit.pipeline.schemas import LakePaths

log = logging.getLogger(__name__)

# Tables cut down to the requested enterprise before each on-demand query.
_PER_ENTERPRISE = (
    "enterprise", "monthly_activity", "supply_edges", "registry", "tax", "bank_flows",
    "judicial", "bureau",
)  # fmt: skip
_SNAPSHOT_DIR = "snapshots"


class OnlineFeatures:
    """Feature vectors of single enterprises, fast on repeated calls.

    Args:
        lake: The lake (integrated zone and feature snapshots).
        cache_size: How many computed ``(uscc, as_of)`` vectors to keep.
    """

    def __init__(self, lake: LakePaths, *, cache_size: int = 4096) -> None:
        self.lake = lake
        self.cache_size = cache_size
        self._snapshots: dict[date, dict[str, dict[str, object]]] = {}
        self._ibis: Any = None
        self._tables: Tables | None = None
        self._whole: Any = None
        self._sql: dict[date, str] = {}
        self._cache: OrderedDict[tuple[str, date], dict[str, object]] = OrderedDict()

    # -- snapshots ---------------------------------------------------------------------------
    def snapshot_dates(self) -> list[date]:
        """Dates with a built snapshot, oldest first."""
        root = self.lake.features / _SNAPSHOT_DIR
        if not root.is_dir():
            return []
        out = []
        for folder in root.glob("as_of=*"):
            try:
                out.append(date.fromisoformat(folder.name.removeprefix("as_of=")))
            except ValueError:
                continue
        return sorted(out)

    def _snapshot(self, as_of: date) -> dict[str, dict[str, object]] | None:
        if as_of in self._snapshots:
            return self._snapshots[as_of]
        files = parquet_files(self.lake.features / _SNAPSHOT_DIR / f"as_of={as_of.isoformat()}")
        if not files:
            return None
        table = pa.concat_tables(pq.read_table(f) for f in files)
        rows = {r["uscc"]: r for r in table.to_pylist()}
        self._snapshots[as_of] = rows
        log.info("loaded feature snapshot %s (%d enterprises)", as_of, len(rows))
        return rows

    # -- on-demand computation ---------------------------------------------------------------
    def _connect(self) -> tuple[Any, Tables]:
        """Load the integrated zone into in-memory DuckDB, plus empty per-enterprise tables.

        ``online_<table>`` holds every row, sorted by enterprise so a point lookup reads few
        blocks; ``cur_<table>`` receives one enterprise's rows before each query, so the feature
        statement (prepared once per date) runs on a handful of rows. ``risk_events`` and
        ``market`` stay whole (contagion looks at the buyers' events).
        """
        if self._ibis is not None and self._tables is not None:
            return self._ibis, self._tables
        import ibis

        con = ibis.duckdb.connect()
        raw = con.con
        opened: dict[str, Any] = {}
        whole: dict[str, Any] = {}
        for name, cols in NEEDED.items():
            files = parquet_files(self.lake.table(name))
            full = f"online_{name}"
            key = "seller_uscc" if name == "supply_edges" else "uscc"
            order = f" ORDER BY {key}" if key in cols else ""
            select = ", ".join(f'"{c}"' for c in cols)
            if files:
                raw.execute(f"CREATE TABLE {full} AS SELECT {select} FROM read_parquet(?){order}",
                            [files])  # fmt: skip
            else:
                raw.register(f"{full}_empty", schema_of(name).empty_table())
                raw.execute(f"CREATE TABLE {full} AS SELECT * FROM {full}_empty")
            if name == "supply_edges":
                raw.execute(f"CREATE TABLE {full}_b AS SELECT * FROM {full} ORDER BY buyer_uscc")
                raw.execute(f"CREATE INDEX {full}_b_key ON {full}_b (buyer_uscc)")
            if name in _PER_ENTERPRISE:
                # USCCs share long prefixes, so zone maps cannot skip blocks: index the key.
                raw.execute(f"CREATE INDEX {full}_key ON {full} ({key})")
            used = full
            if name in _PER_ENTERPRISE:
                used = f"cur_{name}"
                raw.execute(f"CREATE TABLE {used} AS SELECT * FROM {full} LIMIT 0")
            types = [ibis.dtype(schema_of(name).field(c).type) for c in cols]
            for target, table_name in ((opened, used), (whole, full)):
                t = con.table(table_name)
                target[name] = t.select(*[t[c].cast(ty) for c, ty in zip(cols, types, strict=True)])
        self._ibis, self._tables, self._whole = con, Tables(**opened), Tables(**whole)
        return con, self._tables

    def _compiled(self, as_of: date) -> str:
        """The name of the prepared feature statement for ``as_of`` (prepared on first use)."""
        if as_of not in self._sql:
            con, tables = self._connect()
            sql = str(con.compile(feature_expression(tables, as_of=as_of)))
            name = f"loom_features_{as_of:%Y%m%d}"
            con.con.execute(f"PREPARE {name} AS {sql}")
            self._sql[as_of] = name
        return self._sql[as_of]

    def _select(self, uscc: str) -> None:
        """Fill the ``cur_*`` tables with one enterprise's rows."""
        raw = self._ibis.con
        for name in _PER_ENTERPRISE:
            raw.execute(f"DELETE FROM cur_{name}")
            if name == "supply_edges":
                raw.execute(
                    "INSERT INTO cur_supply_edges SELECT * FROM online_supply_edges "
                    "WHERE seller_uscc = $1",
                    [uscc],
                )
                raw.execute(
                    "INSERT INTO cur_supply_edges SELECT * FROM online_supply_edges_b "
                    "WHERE buyer_uscc = $1 AND seller_uscc <> $1",
                    [uscc],
                )
            else:
                raw.execute(
                    f"INSERT INTO cur_{name} SELECT * FROM online_{name} WHERE uscc = $1", [uscc]
                )

    def _pagerank(self, uscc: str, as_of: date) -> pa.Table:
        earlier = [d for d in self.snapshot_dates() if d <= as_of]
        value = None
        if earlier:
            row = (self._snapshot(earlier[-1]) or {}).get(uscc)
            value = None if row is None else row.get("network_pagerank")
        return pa.table(
            {
                "uscc": pa.array([uscc], pa.string()),
                "network_pagerank": pa.array([value], pa.float64()),
            }
        )

    def compute(self, uscc: str, as_of: date) -> dict[str, object]:
        """Compute one enterprise's features from the integrated zone (no snapshot used).

        Args:
            uscc: The enterprise.
            as_of: The decision date.

        Returns:
            ``uscc``, ``as_of`` and every feature; empty if the enterprise is unknown on that date.
        """
        con, _ = self._connect()
        statement = self._compiled(as_of)
        self._select(uscc)
        raw = con.con.sql(f"EXECUTE {statement}").to_arrow_table()
        if raw.num_rows == 0:
            return {}
        rows = finish(raw, self._pagerank(uscc, as_of), as_of=as_of).to_pylist()
        return rows[0]

    def get(self, uscc: str, as_of: date) -> dict[str, object]:
        """One enterprise's feature vector as of ``as_of``.

        Args:
            uscc: The enterprise.
            as_of: The decision date.

        Returns:
            ``uscc``, ``as_of`` and every catalogue feature (empty if unknown on that date).
        """
        snap = self._snapshot(as_of)
        if snap is not None:
            return dict(snap.get(uscc, {}))
        key = (uscc, as_of)
        if key in self._cache:
            self._cache.move_to_end(key)
            return dict(self._cache[key])
        row = self.compute(uscc, as_of)
        self._cache[key] = row
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return dict(row)

    def warm(self, as_of: date) -> int:
        """Compute every enterprise as of ``as_of`` in one batch and keep it in memory.

        After this, ``get(…, as_of)`` is a dictionary lookup. Use it when many decisions on a
        date without a built snapshot are expected.

        Returns:
            The number of enterprises held for the date.
        """
        from loomcredit.pipeline.features.snapshot import compute_snapshot

        con, _ = self._connect()
        table = compute_snapshot(con, self._whole, as_of=as_of)
        self._snapshots[as_of] = {r["uscc"]: r for r in table.to_pylist()}
        return table.num_rows

    def close(self) -> None:
        """Release the in-memory copy of the integrated zone."""
        if self._ibis is not None:
            self._ibis.disconnect()
        self._ibis = self._tables = self._whole = None
        self._sql.clear()


def snapshot_folder(lake: LakePaths) -> Path:
    """Where snapshots live."""
    return lake.features / _SNAPSHOT_DIR


# The name the decision engine's adapter may know it by.
FeatureStore = OnlineFeatures
