"""Derived tables of the integrated zone (DESIGN.md §3), built incrementally with DuckDB.

- ``monthly_activity`` and ``supply_edges`` are stored one file per month (``part-YYYYMM``); a run
  recomputes only the months its new rows touch, so a new month appends a file and re-ingesting
  nothing new touches nothing. An invoice counts in the seller's sales only under the seller's
  invoices consent and in the buyer's purchases only under the buyer's; each supply edge says
  which of its ends consented (``seller_consented``, ``buyer_consented``), and features use an
  end only for its consenting party.
- Arrival: a month's figures are kept as partial rows by the day they became known
  (``known_on``): an enterprise-month whose invoices arrived partly with a consent's renewal has
  one row for what was known on the 15th and one for what came with the renewal; features add up
  the partials known by their date. A side of an invoice is known on ``max(15th of M+1, grant of
  the earliest invoices consent of that party covering it)`` (``seller_known_on``,
  ``buyer_known_on`` on ``supply_edges``; an edge's ``known_on`` is the earlier of the two). The
  tax and bank-flow sums, which features do not read, carry one ``known_on`` per month (the
  latest of their rows). ``enterprise.known_on`` is the first day any registry row of the firm
  was obtained; a risk event's ``known_on`` is its source row's ``obtained_on``.
- ``enterprise`` (one row per USCC: latest registry state, every alias, PII encrypted and hashed)
  is rebuilt when registry rows arrive.
- ``risk_events`` gets one file per run with the events found in that run's new rows: news
  (jieba + lexicon, negation-aware), court cases and registry status changes.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from loomcredit.pipeline import news
from loomcredit.pipeline.arrival import OBTAINED
from loomcredit.pipeline.entity import EntityResolver
from loomcredit.pipeline.ingest.consent import first_grant_join, side_known_sql
from loomcredit.pipeline.schemas import INTEGRATED_SCHEMAS

if TYPE_CHECKING:
    from loomcredit.pipeline.ingest.run import _Run

log = logging.getLogger(__name__)

MONTH_OF = {
    "invoices": "date_trunc('month', issued_on)",
    "utilities": "month",
    "social_insurance": "month",
    "tax": "CAST(period || '-01' AS DATE)",
    "bank_flows": "date_trunc('month', booked_on)",
}
# Court cases that are risk events, with severity (only when the firm is the defendant side).
JUDICIAL_SEVERITY = {
    "enforcement": 3,
    "dishonest": 3,
    "equity_freeze": 3,
    "contract_dispute": 2,
    "labour": 2,
}
SIGNED = (
    "CASE WHEN status = 'normal' THEN amount_fen WHEN status = 'red' THEN -abs(amount_fen) "
    "ELSE 0 END"
)


def _rel(run: _Run, table: str) -> str | None:
    from loomcredit.pipeline.ingest.run import relation

    return relation(run.staged(table))


def build(run: _Run, sources: list[str]) -> None:
    """Stage every derived table the run's new rows affect."""
    months = _affected_months(run, sources)
    if months:
        _monthly_activity(run, months)
        _supply_edges(run, months)
    if "registry" in sources:
        _enterprise(run)
    _risk_events(run, sources)


def _affected_months(run: _Run, sources: list[str]) -> list[str]:
    parts = [
        f"SELECT DISTINCT CAST({expr} AS DATE) AS m FROM fin_{s} WHERE len(_all) = 0"
        for s, expr in MONTH_OF.items()
        if s in sources
    ]
    if not parts:
        return []
    rows = run.con.sql(f"SELECT DISTINCT m FROM ({' UNION ALL '.join(parts)}) ORDER BY m")
    return [r[0].isoformat() for r in rows.fetchall() if r[0] is not None]


