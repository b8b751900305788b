"""`loom check-id CODE`: what an identity code is, or exactly why it is invalid.

Detects a unified social credit code 统一社会信用代码 (USCC) or a resident identity
number 公民身份号码 (``--kind`` forces one). Valid codes print the entity type, the
registration region (with today's district for historic codes such as 330621 绍兴县 →
330603 柯桥区) and warnings such as a failed embedded organisation-code check. A resident
ID is only ever shown masked (first 3 + last 4). An invalid code, and a legacy allow-list
code (refer to manual review), exit with status 1.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table

from loomcredit.domain.errors import InvalidCode, UnknownCode

if TYPE_CHECKING:
    from loomcredit.domain.identity import ResidentId, Uscc

_ENTITY_EN = {
    "enterprise": "enterprise",
    "sole_proprietor": "sole proprietorship (individual business)",
    "cooperative": "farmers' specialised cooperative",
    "other": "other organisation",
}
_AUTHORITY_ZH = {
    "1": "机构编制",
    "2": "外交",
    "3": "司法行政",
    "4": "文化",
    "5": "民政",
    "6": "旅游",
    "7": "宗教",
    "8": "工会",
    "9": "市场监管 (工商)",
    "A": "中央军委改革和编制办公室",
    "N": "农业",
    "Y": "其他",
}
_BEIJING = ZoneInfo("Asia/Shanghai")
_ID_LENGTHS = (15, 18)


class Kind(StrEnum):
    """Which kind of code to check."""

    AUTO = "auto"
    USCC = "uscc"
    ID = "id"


class OutputFormat(StrEnum):
    """Output formats of `loom check-id`."""

    TABLE = "table"
    JSON = "json"


def _ambiguous(code: str) -> bool:
    """18 characters shaped like a resident ID (17 digits, a province digit 1–8 first, then a
    digit or X) whose birth date is not real: as likely a mistyped ID as a USCC."""
    return (
        len(code) == _ID_LENGTHS[1]
        and code[:17].isdigit()
        and code[0] in "12345678"
        and code[17] in "0123456789X"
        and not _looks_like_resident_id(code)
    )


def _looks_like_resident_id(code: str) -> bool:
    """17 digits then a digit or X, a province digit 1–8 first, and a real birth date."""
    if len(code) == _ID_LENGTHS[0]:
        return code.isdigit() and code[0] in "12345678"
    if len(code) != _ID_LENGTHS[1] or not code[:17].isdigit() or code[17] not in "0123456789X":
        return False
    if code[0] not in "12345678":  # USCCs from 市场监管 start with 9; ID regions are 11–82
        return False
    try:
        born = date(int(code[6:10]), int(code[10:12]), int(code[12:14]))
    except ValueError:
        return False
    return 1850 <= born.year <= 2100


def _region_info(code: str) -> dict[str, Any]:
    from loomcredit.domain.regions import current_region_code, full_region_name, region_name

    info: dict[str, Any] = {"region_code": code}
    try:
        info["region_name"] = full_region_name(code)
        current = current_region_code(code)
    except UnknownCode:
        info["region_name"] = None
        info["warning"] = f"region code {code} is not in the GB/T 2260 table"
        return info
    info["current_region_code"] = current
    info["current_region_name"] = full_region_name(current)
    info["historic"] = current != code
    if current != code:
        info["region_note"] = f"{region_name(code)} 已更名/撤销 → 今 {region_name(current)}"
    return info


def _describe_uscc(parsed: Uscc) -> dict[str, Any]:
    from loomcredit.domain.identity import check_char_uscc

    region = _region_info(parsed.region_code)
    warnings = list(parsed.warnings)
    if "warning" in region:
        warnings.append(region.pop("warning"))
    result: dict[str, Any] = {
        "kind": "uscc",
        "kind_zh": "统一社会信用代码",
        "valid": not parsed.legacy,
        "code": parsed.code,
        "entity_type": parsed.entity_type.value,
        "entity_type_zh": parsed.entity_type.label_zh,
        "entity_type_en": _ENTITY_EN[parsed.entity_type.value],
        "authority": parsed.authority,
        "authority_zh": _AUTHORITY_ZH.get(parsed.authority, "未知"),
        **region,
        "org_code": parsed.org_code,
        "org_check_ok": not parsed.warnings,
        "warnings": warnings,
        "legacy": parsed.legacy,
    }
    if parsed.legacy:
        expected = check_char_uscc(parsed.code[:17])
        result["reason"] = (
            f"check character is {parsed.code[17]!r} but should be {expected!r} (mod 31); "
            "the code is on the legacy allow-list of verified codes: refer to manual review "
            "(校验码不符，但在历史代码白名单中：转人工复核)"
        )
    return result


def _describe_id(parsed: ResidentId) -> dict[str, Any]:
    region = _region_info(parsed.address_code)
    warnings = [region.pop("warning")] if "warning" in region else []
    if parsed.upgraded_from_15:
        warnings.append("15-digit legacy number, upgraded to 18 digits (15位旧号码已升位)")
    return {
        "kind": "resident_id",
        "kind_zh": "公民身份号码",
        "valid": True,
        "masked": parsed.masked,
        "birth_date": parsed.birth_date.isoformat(),
        "sex": parsed.sex.value,
        "sex_zh": "男" if parsed.sex.value == "male" else "女",
        **region,
        "upgraded_from_15": parsed.upgraded_from_15,
        "warnings": warnings,
    }


def check_code(raw: str, kind: Kind = Kind.AUTO, *, on: date | None = None) -> dict[str, Any]:
    """Check a code and describe it as a JSON-ready dict; raises :class:`InvalidCode`.

    In ``auto`` mode both kinds are tried; the one the code looks like decides which error is
    reported when neither is valid. A resident ID is never returned unmasked.
    """
    from loomcredit.domain.identity import normalise_code, parse_resident_id, parse_uscc

    code = normalise_code(raw)
    if kind is Kind.USCC:
        return _describe_uscc(parse_uscc(code))
    if kind is Kind.ID:
        return _describe_id(parse_resident_id(code, on=on))
    if len(code) not in _ID_LENGTHS:
        raise InvalidCode(
            code,
            f"it has {len(code)} characters; a USCC has 18 and a resident ID 18 (or 15, legacy)",
        )
    first, second = (Kind.ID, Kind.USCC) if _looks_like_resident_id(code) else (Kind.USCC, Kind.ID)
    try:
        return check_code(code, first, on=on)
    except InvalidCode as first_error:
        try:
            return check_code(code, second, on=on)
        except InvalidCode as second_error:
            if not _ambiguous(code):
                raise first_error from None
            # It could be either, so say why it is neither.
            errors = {first: first_error.reason, second: second_error.reason}
            raise InvalidCode(
                code,
                f"as a resident ID: {errors[Kind.ID]}; as a USCC: {errors[Kind.USCC]}",
            ) from None


def _print_table(info: dict[str, Any], console: Console) -> None:
    ok = info["valid"]
    title = f"{info['kind_zh']} · {'有效 valid' if ok else '需人工复核 refer to manual review'}"
    table = Table(title=title, show_header=False, title_style="bold green" if ok else "bold yellow")
    table.add_column(style="cyan")
    table.add_column()
    if info["kind"] == "uscc":
        table.add_row("代码 code", info["code"])
        table.add_row("主体类型 entity", f"{info['entity_type_zh']} / {info['entity_type_en']}")
        table.add_row("登记管理部门 authority", f"{info['authority']} {info['authority_zh']}")
    else:
        table.add_row("号码 number (masked)", info["masked"])
        table.add_row("出生日期 born", info["birth_date"])
        table.add_row("性别 sex", f"{info['sex_zh']} / {info['sex']}")
    region = f"{info['region_code']} {info.get('region_name') or '未知 unknown'}"
    table.add_row("地区 region", region)
    if info.get("historic"):
        table.add_row(
            "今属 current", f"{info['current_region_code']} {info['current_region_name']}"
        )
    if info["kind"] == "uscc":
        check = "通过 ok" if info["org_check_ok"] else "不符 fails (warning)"
        table.add_row("组织机构代码 org code", f"{info['org_code']} · mod-11 {check}")
    for warning in info["warnings"]:
        table.add_row("[yellow]提示 warning[/]", warning)
    if info.get("reason"):
        table.add_row("[yellow]原因 reason[/]", info["reason"])
    console.print(table)


def check_id(
    code: Annotated[
        str, typer.Argument(help="USCC or resident ID (full-width and spaces are ok).")
    ],
    kind: Annotated[
        Kind, typer.Option("--kind", help="Force the kind: uscc or id (default: detect).")
    ] = Kind.AUTO,
    output: Annotated[
        OutputFormat, typer.Option("--format", help="table (default) or json.")
    ] = OutputFormat.TABLE,
    as_of: Annotated[
        str | None,
        typer.Option(help="Date a birth date must not be after (YYYY-MM-DD; default today)."),
    ] = None,
) -> None:
    """Check an identity code (校验统一社会信用代码/身份证号): exit 0 valid, 1 invalid or refer."""
    err = Console(stderr=True)
    try:
        on = date.fromisoformat(as_of) if as_of else datetime.now(tz=_BEIJING).date()
    except ValueError:
        err.print(f"[bold red]error:[/] --as-of {as_of!r} is not a date (YYYY-MM-DD).")
        raise typer.Exit(2) from None
    try:
        info = check_code(code, kind, on=on)
    except InvalidCode as exc:
        if output is OutputFormat.JSON:
            typer.echo(json.dumps({"valid": False, "kind": kind.value, "reason": exc.reason}))
        err.print(f"[bold red]无效 invalid:[/] {exc.reason}", soft_wrap=True, highlight=False)
        raise typer.Exit(1) from None
    if output is OutputFormat.JSON:
        typer.echo(json.dumps(info, ensure_ascii=False))
    else:
        _print_table(info, Console())
    if not info["valid"]:
        if output is OutputFormat.TABLE:
            err.print(f"[bold yellow]refer:[/] {info['reason']}", soft_wrap=True, highlight=False)
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add `check-id` to the `loom` app."""
    app.command("check-id")(check_id)
