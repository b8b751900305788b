"""Identity codes (DOMAIN.md §1–§2): every published example, normalisation, and each failure."""

from __future__ import annotations

import hashlib
import hmac
import random
from datetime import date

import pytest

from loomcredit.domain.errors import InvalidCode
from loomcredit.domain.identity import (
    ID_WEIGHTS,
    LEGACY_USCC_ALLOW_LIST,
    USCC_WEIGHTS,
    EntityType,
    Sex,
    check_char_org,
    check_char_uscc,
    generate_resident_id,
    generate_uscc,
    is_valid_uscc,
    keyed_hash,
    mask_resident_id,
    parse_resident_id,
    parse_uscc,
    upgrade_15_to_18,
)

# Independent reference implementations, written from the text of DOMAIN.md §1–§2.
_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_W31 = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_W11 = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def ref_uscc_check(first17: str) -> str:
    c = 31 - sum(_CHARS.index(ch) * w for ch, w in zip(first17, _W31, strict=True)) % 31
    return "0" if c == 31 else _CHARS[c]


def ref_id_check(first17: str) -> str:
    r = sum(int(d) * w for d, w in zip(first17, _W11, strict=True)) % 11
    return "10X98765432"[r]


VALID_USCC = [
    "91110000600037341L",
    "91310110666007217T",
    "91310000MA1K35Y38P",
    "914403001922038216",
    "92340602MA2PBMEM24",
    "91620105L015101280",
    "91330604609674830U",
    "91330681307582121Y",
    "913306217125879893",
]
LEGACY = {"91350211M0000XUF46": "R", "91350100M0001TGQXM": "1", "91350203M0001FUE2P": "J"}


def test_uscc_weights_are_powers_of_three_mod_31():
    """The position weights are 1, 3, 9, 27, 19, … 28 as DOMAIN.md §1 lists them."""
    assert USCC_WEIGHTS == _W31


def test_resident_id_weights_match_the_standard():
    """Resident ID weights are 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2."""
    assert ID_WEIGHTS == _W11


@pytest.mark.parametrize("code", VALID_USCC)
def test_published_uscc_examples_are_valid(code):
    """Every verified example code of DOMAIN.md §1 passes both checks without warnings."""
    parsed = parse_uscc(code)
    assert parsed.code == code
    assert not parsed.legacy
    assert parsed.warnings == ()


@pytest.mark.parametrize(("code", "expected"), LEGACY.items())
def test_legacy_fujian_codes_fail_the_check_with_the_published_character(code, expected):
    """The three legacy Fujian codes fail mod 31; the check gives R, 1 and J."""
    assert check_char_uscc(code[:17]) == expected
    with pytest.raises(InvalidCode, match=f"should be '{expected}'"):
        parse_uscc(code, allow_legacy=False)


@pytest.mark.parametrize("code", sorted(LEGACY))
def test_legacy_codes_on_the_allow_list_are_flagged_for_review(code):
    """A verified legacy code is accepted only as legacy (manual review), never as plain valid."""
    assert code in LEGACY_USCC_ALLOW_LIST
    assert parse_uscc(code).legacy is True


def test_legacy_look_alike_not_on_the_allow_list_fails():
    """A code with a wrong check that is not on the allow-list is refused."""
    code = "91350211M0000XUF4" + "7"
    assert not is_valid_uscc(code)


@pytest.mark.parametrize(
    ("prefix", "kind"),
    [
        ("91", EntityType.ENTERPRISE),
        ("92", EntityType.SOLE_PROPRIETOR),
        ("93", EntityType.COOPERATIVE),
        ("Y1", EntityType.OTHER),
    ],
)
def test_entity_type_comes_from_positions_one_and_two(prefix, kind):
    """91 enterprise, 92 个体工商户, 93 cooperative; letters are allowed in positions 1–2."""
    first17 = prefix + "330603" + "MA2D3X1P" + "0"
    code = first17 + ref_uscc_check(first17)
    assert parse_uscc(code).entity_type is kind


def test_historic_region_is_kept_as_issued():
    """913306217125879893 keeps region 330621 (the former 绍兴县) as issued."""
    assert parse_uscc("913306217125879893").region_code == "330621"


def test_full_width_spaces_and_lower_case_are_normalised():
    """Full-width characters, spaces and lower case are normalised before checking."""
    raw = " ９１３１０１１０ ６６６００７２１７ｔ "
    assert parse_uscc(raw).code == "91310110666007217T"


def test_wrong_check_character_fails_with_the_expected_one():
    """A mistyped check character fails and the message names the right one."""
    with pytest.raises(InvalidCode, match="should be 'U'"):
        parse_uscc("91330604609674830X")


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("9133060460967483", "18 characters"),
        ("91330604609674830UU", "18 characters"),
        ("9133060460967483OU", "not in the USCC set"),
        ("91330604609674I30U", "not in the USCC set"),
        ("91A30604609674830U", "positions 3–8"),
        ("", "18 characters"),
    ],
)
def test_malformed_uscc_says_why(code, fragment):
    """Wrong length, a forbidden letter (I, O, Z, S, V) or a non-digit region is a clear failure."""
    with pytest.raises(InvalidCode) as info:
        parse_uscc(code)
    assert fragment in info.value.reason


def test_org_code_mismatch_is_a_warning_not_a_failure():
    """A failed position-17 organisation-code check warns but does not reject."""
    first17 = "9133060460967483" + "1"  # the real org check character is 0
    code = first17 + ref_uscc_check(first17)
    parsed = parse_uscc(code)
    assert len(parsed.warnings) == 1
    assert "'0'" in parsed.warnings[0]


