"""GB/T 2260 regions and GB/T 4754-2017 industries: coverage, successors, normalising, segments."""

from __future__ import annotations

import pytest

from loomcredit.domain.errors import UnknownCode
from loomcredit.domain.identity import parse_uscc
from loomcredit.domain.industries import (
    TEXTILE_CLUSTER_PREFIXES,
    IndustryLevel,
    all_industries,
    industry,
    industry_path,
    is_known_industry,
    is_textile_cluster,
    normalise_industry_code,
    segment,
    with_section,
)
from loomcredit.domain.regions import (
    Level,
    all_regions,
    current_region_code,
    full_region_name,
    is_known_region,
    region,
    region_name,
)

# -- regions ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("historic", "current"),
    [("330621", "330603"), ("330682", "330604"), ("330623", "330683")],
)
def test_historic_shaoxing_codes_map_to_todays_district(historic, current):
    """绍兴县 → 柯桥区, 上虞市 → 上虞区, 嵊县 → 嵊州市 (DOMAIN.md §3)."""
    assert current_region_code(historic) == current
    assert region(historic).is_historic


@pytest.mark.parametrize("code", ["330602", "330603", "330604", "330624", "330681", "330683"])
def test_current_codes_map_to_themselves(code):
    """A current code resolves to itself."""
    assert current_region_code(code) == code
    assert not region(code).is_historic


def test_shaoxing_names():
    """The Shaoxing table of DOMAIN.md §3."""
    names = {
        "330600": "绍兴市",
        "330602": "越城区",
        "330603": "柯桥区",
        "330604": "上虞区",
        "330624": "新昌县",
        "330681": "诸暨市",
        "330683": "嵊州市",
        "330621": "绍兴县",
        "330682": "上虞市",
    }
    assert {code: region_name(code) for code in names} == names


def test_all_provinces_are_present():
    """31 mainland provinces plus 台湾, 香港 and 澳门: 34 province-level codes."""
    provinces = [r for r in all_regions() if r.level is Level.PROVINCE]
    assert len(provinces) == 34
    assert region("330000").name == "浙江省"
    assert region("650000").name == "新疆维吾尔自治区"


def test_zhejiang_has_eleven_prefectures():
    """Zhejiang's 11 prefecture-level cities."""
    prefectures = {
        r.name for r in all_regions() if r.level is Level.PREFECTURE and r.parent_code == "330000"
    }
    assert prefectures == {
        "杭州市", "宁波市", "温州市", "嘉兴市", "湖州市", "绍兴市",
        "金华市", "衢州市", "舟山市", "台州市", "丽水市",
    }  # fmt: skip


def test_zhejiang_has_ninety_current_county_level_units():
    """Zhejiang today: 90 county-level units (37 districts, 20 cities, 33 counties)."""
    current = [
        r for r in all_regions()
        if r.code.startswith("33") and r.level is Level.COUNTY and not r.is_historic
    ]  # fmt: skip
    assert len(current) == 90
    assert sum(r.name.endswith("区") for r in current) == 37
    assert sum(r.name.endswith("市") for r in current) == 20


def test_every_successor_and_parent_is_in_the_table():
    """Successor and parent codes point at rows that exist; successors are current."""
    for r in all_regions():
        if r.parent_code:
            assert is_known_region(r.parent_code), r
        if r.successor_code:
            assert not region(r.successor_code).is_historic, r


def test_other_provinces_are_named_by_province():
    """A code outside the detailed table is named by its province and passes through."""
    assert region_name("440524") == "广东省"
    assert current_region_code("440524") == "440524"


@pytest.mark.parametrize("code", ["339999", "990101", "33060", "abcdef"])
def test_unknown_or_malformed_region_raises(code):
    """An unknown Zhejiang code, an unknown province, or a malformed code is UnknownCode."""
    with pytest.raises(UnknownCode):
        current_region_code(code)


def test_unknown_code_is_a_key_error():
    """UnknownCode is also a KeyError, so mapping-style callers can catch it."""
    with pytest.raises(KeyError):
        region("339999")


def test_full_name_path():
    """Full names join province, prefecture and county."""
    assert full_region_name("330603") == "浙江省 绍兴市 柯桥区"


def test_every_uscc_example_region_can_be_named():
    """Each USCC of DOMAIN.md §1 has a region that can at least be named by province."""
    for code in ("91110000600037341L", "914403001922038216", "92340602MA2PBMEM24",
                 "91620105L015101280", "913306217125879893"):  # fmt: skip
        assert region_name(parse_uscc(code).region_code)


# -- industries ---------------------------------------------------------------------------------


def test_all_twenty_sections_and_ninety_seven_divisions():
    """GB/T 4754-2017 has sections A–T and divisions 01–97."""
    sections = [i.code for i in all_industries() if i.level is IndustryLevel.SECTION]
    divisions = [i.code for i in all_industries() if i.level is IndustryLevel.DIVISION]
    assert sections == list("ABCDEFGHIJKLMNOPQRST")
    assert sorted(int(d[1:]) for d in divisions) == list(range(1, 98))


