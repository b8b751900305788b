"""Keys from settings, each kept outside the database: the PII key (``LOOM_PII_KEY``, else
``LOOM_PII_KEY_FILE``, else ``$LOOM_HOME/keys/pii.key``) and the audit chain's key
(``LOOM_AUDIT_KEY``, ``LOOM_AUDIT_KEY_FILE``, else ``$LOOM_HOME/keys/audit.key``); a key file
is made once (mode 0600) and reused. In production both come from the bank's key store."""

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


def audit_key(settings: Settings) -> bytes:
    """The key of the audit chain's HMAC for this LOOM_HOME."""
    return load_or_create_key(
        env_key=settings.audit_key,
        key_file=settings.audit_key_file,
        default_file=Path(settings.home) / "keys" / "audit.key",
    )
