"""`loom monitor` and `loom alerts`: post-loan monitoring (贷后监控) and the alert queue.

``loom monitor --as-of D`` runs the warning rules over every borrower with an open line and
raises or refreshes their alerts; ``loom alerts`` lists the queue and moves an alert (acknowledge,
action, close) as the risk manager at the server's terminal (audited under ``cli:<OS user>``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from loomcredit.domain.alerts import Alert
from loomcredit.entrypoints.cli.commands_service import CliInputError, operator, service
from loomcredit.service_layer.intake import Received
from loomcredit.service_layer.monitoring import MonitorRun

if TYPE_CHECKING:
    from loomcredit.bootstrap.service import Service

alerts_app = typer.Typer(
    help="Early-warning alerts 预警: list and work them.", no_args_is_help=True
)
console = Console()


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CliInputError(f"--as-of {text!r} is not a date like 2026-03-31") from None


def monitor_cmd(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="As-of date 监控基准日 (YYYY-MM-DD)")
    ] = None,
    uscc: Annotated[
        list[str] | None, typer.Option(help="Only these borrowers (统一社会信用代码)")
    ] = None,
    evaluate: Annotated[
        bool,
        typer.Option(
            "--evaluate",
            help="Score the warning rules against the defaults that happened, over --from..--to, "
            "beside a naive sequential (环比) rule set 预警效果评估",
        ),
    ] = False,
    start: Annotated[str | None, typer.Option("--from", help="First month, YYYY-MM")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last month, YYYY-MM")] = None,
    min_lead: Annotated[
        int, typer.Option("--min-lead", help="Months of warning that count as early")
    ] = 3,
) -> None:
    """Run the warning rules as of a date over the borrowers with an open credit line, and raise
    or refresh one alert per borrower and rule (re-running never duplicates them); or, with
    --evaluate, measure how early they warn of the defaults in the lake and how many alerts they
    raise on firms that do not default."""
    if evaluate:
        _evaluate(start, end, min_lead)
        return
    if as_of is None:
        raise CliInputError("--as-of is required (or --evaluate --from YYYY-MM --to YYYY-MM)")
    from loomcredit.service_layer.monitoring import monitor

    day = _day(as_of)
    svc = service()
    features, rules = svc.monitoring()
    with svc.uow() as uow:
        run = monitor(uow, operator("risk_manager"), features, rules, as_of=day, now=svc.clock(),
                      uscc=uscc)  # fmt: skip
        uow.commit()
    print_run(run)


def print_run(run: MonitorRun) -> None:
    """What a monitoring run did, and its alerts."""
    console.print(
        f"[green]贷后监控完成 monitoring done[/] as of {run.as_of} (rules {run.rules_version}): "
        f"{run.borrowers} borrowers · raised 新增 {len(run.raised)} · refreshed 更新 "
        f"{len(run.refreshed)} · without data 无数据 {len(run.without_data)}"
    )
    if run.lines_frozen:
        console.print(
            "[red]额度已自动冻结 lines frozen at once[/] (confirm or lift: loom alerts freeze ID): "
            + ", ".join(str(i) for i in run.lines_frozen)
        )
    if run.without_data:
        console.print("[yellow]no features for[/] " + ", ".join(run.without_data))
    if run.raised or run.refreshed:
        print_alerts(list(run.raised) + list(run.refreshed), "本次预警 Alerts of this run")


def _month(text: str | None, flag: str) -> date:
    if text is None:
        raise CliInputError(f"--evaluate needs {flag} YYYY-MM")
    try:
        return date.fromisoformat(f"{text}-01")
    except ValueError:
        raise CliInputError(f"{flag} {text!r} is not a month like 2024-01") from None


def _evaluate(start: str | None, end: str | None, min_lead: int) -> None:
    from loomcredit.config import Settings
    from loomcredit.domain.daycount import add_months

    first, last = _month(start, "--from"), _month(end, "--to")
    if last < first:
        raise CliInputError(f"--to {end} is before --from {start}")
    months, m = [], first
    while m <= last:
        months.append(m)
        m = add_months(m, 1)
    print_evaluation(Settings().home, months, min_lead)


def print_evaluation(home: Path, months: Sequence[date], min_lead: int = 3) -> None:
    """Score the house rules and the naive sequential set over the month ends of ``months``
    against the lake's defaults, and print the table."""
    from loomcredit.adapters.warning_history import (
        LakeMonthlyFeatures,
        SequentialWarningRules,
        lake_defaults,
        month_end,
    )
    from loomcredit.adapters.warning_rules import ProfileWarningRules
    from loomcredit.service_layer.monitoring_evaluation import evaluate_rules

    ends = sorted({month_end(m) for m in months})
    seasonal = ProfileWarningRules()
    sets = {"seasonal 同比": seasonal, "naive 环比": SequentialWarningRules(seasonal.policy)}
    with console.status(f"features of every firm at {len(ends)} month ends…"):
        scores = evaluate_rules(LakeMonthlyFeatures(home), sets, lake_defaults(home), ends,
                                min_lead_months=min_lead)  # fmt: skip
    table = Table("rule set 规则", "defaulters 违约", f"warned ≥{min_lead}m 提前预警",
                  "median lead 中位提前期", "borrower-months 户月", "alerts 预警",
                  "alerts / 100 户月", title=f"预警效果 Warnings vs defaults, {ends[0]:%Y-%m}.."
                  f"{ends[-1]:%Y-%m} (policy {seasonal.version})")  # fmt: skip
    for s in scores:
        share = "—" if s.share_warned_early is None else f"{s.share_warned_early:.0%}"
        lead = "—" if s.median_lead_months is None else f"{s.median_lead_months:.1f} months"
        rate = "—" if s.alerts_per_100 is None else f"{s.alerts_per_100:.1f}"
        table.add_row(s.rules, str(s.defaulters), f"{s.warned_early} ({share})", lead,
                      str(s.borrower_months), str(s.alerts), rate)  # fmt: skip
    console.print(table)


