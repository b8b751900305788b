"""`loom decide` against a small lake on disk: one decision (json/table/explain), batch Parquet,
and clear one-line errors. The model is a fake (the scorer is injected at its adapter)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from loomcredit.adapters.scoring_model import ModelScorer
from loomcredit.entrypoints.cli.main import app
from loomcredit.pipeline.schemas import RAW_SCHEMAS

pytestmark = pytest.mark.integration
AS_OF = "2026-03-02"
GOOD, REVOKED, YOUNG = "91330604609674830U", "91330681307582121Y", "913306217125879893"
BASE = {
    "registry_status": "存续",
    "firm_age_months": 60,
    "industry_code": "C1752",
    "region_code": "330603",
    "judicial_dishonest": 0,
    "judicial_enforcement_open": 0,
    "judicial_enforcement_24m": 0,
    "tax_credit_grade": "A",
    "bureau_nonperforming_accounts": 0,
    "bureau_max_dpd_24m": 0,
    "months_of_history": 40,
    "sales_12m_fen": 600_000_000,
    "bureau_loans_outstanding_fen": 0,
}


@dataclass(frozen=True)
class _Score:
    score: float
    pd: float
    reasons: tuple = ()


class _FakeModel:
    version = "fake-cli-1"

    def score_one(self, features):
        return _Score(640.0, 0.015)


def _consent(cid: str, uscc: str, revoked: datetime | None) -> dict:
    return {
        "consent_id": cid,
        "uscc": uscc,
        "subject": "enterprise",
        "scopes": "bureau;tax;invoices;utilities",
        "purposes": "pre_loan;post_loan",
        "granted_at": datetime(2025, 1, 5, tzinfo=UTC),
        "expires_at": datetime(2027, 1, 5, tzinfo=UTC),
        "revoked_at": revoked,
        "text_sha256": "0" * 64,
    }


@pytest.fixture
def lake(tmp_path, monkeypatch):
    """A LOOM_HOME with a three-firm feature snapshot and the consent registry."""
    snap = tmp_path / "lake" / "features" / "snapshots" / f"as_of={AS_OF}"
    snap.mkdir(parents=True)
    rows = [
        {"uscc": GOOD, "as_of": date(2026, 3, 2), **BASE},
        {"uscc": REVOKED, "as_of": date(2026, 3, 2), **BASE},
        {"uscc": YOUNG, "as_of": date(2026, 3, 2), **BASE, "firm_age_months": 14},
    ]
    pq.write_table(pa.Table.from_pylist(rows), snap / "part-0.parquet")
    consents = tmp_path / "lake" / "integrated" / "consents"
    consents.mkdir(parents=True)
    table = pa.Table.from_pylist(
        [
            _consent("C1", GOOD, None),
            _consent("C2", REVOKED, datetime(2026, 2, 1, tzinfo=UTC)),
            _consent("C3", YOUNG, None),
        ],
        schema=RAW_SCHEMAS["consents"],
    )
    pq.write_table(table, consents / "part-0.parquet")
    monkeypatch.setenv("LOOM_HOME", str(tmp_path))
    monkeypatch.setattr(ModelScorer, "load", classmethod(lambda cls, d: cls(_FakeModel())))
    return tmp_path


def run(*args):
    return CliRunner().invoke(app, ["decide", *args])


def test_json_decision_record(lake):
    """--format json prints the whole record: band, rate, policy and model versions."""
    result = run("--uscc", GOOD, "--amount", "500000", "--as-of", AS_OF, "--format", "json")
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["band"] == "auto_approve"
    assert record["price"]["annual_rate"] == "0.0538"  # 3.00 % LPR + 238 bp at PD 1.5 %
    assert record["model_version"] == "fake-cli-1"
    assert record["policy_version"].startswith("keqiao_textile")


def test_revoked_consent_declines(lake):
    """A consent revoked before the decision date leaves no pre-loan scope: declined."""
    result = run("--uscc", REVOKED, "--as-of", AS_OF, "--format", "json")
    record = json.loads(result.stdout)
    assert record["band"] == "decline"
    assert "consents" in [r["rule_id"] for r in record["rules"] if r["status"] == "fail"]


def test_table_with_explain(lake):
    """The table view shows the build-ups, and --explain what would change the outcome."""
    result = run("--uscc", GOOD, "--amount", "900000", "--as-of", AS_OF, "--explain")
    assert result.exit_code == 0, result.output
    for text in ("Price build-up", "Limit build-up", "Suggested plan", "What would change"):
        assert text in result.stdout
    assert "auto-approved for an amount up to" in result.stdout


def test_batch_writes_one_row_per_enterprise(lake, tmp_path):
    """--all decides for every firm in the snapshot and writes Parquet."""
    out = tmp_path / "offers.parquet"
    result = run("--all", "--as-of", AS_OF, "--out", str(out))
    assert result.exit_code == 0, result.output
    table = pq.read_table(out).to_pylist()
    bands = {row["uscc"]: row["band"] for row in table}
    assert bands == {GOOD: "auto_approve", REVOKED: "decline", YOUNG: "decline"}
    good = next(row for row in table if row["uscc"] == GOOD)
    assert good["offer_fen"] == good["limit_fen"] or good["offer_fen"] == good["asked_fen"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--uscc", GOOD, "--as-of", "2026-13-01"], "--as-of must be a date"),
        (["--as-of", AS_OF], "give --uscc"),
        (["--uscc", GOOD, "--as-of", AS_OF, "--amount", "12.345"], "--amount must be yuan"),
        (["--uscc", GOOD, "--as-of", AS_OF, "--term", "7"], "term 7 months is not offered"),
        (["--all", "--as-of", "2026-01-01"], "no feature snapshot"),
    ],
)
def test_bad_input_is_one_clear_line(lake, args, message):
    """Bad input exits non-zero with one line on stderr."""
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_lake_sources_agree_and_refuse_unknown_firms(lake):
    """The in-memory snapshot and the per-request DuckDB lookup return the same vector; an unknown
    firm is NotFound, not an empty vector."""
    from loomcredit.adapters.feature_source import DuckDbSnapshotFeatureSource, LakeFeatureSource
    from loomcredit.domain.errors import NotFound

    day = date.fromisoformat(AS_OF)
    memory, duck = LakeFeatureSource(lake), DuckDbSnapshotFeatureSource(lake)
    assert dict(memory.get(YOUNG, day)) == dict(duck.get(YOUNG, day))
    assert duck.get(YOUNG, day)["firm_age_months"] == 14
    with pytest.raises(NotFound):
        duck.get("91110000600037341L", day)
    with pytest.raises(NotFound):
        memory.get("91110000600037341L", day)


def test_demo_stage_prints_bands_and_one_explained_decision_each(lake, capsys):
    """The demo stage counts bands over the snapshot and explains one decision per band."""
    from loomcredit.entrypoints.cli.commands_decide import stage_decisions

    stage_decisions(date.fromisoformat(AS_OF))
    out = capsys.readouterr().out
    assert "Decisions" in out
    assert out.count("What would change the outcome") == 2  # one auto-approve, one decline


@pytest.mark.slow
def test_decision_on_online_features_computed_from_the_integrated_zone(tmp_path):
    """With no snapshot, the lake source computes the vector from the integrated zone (H5's online
    features) and the decision reads the agreed names: firm A's 12-month sales are the feature
    fixture's hand answer, and its rules see its real values."""
    from loomcredit.adapters.feature_source import LakeFeatureSource
    from loomcredit.adapters.policy_file import load_lpr, load_policy
    from loomcredit.domain.money import Money
    from loomcredit.service_layer.decisioning import DecisionRequest, make_decision

    from .feature_fixtures import ANSWERS, A, write_lake
    from .feature_fixtures import AS_OF as FIXTURE_DAY

    write_lake(tmp_path)
    source = LakeFeatureSource(tmp_path)
    vector = source.get(A, FIXTURE_DAY)
    assert vector["sales_12m_fen"] == ANSWERS[A]["sales_12m_fen"]

    class Consents:
        def scopes_on(self, uscc, as_of):
            return {"bureau", "tax", "invoices"}

    record = make_decision(
        DecisionRequest(A, Money.parse("50000"), 12, "annuity"),
        policy=load_policy(),
        features=source,
        scorer=_FakeModel(),
        lpr=load_lpr(),
        consents=Consents(),
        as_of=FIXTURE_DAY,
    )
    observed = {r.rule_id: r.observed for r in record.rules}
    assert observed["firm_age"] == str(ANSWERS[A]["firm_age_months"])
    assert observed["bureau_max_dpd"] == str(ANSWERS[A]["bureau_max_dpd_24m"])


