"""Loom's credit-scoring library: scorecard and booster, calibration, reasons, model cards.

Public entry points: :func:`load_scorer` (compiled scorer for a trained model directory) and
:func:`loomcredit.scoring.train.train_models`.
"""

from __future__ import annotations

from loomcredit.scoring.compiled import Scorer, ScoreResult, load_scorer
from loomcredit.scoring.reasons import Reason

__all__ = ["Reason", "ScoreResult", "Scorer", "load_scorer"]
