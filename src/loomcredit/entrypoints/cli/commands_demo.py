"""`loom demo`: the main job on embedded defaults, one stage per capability.

Each stage prints what a bank's user would look at: codes and a schedule for a sample Keqiao
enterprise, the simulated cluster and its ingestion, one enterprise's profile, the models' quality,
the decisions for the cluster, and the lending book — then leaves the service running.
"""

from __future__ import annotations

import random
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from loomcredit.domain.daycount import add_months, days_in_month

if TYPE_CHECKING:
    from loomcredit.config import Settings
    from loomcredit.domain.decision.record import DecisionRecord
    from loomcredit.entrypoints.cli.demo_lending import DemoBook, Offer

console = Console()


def _header(title: str) -> None:
    console.print()
    console.print(Panel.fit(title, style="bold cyan"))


def stage_domain() -> None:
    """Identity codes and a repayment schedule for a sample Keqiao enterprise."""
    from loomcredit.domain.identity import generate_uscc, parse_uscc
    from loomcredit.domain.money import Money, Rate
    from loomcredit.domain.regions import current_region_code, region_name
    from loomcredit.domain.schedule import Method, build_schedule

    _header("1 · 身份与还款计划 Identity codes and a repayment schedule")
    rng = random.Random(20261128)
    codes = [
        generate_uscc("330603", rng),
        "913306217125879893",
        "91350211M0000XUF46",
        "91330603ABC",
    ]
    table = Table("code", "result")
    for code in codes:
        try:
            info = parse_uscc(code)
        except ValueError as exc:
            table.add_row(code, f"[red]invalid[/]: {exc}")
            continue
        region = current_region_code(info.region_code)
        note = " [yellow](legacy allow-list: refer)[/]" if info.legacy else ""
        table.add_row(
            code,
            f"{info.entity_type.label_zh} · {region_name(region)} "
            f"({info.region_code}→{region}){note}",
        )
    console.print(table)
    schedule = build_schedule(
        Money.parse("1000000"), Rate("0.0345"), 12, date(2026, 1, 20), Method.ANNUITY
    )
    sched = Table(
        "#",
        "due",
        "payment",
        "principal",
        "interest",
        "balance",
        title="¥1,000,000 · 3.45% · 12 月 等额本息",
    )
    for inst in schedule.installments:
        sched.add_row(
            str(inst.number),
            inst.due_on.isoformat(),
            inst.payment.format(),
            inst.principal.format(),
            inst.interest.format(),
            inst.balance_after.format(),
        )
    console.print(sched)


MARKER = ".loom-demo"
LENDING_MONTHS = 3
#: Months simulated after the feed: what arrives as new data in the last stage.
ARRIVAL_MONTHS = 3
#: The scripted sales collapse, as said.
COLLAPSE_PCT = "10 %"


def _month_end(day: date) -> date:
    return day.replace(day=days_in_month(day.year, day.month))


@dataclass(frozen=True)
class DemoPlan:
    """The dates every stage works on, derived from the simulated window.

    The bank decides at ``as_of`` and services the loans for three months after it. Training
    snapshots start six months in (features need history) and stop twelve months before the last
    simulated month (the label needs twelve months of outcome).
    """

    start: date
    months: int

    @property
    def last_month(self) -> date:
        """First day of the last simulated month."""
        return add_months(self.start, self.months - 1)

    @property
    def as_of(self) -> date:
        """Decision date: three months before the data end, so that three months of servicing
        bring the book's business date to the end of the simulated data."""
        return _month_end(add_months(self.last_month, -3))

    @property
    def business_date(self) -> date:
        """The day after the demo's last end of day (what the console and API then book on)."""
        return self.as_of + timedelta(days=31 * LENDING_MONTHS + 1)

    @property
    def training(self) -> tuple[date, date]:
        """First and last snapshot month of the training set."""
        return add_months(self.start, 6), add_months(self.last_month, -12)

    @classmethod
    def parse(cls, start: str, months: int) -> DemoPlan:
        """Validate the options: the window must leave at least six training months."""
        try:
            first = date.fromisoformat(f"{start}-01")
        except ValueError:
            raise typer.BadParameter(
                f"--start must be a month like 2023-01, not {start!r}"
            ) from None
        if months < 24:
            raise typer.BadParameter(
                f"--months must be at least 24 (6 months of history + 6 training months + 12 "
                f"months of outcome), not {months}"
            )
        return cls(first, months)


