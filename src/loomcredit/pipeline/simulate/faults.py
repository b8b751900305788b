"""Deliberate data-quality faults, recorded in ``truth/faults`` so ingestion can be reconciled.

Each row of a faultable source is hit with probability ``rate`` by one fault drawn from that
source's list. The fault's ``key`` identifies the row as written: ``invoice_id`` for invoices,
otherwise the source's natural key (``NATURAL_KEYS``) joined with ``|`` (dates ISO, after the
fault is applied; for a dropped row, the row that is missing).

Faults: ``duplicate`` (the same invoice twice), ``malformed_uscc`` (check character wrong or a
character lost), ``fullwidth_uscc`` (full-width characters: valid after normalisation),
``missing_month`` (the row is dropped), ``negative_amount``, ``absurd_amount``, ``future_date``
(years after the simulated window), ``unknown_industry``.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pyarrow as pa

from loomcredit.domain.identity import USCC_CHARSET
from loomcredit.pipeline.schemas import NATURAL_KEYS, TRUTH_SCHEMAS

FAULTS: dict[str, tuple[str, ...]] = {
    "invoices": (
        "duplicate",
        "malformed_uscc",
        "fullwidth_uscc",
        "negative_amount",
        "absurd_amount",
        "future_date",
    ),
    "registry": ("unknown_industry", "malformed_uscc", "fullwidth_uscc"),
    "tax": ("missing_month", "fullwidth_uscc", "negative_amount"),
    "utilities": ("missing_month", "negative_amount", "absurd_amount"),
    "social_insurance": ("missing_month", "absurd_amount"),
    "bank_flows": ("negative_amount", "absurd_amount", "future_date"),
    "bureau": ("fullwidth_uscc", "future_date"),
}
# which column each fault touches, per source
USCC_COL = {"invoices": "seller_uscc"}
AMOUNT_COL = {
    "invoices": "amount_fen",
    "tax": "due_fen",
    "utilities": "kwh",
    "social_insurance": "insured_headcount",
    "bank_flows": "amount_fen",
}
DATE_COL = {"invoices": "issued_on", "bank_flows": "booked_on", "bureau": "reported_on"}
UNKNOWN_INDUSTRY = ("C9999", "X1752", "C17", "1752")


def fullwidth(text: str) -> str:
    """ASCII letters and digits to their full-width forms (ＡＢＣ１２３)."""
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


def _malformed(code: str, rng: np.random.Generator) -> str:
    if rng.random() < 0.5:
        i = int(rng.integers(0, len(code)))
        return code[:i] + code[i + 1 :]  # one character lost
    wrong = [c for c in USCC_CHARSET if c != code[-1]]
    return code[:-1] + wrong[int(rng.integers(0, len(wrong)))]


def _key(source: str, row: dict[str, object]) -> str:
    if source == "invoices":
        return str(row["invoice_id"])
    parts = []
    for col in NATURAL_KEYS[source]:
        value = row[col]
        parts.append(value.isoformat() if isinstance(value, date) else str(value))
    return "|".join(parts)


def _apply(source: str, fault: str, row: dict[str, object], rng: np.random.Generator) -> None:
    uscc_col = USCC_COL.get(source, "uscc")
    if fault == "malformed_uscc":
        row[uscc_col] = _malformed(str(row[uscc_col]), rng)
    elif fault == "fullwidth_uscc":
        row[uscc_col] = fullwidth(str(row[uscc_col]))
    elif fault == "negative_amount":
        col = AMOUNT_COL[source]
        row[col] = -abs(int(row[col] or 0)) - 1  # type: ignore[call-overload]
    elif fault == "absurd_amount":
        col = AMOUNT_COL[source]
        row[col] = 99_999 if col == "insured_headcount" else int(row[col] or 0) * 100_000 + 10**13  # type: ignore[call-overload]
    elif fault == "future_date":
        col = DATE_COL[source]
        row[col] = date(2031, 1, 1) + timedelta(days=int(rng.integers(0, 3000)))
    elif fault == "unknown_industry":
        row["industry_code"] = UNKNOWN_INDUSTRY[int(rng.integers(0, len(UNKNOWN_INDUSTRY)))]


def inject(
    source: str, table: pa.Table, rate: float, rng: np.random.Generator
) -> tuple[pa.Table, list[tuple[str, str, str]]]:
    """Apply faults to a table; returns the faulty table and ``(source, key, fault)`` records."""
    kinds = FAULTS.get(source)
    if not kinds or rate <= 0 or table.num_rows == 0:
        return table, []
    hit = np.flatnonzero(rng.random(table.num_rows) < rate)
    if hit.size == 0:
        return table, []
    which = rng.integers(0, len(kinds), hit.size)
    rows = table.take(pa.array(hit)).to_pylist()
    changed, extra, records = [], [], []
    dropped = np.zeros(table.num_rows, dtype=bool)
    for row, k in zip(rows, which.tolist(), strict=True):
        fault = kinds[k]
        if fault == "missing_month":
            records.append((source, _key(source, row), fault))
            changed.append(None)
            continue
        if fault == "duplicate":
            extra.append(dict(row))
            changed.append(row)
        else:
            _apply(source, fault, row, rng)
            changed.append(row)
        records.append((source, _key(source, row), fault))
    for i, row in zip(hit.tolist(), changed, strict=True):
        dropped[i] = True
        if row is not None:
            extra.append(row)
    kept = table.filter(pa.array(~dropped))
    patched = pa.Table.from_pylist(extra, schema=table.schema)
    return pa.concat_tables([kept, patched]), records


def faults_table(records: list[tuple[str, str, str]]) -> pa.Table:
    """``truth/faults`` rows."""
    schema = TRUTH_SCHEMAS["faults"]
    cols = list(zip(*records, strict=True)) if records else [[], [], []]
    return pa.Table.from_arrays([pa.array(list(c), pa.string()) for c in cols], schema=schema)
