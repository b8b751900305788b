"""The cluster simulator: determinism, the data contract, valid codes, seasonality, defaults,
warning signs, registry history and the CLI."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from loomcredit.domain.errors import InvalidCode
from loomcredit.domain.identity import parse_resident_id, parse_uscc
from loomcredit.domain.seasonality import cny_date
from loomcredit.pipeline.schemas import RAW_SCHEMAS, TRUTH_SCHEMAS
from loomcredit.pipeline.simulate import SimulationConfig, simulate
from loomcredit.pipeline.simulate.config import Timeline
from loomcredit.pipeline.simulate.dynamics import Panel, simulate_panel
from loomcredit.pipeline.simulate.firms import INDUSTRY_CODES, build_firms, build_outsiders
from loomcredit.pipeline.simulate.network import Network, build_network

pytestmark = pytest.mark.integration

RISK_KINDS = ("environmental_penalty", "production_halt", "wage_arrears", "owner_unreachable")


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One small simulated cluster (600 firms × 24 months, faults on) shared by the tests."""
    out = tmp_path_factory.mktemp("sim")
    simulate(SimulationConfig(enterprises=600, months=24, start="2023-01", seed=11), out)
    return out


@pytest.fixture(scope="module")
def con(lake: Path) -> duckdb.DuckDBPyConnection:
    """DuckDB views over every raw source and truth table of the shared run."""
    db = duckdb.connect()
    for zone, names in (("raw", RAW_SCHEMAS), ("truth", TRUTH_SCHEMAS)):
        for name in names:
            path = lake / zone / name / "*.parquet"
            db.sql(f"CREATE VIEW {zone}_{name} AS SELECT * FROM read_parquet('{path}')")
    return db


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_identical_files(tmp_path: Path) -> None:
    """Two runs with the same seed write byte-identical files; another seed differs."""
    config = SimulationConfig(enterprises=120, months=12, seed=4, chunk_size=50)
    simulate(config, tmp_path / "a")
    simulate(config, tmp_path / "b")
    simulate(SimulationConfig(enterprises=120, months=12, seed=5, chunk_size=50), tmp_path / "c")
    first, second = _digest(tmp_path / "a"), _digest(tmp_path / "b")
    assert len(first) > 20
    assert first == second
    assert _digest(tmp_path / "c") != first


def test_every_source_matches_the_contract(lake: Path) -> None:
    """Each raw source and truth table exists with exactly the schema of schemas.py."""
    for zone, schemas in (("raw", RAW_SCHEMAS), ("truth", TRUTH_SCHEMAS)):
        for name, schema in schemas.items():
            parts = sorted((lake / zone / name).glob("part-*.parquet"))
            assert parts, f"{zone}/{name} has no parts"
            for part in parts:
                assert pq.read_schema(part).remove_metadata() == schema, f"{zone}/{name}"


def test_usccs_are_valid_except_recorded_faults(con: duckdb.DuckDBPyConnection) -> None:
    """Every USCC passes the GB 32100 check unless truth/faults records it as malformed."""
    codes = con.sql(
        "SELECT seller_uscc FROM raw_invoices UNION SELECT buyer_uscc FROM raw_invoices"
    ).fetchall()
    invalid = [c for (c,) in codes if c is not None and not _valid(c)]
    assert invalid  # the fault injection did produce malformed codes
    con.execute("CREATE OR REPLACE TEMP TABLE invalid_codes (code VARCHAR)")
    con.executemany("INSERT INTO invalid_codes VALUES (?)", [(c,) for c in invalid])
    unexplained = con.sql(
        "SELECT count(*) FROM raw_invoices WHERE (seller_uscc IN (SELECT code FROM invalid_codes) "
        "OR buyer_uscc IN (SELECT code FROM invalid_codes)) AND invoice_id NOT IN "
        "(SELECT key FROM truth_faults WHERE source = 'invoices' AND fault = 'malformed_uscc')"
    ).fetchall()[0][0]
    assert unexplained == 0
    faulty_codes = {
        k.split("|")[0]
        for (k,) in con.sql(
            "SELECT key FROM truth_faults WHERE source<>'invoices' AND fault='malformed_uscc'"
        ).fetchall()
    }
    for source in ("registry", "tax", "utilities", "social_insurance", "bureau", "bank_flows"):
        for (code,) in con.sql(f"SELECT DISTINCT uscc FROM raw_{source}").fetchall():
            if not _valid(code):
                assert code in faulty_codes, (source, code)
    regions = dict(
        con.sql(
            "SELECT substr(uscc, 3, 6), count(*) FROM raw_registry "
            "WHERE change_type='registration' GROUP BY 1"
        ).fetchall()
    )
    assert max(regions, key=regions.__getitem__) == "330603"  # mostly 柯桥
    assert regions.get("330621", 0) > 0  # some historic 绍兴县 codes


