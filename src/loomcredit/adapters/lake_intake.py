"""The lake's door for batches (:class:`~loomcredit.service_layer.intake.DataIntake`): each batch
goes through ``pipeline.ingest`` like any feed file — validation, quarantine, the consent gate
(here: a live consent covering post-loan management, or the batch is refused whole), entity
resolution, the derived tables of the months it touches — as one run of its own, so the lake
changes all at once or not at all and the work grows with the batch. A batch with rows obtained
on day D removes the feature snapshots as of D or later (they no longer show what the bank held
then; see ``docs/arrival-time.md``); the feature sources notice and compute those dates afresh.

The drop folder is ``$LOOM_HOME/lake/inbox/<source>/``: a file taken moves to ``inbox/_done``, a
refused one to ``inbox/_failed`` with a ``.reason.txt`` beside it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from loomcredit.service_layer.errors import InvalidRequestError
from loomcredit.service_layer.intake import POST_LOAN, Batch, Taken

log = logging.getLogger(__name__)
FORMATS = (".jsonl", ".json", ".csv", ".parquet")


class LakeIntake:
    """Batches into the lake under ``home``."""

    def __init__(self, home: Path, pii_key: bytes) -> None:
        self.home = Path(home)
        self.pii_key = pii_key

    @property
    def inbox(self) -> Path:
        """The drop folder."""
        return self.home / "lake" / "inbox"

    def take(self, batch: Batch, now: datetime) -> Taken:
        """One batch as its own ingest run (see the module docstring)."""
        from loomcredit.pipeline.ingest import IngestError, LakePaths, ingest
        from loomcredit.pipeline.schemas import RAW_SCHEMAS

        if batch.source not in RAW_SCHEMAS:
            known = ", ".join(RAW_SCHEMAS)
            raise InvalidRequestError(f"unknown source {batch.source!r}; one of: {known}")
        suffix = Path(batch.name).suffix.lower()
        if suffix not in FORMATS:
            raise InvalidRequestError(f"{batch.name}: a batch is {', '.join(FORMATS)}")
        if not batch.payload.strip():
            raise InvalidRequestError(f"{batch.name}: the batch is empty")
        digest = hashlib.sha256(batch.payload).hexdigest()
        work = self.home / "lake" / "_intake"
        work.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=work) as tmp:
            folder = Path(tmp) / batch.source
            folder.mkdir()
            (folder / f"{Path(batch.name).stem}-{digest[:12]}{suffix}").write_bytes(batch.payload)
            try:
                summary = ingest(Path(tmp), LakePaths(self.home), pii_key=self.pii_key,
                                 as_of=now.date(), clock=lambda: now, purposes=(POST_LOAN,),
                                 refuse_unconsented=True, report=False)  # fmt: skip
            except IngestError as exc:
                raise InvalidRequestError(f"{batch.name}: {exc}") from None
        if summary.earliest_obtained is not None:
            from loomcredit.pipeline.features.snapshot import drop_snapshots_from

            drop_snapshots_from(LakePaths(self.home), summary.earliest_obtained)
        count = summary.sources.get(batch.source)
        duplicate = summary.run_id is None
        return Taken(
            source=batch.source,
            batch_id=digest,
            received=0 if count is None or duplicate else count.rows_in,
            accepted=0 if count is None or duplicate else count.accepted,
            quarantined=0 if count is None or duplicate else count.quarantined,
            reasons=tuple(summary.quarantine_reasons.items()),
            duplicate=duplicate,
            touched=tuple(summary.touched),
        )

    def take_inbox(self, now: datetime) -> Sequence[Taken]:
        """Every waiting file, sources in the data contract's order, files by name."""
        from loomcredit.pipeline.schemas import RAW_SCHEMAS

        out = []
        for source in RAW_SCHEMAS:
            folder = self.inbox / source
            if not folder.is_dir():
                continue
            for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in FORMATS):
                batch = Batch(source, path.read_bytes(), path.name)
                try:
                    taken = self.take(batch, now)
                except InvalidRequestError as exc:
                    self._set_aside(path, "_failed", source, str(exc))
                    digest = hashlib.sha256(batch.payload).hexdigest()
                    out.append(Taken(source, digest, 0, 0, 0, (), False, (), refused=str(exc)))
                    continue
                self._set_aside(path, "_done", source)
                out.append(taken)
        return out

    def _set_aside(self, path: Path, where: str, source: str, reason: str = "") -> None:
        target = self.inbox / where / source
        target.mkdir(parents=True, exist_ok=True)
        os.replace(path, target / path.name)
        if reason:
            (target / f"{path.name}.reason.txt").write_text(reason + "\n", encoding="utf-8")
        log.info("%s %s → %s", source, path.name, where)


__all__ = ["LakeIntake"]
