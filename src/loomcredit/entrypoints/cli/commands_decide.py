"""`loom decide`: a credit decision for one enterprise, or pre-approved offers for a whole snapshot.

One decision prints the rules, score and PD, the price and limit build-ups, the suggested schedule
and the band (``--format json`` prints the whole decision record; ``--explain`` adds what would
change the outcome). ``--all`` decides for every enterprise in the feature snapshot of the date,
with progress, and writes one Parquet row per enterprise.
"""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from loomcredit.domain.errors import LoomError

if TYPE_CHECKING:
    from loomcredit.domain.decision.record import DecisionRecord
    from loomcredit.service_layer.decisioning import DecisionService

console = Console()
err_console = Console(stderr=True)
BAND_STYLE = {"auto_approve": "bold green", "review": "bold yellow", "decline": "bold red"}


def _fail(message: str) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}", soft_wrap=True)
    return typer.Exit(2)


def _pct(value: Any) -> str:
    from decimal import Decimal

    return f"{(Decimal(value) * 100).quantize(Decimal('0.01'))}%"


def _print_record(record: DecisionRecord) -> None:
    band = record.band.value
    console.print(
        f"[bold]{record.application.uscc}[/] · as of {record.as_of} · "
        f"申请 {record.application.amount.format()} / {record.application.term_months} 月 / "
        f"{record.application.method} → [{BAND_STYLE[band]}]{record.band.label_zh} {band}[/]"
    )
    console.print(
        f"policy {record.policy_version} · model {record.model_version} · id {record.decision_id}"
    )
    rules = Table(
        "规则 rule", "结果 result", "观测 observed", "要求 threshold", title="准入规则 Screening"
    )
    for r in record.rules:
        mark = {"pass": "[green]✓ pass[/]", "fail": "[red]✗ fail[/]"}.get(
            r.status.value, "[yellow]? missing[/]"
        )
        note = f" → {r.outcome.value} ({r.reason_zh})" if r.outcome else ""
        rules.add_row(r.rule_id, mark + note, r.observed, r.threshold)
    console.print(rules)
    console.print(f"评分 score {float(record.score):.1f} · 违约概率 PD {record.pd}")
    for code in record.reason_codes[:5]:
        console.print(f"  · {code.code} {code.text_zh} / {code.text_en} ({code.impact:+.3f})")
    p = record.price
    price = Table("项目 item", "年化 annual", title="定价 Price build-up")
    for label, value in (
        (f"LPR 1Y (from {p.lpr_effective_on})", p.lpr_1y),
        ("预期损失 EL = PD × LGD", p.expected_loss),
        ("资金成本 funding", p.funding_spread),
        ("运营成本 operating", p.operating_cost),
        ("资本占用 capital", p.capital_charge),
        ("利润 margin", p.margin),
        ("利差 spread (bp rounded)", p.spread),
        ("费用年化 fees", p.fee_annualised),
    ):
        price.add_row(label, _pct(value))
    price.add_row(f"[bold]执行年利率 annual rate[/] ({p.bound})", f"[bold]{_pct(p.annual_rate)}[/]")
    price.add_row("年化综合成本 all-in", f"{_pct(p.all_in_rate)} ≤ {_pct(p.all_in_ceiling)}")
    console.print(price)
    limit = Table("组成 component", "金额 amount", "依据 basis", title="额度 Limit build-up")
    for c in record.limit.components:
        style = "bold" if c.name == record.limit.binding else ""
        limit.add_row(c.name, c.amount.format(), c.basis, style=style)
    limit.add_row(
        "[bold]额度 limit[/]",
        f"[bold]{record.limit.limit.format()}[/]",
        f"binding: {record.limit.binding}",
    )
    console.print(limit)
    factors = " ".join(f"{m}:{f}" for m, f in enumerate(record.limit.season_factors, start=1))
    console.print(f"季节因子 season factors ({record.limit.season_source}): {factors}")
    if record.limit.monthly_limits:
        months = " ".join(
            f"{m}:{x.amount_str()}" for m, x in enumerate(record.limit.monthly_limits, 1)
        )
        console.print(f"月度额度 monthly limits: {months}")
    if record.schedule:
        plan = record.plan
        title = f"建议还款计划 Suggested plan: {plan.method} — {plan.reason_zh} / {plan.reason_en}"
        sched = Table(
            "#",
            "到期 due",
            "本金 principal",
            "利息 interest",
            "还款 payment",
            "余额 balance",
            title=title,
        )
        for line in record.schedule:
            sched.add_row(
                str(line.number),
                line.due_on.isoformat(),
                line.principal.format(),
                line.interest.format(),
                line.payment.format(),
                line.balance_after.format(),
            )
        console.print(sched)
    console.print(
        f"[{BAND_STYLE[band]}]结论 band: {record.band.label_zh} {band}[/] · "
        f"可贷 offer {record.offer_amount.format()}"
    )
    for reason in record.band_reasons:
        console.print(f"  · {reason.text_zh} / {reason.text_en}")
    if record.explanation:
        console.print("[bold]如何改变结果 What would change the outcome[/]")
        for s in record.explanation:
            console.print(f"  → {s.text_zh} / {s.text_en}")