def _valid(code: str) -> bool:
    try:
        parse_uscc(code, allow_legacy=False)
    except InvalidCode:
        return False
    return True


def test_legal_rep_ids_and_industries_are_valid(con: duckdb.DuckDBPyConnection) -> None:
    """Legal reps' IDs pass GB 11643; industry codes are known except recorded faults."""
    rows = con.sql("SELECT legal_rep_id, industry_code FROM raw_registry").fetchall()
    for rep_id, _ in rows:
        parse_resident_id(rep_id, on=date(2025, 1, 1))
    unknown = sum(1 for _, code in rows if code not in INDUSTRY_CODES)
    recorded = con.sql(
        "SELECT count(*) FROM truth_faults WHERE fault='unknown_industry'"
    ).fetchall()[0]
    assert unknown == recorded[0]
    mix = dict(
        con.sql(
            "SELECT industry_code, count(*) FROM raw_registry "
            "WHERE change_type='registration' GROUP BY 1"
        ).fetchall()
    )
    for code in ("C1752", "C1751", "C2822", "F5131"):
        assert mix.get(code, 0) > 0


def _monthly_sales(con: duckdb.DuckDBPyConnection) -> dict[tuple[int, int], float]:
    rows = con.sql(
        """
        SELECT year(issued_on), month(issued_on),
               sum(CASE status WHEN 'normal' THEN amount_fen WHEN 'red' THEN -amount_fen
                   ELSE 0 END)::DOUBLE
        FROM raw_invoices
        WHERE invoice_id NOT IN (SELECT key FROM truth_faults WHERE source = 'invoices')
          AND seller_uscc IN (SELECT uscc FROM raw_registry)
        GROUP BY 1, 2
        """
    ).fetchall()
    return {(y, m): s for y, m, s in rows}


def test_cluster_seasonality_is_visible(con: duckdb.DuckDBPyConnection) -> None:
    """Sep–Oct sales exceed Jul–Aug, and the month of Spring Festival is below the year's mean."""
    sales = _monthly_sales(con)
    for year in (2023, 2024):
        assert sales[year, 9] + sales[year, 10] > 1.15 * (sales[year, 7] + sales[year, 8])
        cny = cny_date(year)
        mean = sum(sales[year, m] for m in range(1, 13)) / 12
        assert sales[year, cny.month] < 0.8 * mean


def _panel(rate: float) -> tuple[Network, Panel]:
    timeline = Timeline(2023, 1, 36)
    firms = build_firms(8000, timeline, 21)
    net = build_network(firms, build_outsiders(8000, 21), 21)
    return net, simulate_panel(firms, net, timeline, rate, 21)


def test_realised_default_rate_near_configured() -> None:
    """Over 8,000 firms × 36 months the annual default rate is within ±1 point of the setting."""
    for rate in (0.03, 0.06):
        _, panel = _panel(rate)
        exposure_years = float(((panel.post < 0) & panel.active).sum()) / 12
        realised = float((panel.default_t >= 0).sum()) / exposure_years
        assert realised == pytest.approx(rate, abs=0.01)


def test_a_big_buyers_default_raises_its_suppliers_defaults() -> None:
    """Suppliers selling over 20 % to a buyer that defaulted default within 12 months at least
    1.8 times as often as the cluster's base rate (contagion through the supply chain)."""
    net, panel = _panel(0.03)
    d = panel.default_t
    share = net.weight * panel.purchases[net.buyer].mean(axis=1)
    share /= np.maximum(panel.total[net.seller].mean(axis=1), 1.0)
    hit_at: dict[int, int] = {}
    for seller, buyer, big in zip(net.seller, net.buyer, share > 0.2, strict=True):
        if big and d[buyer] >= 0:
            hit_at[int(seller)] = min(hit_at.get(int(seller), 999), int(d[buyer]))
    exposed = [s for s, t in hit_at.items() if d[s] < 0 or d[s] > t]
    after = [s for s in exposed if hit_at[s] < d[s] <= hit_at[s] + 12]
    assert len(exposed) >= 50
    base_12m = float((d >= 0).sum()) / d.size / 3
    assert len(after) / len(exposed) > 1.8 * base_12m


