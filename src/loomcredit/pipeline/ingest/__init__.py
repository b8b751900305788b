"""Ingestion of raw feeds into the lake's integrated zone (``loom ingest``).

:func:`ingest` reads a feed (Parquet, CSV or JSON Lines per the data contract), validates and
normalises every row (:mod:`.validate`, :mod:`.normalise`), de-duplicates by natural key
(:mod:`.dedupe`), applies the consent gate (:mod:`.consent`), resolves named companies to USCCs
(:mod:`loomcredit.pipeline.entity`), encrypts personal identifiers (:mod:`.pii`), extracts news risk
events (:mod:`loomcredit.pipeline.news`), builds the derived tables (:mod:`.integrate`) and writes a
data-quality report (:mod:`.quality`). Every rejected row lands in ``quarantine`` with its reasons,
so that for each file rows in = rows accepted + rows quarantined. A manifest of file hashes
(:mod:`.manifest`) makes re-ingesting the same files a no-op.
"""

from __future__ import annotations

from loomcredit.pipeline.ingest.model import (
    FileCount,
    IngestError,
    IngestSummary,
    Progress,
    SourceCount,
)
from loomcredit.pipeline.ingest.run import ingest
from loomcredit.pipeline.schemas import LakePaths

__all__ = [
    "FileCount",
    "IngestError",
    "IngestSummary",
    "LakePaths",
    "Progress",
    "SourceCount",
    "ingest",
]
