"""Fail closed: no model or no features means a person decides, never an auto-approval. The audit
chain is keyed: an edit, a deleted tail or a chain recomputed without the key fails verify."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from tests.world import USCC, World

from loomcredit.adapters.policy_file import load_lpr, load_policy
from loomcredit.domain.decision.bands import Band
from loomcredit.domain.errors import NotFound
from loomcredit.domain.money import Money
from loomcredit.service_layer import origination
from loomcredit.service_layer.audit import (
    GENESIS,
    AuditHead,
    AuditRecord,
    next_record,
    record_hash,
    verify_chain,
)
from loomcredit.service_layer.decisioning import DecisionRequest, EngineDecider
from loomcredit.service_layer.errors import InvalidRequestError

AS_OF = date(2026, 1, 30)
KEY = b"a" * 32
NOW = datetime(2026, 1, 30, 9, tzinfo=UTC)


class NoFeatures:
    """A lake that has never seen the firm."""

    def get(self, uscc: str, as_of: date) -> Mapping[str, object]:
        raise NotFound(uscc)


class AllConsents:
    def scopes_on(self, uscc: str, as_of: date) -> list[str]:
        return ["bureau", "tax", "invoices"]


class GoodScore:
    """A scorer that would approve anything."""

    version = "always-good"

    def score_one(self, features: Mapping[str, object]) -> object:
        from types import SimpleNamespace

        return SimpleNamespace(score=900.0, pd=0.001, reasons=())


def _decider(scorer: object | None) -> EngineDecider:
    return EngineDecider(load_policy(), load_lpr(), NoFeatures(), AllConsents(), scorer)  # type: ignore[arg-type]


@pytest.mark.parametrize(("scorer", "code"), [(None, "NO_MODEL"), (GoodScore(), "NO_FEATURES")])
def test_without_a_model_or_features_a_person_decides(scorer: object | None, code: str) -> None:
    """A firm the lake has never seen asking ¥300,000 is referred, with the reason, no limit."""
    decision = _decider(scorer).decide(DecisionRequest(USCC, Money.parse("300000"), 12), AS_OF)
    assert decision.band is Band.REVIEW
    assert decision.limit == Money.zero()
    assert decision.pd is None
    assert decision.reasons[0].startswith(code)
    assert Decimal("0.03") < decision.annual_rate <= Decimal("0.12")


def test_a_referral_can_only_be_lent_on_by_a_risk_managers_exception() -> None:
    """No limit: a reviewer cannot approve; a risk manager can, with a comment."""
    w = World()
    decider = _decider(None)
    with w.uow() as uow:
        view = origination.create_application(
            uow,
            decider,
            w.officer,
            uscc=USCC,
            amount=Money.parse("300000"),
            term=12,
            method="annuity",
            now=w.now,
        )
        assert view.app.status.value == "in_review"
        with pytest.raises(InvalidRequestError, match="decision limit"):
            origination.review(uow, w.reviewer, view.app.app_id, "approve", comment="", now=w.now)
        out = origination.review(
            uow, w.risk, view.app.app_id, "approve", comment="visited the mill", now=w.now
        )
    assert out.app.status.value == "approved"


def _chain(n: int) -> tuple[list[AuditRecord], AuditHead]:
    records, head = [], None
    for i in range(n):
        rec, head = next_record(
            KEY, head, actor="a", action="act", subject="s", detail={"i": i}, at=NOW
        )
        records.append(rec)
    assert head is not None
    return records, head


class TestAuditChain:
    def test_an_intact_chain_verifies(self) -> None:
        records, head = _chain(5)
        assert verify_chain(records, head, KEY).ok

    def test_an_edited_record_is_found(self) -> None:
        """Changing a detail breaks that record's MAC."""
        records, head = _chain(5)
        records[2] = replace(records[2], detail='{"i":99}')
        rep = verify_chain(records, head, KEY)
        assert (rep.ok, rep.first_bad) == (False, 3)

    def test_a_deleted_tail_is_found(self) -> None:
        """Removing the last records: the sealed head still names the real end."""
        records, head = _chain(5)
        rep = verify_chain(records[:3], head, KEY)
        assert (rep.ok, rep.first_bad) == (False, 4)

    def test_a_deleted_tail_with_a_forged_head_is_found(self) -> None:
        """Moving the head back without the key cannot seal it."""
        records, _ = _chain(5)
        forged = AuditHead(3, records[2].hash, "0" * 64)
        assert not verify_chain(records[:3], forged, KEY).ok

    def test_a_chain_recomputed_without_the_key_is_found(self) -> None:
        """An attacker rewriting record 2 and recomputing every hash (SHA-256) fails."""
        records, _ = _chain(4)
        prev, forged = GENESIS, []
        for r in records:
            detail = '{"i":42}' if r.seq == 2 else r.detail
            h = record_hash(r.seq, r.at, r.actor, r.action, r.subject, detail, prev)
            forged.append(replace(r, detail=detail, prev_hash=prev, hash=h))
            prev = h
        rep = verify_chain(forged, AuditHead(4, prev, None), KEY)
        assert (rep.ok, rep.first_bad) == (False, 1)

    def test_the_wrong_key_fails(self) -> None:
        records, head = _chain(2)
        assert not verify_chain(records, head, b"b" * 32).ok

    def test_a_legacy_prefix_verifies_and_is_protected_by_the_keyed_suffix(self) -> None:
        """Records from before the key (SHA-256) verify; changing one breaks the first keyed
        record's link."""
        legacy, prev = [], GENESIS
        for i in (1, 2):
            h = record_hash(i, NOW, "a", "old", "s", "{}", prev)
            legacy.append(AuditRecord(i, NOW, "a", "old", "s", "{}", prev, h, keyed=False))
            prev = h
        rec, head = next_record(
            KEY, AuditHead(2, prev, None), actor="a", action="new", subject="s", detail={}, at=NOW
        )
        assert verify_chain([*legacy, rec], head, KEY).ok
        h1 = record_hash(1, NOW, "a", "old", "s", '{"x":1}', GENESIS)
        edited = [replace(legacy[0], detail='{"x":1}', hash=h1)]
        h2 = record_hash(2, NOW, "a", "old", "s", "{}", h1)
        edited.append(replace(legacy[1], prev_hash=h1, hash=h2))
        rep = verify_chain([*edited, rec], head, KEY)
        assert (rep.ok, rep.first_bad) == (False, 3)

    def test_use_cases_leave_a_verifiable_chain_naming_the_real_users(self) -> None:
        """A lending story on the fakes audits each step under the person who did it."""
        w = World()
        line_id = w.open_line()
        w.draw(line_id, "10000")
        with w.uow() as uow:
            records, head = list(uow.audit.records()), uow.audit.head()
        from tests.fakes import AUDIT_KEY

        assert verify_chain(records, head, AUDIT_KEY).ok
        actors = {r.action: r.actor for r in records}
        assert actors["drawdown.requested"] == "firm"
        assert actors["loan.disbursed"] == "ops"
        assert actors["application.created"] == "off"
