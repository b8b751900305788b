"""The audit chain in the database and the CLI: `loom audit verify` passes an untouched chain and
fails, naming the first bad record, for an edited row, a deleted tail (with or without its head
moved back), a chain recomputed without the key, and a different key."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Connection, delete, select, update
from typer.testing import CliRunner

from loomcredit.adapters import orm
from loomcredit.bootstrap.service import build_service
from loomcredit.config import Settings
from loomcredit.entrypoints.cli.main import app
from loomcredit.service_layer.audit import GENESIS, record_hash

pytestmark = pytest.mark.integration


def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("LOOM_HOME", str(tmp_path))
    monkeypatch.delenv("LOOM_DATABASE_URL", raising=False)
    monkeypatch.delenv("LOOM_AUDIT_KEY", raising=False)
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    for name in ("ann", "bo", "cy", "di"):
        r = runner.invoke(
            app, ["users", "add", name, "--role", "reviewer", "--password", "long-enough-1"]
        )
        assert r.exit_code == 0, r.output
    return runner


def _tamper(tmp_path: Path, change: Callable[[Connection], None]) -> None:
    svc = build_service(Settings(home=tmp_path), upgrade=False)
    with svc.engine.begin() as conn:
        change(conn)
    svc.engine.dispose()


def test_cli_users_eod_and_audit_verify(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """db upgrade, users add and eod work and are audited under the operator's name; a bad
    role or date is refused; the chain verifies."""
    runner = _home(tmp_path, monkeypatch)
    bad = runner.invoke(
        app, ["users", "add", "eve", "--role", "pilot", "--password", "long-enough-1"]
    )
    assert bad.exit_code != 0
    assert runner.invoke(app, ["eod", "--date", "2026-02-01"]).exit_code == 0
    assert "already" in runner.invoke(app, ["eod", "--date", "2026-02-01"]).output
    assert runner.invoke(app, ["eod", "--date", "tomorrow"]).exit_code != 0
    ok = runner.invoke(app, ["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    svc = build_service(Settings(home=tmp_path), upgrade=False)
    with svc.uow() as uow:
        actors = {r.action: r.actor for r in uow.audit.records()}
    svc.engine.dispose()
    assert actors["user.added"].startswith("cli:")
    assert actors["eod.run"].startswith("cli:")


def _edit(conn: Connection) -> None:
    conn.execute(update(orm.audit_log).where(orm.audit_log.c.seq == 3).values(actor="mallory"))


def _cut_tail(conn: Connection) -> None:
    conn.execute(delete(orm.audit_log).where(orm.audit_log.c.seq >= 4))


def _cut_tail_and_head(conn: Connection) -> None:
    last = conn.execute(select(orm.audit_log).where(orm.audit_log.c.seq == 3)).mappings().one()
    conn.execute(delete(orm.audit_log).where(orm.audit_log.c.seq >= 4))
    conn.execute(update(orm.audit_head).values(last_seq=3, last_hash=last["hash"]))


def _recompute(conn: Connection) -> None:
    """Edit record 3 and recompute every hash (and the head) the way an attacker without the
    key can: plain SHA-256."""
    rows = conn.execute(select(orm.audit_log).order_by(orm.audit_log.c.seq)).mappings().all()
    prev = GENESIS
    for r in rows:
        actor = "mallory" if r["seq"] == 3 else r["actor"]
        h = record_hash(r["seq"], r["at"], actor, r["action"], r["subject"], r["detail"], prev)
        conn.execute(
            update(orm.audit_log)
            .where(orm.audit_log.c.seq == r["seq"])
            .values(actor=actor, prev_hash=prev, hash=h)
        )
        prev = h
    conn.execute(update(orm.audit_head).values(last_seq=len(rows), last_hash=prev))


@pytest.mark.parametrize(
    ("change", "first_bad"),
    [(_edit, 3), (_cut_tail, 4), (_cut_tail_and_head, 3), (_recompute, 1)],
    ids=["edited", "tail-deleted", "tail-and-head", "recomputed"],
)
def test_tampering_fails_verify_at_the_first_bad_record(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    change: Callable[[Connection], None],
    first_bad: int,
) -> None:
    """Each tampering makes `loom audit verify` exit 1 naming the first bad sequence number."""
    runner = _home(tmp_path, monkeypatch)
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0
    _tamper(tmp_path, change)
    out = runner.invoke(app, ["audit", "verify"])
    assert out.exit_code == 1, out.output
    assert f"at record {first_bad}" in out.output


def test_a_different_key_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The key lives outside the database: verifying with another key fails."""
    runner = _home(tmp_path, monkeypatch)
    monkeypatch.setenv("LOOM_AUDIT_KEY", "b3RoZXIta2V5LW90aGVyLWtleS1vdGhlci1rZXktMzI=")
    out = runner.invoke(app, ["audit", "verify"])
    assert out.exit_code == 1, out.output
