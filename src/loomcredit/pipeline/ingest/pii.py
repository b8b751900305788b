"""Field-level protection of personal data: AES-GCM encryption plus an HMAC-SHA256 join key.

The key is an argument (32 bytes: AES-256). The CLI reads it from ``LOOM_PII_KEY`` (base64) or
``LOOM_PII_KEY_FILE``, or creates ``$LOOM_HOME/keys/pii.key`` (mode 0600) for the embedded default;
see :func:`load_or_create_key`. Plaintext identifiers never reach the integrated zone or the logs.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from loomcredit.domain.identity import keyed_hash, normalise_code
from loomcredit.pipeline.ingest.model import IngestError

KEY_BYTES = 32
NONCE_BYTES = 12
_AAD = b"loom:pii:v1"


def _check(key: bytes) -> None:
    if len(key) != KEY_BYTES:
        raise IngestError(f"the PII key must be {KEY_BYTES} bytes, got {len(key)}")


def encrypt(value: str, key: bytes) -> bytes:
    """AES-256-GCM ciphertext of a normalised identifier: nonce (12 bytes) + ciphertext + tag."""
    _check(key)
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, normalise_code(value).encode(), _AAD)


def encrypt_text(value: str, key: bytes) -> bytes:
    """:func:`encrypt` of a value kept exactly as given (a mobile or an e-mail address the domain
    has normalised already; identifiers are upper-cased, addresses must not be)."""
    _check(key)
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, value.encode(), _AAD)


def decrypt(blob: bytes, key: bytes) -> str:
    """The identifier back from :func:`encrypt` (raises ``InvalidTag`` on a wrong key)."""
    _check(key)
    return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], _AAD).decode()


def join_hash(value: str, key: bytes) -> str:
    """HMAC-SHA256 hex of the normalised identifier (the same value gives the same hash)."""
    _check(key)
    return keyed_hash(value, key)


def parse_key(text: str) -> bytes:
    """A key from its base64 text form."""
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise IngestError("the PII key is not valid base64") from exc
    _check(key)
    return key


def load_or_create_key(*, env_key: str | None, key_file: Path | None, default_file: Path) -> bytes:
    """The PII key: from base64 text, else from a key file, else the default file (created once).

    Args:
        env_key: base64 text (``LOOM_PII_KEY``), or ``None``.
        key_file: a file holding the base64 key (``LOOM_PII_KEY_FILE``), or ``None``.
        default_file: where the embedded default lives (``$LOOM_HOME/keys/pii.key``).
    """
    if env_key:
        return parse_key(env_key)
    path = key_file or default_file
    if path.exists():
        return parse_key(path.read_text(encoding="ascii"))
    if key_file is not None:
        raise IngestError("PII key file not found", path=key_file)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(KEY_BYTES)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(base64.b64encode(key).decode() + "\n")
    return key
