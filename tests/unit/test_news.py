"""Chinese news risk events: lexicon categories, severity, negation before and after a trigger."""

from __future__ import annotations

import pytest

from loomcredit.pipeline.news import classify, extract, load_lexicon, negative_kinds, segment


@pytest.mark.parametrize(
    ("text", "kind", "negated"),
    [
        ("恒达印染因环保处罚被责令整改", "environmental_penalty", False),
        ("永盛化纤全面停产", "production_halt", False),
        ("锦绣服饰拖欠工资，工人讨薪", "wage_arrears", False),
        ("华舍纺织老板失联", "owner_unreachable", False),
        ("恒达服饰被供应商起诉", "lawsuit", False),
        ("永盛化纤被列为失信被执行人", "dishonest", False),
        ("法院对恒达印染强制执行", "enforcement", False),
        ("锦绣纺织申请破产重整", "bankruptcy", False),
        ("永盛化纤新建厂房扩产", "expansion", False),
        ("恒达印染荣获专精特新称号", "award", False),
        ("恒达印染未发生停产", "production_halt", True),
        ("公司并未停工", "production_halt", True),
        ("公司否认存在拖欠工资", "wage_arrears", True),
        ("不存在欠薪情况", "wage_arrears", True),
        ("老板失联传闻不实", "owner_unreachable", True),
        ("恒达印染新项目签约", "expansion", False),
        ("恒达印染新建生产线投产不到一年即全面停产", "production_halt", False),  # severest wins
    ],
)
def test_headline_event_kind_and_negation(text: str, kind: str, negated: bool) -> None:
    """Each category is found; 「未」「否认」「不存在」 before or 「不实」 after negates it."""
    got_kind, got_negated, _severity, _evidence = classify(text, None)
    assert (got_kind, got_negated) == (kind, negated)


def test_negation_does_not_cross_a_clause() -> None:
    """「未」 in one clause does not negate a halt in the next: 未能按期交货，随后停产."""
    events = extract("未能按期交货，随后停产")
    assert [(e.kind, e.negated) for e in events] == [("production_halt", False)]


def test_body_picks_the_most_severe_live_event() -> None:
    """Without a title hit, the body's most severe non-negated event is the item's event."""
    kind, negated, severity, _ = classify("企业动态", "公司新建厂房。近日因拖欠工资被投诉。")
    assert (kind, negated, severity) == ("wage_arrears", False, 3)


def test_neutral_news_has_no_event() -> None:
    """A neutral item yields kind 'none'."""
    assert classify("柯桥轻纺城春季面料展开幕", "展会吸引了众多采购商。")[0] == "none"


def test_triggers_survive_segmentation() -> None:
    """jieba keeps lexicon triggers whole (失信被执行人 is one token)."""
    assert "失信被执行人" in segment("永盛化纤被列为失信被执行人")


def test_lexicon_severities_and_polarity() -> None:
    """Severities are 1–3; expansion and award are positive, the rest negative."""
    lexicon = load_lexicon()
    assert all(1 <= c.severity <= 3 for c in lexicon.categories.values())
    assert {"expansion", "award"}.isdisjoint(negative_kinds())
    assert {"production_halt", "wage_arrears", "owner_unreachable"} <= negative_kinds()
