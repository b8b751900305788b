"""Online features after the latest snapshot: equal to a full snapshot of that date, point in time.

The lake holds the fixture (snapshot built at D1), then rows dated between D1 and D2 are added.
``OnlineFeatures.get(…, D2)`` computes each enterprise on demand (SQLite over its own rows); it must
equal, feature by feature, the full DuckDB snapshot of the whole zone as of D2. Rows added later
that are dated (or only known) after D2 must not change the D2 vector, yet must show at D3.
"""

from __future__ import annotations

import math
import shutil
from datetime import date

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from loomcredit.pipeline.features.catalogue import catalogue
from loomcredit.pipeline.features.online import OnlineFeatures
from loomcredit.pipeline.features.snapshot import build_snapshot, snapshot_path
from loomcredit.pipeline.features.tables import NEEDED, schema_of
from loomcredit.pipeline.schemas import LakePaths

from .feature_fixtures import AS_OF, A, B, C, D, write_lake

pytestmark = pytest.mark.integration

D1 = AS_OF  # 2025-06-30: the latest snapshot
D2 = date(2025, 9, 20)  # sales to 2025-08, bank to 19 Sep, bureau to 15 Sep, judicial to 13 Sep
D3 = date(2025, 10, 25)  # everything in LATE is known
E = "91330603MA2E000008"  # established between D1 and D2, industry code keyed in lower case
F = "91330603MA2F000009"  # established after D2
FIRMS = (A, B, C, D, E)


def _activity(uscc: str, month: date, sales: int, **extra: object) -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(NEEDED["monthly_activity"])
    row.update(uscc=uscc, month=month, sales_fen=sales, purchases_fen=sales // 3, kwh=3_000,
               invoices_issued=7, invoices_void=1, invoices_red=0, headcount=9)  # fmt: skip
    row.update(extra)
    return row


def _edge(seller: str, buyer: str, month: date, amount: int) -> dict[str, object]:
    return {"seller_uscc": seller, "buyer_uscc": buyer, "month": month, "amount_fen": amount,
            "seller_consented": True, "buyer_consented": True}  # fmt: skip


def _bureau(uscc: str, day: date, overdue: int) -> dict[str, object]:
    return {"uscc": uscc, "reported_on": day, "loans_outstanding_fen": 1_000_000,
            "overdue_accounts": overdue, "max_dpd_24m": 30 * overdue, "guarantees_fen": 0,
            "inquiries_3m": 1, "nonperforming_accounts": 0}  # fmt: skip


# Dated between D1 and D2 and known by D2.
NEWER: dict[str, list[dict[str, object]]] = {
    "enterprise": [
        {"uscc": E, "name": "柯桥戊印染有限公司", "established_on": date(2025, 7, 1),
         "industry_code": "c1752", "region_code": "330621", "status": "存续"},
    ],
    "registry": [
        {"uscc": E, "industry_code": "c1752", "region_code": "330621", "status": "存续",
         "change_type": "registration", "changed_on": date(2025, 7, 1)},
        {"uscc": B, "industry_code": "C1751", "region_code": "330603", "status": "存续",
         "change_type": "legal_rep", "changed_on": date(2025, 8, 10)},
    ],
    "monthly_activity": [
        _activity(E, date(2025, 7, 1), 80_000, steam_t=12.5),
        _activity(E, date(2025, 8, 1), 95_000, steam_t=14.0),
    ],
    "supply_edges": [
        _edge(A, E, date(2025, 7, 1), 500_000), _edge(E, B, date(2025, 8, 1), 70_000),
        _edge(B, A, date(2025, 8, 1), 250_000),
    ],
    "risk_events": [
        {"uscc": B, "occurred_on": date(2025, 9, 1), "kind": "production_halt", "severity": 3,
         "source": "news"},
        {"uscc": E, "occurred_on": date(2025, 8, 5), "kind": "enforcement", "severity": 3,
         "source": "judicial"},
    ],
    "tax": [
        {"uscc": A, "period": "2025-07", "tax_type": "vat", "due_fen": 60_000, "paid_fen": 10_000,
         "paid_on": date(2025, 8, 14), "credit_grade": "C"},
        {"uscc": E, "period": "2025-08", "tax_type": "vat", "due_fen": 8_000, "paid_fen": 8_000,
         "paid_on": date(2025, 9, 10), "credit_grade": None},
    ],
    "bank_flows": [
        {"uscc": A, "booked_on": date(2025, 8, 20), "direction": "out", "amount_fen": 700_000,
         "counterparty_name": "浙江某化纤有限公司", "counterparty_uscc": None},
        {"uscc": E, "booked_on": date(2025, 9, 2), "direction": "in", "amount_fen": 90_000,
         "counterparty_name": "绍兴乙纺织有限公司", "counterparty_uscc": B},
    ],
    "judicial": [
        {"uscc": B, "case_id": "J6", "filed_on": date(2025, 8, 20), "case_type": "contract_dispute",
         "role": "defendant", "amount_fen": 300_000, "closed_on": None},
        {"uscc": E, "case_id": "J7", "filed_on": date(2025, 8, 5), "case_type": "enforcement",
         "role": "respondent", "amount_fen": 40_000, "closed_on": None},
    ],
    "bureau": [_bureau(C, date(2025, 9, 1), 2), _bureau(E, date(2025, 9, 10), 0)],
    "market": [
        {"month": date(2024, 8, 1), "series": "keqiao_prosperity_index", "value": 1000.0},
        {"month": date(2025, 8, 1), "series": "keqiao_prosperity_index", "value": 1150.0},
    ],
}  # fmt: skip

