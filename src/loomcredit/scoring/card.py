"""The model card (``model_card.json``): what a model was trained on and how good it is.

Fields: ``name``, ``trained_at`` (given by the caller), ``data`` (source, sha256, rows, bad
rate, window, target, dropped columns), ``features``, ``validation`` (scheme), ``models`` (per
model: metrics ``auc``, ``ks``, ``gini``, ``brier``, ``calibration`` table, ``psi_train_valid``,
artefact files), ``default_model`` and ``versions`` of Loom and its libraries.
"""

from __future__ import annotations

import json
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["library_versions", "read_card", "write_card"]

_LIBS = ("numpy", "pandas", "scikit-learn", "lightgbm", "optbinning", "plotly")


def library_versions() -> dict[str, str]:
    """Versions of Python, Loom and the modelling libraries."""
    from loomcredit import __version__

    out = {"python": platform.python_version(), "loomcredit": __version__}
    for lib in _LIBS:
        try:
            out[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            out[lib] = "absent"
    return out


def write_card(out_dir: Path, card: dict[str, Any]) -> Path:
    """Write ``model_card.json`` (UTF-8, indented) and return its path."""
    path = out_dir / "model_card.json"
    path.write_text(json.dumps(card, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    return path


def read_card(model_dir: Path) -> dict[str, Any]:
    """Read a model directory's card."""
    data: dict[str, Any] = json.loads((model_dir / "model_card.json").read_text(encoding="utf-8"))
    return data
