"""Compiled scorers: the fitted models reduced to arrays, scoring one row without pandas.

``CompiledScorecard`` holds, per characteristic, the bin edges (or category lists) and the
points per bin; ``score_one`` is a bisection and a sum per characteristic in plain Python, and
``score_frame`` the same with NumPy ``searchsorted``. ``CompiledBooster`` wraps LightGBM's own
``Booster`` loaded from the native text file, and explains with its ``pred_contrib`` (TreeSHAP).
Both map raw log-odds to PD with the stored Platt calibration and return reason codes.

Other code calls :func:`load_scorer` and the :class:`Scorer` interface only.
"""

from __future__ import annotations

import bisect
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from loomcredit.scoring.calibration import PlattCalibrator
from loomcredit.scoring.data import DataError
from loomcredit.scoring.reasons import Reason, top_reasons
from loomcredit.scoring.scorecard import apply_bins

__all__ = ["CompiledBooster", "CompiledScorecard", "ScoreResult", "Scorer", "load_scorer"]

MODEL_NAMES = ("scorecard", "booster")


@dataclass(frozen=True)
class ScoreResult:
    """The outcome of scoring one applicant.

    Attributes
    ----------
    score : float
        Points on the card's scale (higher is safer).
    pd : float
        Calibrated probability of default.
    reasons : list of Reason
        Factors that lowered the score, largest first.
    """

    score: float
    pd: float
    reasons: list[Reason] = field(default_factory=list)


class Scorer:
    """Interface of a compiled scorer.

    Attributes
    ----------
    version : str
        Model name and kind, e.g. ``german-1/scorecard``.
    features : list of str
        Input features the model reads.
    """

    version: str
    features: list[str]

    def score_one(self, features: Mapping[str, object]) -> ScoreResult:
        """Score one applicant given a mapping of feature name to value."""
        raise NotImplementedError

    def score_frame(self, df: pd.DataFrame, *, reasons: int = 0) -> pd.DataFrame:
        """Score a table; returns ``score`` and ``pd`` (and ``reason_1..k`` codes if asked)."""
        raise NotImplementedError


def _to_float(value: object) -> float:
    """A raw value as float; None, text that is not a number and NaN become NaN."""
    if value is None:
        return math.nan
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


