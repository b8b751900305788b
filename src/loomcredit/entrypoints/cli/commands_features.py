"""`loom features` and `loom profile`: the enterprise profile (企业画像) from the command line.

- ``loom features --as-of DATE [--engine duckdb|spark] [--out PATH]`` writes the snapshot;
- ``loom features training --from YYYY-MM --to YYYY-MM [--labels PATH]`` writes the training set;
- ``loom features catalogue`` lists every feature with its source, window, unit and lag;
- ``loom profile USCC --as-of DATE`` prints one enterprise's profile and warning signs.
"""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from loomcredit.domain.errors import LoomError

console = Console()
err_console = Console(stderr=True)
LEVEL_STYLE = {"red": "bold red", "amber": "bold yellow", "review": "cyan"}
LEVEL_ZH = {"red": "红色", "amber": "橙色", "review": "关注"}

features_app = typer.Typer(
    help="企业画像特征 Point-in-time enterprise features: snapshot, training set, catalogue.",
    no_args_is_help=False,
)


def _fail(message: str) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}", soft_wrap=True)
    return typer.Exit(2)


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _fail(f"{option} must be a date like 2025-06-30, not {text!r}") from None


def _month(text: str, option: str) -> date:
    try:
        return date.fromisoformat(f"{text}-01")
    except ValueError:
        raise _fail(f"{option} must be a month like 2024-01, not {text!r}") from None


def _lake() -> Any:
    from loomcredit.config import get_settings
    from loomcredit.pipeline.schemas import LakePaths

    return LakePaths(Path(get_settings().home))


def _spark_master() -> str:
    from loomcredit.config import get_settings

    return get_settings().spark_master


@features_app.callback(invoke_without_command=True)
def features(
    ctx: typer.Context,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Decision date YYYY-MM-DD (时点).")
    ] = None,
    engine: Annotated[str, typer.Option(help="Compute engine: duckdb (default) or spark.")] = (
        "duckdb"
    ),
    out: Annotated[Path | None, typer.Option(help="Output Parquet file.")] = None,
) -> None:
    """Build the feature snapshot of every enterprise as of a date (特征快照)."""
    if ctx.invoked_subcommand is not None:
        return
    if as_of is None:
        raise _fail("give --as-of YYYY-MM-DD (or a subcommand: training, catalogue)")
    day = _day(as_of, "--as-of")
    from loomcredit.pipeline.features.engines import check_engine
    from loomcredit.pipeline.features.snapshot import build_snapshot

    try:
        check_engine(engine)
        started = time.perf_counter()
        with console.status(f"computing features as of {day} on {engine}…"):
            path = build_snapshot(_lake(), day, engine, out, spark_master=_spark_master())
    except LoomError as exc:
        raise _fail(str(exc)) from exc
    import pyarrow.parquet as pq

    meta = pq.read_metadata(path)
    console.print(
        f"[green]✓[/] 特征快照 snapshot as of {day}: {meta.num_rows} enterprises × "
        f"{meta.num_columns - 2} features on {engine} in {time.perf_counter() - started:.1f} s"
        f" → {path}"
    )


@features_app.command("training")
def training(
    start: Annotated[str, typer.Option("--from", help="First month YYYY-MM.")],
    end: Annotated[str, typer.Option("--to", help="Last month YYYY-MM.")],
    labels: Annotated[
        Path | None,
        typer.Option(help="Outcomes (uscc, default_on) Parquet/CSV; default truth/defaults."),
    ] = None,
    engine: Annotated[str, typer.Option(help="duckdb (default) or spark.")] = "duckdb",
) -> None:
    """Build the training set: monthly snapshots with a default-within-12-months label."""
    first, last = _month(start, "--from"), _month(end, "--to")
    if last < first:
        raise _fail(f"--to {end} is before --from {start}")
    from loomcredit.pipeline.features.engines import check_engine
    from loomcredit.pipeline.features.training import LABEL, build_training_set

    try:
        check_engine(engine)
        with console.status(f"building the training set {start}..{end}…"):
            folder = build_training_set(_lake(), first, last, labels, engine=engine)
    except LoomError as exc:
        raise _fail(str(exc)) from exc
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = pq.read_table(folder, columns=[LABEL])
    bad = int(pc.sum(table.column(LABEL)).as_py() or 0)
    rate = bad / table.num_rows if table.num_rows else 0.0
    console.print(
        f"[green]✓[/] 训练集 training set {start}..{end}: {table.num_rows} rows, {bad} defaults "
        f"within 12 months ({rate:.2%}) → {folder}"
    )


