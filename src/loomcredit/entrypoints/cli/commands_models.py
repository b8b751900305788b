"""`loom train`, `loom score`, `loom psi` and `loom models list|promote`: the scoring commands.

Heavy libraries (pandas, OptBinning, LightGBM) are imported inside the commands.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from loomcredit.domain.errors import LoomError

console = Console()
models_app = typer.Typer(
    help="模型登记 Model registry: list and promote trained models.", no_args_is_help=True
)


def _models_root() -> Path:
    from loomcredit.config import get_settings

    return get_settings().models_dir


def _print_card(card: dict) -> None:
    table = Table(
        "model",
        "AUC",
        "KS",
        "Gini",
        "Brier",
        "PSI train→valid",
        title=f"{card['name']} · {card['validation']['scheme']}",
    )
    for m, r in card["models"].items():
        met = r["metrics"]
        table.add_row(
            m,
            f"{met['auc']:.4f}",
            f"{met['ks']:.4f}",
            f"{met['gini']:.4f}",
            f"{met['brier']:.4f}",
            f"{r['psi_train_valid']:.4f}",
        )
    console.print(table)
    console.print(
        f"rows {card['data']['rows']}, bad rate {card['data']['bad_rate']:.2%}; "
        f"default model 默认模型: {card['default_model']}"
    )


def train(
    data: Annotated[
        Path | None, typer.Option("--data", help="CSV/Parquet/ARFF 带标签数据 labelled table")
    ] = None,
    target: Annotated[
        str | None, typer.Option("--target", help="目标列 target column (1/bad = 坏)")
    ] = None,
    time: Annotated[
        str | None, typer.Option("--time", help="时间列 → 跨时间验证 out-of-time split")
    ] = None,
    id_: Annotated[
        str | None, typer.Option("--id", help="借款人 id 列 borrower id (grouped splits)")
    ] = None,
    drop: Annotated[
        str, typer.Option("--drop", help="要删除的列 columns to drop (comma separated)")
    ] = "",
    snapshots: Annotated[
        Path | None,
        typer.Option(
            "--snapshots",
            help="训练集目录 training set folder (uscc, as_of, features, default_12m)",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="模型目录 model folder (default $LOOM_HOME/models/<name>)"),
    ] = None,
    folds: Annotated[int, typer.Option("--folds", help="无时间列时的折数 k of k-fold")] = 5,
    dedupe: Annotated[
        bool, typer.Option("--dedupe", help="去除完全重复行 drop duplicate rows")
    ] = False,
) -> None:
    """训练评分卡与 LightGBM 挑战者模型 Train the scorecard and the LightGBM challenger."""
    from loomcredit.scoring.train import TrainConfig, train_models

    if snapshots is not None:
        if data is not None:
            raise typer.BadParameter("use either --data or --snapshots")
        data, target, time, id_ = snapshots, "default_12m", "as_of", "uscc"
    if data is None or target is None:
        raise typer.BadParameter("--data and --target are required (or --snapshots DIR)")
    now = datetime.now(UTC)
    name = f"{Path(data).stem}-{now:%Y%m%d-%H%M%S}"
    out_dir = out or (_models_root() / name)
    card = train_models(
        data,
        target=target,
        out_dir=out_dir,
        time_col=time,
        id_col=id_,
        drop=[c.strip() for c in drop.split(",") if c.strip()],
        config=TrainConfig(folds=folds, dedupe=dedupe),
        name=out_dir.name,
        trained_at=now.isoformat(timespec="seconds"),
    )
    _print_card(card)
    console.print(f"模型已保存 saved: {out_dir} (report.html, model_card.json)")


def score(
    model: Annotated[
        Path, typer.Option("--model", help="模型目录 model folder (or models root: champion)")
    ],
    data: Annotated[Path, typer.Option("--data", help="待评分数据 table to score")],
    out: Annotated[Path | None, typer.Option("--out", help="输出 CSV/Parquet output file")] = None,
    kind: Annotated[
        str | None, typer.Option("--kind", help="scorecard | booster (default: the card's default)")
    ] = None,
    reasons: Annotated[
        int, typer.Option("--reasons", help="每行原因码个数 reason codes per row")
    ] = 3,
) -> None:
    """给数据评分 Score a file: score, PD and reason codes per row."""
    from loomcredit.scoring import load_scorer
    from loomcredit.scoring.compiled import CompiledScorecard
    from loomcredit.scoring.data import load_table

    scorer = load_scorer(model, kind)
    df = load_table(data)
    if isinstance(scorer, CompiledScorecard):
        res = scorer.score_frame(df, reasons=reasons, points=True)
    else:
        res = scorer.score_frame(df, reasons=reasons)
    out_path = out or data.with_name(data.stem + ".scores.csv")
    if out_path.suffix.lower() in {".parquet", ".pq"}:
        res.to_parquet(out_path, index=False)
    else:
        res.to_csv(out_path, index=False)
    console.print(
        f"{scorer.version}: {len(res)} rows scored, mean PD {res['pd'].mean():.4f} → {out_path}"
    )


def psi_cmd(
    file_a: Annotated[Path, typer.Argument(help="基准评分文件 reference score file")],
    file_b: Annotated[Path, typer.Argument(help="对比评分文件 score file to compare")],
    column: Annotated[str, typer.Option("--column", help="评分列 score column")] = "score",
) -> None:
    """评分稳定性 PSI of the score and characteristic stability (pts_* columns)."""
    from loomcredit.scoring import metrics
    from loomcredit.scoring.data import load_table

    a, b = load_table(file_a), load_table(file_b)
    if column not in a.columns or column not in b.columns:
        raise typer.BadParameter(f"both files need a {column!r} column")
    value = metrics.psi(a[column].to_numpy(), b[column].to_numpy())
    verdict = (
        "稳定 stable"
        if value < 0.1
        else ("轻微变化 minor shift" if value < 0.25 else "显著变化 major shift")
    )
    console.print(f"PSI({column}) = {value:.4f}  {verdict}")
    pts = [c for c in a.columns if c.startswith("pts_") and c in b.columns]
    if pts:
        table = Table("characteristic 特征", "CSI (points shift)", "PSI")
        for c in pts:
            table.add_row(
                c[4:],
                f"{metrics.characteristic_stability(a[c], b[c]):+.2f}",
                f"{metrics.psi(a[c].to_numpy(), b[c].to_numpy()):.4f}",
            )
        console.print(table)


@models_app.command("list")
def list_cmd() -> None:
    """列出已训练模型 List trained models and the champion."""
    from loomcredit.scoring.registry import list_models

    rows = list_models(_models_root())
    table = Table(
        "name", "trained_at", "rows", "AUC scorecard", "AUC booster", "default", "champion"
    )
    for r in rows:
        fmt = lambda v: "—" if v is None else f"{v:.4f}"  # noqa: E731
        table.add_row(
            r["name"],
            str(r["trained_at"]),
            str(r["rows"]),
            fmt(r["auc_scorecard"]),
            fmt(r["auc_booster"]),
            str(r["default_model"]),
            "★" if r["champion"] else "",
        )
    console.print(table if rows else "还没有模型 no models yet: run `loom train`")


@models_app.command("promote")
def promote_cmd(name: Annotated[str, typer.Argument(help="模型名 model name")]) -> None:
    """设为冠军模型 Make a model the champion."""
    from loomcredit.scoring.registry import promote

    promote(_models_root(), name)
    console.print(f"冠军模型 champion: {name}")


def register(app: typer.Typer) -> None:
    """Add the scoring commands to the `loom` app."""
    app.command("train")(train)
    app.command("score")(score)
    app.command("psi")(psi_cmd)
    app.add_typer(models_app, name="models")


__all__ = ["LoomError", "register"]
