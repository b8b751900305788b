"""The trained PD model → the decision engine's Scorer port.

Wraps ``loomcredit.scoring.compiled.load_scorer(model_dir)`` (the scoring library) so that the
service layer sees ``score_one(features) -> ScoreResult(score, pd, reasons)`` and ``version``.
The library is imported only when a model is loaded, so the CLI starts fast. A missing or
unusable model directory becomes :class:`NotFound`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from loomcredit.domain.errors import NotFound

log = logging.getLogger(__name__)


class ModelScorer:
    """A loaded model behind the Scorer port."""

    def __init__(self, inner: Any) -> None:
        """Wrap a scorer from ``loomcredit.scoring.compiled.load_scorer``."""
        self._inner = inner

    @classmethod
    def load(cls, model_dir: Path) -> ModelScorer:
        """Load the model artefacts in ``model_dir``."""
        folder = Path(model_dir)
        if not folder.exists():
            raise NotFound(f"no model at {folder}; train one with `loom train` or pass --model DIR")
        from loomcredit.scoring.compiled import load_scorer
        from loomcredit.scoring.data import DataError

        try:
            inner = load_scorer(folder)
        except (FileNotFoundError, DataError) as exc:
            raise NotFound(f"no usable model in {folder}: {exc}") from exc
        log.info("loaded model %s from %s", getattr(inner, "version", "?"), folder)
        return cls(inner)

    @property
    def version(self) -> str:
        """The model's version string (kept on every decision)."""
        return str(getattr(self._inner, "version", "unknown"))

    def score_one(self, features: Mapping[str, object]) -> Any:
        """Score, PD and reason codes for one feature vector."""
        return self._inner.score_one(dict(features))

    def pds(self, vectors: Sequence[Mapping[str, object]]) -> list[float]:
        """The calibrated PD of many feature vectors in one batch (no reasons)."""
        import pandas as pd

        if not vectors:
            return []
        frame = pd.DataFrame([dict(v) for v in vectors])
        return [float(p) for p in self._inner.score_frame(frame)["pd"]]
