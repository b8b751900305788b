"""Measure entity resolution and news extraction against the simulator's truth tables.

- Entity resolution: every labelled news mention (``truth/news_labels`` joined to the news'
  ``mentioned_name``) and every labelled bank-flow counterparty name
  (``truth/counterparty_labels``) is resolved with the lake's alias index; precision is correct
  links over links made, recall is correct links over labelled names.
- News extraction: the main event of each labelled item (:func:`news.classify`) against its
  labelled ``kind`` and ``negated`` flag (accuracy, and recall of the risk events that are real).

Truth is read here only, for evaluation: nothing in the integrated zone depends on it.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from loomcredit.pipeline import news
from loomcredit.pipeline.entity import EntityResolver, precision_recall
from loomcredit.pipeline.ingest.run import name_sources
from loomcredit.pipeline.schemas import LakePaths

NO_EVENT = frozenset({"none", "", "neutral"})


def _files(folder: Path) -> list[str]:
    return sorted(str(p) for p in folder.rglob("*.parquet")) if folder.is_dir() else []


def _rel(files: list[str]) -> str:
    return "read_parquet([" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "])"


def evaluate(lake: LakePaths, truth: Path) -> dict[str, float]:
    """ER precision/recall and news accuracy over the lake's news and bank flows."""
    root = truth / "truth" if (truth / "truth").is_dir() else truth
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    metrics: dict[str, float] = {}
    try:
        registry = _files(lake.table("registry"))
        if not registry:
            return metrics
        flows = _files(lake.table("bank_flows"))
        parts = name_sources(_rel(registry), _rel(flows) if flows else None, dated=True)
        resolver = EntityResolver(
            (str(u), str(n), d)  # type: ignore[misc]
            for u, n, d in con.sql(" UNION ".join(parts)).fetchall()
        )
        news_files = _files(lake.table("news"))
        labels = _files(root / "news_labels")
        if news_files and labels:
            rows = con.sql(
                f"SELECT n.doc_id, n.mentioned_name, n.title, n.body, l.uscc, l.kind, l.negated, "
                f"n.obtained_on FROM {_rel(news_files)} n JOIN {_rel(labels)} l USING (doc_id)"
            ).fetchall()
            # as ingest linked them: with the names known on the day each item arrived
            predicted = {r[0]: resolver.resolve(r[1], on=r[7]) for r in rows if r[1]}
            truth_map = {r[0]: r[4] for r in rows if r[1]}
            for key, value in precision_recall(predicted, truth_map).items():
                metrics[f"er_news_{key}"] = value
            metrics.update(_news_metrics(rows))
        cp_labels = _files(root / "counterparty_labels")
        if cp_labels:
            pairs = con.sql(
                f"SELECT DISTINCT counterparty_name, uscc FROM {_rel(cp_labels)}"
            ).fetchall()
            predicted = {n: resolver.resolve(n) for n, _ in pairs}
            truth_map = dict(pairs)
            for key, value in precision_recall(predicted, truth_map).items():
                metrics[f"er_counterparty_{key}"] = value
    finally:
        con.close()
    return metrics


def _news_metrics(rows: list[tuple[object, ...]]) -> dict[str, float]:
    correct = 0
    real = found = 0
    false_alarm = neutral = 0
    for _doc, _name, title, body, _uscc, kind, negated, *_rest in rows:
        p_kind, p_negated, _sev, _ev = news.classify(str(title or ""), str(body or ""))
        true_kind = str(kind or "none")
        t_none = true_kind in NO_EVENT
        if (t_none and p_kind == "none") or (
            not t_none and p_kind == true_kind and bool(p_negated) == bool(negated)
        ):
            correct += 1
        if not t_none and not negated:
            real += 1
            found += int(p_kind == true_kind and not p_negated)
        else:
            neutral += 1
            false_alarm += int(p_kind not in NO_EVENT and not p_negated)
    total = len(rows)
    return {
        "news_accuracy": correct / total if total else 0.0,
        "news_event_recall": found / real if real else 0.0,
        "news_false_alarm_rate": false_alarm / neutral if neutral else 0.0,
        "news_labelled": float(total),
    }
