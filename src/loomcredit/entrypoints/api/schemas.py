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
    as_of: IsoDate | None = None


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


class HumanReviewIn(BaseModel):
    """The applicant asks for a person to look at an automated decision."""

    model_config = ConfigDict(extra="forbid")
    reason: Text = Field(default="", max_length=2000)


class AsOfIn(BaseModel):
    """A business date (defaults to today on the service clock)."""

    model_config = ConfigDict(extra="forbid")
    as_of: IsoDate | None = None


class RepaymentIn(BaseModel):
    """A repayment received."""

    model_config = ConfigDict(extra="forbid")
    amount: MoneyIn
    received_on: IsoDate | None = None
    early: bool = Field(default=False, strict=True)


class ReversalIn(BaseModel):
    """Reverse a write-off entry."""

    model_config = ConfigDict(extra="forbid")
    entry_id: Text = Field(min_length=1, max_length=80)
    as_of: IsoDate | None = None


class UserIn(BaseModel):
    """A new user."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    role: Literal[
        "applicant", "officer", "reviewer", "risk_manager", "collector", "auditor", "admin"
    ]
    password: Text = Field(min_length=8, max_length=200)
    enterprise_uscc: str | None = Field(default=None, min_length=18, max_length=18)
