"""`loom ingest` on the simulator's output: faults reconcile, entity resolution and news
extraction measured against the simulator's truth tables."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from loomcredit.pipeline.ingest import IngestSummary, LakePaths, ingest
from loomcredit.pipeline.schemas import NATURAL_KEYS

pytestmark = [pytest.mark.integration, pytest.mark.slow]
KEY = bytes(range(32))
ACCEPTED_FAULTS = {"fullwidth_uscc"}  # valid after normalisation
ABSENT_FAULTS = {"missing_month"}  # the row is not in the feed at all


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, LakePaths, IngestSummary]:
    simulate = pytest.importorskip("loomcredit.pipeline.simulate")
    root = tmp_path_factory.mktemp("sim")
    simulate.simulate(simulate.SimulationConfig(enterprises=400, months=18, seed=11), root / "feed")
    lake = LakePaths(root / "home")
    summary = ingest(root / "feed", lake, pii_key=KEY, truth=root / "feed" / "truth")
    return root / "feed", lake, summary


def _row_key(source: str, row: dict[str, str]) -> str:
    if source == "invoices":
        return row["invoice_id"]
    return "|".join(str(row[k]) for k in NATURAL_KEYS[source])


def _faults(feed: Path) -> list[tuple[str, str, str]]:
    return duckdb.sql(
        f"SELECT source, key, fault FROM read_parquet('{feed}/truth/faults/*.parquet')"
    ).fetchall()


def test_counts_reconcile_on_simulated_feed(simulated) -> None:
    """On every simulated file: rows in = accepted + quarantined, rows in = the file's rows."""
    _feed, _lake, summary = simulated
    for count in summary.files:
        assert count.rows_in == pq.read_metadata(count.file).num_rows
        assert count.accepted + count.quarantined == count.rows_in


def test_every_injected_fault_is_quarantined(simulated) -> None:
    """Each row the simulator broke on purpose (truth/faults) is in quarantine."""
    feed, lake, _summary = simulated
    rows = duckdb.sql(
        f"SELECT source, row FROM read_parquet('{lake.table('quarantine')}/*.parquet')"
    ).fetchall()
    held = {(source, _row_key(source, json.loads(row))) for source, row in rows}
    faults = [(s, k, f) for s, k, f in _faults(feed) if f not in ACCEPTED_FAULTS | ABSENT_FAULTS]
    assert faults
    missed = [(s, k, f) for s, k, f in faults if (s, k) not in held]
    assert missed == []


def test_fullwidth_invoice_codes_are_accepted(simulated) -> None:
    """Invoices whose seller USCC was written full-width are accepted under the normalised code
    (unless held for consent)."""
    feed, lake, _summary = simulated
    ids = [k for s, k, f in _faults(feed) if s == "invoices" and f == "fullwidth_uscc"]
    listed = ", ".join(f"'{i}'" for i in ids)
    found = duckdb.sql(
        f"SELECT invoice_id, seller_uscc FROM read_parquet('{lake.table('invoices')}/*.parquet') "
        f"WHERE invoice_id IN ({listed})"
    ).fetchall()
    assert found
    assert all(seller.isascii() and len(seller) == 18 for _, seller in found)


def test_entity_resolution_meets_targets(simulated) -> None:
    """Names in news and bank flows resolve with precision ≥ 0.95 and recall ≥ 0.90."""
    _feed, _lake, summary = simulated
    m = summary.metrics
    assert m["er_news_labelled"] > 20
    assert m["er_news_precision"] >= 0.95
    assert m["er_news_recall"] >= 0.90
    assert m["er_counterparty_precision"] >= 0.95
    assert m["er_counterparty_recall"] >= 0.90


def test_news_extraction_accuracy(simulated) -> None:
    """The main event (kind and negation) of labelled news is right for ≥ 90 % of items."""
    _feed, _lake, summary = simulated
    assert summary.metrics["news_accuracy"] >= 0.90
    assert summary.metrics["news_false_alarm_rate"] <= 0.05
