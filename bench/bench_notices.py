"""Benchmark notice delivery (issue 13, item 8): N notices sent through the outbox to a local
SMTP server (aiosmtpd) and a local HTTP SMS gateway, against the way a user would write it.

The receivers run in their own process (so the sender does not share its GIL with them) and
count what they accepted by idempotency key. On SQLite and PostgreSQL, in the same run:

* Loom: N deliveries (half e-mail, half SMS, each a rendered T−7 reminder of one real loan) queued
  with ``NoticeRepository.add_many`` (timed: queue), then ``notifications.deliver`` — claims of
  ``--batch`` rows (status ``sending`` under a lease), one SMTP connection per batch, the SMS on
  one keep-alive HTTP client with 8 requests in flight, outcomes recorded per batch;
* the naive way, on a slice (``--slice``, scaled to N): per notice one transaction that reads the
  row, sends it (a new SMTP connection, or a new HTTP connection) and marks it delivered.

Both must reach every receiver exactly once (checked: each key accepted once). Target: ≥ 500
notices a second.

Usage: python bench/bench_notices.py [--quick] [--notices N] [--slice N] [--batch N] [--no-pg]
"""

from __future__ import annotations

import argparse
import cProfile
import multiprocessing as mp
import smtplib
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Engine, select, update

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.lending_fixtures import drop_pg_database, make_pg_database, pg_available
from tests.receivers import Gateway, free_port, http_gateway, smtp_server
from tests.world import World

from loomcredit.adapters import orm
from loomcredit.adapters.migrations import upgrade_database
from loomcredit.adapters.notice_policy_file import load_notice_policy
from loomcredit.adapters.notifiers import HttpSmsNotifier, SmtpNotifier, message_id
from loomcredit.adapters.repositories.notices import open_address
from loomcredit.adapters.sqlalchemy_uow import SqlAlchemyUnitOfWork, make_engine
from loomcredit.domain.contacts import Channel
from loomcredit.domain.money import Money
from loomcredit.domain.notices import DeliveryStatus, Notice, render
from loomcredit.service_layer import notifications
from loomcredit.service_layer.unit_of_work import Delivery

POLICY = load_notice_policy()
PROFILE: Path | None = None
TARGET_PER_S = 500
KEY = b"n" * 32


def receivers(smtp_port: int, http_port: int, ready: Any, stop: Any, out: Any) -> None:
    """The receivers' process: serve until told to stop, then report what was accepted."""
    gateway = Gateway(keep=False)
    with smtp_server(keep=False, port=smtp_port) as (box, _), http_gateway(gateway, port=http_port):
        ready.set()
        stop.wait()
        mail = box.ids()
        out.put((sum(mail.values()), len(mail), sum(gateway.accepted.values()),
                 len(gateway.accepted)))  # fmt: skip


def rows_for(loan_id: int, uscc: str, start: int, n: int) -> list[Delivery]:
    """n deliveries (e-mail and SMS alternately) of rendered T−7 reminders."""
    at = datetime.now(UTC)
    out = []
    for k in range(start, start + n):
        notice = Notice(loan_id, uscc, k, "T-7", date(2026, 3, 26), date(2026, 4, 2),
                        Money(1_000_000 + k), Money(45_000), Money(0), 0, "6222000011112222",
                        POLICY.version)  # fmt: skip
        subject, body = render(notice, POLICY, language="zh-CN")
        email = k % 2 == 0
        out.append(Delivery(0, loan_id, uscc, k, "T-7", notice.on, notice.due_on, notice.amount,
                            0, Channel.EMAIL if email else Channel.SMS, 1,
                            f"b{k}@example.com" if email else f"138{k:08d}", "zh-CN", subject,
                            body, POLICY.version, DeliveryStatus.QUEUED, 0, at))  # fmt: skip
    return out


def naive(engine: Engine, ids: list[int], smtp_port: int, url: str) -> None:
    """Per notice: one transaction, one new connection, send, mark delivered."""
    t, aead = orm.notices, AESGCM(KEY)
    for nid in ids:
        with engine.begin() as conn:
            row = conn.execute(select(t).where(t.c.id == nid)).one()
            address = open_address(aead, row.address_enc)
            if row.channel == Channel.EMAIL.value:
                msg = EmailMessage()
                msg["From"], msg["To"], msg["Subject"] = "n@bank.example", address, row.subject
                msg["Message-ID"] = message_id(f"loom-notice-{nid}")
                msg.set_content(row.body)
                with smtplib.SMTP("127.0.0.1", smtp_port) as smtp:
                    smtp.send_message(msg)
            else:
                key = {"Idempotency-Key": f"loom-notice-{nid}"}
                resp = httpx.post(url, json={"to": address, "text": row.body}, headers=key)
                resp.raise_for_status()
            done = {"status": "delivered", "delivered_at": datetime.now(UTC)}
            conn.execute(update(t).where(t.c.id == nid).values(**done))


