"""GB/T 2260 administrative divisions (行政区划代码): names, levels and historic successors.

The table (``domain/data/regions.csv``, UTF-8) holds every province-level code of China, all of
Zhejiang to county/district level with today's codes, and abolished Zhejiang codes with their
successor (330621 绍兴县 → 330603 柯桥区, 330682 上虞市 → 330604 上虞区, 330623 嵊县 → 330683
嵊州市, ...), see DOMAIN.md §3. A USCC's region (positions 3–8) is fixed when the code is issued,
so old codes must be resolved through :func:`current_region_code`.

Outside Zhejiang the table is only complete at province level: a well-formed code from another
province resolves to itself and is named by its nearest known ancestor (its province).

>>> current_region_code("330621")
'330603'
>>> region_name("330603")
'柯桥区'
>>> full_region_name("330621")
'浙江省 绍兴市 绍兴县'
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources

from loomcredit.domain.errors import UnknownCode

_TABLE = "region"
_FULL_COVERAGE_PROVINCES = frozenset({"33"})  # provinces listed down to county level
_MAX_HOPS = 8  # successor chains are short; this only guards against a cycle in the data


class Level(StrEnum):
    """Level of a division."""

    PROVINCE = "province"  # 省级 (incl. municipalities and SARs)
    PREFECTURE = "prefecture"  # 地级
    DISTRICT_GROUP = "district_group"  # 市辖区 (xxxx01), a statistical grouping
    COUNTY = "county"  # 县级: 区, 县, 县级市


@dataclass(frozen=True, slots=True)
class Region:
    """One division: ``successor_code`` is set only for abolished (historic) codes."""

    code: str
    name: str
    level: Level
    parent_code: str | None
    successor_code: str | None = None
    note: str = ""

    @property
    def is_historic(self) -> bool:
        """True for an abolished code that has a successor."""
        return self.successor_code is not None

    @property
    def province_code(self) -> str:
        """The province-level code (first two digits + 0000)."""
        return self.code[:2] + "0000"


@cache
def _regions() -> dict[str, Region]:
    text = resources.files("loomcredit.domain").joinpath("data", "regions.csv").read_text("utf-8")
    table: dict[str, Region] = {}
    for row in csv.DictReader(io.StringIO(text)):
        code = row["code"].strip()
        table[code] = Region(
            code=code,
            name=row["name"].strip(),
            level=Level(row["level"].strip()),
            parent_code=row["parent_code"].strip() or None,
            successor_code=row["successor_code"].strip() or None,
            note=row["note"].strip(),
        )
    return table


def all_regions() -> list[Region]:
    """Every division in the table, in code order."""
    return sorted(_regions().values(), key=lambda r: r.code)


def _clean(code: str) -> str:
    text = str(code).strip()
    if len(text) != 6 or not text.isdigit():
        raise UnknownCode(_TABLE, text)
    return text


def region(code: str) -> Region:
    """The division for a 6-digit code; raises :class:`UnknownCode` if it is not in the table."""
    text = _clean(code)
    found = _regions().get(text)
    if found is None:
        raise UnknownCode(_TABLE, text)
    return found


def is_known_region(code: str) -> bool:
    """True when the code is in the table (current or historic)."""
    try:
        region(code)
    except UnknownCode:
        return False
    return True


def current_region_code(code: str) -> str:
    """Today's code for a possibly historic code (identity for current codes).

    Raises :class:`UnknownCode` for a malformed code, an unknown province, or an unknown code in a
    province the table covers in full (Zhejiang). Other provinces' codes pass through unchanged.
    """
    text = _clean(code)
    table = _regions()
    for _ in range(_MAX_HOPS):
        entry = table.get(text)
        if entry is None:
            if text[:2] in _FULL_COVERAGE_PROVINCES or text[:2] + "0000" not in table:
                raise UnknownCode(_TABLE, text)
            return text
        if entry.successor_code is None:
            return text
        text = entry.successor_code
    raise UnknownCode(_TABLE, code)  # pragma: no cover - a cycle in the data


def _nearest_known(code: str) -> Region:
    text = _clean(code)
    table = _regions()
    for candidate in (text, text[:4] + "00", text[:2] + "0000"):
        if candidate in table:
            return table[candidate]
    raise UnknownCode(_TABLE, text)


def region_name(code: str) -> str:
    """The name of a code, or of its nearest known ancestor (prefecture, then province).

    Historic codes keep their historic name (``330621`` → ``绍兴县``); resolve first with
    :func:`current_region_code` for today's name.
    """
    return _nearest_known(code).name


def full_region_name(code: str) -> str:
    """Province, prefecture and county names joined by spaces (``浙江省 绍兴市 柯桥区``)."""
    names: list[str] = []
    entry: Region | None = _nearest_known(code)
    table = _regions()
    while entry is not None:
        if entry.level is not Level.DISTRICT_GROUP:
            names.append(entry.name)
        entry = table.get(entry.parent_code) if entry.parent_code else None
    return " ".join(reversed(names))


def province_name(code: str) -> str:
    """The province-level name for any code whose first two digits are a province."""
    return region(_clean(code)[:2] + "0000").name