def print_alerts(alerts: Sequence[Alert], title: str) -> None:
    """The alerts as a table, most serious first."""
    table = Table("id", "level 级别", "borrower 企业", "rule 规则", "evidence 依据", "last seen",
                  "status 状态", "assignee 负责人", title=title)  # fmt: skip
    for a in alerts:
        ev = a.evidence[0]
        colour = {"red": "red", "amber": "yellow"}.get(a.level.value, "cyan")
        table.add_row(
            str(a.alert_id),
            f"[{colour}]{a.level.label_zh}[/]",
            a.uscc,
            a.rule,
            ev.message_zh,
            a.last_seen.isoformat(),
            a.status.label_zh
            + (" ⚠ 已升级" if a.escalated_at else "")
            + (" · 额度冻结待确认" if a.freeze_pending else ""),
            a.assignee,
        )
    console.print(table)


@alerts_app.command("list")
def list_cmd(
    all_: Annotated[bool, typer.Option("--all", help="Closed ones too")] = False,
    uscc: Annotated[str | None, typer.Option(help="One borrower")] = None,
) -> None:
    """The queue: open alerts, most serious first."""
    from loomcredit.domain.alerts import AlertStatus
    from loomcredit.service_layer.monitoring import alerts

    svc = service()
    open_ = [s for s in AlertStatus if s is not AlertStatus.CLOSED]
    with svc.uow() as uow:
        found = alerts(uow, operator("risk_manager"), statuses=None if all_ else open_, uscc=uscc)
    print_alerts(found, "预警队列 Alert queue")


def _move(alert_id: int, to: str, comment: str) -> None:
    from loomcredit.domain.alerts import AlertStatus
    from loomcredit.service_layer.monitoring import move_alert

    svc = service()
    with svc.uow() as uow:
        alert = move_alert(uow, operator("risk_manager"), alert_id, AlertStatus(to),
                           comment=comment, now=svc.clock())  # fmt: skip
        uow.commit()
    console.print(f"alert {alert.alert_id} ({alert.uscc} {alert.rule}) → {alert.status.label_zh}")


@alerts_app.command("ack")
def ack_cmd(
    alert_id: Annotated[int, typer.Argument(help="Alert id")],
    comment: Annotated[str, typer.Option(help="Comment 备注")] = "",
) -> None:
    """Acknowledge an alert (已确认)."""
    _move(alert_id, "acknowledged", comment)


@alerts_app.command("action")
def action_cmd(
    alert_id: Annotated[int, typer.Argument(help="Alert id")],
    comment: Annotated[str, typer.Option(help="What was done 处置措施")],
) -> None:
    """Record what was done about an acknowledged alert (已处置)."""
    _move(alert_id, "actioned", comment)


@alerts_app.command("close")
def close_cmd(
    alert_id: Annotated[int, typer.Argument(help="Alert id")],
    comment: Annotated[str, typer.Option(help="Why it is closed 关闭原因")],
) -> None:
    """Close an alert (已关闭); the rule firing again raises a new one."""
    _move(alert_id, "closed", comment)


