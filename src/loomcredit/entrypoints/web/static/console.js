"use strict";
// Loom lending console, part 1: helpers, sign-in, the page router, applications (review queue,
// decision build-up, review, contract and signing). Part 2 (console-servicing.js): approvals,
// early-warning alerts, credit lines and drawdowns, loans, the exceptions queue, reconciliation.
// zh-CN first with English alongside; data from the JSON API, bearer token in sessionStorage.
// What each role sees follows the API's permissions; the API enforces them.
const $ = (id) => document.getElementById(id);
const me = () => ({ name: sessionStorage.getItem("loom-user"), role: sessionStorage.getItem("loom-role") });

// -- the API ------------------------------------------------------------------------------------
async function api(path, opts = {}) {
  const headers = { "Content-Type": "application/json", ...(opts.headers || {}) };
  const tok = sessionStorage.getItem("loom-token");
  if (tok) headers.Authorization = "Bearer " + tok;
  const r = await fetch(path, { ...opts, headers });
  const text = await r.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = null; }
  if (!r.ok) {
    const e = new Error((body && body.detail) || `${r.status} ${r.statusText}`);
    e.status = r.status;
    throw e;
  }
  return body;
}
const post = (path, body = {}, headers = {}) =>
  api(path, { method: "POST", body: JSON.stringify(body), headers });

// -- words and numbers --------------------------------------------------------------------------
const grouped = (s) => s.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
const yuan = (text) => { const [i, f] = String(text).split("."); return "¥" + grouped(i) + (f ? "." + f : ""); };
const money = (m) => (m ? yuan(m.amount) : "—");
const fen = (m) => (m ? Math.round(Number(m.amount) * 100) : 0);
const pct = (r) => (r == null ? "—" : (Number(r) * 100).toFixed(2) + "%");
const amountIn = (id) => ({ amount: $(id).value.replace(/[¥,\s]/g, ""), currency: "CNY" });
const EN = { in_review: "In review", approved: "Approved", declined: "Declined", returned: "Returned",
  accepted: "Accepted", active: "Active", frozen: "Frozen", closed: "Closed", written_off: "Written off",
  pending: "Pending", rejected: "Rejected", cancelled: "Cancelled", unmatched: "Unmatched",
  ambiguous: "Ambiguous", back_valued: "Back-valued", future: "Value date in the future",
  one_off: "One-off", revolving: "Revolving" };
const say = (zh, code) => `${zh || ""} ${EN[code] || code || ""}`.trim();
const BAND = { auto_approve: "自动通过 Auto-approve", review: "人工审批 Review", decline: "拒绝 Decline" };
const GRADE = { 1: "正常 Normal", 2: "关注 Special mention", 3: "次级 Substandard", 4: "可疑 Doubtful", 5: "损失 Loss" };
const METHOD = { annuity: "等额本息 Annuity", equal_principal: "等额本金 Equal principal",
  interest_only: "先息后本 Interest only", custom: "自定义本金计划 Custom (seasonal) plan" };
const ROLE = { applicant: "借款企业 Applicant", officer: "客户经理 Officer", reviewer: "审批人 Reviewer",
  risk_manager: "风险经理 Risk manager", operations: "运营 Operations", collector: "催收 Collector",
  auditor: "审计 Auditor", admin: "系统管理员 Admin" };
const REVIEWERS = ["reviewer", "risk_manager"];

// -- building the page --------------------------------------------------------------------------
function el(tag, attrs = {}, ...kids) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v;
    else if (k === "on") Object.entries(v).forEach(([ev, fn]) => node.addEventListener(ev, fn));
    else node.setAttribute(k, v);
  }
  node.append(...kids);
  return node;
}
const link = (href, text) => el("a", { href, text });
const button = (text, attrs, onclick) => el("button", { type: "button", text, ...attrs, on: { click: onclick } });
const facts = (dl, pairs) => dl.replaceChildren(...pairs.flatMap(([k, v]) => [el("dt", { text: k }),
  v instanceof Node ? el("dd", {}, v) : el("dd", { text: String(v ?? "—") })]));
