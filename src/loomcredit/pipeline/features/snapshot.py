"""The feature snapshot (特征快照): every enterprise's profile as of one date, as Parquet.

:func:`feature_expression` joins every family's Ibis expression onto the population; it is lazy
and engine-neutral. :func:`compute_snapshot` executes it on an engine, adds PageRank (computed in
Python on the same edge list for both engines), fills the documented defaults and orders columns
as in the catalogue. :func:`build_snapshot` writes
``lake/features/snapshots/as_of=YYYY-MM-DD/part-0.parquet``; :func:`drop_snapshots_from` removes
the snapshots a batch of rows obtained on or before their date has made out of date.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from loomcredit.pipeline.features import families, network
from loomcredit.pipeline.features.catalogue import FeatureDef, catalogue
from loomcredit.pipeline.features.engines import connect
from loomcredit.pipeline.features.tables import Tables, load_tables
from loomcredit.pipeline.schemas import LakePaths

log = logging.getLogger(__name__)

_ARROW = {"int64": pa.int64(), "float64": pa.float64(), "string": pa.string()}


def feature_expression(tables: Tables, *, as_of: date) -> Any:
    """The lazy Ibis expression of every feature except PageRank, one row per enterprise.

    Args:
        tables: The integrated tables (on any engine).
        as_of: The decision date.

    Returns:
        An Ibis table: ``uscc`` then every family's columns (nulls not yet filled).
    """
    out = families.FAMILIES[0].compute(tables, as_of=as_of)
    for family in families.FAMILIES[1:]:
        part = family.compute(tables, as_of=as_of)
        out = out.left_join(part, "uscc").drop("uscc_right")
    return out


def finish(raw: pa.Table, pagerank: pa.Table, *, as_of: date) -> pa.Table:
    """Join PageRank, fill defaults, cast and order columns as in the catalogue.

    Args:
        raw: The executed :func:`feature_expression`.
        pagerank: ``uscc, network_pagerank`` from :func:`network.pagerank`.
        as_of: The decision date (a column of the snapshot).

    Returns:
        ``uscc, as_of, <features…>`` sorted by ``uscc``.
    """
    joined = raw.join(pagerank, "uscc", join_type="left outer") if pagerank.num_rows else raw
    joined = joined.sort_by("uscc")
    cols: dict[str, pa.Array] = {
        "uscc": joined.column("uscc").combine_chunks(),
        "as_of": pa.array([as_of] * joined.num_rows, pa.date32()),
    }
    for f in catalogue():
        cols[f.name] = _column(joined, f)
    return pa.table(cols)


def _column(table: pa.Table, f: FeatureDef) -> pa.Array:
    target = _ARROW[f.dtype]
    if f.name in table.column_names:
        col = table.column(f.name).combine_chunks().cast(target)
    else:
        col = pa.nulls(table.num_rows, target)
    if f.fill is not None:
        col = pc.fill_null(col, pa.scalar(f.fill, target))
    return col


def compute_snapshot(con: Any, tables: Tables, *, as_of: date) -> pa.Table:
    """Execute every feature as of ``as_of`` on the connection's engine.

    Args:
        con: The Ibis backend the tables live on.
        tables: The integrated tables.
        as_of: The decision date.

    Returns:
        The snapshot as an Arrow table.
    """
    raw = con.to_pyarrow(feature_expression(tables, as_of=as_of))
    edges = con.to_pyarrow(network.recent_edges(tables, as_of=as_of))
    return finish(raw, network.pagerank(edges), as_of=as_of)


def snapshot_path(lake: LakePaths, as_of: date) -> Path:
    """Where the snapshot for ``as_of`` lives in the lake."""
    return lake.features / "snapshots" / f"as_of={as_of.isoformat()}" / "part-0.parquet"


def build_snapshot(
    lake: LakePaths,
    as_of: date,
    engine: str = "duckdb",
    out: Path | None = None,
    *,
    spark_master: str = "local[2]",
) -> Path:
    """Build and write the feature snapshot of every enterprise as of ``as_of``.

    Args:
        lake: The lake (reads ``integrated/``, never ``truth/``).
        as_of: The decision date.
        engine: ``duckdb`` (default) or ``spark``.
        out: Output file; default ``lake/features/snapshots/as_of=…/part-0.parquet``.
        spark_master: Spark master URL for ``engine="spark"``.

    Returns:
        The Parquet file written.
    """
    target = out or snapshot_path(lake, as_of)
    with tempfile.TemporaryDirectory(prefix="loom-features-") as tmp:
        con = connect(engine, spark_master=spark_master)
        tables = load_tables(con, lake, empty_dir=Path(tmp))
        table = compute_snapshot(con, tables, as_of=as_of)
    target.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, target)
    log.info("feature snapshot as of %s: %d enterprises -> %s", as_of, table.num_rows, target)
    return target


def drop_snapshots_from(lake: LakePaths, day: date) -> list[date]:
    """Remove the snapshots as of ``day`` or later: rows obtained on ``day`` have just arrived,
    so they no longer show what the bank held on their date. Earlier snapshots stay (exact: a
    snapshot as of D holds only rows obtained by D).

    Args:
        lake: The lake.
        day: The earliest ``obtained_on`` of the rows just ingested.

    Returns:
        The dates whose snapshot was removed, oldest first.
    """
    root = lake.features / "snapshots"
    dropped = []
    for folder in sorted(root.glob("as_of=*")) if root.is_dir() else []:
        try:
            as_of = date.fromisoformat(folder.name.removeprefix("as_of="))
        except ValueError:
            continue
        if as_of >= day:
            shutil.rmtree(folder)
            dropped.append(as_of)
    if dropped:
        log.info("feature snapshots out of date since %s removed: %s", day, dropped)
    return dropped
