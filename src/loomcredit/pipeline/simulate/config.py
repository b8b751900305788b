"""Simulation settings, the result summary, and the simulated calendar.

The simulator runs a 12-month burn-in before the first written month so that year-on-year stress
exists from the start; only months ``start … start + months − 1`` are written.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

import numpy as np

from loomcredit.domain.seasonality import cny_trough_weight, seasonal_factor

FORMATS = ("parquet", "csv", "jsonl")
BURN_IN = 12
EPOCH = date(1970, 1, 1)

# progress(firms_done, firms_total)
ProgressFn = Callable[[int, int], None]


@dataclass(frozen=True)
class SimulationConfig:
    """What to simulate.

    Attributes:
        enterprises: number of enterprises in the cluster.
        months: months of data to write.
        start: first written month as ``YYYY-MM``.
        seed: random seed; the same seed gives byte-identical files.
        default_rate: base annual default rate (about 3 %).
        fault_rate: share of rows given a deliberate data-quality fault.
        fmt: ``parquet`` (default), ``csv`` or ``jsonl``.
        chunk_size: enterprises generated and written together (bounds memory).
        arrival_months: months simulated after the feed's last month; their rows, and every row
            of the feed's months obtained after its last day, go to ``arrivals/`` (what the bank
            receives later), not ``raw/``.
    """

    enterprises: int = 2000
    months: int = 36
    start: str = "2023-01"
    seed: int = 7
    default_rate: float = 0.03
    fault_rate: float = 0.01
    fmt: str = "parquet"
    chunk_size: int = 1000
    arrival_months: int = 0

    def __post_init__(self) -> None:
        """Validate the settings (a bad value is one clear ``ValueError``)."""
        if self.enterprises < 10:
            raise ValueError("Simulate at least 10 enterprises.")
        if not 1 <= self.months <= 240:
            raise ValueError("Months must be between 1 and 240.")
        if not 0.0 <= self.default_rate < 0.5:
            raise ValueError("The default rate must be in [0, 0.5).")
        if not 0.0 <= self.fault_rate < 0.5:
            raise ValueError("The fault rate must be in [0, 0.5).")
        if self.fmt not in FORMATS:
            raise ValueError(f"Format must be one of {', '.join(FORMATS)}, not {self.fmt!r}.")
        if self.chunk_size < 10:
            raise ValueError("The chunk size must be at least 10 enterprises.")
        if not 0 <= self.arrival_months <= 24:
            raise ValueError("Arrival months must be between 0 and 24.")
        if self.seed < 0:
            raise ValueError(f"The seed must be a whole number ≥ 0, not {self.seed}.")
        _parse_month(self.start)

    @property
    def start_year_month(self) -> tuple[int, int]:
        """First written month as ``(year, month)``."""
        return _parse_month(self.start)


def _parse_month(text: str) -> tuple[int, int]:
    try:
        year_s, month_s = text.split("-")
        year, month = int(year_s), int(month_s)
    except ValueError as exc:
        raise ValueError(f"Start month must look like 2023-01, not {text!r}.") from exc
    if not (1 <= month <= 12 and 1950 <= year <= 2090):
        raise ValueError(f"Start month must look like 2023-01, not {text!r}.")
    return year, month


@dataclass
class SimulationSummary:
    """What a run produced: rows per table, defaults, and how long it took."""

    rows: dict[str, int] = field(default_factory=dict)
    truth_rows: dict[str, int] = field(default_factory=dict)
    enterprises: int = 0
    months: int = 0
    defaults: int = 0
    seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        """Rows over all raw sources."""
        return sum(self.rows.values())


@dataclass(frozen=True)
class Timeline:
    """Calendar of the simulation: ``T = BURN_IN + months`` months, index 0 is the burn-in start."""

    start_year: int
    start_month: int
    months: int

    @property
    def total(self) -> int:
        """Months simulated including the burn-in."""
        return BURN_IN + self.months

    def year_month(self, t: int) -> tuple[int, int]:
        """Calendar ``(year, month)`` of simulation month ``t`` (0 = first burn-in month)."""
        k = self.start_year * 12 + self.start_month - 1 - BURN_IN + t
        return k // 12, k % 12 + 1

    @cached_property
    def first_day(self) -> np.ndarray:
        """Days since 1970-01-01 of the first day of each month (length ``total + 1``)."""
        out = []
        for t in range(self.total + 1):
            y, m = self.year_month(t)
            out.append((date(y, m, 1) - EPOCH).days)
        return np.array(out, dtype=np.int64)

    @cached_property
    def days_in_month(self) -> np.ndarray:
        """Days in each month (length ``total``)."""
        return np.diff(self.first_day)

    @cached_property
    def season(self) -> np.ndarray:
        """Cluster seasonal factor per month with lunar CNY (length ``total``)."""
        return np.array([seasonal_factor(*self.year_month(t)) for t in range(self.total)])

    @cached_property
    def _day_cdf(self) -> np.ndarray:
        # For each month, cumulative weight of days 1..31 (activity lower in the CNY trough).
        cdf = np.ones((self.total, 31))
        for t in range(self.total):
            y, m = self.year_month(t)
            n = calendar.monthrange(y, m)[1]
            w = np.array([1.0 - 0.9 * cny_trough_weight(date(y, m, d)) for d in range(1, n + 1)])
            w = np.cumsum(w) / w.sum()
            cdf[t, :n] = w
        return cdf

    def random_days(self, t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A business-weighted random day (days since epoch) inside each month index ``t``."""
        cdf = self._day_cdf
        flat = (np.arange(self.total)[:, None] + cdf).ravel()
        u = rng.random(t.shape[0])
        pos = np.searchsorted(flat, t + u, side="left")
        day = pos - t * 31
        day = np.minimum(day, self.days_in_month[t] - 1)
        return self.first_day[t] + day

    def written(self, t: int) -> bool:
        """True when month ``t`` is written (not burn-in)."""
        return t >= BURN_IN

    @property
    def end_day(self) -> int:
        """Last simulated day (days since epoch)."""
        return int(self.first_day[-1] - 1)

    @property
    def start_day(self) -> int:
        """First written day (days since epoch)."""
        return int(self.first_day[BURN_IN])


def days_to_date(days: int) -> date:
    """Days since 1970-01-01 to a date."""
    return date.fromordinal(EPOCH.toordinal() + int(days))
