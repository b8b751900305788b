"""Request bodies of the lending API (pydantic 2); money is a decimal string with a currency."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from loomcredit.domain.money import Money


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
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class ApplicationIn(BaseModel):
    """A credit application."""

    model_config = ConfigDict(extra="forbid")
    uscc: str = Field(min_length=18, max_length=18, examples=["91330603MA2BXXXX1X"])
    amount: MoneyIn
    term_months: int = Field(ge=1, le=60)
    method: Literal["annuity", "equal_principal", "interest_only"] = "annuity"
    legal_rep_id: str | None = Field(default=None, min_length=18, max_length=18)
    as_of: date | None = None


class ReviewIn(BaseModel):
    """A reviewer's verdict."""

    model_config = ConfigDict(extra="forbid")
    verdict: Literal["approve", "decline", "return"]
    comment: str = Field(default="", max_length=2000)
    approved_amount: MoneyIn | None = Field(
        default=None,
        description="amount approved (default: the amount asked); at most the decision's limit "
        "unless a risk manager approves an exception with a comment",
    )


class ResubmitIn(BaseModel):
    """Changes to a returned application (omitted fields stay as they were)."""

    model_config = ConfigDict(extra="forbid")
    amount: MoneyIn | None = None
    term_months: int | None = Field(default=None, ge=1, le=60)
    as_of: date | None = None


class HumanReviewIn(BaseModel):
    """The applicant asks for a person to look at an automated decision."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(default="", max_length=2000)


class AsOfIn(BaseModel):
    """A business date (defaults to today on the service clock)."""

    model_config = ConfigDict(extra="forbid")
    as_of: date | None = None


class RepaymentIn(BaseModel):
    """A repayment received."""

    model_config = ConfigDict(extra="forbid")
    amount: MoneyIn
    received_on: date | None = None
    early: bool = False


class ReversalIn(BaseModel):
    """Reverse a write-off entry."""

    model_config = ConfigDict(extra="forbid")
    entry_id: str = Field(min_length=1, max_length=80)
    as_of: date | None = None


class UserIn(BaseModel):
    """A new user."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    role: Literal[
        "applicant", "officer", "reviewer", "risk_manager", "collector", "auditor", "admin"
    ]
    password: str = Field(min_length=8, max_length=200)
    enterprise_uscc: str | None = Field(default=None, min_length=18, max_length=18)
