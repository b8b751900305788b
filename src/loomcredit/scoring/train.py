"""Training orchestration: split, fit both models inside the fold, calibrate, measure, save.

:func:`train_models` is the library entry point (the CLI and ``make demo`` call it). Inside
every training fold: a calibration split is held out; the scorecard (binning, IV selection,
regression) and the booster (with its own early-stopping split) are fitted on the rest; Platt
calibration is fitted on the calibration split. Validation rows are touched only to measure.
With a time column the split is out of time (and, with a borrower id, out of sample too: each of
three borrower groups is validated after the cut-off by models trained on the other groups before
it, and the saved models are refitted on every borrower's rows before the cut-off); otherwise
stratified k-fold (grouped by id) gives out-of-fold metrics and the saved models are refitted on
all rows.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from loomcredit.scoring import metrics
from loomcredit.scoring.booster import KNOWN_DIRECTIONS, BoosterClassifier
from loomcredit.scoring.calibration import PlattCalibrator, fit_platt
from loomcredit.scoring.card import library_versions, write_card
from loomcredit.scoring.data import Dataset, file_sha256, load_table, prepare
from loomcredit.scoring.scorecard import ScorecardClassifier
from loomcredit.scoring.splits import Split, inner_split, kfold_splits, out_of_time_split

log = logging.getLogger(__name__)

__all__ = ["Bundle", "TrainConfig", "fit_bundle", "train_models"]


@dataclass(frozen=True)
class TrainConfig:
    """Training settings (all keyword, all with defaults).

    Attributes
    ----------
    folds : int
        k of the stratified k-fold when there is no time column; 1 means one stratified holdout.
    valid_fraction : float
        Validation share for the out-of-time split or the single holdout.
    calib_fraction : float
        Share of training rows held out for PD calibration.
    min_iv : float
        IV threshold of the scorecard.
    base_score, base_odds, pdo : float
        Score scaling: ``base_score`` at odds ``base_odds``:1 (good:bad), ``pdo`` to double.
    monotone : str
        ``"known"`` (Loom's profile features with a known direction), ``"binning"`` (trend of
        the scorecard bins fitted in the same fold) or ``"none"``.
    n_estimators, learning_rate, num_leaves : booster settings.
    random_state : int
        Seed of every split and model.
    dedupe : bool
        Drop exact duplicate rows before splitting.
    report : bool
        Write ``report.html``.
    """

    folds: int = 5
    valid_fraction: float = 0.25
    calib_fraction: float = 0.2
    min_iv: float = 0.02
    base_score: float = 600.0
    base_odds: float = 50.0
    pdo: float = 20.0
    monotone: str = "known"
    n_estimators: int = 1000
    learning_rate: float = 0.05
    num_leaves: int = 31
    random_state: int = 0
    dedupe: bool = False
    report: bool = True


@dataclass
class Bundle:
    """Both models fitted on one training fold, with their calibrators."""

    scorecard: ScorecardClassifier
    booster: BoosterClassifier
    cal_scorecard: PlattCalibrator
    cal_booster: PlattCalibrator
    train_rows: np.ndarray

    def pd(self, X: pd.DataFrame) -> dict[str, np.ndarray]:
        """Calibrated PD of both models."""
        return {
            "scorecard": self.cal_scorecard.pd(self.scorecard.decision_function(X)),
            "booster": self.cal_booster.pd(self.booster.decision_function(X)),
        }


def _monotone(cfg: TrainConfig, sc: ScorecardClassifier, names: Sequence[str]) -> dict[str, int]:
    if cfg.monotone == "none":
        return {}
    if cfg.monotone == "binning":
        bins = sc.pipeline_.named_steps["binning"].bins_
        return {c: int(bins[c]["trend"]) for c in names if c in bins and bins[c]["trend"]}
    return {c: d for c, d in KNOWN_DIRECTIONS.items() if c in names}


def fit_bundle(ds: Dataset, rows: np.ndarray, cfg: TrainConfig) -> Bundle:
    """Fit scorecard, booster and calibration on the given training rows only.

    Parameters
    ----------
    ds : Dataset
        The whole prepared table.
    rows : numpy.ndarray
        Positions of the training rows; nothing else is read.
    cfg : TrainConfig
        Settings.

    Returns
    -------
    Bundle
        The fitted models.
    """
    ids = ds.ids[rows] if ds.ids is not None else None
    # With borrower ids the calibration rows are whole borrowers drawn from every date: holding
    # out the latest dates instead would take the newest rows (the ones with a year-on-year
    # history) away from fitting. Without ids, dated rows calibrate on the latest ones.
    times = ds.times[rows] if ds.times is not None and ids is None else None
    cal = inner_split(
        ds.y[rows], fraction=cfg.calib_fraction, ids=ids, times=times, random_state=cfg.random_state
    )
    fit_rows, cal_rows = rows[cal.train], rows[cal.valid]
    X_fit, y_fit = ds.X.iloc[fit_rows], ds.y[fit_rows]
    sc = ScorecardClassifier(
        cfg.min_iv, base_score=cfg.base_score, base_odds=cfg.base_odds, pdo=cfg.pdo
    ).fit(X_fit, y_fit)
    bo = BoosterClassifier(
        cfg.n_estimators,
        learning_rate=cfg.learning_rate,
        num_leaves=cfg.num_leaves,
        monotone=_monotone(cfg, sc, list(ds.X.columns)),
        random_state=cfg.random_state,
    ).fit(X_fit, y_fit, ids=ds.ids[fit_rows] if ds.ids is not None else None)
    X_cal, y_cal = ds.X.iloc[cal_rows], ds.y[cal_rows]
    return Bundle(
        scorecard=sc,
        booster=bo,
        cal_scorecard=fit_platt(sc.decision_function(X_cal), y_cal),
        cal_booster=fit_platt(bo.decision_function(X_cal), y_cal),
        train_rows=fit_rows,
    )


def _evaluate(
    ds: Dataset, cfg: TrainConfig
) -> tuple[dict[str, Any], Bundle | None, dict[str, Any]]:
    """Validation predictions of both models, and the bundle to save (OOT) or None (k-fold)."""
    splits: list[Split]
    if ds.times is not None:
        splits = out_of_time_split(
            ds.times, valid_fraction=cfg.valid_fraction, ids=ds.ids, random_state=cfg.random_state
        )
        scheme = splits[0].label
        if len(splits) > 1:
            scheme = scheme.split(", borrower group")[0] + (
                f", out of sample: {len(splits)} borrower groups, each validated by a model "
                "trained on the others (pooled)"
            )
    elif cfg.folds > 1:
        splits = list(
            kfold_splits(ds.y, n_splits=cfg.folds, ids=ds.ids, random_state=cfg.random_state)
        )
        scheme = f"stratified {cfg.folds}-fold cross-validation (out-of-fold)"
        if ds.ids is not None:
            scheme += ", grouped by id"
    else:
        one = inner_split(
            ds.y, fraction=cfg.valid_fraction, ids=ds.ids, random_state=cfg.random_state
        )
        splits = [Split(train=one.train, valid=one.valid, label="stratified holdout")]
        scheme = f"stratified holdout {cfg.valid_fraction:.0%}"
    valid_rows = np.concatenate([s.valid for s in splits])
    pd_valid = {"scorecard": np.empty(0), "booster": np.empty(0)}
    psis: dict[str, list[float]] = {"scorecard": [], "booster": []}
    fold_auc: dict[str, list[float]] = {"scorecard": [], "booster": []}
    bundle = None
    for split in splits:
        bundle = fit_bundle(ds, split.train, cfg)
        p_va = bundle.pd(ds.X.iloc[split.valid])
        p_tr = bundle.pd(ds.X.iloc[bundle.train_rows])
        for m in pd_valid:
            pd_valid[m] = np.concatenate([pd_valid[m], p_va[m]])
            psis[m].append(metrics.psi(p_tr[m], p_va[m]))
            if len(np.unique(ds.y[split.valid])) == 2:
                fold_auc[m].append(metrics.auc(ds.y[split.valid], p_va[m]))
        log.info("%s done", split.label)
    y_valid = ds.y[valid_rows]
    results = {
        m: {
            "metrics": metrics.summary(y_valid, pd_valid[m]),
            "psi_train_valid": float(np.mean(psis[m])),
            "fold_auc": fold_auc[m],
        }
        for m in pd_valid
    }
    extra = {"scheme": scheme, "valid_rows": valid_rows, "y_valid": y_valid, "pd_valid": pd_valid}
    if len(splits) > 1 and ds.times is not None:  # the saved models learn every borrower's past
        t = np.asarray(ds.times, dtype="datetime64[ns]")
        bundle = fit_bundle(ds, np.flatnonzero(t < t[valid_rows].min()), cfg)
    return results, (bundle if ds.times is not None or cfg.folds <= 1 else None), extra


def _window(ds: Dataset) -> dict[str, str] | None:
    if ds.times is None:
        return None
    t = ds.times.astype("datetime64[D]")
    return {"from": str(t.min()), "to": str(t.max())}


def train_models(
    data: str | Path | pd.DataFrame,
    *,
    target: str,
    out_dir: str | Path,
    time_col: str | None = None,
    id_col: str | None = None,
    drop: Sequence[str] = (),
    bad_value: object | None = None,
    config: TrainConfig | None = None,
    name: str | None = None,
    trained_at: str | None = None,
) -> dict[str, Any]:
    """Train the scorecard and the booster, write every artefact, and return the model card.

    Parameters
    ----------
    data : str, Path or pandas.DataFrame
        A CSV/Parquet/ARFF file (its sha256 goes in the card) or a table.
    target : str
        0/1 (1 = bad) or two-label target column.
    out_dir : str or Path
        Model directory to write (created).
    time_col, id_col : str, optional
        Observation date (out-of-time split) and borrower id (grouping).
    drop : sequence of str
        Id and leakage columns to drop.
    bad_value : object, optional
        Raw target value meaning bad when not inferable.
    config : TrainConfig, optional
        Settings (default ``TrainConfig()``).
    name : str, optional
        Model name (default: the folder name).
    trained_at : str, optional
        Timestamp to record (the caller's clock; the library reads none).

    Returns
    -------
    dict
        The model card as written to ``out_dir/model_card.json``.
    """
    cfg = config or TrainConfig()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    source: dict[str, Any] = {"source": "DataFrame", "sha256": None}
    if isinstance(data, str | Path):
        source = {
            "source": str(data),
            "sha256": file_sha256(data) if Path(data).is_file() else None,
        }
        frame = load_table(data)
    else:
        frame = data
    ds = prepare(
        frame,
        target,
        id_col=id_col,
        time_col=time_col,
        drop=drop,
        bad_value=bad_value,
        dedupe=cfg.dedupe,
    )
    results, bundle, extra = _evaluate(ds, cfg)
    if bundle is None:  # k-fold: metrics are out-of-fold; the saved models use every row
        bundle = fit_bundle(ds, np.arange(len(ds.y)), cfg)
    name = name or out.name
    default = (
        "booster"
        if results["booster"]["metrics"]["auc"] > results["scorecard"]["metrics"]["auc"] + 0.01
        else "scorecard"
    )
    files = _save_models(out, bundle, cfg, name)
    for m in results:
        results[m]["files"] = files[m]
    card: dict[str, Any] = {
        "name": name,
        "trained_at": trained_at,
        "data": {
            **source,
            "rows": len(ds.y),
            "bad_rate": float(ds.y.mean()),
            "target": target,
            "window": _window(ds),
            "time_col": time_col,
            "id_col": id_col,
            "dropped": ds.dropped,
            "deduplicated": cfg.dedupe,
        },
        "features": {
            "candidates": list(ds.X.columns),
            "scorecard": bundle.scorecard.features_,
            "booster": bundle.booster.features_,
            "monotone": bundle.booster.monotone or {},
        },
        "validation": {"scheme": extra["scheme"], "rows": len(extra["y_valid"])},
        "models": results,
        "default_model": default,
        "config": asdict(cfg),
        "versions": library_versions(),
    }
    if cfg.report:
        from loomcredit.scoring.report import write_report

        write_report(out / "report.html", card, bundle, extra, ds)
        card["report"] = "report.html"
    write_card(out, card)
    return card


def _save_models(out: Path, bundle: Bundle, cfg: TrainConfig, name: str) -> dict[str, list[str]]:
    """Scorecard as JSON + CSV points table, booster as LightGBM text + JSON metadata."""
    sc, bo = bundle.scorecard, bundle.booster
    spec = sc.to_spec()
    spec["calibration"] = bundle.cal_scorecard.to_dict()
    spec["version"] = f"{name}/scorecard"
    (out / "scorecard.json").write_text(json.dumps(spec, ensure_ascii=False, indent=1), "utf-8")
    sc.points_table().to_csv(out / "scorecard_points.csv", index=False)
    sc.iv_table().to_csv(out / "iv_table.csv", index=False)
    (out / "booster.txt").write_text(bo.model_text(), encoding="utf-8")
    meta = {
        "version": f"{name}/booster",
        "features": bo.features_,
        "categories": bo.categories_,
        "constraints": bo.constraints_,
        "best_iteration": bo.best_iteration_,
        "calibration": bundle.cal_booster.to_dict(),
        "factor": sc.factor,
        "offset": sc.offset,
    }
    (out / "booster.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), "utf-8")
    return {
        "scorecard": ["scorecard.json", "scorecard_points.csv", "iv_table.csv"],
        "booster": ["booster.txt", "booster.json"],
    }
