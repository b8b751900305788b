"""`loom check-id` through the CLI: what a code is, or exactly why it is invalid (exit 1)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from loomcredit.entrypoints.cli.main import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, ["check-id", *args])


def as_json(*args: str) -> dict:
    result = run(*args, "--format", "json")
    return json.loads(result.stdout)


def test_valid_enterprise_code_prints_type_and_region():
    """A Keqiao-area enterprise code prints 企业 and the region; exit 0."""
    result = run("91330604609674830U")
    assert result.exit_code == 0, result.output
    assert "企业" in result.stdout
    assert "上虞区" in result.stdout


def test_historic_region_shows_current_district():
    """913306217125879893 is registered in 330621 绍兴县, today 330603 柯桥区."""
    info = as_json("913306217125879893")
    assert (info["region_code"], info["current_region_code"]) == ("330621", "330603")
    assert info["historic"] is True
    assert "柯桥区" in info["current_region_name"]
    result = run("913306217125879893")
    assert "柯桥区" in result.stdout
    assert "绍兴县" in result.stdout


def test_sole_proprietor_is_recognised():
    """92… is a 个体工商户."""
    info = as_json("92340602MA2PBMEM24")
    assert (info["entity_type"], info["entity_type_zh"]) == ("sole_proprietor", "个体工商户")


def test_invalid_check_character_exits_1_with_the_reason():
    """A wrong check character exits 1 with one line naming the expected character."""
    result = run("91330604609674830X")
    assert result.exit_code == 1
    assert "should be 'U'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_wrong_length_exits_1():
    """A 3-character input is neither kind of code."""
    result = run("123")
    assert result.exit_code == 1
    assert "3 characters" in result.stderr


def test_legacy_code_is_referred_with_exit_1():
    """A legacy allow-list code says the check fails (should be R) and to refer; exit 1."""
    result = run("91350211M0000XUF46")
    assert result.exit_code == 1
    assert "'R'" in result.stdout
    assert "allow-list" in result.stderr
    info = as_json("91350211M0000XUF46")
    assert info["legacy"] is True
    assert info["valid"] is False


def test_org_code_warning_is_shown():
    """A failed embedded organisation-code check is a warning, exit 0."""
    # 9133060460967483 + org check '1' (correct is '0'); mod-31 check from DOMAIN.md §1: 'Y'.
    info = as_json("91330604609674831Y")
    assert info["valid"] is True
    assert info["org_check_ok"] is False
    assert info["warnings"]


def test_resident_id_is_masked_and_described():
    """A resident ID shows only the masked number, birth date, sex and region."""
    result = run("11010519491231002X")
    assert result.exit_code == 0, result.output
    assert "11010519491231002X" not in result.output
    assert "110***********002X" in result.stdout
    info = as_json("11010519491231002x")
    assert (info["kind"], info["masked"], info["birth_date"], info["sex"]) == (
        "resident_id",
        "110***********002X",
        "1949-12-31",
        "female",
    )
    assert "11010519491231002X" not in json.dumps(info)


def test_fifteen_digit_id_is_upgraded():
    """A 15-digit legacy number is described as upgraded."""
    info = as_json("110105491231002")
    assert info["upgraded_from_15"] is True
    assert info["masked"] == "110***********002X"


def test_future_birth_date_is_invalid():
    """A future birth date (with --as-of) is invalid, exit 1."""
    result = run("11010520300101001X", "--kind", "id", "--as-of", "2026-11-28")
    assert result.exit_code == 1
    assert "after 2026-11-28" in result.stderr
    assert "11010520300101001X" not in result.output


def test_kind_forces_uscc():
    """--kind uscc on a resident ID reports the USCC reason."""
    result = run("11010519491231002X", "--kind", "uscc")
    assert result.exit_code == 1
    assert "mod 31" in result.stderr


def test_json_on_invalid_input():
    """--format json on an invalid code prints valid=false with the reason; exit 1."""
    result = run("91330604609674830X", "--format", "json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["valid"] is False


@pytest.mark.parametrize("args", [["--help"], ["91330604609674830U", "--kind", "bogus"]])
def test_help_and_bad_option(args):
    """--help works; an unknown --kind is a usage error."""
    result = run(*args)
    assert result.exit_code == (0 if args == ["--help"] else 2)


def test_digits_with_an_impossible_birth_date_say_why_neither_kind_fits():
    """An 18-digit code with 30 February in the birth-date place could be a mistyped ID or a
    USCC: the one line gives both reasons (exit 1)."""
    result = run("360426199102300071")
    assert result.exit_code == 1
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1
    assert "resident ID: birth date 19910230 is not a real date" in line
    assert "USCC: check character" in line


def test_a_code_starting_with_9_is_judged_as_a_uscc_only():
    """A 市场监管 code (9…) with a bad check character is not also diagnosed as an ID."""
    result = run("91330604609674830X")
    assert "resident ID" not in result.stderr
