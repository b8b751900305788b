"""Invalid values are 422 over HTTP: a term the product does not offer, a date before the LPR."""

from __future__ import annotations

import warnings
from datetime import date
from decimal import Decimal

from fastapi import FastAPI

with warnings.catch_warnings():
    # starlette 1.x warns that its TestClient prefers httpx2 (not in the stack); httpx works.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from loomcredit.domain.decision.pricing import LprQuote, LprTable
from loomcredit.entrypoints.api import errors
from loomcredit.service_layer.decisioning import InvalidApplicationError


def client() -> TestClient:
    """A bare app with Loom's error mapping and two routes that raise."""
    app = FastAPI()
    errors.install(app)

    @app.get("/term")
    def term() -> None:
        raise InvalidApplicationError("term 7 months is not offered; choose one of (3, 6, 12)")

    @app.get("/lpr")
    def lpr() -> None:
        table = LprTable((LprQuote(date(2019, 8, 20), Decimal("0.0425"), Decimal("0.0485")),))
        table.quote_on(date(1990, 1, 1))

    return TestClient(app)


def test_term_not_offered_is_422_naming_the_terms() -> None:
    """Was 400 (LoomError fallback)."""
    r = client().get("/term")
    assert r.status_code == 422
    assert "choose one of" in r.json()["detail"]


def test_date_before_the_lpr_table_is_422_naming_the_first_date() -> None:
    """Was 404 (NotFound)."""
    r = client().get("/lpr")
    assert r.status_code == 422
    assert "starts on 2019-08-20" in r.json()["detail"]
