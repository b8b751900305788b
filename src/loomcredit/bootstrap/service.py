"""Wiring of the lending service: the database engine and unit of work, the keys, the decider
(the real engine, failing closed without a model), the bank core, the clock. Wiring only: the
use cases are in ``service_layer``."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from loomcredit.adapters.bank_files import FileBankCore
from loomcredit.adapters.lake_intake import LakeIntake
from loomcredit.adapters.migrations import upgrade_database
from loomcredit.adapters.sqlalchemy_uow import SqlAlchemyUnitOfWork, make_engine
from loomcredit.bootstrap.keys import audit_key, pii_key
from loomcredit.config import Settings
from loomcredit.domain.collection_policy import CollectionsPolicy
from loomcredit.domain.contacts import Channel
from loomcredit.domain.follow_up import FollowUpPolicy
from loomcredit.domain.limit_review import LimitReviewPolicy
from loomcredit.domain.notices import NoticePolicy
from loomcredit.service_layer.audit_admin import seal_chain
from loomcredit.service_layer.decisioning import EngineDecider
from loomcredit.service_layer.monitoring import WarningRules
from loomcredit.service_layer.ports import FeatureSource, Notifier
from loomcredit.service_layer.service_ports import BankCore, Decider

log = logging.getLogger(__name__)

__all__ = ["Service", "build_decider", "build_monitor", "build_service", "upgrade_database"]


def build_decider(settings: Settings) -> Decider:
    """The decision engine on the lake and the promoted model; with no model it refers every
    application to a person (fail closed)."""
    from loomcredit.adapters.feature_source import LakeConsentSource, LakeFeatureSource
    from loomcredit.adapters.policy_file import load_lpr, load_policy
    from loomcredit.adapters.scoring_model import ModelScorer
    from loomcredit.domain.errors import NotFound

    home = Path(settings.home)
    try:
        scorer = ModelScorer.load(settings.models_dir)
    except NotFound as exc:
        log.warning("no promoted model (%s): applications go to manual review", exc)
        scorer = None
    return EngineDecider(
        policy=load_policy(),
        lpr=load_lpr(),
        features=LakeFeatureSource(home),
        consents=LakeConsentSource(home),
        scorer=scorer,
    )


def build_monitor(settings: Settings) -> tuple[FeatureSource, WarningRules]:
    """What post-loan monitoring reads: point-in-time features from the lake, and the rules with
    the promoted model for the behaviour score (without one, no behaviour score and no PD jump)."""
    from loomcredit.adapters.feature_source import LakeFeatureSource
    from loomcredit.adapters.scoring_model import ModelScorer
    from loomcredit.adapters.warning_rules import ProfileWarningRules
    from loomcredit.domain.errors import NotFound

    try:
        scorer = ModelScorer.load(settings.models_dir)
    except NotFound as exc:
        log.warning("no promoted model (%s): monitoring runs without the behaviour score", exc)
        scorer = None
    return LakeFeatureSource(Path(settings.home)), ProfileWarningRules(scorer=scorer)


@dataclass
class Service:
    """The wired service."""

    settings: Settings
    engine: Engine
    decider: Decider
    bank: BankCore
    pii_key: bytes
    audit_key: bytes
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    token_ttl: timedelta = timedelta(hours=8)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    monitor_inputs: tuple[FeatureSource, WarningRules] | None = None
    limit_review: LimitReviewPolicy | None = None
    notices: NoticePolicy | None = None
    notifier_map: dict[Channel, Notifier] | None = None
    notifier_notes: list[str] = field(default_factory=list)
    collections: CollectionsPolicy | None = None

    def uow(self) -> SqlAlchemyUnitOfWork:
        """A fresh unit of work."""
        return SqlAlchemyUnitOfWork(self.engine, self.pii_key, self.audit_key)

    def intake(self) -> LakeIntake:
        """The lake's door for batches of new data (and its drop folder)."""
        return LakeIntake(Path(self.settings.home), self.pii_key)

    def monitoring(self) -> tuple[FeatureSource, WarningRules]:
        """What post-loan monitoring reads (the lake's features and the rules unless wired)."""
        if self.monitor_inputs is None:
            self.monitor_inputs = build_monitor(self.settings)
        return self.monitor_inputs

    def follow_up_policy(self) -> FollowUpPolicy:
        """The days a visit or documents request may take (the wired rules' policy, else the
        post-loan policy file's ``follow_up`` section)."""
        if self.monitor_inputs is not None:
            return self.monitor_inputs[1].follow_up
        from loomcredit.adapters.policy_file import load_warning_policy

        return load_warning_policy().follow_up

    def review_policy(self) -> LimitReviewPolicy:
        """How far the monthly limit review may move a limit by itself (the post-loan policy's
        ``limit_review`` section unless wired)."""
        if self.limit_review is None:
            from loomcredit.adapters.policy_file import load_warning_policy

            self.limit_review = load_warning_policy().limit_review
        return self.limit_review

    def notice_policy(self) -> NoticePolicy:
        """The notice policy (``LOOM_NOTICE_POLICY_FILE`` or the shipped one unless wired)."""
        if self.notices is None:
            from loomcredit.bootstrap.notices import notice_policy

            self.notices = notice_policy(self.settings)
        return self.notices

    def notifiers(self) -> dict[Channel, Notifier]:
        """A notifier per configured channel (the console inbox always) unless wired;
        :attr:`notifier_notes` says which channels are configured."""
        if self.notifier_map is None:
            from loomcredit.bootstrap.notices import build_notifiers

            self.notifier_map, self.notifier_notes = build_notifiers(
                self.settings, self.engine, self.clock
            )
        return self.notifier_map

    def collections_policy(self) -> CollectionsPolicy:
        """The collection strategy and conduct rules (the shipped ``keqiao_collections.yaml``
        unless wired)."""
        if self.collections is None:
            from loomcredit.adapters.collections_policy_file import load_collections_policy

            self.collections = load_collections_policy()
        return self.collections


def build_service(
    settings: Settings,
    *,
    url: str | None = None,
    upgrade: bool = True,
    secret: str | None = None,
    decider: Decider | None = None,
    bank: BankCore | None = None,
    monitor_inputs: tuple[FeatureSource, WarningRules] | None = None,
) -> Service:
    """Wire the service on the configured database (migrated and its audit chain sealed first
    unless ``upgrade`` is False). The decider defaults to the real engine (:func:`build_decider`),
    the bank core to the settlement-file exchange under ``$LOOM_HOME/bank``."""
    db = url or settings.sqlalchemy_url
    if upgrade:
        upgrade_database(db)
    svc = Service(
        settings=settings,
        engine=make_engine(db),
        decider=decider if decider is not None else build_decider(settings),
        bank=bank if bank is not None else FileBankCore(Path(settings.home) / "bank"),
        pii_key=pii_key(settings),
        audit_key=audit_key(settings),
        monitor_inputs=monitor_inputs,
    )
    if secret:
        svc.secret = secret
    if upgrade:
        with svc.uow() as uow:
            seal_chain(uow, now=svc.clock())
    return svc