def _invoice_sides(inv: str, where: str) -> str:
    """SELECT every invoice of ``inv`` with its month and the day each side became known: for
    a party, the earliest invoices consent covering the issue day (the ingest gate's test, on the
    consents known to this run); NULL when that party has none, so that side is not used."""
    seller = first_grant_join("invoices", "inv.seller_uscc", "inv.issued_on", "gs")
    buyer = first_grant_join("invoices", "inv.buyer_uscc", "inv.issued_on", "gb")
    return (
        f"SELECT inv.*, CAST(date_trunc('month', inv.issued_on) AS DATE) AS month, "
        f"{side_known_sql('invoices', 'inv.issued_on', 'gs.granted_on')} AS seller_known_on, "
        f"{side_known_sql('invoices', 'inv.issued_on', 'gb.granted_on')} AS buyer_known_on "
        f"FROM {inv} AS inv {seller} {buyer} WHERE {where}"
    )


def _month_filter(expr: str, months: list[str]) -> str:
    listed = ", ".join(f"DATE '{m}'" for m in months)
    return f"CAST({expr} AS DATE) IN ({listed})"


def _monthly_activity(run: _Run, months: list[str]) -> None:
    ctes: list[str] = []
    keys: list[str] = []
    inv = _rel(run, "invoices")
    if inv:
        where = _month_filter("date_trunc('month', inv.issued_on)", months)
        ctes.append(f"inv AS ({_invoice_sides(inv, where)})")
        ctes.append(
            "sales AS (SELECT seller_uscc AS uscc, month, seller_known_on AS known_on, "
            f"CAST(sum({SIGNED}) AS BIGINT) AS "
            "sales_fen, count(*) FILTER (WHERE status = 'normal') AS invoices_issued, "
            "count(*) FILTER (WHERE status = 'void') AS invoices_void, "
            "count(*) FILTER (WHERE status = 'red') AS invoices_red, "
            "count(DISTINCT buyer_uscc) FILTER (WHERE status = 'normal') AS buyers "
            "FROM inv WHERE seller_known_on IS NOT NULL GROUP BY 1, 2, 3)"
        )
        ctes.append(
            "purch AS (SELECT buyer_uscc AS uscc, month, buyer_known_on AS known_on, "
            f"CAST(sum({SIGNED}) AS BIGINT) AS "
            "purchases_fen, count(DISTINCT seller_uscc) FILTER (WHERE status = 'normal') AS "
            "sellers FROM inv WHERE buyer_known_on IS NOT NULL GROUP BY 1, 2, 3)"
        )
        keys += ["sales", "purch"]
    # (table, aggregates, month, whether each row's own obtained_on is a key: else the month's
    # latest, for the sums features do not read)
    simple = {
        "util": ("utilities", "CAST(sum(kwh) AS BIGINT) AS kwh, sum(steam_t) AS steam_t", "month"),
        "si": ("social_insurance", "max(insured_headcount) AS headcount", "month"),
        "tx": (
            "tax",
            "CAST(sum(due_fen) AS BIGINT) AS tax_due_fen, CAST(sum(paid_fen) AS BIGINT) AS "
            "tax_paid_fen, CAST(sum(greatest(due_fen - paid_fen, 0)) AS BIGINT) AS "
            "tax_arrears_fen",
            MONTH_OF["tax"],
        ),
        "fl": (
            "bank_flows",
            "CAST(sum(amount_fen) FILTER (WHERE direction = 'in') AS BIGINT) AS inflow_fen, "
            "CAST(sum(amount_fen) FILTER (WHERE direction = 'out') AS BIGINT) AS outflow_fen",
            MONTH_OF["bank_flows"],
        ),
    }
    for alias, (table, aggs, month_expr) in simple.items():
        rel = _rel(run, table)
        if rel:
            if alias in ("util", "si"):
                known, group = "obtained_on AS known_on", "GROUP BY 1, 2, 3"
            else:
                known, group = "max(obtained_on) AS known_on", "GROUP BY 1, 2"
            ctes.append(
                f"{alias} AS (SELECT uscc, CAST({month_expr} AS DATE) AS month, {known}, {aggs} "
                f"FROM {rel} WHERE {_month_filter(month_expr, months)} {group})"
            )
            keys.append(alias)
    if not keys:
        return
    ctes.append(
        "k AS (" + " UNION ".join(f"SELECT uscc, month, known_on FROM {a}" for a in keys) + ")"
    )
    have = set(keys)
    schema = INTEGRATED_SCHEMAS["monthly_activity"]
    source_of = {
        "sales_fen": "sales",
        "invoices_issued": "sales",
        "invoices_void": "sales",
        "invoices_red": "sales",
        "buyers": "sales",
        "purchases_fen": "purch",
        "sellers": "purch",
        "kwh": "util",
        "steam_t": "util",
        "headcount": "si",
        "tax_due_fen": "tx",
        "tax_paid_fen": "tx",
        "tax_arrears_fen": "tx",
        "inflow_fen": "fl",
        "outflow_fen": "fl",
    }
    zero_if_absent = {
        "sales_fen",
        "invoices_issued",
        "invoices_void",
        "invoices_red",
        "buyers",
        "purchases_fen",
        "sellers",
    }
    cols = ["k.uscc", "k.month"]
    for field in schema:
        if field.name in ("uscc", "month", "known_on"):
            continue
        sql_type = "DOUBLE" if pa.types.is_floating(field.type) else "BIGINT"
        alias = source_of[field.name]
        value = f"{alias}.{field.name}" if alias in have else "NULL"
        if field.name in zero_if_absent:
            value = f"coalesce({value}, 0)"
        cols.append(f"CAST({value} AS {sql_type}) AS {field.name}")
    cols.append("k.known_on")
    joins = " ".join(
        f"LEFT JOIN {a} ON {a}.uscc = k.uscc AND {a}.month = k.month "
        f"AND {a}.known_on IS NOT DISTINCT FROM k.known_on"
        for a in keys
    )
    run.sql(
        f"CREATE OR REPLACE TABLE ma_new AS WITH {', '.join(ctes)} "
        f"SELECT {', '.join(cols)} FROM k {joins} WHERE k.uscc IS NOT NULL"
    )
    for month in months:
        out = run.stage_derived("monthly_activity", f"part-{month[:4]}{month[5:7]}.parquet")
        run.sql(
            f"COPY (SELECT * FROM ma_new WHERE month = DATE '{month}' ORDER BY uscc, known_on) "
            f"TO '{out}' (FORMAT parquet)"
        )


