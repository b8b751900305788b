"""The feature catalogue (特征目录): every feature's name, meaning, source, window, unit and lag.

Each family module (``scale``, ``stability``, ``invoices``, ``network``, ``operations``,
``obligations``, ``cash``, ``events``, ``context``) declares its ``FEATURES`` next to the Ibis
expression that computes them; :func:`catalogue` gathers them in snapshot column order.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal

from loomcredit.pipeline.features.pit import LAG_TEXT

Dtype = Literal["int64", "float64", "string"]


@dataclass(frozen=True)
class FeatureDef:
    """One feature of the enterprise profile.

    Attributes:
        name: Column name in the snapshot (stable: the decision engine relies on it).
        description_zh: What it means, in Chinese.
        description_en: What it means, in English.
        source: Integrated table(s) it reads.
        window: The look-back window, e.g. ``"3m"``, ``"12m"``, ``"latest"``.
        unit: ``fen``, ``count``, ``ratio``, ``months``, ``kWh``, ``t``, ``code``, ``flag``...
        lag: When its data becomes available (point in time).
        dtype: Arrow type of the column.
        fill: Value for enterprises with no rows in the window (``None`` keeps null).
    """

    name: str
    description_zh: str
    description_en: str
    source: str
    window: str
    unit: str
    dtype: Dtype = "int64"
    fill: float | None = 0

    @property
    def lag(self) -> str:
        """When the feature's source data becomes known (the agreed per-source lag)."""
        first = self.source.split(",")[0].strip()
        return LAG_TEXT.get(first, "static (registration)")


def feature(
    name: str,
    zh: str,
    en: str,
    *,
    source: str,
    window: str,
    unit: str,
    dtype: Dtype = "int64",
    fill: float | None = 0,
) -> FeatureDef:
    """Shorthand for one catalogue row."""
    return FeatureDef(name, zh, en, source, window, unit, dtype, fill)


@functools.cache
def catalogue() -> tuple[FeatureDef, ...]:
    """All features in snapshot column order (family by family).

    Returns:
        The catalogue; names are unique.
    """
    from loomcredit.pipeline.features import families

    out: list[FeatureDef] = []
    for family in families.FAMILIES:
        out.extend(family.FEATURES)
    names = [f.name for f in out]
    if len(names) != len(set(names)):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"duplicate feature names in the catalogue: {dupes}")
    return tuple(out)


def by_name() -> dict[str, FeatureDef]:
    """The catalogue keyed by feature name."""
    return {f.name: f for f in catalogue()}