def _prepare_home(home: Path) -> None:
    """The demo owns its LOOM_HOME: start clean there, never touch a home it did not make."""
    if home.exists() and any(home.iterdir()):
        if not (home / MARKER).exists():
            raise typer.BadParameter(
                f"LOOM_HOME={home} holds data the demo did not make; point LOOM_HOME at an empty "
                "folder (make demo uses ./.loom)"
            )
        for child in home.iterdir():
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()
    home.mkdir(parents=True, exist_ok=True)
    (home / MARKER).write_text("made by `loom demo`; the demo clears this folder on its next run\n")


def stage_lake(settings: Settings, plan: DemoPlan, enterprises: int, seed: int) -> None:
    """Simulate the cluster into the raw zone, then ingest it (quarantine, consent, resolution)."""
    from loomcredit.bootstrap.keys import pii_key
    from loomcredit.entrypoints.cli.commands_ingest import _print_summary
    from loomcredit.pipeline.ingest import LakePaths, ingest
    from loomcredit.pipeline.simulate import SimulationConfig, simulate

    _header("2 · 数据采集与整合 Data collection and integration")
    config = SimulationConfig(
        enterprises=enterprises, months=plan.months, start=plan.start.strftime("%Y-%m"),
        seed=seed, arrival_months=ARRIVAL_MONTHS,
    )  # fmt: skip
    with console.status(f"simulating {enterprises} enterprises × {plan.months} months…"):
        sim = simulate(config, settings.lake)
    console.print(
        f"[green]✓[/] 模拟柯桥纺织集群 simulated cluster: {sim.enterprises} enterprises, "
        f"{sim.total_rows:,} raw rows in {len(sim.rows)} sources, {sim.defaults} defaults (truth) "
        f"in {sim.seconds:.1f} s"
    )
    key = pii_key(settings)
    with console.status("ingesting: validate, quarantine, consent, entity resolution, news…"):
        summary = ingest(
            settings.lake,
            LakePaths(settings.home),
            pii_key=key,
            as_of=plan.business_date,
            truth=settings.lake / "truth",
            clock=lambda: datetime.now(UTC),
        )
    _print_summary(summary)


def stage_features(settings: Settings, plan: DemoPlan) -> None:
    """Point-in-time snapshot for the decision date and one enterprise's profile."""
    from loomcredit.entrypoints.cli.commands_features import demo_stage

    _header("3 · 企业画像 Enterprise profile (point in time)")
    demo_stage(settings.home, plan.as_of)


def stage_models(settings: Settings, plan: DemoPlan) -> None:
    """Training set from monthly snapshots, scorecard + challenger, the champion promoted."""
    from loomcredit.entrypoints.cli.commands_models import _print_card
    from loomcredit.pipeline.features.training import build_training_set
    from loomcredit.pipeline.schemas import LakePaths
    from loomcredit.scoring.registry import promote
    from loomcredit.scoring.train import train_models

    _header("4 · 信用评分 Credit scoring (PD model with reasons)")
    first, last = plan.training
    with console.status(f"building the training set {first:%Y-%m}..{last:%Y-%m}…"):
        folder = build_training_set(LakePaths(settings.home), first, last)
    now = datetime.now(UTC)
    name = f"demo-{now:%Y%m%d-%H%M%S}"
    with console.status("training the scorecard and the LightGBM challenger…"):
        card = train_models(
            folder,
            target="default_12m",
            time_col="as_of",
            id_col="uscc",
            out_dir=settings.models_dir / name,
            name=name,
            trained_at=now.isoformat(timespec="seconds"),
        )
    _print_card(card)
    promote(settings.models_dir, name)
    console.print(
        f"冠军模型 champion: {name} · 报告 report: {settings.models_dir / name / 'report.html'}"
    )


