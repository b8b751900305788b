"""The data contract (DESIGN.md §3): raw sources, integrated tables, and where they live.

Every raw source is a history: each row carries the date it describes, corrections are new rows.
Amounts are integer fen (int64). Month columns are the first day of the month (date32). The tax
``period`` stays a ``YYYY-MM`` string as banks receive it. Multi-valued consent fields (``scopes``,
``purposes``) are ``;``-separated strings so that CSV and JSON Lines carry them unchanged.

Every source but consents also carries ``obtained_on``, the day the bank held the row
(:mod:`loomcredit.pipeline.arrival`): a feed may leave it out, and ingest then fills it from the
agreed lags and the consents. A snapshot as of D uses only rows obtained by D.

The simulator writes exactly these schemas; ingestion validates against them; features read the
integrated tables. ``truth/*`` tables are ground truth for evaluation only: no feature reads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from loomcredit.pipeline.arrival import OBTAINED

STR = pa.string()
DATE = pa.date32()
FEN = pa.int64()
INT = pa.int64()
FLOAT = pa.float64()
TS = pa.timestamp("us", tz="UTC")

# What each source's row says about itself (the raw contract without the arrival column).
RECORD_SCHEMAS: dict[str, pa.Schema] = {
    # 工商登记: one row per registration or change; change_type says which.
    "registry": pa.schema(
        [
            ("uscc", STR),
            ("name", STR),
            ("legal_rep_name", STR),
            ("legal_rep_id", STR),  # PII: encrypted at ingest, never plaintext downstream
            ("established_on", DATE),
            ("registered_capital_fen", FEN),
            ("industry_code", STR),  # GB/T 4754-2017 class, e.g. C1752
            ("region_code", STR),  # GB/T 2260, may be historic (330621)
            ("status", STR),  # 存续 | 吊销 | 注销
            ("change_type", STR),  # registration | name | legal_rep | capital | address | status
            ("changed_on", DATE),
        ]
    ),
    # 增值税发票: individual documents; buyer_uscc null for consumers.
    "invoices": pa.schema(
        [
            ("invoice_id", STR),
            ("seller_uscc", STR),
            ("buyer_uscc", STR),
            ("issued_on", DATE),
            ("amount_fen", FEN),
            ("tax_fen", FEN),
            ("status", STR),  # normal | void | red
        ]
    ),
    "tax": pa.schema(
        [
            ("uscc", STR),
            ("period", STR),  # YYYY-MM
            ("tax_type", STR),  # vat | cit | other
            ("due_fen", FEN),
            ("paid_fen", FEN),
            ("paid_on", DATE),  # null while unpaid
            ("credit_grade", STR),  # A | B | M | C | D (annual grade in force)
        ]
    ),
    "utilities": pa.schema([("uscc", STR), ("month", DATE), ("kwh", INT), ("steam_t", FLOAT)]),
    "social_insurance": pa.schema([("uscc", STR), ("month", DATE), ("insured_headcount", INT)]),
    "bank_flows": pa.schema(
        [
            ("uscc", STR),
            ("booked_on", DATE),
            ("direction", STR),  # in | out
            ("amount_fen", FEN),
            ("counterparty_name", STR),
            ("counterparty_uscc", STR),  # nullable: resolve by name
        ]
    ),
    "judicial": pa.schema(
        [
            ("uscc", STR),
            ("case_id", STR),
            ("filed_on", DATE),
            # contract_dispute | labour | enforcement (被执行) | dishonest (失信) | equity_freeze
            ("case_type", STR),
            ("role", STR),  # plaintiff | defendant | respondent
            ("amount_fen", FEN),
            ("closed_on", DATE),  # null while open
        ]
    ),
    "bureau": pa.schema(
        [
            ("uscc", STR),
            ("reported_on", DATE),
            ("loans_outstanding_fen", FEN),
            ("overdue_accounts", INT),
            ("max_dpd_24m", INT),
            ("guarantees_fen", FEN),
            ("inquiries_3m", INT),
            ("nonperforming_accounts", INT),
        ]
    ),
    "news": pa.schema(
        [
            ("doc_id", STR),
            ("published_on", DATE),
            ("source", STR),
            ("title", STR),
            ("body", STR),
            ("mentioned_name", STR),
            ("uscc", STR),  # nullable: resolve by name
        ]
    ),
    "market": pa.schema([("month", DATE), ("series", STR), ("value", FLOAT)]),
    "consents": pa.schema(
        [
            ("consent_id", STR),
            ("uscc", STR),
            ("subject", STR),  # enterprise | legal_rep
            ("scopes", STR),  # ;-joined: tax;invoices;utilities;social_insurance;bank_flows;bureau
            ("purposes", STR),  # ;-separated: pre_loan;post_loan;collection
            ("granted_at", TS),
            ("expires_at", TS),
            ("revoked_at", TS),  # null unless revoked
            ("text_sha256", STR),
        ]
    ),
}

RAW_SCHEMAS: dict[str, pa.Schema] = {
    name: schema if name == "consents" else schema.append(pa.field(OBTAINED, DATE))
    for name, schema in RECORD_SCHEMAS.items()
}
# Contract columns a feed may leave out (ingest fills them).
OPTIONAL_COLUMNS = frozenset({OBTAINED})

# The date column that says which day each row describes (point in time).
ROW_DATE: dict[str, str] = {
    "registry": "changed_on",
    "invoices": "issued_on",
    "tax": "period",
    "utilities": "month",
    "social_insurance": "month",
    "bank_flows": "booked_on",
    "judicial": "filed_on",
    "bureau": "reported_on",
    "news": "published_on",
    "market": "month",
    "consents": "granted_at",
}

# Natural keys for de-duplication at ingest.
NATURAL_KEYS: dict[str, tuple[str, ...]] = {
    "registry": ("uscc", "changed_on", "change_type"),
    "invoices": ("invoice_id",),
    "tax": ("uscc", "period", "tax_type"),
    "utilities": ("uscc", "month"),
    "social_insurance": ("uscc", "month"),
    "bank_flows": ("uscc", "booked_on", "direction", "amount_fen", "counterparty_name"),
    "judicial": ("case_id", "uscc"),
    "bureau": ("uscc", "reported_on"),
    "news": ("doc_id",),
    "market": ("month", "series"),
    "consents": ("consent_id",),
}

# Sources that need a live consent whose scope names the source (DOMAIN.md §12). Registry, court,
# news and market data are public records and need none.
CONSENTED_SOURCES = frozenset(
    {"invoices", "tax", "utilities", "social_insurance", "bank_flows", "bureau"}
)

TRUTH_SCHEMAS: dict[str, pa.Schema] = {
    "defaults": pa.schema([("uscc", STR), ("default_on", DATE), ("cause", STR)]),
    # which enterprise each news item is really about, and the risk event it really reports
    "news_labels": pa.schema(
        [("doc_id", STR), ("uscc", STR), ("kind", STR), ("negated", pa.bool_())]
    ),
    # which enterprise each bank-flow counterparty name really is
    "counterparty_labels": pa.schema([("counterparty_name", STR), ("uscc", STR)]),
    # per-row injected faults, so tests can reconcile quarantine reasons
    "faults": pa.schema([("source", STR), ("key", STR), ("fault", STR)]),
}

INTEGRATED_SCHEMAS: dict[str, pa.Schema] = {
    "enterprise": pa.schema(
        [
            ("uscc", STR),
            ("name", STR),
            ("aliases", pa.list_(STR)),
            ("legal_rep_name", STR),
            ("legal_rep_id_enc", pa.binary()),  # AES-GCM ciphertext
            ("legal_rep_id_hash", STR),  # HMAC-SHA256 join key
            ("established_on", DATE),
            ("registered_capital_fen", FEN),
            ("industry_code", STR),
            ("region_code", STR),  # current code (historic mapped)
            ("region_code_issued", STR),
            ("status", STR),
            ("changed_on", DATE),  # latest registry change seen
            ("known_on", DATE),  # the first day a registry row of the firm was obtained
        ]
    ),
    "monthly_activity": pa.schema(
        [
            ("uscc", STR),
            ("month", DATE),
            ("sales_fen", FEN),  # normal invoices minus red-letter, voids excluded
            ("purchases_fen", FEN),
            ("invoices_issued", INT),
            ("invoices_void", INT),
            ("invoices_red", INT),
            ("buyers", INT),
            ("sellers", INT),
            ("kwh", INT),
            ("steam_t", FLOAT),
            ("headcount", INT),
            ("tax_due_fen", FEN),
            ("tax_paid_fen", FEN),
            ("tax_arrears_fen", FEN),
            ("inflow_fen", FEN),
            ("outflow_fen", FEN),
            # the day these partial sums became known: a month may have several rows (features
            # add up those known by their date); tax and bank-flow sums: their latest row's day
            ("known_on", DATE),
        ]
    ),
    "supply_edges": pa.schema(
        [
            ("seller_uscc", STR),
            ("buyer_uscc", STR),
            ("month", DATE),
            ("amount_fen", FEN),
            ("invoices", INT),
            # which end's invoices consent covers the edge: features use an end only for it
            ("seller_consented", pa.bool_()),
            ("buyer_consented", pa.bool_()),
            # when the edge was known (the earlier end), and when each end was (null: never)
            ("known_on", DATE),
            ("seller_known_on", DATE),
            ("buyer_known_on", DATE),
        ]
    ),
    "risk_events": pa.schema(
        [
            ("uscc", STR),
            ("occurred_on", DATE),
            ("kind", STR),
            ("severity", INT),  # 1 low … 3 high
            ("source", STR),
            ("evidence", STR),
            ("known_on", DATE),  # the source row's obtained_on
        ]
    ),
    "quarantine": pa.schema(
        [
            ("source", STR),
            ("file", STR),
            ("row_number", INT),
            ("row", STR),  # the original row as JSON
            ("reasons", STR),  # ;-separated
            ("ingested_at", TS),
        ]
    ),
}


@dataclass(frozen=True)
class LakePaths:
    """Where each zone of the lake lives under ``LOOM_HOME``."""

    home: Path

    @property
    def raw(self) -> Path:
        """Raw zone: one folder per source."""
        return self.home / "lake" / "raw"

    @property
    def integrated(self) -> Path:
        """Integrated zone: cleaned sources and derived tables."""
        return self.home / "lake" / "integrated"

    @property
    def features(self) -> Path:
        """Feature snapshots."""
        return self.home / "lake" / "features"

    @property
    def reports(self) -> Path:
        """HTML and JSON reports."""
        return self.home / "reports"

    @property
    def models(self) -> Path:
        """Model artefacts and registry."""
        return self.home / "models"

    def table(self, name: str) -> Path:
        """Folder of an integrated table (Parquet files)."""
        return self.integrated / name
