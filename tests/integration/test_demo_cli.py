"""`loom demo` end to end on a small cluster: every stage runs, the book balances, reruns are clean.

Runs the real executable in a child process (as `make demo` does), in a temporary LOOM_HOME.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

LOOM = Path(sys.executable).with_name("loom")


def _demo(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LOOM_HOME": str(home), "COLUMNS": "120", "NO_COLOR": "1"}
    env.pop("LOOM_DATABASE_URL", None)
    return subprocess.run(
        [str(LOOM), "demo", "--no-serve", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )


def test_demo_runs_every_stage_and_leaves_a_balanced_book(tmp_path: Path) -> None:
    home = tmp_path / "home"
    run = _demo(home, "--enterprises", "200", "--months", "24")
    assert run.returncode == 0, run.stderr[-3000:] + run.stdout[-3000:]
    out = run.stdout
    for stage in ("1 ·", "2 ·", "3 ·", "4 ·", "5 ·", "6 ·", "7 ·", "demo finished"):
        assert stage in out, f"stage {stage!r} missing from the demo output"

    # Stage 2: raw files were ingested and the quality report written.
    report = json.loads((home / "reports" / "ingest_quality.json").read_text(encoding="utf-8"))
    assert report["metrics"]["er_counterparty_precision"] >= 0.95
    assert any((home / "lake" / "integrated").iterdir())

    # Stage 4: a champion model is registered and loadable.
    registry = json.loads((home / "models" / "registry.json").read_text(encoding="utf-8"))
    champion = home / "models" / registry["champion"]
    assert (champion / "model_card.json").exists()
    assert (champion / "report.html").exists()

    # Stage 6: loans were disbursed through the workflow and the ledger balances.
    db = sqlite3.connect(home / "loom.db")
    try:
        statuses = dict(db.execute("SELECT status, count(*) FROM applications GROUP BY status"))
        loans = db.execute("SELECT count(*), sum(principal_fen) FROM loans").fetchone()
        balance = db.execute("SELECT sum(amount_fen) FROM postings").fetchone()[0]
        accounts = dict(db.execute("SELECT account, sum(amount_fen) FROM postings GROUP BY 1"))
        early = db.execute("SELECT count(*) FROM repayments WHERE early = 1").fetchone()[0]
        lines = db.execute("SELECT count(*) FROM credit_lines").fetchone()[0]
        sources = dict(db.execute("SELECT source, count(*) FROM repayments GROUP BY 1"))
        waiting = db.execute(
            "SELECT count(*) FROM statement_lines WHERE status = 'unmatched'"
        ).fetchone()[0]
        alerts = db.execute(
            "SELECT a.uscc, a.rule, a.assignee, l.uscc FROM alerts a "
            "JOIN credit_lines l ON l.id = a.line_id WHERE a.status = 'open'"
        ).fetchall()
        froze = {r[0] for r in db.execute("SELECT line_id FROM alerts WHERE froze_line")}
        stage7 = re.search(r"7 · 贷后监控与预警 .*· (\d{4}-\d{2}-\d{2})", out)
        assert stage7 is not None
        froze7 = {r[0] for r in db.execute(
            "SELECT line_id FROM alerts WHERE froze_line AND first_seen = ?", (stage7[1],)
        )}  # fmt: skip
        frozen = {r[0] for r in db.execute("SELECT id FROM credit_lines WHERE status = 'frozen'")}
    finally:
        db.close()
    assert statuses.get("declined", 0) >= 1, statuses
    assert loans[0] >= 5, "the demo should disburse several loans"
    assert loans[1] > 0
    assert balance == 0, "debits and credits of the book must net to zero"
    assert accounts.get("INTEREST_RECEIVABLE", 0) > 0, "end of day accrues interest nightly"
    assert early == 2, "one partial and one full early repayment"
    assert "提前还款" in out
    assert loans[0] == lines + 1, "every signed contract opened a line; one line drawn twice"
    assert sources.get("auto_debit", 0) > 0, "repayments come from the auto-debit settlement"
    assert set(sources) <= {"auto_debit", "statement"}, sources
    assert waiting == 1, "one statement line nobody can match waits for a person"
    assert "挂账待处理 Exceptions queue" in out

    # Stage 7: monitoring raised alerts on borrowers' lines, one per borrower and rule, each
    # assigned to the officer who made the application.
    assert alerts, "the demo's borrowers should raise some warning"
    assert all(firm == line_firm and who for firm, _, who, line_firm in alerts), alerts
    assert len({(firm, rule) for firm, rule, _, _ in alerts}) == len(alerts)
    assert "预警队列 Alerts raised" in out
    assert froze <= frozen, "a line the monitor froze stays frozen until a person decides"
    assert bool(froze7) == ("额度已自动冻结" in out)  # stage 7's own freezes
    assert "预警效果 Warnings vs defaults" in out
    assert "seasonal 同比" in out
    assert "naive 环比" in out

    # Stage 8: the month-end limit review made one review per open line, for the next month.
    assert "8 · 额度动态调整 Monthly limit review" in out
    db = sqlite3.connect(home / "loom.db")
    try:
        reviews = db.execute(
            "SELECT count(*), count(DISTINCT line_id), count(DISTINCT month) FROM limit_reviews"
        ).fetchone()
        story_alerts = db.execute("SELECT uscc, rule FROM alerts").fetchall()
        frozen_now = {r[0] for r in db.execute(
            "SELECT uscc FROM credit_lines WHERE status = 'frozen'")}  # fmt: skip
    finally:
        db.close()
    assert reviews[0] >= 1
    assert reviews[0] == reviews[1]
    assert reviews[2] == 1

    # Stage 9: months of new data arrive for the borrowers as batches through the intake; the
    # scripted sales collapse raises a sales alert, the enforcement case a red alert and a frozen
    # line, and the trough shown is not raised.
    assert "9 · 新数据实时接入" in out
    assert "到达批次 Batches" in out
    collapsed = re.search(r"([0-9A-Z]{18}) *│ 销售骤降", out)
    court = re.search(r"([0-9A-Z]{18}) *│ 被执行", out)
    assert collapsed is not None
    assert court is not None
    rules_of = {u: {r for f, r in story_alerts if f == u} for u in (collapsed[1], court[1])}
    assert rules_of[collapsed[1]] & {"SALES_DROP_50", "SALES_DROP_30"}, rules_of
    assert "ENFORCEMENT" in rules_of[court[1]]
    assert court[1] in frozen_now
    trough = re.search(r"([0-9A-Z]{18}) *│ 春节淡季", out)
    if trough is not None:
        assert not {r for f, r in story_alerts if f == trough[1]} & {"SALES_DROP_50",
                                                                     "SALES_DROP_30"}

    # Stage 10: the late payer reminded and cured, the short payer's promise broken and its case
    # handed to legal through four eyes, the figures written with their charts.
    assert "10 · 还款提醒与催收" in out
    db = sqlite3.connect(home / "loom.db")
    try:
        closed = dict(db.execute("SELECT close_reason, count(*) FROM collection_cases "
                                 "WHERE status = 'closed' GROUP BY 1"))  # fmt: skip
        broken = db.execute("SELECT count(*) FROM case_promises WHERE status = 'broken'")
        inbox = {k for (k,) in db.execute(
            "SELECT DISTINCT kind FROM notices WHERE channel = 'inbox' AND status = 'delivered'")}
        legal = db.execute("SELECT count(*) FROM approval_requests WHERE kind = 'legal_action' "
                           "AND status = 'approved'").fetchone()[0]  # fmt: skip
        broken_n = broken.fetchone()[0]
    finally:
        db.close()
    assert closed.get("cured", 0) >= 1, closed
    assert closed.get("legal", 0) == 1, closed
    assert (broken_n, legal) == (1, 1)
    assert {"T-7", "T-3", "T-1", "DUE", "D1", "D3"} <= inbox, inbox
    assert "承诺 promise" in out
    assert "移交诉讼 handed to legal" in out
    assert (home / "reports" / "collections.html").stat().st_size > 10_000  # plotly inlined

    # A rerun in the same home starts clean instead of piling loans on top.
    again = _demo(home, "--enterprises", "200", "--months", "24")
    assert again.returncode == 0, again.stderr[-3000:]
    db = sqlite3.connect(home / "loom.db")
    try:
        assert db.execute("SELECT count(*) FROM loans").fetchone()[0] == loans[0]
    finally:
        db.close()


def test_demo_refuses_a_home_it_did_not_make(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("a bank's own data", encoding="utf-8")
    run = _demo(tmp_path)
    assert run.returncode == 2
    assert "LOOM_HOME" in run.stderr
    assert (tmp_path / "precious.txt").read_text(encoding="utf-8") == "a bank's own data"


def test_demo_rejects_a_window_too_short_to_train(tmp_path: Path) -> None:
    run = _demo(tmp_path / "home", "--months", "12")
    assert run.returncode == 2
    assert "--months" in run.stderr