@pytest.mark.parametrize(
    ("code", "section"),
    [("A01", "A"), ("B12", "B"), ("C13", "C"), ("C43", "C"), ("D46", "D"), ("E50", "E"),
     ("F51", "F"), ("G60", "G"), ("I65", "I"), ("K70", "K"), ("S96", "S"), ("T97", "T")],
)  # fmt: skip
def test_division_boundaries_of_sections(code, section):
    """Divisions sit in the right section at each section boundary."""
    assert industry(code).section == section


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("C17", "纺织业"),
        ("C175", "化纤织造及印染精加工"),
        ("C1751", "化纤织造加工"),
        ("C1752", "化纤织物染整精加工"),
        ("C2822", "涤纶纤维制造"),
        ("C3551", "纺织专用设备制造"),
        ("F5131", "纺织品、针织品及原料批发"),
        ("F5132", "服装批发"),
        ("F5133", "鞋帽批发"),
        ("C28", "化学纤维制造业"),
    ],
)
def test_textile_names(code, name):
    """Textile codes and names of DOMAIN.md §4 (F5132 is apparel wholesale, not textiles)."""
    assert industry(code).name == name


@pytest.mark.parametrize(
    "code",
    ["C1711", "C1712", "C1713", "C1741", "C1742", "C1743", "C1761", "C1762", "C1763",
     "C1771", "C1773", "C1779", "C1781", "C1789", "C1811", "C1819", "C183",
     "C2811", "C2812", "C2821", "C2826", "C2829", "C283"],
)  # fmt: skip
def test_textile_classes_present(code):
    """The textile groups and classes listed in DOMAIN.md §4 are in the table."""
    assert is_known_industry(code, any_level=True)


@pytest.mark.parametrize(
    "code",
    ["C13", "C14", "C19", "C21", "C26", "C29", "C33", "C34", "C35", "C38", "C39", "E47", "E48",
     "E49", "F52", "G54", "G58", "G59", "H61", "H62", "I65", "L72", "M74"],
)  # fmt: skip
def test_common_sme_sectors_present(code):
    """The common SME sectors of DOMAIN.md §4 are known divisions."""
    assert industry(code).level is IndustryLevel.DIVISION


@pytest.mark.parametrize(
    ("raw", "code"),
    [("c1752 ", "C1752"), ("C1750", "C175"), ("C1700", "C17"),
     ("Ｃ１７５２", "C1752"), ("C 17 52", "C1752"), ("C1820", "C1820")],
)  # fmt: skip
def test_normalise_industry_code(raw, code):
    """Trim, upper-case, half-width, infer the section, strip group-level zero padding."""
    assert normalise_industry_code(raw) == code


@pytest.mark.parametrize("raw", ["", "X12", "C1", "C17521", "9999", "CC17", "1752"])
def test_malformed_industry_code_raises(raw):
    """Malformed codes raise UnknownCode."""
    with pytest.raises(UnknownCode):
        normalise_industry_code(raw)


def test_section_letter_can_be_added_explicitly():
    """with_section adds the letter from the division: 1752 → C1752, 5131 → F5131."""
    assert with_section("1752") == "C1752"
    assert with_section("5131") == "F5131"
    assert with_section("C1752") == "C1752"


def test_known_means_a_class_unless_any_level():
    """Registrations carry classes: C17 is a node of the tree but not a known class."""
    assert is_known_industry("C1752")
    assert not is_known_industry("C17")
    assert is_known_industry("C17", any_level=True)
    assert not is_known_industry("C1750")  # padded group C175


def test_2011_garment_classes_are_still_known():
    """Pre-2017 registrations carry C1810/C1820, which the 2017 edition split."""
    assert is_known_industry("C1820")
    assert segment("C1820") == "garment"


def test_unknown_well_formed_code_is_not_known():
    """A well-formed code that is not in the table is not known, and industry() raises."""
    assert not is_known_industry("C1799")
    with pytest.raises(UnknownCode):
        industry("C1799")


def test_industry_path():
    """C1752 sits under C, C17 and C175."""
    assert [i.code for i in industry_path("C1752")] == ["C", "C17", "C175", "C1752"]


@pytest.mark.parametrize(
    ("code", "name"),
    [("C2822", "chemical_fibre"), ("C1751", "weaving"), ("C1712", "weaving"),
     ("C1752", "dyeing"), ("C1713", "dyeing"), ("C1762", "dyeing"), ("C1761", "knitting"),
     ("C1811", "garment"), ("F5131", "wholesale"), ("F5132", "wholesale"),
     ("C1773", "home_textile"), ("C3551", "textile_machinery"), ("I6511", "other"),
     ("H62", "other"), ("nonsense", "other")],
)  # fmt: skip
def test_segments(code, name):
    """Cluster segments follow the code (印染 classes are dyeing whatever the fibre)."""
    assert segment(code) == name


def test_textile_cluster_membership():
    """The suggested cluster set: C17, C18, C28, F5131, F5132 and C3551 (DOMAIN.md §4)."""
    assert set(TEXTILE_CLUSTER_PREFIXES) == {"C17", "C18", "C28", "F5131", "F5132", "C3551"}
    assert is_textile_cluster("c1752")
    assert is_textile_cluster("F5132")
    assert not is_textile_cluster("F5133")
    assert not is_textile_cluster("C3552")
    assert not is_textile_cluster("bad")