def _offers(records: list[DecisionRecord]) -> list[Offer]:
    """A handful of the cluster's offers, taken up as applications: the engine decides again at
    origination, so auto-approvals, manual reviews and a decline all go through the workflow."""
    from loomcredit.domain.decision.bands import Band
    from loomcredit.entrypoints.cli.demo_lending import Offer

    picked: list[Offer] = []
    for band, n in ((Band.AUTO_APPROVE, 5), (Band.REVIEW, 3), (Band.DECLINE, 1)):
        for r in [r for r in records if r.band is band][:n]:
            amount = r.offer_amount if r.offer_amount.minor > 0 else r.application.amount
            picked.append(Offer(r.application.uscc, amount, 12))
    return picked


def stage_lending(settings: Settings, plan: DemoPlan, records: list[DecisionRecord]) -> None:
    """Lines, drawdowns through four eyes, auto-debits and a statement, months of end of day."""
    from loomcredit.bootstrap.service import build_service
    from loomcredit.domain.delinquency import Grade
    from loomcredit.domain.ledger import Account
    from loomcredit.domain.money import Money
    from loomcredit.entrypoints.cli.demo_lending import run_demo_lending

    _header("6 · 授信、用信、放款与贷后 Lines, drawdowns, money from the bank, end of day")
    svc = build_service(settings)
    with console.status("lending: review, lines, drawdowns, auto-debits, statement, end of day…"):
        book = run_demo_lending(
            svc,
            offers=_offers(records),
            start=plan.as_of,
            months=LENDING_MONTHS,
            bank_root=Path(settings.home) / "bank",
        )
    table = Table("", "count", title="贷款账簿 Loan book")
    table.add_row("申请 applications", str(book.applications))
    table.add_row("自动通过 auto-approved", str(book.auto_approved))
    table.add_row("人工复核通过 approved on review (maker-checker)", str(book.reviewed))
    table.add_row("拒绝 declined", str(book.declined))
    table.add_row("授信额度 credit lines opened", str(book.lines))
    table.add_row(
        "用信 drawdowns (four eyes) · one line drawn twice", f"{book.loans} · {book.drawn.format()}"
    )
    methods = "  ".join(f"{m}: {n}" for m, n in sorted(book.by_method.items()))
    table.add_row("还款方式 repayment plans booked", methods)
    table.add_row(
        "代扣 auto-debits paid / failed (an overdue loan is debited again each day)",
        f"{book.debits_paid} / {book.debits_failed}",
    )
    table.add_row("对账单入账 statement lines booked", str(book.statement_booked))
    table.add_row("提前还款 early repayments asked (partial, full)", str(book.prepayments))
    table.add_row("结清 loans closed", str(book.closed))
    table.add_row("日终 end-of-day runs", str(book.eod_days))
    table.add_row("余额 outstanding", book.outstanding.format())
    tb = book.trial_balance
    zero = Money.zero()
    table.add_row(
        "利息收入 interest income (accrued)", (-tb.get(Account.INTEREST_INCOME, zero)).format()
    )
    table.add_row(
        "应收利息 interest receivable", tb.get(Account.INTEREST_RECEIVABLE, zero).format()
    )
    table.add_row("罚息收入 penalty income", (-tb.get(Account.PENALTY_INCOME, zero)).format())
    table.add_row("待查款项 unidentified receipts", (-tb.get(Account.UNIDENTIFIED, zero)).format())
    grades = "  ".join(
        f"{Grade(g).label_zh} {Grade(g).label_en}: {n}" for g, n in sorted(book.by_grade.items())
    )
    table.add_row("五级分类 five-grade classification", grades)
    balanced = sum(m.minor for m in tb.values()) == 0
    table.add_row(
        "试算平衡 trial balance", "[green]balanced 平衡[/]" if balanced else "[red]OFF[/]"
    )
    table.add_row(
        "对账 reconciliation", "[green]平 balanced[/]" if book.reconciled else "[red]OFF[/]"
    )
    console.print(table)
    queue = Table(
        "#",
        "bank ref",
        "value date",
        "payer",
        "amount",
        "why 原因",
        title="挂账待处理 Exceptions queue (loom payments exceptions)",
    )
    for e in book.exceptions:
        queue.add_row(
            str(e.line_id),
            e.line.bank_ref,
            e.line.value_date.isoformat(),
            e.line.counterparty,
            e.line.amount.format(),
            f"{e.outcome.label_zh}: {e.reason}",
        )
    console.print(queue)
    svc.engine.dispose()
    if book.last_day is not None:
        stage_monitor(settings, book.last_day)
        stage_limit_review(settings, book.last_day)
        stage_new_data(settings, _month_end(plan.last_month))
        stage_collections(settings, book, Path(settings.home) / "bank")


