"""The gradient-boosting challenger: LightGBM with monotone constraints and early stopping.

Early stopping uses a validation split carved out of the training rows passed to ``fit``
(never the caller's validation data). Monotone constraints apply where the business direction
of a feature is known: given explicitly, taken from :data:`KNOWN_DIRECTIONS` for Loom's own
profile features, or (``monotone="binning"``) taken from the monotonic event-rate trend of the
scorecard's bins fitted on the same training rows. The model is kept in LightGBM's native text
format; categorical text is encoded with a category list learned in ``fit``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from loomcredit.scoring.scorecard import _as_frame, check_binary_target
from loomcredit.scoring.splits import inner_split

log = logging.getLogger(__name__)

__all__ = ["KNOWN_DIRECTIONS", "BoosterClassifier", "encode_frame"]

KNOWN_DIRECTIONS: dict[str, int] = {
    # +1: a higher value means more risk; -1: a higher value means less risk.
    "sales_3m_fen": -1,
    "sales_6m_fen": -1,
    "sales_12m_fen": -1,
    "months_of_history": -1,
    "months_no_invoices_12m": 1,
    "firm_age_months": -1,
    "tax_arrears_fen": 1,
    "bureau_overdue_accounts": 1,
    "bureau_max_dpd_24m": 1,
    "bureau_nonperforming_accounts": 1,
    "bureau_inquiries_3m": 1,
    "judicial_enforcement_open": 1,
    "judicial_enforcement_24m": 1,
    "judicial_dishonest": 1,
    "news_negative_12m": 1,
    "inflow_12m_fen": -1,
}
"""Risk direction of Loom's profile features, from credit practice (DOMAIN.md)."""


def encode_frame(
    X: pd.DataFrame, features: list[str], categories: Mapping[str, list[str]]
) -> np.ndarray:
    """Numeric matrix for LightGBM: categorical columns as codes of the fitted category list.

    Parameters
    ----------
    X : pandas.DataFrame
        Raw features.
    features : list of str
        Column order.
    categories : mapping
        Per categorical column, its known categories; unknown and missing become NaN.

    Returns
    -------
    numpy.ndarray
        ``float64`` of shape (n_samples, n_features).
    """
    out = np.empty((len(X), len(features)), dtype="float64")
    for j, name in enumerate(features):
        col = X[name]
        if name in categories:
            text = col.astype("object")
            text = text.where(text.isna(), text.astype(str))
            codes = pd.Categorical(text, categories=categories[name]).codes.astype("float64")
            codes[codes < 0] = np.nan  # missing or a category not seen in training
            out[:, j] = codes
        else:
            out[:, j] = pd.to_numeric(col, errors="coerce").to_numpy(
                dtype="float64", na_value=np.nan
            )
    return out


