"""The enterprise profile on a hand-built integrated zone: spot checks, point in time, outputs."""

from __future__ import annotations

import math
from datetime import date

import ibis
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from loomcredit.pipeline.features.catalogue import catalogue
from loomcredit.pipeline.features.profile import profile
from loomcredit.pipeline.features.snapshot import build_snapshot, compute_snapshot
from loomcredit.pipeline.features.tables import tables_from_arrow
from loomcredit.pipeline.features.training import LABEL, build_training_set
from loomcredit.pipeline.schemas import ROW_DATE, LakePaths

from .feature_fixtures import ANSWERS, AS_OF, RENEWED, A, B, C, D, tables, write_lake

pytestmark = pytest.mark.integration


def snapshot_of(data: dict[str, pa.Table], as_of: date = AS_OF) -> dict[str, dict[str, object]]:
    """Compute a snapshot on in-memory DuckDB and key it by USCC."""
    con = ibis.duckdb.connect()
    table = compute_snapshot(con, tables_from_arrow(con, data), as_of=as_of)
    return {row["uscc"]: row for row in table.to_pylist()}


@pytest.fixture(scope="module")
def snap() -> dict[str, dict[str, object]]:
    return snapshot_of(tables())


SPOTS = [(firm, name, want) for firm, answers in ANSWERS.items() for name, want in answers.items()]


@pytest.mark.parametrize(("firm", "name", "want"), SPOTS, ids=[f"{f[-1]}-{n}" for f, n, _ in SPOTS])
def test_feature_matches_hand_computed_value(snap, firm, name, want):
    """Each spot-checked feature equals the value worked out by hand from the fixture rows."""
    got = snap[firm][name]
    if want is None or isinstance(want, str | int):
        assert got == want
    else:
        assert got == pytest.approx(want, abs=1e-9)


def test_population_is_firms_established_by_the_date(snap):
    """Only enterprises established on or before as_of get a profile (D opens later)."""
    assert set(snap) == {A, B, C}
    assert D not in snap


def test_snapshot_columns_follow_the_catalogue(snap):
    """A snapshot row is uscc, as_of and then every catalogue feature, in catalogue order."""
    assert list(snap[A]) == ["uscc", "as_of", *[f.name for f in catalogue()]]
    assert snap[A]["as_of"] == AS_OF


def _known_on(data: dict[str, pa.Table], day: date) -> dict[str, pa.Table]:
    """The integrated zone as it stood on ``day``: rows dated later or obtained later removed,
    later closures and payments not yet recorded, an edge's end obtained later not yet held."""
    dates = {**ROW_DATE, "enterprise": "established_on", "monthly_activity": "month",
             "supply_edges": "month", "risk_events": "occurred_on"}  # fmt: skip
    out = {}
    for name, table in data.items():
        col = table.column(dates[name])
        if name == "tax":
            keep = pc.less_equal(col, f"{day:%Y-%m}")
        else:
            keep = pc.less_equal(col, pa.scalar(day, pa.date32()))
        for arrival in ("obtained_on", "known_on"):
            if arrival in table.column_names:
                obtained = table.column(arrival)
                later = pc.fill_null(pc.greater(obtained, pa.scalar(day, pa.date32())), False)
                keep = pc.and_(keep, pc.invert(later))
        table = table.filter(keep)
        for end in ("seller", "buyer"):
            if f"{end}_known_on" in table.column_names:
                c = table.column(f"{end}_known_on")
                later = pc.fill_null(pc.greater(c, pa.scalar(day, pa.date32())), False)
                flag = table.column(f"{end}_consented")
                table = table.set_column(
                    table.column_names.index(f"{end}_consented"),
                    f"{end}_consented",
                    pc.if_else(later, pa.scalar(False), flag),
                )
                table = table.set_column(
                    table.column_names.index(f"{end}_known_on"),
                    f"{end}_known_on",
                    pc.if_else(later, pa.nulls(len(table), c.type), c),
                )
        for late in ("closed_on", "paid_on"):
            if late in table.column_names:
                c = table.column(late)
                unknown = pc.greater(c, pa.scalar(day, pa.date32()))
                nulls = pa.nulls(len(table), c.type)
                table = table.set_column(
                    table.column_names.index(late), late, pc.if_else(unknown, nulls, c)
                )
        out[name] = table
    return out


def _scramble_after(data: dict[str, pa.Table], day: date) -> dict[str, pa.Table]:
    """The zone with every sale dated after ``day`` changed, plus a new later firm-month."""
    out = dict(data)
    m = data["monthly_activity"]
    later = pc.greater(m.column("month"), pa.scalar(day, pa.date32()))
    sales = pc.if_else(later, pc.multiply(m.column("sales_fen"), 7), m.column("sales_fen"))
    m = m.set_column(m.column_names.index("sales_fen"), "sales_fen", sales)
    extra = pa.Table.from_pylist(
        [{**m.slice(0, 1).to_pylist()[0], "uscc": B, "month": date(2025, 7, 1), "sales_fen": 1}],
        schema=m.schema,
    )
    out["monthly_activity"] = pa.concat_tables([m, extra])
    return out


def test_features_as_of_d_ignore_data_dated_after_d(snap):
    """Features as of D are identical whether or not data dated after D exists or is changed."""
    world_on_d = snapshot_of(_known_on(tables(), AS_OF))
    scrambled = snapshot_of(_scramble_after(tables(), AS_OF))
    assert world_on_d.keys() == snap.keys() == scrambled.keys()
    for firm in snap:
        for name, value in snap[firm].items():
            for other in (world_on_d, scrambled):
                theirs = other[firm][name]
                if isinstance(value, float) and isinstance(theirs, float):
                    assert math.isclose(value, theirs, abs_tol=1e-12), (firm, name)
                else:
                    assert theirs == value, (firm, name)


