"""Loading labelled tables for scoring: CSV, Parquet and ARFF, typed and cleaned.

This module owns the step from a file on disk to ``(X, y)``: it reads the file, turns the
target into 0/1 (1 = bad), drops identifier and leakage columns, turns text columns into
categoricals, and treats missing markers (``?``, empty, ``NA``) and numeric sentinel codes
(``-999`` and friends) as missing values. Nothing here looks at the target to decide how a
feature is cleaned, so it is safe to run before the split.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from loomcredit.domain.errors import LoomError

log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_SENTINELS",
    "MISSING_MARKERS",
    "DataError",
    "Dataset",
    "file_sha256",
    "load_table",
    "prepare",
    "to_binary_target",
]

MISSING_MARKERS: tuple[str, ...] = ("", "?", "NA", "N/A", "NaN", "nan", "null", "NULL", "None")
"""Text values read as missing in every file."""

DEFAULT_SENTINELS: tuple[float, ...] = (-999.0, -9999.0, -99999.0, -999999.0)
"""Numeric codes that mean "not available" in bank extracts and are read as missing."""

_BAD_TOKENS = {"bad", "1", "yes", "y", "true", "default", "defaulted", "chgoff", "bankrupt"}


class DataError(LoomError, ValueError):
    """A labelled table that cannot be used for training or scoring as given."""


@dataclass(frozen=True)
class Dataset:
    """A labelled table ready for modelling.

    Attributes
    ----------
    X : pandas.DataFrame
        Features only; text columns are ``category``, the rest ``float64``.
    y : numpy.ndarray
        Target as ``int8`` 0/1 (1 = bad).
    ids : numpy.ndarray or None
        Group identifier per row (borrower), when given.
    times : numpy.ndarray or None
        Observation date per row (``datetime64[ns]``), when given.
    target : str
        Name of the target column in the source.
    dropped : list of str
        Columns dropped as ids, leakage or constant.
    """

    X: pd.DataFrame
    y: np.ndarray
    ids: np.ndarray | None
    times: np.ndarray | None
    target: str
    dropped: list[str] = field(default_factory=list)

    @property
    def categorical(self) -> list[str]:
        """Names of categorical feature columns."""
        return [c for c in self.X.columns if isinstance(self.X[c].dtype, pd.CategoricalDtype)]


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes (recorded in the model card).

    Parameters
    ----------
    path : str or Path
        The file.

    Returns
    -------
    str
        64 hex digits.
    """
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _read_arff(path: Path) -> pd.DataFrame:
    """Read a dense ARFF file (numeric and nominal attributes; ``?`` is missing)."""
    text = path.read_text(encoding="utf-8", errors="replace").replace("\r\n", "\n")
    names: list[str] = []
    lines = text.split("\n")
    data_at = None
    for i, line in enumerate(lines):
        stripped = line.strip()
        low = stripped.lower()
        if low.startswith("@attribute"):
            match = re.match(r"@attribute\s+('[^']*'|\"[^\"]*\"|\S+)\s+", stripped, re.IGNORECASE)
            if match is None:
                raise DataError(f"Cannot parse ARFF attribute line: {stripped!r}")
            names.append(match.group(1).strip("'\""))
        elif low.startswith("@data"):
            data_at = i + 1
            break
    if data_at is None or not names:
        raise DataError(f"{path} is not an ARFF file with @attribute and @data sections.")
    body = "\n".join(ln for ln in lines[data_at:] if ln.strip() and not ln.startswith("%"))
    return pd.read_csv(
        io.StringIO(body),
        header=None,
        names=names,
        na_values=list(MISSING_MARKERS),
        keep_default_na=True,
        skipinitialspace=True,
    )