def one_database(
    kind: str, url: str, n: int, slice_n: int, batch: int, smtp_connections: int
) -> dict[str, float]:
    """Queue, deliver the Loom way and the naive way on one database; the figures."""
    upgrade_database(url)
    engine = make_engine(url)
    uow: Callable[[], SqlAlchemyUnitOfWork] = lambda: SqlAlchemyUnitOfWork(engine, KEY, KEY)  # noqa: E731
    w = World(make_uow=uow)
    loan_id = w.draw(w.open_line("300000"), "120000")
    uscc = w.loan(loan_id).ref.uscc
    loom_rows, naive_rows = rows_for(loan_id, uscc, 1, n), rows_for(loan_id, uscc, n + 1, slice_n)
    t0 = time.perf_counter()
    with uow() as u:
        u.notices.add_many(loom_rows)
        u.commit()
    queue_s = time.perf_counter() - t0
    with uow() as u:
        u.notices.add_many(naive_rows)
        u.commit()
    with engine.connect() as conn:
        t = orm.notices
        naive_ids = [r.id for r in conn.execute(select(t.c.id).where(t.c.installment > n))]
    smtp_port, http_port = free_port(), free_port()
    ctx = mp.get_context("spawn")
    ready, stop, out = ctx.Event(), ctx.Event(), ctx.Queue()
    proc = ctx.Process(target=receivers, args=(smtp_port, http_port, ready, stop, out))
    proc.start()
    if not ready.wait(30):
        raise RuntimeError("the receivers did not start")
    sms_url = f"http://127.0.0.1:{http_port}/sms"
    try:
        t0 = time.perf_counter()
        naive(engine, naive_ids, smtp_port, sms_url)
        naive_s = time.perf_counter() - t0
        smtp = SmtpNotifier(
            "127.0.0.1", smtp_port, sender="n@bank.example", connections=smtp_connections
        )
        notifiers = {Channel.EMAIL: smtp,
                     Channel.SMS: HttpSmsNotifier(sms_url, token="bench")}  # noqa: S106  # fmt: skip
        prof = cProfile.Profile() if PROFILE else None
        t0 = time.perf_counter()
        if prof is not None:
            prof.enable()
        run = notifications.deliver(uow, notifiers, lambda: datetime.now(UTC), policy=POLICY,
                                    batch=batch)  # fmt: skip
        loom_s = time.perf_counter() - t0
        if prof is not None and PROFILE is not None:
            prof.disable()
            prof.dump_stats(str(PROFILE / f"notices-{kind}.prof"))
    finally:
        stop.set()
        mail_total, mail_keys, sms_total, sms_keys = out.get(timeout=60)
        proc.join(30)
        engine.dispose()
    total = n + slice_n
    assert run.delivered == n, f"Loom delivered {run.delivered} of {n} ({run})"
    assert mail_total == mail_keys, f"an e-mail arrived twice ({mail_total} for {mail_keys})"
    assert sms_total == sms_keys, f"an SMS was accepted twice ({sms_total} for {sms_keys})"
    assert mail_keys + sms_keys == total, (mail_keys, sms_keys, total)
    return {"queue_s": queue_s, "loom_s": loom_s, "naive_s": naive_s * n / slice_n,
            "naive_slice_s": naive_s, "received": mail_keys + sms_keys}  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="5,000 notices, a slice of 500")
    p.add_argument("--notices", type=int, default=None, help="notices sent (default 100,000)")
    p.add_argument("--slice", type=int, default=None, help="naive slice (default 2,000)")
    p.add_argument("--batch", type=int, default=500, help="deliveries claimed at a time")
    p.add_argument(
        "--smtp-connections",
        type=int,
        default=2,
        help="SMTP connections side by side per batch (default 2)",
    )
    p.add_argument("--profile", type=Path, default=None, help="write a cProfile of Loom's run")
    p.add_argument("--no-pg", action="store_true", help="SQLite only")
    args = p.parse_args()
    global PROFILE
    PROFILE = args.profile
    n = args.notices or (5_000 if args.quick else 100_000)
    slice_n = args.slice or (500 if args.quick else 2_000)
    kinds = ["sqlite"] + ([] if args.no_pg or not pg_available() else ["postgresql"])
    results = {}
    with tempfile.TemporaryDirectory(prefix="loom-bench-notices-") as tmp:
        for kind in kinds:
            url = f"sqlite:///{Path(tmp) / 'loom.db'}" if kind == "sqlite" else make_pg_database()
            try:
                results[kind] = one_database(
                    kind, url, n, slice_n, args.batch, args.smtp_connections
                )
            finally:
                if kind == "postgresql":
                    drop_pg_database(url)
    print(f"{n:,} notices (half e-mail to aiosmtpd, half SMS to an HTTP gateway, loopback; "
          f"batch {args.batch}, {args.smtp_connections} SMTP connections, 8 HTTP requests in "
          f"flight); naive way timed on {slice_n:,} and scaled")  # fmt: skip
    print("| database | Loom outbox | naive: a transaction and a connection per notice | ratio |")
    print("|---|---|---|---|")
    for kind, r in results.items():
        rate, naive_rate = n / r["loom_s"], n / r["naive_s"]
        ok = "ok" if rate >= TARGET_PER_S else "MISSED"
        print(f"| {kind} | {r['loom_s']:.1f} s, {rate:,.0f}/s [≥ {TARGET_PER_S}/s: {ok}]; "
              f"queued in {r['queue_s']:.1f} s | ≈ {r['naive_s']:.1f} s, {naive_rate:,.0f}/s "
              f"({r['naive_slice_s']:.1f} s on {slice_n:,}) "
              f"| {r['naive_s'] / r['loom_s']:.1f}× |")  # fmt: skip
    print("every receiver accepted each key once: "
          + ", ".join(f"{k} {r['received']:,.0f}" for k, r in results.items()))  # fmt: skip


if __name__ == "__main__":
    main()
