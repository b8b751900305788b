"""`loom ingest` on hand-built feeds with injected faults: counts, quarantine, consent, PII,
re-ingest, appends and failures."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from loomcredit.domain.identity import keyed_hash
from loomcredit.pipeline.ingest import IngestError, LakePaths, ingest
from loomcredit.pipeline.ingest.pii import decrypt
from loomcredit.pipeline.schemas import CONSENTED_SOURCES

from . import ingest_fixtures as fx

pytestmark = pytest.mark.integration
KEY = bytes(range(32))


def _rows(lake: LakePaths, table: str, where: str = "TRUE") -> list[tuple[object, ...]]:
    folder = lake.table(table)
    return duckdb.sql(f"SELECT * FROM read_parquet('{folder}/*.parquet') WHERE {where}").fetchall()


def _tree(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> tuple[LakePaths, Path, object]:
    root = tmp_path_factory.mktemp("ingest")
    feed = fx.write_feed(root / "feed")
    lake = LakePaths(root / "home")
    summary = ingest(feed, lake, pii_key=KEY, as_of=fx.AS_OF)
    return lake, feed, summary


def test_rows_in_equal_accepted_plus_quarantined_for_every_file(ingested) -> None:
    """For each file: rows in (read independently) = rows accepted + rows quarantined, exactly."""
    lake, _feed, summary = ingested
    for count in summary.files:
        rows_in_file = pq.read_metadata(count.file).num_rows
        assert count.rows_in == rows_in_file
        assert count.accepted + count.quarantined == rows_in_file
        quarantined = _rows(lake, "quarantine", f"file = '{count.file}'")
        assert len(quarantined) == count.quarantined
        run_file = lake.table(count.source) / f"part-r{summary.run_id:05d}.parquet"
        assert pq.read_metadata(run_file).num_rows == count.accepted


def test_every_injected_fault_is_quarantined_with_its_reason(ingested) -> None:
    """Each injected fault lands in quarantine under its reason class."""
    lake, _feed, _summary = ingested
    found: dict[tuple[str, str], int] = {}
    for source, reasons in duckdb.sql(
        f"SELECT source, reasons FROM read_parquet('{lake.table('quarantine')}/*.parquet')"
    ).fetchall():
        for cls in {r.split(":")[0] for r in reasons.split(";")}:
            found[(source, cls)] = found.get((source, cls), 0) + 1
    for fault, n in fx.FAULTS.items():
        assert found.get(fault) == n, fault


def test_fullwidth_uscc_is_normalised_not_rejected(ingested) -> None:
    """A USCC written in full-width characters is normalised and the row accepted."""
    lake, _feed, _summary = ingested
    rows = _rows(lake, "invoices", "invoice_id = 'INVFW'")
    assert len(rows) == 1
    assert rows[0][1] == fx.A


def test_enterprise_without_consent_contributes_nothing(ingested) -> None:
    """Enterprise C has no consent: none of its own rows is accepted, nothing is aggregated for
    it, and its sales invoices survive only as A's purchases (under A's consent, not C's)."""
    lake, _feed, _summary = ingested
    for source in CONSENTED_SOURCES - {"invoices"}:
        assert _rows(lake, source, f"uscc = '{fx.C}'") == [], source
    assert _rows(lake, "monthly_activity", f"uscc = '{fx.C}'") == []
    kept = duckdb.sql(
        f"SELECT DISTINCT buyer_uscc, consent_id, buyer_consent_id FROM "
        f"read_parquet('{lake.table('invoices')}/*.parquet') WHERE seller_uscc = '{fx.C}'"
    ).fetchall()
    assert kept == [(fx.A, None, f"CS-{fx.A[-4:]}")]
    edges = _rows(lake, "supply_edges", f"seller_uscc = '{fx.C}' AND seller_consented")
    assert edges == []
    held = _rows(lake, "quarantine", f"reasons LIKE '%consent:%' AND row LIKE '%{fx.C}%'")
    assert len(held) >= 1 + 1 + 3 + 3 + 1  # tax, invoice to outsider, utilities, SI, bureau