@features_app.command("catalogue")
def show_catalogue(
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """List every feature: name, meaning (中文/English), source, window, unit, lag."""
    from loomcredit.pipeline.features.catalogue import catalogue

    defs = catalogue()
    if fmt == "json":
        rows = [
            {
                "name": f.name,
                "description_zh": f.description_zh,
                "description_en": f.description_en,
                "source": f.source,
                "window": f.window,
                "unit": f.unit,
                "dtype": f.dtype,
                "lag": f.lag,
            }
            for f in defs
        ]
        console.print_json(json.dumps(rows, ensure_ascii=False))
        return
    if fmt != "table":
        raise _fail(f"--format must be table or json, not {fmt!r}")
    table = Table(
        "特征 feature",
        "含义",
        "meaning",
        "来源 source",
        "窗口",
        "单位",
        "可得 lag",
        title=f"特征目录 Feature catalogue ({len(defs)})",
    )
    for f in defs:
        table.add_row(f.name, f.description_zh, f.description_en, f.source, f.window, f.unit, f.lag)
    console.print(table)


def profile(
    uscc: Annotated[str, typer.Argument(help="The enterprise's USCC (统一社会信用代码).")],
    as_of: Annotated[str, typer.Option("--as-of", help="Decision date YYYY-MM-DD.")],
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Print one enterprise's profile (企业画像) with its strongest warning signs."""
    day = _day(as_of, "--as-of")
    if fmt not in ("table", "json"):
        raise _fail(f"--format must be table or json, not {fmt!r}")
    from loomcredit.pipeline.features.profile import profile as build_profile

    try:
        prof = build_profile(_lake(), uscc.strip().upper(), day)
    except LoomError as exc:
        raise _fail(str(exc)) from exc
    if fmt == "json":
        body = {
            "uscc": prof.uscc,
            "name": prof.name,
            "as_of": day.isoformat(),
            "features": dict(prof.features),
            "signals": [s.__dict__ for s in prof.signals],
        }
        console.print_json(json.dumps(body, ensure_ascii=False, default=str))
        return
    print_profile(prof)


def print_profile(prof: Any, *, limit: int = 8) -> None:
    """Render a :class:`~loomcredit.pipeline.features.profile.Profile` as Rich tables."""
    from loomcredit.pipeline.features.profile import fmt_value

    console.print(f"[bold]{prof.name or prof.uscc}[/] {prof.uscc} · 画像时点 as of {prof.as_of}")
    signs = Table("级别 level", "信号 signal", "说明", "detail", title="预警信号 Warning signs")
    for s in prof.signals[:limit]:
        style = LEVEL_STYLE[s.level]
        signs.add_row(
            f"[{style}]{LEVEL_ZH[s.level]} {s.level}[/]", s.code, s.message_zh, s.message_en
        )
    if prof.signals:
        console.print(signs)
    else:
        console.print("[green]无预警信号 No warning signs.[/]")
    for title, rows in prof.sections():
        shown = [(f, v) for f, v in rows if not f.name.startswith("season_factor")]
        table = Table("特征 feature", "值 value", "含义", title=title, title_justify="left")
        for f, v in shown:
            table.add_row(f.name, fmt_value(f, v), f.description_zh)
        console.print(table)


def demo_stage(home: Path, as_of: date, uscc: str | None = None) -> Any:
    """`make demo`: build the cluster's snapshot, then print the profile of one enterprise.

    Without ``uscc`` the enterprise with the most red, then amber, warning signs is shown.

    Returns:
        The :class:`~loomcredit.pipeline.features.profile.Profile` printed.
    """
    import pyarrow.parquet as pq

    from loomcredit.pipeline.features.online import OnlineFeatures
    from loomcredit.pipeline.features.profile import LEVEL_ORDER, profile, warning_signs
    from loomcredit.pipeline.features.snapshot import build_snapshot
    from loomcredit.pipeline.schemas import LakePaths

    lake = LakePaths(Path(home))
    started = time.perf_counter()
    with console.status(f"building the enterprise profiles as of {as_of}…"):
        path = build_snapshot(lake, as_of)
    rows = pq.read_table(path).to_pylist()
    console.print(
        f"[green]✓[/] 企业画像 profiles as of {as_of}: {len(rows)} enterprises × "
        f"{len(rows[0]) - 2 if rows else 0} features in {time.perf_counter() - started:.1f} s"
    )
    if not rows:
        return None
    if uscc is None:

        def weight(row: dict[str, Any]) -> tuple[int, ...]:
            signs = warning_signs(row, as_of)
            return tuple(-sum(s.level == lv for s in signs) for lv in LEVEL_ORDER)

        uscc = str(min(rows, key=lambda r: (weight(r), r["uscc"]))["uscc"])
    prof = profile(lake, uscc, as_of, online=OnlineFeatures(lake))
    print_profile(prof)
    return prof


def register(app: typer.Typer) -> None:
    """Add `loom features …` and `loom profile` to the CLI."""
    app.add_typer(features_app, name="features")
    app.command("profile")(profile)