def stage_monitor(settings: Settings, as_of: date) -> None:
    """The warning rules over the borrowers with an open line, alerts raised and queued."""
    from loomcredit.bootstrap.service import build_service
    from loomcredit.domain.daycount import add_months
    from loomcredit.entrypoints.cli.commands_monitor import print_alerts, print_evaluation
    from loomcredit.service_layer.monitoring import monitor
    from loomcredit.service_layer.users import Role, User

    _header(f"7 · 贷后监控与预警 Post-loan monitoring and early warning · {as_of}")
    svc = build_service(settings)
    features, rules = svc.monitoring()
    rm = User("demo_risk_manager", Role.RISK_MANAGER)
    with console.status("monitoring: features and warning rules per borrower…"), svc.uow() as uow:
        run = monitor(uow, rm, features, rules, as_of=as_of, now=svc.clock())
        uow.commit()
    console.print(
        f"{run.borrowers} borrowers checked (rules {run.rules_version}) · alerts raised "
        f"{len(run.raised)} · without data {len(run.without_data)} · "
        "work them with `loom alerts list|ack|action|close`"
    )
    print_alerts(list(run.raised), "预警队列 Alerts raised (loom alerts list)")
    if run.lines_frozen:
        console.print(
            f"[red]额度已自动冻结 {len(run.lines_frozen)} line(s) frozen at once[/] by red "
            "court / 失信 / NPL alerts (policy action `freeze`): "
            + ", ".join(f"line {i}" for i in run.lines_frozen)
            + " — a person confirms or lifts: `loom alerts freeze ID --confirm|--lift --comment …`"
        )
    # How well the rules warn on this cluster: the last 12 complete months, against the defaults
    # the simulator recorded, beside the same rules judged on the previous three months (环比).
    last = add_months(as_of.replace(day=1), -1)
    print_evaluation(Path(settings.home), [add_months(last, -i) for i in range(12)])
    console.print(
        "同比 seasonal = the house rules (year on year, Spring Festival shift taken out); "
        "环比 naive = the same rules on the previous three months. Any window: "
        "`loom monitor --evaluate --from YYYY-MM --to YYYY-MM`; figures in "
        "docs/monitoring-evaluation.md"
    )
    svc.engine.dispose()


