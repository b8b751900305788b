"""The data-quality report of the lake after an ingest run: JSON and an offline HTML page.

Figures: rows per source (this run and in the lake), quarantine reasons, coverage per enterprise
and month (share of enterprises with invoices, power, headcount, tax and bank flows each month, and
the spread of months covered per enterprise), freshness (newest row per source against ``as_of``)
and, when truth was given, entity-resolution and news-extraction metrics. Charts are plotly with
its JavaScript embedded inline, so the page works without a network.
"""

from __future__ import annotations

import html
import json
import os
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from loomcredit.pipeline.ingest.model import IngestSummary
from loomcredit.pipeline.schemas import INTEGRATED_SCHEMAS, RAW_SCHEMAS, ROW_DATE, LakePaths

REPORT_NAME = "ingest_quality"
COVERAGE = {
    "invoices_issued > 0": "发票 invoices",
    "kwh IS NOT NULL": "用电 power",
    "headcount IS NOT NULL": "社保 headcount",
    "tax_due_fen IS NOT NULL": "纳税 tax",
    "inflow_fen IS NOT NULL OR outflow_fen IS NOT NULL": "流水 bank flows",
}


def _rel(folder: Path) -> str | None:
    files = sorted(str(p) for p in folder.glob("*.parquet")) if folder.is_dir() else []
    if not files:
        return None
    return "read_parquet([" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "])"


def collect(lake: LakePaths, summary: IngestSummary) -> dict[str, Any]:
    """Every figure of the report as plain JSON-ready data."""
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute("SET TimeZone = 'UTC'")
    as_of = date.fromisoformat(summary.as_of)
    try:
        lake_rows: dict[str, int] = {}
        freshness: dict[str, dict[str, Any]] = {}
        for name in [*RAW_SCHEMAS, *INTEGRATED_SCHEMAS]:
            rel = _rel(lake.table(name))
            if rel is None:
                continue
            lake_rows[name] = int(con.sql(f"SELECT count(*) FROM {rel}").fetchall()[0][0])  # type: ignore[index]
            if name in ROW_DATE:
                col = ROW_DATE[name]
                expr = f"CAST({col} || '-01' AS DATE)" if name == "tax" else f"CAST({col} AS DATE)"
                newest = con.sql(f"SELECT max({expr}) FROM {rel}").fetchall()[0][0]
                freshness[name] = {
                    "newest": newest.isoformat() if newest else None,
                    "lag_days": (as_of - newest).days if newest else None,
                }
        reasons_all: dict[str, int] = {}
        qrel = _rel(lake.table("quarantine"))
        if qrel:
            for reason, n in con.sql(
                f"SELECT r, count(*) FROM (SELECT unnest(string_split(reasons, ';')) AS r "
                f"FROM {qrel}) GROUP BY r ORDER BY 2 DESC"
            ).fetchall():
                reasons_all[str(reason)] = int(n)
        coverage = _coverage(con, lake)
    finally:
        con.close()
    return {
        "run_id": summary.run_id,
        "as_of": summary.as_of,
        "this_run": {
            "sources": {k: asdict(v) for k, v in summary.sources.items()},
            "files": [asdict(f) for f in summary.files],
            "quarantine_reasons": summary.quarantine_reasons,
            "rows_in": summary.rows_in,
            "accepted": summary.accepted,
            "quarantined": summary.quarantined,
        },
        "lake_rows": lake_rows,
        "quarantine_reasons_all": reasons_all,
        "coverage": coverage,
        "freshness": freshness,
        "metrics": summary.metrics,
    }


def _coverage(con: duckdb.DuckDBPyConnection, lake: LakePaths) -> dict[str, Any]:
    ma = _rel(lake.table("monthly_activity"))
    ent = _rel(lake.table("enterprise"))
    if ma is None or ent is None:
        return {}
    firms = int(con.sql(f"SELECT count(*) FROM {ent}").fetchall()[0][0]) or 1  # type: ignore[index]
    cols = ", ".join(
        f"count(DISTINCT uscc) FILTER (WHERE {cond}) AS c{i}" for i, cond in enumerate(COVERAGE)
    )
    rows = con.sql(f"SELECT month, {cols} FROM {ma} GROUP BY month ORDER BY month").fetchall()
    per_month = {
        label: [round(r[i + 1] / firms, 4) for r in rows]
        for i, label in enumerate(COVERAGE.values())
    }
    months = [r[0].isoformat()[:7] for r in rows]
    spread = con.sql(
        f"SELECT n, count(*) FROM (SELECT e.uscc, count(m.month) FILTER "
        f"(WHERE m.invoices_issued > 0) AS n FROM {ent} e LEFT JOIN {ma} m USING (uscc) "
        f"GROUP BY e.uscc) GROUP BY n ORDER BY n"
    ).fetchall()
    return {
        "enterprises": firms,
        "months": months,
        "share_by_month": per_month,
        "months_with_invoices_per_enterprise": {int(n): int(c) for n, c in spread},
    }


