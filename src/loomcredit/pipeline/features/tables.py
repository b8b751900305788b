"""The integrated tables a feature reads, as lazy Ibis tables on one engine.

Features read only the integrated zone (never ``truth/``). A table missing from the lake is an
empty table with the agreed schema, so a partial lake still yields a (sparser) profile. An arrival
column (``obtained_on``, ``known_on`` …) missing from a table reads as NULL: known under the lags
alone, as a lake ingested before rows carried their arrival day.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa

from loomcredit.pipeline.schemas import INTEGRATED_SCHEMAS, RAW_SCHEMAS, LakePaths

log = logging.getLogger(__name__)

# The columns that say when a row was obtained (point in time: only rows known by the date).
ARRIVAL_COLUMNS = frozenset({"obtained_on", "known_on", "seller_known_on", "buyer_known_on"})

# Integrated tables the features read, and the columns they need.
NEEDED: dict[str, tuple[str, ...]] = {
    "enterprise": (
        "uscc",
        "name",
        "established_on",
        "industry_code",
        "region_code",
        "status",
        "known_on",
    ),
    "monthly_activity": (
        "uscc",
        "month",
        "sales_fen",
        "purchases_fen",
        "invoices_issued",
        "invoices_void",
        "invoices_red",
        "kwh",
        "steam_t",
        "headcount",
        "known_on",
    ),
    "supply_edges": (
        "seller_uscc",
        "buyer_uscc",
        "month",
        "amount_fen",
        "seller_consented",
        "buyer_consented",
        "known_on",
        "seller_known_on",
        "buyer_known_on",
    ),
    "risk_events": ("uscc", "occurred_on", "kind", "severity", "source", "known_on"),
    "registry": (
        "uscc",
        "industry_code",
        "region_code",
        "status",
        "change_type",
        "changed_on",
        "obtained_on",
    ),
    "tax": (
        "uscc",
        "period",
        "tax_type",
        "due_fen",
        "paid_fen",
        "paid_on",
        "credit_grade",
        "obtained_on",
    ),
    "bank_flows": (
        "uscc",
        "booked_on",
        "direction",
        "amount_fen",
        "counterparty_name",
        "counterparty_uscc",
        "obtained_on",
    ),
    "judicial": (
        "uscc",
        "case_id",
        "filed_on",
        "case_type",
        "role",
        "amount_fen",
        "closed_on",
        "obtained_on",
    ),
    "bureau": (
        "uscc",
        "reported_on",
        "loans_outstanding_fen",
        "overdue_accounts",
        "max_dpd_24m",
        "guarantees_fen",
        "inquiries_3m",
        "nonperforming_accounts",
        "obtained_on",
    ),
    "market": ("month", "series", "value", "obtained_on"),
}


def schema_of(name: str) -> pa.Schema:
    """The agreed Arrow schema of an integrated table, restricted to the columns features need."""
    full = INTEGRATED_SCHEMAS.get(name) or RAW_SCHEMAS[name]
    return pa.schema([full.field(c) for c in NEEDED[name]])


@dataclass(frozen=True)
class Tables:
    """The integrated tables as lazy Ibis expressions (one engine)."""

    enterprise: Any
    monthly_activity: Any
    supply_edges: Any
    risk_events: Any
    registry: Any
    tax: Any
    bank_flows: Any
    judicial: Any
    bureau: Any
    market: Any

    def restrict(self, uscc: Any) -> Tables:
        """The same tables cut down to one enterprise (``uscc`` may be an Ibis parameter).

        ``risk_events`` stays whole (contagion looks at the buyers' events) and ``supply_edges``
        keeps both directions of the enterprise's trade.
        """
        edges = self.supply_edges
        return replace(
            self,
            enterprise=_only(self.enterprise, uscc),
            monthly_activity=_only(self.monthly_activity, uscc),
            supply_edges=edges.filter((edges.seller_uscc == uscc) | (edges.buyer_uscc == uscc)),
            registry=_only(self.registry, uscc),
            tax=_only(self.tax, uscc),
            bank_flows=_only(self.bank_flows, uscc),
            judicial=_only(self.judicial, uscc),
            bureau=_only(self.bureau, uscc),
        )


def _only(table: Any, uscc: Any) -> Any:
    return table.filter(table.uscc == uscc)


def parquet_files(folder: Path) -> list[str]:
    """The Parquet files of a table folder, sorted (empty if the folder is missing)."""
    if not folder.is_dir():
        return []
    return sorted(str(p) for p in folder.rglob("*.parquet"))


def load_tables(con: Any, lake: LakePaths, *, empty_dir: Path | None = None) -> Tables:
    """Open every integrated table lazily on an Ibis connection.

    Args:
        con: An Ibis backend (DuckDB or PySpark).
        lake: Where the lake lives.
        empty_dir: Where to write empty Parquet stand-ins for missing tables (Spark needs files).

    Returns:
        The tables, each restricted to the columns features need.
    """
    opened: dict[str, Any] = {}
    for name, cols in NEEDED.items():
        files = parquet_files(lake.table(name))
        schema = schema_of(name)
        if not files:
            log.warning("integrated table %s is missing; features from it will be empty", name)
            opened[name] = _empty(con, name, schema, empty_dir)
            continue
        # DuckDB takes the file list; Spark takes the folder (it rejects lists).
        source = files if con.name == "duckdb" else str(lake.table(name))
        table = con.read_parquet(source, table_name=f"loom_{name}")
        opened[name] = table.select(*[_column(table, schema.field(c)) for c in cols])
    return Tables(**opened)


def tables_from_arrow(
    con: Any, data: dict[str, pa.Table], *, empty_dir: Path | None = None
) -> Tables:
    """Tables from in-memory Arrow tables (tests, benchmarks); missing ones are empty."""
    opened: dict[str, Any] = {}
    for name, cols in NEEDED.items():
        schema = schema_of(name)
        if name in data:
            arrow = data[name]
            for c in cols:
                if c not in arrow.column_names and c in ARRIVAL_COLUMNS:
                    arrow = arrow.append_column(c, pa.nulls(len(arrow), schema.field(c).type))
            arrow = arrow.select(list(cols)).cast(schema)
            opened[name] = _from_arrow(con, name, arrow, empty_dir)
        else:
            opened[name] = _empty(con, name, schema, empty_dir)
    return Tables(**opened)


def _ibis_type(arrow_type: pa.DataType) -> Any:
    return ibis.dtype(arrow_type)


def _column(table: Any, field: pa.Field) -> Any:
    kind = _ibis_type(field.type)
    if field.name not in table.columns and field.name in ARRIVAL_COLUMNS:
        return ibis.null().cast(kind).name(field.name)
    return table[field.name].cast(kind)


def _empty(con: Any, name: str, schema: pa.Schema, empty_dir: Path | None) -> Any:
    return _from_arrow(con, name, schema.empty_table(), empty_dir)


def _from_arrow(con: Any, name: str, arrow: pa.Table, empty_dir: Path | None) -> Any:
    if con.name == "duckdb":
        return ibis.memtable(arrow)
    import pyarrow.parquet as pq

    if empty_dir is None:
        raise ValueError("a folder for stand-in tables is needed on this engine")
    empty_dir.mkdir(parents=True, exist_ok=True)
    path = empty_dir / f"{name}.parquet"
    pq.write_table(arrow, path)
    return con.read_parquet(str(path), table_name=f"loom_mem_{name}")
