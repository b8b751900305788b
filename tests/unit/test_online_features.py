"""Online features: one enterprise's vector, from the snapshot or computed on demand, fast."""

from __future__ import annotations

import importlib.util
import sys
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from loomcredit.pipeline.features.online import OnlineFeatures
from loomcredit.pipeline.features.snapshot import build_snapshot
from loomcredit.pipeline.schemas import LakePaths


def _fixtures():
    name = "loom_feature_fixtures"
    if name not in sys.modules:
        path = Path(__file__).parents[1] / "integration" / "feature_fixtures.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


ff = _fixtures()


@pytest.fixture(scope="module")
def lake(tmp_path_factory) -> LakePaths:
    home = tmp_path_factory.mktemp("lake")
    ff.write_lake(home)
    return LakePaths(home)


@pytest.fixture(scope="module")
def online(lake) -> OnlineFeatures:
    store = OnlineFeatures(lake)
    yield store
    store.close()


@pytest.mark.slow
def test_on_demand_vector_equals_the_batch_snapshot(lake, online, tmp_path):
    """Computing one enterprise on demand gives exactly its row of the batch snapshot."""
    path = build_snapshot(lake, ff.AS_OF, out=tmp_path / "snap.parquet")
    batch = {r["uscc"]: r for r in pq.read_table(path).to_pylist()}
    for uscc in (ff.A, ff.B, ff.C):
        alone = online.compute(uscc, ff.AS_OF)
        assert alone.keys() == batch[uscc].keys()
        for name, value in batch[uscc].items():
            if name == "network_pagerank":
                continue  # on demand it comes from the latest earlier snapshot (none here)
            assert alone[name] == pytest.approx(value, abs=1e-12), name


def test_spot_values_on_demand(online):
    """The on-demand vector carries the hand-computed values of the fixture."""
    row = online.get(ff.A, ff.AS_OF)
    assert row["sales_3m_fen"] == 3_600_000
    assert row["tax_arrears_fen"] == 50_000
    assert row["judicial_enforcement_open"] == 1


@pytest.mark.slow
def test_newer_data_is_used_after_the_latest_snapshot(lake, tmp_path):
    """A date after the latest snapshot sees data published since; PageRank from the snapshot."""
    home = tmp_path
    ff.write_lake(home)
    fresh = LakePaths(home)
    build_snapshot(fresh, ff.AS_OF)
    store = OnlineFeatures(fresh)
    try:
        later = store.get(ff.A, date(2025, 7, 20))
        on_d = store.get(ff.A, ff.AS_OF)
    finally:
        store.close()
    assert on_d["bureau_overdue_accounts"] == 0
    assert later["bureau_overdue_accounts"] == 3  # bureau report known on 3 July
    assert later["network_pagerank"] == on_d["network_pagerank"]
    assert later["network_pagerank"] is not None


def test_a_built_snapshot_is_served_as_is(tmp_path):
    """When the date has a snapshot, get() returns its row (no recomputation)."""
    ff.write_lake(tmp_path)
    lake = LakePaths(tmp_path)
    path = build_snapshot(lake, ff.AS_OF)
    table = pq.read_table(path)
    doctored = table.set_column(
        table.column_names.index("sales_3m_fen"),
        "sales_3m_fen",
        pa.array([123] * table.num_rows, pa.int64()),
    )
    pq.write_table(doctored, path)
    assert OnlineFeatures(lake).get(ff.A, ff.AS_OF)["sales_3m_fen"] == 123


def test_unknown_enterprise_gives_empty_vector(online):
    """An enterprise not in the lake (or not yet established) yields an empty mapping."""
    assert online.get("91330603MA2Q999999", ff.AS_OF) == {}
    assert online.get(ff.D, ff.AS_OF) == {}


