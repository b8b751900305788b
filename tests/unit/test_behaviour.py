"""The behaviour score (行为评分) and the PD-jump rule: the domain's arithmetic and windows, and
the monitor raising PD_JUMP from the model's PD and how the borrower repaid, on the fakes."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.fakes import FakeFeatures, FakeWarningRules
from tests.world import USCC, World

from loomcredit.adapters.policy_file import load_warning_policy
from loomcredit.adapters.warning_rules import ProfileWarningRules
from loomcredit.domain.alerts import AlertLevel
from loomcredit.domain.behaviour import (
    BehaviourPolicy,
    LoanDay,
    RepaymentFacts,
    behaviour_score,
    pd_jumped,
    repayment_history,
)
from loomcredit.domain.errors import PolicyViolation
from loomcredit.domain.warning_policy import WarningAction
from loomcredit.service_layer import monitoring

POLICY = BehaviourPolicy()
AS_OF = date(2026, 6, 30)


class TestTheScore:
    def test_no_factor_leaves_the_model_pd(self) -> None:
        s = behaviour_score(Decimal("0.013"), RepaymentFacts(), POLICY)
        assert (s.pd, s.factors) == (Decimal("0.013000"), ())

    def test_only_the_worst_dpd_tier_applies(self) -> None:
        """DPD 95 is the 90+ tier (×8), not also the 30+ and 1+ tiers: odds 0.01/0.99 × 8."""
        s = behaviour_score(Decimal("0.01"), RepaymentFacts(max_dpd_6m=95), POLICY)
        assert [f.code for f in s.factors] == ["DPD_90"]
        assert s.pd == Decimal("0.074766")  # 0.080808 / 1.080808

    @given(
        pd=st.decimals("0", "0.99", places=4),
        dpd=st.integers(0, 400),
        late=st.integers(0, 365),
        used=st.decimals("0", "1", places=2),
        more_dpd=st.integers(0, 100),
    )
    def test_behaviour_never_lowers_the_pd_and_worse_repayment_never_helps(
        self, pd: Decimal, dpd: int, late: int, used: Decimal, more_dpd: int
    ) -> None:
        s = behaviour_score(pd, RepaymentFacts(dpd, late, used), POLICY)
        worse = behaviour_score(pd, RepaymentFacts(dpd + more_dpd, late, used), POLICY)
        assert s.model_pd <= s.pd + Decimal("0.000001")
        assert s.pd <= worse.pd
        assert Decimal(0) <= s.pd < Decimal(1)

    @pytest.mark.parametrize(
        ("approved", "now", "jumped"),
        [
            ("0.010", "0.030", True),  # ×3 and +2 pp
            ("0.010", "0.019", False),  # +0.9 pp: too small a rise
            ("0.040", "0.070", False),  # +3 pp but only ×1.75
            ("0.040", "0.080", True),
            (None, "0.500", False),  # no PD at approval (a person approved a referral)
        ],
    )
    def test_a_jump_needs_both_the_ratio_and_the_rise(
        self, approved: str | None, now: str, jumped: bool
    ) -> None:
        s = behaviour_score(Decimal(now), RepaymentFacts(), POLICY)
        assert pd_jumped(s, None if approved is None else Decimal(approved), POLICY) is jumped

    def test_a_policy_that_could_lower_a_pd_is_refused(self) -> None:
        with pytest.raises(PolicyViolation):
            BehaviourPolicy(repeated_late_odds=Decimal("0.9"))
        with pytest.raises(PolicyViolation):
            BehaviourPolicy(dpd_odds=((1, Decimal(2)), (30, Decimal(4))))


class TestTheHistory:
    def test_windows_and_days_not_yet_known(self) -> None:
        """Line 1's loans: DPD 40 two hundred days ago counts as late days but not as the
        six-month worst; a day after the as-of date is not known; line 2's two loans count
        their overdue days apart (the worst loan), not summed."""
        d = AS_OF
        days = [
            LoanDay(1, 1, d - timedelta(days=200), 40),
            LoanDay(1, 1, d - timedelta(days=10), 3),
            LoanDay(1, 1, d + timedelta(days=1), 90),
            LoanDay(1, 1, d - timedelta(days=400), 99),
            *[LoanDay(2, 2, d - timedelta(days=i), 1) for i in range(10)],
            *[LoanDay(3, 2, d - timedelta(days=i), 2) for i in range(8)],
            LoanDay(3, 2, d - timedelta(days=9), 0),
        ]
        got = repayment_history(days, AS_OF)
        assert got == {1: RepaymentFacts(3, 2), 2: RepaymentFacts(2, 10)}


def _world_with_drawn_line() -> tuple[World, int]:
    w = World(today=date(2026, 3, 2))
    line = w.open_line("300000")
    w.draw(line, "290000")  # 96.7 % drawn
    return w, line


def _run(w: World, feats: FakeFeatures, as_of: date) -> monitoring.MonitorRun:
    with w.uow() as uow:
        out = monitoring.monitor(uow, w.risk, feats, FakeWarningRules(), as_of=as_of, now=w.now)
        uow.commit()
    return out


class TestTheMonitor:
    def test_a_maxed_out_line_and_a_higher_model_pd_raise_pd_jump(self) -> None:
        """Approved at PD 0.02 (the fake decider's); the model now says 0.03 and the line is
        97 % drawn: odds × 1.4 → behaviour PD 4.15 %, over 2 × 0.02 and +2 pp: PD_JUMP."""
        w, _ = _world_with_drawn_line()
        out = _run(w, FakeFeatures({USCC: {"pd": "0.03"}}), date(2026, 3, 1))
        assert out.scored == 1
        (alert,) = out.raised
        assert (alert.rule, alert.level) == ("PD_JUMP", AlertLevel.AMBER)
        assert Decimal(alert.evidence[0].value) == Decimal("0.041502")

    def test_the_same_model_pd_on_an_idle_line_raises_nothing(self) -> None:
        w = World(today=date(2026, 3, 2))
        w.open_line("300000")
        out = _run(w, FakeFeatures({USCC: {"pd": "0.03"}}), date(2026, 3, 1))
        assert (out.scored, out.raised) == (1, ())

    def test_days_past_due_recorded_by_end_of_day_raise_the_score(self) -> None:
        """A loan whose first instalment goes unpaid: once end of day has recorded 35 days past
        due (35 late days too), a model PD of 0.012 on a third-drawn line becomes 0.0679 (odds
        × 4 for 30+, × 1.5 for repeated lateness): PD_JUMP; before the instalment fell due the
        same PD raised nothing."""
        w = World(today=date(2026, 3, 2))
        line = w.open_line("300000")
        w.draw(line, "100000")
        feats = FakeFeatures({USCC: {"pd": "0.012"}})
        assert _run(w, feats, date(2026, 3, 1)).raised == ()
        with w.uow() as uow:
            (loan,) = uow.loans.find(line_id=line)
        first_due = loan.instalments[0].due_on
        w.close_days_until(first_due + timedelta(days=36))
        with w.uow() as uow:
            facts = uow.book.repayment_history(first_due + timedelta(days=35))
        assert facts[line].max_dpd_6m == 35
        out = _run(w, feats, first_due + timedelta(days=35))
        (alert,) = out.raised
        assert (alert.rule, Decimal(alert.evidence[0].value)) == ("PD_JUMP", Decimal("0.067925"))


class TestTheShippedRules:
    def test_the_policy_names_pd_jump_as_an_amber_limit_review(self) -> None:
        spec = load_warning_policy().spec("PD_JUMP")
        assert (spec.level, spec.action) == (AlertLevel.AMBER, WarningAction.REVIEW_LIMIT)

    def test_without_a_model_there_is_no_behaviour_score(self) -> None:
        assert ProfileWarningRules().model_pds([{"x": 1}, {}]) == [None, None]

    def test_with_a_model_the_jump_carries_its_evidence(self) -> None:
        class Model:
            version, pd = "m1", 0.05

            def __init__(self) -> None:
                self.batches: list[int] = []

            def pds(self, vectors: list[object]) -> list[float]:
                self.batches.append(len(vectors))
                return [self.pd] * len(vectors)

        model = Model()
        rules = ProfileWarningRules(scorer=model)
        assert rules.model_pds([{"x": 1}, {}, {"y": 2}]) == [Decimal("0.05"), None, Decimal("0.05")]
        assert model.batches == [2]  # one batch, the empty vector not sent
        asked: list[int] = []

        def approved() -> Decimal:
            asked.append(1)
            return Decimal("0.01")

        score, hits = rules.behaviour(Decimal("0.05"), RepaymentFacts(0, 20, Decimal(0)),
                                      approved, AS_OF)  # fmt: skip
        assert score.pd == Decimal("0.073171")  # odds 0.052632 × 1.5 (20 late days)
        (hit,) = hits
        assert (hit.rule, hit.action) == ("PD_JUMP", WarningAction.REVIEW_LIMIT)
        assert "近12个月逾期 20 天" in hit.evidence.message_zh
        assert hit.evidence.baseline.endswith("0.01")
        low, none = rules.behaviour(Decimal("0.015"), RepaymentFacts(), approved, AS_OF)
        assert low.pd == Decimal("0.015")
        assert none == ()
        assert asked == [1]  # below the 2 pp rise no approval PD can make a jump: not read