def stage_new_data(settings: Settings, feed_end: date) -> None:
    """Months of new data arrive for the borrowers (see ``demo_new_data``): batches taken through
    the ingest's gate, the borrowers monitored at each; a sales collapse and an enforcement case
    raised (the line frozen), a Spring Festival trough not raised."""
    from loomcredit.adapters.warning_rules import ProfileWarningRules
    from loomcredit.bootstrap.service import build_service
    from loomcredit.domain.credit_line import LineStatus
    from loomcredit.entrypoints.cli.commands_monitor import print_alerts
    from loomcredit.entrypoints.cli.demo_new_data import BASELINE_RULES, run_story, sales_of
    from loomcredit.service_layer.intake import Batch, Received, receive_all
    from loomcredit.service_layer.users import Role, User

    svc = build_service(settings)
    with svc.uow() as uow:
        active = sorted((ln for ln in uow.lines.find() if ln.status is LineStatus.ACTIVE),
                        key=lambda ln: ln.line_id)  # fmt: skip
    firms = list(dict.fromkeys(ln.terms.uscc for ln in active))
    if len(firms) < 2:
        console.print("fewer than two active lines: no new-data story")
        return
    features, rules = svc.monitoring()
    ops = User("demo_operations", Role.OPERATIONS)

    def take(batches: Sequence[Batch], now: datetime) -> Received:
        with svc.uow() as uow:
            return receive_all(uow, ops, svc.intake(), batches, features, rules, now=now)

    with console.status("new data arrives: batches through the gate, borrowers monitored…"):
        story = run_story(Path(settings.home), firms, feed_end, take)
    first = feed_end + timedelta(days=1)
    _header(f"9 · 新数据实时接入 Months of new data · {first} → {story.days[-1]}")
    table = Table("date 日期", "source 来源", "rows", "taken 接收", "", title="到达批次 Batches "
                  "(POST /api/v1/data/{source} · loom watch · loom watch --broker)")  # fmt: skip
    for day, source, rows, taken, said in story.taken:
        table.add_row(day.isoformat(), source, str(rows), str(taken),
                      said[:70])  # fmt: skip
    console.print(table)
    day = story.days[-1]
    seasonal = rules if isinstance(rules, ProfileWarningRules) else ProfileWarningRules()
    last = add_months(day.replace(day=1), -1)  # the last month whose invoices are in by the day
    months = [add_months(last, -k) for k in range(5, -1, -1)]  # the two quarters before it
    trough = None
    with svc.uow() as uow:
        alerted = {a.uscc for a in uow.alerts.find() if a.rule in BASELINE_RULES}
    for firm in firms[2:]:
        if firm in alerted:
            continue  # raised on a sales, power or steam baseline at some point: not a trough
        house = {h.rule for h in seasonal.warnings(features.get(firm, day), day)}
        sales = sales_of(Path(settings.home), firm, months)
        before, now_ = sum(sales[:3]), sum(sales[3:])
        seq = now_ / before - 1 if before else 0.0
        if seq <= -0.3 and not house & set(BASELINE_RULES):
            trough = (firm, seq, features.get(firm, day).get("sales_yoy_3m"))
            break
    said = Table("borrower 企业", "what happened 发生了什么", "alerts 预警", "evidence 依据",
                 title=f"预警与未预警 Raised and not raised, by {day}")  # fmt: skip
    for firm, what in ((story.collapsed, f"销售骤降 invoices at {COLLAPSE_PCT} of normal"),
                       (story.court, "被执行 an enforcement case filed")):  # fmt: skip
        mine = [a for a in story.raised if a.uscc == firm]
        said.add_row(firm, what, ", ".join(sorted({a.rule for a in mine})) or "—",
                     "; ".join(sorted({a.evidence[0].message_zh for a in mine}))[:160])  # fmt: skip
    if trough is not None:
        firm, seq, yoy = trough
        said.add_row(firm, "春节淡季 its usual Spring Festival trough",
                     "[green]none 未预警[/] (seasonal 同比)",
                     f"sales {months[3]:%Y-%m}..{months[5]:%Y-%m} 同比 {_pct(yoy)} (no alert); "
                     f"环比 {_pct(seq)} against the quarter before — a month-on-month rule "
                     "would have raised SALES_DROP")  # fmt: skip
    console.print(said)
    if story.raised:
        print_alerts(story.raised, "新数据触发的预警 Alerts the new data raised")
    for line_id in story.frozen:
        console.print(
            f"[red]额度已冻结 line {line_id} frozen at once[/] — the officer confirms, a risk "
            "manager may lift it: `loom alerts freeze ID --confirm|--lift --comment …`"
        )
    svc.engine.dispose()


#: Days the demo services on at most, for the defaulter's case to reach M3+ (over 90 DPD).
COLLECTION_DAYS_MAX = 60


