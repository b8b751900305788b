"""The enterprise profile (企业画像): point-in-time features over the integrated zone.

Feature definitions are Ibis expressions written once (one module per family) and executed on
DuckDB (default) or PySpark. Entry points for other code:

- :func:`build_snapshot` — every enterprise as of a date, written as Parquet;
- :func:`build_training_set` — monthly snapshots joined with a default-within-12-months label;
- :class:`OnlineFeatures` — one enterprise's vector for a live decision, in milliseconds;
- :func:`profile` — a readable profile of one enterprise with its strongest warning signs;
- :func:`catalogue` — every feature's meaning, source, window, unit and lag.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "OnlineFeatures",
    "build_snapshot",
    "build_training_set",
    "catalogue",
    "profile",
]


def __getattr__(name: str) -> Any:
    # Lazy re-exports: importing the package stays cheap (no ibis/duckdb until used).
    if name == "build_snapshot":
        from loomcredit.pipeline.features.snapshot import build_snapshot

        return build_snapshot
    if name == "build_training_set":
        from loomcredit.pipeline.features.training import build_training_set

        return build_training_set
    if name == "catalogue":
        from loomcredit.pipeline.features.catalogue import catalogue

        return catalogue
    if name == "OnlineFeatures":
        from loomcredit.pipeline.features.online import OnlineFeatures

        return OnlineFeatures
    if name == "profile":
        from loomcredit.pipeline.features.profile import profile

        return profile
    raise AttributeError(name)