def test_repeated_lookups_are_served_from_the_cache(online, monkeypatch):
    """After the first call for a (uscc, date), lookups come from the cache: nothing is computed
    again (their latency is measured in bench/bench_features.py, ``lookups``)."""
    day = ff.AS_OF - timedelta(days=3)  # a date no other test asks for
    computed: list[tuple[str, date]] = []
    real = online._compute

    def counted(usccs: list[str], as_of: date) -> dict[str, dict[str, object]]:
        computed.extend((uscc, as_of) for uscc in usccs)
        return real(usccs, as_of)

    monkeypatch.setattr(online, "_compute", counted)
    first = online.get(ff.B, day)
    assert all(online.get(ff.B, day) == first for _ in range(1000))
    assert computed == [(ff.B, day)]


@pytest.mark.parametrize("day", [ff.AS_OF, date(2025, 7, 20)], ids=["as-of", "later"])
def test_get_many_in_one_batch_equals_get_one_by_one(lake, online, day):
    """The fixture's enterprises, one not established yet and one unknown, computed in one
    DuckDB batch: every feature equals get's (floats to 1e-12), the last two empty."""
    asked = [ff.A, ff.B, ff.C, ff.D, "91330603MA2Q999999"]
    store = OnlineFeatures(lake, batch_from=1)
    try:
        many = store.get_many(asked, day)
    finally:
        store.close()
    assert list(many) == asked
    for uscc in asked:
        alone = online.get(uscc, day)
        assert many[uscc].keys() == alone.keys(), uscc
        for name, value in alone.items():
            got = many[uscc][name]
            assert type(got) is type(value), name
            if isinstance(value, float):
                assert got == pytest.approx(value, rel=1e-12, abs=1e-12), name
            else:
                assert got == value, name
    assert many[ff.D] == many["91330603MA2Q999999"] == {}


def test_returned_vector_is_a_copy(online):
    """Changing a returned vector does not change what the next caller sees."""
    first = online.get(ff.C, ff.AS_OF)
    first["sales_3m_fen"] = -1
    assert online.get(ff.C, ff.AS_OF)["sales_3m_fen"] == 100_000


def test_warm_holds_every_enterprise_of_the_date(lake):
    """warm() computes the whole date at once; lookups then equal the on-demand vectors."""
    store = OnlineFeatures(lake)
    try:
        later = date(2025, 7, 20)
        alone = store.compute(ff.A, later)
        assert store.warm(later) == 3
        warmed = store.get(ff.A, later)
    finally:
        store.close()
    assert warmed["bureau_overdue_accounts"] == 3
    for name, value in alone.items():
        if name != "network_pagerank":
            assert warmed[name] == pytest.approx(value, abs=1e-12), name


def test_one_row_finish_matches_the_snapshot_finish():
    """The on-demand row gets the snapshot's catalogue order, defaults and types."""
    from loomcredit.pipeline.features.online import _finish
    from loomcredit.pipeline.features.snapshot import finish

    row = {"uscc": ff.A, "sales_3m_fen": 12, "sales_yoy_3m": 0.25, "segment": "dyeing",
           "buyer_hhi_12m": None, "kwh_capacity_score": 110.0, "steam_3m_t": 3}  # fmt: skip
    raw = pa.table({k: pa.array([v], pa.float64() if v is None else None) for k, v in row.items()})
    pagerank = pa.table({"uscc": [ff.A], "network_pagerank": [1.5]})
    want = finish(raw, pagerank, as_of=ff.AS_OF).to_pylist()[0]
    got = _finish(row, 1.5, ff.AS_OF)
    assert list(got) == list(want)
    assert {k: (v, type(v)) for k, v in got.items()} == {k: (v, type(v)) for k, v in want.items()}


def test_one_row_finish_refuses_a_fractional_count():
    """A fractional value for an integer feature is an error, as Arrow's safe cast makes it."""
    from loomcredit.pipeline.features.online import _finish

    with pytest.raises(ValueError, match="sales_3m_fen"):
        _finish({"uscc": ff.A, "sales_3m_fen": 1.5}, None, ff.AS_OF)
