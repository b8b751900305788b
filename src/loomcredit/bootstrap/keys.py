"""The PII key from settings: ``LOOM_PII_KEY``, else ``LOOM_PII_KEY_FILE``, else a key file made
once under ``$LOOM_HOME/keys/pii.key`` (mode 0600) and reused."""

from __future__ import annotations

from pathlib import Path

from loomcredit.config import Settings
from loomcredit.pipeline.ingest.pii import load_or_create_key


def pii_key(settings: Settings) -> bytes:
    """The key that encrypts and hashes personal data for this LOOM_HOME."""
    return load_or_create_key(
        env_key=settings.pii_key,
        key_file=settings.pii_key_file,
        default_file=Path(settings.home) / "keys" / "pii.key",
    )
