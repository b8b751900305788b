"""A tiny integrated zone with hand-computed answers, for the feature tests (see ANSWERS).

Decision date ``AS_OF = 2025-06-30``. Under the agreed lags the last known months are: sales
2025-05 (published 15 June), tax period 2025-05 (20 June), utilities 2025-04 (10 June), market
2025-05 (5 June). Every table also holds rows dated after ``AS_OF`` (and some that only become
known after it) so the point-in-time test has something to ignore. And A's consent lapsed in
spring 2025 and was renewed on ``RENEWED`` (after ``AS_OF``): rows dated before ``AS_OF`` but
obtained only with the renewal (a bank flow, a sales partial, an edge-month, a tax row, a bureau
report) must not count either.

Firms: A (dyer, historic region code, growing 20 % year on year, owed tax, court and news events),
B (steady seasonal weaver with exactly the pattern P, 36+ months), C (young, gaps, 失信),
D (established after AS_OF: not in the population).
"""

from __future__ import annotations

from datetime import date

import pyarrow as pa

from loomcredit.pipeline.features.tables import NEEDED, schema_of

AS_OF = date(2025, 6, 30)
A, B, C, D, X, Y, Z = (
    "91330603MA2A000001", "91330603MA2B000002", "91330603MA2C000003", "91330603MA2D000004",
    "91330603MA2X000005", "91330603MA2Y000006", "91330603MA2Z000007",
)  # fmt: skip
RENEWED = date(2025, 7, 20)  # A's consent renewal: the lapse's rows are obtained on this day
# Month-of-year sales pattern (Jan..Dec), sum 115.
P = (7, 7, 10, 10, 10, 11, 9, 9, 12, 12, 10, 8)


