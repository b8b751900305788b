"""Scoring on real data (German credit, HMEQ): AUC floors, the model card and the artefacts."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from loomcredit.scoring import load_scorer
from loomcredit.scoring.train import TrainConfig, train_models

DATA = Path(__file__).parent / "data"
GERMAN_SHA = "2c0bae00275c028fc853a1ea72cc7a68002c3f6876c41300c5c948711540c8c6"

pytestmark = [pytest.mark.ml, pytest.mark.slow]


@pytest.fixture(scope="module")
def german(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("german")
    card = train_models(
        DATA / "germancredit.csv",
        target="creditability",
        out_dir=out,
        config=TrainConfig(folds=5, random_state=0),
        trained_at="2026-11-28T00:00:00",
    )
    return card, out


def test_german_scorecard_auc_above_floor(german: tuple[dict, Path]) -> None:
    """Out-of-fold scorecard AUC on German credit > 0.75 (README LR 0.781 minus fold noise)."""
    card, _ = german
    assert card["models"]["scorecard"]["metrics"]["auc"] > 0.75


def test_german_booster_auc_above_floor(german: tuple[dict, Path]) -> None:
    """Out-of-fold booster AUC on German credit > 0.74 (README LightGBM 0.788 minus noise)."""
    card, _ = german
    assert card["models"]["booster"]["metrics"]["auc"] > 0.74


def test_model_card_has_the_agreed_fields(german: tuple[dict, Path]) -> None:
    """The card records rows, bad rate, file hash, features, per-model metrics, versions."""
    _, out = german
    card = json.loads((out / "model_card.json").read_text(encoding="utf-8"))
    assert card["data"]["rows"] == 1000
    assert card["data"]["bad_rate"] == pytest.approx(0.30)
    assert card["data"]["sha256"] == GERMAN_SHA
    assert "window" in card["data"]
    assert card["features"]["scorecard"]
    for model in ("scorecard", "booster"):
        met = card["models"][model]["metrics"]
        assert {"auc", "ks", "gini", "brier", "calibration"} <= set(met)
        assert sum(row["n"] for row in met["calibration"]) == 1000
    assert {"loomcredit", "lightgbm", "optbinning", "scikit-learn"} <= set(card["versions"])


def test_artefacts_are_tables_and_native_text_not_pickles(german: tuple[dict, Path]) -> None:
    """The model folder holds JSON/CSV/LightGBM text and an offline report, never a pickle."""
    _, out = german
    names = {p.name for p in out.iterdir()}
    assert {"scorecard.json", "scorecard_points.csv", "booster.txt", "report.html"} <= names
    assert not [n for n in names if n.endswith((".pkl", ".pickle", ".joblib"))]
    assert (out / "booster.txt").read_text(encoding="utf-8").startswith("tree")
    page = (out / "report.html").read_text(encoding="utf-8")
    assert '<script src="http' not in page
    assert "Plotly" in page


def test_calibrated_pd_matches_the_observed_bad_rate(german: tuple[dict, Path]) -> None:
    """Mean calibrated PD over the out-of-fold rows is within 3 points of the 30 % bad rate."""
    card, _ = german
    rows = card["models"]["scorecard"]["metrics"]["calibration"]
    mean_pd = sum(r["pd_mean"] * r["n"] for r in rows) / sum(r["n"] for r in rows)
    assert abs(mean_pd - 0.30) < 0.03


def test_compiled_scorer_reasons_name_the_worst_bins(german: tuple[dict, Path]) -> None:
    """A risky applicant's first reason is a characteristic that lost points, in zh and en."""
    _, out = german
    scorer = load_scorer(out, "scorecard")
    row = pd.read_csv(DATA / "germancredit.csv").iloc[1].to_dict()
    result = scorer.score_one(row)
    assert 0.0 < result.pd < 1.0
    assert result.reasons
    assert result.reasons[0].impact > 0
    assert "分" in result.reasons[0].text_zh
    assert "points" in result.reasons[0].text_en


def test_hmeq_holdout_auc_above_floor(tmp_path: Path) -> None:
    """HMEQ holdout AUC: scorecard > 0.86, booster > 0.92 (README LR 0.903, LightGBM 0.970)."""
    card = train_models(
        DATA / "hmeq.csv",
        target="BAD",
        out_dir=tmp_path,
        config=TrainConfig(folds=1, report=False, random_state=0),
    )
    assert card["models"]["scorecard"]["metrics"]["auc"] > 0.86
    assert card["models"]["booster"]["metrics"]["auc"] > 0.92