class CompiledScorecard(Scorer):
    """A scorecard as arrays: edges, category maps and points per bin.

    Parameters
    ----------
    spec : dict
        ``ScorecardClassifier.to_spec()`` plus ``calibration`` and ``version``.
    """

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.spec = dict(spec)
        self.version = str(spec.get("version", "scorecard"))
        self.calibrator = PlattCalibrator.from_dict(spec["calibration"])
        self.factor = float(spec["factor"])
        self.offset = float(spec["offset"])
        self.base_points = float(spec["base_points"])
        self.chars: list[dict[str, Any]] = list(spec["characteristics"])
        self.features = [c["name"] for c in self.chars]
        # plain Python tuples for the one-row path (faster than NumPy calls per value)
        self._rows: list[tuple[str, bool, Any, list[float], float, float, float, list[str]]] = []
        for ch in self.chars:
            numeric = ch["kind"] == "numeric"
            where = (
                [float(s) for s in ch["splits"]]
                if numeric
                else {c: i for i, cats in enumerate(ch["categories"]) for c in cats}
            )
            pts = [float(p) for p in ch["points"]]
            best = max([*pts, float(ch["points_missing"])])
            self._rows.append(
                (
                    ch["name"],
                    numeric,
                    where,
                    pts,
                    float(ch["points_missing"]),
                    float(ch["points_unknown"]),
                    best,
                    list(ch["labels"]),
                )
            )

    def _points_one(
        self, features: Mapping[str, object]
    ) -> tuple[float, list[tuple[str, object, float, str | None]]]:
        total = self.base_points
        lost: list[tuple[str, object, float, str | None]] = []
        for name, numeric, where, pts, p_missing, p_unknown, best, labels in self._rows:
            value = features.get(name)
            label: str | None
            if numeric:
                x = _to_float(value)
                if x != x:  # NaN: the missing bin
                    p, label = p_missing, "Missing"
                else:
                    i = bisect.bisect_right(where, x)
                    p, label = pts[i], labels[i]
            elif value is None or (isinstance(value, float) and value != value):
                p, label = p_missing, "Missing"
            else:
                i = where.get(str(value), -1)
                p, label = (pts[i], labels[i]) if i >= 0 else (p_unknown, "unknown")
            total += p
            lost.append((name, value, best - p, label))
        return total, lost

    def score_one(self, features: Mapping[str, object], *, k: int = 4) -> ScoreResult:
        """Score one applicant: points, PD and the ``k`` characteristics that lost most points.

        Parameters
        ----------
        features : mapping
            Feature name → raw value; absent features count as missing.
        k : int
            Number of reasons (default=4).

        Returns
        -------
        ScoreResult
            Score, calibrated PD and reasons.
        """
        total, lost = self._points_one(features)
        z = (self.offset - total) / self.factor
        return ScoreResult(score=total, pd=self.calibrator.pd_one(z), reasons=top_reasons(lost, k))

    def points_frame(self, df: pd.DataFrame) -> np.ndarray:
        """Points per row and characteristic, shape (n_rows, n_characteristics)."""
        cols = []
        for ch in self.chars:
            values = (
                df[ch["name"]].to_numpy() if ch["name"] in df.columns else np.full(len(df), np.nan)
            )
            cols.append(apply_bins(ch, values, "points"))
        return np.column_stack(cols) if cols else np.zeros((len(df), 0))

    def score_frame(
        self, df: pd.DataFrame, *, reasons: int = 0, points: bool = False
    ) -> pd.DataFrame:
        """Score a table with NumPy.

        Parameters
        ----------
        df : pandas.DataFrame
            Raw features (extra columns are ignored, absent ones count as missing).
        reasons : int
            Add ``reason_1..reasons`` columns with reason codes (default=0).
        points : bool
            Add ``pts_<feature>`` columns (for characteristic stability) (default=False).

        Returns
        -------
        pandas.DataFrame
            ``score`` and ``pd`` per row, same index as ``df``.
        """
        pts = self.points_frame(df)
        score = self.base_points + pts.sum(axis=1)
        out = pd.DataFrame(
            {"score": score, "pd": self.calibrator.pd((self.offset - score) / self.factor)},
            index=df.index,
        )
        if points:
            for j, name in enumerate(self.features):
                out[f"pts_{name}"] = pts[:, j]
        if reasons:
            best = np.array([r[6] for r in self._rows])
            _add_reason_columns(out, best - pts, self.features, reasons)
        return out


def _add_reason_columns(out: pd.DataFrame, lost: np.ndarray, names: list[str], k: int) -> None:
    """Reason codes of the ``k`` largest positive losses per row."""
    order = np.argsort(-lost, axis=1)[:, :k]
    for j in range(min(k, lost.shape[1])):
        idx = order[:, j]
        val = lost[np.arange(len(lost)), idx]
        codes = np.array(["R-" + n.upper() for n in names], dtype=object)[idx]
        out[f"reason_{j + 1}"] = np.where(val >= 0.5, codes, None)


