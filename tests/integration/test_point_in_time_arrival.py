"""Arrival time is part of point in time: the snapshot as of D from the full lake equals the
snapshot from the lake as it stood on D (rows obtained after D removed, ends after D not yet
known), feature for feature, on a simulated cluster whose consents lapse and are renewed."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import ibis
import pytest

from loomcredit.pipeline.features.online import OnlineFeatures
from loomcredit.pipeline.features.snapshot import compute_snapshot
from loomcredit.pipeline.features.tables import load_tables
from loomcredit.pipeline.ingest import LakePaths, ingest

from .pit_fixtures import assert_same_snapshot, cut_feed, differences

pytestmark = [pytest.mark.integration, pytest.mark.slow]
KEY = bytes(range(32))
# 2023-01 … 2025-06; with this seed consents lapse and renew, 2024-12-31 (the issue's date) too
FIRMS, MONTHS, SEED = 300, 30, 4


def _month_ends(first: date, last: date) -> list[date]:
    out, day = [], first
    while day <= last:
        nxt = date(day.year + day.month // 12, day.month % 12 + 1, 1)
        out.append(nxt - timedelta(days=1))
        day = nxt
    return out


def _gap_flows(raw: Path, day: date) -> int:
    """Bank flows booked and published by ``day`` (booked before it) that were obtained only
    after it: the rows a consent's lapse brings in with its renewal."""
    ((n,),) = duckdb.sql(
        f"SELECT count(*) FROM read_parquet('{raw}/bank_flows/*.parquet') "
        f"WHERE booked_on < DATE '{day}' AND obtained_on > DATE '{day}'"
    ).fetchall()
    return int(n)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, LakePaths]:
    simulate = pytest.importorskip("loomcredit.pipeline.simulate")
    root = tmp_path_factory.mktemp("pit")
    config = simulate.SimulationConfig(enterprises=FIRMS, months=MONTHS, seed=SEED, chunk_size=100)
    simulate.simulate(config, root / "feed")
    lake = LakePaths(root / "full")
    ingest(root / "feed", lake, pii_key=KEY)
    return root, lake


def _days_in_a_lapse(raw: Path) -> list[date]:
    """The two month ends (from the second year) with the most lapse flows, and 2024-12-31."""
    ends = _month_ends(date(2024, 1, 1), date(2025, 5, 31))
    counts = {d: _gap_flows(raw, d) for d in ends}
    issue = date(2024, 12, 31)
    others = [d for d in ends if counts[d] > 0 and d != issue]
    return sorted([issue, *sorted(others, key=lambda d: (-counts[d], d))[:2]])


def _snapshot(
    lake: LakePaths, day: date, con: object = None, empty_dir: Path | None = None
) -> dict[str, dict[str, object]]:
    con = con or ibis.duckdb.connect()
    table = compute_snapshot(con, load_tables(con, lake, empty_dir=empty_dir), as_of=day)
    return {row["uscc"]: row for row in table.to_pylist()}


def _held_on(root: Path, day: date, tmp_path: Path) -> LakePaths:
    """The lake ingested from the feed as the bank held it on ``day``."""
    cut_feed(root / "feed" / "raw", day, tmp_path / "cut")
    cut_lake = LakePaths(tmp_path / "home")
    ingest(tmp_path / "cut", cut_lake, pii_key=KEY, as_of=day)
    return cut_lake


@pytest.fixture(scope="module")
def days(cluster) -> list[date]:
    root, _lake = cluster
    return _days_in_a_lapse(root / "feed" / "raw")


@pytest.mark.parametrize("which", [0, 1, 2])
def test_snapshot_from_the_full_lake_equals_the_lake_as_it_stood_on_d(
    cluster, days, which, tmp_path: Path
) -> None:
    """Built from the full lake, the snapshot as of D equals the one built from the lake as the
    bank held it on D, for every enterprise and every feature (PageRank included)."""
    root, lake = cluster
    if which >= len(days):
        pytest.skip("fewer lapse days in this simulated window")
    day = days[which]
    raw = root / "feed" / "raw"
    gap = _gap_flows(raw, day)
    removed = cut_feed(raw, day, tmp_path / "cut")
    cut_lake = LakePaths(tmp_path / "home")
    ingest(tmp_path / "cut", cut_lake, pii_key=KEY, as_of=day)
    # not vacuous: the cut removed lapse rows a row-date filter would keep, and others
    assert gap > 0
    assert removed["bank_flows"] >= gap
    assert removed["invoices"] > 0
    full, held = _snapshot(lake, day), _snapshot(cut_lake, day)
    assert len(full) > FIRMS // 2
    assert_same_snapshot(full, held)


def test_online_vector_from_the_full_lake_equals_the_lake_as_it_stood_on_d(
    cluster, days, tmp_path: Path
) -> None:
    """On demand (SQLite, one firm's rows) from the full lake, the firms in a lapse on D get the
    vector of the lake as it stood on D (PageRank aside: online it comes from a snapshot)."""
    root, lake = cluster
    day = max(days, key=lambda d: _gap_flows(root / "feed" / "raw", d))
    raw = root / "feed" / "raw"
    lapsed = [
        u
        for (u,) in duckdb.sql(
            f"SELECT DISTINCT uscc FROM read_parquet('{raw}/bank_flows/*.parquet') "
            f"WHERE booked_on < DATE '{day}' AND obtained_on > DATE '{day}'"
        ).fetchall()
    ]
    assert lapsed
    held = _snapshot(_held_on(root, day, tmp_path), day)
    online = OnlineFeatures(lake)
    try:
        vectors = {u: online.compute(u, day) for u in lapsed}
    finally:
        online.close()
    for u, vector in vectors.items():
        ours = {u: {k: v for k, v in vector.items() if k != "network_pagerank"}}
        theirs = {u: {k: v for k, v in held[u].items() if k != "network_pagerank"}}
        assert differences(ours, theirs) == []


@pytest.mark.spark
def test_full_lake_on_spark_equals_the_lake_as_it_stood_on_d(cluster, days, tmp_path) -> None:
    """The same features run on PySpark over the full lake give the DuckDB snapshot of the lake
    as it stood on D (floats to 1e-9: the engines add up in different orders)."""
    from loomcredit.pipeline.features.engines import (
        EngineUnavailableError,
        check_engine,
        connect,
        spark_session,
    )

    try:
        check_engine("spark")
    except EngineUnavailableError as exc:
        pytest.skip(str(exc))
    root, lake = cluster
    day = max(days, key=lambda d: _gap_flows(root / "feed" / "raw", d))
    held = _snapshot(_held_on(root, day, tmp_path), day)
    session = spark_session("local[1]")
    try:
        on_spark = _snapshot(lake, day, connect("spark", spark=session), tmp_path / "empty")
    finally:
        session.stop()
    assert_same_snapshot(on_spark, held, rel_tol=1e-9)
