"""Wiring for decisions: settings → policy, LPR table, lake feature and consent sources, scorer.

``build_decision_service`` is what the CLI calls; the use cases with their ports bound are
:class:`loomcredit.service_layer.decisioning.DecisionService` (tests build it with fakes).
"""

from __future__ import annotations

from pathlib import Path

from loomcredit.adapters.feature_source import LakeConsentSource, LakeFeatureSource
from loomcredit.adapters.policy_file import load_lpr, load_policy
from loomcredit.adapters.scoring_model import ModelScorer
from loomcredit.config import Settings, get_settings
from loomcredit.service_layer.decisioning import DecisionService


def build_decision_service(
    settings: Settings | None = None,
    *,
    policy_path: Path | None = None,
    model_dir: Path | None = None,
    lpr_path: Path | None = None,
) -> DecisionService:
    """Wire the decision service from settings (LOOM_HOME) and optional overrides."""
    settings = settings or get_settings()
    home = Path(settings.home)
    return DecisionService(
        policy=load_policy(policy_path),
        lpr=load_lpr(lpr_path),
        features=LakeFeatureSource(home),
        scorer=ModelScorer.load(model_dir or settings.models_dir),
        consents=LakeConsentSource(home),
    )
