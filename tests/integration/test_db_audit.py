"""The audit chain in the database and the CLI: `loom audit verify` detects an edit."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from loomcredit.adapters import orm
from loomcredit.bootstrap.service import add_user, build_service
from loomcredit.config import Settings
from loomcredit.entrypoints.cli.main import app

pytestmark = pytest.mark.integration


def test_cli_users_eod_and_audit_verify(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """db upgrade, users add and eod work; after an UPDATE of one audit row verify exits 1."""
    monkeypatch.setenv("LOOM_HOME", str(tmp_path))
    monkeypatch.delenv("LOOM_DATABASE_URL", raising=False)
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    r = runner.invoke(
        app, ["users", "add", "ann", "--role", "reviewer", "--password", "long-enough-1"]
    )
    assert r.exit_code == 0, r.output
    bad = runner.invoke(
        app, ["users", "add", "bo", "--role", "pilot", "--password", "long-enough-1"]
    )
    assert bad.exit_code != 0
    assert runner.invoke(app, ["eod", "--date", "2026-02-01"]).exit_code == 0
    assert "already" in runner.invoke(app, ["eod", "--date", "2026-02-01"]).output
    assert runner.invoke(app, ["eod", "--date", "tomorrow"]).exit_code != 0
    ok = runner.invoke(app, ["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    svc = build_service(Settings(home=tmp_path), upgrade=False)
    add_user(svc, "cy", "auditor", "long-enough-2")
    with svc.engine.begin() as conn:
        conn.execute(
            update(orm.audit_log).where(orm.audit_log.c.seq == 2).values(detail='{"role":"admin"}')
        )
    svc.engine.dispose()
    broken = runner.invoke(app, ["audit", "verify"])
    assert broken.exit_code == 1
    assert "2" in broken.output


def test_resident_id_encrypted_at_rest_and_masked_by_role(tmp_path: Path) -> None:
    """The resident ID is not stored in clear; a reviewer sees it masked, an officer in full."""
    import random
    from datetime import UTC, date, datetime

    from sqlalchemy import select

    from loomcredit.domain.identity import generate_uscc
    from loomcredit.domain.money import Money
    from loomcredit.service_layer import origination
    from loomcredit.service_layer.users import Role, User

    svc = build_service(Settings(home=tmp_path))
    rid = "330621198001011236"
    now = datetime(2026, 1, 5, tzinfo=UTC)
    with svc.uow() as uow:
        app = origination.create_application(
            uow,
            svc.decider,
            User("o", Role.OFFICER),
            uscc=generate_uscc("330603", random.Random(4)),
            amount=Money.parse("1000"),
            term=6,
            method="annuity",
            as_of=date(2026, 1, 5),
            now=now,
            legal_rep_id=rid,
        )
        uow.commit()
        seen_by_reviewer = origination.get_application(
            uow, User("r", Role.REVIEWER), app["id"], now=now
        )
        seen_by_officer = origination.get_application(
            uow, User("o2", Role.OFFICER), app["id"], now=now
        )
        uow.commit()
    with svc.engine.connect() as conn:
        stored = conn.execute(select(orm.applications)).mappings().one()
    assert rid not in str(dict(stored))
    assert seen_by_reviewer["legal_rep_id"] == "330***********1236"
    assert seen_by_officer["legal_rep_id"] == rid
    with svc.uow() as uow:
        assert [r.action for r in uow.audit_records()].count("pii.read") == 1
    svc.engine.dispose()
