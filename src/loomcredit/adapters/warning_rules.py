"""The warning rules the monitor runs: the profile's early-warning signs (DOMAIN.md §9, in
``pipeline/features/profile.py``) as typed hits with their evidence.

Sales, power and headcount signs there are year on year (the same months of the previous year),
never month on month; utilisation is not judged in the Spring Festival months.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from loomcredit.domain.alerts import AlertLevel, Evidence
from loomcredit.service_layer.monitoring import WarningHit

#: Bumped when the rules or their thresholds change; recorded with every monitoring run.
RULES_VERSION = "profile-signals-2026-12"

_LEVELS = {"red": AlertLevel.RED, "amber": AlertLevel.AMBER, "review": AlertLevel.WATCH}


def _baseline(feature: str) -> str:
    if "yoy" in feature:
        return "去年同期 the same months of the previous year"
    if feature.endswith("_qoq"):
        return "上一季度 the previous quarter"
    return "预警阈值 the rule's threshold"


class ProfileWarningRules:
    """:class:`~loomcredit.service_layer.monitoring.WarningRules` from the profile's signs."""

    version = RULES_VERSION

    def warnings(self, features: Mapping[str, object], as_of: date) -> Sequence[WarningHit]:
        """The signs in the features, as hits (red first)."""
        from loomcredit.pipeline.features.profile import warning_signs

        return [
            WarningHit(
                s.code,
                _LEVELS[s.level],
                Evidence(
                    s.feature,
                    "" if s.value is None else str(s.value),
                    _baseline(s.feature),
                    as_of,
                    s.message_zh,
                    s.message_en,
                ),
            )
            for s in warning_signs(features, as_of)
        ]
