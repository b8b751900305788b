"""A small web console (zh-CN first, English alongside): sign in, the review queue, one loan.

Pages are Jinja2 templates served by the API app; data comes from the JSON API with the bearer
token kept in the tab's sessionStorage. No CDN: the script and styles are served from /static.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
router = APIRouter(include_in_schema=False)


@router.get("/console", response_class=HTMLResponse)
def console(request: Request) -> HTMLResponse:
    """Sign-in and the review queue."""
    return templates.TemplateResponse(request, "console.html", {"page": "queue"})


@router.get("/console/loans/{loan_id}", response_class=HTMLResponse)
def loan_page(request: Request, loan_id: int) -> HTMLResponse:
    """One loan: state and schedule."""
    return templates.TemplateResponse(request, "console.html", {"page": "loan", "loan_id": loan_id})


def install(app: FastAPI) -> None:
    """Mount the console pages and static files."""
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(router)
