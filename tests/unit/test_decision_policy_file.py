"""The policy file: the shipped Keqiao policy loads; a bad file fails with the field named."""

from __future__ import annotations

from decimal import Decimal

import pytest
import yaml

from loomcredit.adapters.policy_file import DATA, load_lpr, load_policy, parse_policy
from loomcredit.adapters.policy_file import RULES as KNOWN_RULES
from loomcredit.domain.errors import PolicyViolation

SHIPPED = (DATA / "keqiao_textile.yaml").read_text("utf-8")


def edited(**changes) -> str:
    doc = yaml.safe_load(SHIPPED)
    for dotted, value in changes.items():
        node = doc
        *parents, leaf = dotted.split("__")
        for key in parents:
            node = node[key]
        node[leaf] = value
    return yaml.safe_dump(doc, allow_unicode=True)


def test_shipped_policy_has_every_rule_of_the_issue():
    """The default policy states every screening rule with Chinese and English reasons."""
    policy = load_policy()
    ids = {r.rule_id for r in policy.screening.rules}
    assert ids == set(KNOWN_RULES)
    assert all(r.reason_zh and r.reason_en for r in policy.screening.rules)
    assert policy.pricing.all_in_ceiling == Decimal("0.24")  # DOMAIN.md §6 default
    assert policy.screening.min_firm_age_months == 24


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"pricing__lgd": "1.5"}, "pricing.lgd"),
        ({"bands__auto_pd_max": "abc"}, "bands.auto_pd_max"),
        ({"product__methods": ["balloon"]}, "product.methods.0"),
        ({"limits__cluster_season_factors": ["1.0"] * 11}, "limits.cluster_season_factors"),
        ({"screening__surprise": 1}, "screening.surprise"),
    ],
)
def test_bad_field_is_named_in_one_line(changes, field):
    """Validation errors name the offending field so a risk manager can fix the file."""
    with pytest.raises(PolicyViolation) as info:
        parse_policy(edited(**changes), source="bad.yaml")
    message = str(info.value)
    assert "\n" not in message
    assert f"field {field}" in message
    assert message.startswith("bad.yaml")


def test_unknown_rule_id_is_refused():
    """A rule the engine does not know cannot be switched on by a typo."""
    doc = yaml.safe_load(SHIPPED)
    doc["screening"]["rules"][0]["id"] = "firm_agee"
    with pytest.raises(PolicyViolation, match="unknown rule id 'firm_agee'"):
        parse_policy(yaml.safe_dump(doc, allow_unicode=True))


def test_contradictory_bands_are_refused():
    """auto-approve PD line above the decline line is a contradiction."""
    with pytest.raises(PolicyViolation, match="auto_pd_max must be below"):
        parse_policy(edited(bands__auto_pd_max="0.2"))


def test_missing_policy_file_is_a_clear_error(tmp_path):
    """A policy path that does not exist is one clear error."""
    with pytest.raises(PolicyViolation, match="does not exist"):
        load_policy(tmp_path / "nope.yaml")


def test_lpr_table_rows_are_ordered_and_complete():
    """The shipped LPR table starts at the 2019-08-20 reform and ends at 3.00 / 3.50."""
    table = load_lpr()
    assert table.quotes[0].effective_on.isoformat() == "2019-08-20"
    last = table.quotes[-1]
    assert (last.effective_on.isoformat(), last.one_year, last.five_year) == (
        "2025-05-20", Decimal("0.0300"), Decimal("0.0350"))  # fmt: skip
