"""Train / validation splits that do not leak: out of time, grouped by borrower, stratified.

Two rules: when rows carry a date, validation rows come strictly after every training row
(out of time); otherwise folds are stratified by outcome. When a borrower id is given, every row
of one borrower lands on the same side, so a firm's later snapshot never validates its earlier one
(with dates too: out of time and out of sample).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold, train_test_split

from loomcredit.scoring.data import DataError

__all__ = ["Split", "inner_split", "kfold_splits", "out_of_time_split"]


@dataclass(frozen=True)
class Split:
    """Row positions of one split.

    Attributes
    ----------
    train : numpy.ndarray
        Positions used for fitting (every data-dependent step).
    valid : numpy.ndarray
        Positions held out for measurement only.
    label : str
        What the split is ("oot 2024-01-01", "fold 2/5", ...).
    """

    train: np.ndarray
    valid: np.ndarray
    label: str


def out_of_time_split(
    times: np.ndarray,
    *,
    valid_fraction: float = 0.25,
    ids: np.ndarray | None = None,
    n_folds: int = 3,
    random_state: int = 0,
) -> list[Split]:
    """Hold out the latest rows: validation starts at a cut-off date.

    Parameters
    ----------
    times : numpy.ndarray
        Observation dates (``datetime64``).
    valid_fraction : float
        Share of rows, counted from the latest, that go to validation (default=0.25). The
        cut-off is a date, so every row of that date is on the same side.
    ids : numpy.ndarray, optional
        Borrower ids (default=None). When given, validation is also out of sample: borrowers
        are dealt into ``n_folds`` groups, and each split validates one group's rows after the
        cut-off with a model trained on the other groups' rows before it. Time order alone does
        not protect panel data: a firm's snapshot a month before the cut-off carries the same
        future default (``default_12m``) as its snapshots after it, so a model could learn the
        firm rather than the risk, from an outcome a bank would not know yet. Every borrower is
        validated once, so the pooled metrics rest on all defaulters of the period.
    n_folds : int
        Borrower groups when ``ids`` are given (default=3).
    random_state : int
        Seed of the borrower draw (default=0).

    Returns
    -------
    list of Split
        One split (no ids) or ``n_folds`` splits: training rows before the cut-off, validation
        rows on or after it.

    Raises
    ------
    DataError
        When all rows share one date, so no out-of-time split exists, or there are fewer
        borrowers than folds.
    """
    t = np.asarray(times, dtype="datetime64[ns]")
    uniq = np.unique(t)
    if len(uniq) < 2:
        raise DataError("An out-of-time split needs at least two distinct dates.")
    cutoff = np.quantile(t.astype("int64"), 1.0 - valid_fraction, method="higher")
    cut = np.datetime64(int(cutoff), "ns")
    if cut <= uniq[0]:
        cut = uniq[1]
    label = f"out of time: validation from {np.datetime_as_string(cut, unit='D')}"
    before, after = t < cut, t >= cut
    if ids is None:
        return [Split(train=np.flatnonzero(before), valid=np.flatnonzero(after), label=label)]
    id_arr = np.asarray(ids)
    borrowers = np.unique(id_arr)
    if len(borrowers) < n_folds:
        raise DataError(f"An out-of-sample split needs at least {n_folds} borrowers.")
    order = np.random.default_rng(random_state).permutation(len(borrowers))
    group = np.empty(len(borrowers), dtype=np.int64)
    group[order] = np.arange(len(borrowers)) % n_folds
    row_group = group[np.searchsorted(borrowers, id_arr)]
    return [
        Split(
            train=np.flatnonzero(before & (row_group != k)),
            valid=np.flatnonzero(after & (row_group == k)),
            label=f"{label}, borrower group {k + 1}/{n_folds} held out",
        )
        for k in range(n_folds)
    ]


def kfold_splits(
    y: np.ndarray, *, n_splits: int = 5, ids: np.ndarray | None = None, random_state: int = 0
) -> Iterator[Split]:
    """Stratified k-fold (grouped by borrower when ids are given).

    Parameters
    ----------
    y : numpy.ndarray
        0/1 target, for stratification.
    n_splits : int
        Number of folds (default=5).
    ids : numpy.ndarray, optional
        Borrower ids; folds keep each borrower's rows together (default=None).
    random_state : int
        Seed of the shuffle (default=0).

    Yields
    ------
    Split
        One split per fold.
    """
    y = np.asarray(y)
    dummy = np.zeros(len(y))
    if ids is not None:
        gkf = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
        folds = gkf.split(dummy, y, groups=np.asarray(ids))
    else:
        skf = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
        folds = skf.split(dummy, y)
    for k, (tr, va) in enumerate(folds, start=1):
        yield Split(train=tr, valid=va, label=f"fold {k}/{n_splits}")


def inner_split(
    y: np.ndarray,
    *,
    fraction: float,
    ids: np.ndarray | None = None,
    times: np.ndarray | None = None,
    random_state: int = 0,
) -> Split:
    """Split training rows once more (calibration or early stopping), inside the training fold.

    Parameters
    ----------
    y : numpy.ndarray
        0/1 target of the training rows.
    fraction : float
        Share held out (default none; e.g. 0.2).
    ids : numpy.ndarray, optional
        Borrower ids: a borrower is on one side only (default=None).
    times : numpy.ndarray, optional
        Dates: when given, the held-out part is the latest (default=None).
    random_state : int
        Seed (default=0).

    Returns
    -------
    Split
        Positions relative to the training rows passed in.
    """
    n = len(y)
    if times is not None and len(np.unique(times)) > 1:
        return out_of_time_split(times, valid_fraction=fraction)[0]
    if ids is not None:
        n_splits = max(2, round(1.0 / fraction))
        return next(kfold_splits(y, n_splits=n_splits, ids=ids, random_state=random_state))
    strat = y if np.bincount(y, minlength=2).min() >= 2 else None
    tr, va = train_test_split(
        np.arange(n), test_size=fraction, stratify=strat, random_state=random_state
    )
    return Split(train=np.sort(tr), valid=np.sort(va), label=f"inner {fraction:.0%}")
