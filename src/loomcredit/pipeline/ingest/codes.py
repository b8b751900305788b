"""Industry and region code look-ups for ingestion, through ``loomcredit.domain`` tables.

``loomcredit.domain.industries`` and ``loomcredit.domain.regions`` own the code tables. Until they
are importable this module falls back to the Shaoxing subset of DOMAIN.md §3–§4, so ingestion works
on the simulated cluster either way.
"""

from __future__ import annotations

import re
import unicodedata

try:  # the domain tables (preferred)
    from loomcredit.domain.industries import is_known_industry as _is_known_industry
    from loomcredit.domain.industries import normalise_industry_code as _normalise_industry
except ImportError:  # pragma: no cover - depends on another module landing
    _is_known_industry = None
    _normalise_industry = None

try:
    from loomcredit.domain.regions import current_region_code as _current_region
except ImportError:  # pragma: no cover
    _current_region = None

# Fallback tables (DOMAIN.md §3, §4): used only when the domain modules are absent.
_HISTORIC_REGIONS = {"330621": "330603", "330682": "330604", "330623": "330683"}
_CURRENT_REGIONS = frozenset(
    {"330600", "330601", "330602", "330603", "330604", "330624", "330681", "330683"}
)
_PROVINCES = frozenset(
    str(p)
    for p in (
        11,
        12,
        13,
        14,
        15,
        21,
        22,
        23,
        31,
        32,
        33,
        34,
        35,
        36,
        37,
        41,
        42,
        43,
        44,
        45,
        46,
        50,
        51,
        52,
        53,
        54,
        61,
        62,
        63,
        64,
        65,
    )
)
_INDUSTRY_DIVISIONS = frozenset({"C17", "C18", "C28", "F51", "C13", "C14", "C19", "C21", "C26"})
_CODE_RE = re.compile(r"^[A-T]\d{4}$")


def _clean(raw: str) -> str:
    return "".join(unicodedata.normalize("NFKC", raw).split()).upper()


def normalise_industry(raw: str) -> str | None:
    """The 4-digit class code (``C1752``) for a raw industry code, or ``None`` if unknown."""
    if _normalise_industry is not None and _is_known_industry is not None:
        try:
            code = _normalise_industry(raw)
        except (KeyError, ValueError):
            return None
        return code if code and _is_known_industry(code) else None
    code = _clean(raw)
    if not _CODE_RE.match(code) or code[:3] not in _INDUSTRY_DIVISIONS:
        return None
    return code


def current_region(raw: str) -> str | None:
    """The current GB/T 2260 code for a raw (possibly historic) region code, or ``None``."""
    code = _clean(raw)
    if _current_region is not None:
        try:
            result = _current_region(code)
        except (KeyError, ValueError):
            return None
        return str(result) if result else None
    if code in _HISTORIC_REGIONS:
        return _HISTORIC_REGIONS[code]
    if code in _CURRENT_REGIONS:
        return code
    known_province = code[:2] in _PROVINCES
    return code if len(code) == 6 and code.isdigit() and known_province else None
