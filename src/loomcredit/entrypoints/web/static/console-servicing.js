"use strict";
// Loom lending console, part 2: approvals (four eyes), credit lines and drawdowns, loans (payoff
// quote, early repayment, write-off request), the exceptions queue and reconciliation. Uses the
// helpers of part 1 (console.js), loaded first.

// -- approvals ----------------------------------------------------------------------------------
const KIND = { disbursement: "Disbursement", write_off: "Write-off", reversal: "Reversal of a write-off",
  back_value: "Back-valued receipt", role_grant: "Role grant", line_reduction: "Line reduction",
  limit_review: "Monthly limit review", call_in: "Call-in (loans due early)",
  restructure: "Restructuring (extension / new plan)" };

function orderOf(r) {
  const o = r.order || {};
  if (r.kind === "disbursement") return el("span", {}, link("/console/lines/" + o.line_id, `额度 Line #${o.line_id}`), ` · ${money(o.amount)}`);
  if (r.kind === "role_grant") return `用户 User ${o.user} → ${ROLE[o.role] || o.role}${o.enterprise_uscc ? " · " + o.enterprise_uscc : ""}`;
  if (r.kind === "line_reduction") return el("span", {}, link("/console/lines/" + o.line_id, `额度 Line #${o.line_id}`),
    ` → ${money(o.new_limit)}${o.alert_id ? ` · 预警 alert #${o.alert_id}` : ""}`);
  if (r.kind === "call_in") return el("span", {}, link("/console/lines/" + o.line_id, `额度 Line #${o.line_id}`),
    ` · 全部贷款提前到期 every loan due now${o.alert_id ? ` · 预警 alert #${o.alert_id}` : ""}`);
  if (r.kind === "limit_review") return el("span", {}, link("/console/lines/" + o.line_id, `额度 Line #${o.line_id}`),
    ` → ${money(o.new_limit)} · 额度复核 review #${o.review_id}`);
  const loan = link("/console/loans/" + o.loan_id, `贷款 Loan #${o.loan_id}`);
  if (r.kind === "reversal") return el("span", {}, loan, ` · 分录 entry ${o.entry_id}`);
  if (r.kind === "back_value") return el("span", {}, loan, ` · ${money(o.amount)} · 起息 value ${o.value_date} · ${o.bank_ref}`);
  if (r.kind === "restructure") return el("span", {}, loan, ` · ${o.kind_zh} ${o.kind} ${o.months}` +
    `${o.method ? " · " + o.method : ""}${o.first_due ? " · 首期 first due " + o.first_due : ""}`);
  return loan;
}

// What carrying out an approval produced, said with a link where there is one.
function resultOf(r) {
  const [what, id] = String(r.result || "").split(":");
  if (what === "loan" && r.kind === "restructure") return el("span", {}, `已批准并重组 Approved and restructured: `,
    link("/console/loans/" + id, `贷款 Loan #${id}`));
  if (what === "loan") return el("span", {}, `已批准并放款 Approved and paid out: `, link("/console/loans/" + id, `贷款 Loan #${id}`));
  if (what === "user") return `已批准，用户 ${id} 已授权 Approved: user ${id} has the role.`;
  const done = { limit_review: `已批准并调整 Approved and adjusted: `, call_in: `已批准，贷款已提前到期 Approved, loans called in: ` };
  if (what === "line") return el("span", {}, done[r.kind] || `已批准并压降 Approved and reduced: `,
    link("/console/lines/" + id, `额度 Line #${id}`));
  return `已批准 Approved (${r.result})`;
}

function decide(r, verb) {
  const note = $("decide-comment-" + r.id);
  return act(async () => {
    const comment = note ? note.value : "";
    if (verb === "reject" && !comment.trim()) {
      note.focus();
      throw new Error("拒绝需填写意见 A rejection needs a comment.");
    }
    const out = await post(`/api/v1/approvals/${r.id}/${verb}`, verb === "cancel" ? {} : { comment });
    await load();
    if (verb === "approve") return resultOf(out);
    return verb === "reject" ? `已拒绝 #${r.id} Rejected.` : `已撤回 #${r.id} Withdrawn.`;
  });
}

// The requester only withdraws its own request; anyone else listed may approve or reject it.
function approvalActions(r) {
  if (r.requested_by === me().name) {
    return el("div", { class: "actions" }, el("span", { text: "等待他人审批 Waiting for another person " }),
      button("撤回 Withdraw", { id: "cancel-" + r.id, "aria-label": `撤回 Withdraw #${r.id}` }, () => decide(r, "cancel")));
  }
  return el("div", { class: "actions" },
    el("label", {}, "意见 Comment ", el("input", { id: "decide-comment-" + r.id, size: "14" })),
    button("批准 Approve", { id: "approve-" + r.id, "aria-label": `批准 Approve #${r.id}` }, () => decide(r, "approve")),
    button("拒绝 Reject", { id: "reject-" + r.id, "aria-label": `拒绝 Reject #${r.id}` }, () => decide(r, "reject")));
}

const approvalCells = (r) => ["#" + r.id, `${r.kind_zh} ${KIND[r.kind] || r.kind}`, orderOf(r),
  `${r.requested_by} · ${String(r.requested_at).slice(0, 10)}`, r.reason || "—", approvalActions(r)];

async function showApprovals(target = "approvals", keep = () => true) {
  await section(target, async () => {
    const list = (await api("/api/v1/approvals")).filter(keep);
    rows($(target + "-rows"), list, approvalCells);
    return list.length;
  }, "暂无待审批 Nothing is waiting.");
}

// An applicant's own requests are drawdowns, each holding a reservation on its line: ask only then.
async function showMyRequests() {
  const lines = await api("/api/v1/lines");
  if (lines.some((l) => fen(l.reserved) > 0)) await showApprovals();
  else $("approvals").hidden = true;
}

// -- early-warning alerts (预警) -----------------------------------------------------------------
const LEVEL = { red: "Red", amber: "Amber", watch: "Watch" };
const ALERT_STATUS = { open: "Open", acknowledged: "Acknowledged", actioned: "Actioned", closed: "Closed" };

// What the user may do on an alert: its assignee or a risk manager works it; a freeze the monitor
// made waits for them to confirm it (a risk manager may lift it).
function alertActions(a) {
  const { name, role } = me();
  if (!(a.assignee === name || role === "risk_manager")) return "—";
  const note = el("input", { id: "alert-comment-" + a.id, size: "14" });
  const step = (label, verb, needsComment) => button(label, { id: `alert-${verb}-${a.id}`, "aria-label": `${label} #${a.id}` },
    () => act(async () => {
      if (needsComment && !note.value.trim()) { note.focus(); throw new Error("请填写说明 A comment is required."); }
      const path = verb.startsWith("freeze") ? "freeze" : verb;
      const body = path === "freeze" ? { decision: verb === "freeze-lift" ? "lift" : "confirm", comment: note.value } : { comment: note.value };
      const out = await post(`/api/v1/alerts/${a.id}/${path}`, body);
      await load();
      return `预警 #${out.id} ${out.status_zh} Alert ${ALERT_STATUS[out.status] || out.status}.`;
    }));
  const buttons = [];
  if (a.freeze_pending) {
    buttons.push(step("确认冻结 Confirm freeze", "freeze-confirm", true));
    if (role === "risk_manager") buttons.push(step("解除冻结 Lift freeze", "freeze-lift", true));
  } else {
    if (a.status === "open") buttons.push(step("确认 Acknowledge", "acknowledge", false));
    if (a.status !== "open") buttons.push(step("记录处置 Record action", "action", true));
  }
  buttons.push(step("关闭 Close", "close", true));
  return el("div", { class: "actions" }, el("label", {}, "说明 Comment ", note), ...buttons);
}

async function showAlerts() {
  await section("alerts", async () => {
    const mine = me().role === "officer" ? "?mine=true" : "";
    const list = await api("/api/v1/alerts" + mine);
    rows($("alerts-rows"), list, (a) => ["#" + a.id, `${a.level_zh} ${LEVEL[a.level] || a.level}`, a.uscc, a.rule,
      a.evidence.map((e) => e.message_zh).join("；"), a.last_seen,
      `${a.status_zh} ${ALERT_STATUS[a.status] || a.status}`
        + (a.freeze_pending ? " · 额度已冻结待确认 Line frozen, waiting" : "") + (a.escalated_at ? " · ⚠ 已升级 Escalated" : ""),
      a.assignee || "—", alertActions(a)]);
    return list.length;
  }, "暂无预警 No open alerts.");
}

// -- credit lines -------------------------------------------------------------------------------
const loanCells = (l) => [link("/console/loans/" + l.id, "#" + l.id), l.uscc, money(l.principal), money(l.outstanding),
  l.dpd, GRADE[l.grade] || l.grade_zh, say(l.status_zh, l.status)];

async function showLines() {
  await section("lines", async () => {
    const list = await api("/api/v1/lines");
    rows($("lines-rows"), list, (l) => [link("/console/lines/" + l.id, "#" + l.id), l.uscc, money(l.limit),
      money(l.available), l.expires_on, say(l.status_zh, l.status)]);
    return list.length;
  }, "暂无授信额度 No credit lines.");
}

async function showLine(id) {
  const l = await api("/api/v1/lines/" + id);
  const { role } = me();
  show("line");
  $("line-id").textContent = "#" + l.id;
  const reduced = fen(l.limit) !== fen(l.original_limit) ? `（原 originally ${money(l.original_limit)}）` : "";
  facts($("line-facts"), [["企业 USCC", l.uscc], ["额度类型 Kind", say(l.kind_zh, l.kind)],
    ["状态 Status", say(l.status_zh, l.status) + (l.reason ? `（${l.reason}）` : "")],
    ["授信额度 Limit", money(l.limit) + reduced], ["已用 Drawn", money(l.utilised)],
    ["审批中占用 Reserved for requests waiting", money(l.reserved)],
    [`可用额度 Available (${l.as_of})`, money(l.available)], ["开立日 Opened", l.opened_on],
    ["到期日 Expires", l.expires_on], ["结算账户 Settlement account", l.settlement_account],
    ["授信申请 Application", link("/console/applications/" + l.application_id, "#" + l.application_id)]]);
  $("drawdown-form").hidden = !(["applicant", "officer"].includes(role) && l.status === "active");
  $("drawdown-form").dataset.line = l.id;
  $("manage-form").hidden = role !== "risk_manager" || l.status === "closed";
  $("manage-form").dataset.line = l.id;
  $("freeze").hidden = l.status !== "active";
  $("unfreeze").hidden = l.status !== "frozen";
  rows($("line-loans"), l.loans, loanCells);
  $("line-loans-msg").textContent = l.loans.length ? "" : "尚未用信 Nothing drawn yet.";
  if (fen(l.reserved) > 0) await showApprovals("line-requests", (r) => r.subject === "line:" + l.id);
  else $("line-requests").hidden = true;
}

$("drawdown-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  act(async () => {
    const p = await api(`/api/v1/lines/${$("drawdown-form").dataset.line}/plan?amount=`
      + encodeURIComponent(amountIn("draw-amount").amount));
    show("plan");
    facts($("plan-facts"), [["还款方式 Method", METHOD[p.method] || `${p.label_zh} ${p.method}`],
      ["还款计划 Plan", (p.seasonal ? "季节性 Seasonal · " : "") + `${p.reason_zh} / ${p.reason_en}`],
      ["利息合计 Total interest", money(p.total_interest)], ["期数 Instalments", p.schedule.length]]);
    rows($("plan-rows"), p.schedule, (i) => [i.number, i.due_on, money(i.principal), money(i.interest), money(i.payment)]);
  }, "试算如下（起息日为营业日期）Preview below (starting on the business date).");
});
$("draw").addEventListener("click", () => act(async () => {
  const btn = $("draw");
  btn.disabled = true; // one request per click: a fresh Idempotency-Key each time
  try {
    const req = await post(`/api/v1/lines/${$("drawdown-form").dataset.line}/drawdowns`,
      { amount: amountIn("draw-amount") }, { "Idempotency-Key": crypto.randomUUID() });
    await load();
    return `用信申请 #${req.id}（${money(req.order.amount)}）已提交，等待运营放款审核。 `
      + `Drawdown request #${req.id} sent; operations approves it before the money is paid out.`;
  } finally {
    btn.disabled = false;
  }
}));
for (const verb of ["freeze", "unfreeze"]) {
  $(verb).addEventListener("click", () => act(async () => {
    const reason = $("manage-reason");
    if (!reason.value.trim()) { reason.focus(); throw new Error("请填写原因 A reason is required."); }
    await post(`/api/v1/lines/${$("manage-form").dataset.line}/${verb}`, { reason: reason.value });
    reason.value = "";
    await load();
  }, verb === "freeze" ? "额度已冻结 The line is frozen." : "额度已解冻 The line is unfrozen."));
}

