"""Write tables as numbered parts in Parquet, CSV or JSON Lines (``<zone>/<table>/part-NNNNN.ext``).

Files are deterministic: the same table always gives the same bytes.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

EXTENSIONS = {"parquet": "parquet", "csv": "csv", "jsonl": "jsonl"}


class PartWriter:
    """Writes the parts of every table of one run under ``out``."""

    def __init__(self, out: Path, fmt: str) -> None:
        """Prepare the writer; ``fmt`` is ``parquet``, ``csv`` or ``jsonl``."""
        self.out = out
        self.fmt = fmt
        self.rows: dict[tuple[str, str], int] = {}
        self._parts: dict[tuple[str, str], int] = {}

    def reset(self, zone: str, names: list[str]) -> None:
        """Remove earlier output of these tables so a rerun leaves no stale parts."""
        for name in names:
            folder = self.out / zone / name
            if folder.exists():
                shutil.rmtree(folder)

    def write(self, zone: str, name: str, table: pa.Table) -> Path | None:
        """Write one part of a table (empty tables write nothing)."""
        key = (zone, name)
        self.rows[key] = self.rows.get(key, 0) + table.num_rows
        if table.num_rows == 0:
            return None
        part = self._parts.get(key, 0)
        self._parts[key] = part + 1
        folder = self.out / zone / name
        folder.mkdir(parents=True, exist_ok=True)
        fmt = "parquet" if zone == "truth" else self.fmt
        path = folder / f"part-{part:05d}.{EXTENSIONS[fmt]}"
        if fmt == "parquet":
            pq.write_table(table, path, compression="zstd")
        elif fmt == "csv":
            pacsv.write_csv(table, path)
        else:
            _write_jsonl(table, path)
        return path


def _write_jsonl(table: pa.Table, path: Path) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for batch in table.to_batches(max_chunksize=50_000):
            for row in batch.to_pylist():
                handle.write(json.dumps(row, ensure_ascii=False, default=_iso) + "\n")


def _iso(value: object) -> str:
    iso = getattr(value, "isoformat", None)
    if iso is None:
        raise TypeError(f"Cannot write {type(value).__name__} to JSON Lines.")
    return str(iso())
