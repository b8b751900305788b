"""Validation rules per source, compiled to one DuckDB SELECT per file.

Every column of the contract has a :class:`Col` spec: its kind (how to normalise and type-check it),
whether it is required, and its range. :func:`check_sql` turns a source's specs into a SELECT that
yields the normalised, typed columns, ``_row``, a list ``_reasons`` (empty when the row is clean)
and ``_raw`` (the original row as JSON, PII masked) for rejected rows. Reasons read
``<class>:<column>``, e.g. ``invalid_uscc:seller_uscc``, ``future_date:issued_on``.

Codes that need Python (USCC check characters, resident IDs, region and industry tables) are
checked over the distinct values of a file and joined back through look-up tables
(``m_uscc``, ``m_rid``, ``m_region``, ``m_industry``) that :mod:`ingest.run` registers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from loomcredit.domain.errors import InvalidCode
from loomcredit.domain.identity import parse_resident_id, parse_uscc
from loomcredit.pipeline.arrival import OBTAINED
from loomcredit.pipeline.ingest.normalise import code_sql, enum_sql, name_sql, q, text_sql
from loomcredit.pipeline.schemas import OPTIONAL_COLUMNS, RAW_SCHEMAS, ROW_DATE

MAX_FEN = 10**13  # 1e11 yuan: larger amounts are absurd for a small enterprise's record
EARLIEST = date(1949, 10, 1)


@dataclass(frozen=True)
class Col:
    """How one contract column is checked.

    Attributes:
        kind: uscc | rid | name | text | code | enum | date | month | period | ts | int | float |
            industry | region.
        required: a NULL (or empty) value is a ``missing:<col>`` reason.
        values: allowed values for ``enum`` (compared after normalisation).
        lo: smallest allowed number (inclusive); hi: largest.
        future_ok: a date after ``as_of`` is allowed (expiry dates).
    """

    kind: str
    required: bool = True
    values: tuple[str, ...] = ()
    lo: float | None = None
    hi: float | None = None
    future_ok: bool = False


def _fen(required: bool = True, lo: int | None = 0) -> Col:
    return Col("int", required, lo=lo, hi=MAX_FEN)


def _count(hi: int = 10**6) -> Col:
    return Col("int", True, lo=0, hi=hi)


_SPECS: dict[str, dict[str, Col]] = {
    "registry": {
        "uscc": Col("uscc"),
        "name": Col("name"),
        "legal_rep_name": Col("name"),
        "legal_rep_id": Col("rid"),
        "established_on": Col("date"),
        "registered_capital_fen": _fen(),
        "industry_code": Col("industry"),
        "region_code": Col("region"),
        "status": Col("text", values=("存续", "吊销", "注销")),
        "change_type": Col(
            "enum", values=("registration", "name", "legal_rep", "capital", "address", "status")
        ),
        "changed_on": Col("date"),
    },
    "invoices": {
        "invoice_id": Col("code"),
        "seller_uscc": Col("uscc"),
        "buyer_uscc": Col("uscc", required=False),
        "issued_on": Col("date"),
        "amount_fen": _fen(lo=-MAX_FEN),
        "tax_fen": _fen(lo=-MAX_FEN),
        "status": Col("enum", values=("normal", "void", "red")),
    },
    "tax": {
        "uscc": Col("uscc"),
        "period": Col("period"),
        "tax_type": Col("enum", values=("vat", "cit", "other")),
        "due_fen": _fen(),
        "paid_fen": _fen(),
        "paid_on": Col("date", required=False),
        "credit_grade": Col("code", required=False, values=("A", "B", "M", "C", "D")),
    },
    "utilities": {
        "uscc": Col("uscc"),
        "month": Col("month"),
        "kwh": Col("int", lo=0, hi=10**10),
        "steam_t": Col("float", required=False, lo=0, hi=10**8),
    },
    "social_insurance": {
        "uscc": Col("uscc"),
        "month": Col("month"),
        "insured_headcount": _count(20_000),  # more is absurd for an SME
    },
    "bank_flows": {
        "uscc": Col("uscc"),
        "booked_on": Col("date"),
        "direction": Col("enum", values=("in", "out")),
        "amount_fen": Col("int", lo=1, hi=MAX_FEN),
        "counterparty_name": Col("name", required=False),
        "counterparty_uscc": Col("uscc", required=False),
    },
    "judicial": {
        "uscc": Col("uscc"),
        "case_id": Col("code"),
        "filed_on": Col("date"),
        "case_type": Col(
            "enum",
            values=("contract_dispute", "labour", "enforcement", "dishonest", "equity_freeze"),
        ),
        "role": Col("enum", values=("plaintiff", "defendant", "respondent")),
        "amount_fen": _fen(required=False),
        "closed_on": Col("date", required=False),
    },
    "bureau": {
        "uscc": Col("uscc"),
        "reported_on": Col("date"),
        "loans_outstanding_fen": _fen(),
        "overdue_accounts": _count(),
        "max_dpd_24m": _count(5000),
        "guarantees_fen": _fen(),
        "inquiries_3m": _count(),
        "nonperforming_accounts": _count(),
    },
    "news": {
        "doc_id": Col("code"),
        "published_on": Col("date"),
        "source": Col("text"),
        "title": Col("text"),
        "body": Col("text"),
        "mentioned_name": Col("name", required=False),
        "uscc": Col("uscc", required=False),
    },
    "market": {
        "month": Col("month"),
        "series": Col("enum"),
        "value": Col("float", lo=-1e12, hi=1e12),
    },
    "consents": {
        "consent_id": Col("code"),
        "uscc": Col("uscc"),
        "subject": Col("enum", values=("enterprise", "legal_rep")),
        "scopes": Col("enum"),
        "purposes": Col("enum"),
        "granted_at": Col("ts"),
        "expires_at": Col("ts", future_ok=True),
        "revoked_at": Col("ts", required=False, future_ok=True),
        "text_sha256": Col("enum", required=False),
    },
}

# The day the bank held the row: after ``as_of`` it is not held yet (``future_date``); left out,
# ingest fills it (:mod:`.consent`).
SPECS: dict[str, dict[str, Col]] = {
    source: specs if source == "consents" else {**specs, OBTAINED: Col("date", required=False)}
    for source, specs in _SPECS.items()
}


def _row_day(source: str) -> str:
    column = ROW_DATE[source]
    return f"CAST({column} || '-01' AS DATE)" if source == "tax" else column


# Cross-column rules: (source, SQL condition on normalised values that makes the row bad, reason).
_ROW_RULES: dict[str, list[tuple[str, str]]] = {
    "registry": [("changed_on < established_on", "range:changed_on")],
    "invoices": [
        ("status <> 'red' AND amount_fen < 0", "range:amount_fen"),
        ("tax_fen <> 0 AND sign(amount_fen) <> sign(tax_fen)", "range:amount_fen"),
        ("abs(tax_fen) > abs(amount_fen)", "range:tax_fen"),
    ],
    "judicial": [("closed_on < filed_on", "range:closed_on")],
    "consents": [("expires_at <= granted_at", "range:expires_at")],
}
# ... and a row cannot be held before the day it describes.
ROW_RULES: dict[str, list[tuple[str, str]]] = {
    source: _ROW_RULES.get(source, [])
    + ([] if source == "consents" else [(f"{OBTAINED} < {_row_day(source)}", f"range:{OBTAINED}")])
    for source in SPECS
}

MAP_KINDS = {"uscc": "m_uscc", "rid": "m_rid", "region": "m_region", "industry": "m_industry"}


def uscc_or_none(raw: str) -> str | None:
    """The normalised USCC when it passes its check character, else ``None``."""
    try:
        return parse_uscc(raw).code
    except InvalidCode:
        return None


def resident_id_or_none(raw: str, *, on: date) -> str | None:
    """The normalised resident ID when valid on ``on``, else ``None``."""
    try:
        return parse_resident_id(raw, on=on).number
    except InvalidCode:
        return None


NATIVE = {
    "int": ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "UBIGINT", "UINTEGER", "USMALLINT"),
    "float": ("DOUBLE", "FLOAT", "BIGINT", "INTEGER", "DECIMAL"),
    "date": ("DATE",),
    "month": ("DATE",),
    "ts": ("TIMESTAMP WITH TIME ZONE",),
}


def is_native(spec: Col, file_type: str | None) -> bool:
    """True when the file already stores the column in its contract type (no text parsing)."""
    if file_type is None:
        return False
    return file_type.upper().split("(")[0] in NATIVE.get(spec.kind, ())


def _native_typed(spec: Col, raw: str) -> str:
    if spec.kind == "int":
        return f"CAST({raw} AS BIGINT)"
    if spec.kind == "float":
        return f"CAST({raw} AS DOUBLE)"
    if spec.kind == "month":
        return f"CAST(date_trunc('month', {raw}) AS DATE)"
    return raw


_TEXT_KINDS = {"name": name_sql, "text": text_sql, "code": code_sql, "enum": enum_sql}
_CAST_KINDS = {"date": "DATE", "ts": "TIMESTAMPTZ", "int": "BIGINT", "float": "DOUBLE"}


def _typed(col: str, spec: Col, raw: str, native: bool = False) -> str:
    """SQL for the normalised, typed value (NULL when missing or malformed)."""
    kind = spec.kind
    if native:
        return _native_typed(spec, raw)
    if kind in MAP_KINDS:
        return f"{MAP_KINDS[kind]}_{col}.code"
    if kind in _TEXT_KINDS:
        return _TEXT_KINDS[kind](raw)
    if kind in _CAST_KINDS:
        return f"TRY_CAST({text_sql(raw)} AS {_CAST_KINDS[kind]})"
    if kind == "month":
        return f"CAST(date_trunc('month', TRY_CAST({text_sql(raw)} AS DATE)) AS DATE)"
    if kind == "period":
        norm = text_sql(raw)
        return f"CASE WHEN regexp_full_match({norm}, '\\d{{4}}-(0[1-9]|1[0-2])') THEN {norm} END"
    raise ValueError(f"unknown column kind {kind!r}")


def _reasons(
    col: str, spec: Col, raw: str, value: str, as_of: date, native: bool = False
) -> list[str]:
    present = f"{raw} IS NOT NULL" if native else f"{text_sql(raw)} IS NOT NULL"
    out: list[str] = []
    if spec.required:
        out.append(f"CASE WHEN NOT ({present}) THEN 'missing:{col}' END")
    label = {
        "uscc": "invalid_uscc",
        "rid": "invalid_resident_id",
        "region": "unknown_region",
        "industry": "unknown_industry",
    }.get(spec.kind, "type")
    out.append(f"CASE WHEN {present} AND {value} IS NULL THEN '{label}:{col}' END")
    if spec.values:
        allowed = ", ".join("'" + v.replace("'", "''") + "'" for v in spec.values)
        out.append(f"CASE WHEN {value} NOT IN ({allowed}) THEN 'bad_value:{col}' END")
    if spec.lo is not None:
        out.append(f"CASE WHEN {value} < {spec.lo!r} THEN 'range:{col}' END")
    if spec.hi is not None:
        out.append(f"CASE WHEN {value} > {spec.hi!r} THEN 'range:{col}' END")
    if spec.kind in ("date", "month", "ts"):
        day = f"CAST({value} AS DATE)"
        if not spec.future_ok:
            out.append(f"CASE WHEN {day} > DATE '{as_of.isoformat()}' THEN 'future_date:{col}' END")
        out.append(f"CASE WHEN {day} < DATE '{EARLIEST.isoformat()}' THEN 'range:{col}' END")
    if spec.kind == "period":
        out.append(f"CASE WHEN {value} > '{as_of:%Y-%m}' THEN 'future_date:{col}' END")
    return out


def _raw_json(source: str, absent: frozenset[str] = frozenset()) -> str:
    parts = []
    for col in RAW_SCHEMAS[source].names:
        raw = "CAST(NULL AS VARCHAR)" if col in absent else f"CAST(s.{q(col)} AS VARCHAR)"
        if col == "legal_rep_id":  # PII: never plaintext in quarantine either
            raw = f"CASE WHEN length({raw}) > 7 THEN left({raw}, 3) || repeat('*', length({raw}) - 7) || right({raw}, 4) ELSE '***' END"  # noqa: E501
        parts.append(f"{q(col)} := {raw}")
    return f"to_json(struct_pack({', '.join(parts)}))"


def check_sql(
    source: str, reader: str, as_of: date, file_types: dict[str, str] | None = None
) -> str:
    """The SELECT that validates and normalises one file of ``source`` (see module docstring).

    ``file_types`` (column → DuckDB type of the file) lets columns already stored in their
    contract type skip text parsing; an optional column the file lacks reads as NULL.
    """
    types = file_types or {}
    absent = frozenset(c for c in OPTIONAL_COLUMNS if types and c not in types)
    specs = SPECS[source]
    joins: list[str] = []
    values: list[str] = []
    reasons: list[str] = []
    for col, spec in specs.items():
        raw = "CAST(NULL AS VARCHAR)" if col in absent else f"s.{q(col)}"
        if spec.kind in MAP_KINDS:
            alias = f"{MAP_KINDS[spec.kind]}_{col}"
            joins.append(
                f"LEFT JOIN {MAP_KINDS[spec.kind]} AS {alias} "
                f"ON {alias}.raw = CAST({raw} AS VARCHAR)"
            )
        native = spec.kind not in MAP_KINDS and is_native(spec, types.get(col))
        value = _typed(col, spec, raw, native)
        values.append(f"{value} AS {q(col)}")
        reasons.extend(_reasons(col, spec, raw, value, as_of, native))
    inner = (
        f"SELECT s._row, {', '.join(values)}, "
        f"[{', '.join(reasons)}] AS _col_reasons, {_raw_json(source, absent)} AS _raw_all "
        f"FROM ({reader}) AS s {' '.join(joins)}"
    )
    row_rules = [f"CASE WHEN {cond} THEN '{why}' END" for cond, why in ROW_RULES.get(source, [])]
    merged = (
        "list_concat(_col_reasons, [" + ", ".join(row_rules) + "])"
        if row_rules
        else ("_col_reasons")
    )
    cols = ", ".join(q(c) for c in specs)
    return (
        f"SELECT _row, {cols}, "
        f"list_distinct(list_filter({merged}, lambda x: x IS NOT NULL)) AS _reasons, "
        f"CASE WHEN len(list_filter({merged}, lambda x: x IS NOT NULL)) > 0 "
        f"THEN _raw_all END AS _raw FROM ({inner})"
    )
