"use strict";
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
const money = (m) => "¥" + m.amount;
const cell = (row, text) => { const td = document.createElement("td"); td.textContent = text; row.appendChild(td); };

async function showQueue() {
  const rows = await api("/api/v1/review-queue");
  $("queue").hidden = false;
  $("queue-empty").hidden = rows.length > 0;
  const body = $("queue-rows");
  body.replaceChildren();
  for (const a of rows) {
    const tr = document.createElement("tr");
    [a.id, a.uscc, money(a.amount), a.term_months + " 月", (Number(a.annual_rate) * 100).toFixed(2) + "%", a.band]
      .forEach((t) => cell(tr, t));
    body.appendChild(tr);
  }
}

async function showLoan(id) {
  const l = await api("/api/v1/loans/" + id);
  $("loan").hidden = false;
  $("loan-id").textContent = "#" + l.id;
  const facts = [["状态 Status", l.status], ["未还本金 Outstanding", money(l.outstanding)],
    ["逾期天数 DPD", l.dpd], ["五级分类 Grade", l.grade], ["账龄 Bucket", l.bucket]];
  $("loan-facts").replaceChildren(...facts.flatMap(([k, v]) => {
    const dt = document.createElement("dt"); dt.textContent = k;
    const dd = document.createElement("dd"); dd.textContent = v;
    return [dt, dd];
  }));
  const body = $("loan-rows");
  body.replaceChildren();
  for (const i of l.installments) {
    const tr = document.createElement("tr");
    [i.number, i.due_on, money(i.principal), money(i.interest), money(i.principal_paid)].forEach((t) => cell(tr, t));
    body.appendChild(tr);
  }
}

async function render() {
  const page = document.body.dataset.page;
  try {
    if (page === "loan") await showLoan(document.body.dataset.loan);
    else await showQueue();
    $("login").hidden = true;
  } catch (e) {
    $("error").textContent = e.message;
  }
}

$("signin").addEventListener("click", async () => {
  try {
    const t = await api("/api/v1/auth/token", { method: "POST",
      body: JSON.stringify({ username: $("user").value, password: $("pass").value }) });
    sessionStorage.setItem("loom-token", t.access_token);
    $("error").textContent = "";
    await render();
  } catch (e) {
    $("error").textContent = "登录失败 Sign-in failed: " + e.message;
  }
});
if (sessionStorage.getItem("loom-token")) render();