def months(start: date, end: date) -> list[date]:
    """First days of every month from ``start`` to ``end`` inclusive."""
    out, y, m = [], start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append(date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _activity_row(uscc: str, month: date, sales: int, **extra: object) -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(NEEDED["monthly_activity"])
    row.update(uscc=uscc, month=month, sales_fen=sales, purchases_fen=sales // 2,
               invoices_issued=10, invoices_void=0, invoices_red=0)  # fmt: skip
    row.update(extra)
    return row


def _activity() -> list[dict[str, object]]:
    rows = []
    for mo in months(date(2021, 1, 1), date(2025, 8, 1)):
        scale = 120_000 if mo >= date(2025, 1, 1) else 100_000
        kwh = 20_000 if mo == date(2024, 9, 1) else (8_000 if mo >= date(2025, 1, 1) else 10_000)
        head = 40 if mo >= date(2025, 4, 1) else 50
        extra = {"kwh": kwh, "steam_t": 100.0, "headcount": head}
        if mo == date(2025, 5, 1):
            extra |= {"invoices_void": 2, "invoices_red": 1}
        rows.append(_activity_row(A, mo, P[mo.month - 1] * scale, **extra))
    # May invoices of A issued in the lapse: obtained with the renewal, a partial of their own
    rows.append(_activity_row(A, date(2025, 5, 1), 4_444_444, invoices_issued=4,
                              known_on=RENEWED))  # fmt: skip
    for mo in months(date(2021, 6, 1), date(2025, 8, 1)):
        rows.append(_activity_row(B, mo, P[mo.month - 1] * 100_000, kwh=5_000, headcount=20))
    for mo in months(date(2024, 10, 1), date(2025, 8, 1)):
        if mo not in (date(2025, 2, 1), date(2025, 3, 1)):
            rows.append(_activity_row(C, mo, 50_000))
    rows.append(_activity_row(D, date(2025, 8, 1), 70_000))
    return rows


def _edges() -> list[dict[str, object]]:
    def e(seller: str, buyer: str, mo: date, amount: int) -> dict[str, object]:
        return {"seller_uscc": seller, "buyer_uscc": buyer, "month": mo, "amount_fen": amount,
                "seller_consented": True, "buyer_consented": True}  # fmt: skip

    jan25, jan24 = date(2025, 1, 1), date(2024, 1, 1)
    return [
        e(A, B, jan25, 600_000), e(A, C, jan25, 300_000), e(A, X, jan25, 100_000),
        e(A, B, jan24, 500_000), e(A, Y, jan24, 400_000), e(A, Z, jan24, 300_000),
        e(B, A, date(2025, 3, 1), 200_000),
        e(A, D, date(2025, 6, 1), 9_000_000),  # known on 15 July: after AS_OF
        # an April edge-month to a new buyer, obtained only with A's renewal
        {**e(A, Y, date(2025, 4, 1), 7_000_000), "known_on": RENEWED,
         "seller_known_on": RENEWED, "buyer_consented": False},
    ]  # fmt: skip


def tables() -> dict[str, pa.Table]:
    """The integrated tables of the fixture as Arrow tables with the agreed schemas."""
    enterprise = [
        {"uscc": A, "name": "绍兴甲印染有限公司", "established_on": date(2020, 3, 10),
         "industry_code": "C1752", "region_code": "330603", "status": "吊销"},
        {"uscc": B, "name": "绍兴乙纺织有限公司", "established_on": date(2019, 5, 1),
         "industry_code": "C1751", "region_code": "330603", "status": "存续"},
        {"uscc": C, "name": "柯桥丙贸易有限公司", "established_on": date(2024, 9, 1),
         "industry_code": "F5131", "region_code": "330603", "status": "存续"},
        {"uscc": D, "name": "柯桥丁针织有限公司", "established_on": date(2025, 8, 1),
         "industry_code": "C1761", "region_code": "330603", "status": "存续"},
    ]  # fmt: skip
    registry = [
        {"uscc": A, "industry_code": "C1752", "region_code": "330621", "status": "存续",
         "change_type": "registration", "changed_on": date(2020, 3, 10)},
        {"uscc": A, "industry_code": "C1752", "region_code": "330621", "status": "存续",
         "change_type": "legal_rep", "changed_on": date(2025, 1, 5)},
        {"uscc": A, "industry_code": "C1752", "region_code": "330603", "status": "吊销",
         "change_type": "status", "changed_on": date(2025, 6, 29)},  # known 2 July
        {"uscc": B, "industry_code": "C1751", "region_code": "330603", "status": "存续",
         "change_type": "registration", "changed_on": date(2019, 5, 1)},
        {"uscc": C, "industry_code": "F5131", "region_code": "330603", "status": "存续",
         "change_type": "registration", "changed_on": date(2024, 9, 1)},
    ]  # fmt: skip
    risk_events = [
        {"uscc": A, "occurred_on": date(2025, 6, 30), "kind": "environmental_penalty",
         "severity": 2, "source": "news"},
        {"uscc": A, "occurred_on": date(2025, 7, 1), "kind": "production_halt", "severity": 3,
         "source": "news"},
        {"uscc": A, "occurred_on": date(2025, 5, 20), "kind": "award", "severity": 1,
         "source": "news"},  # positive news: not a warning sign
        {"uscc": A, "occurred_on": date(2025, 1, 15), "kind": "wage_arrears", "severity": 3,
         "source": "news"},
        {"uscc": C, "occurred_on": date(2025, 3, 1), "kind": "enforcement", "severity": 3,
         "source": "judicial"},
        {"uscc": B, "occurred_on": date(2025, 6, 28), "kind": "enforcement", "severity": 3,
         "source": "judicial"},  # known 5 July: B is not yet a risky buyer
    ]  # fmt: skip
    tax = [
        {"uscc": A, "period": "2025-04", "tax_type": "vat", "due_fen": 40_000, "paid_fen": 40_000,
         "paid_on": date(2025, 5, 15), "credit_grade": "A"},
        {"uscc": A, "period": "2025-05", "tax_type": "vat", "due_fen": 50_000, "paid_fen": 50_000,
         "paid_on": date(2025, 7, 5), "credit_grade": "B"},
        {"uscc": A, "period": "2025-06", "tax_type": "vat", "due_fen": 99_999, "paid_fen": 0,
         "paid_on": None, "credit_grade": "C"},
        {"uscc": A, "period": "2025-04", "tax_type": "cit", "due_fen": 30_000, "paid_fen": 0,
         "paid_on": None, "credit_grade": "D", "obtained_on": RENEWED},  # the lapse's
    ]  # fmt: skip
    bank_flows = [
        {"uscc": A, "booked_on": date(2025, 6, 29), "direction": "in", "amount_fen": 1_000_000,
         "counterparty_name": "绍兴乙纺织有限公司", "counterparty_uscc": B},
        {"uscc": A, "booked_on": date(2025, 3, 1), "direction": "in", "amount_fen": 3_000_000,
         "counterparty_name": "绍兴乙纺织有限公司", "counterparty_uscc": B},
        {"uscc": A, "booked_on": date(2025, 2, 1), "direction": "in", "amount_fen": 1_000_000,
         "counterparty_name": "柯桥某贸易商行", "counterparty_uscc": None},
        {"uscc": A, "booked_on": date(2025, 4, 1), "direction": "out", "amount_fen": 2_400_000,
         "counterparty_name": "浙江某化纤有限公司", "counterparty_uscc": None},
        {"uscc": A, "booked_on": date(2025, 6, 30), "direction": "in", "amount_fen": 9_999,
         "counterparty_name": "柯桥某贸易商行", "counterparty_uscc": None},  # known 1 July
        {"uscc": A, "booked_on": date(2025, 5, 10), "direction": "in", "amount_fen": 5_555_555,
         "counterparty_name": "柯桥新客户", "counterparty_uscc": None,
         "obtained_on": RENEWED},  # booked in the lapse: obtained with the renewal
    ]  # fmt: skip
    judicial = [
        {"uscc": A, "case_id": "J1", "filed_on": date(2025, 6, 20), "case_type": "enforcement",
         "role": "respondent", "amount_fen": 800_000, "closed_on": None},
        {"uscc": A, "case_id": "J2", "filed_on": date(2025, 6, 25),
         "case_type": "contract_dispute", "role": "defendant", "amount_fen": 500_000,
         "closed_on": None},  # known 2 July
        {"uscc": A, "case_id": "J3", "filed_on": date(2023, 1, 10), "case_type": "dishonest",
         "role": "respondent", "amount_fen": 100_000, "closed_on": date(2024, 1, 1)},
        {"uscc": C, "case_id": "J4", "filed_on": date(2025, 3, 1), "case_type": "enforcement",
         "role": "respondent", "amount_fen": 200_000, "closed_on": None},
        {"uscc": C, "case_id": "J5", "filed_on": date(2025, 4, 1), "case_type": "dishonest",
         "role": "respondent", "amount_fen": 200_000, "closed_on": date(2025, 6, 28)},
    ]  # fmt: skip
    bureau = [
        {"uscc": A, "reported_on": date(2025, 6, 1), "loans_outstanding_fen": 3_000_000,
         "overdue_accounts": 0, "max_dpd_24m": 5, "guarantees_fen": 0, "inquiries_3m": 2,
         "nonperforming_accounts": 0},
        {"uscc": A, "reported_on": date(2025, 6, 28), "loans_outstanding_fen": 3_500_000,
         "overdue_accounts": 3, "max_dpd_24m": 60, "guarantees_fen": 0, "inquiries_3m": 6,
         "nonperforming_accounts": 1},  # known 3 July
        {"uscc": A, "reported_on": date(2025, 6, 20), "loans_outstanding_fen": 9_000_000,
         "overdue_accounts": 9, "max_dpd_24m": 90, "guarantees_fen": 0, "inquiries_3m": 9,
         "nonperforming_accounts": 2, "obtained_on": RENEWED},  # pulled with the renewal
    ]  # fmt: skip
    market = [
        {"month": date(2024, 5, 1), "series": "keqiao_prosperity_index", "value": 1000.0},
        {"month": date(2025, 5, 1), "series": "keqiao_prosperity_index", "value": 1100.0},
        {"month": date(2025, 6, 1), "series": "keqiao_prosperity_index", "value": 5000.0},
    ]
    data = {
        "enterprise": enterprise, "registry": registry, "monthly_activity": _activity(),
        "supply_edges": _edges(), "risk_events": risk_events, "tax": tax,
        "bank_flows": bank_flows, "judicial": judicial, "bureau": bureau, "market": market,
    }  # fmt: skip
    return {name: pa.Table.from_pylist(rows, schema=schema_of(name)) for name, rows in data.items()}


def write_lake(home: object, data: dict[str, pa.Table] | None = None) -> None:
    """Write the fixture as the integrated zone of a lake under ``home`` (a Path)."""
    import pyarrow.parquet as pq

    from loomcredit.pipeline.schemas import LakePaths

    lake = LakePaths(home)  # type: ignore[arg-type]
    for name, table in (data or tables()).items():
        folder = lake.table(name)
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, folder / "part-00000.parquet")