def load_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV, Parquet or ARFF file into a DataFrame.

    CSV files may carry a UTF-8 byte-order mark and CRLF line ends; the usual missing markers
    (``?``, ``NA``, empty) become missing values.

    Parameters
    ----------
    path : str or Path
        ``.csv``, ``.txt``, ``.parquet``/``.pq`` or ``.arff`` file, or a folder of Parquet parts.

    Returns
    -------
    pandas.DataFrame
        The table as read.

    Raises
    ------
    DataError
        When the file does not exist or its format is not supported.
    """
    p = Path(path)
    if not p.exists():
        raise DataError(f"{p} does not exist.")
    suffix = p.suffix.lower()
    if p.is_dir() or suffix in {".parquet", ".pq"}:
        return pd.read_parquet(p)
    if suffix == ".arff":
        return _read_arff(p)
    if suffix in {".csv", ".txt", ".tsv"}:
        sep = "\t" if suffix == ".tsv" else ","
        return pd.read_csv(
            p,
            sep=sep,
            encoding="utf-8-sig",
            na_values=list(MISSING_MARKERS),
            keep_default_na=True,
            low_memory=False,
        )
    raise DataError(f"{p.name}: unsupported format {suffix!r} (use CSV, Parquet or ARFF).")


def to_binary_target(values: pd.Series, bad_value: object | None = None) -> np.ndarray:
    """Turn a target column into 0/1 with 1 = bad.

    Parameters
    ----------
    values : pandas.Series
        The raw target: 0/1 numbers, booleans, or two text labels such as ``bad``/``good``.
    bad_value : object, optional
        The raw value meaning bad, when it is not one of the usual labels (default=None).

    Returns
    -------
    numpy.ndarray
        ``int8`` array of 0 and 1.

    Raises
    ------
    DataError
        When the column has missing values or is not binary.
    """
    if values.isna().any():
        raise DataError(f"Target {values.name!r} has {int(values.isna().sum())} missing values.")
    if bad_value is not None:
        return (values.astype(str) == str(bad_value)).to_numpy().astype(np.int8)
    uniq = pd.unique(values)
    if len(uniq) > 2:
        raise DataError(f"Target {values.name!r} has {len(uniq)} distinct values; need two.")
    if pd.api.types.is_bool_dtype(values):
        return values.to_numpy().astype(np.int8)
    if pd.api.types.is_numeric_dtype(values):
        if not set(np.asarray(uniq, dtype=float)) <= {0.0, 1.0}:
            raise DataError(f"Numeric target {values.name!r} must be 0/1; pass the bad value.")
        return values.to_numpy().astype(np.int8)
    norm = values.astype(str).str.strip().str.lower()
    labels = set(norm.unique())
    bad = labels & _BAD_TOKENS
    if len(bad) == 1:
        return (norm == bad.pop()).to_numpy().astype(np.int8)
    raise DataError(f"Cannot tell which value of {values.name!r} is bad: {sorted(labels)}.")


def _clean_feature(col: pd.Series, sentinels: Sequence[float]) -> pd.Series:
    """Numeric columns to float64 with sentinels as NaN; text columns to category."""
    if pd.api.types.is_bool_dtype(col):
        return col.astype("float64")
    if pd.api.types.is_numeric_dtype(col):
        out = col.astype("float64")
        if sentinels:
            out = out.mask(out.isin(list(sentinels)))
        return out
    if pd.api.types.is_datetime64_any_dtype(col):
        # a date as a feature: its age is not known here, so keep the ordinal (days)
        return (col - pd.Timestamp("1970-01-01")).dt.days.astype("float64")
    text = col.astype("string").str.strip()
    text = text.mask(text.isin(list(MISSING_MARKERS)))
    numeric = pd.to_numeric(text.str.replace(r"[$,\s]", "", regex=True), errors="coerce")
    if text.notna().sum() > 0 and numeric.notna().sum() == text.notna().sum():
        return _clean_feature(numeric, sentinels)
    return text.astype("category")


def prepare(
    df: pd.DataFrame,
    target: str,
    *,
    id_col: str | None = None,
    time_col: str | None = None,
    drop: Sequence[str] = (),
    bad_value: object | None = None,
    sentinels: Sequence[float] = DEFAULT_SENTINELS,
    dedupe: bool = False,
) -> Dataset:
    """Split a labelled table into typed features, target, ids and times.

    Parameters
    ----------
    df : pandas.DataFrame
        The table, one row per observation.
    target : str
        Target column (see :func:`to_binary_target`).
    id_col : str, optional
        Borrower id; used for grouped splits and never as a feature (default=None).
    time_col : str, optional
        Observation date; used for out-of-time splits and never as a feature (default=None).
    drop : sequence of str
        Further columns to drop: ids, outcome or post-outcome (leakage) columns (default=()).
    bad_value : object, optional
        Raw target value meaning bad (default=None: inferred).
    sentinels : sequence of float
        Numeric codes read as missing (default=:data:`DEFAULT_SENTINELS`).
    dedupe : bool
        Drop exact duplicate rows first (default=False).

    Returns
    -------
    Dataset
        The prepared table.

    Raises
    ------
    DataError
        When a named column is absent, the target is not binary or no feature is left.
    """
    missing = [c for c in [target, id_col, time_col, *drop] if c and c not in df.columns]
    if missing:
        raise DataError(f"Columns not in the table: {', '.join(missing)}.")
    df = df.reset_index(drop=True)  # features are rebuilt on 0..n-1 (a concat repeats labels)
    if dedupe:
        before = len(df)
        df = df.drop_duplicates().reset_index(drop=True)
        log.info("dropped %d duplicate rows", before - len(df))
    y = to_binary_target(df[target], bad_value)
    ids = df[id_col].to_numpy() if id_col else None
    times = pd.to_datetime(df[time_col]).to_numpy() if time_col else None
    excluded = {target, *(c for c in (id_col, time_col) if c), *drop}
    features: dict[str, pd.Series] = {}
    dropped = list(drop)
    for name in df.columns:
        if name in excluded:
            continue
        col = _clean_feature(df[name], sentinels)
        if col.nunique(dropna=True) < 2:
            dropped.append(name)
            continue
        if isinstance(col.dtype, pd.CategoricalDtype) and col.nunique() > 0.5 * len(col):
            dropped.append(name)  # free text or an id: one level per row carries no pattern
            continue
        features[str(name)] = col
    if not features:
        raise DataError("No usable feature columns are left after dropping ids and constants.")
    X = pd.DataFrame(features, index=pd.RangeIndex(len(df)))
    return Dataset(X=X, y=y, ids=ids, times=times, target=target, dropped=dropped)
