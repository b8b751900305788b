"""The demo's "months of new data" story (issue 12): what the bank receives after the book's last
day arrives for its borrowers, batch by batch, through the same door as ``loom watch`` — and the
monitor answers each batch.

The simulator wrote what arrives after the feed's last day under ``lake/arrivals/<source>/``
(December's invoices come with January's batch, and two more months of data after them). The
story sends, at three dates (the end of each month and the 15th of the third), every source's
rows the borrowers obtained since the last date, one batch per source; ``intake.receive_all``
takes each through validation, quarantine and the post-loan consent gate, then monitors the
borrowers the day's batches touched, once. Two borrowers are scripted: one's invoices collapse
to a tenth of what it would have sold (the sales collapse), one gets an enforcement case. A
third shows what the seasonal baseline is for: its Spring Festival trough, which the house rules
(year on year, the lunar shift taken out) do not raise and the naive month-on-month rules would.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from loomcredit.domain.alerts import Alert
from loomcredit.domain.daycount import add_months
from loomcredit.service_layer.intake import Batch, Received

COLLAPSE = 0.1  # the scripted borrower's invoices, as a share of what it would have issued
#: The rules that judge sales, power and steam against a baseline (what the trough could raise).
BASELINE_RULES = ("SALES_DROP_50", "SALES_DROP_30", "POWER_DROP", "STEAM_DROP")


@dataclass
class Story:
    """What the story did: per batch what was taken, the alerts raised, the lines frozen."""

    collapsed: str
    court: str
    days: list[date]
    taken: list[tuple[date, str, int, int, str]] = field(default_factory=list)
    raised: list[Alert] = field(default_factory=list)
    frozen: list[int] = field(default_factory=list)


def checkpoints(last_day: date) -> list[date]:
    """The dates batches arrive after the feed's ``last_day`` (a month end): the end of each of
    the next two months, then the 15th of the third."""
    first = (last_day + timedelta(days=1)).replace(day=1)
    second, third = add_months(first, 1), add_months(first, 2)
    return [second - timedelta(days=1), third - timedelta(days=1), third.replace(day=15)]


def _rows(arrivals: Path, source: str, firms: Sequence[str], lo: date, hi: date) -> pa.Table:
    """The arrivals of ``source`` for the firms obtained in (lo, hi]."""
    files = sorted((arrivals / source).glob("*.parquet"))
    if not files:
        return pa.table({})
    table = pq.read_table(files)
    day = pa.scalar(lo, pa.date32()), pa.scalar(hi, pa.date32())
    mask = pc.and_(pc.greater(table.column("obtained_on"), day[0]),
                   pc.less_equal(table.column("obtained_on"), day[1]))  # fmt: skip
    who = next((c for c in ("uscc", "seller_uscc") if c in table.column_names), None)
    if who is not None:  # market data is the cluster's, not a firm's: all of it arrives
        mask = pc.and_(mask, pc.is_in(table.column(who), pa.array(list(firms))))
    return table.filter(pc.fill_null(mask, False))


def _collapse(table: pa.Table, firm: str) -> pa.Table:
    """The scripted sales collapse: the firm's invoices at a tenth of their amounts."""
    mine = pc.equal(table.column("seller_uscc"), firm)
    out = table
    for col in ("amount_fen", "tax_fen"):
        values = table.column(col)
        cut = pc.cast(pc.floor(pc.multiply(pc.cast(values, pa.float64()), COLLAPSE)), values.type)
        out = out.set_column(out.schema.get_field_index(col), col, pc.if_else(mine, cut, values))
    return out


def court_case(firm: str, filed: date) -> pa.Table:
    """An open enforcement case against the firm, filed on ``filed`` (seen seven days later)."""
    row = {"uscc": firm, "case_id": f"({filed.year})浙0603执{filed:%m%d}号", "filed_on": filed,
           "case_type": "enforcement", "role": "respondent", "amount_fen": 86_000_000,
           "closed_on": None, "obtained_on": filed + timedelta(days=7)}  # fmt: skip
    from loomcredit.pipeline.schemas import RAW_SCHEMAS

    return pa.Table.from_pylist([row], schema=RAW_SCHEMAS["judicial"])


def _batch(source: str, table: pa.Table, day: date) -> Batch:
    buf = pa.BufferOutputStream()
    pq.write_table(table, buf)
    return Batch(source, buf.getvalue().to_pybytes(), f"{source}-{day.isoformat()}.parquet")


def run_story(
    home: Path,
    borrowers: Sequence[str],
    last_day: date,
    take: Callable[[Sequence[Batch], datetime], Received],
) -> Story:
    """Send the borrowers' arrivals at each checkpoint (the first borrower's invoices collapsed,
    an enforcement case for the second before the last date) through ``take``."""
    from loomcredit.pipeline.schemas import RAW_SCHEMAS

    arrivals = home / "lake" / "arrivals"
    days = checkpoints(last_day)
    story = Story(borrowers[0], borrowers[1], days)
    lo = last_day
    for day in days:
        now = datetime.combine(day, time(20), tzinfo=UTC)
        batches: list[tuple[Batch, int]] = []
        for source in RAW_SCHEMAS:
            if source == "consents":
                continue
            table = _rows(arrivals, source, borrowers, lo, day)
            if source == "invoices" and table.num_rows:
                table = _collapse(table, story.collapsed)
            if source == "judicial" and day == days[-1]:
                case = court_case(story.court, day - timedelta(days=10))
                table = pa.concat_tables([table.select(case.column_names), case]) \
                    if table.num_rows else case  # fmt: skip
            if table.num_rows:
                batches.append((_batch(source, table, day), table.num_rows))
        if not batches:
            continue
        got = take([b for b, _ in batches], now)
        for (_, rows), t in zip(batches, got.batches, strict=True):
            said = t.refused or ", ".join(f"{r} {n}" for r, n in t.reasons)
            story.taken.append((day, t.source, rows, t.accepted, said))
        if got.monitored is not None:
            story.raised += got.monitored.raised
            story.frozen += got.monitored.lines_frozen
        lo = day
    return story


def sales_of(home: Path, firm: str, months: Sequence[date]) -> list[int]:
    """The firm's invoiced sales (fen) of each month, from the integrated zone."""
    path = str(home / "lake" / "integrated" / "invoices" / "*.parquet")
    got = dict(duckdb.sql(
        f"SELECT date_trunc('month', issued_on)::DATE, sum(amount_fen) FROM read_parquet('{path}') "
        f"WHERE seller_uscc = '{firm}' AND status = 'normal' GROUP BY 1"
    ).fetchall())  # fmt: skip
    return [int(got.get(m, 0) or 0) for m in months]


__all__ = ["BASELINE_RULES", "Story", "checkpoints", "court_case", "run_story", "sales_of"]