class BoosterClassifier(ClassifierMixin, BaseEstimator):
    """LightGBM binary classifier with monotone constraints and inner early stopping.

    Parameters
    ----------
    n_estimators : int, default=1000
        Upper bound on trees; early stopping picks the number.
    learning_rate : float, default=0.05
        Shrinkage.
    num_leaves : int, default=31
        Leaves per tree.
    min_child_samples : int, default=20
        Minimum rows per leaf.
    monotone : dict or None, default=None
        Feature → +1 (risk rises with the value) or -1. Features not named are free.
    early_stopping_fraction : float, default=0.15
        Share of the training rows held out for early stopping.
    early_stopping_rounds : int, default=50
        Patience.
    random_state : int, default=0
        Seed.
    n_jobs : int, default=2
        Threads.

    Attributes
    ----------
    booster_ : lightgbm.Booster
        The trained model (best iteration only).
    features_ : list of str
        Input columns in order.
    categories_ : dict
        Category lists of categorical columns.
    constraints_ : list of int
        Monotone constraint per feature.
    best_iteration_ : int
        Trees kept.
    """

    def __init__(
        self,
        n_estimators: int = 1000,
        *,
        learning_rate: float = 0.05,
        num_leaves: int = 31,
        min_child_samples: int = 20,
        monotone: dict[str, int] | None = None,
        early_stopping_fraction: float = 0.15,
        early_stopping_rounds: int = 50,
        random_state: int = 0,
        n_jobs: int = 2,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.monotone = monotone
        self.early_stopping_fraction = early_stopping_fraction
        self.early_stopping_rounds = early_stopping_rounds
        self.random_state = random_state
        self.n_jobs = n_jobs

    def __sklearn_tags__(self) -> Any:
        """Binary classifier that accepts missing values (and text categories in DataFrames)."""
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        tags.input_tags.allow_nan = True
        return tags

    def _validate_params(self) -> None:
        if int(self.n_estimators) < 1:
            raise ValueError("n_estimators must be at least 1.")
        if not 0.0 < float(self.early_stopping_fraction) < 1.0:
            raise ValueError("early_stopping_fraction must be in (0, 1).")
        for name, d in (self.monotone or {}).items():
            if d not in (-1, 0, 1):
                raise ValueError(f"monotone[{name!r}] must be -1, 0 or 1, got {d!r}.")

    def _params(self) -> dict[str, Any]:
        return {
            "objective": "binary",
            "learning_rate": float(self.learning_rate),
            "num_leaves": int(self.num_leaves),
            "min_child_samples": int(self.min_child_samples),
            "feature_fraction": 0.9,
            "bagging_fraction": 0.9,
            "bagging_freq": 1,
            "lambda_l2": 1.0,
            "seed": int(self.random_state),
            "num_threads": int(self.n_jobs),
            "verbosity": -1,
            "deterministic": True,
            "force_col_wise": True,
        }

    def fit(self, X: Any, y: Any = None, ids: np.ndarray | None = None) -> BoosterClassifier:
        """Train with early stopping on a split of the given training rows.

        Parameters
        ----------
        X : pandas.DataFrame or array-like
            Training features.
        y : array-like
            0/1 target.
        ids : numpy.ndarray, optional
            Borrower ids, so the early-stopping split keeps borrowers together.

        Returns
        -------
        BoosterClassifier
            ``self``.
        """
        import lightgbm as lgb

        self._validate_params()
        if y is None:
            raise ValueError("BoosterClassifier requires y to be passed, but the target y is None.")
        frame = _as_frame(X)
        frame = frame.set_axis([str(c) for c in frame.columns], axis=1)
        yv, classes = check_binary_target(y, "BoosterClassifier")
        self.features_ = list(frame.columns)
        self.categories_ = {
            c: sorted(str(v) for v in frame[c].dropna().unique())
            for c in self.features_
            if not pd.api.types.is_numeric_dtype(frame[c])
        }
        mono = self.monotone or {}
        self.constraints_ = [
            0 if c in self.categories_ else int(mono.get(c, 0)) for c in self.features_
        ]
        mat = encode_frame(frame, self.features_, self.categories_)
        split = inner_split(
            yv,
            fraction=float(self.early_stopping_fraction),
            ids=ids,
            random_state=int(self.random_state),
        )
        cat_idx = [j for j, c in enumerate(self.features_) if c in self.categories_]
        params = self._params()
        if any(self.constraints_):
            params["monotone_constraints"] = self.constraints_
            params["monotone_constraints_method"] = "advanced"
        dtrain = lgb.Dataset(
            mat[split.train],
            yv[split.train],
            feature_name=self.features_,
            categorical_feature=cat_idx,
            free_raw_data=False,
        )
        dvalid = lgb.Dataset(mat[split.valid], yv[split.valid], reference=dtrain)
        # Early stopping watches log-loss: with a few dozen bads in the held-out rows AUC moves
        # in steps and stops after a handful of trees, log-loss is smooth.
        booster = lgb.train(
            {**params, "metric": "binary_logloss"},
            dtrain,
            num_boost_round=int(self.n_estimators),
            valid_sets=[dvalid],
            callbacks=[lgb.early_stopping(int(self.early_stopping_rounds), verbose=False)],
        )
        self.best_iteration_ = int(booster.best_iteration or booster.current_iteration())
        self.booster_ = booster
        self.classes_ = classes
        self.n_features_in_ = len(self.features_)
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """Raw margin (log-odds of bad)."""
        check_is_fitted(self, "booster_")
        frame = _as_frame(X)
        if frame.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {frame.shape[1]} features, but BoosterClassifier is expecting "
                f"{self.n_features_in_} features as input."
            )
        frame = frame.set_axis([str(c) for c in frame.columns], axis=1)
        mat = encode_frame(frame, self.features_, self.categories_)
        return np.asarray(
            self.booster_.predict(mat, raw_score=True, num_iteration=self.best_iteration_)
        )

    def predict_proba(self, X: Any) -> np.ndarray:
        """Uncalibrated ``[P(good), P(bad)]``."""
        p = 1.0 / (1.0 + np.exp(-self.decision_function(X)))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        """0/1 at probability 0.5."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    def model_text(self) -> str:
        """The model in LightGBM's native text format (best iteration only)."""
        check_is_fitted(self, "booster_")
        return str(self.booster_.model_to_string(num_iteration=self.best_iteration_))

    def importance(self) -> dict[str, float]:
        """Total gain per feature, in the kept trees."""
        check_is_fitted(self, "booster_")
        gains = self.booster_.feature_importance("gain", iteration=self.best_iteration_)
        return {c: float(g) for c, g in zip(self.features_, gains, strict=True)}