def stage_collections(settings: Settings, book: DemoBook, bank_root: Path) -> None:
    """Reminders delivered to the late payer before and after its due date, its case cured; the
    defaulter's broken promise, its case rolling to M3+ and handed to legal through four eyes;
    the collection figures of the demo book."""
    from loomcredit.bootstrap.service import build_service
    from loomcredit.domain.collections import CaseBucket
    from loomcredit.domain.contacts import Channel
    from loomcredit.entrypoints.cli.commands_collection_report import print_figures
    from loomcredit.entrypoints.cli.demo_lending import serve_on
    from loomcredit.entrypoints.collection_report import figures_html
    from loomcredit.service_layer import approvals, case_work
    from loomcredit.service_layer.collection_report import collection_report
    from loomcredit.service_layer.users import Role, User

    if book.late_payer is None or book.promise_case is None:
        console.print("no late payer or no promise in the demo book: no collections story")
        return
    svc = build_service(settings)
    with console.status("servicing on until the defaulter's case is M3+ (over 90 days)…"):
        for _ in range(COLLECTION_DAYS_MAX):
            with svc.uow() as uow:
                case = uow.cases.get(book.promise_case)
            if case is None or case.bucket is CaseBucket.M3_PLUS or not case.is_open:
                break
            serve_on(svc, days=1, bank_root=bank_root, book=book)
    _header(f"10 · 还款提醒与催收 Reminders and collections · to {book.last_day}")
    with svc.uow() as uow:
        (loan,) = uow.loans.find(uscc=book.late_payer)
        sent = sorted(uow.notices.find(loan_id=loan.loan_id, limit=5000),
                      key=lambda d: d.delivery_id)  # fmt: skip
        late_cases = uow.cases.find(uscc=book.late_payer, open_only=False)
    table = Table("期次 #", "通知 notice", "日期 for", "渠道 channel", "状态 status",
                  "主题 subject", title=f"还款提醒 Notices to {book.late_payer} (paid 5 days "
                  f"late, on {book.late_paid_on})")  # fmt: skip
    shown = [d for d in sent if d.installment == 1
             and (d.channel is Channel.INBOX or d.kind == "D1")]  # fmt: skip
    for d in shown:
        table.add_row(str(d.installment), d.kind, d.created_for.isoformat(), d.channel.value,
                      d.status.value + (f" ({d.last_error[:40]})" if d.last_error else ""),
                      d.subject[:48])  # fmt: skip
    console.print(table)
    console.print(
        f"送达 delivered {book.notices_delivered} · 失败 failed {book.notices_failed} — e-mail and "
        "SMS go out once LOOM_SMTP_HOST / LOOM_SMS_URL are set; the console inbox always delivers"
    )
    for c in late_cases:
        console.print(f"催收案件 case {c.case_id}: opened {c.opened_on} in {c.moves[0].to_bucket}, "
                      f"closed {c.closed_on} as {c.close_reason} 已回正")  # fmt: skip
    risk, risk2 = User("demo_risk_manager", Role.RISK_MANAGER), User(
        "demo_risk_manager2", Role.RISK_MANAGER)  # fmt: skip
    with svc.uow() as uow:
        case = uow.cases.get(book.promise_case)
        if case is None:
            return
        collector = User(case.collector, Role.COLLECTOR)
        escalated = ""
        if case.is_open and case.bucket is CaseBucket.M3_PLUS:
            why = "逾期超90天，承诺还款未履行"
            (req,) = case_work.escalate(uow, collector, case.case_id, to="legal", reason=why,
                                        now=svc.clock())  # fmt: skip
            approvals.approve(uow, risk2 if req.requested_by == risk.name else risk,
                              req.request_id, now=svc.clock(), comment="同意移交法务")  # fmt: skip
            uow.commit()
            escalated = f"移交诉讼 handed to legal (approval {req.request_id}, four eyes)"
        case = uow.cases.get(book.promise_case) or case
    moves = " → ".join(f"{m.to_bucket} {m.on}" for m in case.moves)
    story = Table("", "", title=f"催收案件 Case {case.case_id} · {case.uscc} (debits always fail)")
    story.add_row("迁徙 buckets", moves)
    for a in case.activities:
        story.add_row(f"{a.kind} {a.at:%Y-%m-%d}", f"{a.outcome} by {a.by} {a.note}")
    for p in case.promises:
        story.add_row(f"承诺 promise {p.made_on}", f"{p.amount.format()} by {p.due_on}: {p.status}")
    story.add_row("优先级 priority (expected loss, fen)", f"{case.priority_fen:,}")
    story.add_row("升级 escalation", escalated or f"{case.bucket}: not yet M3+")
    story.add_row("状态 status", f"{case.status} {case.close_reason or ''} {case.closed_on or ''}")
    console.print(story)
    day = book.last_day or case.last_seen_on
    with svc.uow() as uow:
        figures = collection_report(uow, risk, as_of=day, months=6)
    print_figures(figures, day)
    out = Path(settings.home) / "reports" / "collections.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(figures_html(figures), encoding="utf-8")
    console.print(f"催收指标 collection figures with charts: {out} · loom collections report")
    svc.engine.dispose()


