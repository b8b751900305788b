"use strict";
// Loom lending console: zh-CN first with English alongside; data from the JSON API, bearer token in
// sessionStorage. What each role sees follows the API's permissions (the API enforces them).
const $ = (id) => document.getElementById(id);
const api = async (path, opts = {}) => {
  const headers = { "Content-Type": "application/json" };
  const tok = sessionStorage.getItem("loom-token");
  if (tok) headers.Authorization = "Bearer " + tok;
  const r = await fetch(path, { ...opts, headers });
  const body = await r.json();
  if (!r.ok) throw new Error(body.detail || r.statusText);
  return body;
};
const grouped = (s) => s.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
const yuan = (text) => { const [i, f] = String(text).split("."); return "¥" + grouped(i) + (f ? "." + f : ""); };
const money = (m) => (m ? yuan(m.amount) : "—");
const fen = (n) => yuan((Number(n) / 100).toFixed(2));
const pct = (r) => (Number(r) * 100).toFixed(2) + "%";
const STATUS = { in_review: "审批中 In review", approved: "已批准 Approved", declined: "已拒绝 Declined",
  returned: "已退回 Returned", accepted: "已签约 Accepted", disbursed: "已放款 Disbursed",
  active: "正常还款 Active", closed: "已结清 Closed", written_off: "已核销 Written off" };
const BAND = { auto_approve: "自动通过 Auto-approve", review: "人工审批 Review", decline: "拒绝 Decline" };
const GRADE = { 1: "正常 Normal", 2: "关注 Special mention", 3: "次级 Substandard", 4: "可疑 Doubtful", 5: "损失 Loss" };
const METHOD = { annuity: "等额本息 Annuity", equal_principal: "等额本金 Equal principal",
  interest_only: "先息后本 Interest only", custom: "自定义本金计划 Custom (seasonal) plan" };
const say = (t) => t in STATUS ? STATUS[t] : t in BAND ? BAND[t] : t;
const REVIEWERS = ["reviewer", "risk_manager"];
const cell = (row, text) => { const td = document.createElement("td"); td.textContent = text; row.appendChild(td); };
const facts = (dl, pairs) => dl.replaceChildren(...pairs.flatMap(([k, v]) => {
  const dt = document.createElement("dt"); dt.textContent = k;
  const dd = document.createElement("dd"); dd.textContent = v;
  return [dt, dd];
}));
const items = (ul, texts, empty) => ul.replaceChildren(...(texts.length ? texts : [empty]).map((t) => {
  const li = document.createElement("li"); li.textContent = t; return li;
}));
const rows = (tbody, list, cells, onclick) => {
  tbody.replaceChildren();
  for (const x of list) {
    const tr = document.createElement("tr");
    cells(x).forEach((t) => cell(tr, t));
    if (onclick) { tr.classList.add("link"); tr.addEventListener("click", () => onclick(x)); }
    tbody.appendChild(tr);
  }
};
const appCells = (a, last) => [a.id, a.uscc, money(a.amount), a.term_months + " 月 mo", pct(a.annual_rate), last(a)];

async function showQueue() {
  const list = await api("/api/v1/review-queue");
  $("queue").hidden = false;
  $("queue-empty").hidden = list.length > 0;
  rows($("queue-rows"), list, (a) => appCells(a, (x) => say(x.band)), (a) => showApp(a.id));
}

async function showApps() {
  const list = await api("/api/v1/applications");
  $("apps").hidden = false;
  $("apps-empty").hidden = list.length > 0;
  rows($("apps-rows"), list, (a) => appCells(a, (x) => say(x.status)), (a) => showApp(a.id));
}

async function showLoans() {
  const list = await api("/api/v1/loans");
  $("loans").hidden = false;
  rows($("loans-rows"), list, (l) => [l.id, l.uscc, money(l.principal), money(l.outstanding), l.dpd,
    GRADE[l.grade] || l.grade, say(l.status)], (l) => { location.href = "/console/loans/" + l.id; });
}

