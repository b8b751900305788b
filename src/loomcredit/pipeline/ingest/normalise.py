"""Normalisation as DuckDB SQL expressions: full-width to half-width, case, whitespace, codes.

Each function takes a SQL expression (usually a quoted column) and returns a SQL expression that
yields the normalised text, or NULL for an empty value. Region and industry codes are mapped in
Python over the distinct values of a file (see :func:`code_map`), then joined back.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable

import pyarrow as pa

# U+FF01..U+FF5E are the full-width forms of ASCII 0x21..0x7E; U+3000 is the ideographic space.
_FULL = "".join(chr(c) for c in range(0xFF01, 0xFF5F)) + "\u3000"
_HALF = "".join(chr(c) for c in range(0x21, 0x7F)) + " "
_FULL_SQL = _FULL.replace("'", "''")
_HALF_SQL = _HALF.replace("'", "''")


def q(column: str) -> str:
    """Quote an identifier for DuckDB."""
    return '"' + column.replace('"', '""') + '"'


def halfwidth_sql(expr: str) -> str:
    """Full-width ASCII forms and the ideographic space turned into their half-width forms.

    ``translate`` is slow on long alphabets, so it runs only on values that hold a full-width
    character (a cheap regular-expression test first).
    """
    text = f"CAST({expr} AS VARCHAR)"
    return (
        f"CASE WHEN regexp_matches({text}, '[\\x{{FF01}}-\\x{{FF5E}}\\x{{3000}}]') "
        f"THEN translate({text}, '{_FULL_SQL}', '{_HALF_SQL}') ELSE {text} END"
    )


def text_sql(expr: str) -> str:
    """Free text: half-width, runs of whitespace collapsed to one space, trimmed; '' → NULL."""
    return f"nullif(trim(regexp_replace({halfwidth_sql(expr)}, '\\s+', ' ', 'g')), '')"


def name_sql(expr: str) -> str:
    """Chinese names: half-width forms and no whitespace at all; '' → NULL."""
    return f"nullif(regexp_replace({halfwidth_sql(expr)}, '\\s+', '', 'g'), '')"


def code_sql(expr: str) -> str:
    """Codes: half-width, no whitespace, upper case; '' → NULL."""
    return f"upper({name_sql(expr)})"


def enum_sql(expr: str) -> str:
    """Enumerated values: half-width, trimmed, lower case; '' → NULL."""
    return f"lower({text_sql(expr)})"


def halfwidth(text: str) -> str:
    """Python twin of :func:`halfwidth_sql` (NFKC only for the full-width ASCII block)."""
    return text.translate(str.maketrans(_FULL, _HALF))


def clean_name(text: str) -> str:
    """Python twin of :func:`name_sql`: half-width and no whitespace."""
    return "".join(unicodedata.normalize("NFKC", halfwidth(text)).split())


def code_map(
    values: Iterable[object], mapper: Callable[[str], str | None], *, name: str = "code"
) -> pa.Table:
    """A look-up table ``raw → value`` (``value`` NULL when ``mapper`` rejects the raw code)."""
    raws: list[str] = []
    mapped: list[str | None] = []
    for value in values:
        if value is None:
            continue
        raw = str(value)
        raws.append(raw)
        mapped.append(mapper(raw))
    return pa.table({"raw": pa.array(raws, pa.string()), name: pa.array(mapped, pa.string())})
