"""Map the domain error tree to RFC 9457 problem+json; a malformed request is a 4xx, never a 500."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Route

from loomcredit.adapters.bank_files import BankFileFormatError
from loomcredit.adapters.security import BadTokenError
from loomcredit.domain.collections import CaseError
from loomcredit.domain.contacts import ContactError
from loomcredit.domain.errors import (
    AlertInputError,
    AlertStateError,
    ApprovalStateError,
    CreditLineError,
    DateOutOfRange,
    FourEyesViolation,
    InvalidAmount,
    InvalidCode,
    LoanStateError,
    LoomError,
    NotFound,
    ScheduleError,
)
from loomcredit.domain.follow_up import TaskError, TaskStateError
from loomcredit.service_layer.case_work import ContactRefusedError
from loomcredit.service_layer.decisioning import InvalidApplicationError
from loomcredit.service_layer.errors import (
    ConcurrentChangeError,
    IdempotencyConflictError,
    InvalidRequestError,
)
from loomcredit.service_layer.user_admin import record_refusal
from loomcredit.service_layer.users import AccessDeniedError, UnauthenticatedError

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"


class Problem(BaseModel):
    """A problem+json body."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str


#: Declared error responses for the OpenAPI schema: problem+json bodies (inline, since a
#: ``model`` would be declared as application/json, which the API never sends for an error).
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"description": text, "content": {PROBLEM: {"schema": Problem.model_json_schema()}}}
    for code, text in (
        (400, "Bad request"),
        (401, "Not signed in / token expired"),
        (403, "Role not allowed"),
        (404, "Not found"),
        (409, "Conflict with the current state or an Idempotency-Key"),
        (422, "Invalid values"),
    )
}

_MAP: tuple[tuple[type[BaseException], int, str], ...] = (
    (UnauthenticatedError, 401, "unauthenticated"),
    (BadTokenError, 401, "unauthenticated"),
    (AccessDeniedError, 403, "forbidden"),
    (FourEyesViolation, 403, "four-eyes"),
    (DateOutOfRange, 422, "date-out-of-range"),
    (NotFound, 404, "not-found"),
    (IdempotencyConflictError, 409, "idempotency-conflict"),
    (LoanStateError, 409, "state-conflict"),
    (CreditLineError, 409, "credit-line"),
    (ApprovalStateError, 409, "already-decided"),
    (AlertStateError, 409, "alert-state"),
    (CaseError, 409, "case-state"),
    (AlertInputError, 422, "invalid-alert-step"),
    (ConcurrentChangeError, 409, "concurrent-change"),
    (InvalidRequestError, 422, "invalid-request"),
    (BankFileFormatError, 422, "invalid-file"),
    (InvalidApplicationError, 422, "invalid-application"),
    (InvalidAmount, 422, "invalid-amount"),
    (InvalidCode, 422, "invalid-code"),
    (ScheduleError, 422, "invalid-schedule"),
    (ContactError, 422, "invalid-contact"),
    (TaskStateError, 409, "task-state"),
    (TaskError, 422, "invalid-task"),
    (LoomError, 400, "bad-request"),
)


def problem(
    status: int, kind: str, detail: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """A problem+json response (``headers`` such as ``Allow`` on a 405 are kept)."""
    body = Problem(
        type=f"https://loom.example/problems/{kind}",
        title=kind.replace("-", " "),
        status=status,
        detail=detail,
    )
    headers = dict(headers or {})
    if status == 401:
        headers.setdefault("WWW-Authenticate", "Bearer")
    return JSONResponse(body.model_dump(), status_code=status, media_type=PROBLEM, headers=headers)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at the request's path (RFC 9110 ``Allow`` on a 405).

    Starlette names only the first route that matched the path, so a path with a GET and a POST
    route would advertise just one of them.
    """
    methods: set[str] = set()
    for route in request.app.router.routes:
        if isinstance(route, Route) and route.methods:
            match, _ = route.matches({**request.scope, "type": "http"})
            if match is not Match.NONE:
                methods |= route.methods
    return sorted(methods)


def _audit_refusal(request: Request, exc: Exception) -> None:
    """Keep a refused request in the audit log (its own transaction was rolled back)."""
    svc = request.app.state.service
    name = getattr(request.state, "user_name", "") or getattr(exc, "user", "")
    action = getattr(exc, "action", "") or type(exc).__name__
    with svc.uow() as uow:
        record_refusal(
            uow, name, action, f"{request.method} {request.url.path}", str(exc), svc.clock()
        )
        uow.commit()


async def _domain(request: Request, exc: Exception) -> JSONResponse:
    """A domain error as problem+json (a refusal is audited); anything else is a logged 500. A
    contact the conduct rules forbid names the rule in its type (the service audited it)."""
    if isinstance(exc, ContactRefusedError):
        return problem(422, f"conduct-{exc.refusal.rule.replace('_', '-')}", str(exc))
    for kind, status, name in _MAP:
        if isinstance(exc, kind):
            if status == 403:
                _audit_refusal(request, exc)
            return problem(status, name, str(exc))
    log.exception("unexpected error")
    return problem(500, "internal-error", "unexpected error; it has been logged")


def install(app: FastAPI) -> None:
    """Register the handlers."""

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for err in exc.errors()[:5]:
            if err.get("type") == "json_invalid":
                why = (err.get("ctx") or {}).get("error", "")
                at = err.get("loc", ("body", "?"))[-1]
                parts.append(f"the body is not valid JSON ({why} at character {at})")
                continue
            where = ".".join(str(p) for p in err.get("loc", ()))
            parts.append(f"{where}: {str(err.get('msg', '')).removeprefix('Value error, ')}")
        return problem(422, "invalid-request", "; ".join(parts) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request))
        detail = str(exc.detail)
        if isinstance(exc.__cause__, UnicodeDecodeError):
            # FastAPI says only "There was an error parsing the body".
            detail = f"the body is not UTF-8 text ({exc.__cause__.reason}); send UTF-8 JSON"
        try:
            kind = HTTPStatus(exc.status_code).phrase.lower().replace(" ", "-")
        except ValueError:
            kind = "http-error"
        return problem(exc.status_code, kind, detail, headers)

    for kind, _status, _name in _MAP:
        app.add_exception_handler(kind, _domain)
    app.add_exception_handler(Exception, _domain)
