"""The feature catalogue: the names the decision engine relies on, with meaning and lag."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from loomcredit.pipeline.features.catalogue import by_name, catalogue

pytestmark = pytest.mark.integration

# docs (lake layout): feature names the decision engine relies on, with their units.
REQUIRED = {
    **dict.fromkeys(
        ["sales_3m_fen", "sales_6m_fen", "sales_12m_fen", "months_of_history",
         "months_no_invoices_12m", "firm_age_months", "tax_arrears_fen",
         "bureau_overdue_accounts", "bureau_max_dpd_24m", "bureau_nonperforming_accounts",
         "bureau_inquiries_3m", "bureau_loans_outstanding_fen", "judicial_enforcement_open",
         "judicial_enforcement_24m", "judicial_dishonest", "inflow_12m_fen", "outflow_12m_fen",
         "news_negative_12m"],
        "int64",
    ),
    **dict.fromkeys(["industry_code", "region_code", "registry_status", "tax_credit_grade"],
                    "string"),
    **dict.fromkeys(["sales_yoy_3m", "kwh_yoy_3m"], "float64"),
    **{f"season_factor_{k:02d}": "float64" for k in range(1, 13)},
}  # fmt: skip


@pytest.mark.parametrize(("name", "dtype"), sorted(REQUIRED.items()))
def test_required_feature_exists_with_agreed_type(name, dtype):
    """Every feature the decision engine relies on exists under its exact name and type."""
    assert by_name()[name].dtype == dtype


def test_money_features_are_integer_fen():
    """Every amount is integer fen (never float money)."""
    money = [f for f in catalogue() if f.unit == "fen"]
    assert len(money) >= 10
    assert all(f.dtype == "int64" and f.name.endswith("_fen") for f in money)


def test_every_feature_is_documented():
    """Each feature has a Chinese and English description, a source, a window and a lag."""
    for f in catalogue():
        assert f.description_zh, f.name
        assert f.description_en, f.name
        assert all((f.source, f.window, f.unit, f.lag)), f.name


def test_growth_is_year_on_year_never_month_on_month():
    """No feature compares a month with the previous month (the cluster is seasonal)."""
    names = [f.name for f in catalogue()]
    assert not [n for n in names if "mom" in n.split("_")]
    assert {"sales_yoy_3m", "kwh_yoy_3m"} <= set(names)


def test_cli_lists_the_catalogue_as_json():
    """`loom features catalogue --format json` lists every feature with its lag."""
    from loomcredit.entrypoints.cli.main import app

    result = CliRunner().invoke(app, ["features", "catalogue", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["name"] for r in rows] == [f.name for f in catalogue()]
    assert all(r["lag"] for r in rows)


def test_cli_rejects_a_bad_date_in_one_line():
    """A malformed --as-of is one clear error line and a non-zero exit."""
    from loomcredit.entrypoints.cli.main import app

    result = CliRunner().invoke(app, ["features", "--as-of", "2025-13-01"])
    assert result.exit_code == 2
    assert "--as-of must be a date" in result.output


def test_news_categories_are_the_lexicons_negative_ones():
    """Negative-news features cover exactly the ingest lexicon's negative categories."""
    from pathlib import Path

    import yaml

    import loomcredit.pipeline
    from loomcredit.pipeline.features.events import NEWS_KINDS

    lexicon = Path(loomcredit.pipeline.__file__).parent / "data" / "risk_lexicon.yaml"
    categories = yaml.safe_load(lexicon.read_text(encoding="utf-8"))["categories"]
    negative = {k for k, v in categories.items() if v["polarity"] == "negative"}
    assert set(NEWS_KINDS) == negative
