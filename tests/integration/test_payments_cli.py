"""`loom payments` on the operator's terminal: import a statement (matched, unmatched, refused when
malformed, nothing booked twice), the exceptions queue, reconciliation, auto-debit with the
settlement file the bank core returns."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import pytest
from tests.fakes import FakeDecider
from tests.world import ACCOUNT, World
from typer.testing import CliRunner

from loomcredit.adapters.bank_files import FileBankCore
from loomcredit.bootstrap.service import build_service
from loomcredit.config import Settings
from loomcredit.entrypoints.cli.main import app

pytestmark = pytest.mark.integration
TODAY = date.today()  # noqa: DTZ011 - the CLI books on the real clock's business date


def _book(home: Path) -> int:
    """A borrower with a drawn loan, made on the same database the CLI will use."""
    svc = build_service(Settings(home=home), decider=FakeDecider())
    w = World(today=TODAY, make_uow=svc.uow)
    loan_id = w.draw(w.open_line("300000"), "120000")
    svc.engine.dispose()
    return loan_id


def _statement(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["bank_ref", "value_date", "account", "counterparty", "amount", "memo"])
        out.writerows(rows)
    return path


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LOOM_HOME", str(tmp_path))
    monkeypatch.delenv("LOOM_DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "160")
    return tmp_path


def test_import_books_matches_queues_the_rest_and_never_twice(home: Path) -> None:
    """One line matched by account, one unknown: booked 1, unmatched 1, reconciled; again: two
    duplicates; the exceptions queue lists the unknown one."""
    _book(home)
    day = TODAY.isoformat()
    file = _statement(
        home / "s.csv",
        [
            ["B1", day, ACCOUNT, "某纺织", "500.00", ""],
            ["B2", day, "9999888877776666", "张三", "12.00", "货款"],
        ],
    )
    runner = CliRunner()
    first = runner.invoke(app, ["payments", "import", str(file)])
    assert first.exit_code == 0, first.output
    assert "booked 入账 1" in first.output
    assert "unmatched 挂账 1" in first.output
    again = runner.invoke(app, ["payments", "import", str(file)])
    assert "duplicates 重复 2" in again.output
    assert "booked 入账 0" in again.output
    queue = runner.invoke(app, ["payments", "exceptions"])
    assert "B2" in queue.output
    assert "B1" not in queue.output
    rec = runner.invoke(app, ["payments", "reconcile"])
    assert rec.exit_code == 0, rec.output
    assert "balanced" in rec.output


def test_a_malformed_statement_is_refused_whole_naming_the_rows(home: Path) -> None:
    """A bad date and a bad amount: exit 2, both rows named, nothing booked."""
    _book(home)
    day = TODAY.isoformat()
    file = _statement(
        home / "bad.csv",
        [
            ["B1", day, ACCOUNT, "x", "500.00", ""],
            ["B2", "2026-02-30", ACCOUNT, "x", "1.00", ""],
            ["B3", day, ACCOUNT, "x", "1.001", ""],
        ],
    )
    import sys

    from loomcredit.entrypoints.cli.main import main

    argv = sys.argv
    sys.argv = ["loom", "payments", "import", str(file)]
    try:
        with pytest.raises(SystemExit) as exit_:
            main()
    finally:
        sys.argv = argv
    assert exit_.value.code == 2
    svc = build_service(Settings(home=home))
    with svc.uow() as uow:
        assert uow.payments.lines() == []
    svc.engine.dispose()


def test_auto_debit_sends_instructions_and_books_the_settlement(home: Path) -> None:
    """On the due date: one instruction for the instalment; until the core answers nothing is
    booked; its settlement file (paid) books the receipt, applied twice books it once."""
    start = TODAY - timedelta(days=45)
    svc = build_service(Settings(home=home), decider=FakeDecider())
    w = World(today=start, make_uow=svc.uow)
    loan_id = w.draw(w.open_line("300000"), "120000")
    due = w.loan(loan_id).instalments[0]
    w.close_days_until(due.due_on)
    svc.engine.dispose()
    runner = CliRunner()
    sent = runner.invoke(app, ["payments", "auto-debit"])
    assert sent.exit_code == 0, sent.output
    assert "1 instructions" in sent.output
    assert "not back yet" in sent.output
    batch = f"AD{due.due_on:%Y%m%d}"
    (instruction,) = FileBankCore(home / "bank").sent(batch)
    assert instruction.amount == due.principal + due.interest
    inbox = home / "bank" / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    with (inbox / f"settlement-{batch}.csv").open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(
            ["instruction_id", "account", "debited", "status", "reason", "bank_ref", "value_date"]
        )
        out.writerow(
            [
                instruction.instruction_id,
                ACCOUNT,
                instruction.amount.amount_str(),
                "paid",
                "",
                "CORE-1",
                due.due_on.isoformat(),
            ]
        )
    for _ in range(2):
        booked = runner.invoke(app, ["payments", "settle", batch])
        assert booked.exit_code == 0, booked.output
    assert "paid 成功 0" in booked.output  # the second time: already booked
    svc = build_service(Settings(home=home))
    with svc.uow() as uow:
        receipts = uow.receipts.for_loan(loan_id)
    svc.engine.dispose()
    assert [(r.bank_ref, r.amount) for r in receipts] == [("CORE-1", instruction.amount)]