def test_defaulters_show_warning_signs_first(con: duckdb.DuckDBPyConnection) -> None:
    """In the 6 months before default, defaulters show warning signs far more than others do."""
    defaults = dict(con.sql("SELECT uscc, default_on FROM truth_defaults").fetchall())
    assert len(defaults) >= 15
    signs: dict[str, list[date]] = {}
    queries = (
        "SELECT uscc, filed_on FROM raw_judicial WHERE case_type IN ('enforcement','labour')",
        "SELECT uscc, strptime(period, '%Y-%m')::DATE FROM raw_tax WHERE paid_fen < due_fen",
        "SELECT l.uscc, n.published_on FROM raw_news n JOIN truth_news_labels l USING (doc_id) "
        f"WHERE l.kind IN {RISK_KINDS} AND NOT l.negated",
    )
    for query in queries:
        for uscc, day in con.sql(query).fetchall():
            signs.setdefault(uscc, []).append(day)

    def warned(uscc: str, until: date) -> bool:
        start = until - timedelta(days=183)
        return any(start <= d < until for d in signs.get(uscc, []))

    others = [u for (u,) in con.sql("SELECT DISTINCT uscc FROM raw_registry").fetchall()]
    others = [u for u in others if u not in defaults]
    defaulter_share = np.mean([warned(u, d) for u, d in defaults.items()])
    reference = date(2024, 6, 30)
    other_share = np.mean([warned(u, reference) for u in others])
    assert defaulter_share > 0.6
    assert defaulter_share > 3 * other_share


def test_registry_history_rebuilds_past_state(con: duckdb.DuckDBPyConnection) -> None:
    """The latest row on or before a date gives that day's state: before the 绍兴县→柯桥 rename the
    name and region are the historic ones (330621), after it the current ones (330603)."""
    rows = con.sql(
        "SELECT uscc, name, region_code, change_type, changed_on FROM raw_registry "
        "WHERE concat_ws('|', uscc, changed_on, change_type) NOT IN "
        "(SELECT key FROM truth_faults WHERE source = 'registry' AND fault <> 'unknown_industry') "
        "ORDER BY uscc, changed_on, change_type <> 'registration'"
    ).fetchall()
    history: dict[str, list[tuple[date, str, str, str]]] = {}
    for uscc, name, region, change, day in rows:
        history.setdefault(uscc, []).append((day, change, name, region))

    def state_on(uscc: str, day: date) -> tuple[str, str] | None:
        past = [(n, r) for d, _, n, r in history[uscc] if d <= day]
        return past[-1] if past else None

    checked = 0
    # a faulted registration row (malformed code) leaves a few histories without their first row
    first_is_registration = [events[0][1] == "registration" for events in history.values()]
    assert np.mean(first_is_registration) > 0.97
    for uscc, events in history.items():
        renames = [e for e in events if e[1] == "name" and e[2].startswith("绍兴柯桥")]
        if not renames or events[0][1] != "registration":
            continue
        day = renames[0][0]
        before, after = state_on(uscc, day - timedelta(days=1)), state_on(uscc, day)
        assert before is not None
        assert after is not None
        assert before[0].startswith("绍兴县")
        assert before[1] == "330621"
        assert after[0].startswith("绍兴柯桥")
        assert after[1] == "330603"
        assert state_on(uscc, events[0][0] - timedelta(days=1)) is None
        checked += 1
    assert checked >= 3


def test_news_names_firms_by_abbreviation_and_negation(con: duckdb.DuckDBPyConnection) -> None:
    """Some news names a firm only by a variant, and some items deny an event (「未…」)."""
    row = con.sql(
        "SELECT count(*) FILTER (WHERE n.mentioned_name NOT IN (SELECT name FROM raw_registry)), "
        "count(*) FILTER (WHERE l.negated AND n.body LIKE '%未%'), count(*) "
        "FROM raw_news n JOIN truth_news_labels l USING (doc_id)"
    ).fetchall()[0]
    variants, negated, total = row
    assert total > 50
    assert 0 < variants < total
    assert negated > 0