const items = (ul, texts, empty) => ul.replaceChildren(...(texts.length ? texts : [empty]).map((t) => el("li", { text: t })));
// A table body from a list: each cell is text or a node (a link, a button, a small form);
// amounts, counts and rates are right-aligned.
const NUMERIC = /^-?¥?[\d,.]+%?$/;
function rows(tbody, list, cells) {
  tbody.replaceChildren(...list.map((x) => el("tr", {}, ...cells(x).map((c) => {
    if (c instanceof Node) return el("td", {}, c);
    const text = String(c ?? "—");
    return el("td", NUMERIC.test(text) ? { text, class: "num" } : { text });
  }))));
}
const show = (...ids) => ids.forEach((id) => { $(id).hidden = false; });
function flash(text) { sessionStorage.setItem("loom-flash", text); }
function clearMessages() { $("error").textContent = ""; $("notice").textContent = ""; }
// Run an action a person asked for: the API's refusal is shown, success is said.
// ``fn`` may return what to say (text or a node, such as a link to the new loan).
async function act(fn, done) {
  clearMessages();
  try {
    const said = await fn();
    $("notice").replaceChildren(said instanceof Node || typeof said === "string" ? said : done || "");
  } catch (e) {
    $("error").textContent = e.message;
  }
}
// Fill one home section; an API refusal is said in the section, the rest of the page still loads.
async function section(id, fill, empty) {
  show(id);
  const msg = $(id + "-msg");
  msg.textContent = "";
  msg.classList.remove("refused");
  try {
    const n = await fill();
    if (n === 0) msg.textContent = empty;
  } catch (e) {
    if (e.status === 401) throw e;
    msg.textContent = "无法显示 Not available: " + e.message;
    msg.classList.add("refused");
  }
}

// -- applications -------------------------------------------------------------------------------
const appCells = (a, last) => [link("/console/applications/" + a.id, "#" + a.id), a.uscc, money(a.amount),
  a.term_months + " 月 mo", pct(a.annual_rate), last];

async function showQueue() {
  await section("queue", async () => {
    const list = await api("/api/v1/review-queue");
    rows($("queue-rows"), list, (a) => appCells(a, BAND[a.band] || a.band));
    return list.length;
  }, "队列为空 The queue is empty.");
}

async function showApps() {
  await section("apps", async () => {
    const list = await api("/api/v1/applications");
    rows($("apps-rows"), list, (a) => appCells(a, say(a.status_zh, a.status)));
    return list.length;
  }, "暂无申请 No applications.");
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
  else out.push(["可贷额度 Limit", money(d.limit)]);
  return out;
}

async function showApp(id) {
  const a = await api("/api/v1/applications/" + id);
  const d = a.decision || {};
  const { role } = me();
  show("app");
  $("app-id").textContent = "#" + a.id;
  $("app-referral").hidden = !d.referral;
  facts($("app-facts"), [["企业 USCC", a.uscc], ["申请金额 Amount asked", money(a.amount)],
    ["批准金额 Amount approved", money(a.approved)], ["期限 Term", a.term_months + " 月 months"],
    ["状态 Status", say(a.status_zh, a.status)], ["决策 Band", BAND[a.band] || a.band],
    ["决策方式 Decided by", d.referral ? "转人工 Referral — a person decides" : (d.engine || "—")],
    ["决策额度 Decision limit", money(d.limit)], ["违约概率 PD", d.pd ?? "—"],
    ["年化利率 Annual rate", pct(a.annual_rate)],
    ["经办 Created by", a.created_by], ["最后修改 Last changed by", a.updated_by],
    ["审批人 Reviewed by", a.reviewed_by || "—"], ["审批意见 Comment", a.review_comment || "—"]]);
  items($("app-reasons"), [...(d.band_reasons || []), ...(d.reasons || [])], "—");
  const failed = ((d.record && d.record.rules) || []).filter((r) => r.status !== "pass");
  items($("app-rules"), failed.map((r) => `${r.reason_zh} / ${r.reason_en}: ${r.observed} (${r.threshold})`),
    "全部通过 All passed");
  rows($("app-build"), buildUp(d), (x) => x);
  showReview(a, d, role);
  await showAppLine(a);
  await showContract(a, role);
}

function showReview(a, d, role) {
  const form = $("review-form");
  form.hidden = !(REVIEWERS.includes(role) && a.status === "in_review");
  form.dataset.app = a.id;
  if (form.hidden) return;
  const asked = fen(a.amount), limit = fen(d.limit);
  const above = asked > limit;
  // above the decision's limit (always so for a referral) only a risk manager approves, with a comment
  $("approve").hidden = above && limit === 0 && role !== "risk_manager";
  $("approved").closest("label").hidden = $("approve").hidden;
  $("review-hint").hidden = !above;
  $("review-hint").textContent = limit === 0
    ? "决策额度为零：仅风险经理可填写意见后例外批准。 The decision limit is zero: only a risk manager can approve, with a comment."
    : `申请金额高于决策额度 ${money(d.limit)}：超出部分仅风险经理可填写意见后例外批准。 `
      + `The amount asked is above the decision limit ${money(d.limit)}: only a risk manager can approve above it, with a comment.`;
  const start = role === "risk_manager" || limit === 0 ? asked : Math.min(asked, limit);
  $("approved").value = (start / 100).toFixed(2);
}

