"""Entity resolution: company names, abbreviations and variants to USCCs, ambiguity to none."""

from __future__ import annotations

import pytest

from loomcredit.pipeline.entity import EntityResolver, name_forms, precision_recall

REGISTRY = [
    ("U1", "绍兴柯桥恒达纺织印染有限公司"),
    ("U2", "浙江恒达服饰有限公司"),
    ("U3", "绍兴县永盛化纤有限公司"),
    ("U3", "绍兴柯桥永盛化纤有限公司"),  # renamed when 绍兴县 became 柯桥区
    ("U4", "绍兴华舍纺织有限公司"),
    ("U5", "绍兴锦绣纺织品有限公司"),
    ("U6", "绍兴柯桥锦绣印染有限公司"),
]


@pytest.fixture(scope="module")
def resolver() -> EntityResolver:
    return EntityResolver(REGISTRY)


@pytest.mark.parametrize(
    ("name", "uscc"),
    [
        ("绍兴柯桥恒达纺织印染有限公司", "U1"),  # full name
        ("恒达纺织印染有限公司", "U1"),  # region prefix dropped
        ("柯桥恒达纺织印染", "U1"),  # legal form dropped
        ("恒达印染", "U1"),  # brand + last trade word
        ("恒达纺织", "U1"),  # brand + first trade word
        ("恒达服饰", "U2"),
        ("恒达服饰有限责任公司", "U2"),  # another legal form
        ("绍兴恒达服饰（有限公司）", "U2"),  # parenthesised part
        ("永盛化纤", "U3"),
        ("绍兴县永盛化纤有限公司", "U3"),  # the old name
        ("永盛", "U3"),  # a core name used by one firm only
        ("华舍纺织", "U4"),  # a township word that is the firm's brand
        ("锦绣印染", "U6"),
        ("ＡＢＣ", None),
    ],
)
def test_names_resolve_to_their_enterprise(
    resolver: EntityResolver, name: str, uscc: str | None
) -> None:
    """Full names, prefix/suffix variants and trade-word abbreviations resolve to the right USCC."""
    assert resolver.resolve(name) == uscc


def test_alias_shared_by_two_firms_resolves_to_none(resolver: EntityResolver) -> None:
    """「恒达」 is U1 and U2, 「锦绣」 U5 and U6: ambiguous names resolve to nothing."""
    assert resolver.is_ambiguous("恒达")
    assert resolver.resolve("恒达") is None
    assert resolver.resolve("柯桥锦绣") is None


def test_outside_firm_with_same_brand_is_not_linked(resolver: EntityResolver) -> None:
    """A 广州 firm sharing a brand with a cluster firm is not linked to it (no local prefix)."""
    assert resolver.resolve("广州恒达服饰有限公司") is None


def test_aliases_exclude_ambiguous_forms(resolver: EntityResolver) -> None:
    """An enterprise's aliases never include a form another enterprise shares."""
    aliases = resolver.aliases("U1")
    assert "恒达印染" in aliases
    assert "恒达" not in aliases


def test_forms_go_from_specific_to_general() -> None:
    """Name forms start with the full name and end with the bare core."""
    forms = name_forms("绍兴柯桥恒达纺织印染有限公司")
    assert forms[0] == "绍兴柯桥恒达纺织印染有限公司"
    assert forms[-1] == "恒达"


def test_precision_recall_counts_by_hand() -> None:
    """3 links made, 2 right, 4 labelled enterprises: precision 2/3, recall 2/4."""
    predicted = {"a": "U1", "b": "U2", "c": "U9", "d": None, "e": None}
    truth = {"a": "U1", "b": "U2", "c": "U3", "d": "U4", "e": None}
    got = precision_recall(predicted, truth)
    assert got["precision"] == pytest.approx(2 / 3)
    assert got["recall"] == pytest.approx(2 / 4)


def test_a_name_resolves_with_the_names_known_on_the_day() -> None:
    """恒达 links to U1 while U1 is the only 恒达 known; once 恒达服饰 (U2) is known too, the bare
    core 恒达 is ambiguous — and before U1 was known, it links to nothing."""
    from datetime import date

    dated = EntityResolver(
        [
            ("U1", "绍兴柯桥恒达纺织印染有限公司", date(2024, 1, 10)),
            ("U2", "浙江恒达服饰有限公司", date(2024, 6, 1)),
        ]
    )
    assert dated.resolve("恒达", on=date(2024, 1, 9)) is None
    assert dated.resolve("恒达", on=date(2024, 1, 10)) == "U1"
    assert dated.resolve("恒达", on=date(2024, 6, 1)) is None
    assert dated.resolve("恒达") is None  # every name known
    assert dated.spans("恒达") == [(date(2024, 1, 10), date(2024, 6, 1), "U1")]
    # before U2 was known, 恒达服饰 falls back to its core 恒达, then U1's only
    assert dated.spans("恒达服饰") == [
        (date(2024, 1, 10), date(2024, 6, 1), "U1"),
        (date(2024, 6, 1), None, "U2"),
    ]
