"""PD calibration: map a model's raw log-odds to a probability of default.

Calibration is Platt scaling — a one-feature logistic regression of the outcome on the model's
log-odds — fitted on a calibration split held out from the training rows (the model never saw
those rows). It is monotone, so it never changes the ranking (AUC, KS), and it is two numbers,
so the compiled scorer applies it without any library.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

__all__ = ["PlattCalibrator", "fit_platt"]


@dataclass(frozen=True)
class PlattCalibrator:
    """``PD = 1 / (1 + exp(-(slope * z + intercept)))`` for raw log-odds ``z``.

    Attributes
    ----------
    slope : float
        Multiplier of the raw log-odds.
    intercept : float
        Shift of the raw log-odds.
    n : int
        Rows it was fitted on.
    """

    slope: float
    intercept: float
    n: int

    def pd(self, z: Any) -> np.ndarray:
        """Calibrated PD for an array of raw log-odds."""
        t = self.slope * np.asarray(z, dtype="float64") + self.intercept
        return 1.0 / (1.0 + np.exp(-t))

    def pd_one(self, z: float) -> float:
        """Calibrated PD for one raw log-odds (no NumPy)."""
        t = self.slope * z + self.intercept
        if t >= 0:
            return 1.0 / (1.0 + math.exp(-t))
        e = math.exp(t)
        return e / (1.0 + e)

    def logit(self, z: Any) -> np.ndarray:
        """Calibrated log-odds of bad."""
        return self.slope * np.asarray(z, dtype="float64") + self.intercept

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"method": "platt", **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PlattCalibrator:
        """Inverse of :meth:`to_dict`."""
        return cls(slope=float(data["slope"]), intercept=float(data["intercept"]), n=int(data["n"]))


def fit_platt(z: Any, y: Any) -> PlattCalibrator:
    """Fit Platt scaling on held-out rows.

    Parameters
    ----------
    z : array-like
        Raw log-odds of bad from the model, on the calibration rows.
    y : array-like
        0/1 outcomes of those rows.

    Returns
    -------
    PlattCalibrator
        The fitted map; the identity when the rows hold a single class.
    """
    zv = np.asarray(z, dtype="float64").reshape(-1, 1)
    yv = np.asarray(y).astype(int)
    if len(np.unique(yv)) < 2:
        return PlattCalibrator(slope=1.0, intercept=0.0, n=len(yv))
    lr = LogisticRegression(C=1e6, max_iter=1000).fit(zv, yv)
    return PlattCalibrator(
        slope=float(lr.coef_[0][0]), intercept=float(lr.intercept_[0]), n=len(yv)
    )