def test_invoice_is_kept_when_either_party_consented_and_held_when_neither(ingested) -> None:
    """An invoice is evidence about both parties: kept under the seller's or the buyer's consent,
    held back (``consent:invoices``) only when neither consented."""
    lake, _feed, _summary = ingested
    got = {
        inv: (seller_cid, buyer_cid)
        for inv, seller_cid, buyer_cid in duckdb.sql(
            f"SELECT invoice_id, consent_id, buyer_consent_id FROM "
            f"read_parquet('{lake.table('invoices')}/*.parquet') "
            "WHERE invoice_id IN ('INV0100', 'INV0101', 'INV0102', 'INV0103')"
        ).fetchall()
    }
    cs_a, cs_b = f"CS-{fx.A[-4:]}", f"CS-{fx.B[-4:]}"
    assert got == {
        "INV0100": (cs_b, cs_a),  # B → A: both
        "INV0101": (cs_a, None),  # A → outside buyer: seller only
        "INV0102": (cs_a, None),  # A → consumer: seller only
        "INV0103": (None, cs_a),  # C → A: buyer only
    }
    held = _rows(lake, "quarantine", "source = 'invoices' AND row LIKE '%INVCX%'")
    assert [r[4] for r in held] == ["consent:invoices"]


def test_supply_edges_say_which_end_consented(ingested) -> None:
    """Each edge records whether the seller's and the buyer's consent covered it."""
    lake, _feed, _summary = ingested
    flags = {
        (s, b): (sc, bc)
        for s, b, sc, bc in duckdb.sql(
            f"SELECT seller_uscc, buyer_uscc, bool_or(seller_consented), bool_or(buyer_consented) "
            f"FROM read_parquet('{lake.table('supply_edges')}/*.parquet') GROUP BY 1, 2"
        ).fetchall()
    }
    assert flags == {
        (fx.B, fx.A): (True, True),
        (fx.A, fx.BUYER): (True, False),
        (fx.C, fx.A): (False, True),
    }


def test_features_use_an_invoice_only_for_its_consenting_party(ingested, tmp_path: Path) -> None:
    """In the feature snapshot C (no consent) has no sales, buyers or PageRank from A's
    purchase invoices, while A counts C among its suppliers."""
    from datetime import date

    from loomcredit.pipeline.features.snapshot import build_snapshot

    lake, _feed, _summary = ingested
    out = build_snapshot(lake, date(2024, 3, 31), out=tmp_path / "snap.parquet")
    rows = {r["uscc"]: r for r in pq.read_table(out).to_pylist()}
    assert rows[fx.A]["suppliers_12m"] == 2  # B and C
    assert rows[fx.A]["buyers_12m"] == 1  # the outside buyer (the consumer is no edge)
    c = rows[fx.C]
    assert c["sales_12m_fen"] == 0
    assert c["buyers_12m"] == 0
    assert c["network_pagerank"] is None
    assert rows[fx.A]["network_pagerank"] is not None


def test_consented_rows_record_their_consent(ingested) -> None:
    """Rows of a consented source carry the id of the consent they were taken under."""
    lake, _feed, _summary = ingested
    ids = {r[0] for r in duckdb.sql(
        f"SELECT DISTINCT consent_id FROM read_parquet('{lake.table('utilities')}/*.parquet')"
    ).fetchall()}  # fmt: skip
    assert ids == {f"CS-{fx.A[-4:]}", f"CS-{fx.B[-4:]}"}


def test_personal_id_never_plaintext_in_lake_or_reports(ingested) -> None:
    """Legal representatives' ID numbers appear nowhere in plaintext; they decrypt with the key."""
    lake, _feed, _summary = ingested
    for path in lake.home.rglob("*"):
        if path.is_file() and path.name != "pii.key":
            data = path.read_bytes()
            for rep in (fx.REP_A, fx.REP_B, fx.REP_C):
                assert rep.encode() not in data, path
    enc, digest = duckdb.sql(
        f"SELECT legal_rep_id_enc, legal_rep_id_hash FROM "
        f"read_parquet('{lake.table('enterprise')}/*.parquet') WHERE uscc = '{fx.A}'"
    ).fetchall()[0]
    assert decrypt(enc, KEY) == fx.REP_A
    assert digest == keyed_hash(fx.REP_A, KEY)


def test_historic_region_code_is_mapped_to_current(ingested) -> None:
    """An enterprise registered under 绍兴县 330621 is in 柯桥区 330603 now (DOMAIN.md §3)."""
    lake, _feed, _summary = ingested
    region, issued = duckdb.sql(
        f"SELECT region_code, region_code_issued FROM "
        f"read_parquet('{lake.table('enterprise')}/*.parquet') WHERE uscc = '{fx.B}'"
    ).fetchall()[0]
    assert (region, issued) == ("330603", "330621")


