"""The scoring commands end to end: train on a snapshot training set, score, PSI, registry."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from loomcredit.entrypoints.cli.main import app

pytestmark = [pytest.mark.ml, pytest.mark.slow]


def _training_set(folder: Path, n: int = 2400, seed: int = 5) -> None:
    """A small training set in the lake layout: uscc, as_of, features, default_12m."""
    rng = np.random.default_rng(seed)
    dpd = rng.choice([0, 0, 0, 15, 45, 120], size=n).astype("int64")
    sales = rng.lognormal(15, 1, n).astype("int64")
    grade = rng.choice(["A", "B", "M", "C", "D"], size=n)
    lo = -3.2 + 0.02 * dpd - 0.4 * (np.log(sales) - 15) + (grade == "D") * 0.8
    folder.mkdir(parents=True)
    pd.DataFrame(
        {
            "uscc": [f"91330621MA{i % 800:07d}X" for i in range(n)],
            "as_of": pd.to_datetime(
                rng.choice(pd.date_range("2023-01-31", periods=12, freq="ME"), n)
            ),
            "bureau_max_dpd_24m": dpd,
            "sales_12m_fen": sales,
            "tax_credit_grade": grade,
            "default_12m": (rng.random(n) < 1 / (1 + np.exp(-lo))).astype("int64"),
        }
    ).to_parquet(folder / "part-0.parquet", index=False)


def test_train_score_psi_and_promote(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`loom train --snapshots` splits out of time, and score/psi/models work on its output."""
    monkeypatch.setenv("LOOM_HOME", str(tmp_path / "home"))
    _training_set(tmp_path / "training")
    runner = CliRunner()
    model = tmp_path / "home" / "models" / "m1"
    res = runner.invoke(
        app, ["train", "--snapshots", str(tmp_path / "training"), "--out", str(model)]
    )
    assert res.exit_code == 0, res.output
    card = json.loads((model / "model_card.json").read_text(encoding="utf-8"))
    assert card["validation"]["scheme"].startswith("out of time")
    assert card["data"]["window"] == {"from": "2023-01-31", "to": "2023-12-31"}
    assert card["features"]["monotone"] == {"bureau_max_dpd_24m": 1, "sales_12m_fen": -1}
    scores = tmp_path / "scores.csv"
    res = runner.invoke(
        app,
        [
            "score",
            "--model",
            str(model),
            "--data",
            str(tmp_path / "training" / "part-0.parquet"),
            "--out",
            str(scores),
            "--kind",
            "scorecard",
        ],
    )
    assert res.exit_code == 0, res.output
    out = pd.read_csv(scores)
    assert {"score", "pd", "reason_1"} <= set(out.columns)
    res = runner.invoke(app, ["psi", str(scores), str(scores)])
    assert res.exit_code == 0
    assert "PSI(score) = 0.0000" in res.output
    assert runner.invoke(app, ["models", "promote", "m1"]).exit_code == 0
    assert "m1" in runner.invoke(app, ["models", "list"]).output


def test_unknown_model_name_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Promoting a model that does not exist fails with a non-zero exit."""
    monkeypatch.setenv("LOOM_HOME", str(tmp_path))
    res = CliRunner().invoke(app, ["models", "promote", "nope"])
    assert res.exit_code != 0