# Hand-computed answers as of AS_OF (see the module docstring and the test for the arithmetic).
ANSWERS: dict[str, dict[str, object]] = {
    A: {
        "sales_3m_fen": 3_600_000, "sales_6m_fen": 6_080_000, "sales_12m_fen": 12_380_000,
        "sales_yoy_3m": 0.2, "months_of_history": 53, "months_no_invoices_12m": 0,
        "firm_age_months": 63, "industry_code": "C1752", "segment": "dyeing", "is_dyer": 1,
        "region_code": "330603", "registry_status": "存续", "legal_rep_changes_12m": 1,
        "tax_arrears_fen": 50_000, "tax_credit_grade": "B",
        "bureau_overdue_accounts": 0, "bureau_max_dpd_24m": 5, "bureau_inquiries_3m": 2,
        "bureau_loans_outstanding_fen": 3_000_000, "bureau_nonperforming_accounts": 0,
        "inflow_12m_fen": 5_000_000, "outflow_12m_fen": 2_400_000,
        "net_inflow_12m_fen": 2_600_000, "inflow_3m_fen": 1_000_000,
        "inflow_top1_share_12m": 0.8, "inflow_hhi_12m": 0.68, "months_outflow_covered": 13.0,
        "buyers_12m": 3, "suppliers_12m": 1, "network_degree_12m": 4, "buyer_hhi_12m": 0.46,
        "buyer_top1_share_12m": 0.6, "buyer_top5_share_12m": 1.0,
        "buyer_churn_top5": 2 / 3, "contagion_share_12m": 0.3,
        "supplier_contagion_share_12m": 0.0,  # B supplies it; B's event is known only 5 July
        "kwh_3m": 24_000, "kwh_12m": 122_000, "kwh_yoy_3m": -0.2, "kwh_utilisation": 0.4,
        "kwh_capacity_score": 110, "steam_3m_t": 300.0, "steam_yoy_3m": 0.0,
        "headcount_latest": 40, "headcount_qoq": -0.2, "headcount_yoy": -0.2,
        "judicial_enforcement_open": 1, "judicial_enforcement_24m": 1,
        "judicial_enforcement_3m": 1, "judicial_contract_dispute_3m": 0,
        "judicial_dishonest": 0, "judicial_dishonest_24m": 0,
        "judicial_defendant_amount_24m_fen": 800_000,
        "news_negative_3m": 1, "news_negative_12m": 2, "news_severe_12m": 1,
        "news_environmental_penalty_12m": 1, "news_production_halt_12m": 0,
        "news_wage_arrears_12m": 1,
        "market_prosperity_yoy": 0.1, "void_share_12m": 2 / 123, "red_share_12m": 1 / 123,
    },
    B: {
        "sales_yoy_3m": 0.0, "sales_volatility_12m": 0.0, "sales_trend_6m": 0.0,
        **{f"season_factor_{k:02d}": P[k - 1] * 12 / 115 for k in range(1, 13)},
        "suppliers_12m": 1, "buyers_12m": 1, "contagion_share_12m": 1.0,
        "supplier_contagion_share_12m": 1.0,  # A supplies it, A had wage arrears in January
        "registry_status": "存续", "segment": "weaving", "is_dyer": 0,
    },
    C: {
        "months_no_invoices_12m": 3, "sales_yoy_3m": None, "months_of_history": 8,
        "sales_3m_fen": 100_000, "judicial_enforcement_open": 1, "judicial_dishonest": 1,
        "season_factor_01": 0.7, "season_factor_09": 1.2, "segment": "textile_wholesale",
        "firm_age_months": 9, "supplier_contagion_share_12m": 1.0,  # bought from A only
    },
}  # fmt: skip