@alerts_app.command("freeze")
def freeze_cmd(
    alert_id: Annotated[int, typer.Argument(help="Alert id")],
    comment: Annotated[str, typer.Option(help="Why 理由")],
    lift: Annotated[
        bool, typer.Option("--lift/--confirm", help="Lift the freeze 解除 / confirm it 确认")
    ] = False,
) -> None:
    """Confirm (确认冻结) or lift (解除冻结) the freeze the monitor made for a red alert."""
    from loomcredit.service_layer.monitoring import settle_freeze

    svc = service()
    with svc.uow() as uow:
        alert = settle_freeze(uow, operator("risk_manager"), alert_id, lift=lift,
                              comment=comment, now=svc.clock())  # fmt: skip
        uow.commit()
    what = "解除冻结 lifted" if lift else "确认冻结 confirmed"
    console.print(
        f"alert {alert.alert_id} ({alert.uscc} {alert.rule}): line {alert.line_id} {what}"
    )


@alerts_app.command("reduce")
def reduce_cmd(
    alert_id: Annotated[int, typer.Argument(help="Alert id")],
    limit: Annotated[str, typer.Option(help="New limit in yuan 新额度, e.g. 200000")],
    reason: Annotated[str, typer.Option(help="Why 理由")],
) -> None:
    """Ask for the alert's line to be reduced (压降); a risk manager approves it in /approvals."""
    from loomcredit.domain.errors import InvalidAmount
    from loomcredit.domain.money import Money
    from loomcredit.service_layer.monitoring import request_reduction

    try:
        amount = Money.parse(limit)
    except InvalidAmount as exc:
        raise CliInputError(f"--limit {limit!r}: {exc}") from None
    svc = service()
    with svc.uow() as uow:
        req = request_reduction(uow, operator("risk_manager"), alert_id, amount, reason=reason,
                                now=svc.clock())  # fmt: skip
        uow.commit()
    console.print(
        f"额度压降申请 reduction asked: approval {req.request_id} ({req.subject} → {amount}); "
        "another risk manager approves it under /approvals"
    )


@alerts_app.command("call-in")
def call_in_cmd(
    alert_id: Annotated[int, typer.Argument(help="Alert id")],
    reason: Annotated[str, typer.Option(help="Why, under which contract clause 理由")],
) -> None:
    """Ask for the alert's loans to be called in early (宣布提前到期); a second risk manager
    approves it in /approvals, then every active loan on the line falls due and the line freezes."""
    from loomcredit.service_layer.monitoring import request_call_in

    svc = service()
    with svc.uow() as uow:
        req = request_call_in(uow, operator("risk_manager"), alert_id, reason=reason,
                              now=svc.clock())  # fmt: skip
        uow.commit()
    console.print(
        f"提前到期申请 call-in asked: approval {req.request_id} ({req.subject}); another risk "
        "manager approves it under /approvals"
    )


@alerts_app.command("task")
def task_cmd(
    alert_id: Annotated[int, typer.Argument(help="Alert id")],
    kind: Annotated[str, typer.Option(help="visit 实地走访 / documents 补充材料")],
    due: Annotated[str | None, typer.Option(help="Due date YYYY-MM-DD (default: policy)")] = None,
    doc: Annotated[list[str] | None, typer.Option(help="A document asked for (repeatable)")] = None,
    note: Annotated[str, typer.Option(help="What to look at 说明")] = "",
) -> None:
    """Ask for a visit or documents on an alert (as a risk manager), for the alert's assignee."""
    from loomcredit.domain.follow_up import TaskKind
    from loomcredit.service_layer.follow_up import request_task

    try:
        task_kind = TaskKind(kind)
        due_on = None if due is None else date.fromisoformat(due)
    except ValueError:
        raise CliInputError(
            f"--kind is visit or documents and --due a date, not {kind!r} {due!r}"
        ) from None
    svc = service()
    with svc.uow() as uow:
        task = request_task(uow, operator("risk_manager"), alert_id, task_kind,
                            policy=svc.follow_up_policy(), now=svc.clock(), due_on=due_on,
                            documents=doc or (), note=note)  # fmt: skip
        uow.commit()
    console.print(f"{task.kind.label_zh} task {task.task_id} for {task.assignee}, due {task.due_on}"
                  + (f": {'; '.join(task.documents)}" if task.documents else ""))  # fmt: skip


@alerts_app.command("tasks")
def tasks_cmd(
    every: Annotated[bool, typer.Option("--all", help="Done and cancelled too")] = False,
) -> None:
    """Follow-up tasks, earliest due first, overdue ones marked."""
    from loomcredit.service_layer.eod import business_date
    from loomcredit.service_layer.follow_up import task_queue

    svc = service()
    with svc.uow() as uow:
        found = task_queue(uow, operator("risk_manager"), on=business_date(uow, svc.clock()),
                           open_only=not every)  # fmt: skip
    table = Table("id", "任务 kind", "预警 alert", "企业 USCC", "负责人 assignee", "到期 due",
                  "状态 status", "说明 / 结果")  # fmt: skip
    for v in found:
        t = v.task
        state = f"逾期 {v.days_late} 天 overdue" if v.overdue else t.status.label_zh
        said = t.findings or "; ".join(t.documents) or t.note
        table.add_row(str(t.task_id), t.kind.label_zh, str(t.alert_id), t.uscc, t.assignee,
                      str(t.due_on), state, said)  # fmt: skip
    console.print(table if found else "no tasks 无跟进任务")


