"""The simulator's entry point: build the cluster, run the latent process, write every source in
chunks of enterprises.

Memory: the per-enterprise state (attributes, network, a float32 monthly panel of a few arrays)
grows with N; the rows of every source are generated and written one chunk of enterprises at a
time, so the bulk of the data (invoices, bank flows) never sits in memory at once.
"""

from __future__ import annotations

import logging
import time
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa

from loomcredit.pipeline.schemas import RAW_SCHEMAS, TRUTH_SCHEMAS
from loomcredit.pipeline.simulate.arrivals import feed_end, split
from loomcredit.pipeline.simulate.config import (
    ProgressFn,
    SimulationConfig,
    SimulationSummary,
    Timeline,
)
from loomcredit.pipeline.simulate.dynamics import CAUSES, Panel, simulate_panel
from loomcredit.pipeline.simulate.faults import faults_table, inject
from loomcredit.pipeline.simulate.firms import Firms, Outsiders, build_firms, build_outsiders
from loomcredit.pipeline.simulate.flows import (
    NameBook,
    build_bank_flows,
    build_judicial,
    main_partners,
)
from loomcredit.pipeline.simulate.invoices import Chunk, build_invoices
from loomcredit.pipeline.simulate.monthly import (
    ChunkView,
    build_bureau,
    build_social,
    build_tax,
    build_utilities,
)
from loomcredit.pipeline.simulate.network import build_network
from loomcredit.pipeline.simulate.news_text import build_news
from loomcredit.pipeline.simulate.obtained import ConsentIndex, stamp
from loomcredit.pipeline.simulate.registry import build_consents, build_market, build_registry
from loomcredit.pipeline.simulate.writer import PartWriter

log = logging.getLogger(__name__)

# Stable stream numbers so that adding a source never changes the others' random draws.
_STREAMS = {
    "registry": 1,
    "invoices": 2,
    "tax": 3,
    "utilities": 4,
    "social_insurance": 5,
    "bank_flows": 6,
    "judicial": 7,
    "bureau": 8,
    "news": 9,
    "consents": 10,
    "faults": 11,
}


def _defaults_table(firms: Firms, panel: Panel) -> pa.Table:
    idx = np.flatnonzero(panel.default_t >= 0)
    return pa.Table.from_arrays(
        [
            pa.array([firms.uscc[i] for i in idx], pa.string()),
            pa.array(panel.default_day[idx].astype(np.int32), pa.date32()),
            pa.array([CAUSES[int(panel.cause[i])] for i in idx], pa.string()),
        ],
        schema=TRUTH_SCHEMAS["defaults"],
    )


def _labels_table(firms: Firms, outsiders: Outsiders) -> pa.Table:
    names, usccs = [], []
    for i, name in enumerate(firms.name):
        for variant in (name, *firms.aliases[i]):
            names.append(variant)
            usccs.append(firms.uscc[i])
    names += outsiders.name
    usccs += outsiders.uscc
    return pa.Table.from_arrays(
        [pa.array(names, pa.string()), pa.array(usccs, pa.string())],
        schema=TRUTH_SCHEMAS["counterparty_labels"],
    )


def _write_feed(writer: PartWriter, source: str, table: pa.Table, last_day: date) -> None:
    """The rows the bank held on the feed's last day to ``raw/``, the later ones to
    ``arrivals/`` (faults are injected into ``raw/`` only: the arrivals are clean)."""
    held, later = split(source, table, last_day)
    writer.write("raw", source, held)
    writer.write("arrivals", source, later)


