"""Identity codes: the unified social credit code (统一社会信用代码, GB 32100-2015) and the
resident identity number (公民身份号码, GB 11643-1999). See DOMAIN.md §1–§2.

Validation returns a value describing the code or raises :class:`InvalidCode` whose ``reason`` says
exactly what is wrong. Generators build valid codes for a region (the simulator uses them).

>>> parse_uscc(" 91330621712587989３ ").region_code   # full-width digit, historic 绍兴县
'330621'
>>> check_char_uscc("91350211M0000XUF4")
'R'
>>> mask_resident_id("11010519491231002X")
'110***********002X'
"""

from __future__ import annotations

import hashlib
import hmac
import random
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from enum import Enum

from loomcredit.domain.errors import InvalidCode

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {ch: i for i, ch in enumerate(USCC_CHARSET)}
USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
ID_CHECK = "10X98765432"
_EARLIEST_BIRTH_YEAR = 1850  # a birth date before this is a typing error, not a person
_ORG_CHARSET = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")  # GB 11714 Appendix A

# Legacy codes verified against the registry that fail the mod-31 check (DOMAIN.md §1): they are
# routed to manual review rather than declined.
LEGACY_USCC_ALLOW_LIST = frozenset(
    {"91350211M0000XUF46", "91350100M0001TGQXM", "91350203M0001FUE2P"}
)


class EntityType(Enum):
    """Entity type from positions 1–2 of a USCC."""

    ENTERPRISE = "enterprise"  # 91 企业
    SOLE_PROPRIETOR = "sole_proprietor"  # 92 个体工商户
    COOPERATIVE = "cooperative"  # 93 农民专业合作社
    OTHER = "other"

    @property
    def label_zh(self) -> str:
        """Chinese label."""
        return {
            "enterprise": "企业",
            "sole_proprietor": "个体工商户",
            "cooperative": "农民专业合作社",
            "other": "其他机构",
        }[self.value]


_ENTITY_BY_PREFIX = {
    "91": EntityType.ENTERPRISE,
    "92": EntityType.SOLE_PROPRIETOR,
    "93": EntityType.COOPERATIVE,
}


def normalise_code(raw: str) -> str:
    """Trim, convert full-width to half-width (NFKC) and upper-case an identity code."""
    if not isinstance(raw, str):
        raise InvalidCode(str(raw), "a code must be text")
    text = unicodedata.normalize("NFKC", raw)
    return "".join(text.split()).upper()