def test_consent_source_honours_dates_and_purpose(tmp_path):
    """A consent counts on a date only if granted by then, not expired or revoked by then, and
    given for pre-loan decisions; scopes of several live consents add up."""
    from loomcredit.adapters.feature_source import LakeConsentSource

    def row(cid, scopes, purposes, granted, expires=None, revoked=None):
        return {
            "consent_id": cid,
            "uscc": GOOD,
            "subject": "enterprise",
            "scopes": scopes,
            "purposes": purposes,
            "granted_at": granted,
            "expires_at": expires,
            "revoked_at": revoked,
            "text_sha256": "0" * 64,
        }

    def at(y, m, d):
        return datetime(y, m, d, 9, 30, tzinfo=UTC)

    folder = tmp_path / "lake" / "integrated" / "consents"
    folder.mkdir(parents=True)
    rows = [
        row("a", "bureau", "pre_loan", at(2025, 1, 1)),
        row("b", "tax", "pre_loan", at(2026, 3, 2)),  # granted on the day: counts
        row("c", "invoices", "pre_loan", at(2026, 3, 3)),  # granted the day after: not yet
        row("d", "utilities", "pre_loan", at(2025, 1, 1), expires=at(2026, 3, 1)),
        row("e", "bank_flows", "pre_loan", at(2025, 1, 1), revoked=at(2026, 4, 1)),
        row("f", "social_insurance", "post_loan", at(2025, 1, 1)),  # wrong purpose
    ]
    pq.write_table(pa.Table.from_pylist(rows, schema=RAW_SCHEMAS["consents"]), folder / "p.parquet")
    scopes = LakeConsentSource(tmp_path).scopes_on(GOOD, date(2026, 3, 2))
    assert set(scopes) == {"bureau", "tax", "bank_flows"}