// -- loans --------------------------------------------------------------------------------------
async function showLoans() {
  await section("loans", async () => {
    const list = await api("/api/v1/loans");
    rows($("loans-rows"), list, loanCells);
    return list.length;
  }, "暂无贷款 No loans.");
}

const SOURCE = { auto_debit: "代扣 Auto-debit", statement: "对账单 Statement", assigned: "挂账认领 Assigned",
  back_valued: "倒起息 Back-valued", legacy: "历史 Legacy" };

async function showLoan(id) {
  const l = await api("/api/v1/loans/" + id);
  const { role } = me();
  const active = l.status === "active";
  // 提前还款试算: what repaying everything on the business date costs (active loans only)
  const q = active ? await api(`/api/v1/loans/${id}/payoff`) : null;
  show("loan");
  $("loan-id").textContent = "#" + l.id;
  facts($("loan-facts"), [["状态 Status", say(l.status_zh, l.status)], ["企业 USCC", l.uscc],
    ["授信额度 Line", link("/console/lines/" + l.line_id, "#" + l.line_id)], ["还款附言 Loan reference", l.reference],
    ["本金 Principal", money(l.principal)], ["未还本金 Outstanding", money(l.outstanding)],
    ["年利率 Annual rate", pct(l.annual_rate)], ["还款方式 Method", METHOD[l.method] || l.method],
    ["起息日 Start", l.start_date], ["逾期天数 DPD", l.dpd], ["五级分类 Grade", GRADE[l.grade] || l.grade],
    ["账龄 Bucket", l.bucket], ["本期应计利息 Interest accrued this period", money(l.accrued_interest)],
    ["应计罚息复利 Penalty and compound accrued", money(l.accrued_penalty)], ["暂收款 Held in suspense", money(l.suspense)]]);
  $("payoff").hidden = !q;
  if (q) {
    facts($("payoff-facts"), [["提前结清 Payoff on " + q.on, money(q.payoff)], ["已到期应还 Due now", money(q.due)],
      ["未到期本金 Principal not yet due", money(q.principal_not_due)], ["利息至今 Interest to date", money(q.interest_to_date)],
      ["暂收款抵扣 Held in suspense (counts towards it)", money(q.held_in_suspense)]]);
  }
  $("prepay").hidden = !(role === "applicant" && active);
  $("prepay").dataset.loan = l.id;
  $("prepay").dataset.reference = l.reference;
  $("writeoff-form").hidden = !(role === "risk_manager" && active);
  $("writeoff-form").dataset.loan = l.id;
  rows($("loan-rows"), l.installments, (i) => [i.number, i.due_on, money(i.principal), money(i.interest), money(i.principal_paid)]);
  const receipts = await api(`/api/v1/loans/${id}/receipts`);
  rows($("receipt-rows"), receipts, (r) => [r.bank_ref, r.booked_on, money(r.amount), money(r.principal),
    money(r.interest), money(r.penalty), money(r.suspense), SOURCE[r.source] || r.source]);
  $("receipt-msg").textContent = receipts.length ? "" : "暂无还款 Nothing received yet.";
}

