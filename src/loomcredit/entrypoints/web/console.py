"""A small web console (zh-CN first, English alongside) over the JSON API.

One template, four pages: home (what the signed-in role works on: applications, the review
queue, approvals, credit lines, loans, the exceptions queue, reconciliation), one application
(decision build-up, review, contract and signing), one credit line (drawdown with the schedule
preview, freeze / unfreeze) and one loan (payoff quote, early repayment, write-off request).
Data comes from the JSON API with the bearer token kept in the tab's sessionStorage; the API
enforces every permission. No CDN: scripts and styles are served from /static.
"""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, FastAPI, Path, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

HERE = FilePath(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
router = APIRouter(include_in_schema=False)
#: A record id in a page address, as the API takes it (a positive 32-bit integer).
PageId = Annotated[int, Path(ge=1, le=2_147_483_647)]


def _page(request: Request, page: str, record: int | None = None) -> HTMLResponse:
    return templates.TemplateResponse(request, "console.html", {"page": page, "record": record})


@router.get("/console", response_class=HTMLResponse)
def console(request: Request) -> HTMLResponse:
    """Sign-in, then the signed-in role's work."""
    return _page(request, "home")


@router.get("/console/applications/{app_id}", response_class=HTMLResponse)
def application_page(request: Request, app_id: PageId) -> HTMLResponse:
    """One application: decision, review, contract."""
    return _page(request, "app", app_id)


@router.get("/console/lines/{line_id}", response_class=HTMLResponse)
def line_page(request: Request, line_id: PageId) -> HTMLResponse:
    """One credit line: availability, drawdown, its loans."""
    return _page(request, "line", line_id)


@router.get("/console/loans/{loan_id}", response_class=HTMLResponse)
def loan_page(request: Request, loan_id: PageId) -> HTMLResponse:
    """One loan: state, payoff quote, schedule, receipts."""
    return _page(request, "loan", loan_id)


def install(app: FastAPI) -> None:
    """Mount the console pages and static files."""
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(router)
