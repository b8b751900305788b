"""GB/T 4754-2017 industry classification (国民经济行业分类) and textile-cluster segments.

The table (``domain/data/industries.csv``, UTF-8) holds all 20 sections (A–T), all 97 divisions,
and the groups and classes of the Shaoxing/Keqiao textile cluster (C17x, C18x, C28x, C355x, F513x)
plus a few common SME groups (DOMAIN.md §4). Codes are a section letter, a 2-digit division, a
3rd-digit group and a 4th-digit class: ``C`` → ``C17`` → ``C175`` → ``C1752``.

Key on codes only: names differ between sources (C178 is 产业用纺织制成品制造 in our table; some
sources say 非家用纺织制成品制造). Registrations made before 2017 still carry GB/T 4754-2011
classes; the two garment classes the 2017 edition split (C1810, C1820) are kept as known classes.

A registration should carry a 4-digit class, so :func:`is_known_industry` is true only for known
classes unless ``any_level=True``; :func:`industry` looks up any level.

>>> normalise_industry_code(" c1752 ")
'C1752'
>>> normalise_industry_code("C1750")
'C175'
>>> segment("C1752")
'dyeing'
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources

from loomcredit.domain.errors import UnknownCode

_TABLE = "industry"
_CLASS_LEN = 5  # "C1752"

# The "textile cluster" of DOMAIN.md §4: any code starting with one of these.
TEXTILE_CLUSTER_PREFIXES: tuple[str, ...] = ("C17", "C18", "C28", "F5131", "F5132", "C3551")

# Longest prefix wins. Printing and dyeing classes (印染/染整) are "dyeing" whatever the fibre.
_SEGMENT_PREFIXES: tuple[tuple[str, str], ...] = (
    ("C1713", "dyeing"),
    ("C1723", "dyeing"),
    ("C1733", "dyeing"),
    ("C1743", "dyeing"),
    ("C1752", "dyeing"),
    ("C1762", "dyeing"),
    ("C1761", "knitting"),
    ("C1763", "knitting"),
    ("C176", "knitting"),
    ("C177", "home_textile"),
    ("C178", "industrial_textile"),
    ("C17", "weaving"),
    ("C18", "garment"),
    ("C28", "chemical_fibre"),
    ("C3551", "textile_machinery"),
    ("F5131", "wholesale"),
    ("F5132", "wholesale"),
    ("F5133", "wholesale"),
)
SEGMENTS: tuple[str, ...] = (
    "chemical_fibre",
    "weaving",
    "dyeing",
    "knitting",
    "garment",
    "home_textile",
    "industrial_textile",
    "textile_machinery",
    "wholesale",
    "other",
)
SEGMENT_LABELS_ZH = {
    "chemical_fibre": "化纤",
    "weaving": "织造",
    "dyeing": "印染",
    "knitting": "针织",
    "garment": "服装",
    "home_textile": "家纺",
    "industrial_textile": "产业用纺织品",
    "textile_machinery": "纺织机械",
    "wholesale": "纺织品批发",
    "other": "其他",
}


class IndustryLevel(StrEnum):
    """Depth in the GB/T 4754 tree."""

    SECTION = "section"  # 门类, "C"
    DIVISION = "division"  # 大类, "C17"
    GROUP = "group"  # 中类, "C175"
    CLASS = "class"  # 小类, "C1752"


@dataclass(frozen=True, slots=True)
class Industry:
    """One node of the classification."""

    code: str
    name: str
    section: str
    level: IndustryLevel

    @property
    def parent_code(self) -> str | None:
        """The code one level up (``C1752`` → ``C175``, ``C17`` → ``C``); None for a section."""
        if self.level is IndustryLevel.SECTION:
            return None
        if self.level is IndustryLevel.DIVISION:
            return self.section
        return self.code[:-1]


@cache
def _industries() -> dict[str, Industry]:
    text = (
        resources.files("loomcredit.domain").joinpath("data", "industries.csv").read_text("utf-8")
    )
    return {
        row["code"]: Industry(row["code"], row["name"], row["section"], IndustryLevel(row["level"]))
        for row in csv.DictReader(io.StringIO(text))
    }


@cache
def _section_of_division() -> dict[str, str]:
    return {
        ind.code[1:]: ind.section
        for ind in _industries().values()
        if ind.level is IndustryLevel.DIVISION
    }


def all_industries() -> list[Industry]:
    """Every node in the table, in code order."""
    return sorted(_industries().values(), key=lambda i: i.code)


def normalise_industry_code(raw: str) -> str:
    """Canonical form of a raw industry code; raises :class:`UnknownCode` if malformed.

    Trims, converts full-width to half-width, upper-cases and strips group-level zero padding
    (``"C1750"`` → ``"C175"``, ``"C1700"`` → ``"C17"``) when the padded code is not itself known.
    The section letter is required (a bare ``"1752"`` is refused; see :func:`with_section`).
    The result is well-formed but not necessarily in the table: see :func:`is_known_industry`.
    """
    text = "".join(unicodedata.normalize("NFKC", str(raw)).split()).upper()
    valid_shape = (
        1 <= len(text) <= _CLASS_LEN
        and "A" <= text[0] <= "T"
        and text[1:].isdigit()
        and len(text) != 2
    )
    if not valid_shape:
        raise UnknownCode(_TABLE, str(raw))
    table = _industries()
    while text not in table and len(text) > 3 and text.endswith("0"):
        text = text[:-1]
    return text


def with_section(raw: str) -> str:
    """Prefix the section letter to a digits-only code (``"1752"`` → ``"C1752"``).

    For sources known to drop the letter; the division decides the section. Other input is
    returned unchanged.
    """
    text = "".join(unicodedata.normalize("NFKC", str(raw)).split())
    if text.isdigit() and 2 <= len(text) <= 4:
        section = _section_of_division().get(text[:2])
        if section is not None:
            return section + text
    return text


def is_known_industry(code: str, *, any_level: bool = False) -> bool:
    """True when the (normalised) code is a known 4-digit class (or any node if ``any_level``)."""
    try:
        found = _industries().get(normalise_industry_code(code))
    except UnknownCode:
        return False
    if found is None:
        return False
    return any_level or found.level is IndustryLevel.CLASS


def industry(code: str) -> Industry:
    """The node for a code (normalised first); raises :class:`UnknownCode` if not in the table."""
    text = normalise_industry_code(code)
    found = _industries().get(text)
    if found is None:
        raise UnknownCode(_TABLE, str(code))
    return found


def industry_path(code: str) -> list[Industry]:
    """The known ancestors of a code, from its section down to the code itself."""
    text = normalise_industry_code(code)
    table = _industries()
    prefixes = [text[:1]] + [text[:n] for n in range(3, len(text) + 1)]
    return [table[p] for p in prefixes if p in table]


def is_textile_cluster(code: str) -> bool:
    """True when the code is in the suggested textile-cluster set (DOMAIN.md §4)."""
    try:
        text = normalise_industry_code(code)
    except UnknownCode:
        return False
    return text.startswith(TEXTILE_CLUSTER_PREFIXES)


def segment(code: str) -> str:
    """The cluster segment of a code (``"dyeing"``, ``"weaving"``, ... or ``"other"``).

    Unknown or malformed codes are ``"other"``: segments are a risk feature, not validation.
    """
    try:
        text = normalise_industry_code(code)
    except UnknownCode:
        return "other"
    for prefix, name in _SEGMENT_PREFIXES:
        if text.startswith(prefix):
            return name
    return "other"