function buildUp(d) {
  const rec = d.record || {};
  const p = rec.price || {};
  const out = [];
  if (p.lpr_1y) {
    out.push(["LPR 1Y（" + p.lpr_effective_on + " 起 from）", pct(p.lpr_1y)],
      ["预期损失 EL = PD × LGD", pct(p.expected_loss)], ["资金成本 Funding", pct(p.funding_spread)],
      ["运营成本 Operating", pct(p.operating_cost)], ["资本占用 Capital", pct(p.capital_charge)],
      ["利润 Margin", pct(p.margin)], ["执行年利率 Annual rate", pct(p.annual_rate)],
      ["年化综合成本 All-in", pct(p.all_in_rate) + " ≤ " + pct(p.all_in_ceiling)]);
  } else if (d.rate_build_up) {
    out.push(["LPR 1Y", pct(d.rate_build_up.lpr_1y)], ["利差 Spread", pct(d.rate_build_up.spread)]);
  }
  for (const c of (rec.limit && rec.limit.components) || []) out.push(["额度 " + c.name, money(c.amount) + " · " + c.basis]);
  if (rec.limit) out.push(["可贷额度 Limit（约束 binding: " + rec.limit.binding + "）", money(rec.limit.limit)]);
  else if (Number.isInteger(d.limit)) out.push(["可贷额度 Limit", fen(d.limit)]);
  return out;
}

async function showApp(id) {
  const a = await api("/api/v1/applications/" + id);
  const d = a.decision || {};
  const role = sessionStorage.getItem("loom-role");
  for (const s of ["queue", "apps", "loans"]) $(s).hidden = true;
  $("app").hidden = false;
  $("app-id").textContent = "#" + a.id;
  facts($("app-facts"), [["企业 USCC", a.uscc], ["申请金额 Amount asked", money(a.amount)],
    ["批准金额 Amount approved", money(a.approved)], ["期限 Term", a.term_months + " 月 months"],
    ["状态 Status", say(a.status)], ["决策 Band", say(a.band)],
    ["违约概率 PD", d.pd ?? "—"], ["年化利率 Annual rate", pct(a.annual_rate)],
    ["经办 Created by", a.created_by], ["最后修改 Last changed by", a.updated_by],
    ["审批人 Reviewed by", a.reviewed_by || "—"], ["审批意见 Comment", a.review_comment || "—"]]);
  items($("app-reasons"), [...(d.band_reasons || []), ...(d.reasons || [])], "—");
  const failed = ((d.record && d.record.rules) || []).filter((r) => r.status !== "pass");
  items($("app-rules"), failed.map((r) => `${r.reason_zh} / ${r.reason_en}: ${r.observed} (${r.threshold})`),
    "全部通过 All passed");
  rows($("app-build"), buildUp(d), (x) => x);
  const form = $("review-form");
  form.hidden = !(REVIEWERS.includes(role) && a.status === "in_review");
  form.dataset.app = a.id;
  if (!form.hidden) {
    const limit = Number.isInteger(d.limit) ? d.limit : null;
    const asked = Math.round(Number(a.amount.amount) * 100);
    $("approved").value = ((limit === null ? asked : Math.min(asked, limit)) / 100).toFixed(2);
  }
  await showContract(a, role);
}

async function showContract(a, role) {
  const box = $("contract");
  const offered = ["approved", "accepted", "disbursed"].includes(a.status);
  box.hidden = !(offered || (role === "applicant" && a.status === "declined"));
  $("accept").hidden = !(role === "applicant" && a.status === "approved");
  $("ask-person").hidden = !(role === "applicant" && ["approved", "declined"].includes(a.status));
  box.dataset.app = a.id;
  $("contract-body").hidden = !offered;
  if (!offered) return;
  const c = await api(`/api/v1/applications/${a.id}/contract`);
  $("contract-rate").textContent = c.annual_rate_percent;
  const plan = c.plan || {};
  facts($("contract-facts"), [["金额 Amount", money(c.amount)], ["利息合计 Total interest", money(c.total_interest)],
    ["罚息利率 Penalty rate", c.penalty_rate_percent], ["还款方式 Method", `${c.method_zh || ""} ${c.method}`.trim()],
    ["还款计划 Plan", (plan.seasonal ? "季节性 Seasonal · " : "") + `${plan.reason_zh || "—"} / ${plan.reason_en || "—"}`],
    ["起息日 Start", c.start_date],
    ["清偿顺序 Allocation order", c.allocation_order.components.join(" → ")]]);
  rows($("contract-rows"), c.schedule, (i) => [i.number, i.due_on, money(i.principal), money(i.interest), money(i.payment)]);
}

