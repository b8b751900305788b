"""Point-in-time helpers: a raw feed as it stood on a day, and snapshot comparison."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import duckdb

from loomcredit.pipeline.schemas import RAW_SCHEMAS


def _cut_sql(source: str, files: str, day: date) -> str:
    d = f"DATE '{day.isoformat()}'"
    if source == "consents":
        # granted by the end of the day; a revocation after it is not known yet (an expiry is:
        # it is written on the consent when it is granted)
        return (
            f"SELECT * REPLACE (CASE WHEN CAST(revoked_at AS DATE) > {d} THEN NULL "
            f"ELSE revoked_at END AS revoked_at) FROM read_parquet({files}) "
            f"WHERE CAST(granted_at AS DATE) <= {d}"
        )
    replace = ""
    if source == "judicial":  # a case closed later is still open
        replace = f" REPLACE (CASE WHEN closed_on > {d} THEN NULL ELSE closed_on END AS closed_on)"
    if source == "tax":  # a payment made later is not made yet
        later = f"paid_on > {d}"
        replace = (
            f" REPLACE (CASE WHEN {later} THEN NULL ELSE paid_on END AS paid_on, "
            f"CASE WHEN {later} THEN 0 ELSE paid_fen END AS paid_fen)"
        )
    # rows obtained later, and rows never obtained (no consent ever covered them), are not held
    return f"SELECT *{replace} FROM read_parquet({files}) WHERE obtained_on <= {d}"


def cut_feed(raw: Path, day: date, out: Path) -> dict[str, int]:
    """Write ``out/raw/<source>/`` as the bank held the feed ``raw`` on ``day``.

    Every source keeps the rows obtained by ``day``; consents those granted by then, with
    revocations after it not yet known; court cases closed later are open, tax paid later is
    unpaid. No ``truth/``. File by file, in the same order, so duplicates meet as in the full feed.

    Returns:
        Rows removed per source.
    """
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    removed: dict[str, int] = {}
    for source in RAW_SCHEMAS:
        for part in sorted((raw / source).glob("*.parquet")):
            target = out / "raw" / source / part.name
            target.parent.mkdir(parents=True, exist_ok=True)
            files = "'" + str(part).replace("'", "''") + "'"
            con.execute(f"COPY ({_cut_sql(source, files, day)}) TO '{target}' (FORMAT parquet)")
            ((before,),) = con.execute(f"SELECT count(*) FROM read_parquet({files})").fetchall()
            ((after,),) = con.execute(f"SELECT count(*) FROM read_parquet('{target}')").fetchall()
            removed[source] = removed.get(source, 0) + before - after
    con.close()
    return removed


def differences(
    ours: dict[str, dict[str, object]],
    theirs: dict[str, dict[str, object]],
    *,
    rel_tol: float = 1e-12,
) -> list[tuple[str, str, object, object]]:
    """``(uscc, feature, ours, theirs)`` for every value that differs (floats to ``rel_tol``)."""
    out = []
    for uscc in sorted(ours.keys() & theirs.keys()):
        for name, value in ours[uscc].items():
            other = theirs[uscc].get(name)
            if isinstance(value, float) and isinstance(other, float):
                same = math.isclose(value, other, rel_tol=rel_tol, abs_tol=1e-12)
            else:
                same = value == other
            if not same:
                out.append((uscc, name, value, other))
    return out


def assert_same_snapshot(
    ours: dict[str, dict[str, object]],
    theirs: dict[str, dict[str, object]],
    *,
    rel_tol: float = 1e-12,
) -> None:
    """The same enterprises, and every feature of every enterprise equal."""
    assert ours.keys() == theirs.keys(), sorted(ours.keys() ^ theirs.keys())[:10]
    diffs = differences(ours, theirs, rel_tol=rel_tol)
    assert not diffs, f"{len(diffs)} values differ, e.g. {diffs[:10]}"
