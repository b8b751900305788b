"""Wiring for decisions: settings → policy, LPR table, lake feature and consent sources, scorer.

``build_decision_service`` is what the CLI and the HTTP service call; tests build
:class:`DecisionService` directly with fakes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from loomcredit.adapters.feature_source import LakeConsentSource, LakeFeatureSource
from loomcredit.adapters.policy_file import load_lpr, load_policy
from loomcredit.adapters.scoring_model import ModelScorer
from loomcredit.config import Settings, get_settings
from loomcredit.domain.decision.policy import Policy
from loomcredit.domain.decision.pricing import LprTable
from loomcredit.domain.decision.record import DecisionRecord
from loomcredit.domain.money import Money
from loomcredit.service_layer import decisioning
from loomcredit.service_layer.ports import ConsentSource, FeatureSource, Scorer


@dataclass
class DecisionService:
    """The decision use cases with their ports bound."""

    policy: Policy
    lpr: LprTable
    features: FeatureSource
    scorer: Scorer
    consents: ConsentSource

    def decide(
        self, request: decisioning.DecisionRequest, as_of: date, *, explain: bool = False
    ) -> DecisionRecord:
        """Decide on one application."""
        return decisioning.make_decision(
            request,
            policy=self.policy,
            features=self.features,
            scorer=self.scorer,
            lpr=self.lpr,
            consents=self.consents,
            as_of=as_of,
            explain=explain,
        )

    def decide_all(
        self,
        usccs: Sequence[str],
        as_of: date,
        *,
        amount: Money | None = None,
        term_months: int = 12,
        method: str = "annuity",
        on_progress: Callable[[int], None] | None = None,
    ) -> Iterator[DecisionRecord]:
        """Pre-approved offers for every enterprise given."""
        return decisioning.decide_all(
            usccs,
            policy=self.policy,
            features=self.features,
            scorer=self.scorer,
            lpr=self.lpr,
            consents=self.consents,
            as_of=as_of,
            amount=amount,
            term_months=term_months,
            method=method,
            on_progress=on_progress,
        )


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