async function showAppLine(a) {
  const box = $("app-line");
  box.hidden = a.status !== "accepted";
  if (box.hidden) return;
  const line = (await api("/api/v1/lines")).find((l) => l.application_id === a.id);
  box.replaceChildren(line ? link("/console/lines/" + line.id, `授信额度 Credit line #${line.id}`) : "");
}

async function showContract(a, role) {
  const box = $("contract");
  const offered = ["approved", "accepted"].includes(a.status);
  box.hidden = !(offered || (role === "applicant" && a.status === "declined"));
  $("accept-form").hidden = !(role === "applicant" && a.status === "approved");
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
    ["额度类型 Line", c.line_kind === "revolving" ? "循环额度 Revolving" : "一次性额度 One-off"],
    ["起息日 Start", c.start_date], ["清偿顺序 Allocation order", c.allocation_order.components.join(" → ")],
    ...(a.settlement_account ? [["结算账户 Settlement account", a.settlement_account]] : [])]);
  rows($("contract-rows"), c.schedule, (i) => [i.number, i.due_on, money(i.principal), money(i.interest), money(i.payment)]);
}

for (const b of ["approve", "decline", "return"]) {
  $(b).addEventListener("click", () => act(async () => {
    const id = $("review-form").dataset.app;
    const body = { verdict: b, comment: $("comment").value };
    if (b === "approve") body.approved_amount = amountIn("approved");
    await post(`/api/v1/applications/${id}/review`, body);
    await load();
  }, "已提交 Submitted"));
}
$("accept-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  act(async () => {
    const id = $("contract").dataset.app;
    const line = await post(`/api/v1/applications/${id}/accept`, { settlement_account: $("settlement-account").value });
    flash(`合同已接受，授信额度 #${line.id} 已开立 Contract accepted; credit line #${line.id} is open.`);
    location.href = "/console/lines/" + line.id;
  });
});
$("ask-person").addEventListener("click", () => act(async () => {
  const id = $("contract").dataset.app;
  await post(`/api/v1/applications/${id}/human-review`);
  await load();
}, "已转人工复核 Sent to a person"));

// -- signing in and the router ------------------------------------------------------------------
//: What each role works on at home (the functions of part 2 are looked up when called).
const HOME = {
  applicant: () => [showApps, showLines, showLoans, showMyRequests],
  officer: () => [showAlerts, showApps, showLines, showLoans, showApprovals],
  reviewer: () => [showQueue, showApprovals],
  risk_manager: () => [showAlerts, showQueue, showApprovals, showLines, showLoans],
  operations: () => [showApprovals, showExceptions, showRecon, showLoans],
  collector: () => [showAlerts, showLoans],
  auditor: () => [showAlerts, showLines, showLoans, showRecon],
  admin: () => [showApprovals],
};

// (Re)load what the page shows; actions call this after they change something.
async function load() {
  const page = document.body.dataset.page, id = document.body.dataset.record;
  if (page === "app") return showApp(id);
  if (page === "line") return showLine(id);
  if (page === "loan") return showLoan(id);
  for (const part of (HOME[me().role] || (() => [showLoans]))()) await part();
}

async function render() {
  const { name, role } = me();
  $("login").hidden = true;
  $("who").hidden = false;
  $("who-name").textContent = `${name} · ${ROLE[role] || role}`;
  $("notice").textContent = sessionStorage.getItem("loom-flash") || "";
  sessionStorage.removeItem("loom-flash");
  delete document.body.dataset.loaded;
  try {
    await load();
  } catch (e) {
    if (e.status === 401) return signedOut("登录已失效，请重新登录 Signed out: " + e.message);
    $("error").textContent = e.message;
  }
  document.body.dataset.loaded = "yes"; // every section has answered (tests wait for this)
}

function signedOut(why) {
  for (const k of ["loom-token", "loom-role", "loom-user"]) sessionStorage.removeItem(k);
  document.querySelectorAll("main > section").forEach((s) => { s.hidden = true; });
  $("who").hidden = true;
  $("login").hidden = false;
  $("error").textContent = why || "";
  $("user").focus();
  document.body.dataset.loaded = "yes";
}

$("login").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  delete document.body.dataset.loaded;
  try {
    const t = await post("/api/v1/auth/token", { username: $("user").value, password: $("pass").value });
    sessionStorage.setItem("loom-token", t.access_token);
    sessionStorage.setItem("loom-role", t.role);
    sessionStorage.setItem("loom-user", $("user").value);
    $("error").textContent = "";
    $("pass").value = "";
    await render();
  } catch (e) {
    $("error").textContent = "登录失败 Sign-in failed: " + e.message;
    document.body.dataset.loaded = "yes";
  }
});
$("signout").addEventListener("click", () => { sessionStorage.clear(); location.href = "/console"; });
document.addEventListener("DOMContentLoaded", () => {
  if (sessionStorage.getItem("loom-token")) render();
  else signedOut();
});