class CompiledBooster(Scorer):
    """LightGBM's own booster (native text model) with calibration and TreeSHAP reasons.

    Parameters
    ----------
    model_file : Path
        LightGBM text model.
    meta : dict
        ``features``, ``categories``, ``calibration``, ``factor``, ``offset``, ``version``.
    """

    def __init__(self, model_file: Path, meta: Mapping[str, Any]) -> None:
        import lightgbm as lgb

        self.booster = lgb.Booster(model_file=str(model_file))
        self.meta = dict(meta)
        self.version = str(meta.get("version", "booster"))
        self.features = list(meta["features"])
        self.categories: dict[str, list[str]] = {k: list(v) for k, v in meta["categories"].items()}
        self._cat_maps = {
            k: {c: float(i) for i, c in enumerate(v)} for k, v in self.categories.items()
        }
        self.calibrator = PlattCalibrator.from_dict(meta["calibration"])
        self.factor = float(meta["factor"])
        self.offset = float(meta["offset"])

    def _row(self, features: Mapping[str, object]) -> np.ndarray:
        row = np.empty((1, len(self.features)), dtype="float64")
        for j, name in enumerate(self.features):
            value = features.get(name)
            if name in self._cat_maps:
                ok = value is not None and not (isinstance(value, float) and value != value)
                row[0, j] = self._cat_maps[name].get(str(value), math.nan) if ok else math.nan
            else:
                row[0, j] = _to_float(value)
        return row

    def _score(self, raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        logit = self.calibrator.logit(raw)
        return self.offset - self.factor * logit, 1.0 / (1.0 + np.exp(-logit))

    def score_one(self, features: Mapping[str, object], *, k: int = 4) -> ScoreResult:
        """Score one applicant; reasons from TreeSHAP contributions in points.

        Parameters
        ----------
        features : mapping
            Feature name → raw value; absent features count as missing.
        k : int
            Number of reasons (default=4).

        Returns
        -------
        ScoreResult
            Score, calibrated PD and reasons.
        """
        row = self._row(features)
        contrib = np.asarray(self.booster.predict(row, pred_contrib=True))[0]
        raw = float(contrib.sum())
        score, pd_ = self._score(np.array([raw]))
        scale = self.factor * self.calibrator.slope
        lost = [
            (n, features.get(n), float(scale * c), None)
            for n, c in zip(self.features, contrib[:-1], strict=True)
        ]
        return ScoreResult(score=float(score[0]), pd=float(pd_[0]), reasons=top_reasons(lost, k))

    def matrix(self, df: pd.DataFrame) -> np.ndarray:
        """Encode a table into LightGBM's input matrix."""
        from loomcredit.scoring.booster import encode_frame

        frame = df.copy()
        for name in self.features:
            if name not in frame.columns:
                frame[name] = np.nan
        return encode_frame(frame, self.features, self.categories)

    def score_frame(self, df: pd.DataFrame, *, reasons: int = 0) -> pd.DataFrame:
        """Score a table with the booster's batch predict.

        Parameters
        ----------
        df : pandas.DataFrame
            Raw features.
        reasons : int
            Add ``reason_1..reasons`` columns (TreeSHAP; slower) (default=0).

        Returns
        -------
        pandas.DataFrame
            ``score`` and ``pd`` per row.
        """
        mat = self.matrix(df)
        raw = np.asarray(self.booster.predict(mat, raw_score=True))
        score, pd_ = self._score(raw)
        out = pd.DataFrame({"score": score, "pd": pd_}, index=df.index)
        if reasons:
            contrib = np.asarray(self.booster.predict(mat, pred_contrib=True))[:, :-1]
            _add_reason_columns(
                out, self.factor * self.calibrator.slope * contrib, self.features, reasons
            )
        return out


def _resolve_model_dir(path: Path) -> Path:
    """A model directory itself, or a registry root whose champion is used."""
    if (path / "model_card.json").exists():
        return path
    registry = path / "registry.json"
    if registry.exists():
        champion = json.loads(registry.read_text(encoding="utf-8")).get("champion")
        if champion and (path / champion / "model_card.json").exists():
            return path / champion
        raise DataError(f"The registry at {path} has no champion model; run `loom models promote`.")
    raise DataError(f"{path} is not a model directory (no model_card.json).")


def load_scorer(model_dir: str | Path, model: str | None = None) -> Scorer:
    """Load a compiled scorer from a model directory (or the registry's champion).

    Parameters
    ----------
    model_dir : str or Path
        A directory written by training (``model_card.json`` inside), or the models root with a
        ``registry.json`` naming the champion.
    model : {"scorecard", "booster"} or None
        Which model; None takes the card's ``default_model`` (default=None).

    Returns
    -------
    Scorer
        Ready to score.

    Raises
    ------
    DataError
        When the directory or the model is not there.
    """
    root = _resolve_model_dir(Path(model_dir))
    card = json.loads((root / "model_card.json").read_text(encoding="utf-8"))
    kind = model or str(card.get("default_model", "scorecard"))
    if kind not in MODEL_NAMES:
        raise DataError(f"Unknown model {kind!r}; choose scorecard or booster.")
    if kind == "scorecard":
        spec = json.loads((root / "scorecard.json").read_text(encoding="utf-8"))
        return CompiledScorecard(spec)
    meta = json.loads((root / "booster.json").read_text(encoding="utf-8"))
    return CompiledBooster(root / "booster.txt", meta)
