"""The early-warning policy (预警规则): for each warning rule, its level and what it makes happen.

The rules' triggers read a borrower's point-in-time features; the policy, a versioned file the risk
department owns (``domain/decision/data/keqiao_warning_rules.yaml``), says for each rule code how
serious it is and which action follows. ``freeze`` (冻结) is the one the monitor takes itself: the
undrawn line is frozen at once and a person confirms the freeze or lifts it. The other actions are
what the responsible person is asked to do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from loomcredit.domain.alerts import AlertLevel, AlertPolicy
from loomcredit.domain.behaviour import BehaviourPolicy
from loomcredit.domain.errors import PolicyViolation
from loomcredit.domain.follow_up import FollowUpPolicy
from loomcredit.domain.limit_review import LimitReviewPolicy


class WarningAction(StrEnum):
    """What follows an alert of a rule."""

    FREEZE = "freeze"  # 冻结未用额度: at once, then a person confirms or lifts
    REVIEW_LIMIT = "review_limit"  # 额度复核: the line's limit is reviewed
    VISIT = "visit"  # 实地走访: the customer manager visits the firm
    DOCUMENTS = "documents"  # 补充材料: the firm is asked for documents
    WATCH = "watch"  # 持续关注: keep watching

    @property
    def label_zh(self) -> str:
        """Chinese label."""
        return {
            "freeze": "冻结未用额度",
            "review_limit": "额度复核",
            "visit": "实地走访",
            "documents": "补充材料",
            "watch": "持续关注",
        }[self.value]


@dataclass(frozen=True, slots=True)
class WarningRuleSpec:
    """One rule's policy: its level, its action, and whether it runs."""

    code: str
    level: AlertLevel
    action: WarningAction
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class WarningPolicy:
    """The versioned post-loan policy: every warning rule's spec, the escalation time limits,
    how far the monthly limit review may move a limit by itself, the behaviour score's odds
    factors and PD-jump thresholds, and the days a visit or documents request may take."""

    version: str
    rules: Mapping[str, WarningRuleSpec]
    escalation: AlertPolicy
    limit_review: LimitReviewPolicy = field(default_factory=LimitReviewPolicy)
    behaviour: BehaviourPolicy = field(default_factory=BehaviourPolicy)
    follow_up: FollowUpPolicy = field(default_factory=FollowUpPolicy)

    def __post_init__(self) -> None:
        if not self.version.strip():
            raise PolicyViolation("a warning policy needs a version")
        for code, spec in self.rules.items():
            if code != spec.code:
                raise PolicyViolation(f"warning rule {code!r} is filed under another code")

    def spec(self, code: str) -> WarningRuleSpec:
        """The rule's spec (a rule the policy does not name is a :class:`PolicyViolation`)."""
        try:
            return self.rules[code]
        except KeyError:
            raise PolicyViolation(f"the warning policy {self.version} has no rule {code}") from None

    def require_exactly(self, codes: frozenset[str]) -> None:
        """The policy names exactly these rule codes (what the triggers can raise)."""
        missing, unknown = codes - set(self.rules), set(self.rules) - codes
        if missing or unknown:
            raise PolicyViolation(
                f"warning policy {self.version}: "
                + "; ".join(
                    part
                    for part in (
                        f"no entry for {', '.join(sorted(missing))}" if missing else "",
                        f"unknown rule {', '.join(sorted(unknown))}" if unknown else "",
                    )
                    if part
                )
            )