def record_row(record: DecisionRecord) -> dict[str, object]:
    """One flat Parquet row per decision (the full record is available as JSON per decision)."""
    schedule = record.schedule
    return {
        "decision_id": record.decision_id,
        "uscc": record.application.uscc,
        "as_of": record.as_of,
        "policy_version": record.policy_version,
        "model_version": record.model_version,
        "band": record.band.value,
        "band_reasons": ";".join(r.code for r in record.band_reasons),
        "failed_rules": ";".join(r.rule_id for r in record.rules if not r.passed),
        "score": record.score,
        "pd": str(record.pd),
        "annual_rate": str(record.price.annual_rate),
        "all_in_rate": str(record.price.all_in_rate),
        "spread_bp": record.price.spread_bp,
        "asked_fen": record.application.amount.minor,
        "limit_fen": record.limit.limit.minor,
        "offer_fen": record.offer_amount.minor,
        "limit_binding": record.limit.binding,
        "plan_method": record.plan.method,
        "first_payment_fen": schedule[0].payment.minor if schedule else None,
        "total_interest_fen": sum(line.interest.minor for line in schedule) if schedule else None,
    }


def _service(policy: Path | None, model: Path | None) -> DecisionService:
    from loomcredit.bootstrap.decision import build_decision_service

    return build_decision_service(policy_path=policy, model_dir=model)


def _decide_all(
    service: DecisionService, as_of: date, out: Path | None, term: int, method: str
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from rich.progress import Progress

    from loomcredit.adapters.feature_source import LakeFeatureSource, SnapshotFeatureSource
    from loomcredit.config import get_settings

    home = Path(get_settings().home)
    source = service.features
    snapshots = source.snapshots if isinstance(source, LakeFeatureSource) else None
    usccs = (snapshots or SnapshotFeatureSource(home)).usccs(as_of)
    target = out or home / "lake" / "decisions" / f"as_of={as_of.isoformat()}" / "part-0.parquet"
    rows, began = [], time.perf_counter()
    with Progress(console=err_console, transient=True) as progress:
        task = progress.add_task("决策 deciding", total=len(usccs))
        for record in service.decide_all(usccs, as_of, term_months=term, method=method):
            rows.append(record_row(record))
            progress.advance(task)
    elapsed = time.perf_counter() - began
    target.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), target)
    counts: dict[str, int] = {}
    for row in rows:
        counts[str(row["band"])] = counts.get(str(row["band"]), 0) + 1
    summary = Table("band", "count", title=f"白名单 pre-approved offers · {as_of}")
    for band in ("auto_approve", "review", "decline"):
        summary.add_row(band, str(counts.get(band, 0)))
    console.print(summary)
    rate = len(rows) / elapsed if elapsed > 0 else 0.0
    console.print(f"{len(rows)} decisions in {elapsed:.1f} s ({rate:,.0f}/s) → {target}")


