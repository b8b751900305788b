"""Obligations (纳税与征信): tax arrears and grade, credit-bureau fields.

Tax of period M is known on the 20th of M+1 and a payment from its ``paid_on``; arrears are what
was due in known periods and not paid by the decision date. The bureau snapshot in force is the
latest reported at least 5 days before the date.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import ibis

from loomcredit.pipeline.features.catalogue import feature
from loomcredit.pipeline.features.pit import Cutoffs, known_by
from loomcredit.pipeline.features.tables import Tables

BUREAU_FIELDS = {
    "bureau_overdue_accounts": (
        "overdue_accounts",
        "当前逾期账户数",
        "Accounts overdue now",
        "count",
    ),
    "bureau_max_dpd_24m": (
        "max_dpd_24m",
        "近24个月最大逾期天数",
        "Max days past due, 24 months",
        "days",
    ),
    "bureau_nonperforming_accounts": (
        "nonperforming_accounts",
        "不良账户数",
        "Non-performing accounts",
        "count",
    ),
    "bureau_inquiries_3m": (
        "inquiries_3m",
        "近3个月查询次数",
        "Credit inquiries, 3 months",
        "count",
    ),
    "bureau_loans_outstanding_fen": (
        "loans_outstanding_fen",
        "他行贷款余额",
        "Loans outstanding at all lenders",
        "fen",
    ),
    "bureau_guarantees_fen": ("guarantees_fen", "对外担保余额", "Guarantees given", "fen"),
}

FEATURES = (
    feature(
        "tax_arrears_fen",
        "欠税金额",
        "Tax due in known periods and unpaid by the date",
        source="tax",
        window="all",
        unit="fen",
    ),
    feature(
        "tax_unpaid_periods_12m",
        "近12个月欠缴期数",
        "Tax periods of the last 12 with an unpaid amount",
        source="tax",
        window="12m",
        unit="count",
    ),
    feature(
        "tax_due_12m_fen",
        "近12个月应纳税额",
        "Tax due, last 12 known periods",
        source="tax",
        window="12m",
        unit="fen",
    ),
    feature(
        "tax_credit_grade",
        "纳税信用等级",
        "Tax credit grade in force (A/B/M/C/D)",
        source="tax",
        window="latest",
        unit="code",
        dtype="string",
        fill=None,
    ),
    *(
        feature(name, zh, en, source="bureau", window="latest", unit=unit, fill=0)
        for name, (_col, zh, en, unit) in BUREAU_FIELDS.items()
    ),
)


def _period(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _tax(tables: Tables, as_of: date) -> Any:
    cut = Cutoffs.at(as_of)
    t = tables.tax
    t = t.filter((t.period <= cut.tax_period) & known_by(t.obtained_on, as_of))
    first_12 = _period(date(int(cut.tax_period[:4]) - 1, int(cut.tax_period[5:]), 1))
    paid = ibis.ifelse(t.paid_on.notnull() & (t.paid_on <= as_of), t.paid_fen.fill_null(0), 0)
    unpaid = ibis.greatest(t.due_fen.fill_null(0) - paid, 0)
    t = t.mutate(unpaid=unpaid, recent=t.period > first_12)
    w = ibis.window(group_by="uscc", order_by=[ibis.desc("period"), "tax_type"])
    graded = t.filter(t.credit_grade.notnull())
    graded = graded.mutate(rank=ibis.row_number().over(w))
    grade = graded.filter(graded.rank == 0).select("uscc", tax_credit_grade=graded.credit_grade)
    agg = t.group_by("uscc").aggregate(
        tax_arrears_fen=t.unpaid.sum().cast("int64"),
        tax_unpaid_periods_12m=t.period.nunique(where=t.recent & (t.unpaid > 0)).cast("int64"),
        tax_due_12m_fen=t.due_fen.sum(where=t.recent).fill_null(0).cast("int64"),
    )
    return agg.left_join(grade, "uscc").drop("uscc_right")


def _bureau(tables: Tables, as_of: date) -> Any:
    b = tables.bureau
    b = b.filter((b.reported_on <= Cutoffs.at(as_of).bureau_day) & known_by(b.obtained_on, as_of))
    w = ibis.window(group_by="uscc", order_by=ibis.desc("reported_on"))
    b = b.mutate(rank=ibis.row_number().over(w))
    b = b.filter(b.rank == 0)
    return b.select(
        "uscc", **{name: b[col].cast("int64") for name, (col, *_rest) in BUREAU_FIELDS.items()}
    )


def compute(tables: Tables, *, as_of: date) -> Any:
    """Tax and bureau features as of ``as_of``.

    Args:
        tables: The integrated tables.
        as_of: The decision date.

    Returns:
        One row per enterprise with tax or bureau rows known by ``as_of``.
    """
    tax = _tax(tables, as_of)
    bureau = _bureau(tables, as_of)
    keys = tax.select("uscc").union(bureau.select("uscc")).distinct()
    out = keys.left_join(tax, "uscc").drop("uscc_right")
    return out.left_join(bureau, "uscc").drop("uscc_right")
