"""The feed as it stands on its last day, and what arrives after it (``arrivals/``).

A simulated row whose ``obtained_on`` is after the feed's last day is not in the bank's hands
yet: December's invoices come with January's batch, a quarter's credit report some days after
it. Those rows are written under ``<out>/arrivals/<source>/`` instead of ``<out>/raw/`` — with the
rows of the months simulated after the feed (``SimulationConfig.arrival_months``) — so that an
ingest of ``raw/`` never meets a row from its future, and a demo or a test can send the arrivals
later as new data (``loom watch``, ``POST /api/v1/data/{source}``).

In ``raw/`` the ends a row only learns later are not known yet: a court case closed after the
feed's last day is open, a tax payment made after it is unpaid, a consent revoked after it is
live. A consent granted after the last day arrives with the arrivals. Deliberate data faults are
injected into ``raw/`` only (the truth's fault list describes it); the arrivals are clean.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pyarrow as pa
import pyarrow.compute as pc

from loomcredit.domain.daycount import add_months
from loomcredit.pipeline.arrival import OBTAINED
from loomcredit.pipeline.simulate.obtained import row_days

__all__ = ["feed_end", "split"]

EPOCH = date(1970, 1, 1)


def feed_end(year: int, month: int, months: int) -> date:
    """The feed's last day: the end of the ``months``-th month from ``year-month``."""
    return add_months(date(year, month, 1), months) - timedelta(days=1)


def _day_end(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)


def _null_after(table: pa.Table, column: str, limit: pa.Scalar) -> tuple[pa.Table, pa.Array]:
    """``table`` with ``column`` set to null where it is after ``limit``, and that mask."""
    values = table.column(column)
    later = pc.fill_null(pc.greater(values, limit), False)
    nulls = pa.nulls(len(values), values.type)
    idx = table.schema.get_field_index(column)
    return table.set_column(idx, column, pc.if_else(later, nulls, values)), later


def split(source: str, table: pa.Table, last_day: date) -> tuple[pa.Table, pa.Table]:
    """``(held, later)``: the rows the bank held on ``last_day`` as they stood then, and the rows
    it obtains after it (a row never obtained, ``obtained_on`` null, is held when the day it
    describes has happened: the feed carries it and the consent gate holds it back)."""
    if source == "consents":
        granted = table.column("granted_at")
        end = pa.scalar(_day_end(last_day), granted.type)
        late = pc.fill_null(pc.greater_equal(granted, end), False)
        held = table.filter(pc.invert(late))
        held, _ = _null_after(held, "revoked_at", pa.scalar(_day_end(last_day), granted.type))
        return held, table.filter(late)
    day = pa.scalar(last_day, pa.date32())
    after = pa.array(row_days(source, table) > (last_day - EPOCH).days)
    # a row no consent covers (never obtained) is the feed's only if its day has happened
    late = pc.if_else(pc.is_null(table.column(OBTAINED)), after,
                      pc.greater(table.column(OBTAINED), day))  # fmt: skip
    held = table.filter(pc.invert(late))
    if source == "judicial":
        held, _ = _null_after(held, "closed_on", day)
    elif source == "tax":
        held, unpaid = _null_after(held, "paid_on", day)
        paid = held.column("paid_fen")
        zero = pa.array([0] * len(paid), paid.type)
        held = held.set_column(held.schema.get_field_index("paid_fen"), "paid_fen",
                               pc.if_else(unpaid, zero, paid))  # fmt: skip
    return held, table.filter(late)
