"""Many enterprises' features in one pass (:meth:`.online.OnlineFeatures.get_many`).

Their rows are read from the integrated zone's Parquet by an in-process DuckDB, with a semi-join on
the enterprises (a scan on every core, no copy of the whole zone in memory), and the whole feature
plan — the snapshot's Ibis expressions, compiled once per date — runs once over all of them. A
supply edge is read when either end is one of the enterprises; risk events also for their trading
partners (contagion reads them), as on demand.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date

import pyarrow as pa
import pyarrow.parquet as pq

from loomcredit.pipeline.features.catalogue import catalogue
from loomcredit.pipeline.features.tables import NEEDED, Tables, parquet_files, schema_of
from loomcredit.pipeline.schemas import LakePaths

log = logging.getLogger(__name__)
_KINDS = {"int64": pa.int64(), "float64": pa.float64(), "string": pa.string()}


class ManyFeatures:
    """Feature rows (all but PageRank, nulls not filled) of many enterprises from the lake.

    Args:
        lake: The lake.
    """

    def __init__(self, lake: LakePaths) -> None:
        self.lake = lake
        self._sql: dict[date, str] = {}

    def statement(self, as_of: date) -> str:
        """The feature plan for ``as_of`` as DuckDB SQL over ``cur_<table>`` and ``market``."""
        if as_of not in self._sql:
            import ibis

            from loomcredit.pipeline.features.snapshot import feature_expression

            opened = {
                name: ibis.table(ibis.schema(schema_of(name)), name=_target(name))
                for name in NEEDED
            }
            expr = feature_expression(Tables(**opened), as_of=as_of)
            self._sql[as_of] = str(ibis.to_sql(expr, dialect="duckdb"))
        return self._sql[as_of]

    def rows(self, usccs: Sequence[str], as_of: date) -> dict[str, dict[str, object]]:
        """Each enterprise's row by USCC (one with no row on the date is absent)."""
        import duckdb

        sql = self.statement(as_of)
        con = duckdb.connect()
        try:
            con.execute("SET TimeZone = 'UTC'")
            con.register("wanted", pa.table({"uscc": pa.array(sorted(set(usccs)), pa.string())}))
            for name in _ORDER:
                con.execute(f"CREATE TEMP TABLE {_target(name)} AS {self._cut(name)}")
            result = con.sql(sql).to_arrow_table()
        finally:
            con.close()
        return {str(r["uscc"]): r for r in _catalogue_types(result).to_pylist()}

    def _cut(self, name: str) -> str:
        """SELECT of a table's rows that concern the enterprises in ``wanted``, in the feature
        schema (a column no file has, an arrival day of an older lake, is NULL)."""
        files = parquet_files(self.lake.table(name))
        have: set[str] = set()
        for f in files:
            have.update(pq.read_schema(f).names)
        cols = ", ".join(
            f'CAST({_q(f.name) if f.name in have else "NULL"} AS {_DUCK[str(f.type)]}) '
            f"AS {_q(f.name)}"
            for f in schema_of(name)
        )
        if not files:
            return f"SELECT {cols} WHERE false"
        listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
        source = f"read_parquet([{listed}], union_by_name = true)"
        return f"SELECT {cols} FROM {source} WHERE {_WHERE.get(name, _OWN)}"


_OWN = "uscc IN (SELECT uscc FROM wanted)"
_WHERE = {
    "supply_edges": "seller_uscc IN (SELECT uscc FROM wanted) "
    "OR buyer_uscc IN (SELECT uscc FROM wanted)",
    # their own events and their trading partners' (contagion reads them)
    "risk_events": f"{_OWN} OR uscc IN (SELECT seller_uscc FROM cur_supply_edges) "
    "OR uscc IN (SELECT buyer_uscc FROM cur_supply_edges)",
    "market": "true",
}
# supply_edges before risk_events, which reads it
_ORDER = ("supply_edges", *(name for name in NEEDED if name != "supply_edges"))
_DUCK = {"bool": "BOOLEAN", "date32[day]": "DATE", "double": "DOUBLE", "int64": "BIGINT",
         "string": "VARCHAR"}  # fmt: skip


def _q(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _target(name: str) -> str:
    return "market" if name == "market" else f"cur_{name}"


def _catalogue_types(table: pa.Table) -> pa.Table:
    """DuckDB's columns in the catalogue's types (a sum of integers comes back as a 128-bit
    decimal); a fractional value for an integer feature raises, as Arrow's safe cast does."""
    for f in catalogue():
        if f.name in table.column_names:
            at = table.column_names.index(f.name)
            table = table.set_column(at, f.name, table.column(at).cast(_KINDS[f.dtype]))
    return table
