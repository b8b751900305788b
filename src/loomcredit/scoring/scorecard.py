"""The scorecard: optimal monotonic binning, WoE, IV selection and logistic regression.

``ScorecardClassifier`` is one scikit-learn ``Pipeline`` (``WoEBinner`` → ``LogisticRegression``)
fitted on training rows only. ``WoEBinner`` fits OptBinning's ``BinningProcess`` (optimal
binning with a monotonic event-rate trend for numeric features), keeps features whose IV
reaches ``min_iv``, and exports every bin as plain arrays; its own ``transform`` uses those
arrays (NumPy ``searchsorted``), so training, batch scoring and the compiled one-row scorer
apply exactly the same bins. Points are scaled by base score, odds (good:bad) at the base score
and points to double the odds (PDO).
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

log = logging.getLogger(__name__)

__all__ = ["ScorecardClassifier", "WoEBinner", "apply_bins"]


def _as_frame(X: Any) -> pd.DataFrame:
    """Accept a DataFrame or a 2-d array (columns named x0, x1, ...)."""
    if isinstance(X, pd.DataFrame):
        return X
    if hasattr(X, "tocsr") or hasattr(X, "toarray"):
        raise TypeError("Sparse data is not supported; pass a dense array or a DataFrame.")
    arr = np.asarray(X)
    if arr.ndim != 2:
        raise ValueError(
            f"Expected 2D array, got {arr.ndim}D array instead. Reshape your data "
            "(e.g. array.reshape(-1, 1) for a single feature)."
        )
    if np.iscomplexobj(arr):
        raise ValueError("Complex data not supported.")
    return pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])


def check_binary_target(y: Any, who: str) -> tuple[np.ndarray, np.ndarray]:
    """Validate a binary target and encode it as 0/1 (the second sorted class is 1).

    Parameters
    ----------
    y : array-like or None
        Target.
    who : str
        Estimator name for the messages.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        The 0/1 target and the two original class labels.
    """
    from sklearn.utils.multiclass import type_of_target

    if y is None:
        raise ValueError(f"{who} requires y to be passed, but the target y is None.")
    yv = np.asarray(y)
    if yv.dtype.kind == "f" and not np.isfinite(yv).all():
        raise ValueError("Input y contains NaN or infinity.")
    kind = type_of_target(yv)
    if kind == "continuous":
        raise ValueError(f"Unknown label type: {kind}. {who} needs a binary target.")
    if kind != "binary":
        raise ValueError(
            f"Only binary classification is supported. The type of the target is {kind}."
        )
    classes = np.unique(yv)
    if len(classes) != 2:
        raise ValueError(f"{who} needs both classes in y; got only {classes.tolist()}.")
    return (yv == classes[-1]).astype(int), classes


def _is_categorical(col: pd.Series) -> bool:
    return isinstance(col.dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(col)


def apply_bins(spec: dict[str, Any], values: Any, what: str = "woe") -> np.ndarray:
    """Map raw values of one feature to a per-bin quantity using an exported bin spec.

    Parameters
    ----------
    spec : dict
        One feature's bins as exported by :class:`WoEBinner` (``kind``, ``splits`` or
        ``categories``, and per-bin arrays).
    values : array-like
        Raw values of the feature.
    what : str
        ``"woe"``, ``"points"`` or ``"index"`` (default="woe"); ``index`` is the bin number,
        with ``-1`` for missing and ``-2`` for an unknown category.

    Returns
    -------
    numpy.ndarray
        One value per input row.
    """
    n_bins = len(spec["labels"])
    if spec["kind"] == "numeric":
        x = np.asarray(pd.to_numeric(pd.Series(values), errors="coerce"), dtype="float64")
        idx = np.searchsorted(np.asarray(spec["splits"], dtype="float64"), x, side="right")
        idx = np.where(np.isnan(x), -1, idx)
    else:
        lookup = {c: i for i, cats in enumerate(spec["categories"]) for c in cats}
        ser = pd.Series(values, dtype="object")
        idx = np.fromiter(
            (
                -1
                if v is None or (isinstance(v, float) and math.isnan(v))
                else lookup.get(str(v), -2)
                for v in ser
            ),
            dtype=np.int64,
            count=len(ser),
        )
    if what == "index":
        return idx
    table = np.asarray([*spec[what], spec[f"{what}_missing"], spec[f"{what}_unknown"]], "float64")
    return table[np.where(idx == -1, n_bins, np.where(idx == -2, n_bins + 1, idx))]


class WoEBinner(TransformerMixin, BaseEstimator):
    """Optimal monotonic binning (OptBinning) with IV selection, exported to plain arrays.

    Parameters
    ----------
    min_iv : float, default=0.02
        Keep features whose information value on the training rows reaches this.
    max_n_bins : int or None, default=None
        Upper bound on bins per feature (None: OptBinning decides).
    min_bin_size : float or None, default=None
        Smallest bin (and pre-bin) as a share of rows. ``None`` (auto): 5 %, except for a
        numeric feature where one value covers at least 90 % of the rows (a count or flag that
        is mostly zero): there 50 rows, but at least 0.5 % and at most 5 %. A 5 % floor would
        merge away a rare but decisive warning sign (an overdue bureau account in 1 % of firms,
        most of them bad within a year); smaller bins on ordinary features only add noise.
    max_n_prebins : int, default=20
        Pre-bins before optimisation.
    monotonic : bool, default=True
        Force a monotonic event-rate trend (ascending or descending) on numeric features.
    max_features : int or None, default=None
        Keep at most this many features, by IV.

    Attributes
    ----------
    bins_ : dict
        Per selected feature: ``kind``, ``splits``/``categories``, ``labels``, ``count``,
        ``event_rate``, ``woe`` (with ``woe_missing`` and ``woe_unknown``), ``iv``, ``trend``.
    iv_ : dict
        IV of every candidate feature on the training rows.
    features_ : list of str
        Selected features, in input order.
    feature_names_in_ : numpy.ndarray
        Input columns seen in ``fit``.
    """

    def __init__(
        self,
        min_iv: float = 0.02,
        *,
        max_n_bins: int | None = None,
        min_bin_size: float | None = None,
        max_n_prebins: int = 20,
        monotonic: bool = True,
        max_features: int | None = None,
    ) -> None:
        self.min_iv = min_iv
        self.max_n_bins = max_n_bins
        self.min_bin_size = min_bin_size
        self.max_n_prebins = max_n_prebins
        self.monotonic = monotonic
        self.max_features = max_features

    def _validate_params(self) -> None:
        if not float(self.min_iv) >= 0.0:
            raise ValueError(f"min_iv must be >= 0, got {self.min_iv!r}.")
        if self.min_bin_size is not None and not 0.0 < float(self.min_bin_size) < 0.5:
            raise ValueError(f"min_bin_size must be in (0, 0.5), got {self.min_bin_size!r}.")

    def _bin_share(self, col: pd.Series) -> float:
        """The smallest bin of one numeric column as a share of its rows (see ``min_bin_size``)."""
        if self.min_bin_size is not None:
            return float(self.min_bin_size)
        counts = col.value_counts(dropna=True)
        if len(counts) and counts.iloc[0] >= 0.9 * len(col):
            return min(0.05, max(0.005, 50.0 / max(len(col), 1)))
        return 0.05

    def fit(self, X: Any, y: Any = None) -> WoEBinner:
        """Fit the bins on training rows and select features by IV.

        Parameters
        ----------
        X : pandas.DataFrame or array-like of shape (n_samples, n_features)
            Training features.
        y : array-like of shape (n_samples,)
            0/1 target (1 = bad).

        Returns
        -------
        WoEBinner
            ``self``.
        """
        from optbinning import BinningProcess

        self._validate_params()
        if y is None:
            raise ValueError("WoEBinner requires y to be passed, but the target y is None.")
        frame = _as_frame(X)
        yv, _ = check_binary_target(y, "WoEBinner")
        if len(np.unique(yv)) != 2:
            raise ValueError("WoEBinner needs both classes in y.")
        names = [str(c) for c in frame.columns]
        frame = frame.set_axis(names, axis=1)
        cats = [c for c in names if _is_categorical(frame[c])]
        data = frame.copy()
        for c in cats:
            data[c] = data[c].astype("object").where(data[c].notna(), np.nan)
            data[c] = data[c].map(lambda v: v if isinstance(v, float) else str(v))
        for c in names:
            if c not in cats:
                data[c] = data[c].astype("float64")
        params: dict[str, dict[str, Any]] = {}
        for c in names:
            p: dict[str, Any] = {}
            if self.monotonic and c not in cats:
                p["monotonic_trend"] = "auto_asc_desc"
            if self.max_n_bins is not None:
                p["max_n_bins"] = int(self.max_n_bins)
            if c not in cats:
                p["min_bin_size"] = p["min_prebin_size"] = self._bin_share(data[c])
            params[c] = p
        bp = BinningProcess(
            names,
            categorical_variables=cats or None,
            max_n_prebins=self.max_n_prebins,
            min_prebin_size=0.05 if self.min_bin_size is None else float(self.min_bin_size),
            min_bin_size=0.05 if self.min_bin_size is None else float(self.min_bin_size),
            binning_fit_params=params,
        )
        bp.fit(data, yv)
        summary = bp.summary().set_index("name")
        self.iv_ = {c: float(summary.loc[c, "iv"]) for c in names}
        ranked = sorted(names, key=lambda c: -self.iv_[c])
        chosen = [c for c in ranked if self.iv_[c] >= self.min_iv]
        if self.max_features is not None:
            chosen = chosen[: int(self.max_features)]
        if not chosen:
            chosen = ranked[:1]  # a scorecard needs one characteristic; keep the strongest
        self.bins_ = {c: self._export(bp.get_binned_variable(c), c in cats) for c in names}
        self.features_ = [c for c in names if c in set(chosen)]
        self.feature_names_in_ = np.asarray(names, dtype=object)
        self.n_features_in_ = len(names)
        return self

    @staticmethod
    def _export(ob: Any, categorical: bool) -> dict[str, Any]:
        """Turn one fitted OptimalBinning into plain lists (JSON-ready)."""
        table = ob.binning_table.build()
        rows = table.drop(index="Totals")
        labels = [str(v) for v in rows["Bin"]][: len(rows) - 2]
        n = len(labels)
        body = rows.iloc[:n]
        missing = rows.iloc[n + 1]
        spec: dict[str, Any] = {
            "kind": "categorical" if categorical else "numeric",
            "labels": labels,
            "count": [int(v) for v in body["Count"]],
            "event_rate": [float(v) for v in body["Event rate"]],
            "woe": [float(v) for v in body["WoE"]],
            "woe_missing": float(missing["WoE"]) if int(missing["Count"]) > 0 else 0.0,
            "woe_unknown": 0.0,
            "count_missing": int(missing["Count"]),
            "iv": float(table.loc["Totals", "IV"]),
        }
        if categorical:
            spec["categories"] = [[str(c) for c in cats] for cats in ob.splits]
            spec["labels"] = [" | ".join(cats) for cats in spec["categories"]]
        else:
            spec["splits"] = [float(s) for s in ob.splits]
        rates = spec["event_rate"]
        diffs = np.diff(rates) if n > 1 else np.array([])
        if categorical or n < 2:
            spec["trend"] = 0
        elif np.all(diffs >= 0):
            spec["trend"] = 1
        elif np.all(diffs <= 0):
            spec["trend"] = -1
        else:
            spec["trend"] = 0
        return spec

    def transform(self, X: Any) -> np.ndarray:
        """WoE of the selected features.

        Parameters
        ----------
        X : pandas.DataFrame or array-like
            Rows to transform (same columns as in ``fit``).

        Returns
        -------
        numpy.ndarray of shape (n_samples, n_selected)
            WoE values (missing values get their own bin's WoE, unknown categories 0).
        """
        check_is_fitted(self, "bins_")
        frame = _as_frame(X)
        frame = frame.set_axis([str(c) for c in frame.columns], axis=1)
        if frame.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {frame.shape[1]} features, but WoEBinner is expecting "
                f"{self.n_features_in_} features as input."
            )
        cols = [apply_bins(self.bins_[c], frame[c].to_numpy()) for c in self.features_]
        return np.column_stack(cols) if cols else np.zeros((len(frame), 0))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the selected features."""
        check_is_fitted(self, "bins_")
        return np.asarray(self.features_, dtype=object)


class ScorecardClassifier(ClassifierMixin, BaseEstimator):
    """Binning + WoE + IV selection + logistic regression as one pipeline, with points.

    Parameters
    ----------
    min_iv : float, default=0.02
        IV threshold for selection.
    max_n_bins : int or None, default=None
        Upper bound on bins per feature.
    C : float, default=1.0
        Inverse L2 strength of the logistic regression.
    base_score : float, default=600
        Score at which the odds (good:bad) equal ``base_odds``.
    base_odds : float, default=50
        Odds good:bad at ``base_score``.
    pdo : float, default=20
        Points that double the odds.
    max_features : int or None, default=None
        Cap on selected features.

    Attributes
    ----------
    pipeline_ : sklearn.pipeline.Pipeline
        The fitted ``WoEBinner`` → ``LogisticRegression``.
    features_ : list of str
        Characteristics in the card (after IV selection and sign pruning).
    classes_ : numpy.ndarray
        ``[0, 1]``.
    """

    def __init__(
        self,
        min_iv: float = 0.02,
        *,
        max_n_bins: int | None = None,
        C: float = 1.0,
        base_score: float = 600.0,
        base_odds: float = 50.0,
        pdo: float = 20.0,
        max_features: int | None = None,
    ) -> None:
        self.min_iv = min_iv
        self.max_n_bins = max_n_bins
        self.C = C
        self.base_score = base_score
        self.base_odds = base_odds
        self.pdo = pdo
        self.max_features = max_features

    def __sklearn_tags__(self) -> Any:
        """Binary classifier that accepts missing values (and text categories in DataFrames)."""
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        tags.input_tags.allow_nan = True
        return tags

    def _validate_params(self) -> None:
        if float(self.pdo) <= 0 or float(self.base_odds) <= 0:
            raise ValueError("pdo and base_odds must be positive.")
        if float(self.C) <= 0:
            raise ValueError(f"C must be positive, got {self.C!r}.")

    @property
    def factor(self) -> float:
        """Points per unit of log-odds: ``pdo / ln 2``."""
        return float(self.pdo) / math.log(2.0)

    @property
    def offset(self) -> float:
        """Score at log-odds(good:bad) = 0."""
        return float(self.base_score) - self.factor * math.log(float(self.base_odds))

    def fit(self, X: Any, y: Any = None) -> ScorecardClassifier:
        """Fit bins, select by IV, fit the regression and drop wrong-signed characteristics.

        Parameters
        ----------
        X : pandas.DataFrame or array-like
            Training features.
        y : array-like
            0/1 target (1 = bad).

        Returns
        -------
        ScorecardClassifier
            ``self``.
        """
        self._validate_params()
        if y is None:
            raise ValueError(
                "ScorecardClassifier requires y to be passed, but the target y is None."
            )
        frame = _as_frame(X)
        yv, classes = check_binary_target(y, "ScorecardClassifier")
        binner = WoEBinner(self.min_iv, max_n_bins=self.max_n_bins, max_features=self.max_features)
        binner.fit(frame, yv)
        woe = binner.transform(frame)
        keep = list(binner.features_)
        logit = LogisticRegression(C=float(self.C), max_iter=2000)
        # WoE is ln(good share / bad share): a sound characteristic has a negative coefficient
        # on P(bad). Drop the most wrong-signed one and refit until none is left (collinearity).
        while True:
            cols = [binner.features_.index(c) for c in keep]
            logit.fit(woe[:, cols], yv)
            coef = logit.coef_[0]
            if len(keep) == 1 or coef.max() <= 0:
                break
            keep.pop(int(np.argmax(coef)))
        binner.features_ = keep
        self.pipeline_ = Pipeline([("binning", binner), ("logit", logit)])
        self.features_ = keep
        self.classes_ = classes
        self.feature_names_in_ = binner.feature_names_in_
        self.n_features_in_ = binner.n_features_in_
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """Log-odds of bad."""
        check_is_fitted(self, "pipeline_")
        return np.asarray(self.pipeline_.decision_function(_as_frame(X)))

    def predict_proba(self, X: Any) -> np.ndarray:
        """Uncalibrated probabilities ``[P(good), P(bad)]`` from the regression."""
        check_is_fitted(self, "pipeline_")
        return np.asarray(self.pipeline_.predict_proba(_as_frame(X)))

    def predict(self, X: Any) -> np.ndarray:
        """0/1 at probability 0.5."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    def points(self, X: Any) -> np.ndarray:
        """Scorecard score (sum of points) per row; higher is safer."""
        return self.offset - self.factor * self.decision_function(X)

    def to_spec(self) -> dict[str, Any]:
        """The card as plain data: per characteristic its bins and points, and the base points.

        Returns
        -------
        dict
            JSON-ready; read by :mod:`loomcredit.scoring.compiled`.
        """
        check_is_fitted(self, "pipeline_")
        binner: WoEBinner = self.pipeline_.named_steps["binning"]
        logit: LogisticRegression = self.pipeline_.named_steps["logit"]
        chars = []
        for name, beta in zip(self.features_, logit.coef_[0], strict=True):
            spec = dict(binner.bins_[name])
            b = float(beta)
            spec["name"] = name
            spec["coef"] = b
            spec["points"] = [-self.factor * b * w for w in spec["woe"]]
            spec["points_missing"] = -self.factor * b * spec["woe_missing"]
            spec["points_unknown"] = -self.factor * b * spec["woe_unknown"]
            chars.append(spec)
        return {
            "kind": "scorecard",
            "base_score": float(self.base_score),
            "base_odds": float(self.base_odds),
            "pdo": float(self.pdo),
            "factor": self.factor,
            "offset": self.offset,
            "intercept": float(logit.intercept_[0]),
            "base_points": self.offset - self.factor * float(logit.intercept_[0]),
            "characteristics": chars,
        }

    def points_table(self) -> pd.DataFrame:
        """Readable points table: one row per characteristic and bin (plus missing).

        Returns
        -------
        pandas.DataFrame
            Columns ``feature, bin, count, event_rate, woe, points``; the first row is the
            base points.
        """
        spec = self.to_spec()
        rows: list[dict[str, Any]] = [
            {
                "feature": "(base)",
                "bin": "",
                "count": None,
                "event_rate": None,
                "woe": None,
                "points": round(spec["base_points"], 2),
            }
        ]
        for ch in spec["characteristics"]:
            for i, label in enumerate(ch["labels"]):
                rows.append(
                    {
                        "feature": ch["name"],
                        "bin": label,
                        "count": ch["count"][i],
                        "event_rate": round(ch["event_rate"][i], 4),
                        "woe": round(ch["woe"][i], 4),
                        "points": round(ch["points"][i], 2),
                    }
                )
            rows.append(
                {
                    "feature": ch["name"],
                    "bin": "Missing",
                    "count": ch["count_missing"],
                    "event_rate": None,
                    "woe": round(ch["woe_missing"], 4),
                    "points": round(ch["points_missing"], 2),
                }
            )
        return pd.DataFrame(rows)

    def iv_table(self) -> pd.DataFrame:
        """IV of every candidate feature on the training rows, with the selection flag."""
        check_is_fitted(self, "pipeline_")
        binner: WoEBinner = self.pipeline_.named_steps["binning"]
        rows = [
            {
                "feature": c,
                "iv": round(iv, 4),
                "n_bins": len(binner.bins_[c]["labels"]),
                "selected": c in self.features_,
            }
            for c, iv in sorted(binner.iv_.items(), key=lambda kv: -kv[1])
        ]
        return pd.DataFrame(rows)
