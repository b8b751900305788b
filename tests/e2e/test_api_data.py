"""Over HTTP, on SQLite and PostgreSQL, against a real simulated lake: new data as it happens.

Operations sends a batch of court records for a borrower (``POST /api/v1/data/judicial``): the
lake takes it through the ingest's validation and consent gate, and the borrower is monitored at
once — an open enforcement case is a red alert and its undrawn line is frozen. The same batch
again changes nothing; a bad row goes to quarantine with its reason while the rest is taken; a
batch of invoices for firms without a live post-loan consent is refused whole and the lake is
left as it was."""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from tests.api_world import PW, Api, apply, problem, running_api
from tests.lending_fixtures import fixed

from loomcredit.domain.identity import generate_uscc
from loomcredit.pipeline.ingest import LakePaths, ingest
from loomcredit.pipeline.simulate.config import SimulationConfig
from loomcredit.pipeline.simulate.run import simulate
from loomcredit.service_layer.user_admin import create_user

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
NOW = fixed(2026, 3, 2)
ACCOUNT = "6222000033334444"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A small simulated cluster ingested once: (its home, a firm with a live post-loan
    consent for invoices on 2026-03-02)."""
    home = tmp_path_factory.mktemp("cluster")
    simulate(SimulationConfig(enterprises=60, months=24, start="2024-01", seed=5), home / "lake")
    ingest(home / "lake", LakePaths(home), pii_key=b"k" * 32)
    consents = str(home / "lake" / "integrated" / "consents" / "*.parquet")
    found = duckdb.sql(
        f"SELECT uscc FROM read_parquet('{consents}') WHERE purposes LIKE '%post_loan%' "
        "AND scopes LIKE '%invoices%' AND revoked_at IS NULL AND (expires_at IS NULL OR "
        "expires_at > TIMESTAMPTZ '2026-03-03 00:00:00+00') ORDER BY uscc LIMIT 1"
    ).fetchall()
    assert found, "no firm with a post-loan consent"
    return home, str(found[0][0])


@pytest.fixture(params=["sqlite", "postgresql"])
def api(request: pytest.FixtureRequest, tmp_path: Path, cluster: tuple[Path, str]) -> Iterator[Api]:
    """The service on a copy of the cluster's lake, on 2026-03-02, with a line for the firm."""
    template, firm = cluster
    shutil.copytree(template / "lake" / "integrated", tmp_path / "lake" / "integrated")
    for a in running_api(request.param, tmp_path):
        a.clock.at = NOW
        with a.svc.uow() as uow:
            create_user(uow, actor="test", name="lakefirm", role="applicant",
                        password_hash=_hash(), enterprise=firm, now=NOW)  # fmt: skip
            uow.commit()
        app = apply(a, "300000.00", uscc=firm)
        r = a.client.post(f"/api/v1/applications/{app['id']}/accept",
                          json={"settlement_account": ACCOUNT},
                          headers=a.login("lakefirm"))  # fmt: skip
        assert r.status_code == 201, r.text
        yield a


def _hash() -> str:
    from loomcredit.adapters.security import hash_password

    return hash_password(PW)


def _send(a: Api, source: str, rows: list[dict[str, Any]], by: str = "operations") -> Any:
    return a.client.post(f"/api/v1/data/{source}", json={"rows": rows}, headers=a.login(by))


def _case(uscc: str, case_id: str, case_type: str = "enforcement") -> dict[str, Any]:
    return {
        "uscc": uscc,
        "case_id": case_id,
        "filed_on": "2026-02-20",
        "case_type": case_type,
        "role": "respondent",
        "amount_fen": 50_000_000,
        "closed_on": None,
    }


def _line(a: Api) -> dict[str, Any]:
    (line,) = a.client.get("/api/v1/lines", headers=a.login("lakefirm")).json()
    out: dict[str, Any] = line
    return out


def _files(home: Path, table: str) -> list[str]:
    folder = home / "lake" / "integrated" / table
    return sorted(p.name for p in folder.glob("*.parquet")) if folder.is_dir() else []


