"""Every enterprise's point-in-time features at each month end, from the lake, for scoring the
warning rules against what happened (``loom monitor --evaluate``); and the simulator's defaults.

Each month end's snapshot is computed by the same feature definitions as ``loom features`` (DuckDB).
Three derived values give the naive sequential comparison (环比) its baseline: ``sales_seq_3m``,
``kwh_seq_3m`` and ``steam_seq_3m``, the last three months against the three months before them
(from the snapshot three month ends earlier), where the house rules compare with the same months
of the previous year.
"""

from __future__ import annotations

import logging
import math
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path

from loomcredit.adapters.feature_source import plain
from loomcredit.adapters.warning_rules import ProfileWarningRules
from loomcredit.domain.daycount import add_months
from loomcredit.service_layer.monitoring import WarningHit

log = logging.getLogger(__name__)

#: (sequential feature, the 3-month total it compares, the year-on-year feature it stands in for)
SEQUENTIAL = (
    ("sales_seq_3m", "sales_3m_fen", "sales_yoy_3m"),
    ("kwh_seq_3m", "kwh_3m", "kwh_yoy_3m"),
    ("steam_seq_3m", "steam_3m_t", "steam_yoy_3m"),
)


def month_end(day: date) -> date:
    """The last day of ``day``'s month."""
    return add_months(day.replace(day=1), 1) - timedelta(days=1)


def _change(now: object, before: object) -> float | None:
    if not isinstance(now, int | float) or not isinstance(before, int | float) or before <= 0:
        return None
    value = float(now) / float(before) - 1.0
    return None if math.isnan(value) else value


class LakeMonthlyFeatures:
    """Features of every enterprise at month ends, computed from the lake under ``home``."""

    def __init__(self, home: Path) -> None:
        self.home = Path(home)

    def by_month(
        self, months: Sequence[date]
    ) -> Iterator[tuple[date, Mapping[str, Mapping[str, object]]]]:
        """For each month end (in order): ``uscc`` → features, with the sequential baselines."""
        from loomcredit.pipeline.features.engines import connect
        from loomcredit.pipeline.features.snapshot import compute_snapshot
        from loomcredit.pipeline.features.tables import load_tables
        from loomcredit.pipeline.schemas import LakePaths

        wanted = sorted({month_end(m) for m in months})
        cache: dict[date, dict[str, dict[str, object]]] = {}
        with tempfile.TemporaryDirectory(prefix="loom-warnings-") as tmp:
            con = connect("duckdb")
            tables = load_tables(con, LakePaths(self.home), empty_dir=Path(tmp))

            def snapshot(day: date) -> dict[str, dict[str, object]]:
                if day not in cache:
                    rows = compute_snapshot(con, tables, as_of=day).to_pylist()
                    cache[day] = {
                        str(r["uscc"]): {
                            k: plain(v) for k, v in r.items() if k not in ("uscc", "as_of")
                        }
                        for r in rows
                    }
                    log.info("features of %d enterprises as of %s", len(rows), day)
                return cache[day]

            for day in wanted:
                now = snapshot(day)
                before = snapshot(month_end(add_months(day.replace(day=1), -3)))
                for uscc, feats in now.items():
                    prior = before.get(uscc, {})
                    for seq, total, _ in SEQUENTIAL:
                        feats[seq] = _change(feats.get(total), prior.get(total))
                yield day, now
                for old in [d for d in cache if d < month_end(add_months(day.replace(day=1), -2))]:
                    del cache[old]


def lake_defaults(home: Path) -> dict[str, date]:
    """The first default of each enterprise that defaulted (the simulator's ``truth/defaults``,
    or a bank's own outcomes file in its place)."""
    from loomcredit.pipeline.features.training import default_labels_path, read_defaults
    from loomcredit.pipeline.schemas import LakePaths

    return read_defaults(default_labels_path(LakePaths(Path(home))))


class SequentialWarningRules(ProfileWarningRules):
    """The naive rule set: the same rules, levels and thresholds, but sales, power and steam are
    judged against the previous three months (环比) and headcount against the previous quarter,
    instead of the same months last year, and no holiday calendar. For measuring what the
    seasonal baseline is worth, not for the live monitor."""

    calendar = False

    @property
    def version(self) -> str:
        """The policy's version, marked sequential."""
        return f"{self.policy.version}+sequential"

    def warnings(self, features: Mapping[str, object], as_of: date) -> Sequence[WarningHit]:
        """The profile's signs with the sequential changes in the year-on-year features' place."""
        swapped = dict(features)
        for seq, _, yoy in SEQUENTIAL:
            swapped[yoy] = features.get(seq)
        swapped["headcount_yoy"] = features.get("headcount_qoq")
        return super().warnings(swapped, as_of)
