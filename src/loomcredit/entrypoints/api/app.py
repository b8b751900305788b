"""FastAPI application factory for the lending service (OpenAPI at /docs)."""

from __future__ import annotations

from fastapi import FastAPI

from loomcredit.bootstrap.service import Service, build_service
from loomcredit.config import Settings
from loomcredit.entrypoints.api import (
    errors,
    routes_admin,
    routes_alerts,
    routes_applications,
    routes_collection_report,
    routes_collections,
    routes_contacts,
    routes_data,
    routes_lines,
    routes_loans,
    routes_notices,
    routes_payments,
)


def create_app(settings: Settings | None = None, *, service: Service | None = None) -> FastAPI:
    """Build the app on the configured database (migrated at start-up)."""
    svc = service or build_service(settings or Settings())
    app = FastAPI(
        title="Loom lending service 织信贷款服务",
        version="1",
        description="小微企业信贷：申请、审批、授信与用信、放款（双人复核）、"
        "银行来账（代扣、对账单）、日终、账务与审计。Money is "
        '`{"amount": "1234.56", "currency": "CNY"}`; errors are problem+json.',
    )
    app.state.service = svc
    errors.install(app)
    app.include_router(routes_applications.router)
    app.include_router(routes_lines.router)
    app.include_router(routes_loans.router)
    app.include_router(routes_payments.router)
    app.include_router(routes_alerts.router)
    app.include_router(routes_contacts.router)
    app.include_router(routes_collection_report.router)
    app.include_router(routes_collections.router)
    app.include_router(routes_data.router)
    app.include_router(routes_admin.router)
    app.include_router(routes_notices.router)
    from loomcredit.entrypoints.web import console

    console.install(app)

    @app.get("/healthz", tags=["admin"])
    def healthz() -> dict[str, str]:
        """Liveness."""
        return {"status": "ok"}

    return app