@alerts_app.command("task-done")
def task_done_cmd(
    task_id: Annotated[int, typer.Argument(help="Task id")],
    findings: Annotated[str, typer.Option(help="What was found 走访/材料结果")],
) -> None:
    """Record a task's findings (as a risk manager); the alert records them as its action."""
    from loomcredit.service_layer.follow_up import complete_task

    svc = service()
    with svc.uow() as uow:
        task = complete_task(uow, operator("risk_manager"), task_id, findings=findings,
                             now=svc.clock())  # fmt: skip
        uow.commit()
    console.print(f"task {task.task_id} done 已完成; alert {task.alert_id} actioned")


@alerts_app.command("escalate")
def escalate_cmd() -> None:
    """Escalate every open alert nobody acknowledged within its level's time limit."""
    from loomcredit.service_layer.monitoring import escalate_overdue

    svc = service()
    _, rules = svc.monitoring()
    with svc.uow() as uow:
        done = escalate_overdue(uow, operator(), now=svc.clock(), policy=rules.escalation)
        uow.commit()
    console.print(f"escalated 已升级 {len(done)}")
    if done:
        print_alerts(done, "已升级 Escalated")


def _said(got: Received) -> None:
    for t in got.batches:
        if t.refused:
            console.print(f"[red]refused 拒收[/] {t.source}: {t.refused}")
            continue
        console.print(
            f"{t.source}: {t.accepted} accepted 接收 · {t.quarantined} quarantined 隔离"
            + (" · duplicate 重复 (nothing changed)" if t.duplicate else "")
            + f" · {len(t.touched)} enterprises touched"
        )
    if got.monitored is not None:
        print_run(got.monitored)


def watch_cmd(
    once: Annotated[bool, typer.Option("--once", help="One pass, then stop")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between passes")] = 5.0,
    broker: Annotated[
        str | None,
        typer.Option(help="Read batches from NATS JetStream instead, e.g. nats://127.0.0.1:4222"),
    ] = None,
) -> None:
    """Watch for new data 监听新数据: files dropped in $LOOM_HOME/lake/inbox/<source>/ (a taken file
    moves to inbox/_done, a refused one to inbox/_failed with its reason), or with --broker the
    messages on loom.data.<source>. Each batch goes through validation, quarantine and the
    post-loan consent gate; the borrowers a pass's files touched are then monitored at once."""
    import time

    from loomcredit.service_layer.intake import watch_once

    svc = service()
    if broker is not None:
        _watch_broker(svc, broker, once)
        return
    intake = svc.intake()
    features, rules = svc.monitoring()
    for source_dir in ("judicial", "invoices", "bank_flows"):
        (intake.inbox / source_dir).mkdir(parents=True, exist_ok=True)
    console.print(f"watching 监听 {intake.inbox}/<source>/ …")
    while True:
        with svc.uow() as uow:
            done = watch_once(uow, operator(), intake, features, rules, now=svc.clock())
        if done is not None:
            _said(done)
        if once:
            return
        time.sleep(interval)


def _watch_broker(svc: Service, url: str, once: bool) -> None:
    from loomcredit.adapters.nats_batches import BrokerUnavailableError, NatsBatches
    from loomcredit.service_layer.errors import InvalidRequestError
    from loomcredit.service_layer.intake import Batch, receive

    intake = svc.intake()
    features, rules = svc.monitoring()

    def handle(batch: Batch) -> None:
        with svc.uow() as uow:
            try:
                got = receive(uow, operator(), intake, batch, features, rules, now=svc.clock())
            except InvalidRequestError as exc:
                console.print(f"[red]refused 拒收[/] {batch.source}: {exc}")
                return
        _said(got)

    console.print(f"watching 监听 {url} (stream LOOM_DATA, subjects loom.data.<source>) …")
    try:
        n = NatsBatches(url).consume(handle, once=once)
    except BrokerUnavailableError as exc:
        raise CliInputError(str(exc)) from None
    console.print(f"{n} batch(es) handled")


def register(app: typer.Typer) -> None:
    """Add `loom monitor`, `loom watch` and `loom alerts` to the CLI."""
    app.command("monitor")(monitor_cmd)
    app.command("watch")(watch_cmd)
    app.add_typer(alerts_app, name="alerts")