def test_cli_writes_csv_and_rejects_bad_input(tmp_path: Path) -> None:
    """`--format csv|jsonl` write those formats (truth stays Parquet); bad input exits non-zero."""
    from loomcredit.entrypoints.cli.main import app

    runner = CliRunner()
    out = tmp_path / "lake"
    result = runner.invoke(
        app, ["simulate", "-n", "30", "--months", "3", "--out", str(out), "--format", "csv"]
    )
    assert result.exit_code == 0, result.output
    assert list((out / "raw" / "invoices").glob("part-*.csv"))
    assert list((out / "truth" / "counterparty_labels").glob("part-*.parquet"))  # truth: Parquet
    jsonl = tmp_path / "jsonl"
    result = runner.invoke(
        app, ["simulate", "-n", "20", "--months", "2", "--out", str(jsonl), "--format", "jsonl"]
    )
    assert result.exit_code == 0, result.output
    first = next((jsonl / "raw" / "registry").glob("part-*.jsonl")).read_text("utf-8")
    rows = [json.loads(line) for line in first.splitlines()]
    assert set(rows[0]) == set(RAW_SCHEMAS["registry"].names)
    assert "registration" in {row["change_type"] for row in rows}
    assert date.fromisoformat(rows[0]["changed_on"]) <= date(2023, 2, 28)
    bad = runner.invoke(app, ["simulate", "-n", "30", "--start", "2023-13", "--out", str(out)])
    assert bad.exit_code != 0


def test_recorded_faults_are_really_in_the_data(con: duckdb.DuckDBPyConnection) -> None:
    """Each kind of fault in truth/faults is visible in the raw rows it names."""
    faults = con.sql("SELECT source, key, fault FROM truth_faults").fetchall()
    kinds = {fault for _, _, fault in faults}
    assert {"duplicate", "malformed_uscc", "fullwidth_uscc", "missing_month"} <= kinds
    assert {"negative_amount", "absurd_amount", "future_date", "unknown_industry"} <= kinds
    counts = dict(
        con.sql(
            "SELECT invoice_id, count(*) FROM raw_invoices GROUP BY 1 HAVING count(*) > 1"
        ).fetchall()
    )
    duplicates = {key for source, key, fault in faults if fault == "duplicate"}
    assert duplicates == set(counts)  # every duplicated invoice id is recorded, and only those
    sellers = dict(
        con.sql(
            "SELECT invoice_id, seller_uscc FROM raw_invoices WHERE invoice_id IN (SELECT key "
            "FROM truth_faults WHERE source = 'invoices' AND fault = 'fullwidth_uscc')"
        ).fetchall()
    )
    for source, key, fault in faults:
        if fault == "fullwidth_uscc":
            code = sellers[key] if source == "invoices" else key.split("|")[0]
            assert code != code.encode("ascii", "ignore").decode()  # has full-width characters
            assert parse_uscc(code).code.isascii()  # valid once normalised
        elif fault == "missing_month" and source == "utilities":
            uscc, month = key.split("|")
            present = con.sql(
                f"SELECT count(*) FROM raw_utilities WHERE uscc = '{uscc}' AND month = '{month}'"
            ).fetchall()[0][0]
            assert present == 0
    future = con.sql(
        "SELECT count(*) FROM raw_invoices WHERE issued_on > DATE '2024-12-31'"
    ).fetchall()[0][0]
    recorded = sum(1 for s, _, f in faults if s == "invoices" and f == "future_date")
    assert future == recorded > 0


