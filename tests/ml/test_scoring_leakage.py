"""Leakage: binning, IV selection and calibration must never see validation rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from loomcredit.scoring.train import TrainConfig, train_models

pytestmark = pytest.mark.ml


def _planted(n: int = 3000, seed: int = 7) -> pd.DataFrame:
    """Dated rows; `planted` is pure noise before the cut-off and equals the outcome after it."""
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(-1.2 + 0.8 * signal)))).astype(int)
    dates = pd.date_range("2023-01-01", periods=24, freq="MS")
    as_of = np.sort(rng.choice(dates, size=n))
    late = as_of >= dates[18]  # the last quarter of the dates: out-of-time validation
    planted = np.where(late, y * 10.0, rng.normal(size=n))
    return pd.DataFrame({"as_of": as_of, "signal": signal, "planted": planted, "bad": y})


def test_column_predictive_only_on_validation_rows_is_not_selected(tmp_path: Path) -> None:
    """A column that is noise on training rows but perfect on validation rows is not selected."""
    card = train_models(
        _planted(),
        target="bad",
        time_col="as_of",
        out_dir=tmp_path,
        config=TrainConfig(report=False, n_estimators=200),
    )
    assert "planted" not in card["features"]["scorecard"]
    assert card["models"]["scorecard"]["metrics"]["auc"] < 0.85


def test_booster_does_not_learn_from_validation_rows(tmp_path: Path) -> None:
    """Booster validation AUC stays honest when a validation-only signal exists."""
    card = train_models(
        _planted(),
        target="bad",
        time_col="as_of",
        out_dir=tmp_path,
        config=TrainConfig(report=False, n_estimators=200),
    )
    assert card["models"]["booster"]["metrics"]["auc"] < 0.85
    assert card["validation"]["scheme"].startswith("out of time: validation from 2024-07")
