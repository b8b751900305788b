"""Model quality on the simulated cluster: the whole chain (simulate → ingest → profile snapshots
→ train) must rank 12-month defaults well out of time and out of sample.

Reference (docs/real_data_results.md, "Simulated Keqiao cluster"): on the demo cluster (2,000
firms) an oracle that knows each firm's latent state at the snapshot (in distress or not, its
default hazard) reaches AUC 0.87–0.92 on the same label, 0.75–0.81 if it only sees distress once
it is 3 months old (data lags); Loom's models reach 0.72–0.79. This small cluster (1,000 firms,
six quarterly snapshots) has 30–45 defaulting firms in validation, so its AUC moves by about
±0.05 between seeds: 0.69–0.81 on seeds 1, 2, 3 and 0.72 on seed 7 used here. The floor of 0.65
sits about two standard errors below the seeds' mean and well above chance (0.5). The binning
that dropped rare warning flags is caught separately by test_scoring_units.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from loomcredit.pipeline.features.training import build_training_set
from loomcredit.pipeline.ingest import ingest
from loomcredit.pipeline.schemas import LakePaths
from loomcredit.pipeline.simulate.config import SimulationConfig
from loomcredit.pipeline.simulate.run import simulate
from loomcredit.scoring.train import TrainConfig, train_models

pytestmark = [pytest.mark.ml, pytest.mark.slow]

SNAPSHOTS = (
    date(2023, 9, 30), date(2023, 12, 31), date(2024, 3, 31),
    date(2024, 6, 30), date(2024, 9, 30), date(2024, 12, 31),
)  # fmt: skip


@pytest.fixture(scope="module")
def card(tmp_path_factory: pytest.TempPathFactory) -> dict:
    home = tmp_path_factory.mktemp("cluster")
    simulate(SimulationConfig(enterprises=1000, months=36, start="2023-01", seed=7), home / "lake")
    lake = LakePaths(home)
    ingest(home / "lake", lake, pii_key=os.urandom(32))
    folder = home / "training"
    for day in SNAPSHOTS:
        build_training_set(lake, day, day, out=folder / day.isoformat())
    frame = pd.concat(
        [pd.read_parquet(p) for p in sorted(Path(folder).rglob("part-*.parquet"))],
        ignore_index=True,
    )
    out = train_models(
        frame,
        target="default_12m",
        time_col="as_of",
        id_col="uscc",
        out_dir=home / "model",
        config=TrainConfig(report=False, random_state=0),
    )
    return {**out, "_model_dir": home / "model", "_frame": frame}


def test_validation_is_out_of_time_and_out_of_sample(card: dict) -> None:
    """Validation rows are after the cut-off and belong to borrowers the model never saw."""
    scheme = card["validation"]["scheme"]
    assert scheme.startswith("out of time: validation from 2024-09-30")
    assert "out of sample" in scheme
    assert card["data"]["bad_rate"] > 0.02


@pytest.mark.parametrize("model", ["scorecard", "booster"])
def test_simulated_cluster_auc_above_floor(card: dict, model: str) -> None:
    """Out-of-time, out-of-sample AUC of each model on the simulated cluster is above 0.65."""
    assert card["models"][model]["metrics"]["auc"] > 0.65


@pytest.mark.parametrize("model", ["scorecard", "booster"])
def test_a_batch_of_pds_equals_scoring_one_at_a_time(card: dict, model: str) -> None:
    """The monitor scores the book in batches (``ModelScorer.pds``); each PD equals the one
    ``score_one`` gives the same firm, on 300 real feature vectors with their missing values."""
    from loomcredit.adapters.scoring_model import ModelScorer
    from loomcredit.scoring.compiled import load_scorer

    scorer = ModelScorer(load_scorer(card["_model_dir"], model))
    frame = card["_frame"].sample(300, random_state=1)
    vectors = [
        {k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
        for row in frame.drop(columns=["default_12m"]).to_dict("records")
    ]
    batch = scorer.pds(vectors)
    one = [scorer.score_one(v).pd for v in vectors]
    assert len({round(p, 6) for p in one}) > 50  # not a constant model
    assert batch == pytest.approx(one, rel=1e-9, abs=1e-12)
