"""``report.html``: one offline page on the validation results of both models.

ROC and KS curves, calibration plot, score distribution by outcome, IV table, feature
importance and PSI between training and validation scores. Plotly's JavaScript is inlined once,
so the page opens without a network.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import roc_curve

__all__ = ["write_report"]


def _fig_html(fig: Any, first: bool) -> str:
    import plotly.io as pio

    return str(pio.to_html(fig, include_plotlyjs=first, full_html=False))


def _table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "<p>—</p>"
    head = "".join(f"<th>{html.escape(str(k))}</th>" for k in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in r.values()) + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def write_report(
    path: Path, card: dict[str, Any], bundle: Any, extra: dict[str, Any], ds: Any
) -> None:
    """Write the report page.

    Parameters
    ----------
    path : Path
        Output file.
    card : dict
        The model card (metrics, PSI).
    bundle : Bundle
        The saved models (IV table, importance, scaling).
    extra : dict
        ``y_valid`` and ``pd_valid`` (validation or out-of-fold PDs per model).
    ds : Dataset
        The prepared data (for the title only).
    """
    import plotly.graph_objects as go

    y = np.asarray(extra["y_valid"])
    pds: dict[str, np.ndarray] = extra["pd_valid"]
    sc = bundle.scorecard
    parts: list[str] = []

    roc = go.Figure()
    ksf = go.Figure()
    cal = go.Figure()
    for m, p in pds.items():
        fpr, tpr, _ = roc_curve(y, p)
        auc = card["models"][m]["metrics"]["auc"]
        roc.add_scatter(x=fpr, y=tpr, name=f"{m} AUC {auc:.3f}")
        n_bad = float(y.sum())
        share = (tpr * n_bad + fpr * (len(y) - n_bad)) / len(y)  # population above threshold
        ksf.add_scatter(x=share, y=tpr, name=f"{m} cum. bad 累计坏")
        ksf.add_scatter(x=share, y=fpr, name=f"{m} cum. good 累计好")
        rows = card["models"][m]["metrics"]["calibration"]
        cal.add_scatter(
            x=[r["pd_mean"] for r in rows],
            y=[r["bad_rate"] for r in rows],
            mode="lines+markers",
            name=m,
        )
    roc.add_scatter(x=[0, 1], y=[0, 1], name="random", line={"dash": "dot"})
    roc.update_layout(title="ROC 曲线 / ROC curve", xaxis_title="FPR", yaxis_title="TPR")
    ksf.update_layout(
        title="KS 曲线 / KS curve", xaxis_title="share of population, riskiest first 人群占比"
    )
    top = max(
        max(r["pd_mean"], r["bad_rate"])
        for m in pds
        for r in card["models"][m]["metrics"]["calibration"]
    )
    cal.add_scatter(x=[0, top], y=[0, top], name="perfect", line={"dash": "dot"})
    cal.update_layout(
        title="校准 / Calibration (validation deciles)",
        xaxis_title="mean PD",
        yaxis_title="observed bad rate",
    )
    dist = go.Figure()
    for m, p in pds.items():
        logit = np.log(np.clip(p, 1e-9, 1 - 1e-9) / np.clip(1 - p, 1e-9, 1))
        score = sc.offset - sc.factor * logit
        for label, mask in (("good 好", y == 0), ("bad 坏", y == 1)):
            dist.add_histogram(
                x=score[mask], name=f"{m} {label}", opacity=0.55, histnorm="probability"
            )
    dist.update_layout(barmode="overlay", title="评分分布 / Score distribution by outcome")
    imp = bundle.booster.importance()
    order = sorted(imp, key=lambda k: -imp[k])[:25]
    impf = go.Figure(go.Bar(x=[imp[k] for k in order][::-1], y=order[::-1], orientation="h"))
    impf.update_layout(
        title="特征重要性 / Booster feature importance (gain)", height=max(300, 22 * len(order))
    )
    for i, fig in enumerate((roc, ksf, cal, dist, impf)):
        parts.append(_fig_html(fig, first=(i == 0)))
    metrics_rows = [
        {
            "model": m,
            "auc": round(r["metrics"]["auc"], 4),
            "ks": round(r["metrics"]["ks"], 4),
            "gini": round(r["metrics"]["gini"], 4),
            "brier": round(r["metrics"]["brier"], 4),
            "PSI train→valid": round(r["psi_train_valid"], 4),
        }
        for m, r in card["models"].items()
    ]
    iv_rows = sc.iv_table().to_dict("records")
    title = html.escape(str(card.get("name")))
    page = f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<title>模型报告 Model report · {title}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:2px 6px;font-size:13px}}</style></head><body>
<h1>模型报告 Model report · {title}</h1>
<p>数据 Data: {card["data"]["rows"]} rows, bad rate {card["data"]["bad_rate"]:.2%};
验证 Validation: {html.escape(extra["scheme"])} ({len(y)} rows)</p>
<h2>指标 Metrics (validation) 与 PSI</h2>{_table(metrics_rows)}
{"".join(parts)}
<h2>IV 表 / Information value (training rows)</h2>{_table(iv_rows)}
</body></html>"""
    path.write_text(page, encoding="utf-8")
    _ = ds
