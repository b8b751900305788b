"""The notice policy file → :class:`~loomcredit.domain.notices.NoticePolicy` (YAML validated with
pydantic, as ``policy_file.py`` reads the other policy files).

``load_notice_policy(path)`` reads a file (default: the shipped ``keqiao_notices.yaml``); a bad
file raises :class:`PolicyViolation` with one line naming the field. Every template is filled
with sample values at load, so a misspelt field is refused at load, not at end of day.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pydantic import Field, field_validator

from loomcredit.adapters.policy_file import DATA, _Strict, _validated
from loomcredit.domain.errors import PolicyViolation
from loomcredit.domain.money import Money
from loomcredit.domain.notices import (
    BUREAU,
    LANGUAGES,
    Notice,
    NoticePolicy,
    NoticeTemplate,
    render,
)

__all__ = ["load_notice_policy", "parse_notice_policy"]

CATEGORIES = {"pre_due": "T-7", "due": "DUE", "overdue": "D1", "bureau": BUREAU}


class _Delivery(_Strict):
    max_attempts: int = Field(5, ge=1, le=50)
    backoff_first_s: int = Field(60, ge=0, le=86_400)
    backoff_max_s: int = Field(3600, ge=0, le=7 * 86_400)
    lease_s: int = Field(300, ge=1, le=86_400)


class _Account(_Strict):
    bank_name: str = Field(min_length=1)
    account_name: str = Field(min_length=1)
    account: str = Field(min_length=4, max_length=40)
    phone: str = Field(min_length=1)


class _Template(_Strict):
    subject: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1)


class _NoticeFile(_Strict):
    version: str = Field(min_length=1, max_length=60)
    pre_due_days: list[int] = Field(min_length=1)
    overdue_days: list[int] = Field(min_length=1)
    overdue_every_days: int = Field(ge=1, le=365)
    bureau_notice_dpd: int = Field(ge=1, le=3650)
    bureau_wait_days: int = Field(ge=0, le=365)
    delivery: _Delivery = Field(default_factory=_Delivery)
    repayment_account: _Account
    templates: dict[str, dict[str, _Template]]

    @field_validator("pre_due_days", "overdue_days")
    @classmethod
    def _days(cls, value: list[int]) -> list[int]:
        if any(d < 1 or d > 365 for d in value) or len(set(value)) != len(value):
            raise ValueError("days must be distinct whole days from 1 to 365")
        return value

    @field_validator("templates")
    @classmethod
    def _complete(cls, value: dict[str, dict[str, _Template]]) -> dict[str, dict[str, _Template]]:
        for cat in CATEGORIES:
            missing = [lang for lang in LANGUAGES if lang not in value.get(cat, {})]
            if missing:
                raise ValueError(f"{cat}: no template for {', '.join(missing)}")
        extra = sorted(set(value) - set(CATEGORIES))
        if extra:
            raise ValueError(f"unknown template categories {', '.join(extra)}")
        return value


def parse_notice_policy(text: str, *, source: str = "<notice policy>") -> NoticePolicy:
    """Validate notice-policy YAML text and build the domain :class:`NoticePolicy`."""
    doc = _validated(text, source, _NoticeFile)
    acc, dl = doc.repayment_account, doc.delivery
    policy = NoticePolicy(
        version=doc.version,
        pre_due_days=tuple(doc.pre_due_days),
        overdue_days=tuple(sorted(doc.overdue_days)),
        overdue_every_days=doc.overdue_every_days,
        bureau_notice_dpd=doc.bureau_notice_dpd,
        bureau_wait_days=doc.bureau_wait_days,
        max_attempts=dl.max_attempts,
        backoff_first_s=dl.backoff_first_s,
        backoff_max_s=dl.backoff_max_s,
        lease_s=dl.lease_s,
        bank_name=acc.bank_name,
        account_name=acc.account_name,
        bank_account=acc.account,
        bank_phone=acc.phone,
        templates={
            cat: {lang: NoticeTemplate(t.subject, t.body) for lang, t in by_lang.items()}
            for cat, by_lang in doc.templates.items()
        },
    )
    one = Money(1)
    for cat, kind in CATEGORIES.items():
        sample = Notice(1, "X", 1, kind, date(2026, 1, 1), date(2026, 1, 2), one, one, one, 1,
                        "6222000011112222", doc.version)  # fmt: skip
        for lang in LANGUAGES:
            try:
                render(sample, policy, language=lang)
            except (KeyError, IndexError, ValueError) as exc:
                raise PolicyViolation(
                    f"{source}: field templates.{cat}.{lang}: unknown placeholder {exc}"
                ) from exc
    return policy


def load_notice_policy(path: Path | str | None = None) -> NoticePolicy:
    """Load a notice-policy file (default: the shipped ``keqiao_notices.yaml``)."""
    if path is None:
        shipped = DATA / "keqiao_notices.yaml"
        return parse_notice_policy(shipped.read_text("utf-8"), source=shipped.name)
    file = Path(path)
    if not file.is_file():
        raise PolicyViolation(f"notice policy file {file} does not exist")
    return parse_notice_policy(file.read_text("utf-8"), source=str(file))
