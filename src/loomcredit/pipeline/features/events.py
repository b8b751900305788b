"""Events (司法与舆情): court cases by type and window, open enforcement, 失信, negative news.

Court cases are known 7 days after ``filed_on`` (one row per case and party, so rows count
cases); a case counts as open until its ``closed_on`` is
known (also 7 days late). Negative news comes from ``risk_events`` with ``source = 'news'``
and a negative category (extracted at ingest), known the day it is published, by category and
severity.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from loomcredit.pipeline.features.catalogue import FeatureDef, feature
from loomcredit.pipeline.features.pit import Cutoffs, known_by, shift_months
from loomcredit.pipeline.features.tables import Tables

CASE_TYPES = {
    "contract_dispute": ("合同纠纷", "contract disputes"),
    "labour": ("劳动争议", "labour disputes"),
    "enforcement": ("被执行", "enforcement (被执行)"),
    "dishonest": ("失信被执行", "dishonest-debtor listings (失信)"),
    "equity_freeze": ("股权冻结", "equity freezes"),
}
WINDOWS = (3, 12, 24)
# Negative news categories of the ingest lexicon (pipeline/data/risk_lexicon.yaml, polarity
# negative); positive ones (expansion, award) are not warning signs and are not counted.
NEWS_KINDS = {
    "environmental_penalty": ("环保处罚", "environmental penalties"),
    "production_halt": ("停产", "production halted"),
    "wage_arrears": ("欠薪", "unpaid wages"),
    "owner_unreachable": ("老板失联", "owner unreachable (跑路)"),
    "lawsuit": ("诉讼", "lawsuits"),
    "enforcement": ("被执行", "court enforcement"),
    "dishonest": ("失信", "dishonest-debtor listing"),
    "bankruptcy": ("破产", "bankruptcy"),
}
HIGH_SEVERITY = 3


def _defs() -> tuple[FeatureDef, ...]:
    out = [
        feature(
            f"judicial_{kind}_{w}m",
            f"近{w}个月{zh}案件数",
            f"Court cases: {en}, last {w} months",
            source="judicial",
            window=f"{w}m",
            unit="count",
        )
        for kind, (zh, en) in CASE_TYPES.items()
        for w in WINDOWS
    ]
    out += [
        feature(
            "judicial_enforcement_open",
            "未结被执行案件数",
            "Open enforcement cases",
            source="judicial",
            window="all",
            unit="count",
        ),
        feature(
            "judicial_dishonest",
            "失信被执行人（当前）",
            "1 if on the dishonest-debtor list (an open 失信 case)",
            source="judicial",
            window="all",
            unit="flag",
        ),
        feature(
            "judicial_defendant_amount_24m_fen",
            "近24个月被诉标的额",
            "Claimed amounts in cases as defendant or respondent, 24 months",
            source="judicial",
            window="24m",
            unit="fen",
        ),
        feature(
            "news_negative_3m",
            "近3个月负面舆情数",
            "Negative news items, last 3 months",
            source="news",
            window="3m",
            unit="count",
        ),
        feature(
            "news_negative_12m",
            "近12个月负面舆情数",
            "Negative news items, last 12 months",
            source="news",
            window="12m",
            unit="count",
        ),
        feature(
            "news_severe_12m",
            "近12个月高危舆情数",
            "Severe (severity 3) negative news, 12 months",
            source="news",
            window="12m",
            unit="count",
        ),
    ]
    out += [
        feature(
            f"news_{kind}_12m",
            f"近12个月舆情：{zh}",
            f"Negative news: {en}, 12 months",
            source="news",
            window="12m",
            unit="count",
        )
        for kind, (zh, en) in NEWS_KINDS.items()
    ]
    return tuple(out)


FEATURES = _defs()


def _judicial(tables: Tables, as_of: date) -> Any:
    known = Cutoffs.at(as_of).judicial_day
    j = tables.judicial
    j = j.filter((j.filed_on <= known) & known_by(j.obtained_on, as_of))
    j = j.mutate(
        is_open=j.closed_on.isnull() | (j.closed_on > known),
        **{f"in_{w}m": j.filed_on > shift_months(as_of, -w) for w in WINDOWS},
    )
    is_open = j.is_open
    since = {w: j[f"in_{w}m"] for w in WINDOWS}
    metrics = {
        f"judicial_{kind}_{w}m": j.count(where=(j.case_type == kind) & since[w])
        for kind in CASE_TYPES
        for w in WINDOWS
    }
    agg = j.group_by("uscc").aggregate(
        **metrics,
        judicial_enforcement_open=j.count(where=(j.case_type == "enforcement") & is_open),
        dishonest_open=j.count(where=(j.case_type == "dishonest") & is_open),
        judicial_defendant_amount_24m_fen=j.amount_fen.sum(
            where=j.role.isin(["defendant", "respondent"]) & since[24]
        ),
    )
    return agg.mutate(
        judicial_dishonest=(agg.dishonest_open > 0).cast("int64"),
        judicial_defendant_amount_24m_fen=agg.judicial_defendant_amount_24m_fen.fill_null(0).cast(
            "int64"
        ),
    ).drop("dishonest_open")


def _news(tables: Tables, as_of: date) -> Any:
    e = tables.risk_events
    e = e.filter(
        (e.source == "news")
        & e.kind.isin(list(NEWS_KINDS))
        & (e.occurred_on <= Cutoffs.at(as_of).news_day)
        & known_by(e.known_on, as_of)
    )
    in12 = e.occurred_on > shift_months(as_of, -12)
    e = e.filter(in12)
    return e.group_by("uscc").aggregate(
        news_negative_3m=e.count(where=e.occurred_on > shift_months(as_of, -3)),
        news_negative_12m=e.count(),
        news_severe_12m=e.count(where=e.severity >= HIGH_SEVERITY),
        **{f"news_{kind}_12m": e.count(where=e.kind == kind) for kind in NEWS_KINDS},
    )


def compute(tables: Tables, *, as_of: date) -> Any:
    """Judicial and news features as of ``as_of``.

    Args:
        tables: The integrated tables.
        as_of: The decision date.

    Returns:
        One row per enterprise with court cases or news known by ``as_of``.
    """
    jud = _judicial(tables, as_of)
    news = _news(tables, as_of)
    keys = jud.select("uscc").union(news.select("uscc")).distinct()
    out = keys.left_join(jud, "uscc").drop("uscc_right")
    out = out.left_join(news, "uscc").drop("uscc_right")
    counts = [f.name for f in FEATURES]
    return out.mutate(**{c: out[c].fill_null(0).cast("int64") for c in counts})
