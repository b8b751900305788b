"""The collection figures (催收指标) at the edge: JSON (API and ``loom collections report --json``)
and a self-contained HTML page with charts (plotly, its JavaScript inline once: no CDN, no
network needed to open it).

Shares are decimal strings with four places (exact fractions stay in the domain); money is
``{"amount", "currency"}``; the figures the collection cases give are ``null`` until then.
"""

from __future__ import annotations

import html
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from loomcredit.domain.collection_figures import (
    OPEN_BUCKETS,
    CollectionFigures,
    RollBucket,
    RollMatrix,
)
from loomcredit.domain.money import Money

Json = dict[str, Any]
_PLACES = Decimal("0.0001")


def share(value: Fraction | None) -> str | None:
    """A share as a decimal string with four places, half up (None stays None)."""
    if value is None:
        return None
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return str(exact.quantize(_PLACES, rounding=ROUND_HALF_UP))


def _money(m: Money | None) -> Json | None:
    return None if m is None else {"amount": m.amount_str(), "currency": m.currency}


def _matrix(m: RollMatrix) -> Json:
    return {
        "from": m.start.isoformat(),
        "to": m.end.isoformat(),
        "loans_in": {b.value: m.loans_in(b) for b in OPEN_BUCKETS},
        "cells": [
            {
                "from_bucket": c.source.value,
                "to_bucket": c.target.value,
                "loans": c.loans,
                "balance": _money(c.balance),
                "rate": share(m.rate(c.source, c.target)),
                "balance_rate": share(m.balance_rate(c.source, c.target)),
            }
            for c in m.cells
        ],
    }


def figures_json(f: CollectionFigures) -> Json:
    """The report as JSON."""
    return {
        "as_of": f.as_of.isoformat(),
        "month_ends": [d.isoformat() for d in f.month_ends],
        "roll_rates": [_matrix(m) for m in f.roll_rates],
        "cure_rates": [
            {
                "from": c.start.isoformat(),
                "to": c.end.isoformat(),
                "overdue": c.overdue,
                "cured": c.cured,
                "rate": share(c.rate),
            }
            for c in f.cure_rates
        ],
        "cure_rate": share(f.cure_rate),
        "recovered": [
            {
                "month": r.month.isoformat()[:7],
                "bucket": r.bucket.value,
                "amount": _money(r.amount),
                "receipts": r.receipts,
            }
            for r in f.recovered
        ],
        "recovered_by_bucket": {
            b.value: _money(f.recovered_in(b)) for b in OPEN_BUCKETS if f.recovered_in(b)
        },
        "promise_kept_rate": share(f.promise_kept_rate),
        "contacts_per_case": share(f.contacts_per_case),
        "cases_per_collector": [{"collector": c, "cases": n} for c, n in f.cases_per_collector],
    }


def _rate_figure(f: CollectionFigures) -> Any:
    import plotly.graph_objects as go

    pairs = [(RollBucket.CURRENT, RollBucket.M1), (RollBucket.M1, RollBucket.M2),
             (RollBucket.M2, RollBucket.M3), (RollBucket.M3, RollBucket.M3_PLUS)]  # fmt: skip
    x = [m.end.isoformat()[:7] for m in f.roll_rates]
    traces = [
        go.Scatter(x=x, y=[_float(m.rate(a, b)) for m in f.roll_rates], name=f"{a.value}→{b.value}")
        for a, b in pairs
    ]
    traces.append(go.Scatter(x=x, y=[_float(c.rate) for c in f.cure_rates], name="回正 cure",
                             line={"dash": "dot"}))  # fmt: skip
    fig = go.Figure(traces)
    fig.update_layout(title="迁徙率与回正率 Roll rates and cure rate (by loans), month to month",
                      yaxis_tickformat=".0%")  # fmt: skip
    return fig


def _recovered_figure(f: CollectionFigures) -> Any:
    import plotly.graph_objects as go

    months = sorted({r.month for r in f.recovered})
    bars = []
    for b in OPEN_BUCKETS:
        by_month = {r.month: r.amount for r in f.recovered if r.bucket is b}
        if by_month:
            y = [by_month[m].minor / 100 if m in by_month else 0.0 for m in months]  # yuan
            bars.append(go.Bar(name=b.label_zh, x=[m.isoformat()[:7] for m in months], y=y))
    fig = go.Figure(bars)
    fig.update_layout(barmode="stack", title="按账龄回收金额 Amount recovered by bucket (CNY)")
    return fig


def _float(value: Fraction | None) -> float | None:
    return None if value is None else float(value)  # charts only; the tables are exact


def _matrix_table(m: RollMatrix) -> str:
    targets = list(RollBucket)
    head = "".join(f"<th>{html.escape(t.label_zh)}</th>" for t in targets)
    rows = []
    for b in OPEN_BUCKETS:
        n = m.loans_in(b)
        if n == 0:
            continue
        cells = "".join(f"<td>{share(m.rate(b, t))}</td>" for t in targets)
        rows.append(f"<tr><th>{html.escape(b.label_zh)} ({n})</th>{cells}</tr>")
    return (
        f"<h3>{m.start.isoformat()} → {m.end.isoformat()}</h3>"
        f"<table><tr><th>from \\ to</th>{head}</tr>{''.join(rows)}</table>"
    )


def figures_html(f: CollectionFigures) -> str:
    """The report as one HTML page: the charts, then each month's matrix by loans."""
    charts = [
        fig.to_html(full_html=False, include_plotlyjs=(i == 0))
        for i, fig in enumerate((_rate_figure(f), _recovered_figure(f)))
    ]
    tables = "".join(_matrix_table(m) for m in f.roll_rates) or "<p>无数据 No month ends yet.</p>"
    per = ", ".join(f"{c or '未分派 unassigned'}: {n}" for c, n in f.cases_per_collector)
    cases = (f"承诺履约率 promise kept rate {share(f.promise_kept_rate) or '—'} · 每案催收次数 "
             f"contacts per case {share(f.contacts_per_case) or '—'} · 人均案件 cases per "
             f"collector {per or '—'}")  # fmt: skip
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>催收指标 Collection figures {f.as_of.isoformat()}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}</style></head><body>
<h1>催收指标 Collection figures · as of {f.as_of.isoformat()}</h1>
<p>回正率 Cure rate over the period: {share(f.cure_rate) or "—"}</p>
<p>{html.escape(cases)}</p>
{"".join(charts)}
<h2>迁徙矩阵 Roll-rate matrices (share of loans)</h2>{tables}
</body></html>
"""
