"""Features of a long-running feature source as batches arrive (issue 12), on a simulated cluster.

* A batch with a row obtained on D makes the snapshot as of D out of date: ``LakeIntake.take``
  removes it (and every later one), and the same ``LakeFeatureSource`` / ``OnlineFeatures``
  object, as in ``loom watch``, then serves the new value. The snapshot of D−1 stays.
* ``get_many`` gives, for every enterprise of the cluster and the unknown ones, what ``get`` gives
  one by one: integers and text exactly, floats to 1e-12 (the batch runs on DuckDB, ``get`` on
  SQLite: sums may add in another order).
"""

from __future__ import annotations

import json
import math
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from loomcredit.adapters.feature_source import LakeFeatureSource, snapshot_dir
from loomcredit.adapters.lake_intake import LakeIntake
from loomcredit.domain.errors import NotFound
from loomcredit.pipeline.features.online import OnlineFeatures
from loomcredit.pipeline.features.snapshot import build_snapshot
from loomcredit.pipeline.ingest import LakePaths, ingest
from loomcredit.pipeline.simulate.config import SimulationConfig
from loomcredit.pipeline.simulate.run import simulate
from loomcredit.service_layer.intake import Batch

pytestmark = [pytest.mark.integration, pytest.mark.slow]
KEY = b"k" * 32
D = date(2026, 3, 1)
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
UNKNOWN = "91330603MA2Q999999"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """A small simulated cluster ingested once: (its home, its enterprises)."""
    home = tmp_path_factory.mktemp("cluster")
    simulate(SimulationConfig(enterprises=60, months=24, start="2024-01", seed=5), home / "lake")
    ingest(home / "lake", LakePaths(home), pii_key=KEY)
    firms = duckdb.sql(
        f"SELECT DISTINCT uscc FROM read_parquet('{home}/lake/integrated/enterprise/*.parquet') "
        "ORDER BY uscc"
    ).fetchall()
    return home, [str(u) for (u,) in firms]


@pytest.fixture
def home(tmp_path: Path, cluster: tuple[Path, list[str]]) -> Path:
    """A copy of the cluster's lake with snapshots as of D−1 and D (built in the morning)."""
    shutil.copytree(cluster[0] / "lake" / "integrated", tmp_path / "lake" / "integrated")
    for day in (D - timedelta(days=1), D):
        build_snapshot(LakePaths(tmp_path), day)
    return tmp_path


def _court_case(uscc: str, obtained_on: date) -> Batch:
    row = {"uscc": uscc, "case_id": "(2026)浙0603执77号", "filed_on": "2026-02-20",
           "case_type": "enforcement", "role": "respondent", "amount_fen": 50_000_000,
           "closed_on": None, "obtained_on": obtained_on.isoformat()}  # fmt: skip
    return Batch("judicial", (json.dumps(row, ensure_ascii=False) + "\n").encode(), "court.jsonl")


def test_a_batch_obtained_on_d_replaces_the_snapshot_of_d(
    home: Path, cluster: tuple[Path, list[str]]
) -> None:
    """The snapshot of D said no open enforcement; after a court case obtained on D is taken,
    the same feature sources say one (get and get_many), the snapshot of D is gone and the one
    of D−1, which the case does not reach, is kept and still served."""
    firm = cluster[1][0]
    features = LakeFeatureSource(home)
    online = OnlineFeatures(LakePaths(home))
    batched = OnlineFeatures(LakePaths(home), batch_from=1)  # get_many always in one pass
    before = features.get(firm, D)["judicial_enforcement_open"]
    assert online.get(firm, D)["judicial_enforcement_open"] == before  # snapshot held in memory
    assert features.get(firm, D - timedelta(days=1))["judicial_enforcement_open"] == before
    later = D + timedelta(days=1)  # no snapshot: computed on demand and cached
    assert batched.get_many([firm], later)[firm]["judicial_enforcement_open"] == before

    taken = LakeIntake(home, KEY).take(_court_case(firm, D), NOW)

    assert (taken.accepted, taken.touched) == (1, (firm,))
    assert not snapshot_dir(home, D).exists()
    assert snapshot_dir(home, D - timedelta(days=1)).is_dir()
    assert features.get(firm, D)["judicial_enforcement_open"] == before + 1
    assert features.get_many([firm], D)[firm]["judicial_enforcement_open"] == before + 1
    assert online.get(firm, D)["judicial_enforcement_open"] == before + 1
    assert batched.get_many([firm], later)[firm]["judicial_enforcement_open"] == before + 1
    assert features.snapshots.has(D - timedelta(days=1))
    assert features.get(firm, D - timedelta(days=1))["judicial_enforcement_open"] == before


def test_a_batch_obtained_after_d_keeps_the_snapshot_of_d(
    home: Path, cluster: tuple[Path, list[str]]
) -> None:
    """A case obtained the day after D does not change what the bank held on D: kept."""
    firm = cluster[1][0]
    features = LakeFeatureSource(home)
    before = features.get(firm, D)["judicial_enforcement_open"]
    LakeIntake(home, KEY).take(_court_case(firm, D + timedelta(days=1)), NOW)
    assert snapshot_dir(home, D).is_dir()
    assert features.get(firm, D)["judicial_enforcement_open"] == before


def _same(one: object, many: object) -> bool:
    if isinstance(one, float) and isinstance(many, float):
        return math.isclose(one, many, rel_tol=1e-12, abs_tol=1e-12)
    return type(one) is type(many) and one == many


def test_get_many_equals_get_one_by_one(cluster: tuple[Path, list[str]]) -> None:
    """Every enterprise of the cluster plus an unknown one, on a date with no snapshot: each
    feature of get_many (one DuckDB query over them all) equals get's (SQLite, one at a time);
    the unknown one is empty in both."""
    home, firms = cluster
    asked = [*firms, UNKNOWN, firms[0]]
    one = OnlineFeatures(LakePaths(home))
    alone = {u: one.get(u, D) for u in asked}
    many = OnlineFeatures(LakePaths(home), batch_from=2).get_many(asked, D)
    assert list(many) == list(dict.fromkeys(asked))
    assert many[UNKNOWN] == alone[UNKNOWN] == {}
    assert sum(1 for u in firms if alone[u]) > 40  # most firms have features on D
    for uscc in firms:
        assert many[uscc].keys() == alone[uscc].keys(), uscc
        wrong = [k for k in alone[uscc] if not _same(alone[uscc][k], many[uscc][k])]
        assert not wrong, (uscc, wrong)


def test_the_lake_source_leaves_out_what_get_would_not_find(
    cluster: tuple[Path, list[str]],
) -> None:
    """LakeFeatureSource.get_many, on demand: the vectors get returns; an enterprise get answers
    with NotFound is left out."""
    home, firms = cluster
    source = LakeFeatureSource(home)
    many = source.get_many([UNKNOWN, *firms], D)
    with pytest.raises(NotFound):
        source.get(UNKNOWN, D)
    assert UNKNOWN not in many
    assert set(many) <= set(firms)
    for uscc, row in many.items():
        single = LakeFeatureSource(home).get(uscc, D)
        assert row.keys() == single.keys()
        assert all(_same(single[k], row[k]) for k in single), uscc