def test_later_data_shows_once_its_lag_has_passed():
    """Data dated before D but published after it appears once its lag has passed."""
    later = snapshot_of(tables(), date(2025, 7, 20))
    assert later[A]["bureau_overdue_accounts"] == 3  # report of 28 June, known 3 July
    assert later[A]["registry_status"] == "吊销"  # change of 29 June, known 2 July
    # May paid 5 July; June due, known 20 July; and the lapse's April row, renewed 20 July
    assert later[A]["tax_arrears_fen"] == 99_999 + 30_000
    assert later[A]["judicial_contract_dispute_3m"] == 1  # filed 25 June, known 2 July


def test_a_lapse_shows_once_the_consent_is_renewed():
    """Rows dated before D that A's bank obtained only with its renewal count from that day."""
    before, after = snapshot_of(tables(), date(2025, 7, 19)), snapshot_of(tables(), RENEWED)
    assert after[A]["inflow_12m_fen"] - before[A]["inflow_12m_fen"] == 5_555_555
    assert after[A]["sales_3m_fen"] - before[A]["sales_3m_fen"] == 4_444_444
    assert (before[A]["buyers_12m"], after[A]["buyers_12m"]) == (4, 5)  # Y, from April


def test_build_snapshot_writes_the_agreed_layout(tmp_path):
    """build_snapshot writes lake/features/snapshots/as_of=DATE/part-0.parquet."""
    write_lake(tmp_path)
    lake = LakePaths(tmp_path)
    path = build_snapshot(lake, AS_OF)
    assert path == lake.features / "snapshots" / "as_of=2025-06-30" / "part-0.parquet"
    table = pq.read_table(path)
    assert table.num_rows == 3
    assert table.schema.field("sales_3m_fen").type == pa.int64()
    assert table.schema.field("as_of").type == pa.date32()


def test_training_set_labels_defaults_within_twelve_months(tmp_path):
    """default_12m is 1 for a first default within 12 months; firms already in default drop."""
    write_lake(tmp_path)
    lake = LakePaths(tmp_path)
    labels = tmp_path / "outcomes.csv"
    labels.write_text(
        f"uscc,default_on\n{A},2026-06-30\n{A},2027-01-01\n{C},2025-06-15\n", encoding="utf-8"
    )
    folder = build_training_set(lake, date(2025, 5, 1), date(2025, 6, 1), labels)
    rows = pq.read_table(folder).to_pylist()
    got = {(r["uscc"], r["as_of"]): r[LABEL] for r in rows}
    assert got == {
        (A, date(2025, 5, 31)): 0,  # default 2026-06-30 is 12 months + 30 days later
        (B, date(2025, 5, 31)): 0,
        (C, date(2025, 5, 31)): 1,
        (A, date(2025, 6, 30)): 1,
        (B, date(2025, 6, 30)): 0,
    }


def test_profile_puts_red_signals_first(tmp_path):
    """A profile lists the strongest warning signs first (open enforcement is red for A)."""
    write_lake(tmp_path)
    prof = profile(LakePaths(tmp_path), A, AS_OF)
    assert prof.name == "绍兴甲印染有限公司"
    assert prof.signals[0].level == "red"
    codes = {s.code for s in prof.signals}
    assert {"ENFORCEMENT", "TAX_ARREARS", "LEGAL_REP_CHANGE"} <= codes
    assert "DISHONEST" not in codes


def test_young_firm_on_dishonest_list_gets_red_signal(tmp_path):
    """C's open 失信 case (closure not yet known) is a red sign."""
    write_lake(tmp_path)
    prof = profile(LakePaths(tmp_path), C, AS_OF)
    assert [s.code for s in prof.signals if s.level == "red"] == ["DISHONEST", "ENFORCEMENT"]


def test_missing_tables_give_sparse_profile_not_error():
    """A lake with only the enterprise table still yields a profile (filled defaults)."""
    data = tables()
    only = {"enterprise": data["enterprise"]}
    snap = snapshot_of(only)
    assert snap[A]["sales_12m_fen"] == 0
    assert snap[A]["sales_yoy_3m"] is None
    assert snap[A]["season_factor_09"] == pytest.approx(1.2)


def test_pagerank_matches_networkx():
    """PageRank equals networkx's on a random weighted trade network (scaled by node count)."""
    import networkx as nx
    import numpy as np

    from loomcredit.pipeline.features.network import pagerank

    rng = np.random.default_rng(11)
    pairs: dict[tuple[str, str], int] = {}
    for s, b, a in zip(
        rng.integers(0, 60, 400), rng.integers(0, 60, 400), rng.integers(1, 900, 400), strict=True
    ):
        pairs[(f"S{s}", f"S{b}")] = pairs.get((f"S{s}", f"S{b}"), 0) + int(a)
    edges = pa.table({
        "seller_uscc": [k[0] for k in pairs], "buyer_uscc": [k[1] for k in pairs],
        "amount": pa.array(list(pairs.values()), pa.int64()),
    })  # fmt: skip
    graph = nx.DiGraph()
    graph.add_weighted_edges_from((b, s, float(a)) for (s, b), a in pairs.items())
    want = nx.pagerank(graph, alpha=0.85, tol=1e-13, max_iter=2000)
    got = {r["uscc"]: r["network_pagerank"] for r in pagerank(edges).to_pylist()}
    assert got.keys() == want.keys()
    n = graph.number_of_nodes()
    for node, value in want.items():
        assert got[node] == pytest.approx(value * n, abs=1e-6)