async function act(fn, done) {
  $("error").textContent = ""; $("notice").textContent = "";
  try { await fn(); $("notice").textContent = done; } catch (e) { $("error").textContent = e.message; }
}

for (const b of ["approve", "decline", "return"]) {
  $(b).addEventListener("click", () => act(async () => {
    const id = $("review-form").dataset.app;
    const body = { verdict: b, comment: $("comment").value };
    if (b === "approve") body.approved_amount = { amount: $("approved").value.replace(/[¥,\s]/g, ""), currency: "CNY" };
    await api(`/api/v1/applications/${id}/review`, { method: "POST", body: JSON.stringify(body) });
    await showApp(id);
  }, "已提交 Submitted"));
}
$("accept").addEventListener("click", () => act(async () => {
  const id = $("contract").dataset.app;
  await api(`/api/v1/applications/${id}/accept`, { method: "POST", body: "{}" });
  await showApp(id);
}, "合同已接受 Contract accepted"));
$("ask-person").addEventListener("click", () => act(async () => {
  const id = $("contract").dataset.app;
  await api(`/api/v1/applications/${id}/human-review`, { method: "POST", body: "{}" });
  await showApp(id);
}, "已转人工复核 Sent to a person"));

async function showLoan(id) {
  const l = await api("/api/v1/loans/" + id);
  // 提前还款试算: what repaying everything on the business date costs (active loans only)
  const q = l.status === "active" ? await api(`/api/v1/loans/${id}/payoff`) : null;
  $("loan").hidden = false;
  $("loan-id").textContent = "#" + l.id;
  facts($("loan-facts"), [["状态 Status", say(l.status)], ["未还本金 Outstanding", money(l.outstanding)],
    ["还款方式 Method", METHOD[l.method] || l.method],
    ["逾期天数 DPD", l.dpd], ["五级分类 Grade", GRADE[l.grade] || l.grade], ["账龄 Bucket", l.bucket],
    ["本期应计利息 Interest accrued this period", money(l.accrued_interest)],
    ["应计罚息复利 Penalty and compound accrued", money(l.accrued_penalty)],
    ...(q ? [["提前结清 Payoff on " + q.on, `${money(q.payoff)}（本金 principal ${money(q.principal_not_due)}`
      + ` + 利息至今 interest to date ${money(q.interest_to_date)} + 已到期 due ${money(q.due)}）`]] : [])]);
  rows($("loan-rows"), l.installments, (i) => [i.number, i.due_on, money(i.principal), money(i.interest), money(i.principal_paid)]);
}

async function render() {
  const page = document.body.dataset.page;
  const role = sessionStorage.getItem("loom-role");
  $("who").hidden = false;
  $("who-name").textContent = sessionStorage.getItem("loom-user") + " · " + role;
  try {
    $("login").hidden = true;
    if (page === "loan") return await showLoan(document.body.dataset.loan);
    if (REVIEWERS.includes(role)) await showQueue();
    else if (role !== "collector" && role !== "admin") await showApps();
    if (role !== "admin") await showLoans();
    else $("notice").textContent = "管理操作请用 API：/docs · Admin tasks are in the API at /docs";
  } catch (e) {
    $("error").textContent = e.message;
  }
}

$("signin").addEventListener("click", async () => {
  try {
    const t = await api("/api/v1/auth/token", { method: "POST",
      body: JSON.stringify({ username: $("user").value, password: $("pass").value }) });
    sessionStorage.setItem("loom-token", t.access_token);
    sessionStorage.setItem("loom-role", t.role);
    sessionStorage.setItem("loom-user", $("user").value);
    $("error").textContent = "";
    await render();
  } catch (e) {
    $("error").textContent = "登录失败 Sign-in failed: " + e.message;
  }
});
$("signout").addEventListener("click", () => { sessionStorage.clear(); location.href = "/console"; });
if (sessionStorage.getItem("loom-token")) render();