def _month_sums(lake: LakePaths, where: str) -> dict[str, tuple[object, ...]]:
    """Per enterprise: sales, purchases and kWh of ``monthly_activity`` rows (a month's partial
    rows, one per day the figures became known, added up)."""
    folder = lake.table("monthly_activity")
    return {
        r[0]: r[1:]
        for r in duckdb.sql(
            f"SELECT uscc, sum(sales_fen), sum(purchases_fen), sum(kwh) "
            f"FROM read_parquet('{folder}/*.parquet') WHERE {where} GROUP BY uscc"
        ).fetchall()
    }


def test_monthly_sales_net_of_void_and_red_invoices(ingested) -> None:
    """January sales of A = normal invoices − red-letter, voids excluded (hand sum: 6,500,000)."""
    lake, _feed, _summary = ingested
    sums = _month_sums(lake, "month = DATE '2024-01-01'")
    # INV0101 2,000,000 + INV0102 3,000,000 + INVFW 2,000,000 − red 500,000; void and dup excluded
    assert sums[fx.A][0] == 6_500_000


def test_monthly_purchases_come_from_the_buyers_consented_invoices(ingested) -> None:
    """A's January purchases are B's invoice (1,000,000) and C's (4,000,000): A's consent covers
    its purchase invoices whoever the seller is."""
    lake, _feed, _summary = ingested
    assert _month_sums(lake, "month = DATE '2024-01-01'")[fx.A][1] == 5_000_000


def test_monthly_partials_are_known_when_their_source_is(ingested) -> None:
    """A's January: the invoice sums are known on 15 February, the power row on 10 March."""
    lake, _feed, _summary = ingested
    rows = duckdb.sql(
        f"SELECT known_on, sales_fen, kwh FROM "
        f"read_parquet('{lake.table('monthly_activity')}/*.parquet') "
        f"WHERE uscc = '{fx.A}' AND month = DATE '2024-01-01'"
    ).fetchall()
    assert (fx.date(2024, 2, 15), 6_500_000, None) in rows
    assert (fx.date(2024, 3, 10), 0, 10_000) in rows


def test_news_names_resolved_and_negated_events_dropped(ingested) -> None:
    """News naming a firm by abbreviation is linked; 「未发生停产」 yields no halt event."""
    lake, _feed, _summary = ingested
    linked = dict(duckdb.sql(
        f"SELECT doc_id, uscc FROM read_parquet('{lake.table('news')}/*.parquet')"
    ).fetchall())  # fmt: skip
    assert linked == {"N1": fx.B, "N2": fx.A, "N3": fx.A}
    events = {(r[0], r[2]) for r in _rows(lake, "risk_events", "source = 'news'")}
    assert (fx.B, "environmental_penalty") in events
    assert (fx.A, "production_halt") not in events
    assert (fx.A, "award") in events


def test_bank_flow_counterparties_resolved_by_name(ingested) -> None:
    """Bank-flow counterparties named by abbreviation get the right USCC; strangers stay null."""
    lake, _feed, _summary = ingested
    got = {r[0]: r[1] for r in duckdb.sql(
        f"SELECT counterparty_name, counterparty_uscc FROM "
        f"read_parquet('{lake.table('bank_flows')}/*.parquet')"
    ).fetchall()}  # fmt: skip
    assert got == {"柯桥永盛化纤": fx.B, "恒达印染": fx.A, "杭州某某服饰有限公司": None}


def test_reingesting_the_same_files_changes_nothing(ingested) -> None:
    """A second ingest of the same files reads nothing and leaves the integrated zone identical."""
    lake, feed, _summary = ingested
    before = _tree(lake.integrated)
    again = ingest(feed, lake, pii_key=KEY, as_of=fx.AS_OF)
    assert again.run_id is None
    assert again.rows_in == 0
    assert all(f.skipped for f in again.files)
    assert _tree(lake.integrated) == before


def test_a_new_month_appends_and_leaves_earlier_months_untouched(tmp_path: Path) -> None:
    """Ingesting April after January–March adds April rows and rewrites no earlier month."""
    lake = LakePaths(tmp_path / "home")
    ingest(fx.write_feed(tmp_path / "m1"), lake, pii_key=KEY, as_of=fx.AS_OF)
    before = _tree(lake.table("monthly_activity"))
    april = {
        "utilities": [{"uscc": fx.A, "month": fx.date(2024, 4, 1), "kwh": 40_000, "steam_t": 1.0}],
        "invoices": [{"invoice_id": "INV0401", "seller_uscc": fx.A, "buyer_uscc": fx.B,
                      "issued_on": fx.date(2024, 4, 3), "amount_fen": 900_000, "tax_fen": 117_000,
                      "status": "normal"}],
    }  # fmt: skip
    summary = ingest(
        fx.write_feed(tmp_path / "m2", sources=april, part=1), lake, pii_key=KEY,
        as_of=fx.date(2024, 4, 30),
    )  # fmt: skip
    assert summary.accepted == 2
    after = _tree(lake.table("monthly_activity"))
    assert {k: v for k, v in after.items() if k in before} == before
    assert set(after) - set(before) == {"part-202404.parquet"}
    sums = _month_sums(lake, "month = DATE '2024-04-01'")
    assert {u: (s[0], s[2]) for u, s in sums.items()} == {fx.A: (900_000, 40_000), fx.B: (0, None)}