def decide(
    as_of: Annotated[
        str,
        typer.Option(
            "--as-of", help="Decision date YYYY-MM-DD (features, LPR and consents as of it)."
        ),
    ],
    uscc: Annotated[str | None, typer.Option(help="Enterprise USCC (统一社会信用代码).")] = None,
    amount: Annotated[str, typer.Option(help="Amount asked, yuan (e.g. 500000).")] = "500000",
    term: Annotated[int, typer.Option(help="Term in months.")] = 12,
    method: Annotated[
        str, typer.Option(help="annuity | equal_principal | interest_only | custom.")
    ] = "annuity",
    policy: Annotated[
        Path | None, typer.Option(help="Policy YAML (default: Keqiao textile policy).")
    ] = None,
    model: Annotated[
        Path | None, typer.Option(help="Model directory (default: $LOOM_HOME/models).")
    ] = None,
    output_format: Annotated[str, typer.Option("--format", help="table | json.")] = "table",
    explain: Annotated[
        bool, typer.Option("--explain", help="Add what would change the outcome.")
    ] = False,
    person: Annotated[
        bool, typer.Option("--person", help="The applicant asks for a person to decide.")
    ] = False,
    all_: Annotated[
        bool, typer.Option("--all", help="Decide for every enterprise in the snapshot.")
    ] = False,
    out: Annotated[Path | None, typer.Option(help="Parquet file for --all.")] = None,
) -> None:
    """授信决策 Decide on a credit application (or --all: pre-approved offers for the cluster)."""
    from loomcredit.domain.money import Money
    from loomcredit.service_layer.decisioning import DecisionRequest

    if output_format not in ("table", "json"):
        raise _fail(f"--format must be table or json, not {output_format!r}")
    try:
        day = date.fromisoformat(as_of)
    except ValueError:
        raise _fail(f"--as-of must be a date like 2026-03-01, not {as_of!r}") from None
    if not all_ and not uscc:
        raise _fail("give --uscc X for one decision, or --all for the whole snapshot")
    try:
        asked = Money.parse(amount)
    except (LoomError, TypeError):
        raise _fail(f"--amount must be yuan with at most two decimals, not {amount!r}") from None
    try:
        service = _service(policy, model)
        if all_:
            _decide_all(service, day, out, term, method)
            return
        request = DecisionRequest(str(uscc).strip().upper(), asked, term, method, person)
        record = service.decide(request, day, explain=explain)
    except LoomError as exc:
        raise _fail(str(exc)) from None
    if output_format == "json":
        typer.echo(json.dumps(record.to_dict(), ensure_ascii=False, indent=2))
    else:
        _print_record(record)


def register(app: typer.Typer) -> None:
    """Add `loom decide` to the CLI."""
    app.command("decide")(decide)


def stage_decisions(
    as_of: date, *, model: Path | None = None, policy: Path | None = None
) -> list[DecisionRecord]:
    """Demo stage: offers for the whole demo cluster — band counts, rate and limit distribution,
    and one explained decision of each band (for ``loom demo``). Returns every decision made."""
    from statistics import quantiles

    from loomcredit.adapters.feature_source import LakeFeatureSource
    from loomcredit.domain.decision.bands import Band

    service = _service(policy, model)
    source = service.features
    if not isinstance(source, LakeFeatureSource):  # pragma: no cover - wiring is fixed
        raise _fail("the demo needs the lake feature source")
    usccs = source.snapshots.usccs(as_of)
    records = list(service.decide_all(usccs, as_of))
    counts = {band: sum(r.band is band for r in records) for band in Band}
    table = Table("band 结论", "count 户数", "share 占比", title=f"授信决策 Decisions · {as_of}")
    for band, count in counts.items():
        table.add_row(
            f"{band.label_zh} {band.value}", str(count), f"{count / max(len(records), 1):.1%}"
        )
    console.print(table)
    offered = [r for r in records if r.band is not Band.DECLINE]
    if len(offered) >= 2:
        rates = [float(r.price.annual_rate) * 100 for r in offered]
        limits = [r.offer_amount.minor / 100 for r in offered]
        dist = Table("", "p10", "p50", "p90", title="利率与额度分布 Rate and limit (offered)")
        r10, _, _, _, r50, _, _, _, r90 = quantiles(rates, n=10)
        l10, _, _, _, l50, _, _, _, l90 = quantiles(limits, n=10)
        dist.add_row("年利率 rate %", f"{r10:.2f}", f"{r50:.2f}", f"{r90:.2f}")
        dist.add_row("额度 limit ¥", f"{l10:,.0f}", f"{l50:,.0f}", f"{l90:,.0f}")
        console.print(dist)
    for band in Band:
        first = next((r for r in records if r.band is band), None)
        if first is None:
            continue
        from loomcredit.service_layer.decisioning import DecisionRequest

        app_ = first.application
        request = DecisionRequest(app_.uscc, app_.amount, app_.term_months, app_.method)
        console.rule(f"{band.label_zh} {band.value}")
        _print_record(service.decide(request, as_of, explain=True))
    return records
