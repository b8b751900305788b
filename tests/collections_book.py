"""A scripted book for the collection-case tests (fakes, SQLite, PostgreSQL): three borrowers of
Keqiao (region 330603), each with one ¥120,000 12-month annuity loan at 4.5 % drawn on
2026-03-02, first instalment due 2026-04-02, none paid on the day.

* ``a`` promises on 04-06 to pay what is due by 04-10, pays it on 04-09: cured within M1, its
  promise kept.
* ``b`` never pays: M1 on 04-03, M2 on 05-03, M3 on 06-02, M3+ on 07-02; then escalated.
* ``c`` promises on 04-06 to pay ¥5,000 by 04-10, pays nothing: the promise is broken; it pays
  everything due on 04-20 and is cured.

Expectations in the tests are derived by hand from these facts and the documented rules.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from tests.world import ACCOUNT, World

from loomcredit.domain.collections import CollectionCase, Outcome
from loomcredit.domain.conduct import ActivityKind
from loomcredit.domain.contacts import Contact, ContactRole
from loomcredit.domain.identity import generate_uscc
from loomcredit.domain.money import Money
from loomcredit.domain.payments import loan_reference
from loomcredit.service_layer import approvals, case_work, lines
from loomcredit.service_layer.users import Role, User

DUE = date(2026, 4, 2)
RM = User("rm", Role.RISK_MANAGER)
RM2 = User("rm2", Role.RISK_MANAGER)


def china(day: date, hh: int, mm: int = 0) -> datetime:
    """An aware instant at ``hh:mm`` China time on ``day``, expressed in UTC."""
    return datetime.combine(day, time(hh, mm), tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(UTC)


@dataclass
class Book:
    """The world and the three borrowers' USCCs, loans and contacts."""

    w: World
    usccs: dict[str, str]
    loans: dict[str, int]
    contacts: dict[str, int]

    def case(self, who: str) -> CollectionCase:
        with self.w.uow() as uow:
            found = uow.cases.find(open_only=False, uscc=self.usccs[who])
        assert len(found) == 1, found
        return found[0]

    def pay_due(self, who: str) -> Money:
        """A statement credit of everything due today on ``who``'s loan."""
        loan_id = self.loans[who]
        due = self.w.loan(loan_id).amount_due(self.w.today)
        ref = f"PAY-{who}-{self.w.today}"
        self.w.statement(self.w.credit(ref, due.amount_str(), memo=loan_reference(loan_id)))
        return due

    def contact(self, who: str, *, outcome: Outcome, at: datetime, **kw: object) -> None:
        case = self.case(who)
        with self.w.uow() as uow:
            case_work.record_contact(
                uow,
                RM,
                case.case_id,
                kind=ActivityKind.CALL,
                outcome=outcome,
                contact_id=self.contacts[who],
                now=at,
                **kw,  # type: ignore[arg-type]
            )
            uow.commit()

    def promises_of_april_6(self) -> None:
        """The story's two promises, taken on 2026-04-06 in the morning (China time): a to pay
        ¥10,000 by 04-10, c ¥5,000 by 04-10."""
        self.w.close_days_until(date(2026, 4, 6))
        for who, at, amount in (("a", china(date(2026, 4, 6), 10), "10000"),
                                ("c", china(date(2026, 4, 6), 10, 30), "5000")):  # fmt: skip
            self.contact(who, outcome=Outcome.PROMISE, at=at, promise_amount=Money.parse(amount),
                         promise_on=date(2026, 4, 10))  # fmt: skip


def build(w: World) -> Book:
    """Open the three lines and loans and register each borrower's finance contact."""
    usccs = {
        who: generate_uscc("330603", random.Random(seed))
        for who, seed in (("a", 11), ("b", 12), ("c", 13))
    }
    loans, contacts = {}, {}
    officer = User("off", Role.OFFICER)
    for who, uscc in usccs.items():
        line_id = w.open_line("300000", uscc=uscc)
        with w.uow() as uow:
            req = lines.request_drawdown(
                uow, officer, line_id, Money.parse("120000"), key=w.key(), now=w.now
            )
            out = approvals.approve(uow, w.ops, req.request_id, now=w.now)
            cid = uow.contacts.add(
                Contact.register(
                    uscc=uscc,
                    name=f"财务{who}",
                    role=ContactRole.FINANCE,
                    phone=f"1380013800{ord(who) - 96}",
                    email=None,
                    on=w.today,
                    by="off",
                )
            )
            uow.commit()
        loans[who] = int(out.result.removeprefix("loan:"))
        contacts[who] = cid
    assert ACCOUNT
    return Book(w, usccs, loans, contacts)
