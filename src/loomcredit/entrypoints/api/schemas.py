"""Request bodies of the lending API (pydantic 2); money is a decimal string with a currency."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from loomcredit.domain.money import Money


def _iso_date(value: object) -> object:
    """Only a ``YYYY-MM-DD`` string (or a date): pydantic's lax mode would read ``0`` as 1970."""
    if isinstance(value, date) or (
        isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)
    ):
        return value
    raise ValueError("must be a date written YYYY-MM-DD")


def _no_nul(value: str) -> str:
    """PostgreSQL cannot store NUL (U+0000) in text: refuse it here (was a 500 on PostgreSQL)."""
    if "\x00" in value:
        raise ValueError("must not contain the NUL character (U+0000)")
    return value


#: Free text a database can store; the schema says so with a pattern, the check in plain words.
Text = Annotated[str, AfterValidator(_no_nul), Field(json_schema_extra={"pattern": r"^[^\x00]*$"})]

#: A calendar date as the schema promises it: an ISO string, not a number or a timestamp.
IsoDate = Annotated[date, BeforeValidator(_iso_date)]


class MoneyIn(BaseModel):
    """``{"amount": "1234.56", "currency": "CNY"}``."""

    model_config = ConfigDict(extra="forbid")
    amount: str = Field(pattern=r"^\d{1,13}(\.\d{1,2})?$", examples=["300000.00"])
    currency: Literal["CNY"] = "CNY"

    def money(self) -> Money:
        """As domain money."""
        return Money.parse(self.amount, self.currency)


class Login(BaseModel):
    """Credentials."""

    model_config = ConfigDict(extra="forbid")
    username: Text = Field(min_length=1, max_length=64)
    password: Text = Field(min_length=1, max_length=200)


class ApplicationIn(BaseModel):
    """A credit application."""

    model_config = ConfigDict(extra="forbid")
    uscc: str = Field(min_length=18, max_length=18, examples=["913306034JURQ2830H"])
    amount: MoneyIn
    term_months: int = Field(ge=1, le=60, strict=True)
    method: Literal["annuity", "equal_principal", "interest_only"] = "annuity"
    legal_rep_id: str | None = Field(default=None, min_length=18, max_length=18)
    as_of: IsoDate | None = Field(
        default=None, description="decision date; another than the business date needs a right"
    )


class ReviewIn(BaseModel):
    """A reviewer's verdict."""

    model_config = ConfigDict(extra="forbid")
    verdict: Literal["approve", "decline", "return"]
    comment: Text = Field(default="", max_length=2000)
    approved_amount: MoneyIn | None = Field(
        default=None,
        description="amount approved (default: the amount asked); at most the decision's limit "
        "unless a risk manager approves an exception with a comment",
    )


class ResubmitIn(BaseModel):
    """Changes to a returned application (omitted fields stay as they were)."""

    model_config = ConfigDict(extra="forbid")
    amount: MoneyIn | None = None
    term_months: int | None = Field(default=None, ge=1, le=60, strict=True)
    as_of: IsoDate | None = None


class RedecideIn(BaseModel):
    """A risk manager decides an application in review again as of another date."""

    model_config = ConfigDict(extra="forbid")
    as_of: IsoDate
    reason: Text = Field(min_length=1, max_length=2000)


class HumanReviewIn(BaseModel):
    """The applicant asks for a person to look at an automated decision."""

    model_config = ConfigDict(extra="forbid")
    reason: Text = Field(default="", max_length=2000)


class AsOfIn(BaseModel):
    """A business date (defaults to the business date)."""

    model_config = ConfigDict(extra="forbid")
    as_of: IsoDate | None = None


class EodIn(AsOfIn):
    """End of day up to a date; ``monitor``: then run post-loan monitoring as of it."""

    monitor: bool = False


class AcceptIn(BaseModel):
    """The applicant signs: the settlement account repayments are debited from (代扣授权)."""

    model_config = ConfigDict(extra="forbid")
    settlement_account: str = Field(
        min_length=8, max_length=40, pattern=r"^[0-9 -]+$", examples=["6222 0000 1111 2222"]
    )


class DrawdownIn(BaseModel):
    """A drawdown asked for (用信申请)."""

    model_config = ConfigDict(extra="forbid")
    amount: MoneyIn


class ReasonIn(BaseModel):
    """A reason (required) for an action that needs one."""

    model_config = ConfigDict(extra="forbid")
    reason: Text = Field(min_length=1, max_length=2000)


class ReduceIn(BaseModel):
    """压降: the new limit and why."""

    model_config = ConfigDict(extra="forbid")
    limit: MoneyIn
    reason: Text = Field(min_length=1, max_length=2000)


class ReversalIn(BaseModel):
    """Reverse a write-off entry."""

    model_config = ConfigDict(extra="forbid")
    entry_id: Text = Field(min_length=1, max_length=80)
    reason: Text = Field(min_length=1, max_length=2000)


