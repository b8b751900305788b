"""The training set (训练集): monthly snapshots joined with a default-within-12-months label.

For every month from ``start`` to ``end`` the snapshot is taken as of the month's last day. The
label ``default_12m`` is 1 when the enterprise's first default falls in ``(as_of, as_of + 12
months]``; enterprises that defaulted on or before ``as_of`` are excluded (they are no longer
applicants). Labels come from the simulator's ``truth/defaults`` or a bank's own outcomes file
(columns ``uscc, default_on``; Parquet or CSV, a file or a folder). Only labels are read from
there: features still read only the integrated zone.
"""

from __future__ import annotations

import logging
import tempfile
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from loomcredit.domain.errors import NotFound
from loomcredit.pipeline.features.engines import connect
from loomcredit.pipeline.features.pit import add_months, shift_months
from loomcredit.pipeline.features.snapshot import compute_snapshot
from loomcredit.pipeline.features.tables import load_tables
from loomcredit.pipeline.schemas import LakePaths

log = logging.getLogger(__name__)

LABEL = "default_12m"
HORIZON_MONTHS = 12


def month_ends(start: date, end: date) -> list[date]:
    """The last day of every month from ``start``'s month to ``end``'s month, inclusive."""
    out = []
    month = start.replace(day=1)
    while month <= end.replace(day=1):
        out.append(add_months(month, 1) - timedelta(days=1))
        month = add_months(month, 1)
    return out


def default_labels_path(lake: LakePaths) -> Path:
    """Where the simulator keeps ``truth/defaults`` (the evaluation ground truth)."""
    return lake.home / "lake" / "truth" / "defaults"


def read_defaults(path: Path) -> dict[str, date]:
    """First default date per enterprise from a Parquet/CSV file or folder.

    Args:
        path: File or folder with columns ``uscc`` and ``default_on``.

    Returns:
        ``uscc`` → earliest ``default_on``.

    Raises:
        NotFound: Nothing readable at ``path``.
    """
    files = (
        [path]
        if path.is_file()
        else sorted(p for p in path.rglob("*") if p.suffix in (".parquet", ".csv"))
        if path.is_dir()
        else []
    )
    if not files:
        raise NotFound(f"No default labels at {path} (need uscc, default_on as Parquet or CSV).")
    first: dict[str, date] = {}
    for f in files:
        table = pq.read_table(f) if f.suffix == ".parquet" else pacsv.read_csv(f)
        table = table.select(["uscc", "default_on"]).cast(
            pa.schema([("uscc", pa.string()), ("default_on", pa.date32())])
        )
        for uscc, day in zip(
            table.column("uscc").to_pylist(), table.column("default_on").to_pylist(), strict=True
        ):
            if uscc is None or day is None:
                continue
            if uscc not in first or day < first[uscc]:
                first[uscc] = day
    return first


def label_snapshot(snapshot: pa.Table, defaults: dict[str, date], as_of: date) -> pa.Table:
    """Add ``default_12m`` and drop enterprises already in default on ``as_of``.

    Args:
        snapshot: A feature snapshot as of ``as_of``.
        defaults: First default date per enterprise.
        as_of: The snapshot date.

    Returns:
        The labelled rows.
    """
    horizon = shift_months(as_of, HORIZON_MONTHS)
    keep, labels = [], []
    for uscc in snapshot.column("uscc").to_pylist():
        day = defaults.get(uscc)
        keep.append(day is None or day > as_of)
        labels.append(1 if day is not None and as_of < day <= horizon else 0)
    out = snapshot.append_column(LABEL, pa.array(labels, pa.int64()))
    return out.filter(pa.array(keep))


def build_training_set(
    lake: LakePaths,
    start: date,
    end: date,
    labels: Path | None = None,
    *,
    engine: str = "duckdb",
    out: Path | None = None,
) -> Path:
    """Build ``features/training/part-YYYYMM.parquet`` for every month from ``start`` to ``end``.

    Args:
        lake: The lake.
        start: First month (any day in it).
        end: Last month (any day in it).
        labels: Outcomes file or folder (``uscc, default_on``); default ``truth/defaults``.
        engine: ``duckdb`` or ``spark``.
        out: Output folder; default ``lake/features/training``.

    Returns:
        The folder written (old ``part-*.parquet`` files there are replaced).
    """
    if end < start:
        raise ValueError(f"training window ends ({end}) before it starts ({start})")
    defaults = read_defaults(labels or default_labels_path(lake))
    folder = out or lake.features / "training"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("part-*.parquet"):
        old.unlink()
    rows = positives = 0
    with tempfile.TemporaryDirectory(prefix="loom-training-") as tmp:
        con = connect(engine)
        tables = load_tables(con, lake, empty_dir=Path(tmp))
        for as_of in month_ends(start, end):
            table = label_snapshot(compute_snapshot(con, tables, as_of=as_of), defaults, as_of)
            pq.write_table(table, folder / f"part-{as_of:%Y%m}.parquet")
            rows += table.num_rows
            positives += int(pc.sum(table.column(LABEL)).as_py() or 0)
    log.info("training set %s..%s: %d rows, %d defaults -> %s", start, end, rows, positives, folder)
    return folder