def test_a_court_case_becomes_a_red_alert_and_a_frozen_line(
    api: Api, cluster: tuple[Path, str]
) -> None:
    """The batch is taken, the firm touched, monitored at once: ENFORCEMENT red, line frozen.
    Sent again, it is a duplicate and nothing changes."""
    _, firm = cluster
    batch = [_case(firm, "(2026)浙0603执12号")]
    r = _send(api, "judicial", batch)
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["accepted"], got["quarantined"], got["duplicate"]) == (1, 0, False)
    assert got["touched"] == [firm]
    raised = {a["rule"]: a for a in got["monitor"]["raised"]}
    assert raised["ENFORCEMENT"]["level"] == "red"
    assert "1 件" in raised["ENFORCEMENT"]["evidence"][0]["message_zh"]
    assert got["monitor"]["lines_frozen"] == [_line(api)["id"]]
    assert _line(api)["status"] == "frozen"

    again = _send(api, "judicial", batch).json()
    assert (again["duplicate"], again["accepted"], again["monitor"]) == (True, 0, None)
    alerts = api.client.get("/api/v1/alerts", headers=api.login("risk_manager")).json()
    assert [a["rule"] for a in alerts].count("ENFORCEMENT") == 1


def test_bad_rows_are_quarantined_and_an_unconsented_batch_is_refused_whole(
    api: Api, cluster: tuple[Path, str], tmp_path: Path
) -> None:
    """A row with a broken code goes to quarantine with its reason, the good row is taken;
    invoices between two firms without a post-loan consent: 422, the lake unchanged; an unknown
    source: 422; an officer may not send data: 403."""
    _, firm = cluster
    bad = {**_case(firm, "(2026)浙0603民初3号", "contract_dispute"), "uscc": "91330603BAD"}
    good = _case(firm, "(2026)浙0603民初4号", "contract_dispute")
    got = _send(api, "judicial", [good, bad]).json()
    assert (got["accepted"], got["quarantined"]) == (1, 1)
    assert got["quarantine_reasons"], got

    before = _files(tmp_path, "invoices"), _files(tmp_path, "monthly_activity")
    seller, buyer = (generate_uscc("330603", random.Random(s)) for s in (901, 902))
    invoice = {
        "invoice_id": "33000261",
        "seller_uscc": seller,
        "buyer_uscc": buyer,
        "issued_on": "2026-02-25",
        "amount_fen": 1_000_000,
        "tax_fen": 130_000,
        "status": "normal",
    }
    r = _send(api, "invoices", [invoice])
    assert "no live consent" in problem(r, 422)
    assert (_files(tmp_path, "invoices"), _files(tmp_path, "monthly_activity")) == before
    assert "unknown source" in problem(_send(api, "weather", [good]), 422)
    problem(_send(api, "judicial", [good], by="officer"), 403)


