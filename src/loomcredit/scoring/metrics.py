"""Model quality and stability measures: AUC, KS, Gini, Brier, calibration table, PSI, CSI.

All functions are pure: arrays in, numbers or plain rows out. Conventions: ``y`` is 0/1 with
1 = bad; ``p`` is the predicted probability of bad (or any risk score rising with risk).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve

__all__ = [
    "auc",
    "brier",
    "calibration_table",
    "characteristic_stability",
    "gini",
    "ks",
    "ks_curve",
    "psi",
    "summary",
]

_EPS = 1e-4


def auc(y: Any, p: Any) -> float:
    """Area under the ROC curve (probability a random bad ranks above a random good)."""
    return float(roc_auc_score(np.asarray(y), np.asarray(p, dtype="float64")))


def gini(y: Any, p: Any) -> float:
    """Accuracy ratio: ``2 * AUC - 1``."""
    return 2.0 * auc(y, p) - 1.0


def ks(y: Any, p: Any) -> float:
    """Kolmogorov-Smirnov: the largest gap between the cumulative bad and good distributions."""
    fpr, tpr, _ = roc_curve(np.asarray(y), np.asarray(p, dtype="float64"))
    return float(np.max(tpr - fpr))


def ks_curve(y: Any, p: Any) -> dict[str, list[float]]:
    """Cumulative bad and good shares by threshold (for the KS plot)."""
    fpr, tpr, thr = roc_curve(np.asarray(y), np.asarray(p, dtype="float64"))
    return {"threshold": thr.tolist(), "cum_bad": tpr.tolist(), "cum_good": fpr.tolist()}


def brier(y: Any, p: Any) -> float:
    """Mean squared error of the probability against the 0/1 outcome."""
    yv = np.asarray(y, dtype="float64")
    return float(np.mean((np.asarray(p, dtype="float64") - yv) ** 2))


def calibration_table(y: Any, p: Any, n_bins: int = 10) -> list[dict[str, float]]:
    """Predicted against observed default rate in quantile bins of the predicted PD.

    Parameters
    ----------
    y : array-like
        0/1 outcomes.
    p : array-like
        Predicted PD.
    n_bins : int
        Number of quantile bins (default=10); ties may merge bins.

    Returns
    -------
    list of dict
        Per bin: ``bin``, ``n``, ``bads``, ``pd_mean``, ``bad_rate``, ``pd_min``, ``pd_max``.
    """
    yv = np.asarray(y, dtype="float64")
    pv = np.asarray(p, dtype="float64")
    order = np.argsort(pv, kind="stable")
    rows = []
    for k, part in enumerate(np.array_split(order, n_bins), start=1):
        if len(part) == 0:
            continue
        rows.append(
            {
                "bin": k,
                "n": len(part),
                "bads": int(yv[part].sum()),
                "pd_mean": float(pv[part].mean()),
                "bad_rate": float(yv[part].mean()),
                "pd_min": float(pv[part].min()),
                "pd_max": float(pv[part].max()),
            }
        )
    return rows


def psi(expected: Any, actual: Any, n_bins: int = 10) -> float:
    """Population stability index of ``actual`` against ``expected``.

    Bins are the quantiles of ``expected`` (edges deduplicated); a share of zero is floored at
    1e-4. ``PSI = sum((a - e) * ln(a / e))``; below 0.1 is stable, above 0.25 a shift.

    Parameters
    ----------
    expected : array-like
        Reference values (training scores).
    actual : array-like
        Values to compare (validation or production scores).
    n_bins : int
        Number of quantile bins (default=10).

    Returns
    -------
    float
        The index.
    """
    e = np.asarray(expected, dtype="float64")
    a = np.asarray(actual, dtype="float64")
    e, a = e[~np.isnan(e)], a[~np.isnan(a)]
    edges = np.unique(np.quantile(e, np.linspace(0, 1, n_bins + 1)[1:-1]))
    e_share = np.bincount(np.searchsorted(edges, e, side="right"), minlength=len(edges) + 1)
    a_share = np.bincount(np.searchsorted(edges, a, side="right"), minlength=len(edges) + 1)
    es = np.maximum(e_share / max(len(e), 1), _EPS)
    as_ = np.maximum(a_share / max(len(a), 1), _EPS)
    return float(np.sum((as_ - es) * np.log(as_ / es)))


def characteristic_stability(expected_points: Any, actual_points: Any) -> float:
    """Characteristic stability index of one scorecard characteristic.

    Each distinct points value is one bin. ``CSI = sum((a_share - e_share) * points)``: the
    average score change this characteristic contributes between the two populations.

    Parameters
    ----------
    expected_points : array-like
        Points of the characteristic per row, reference population.
    actual_points : array-like
        Points of the characteristic per row, population to compare.

    Returns
    -------
    float
        Points shift (positive: the new population scores higher on it).
    """
    e = np.round(np.asarray(expected_points, dtype="float64"), 6)
    a = np.round(np.asarray(actual_points, dtype="float64"), 6)
    values = np.union1d(e, a)
    e_share = np.array([(e == v).mean() for v in values])
    a_share = np.array([(a == v).mean() for v in values])
    return float(np.sum((a_share - e_share) * values))


def summary(y: Any, p: Any, n_bins: int = 10) -> dict[str, Any]:
    """AUC, KS, Gini, Brier, bad rate, rows and the calibration table in one dict."""
    yv = np.asarray(y)
    return {
        "rows": len(yv),
        "bad_rate": float(np.mean(yv)),
        "auc": auc(yv, p),
        "ks": ks(yv, p),
        "gini": gini(yv, p),
        "brier": brier(yv, p),
        "calibration": calibration_table(yv, p, n_bins=n_bins),
    }