def _pct(value: object) -> str:
    return "—" if not isinstance(value, int | float) else f"{value:+.0%}"


def stage_limit_review(settings: Settings, as_of: date) -> None:
    """The month-end limit review: every open line recomputed for the coming month."""
    from loomcredit.bootstrap.service import build_service
    from loomcredit.entrypoints.cli.commands_lines import print_review
    from loomcredit.service_layer.limit_review import review_limits
    from loomcredit.service_layer.users import Role, User

    month_end = as_of if as_of == _month_end(as_of) else as_of.replace(day=1) - timedelta(days=1)
    _header(f"8 · 额度动态调整 Monthly limit review · {month_end}")
    svc = build_service(settings)
    rm = User("demo_risk_manager", Role.RISK_MANAGER)
    with console.status("limit review: decision again on the latest features and PD…"), \
            svc.uow() as uow:  # fmt: skip
        run = review_limits(uow, rm, svc.decider, svc.review_policy(), as_of=month_end,
                            now=svc.clock())  # fmt: skip
        uow.commit()
    print_review(run)
    console.print(
        "within ±10 % applies itself; larger changes wait under /approvals for "
        "demo_risk_manager2 (`loom lines reviews`, `GET /api/v1/limit-reviews`)"
    )
    svc.engine.dispose()


def demo(
    enterprises: Annotated[int, typer.Option(help="Enterprises in the simulated cluster.")] = 2000,
    months: Annotated[int, typer.Option(help="Months of history to simulate.")] = 36,
    start: Annotated[str, typer.Option(help="First simulated month, YYYY-MM.")] = "2023-01",
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same cluster).")] = 7,
    serve: Annotated[bool, typer.Option(help="Leave the service running at the end.")] = True,
    port: Annotated[int, typer.Option(help="Port for the service and console.")] = 8000,
) -> None:
    """演示 Run the whole chain on a simulated Keqiao textile cluster (embedded defaults).

    Clears and reuses LOOM_HOME (./.loom under make demo); refuses a folder it did not make.
    """
    from loomcredit.config import get_settings
    from loomcredit.entrypoints.cli.commands_decide import stage_decisions

    plan = DemoPlan.parse(start, months)
    settings = get_settings()
    home = Path(settings.home).resolve()
    _prepare_home(home)
    began = time.perf_counter()
    stage_domain()
    stage_lake(settings, plan, enterprises, seed)
    stage_features(settings, plan)
    stage_models(settings, plan)
    _header(f"5 · 授信决策与风险定价 Decisions and risk pricing · {plan.as_of}")
    records = stage_decisions(plan.as_of)
    stage_lending(settings, plan, records)
    console.print(
        f"\n[green]demo finished in {time.perf_counter() - began:.1f} s[/] · LOOM_HOME={home}"
    )
    if serve:
        from loomcredit.entrypoints.cli.commands_service import serve as run_server

        console.print(
            f"控制台 console: http://127.0.0.1:{port}/console · API docs: "
            f"http://127.0.0.1:{port}/docs\n"
            "demo users 演示用户: demo_officer, demo_reviewer, demo_risk_manager, demo_operations, "
            "demo_collector, demo_auditor, demo_admin (and demo_reviewer2, demo_risk_manager2, "
            "demo_admin2 for four eyes) · password 密码: loom-demo-2026 · Ctrl-C to stop\n"
            f"营业日期 business date: {plan.business_date} (the day after the last end of day; "
            "applications without as_of are decided on it)"
        )
        run_server(host="127.0.0.1", port=port)


def register(app: typer.Typer) -> None:
    """Add `loom demo` to the CLI."""
    app.command("demo")(demo)