$("prepay-all").addEventListener("click", () => act(async () => {
  const id = $("prepay").dataset.loan;
  const r = await post(`/api/v1/loans/${id}/prepayment-requests`, {});
  const ref = $("prepay").dataset.reference;
  const note = $("prepay-note");
  note.hidden = false;
  note.textContent = `提前还款申请 #${r.id}：${r.on} 应还 ${money(r.quote.payoff)}。款项将由当日代扣划转，`
    + `或请以附言 ${ref} 转账。 Early repayment request #${r.id}: ${money(r.quote.payoff)} on ${r.on}; ${r.note}.`;
  return "已登记提前还款申请 Early repayment asked for.";
}));
$("writeoff-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  act(async () => {
    const reason = $("writeoff-reason");
    const r = await post(`/api/v1/loans/${$("writeoff-form").dataset.loan}/write-off`, { reason: reason.value });
    reason.value = "";
    return `核销申请 #${r.id} 已提交，等待另一位风险经理批准。 Write-off request #${r.id} sent; another risk manager approves it.`;
  });
});

// -- money from the bank: the exceptions queue and reconciliation --------------------------------
function resolveForm(e) {
  const loanId = el("input", { id: "exc-loan-" + e.id, inputmode: "numeric", size: "6", value: e.loan_id ?? "" });
  const note = el("input", { id: "exc-comment-" + e.id, size: "14" });
  const done = async (said) => { await load(); return said; };
  return el("div", { class: "actions" },
    el("label", {}, "贷款编号 Loan no. ", loanId), el("label", {}, "意见 Comment ", note),
    button("认领到贷款 Assign", { id: "assign-" + e.id, "aria-label": `认领 Assign #${e.id}` }, () => act(async () => {
      if (!/^\d+$/.test(loanId.value.trim())) { loanId.focus(); throw new Error("请填写贷款编号 Enter the loan number."); }
      const r = await post(`/api/v1/payments/exceptions/${e.id}/assign`,
        { loan_id: Number(loanId.value.trim()), comment: note.value });
      return done(`已认领 Assigned: ${money(r.amount)} → 贷款 Loan #${r.loan_id}（本金 principal ${money(r.principal)} · `
        + `利息 interest ${money(r.interest)} · 罚息 penalty ${money(r.penalty)} · 暂收 suspense ${money(r.suspense)}）`);
    })),
    button("退回付款人 Return", { id: "return-" + e.id, "aria-label": `退回 Return #${e.id}` }, () => act(async () => {
      if (!note.value.trim()) { note.focus(); throw new Error("退回需填写意见 Returning money needs a comment."); }
      await post(`/api/v1/payments/exceptions/${e.id}/return`, { comment: note.value });
      return done(`已退回 Returned: ${money(e.amount)} → ${e.counterparty}`);
    })));
}

async function showExceptions() {
  await section("exceptions", async () => {
    const list = await api("/api/v1/payments/exceptions");
    rows($("exceptions-rows"), list, (e) => ["#" + e.id, e.bank_ref, e.value_date, e.account, e.counterparty,
      money(e.amount), e.memo || "—", `${e.outcome_zh} ${EN[e.outcome] || e.outcome}: ${e.reason}`, resolveForm(e)]);
    return list.length;
  }, "暂无挂账 Nothing is waiting.");
}

async function showRecon() {
  await section("recon", async () => {
    const r = await api("/api/v1/payments/reconciliation");
    facts($("recon-facts"), [["起息日 Value date", r.value_date], ["流水笔数 Statement lines", r.lines],
      ["对账单合计 Statement total", money(r.statement_total)], ["已入账 Booked", money(r.booked)],
      ["待处理 Unmatched", money(r.unmatched)], ["已退回 Returned", money(r.returned)],
      ["核对 Check", r.balanced ? "平衡 Balanced ✓ (合计 = 已入账 + 待处理 + 已退回)" : "不平 Not balanced ✗"]]);
  });
}
