"""Hand-built raw feeds per RAW_SCHEMAS, with known faults, for the ingest tests.

Three enterprises of 柯桥: A (consents to everything), B (consents to everything, registered under
the historic 绍兴县 code 330621), C (no consent at all), and an outside buyer (no consent). Invoices
run B→A (both consented), A→outside (seller only), C→A (buyer only) and C→outside (neither). Rows
are written per source with the exact contract schemas; ``FAULTS`` lists every row that must be
quarantined and why.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from loomcredit.domain.identity import generate_resident_id, generate_uscc
from loomcredit.pipeline.schemas import RAW_SCHEMAS

_rng = random.Random(20261128)
A = generate_uscc("330603", _rng)
B = generate_uscc("330621", _rng)
C = generate_uscc("330603", _rng)
BUYER = generate_uscc("330106", _rng)  # an outside buyer in 杭州 (not in the registry)
REP_A = generate_resident_id("330621", date(1970, 5, 1), _rng)
REP_B = generate_resident_id("330603", date(1982, 9, 9), _rng)
REP_C = generate_resident_id("330602", date(1975, 1, 20), _rng)
NAME_A = "绍兴柯桥恒达纺织印染有限公司"
NAME_B = "绍兴县永盛化纤有限公司"
NAME_C = "浙江锦绣服饰有限公司"
AS_OF = date(2024, 3, 31)
BAD_CHECK = A[:17] + ("0" if A[17] != "0" else "1")  # wrong check character
FULLWIDTH_A = A.translate(
    str.maketrans(
        "0123456789ABCDEFGHJKLMNPQRTUWXY",
        "０１２３４５６７８９ＡＢＣＤＥＦＧＨＪＫＬＭＮＰＱＲＴＵＷＸＹ",
    )
)


def _ts(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def registry() -> list[dict[str, Any]]:
    base = {"registered_capital_fen": 500_000_000, "status": "存续", "change_type": "registration"}
    return [
        {**base, "uscc": A, "name": NAME_A, "legal_rep_name": "陈建国", "legal_rep_id": REP_A,
         "established_on": date(2010, 4, 1), "industry_code": "C1752", "region_code": "330603",
         "changed_on": date(2010, 4, 1)},
        {**base, "uscc": B, "name": NAME_B, "legal_rep_name": "王伟", "legal_rep_id": REP_B,
         "established_on": date(2008, 6, 1), "industry_code": "C2822", "region_code": "330621",
         "changed_on": date(2008, 6, 1)},
        {**base, "uscc": C, "name": NAME_C, "legal_rep_name": "张敏", "legal_rep_id": REP_C,
         "established_on": date(2019, 3, 1), "industry_code": "C1819", "region_code": "330603",
         "changed_on": date(2019, 3, 1)},
        # fault: unknown industry code
        {**base, "uscc": C, "name": NAME_C, "legal_rep_name": "张敏", "legal_rep_id": REP_C,
         "established_on": date(2019, 3, 1), "industry_code": "Z9999", "region_code": "330603",
         "change_type": "capital", "changed_on": date(2021, 3, 1)},
    ]  # fmt: skip


def consents() -> list[dict[str, Any]]:
    scopes = "tax;invoices;utilities;social_insurance;bank_flows;bureau"
    return [
        {"consent_id": f"CS-{u[-4:]}", "uscc": u, "subject": "enterprise", "scopes": scopes,
         "purposes": "pre_loan;post_loan", "granted_at": _ts(date(2023, 12, 1)),
         "expires_at": _ts(date(2026, 12, 1)), "revoked_at": None, "text_sha256": "ab" * 32}
        for u in (A, B)
    ]  # fmt: skip


def invoices() -> list[dict[str, Any]]:
    rows = []
    for month in (1, 2, 3):
        for k, (seller, buyer) in enumerate([(B, A), (A, BUYER), (A, None), (C, A)]):
            rows.append({"invoice_id": f"INV{month:02d}{k:02d}", "seller_uscc": seller,
                         "buyer_uscc": buyer, "issued_on": date(2024, month, 10 + k),
                         "amount_fen": 1_000_000 * (k + 1), "tax_fen": 130_000 * (k + 1),
                         "status": "normal"})  # fmt: skip
    rows.append({**rows[1], "invoice_id": "INV0199", "status": "void"})
    rows.append({**rows[1], "invoice_id": "INV0198", "amount_fen": -500_000, "tax_fen": -65_000,
                 "status": "red"})  # fmt: skip
    # faults
    rows.append({**rows[1]})  # exact duplicate of INV0101 → duplicate
    rows.append({**rows[1], "invoice_id": "INVBAD1", "seller_uscc": BAD_CHECK})  # check char
    rows.append({**rows[1], "invoice_id": "INVBAD2", "amount_fen": -70})  # negative normal
    rows.append({**rows[1], "invoice_id": "INVBAD3", "issued_on": date(2030, 1, 1)})  # future
    rows.append({**rows[1], "invoice_id": "INVFW", "seller_uscc": FULLWIDTH_A})  # normalised, ok
    # neither party consented (C sells to an outside buyer): held back
    rows.append({**rows[3], "invoice_id": "INVCX", "buyer_uscc": BUYER})
    return rows


def utilities() -> list[dict[str, Any]]:
    rows = [{"uscc": u, "month": date(2024, m, 1), "kwh": 10_000 * m,
             "steam_t": 5.0 if u == A else None}
            for u in (A, B, C) for m in (1, 2, 3)]  # fmt: skip
    rows.append({"uscc": A, "month": date(2024, 3, 1), "kwh": 99, "steam_t": None})  # duplicate
    return rows


def social_insurance() -> list[dict[str, Any]]:
    return [{"uscc": u, "month": date(2024, m, 1), "insured_headcount": 20}
            for u in (A, B, C) for m in (1, 2, 3)]  # fmt: skip


def tax() -> list[dict[str, Any]]:
    return [
        {"uscc": A, "period": "2024-01", "tax_type": "vat", "due_fen": 300_000, "paid_fen": 300_000,
         "paid_on": date(2024, 2, 15), "credit_grade": "B"},
        {"uscc": A, "period": "2024-02", "tax_type": "vat", "due_fen": 200_000, "paid_fen": 50_000,
         "paid_on": None, "credit_grade": "B"},
        {"uscc": C, "period": "2024-01", "tax_type": "vat", "due_fen": 100_000, "paid_fen": 100_000,
         "paid_on": date(2024, 2, 15), "credit_grade": "A"},
        {"uscc": B, "period": "2024-13", "tax_type": "vat", "due_fen": 1, "paid_fen": 1,
         "paid_on": None, "credit_grade": "A"},  # fault: bad period
    ]  # fmt: skip


def bank_flows() -> list[dict[str, Any]]:
    return [
        {"uscc": A, "booked_on": date(2024, 1, 5), "direction": "in", "amount_fen": 800_000,
         "counterparty_name": "柯桥永盛化纤", "counterparty_uscc": None},
        {"uscc": A, "booked_on": date(2024, 1, 6), "direction": "out", "amount_fen": 200_000,
         "counterparty_name": "杭州某某服饰有限公司", "counterparty_uscc": None},
        {"uscc": B, "booked_on": date(2024, 2, 5), "direction": "in", "amount_fen": 300_000,
         "counterparty_name": "恒达印染", "counterparty_uscc": None},
        {"uscc": C, "booked_on": date(2024, 2, 5), "direction": "in", "amount_fen": 300_000,
         "counterparty_name": "恒达印染", "counterparty_uscc": None},
        {"uscc": B, "booked_on": date(2024, 2, 6), "direction": "sideways", "amount_fen": 1,
         "counterparty_name": None, "counterparty_uscc": None},  # fault: bad direction
    ]  # fmt: skip


def judicial() -> list[dict[str, Any]]:
    return [
        {"uscc": B, "case_id": "(2024)浙0603执123号", "filed_on": date(2024, 2, 1),
         "case_type": "enforcement", "role": "respondent", "amount_fen": 5_000_000,
         "closed_on": None},
    ]  # fmt: skip


def bureau() -> list[dict[str, Any]]:
    return [
        {"uscc": u, "reported_on": date(2024, 3, 31), "loans_outstanding_fen": 1_000_000,
         "overdue_accounts": 0, "max_dpd_24m": 0, "guarantees_fen": 0, "inquiries_3m": 1,
         "nonperforming_accounts": 0}
        for u in (A, B, C)
    ]  # fmt: skip


def news() -> list[dict[str, Any]]:
    return [
        {"doc_id": "N1", "published_on": date(2024, 3, 1), "source": "柯桥日报",
         "title": "永盛化纤因环保处罚停产", "body": "记者获悉，柯桥永盛化纤因超标排放被责令停产。",
         "mentioned_name": "永盛化纤", "uscc": None},
        {"doc_id": "N2", "published_on": date(2024, 3, 2), "source": "绍兴网",
         "title": "恒达印染未发生停产", "body": "恒达印染表示生产正常，未发生停产。",
         "mentioned_name": "恒达印染", "uscc": None},
        {"doc_id": "N3", "published_on": date(2024, 3, 3), "source": "绍兴网",
         "title": "恒达纺织印染荣获专精特新称号", "body": "恒达纺织印染荣获表彰。",
         "mentioned_name": "绍兴柯桥恒达纺织印染有限公司", "uscc": None},
    ]  # fmt: skip


def market() -> list[dict[str, Any]]:
    return [{"month": date(2024, m, 1), "series": "keqiao_price_index", "value": 100.0 + m}
            for m in (1, 2, 3)]  # fmt: skip


BUILDERS = {
    "registry": registry, "invoices": invoices, "tax": tax, "utilities": utilities,
    "social_insurance": social_insurance, "bank_flows": bank_flows, "judicial": judicial,
    "bureau": bureau, "news": news, "market": market, "consents": consents,
}  # fmt: skip

# (source, reason class) of every row that must be quarantined
FAULTS = {
    ("registry", "unknown_industry"): 1,
    ("invoices", "duplicate"): 1,
    ("invoices", "invalid_uscc"): 1,
    ("invoices", "range"): 1,
    ("invoices", "future_date"): 1,
    ("utilities", "duplicate"): 1,
    ("tax", "type"): 1,
    ("bank_flows", "bad_value"): 1,
}


def table(source: str, rows: list[dict[str, Any]] | None = None) -> pa.Table:
    """A source's rows as an Arrow table with the exact contract schema."""
    return pa.Table.from_pylist(rows if rows is not None else BUILDERS[source](),
                                schema=RAW_SCHEMAS[source])  # fmt: skip


def write_feed(root: Path, *, fmt: str = "parquet", sources: dict[str, list[dict[str, Any]]]
               | None = None, part: int = 0) -> Path:  # fmt: skip
    """Write ``root/raw/<source>/part-NNNNN.<fmt>`` for each source; returns ``root``."""
    chosen = sources if sources is not None else {s: b() for s, b in BUILDERS.items()}
    for source, rows in chosen.items():
        folder = root / "raw" / source
        folder.mkdir(parents=True, exist_ok=True)
        data = table(source, rows)
        path = folder / f"part-{part:05d}.{fmt}"
        if fmt == "parquet":
            pq.write_table(data, path)
        elif fmt == "csv":
            pacsv.write_csv(data, path)
        else:
            data.to_pandas().to_json(path, orient="records", lines=True, force_ascii=False,
                                     date_format="iso")  # fmt: skip
    return root