def _figures(data: dict[str, Any]) -> list[tuple[str, Any]]:
    import plotly.graph_objects as go

    figs: list[tuple[str, Any]] = []
    run = data["this_run"]["sources"]
    if run:
        names = list(run)
        fig = go.Figure(
            [
                go.Bar(name="接收 accepted", x=names, y=[run[n]["accepted"] for n in names]),
                go.Bar(name="隔离 quarantined", x=names, y=[run[n]["quarantined"] for n in names]),
            ]
        )
        fig.update_layout(barmode="stack", title="本次各来源行数 Rows per source (this run)")
        figs.append(("rows", fig))
    reasons = data["quarantine_reasons_all"]
    if reasons:
        top = list(reasons.items())[:30]
        fig = go.Figure(go.Bar(x=[n for _, n in top], y=[r for r, _ in top], orientation="h"))
        fig.update_layout(title="隔离原因 Quarantine reasons (lake)", height=300 + 18 * len(top))
        figs.append(("reasons", fig))
    cov = data["coverage"]
    if cov.get("months"):
        fig = go.Figure(
            [go.Scatter(x=cov["months"], y=v, name=k) for k, v in cov["share_by_month"].items()]
        )
        fig.update_layout(
            title="覆盖率 Coverage: share of enterprises with data, by month",
            yaxis_tickformat=".0%",
        )
        figs.append(("coverage", fig))
        spread = cov["months_with_invoices_per_enterprise"]
        fig = go.Figure(go.Bar(x=list(spread), y=list(spread.values())))
        fig.update_layout(title="每户有发票的月数 Months with invoices per enterprise")
        figs.append(("spread", fig))
    fresh = {k: v for k, v in data["freshness"].items() if v["lag_days"] is not None}
    if fresh:
        fig = go.Figure(go.Bar(x=list(fresh), y=[v["lag_days"] for v in fresh.values()]))
        fig.update_layout(title=f"时效 Freshness: days from newest row to as_of {data['as_of']}")
        figs.append(("freshness", fig))
    return figs


def render_html(data: dict[str, Any]) -> str:
    """The HTML page (plotly JS inline once; no network needed)."""
    parts: list[str] = []
    for i, (_name, fig) in enumerate(_figures(data)):
        parts.append(fig.to_html(full_html=False, include_plotlyjs=(i == 0)))
    run = data["this_run"]
    rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{v['files']}</td><td>{v['files_skipped']}</td>"
        f"<td>{v['rows_in']}</td><td>{v['accepted']}</td><td>{v['quarantined']}</td>"
        f"<td>{v.get('obtained_filled', 0)}</td></tr>"
        for k, v in run["sources"].items()
    )
    metrics = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{v:.4f}</td></tr>" for k, v in data["metrics"].items()
    )
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>数据质量报告 Data-quality report · run {data["run_id"]}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}</style></head><body>
<h1>数据质量报告 <small>Data-quality report</small></h1>
<p>批次 run {data["run_id"]} · 截止日 as_of {html.escape(data["as_of"])} ·
读入 rows in {run["rows_in"]} = 接收 accepted {run["accepted"]} + 隔离 quarantined
{run["quarantined"]}</p>
<table><tr><th>来源 source</th><th>文件 files</th><th>跳过 skipped</th><th>读入 in</th>
<th>接收 accepted</th><th>隔离 quarantined</th>
<th>到达日补全 arrival day filled</th></tr>{rows}</table>
<h2>实体识别与舆情 Entity resolution and news</h2><table>{metrics or "<tr><td>—</td></tr>"}</table>
{"".join(parts)}
</body></html>"""


def write_report(lake: LakePaths, summary: IngestSummary) -> tuple[Path, Path]:
    """Write ``reports/ingest_quality.{json,html}`` atomically; returns their paths."""
    data = collect(lake, summary)
    lake.reports.mkdir(parents=True, exist_ok=True)
    out_json = lake.reports / f"{REPORT_NAME}.json"
    out_html = lake.reports / f"{REPORT_NAME}.html"
    for path, text in (
        (out_json, json.dumps(data, ensure_ascii=False, indent=1, default=str)),
        (out_html, render_html(data)),
    ):
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    return out_html, out_json
