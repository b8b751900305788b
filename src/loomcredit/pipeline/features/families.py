"""The feature families in snapshot order; each module has ``FEATURES`` and ``compute``."""

from __future__ import annotations

from loomcredit.pipeline.features import (
    cash,
    context,
    events,
    invoices,
    network,
    obligations,
    operations,
    scale,
    stability,
    suppliers,
)

FAMILIES = (
    context,
    scale,
    stability,
    invoices,
    network,
    suppliers,
    operations,
    obligations,
    cash,
    events,
)
