"""The warning rules the monitor runs: the profile's early-warning signs (DOMAIN.md §9, in
``pipeline/features/profile.py``) as triggers, with the level and action of each from the
versioned warning policy (``keqiao_warning_rules.yaml``).

Sales, power, steam and headcount signs there are year on year (the same months of the previous
year), never month on month, and sales, power and steam are judged with the Spring Festival's shift
between the two years taken out (the lunar calendar of ``domain/seasonality.py``); utilisation is
not judged in the Spring Festival months.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from loomcredit.domain.alerts import AlertPolicy, Evidence
from loomcredit.domain.warning_policy import WarningPolicy
from loomcredit.service_layer.monitoring import WarningHit


def _baseline(feature: str) -> str:
    if "yoy" in feature:
        return "去年同期 the same months of the previous year"
    if feature.endswith("_qoq"):
        return "上一季度 the previous quarter"
    return "预警阈值 the rule's threshold"


class ProfileWarningRules:
    """:class:`~loomcredit.service_layer.monitoring.WarningRules`: the profile's signs as hits,
    levelled and actioned by the policy (which must name every sign, and nothing else)."""

    #: Year-on-year flows are judged with the Spring Festival's shift taken out.
    calendar = True

    def __init__(self, policy: WarningPolicy | None = None) -> None:
        from loomcredit.adapters.policy_file import load_warning_policy
        from loomcredit.pipeline.features.profile import SIGN_CODES

        self.policy = policy if policy is not None else load_warning_policy()
        self.policy.require_exactly(SIGN_CODES)

    @property
    def version(self) -> str:
        """The policy's version."""
        return self.policy.version

    @property
    def escalation(self) -> AlertPolicy:
        """The policy's escalation time limits."""
        return self.policy.escalation

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
