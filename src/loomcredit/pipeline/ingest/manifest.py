"""The ingest manifest: which file contents (sha256) are already in the lake, and run numbers.

Lives at ``integrated/_manifest.json`` and is replaced atomically at the end of a run, after every
data file of the run is in place; a file whose hash is listed is skipped, so re-ingesting the same
files changes nothing.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

MANIFEST_NAME = "_manifest.json"


@dataclass
class Manifest:
    """Files already ingested (by content hash) and the runs that took them in."""

    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    runs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def next_run(self) -> int:
        """The number the next run gets."""
        return 1 + max((int(r["run_id"]) for r in self.runs), default=0)

    def has(self, sha256: str) -> bool:
        """True when a file with this content was ingested before."""
        return sha256 in self.files


def load(integrated: Path) -> Manifest:
    """The manifest of a lake's integrated zone (empty when there is none yet)."""
    path = integrated / MANIFEST_NAME
    if not path.exists():
        return Manifest()
    data = json.loads(path.read_text(encoding="utf-8"))
    return Manifest(files=data.get("files", {}), runs=data.get("runs", []))


def save(integrated: Path, manifest: Manifest) -> None:
    """Write the manifest atomically (temp file, fsync, rename)."""
    integrated.mkdir(parents=True, exist_ok=True)
    path = integrated / MANIFEST_NAME
    tmp = path.with_suffix(".json.tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        json.dump(asdict(manifest), handle, ensure_ascii=False, indent=1, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)
