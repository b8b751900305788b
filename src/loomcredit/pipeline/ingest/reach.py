"""What one run's accepted rows reach: the enterprises they are about and the earliest day the
bank held any of them (a feature snapshot of that day or later no longer shows what it held)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from loomcredit.pipeline.arrival import OBTAINED
from loomcredit.pipeline.ingest.normalise import q
from loomcredit.pipeline.schemas import RAW_SCHEMAS

if TYPE_CHECKING:
    from loomcredit.pipeline.ingest.run import _Run

_PARTIES = ("uscc", "seller_uscc", "buyer_uscc")


def touched(run: _Run, sources: list[str]) -> list[str]:
    """The enterprises whose own rows the run accepted (each side of an invoice, the firm a
    bank flow or a court record is about), sorted."""
    parts = [
        f"SELECT CAST({q(col)} AS VARCHAR) AS u FROM fin_{source} WHERE len(_all) = 0"
        for source in _present(run, sources)
        for col in RAW_SCHEMAS[source].names
        if col in _PARTIES
    ]
    if not parts:
        return []
    rows = run.sql(f"SELECT DISTINCT u FROM ({' UNION ALL '.join(parts)}) WHERE u IS NOT NULL")
    return sorted(str(u) for (u,) in rows)


def earliest_obtained(run: _Run, sources: list[str]) -> date | None:
    """The earliest ``obtained_on`` among the rows the run accepted (``None`` when it accepted
    none). Consents carry no such column and no feature reads them, so they do not count."""
    parts = [
        f"SELECT min({OBTAINED}) AS d FROM fin_{source} WHERE len(_all) = 0"
        for source in _present(run, sources)
        if OBTAINED in RAW_SCHEMAS[source].names
    ]
    if not parts:
        return None
    ((day,),) = run.sql(f"SELECT min(d) FROM ({' UNION ALL '.join(parts)})")
    return day if isinstance(day, date) else None


def _present(run: _Run, sources: list[str]) -> list[str]:
    return [s for s in sources if run._has_table(f"fin_{s}")]