# Dated after D2, or dated before it but only known after it.
LATE: dict[str, list[dict[str, object]]] = {
    "enterprise": [
        {"uscc": F, "name": "柯桥己纺织有限公司", "established_on": date(2025, 10, 1),
         "industry_code": "C1751", "region_code": "330603", "status": "存续"},
    ],
    "monthly_activity": [_activity(E, date(2025, 9, 1), 9_900_000)],  # known 15 Oct
    "supply_edges": [_edge(A, B, date(2025, 9, 1), 8_000_000)],
    "risk_events": [
        {"uscc": A, "occurred_on": date(2025, 9, 21), "kind": "wage_arrears", "severity": 3,
         "source": "news"},
    ],
    "bank_flows": [
        {"uscc": A, "booked_on": date(2025, 9, 20), "direction": "in", "amount_fen": 5_000_000,
         "counterparty_name": "柯桥某贸易商行", "counterparty_uscc": None},  # known 21 Sep
    ],
    "judicial": [
        {"uscc": A, "case_id": "J8", "filed_on": date(2025, 9, 15), "case_type": "labour",
         "role": "defendant", "amount_fen": 20_000, "closed_on": None},  # known 22 Sep
    ],
    "bureau": [_bureau(A, date(2025, 9, 18), 4)],  # known 23 Sep
    "registry": [
        {"uscc": C, "industry_code": "F5131", "region_code": "330603", "status": "吊销",
         "change_type": "status", "changed_on": date(2025, 9, 19)},  # known 22 Sep
    ],
}  # fmt: skip


def _append(lake: LakePaths, rows: dict[str, list[dict[str, object]]], part: str) -> None:
    for name, table_rows in rows.items():
        table = pa.Table.from_pylist(table_rows, schema=schema_of(name))
        pq.write_table(table, lake.table(name) / f"{part}.parquet")


def _snapshot_d1(lake: LakePaths) -> dict[str, dict[str, object]]:
    return {r["uscc"]: r for r in pq.read_table(snapshot_path(lake, D1)).to_pylist()}


def _same(want: object, got: object) -> bool:
    if isinstance(want, float) and isinstance(got, float):
        return math.isclose(want, got, rel_tol=1e-9, abs_tol=1e-12)
    return want == got and type(want) is type(got)


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> LakePaths:
    home = tmp_path_factory.mktemp("online-lake")
    write_lake(home)
    paths = LakePaths(home)
    build_snapshot(paths, D1)
    _append(paths, NEWER, "part-00001")
    return paths


@pytest.fixture(scope="module")
def at_d2(lake: LakePaths) -> dict[str, dict[str, object]]:
    store = OnlineFeatures(lake)
    try:
        return {uscc: store.get(uscc, D2) for uscc in (*FIRMS, F)}
    finally:
        store.close()


@pytest.fixture(scope="module")
def full_d2(lake: LakePaths, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    out = tmp_path_factory.mktemp("reference") / "d2.parquet"
    path = build_snapshot(lake, D2, out=out)
    return {row["uscc"]: row for row in pq.read_table(path).to_pylist()}


def test_newer_rows_are_in_the_lake_and_change_the_vectors(lake, at_d2):
    """The D2 vectors differ from the D1 snapshot (else the equality below proves little)."""
    d1 = _snapshot_d1(lake)
    assert E not in d1
    assert at_d2[E]["sales_3m_fen"] == 175_000
    changed = [f.name for f in catalogue() if not _same(d1[A][f.name], at_d2[A][f.name])]
    assert len(changed) >= 10, changed


@pytest.mark.parametrize("uscc", FIRMS)
def test_online_vector_equals_the_full_snapshot_of_that_date(at_d2, full_d2, uscc):
    """Every feature computed on demand at D2 equals the whole-zone DuckDB snapshot at D2."""
    online, full = at_d2[uscc], full_d2[uscc]
    assert list(online) == list(full)
    differ = {
        name: (full[name], online[name])
        for name in full
        if name != "network_pagerank" and not _same(full[name], online[name])
    }
    assert differ == {}


def test_pagerank_comes_from_the_latest_snapshot(lake, at_d2):
    """PageRank needs the whole network: online it is the D1 snapshot's value."""
    d1 = _snapshot_d1(lake)
    assert at_d2[A]["network_pagerank"] == d1[A]["network_pagerank"] is not None
    assert at_d2[E]["network_pagerank"] is None


def test_enterprise_established_after_the_date_has_no_vector(at_d2):
    """F is established after D2, D after D1 but before D2."""
    assert at_d2[F] == {}
    assert at_d2[D]["firm_age_months"] == 1


def test_rows_dated_or_known_after_the_date_do_not_change_it(lake, at_d2, tmp_path):
    """LATE rows leave every D2 vector unchanged; the same store shows them at D3 once ingested."""
    late = LakePaths(tmp_path / "copy")
    shutil.copytree(lake.home, late.home)
    store = OnlineFeatures(late)
    try:
        a_d3_before = store.get(A, D3)
        _append(late, LATE, "part-00002")
        again = {uscc: store.get(uscc, D2) for uscc in (*FIRMS, F)}
        a_d3, f_d3 = store.get(A, D3), store.get(F, D3)
    finally:
        store.close()
    for uscc in (*FIRMS, F):
        assert again[uscc].keys() == at_d2[uscc].keys()
        assert all(_same(at_d2[uscc][k], again[uscc][k]) for k in at_d2[uscc]), uscc
    assert a_d3_before["bureau_overdue_accounts"] == 3  # the fixture's 28 June report
    assert a_d3["bureau_overdue_accounts"] == 4
    assert a_d3["judicial_labour_3m"] == 1
    assert a_d3["news_wage_arrears_12m"] == at_d2[A]["news_wage_arrears_12m"] + 1
    assert f_d3 != {}
