"""New data as it happens, on the fakes: the borrowers a day's batches touched are monitored once,
after every batch of the day is taken — a firm is never judged on one source's new month while
another source's is still on its way; a refused batch stops the rest and is said."""

from __future__ import annotations

import json
from datetime import date

import pytest
from tests.fakes import FakeFeatures, FakeIntake, FakeWarningRules
from tests.world import USCC, World

from loomcredit.service_layer import intake
from loomcredit.service_layer.errors import InvalidRequestError


def _batch(source: str, changes: dict[str, dict[str, float]] | str) -> intake.Batch:
    payload = changes.encode() if isinstance(changes, str) else json.dumps(changes).encode()
    return intake.Batch(source, payload, f"{source}.jsonl")


def _world() -> tuple[World, FakeFeatures, FakeIntake]:
    w = World(today=date(2026, 3, 2))
    w.open_line()
    feats = FakeFeatures({USCC: {"drop": 0.0}})
    return w, feats, FakeIntake(feats)


def test_a_days_batches_are_judged_together_not_one_by_one() -> None:
    """The invoices batch alone shows a 60 % drop (its month is in, the correction not yet);
    the second batch of the day brings the rest: judged together, nothing is raised; judged
    after the first batch, a red alert would have been."""
    w, feats, door = _world()
    day = [_batch("invoices", {USCC: {"drop": 0.6}}), _batch("tax", {USCC: {"drop": 0.1}})]
    with w.uow() as uow:
        got = intake.receive_all(uow, w.ops, door, day, feats, FakeWarningRules(), now=w.now)
    assert door.took == ["invoices.jsonl", "tax.jsonl"]
    assert [t.source for t in got.batches] == ["invoices", "tax"]
    assert got.monitored is not None
    assert (got.monitored.borrowers, got.monitored.raised) == (1, ())
    w2, feats2, door2 = _world()
    with w2.uow() as uow:
        first = intake.receive(uow, w2.ops, door2, day[0], feats2, FakeWarningRules(), now=w2.now)
    assert first.monitored is not None
    assert [a.rule for a in first.monitored.raised] == ["SALES_DROP"]


def test_a_refused_batch_is_said_and_the_others_of_the_day_are_taken() -> None:
    w, feats, door = _world()
    day = [_batch("judicial", {USCC: {"court": 1}}), _batch("invoices", "refuse"),
           _batch("tax", {USCC: {"drop": 0.9}})]  # fmt: skip
    with w.uow() as uow:
        got = intake.receive_all(uow, w.ops, door, day, feats, FakeWarningRules(), now=w.now)
    assert door.took == ["judicial.jsonl", "tax.jsonl"]
    assert [(t.source, bool(t.refused)) for t in got.batches] == [
        ("judicial", False), ("invoices", True), ("tax", False),
    ]  # fmt: skip
    assert "no live consent" in got.batches[1].refused
    with w.uow() as uow:
        rules = sorted(a.rule for a in uow.alerts.find())
        actions = [r.action for r in uow.audit.records()]
    assert rules == ["COURT", "SALES_DROP"]
    assert actions.count("data.taken") == 3
    with w.uow() as uow, pytest.raises(InvalidRequestError, match="no live consent"):
        intake.receive(uow, w.ops, door, day[1], feats, FakeWarningRules(), now=w.now)
