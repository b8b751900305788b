"""The warning rules the monitor runs: the profile's early-warning signs (DOMAIN.md §9, in
``pipeline/features/profile.py``) as triggers, with the level and action of each from the
versioned warning policy (``keqiao_warning_rules.yaml``).

Sales, power, steam and headcount signs there are year on year (the same months of the previous
year), never month on month, and sales, power and steam are judged with the Spring Festival's shift
between the two years taken out (the lunar calendar of ``domain/seasonality.py``); utilisation is
not judged in the Spring Festival months.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Protocol

from loomcredit.domain.alerts import AlertPolicy, Evidence
from loomcredit.domain.behaviour import (
    BEHAVIOUR_CODES,
    BehaviourScore,
    RepaymentFacts,
    behaviour_score,
    exact_pd,
    may_jump,
    pd_jumped,
)
from loomcredit.domain.follow_up import FollowUpPolicy
from loomcredit.domain.warning_policy import WarningPolicy
from loomcredit.service_layer.monitoring import WarningHit


def _baseline(feature: str) -> str:
    if "yoy" in feature:
        return "去年同期 the same months of the previous year"
    if feature.endswith("_qoq"):
        return "上一季度 the previous quarter"
    return "预警阈值 the rule's threshold"


#: Feature vectors scored per batch by the model (its batch predict is ~100× a row at a time).
BATCH = 10_000


class PdModel(Protocol):
    """A model that gives PDs for many feature vectors at once (the promoted model)."""

    @property
    def version(self) -> str:
        """The model's version."""
        ...

    def pds(self, vectors: Sequence[Mapping[str, object]]) -> Sequence[float]:
        """The calibrated PD of each vector."""
        ...


class ProfileWarningRules:
    """:class:`~loomcredit.service_layer.monitoring.WarningRules`: the profile's signs as hits,
    levelled and actioned by the policy (which must name every sign, and nothing else)."""

    #: Year-on-year flows are judged with the Spring Festival's shift taken out.
    calendar = True

    def __init__(self, policy: WarningPolicy | None = None, scorer: PdModel | None = None) -> None:
        from loomcredit.adapters.policy_file import load_warning_policy
        from loomcredit.pipeline.features.profile import SIGN_CODES

        self.policy = policy if policy is not None else load_warning_policy()
        self.policy.require_exactly(SIGN_CODES | BEHAVIOUR_CODES)
        self.scorer = scorer

    @property
    def version(self) -> str:
        """The policy's version."""
        return self.policy.version

    @property
    def escalation(self) -> AlertPolicy:
        """The policy's escalation time limits."""
        return self.policy.escalation

    @property
    def follow_up(self) -> FollowUpPolicy:
        """The policy's days for visits and documents requests."""
        return self.policy.follow_up

    def warnings(self, features: Mapping[str, object], as_of: date) -> Sequence[WarningHit]:
        """The enabled signs in the features, as hits (red first)."""
        from loomcredit.pipeline.features.profile import warning_signs

        hits = []
        for s in warning_signs(features, as_of, calendar=self.calendar):
            spec = self.policy.spec(s.code)
            if not spec.enabled:
                continue
            value = "" if s.value is None else str(s.value)
            ev = Evidence(s.feature, value, _baseline(s.feature), as_of, s.message_zh, s.message_en)
            hits.append(WarningHit(s.code, spec.level, ev, spec.action))
        return sorted(hits, key=lambda h: (h.level.rank, h.rule))

    def model_pds(self, vectors: Sequence[Mapping[str, object]]) -> Sequence[Decimal | None]:
        """The promoted model's PD on each vector, in one batch (None for an empty vector; all
        None without a model)."""
        if self.scorer is None:
            return [None] * len(vectors)
        out: list[Decimal | None] = [None] * len(vectors)
        scored = [k for k, v in enumerate(vectors) if v]
        for start in range(0, len(scored), BATCH):
            chunk = scored[start : start + BATCH]
            for k, pd in zip(chunk, self.scorer.pds([vectors[k] for k in chunk]), strict=True):
                out[k] = exact_pd(pd)
        return out

    def behaviour(
        self,
        model_pd: Decimal,
        facts: RepaymentFacts,
        approved_pd: Callable[[], Decimal | None],
        as_of: date,
    ) -> tuple[BehaviourScore, Sequence[WarningHit]]:
        """The model's PD moved by the repayment facts; PD_JUMP when it has risen past the
        policy's thresholds over the PD the line was approved on."""
        bp = self.policy.behaviour
        score = behaviour_score(model_pd, facts, bp)
        spec = self.policy.spec("PD_JUMP")
        if not spec.enabled or not may_jump(score, bp):
            return score, ()
        approved = approved_pd()
        if approved is None or not pd_jumped(score, approved, bp):
            return score, ()
        why_zh = "，".join(f.text_zh for f in score.factors) or "无还款行为因素"
        why_en = "; ".join(f.text_en for f in score.factors) or "no repayment factor"
        ev = Evidence(
            "behaviour_pd",
            str(score.pd),
            f"审批时PD approval PD {approved}",
            as_of,
            f"行为评分PD {score.pd:.2%}（模型 {score.model_pd:.2%}；{why_zh}）较审批时 "
            f"{approved:.2%} 跃升",
            f"behaviour PD {score.pd:.2%} (model {score.model_pd:.2%}; {why_en}) against "
            f"{approved:.2%} at approval",
        )
        return score, (WarningHit("PD_JUMP", spec.level, ev, spec.action),)
