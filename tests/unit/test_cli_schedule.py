"""`loom schedule` through the CLI: table, CSV and JSON output, and one-line errors."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from loomcredit.entrypoints.cli.main import app

runner = CliRunner()
EXAMPLE = [
    "schedule",
    "--principal",
    "100000",
    "--rate",
    "0.06",
    "--months",
    "120",
    "--method",
    "annuity",
    "--start",
    "2026-01-20",
]


def run(*args: str):
    return runner.invoke(app, list(args))


def csv_rows(*args: str) -> list[dict[str, str]]:
    result = run(*args, "--format", "csv")
    assert result.exit_code == 0, result.output
    return list(csv.DictReader(io.StringIO(result.stdout)))


def test_table_shows_the_first_instalment():
    """The README example prints a table whose first instalment is 1,110.21."""
    result = run(*EXAMPLE)
    assert result.exit_code == 0, result.output
    first_row = next(line for line in result.stdout.splitlines() if "2026-02-20" in line)
    assert "1,110.21" in first_row
    assert "合计" in result.stdout


def test_csv_has_every_instalment_in_decimal_strings():
    """CSV output: 120 rows, first payment 1110.21, principal column sums to 100000.00."""
    rows = csv_rows(*EXAMPLE)
    assert len(rows) == 120
    assert list(rows[0]) == [
        "number",
        "due_on",
        "payment",
        "principal",
        "interest",
        "balance_after",
    ]
    assert rows[0]["payment"] == "1110.21"
    assert rows[0]["interest"] == "500.00"
    assert sum(Decimal(r["principal"]) for r in rows) == Decimal("100000.00")
    assert rows[-1]["balance_after"] == "0.00"


def test_json_money_is_decimal_strings():
    """JSON output carries money as decimal strings and the schedule's terms."""
    result = run(*EXAMPLE, "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["installments"][0]["payment"] == "1110.21"
    assert document["principal"] == "100000.00"
    assert document["currency"] == "CNY"
    assert len(document["installments"]) == 120


def test_equal_principal():
    """equal-principal 120,000 at 3.6 % over 12 months: first 10360.00, last 10030.00."""
    rows = csv_rows(
        "schedule", "--principal", "120000", "--rate", "3.6%", "--months", "12",
        "--method", "equal-principal", "--start", "2026-01-20",
    )  # fmt: skip
    assert rows[0]["payment"] == "10360.00"
    assert rows[-1]["payment"] == "10030.00"


def test_interest_only_quarterly_act_360():
    """interest-only, quarterly on the 20th, ACT/360: 768.00 for the first 64 days (hand)."""
    rows = csv_rows(
        "schedule", "--principal", "120000", "--rate", "0.036", "--months", "12",
        "--method", "interest-only", "--interest-frequency", "quarterly",
        "--day-count", "act360", "--start", "2026-01-15",
    )  # fmt: skip
    assert [r["due_on"] for r in rows] == [
        "2026-03-20",
        "2026-06-20",
        "2026-09-20",
        "2026-12-20",
        "2027-01-15",
    ]
    assert rows[0]["interest"] == "768.00"
    assert rows[-1]["principal"] == "120000.00"


def test_custom_plan_sets_the_months():
    """A custom plan gives one instalment per entry; interest 500 on 100,000 at 6 %."""
    rows = csv_rows(
        "schedule", "--principal", "100000", "--rate", "0.06", "--method", "custom",
        "--principal-plan", "0,0,50000,50000", "--start", "2026-01-20",
    )  # fmt: skip
    assert [r["principal"] for r in rows] == ["0.00", "0.00", "50000.00", "50000.00"]
    assert [r["interest"] for r in rows] == ["500.00", "500.00", "500.00", "250.00"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--principal", "-100000"], "positive"),
        (["--principal", "abc"], "not an amount"),
        (["--rate", "garbage"], "not a rate"),
        (["--rate", "6"], "from 0 to 1"),
        (["--start", "2026-13-01"], "not a date"),
        (["--method", "balloon"], "Unknown repayment method"),
        (["--method", "custom", "--principal-plan", "0,0,50000"], "sums to"),
        (["--day-count", "act366"], "Unknown day count"),
    ],
)
def test_bad_input_is_one_clear_line(args, needle):
    """Bad input exits non-zero with one error line on stderr and no traceback."""
    base = dict(zip(EXAMPLE[1::2], EXAMPLE[2::2], strict=True))
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    if "--principal-plan" in base:
        del base["--months"]
    argv = ["schedule", *[x for pair in base.items() for x in pair]]
    result = runner.invoke(app, argv)
    assert result.exit_code != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error:")
    assert needle in lines[0]
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_help():
    """`loom schedule --help` describes the options."""
    result = run("schedule", "--help")
    assert result.exit_code == 0
    assert "--principal-plan" in result.stdout
