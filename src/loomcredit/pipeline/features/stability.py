"""Stability (稳定性): the firm's own seasonal profile, deseasonalised volatility, trend, gaps.

Monthly sales are divided by the firm's own month-of-year factor (estimated from its last 24–36
months; the cluster profile of DOMAIN.md §11 for younger firms) before volatility and trend are
measured, so the 金九银十 peak and the Spring Festival trough do not read as instability.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import ibis

from loomcredit.pipeline.features.catalogue import FeatureDef, feature
from loomcredit.pipeline.features.pit import Cutoffs, month_index, monthly_known
from loomcredit.pipeline.features.scale import safe_div
from loomcredit.pipeline.features.tables import Tables

# DOMAIN.md §11 starting factors: Jan–Feb 0.7, Mar–May 1.0, Jun 1.1, Jul–Aug 0.9, Sep–Oct 1.2,
# Nov 1.0, Dec 0.8 (used when domain/seasonality.py does not provide its own).
_DEFAULT_CLUSTER = (0.7, 0.7, 1.0, 1.0, 1.0, 1.1, 0.9, 0.9, 1.2, 1.2, 1.0, 0.8)
MIN_OWN_MONTHS = 24
PROFILE_MONTHS = 36
MIN_VOLATILITY_MONTHS = 6


def cluster_factors() -> tuple[float, ...]:
    """The cluster month-of-year factors (Jan..Dec), from the domain if it defines them."""
    try:
        from loomcredit.domain import seasonality  # type: ignore[attr-defined]
    except ImportError:
        return _DEFAULT_CLUSTER
    raw = getattr(seasonality, "CLUSTER_MONTH_FACTORS", None)
    if isinstance(raw, Mapping):
        return tuple(float(raw[m]) for m in range(1, 13))
    if isinstance(raw, Sequence) and len(raw) == 12:
        return tuple(float(v) for v in raw)
    return _DEFAULT_CLUSTER


def _season_defs() -> tuple[FeatureDef, ...]:
    defaults = cluster_factors()
    return tuple(
        feature(
            f"season_factor_{k:02d}",
            f"{k}月季节系数（自身，年轻企业用集群）",
            f"Own month-of-year sales factor for month {k} (mean 1.0; cluster profile for "
            "firms with under 24 months)",
            source="monthly_activity.sales",
            window="24–36m",
            unit="ratio",
            dtype="float64",
            fill=defaults[k - 1],
        )
        for k in range(1, 13)
    )


FEATURES = (
    *_season_defs(),
    feature(
        "sales_volatility_12m",
        "去季节后月销售波动系数",
        "Coefficient of variation of "
        "deseasonalised monthly sales, last 12 months (null under 6 months)",
        source="monthly_activity.sales",
        window="12m",
        unit="ratio",
        dtype="float64",
        fill=None,
    ),
    feature(
        "sales_trend_6m",
        "去季节后近6月较前6月变化",
        "Deseasonalised sales of the last 6 months vs the 6 before, −1..+inf",
        source="monthly_activity.sales",
        window="12m",
        unit="ratio",
        dtype="float64",
        fill=None,
    ),
    feature(
        "months_no_invoices_12m",
        "近12个月无开票月数",
        "Months without any invoice in the last 12 available months (since establishment)",
        source="monthly_activity.sales",
        window="12m",
        unit="months",
    ),
)


def _count_moy(start: Any, last_ym: int, k: int) -> Any:
    """How many months in ``[start, last_ym]`` (month indices) fall in calendar month ``k``."""
    r = k - 1
    return (last_ym - r) // 12 - (start - 1 - r) // 12


def _profile(m: Any, first: Any, last_ym: int) -> Any:
    cluster = cluster_factors()
    ym = m.month.year() * 12 + m.month.month() - 1
    j = m.mutate(ym=ym, moy=m.month.month()).inner_join(first, "uscc")
    j = j.filter(j.ym >= ibis.greatest(j.first_ym, last_ym - (PROFILE_MONTHS - 1)))
    sums = j.group_by("uscc").aggregate(
        first_ym=j.first_ym.max(),
        **{f"s{k}": j.sales_fen.sum(where=j.moy == k).fill_null(0) for k in range(1, 13)},
    )
    sums = sums.mutate(start=ibis.greatest(sums.first_ym, last_ym - (PROFILE_MONTHS - 1)))
    sums = sums.mutate(
        **{
            f"m{k}": safe_div(sums[f"s{k}"].cast("float64"), _count_moy(sums.start, last_ym, k))
            for k in range(1, 13)
        }
    )
    sums = sums.mutate(total=sum((sums[f"m{k}"] for k in range(1, 13)), ibis.literal(0.0)))
    # Own profile only with 24+ months of history and sales in every calendar month (a firm
    # idle in some month would get a zero factor); otherwise the cluster profile.
    every_month = ibis.least(*[sums[f"m{k}"] for k in range(1, 13)]) > 0
    sums = sums.mutate(
        own=(last_ym - sums.first_ym + 1 >= MIN_OWN_MONTHS) & (sums.total > 0) & every_month
    )
    return sums.select(
        "uscc",
        "first_ym",
        **{
            f"season_factor_{k:02d}": ibis.ifelse(
                sums.own, 12.0 * safe_div(sums[f"m{k}"], sums.total), cluster[k - 1]
            )
            for k in range(1, 13)
        },
    )


def compute(tables: Tables, *, as_of: date) -> Any:
    """Seasonal factors, deseasonalised volatility and trend, and months without invoices.

    Args:
        tables: The integrated tables.
        as_of: The decision date.

    Returns:
        One row per enterprise in ``tables.enterprise``.
    """
    last = Cutoffs.at(as_of).sales_month
    last_ym = month_index(last)
    m = monthly_known(tables.monthly_activity, as_of)
    m = m.filter(m.month <= last)
    mym = m.month.year() * 12 + m.month.month() - 1
    first = m.group_by("uscc").aggregate(first_ym=mym.min(where=m.sales_fen > 0))
    first = first.filter(first.first_ym.notnull())
    prof = _profile(m, first, last_ym)

    recent = m.filter(mym >= last_ym - 11).mutate(ym=mym, moy=m.month.month())
    r = recent.inner_join(prof, "uscc")
    factor = ibis.cases(*[(r.moy == k, r[f"season_factor_{k:02d}"]) for k in range(1, 13)])
    r = r.select("uscc", "ym", "first_ym", x=safe_div(r.sales_fen.cast("float64"), factor))
    x = r.x
    since = r.ym >= r.first_ym
    vol = r.group_by("uscc").aggregate(
        first_ym=r.first_ym.max(),
        sx=x.sum(where=since),
        sxx=(x * x).sum(where=since),
        last6=x.sum(where=r.ym >= last_ym - 5),
        prev6=x.sum(where=r.ym <= last_ym - 6),
    )
    vol = vol.mutate(
        n=(last_ym - ibis.greatest(vol.first_ym, last_ym - 11) + 1).cast("float64"),
        sx=vol.sx.fill_null(0.0),
        sxx=vol.sxx.fill_null(0.0),
        last6=vol.last6.fill_null(0.0),
        prev6=vol.prev6.fill_null(0.0),
    )
    vol = vol.mutate(
        mean=safe_div(vol.sx, vol.n),
        var=safe_div(vol.sxx - vol.sx * safe_div(vol.sx, vol.n), vol.n - 1),
    )
    enough = (vol.n >= MIN_VOLATILITY_MONTHS) & (vol.mean > 0)
    cv = ibis.ifelse(enough, safe_div(ibis.greatest(vol.var, 0.0).sqrt(), vol.mean), None)
    trend = ibis.ifelse(
        (vol.first_ym <= last_ym - 11) & (vol.prev6 > 0),
        safe_div(vol.last6, vol.prev6) - 1.0,
        ibis.null("float64"),
    )
    vol = vol.select("uscc", sales_volatility_12m=cv, sales_trend_6m=trend)

    active = m.filter((mym >= last_ym - 11) & (m.invoices_issued > 0))
    active = active.group_by("uscc").aggregate(active_months=active.month.nunique())
    e = tables.enterprise
    est_ym = e.established_on.year() * 12 + e.established_on.month() - 1
    start = ibis.greatest(est_ym.fill_null(last_ym - 11), last_ym - 11)
    base = e.select("uscc", months_in=ibis.greatest(last_ym - start + 1, 0))
    base = base.left_join(active, "uscc").drop("uscc_right")
    gaps = base.select(
        "uscc",
        months_no_invoices_12m=ibis.greatest(
            base.months_in - base.active_months.fill_null(0), 0
        ).cast("int64"),
    )
    prof = prof.drop("first_ym")
    out = gaps.left_join(prof, "uscc").drop("uscc_right")
    return out.left_join(vol, "uscc").drop("uscc_right")
