"""The audit chain in the database and the CLI: `loom audit verify` passes an untouched chain and
fails, naming the first bad record, for an edited row, a deleted tail (with or without its head
moved back), a chain recomputed without the key, and a different key."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
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
    # the CLI runs on the real clock: a first end of day may be at most 366 days back
    today = datetime.now(UTC).date()
    yesterday = (today - timedelta(days=1)).isoformat()
    ahead = (today + timedelta(days=2)).isoformat()  # after today even if midnight passes
    assert runner.invoke(app, ["eod", "--date", yesterday]).exit_code == 0
    assert "already" in runner.invoke(app, ["eod", "--date", yesterday]).output
    assert runner.invoke(app, ["eod", "--date", "tomorrow"]).exit_code != 0
    refused = runner.invoke(app, ["eod", "--date", ahead])
    assert refused.exit_code != 0
    assert "after today" in str(refused.exception)
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


def _downgrade(conn: Connection) -> None:
    """Edit record 3 and rewrite the whole chain as a valid pre-key (legacy) chain: every record
    unkeyed, hashed with plain SHA-256 over the UTC timestamp verify reads, the head moved."""
    rows = conn.execute(select(orm.audit_log).order_by(orm.audit_log.c.seq)).mappings().all()
    prev = GENESIS
    for r in rows:
        actor = "mallory" if r["seq"] == 3 else r["actor"]
        at = r["at"] if r["at"].tzinfo else r["at"].replace(tzinfo=UTC)
        h = record_hash(r["seq"], at, actor, r["action"], r["subject"], r["detail"], prev)
        conn.execute(
            update(orm.audit_log)
            .where(orm.audit_log.c.seq == r["seq"])
            .values(actor=actor, prev_hash=prev, hash=h, keyed=False)
        )
        prev = h
    conn.execute(update(orm.audit_head).values(last_seq=len(rows), last_hash=prev))


@pytest.mark.parametrize(
    ("change", "first_bad"),
    [
        (_edit, 3),
        (_cut_tail, 4),
        (_cut_tail_and_head, 3),
        (_recompute, 1),
        (_downgrade, 1),
    ],
    ids=["edited", "tail-deleted", "tail-and-head", "recomputed", "downgraded-to-legacy"],
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
    """The key lives outside the database (LOOM_HOME/keys/audit.key, or LOOM_AUDIT_KEY): the same
    key given in the environment verifies; another key fails at the first keyed record."""
    runner = _home(tmp_path, monkeypatch)
    key_file = tmp_path / "keys" / "audit.key"
    monkeypatch.setenv("LOOM_AUDIT_KEY", key_file.read_text(encoding="ascii").strip())
    same = runner.invoke(app, ["audit", "verify"])
    assert same.exit_code == 0, same.output
    monkeypatch.setenv("LOOM_AUDIT_KEY", "b3RoZXIta2V5LW90aGVyLWtleS1vdGhlci1rZXktMzI=")
    out = runner.invoke(app, ["audit", "verify"])
    assert out.exit_code == 1, out.output
    assert "at record 1" in out.output


def test_resident_id_encrypted_at_rest_masked_by_role_and_full_reads_audited(
    tmp_path: Path,
) -> None:
    """The legal representative's resident ID is not stored in clear; a reviewer sees it masked
    (first 3 and last 4 digits), an officer in full, and only the full read is audited."""
    import random

    from tests.fakes import FakeDecider

    from loomcredit.domain.identity import generate_uscc
    from loomcredit.domain.money import Money
    from loomcredit.service_layer import origination
    from loomcredit.service_layer.users import Role, User

    svc = build_service(
        Settings(home=tmp_path), url=f"sqlite:///{tmp_path / 'loom.db'}", decider=FakeDecider()
    )
    rid = "330621198001011236"
    now = datetime(2026, 1, 5, 12, tzinfo=UTC)
    with svc.uow() as uow:
        view = origination.create_application(
            uow,
            svc.decider,
            User("o", Role.OFFICER),
            uscc=generate_uscc("330603", random.Random(4)),
            amount=Money.parse("1000"),
            term=6,
            method="annuity",
            now=now,
            legal_rep_id=rid,
        )
        uow.commit()
    app_id = view.app.app_id
    with svc.uow() as uow:
        by_reviewer = origination.get_application(uow, User("r", Role.REVIEWER), app_id, now=now)
        by_officer = origination.get_application(uow, User("o2", Role.OFFICER), app_id, now=now)
        uow.commit()
    with svc.engine.connect() as conn:
        stored = conn.execute(select(orm.applications)).mappings().one()
    assert rid not in " ".join(str(v) for v in stored.values())
    assert by_reviewer.legal_rep_shown == "330***********1236"
    assert by_officer.legal_rep_shown == rid
    with svc.uow() as uow:
        reads = [r for r in uow.audit.records() if r.action == "pii.read"]
    assert [(r.actor, r.subject) for r in reads] == [("o2", f"application:{app_id}")]
    svc.engine.dispose()