class BackValuedIn(BaseModel):
    """A receipt the bank confirms with a value date already closed (倒起息)."""

    model_config = ConfigDict(extra="forbid")
    amount: MoneyIn
    value_date: IsoDate
    bank_ref: Text = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:/-]+$")
    reason: Text = Field(min_length=1, max_length=2000)
    statement_line_id: int | None = Field(default=None, ge=1, le=2_147_483_647)


class RestructureIn(BaseModel):
    """重组申请: extension 展期 by ``months``, or a new plan 调整还款计划 of ``months`` periods."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["extension", "reschedule"]
    months: int = Field(ge=1, le=120)
    first_due: IsoDate | None = None
    method: Literal["annuity", "equal_principal", "interest_only"] | None = None
    reason: Text = Field(min_length=1, max_length=2000)


class PrepaymentIn(BaseModel):
    """提前还款申请: all of it (no principal) or that much principal, on a day."""

    model_config = ConfigDict(extra="forbid")
    principal: MoneyIn | None = None
    on: IsoDate | None = None


class DecisionIn(BaseModel):
    """A decision on an approval request."""

    model_config = ConfigDict(extra="forbid")
    comment: Text = Field(default="", max_length=2000)


class AssignIn(BaseModel):
    """Assign a waiting statement line to a loan."""

    model_config = ConfigDict(extra="forbid")
    loan_id: int = Field(ge=1, le=2_147_483_647, strict=True)
    comment: Text = Field(default="", max_length=2000)


class CommentIn(BaseModel):
    """A comment (required)."""

    model_config = ConfigDict(extra="forbid")
    comment: Text = Field(min_length=1, max_length=2000)


_ROLES = Literal[
    "applicant",
    "officer",
    "reviewer",
    "risk_manager",
    "operations",
    "collector",
    "auditor",
    "admin",
]


class UserIn(BaseModel):
    """A new user (a role grant another admin approves)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    role: _ROLES
    password: Text = Field(min_length=8, max_length=200)
    enterprise_uscc: str | None = Field(default=None, min_length=18, max_length=18)
    reason: Text = Field(min_length=1, max_length=2000)


class RoleIn(BaseModel):
    """A role change (approved by another admin)."""

    model_config = ConfigDict(extra="forbid")
    role: _ROLES
    enterprise_uscc: str | None = Field(default=None, min_length=18, max_length=18)
    reason: Text = Field(min_length=1, max_length=2000)


class DataBatchIn(BaseModel):
    """Rows of one source of the data contract (docs: DESIGN.md), one object a row."""

    model_config = ConfigDict(extra="forbid")
    rows: list[dict[str, str | int | float | bool | None]] = Field(min_length=1, max_length=100_000)


class MonitorIn(BaseModel):
    """A monitoring run: as of a date (default: the business date), all borrowers or some."""

    model_config = ConfigDict(extra="forbid")
    as_of: IsoDate | None = None
    uscc: list[Annotated[str, Field(pattern=r"^[0-9A-Z]{18}$")]] | None = Field(
        default=None, max_length=10000
    )


class FreezeDecisionIn(BaseModel):
    """Confirm or lift the freeze the monitor made for an alert, and why."""

    model_config = ConfigDict(extra="forbid")
    decision: Literal["confirm", "lift"]
    comment: Text = Field(min_length=1, max_length=2000)


class AlertStepIn(BaseModel):
    """A comment on an alert's step (required to record an action or to close)."""

    model_config = ConfigDict(extra="forbid")
    comment: Text = Field(default="", max_length=2000)


class TaskIn(BaseModel):
    """A visit (实地走访) or a documents request (补充材料) on an alert: due by ``due_on`` or within
    the policy's days for the alert's level; a documents request names what is asked for (or
    the policy's list)."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["visit", "documents"]
    due_on: date | None = None
    documents: list[Annotated[Text, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=20, examples=[["近三个月银行流水"]]
    )
    note: Text = Field(default="", max_length=2000)


class TaskEndIn(BaseModel):
    """What the visit found or which documents came in (done), or why it is cancelled."""

    model_config = ConfigDict(extra="forbid")
    text: Text = Field(min_length=1, max_length=4000)


class ContactIn(BaseModel):
    """A contact the borrower registered in its contract (登记联系人): a name, a role and at least
    one channel (mainland mobile or e-mail)."""

    model_config = ConfigDict(extra="forbid")
    name: Text = Field(min_length=1, max_length=100, examples=["王芳"])
    role: Literal["legal_rep", "finance", "guarantor", "other"]
    phone: str | None = Field(default=None, max_length=20, pattern=r"^[0-9 +-]*$",
                              examples=["13800138000"])  # fmt: skip
    email: str | None = Field(default=None, max_length=200, examples=["wang@example.com"])
