"""Routes: the collection figures (催收指标) from the book — roll rates, cure rate, amount
recovered by bucket — as JSON, or as an HTML page with charts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from loomcredit.entrypoints.api.deps import CurrentUser, Svc, Uow
from loomcredit.entrypoints.api.errors import ERRORS
from loomcredit.entrypoints.api.schemas import IsoDate
from loomcredit.entrypoints.collection_report import figures_html, figures_json
from loomcredit.service_layer import eod
from loomcredit.service_layer.collection_report import DEFAULT_MONTHS, collection_report

router = APIRouter(prefix="/api/v1", responses=ERRORS)
AsOf = Annotated[
    IsoDate | None, Query(description="report date YYYY-MM-DD (default: the last day closed)")
]
Months = Annotated[int, Query(ge=1, le=120, description="month ends to look back over")]


@router.get("/collections/report", tags=["collections"], summary="Collection figures 催收指标")
def report(
    user: CurrentUser, svc: Svc, uow: Uow, as_of: AsOf = None, months: Months = DEFAULT_MONTHS
) -> dict[str, Any]:
    """Roll rates by month (by loans and by balance), cure rate, amount recovered by bucket;
    promise kept rate, contacts per case and cases per collector are null until the collection
    cases fill them. Risk managers, collectors and auditors."""
    day = as_of or eod.business_date(uow, svc.clock())
    return figures_json(collection_report(uow, user, as_of=day, months=months))


@router.get(
    "/collections/report.html",
    tags=["collections"],
    summary="Collection figures as a page with charts",
    response_class=HTMLResponse,
)
def report_html(
    user: CurrentUser, svc: Svc, uow: Uow, as_of: AsOf = None, months: Months = DEFAULT_MONTHS
) -> HTMLResponse:
    """The same figures as one self-contained HTML page (plotly inline, no CDN)."""
    day = as_of or eod.business_date(uow, svc.clock())
    return HTMLResponse(figures_html(collection_report(uow, user, as_of=day, months=months)))