@pytest.mark.parametrize(
    "args",
    [
        ["-n", "0"],
        ["-n", "30", "--months", "0"],
        ["-n", "30", "--start", "2023-13"],
        ["-n", "30", "--seed", "-1"],
        ["-n", "30", "--format", "xml"],
        ["-n", "30", "--default-rate", "2"],
        ["-n", "30", "--fault-rate", "-0.1"],
    ],
)
def test_cli_bad_input_is_one_line_and_writes_nothing(tmp_path: Path, args: list[str]) -> None:
    """Each bad setting exits 2 with one ``error:`` line and no traceback; nothing is written."""
    from loomcredit.entrypoints.cli.main import app

    out = tmp_path / "lake"
    result = CliRunner().invoke(app, ["simulate", *args, "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error:")
    assert not out.exists()


def _first_covering_grant(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    """Per enterprise, its bank_flows consents as (granted day, end instant), read row by row."""
    chains: dict[str, list[tuple]] = {}
    for uscc, scopes, granted, expires, revoked in con.sql(
        "SELECT uscc, scopes, granted_at, expires_at, revoked_at FROM raw_consents"
    ).fetchall():
        if "bank_flows" in scopes.split(";"):
            end = expires if revoked is None else min(expires, revoked)
            chains.setdefault(uscc, []).append((granted.date(), end))
    return chains


def test_bank_flows_are_obtained_when_a_consent_covering_them_is_granted(con) -> None:
    """Every bank flow is obtained the day after booking, or on the grant day of the earliest
    consent covering it when that is later: the flows of a lapse carry the renewal day."""
    chains = _first_covering_grant(con)
    rows = con.sql(
        "SELECT uscc, booked_on, obtained_on FROM raw_bank_flows WHERE booked_on < '2030-01-01'"
    ).fetchall()
    late = 0
    for uscc, booked, obtained in rows:
        midnight = datetime.combine(booked, datetime.min.time(), tzinfo=UTC)
        grants = [g for g, end in chains.get(uscc, []) if midnight < end]
        want = max(booked + timedelta(days=1), min(grants)) if grants else None
        assert obtained == want, (uscc, booked)
        late += want is not None and want > booked + timedelta(days=1)
    assert late > 0  # some flows arrive only with a later consent (a lapse's, or a first grant)
    assert all(o is None or o >= b for _u, b, o in rows)


def test_what_arrives_after_the_feed_ends_is_held_back_for_later(tmp_path: Path) -> None:
    """With two months simulated after the feed, ``raw/`` holds only what the bank had on the
    feed's last day (no row obtained later, no court case closed or tax paid later, no consent
    granted or revoked later), and ``arrivals/`` holds every row obtained after it — December's
    invoices among them, and the invoices of both later months."""
    out = tmp_path / "lake"
    simulate(SimulationConfig(enterprises=120, months=12, start="2025-01", seed=5,
                              arrival_months=2), out)  # fmt: skip
    last = date(2025, 12, 31)
    db = duckdb.connect()

    def one(sql: str) -> tuple:
        return db.execute(sql.replace("RAW", str(out / "raw")).replace(
            "LATER", str(out / "arrivals"))).fetchall()[0]  # fmt: skip

    for source in RAW_SCHEMAS:
        if source == "consents":
            continue
        (late,) = one(f"SELECT count(*) FROM read_parquet('RAW/{source}/*.parquet') "
                      f"WHERE obtained_on > DATE '{last}'")  # fmt: skip
        assert late == 0, source
    (early,) = one("SELECT count(*) FROM read_parquet('LATER/*/*.parquet', union_by_name=true) "
                   f"WHERE obtained_on <= DATE '{last}'")  # fmt: skip
    assert early == 0
    closed = one(f"SELECT count(*) FILTER (WHERE closed_on > DATE '{last}') "
                 "FROM read_parquet('RAW/judicial/*.parquet')")  # fmt: skip
    paid = one(f"SELECT count(*) FILTER (WHERE paid_on > DATE '{last}') "
               "FROM read_parquet('RAW/tax/*.parquet')")  # fmt: skip
    consents = one(f"SELECT count(*) FILTER (WHERE granted_at > TIMESTAMPTZ '{last} 23:59:59+00' "
                   f"OR revoked_at > TIMESTAMPTZ '{last} 23:59:59+00') "
                   "FROM read_parquet('RAW/consents/*.parquet')")  # fmt: skip
    assert (closed, paid, consents) == ((0,), (0,), (0,))
    months = {r[0] for r in db.execute(
        f"SELECT DISTINCT date_trunc('month', issued_on)::DATE FROM "
        f"read_parquet('{out}/arrivals/invoices/*.parquet')").fetchall()}  # fmt: skip
    assert {date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1)} <= months
    (december,) = one(
        "SELECT count(*) FROM read_parquet('RAW/invoices/*.parquet') WHERE issued_on >= "
        f"DATE '2025-12-01' AND obtained_on IS NOT NULL AND invoice_id NOT IN (SELECT key FROM "
        f"read_parquet('{out}/truth/faults/*.parquet'))"
    )  # December's invoices come with January's batch (a faulted date aside)
    assert december == 0
    (future,) = one("SELECT count(*) FROM read_parquet('RAW/invoices/*.parquet') WHERE "
                    f"issued_on > DATE '{last}' AND invoice_id NOT IN (SELECT key FROM "
                    f"read_parquet('{out}/truth/faults/*.parquet'))")  # fmt: skip
    assert future == 0  # nothing of the later months, obtained or not
