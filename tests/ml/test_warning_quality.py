"""Early-warning quality on a simulated cluster, against the simulator's defaults: the house rules
(year on year) warn most defaulters months ahead, and they raise fewer alerts on firms that do not
default than the same rules judged against the previous three months (环比), whose seasonal troughs
(Spring Festival, the August stoppage) look like collapses.

On the demo cluster (2,000 firms, 2024-01..2025-12; docs/monitoring-evaluation.md) the house rules
warned 88 % of 92 defaulters at least 3 months ahead (median lead 7.6 months) with 9.0 alerts per
100 borrower-months; the sequential set 96 %, 7.9 months, 18.7. On this cluster (600 firms,
2024-01..2025-06) seeds 1, 2, 3 gave 84–91 % warned early of 19–27 defaulters, median lead
6.4–7.9 months, and 9.3–10.5 alerts per 100 borrower-months against the sequential set's
23.5–24.2 (a ratio of 0.40–0.45). The floors sit well below those figures, so the fixed seed
passes with room, and the tests fail if the rules stop warning or the seasonal baseline stops
paying."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from loomcredit.adapters.warning_history import (
    LakeMonthlyFeatures,
    SequentialWarningRules,
    lake_defaults,
    month_end,
)
from loomcredit.adapters.warning_rules import ProfileWarningRules
from loomcredit.domain.daycount import add_months
from loomcredit.domain.warning_evaluation import WarningScore
from loomcredit.pipeline.ingest import ingest
from loomcredit.pipeline.schemas import LakePaths
from loomcredit.pipeline.simulate.config import SimulationConfig
from loomcredit.pipeline.simulate.run import simulate
from loomcredit.service_layer.monitoring_evaluation import evaluate_rules

pytestmark = [pytest.mark.ml, pytest.mark.slow]


@pytest.fixture(scope="module")
def scores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, WarningScore]:
    home: Path = tmp_path_factory.mktemp("cluster")
    simulate(SimulationConfig(enterprises=600, months=30, start="2023-01", seed=3), home / "lake")
    ingest(home / "lake", LakePaths(home), pii_key=os.urandom(32))
    months = [month_end(add_months(date(2024, 1, 1), i)) for i in range(18)]
    seasonal = ProfileWarningRules()
    sets = {"seasonal": seasonal, "naive": SequentialWarningRules(seasonal.policy)}
    found = evaluate_rules(LakeMonthlyFeatures(home), sets, lake_defaults(home), months)
    return {s.rules: s for s in found}


def test_most_defaulters_are_warned_three_months_ahead(scores: dict[str, WarningScore]) -> None:
    """At least 70 % of the defaulters had a red or amber warning 3–12 months before, with a
    median lead of at least 3 months."""
    s = scores["seasonal"]
    assert s.defaulters >= 10, s
    assert s.share_warned_early is not None
    assert s.share_warned_early >= 0.7, s
    assert s.median_lead_months is not None
    assert s.median_lead_months >= 3.0, s


def test_the_seasonal_baseline_raises_fewer_false_alarms(scores: dict[str, WarningScore]) -> None:
    """On firms that do not default, the year-on-year rules raise at most 65 % of the alerts
    the sequential rules raise on the same firm-months."""
    seasonal, naive = scores["seasonal"], scores["naive"]
    assert seasonal.borrower_months == naive.borrower_months > 0
    assert seasonal.alerts_per_100 is not None
    assert naive.alerts_per_100 is not None
    assert seasonal.alerts_per_100 <= 0.65 * naive.alerts_per_100, (seasonal, naive)