def _supply_edges(run: _Run, months: list[str]) -> None:
    inv = _rel(run, "invoices")
    if not inv:
        return
    where = "inv.buyer_uscc IS NOT NULL AND inv.status <> 'void' AND " + _month_filter(
        "date_trunc('month', inv.issued_on)", months
    )
    run.sql(
        "CREATE OR REPLACE TABLE se_new AS SELECT seller_uscc, buyer_uscc, month, "
        f"CAST(sum({SIGNED}) AS BIGINT) AS amount_fen, "
        "CAST(count(*) FILTER (WHERE status = 'normal') AS BIGINT) AS invoices, "
        "seller_known_on IS NOT NULL AS seller_consented, "
        "buyer_known_on IS NOT NULL AS buyer_consented, "
        "least(seller_known_on, buyer_known_on) AS known_on, seller_known_on, buyer_known_on "
        f"FROM ({_invoice_sides(inv, where)}) GROUP BY 1, 2, 3, 9, 10"
    )
    for month in months:
        out = run.stage_derived("supply_edges", f"part-{month[:4]}{month[5:7]}.parquet")
        run.sql(
            f"COPY (SELECT * FROM se_new WHERE month = DATE '{month}' "
            f"ORDER BY seller_uscc, buyer_uscc, seller_known_on, buyer_known_on) "
            f"TO '{out}' (FORMAT parquet)"
        )


