"""The model registry under ``$LOOM_HOME/models/``: one folder per trained model, one champion.

``registry.json`` in the models root records the champion's name; :func:`load_scorer` on the
root loads it. Listing reads each folder's ``model_card.json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from loomcredit.scoring.card import read_card
from loomcredit.scoring.data import DataError

__all__ = ["champion", "list_models", "promote"]


def _registry(root: Path) -> dict[str, Any]:
    path = root / "registry.json"
    if not path.exists():
        return {}
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def champion(root: Path) -> str | None:
    """Name of the champion model, if one was promoted."""
    name = _registry(root).get("champion")
    return str(name) if name else None


def list_models(root: Path) -> list[dict[str, Any]]:
    """One row per model folder: name, trained_at, rows, AUCs, default model, champion flag."""
    if not root.exists():
        return []
    champ = champion(root)
    rows = []
    for sub in sorted(p for p in root.iterdir() if (p / "model_card.json").exists()):
        card = read_card(sub)
        models = card.get("models", {})
        rows.append(
            {
                "name": sub.name,
                "trained_at": card.get("trained_at"),
                "rows": card.get("data", {}).get("rows"),
                "auc_scorecard": models.get("scorecard", {}).get("metrics", {}).get("auc"),
                "auc_booster": models.get("booster", {}).get("metrics", {}).get("auc"),
                "default_model": card.get("default_model"),
                "champion": sub.name == champ,
            }
        )
    return rows


def promote(root: Path, name: str) -> None:
    """Make ``name`` the champion.

    Raises
    ------
    DataError
        When no model of that name exists under ``root``.
    """
    if not (root / name / "model_card.json").exists():
        raise DataError(f"No model named {name!r} under {root}.")
    reg = _registry(root)
    history = list(reg.get("history", []))
    history.append(name)
    (root / "registry.json").write_text(
        json.dumps({"champion": name, "history": history}, indent=2), encoding="utf-8"
    )