@pytest.mark.parametrize(
    ("body", "check"),
    [("60967483", "0"), ("71258798", "9"), ("D2143569", "X"), ("00000000", "0")],
)
def test_org_check_character_examples(body, check):
    """GB 11714 mod 11 with A=10…Z=35; 10 → X, 11 → 0 (hand-checked)."""
    assert check_char_org(body) == check


def test_org_check_refuses_cjk_and_lower_case():
    """Only digits and upper-case Latin letters can be in an organisation-code body."""
    for body in ("一二三四五六七八", "d2143569"):
        with pytest.raises(InvalidCode):
            check_char_org(body)


@pytest.mark.parametrize("seed", range(20))
def test_generated_uscc_pass_both_checks(seed):
    """Generated codes for a region pass mod 31 and mod 11 and carry the region and type."""
    rng = random.Random(seed)
    code = generate_uscc("330603", rng, prefix="92")
    assert ref_uscc_check(code[:17]) == code[17]
    parsed = parse_uscc(code)
    assert (parsed.region_code, parsed.entity_type, parsed.warnings) == (
        "330603",
        EntityType.SOLE_PROPRIETOR,
        (),
    )


# -- resident identity number ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "born", "sex"),
    [
        ("11010519491231002X", date(1949, 12, 31), Sex.FEMALE),
        ("440524188001010014", date(1880, 1, 1), Sex.MALE),
        ("360426199101010071", date(1991, 1, 1), Sex.MALE),
    ],
)
def test_standard_resident_id_examples(number, born, sex):
    """The GB 11643 appendix examples and the python-stdnum example validate."""
    parsed = parse_resident_id(number)
    assert (parsed.number, parsed.birth_date, parsed.sex) == (number, born, sex)
    assert parsed.address_code == number[:6]


def test_lower_case_x_is_accepted_and_stored_upper_case():
    """A lower-case x check character is accepted and stored as X."""
    assert parse_resident_id("11010519491231002x").number == "11010519491231002X"


def test_fifteen_digit_number_is_upgraded():
    """110105491231002 becomes 11010519491231002X (insert 19, add the MOD 11-2 check)."""
    assert upgrade_15_to_18("110105491231002") == "11010519491231002X"
    parsed = parse_resident_id("110105491231002")
    assert parsed.upgraded_from_15
    assert parsed.number == "11010519491231002X"


@pytest.mark.parametrize("body", ["11010519490230001", "11010519491301001", "11010519490000001"])
def test_birth_date_must_be_a_real_date(body):
    """30 February, month 13 and day 0 are refused even with a correct check character."""
    with pytest.raises(InvalidCode, match="not a real date"):
        parse_resident_id(body + ref_id_check(body))


def test_birth_date_after_the_check_date_is_refused():
    """A birth date after the as-of date is refused."""
    body = "33060320300101001"
    with pytest.raises(InvalidCode, match="after"):
        parse_resident_id(body + ref_id_check(body), on=date(2026, 11, 28))


def test_implausibly_old_birth_year_is_refused():
    """Year 0001 is a real date but not a person's birth date."""
    body = "33060300010101001"
    with pytest.raises(InvalidCode, match="before"):
        parse_resident_id(body + ref_id_check(body))


def test_wrong_resident_id_check_fails_with_expected():
    """A wrong check character fails and names the right one."""
    with pytest.raises(InvalidCode, match="should be 'X'"):
        parse_resident_id("110105194912310021")


@pytest.mark.parametrize("number", ["1101051949123100", "11010519491231002Y", "٣3060319800101001X"])
def test_malformed_resident_id_fails(number):
    """Wrong length, a bad check symbol or non-ASCII digits fail."""
    with pytest.raises(InvalidCode):
        parse_resident_id(number)


def test_generated_resident_ids_are_valid_and_respect_sex():
    """Generated IDs pass the check and carry the asked birth date and sex."""
    rng = random.Random(7)
    for k in range(40):
        sex = Sex.MALE if k % 2 else Sex.FEMALE
        number = generate_resident_id("330603", date(1975, 6, 15), rng, sex=sex)
        assert ref_id_check(number[:17]) == number[17]
        parsed = parse_resident_id(number)
        assert (parsed.birth_date, parsed.sex) == (date(1975, 6, 15), sex)


def test_masking_keeps_first_three_and_last_four():
    """Masks show the first 3 and last 4 characters only."""
    assert mask_resident_id("11010519491231002X") == "110***********002X"
    assert mask_resident_id("11010519491231002x") == "110***********002X"
    assert parse_resident_id("360426199101010071").masked == "360***********0071"


def test_age_on_a_date():
    """Age in whole years counts the birthday itself."""
    parsed = parse_resident_id("11010519491231002X")
    assert parsed.age_on(date(2026, 12, 30)) == 76
    assert parsed.age_on(date(2026, 12, 31)) == 77


def test_keyed_hash_is_hmac_sha256_of_the_normalised_value():
    """The join key is HMAC-SHA256 over the normalised number; formatting does not change it."""
    key = b"k" * 32
    expected = hmac.new(key, b"11010519491231002X", hashlib.sha256).hexdigest()
    assert keyed_hash("11010519491231002X", key) == expected
    assert keyed_hash(" 11010519491231002x ", key) == expected


def test_keyed_hash_depends_on_the_key_and_refuses_short_keys():
    """A different key gives a different hash; keys under 16 bytes are refused."""
    assert keyed_hash("11010519491231002X", b"a" * 16) != keyed_hash(
        "11010519491231002X", b"b" * 16
    )
    with pytest.raises(ValueError, match="16 bytes"):
        keyed_hash("11010519491231002X", b"short")
