"""Spot checks of the profile against the raw feed, through the simulator and ingest.

The features are computed from the integrated zone; here every checked value is recomputed by
hand from the *raw* files the simulator wrote (fault rate 0), with the agreed availability lags.
Consent-gated sources are checked for the enterprises whose rows ingest let through (the others
have no live consent for that source and rightly get nothing).
"""

from __future__ import annotations

import os
from collections import defaultdict
from datetime import UTC, date, datetime

import pyarrow.parquet as pq
import pytest

from loomcredit.pipeline.features.snapshot import build_snapshot
from loomcredit.pipeline.schemas import LakePaths

pytestmark = [pytest.mark.integration, pytest.mark.slow]

AS_OF = date(2025, 6, 30)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from loomcredit.pipeline.ingest import ingest
    from loomcredit.pipeline.simulate.config import SimulationConfig
    from loomcredit.pipeline.simulate.run import simulate

    home = tmp_path_factory.mktemp("sim")
    lake = LakePaths(home)
    simulate(SimulationConfig(enterprises=40, months=36, fault_rate=0.0), home / "lake")
    ingest(home / "lake", lake, pii_key=os.urandom(32))
    snap = {r["uscc"]: r for r in pq.read_table(build_snapshot(lake, AS_OF)).to_pylist()}
    raw = {
        name: pq.read_table(home / "lake" / "raw" / name).to_pylist()
        for name in ("invoices", "judicial", "bureau", "bank_flows", "tax", "utilities")
    }
    consented = _covered(pq.read_table(lake.table("consents")).to_pylist())
    return snap, raw, consented


def _covered(consents):
    """Per source, the enterprises with a live consent from June 2024 to AS_OF (ingest drops
    rows outside consent, rightly)."""
    start = datetime(2024, 6, 1, tzinfo=UTC)
    end = datetime(2025, 7, 1, tzinfo=UTC)
    out = defaultdict(set)
    for c in consents:
        if c["granted_at"] > start or c["expires_at"] < end:
            continue
        if c["revoked_at"] is not None and c["revoked_at"] < end:
            continue
        for scope in c["scopes"].split(";"):
            out[scope].add(c["uscc"])
    return out


def _by(rows, key):
    out = defaultdict(list)
    for r in rows:
        out[r[key]].append(r)
    return out


def test_sales_3m_equals_raw_invoices(world):
    """sales_3m_fen = normal minus red-letter invoices issued March–May 2025 (known 15 June)."""
    snap, raw, consented = world
    sold = defaultdict(int)
    for r in raw["invoices"]:
        if date(2025, 3, 1) <= r["issued_on"] <= date(2025, 5, 31) and r["status"] != "void":
            sold[r["seller_uscc"]] += r["amount_fen"] if r["status"] == "normal" else -abs(
                r["amount_fen"]
            )  # fmt: skip
    checked = [u for u in snap if sold.get(u) and u in consented["invoices"]]
    assert len(checked) >= 10
    for u in checked:
        assert snap[u]["sales_3m_fen"] == sold[u], u


def test_enforcement_24m_equals_raw_court_cases(world):
    """judicial_enforcement_24m counts enforcement cases filed in the 24 months, known 7 days on."""
    snap, raw, _ = world
    cases = _by(raw["judicial"], "uscc")
    for u, row in snap.items():
        want = {
            c["case_id"]
            for c in cases.get(u, [])
            if c["case_type"] == "enforcement"
            and date(2023, 6, 30) < c["filed_on"] <= date(2025, 6, 23)
        }  # fmt: skip
        assert row["judicial_enforcement_24m"] == len(want), u


def test_bureau_fields_equal_latest_known_report(world):
    """Bureau fields come from the latest report filed at least 5 days before the date."""
    snap, raw, consented = world
    reports = _by(raw["bureau"], "uscc")
    checked = 0
    for u, row in snap.items():
        known = [r for r in reports.get(u, []) if r["reported_on"] <= date(2025, 6, 25)]
        if not known or u not in consented["bureau"]:
            continue
        latest = max(known, key=lambda r: r["reported_on"])
        assert row["bureau_overdue_accounts"] == latest["overdue_accounts"], u
        assert row["bureau_max_dpd_24m"] == latest["max_dpd_24m"], u
        assert row["bureau_loans_outstanding_fen"] == latest["loans_outstanding_fen"], u
        checked += 1
    assert checked >= 10


def test_inflow_12m_equals_raw_bank_flows(world):
    """inflow_12m_fen sums inflows booked in the 365 days to the day before the date."""
    snap, raw, consented = world
    inflow = defaultdict(int)
    for r in raw["bank_flows"]:
        if r["direction"] == "in" and date(2024, 6, 29) < r["booked_on"] <= date(2025, 6, 29):
            inflow[r["uscc"]] += r["amount_fen"]
    checked = [u for u in snap if inflow.get(u) and u in consented["bank_flows"]]
    assert len(checked) >= 10
    for u in checked:
        assert snap[u]["inflow_12m_fen"] == inflow[u], u


def test_kwh_3m_equals_raw_utilities(world):
    """kwh_3m sums February–April 2025 (April known on 10 June)."""
    snap, raw, consented = world
    kwh = defaultdict(int)
    for r in raw["utilities"]:
        if date(2025, 2, 1) <= r["month"] <= date(2025, 4, 1):
            kwh[r["uscc"]] += r["kwh"] or 0
    checked = [u for u in snap if kwh.get(u) and u in consented["utilities"]]
    assert len(checked) >= 10
    for u in checked:
        assert snap[u]["kwh_3m"] == kwh[u], u