def test_corrupt_file_is_one_error_and_keeps_the_lake(ingested, tmp_path: Path) -> None:
    """A corrupt file stops the run with a clear error and nothing already ingested changes."""
    lake, _feed, _summary = ingested
    before = _tree(lake.integrated)
    feed = fx.write_feed(tmp_path / "bad", sources={"market": fx.market()}, part=7)
    (feed / "raw" / "market" / "part-00008.parquet").write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(IngestError, match="part-00008"):
        ingest(feed, lake, pii_key=KEY, as_of=fx.AS_OF)
    assert _tree(lake.integrated) == before
    assert not (lake.home / "lake" / "_staging").exists()


def test_missing_path_is_an_ingest_error(tmp_path: Path) -> None:
    """A path that does not exist is an IngestError naming it."""
    with pytest.raises(IngestError, match="no such file"):
        ingest(tmp_path / "nowhere", LakePaths(tmp_path / "home"), pii_key=KEY)


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_csv_and_json_lines_feeds_ingest_like_parquet(ingested, tmp_path: Path, fmt: str) -> None:
    """The same feed in CSV or JSON Lines gives the same per-source counts as Parquet."""
    _lake, _feed, parquet_summary = ingested
    summary = ingest(
        fx.write_feed(tmp_path / "feed", fmt=fmt), LakePaths(tmp_path / "home"), pii_key=KEY,
        as_of=fx.AS_OF,
    )  # fmt: skip
    expected = {k: (v.rows_in, v.accepted) for k, v in parquet_summary.sources.items()}
    assert {k: (v.rows_in, v.accepted) for k, v in summary.sources.items()} == expected


def test_quality_report_is_offline_html_and_json(tmp_path: Path) -> None:
    """The report embeds plotly inline (no network) and its JSON reconciles the run's counts."""
    summary = ingest(fx.write_feed(tmp_path / "feed"), LakePaths(tmp_path / "home"), pii_key=KEY,
                     as_of=fx.AS_OF)  # fmt: skip
    page = summary.report_html.read_text(encoding="utf-8")
    assert "Plotly.newPlot" in page
    assert 'src="http' not in page
    data = json.loads(summary.report_json.read_text(encoding="utf-8"))
    run = data["this_run"]
    assert run["rows_in"] == run["accepted"] + run["quarantined"] == 64
    assert data["coverage"]["enterprises"] == 3


def test_revoked_consent_keeps_earlier_rows_and_holds_later_ones(tmp_path: Path) -> None:
    """B revoked its consent on 2024-02-15: its January and February power rows stay, March is
    held back; a consent whose purposes do not cover the use (collection only) covers nothing."""
    consents = fx.consents()
    consents[1]["revoked_at"] = fx._ts(fx.date(2024, 2, 15))
    consents[0]["purposes"] = "collection"
    feed = fx.write_feed(
        tmp_path / "feed",
        sources={"consents": consents, "registry": fx.registry(), "utilities": fx.utilities()},
    )
    lake = LakePaths(tmp_path / "home")
    ingest(feed, lake, pii_key=KEY, as_of=fx.AS_OF)
    kept = {(r[0], r[1].month) for r in _rows(lake, "utilities")}
    assert kept == {(fx.B, 1), (fx.B, 2)}
    held = _rows(lake, "quarantine", "reasons LIKE '%consent:utilities%'")
    assert len(held) == 10 - 2


def test_as_of_defaults_to_the_feed_date(tmp_path: Path) -> None:
    """Without as_of, a feed whose market series ends in March 2024 is checked as of 31 May 2024
    (payments for the last periods arrive later); a 2030 invoice is still in the future."""
    summary = ingest(fx.write_feed(tmp_path / "feed"), LakePaths(tmp_path / "home"), pii_key=KEY)
    assert summary.as_of == "2024-05-31"
    assert summary.quarantine_reasons["future_date"] == 1
