"""Routes: new data as it happens (数据实时接入) — a batch of one source's rows from an upstream
system, taken into the lake and the borrowers it touched monitored at once."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path

from loomcredit.entrypoints.api import views
from loomcredit.entrypoints.api.deps import CurrentUser, Svc, Uow
from loomcredit.entrypoints.api.errors import ERRORS
from loomcredit.entrypoints.api.schemas import DataBatchIn
from loomcredit.service_layer import intake

router = APIRouter(prefix="/api/v1", responses=ERRORS)
Source = Annotated[str, Path(pattern=r"^[a-z_]{2,32}$", description="A data-contract source")]


@router.post("/data/{source}", tags=["data"], summary="Send a batch of new data 数据接入")
def send_batch(
    source: Source, body: DataBatchIn, user: CurrentUser, svc: Svc, uow: Uow
) -> dict[str, Any]:
    """Validate, quarantine bad rows with their reason, refuse the whole batch when a row has no
    live post-loan consent (nothing stored), append the rest to the lake, and monitor the
    borrowers it touched. The same batch again changes nothing (``duplicate``)."""
    payload = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in body.rows).encode()
    features, rules = svc.monitoring()
    got = intake.receive(
        uow,
        user,
        svc.intake(),
        intake.Batch(source, payload, f"api-{source}.jsonl"),
        features,
        rules,
        now=svc.clock(),
    )
    return views.received(got)
