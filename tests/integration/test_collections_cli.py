"""`loom collections report` and `loom loans restructure` on the operator's terminal, on the
scripted book of ``test_db_collection_figures`` in a SQLite home."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from tests.fakes import FakeDecider
from tests.integration.test_db_collection_figures import Book
from tests.world import World
from typer.testing import CliRunner

from loomcredit.bootstrap.service import build_service
from loomcredit.config import Settings
from loomcredit.entrypoints.cli.main import app
from loomcredit.service_layer import approvals

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Book]:
    """A SQLite home holding the scripted book, end of day run to 2026-06-30."""
    home = tmp_path_factory.mktemp("home")
    svc = build_service(Settings(home=home), decider=FakeDecider())
    book = Book(World(make_uow=svc.uow))
    svc.engine.dispose()
    return home, book


def _run(home: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> str:
    monkeypatch.setenv("LOOM_HOME", str(home))
    monkeypatch.delenv("LOOM_DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    out = CliRunner().invoke(app, list(args))
    assert out.exit_code == 0, out.output
    return out.output


def test_the_report_as_json_and_as_a_page(
    home: tuple[Path, Book], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The JSON has the hand-derived shares (4 places); the page embeds plotly, no CDN."""
    page = tmp_path / "r.html"
    text = _run(home[0], monkeypatch, "collections", "report", "--as-of", "2026-06-30", "--json")
    doc = json.loads(text)
    assert doc["cure_rate"] == "0.2500"
    first = doc["roll_rates"][0]
    assert (first["from"], first["to"]) == ("2026-03-31", "2026-04-30")
    cells = {(c["from_bucket"], c["to_bucket"]): c for c in first["cells"]}
    assert (cells[("current", "M1")]["rate"], cells[("current", "M1")]["balance_rate"]) == (
        "0.5000",
        "0.4000",
    )
    assert doc["promise_kept_rate"] is None
    _run(home[0], monkeypatch, "collections", "report", "--as-of", "2026-06-30", "--html",
         str(page))  # fmt: skip
    html = page.read_text(encoding="utf-8")
    assert "Plotly.newPlot" in html
    assert "<script src=" not in html  # plotly.js inline: nothing loaded from a CDN
    assert "迁徙矩阵" in html


def test_a_restructuring_asked_on_the_terminal_waits_for_a_risk_manager(
    home: tuple[Path, Book], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The overdue loan B: previewed, and an approval request a risk manager then decides."""
    root, book = home
    text = _run(root, monkeypatch, "loans", "restructure", str(book.b), "--kind", "extension",
                "--months", "6", "--reason", "淡季 slow season")  # fmt: skip
    assert "重组申请 restructuring asked: approval" in text
    assert "¥50,000.00" in text  # the principal owed, rescheduled
    svc = build_service(Settings(home=root), decider=FakeDecider())
    w = World(make_uow=svc.uow)
    with svc.uow() as uow:
        (req,) = [r for r in uow.approvals.pending() if r.kind.value == "restructure"]
        approvals.approve(uow, w.risk, req.request_id, now=w.now)
        uow.commit()
    with svc.uow() as uow:
        loan = uow.loans.get(book.b)
    svc.engine.dispose()
    assert loan is not None
    assert loan.restructured_on == date(2026, 7, 1)  # the business date after 06-30 closed