def check_char_uscc(first17: str) -> str:
    """The mod-31 check character (position 18) for the first 17 characters of a USCC."""
    if len(first17) != 17 or any(ch not in _USCC_VALUE for ch in first17):
        raise InvalidCode(first17, "need 17 characters from the USCC character set")
    total = sum(_USCC_VALUE[ch] * w for ch, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def _org_value(ch: str) -> int:
    # GB 11714 Appendix A: 0–9 then A–Z = 10–35 with no letters skipped.
    return int(ch) if ch.isdigit() else ord(ch) - ord("A") + 10


def check_char_org(body8: str) -> str:
    """The GB 11714 mod-11 check character for an 8-character organisation-code body."""
    if len(body8) != 8 or any(ch not in _ORG_CHARSET for ch in body8):
        raise InvalidCode(body8, "an organisation-code body has 8 digits or upper-case letters")
    c9 = 11 - sum(_org_value(ch) * w for ch, w in zip(body8, ORG_WEIGHTS, strict=True)) % 11
    return "X" if c9 == 10 else "0" if c9 == 11 else str(c9)


@dataclass(frozen=True)
class Uscc:
    """A validated unified social credit code and what it says."""

    code: str
    entity_type: EntityType
    region_code: str  # positions 3–8 as issued (may be a historic code)
    org_code: str  # positions 9–17, the embedded GB 11714 organisation code
    warnings: tuple[str, ...] = field(default=())
    legacy: bool = False  # on the allow-list of verified legacy codes: refer, do not decline

    @property
    def authority(self) -> str:
        """Registration authority code (position 1; 9 = 市场监管)."""
        return self.code[0]


def parse_uscc(raw: str, *, allow_legacy: bool = True) -> Uscc:
    """Validate a USCC and describe it; raises :class:`InvalidCode` with the exact reason.

    A failed position-17 organisation-code check is a warning, not a failure. A failed
    position-18 check is a failure unless the code is a verified legacy code (``legacy=True``).
    """
    code = normalise_code(raw)
    if len(code) != 18:
        raise InvalidCode(code, f"a USCC has 18 characters, this has {len(code)}")
    bad = sorted({ch for ch in code if ch not in _USCC_VALUE})
    if bad:
        raise InvalidCode(
            code, f"characters {''.join(bad)!r} are not in the USCC set (no I, O, Z, S, V)"
        )
    if not code[2:8].isdigit():
        raise InvalidCode(code, "positions 3–8 must be a 6-digit region code")
    expected = check_char_uscc(code[:17])
    legacy = False
    if code[17] != expected:
        if not (allow_legacy and code in LEGACY_USCC_ALLOW_LIST):
            raise InvalidCode(
                code, f"check character is {code[17]!r} but should be {expected!r} (mod 31)"
            )
        legacy = True
    warnings: list[str] = []
    if check_char_org(code[8:16]) != code[16]:
        warnings.append(
            f"embedded organisation code {code[8:17]} fails its mod-11 check "
            f"(expected {check_char_org(code[8:16])!r})"
        )
    return Uscc(
        code=code,
        entity_type=_ENTITY_BY_PREFIX.get(code[:2], EntityType.OTHER),
        region_code=code[2:8],
        org_code=code[8:17],
        warnings=tuple(warnings),
        legacy=legacy,
    )


def is_valid_uscc(raw: str) -> bool:
    """True when the code passes the mod-31 check (legacy allow-list codes count as valid)."""
    try:
        parse_uscc(raw)
    except InvalidCode:
        return False
    return True


_ORG_BODY_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def generate_uscc(
    region_code: str, rng: random.Random, *, prefix: str = "91", body: str | None = None
) -> str:
    """A valid USCC in ``region_code`` (both checks pass); ``prefix`` 91/92/93 sets the type.

    ``body`` (8 characters) fixes the organisation-code body; otherwise it is drawn from ``rng``.
    The body uses characters valid in both character sets, so the result is always a legal USCC.
    """
    if len(region_code) != 6 or not region_code.isdigit():
        raise InvalidCode(region_code, "a region code has 6 digits")
    while True:
        org_body = body or "".join(rng.choice(_ORG_BODY_CHARS) for _ in range(8))
        org_check = check_char_org(org_body)
        if org_check in _USCC_VALUE:  # 'X' is fine; retry only if a future table excludes it
            break
    first17 = f"{prefix}{region_code}{org_body}{org_check}"
    return first17 + check_char_uscc(first17)


# -- resident identity number -------------------------------------------------------------------


class Sex(Enum):
    """Sex encoded by the parity of the sequence code."""

    MALE = "male"
    FEMALE = "female"


@dataclass(frozen=True)
class ResidentId:
    """A validated 18-character resident identity number."""

    number: str
    address_code: str
    birth_date: date
    sex: Sex
    upgraded_from_15: bool = False

    def age_on(self, on: date) -> int:
        """Age in whole years on a date (time comes in as an argument)."""
        years = on.year - self.birth_date.year
        if (on.month, on.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years

    @property
    def masked(self) -> str:
        """First 3 + last 4 visible (DOMAIN.md §2)."""
        return mask_resident_id(self.number)


def check_char_resident_id(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character for the first 17 digits."""
    if len(first17) != 17 or not first17.isdigit():
        raise InvalidCode(first17, "need 17 digits")
    remainder = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True)) % 11
    return ID_CHECK[remainder]


def upgrade_15_to_18(number15: str) -> str:
    """Upgrade a legacy 15-digit number (GB 11643-1989): insert '19' and add the check."""
    code = normalise_code(number15)
    if len(code) != 15 or not code.isdigit():
        raise InvalidCode(code, "a legacy resident ID has 15 digits")
    first17 = code[:6] + "19" + code[6:]
    return first17 + check_char_resident_id(first17)


def parse_resident_id(raw: str, *, on: date | None = None) -> ResidentId:
    """Validate a resident ID (18 characters, or 15 to be upgraded) and describe it.

    ``on`` is the date to check the birth date against (a birth date after it is invalid);
    time comes in as an argument, never from the clock.
    """
    code = normalise_code(raw)
    upgraded = False
    if len(code) == 15:
        code = upgrade_15_to_18(code)
        upgraded = True
    if len(code) != 18:
        raise InvalidCode(code, f"a resident ID has 18 characters, this has {len(code)}")
    if not code.isascii() or not code[:17].isdigit() or not (code[17].isdigit() or code[17] == "X"):
        raise InvalidCode(code, "a resident ID is 17 digits then a digit or X")
    try:
        born = date(int(code[6:10]), int(code[10:12]), int(code[12:14]))
    except ValueError as exc:
        raise InvalidCode(code, f"birth date {code[6:14]} is not a real date") from exc
    if born.year < _EARLIEST_BIRTH_YEAR:
        raise InvalidCode(code, f"birth year {born.year} is before {_EARLIEST_BIRTH_YEAR}")
    if on is not None and born > on:
        raise InvalidCode(code, f"birth date {born.isoformat()} is after {on.isoformat()}")
    expected = check_char_resident_id(code[:17])
    if code[17] != expected:
        raise InvalidCode(
            code, f"check character is {code[17]!r} but should be {expected!r} (MOD 11-2)"
        )
    sex = Sex.MALE if int(code[16]) % 2 == 1 else Sex.FEMALE
    return ResidentId(code, code[:6], born, sex, upgraded)


def generate_resident_id(
    address_code: str, birth_date: date, rng: random.Random, *, sex: Sex | None = None
) -> str:
    """A valid synthetic resident ID for an address code and birth date."""
    seq = rng.randrange(0, 1000)
    if sex is not None and (seq % 2 == 1) != (sex is Sex.MALE):
        seq = (seq + 1) % 1000
    first17 = f"{address_code}{birth_date:%Y%m%d}{seq:03d}"
    return first17 + check_char_resident_id(first17)


def mask_resident_id(number: str) -> str:
    """Mask for display and logs: first 3 and last 4 visible, the rest as '*'."""
    code = normalise_code(number)
    if len(code) <= 7:
        return "*" * len(code)
    return code[:3] + "*" * (len(code) - 7) + code[-4:]


def keyed_hash(value: str, key: bytes) -> str:
    """HMAC-SHA256 of a normalised identifier, hex: a stable join key that hides the value."""
    if len(key) < 16:
        raise ValueError("The hashing key must be at least 16 bytes.")
    return hmac.new(key, normalise_code(value).encode(), hashlib.sha256).hexdigest()