def _enterprise(run: _Run) -> None:
    reg = _rel(run, "registry")
    if not reg:
        return
    latest = run.con.sql(
        f"SELECT uscc, name, legal_rep_name, legal_rep_id_enc, legal_rep_id_hash, established_on, "
        f"registered_capital_fen, industry_code, region_code, substr(uscc, 3, 6) AS "
        f"region_code_issued, status, changed_on FROM {reg} "
        "QUALIFY row_number() OVER (PARTITION BY uscc ORDER BY changed_on DESC, "
        "ingested_at DESC, change_type DESC) = 1 ORDER BY uscc"
    ).to_arrow_table()
    first = dict(run.con.sql(f"SELECT uscc, min({OBTAINED}) FROM {reg} GROUP BY uscc").fetchall())
    names = run.con.sql(f"SELECT DISTINCT uscc, name FROM {reg}").fetchall()
    resolver = EntityResolver((str(u), str(n)) for u, n in names)
    usccs = latest.column("uscc").to_pylist()
    aliases = [resolver.aliases(str(u)) for u in usccs]
    table = latest.add_column(2, "aliases", pa.array(aliases, pa.list_(pa.string())))
    table = table.append_column("known_on", pa.array([first.get(u) for u in usccs], pa.date32()))
    table = table.cast(INTEGRATED_SCHEMAS["enterprise"])
    pq.write_table(table, run.stage_derived("enterprise", "part-0.parquet"))


def _risk_events(run: _Run, sources: list[str]) -> None:
    rows: list[dict[str, object]] = []
    if "news" in sources:
        for path in run.new_files.get("news", []):
            docs = pq.read_table(
                path, columns=["doc_id", "published_on", "title", "body", "uscc", OBTAINED]
            ).to_pylist()
            for doc in docs:
                if doc["uscc"] is None:
                    continue
                kind, negated, severity, evidence = news.classify(doc["title"], doc["body"])
                if kind == "none" or negated:
                    continue
                rows.append(
                    {
                        "uscc": doc["uscc"],
                        "occurred_on": doc["published_on"],
                        "kind": kind,
                        "severity": severity,
                        "source": "news",
                        "evidence": f"{doc['doc_id']}: {evidence}"[:500],
                        "known_on": doc[OBTAINED],
                    }
                )
    if "judicial" in sources:
        cases = ", ".join(f"'{k}'" for k in JUDICIAL_SEVERITY)
        for uscc, filed_on, case_type, case_id, known_on in run.con.sql(
            f"SELECT uscc, filed_on, case_type, case_id, {OBTAINED} FROM fin_judicial "
            "WHERE len(_all) = 0 "
            f"AND case_type IN ({cases}) AND role <> 'plaintiff'"
        ).fetchall():
            rows.append(
                {
                    "uscc": uscc,
                    "occurred_on": filed_on,
                    "kind": case_type,
                    "severity": JUDICIAL_SEVERITY[case_type],
                    "source": "judicial",
                    "evidence": str(case_id),
                    "known_on": known_on,
                }
            )
    if "registry" in sources:
        for uscc, changed_on, status, change_type, known_on in run.con.sql(
            f"SELECT uscc, changed_on, status, change_type, {OBTAINED} FROM fin_registry "
            "WHERE len(_all) = 0 "
            "AND (status IN ('吊销', '注销') OR change_type = 'legal_rep')"
        ).fetchall():
            kind, severity = (
                ("deregistered", 3) if status in ("吊销", "注销") else ("legal_rep_change", 1)
            )
            rows.append(
                {
                    "uscc": uscc,
                    "occurred_on": changed_on,
                    "kind": kind,
                    "severity": severity,
                    "source": "registry",
                    "evidence": f"{change_type}: {status}",
                    "known_on": known_on,
                }
            )
    if not rows:
        return
    table = pa.Table.from_pylist(rows, schema=INTEGRATED_SCHEMAS["risk_events"])
    path = run.stage_derived("risk_events", f"part-r{run.run_id:05d}.parquet")
    pq.write_table(table.sort_by([("uscc", "ascending"), ("occurred_on", "ascending")]), path)