def test_the_drop_folder_takes_each_file_and_sets_aside_a_refused_one(
    api: Api, cluster: tuple[Path, str], tmp_path: Path
) -> None:
    """``loom watch``'s pass: a court file in inbox/judicial is taken (the borrower alerted) and
    moved to inbox/_done; an invoices file without consent goes to inbox/_failed with its
    reason, nothing of it stored."""
    import json

    from loomcredit.service_layer import intake
    from loomcredit.service_layer.users import Role, User

    _, firm = cluster
    inbox = tmp_path / "lake" / "inbox"
    (inbox / "judicial").mkdir(parents=True)
    (inbox / "invoices").mkdir(parents=True)
    case = _case(firm, "(2026)浙0603执20号", "dishonest")
    (inbox / "judicial" / "court-0302.jsonl").write_text(json.dumps(case) + "\n", "utf-8")
    stranger = generate_uscc("330603", random.Random(903))
    row = {"invoice_id": "1", "seller_uscc": stranger, "buyer_uscc": None,
           "issued_on": "2026-02-25", "amount_fen": 100, "tax_fen": 13,
           "status": "normal"}  # fmt: skip
    (inbox / "invoices" / "inv-0302.jsonl").write_text(json.dumps(row) + "\n", "utf-8")
    features, rules = api.svc.monitoring()
    with api.svc.uow() as uow:
        done = intake.watch_once(uow, User("ops", Role.OPERATIONS), api.svc.intake(), features,
                                 rules, now=NOW)  # fmt: skip
    assert done is not None
    by_source = {t.source: t for t in done.batches}
    assert by_source["judicial"].accepted == 1
    assert done.monitored is not None
    assert "DISHONEST" in {a.rule for a in done.monitored.raised}
    assert "no live consent" in by_source["invoices"].refused
    assert (inbox / "_done" / "judicial" / "court-0302.jsonl").is_file()
    assert (inbox / "_failed" / "invoices" / "inv-0302.jsonl").is_file()
    reason = (inbox / "_failed" / "invoices" / "inv-0302.jsonl.reason.txt").read_text("utf-8")
    assert "no live consent" in reason
    assert not list((inbox / "judicial").iterdir())
    assert _files(tmp_path, "invoices") == _files(cluster[0], "invoices")


def _nats_up() -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", 4222), timeout=2):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not _nats_up(), reason="no NATS server on 127.0.0.1:4222")
def test_batches_from_nats_jetstream_at_least_once(api: Api, cluster: tuple[Path, str]) -> None:
    """``loom watch --broker``: a durable consumer takes a court batch (red alert, line frozen);
    the same batch delivered again changes nothing; an unconsented batch is refused; every
    message is acknowledged, so a second pass finds none."""
    import json
    import uuid

    from loomcredit.adapters.nats_batches import NatsBatches
    from loomcredit.service_layer import intake
    from loomcredit.service_layer.errors import InvalidRequestError
    from loomcredit.service_layer.users import Role, User

    _, firm = cluster
    tag = uuid.uuid4().hex[:10]
    broker = NatsBatches("nats://127.0.0.1:4222", stream=f"LOOM_T_{tag}",
                         prefix=f"loomtest.{tag}", durable=f"d-{tag}")  # fmt: skip
    court = (json.dumps(_case(firm, "(2026)浙0603执30号")) + "\n").encode()
    stranger = generate_uscc("330603", random.Random(904))
    invoice = {
        "invoice_id": "9",
        "seller_uscc": stranger,
        "buyer_uscc": None,
        "issued_on": "2026-02-25",
        "amount_fen": 100,
        "tax_fen": 13,
        "status": "normal",
    }
    broker.publish(intake.Batch("judicial", court), msg_id="court-1")
    broker.publish(intake.Batch("judicial", court), msg_id="court-1-redelivered")
    broker.publish(intake.Batch("invoices", (json.dumps(invoice) + "\n").encode()), "inv-1")
    seen: list[object] = []
    features, rules = api.svc.monitoring()
    ops = User("ops", Role.OPERATIONS)

    def handle(batch: intake.Batch) -> None:
        with api.svc.uow() as uow:
            try:
                seen.append(intake.receive(uow, ops, api.svc.intake(), batch, features, rules,
                                           now=NOW))  # fmt: skip
            except InvalidRequestError as exc:
                seen.append(str(exc))

    try:
        assert broker.consume(handle, once=True, wait=5.0) == 3  # generous: CI runs 2 workers
        first, again, refused = seen
        assert isinstance(first, intake.Received)
        assert isinstance(again, intake.Received)
        assert (first.taken.accepted, first.taken.duplicate) == (1, False)
        assert first.monitored is not None
        assert first.monitored.lines_frozen == (_line(api)["id"],)
        assert (again.taken.duplicate, again.monitored) == (True, None)
        assert "no live consent" in str(refused)
        assert broker.consume(handle, once=True) == 0
    finally:
        import asyncio

        async def drop() -> None:
            nc, js = await broker._js()
            await js.delete_stream(broker.stream)
            await nc.close()

        asyncio.run(drop())