def simulate(
    config: SimulationConfig, out: Path, progress: ProgressFn | None = None
) -> SimulationSummary:
    """Simulate a Keqiao textile cluster and write ``out/raw/<source>/`` and ``out/truth/<table>/``.

    Args:
        config: what to simulate (size, months, start, seed, rates, format).
        out: the folder to write into (``raw/`` and ``truth/`` are replaced).
        progress: optional ``progress(firms_done, firms_total)`` callback.

    Returns:
        Rows per source and truth table, the number of defaults and the time taken.
    """
    began = time.perf_counter()
    n, seed = config.enterprises, config.seed
    year, month = config.start_year_month
    timeline = Timeline(year, month, config.months + config.arrival_months)
    last_day = feed_end(year, month, config.months)
    firms = build_firms(n, timeline, seed)
    outsiders = build_outsiders(n, seed)
    net = build_network(firms, outsiders, seed)
    panel = simulate_panel(firms, net, timeline, config.default_rate, seed)
    log.info("cluster of %d enterprises simulated; writing %s", n, config.fmt)
    if progress is not None:
        progress(0, n)

    writer = PartWriter(out, config.fmt)
    writer.reset("raw", list(RAW_SCHEMAS))
    writer.reset("arrivals", list(RAW_SCHEMAS))
    writer.reset("truth", list(TRUTH_SCHEMAS))
    all_uscc = pa.array(firms.uscc + outsiders.uscc, pa.string())
    book = NameBook.build(firms, outsiders)
    partners = main_partners(firms, net)
    chunks = [
        Chunk(index, lo, min(n, lo + config.chunk_size))
        for index, lo in enumerate(range(0, n, config.chunk_size))
    ]

    def rng(source: str, chunk: Chunk) -> np.random.Generator:
        return np.random.default_rng([seed, 100 + chunk.index, _STREAMS[source]])

    # Every chunk's consents first: an invoice's buyer may sit in another chunk, and the day a
    # row is obtained depends on its enterprises' consents (small: a few rows per firm).
    consents = [build_consents(chunk, firms, timeline, rng("consents", chunk)) for chunk in chunks]
    index = ConsentIndex.of(pa.concat_tables(consents))
    _write_feed(writer, "market", stamp("market", build_market(panel, timeline, seed), index),
                last_day)  # fmt: skip
    writer.write("truth", "defaults", _defaults_table(firms, panel))
    writer.write("truth", "counterparty_labels", _labels_table(firms, outsiders))

    fault_rng = np.random.default_rng([seed, 100, _STREAMS["faults"]])
    for chunk in chunks:
        view = ChunkView.of(chunk, panel, firms)
        news, labels = build_news(chunk, view, firms, timeline, rng("news", chunk))
        tables = {
            "registry": build_registry(chunk, firms, panel, timeline, rng("registry", chunk)),
            "consents": consents[chunk.index],
            "invoices": build_invoices(
                chunk, net, panel, timeline, all_uscc, n, rng("invoices", chunk)
            ),
            "tax": build_tax(chunk, view, firms, timeline, rng("tax", chunk)),
            "utilities": build_utilities(chunk, view, firms, timeline, rng("utilities", chunk)),
            "social_insurance": build_social(
                chunk, view, firms, timeline, rng("social_insurance", chunk)
            ),
            "bank_flows": build_bank_flows(
                chunk,
                view,
                firms,
                book,
                partners,
                all_uscc,
                timeline,
                rng("bank_flows", chunk),
                panel.leverage,
            ),
            "judicial": build_judicial(chunk, view, timeline, rng("judicial", chunk)),
            "bureau": build_bureau(chunk, view, firms, panel, timeline, rng("bureau", chunk)),
            "news": news,
        }
        records: list[tuple[str, str, str]] = []
        for source, table in tables.items():
            # stamped before the faults, so a fault's wrong date keeps the true arrival day
            if source != "consents":
                table = stamp(source, table, index)
            held, later = split(source, table, last_day)
            held, found = inject(source, held, config.fault_rate, fault_rng)
            records += found
            writer.write("raw", source, held)
            writer.write("arrivals", source, later)
        writer.write("truth", "news_labels", labels)
        writer.write("truth", "faults", faults_table(records))
        del tables, view, news, labels
        if progress is not None:
            progress(chunk.hi, n)

    summary = SimulationSummary(
        rows={name: writer.rows.get(("raw", name), 0) for name in RAW_SCHEMAS},
        truth_rows={name: writer.rows.get(("truth", name), 0) for name in TRUTH_SCHEMAS},
        enterprises=n,
        months=config.months,
        defaults=int((panel.default_t >= 0).sum()),
        seconds=time.perf_counter() - began,
    )
    log.info("simulation written: %d rows in %.1f s", summary.total_rows, summary.seconds)
    return summary
