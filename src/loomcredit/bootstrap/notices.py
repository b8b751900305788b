"""Wiring of notices: the policy file, and a notifier per configured channel (wiring only).

With no SMTP host and no SMS gateway configured (the embedded default), notices reach the
borrower's console inbox only, and :func:`build_notifiers` says so in its notes; e-mail and SMS
deliveries then fail with "no … notifier configured" rather than wait for ever.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine

from loomcredit.adapters.notice_policy_file import load_notice_policy
from loomcredit.adapters.notifiers import ConsoleInbox, HttpSmsNotifier, SmtpNotifier
from loomcredit.config import Settings
from loomcredit.domain.contacts import Channel
from loomcredit.domain.notices import NoticePolicy
from loomcredit.service_layer.ports import Notifier

__all__ = ["build_notifiers", "notice_policy"]


def notice_policy(settings: Settings) -> NoticePolicy:
    """The notice policy file in force (``LOOM_NOTICE_POLICY_FILE`` or the shipped one)."""
    return load_notice_policy(settings.notice_policy_file)


def build_notifiers(
    settings: Settings, engine: Engine, clock: Callable[[], datetime]
) -> tuple[dict[Channel, Notifier], list[str]]:
    """A notifier per configured channel (the console inbox always), and notes saying what is
    and is not configured."""
    notifiers: dict[Channel, Notifier] = {Channel.INBOX: ConsoleInbox(engine, clock)}
    notes = ["站内信 console inbox: on"]
    if settings.smtp_host:
        notifiers[Channel.EMAIL] = SmtpNotifier(
            settings.smtp_host,
            settings.smtp_port,
            sender=settings.smtp_sender,
            starttls=settings.smtp_starttls,
            username=settings.smtp_user,
            password=settings.smtp_password,
        )
        notes.append(f"电子邮件 e-mail: SMTP {settings.smtp_host}:{settings.smtp_port}")
    else:
        notes.append("电子邮件 e-mail: not configured (LOOM_SMTP_HOST); e-mail notices fail")
    if settings.sms_url:
        notifiers[Channel.SMS] = HttpSmsNotifier(settings.sms_url, token=settings.sms_token)
        notes.append(f"短信 SMS: gateway {settings.sms_url}")
    else:
        notes.append("短信 SMS: not configured (LOOM_SMS_URL); SMS notices fail")
    return notifiers, notes
