"""Find the files of a feed and turn each into a DuckDB relation (Parquet, CSV or JSON Lines).

A feed is a folder holding ``raw/<source>/part-*.{parquet,csv,jsonl}`` or the ``raw`` folder itself.
Truth tables (``truth/``) are never read here.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import duckdb

from loomcredit.pipeline.ingest.model import IngestError
from loomcredit.pipeline.schemas import OPTIONAL_COLUMNS, RAW_SCHEMAS

log = logging.getLogger(__name__)

FORMATS = {".parquet": "parquet", ".csv": "csv", ".jsonl": "jsonl", ".json": "jsonl"}


@dataclass(frozen=True)
class FeedFile:
    """One input file of one source."""

    source: str
    path: Path
    fmt: str  # parquet | csv | jsonl

    def sha256(self) -> str:
        """Content hash (the manifest's identity of a file)."""
        with self.path.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()


def raw_root(source: Path) -> Path:
    """The folder that holds one sub-folder per source: ``source/raw`` or ``source`` itself."""
    if not source.exists():
        raise IngestError("no such file or folder", path=source)
    if not source.is_dir():
        raise IngestError("expected a folder with raw/<source>/ files", path=source)
    if (source / "raw").is_dir():
        return source / "raw"
    if any((source / name).is_dir() for name in RAW_SCHEMAS):
        return source
    raise IngestError(
        "no source folders found (expected raw/<source>/ for one of: "
        + ", ".join(RAW_SCHEMAS)
        + ")",
        path=source,
    )


def discover(source: Path) -> list[FeedFile]:
    """Every data file of the feed, sources in contract order, files sorted by name."""
    root = raw_root(source)
    found: list[FeedFile] = []
    for name in RAW_SCHEMAS:
        folder = root / name
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            fmt = FORMATS.get(path.suffix.lower())
            if fmt and path.is_file() and not path.name.startswith((".", "_")):
                found.append(FeedFile(name, path, fmt))
    if not found:
        raise IngestError("the feed holds no Parquet, CSV or JSON Lines files", path=root)
    return found


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def reader_sql(feed: FeedFile) -> str:
    """A SELECT of the file's columns plus ``_row`` (1-based row number in the file)."""
    if feed.fmt == "parquet":
        return (
            f"SELECT * EXCLUDE (file_row_number), file_row_number + 1 AS _row "
            f"FROM read_parquet({_quote(feed.path)}, file_row_number = true)"
        )
    if feed.fmt == "csv":
        inner = f"read_csv({_quote(feed.path)}, all_varchar = true, header = true)"
    else:
        inner = f"read_json({_quote(feed.path)}, format = 'newline_delimited')"
    return f"SELECT *, row_number() OVER () AS _row FROM {inner}"


def file_columns(con: duckdb.DuckDBPyConnection, feed: FeedFile) -> list[str]:
    """The columns of a file; raises :class:`IngestError` if the file cannot be read."""
    try:
        described = con.sql(f"DESCRIBE {reader_sql(feed)}").fetchall()
    except duckdb.Error as exc:
        raise IngestError(
            f"cannot read {feed.fmt} file: {_first_line(exc)}", path=feed.path
        ) from exc
    return [row[0] for row in described if row[0] != "_row"]


def file_types(con: duckdb.DuckDBPyConnection, feed: FeedFile) -> dict[str, str]:
    """Column → DuckDB type of a file (CSV columns are all VARCHAR)."""
    try:
        described = con.sql(f"DESCRIBE {reader_sql(feed)}").fetchall()
    except duckdb.Error as exc:
        raise IngestError(
            f"cannot read {feed.fmt} file: {_first_line(exc)}", path=feed.path
        ) from exc
    return {str(row[0]): str(row[1]) for row in described}


def check_columns(con: duckdb.DuckDBPyConnection, feed: FeedFile) -> None:
    """Every contract column must be present but the optional ones (extra columns are ignored)."""
    have = set(file_columns(con, feed)) | OPTIONAL_COLUMNS
    missing = [c for c in RAW_SCHEMAS[feed.source].names if c not in have]
    if missing:
        raise IngestError(
            f"{feed.source} file lacks contract columns: {', '.join(missing)}", path=feed.path
        )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
