"""Value types of an ingest run: errors, per-source counts and the summary for callers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from loomcredit.domain.errors import LoomError

#: ``progress(stage, done, total)``: called as work advances (the CLI draws a bar with it).
Progress = Callable[[str, int, int], None]


class IngestError(LoomError):
    """A feed that cannot be ingested as a whole: bad path, corrupt file, missing columns."""

    def __init__(self, message: str, *, path: Path | None = None) -> None:
        super().__init__(message if path is None else f"{path}: {message}")
        self.path = path


@dataclass
class FileCount:
    """Rows of one input file: ``rows_in == accepted + quarantined`` always."""

    source: str
    file: str
    sha256: str
    rows_in: int = 0
    accepted: int = 0
    quarantined: int = 0
    skipped: bool = False  # already ingested (same content hash): nothing read


@dataclass
class SourceCount:
    """Rows of one source summed over its files in this run."""

    source: str
    files: int = 0
    files_skipped: int = 0
    rows_in: int = 0
    accepted: int = 0
    quarantined: int = 0
    # accepted rows the feed sent without ``obtained_on``: ingest worked the day out (lags and
    # the earliest covering consent)
    obtained_filled: int = 0


@dataclass
class IngestSummary:
    """What one ``ingest`` call did.

    Attributes:
        run_id: sequence number of the run in this lake (``None`` when nothing was new).
        as_of: the date rows were checked against (no row may describe a later day).
        sources: per-source row counts.
        files: per-file row counts (the reconciliation unit).
        quarantine_reasons: reason class → rows quarantined for it in this run.
        report_html: the data-quality report (HTML, charts embedded, offline).
        report_json: the same figures as JSON.
        metrics: entity-resolution and news-extraction metrics when truth was given.
        touched: the enterprises whose own rows this run accepted (sorted).
        earliest_obtained: the earliest ``obtained_on`` among the rows this run accepted
            (``None`` when it accepted none): feature snapshots as of that day or later are out
            of date once the run is committed.
    """

    run_id: int | None
    as_of: str
    sources: dict[str, SourceCount] = field(default_factory=dict)
    files: list[FileCount] = field(default_factory=list)
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    report_html: Path | None = None
    report_json: Path | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    touched: list[str] = field(default_factory=list)
    earliest_obtained: date | None = None

    @property
    def rows_in(self) -> int:
        """Rows read in this run."""
        return sum(s.rows_in for s in self.sources.values())

    @property
    def accepted(self) -> int:
        """Rows accepted into the integrated zone in this run."""
        return sum(s.accepted for s in self.sources.values())

    @property
    def quarantined(self) -> int:
        """Rows sent to quarantine in this run."""
        return sum(s.quarantined for s in self.sources.values())

    @property
    def changed(self) -> bool:
        """True when this run read at least one new file."""
        return self.run_id is not None
