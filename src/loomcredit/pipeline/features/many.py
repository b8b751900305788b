"""Many enterprises' features in one pass (:meth:`.online.OnlineFeatures.get_many`).

Their rows are read from the integrated zone's Parquet with a filter on the enterprise (Arrow's
multi-threaded scan: no copy of the whole zone in memory), registered in an in-process DuckDB
without a copy, and the whole feature plan — the same Ibis expressions as the snapshot, compiled
once per date — runs once over all of them. A supply edge is read when either end is one of the
enterprises; risk events also for their trading partners (contagion reads them), as on demand.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from loomcredit.pipeline.features.catalogue import catalogue
from loomcredit.pipeline.features.online import read_table
from loomcredit.pipeline.features.tables import NEEDED, Tables, schema_of
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
            for name, table in self.cut(usccs).items():
                con.register(_target(name), table)
            result = con.sql(sql).to_arrow_table()
        finally:
            con.close()
        return {str(r["uscc"]): r for r in _catalogue_types(result).to_pylist()}

    def cut(self, usccs: Sequence[str]) -> dict[str, pa.Table]:
        """The zone's rows of the enterprises, by table (``market`` whole)."""
        wanted = pa.array(sorted(set(usccs)), pa.string())
        edges = read_table(
            self.lake,
            "supply_edges",
            where=ds.field("seller_uscc").isin(wanted) | ds.field("buyer_uscc").isin(wanted),
        )
        ends = [pc.unique(edges.column(c)) for c in ("seller_uscc", "buyer_uscc")]
        partners = pc.unique(pc.drop_null(pa.concat_arrays([wanted, *ends])))
        out = {
            "supply_edges": edges,
            "risk_events": read_table(
                self.lake, "risk_events", where=ds.field("uscc").isin(partners)
            ),
            "market": read_table(self.lake, "market"),
        }
        for name in NEEDED:
            if name not in out:
                out[name] = read_table(self.lake, name, where=ds.field("uscc").isin(wanted))
        return out


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
